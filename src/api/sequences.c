/*
 * sequences.c — pick sequences (contract §8; see sequences.h).
 *
 * A sequence is a list of steps; a step names a device (or a location, which
 * may name several devices or an alias) and a command to show there. Steps
 * with the same `order` form a group: launching lights the group with the
 * lowest order; when every step of the lit group has been acknowledged
 * (picks.c calls sequence_step_done) the next group lights, and after the
 * last one the sequence is `completed`. A step's display carries the step's
 * stepnonce as its nonce, and the display row remembers the step
 * (devices.display_step), which is how an acknowledgement finds it.
 *
 * Each step is stored as its validated JSON (with defaults filled in), so
 * what GET shows is exactly what will be lit. A step's command is checked
 * by the same rules as a command POSTed to a device (devices.c).
 *
 *   GET/POST /api/sequence/                 list (paginated), create (201)
 *   GET/PUT/DELETE /api/sequence/{id}/      one; PUT replaces nonce and steps
 *   GET /api/launchsequence/{id}/           launch, or relaunch from the start
 */
#include "api/sequences.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/devices.h"
#include "api/json.h"
#include "api/pagination.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/rows.h"
#include "core/datetime.h"
#include "store/store.h"

#define INT32_LIMIT 2147483647

enum { STEP_ORDER, STEP_DEVICE, STEP_LOCATION, STEP_COMMAND, STEP_LINE1, STEP_LINE2, STEP_LINE3,
       STEP_LINE4, STEP_LINE5, STEP_ARROW, STEP_COLOR, STEP_SECONDS, STEP_SOUND, STEP_QUANTITY,
       STEP_STEPNONCE };

static void check_step(validation *v, record *rec, json_object *errors);

#define STR(name, max) {name, FIELD_STRING, F_ALLOW_BLANK, .max_length = (max)}

