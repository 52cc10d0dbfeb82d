/*
 * qs.c — the query-string API (contract §8), for the simplest integrations
 * (a spreadsheet, a label printer) that can only open a URL:
 *
 *   GET /api/{device_id}/{flash|display|pick}/{line1~line2}/{line3~line4~line5}/
 *       {sound|none}/{seconds}{color}/[{nonce}/]
 *
 * does what POST /api/device/{device_id}/ does with the same command: the
 * path becomes that body and goes through the same validation (it is
 * input like any other), so a malformed path gets the same 400 as the body
 * would. Segments arrive percent-decoded (so "%5c" is a backslash); "~"
 * splits lines, extra "~" stay in the last line; the colour letters follow
 * the seconds ("20r"). It writes on a GET, so it runs with the writes
 * (api.h's ROUTE_GET_WRITES).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/commands.h"
#include "api/devices.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "store/store.h"

/* Split `text` at "~" into lines first..first+n-1 of the command. */
static void put_lines(json_object *cmd, const char *text, int first, int n)
{
    for (int k = 0; k < n; k++) {
        const char *tilde = k < n - 1 ? strchr(text, '~') : NULL;
        size_t len = tilde ? (size_t)(tilde - text) : strlen(text);
        char name[8];
        snprintf(name, sizeof name, "line%d", first + k);
        json_object_object_add(cmd, name, json_object_new_string_len(text, (int)len));
        text = tilde ? tilde + 1 : text + len;
    }
}

/* The path as the body of a command. */
static json_object *path_command(request *r)
{
    const char *timing = r->captures[5];
    size_t digits = 0;
    while (isdigit((unsigned char)timing[digits]))
        digits++;
    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "command", json_object_new_string(r->captures[1]));
    put_lines(cmd, r->captures[2], 1, 2);
    put_lines(cmd, r->captures[3], 3, 3);
    json_object_object_add(cmd, "sound", json_object_new_string(r->captures[4]));
    /* "20r": seconds 20, colour r; no digits is not a number of seconds */
    json_object_object_add(cmd, "seconds", digits ? json_object_new_string_len(timing, (int)digits)
                                                  : json_object_new_string(timing));
    json_object_object_add(cmd, "color", json_object_new_string(digits ? timing + digits : ""));
    if (r->ncaptures > 6)
        json_object_object_add(cmd, "nonce", json_object_new_string(r->captures[6]));
    return cmd;
}

typedef struct path_cmd {
    int64_t device;
    device_command command;
} path_cmd;

/* The device first, then the command: an unknown device is 404 whatever
 * the rest says, as DRF finds the object before validating. */
static int validate_path(request *r, void *ctx)
{
    path_cmd *p = ctx;
    int rc = view_object(r, &devices_resource, false, &p->device);
    if (rc != VIEW_DONE)
        return rc;
    json_object *body = path_command(r), *errors = NULL;
    record *rec = validate_object(&(validation){.r = r}, &display_schema, body, &errors);
    json_object_put(body);
    if (!rec) {
        respond_validation(r, errors);
        return VIEW_ANSWERED;
    }
    command_from_record(rec, "nonce", &p->command);
    return VIEW_DONE;
}

static int show_path(request *r, void *ctx)
{
    path_cmd *p = ctx;
    int64_t device;
    int rc = view_object(r, &devices_resource, true, &device);
    if (rc == VIEW_DONE)
        rc = command_is_kill(&p->command) ? command_kill(r, device, p->command.nonce)
                                          : command_show(r, device, &p->command, NULL, 0);
    if (rc == COMMAND_FULL)
        return command_full_answer(r);
    return rc != VIEW_DONE ? rc : view_respond_one(r, &devices_resource, 200, device);
}

int device_query_string(request *r)
{
    path_cmd p = {0};
    return view_write(r, validate_path, show_path, &p);
}
