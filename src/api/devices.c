/*
 * devices.c — pick-to-light devices (contract §3.3): registration, the
 * command a device shows (its `display`, api/commands.h) and its
 * persistent statics, as a resource of the generic views (views.h) plus
 * the two writes of its own: a command or static update to one device, and
 * many at once (POST /api/devices/, all or nothing, with a list of errors
 * aligned to the input).
 *
 * A POST/PUT to a device is a command when it names `command` or any line
 * (no command means flash; kill/off clears, guarded by a matching nonce),
 * otherwise a static update. Input is validated before the request's
 * transaction; which devices an entry names (ids, locations, aliases) is
 * looked up inside it, so it is what the write sees.
 */
#include "api/devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/commands.h"
#include "api/outbox.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/datetime.h"
#include "core/text.h"
#include "core/util.h"
#include "store/store.h"

/* ------------------------------------------------------------ declarations */

enum { CMD_COMMAND, CMD_LINE1, CMD_LINE2, CMD_LINE3, CMD_LINE4, CMD_LINE5, CMD_COLOR, CMD_ARROW,
       CMD_SOUND, CMD_SECONDS, CMD_QUANTITY, CMD_BARCODE, CMD_QRCODE, CMD_ICON, CMD_NONCE,
       CMD_EXPIRES };

/* A device's display: a command (commands.h), as shown and as POSTed. */
static const field display_fields[] = {
    [CMD_COMMAND] = COMMAND_FIELD_COMMAND,
    [CMD_LINE1] = COMMAND_FIELD_LINE(1),
    [CMD_LINE2] = COMMAND_FIELD_LINE(2),
    [CMD_LINE3] = COMMAND_FIELD_LINE(3),
    [CMD_LINE4] = COMMAND_FIELD_LINE(4),
    [CMD_LINE5] = COMMAND_FIELD_LINE(5),
    [CMD_COLOR] = COMMAND_FIELD_COLOR,
    [CMD_ARROW] = COMMAND_FIELD_ARROW,
    [CMD_SOUND] = COMMAND_FIELD_SOUND,
    [CMD_SECONDS] = COMMAND_FIELD_SECONDS,
    [CMD_QUANTITY] = COMMAND_FIELD_QUANTITY,
    [CMD_BARCODE] = COMMAND_TEXT("barcode", 255),
    [CMD_QRCODE] = COMMAND_TEXT("qrcode", 255),
    [CMD_ICON] = COMMAND_TEXT("icon", 255),
    [CMD_NONCE] = COMMAND_TEXT("nonce", 255),
    [CMD_EXPIRES] = {"expires", FIELD_DATETIME, F_READ_ONLY | F_ALLOW_NULL},
};
const schema display_schema = SCHEMA("Display", display_fields, NULL);

enum { ST_A, ST_B, ST_C, ST_D, ST_E, ST_LOCATIONOVERRIDE, ST_QUANTITY, ST_ARROW, ST_BARCODE,
       ST_QRCODE, ST_ICON, ST_UNSOLICITEDNONCE };

/* Statics: every field is also its devices column. */
static const field static_fields[] = {
    [ST_A] = COMMAND_TEXT("statica", 255),
    [ST_B] = COMMAND_TEXT("staticb", 255),
    [ST_C] = COMMAND_TEXT("staticc", 255),
    [ST_D] = COMMAND_TEXT("staticd", 255),
    [ST_E] = COMMAND_TEXT("statice", 255),
    [ST_LOCATIONOVERRIDE] = COMMAND_TEXT("locationoverride", 255),
    [ST_QUANTITY] = COMMAND_FIELD_QUANTITY,
    [ST_ARROW] = COMMAND_FIELD_ARROW,
    [ST_BARCODE] = COMMAND_TEXT("barcode", 255),
    [ST_QRCODE] = COMMAND_TEXT("qrcode", 255),
    [ST_ICON] = COMMAND_TEXT("icon", 255),
    /* the nonce of an idle press's call (§8.1); its column is unsolicitednonce */
    [ST_UNSOLICITEDNONCE] = COMMAND_TEXT("unsolicitedNonce", 255),
};
const schema statics_schema = SCHEMA("Statics", static_fields, NULL);