static const field step_fields[] = {
    [STEP_ORDER] = {"order", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
    [STEP_DEVICE] = {"device", FIELD_STRING, F_ALLOW_BLANK | F_ALLOW_NULL, .max_length = 64},
    [STEP_LOCATION] = STR("location", 255),
    [STEP_COMMAND] = STR("command", 16),
    [STEP_LINE1] = STR("line1", 255),
    [STEP_LINE2] = STR("line2", 255),
    [STEP_LINE3] = STR("line3", 255),
    [STEP_LINE4] = STR("line4", 255),
    [STEP_LINE5] = STR("line5", 255),
    [STEP_ARROW] = STR("arrow", 16),
    [STEP_COLOR] = STR("color", 16),
    [STEP_SECONDS] = {"seconds", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
    [STEP_SOUND] = STR("sound", 1024),
    [STEP_QUANTITY] = {"quantity", FIELD_INTEGER, F_ALLOW_NULL, .min_value = 0, .max_value = INT32_LIMIT},
    [STEP_STEPNONCE] = STR("stepnonce", 255),
};
static const schema step_schema = SCHEMA("Step", step_fields, check_step);

enum { SEQ_ID, SEQ_NONCE, SEQ_STATUS, SEQ_STEPS };

static const field sequence_fields[] = {
    [SEQ_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [SEQ_NONCE] = STR("nonce", 255),
    [SEQ_STATUS] = {"status", FIELD_STRING, F_READ_ONLY},
    [SEQ_STEPS] = {"steps", FIELD_NESTED_LIST, F_REQUIRED | F_ALLOW_EMPTY, .child = &step_schema},
};
const schema sequence_schema = SCHEMA("Sequence", sequence_fields, NULL);

static const ordering_field sequence_ordering[] = {{"id", "id"}};
const list_query sequences_query = LIST_QUERY_UNFILTERED(sequence_ordering);

/* ------------------------------------------------------------ steps */

static const char *text_of(const value *v, const char *fallback)
{
    return v->state == VALUE_SET ? v->s : fallback;
}

/* The device command a step shows (JSON, caller puts it). */
static json_object *step_command(const record *step)
{
    const value *v = step->v;
    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "command", json_object_new_string(text_of(&v[STEP_COMMAND], "")[0]
                                                                       ? v[STEP_COMMAND].s : "flash"));
    static const int lines[] = {STEP_LINE1, STEP_LINE2, STEP_LINE3, STEP_LINE4, STEP_LINE5};
    for (int k = 0; k < 5; k++)
        if (v[lines[k]].state == VALUE_SET)
            json_object_object_add(cmd, step_fields[lines[k]].name, json_object_new_string(v[lines[k]].s));
    if (v[STEP_ARROW].state == VALUE_SET)
        json_object_object_add(cmd, "arrow", json_object_new_string(v[STEP_ARROW].s));
    if (v[STEP_COLOR].state == VALUE_SET)
        json_object_object_add(cmd, "color", json_object_new_string(v[STEP_COLOR].s));
    if (v[STEP_SOUND].state == VALUE_SET)
        json_object_object_add(cmd, "sound", json_object_new_string(v[STEP_SOUND].s));
    if (v[STEP_SECONDS].state == VALUE_SET)
        json_object_object_add(cmd, "seconds", json_object_new_int64(v[STEP_SECONDS].i));
    if (v[STEP_QUANTITY].state == VALUE_SET)
        json_object_object_add(cmd, "quantity", json_object_new_int64(v[STEP_QUANTITY].i));
    if (v[STEP_STEPNONCE].state == VALUE_SET)
        json_object_object_add(cmd, "nonce", json_object_new_string(v[STEP_STEPNONCE].s));
    return cmd;
}

static bool command_allowed(const char *command)
{
    return !*command || !strcmp(command, "flash") || !strcmp(command, "display") || !strcmp(command, "pick");
}

/* A step names a device of the customer or a location that names at least
 * one, and its command is one a device takes. */
static void check_step(validation *v, record *rec, json_object *errors)
{
    request *r = v->r;
    const value *dev = &rec->v[STEP_DEVICE], *loc = &rec->v[STEP_LOCATION];
    bool has_device = dev->state == VALUE_SET && dev->len, has_location = loc->state == VALUE_SET && loc->len;
    if (!has_device && !has_location) {
        errors_add(errors, "non_field_errors", "A step needs a device or a location.");
        return;
    }
    if (has_device) {
        int64_t row;
        int found = device_lookup(r, dev->s, dev->len, &row);
        if (found == 0)
            errors_add(errors, "device", arena_printf(r->arena, "Invalid pk \"%s\" - object does not exist.", dev->s));
    } else {
        device_target *t;
        if (devices_at_location(r, loc->s, &t) == 0)
            errors_add(errors, "location", arena_printf(r->arena, "Object with location=%s does not exist.", loc->s));
    }
    const char *command = text_of(&rec->v[STEP_COMMAND], "");
    if (!command_allowed(command)) {
        errors_add(errors, "command", arena_printf(r->arena, "\"%s\" is not a valid choice.", command));
        return;
    }
    json_object *cmd = step_command(rec), *cmd_errors = NULL;
    device_command *dc = device_command_parse(r, cmd, &cmd_errors);
    json_object_put(cmd);
    if (!dc) {
        json_object_object_foreach(cmd_errors, key, val) {
            const char *name = strcmp(key, "nonce") == 0 ? "stepnonce" : key;
            for (size_t i = 0; i < json_object_array_length(val); i++)
                errors_add(errors, name, json_object_get_string(json_object_array_get_idx(val, i)));
        }
        json_object_put(cmd_errors);
    }
}

/* The step as stored and shown: every field, defaults filled in. */
static const char *step_body(request *r, record *step)
{
    value *v = step->v;
    for (int k = 0; k < step_schema.nfields; k++) {
        if (v[k].state != VALUE_ABSENT)
            continue;
        if (k == STEP_ORDER || k == STEP_SECONDS)
            value_set_int(&v[k], 0);
        else if (k == STEP_QUANTITY || k == STEP_DEVICE)
            value_set_null(&v[k]);
        else if (k == STEP_COMMAND)
            value_set_text(&v[k], "flash", 5);
        else
            value_set_text(&v[k], "", 0);
    }
    if (v[STEP_DEVICE].state == VALUE_SET && v[STEP_DEVICE].len == 0)
        value_set_null(&v[STEP_DEVICE]);
    jw w;
    jw_init(&w, 512);
    render_record(&w, r, step);
    size_t len;
    char *buf = jw_take(&w, &len);
    const char *text = arena_strndup(r->arena, buf, len);
    free(buf);
    return text;
}

static int insert_steps(request *r, int64_t seq_id, value *steps)
{
    for (int i = 0; i < steps->nitems; i++) {
        record *step = &steps->items[i];
        const char *body = step_body(r, step);
        store_stmt *st = store_prepare(r->db,
            "INSERT INTO sequence_steps (sequence_id, position, step_order, body) VALUES ($1, $2, $3, $4)");
        if (!st)
            return -1;
        store_bind_int(st, 1, seq_id);
        store_bind_int(st, 2, i);
        store_bind_int(st, 3, step->v[STEP_ORDER].i);
        store_bind_str(st, 4, body);
        if (store_exec_int(st, NULL) < 0)
            return -1;
    }
    return 0;
}

/* Light one stored step on its device or location. */
/* The command a stored step shows: its command fields as stored (all of
 * them, defaults filled in when it was stored), its stepnonce as nonce. */
static json_object *stored_command(json_object *step)
{
    static const char *const keys[] = {"command", "line1", "line2", "line3", "line4", "line5", "arrow",
                                       "color", "seconds", "sound", "quantity"};
    json_object *cmd = json_object_new_object(), *v;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_object_get_ex(step, keys[i], &v))
            json_object_object_add(cmd, keys[i], json_object_get(v));
    if (json_object_object_get_ex(step, "stepnonce", &v))
        json_object_object_add(cmd, "nonce", json_object_get(v));
    return cmd;
}

/* Light one stored step on its device or location (it was validated when
 * stored; only its targets are looked up again). */
static int light_step(request *r, int64_t step_id, const char *body)
{
    json_object *step = json_tokener_parse(body);
    if (!step)
        return -1;
    json_object *cmd = stored_command(step), *errors = NULL, *dev = NULL, *loc = NULL;
    device_command *dc = device_command_parse(r, cmd, &errors);
    json_object_put(cmd);
    if (errors)
        json_object_put(errors);
    device_target one = {0, NULL}, *targets = &one;
    int n = -1;
    if (dc && json_object_object_get_ex(step, "device", &dev) && json_object_is_type(dev, json_type_string)) {
        const char *id = json_object_get_string(dev);
        n = device_lookup(r, id, strlen(id), &one.row);   /* 0: unregistered since, nothing to light */
    } else if (dc && json_object_object_get_ex(step, "location", &loc)) {
        n = devices_at_location(r, json_object_get_string(loc), &targets);
    }
    int rc = n < 0 ? -1 : 0;
    for (int k = 0; rc == 0 && k < n; k++)
        rc = device_command_show(r, targets[k].row, dc, targets[k].arrow, step_id);
    json_object_put(step);
    return rc;
}

/* Light the pending group with the lowest order; when none is left the
 * sequence is completed. */
static int light_next_group(request *r, int64_t seq_id)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT id, body, step_order FROM sequence_steps WHERE sequence_id = $1 AND state = 'pending' "
        "AND step_order = (SELECT min(step_order) FROM sequence_steps WHERE sequence_id = $1 "
        "AND state = 'pending') ORDER BY position");
    if (!st)
        return -1;
    store_bind_int(st, 1, seq_id);
    typedef struct lit_step {
        int64_t id;
        const char *body;
    } lit_step;
    size_t n = 0, cap = 0;
    int rc;
    lit_step *steps = NULL;
    while ((rc = store_step(st)) == STORE_ROW) {
        steps = arena_grow(r->arena, steps, n, &cap, sizeof *steps);
        steps[n].id = store_col_int(st, 0);
        steps[n].body = arena_strdup(r->arena, store_col_text(st, 1, NULL));
        n++;
    }
    store_reset(st);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        st = store_prepare(r->db, "UPDATE sequence_steps SET state = 'lit' WHERE id = $1");
        if (!st)
            return -1;
        store_bind_int(st, 1, steps[i].id);
        if (store_exec_int(st, NULL) < 0 || light_step(r, steps[i].id, steps[i].body) < 0)
            return -1;
    }
    st = store_prepare(r->db, "UPDATE sequences SET status = $2, modified = $3 WHERE id = $1");
    if (!st)
        return -1;
    store_bind_int(st, 1, seq_id);
    store_bind_str(st, 2, n ? "in-progress" : "completed");
    store_bind_int(st, 3, datetime_now());
    return store_exec_int(st, NULL) < 0 ? -1 : 0;
}

