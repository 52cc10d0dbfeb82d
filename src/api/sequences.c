/*
 * sequences.c — pick sequences (contract §8; see sequences.h), a resource
 * of the generic views plus launching.
 *
 * A sequence is a list of steps; a step names a device (or a location, which
 * may name several devices or an alias) and a command to show there (its
 * fields are the command's, commands.h, with the step's stepnonce as the
 * command's nonce). Steps with the same `order` form a group: launching
 * lights the group with the lowest order; when every step of the lit group
 * has been acknowledged (picks.c calls sequence_step_done) the next group
 * lights, and after the last one the sequence is `completed`. A lit
 * command remembers its step (device_commands.step_ref), which is how an
 * acknowledgement finds it.
 *
 * Steps are stored in typed columns, defaults filled in, so what GET shows
 * is exactly what will be lit; a step's command is checked by the same
 * declarations as a command POSTed to a device, once, when it is stored.
 * Writers lock the sequence's row before its devices.
 *
 *   GET/POST /api/sequence/                 list (paginated), create (201)
 *   GET/PUT/DELETE /api/sequence/{id}/      one; PUT replaces nonce and steps
 *   GET /api/launchsequence/{id}/           launch, or relaunch from the start
 */
#include "api/sequences.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/commands.h"
#include "api/devices.h"
#include "api/outbox.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/datetime.h"
#include "store/store.h"

enum { STEP_ORDER, STEP_DEVICE, STEP_LOCATION, STEP_COMMAND, STEP_LINE1, STEP_LINE2, STEP_LINE3,
       STEP_LINE4, STEP_LINE5, STEP_ARROW, STEP_COLOR, STEP_SECONDS, STEP_SOUND, STEP_QUANTITY,
       STEP_STEPNONCE };

static void check_step(validation *v, record *rec, json_object *errors);

static const field step_fields[] = {
    [STEP_ORDER] = {"order", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
    [STEP_DEVICE] = {"device", FIELD_STRING, F_ALLOW_BLANK | F_ALLOW_NULL, .max_length = 64},
    [STEP_LOCATION] = COMMAND_TEXT("location", 255),
    [STEP_COMMAND] = COMMAND_FIELD_STEP_COMMAND,
    [STEP_LINE1] = COMMAND_FIELD_LINE(1),
    [STEP_LINE2] = COMMAND_FIELD_LINE(2),
    [STEP_LINE3] = COMMAND_FIELD_LINE(3),
    [STEP_LINE4] = COMMAND_FIELD_LINE(4),
    [STEP_LINE5] = COMMAND_FIELD_LINE(5),
    [STEP_ARROW] = COMMAND_FIELD_ARROW,
    [STEP_COLOR] = COMMAND_FIELD_COLOR,
    [STEP_SECONDS] = COMMAND_FIELD_SECONDS,
    [STEP_SOUND] = COMMAND_FIELD_SOUND,
    [STEP_QUANTITY] = COMMAND_FIELD_QUANTITY,
    [STEP_STEPNONCE] = COMMAND_TEXT("stepnonce", 255),
};
static const schema step_schema = SCHEMA("Step", step_fields, check_step);

enum { SEQ_ID, SEQ_NONCE, SEQ_STATUS, SEQ_STEPS };

static const field sequence_fields[] = {
    [SEQ_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [SEQ_NONCE] = COMMAND_TEXT("nonce", 255),
    [SEQ_STATUS] = {"status", FIELD_STRING, F_READ_ONLY},
    [SEQ_STEPS] = {"steps", FIELD_NESTED_LIST, F_REQUIRED | F_ALLOW_EMPTY, .child = &step_schema,
                   .max_items = SEQUENCE_MAX_STEPS},
};
const schema sequence_schema = SCHEMA("Sequence", sequence_fields, NULL);

static const ordering_field sequence_ordering[] = {{"id", "q.id"}};
const list_query sequences_query = LIST_QUERY_UNFILTERED(sequence_ordering);

/* ------------------------------------------------------------ steps */

/* A step names a device of the customer or a location that names at least
 * one. Its command's fields are checked by their declarations. */
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
        if (device_lookup(r, dev->s, dev->len, &row) == 0)
            errors_add(errors, "device", arena_printf(r->arena, "Invalid pk \"%s\" - object does not exist.", dev->s));
    } else {
        device_target *t;
        if (devices_at_location(r, loc->s, &t) == 0)
            errors_add(errors, "location", arena_printf(r->arena, "Object with location=%s does not exist.", loc->s));
    }
}