enum { DEV_DEVICE_ID, DEV_DEVICEID, DEV_LOCATION, DEV_STATICS, DEV_DISPLAY, DEV_COMMANDS, DEV_UPDATED };

static void check_device_id(validation *v, record *rec, json_object *errors);

static const field device_fields[] = {
    /* deviceid is taken for device_id, as the integrations spell it */
    [DEV_DEVICE_ID] = {"device_id", FIELD_STRING, F_REQUIRED, .max_length = 64, .alias = "deviceid"},
    [DEV_DEVICEID] = {"deviceid", FIELD_STRING, F_READ_ONLY},
    [DEV_LOCATION] = COMMAND_TEXT("location", 255),
    [DEV_STATICS] = {"statics", FIELD_NESTED, F_READ_ONLY, .child = &statics_schema},
    [DEV_DISPLAY] = {"display", FIELD_RAW_JSON, F_READ_ONLY | F_ALLOW_NULL, .child = &display_schema},
    /* every live command, newest (the display) first: a list of Display */
    [DEV_COMMANDS] = {"commands", FIELD_RAW_JSON, F_READ_ONLY, .child = &display_schema,
                      .max_items = COMMANDS_MAX},
    [DEV_UPDATED] = {"updated", FIELD_DATETIME, F_READ_ONLY},
};
const schema device_schema = SCHEMA("Device", device_fields, check_device_id);

static const ordering_field device_ordering[] = {
    {"device_id", "d.device_id"}, {"location", "d.location"},
};
const list_query devices_query = LIST_QUERY_UNFILTERED(device_ordering);

/* The keys an entry of POST /api/devices/ names its devices by, looked for
 * in this order (entry_targets). */
static const field selector_fields[] = {
    {"deviceid", FIELD_STRING, 0, .max_length = 64},
    {"device_id", FIELD_STRING, 0, .max_length = 64},
    {"location", FIELD_STRING, 0, .max_length = 255},
};
const schema device_selector_schema = SCHEMA("Device Selector", selector_fields, NULL);

static void check_device_id(validation *v, record *rec, json_object *errors)
{
    if (memchr(rec->v[DEV_DEVICE_ID].s, '/', rec->v[DEV_DEVICE_ID].len))
        errors_add(errors, "device_id", "Device ids may not contain \"/\".");
}

/* ------------------------------------------------------------ reading */

#define DEVICE_COLUMNS                                                                  \
    "SELECT d.id, d.device_id, d.location, d.statica, d.staticb, d.staticc, d.staticd, " \
    "d.statice, d.locationoverride, d.quantity, d.arrow, d.barcode, d.qrcode, d.icon, "  \
    "d.unsolicitednonce, d.updated FROM devices d "

/* One row of DEVICE_COLUMNS to a device record (its commands come after). */
static void device_from_row(request *r, store_stmt *st, value *dev)
{
    arena *a = r->arena;
    value_from_text(a, st, 1, &dev[DEV_DEVICE_ID]);
    dev[DEV_DEVICE_ID].i = store_col_int(st, 0);
    dev[DEV_DEVICEID] = dev[DEV_DEVICE_ID];
    value_from_text(a, st, 2, &dev[DEV_LOCATION]);
    record *statics = record_new(a, &statics_schema);
    for (int k = 0; k < statics_schema.nfields; k++) {
        if (k == ST_QUANTITY)
            value_from_int_or_null(st, 3 + k, &statics->v[k]);
        else
            value_from_text(a, st, 3 + k, &statics->v[k]);
    }
    dev[DEV_STATICS].state = VALUE_SET;
    dev[DEV_STATICS].items = statics;
    dev[DEV_STATICS].nitems = 1;
    value_set_int(&dev[DEV_UPDATED], store_col_int(st, 3 + statics_schema.nfields));
    value_set_null(&dev[DEV_DISPLAY]);
    value_set_text(&dev[DEV_COMMANDS], "[]", 2);
}

static void finish_commands(request *r, record *dev, jw *list)
{
    jw_arr_end(list);
    value_set_text(&dev->v[DEV_COMMANDS], arena_strndup(r->arena, list->buf, list->len), list->len);
    jw_free(list);
}

