/*
 * commands.c — device commands (see commands.h): their choices, typed
 * form, storage in device_commands and rendering.
 */
#include "api/commands.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "api/outbox.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/datetime.h"
#include "store/store.h"

/* ------------------------------------------------------------ choices */

static bool choose_from(const char *const *choices, const char *in, size_t n, const char **out)
{
    for (const char *const *c = choices; *c; c++)
        if (strlen(*c) == n && memcmp(*c, in, n) == 0) {
            *out = *c;
            return true;
        }
    return false;
}

const char *const command_choices[] = {"flash", "display", "pick", "message", "kill", "off", NULL};
const char *const step_command_choices[] = {"flash", "display", "pick", "message", NULL};

bool choose_command(arena *a, const char *in, size_t n, const char **out)
{
    return choose_from(command_choices, in, n, out);
}

bool choose_step_command(arena *a, const char *in, size_t n, const char **out)
{
    return choose_from(step_command_choices, in, n, out);
}

const char *const arrow_choices[] = {
    "", "up", "down", "left", "right", "top", "bottom",
    "topleft", "topright", "bottomleft", "bottomright", NULL,
};

bool choose_arrow(arena *a, const char *in, size_t n, const char **out)
{
    return choose_from(arrow_choices, in, n, out);
}

const char *const color_choices[] = {
    "", "r", "g", "b", "c", "m", "y", "w", "red", "green", "blue", "cyan", "magenta",
    "yellow", "white", NULL,
};

/* "", one of rgbcmyw, distinct letters of rgb, or a colour name; any case;
 * kept lower-case. */
bool choose_color(arena *a, const char *in, size_t n, const char **out)
{
    char *low = arena_strndup(a, in, n);
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)low[i]);
    for (const char *const *c = color_choices; *c; c++)
        if (strlen(*c) > 1 && strcmp(low, *c) == 0) {
            *out = low;
            return true;
        }
    if (n <= 1) {
        *out = low;
        return n == 0 || strchr("rgbcmyw", low[0]);
    }
    if (n > 3)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("rgb", low[i]) || memchr(low, low[i], i))
            return false;
    *out = low;
    return true;
}

/* ------------------------------------------------------------ typed */

/* The fields of a command, in the order a display renders them and
 * device_commands stores them (COMMAND_COLUMNS); `expires` follows. */
typedef enum { CF_TEXT, CF_INT, CF_QUANTITY } field_kind;
static const struct {
    const char *name;
    field_kind kind;
    size_t at;   /* offset in device_command */
} fields[] = {
    {"command", CF_TEXT, offsetof(device_command, command)},
    {"line1", CF_TEXT, offsetof(device_command, line[0])},
    {"line2", CF_TEXT, offsetof(device_command, line[1])},
    {"line3", CF_TEXT, offsetof(device_command, line[2])},
    {"line4", CF_TEXT, offsetof(device_command, line[3])},
    {"line5", CF_TEXT, offsetof(device_command, line[4])},
    {"color", CF_TEXT, offsetof(device_command, color)},
    {"arrow", CF_TEXT, offsetof(device_command, arrow)},
    {"sound", CF_TEXT, offsetof(device_command, sound)},
    {"seconds", CF_INT, offsetof(device_command, seconds)},
    {"quantity", CF_QUANTITY, offsetof(device_command, quantity)},
    {"barcode", CF_TEXT, offsetof(device_command, barcode)},
    {"qrcode", CF_TEXT, offsetof(device_command, qrcode)},
    {"icon", CF_TEXT, offsetof(device_command, icon)},
    {"nonce", CF_TEXT, offsetof(device_command, nonce)},
};
#define NFIELDS (int)(sizeof fields / sizeof fields[0])
_Static_assert(NFIELDS + 1 == COMMAND_NCOLUMNS, "COMMAND_COLUMNS: the fields, then expires");

#define TEXT_OF(c, k) (*(const char **)((char *)(c) + fields[k].at))
#define INT_OF(c, k) (*(int64_t *)((char *)(c) + fields[k].at))

void command_from_record(const record *rec, const char *nonce_field, device_command *out)
{
    *out = (device_command){0};
    for (int k = 0; k < NFIELDS; k++) {
        int i = schema_field(rec->sc, fields[k].kind == CF_TEXT && strcmp(fields[k].name, "nonce") == 0
                                          ? nonce_field : fields[k].name);
        const value *v = i >= 0 ? &rec->v[i] : NULL;
        bool set = v && v->state == VALUE_SET;
        if (fields[k].kind == CF_TEXT)
            TEXT_OF(out, k) = set ? v->s : "";
        else
            INT_OF(out, k) = set ? v->i : 0;
        if (fields[k].kind == CF_QUANTITY)
            out->has_quantity = set;
    }
    if (!*out->command || strcmp(out->command, "message") == 0)
        out->command = "flash";   /* "message" is another name for flash (§8.1) */
}

