/*
 * devices.c — pick-to-light devices (contract §3.3): registration, the
 * current command (`display`) and persistent statics.
 *
 * A POST/PUT to a device is a command when it names `command` or any line
 * (no command means flash; kill/off clears, guarded by a matching nonce),
 * otherwise a static update. The display is stored already rendered as
 * JSON with its expiry next to it; a display past its expiry reads as
 * null. POST /api/devices/ applies many entries in one transaction: all
 * of them, or (with a list of errors aligned to the input) none.
 */
#include "api/devices.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/resources.h"
#include "api/pagination.h"
#include "api/respond.h"
#include "api/rows.h"
#include "core/datetime.h"
#include "core/util.h"
#include "store/store.h"

#define INT32_LIMIT 2147483647

/* ------------------------------------------------------------ choices */

static const char *const color_names[][2] = {
    {"red", "r"}, {"green", "g"}, {"blue", "b"}, {"cyan", "c"},
    {"magenta", "m"}, {"yellow", "y"}, {"white", "w"},
};

/* "", one of rgbcmyw, distinct letters of rgb, or a colour name; any case. */
static bool choose_color(arena *a, const char *in, size_t n, const char **out)
{
    char *low = arena_strndup(a, in, n);
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)low[i]);
    for (size_t i = 0; i < sizeof color_names / sizeof color_names[0]; i++)
        if (strcmp(low, color_names[i][0]) == 0) {
            *out = low;
            return true;
        }
    if (n == 1 && strchr("rgbcmyw", low[0])) {
        *out = low;
        return true;
    }
    if (n < 2 || n > 3)
        return n == 0 ? (*out = low, true) : false;
    for (size_t i = 0; i < n; i++) {
        if (!strchr("rgb", low[i]) || memchr(low, low[i], i))
            return false;
    }
    *out = low;
    return true;
}

static const char *const arrow_choices[] = {
    "", "up", "down", "left", "right", "top", "bottom",
    "topleft", "topright", "bottomleft", "bottomright", NULL,
};

static bool choose_from(const char *const *choices, arena *a, const char *in, size_t n, const char **out)
{
    for (const char *const *c = choices; *c; c++)
        if (strlen(*c) == n && memcmp(*c, in, n) == 0) {
            *out = *c;
            return true;
        }
    return false;
}

static bool choose_arrow(arena *a, const char *in, size_t n, const char **out)
{
    return choose_from(arrow_choices, a, in, n, out);
}

static const char *const command_choices[] = {"flash", "display", "pick", "kill", "off", NULL};

static bool choose_command(arena *a, const char *in, size_t n, const char **out)
{
    return choose_from(command_choices, a, in, n, out);
}

static const char *const color_choices[] = {
    "", "r", "g", "b", "c", "m", "y", "w", "red", "green", "blue", "cyan", "magenta",
    "yellow", "white", NULL,
};

/* ------------------------------------------------------------ declarations */

#define STR(name, max) {name, FIELD_STRING, F_ALLOW_BLANK, .max_length = (max)}

enum { CMD_COMMAND, CMD_LINE1, CMD_LINE2, CMD_LINE3, CMD_LINE4, CMD_LINE5, CMD_COLOR, CMD_ARROW,
       CMD_SOUND, CMD_SECONDS, CMD_QUANTITY, CMD_BARCODE, CMD_QRCODE, CMD_ICON, CMD_NONCE,
       CMD_EXPIRES };