/* The live commands of the devices read, newest first: one query for all
 * of them (their row ids are the database's integers, written into the
 * statement). */
static int load_commands(request *r, record_vec *devs, int first)
{
    int n = devs->n - first;
    if (n <= 0)
        return 0;
    jw sql;
    jw_init(&sql, 256);
    const char *head = "SELECT c.device_ref, " COMMAND_COLUMNS " FROM device_commands c WHERE "
                       "(c.expires IS NULL OR c.expires > $1) AND c.device_ref IN (";
    jw_append(&sql, head, strlen(head));
    for (int i = 0; i < n; i++) {
        char id[24];
        int len = snprintf(id, sizeof id, "%s%lld", i ? "," : "",
                           (long long)devs->items[first + i].v[DEV_DEVICE_ID].i);
        jw_append(&sql, id, (size_t)len);
    }
    const char *tail = ") ORDER BY c.device_ref, c.id DESC";
    jw_append(&sql, tail, strlen(tail) + 1);
    store_stmt *st = store_prepare(r->db, sql.buf);
    jw_free(&sql);
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, datetime_now());
    int rc, at = -1;
    int64_t device = -1;
    jw list;
    while ((rc = store_step(st)) == STORE_ROW) {
        device_command c;
        command_from_row(r->arena, st, 1, &c);
        if (store_col_int(st, 0) != device) {   /* a device's first row: its display */
            if (at >= 0)
                finish_commands(r, &devs->items[at], &list);
            device = store_col_int(st, 0);
            for (at = first; at < devs->n && devs->items[at].v[DEV_DEVICE_ID].i != device; at++)
                ;
            jw w;
            jw_init(&w, 512);
            command_render(&w, &c);
            value_set_text(&devs->items[at].v[DEV_DISPLAY], arena_strndup(r->arena, w.buf, w.len), w.len);
            jw_free(&w);
            jw_init(&list, 1024);
            jw_arr(&list);
        }
        command_render(&list, &c);
    }
    store_reset(st);
    if (at >= 0)
        finish_commands(r, &devs->items[at], &list);
    return rc < 0 ? rc : 0;
}