/* Every field of a step as stored and shown, defaults filled in. */
static void fill_step(record *step)
{
    value *v = step->v;
    for (int k = 0; k < step_schema.nfields; k++) {
        if (v[k].state != VALUE_ABSENT)
            continue;
        if (k == STEP_ORDER || k == STEP_SECONDS)
            value_set_int(&v[k], 0);
        else if (k == STEP_QUANTITY || k == STEP_DEVICE)
            value_set_null(&v[k]);
        else
            value_set_text(&v[k], "", 0);
    }
    if (v[STEP_COMMAND].len == 0)
        value_set_text(&v[STEP_COMMAND], "flash", 5);
    if (v[STEP_DEVICE].state == VALUE_SET && v[STEP_DEVICE].len == 0)
        value_set_null(&v[STEP_DEVICE]);
}

#define STEP_COLUMNS                                                                    \
    "st.step_order, st.device, st.location, st.command, st.line1, st.line2, st.line3, "  \
    "st.line4, st.line5, st.arrow, st.color, st.seconds, st.sound, st.quantity, st.stepnonce"

/* A step from STEP_COLUMNS starting at column `c`. */
static void step_from_row(arena *a, store_stmt *st, int c, value *v)
{
    for (int k = 0; k < step_schema.nfields; k++) {
        if (k == STEP_ORDER || k == STEP_SECONDS || k == STEP_QUANTITY)
            value_from_int_or_null(st, c + k, &v[k]);
        else
            value_from_text_or_null(a, st, c + k, &v[k]);
    }
}

static int insert_steps(request *r, int64_t seq_id, value *steps)
{
    for (int i = 0; i < steps->nitems; i++) {
        value *v = steps->items[i].v;
        fill_step(&steps->items[i]);
        store_stmt *st = store_prepare(r->db,
            "INSERT INTO sequence_steps (sequence_id, position, step_order, device, location, command, line1, "
            "line2, line3, line4, line5, arrow, color, seconds, sound, quantity, stepnonce) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, seq_id);
        store_bind_int(st, 2, i);
        for (int k = 0; k < step_schema.nfields; k++) {
            if (v[k].state == VALUE_NULL)
                store_bind_null(st, 3 + k);
            else if (k == STEP_ORDER || k == STEP_SECONDS || k == STEP_QUANTITY)
                store_bind_int(st, 3 + k, v[k].i);
            else
                store_bind_text(st, 3 + k, v[k].s, v[k].len);
        }
        int rc = store_exec_int(st, NULL);
        if (rc < 0)
            return rc;
    }
    return VIEW_DONE;
}

/* Light one step on its device or location (a device unregistered since
 * lights nothing). */
static int light_step(request *r, int64_t step_id, const record *step)
{
    device_command c;
    command_from_record(step, "stepnonce", &c);
    const value *dev = &step->v[STEP_DEVICE];
    device_target one = {0, NULL}, *targets = &one;
    int n;
    if (dev->state == VALUE_SET)
        n = device_lookup(r, dev->s, dev->len, &one.row);
    else
        n = devices_at_location(r, step->v[STEP_LOCATION].s, &targets);
    if (n < 0)
        return STORE_ERROR;
    for (int k = 0; k < n; k++) {
        int rc = command_show(r, targets[k].row, &c, targets[k].arrow, step_id);
        if (rc != VIEW_DONE)
            return rc;
    }
    return VIEW_DONE;
}

static int set_status(request *r, int64_t seq_id, const char *status)
{
    store_stmt *st = store_prepare(r->db, "UPDATE sequences SET status = $2, modified = $3 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, seq_id);
    store_bind_str(st, 2, status);
    store_bind_int(st, 3, datetime_now());
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

/* Light the pending group with the lowest order; when none is left the
 * sequence is completed (*completed, when not NULL, says so). */
static int light_next_group(request *r, int64_t seq_id, bool *completed)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT st.id, " STEP_COLUMNS " FROM sequence_steps st WHERE st.sequence_id = $1 AND st.state = 'pending' "
        "AND st.step_order = (SELECT min(step_order) FROM sequence_steps WHERE sequence_id = $1 "
        "AND state = 'pending') ORDER BY st.position");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, seq_id);
    record_vec steps = {0};
    size_t cap = 0;
    int64_t *ids = NULL;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        ids = arena_grow(r->arena, ids, (size_t)steps.n, &cap, sizeof *ids);
        ids[steps.n] = store_col_int(st, 0);
        step_from_row(r->arena, st, 1, record_vec_push(r->arena, &steps, &step_schema));
    }
    store_reset(st);
    if (rc < 0)
        return rc;
    for (int i = 0; i < steps.n; i++) {
        st = store_prepare(r->db, "UPDATE sequence_steps SET state = 'lit' WHERE id = $1");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, ids[i]);
        if ((rc = store_exec_int(st, NULL)) < 0 || (rc = light_step(r, ids[i], &steps.items[i])) != VIEW_DONE)
            return rc < 0 || rc == COMMAND_FULL ? rc : STORE_ERROR;
    }
    if (completed)
        *completed = steps.n == 0;
    return set_status(r, seq_id, steps.n ? "in-progress" : "completed");
}