static const field display_fields[] = {
    [CMD_COMMAND] = {"command", FIELD_CHOICE, 0, .choose = choose_command, .choices = command_choices},
    [CMD_LINE1] = STR("line1", 255),
    [CMD_LINE2] = STR("line2", 255),
    [CMD_LINE3] = STR("line3", 255),
    [CMD_LINE4] = STR("line4", 255),
    [CMD_LINE5] = STR("line5", 255),
    [CMD_COLOR] = {"color", FIELD_CHOICE, F_ALLOW_BLANK, .choose = choose_color, .choices = color_choices},
    [CMD_ARROW] = {"arrow", FIELD_CHOICE, F_ALLOW_BLANK, .choose = choose_arrow, .choices = arrow_choices},
    [CMD_SOUND] = STR("sound", 1024),
    [CMD_SECONDS] = {"seconds", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
    [CMD_QUANTITY] = {"quantity", FIELD_INTEGER, F_ALLOW_NULL, .min_value = 0, .max_value = INT32_LIMIT},
    [CMD_BARCODE] = STR("barcode", 255),
    [CMD_QRCODE] = STR("qrcode", 255),
    [CMD_ICON] = STR("icon", 255),
    [CMD_NONCE] = STR("nonce", 255),
    [CMD_EXPIRES] = {"expires", FIELD_DATETIME, F_READ_ONLY | F_ALLOW_NULL},
};
const schema display_schema = SCHEMA("Display", display_fields, NULL);

enum { ST_A, ST_B, ST_C, ST_D, ST_E, ST_LOCATIONOVERRIDE, ST_QUANTITY, ST_ARROW, ST_BARCODE,
       ST_QRCODE, ST_ICON };

static const field static_fields[] = {
    [ST_A] = STR("statica", 255),
    [ST_B] = STR("staticb", 255),
    [ST_C] = STR("staticc", 255),
    [ST_D] = STR("staticd", 255),
    [ST_E] = STR("statice", 255),
    [ST_LOCATIONOVERRIDE] = STR("locationoverride", 255),
    [ST_QUANTITY] = {"quantity", FIELD_INTEGER, F_ALLOW_NULL, .min_value = 0, .max_value = INT32_LIMIT},
    [ST_ARROW] = {"arrow", FIELD_CHOICE, F_ALLOW_BLANK, .choose = choose_arrow, .choices = arrow_choices},
    [ST_BARCODE] = STR("barcode", 255),
    [ST_QRCODE] = STR("qrcode", 255),
    [ST_ICON] = STR("icon", 255),
};
const schema statics_schema = SCHEMA("Statics", static_fields, NULL);

/* The SQL column of each static, in static_fields order. */
static const char *const static_columns[] = {
    "statica", "staticb", "staticc", "staticd", "statice", "locationoverride", "quantity",
    "arrow", "barcode", "qrcode", "icon",
};

enum { DEV_DEVICE_ID, DEV_DEVICEID, DEV_LOCATION, DEV_STATICS, DEV_DISPLAY, DEV_UPDATED };

static void check_device_id(validation *v, record *rec, json_object *errors);

static const field device_fields[] = {
    [DEV_DEVICE_ID] = {"device_id", FIELD_STRING, F_REQUIRED, .max_length = 64},
    [DEV_DEVICEID] = {"deviceid", FIELD_STRING, F_READ_ONLY},
    [DEV_LOCATION] = STR("location", 255),
    [DEV_STATICS] = {"statics", FIELD_NESTED, F_READ_ONLY, .child = &statics_schema},
    [DEV_DISPLAY] = {"display", FIELD_RAW_JSON, F_READ_ONLY | F_ALLOW_NULL, .child = &display_schema},
    [DEV_UPDATED] = {"updated", FIELD_DATETIME, F_READ_ONLY},
};
const schema device_schema = SCHEMA("Device", device_fields, check_device_id);

static const ordering_field device_ordering[] = {
    {"device_id", "device_id"}, {"location", "location"},
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

#define DEVICE_COLUMNS                                                                 \
    "SELECT id, device_id, location, statica, staticb, staticc, staticd, statice, "    \
    "locationoverride, quantity, arrow, barcode, qrcode, icon, display, display_expires, updated " \
    "FROM devices "

/* One row of DEVICE_COLUMNS to a device record; *row_id gets devices.id. */
static record *device_from_row(request *r, store_stmt *st, int64_t now, int64_t *row_id)
{
    arena *a = r->arena;
    record *dev = record_new(a, &device_schema);
    if (row_id)
        *row_id = store_col_int(st, 0);
    value_from_text(a, st, 1, &dev->v[DEV_DEVICE_ID]);
    dev->v[DEV_DEVICEID] = dev->v[DEV_DEVICE_ID];
    value_from_text(a, st, 2, &dev->v[DEV_LOCATION]);
    record *statics = record_new(a, &statics_schema);
    for (int k = 0; k < statics_schema.nfields; k++) {
        if (k == ST_QUANTITY) {
            if (store_col_null(st, 3 + k))
                value_set_null(&statics->v[k]);
            else
                value_set_int(&statics->v[k], store_col_int(st, 3 + k));
        } else {
            value_from_text(a, st, 3 + k, &statics->v[k]);
        }
    }
    dev->v[DEV_STATICS].state = VALUE_SET;
    dev->v[DEV_STATICS].items = statics;
    dev->v[DEV_STATICS].nitems = 1;
    bool expired = !store_col_null(st, 15) && store_col_int(st, 15) <= now;
    if (store_col_null(st, 14) || expired)
        value_set_null(&dev->v[DEV_DISPLAY]);
    else
        value_from_text(a, st, 14, &dev->v[DEV_DISPLAY]);
    value_set_int(&dev->v[DEV_UPDATED], store_col_int(st, 16));
    return dev;
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

record *load_device(request *r, int64_t id)
{
    store_stmt *st = store_prepare(r->db, DEVICE_COLUMNS "WHERE id = $1");
    if (!st)
        return NULL;
    store_bind_int(st, 1, id);
    record *dev = NULL;
    if (store_step(st) == STORE_ROW)
        dev = device_from_row(r, st, datetime_now(), NULL);
    store_reset(st);
    return dev;
}

/* ------------------------------------------------------------ applying */

/* Is this body a command (rather than a static update)? */
static bool is_command(json_object *in)
{
    static const char *const keys[] = {"command", "line1", "line2", "line3", "line4", "line5"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_object_get_ex(in, keys[i], NULL))
            return true;
    return false;
}

/* A validated change to apply to one or more devices. */
typedef struct change {
    bool command;
    record *rec;      /* of display_schema or statics_schema */
} change;

static bool validate_change(request *r, json_object *in, change *c, json_object **errors)
{
    validation v = {.r = r, .partial = false};
    c->command = json_object_is_type(in, json_type_object) && is_command(in);
    c->rec = validate_object(&v, c->command ? &display_schema : &statics_schema, in, errors);
    return c->rec != NULL;
}

/* The display JSON for a command, with defaults filled in. */
static const char *render_display(request *r, record *cmd, int64_t now, int64_t *expires)
{
    value *v = cmd->v;
    if (v[CMD_COMMAND].state != VALUE_SET)
        value_set_text(&v[CMD_COMMAND], "flash", 5);
    for (int k = CMD_LINE1; k <= CMD_NONCE; k++) {
        if (v[k].state != VALUE_ABSENT)
            continue;
        if (k == CMD_SECONDS)
            value_set_int(&v[k], 0);
        else if (k == CMD_QUANTITY)
            value_set_null(&v[k]);
        else
            value_set_text(&v[k], "", 0);
    }
    if (v[CMD_QUANTITY].state == VALUE_ABSENT)
        value_set_null(&v[CMD_QUANTITY]);
    *expires = v[CMD_SECONDS].i > 0 ? now + v[CMD_SECONDS].i * 1000000 : 0;
    if (*expires)
        value_set_int(&v[CMD_EXPIRES], *expires);
    else
        value_set_null(&v[CMD_EXPIRES]);
    jw w;
    jw_init(&w, 512);
    render_record(&w, r, cmd);
    size_t len;
    char *buf = jw_take(&w, &len);
    const char *text = arena_strndup(r->arena, buf, len);
    free(buf);
    return text;
}

/* Show command `cmd` on a device (or clear it: kill/off). `arrow`, when
 * not NULL, replaces the command's arrow (a location alias's). step_ref is
 * the sequence step the display shows (0: none), so its acknowledgement can
 * move the sequence on; any other command replaces that. */
static int apply_command(request *r, int64_t device_row, record *cmd, int64_t now, const char *arrow,
                         int64_t step_ref)
{
    const value *command = &cmd->v[CMD_COMMAND];
    store_stmt *st;
    if (command->state == VALUE_SET && (strcmp(command->s, "kill") == 0 || strcmp(command->s, "off") == 0)) {
        const value *nonce = &cmd->v[CMD_NONCE];
        bool guarded = nonce->state == VALUE_SET && nonce->len > 0;
        st = store_prepare(r->db, guarded
            ? "UPDATE devices SET " DISPLAY_CLEARED ", updated = $2 WHERE id = $1 AND display_nonce = $3"
            : "UPDATE devices SET " DISPLAY_CLEARED ", updated = $2 WHERE id = $1");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, device_row);
        store_bind_int(st, 2, now);
        if (guarded)
            store_bind_str(st, 3, nonce->s);
        return store_exec_int(st, NULL);
    }
    if (arrow) {   /* the same command with that arrow */
        record *copy = record_new(r->arena, cmd->sc);
        memcpy(copy->v, cmd->v, sizeof(value) * (size_t)cmd->sc->nfields);
        value_set_text(&copy->v[CMD_ARROW], arrow, strlen(arrow));
        cmd = copy;
    }
    int64_t expires = 0;
    const char *display = render_display(r, cmd, now, &expires);
    st = store_prepare(r->db,
        "UPDATE devices SET display = $2, display_nonce = $3, display_expires = $4, updated = $5, "
        "display_step = $6 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_str(st, 2, display);
    store_bind_str(st, 3, cmd->v[CMD_NONCE].s);
    if (expires)
        store_bind_int(st, 4, expires);
    else
        store_bind_null(st, 4);
    store_bind_int(st, 5, now);
    if (step_ref)
        store_bind_int(st, 6, step_ref);
    else
        store_bind_null(st, 6);
    return store_exec_int(st, NULL);
}

static int apply_statics(request *r, int64_t device_row, record *statics, int64_t now)
{
    jw sql;
    jw_init(&sql, 256);
    jw_append(&sql, "UPDATE devices SET updated = $2", 31);
    int param = 3;   /* numbered without gaps: PostgreSQL must see every parameter */
    for (int k = 0; k < statics_schema.nfields; k++) {
        if (statics->v[k].state == VALUE_ABSENT)
            continue;
        char part[64];
        int n = snprintf(part, sizeof part, ", %s = $%d", static_columns[k], param++);
        jw_append(&sql, part, (size_t)n);
    }
    jw_append(&sql, " WHERE id = $1", 15);  /* includes the NUL */
    store_stmt *st = store_prepare(r->db, sql.buf);
    jw_free(&sql);
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, now);
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
    return store_exec_int(st, NULL);
}

/* `arrow`: see apply_command (statics have their own arrow field). */
static int apply_change(request *r, int64_t device_row, change *c, int64_t now, const char *arrow)
{
    return c->command ? apply_command(r, device_row, c->rec, now, arrow, 0)
                      : apply_statics(r, device_row, c->rec, now);
}

/* ------------------------------------------------------------ handlers */

void devices_list(request *r)
{
    page p;
    if (!page_parse(r, &p))
        return;
    const char *order_by = ordering_sql(r, devices_query.ordering, devices_query.nordering, "id", "id");
    int64_t count = 0;
    store_stmt *st = store_prepare(r->db, "SELECT count(*) FROM devices WHERE customer_id = $1");
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    if (store_exec_int(st, &count) != STORE_ROW)
        goto fail;
    if (!page_check(r, &p, count))
        return;
    st = store_prepare(r->db, arena_printf(r->arena,
        DEVICE_COLUMNS "WHERE customer_id = $1 ORDER BY %s LIMIT $2 OFFSET $3", order_by));
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, p.size);
    store_bind_int(st, 3, page_offset(&p));
    jw w;
    jw_init(&w, 4096);
    page_begin(&w, r, &p);
    int64_t now = datetime_now();
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        render_record(&w, r, device_from_row(r, st, now, NULL));
    store_reset(st);
    page_end(&w);
    if (rc < 0) {
        jw_free(&w);
        respond_store_error(r);
        return;
    }
    respond_json(r, 200, &w);
    return;
fail:
    respond_store_error(r);
}

void device_register(request *r)
{
    validation v = {.r = r};
    json_object *errors = NULL;
    json_object *in = api_input(r);
    /* deviceid is accepted for device_id, as the integrations spell it */
    json_object *alias;
    if (json_object_is_type(in, json_type_object) && !json_object_object_get_ex(in, "device_id", NULL) &&
        json_object_object_get_ex(in, "deviceid", &alias))
        json_object_object_add(in, "device_id", json_object_get(alias));
    record *dev = validate_object(&v, &device_schema, in, &errors);
    if (!dev) {
        respond_validation(r, errors);
        return;
    }
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO devices (customer_id, device_id, location, updated) VALUES ($1, $2, $3, $4) RETURNING id");
    int64_t id = 0;
    int rc = STORE_ERROR;
    if (st) {
        store_bind_int(st, 1, r->customer_id);
        store_bind_str(st, 2, dev->v[DEV_DEVICE_ID].s);
        store_bind_str(st, 3, dev->v[DEV_LOCATION].state == VALUE_SET ? dev->v[DEV_LOCATION].s : "");
        store_bind_int(st, 4, datetime_now());
        rc = store_exec_int(st, &id);
    }
    record *stored = rc == STORE_ROW ? load_device(r, id) : NULL;
    if (!stored || store_commit(r->db) < 0) {
        store_rollback(r->db);
        if (rc == STORE_UNIQUE) {
            errors = json_object_new_object();
            errors_add(errors, "non_field_errors", "The fields device_id, voodoo_customer must make a unique set.");
            respond_validation(r, errors);
        } else {
            respond_store_error(r);
        }
        return;
    }
    const char *id_enc = url_encode_segment(r->arena, stored->v[DEV_DEVICE_ID].s, stored->v[DEV_DEVICE_ID].len);
    request_add_header(r, "Location", arena_printf(r->arena, "%s/api/device/%s/", r->base_url, id_enc));
    respond_record(r, 201, stored);
}

void device_retrieve(request *r)
{
    int64_t id;
    const char *key = r->captures[0];
    int found = device_lookup(r, key, strlen(key), &id);
    record *dev = found > 0 ? load_device(r, id) : NULL;
    if (found < 0)
        respond_store_error(r);
    else if (!dev)
        respond_error(r, 404, "Not found.");
    else
        respond_record(r, 200, dev);
}

/* POST or PUT to one device: a command or a static update. */
void device_apply(request *r)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t id;
    const char *key = r->captures[0];
    int found = device_lookup(r, key, strlen(key), &id);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    change c;
    json_object *errors = NULL;
    if (!validate_change(r, api_input(r), &c, &errors)) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    record *dev = NULL;
    if (apply_change(r, id, &c, datetime_now(), NULL) < 0 || !(dev = load_device(r, id)) ||
        store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_record(r, 200, dev);
}

void device_delete(request *r)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t id;
    const char *key = r->captures[0];
    int found = device_lookup(r, key, strlen(key), &id);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    store_stmt *st = store_prepare(r->db, "DELETE FROM devices WHERE id = $1");
    if (!st || (store_bind_int(st, 1, id), store_exec_int(st, NULL)) < 0 || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_no_content(r);
}

/* The devices an entry of POST /api/devices/ names: by deviceid/device_id,
 * or every device `location` names (devices_at_location: location,
 * locationoverride, aliases with their arrow). Returns the number found
 * (targets in the arena), or -1 on a database error; *key tells which key
 * the entry used. */
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
    if (strcmp(*key, "location") == 0)
        return devices_at_location(r, text, targets);
    int64_t id;
    int found = device_lookup(r, text, strlen(text), &id);
    if (found <= 0)
        return found;
    *targets = arena_alloc(r->arena, sizeof **targets);
    (*targets)[0].row = id;
    (*targets)[0].arrow = NULL;
    return 1;
}