/* Clear every display showing a step of the sequence (relaunch, delete). */
static int clear_displays(request *r, int64_t seq_id)
{
    store_stmt *st = store_prepare(r->db,
        "UPDATE devices SET " DISPLAY_CLEARED ", updated = $3 WHERE customer_id = $2 AND display_step IN "
        "(SELECT id FROM sequence_steps WHERE sequence_id = $1)");
    if (!st)
        return -1;
    store_bind_int(st, 1, seq_id);
    store_bind_int(st, 2, r->customer_id);
    store_bind_int(st, 3, datetime_now());
    return store_exec_int(st, NULL) < 0 ? -1 : 0;
}

int sequence_step_done(request *r, int64_t step_ref, const char **stepnonce)
{
    *stepnonce = NULL;
    store_stmt *st = store_prepare(r->db,
        "SELECT st.sequence_id, st.step_order, st.state, st.body FROM sequence_steps st "
        "JOIN sequences s ON s.id = st.sequence_id WHERE st.id = $1 AND s.customer_id = $2");
    if (!st)
        return -1;
    store_bind_int(st, 1, step_ref);
    store_bind_int(st, 2, r->customer_id);
    int rc = store_step(st);
    int64_t seq_id = 0, group = 0;
    bool lit = false;
    if (rc == STORE_ROW) {
        seq_id = store_col_int(st, 0);
        group = store_col_int(st, 1);
        lit = strcmp(store_col_text(st, 2, NULL), "lit") == 0;
        json_object *body = json_tokener_parse(store_col_text(st, 3, NULL)), *nonce = NULL;
        if (body && json_object_object_get_ex(body, "stepnonce", &nonce))
            *stepnonce = arena_strdup(r->arena, json_object_get_string(nonce));
        json_object_put(body);
    }
    store_reset(st);
    if (rc != STORE_ROW)
        return rc < 0 ? -1 : 0;
    if (!lit)
        return 0;   /* acknowledged already (another device of the same step) */
    st = store_prepare(r->db, "UPDATE sequence_steps SET state = 'done' WHERE id = $1");
    if (!st)
        return -1;
    store_bind_int(st, 1, step_ref);
    if (store_exec_int(st, NULL) < 0)
        return -1;
    /* the step's other devices (a location naming several) go dark too */
    st = store_prepare(r->db,
        "UPDATE devices SET " DISPLAY_CLEARED ", updated = $3 WHERE customer_id = $2 AND display_step = $1");
    if (!st)
        return -1;
    store_bind_int(st, 1, step_ref);
    store_bind_int(st, 2, r->customer_id);
    store_bind_int(st, 3, datetime_now());
    if (store_exec_int(st, NULL) < 0)
        return -1;
    int64_t open_steps = 0;
    st = store_prepare(r->db,
        "SELECT count(*) FROM sequence_steps WHERE sequence_id = $1 AND step_order = $2 AND state <> 'done'");
    if (!st)
        return -1;
    store_bind_int(st, 1, seq_id);
    store_bind_int(st, 2, group);
    if (store_exec_int(st, &open_steps) != STORE_ROW)
        return -1;
    return open_steps ? 0 : light_next_group(r, seq_id);
}