/* The callback of a completed sequence (§8.1). */
static int completion_callback(request *r, int64_t seq_id)
{
    store_stmt *st = store_prepare(r->db, "SELECT nonce FROM sequences WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, seq_id);
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        jw w;
        jw_init(&w, 128);
        jw_obj(&w);
        jw_key(&w, "acknack");
        jw_cstr(&w, "ack");
        jw_key(&w, "nonce");
        jw_cstr(&w, store_col_text(st, 0, NULL));
        jw_key(&w, "sequence");
        jw_int(&w, seq_id);
        jw_obj_end(&w);
        jw_append(&w, "", 1);
        outbox_callback(r, CALLBACK_DEVICE, w.buf, NULL, NULL);
        jw_free(&w);
    }
    store_reset(st);
    return rc < 0 ? rc : VIEW_DONE;
}

int sequence_step_done(request *r, int64_t step_ref)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT st.sequence_id, st.step_order, st.state FROM sequence_steps st "
        "JOIN sequences q ON q.id = st.sequence_id WHERE st.id = $1 AND q.customer_id = $2");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, step_ref);
    store_bind_int(st, 2, r->customer_id);
    int rc = store_step(st);
    int64_t seq_id = 0, group = 0;
    bool lit = false;
    if (rc == STORE_ROW) {
        seq_id = store_col_int(st, 0);
        group = store_col_int(st, 1);
        lit = strcmp(store_col_text(st, 2, NULL), "lit") == 0;
    }
    store_reset(st);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : VIEW_DONE;
    if (!lit)
        return VIEW_DONE;   /* acknowledged already (another device of the same step) */
    st = store_prepare(r->db, "UPDATE sequence_steps SET state = 'done' WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, step_ref);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    /* the step's other devices (a location naming several) go dark too */
    if ((rc = commands_clear_steps(r, seq_id, step_ref)) != VIEW_DONE)
        return rc;
    int64_t open_steps = 0;
    st = store_prepare(r->db,
        "SELECT count(*) FROM sequence_steps WHERE sequence_id = $1 AND step_order = $2 AND state <> 'done'");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, seq_id);
    store_bind_int(st, 2, group);
    if ((rc = store_exec_int(st, &open_steps)) != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    if (open_steps)
        return VIEW_DONE;
    bool completed = false;
    if ((rc = light_next_group(r, seq_id, &completed)) != VIEW_DONE)
        return rc;
    return completed ? completion_callback(r, seq_id) : VIEW_DONE;
}

/* ------------------------------------------------------------ the resource */