void devices_bulk(request *r)
{
    json_object *in = api_input(r);
    if (!json_object_is_type(in, json_type_array)) {
        json_object *errors = json_object_new_object();
        errors_add(errors, "non_field_errors",
                   arena_printf(r->arena, "Expected a list of items but got type \"%s\".", json_python_type(in)));
        respond_validation(r, errors);
        return;
    }
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int n = (int)json_object_array_length(in);
    change *changes = arena_alloc(r->arena, sizeof(change) * (size_t)(n ? n : 1));
    device_target **targets = arena_alloc(r->arena, sizeof(device_target *) * (size_t)(n ? n : 1));
    int *ntargets = arena_alloc(r->arena, sizeof(int) * (size_t)(n ? n : 1));
    json_object *errors = json_object_new_array();
    bool any_error = false;
    for (int i = 0; i < n; i++) {
        json_object *entry = json_object_array_get_idx(in, (size_t)i);
        json_object *err = NULL;
        if (validate_change(r, entry, &changes[i], &err)) {
            const char *key;
            ntargets[i] = entry_targets(r, entry, &key, &targets[i]);
            if (ntargets[i] < 0)
                goto db_fail;
            if (ntargets[i] == 0) {
                err = json_object_new_object();
                if (!key) {
                    errors_add(err, "deviceid", "This field is required.");
                } else {
                    json_object *v = NULL;
                    json_object_object_get_ex(entry, key, &v);
                    errors_add(err, key, arena_printf(r->arena, "Object with %s=%s does not exist.",
                                                      key, v ? json_object_get_string(v) : "None"));
                }
            }
        }
        any_error |= err != NULL;
        json_object_array_add(errors, err ? err : json_object_new_object());
    }
    if (any_error) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    json_object_put(errors);
    errors = NULL;
    int64_t now = datetime_now();
    jw w;
    jw_init(&w, 1024);
    jw_arr(&w);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ntargets[i]; k++) {
            if (apply_change(r, targets[i][k].row, &changes[i], now, targets[i][k].arrow) < 0) {
                jw_free(&w);
                goto db_fail;
            }
        }
    /* render after every entry has applied: a device named twice shows its final state */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ntargets[i]; k++) {
            record *dev = load_device(r, targets[i][k].row);
            if (!dev) {
                jw_free(&w);
                goto db_fail;
            }
            render_record(&w, r, dev);
        }
    jw_arr_end(&w);
    if (store_commit(r->db) < 0) {
        jw_free(&w);
        goto db_fail;
    }
    respond_json(r, 200, &w);
    return;
