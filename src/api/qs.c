/*
 * qs.c — the query-string API (contract §8), for the simplest integrations
 * (a spreadsheet, a label printer) that can only open a URL:
 *
 *   GET /api/{device_id}/{flash|display|pick}/{line1~line2}/{line3~line4~line5}/
 *       {sound|none}/{seconds}{color}/[{nonce}/]
 *
 * does what POST /api/device/{device_id}/ does with the same command: the
 * path becomes that JSON body and goes through the same validation, so a
 * malformed path gets the same 400 as the body would. Segments arrive
 * percent-decoded (so "%5c" is a backslash); "~" splits lines, extra "~"
 * stay in the last line; the colour letters follow the seconds ("20r").
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/devices.h"
#include "api/resources.h"
#include "api/respond.h"
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

void device_query_string(request *r)
{
    const char *device = r->captures[0], *type = r->captures[1];
    const char *timing = r->captures[5];
    size_t digits = 0;
    while (isdigit((unsigned char)timing[digits]))
        digits++;
    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "command", json_object_new_string(type));
    put_lines(cmd, r->captures[2], 1, 2);
    put_lines(cmd, r->captures[3], 3, 3);
    json_object_object_add(cmd, "sound", json_object_new_string(r->captures[4]));
    /* "20r": seconds 20, colour r; no digits is not a number of seconds */
    json_object_object_add(cmd, "seconds", digits ? json_object_new_string_len(timing, (int)digits)
                                                  : json_object_new_string(timing));
    json_object_object_add(cmd, "color", json_object_new_string(digits ? timing + digits : ""));
    if (r->ncaptures > 6)
        json_object_object_add(cmd, "nonce", json_object_new_string(r->captures[6]));

    if (store_begin_write(r->db) < 0) {
        json_object_put(cmd);
        respond_store_error(r);
        return;
    }
    /* the device first, then the command: an unknown device is 404
     * whatever the rest says, as DRF finds the object before validating */
    int64_t row;
    int found = device_lookup(r, device, strlen(device), &row);
    if (found <= 0) {
        json_object_put(cmd);
        respond_missing(r, found);
        return;
    }
    json_object *errors = NULL;
    device_command *dc = device_command_parse(r, cmd, &errors);
    json_object_put(cmd);
    if (!dc) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    if (device_command_show(r, row, dc, NULL, 0) < 0 || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    if (store_begin_read(r->db) < 0 || device_respond(r, 200, row) < 0)
        respond_store_error(r);
    store_rollback(r->db);
}