bool command_is_kill(const device_command *c)
{
    return strcmp(c->command, "kill") == 0 || strcmp(c->command, "off") == 0;
}

/* ------------------------------------------------------------ storing */

/* A command is live until its expiry; one past it is the expiry worker's
 * (expiry.c), which removes it and sends its nack, so no statement here
 * touches it. */
static int touch_device(request *r, int64_t device_row, int64_t now)
{
    store_stmt *st = store_prepare(r->db, "UPDATE devices SET updated = $2 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, now);
    int rc = store_exec_int(st, NULL);
    if (rc < 0)
        return rc;
    outbox_device(r, device_row);
    return VIEW_DONE;
}

/* Remove device_row's live commands: all (nonce NULL or ""), or those
 * with this nonce. */
static int remove_live(request *r, int64_t device_row, const char *nonce, int64_t now)
{
    bool guarded = nonce && *nonce;
    store_stmt *st = store_prepare(r->db, guarded
        ? "DELETE FROM device_commands WHERE device_ref = $1 AND (expires IS NULL OR expires > $2) AND nonce = $3"
        : "DELETE FROM device_commands WHERE device_ref = $1 AND (expires IS NULL OR expires > $2)");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, now);
    if (guarded)
        store_bind_str(st, 3, nonce);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

int command_kill(request *r, int64_t device_row, const char *nonce)
{
    int64_t now = datetime_now();
    int rc = remove_live(r, device_row, nonce, now);
    return rc != VIEW_DONE ? rc : touch_device(r, device_row, now);
}

/* The end of a write to one command (`rc` its statement's): VIEW_RETRY when
 * it touched nothing — the command expired and was removed meanwhile — else
 * the device is touched. */
static int one_command_changed(request *r, int64_t device_row, int rc)
{
    if (rc < 0)
        return rc;
    if (store_changes(r->db) == 0)
        return VIEW_RETRY;   /* look again */
    return touch_device(r, device_row, datetime_now());
}

int command_remove(request *r, int64_t device_row, int64_t command_id)
{
    store_stmt *st = store_prepare(r->db, "DELETE FROM device_commands WHERE id = $1 AND device_ref = $2");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, command_id);
    store_bind_int(st, 2, device_row);
    return one_command_changed(r, device_row, store_exec_int(st, NULL));
}

int command_adjust(request *r, int64_t device_row, int64_t command_id, int delta)
{
    /* CASE rather than max()/GREATEST(): the same text on SQLite and PostgreSQL */
    store_stmt *st = store_prepare(r->db,
        "UPDATE device_commands SET quantity = CASE WHEN COALESCE(quantity, 0) + $3 < 0 THEN 0 "
        "ELSE COALESCE(quantity, 0) + $3 END WHERE id = $1 AND device_ref = $2");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, command_id);
    store_bind_int(st, 2, device_row);
    store_bind_int(st, 3, delta);
    return one_command_changed(r, device_row, store_exec_int(st, NULL));
}

int command_show(request *r, int64_t device_row, device_command *c, const char *arrow, int64_t step_ref)
{
    int64_t now = datetime_now();
    c->expires = c->seconds > 0 ? now + c->seconds * 1000000 : 0;
    /* a nonce of a live command replaces that one; no nonce replaces them all */
    int rc = remove_live(r, device_row, *c->nonce ? c->nonce : NULL, now);
    if (rc != VIEW_DONE)
        return rc;
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO device_commands (device_ref, customer_id, command, line1, line2, line3, line4, line5, "
        "color, arrow, sound, seconds, quantity, barcode, qrcode, icon, nonce, expires, step_ref, created) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, r->customer_id);
    for (int k = 0; k < NFIELDS; k++) {
        if (fields[k].kind == CF_TEXT)
            store_bind_str(st, 3 + k, arrow && fields[k].at == offsetof(device_command, arrow) ? arrow
                                                                                             : TEXT_OF(c, k));
        else if (fields[k].kind == CF_INT || c->has_quantity)
            store_bind_int(st, 3 + k, INT_OF(c, k));
        else
            store_bind_null(st, 3 + k);
    }
    if (c->expires)
        store_bind_int(st, 3 + NFIELDS, c->expires);
    else
        store_bind_null(st, 3 + NFIELDS);
    if (step_ref)
        store_bind_int(st, 4 + NFIELDS, step_ref);
    else
        store_bind_null(st, 4 + NFIELDS);
    store_bind_int(st, 5 + NFIELDS, now);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    if (*c->nonce) {   /* only a command with a nonce adds to the stack */
        st = store_prepare(r->db, "SELECT count(*) FROM device_commands WHERE device_ref = $1 "
                                  "AND (expires IS NULL OR expires > $2)");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, device_row);
        store_bind_int(st, 2, now);
        int64_t live = 0;
        if ((rc = store_exec_int(st, &live)) != STORE_ROW)
            return rc < 0 ? rc : STORE_ERROR;
        if (live > COMMANDS_MAX)
            return COMMAND_FULL;
    }
    return touch_device(r, device_row, now);
}