db_fail:
    if (errors)
        json_object_put(errors);
    respond_store_error(r);
}

/* ------------------------------------------------------------ for §8 */

struct device_command {
    change c;
};

device_command *device_command_parse(request *r, json_object *in, json_object **errors)
{
    device_command *dc = arena_alloc(r->arena, sizeof *dc);
    if (!validate_change(r, in, &dc->c, errors))
        return NULL;
    if (!dc->c.command) {   /* a body naming no command and no line is a flash of nothing */
        *errors = json_object_new_object();
        errors_add(*errors, "command", "This field is required.");
        return NULL;
    }
    return dc;
}

int device_command_show(request *r, int64_t device_row, const device_command *dc, const char *arrow,
                        int64_t step_ref)
{
    return apply_command(r, device_row, dc->c.rec, datetime_now(), arrow, step_ref) < 0 ? -1 : 0;
}

int device_clear_by_nonce(request *r, const char *nonce)
{
    store_stmt *st = store_prepare(r->db,
        "UPDATE devices SET " DISPLAY_CLEARED ", updated = $3 WHERE customer_id = $1 AND display_nonce = $2");
    if (!st)
        return -1;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, nonce);
    store_bind_int(st, 3, datetime_now());
    return store_exec_int(st, NULL) < 0 ? -1 : 0;
}

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
        return -1;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, location);
    size_t n = 0, cap = 0;
    int rc;
    device_target *t = NULL;
    while ((rc = store_step(st)) == STORE_ROW) {
        int64_t row = store_col_int(st, 0);
        bool seen = false;   /* a device both at the location and aliased: lit once */
        for (size_t i = 0; i < n; i++)
            seen |= t[i].row == row;
        if (seen)
            continue;
        t = arena_grow(r->arena, t, n, &cap, sizeof *t);
        t[n].row = row;
        t[n].arrow = store_col_null(st, 1) ? NULL
                     : alias_arrow(store_col_text(st, 1, NULL));
        n++;
    }
    store_reset(st);
    *out = t;
    return rc < 0 ? -1 : (int)n;
}

int device_respond(request *r, int status, int64_t device_row)
{
    record *dev = load_device(r, device_row);
    if (!dev)
        return -1;
    respond_record(r, status, dev);
    return 0;
}