/* ------------------------------------------------------------ reading */

/* Write sequence `id` (of r's customer) as JSON; 1, 0 missing, -1 error. */
static int render_sequence(request *r, jw *w, int64_t id)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT s.nonce, s.status, st.body FROM sequences s "
        "LEFT JOIN sequence_steps st ON st.sequence_id = s.id "
        "WHERE s.id = $1 AND s.customer_id = $2 ORDER BY st.position");
    if (!st)
        return -1;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, r->customer_id);
    int rc, rows = 0;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (rows++ == 0) {
            jw_obj(w);
            jw_key(w, "id");
            jw_int(w, id);
            jw_key(w, "nonce");
            size_t n;
            const char *nonce = store_col_text(st, 0, &n);
            jw_str(w, nonce, n);
            jw_key(w, "status");
            jw_cstr(w, store_col_text(st, 1, NULL));
            jw_key(w, "steps");
            jw_arr(w);
        }
        if (!store_col_null(st, 2)) {
            size_t n;
            const char *body = store_col_text(st, 2, &n);
            jw_raw(w, body, n);
        }
    }
    store_reset(st);
    if (rc < 0)
        return -1;
    if (rows) {
        jw_arr_end(w);
        jw_obj_end(w);
    }
    return rows ? 1 : 0;
}