int command_full_answer(request *r)
{
    json_object *errors = json_object_new_object();
    errors_add(errors, "non_field_errors", MSG_COMMANDS_FULL);
    respond_validation(r, errors);
    return VIEW_ANSWERED;
}

/* Remove the live commands `where` names ($1 the customer, $2 its
 * argument, $3 now) and touch the devices that showed them. */
static int clear_where(request *r, const char *where, bool text, const char *s, int64_t i)
{
    int64_t now = datetime_now();
    const char *sql[] = {
        arena_printf(r->arena, "SELECT DISTINCT device_ref FROM device_commands WHERE customer_id = $1 "
                               "AND (expires IS NULL OR expires > $3) AND %s ORDER BY 1", where),
        arena_printf(r->arena, "DELETE FROM device_commands WHERE customer_id = $1 "
                               "AND (expires IS NULL OR expires > $3) AND %s", where),
    };
    size_t n = 0, cap = 0;
    int64_t *devices = NULL;
    for (int k = 0; k < 2; k++) {
        store_stmt *st = store_prepare(r->db, sql[k]);
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, r->customer_id);
        if (text)
            store_bind_str(st, 2, s);
        else
            store_bind_int(st, 2, i);
        store_bind_int(st, 3, now);
        int rc;
        while ((rc = store_step(st)) == STORE_ROW) {
            devices = arena_grow(r->arena, devices, n, &cap, sizeof *devices);
            devices[n++] = store_col_int(st, 0);
        }
        store_reset(st);
        if (rc < 0)
            return rc;
    }
    for (size_t k = 0; k < n; k++) {
        int rc = touch_device(r, devices[k], now);
        if (rc != VIEW_DONE)
            return rc;
    }
    return VIEW_DONE;
}

int commands_clear_nonce(request *r, const char *nonce)
{
    return clear_where(r, "nonce = $2", true, nonce, 0);
}

int commands_clear_steps(request *r, int64_t seq, int64_t step_ref)
{
    if (step_ref)
        return clear_where(r, "step_ref = $2", false, NULL, step_ref);
    return clear_where(r, "step_ref IN (SELECT id FROM sequence_steps WHERE sequence_id = $2)", false, NULL, seq);
}

/* ------------------------------------------------------------ reading */

bool command_from_row(arena *a, store_stmt *st, int first, device_command *out)
{
    if (store_col_null(st, first))
        return false;
    for (int k = 0; k < NFIELDS; k++) {
        int col = first + k;
        if (fields[k].kind == CF_TEXT) {
            size_t n;
            const char *t = store_col_text(st, col, &n);
            TEXT_OF(out, k) = arena_strndup(a, t, n);
        } else {
            INT_OF(out, k) = store_col_int(st, col);
            if (fields[k].kind == CF_QUANTITY)
                out->has_quantity = !store_col_null(st, col);
        }
    }
    out->expires = store_col_null(st, first + NFIELDS) ? 0 : store_col_int(st, first + NFIELDS);
    return true;
}

void command_render(jw *w, const device_command *c)
{
    jw_obj(w);
    for (int k = 0; k < NFIELDS; k++) {
        jw_key(w, fields[k].name);
        if (fields[k].kind == CF_TEXT)
            jw_cstr(w, TEXT_OF(c, k));
        else if (fields[k].kind == CF_INT || c->has_quantity)
            jw_int(w, INT_OF(c, k));
        else
            jw_null(w);
    }
    jw_key(w, "expires");
    if (c->expires) {
        char buf[DATETIME_BUF];
        size_t n = datetime_format(c->expires, buf);
        jw_str(w, buf, n);
    } else {
        jw_null(w);
    }
    jw_obj_end(w);
}
