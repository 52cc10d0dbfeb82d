/*
 * commands.c — device commands (see commands.h): their choices, typed
 * form, storage in device_commands and rendering.
 */
#include "api/commands.h"

#include <ctype.h>
#include <string.h>

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

const char *const command_choices[] = {"flash", "display", "pick", "kill", "off", NULL};
const char *const step_command_choices[] = {"flash", "display", "pick", NULL};

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

static const char *text_field(const record *rec, const char *name)
{
    int k = schema_field(rec->sc, name);
    return k >= 0 && rec->v[k].state == VALUE_SET ? rec->v[k].s : "";
}

void command_from_record(const record *rec, const char *nonce_field, device_command *out)
{
    static const char *const lines[] = {"line1", "line2", "line3", "line4", "line5"};
    *out = (device_command){0};
    out->command = text_field(rec, "command");
    if (!*out->command)
        out->command = "flash";
    for (int k = 0; k < 5; k++)
        out->line[k] = text_field(rec, lines[k]);
    out->color = text_field(rec, "color");
    out->arrow = text_field(rec, "arrow");
    out->sound = text_field(rec, "sound");
    out->barcode = text_field(rec, "barcode");
    out->qrcode = text_field(rec, "qrcode");
    out->icon = text_field(rec, "icon");
    out->nonce = text_field(rec, nonce_field);
    int k = schema_field(rec->sc, "seconds");
    out->seconds = k >= 0 && rec->v[k].state == VALUE_SET ? rec->v[k].i : 0;
    k = schema_field(rec->sc, "quantity");
    out->has_quantity = k >= 0 && rec->v[k].state == VALUE_SET;
    out->quantity = out->has_quantity ? rec->v[k].i : 0;
}

bool command_is_kill(const device_command *c)
{
    return strcmp(c->command, "kill") == 0 || strcmp(c->command, "off") == 0;
}

/* ------------------------------------------------------------ storing */

static int touch_device(request *r, int64_t device_row, int64_t now)
{
    store_stmt *st = store_prepare(r->db, "UPDATE devices SET updated = $2 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, now);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

int command_kill(request *r, int64_t device_row, const char *nonce)
{
    bool guarded = nonce && *nonce;
    store_stmt *st = store_prepare(r->db, guarded
        ? "DELETE FROM device_commands WHERE device_ref = $1 AND nonce = $2"
        : "DELETE FROM device_commands WHERE device_ref = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    if (guarded)
        store_bind_str(st, 2, nonce);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : touch_device(r, device_row, datetime_now());
}

int command_remove(request *r, int64_t device_row, int64_t command_id)
{
    store_stmt *st = store_prepare(r->db, "DELETE FROM device_commands WHERE id = $1 AND device_ref = $2");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, command_id);
    store_bind_int(st, 2, device_row);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : touch_device(r, device_row, datetime_now());
}

int command_show(request *r, int64_t device_row, device_command *c, const char *arrow, int64_t step_ref)
{
    int64_t now = datetime_now();
    c->expires = c->seconds > 0 ? now + c->seconds * 1000000 : 0;
    store_stmt *st = store_prepare(r->db, "DELETE FROM device_commands WHERE device_ref = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    int rc = store_exec_int(st, NULL);
    if (rc < 0)
        return rc;
    st = store_prepare(r->db,
        "INSERT INTO device_commands (device_ref, customer_id, command, line1, line2, line3, line4, line5, "
        "color, arrow, sound, seconds, quantity, barcode, qrcode, icon, nonce, expires, step_ref, created) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device_row);
    store_bind_int(st, 2, r->customer_id);
    store_bind_str(st, 3, c->command);
    for (int k = 0; k < 5; k++)
        store_bind_str(st, 4 + k, c->line[k]);
    store_bind_str(st, 9, c->color);
    store_bind_str(st, 10, arrow ? arrow : c->arrow);
    store_bind_str(st, 11, c->sound);
    store_bind_int(st, 12, c->seconds);
    if (c->has_quantity)
        store_bind_int(st, 13, c->quantity);
    else
        store_bind_null(st, 13);
    store_bind_str(st, 14, c->barcode);
    store_bind_str(st, 15, c->qrcode);
    store_bind_str(st, 16, c->icon);
    store_bind_str(st, 17, c->nonce);
    if (c->expires)
        store_bind_int(st, 18, c->expires);
    else
        store_bind_null(st, 18);
    if (step_ref)
        store_bind_int(st, 19, step_ref);
    else
        store_bind_null(st, 19);
    store_bind_int(st, 20, now);
    rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : touch_device(r, device_row, now);
}

/* Clear the commands `where` names ($1 the customer, $2 its argument) and
 * touch the devices that showed them. */
static int clear_where(request *r, const char *where, bool text, const char *s, int64_t i)
{
    int64_t now = datetime_now();
    const char *touch = arena_printf(r->arena,
        "UPDATE devices SET updated = $3 WHERE customer_id = $1 AND id IN "
        "(SELECT device_ref FROM device_commands WHERE customer_id = $1 AND %s)", where);
    const char *drop = arena_printf(r->arena, "DELETE FROM device_commands WHERE customer_id = $1 AND %s", where);
    const char *sql[] = {touch, drop};
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
        int rc = store_exec_int(st, NULL);
        if (rc < 0)
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
    int k = first;
    size_t n;
    const char *t;
#define TEXT(dst) (t = store_col_text(st, k++, &n), (dst) = arena_strndup(a, t, n))
    TEXT(out->command);
    for (int i = 0; i < 5; i++)
        TEXT(out->line[i]);
    TEXT(out->color);
    TEXT(out->arrow);
    TEXT(out->sound);
    out->seconds = store_col_int(st, k++);
    out->has_quantity = !store_col_null(st, k);
    out->quantity = store_col_int(st, k++);
    TEXT(out->barcode);
    TEXT(out->qrcode);
    TEXT(out->icon);
    TEXT(out->nonce);
#undef TEXT
    out->expires = store_col_null(st, k) ? 0 : store_col_int(st, k);
    return true;
}

void command_render(jw *w, const device_command *c)
{
    static const char *const lines[] = {"line1", "line2", "line3", "line4", "line5"};
    jw_obj(w);
    jw_key(w, "command");
    jw_cstr(w, c->command);
    for (int k = 0; k < 5; k++) {
        jw_key(w, lines[k]);
        jw_cstr(w, c->line[k]);
    }
    jw_key(w, "color");
    jw_cstr(w, c->color);
    jw_key(w, "arrow");
    jw_cstr(w, c->arrow);
    jw_key(w, "sound");
    jw_cstr(w, c->sound);
    jw_key(w, "seconds");
    jw_int(w, c->seconds);
    jw_key(w, "quantity");
    if (c->has_quantity)
        jw_int(w, c->quantity);
    else
        jw_null(w);
    jw_key(w, "barcode");
    jw_cstr(w, c->barcode);
    jw_key(w, "qrcode");
    jw_cstr(w, c->qrcode);
    jw_key(w, "icon");
    jw_cstr(w, c->icon);
    jw_key(w, "nonce");
    jw_cstr(w, c->nonce);
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