static void respond_sequence(request *r, int status, int64_t id)
{
    jw w;
    jw_init(&w, 1024);
    int found = render_sequence(r, &w, id);
    if (found <= 0) {
        jw_free(&w);
        if (found < 0)
            respond_store_error(r);
        else
            respond_error(r, 404, "Not found.");
        return;
    }
    respond_json(r, status, &w);
}

/* {id} of the path, when it is a positive integer. */
static bool path_id(request *r, int64_t *id)
{
    char *end;
    long long v = strtoll(r->captures[0], &end, 10);
    *id = v;
    return *r->captures[0] && !*end && v > 0;
}

/* The sequence of the path exists for r's customer: 1, 0 (404 made), -1. */
static int own_sequence(request *r, int64_t *id)
{
    if (!path_id(r, id))
        return 0;
    store_stmt *st = store_prepare(r->db, "SELECT id FROM sequences WHERE id = $1 AND customer_id = $2");
    if (!st)
        return -1;
    store_bind_int(st, 1, *id);
    store_bind_int(st, 2, r->customer_id);
    int rc = store_exec_int(st, NULL);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

/* ------------------------------------------------------------ handlers */

void sequences_list(request *r)
{
    page p;
    if (!page_parse(r, &p))
        return;
    const char *order_by = ordering_sql(r, sequences_query.ordering, sequences_query.nordering, "id", "id");
    int64_t count = 0;
    store_stmt *st = store_prepare(r->db, "SELECT count(*) FROM sequences WHERE customer_id = $1");
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    if (store_exec_int(st, &count) != STORE_ROW)
        goto fail;
    if (!page_check(r, &p, count))
        return;
    st = store_prepare(r->db, arena_printf(r->arena,
        "SELECT id FROM sequences WHERE customer_id = $1 ORDER BY %s LIMIT $2 OFFSET $3", order_by));
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, p.size);
    store_bind_int(st, 3, page_offset(&p));
    int n = 0, rc;
    int64_t *ids = arena_alloc(r->arena, sizeof *ids * (size_t)(p.size > 0 ? p.size : 1));
    while ((rc = store_step(st)) == STORE_ROW && n < p.size)
        ids[n++] = store_col_int(st, 0);
    store_reset(st);
    if (rc < 0)
        goto fail;
    jw w;
    jw_init(&w, 4096);
    page_begin(&w, r, &p);
    for (int i = 0; i < n; i++)
        if (render_sequence(r, &w, ids[i]) < 0) {
            jw_free(&w);
            goto fail;
        }
    page_end(&w);
    respond_json(r, 200, &w);
    return;
fail:
    respond_store_error(r);
}