static int load_sequences(request *r, const selection *sel, record_vec *out)
{
    arena *a = r->arena;
    store_stmt *st = store_prepare(r->db, arena_printf(a,
        "SELECT q.id, q.nonce, q.status, st.id, " STEP_COLUMNS " FROM sequences q "
        "LEFT JOIN sequence_steps st ON st.sequence_id = q.id WHERE %s ORDER BY %s, st.position",
        sel->where, sel->order_by ? sel->order_by : "q.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    record_vec steps = {0};
    value *seq = NULL;
    int64_t seq_id = -1;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (store_col_int(st, 0) != seq_id) {
            if (seq)
                record_vec_take(&seq[SEQ_STEPS], &steps);
            seq_id = store_col_int(st, 0);
            seq = record_vec_push(a, out, &sequence_schema);
            value_set_int(&seq[SEQ_ID], seq_id);
            value_from_text(a, st, 1, &seq[SEQ_NONCE]);
            value_from_text(a, st, 2, &seq[SEQ_STATUS]);
        }
        if (!store_col_null(st, 3))
            step_from_row(a, st, 4, record_vec_push(a, &steps, &step_schema));
    }
    store_reset(st);
    if (rc < 0)
        return rc;
    if (seq)
        record_vec_take(&seq[SEQ_STEPS], &steps);
    return out->n;
}

static int create_sequence(request *r, record **rec, int64_t *id)
{
    record *seq = *rec;
    int64_t now = datetime_now();
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO sequences (customer_id, nonce, status, created, modified) "
        "VALUES ($1, $2, 'unstarted', $3, $3) RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, seq->v[SEQ_NONCE].state == VALUE_SET ? seq->v[SEQ_NONCE].s : "");
    store_bind_int(st, 3, now);
    int rc = store_exec_int(st, id);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    if ((rc = insert_steps(r, *id, &seq->v[SEQ_STEPS])) != VIEW_DONE)
        return rc;
    value_set_int(&seq->v[SEQ_ID], *id);
    if (seq->v[SEQ_NONCE].state != VALUE_SET)
        value_set_text(&seq->v[SEQ_NONCE], "", 0);
    value_set_text(&seq->v[SEQ_STATUS], "unstarted", 9);
    return VIEW_DONE;
}

/* PUT: new steps; the old ones' displays go dark, the sequence starts over. */
static int update_sequence(request *r, int64_t id, record *seq, bool partial)
{
    int rc = commands_clear_steps(r, id, 0);
    if (rc != VIEW_DONE)
        return rc;
    store_stmt *st = store_prepare(r->db, "DELETE FROM sequence_steps WHERE sequence_id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    if ((rc = store_exec_int(st, NULL)) < 0 || (rc = insert_steps(r, id, &seq->v[SEQ_STEPS])) != VIEW_DONE)
        return rc < 0 ? rc : STORE_ERROR;
    st = store_prepare(r->db, "UPDATE sequences SET nonce = $2, status = 'unstarted', modified = $3 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    store_bind_str(st, 2, seq->v[SEQ_NONCE].state == VALUE_SET ? seq->v[SEQ_NONCE].s : "");
    store_bind_int(st, 3, datetime_now());
    rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

static int destroy_sequence(request *r, int64_t id)
{
    int rc = commands_clear_steps(r, id, 0);
    if (rc != VIEW_DONE)
        return rc;
    store_stmt *st = store_prepare(r->db, "DELETE FROM sequences WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

static const char *sequence_location(request *r, int64_t id, const record *rec)
{
    return arena_printf(r->arena, "%s/api/sequence/%lld/", r->base_url, (long long)id);
}

const resource sequences_resource = {
    .sc = &sequence_schema,
    .table = "sequences",
    .alias = "q",
    .query = &sequences_query,
    .counted = true,
    .key_sql = "(SELECT id FROM sequences WHERE customer_id = $1 AND id = $2)",
    .key_kind = KEY_INT,
    .load = load_sequences,
    .create = create_sequence,
    .update = update_sequence,
    .destroy = destroy_sequence,
    .location = sequence_location,
};

/* GET /api/launchsequence/{id}/: a sequence in progress lights its lit
 * group's unacknowledged steps again (one stalled by an expiry goes on);
 * any other starts over and lights its first group. */
static int apply_launch(request *r, void *ctx)
{
    int64_t id;
    int rc = view_object(r, &sequences_resource, true, &id);
    if (rc != VIEW_DONE || (rc = commands_clear_steps(r, id, 0)) != VIEW_DONE)
        return rc;
    store_stmt *st = store_prepare(r->db,
        "UPDATE sequence_steps SET state = 'pending' WHERE sequence_id = $1 AND (state = 'lit' OR "
        "(SELECT status FROM sequences WHERE id = $1) <> 'in-progress')");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    if ((rc = store_exec_int(st, NULL)) < 0 || (rc = light_next_group(r, id, NULL)) != VIEW_DONE)
        return rc == COMMAND_FULL ? command_full_answer(r) : rc < 0 ? rc : STORE_ERROR;
    return view_respond_one(r, &sequences_resource, 200, id);
}

int sequence_launch(request *r)
{
    return view_write(r, NULL, apply_launch, NULL);
}