static int load_devices(request *r, const selection *sel, record_vec *out)
{
    int first = out->n;
    store_stmt *st = store_prepare(r->db, arena_printf(r->arena, DEVICE_COLUMNS "WHERE %s ORDER BY %s",
                                                       sel->where, sel->order_by ? sel->order_by : "d.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        device_from_row(r, st, record_vec_push(r->arena, out, &device_schema));
    store_reset(st);
    if (rc < 0 || (rc = load_commands(r, out, first)) < 0)
        return rc;
    return out->n;
}

int device_lookup(request *r, const char *device_id, size_t n, int64_t *id)
{
    store_stmt *st = store_prepare(r->db, "SELECT id FROM devices WHERE customer_id = $1 AND device_id = $2");
    if (!st)
        return -1;
    store_bind_int(st, 1, r->customer_id);
    store_bind_text(st, 2, device_id, n);
    int rc = store_exec_int(st, id);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

/* ------------------------------------------------------------ writing */

static int register_device(request *r, record **rec, int64_t *id)
{
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO devices (customer_id, device_id, location, updated) VALUES ($1, $2, $3, $4) RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, (*rec)->v[DEV_DEVICE_ID].s);
    store_bind_str(st, 3, (*rec)->v[DEV_LOCATION].state == VALUE_SET ? (*rec)->v[DEV_LOCATION].s : "");
    store_bind_int(st, 4, datetime_now());
    int rc = store_exec_int(st, id);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    record *stored = view_load_one(r, &devices_resource, *id, &rc);
    if (!stored)
        return rc < 0 ? rc : STORE_ERROR;
    *rec = stored;
    outbox_device(r, *id);
    return VIEW_DONE;
}

/* DELETE: the device's row (its commands and aliases go with it; items
 * pointing at it get device null), and the streams are told. */
static int unregister_device(request *r, int64_t id)
{
    store_stmt *st = store_prepare(r->db, "DELETE FROM devices WHERE id = $1 RETURNING device_id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    int rc = store_step(st);
    if (rc == STORE_ROW)
        outbox_device_gone(r, id, store_col_text(st, 0, NULL));
    store_reset(st);
    return rc < 0 ? rc : VIEW_DONE;
}

static const char *device_location(request *r, int64_t id, const record *rec)
{
    const value *v = &rec->v[DEV_DEVICE_ID];
    return arena_printf(r->arena, "%s/api/device/%s/", r->base_url, url_encode_segment(r->arena, v->s, v->len));
}

const resource devices_resource = {
    .sc = &device_schema,
    .table = "devices",
    .alias = "d",
    .query = &devices_query,
    .counted = true,
    .key_sql = "(SELECT id FROM devices WHERE customer_id = $1 AND device_id = $2)",
    .load = load_devices,
    .create = register_device,
    .destroy = unregister_device,
    .unique_error = "The fields device_id, voodoo_customer must make a unique set.",
    .location = device_location,
};

/* Is this body a command (rather than a static update)? */
static bool is_command(json_object *in)
{
    static const char *const keys[] = {"command", "line1", "line2", "line3", "line4", "line5"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_object_get_ex(in, keys[i], NULL))
            return true;
    return false;
}

/* A validated change to one or more devices: a command, or statics. */
typedef struct change {
    bool is_command;
    device_command command;
    record *statics;
} change;

static bool validate_change(request *r, json_object *in, change *c, json_object **errors)
{
    validation v = {.r = r, .partial = false};
    c->is_command = json_object_is_type(in, json_type_object) && is_command(in);
    record *rec = validate_object(&v, c->is_command ? &display_schema : &statics_schema, in, errors);
    if (!rec)
        return false;
    if (c->is_command)
        command_from_record(rec, "nonce", &c->command);
    else
        c->statics = rec;
    return true;
}

/* The statics given, each into its column. */
static int apply_statics(request *r, int64_t device_row, const record *statics)
{
    jw sql;
    jw_init(&sql, 256);
    jw_append(&sql, "UPDATE devices SET updated = $2", 31);
    int param = 3;   /* numbered without gaps: PostgreSQL must see every parameter */
    for (int k = 0; k < statics_schema.nfields; k++) {
        if (statics->v[k].state == VALUE_ABSENT)
            continue;
        char part[64];
        int n = snprintf(part, sizeof part, ", %s = $%d", static_fields[k].name, param++);
        jw_append(&sql, part, (size_t)n);
    }
    jw_append(&sql, " WHERE id = $1", 15);  /* includes the NUL */
    store_stmt *st = store_prepare(r->db, sql.buf);
    jw_free(&sql);
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, datetime_now());
    param = 3;
    for (int k = 0; k < statics_schema.nfields; k++) {
        const value *v = &statics->v[k];
        if (v->state == VALUE_NULL)
            store_bind_null(st, param++);
        else if (v->state == VALUE_SET && k == ST_QUANTITY)
            store_bind_int(st, param++, v->i);
        else if (v->state == VALUE_SET)
            store_bind_str(st, param++, v->s);
    }
    int rc = store_exec_int(st, NULL);
    if (rc < 0)
        return rc;
    outbox_device(r, device_row);
    return VIEW_DONE;
}

/* `arrow`: a location alias's arrow for a command (NULL: the command's). */
static int apply_change(request *r, int64_t device_row, change *c, const char *arrow)
{
    if (!c->is_command)
        return apply_statics(r, device_row, c->statics);
    if (command_is_kill(&c->command))
        return command_kill(r, device_row, c->command.nonce);
    return command_show(r, device_row, &c->command, arrow, 0);
}

/* POST or PUT to one device: a command or a static update. The device
 * first (404 whatever the body), then the body. */
static int validate_one(request *r, void *ctx)
{
    int64_t id;
    int rc = view_object(r, &devices_resource, false, &id);
    if (rc != VIEW_DONE)
        return rc;
    json_object *errors = NULL;
    if (validate_change(r, api_input(r), ctx, &errors))
        return VIEW_DONE;
    respond_validation(r, errors);
    return VIEW_ANSWERED;
}

static int apply_one(request *r, void *ctx)
{
    int64_t id;
    int rc = view_object(r, &devices_resource, true, &id);
    if (rc == VIEW_DONE)
        rc = apply_change(r, id, ctx, NULL);
    if (rc == COMMAND_FULL)
        return command_full_answer(r);
    return rc != VIEW_DONE ? rc : view_respond_one(r, &devices_resource, 200, id);
}

int device_apply(request *r)
{
    change c;
    return view_write(r, validate_one, apply_one, &c);
}

/* ------------------------------------------------------------ many at once */

/* Arrow that points from a device to the place an alias names. */
static const char *alias_arrow(const char *device_is)
{
    return strcmp(device_is, "to the Left of") == 0 ? "right" : "left";
}

int devices_at_location(request *r, const char *location, device_target **out)
{
    *out = NULL;
    if (!location || !*location)
        return 0;
    store_stmt *st = store_prepare(r->db,
        "SELECT id, NULL FROM devices WHERE customer_id = $1 AND (location = $2 OR locationoverride = $2) "
        "UNION ALL "
        "SELECT a.device_ref, a.device_is FROM location_aliases a "
        "WHERE a.customer_id = $1 AND a.name = $2 ORDER BY 1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, location);
    size_t n = 0, cap = 0;
    int rc;
    device_target *t = NULL;
    while ((rc = store_step(st)) == STORE_ROW) {
        int64_t row = store_col_int(st, 0);
        if (n && t[n - 1].row == row)
            continue;   /* a device both at the location and aliased: lit once (rows come by id) */
        t = arena_grow(r->arena, t, n, &cap, sizeof *t);
        t[n].row = row;
        t[n].arrow = store_col_null(st, 1) ? NULL : alias_arrow(store_col_text(st, 1, NULL));
        n++;
    }
    store_reset(st);
    *out = t;
    return rc < 0 ? rc : (int)n;
}

typedef struct bulk {
    int n;
    change *changes;
    device_target **targets;
    int *ntargets;
} bulk;

/* The devices an entry names: by deviceid/device_id, or every device
 * `location` names (devices_at_location). Returns how many (targets in the
 * arena) or a store error; *key tells which key the entry used. */
static int entry_targets(request *r, json_object *entry, const char **key, device_target **targets)
{
    json_object *v = NULL;
    *key = NULL;
    for (int i = 0; i < device_selector_schema.nfields && !*key; i++)
        if (json_object_object_get_ex(entry, device_selector_schema.fields[i].name, &v))
            *key = device_selector_schema.fields[i].name;
    if (!*key)
        return 0;
    const char *text = v ? json_object_get_string(v) : "";
    size_t n = v && json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : strlen(text);
    if (memchr(text, '\0', n) || !text_valid_utf8(text, n))
        return 0;   /* no id or location holds a NUL: names nothing */
    if (strcmp(*key, "location") == 0)
        return devices_at_location(r, text, targets);
    int64_t id;
    int found = device_lookup(r, text, strlen(text), &id);
    if (found <= 0)
        return found < 0 ? STORE_ERROR : 0;
    *targets = arena_alloc(r->arena, sizeof **targets);
    (*targets)[0] = (device_target){id, NULL};
    return 1;
}

/* Each entry's change and the devices it names, with a list of errors
 * aligned to the input when any is wrong. The devices are looked up here,
 * before the transaction, and locked in it (apply_bulk). */
static int validate_bulk(request *r, void *ctx)
{
    bulk *b = ctx;
    json_object *in = api_input(r);
    if (!json_object_is_type(in, json_type_array) || json_object_array_length(in) > DEVICES_BULK_MAX) {
        json_object *errors = json_object_new_object();
        errors_add(errors, "non_field_errors", json_object_is_type(in, json_type_array)
            ? arena_printf(r->arena, MSG_TOO_MANY, DEVICES_BULK_MAX)
            : arena_printf(r->arena, "Expected a list of items but got type \"%s\".", json_python_type(in)));
        respond_validation(r, errors);
        return VIEW_ANSWERED;
    }
    b->n = (int)json_object_array_length(in);
    size_t slots = (size_t)(b->n ? b->n : 1);
    b->changes = arena_alloc(r->arena, sizeof(change) * slots);
    b->targets = arena_alloc(r->arena, sizeof(device_target *) * slots);
    b->ntargets = arena_alloc(r->arena, sizeof(int) * slots);
    json_object *errors = json_object_new_array();
    bool any_error = false;
    for (int i = 0; i < b->n; i++) {
        json_object *entry = json_object_array_get_idx(in, (size_t)i), *err = NULL;
        if (validate_change(r, entry, &b->changes[i], &err)) {
            const char *key;
            b->ntargets[i] = entry_targets(r, entry, &key, &b->targets[i]);
            if (b->ntargets[i] < 0) {
                json_object_put(errors);
                return b->ntargets[i];
            }
            if (b->ntargets[i] == 0) {
                err = json_object_new_object();
                if (!key) {
                    errors_add(err, "deviceid", "This field is required.");
                } else {
                    json_object *v = NULL;
                    json_object_object_get_ex(entry, key, &v);
                    errors_add(err, key, arena_printf(r->arena, "Object with %s=%s does not exist.", key,
                                                      v ? json_object_get_string(v) : "None"));
                }
            }
        }
        any_error |= err != NULL;
        json_object_array_add(errors, err ? err : json_object_new_object());
    }
    if (any_error) {
        respond_validation(r, errors);
        return VIEW_ANSWERED;
    }
    json_object_put(errors);
    return VIEW_DONE;
}

static int by_row(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The 400 of a bulk whose entry `at` would overfill a device: errors
 * aligned to the input, {} for the others. */
static int full_at(request *r, int n, int at)
{
    json_object *errors = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *e = json_object_new_object();
        if (i == at)
            errors_add(e, "non_field_errors", MSG_COMMANDS_FULL);
        json_object_array_add(errors, e);
    }
    respond_validation(r, errors);
    return VIEW_ANSWERED;
}

static int apply_bulk(request *r, void *ctx)
{
    bulk *b = ctx;
    /* lock every device named, in row order (two bulks never wait in a
     * circle); one gone since validation: validate again */
    size_t nrows = 0, cap = 0;
    int64_t *rows = NULL;
    for (int i = 0; i < b->n; i++)
        for (int k = 0; k < b->ntargets[i]; k++) {
            rows = arena_grow(r->arena, rows, nrows, &cap, sizeof *rows);
            rows[nrows++] = b->targets[i][k].row;
        }
    qsort(rows, nrows, sizeof *rows, by_row);
    for (size_t i = 0; i < nrows; i++) {
        if (i && rows[i] == rows[i - 1])
            continue;
        store_stmt *st = store_prepare(r->db, "SELECT id FROM devices WHERE id = $1 AND customer_id = $2 FOR UPDATE");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, rows[i]);
        store_bind_int(st, 2, r->customer_id);
        int rc = store_exec_int(st, NULL);
        if (rc != STORE_ROW)
            return rc < 0 ? rc : VIEW_RETRY;
    }
    for (int i = 0; i < b->n; i++)
        for (int k = 0; k < b->ntargets[i]; k++) {
            int rc = apply_change(r, b->targets[i][k].row, &b->changes[i], b->targets[i][k].arrow);
            if (rc == COMMAND_FULL)
                return full_at(r, b->n, i);
            if (rc != VIEW_DONE)
                return rc;
        }
    /* rendered after every entry has applied: a device named twice shows its final state */
    jw w;
    jw_init(&w, 1024);
    jw_arr(&w);
    for (int i = 0; i < b->n; i++)
        for (int k = 0; k < b->ntargets[i]; k++) {
            int rc;
            record *dev = view_load_one(r, &devices_resource, b->targets[i][k].row, &rc);
            if (!dev) {
                jw_free(&w);
                return rc < 0 ? rc : STORE_ERROR;
            }
            render_record(&w, r, dev);
        }
    jw_arr_end(&w);
    respond_json(r, 200, &w);
    return VIEW_DONE;
}

int devices_bulk(request *r)
{
    bulk b = {0};
    return view_write(r, validate_bulk, apply_bulk, &b);
}