/* Validate the body inside the write transaction (device and location
 * checks read the database). NULL when the answer is made. */
static record *validate_sequence(request *r)
{
    validation v = {.r = r};
    json_object *errors = NULL;
    record *seq = validate_object(&v, &sequence_schema, api_input(r), &errors);
    if (!seq) {
        store_rollback(r->db);
        respond_validation(r, errors);
    }
    return seq;
}

void sequence_create(request *r)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    record *seq = validate_sequence(r);
    if (!seq)
        return;
    int64_t now = datetime_now(), id = 0;
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO sequences (customer_id, nonce, status, created, modified) "
        "VALUES ($1, $2, 'unstarted', $3, $3) RETURNING id");
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, text_of(&seq->v[SEQ_NONCE], ""));
    store_bind_int(st, 3, now);
    if (store_exec_int(st, &id) != STORE_ROW || insert_steps(r, id, &seq->v[SEQ_STEPS]) < 0 ||
        store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    request_add_header(r, "Location",
                       arena_printf(r->arena, "%s/api/sequence/%lld/", r->base_url, (long long)id));
    if (store_begin_read(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_sequence(r, 201, id);
    store_rollback(r->db);
}

void sequence_retrieve(request *r)
{
    int64_t id;
    if (!path_id(r, &id)) {
        respond_error(r, 404, "Not found.");
        return;
    }
    respond_sequence(r, 200, id);
}

/* Begin a write and find the path's sequence: 1, or the answer is made. */
static int open_sequence(request *r, int64_t *id)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return 0;
    }
    int found = own_sequence(r, id);
    if (found <= 0) {
        respond_missing(r, found);
        return 0;
    }
    return 1;
}

/* Commit, then answer the sequence as stored. */
static void commit_and_show(request *r, int64_t id)
{
    if (store_commit(r->db) < 0 || store_begin_read(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_sequence(r, 200, id);
    store_rollback(r->db);
}

void sequence_put(request *r)
{
    int64_t id;
    if (!open_sequence(r, &id))
        return;
    record *seq = validate_sequence(r);
    if (!seq)
        return;
    /* new steps: the old ones' displays go dark, the sequence starts over */
    store_stmt *st;
    if (clear_displays(r, id) < 0 || !(st = store_prepare(r->db, "DELETE FROM sequence_steps WHERE sequence_id = $1"))) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    if (store_exec_int(st, NULL) < 0 || insert_steps(r, id, &seq->v[SEQ_STEPS]) < 0 ||
        !(st = store_prepare(r->db,
              "UPDATE sequences SET nonce = $2, status = 'unstarted', modified = $3 WHERE id = $1"))) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    store_bind_str(st, 2, text_of(&seq->v[SEQ_NONCE], ""));
    store_bind_int(st, 3, datetime_now());
    if (store_exec_int(st, NULL) < 0) {
        respond_store_error(r);
        return;
    }
    commit_and_show(r, id);
}

void sequence_delete(request *r)
{
    int64_t id;
    if (!open_sequence(r, &id))
        return;
    store_stmt *st;
    if (clear_displays(r, id) < 0 || !(st = store_prepare(r->db, "DELETE FROM sequences WHERE id = $1"))) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    if (store_exec_int(st, NULL) < 0 || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_no_content(r);
}

void sequence_launch(request *r)
{
    int64_t id;
    if (!open_sequence(r, &id))
        return;
    store_stmt *st;
    if (clear_displays(r, id) < 0 ||
        !(st = store_prepare(r->db, "UPDATE sequence_steps SET state = 'pending' WHERE sequence_id = $1"))) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    if (store_exec_int(st, NULL) < 0 || light_next_group(r, id) < 0) {
        respond_store_error(r);
        return;
    }
    commit_and_show(r, id);
}
