/*
 * outbox.c — callbacks and events noted by a write, written just before it
 * commits (see outbox.h).
 */
#include "api/outbox.h"

#include <stdio.h>
#include <string.h>

#include "api/callbacks.h"
#include "api/events.h"
#include "api/fields.h"
#include "api/json.h"
#include "api/devices.h"
#include "api/resources.h"
#include "api/views.h"
#include "core/datetime.h"
#include "core/util.h"

/* The advisory lock that orders a customer's callbacks and events: this
 * plus its id (refunds.c uses another range). */
#define OUTBOX_LOCK (7210003LL << 32)

typedef enum { NOTE_DEVICE, NOTE_GONE, NOTE_CALLBACK } note_kind;

typedef struct note {
    note_kind kind;
    int64_t device_row;
    const char *text;          /* gone: the device id; callback: its object */
    callback_family family;
    const char *legacy_nonce, *legacy_verb;
    struct note *next;
} note;

struct outbox {
    note *head, *tail;
    bool wrote_callback, wrote_event;
};

static note *add(request *r, note_kind kind)
{
    if (!r->outbox)
        r->outbox = arena_zalloc(r->arena, sizeof *r->outbox);
    note *n = arena_zalloc(r->arena, sizeof *n);
    n->kind = kind;
    if (r->outbox->tail)
        r->outbox->tail->next = n;
    else
        r->outbox->head = n;
    r->outbox->tail = n;
    return n;
}

void outbox_device(request *r, int64_t device_row)
{
    if (r->outbox)   /* noted already: written once, as it is at the end */
        for (note *n = r->outbox->head; n; n = n->next)
            if (n->kind == NOTE_DEVICE && n->device_row == device_row)
                return;
    add(r, NOTE_DEVICE)->device_row = device_row;
}

void outbox_device_gone(request *r, int64_t device_row, const char *device_id)
{
    note *n = add(r, NOTE_GONE);
    n->device_row = device_row;
    n->text = arena_strdup(r->arena, device_id);
}

void outbox_callback(request *r, callback_family family, const char *object, const char *legacy_nonce,
                     const char *legacy_verb)
{
    note *n = add(r, NOTE_CALLBACK);
    n->family = family;
    n->text = arena_strdup(r->arena, object);
    n->legacy_nonce = legacy_nonce ? arena_strdup(r->arena, legacy_nonce) : NULL;
    n->legacy_verb = legacy_verb;
}

void outbox_reset(request *r)
{
    r->outbox = NULL;   /* its notes are in the arena */
}

char *callback_body(arena *a, int64_t id, int64_t created, const char *payload)
{
    if (payload[0] == '{')   /* queued by a version before V7: sent as it was */
        return arena_strdup(a, payload);
    char when[DATETIME_BUF];
    datetime_format(created, when);
    return arena_printf(a, "{\"id\":%lld,\"created\":\"%s\",%s", (long long)id, when, payload);
}

/* ------------------------------------------------------------ writing */

/* The customer's callback settings, read once a flush. */
typedef struct settings {
    const char *url;   /* NULL: none */
    int families;
    bool legacy;
} settings;

static int read_settings(request *r, settings *s)
{
    *s = (settings){0};
    store_stmt *st = store_prepare(r->db,
        "SELECT callback_url, callback_events, callback_legacy FROM customers WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    int rc = store_step(st);
    if (rc == STORE_ROW && !store_col_null(st, 0) && *store_col_text(st, 0, NULL)) {
        s->url = arena_strdup(r->arena, store_col_text(st, 0, NULL));
        const char *families = store_col_text(st, 1, NULL);
        s->families = (strstr(families, "device") ? CALLBACK_DEVICE : 0) |
                      (strstr(families, "orders") ? CALLBACK_ORDERS : 0);
        s->legacy = store_col_int(st, 2) != 0;
    }
    store_reset(st);
    return rc < 0 ? rc : 0;
}

static int insert_event(request *r, const char *kind, const char *data, int64_t now)
{
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO events (customer_id, kind, data, created) VALUES ($1, $2, $3, $4)");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, kind);
    store_bind_str(st, 3, data);
    store_bind_int(st, 4, now);
    int rc = store_exec_int(st, NULL);
    if (rc >= 0)
        r->outbox->wrote_event = true;
    return rc < 0 ? rc : 0;
}

/* Big Block's URL form: <url>/<nonce, percent-encoded>/<verb>, the two
 * segments added to the url's path: before its query string or fragment
 * (a "?" or "#" cannot come earlier in a url that was checked when set).
 * A nonce of dots only is encoded too, so no client or proxy folds it as
 * "." or "..". */
static const char *legacy_url(request *r, const char *url, const note *n)
{
    size_t len = strlen(n->legacy_nonce);
    const char *nonce = url_encode_segment(r->arena, n->legacy_nonce, len);
    if (strspn(n->legacy_nonce, ".") == len) {
        char *dots = arena_alloc(r->arena, len * 3 + 1);
        for (size_t i = 0; i < len; i++)
            memcpy(dots + i * 3, "%2E", 3);
        dots[len * 3] = '\0';
        nonce = dots;
    }
    size_t path_end = strcspn(url, "?#");
    bool slash = path_end > 0 && url[path_end - 1] == '/';
    return arena_printf(r->arena, "%.*s%s%s/%s%s", (int)path_end, url, slash ? "" : "/", nonce, n->legacy_verb,
                        url + path_end);
}

static int write_callback(request *r, const settings *s, const note *n, int64_t now)
{
    if (!s->url || !(s->families & (int)n->family))
        return 0;
    bool legacy = s->legacy && n->legacy_nonce && *n->legacy_nonce;
    const char *url = legacy ? legacy_url(r, s->url, n) : s->url;
    const char *payload = n->text + 1;   /* the members after "{" */
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO callbacks (customer_id, url, method, payload, attempts, next_attempt, created) "
        "VALUES ($1, $2, $3, $4, 0, $5, $5) RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, url);
    store_bind_str(st, 3, legacy ? "GET" : "POST");
    store_bind_str(st, 4, payload);
    store_bind_int(st, 5, now);
    int64_t id = 0;
    int rc = store_exec_int(st, &id);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    r->outbox->wrote_callback = true;
    return insert_event(r, "callback", callback_body(r->arena, id, now, payload), now);
}

static int write_device(request *r, int64_t row, int64_t now)
{
    int rc;
    record *dev = view_load_one(r, &devices_resource, row, &rc);
    if (!dev)
        return rc < 0 ? rc : 0;   /* gone later in the same write: its gone note says so */
    jw w;
    jw_init(&w, 1024);
    render_record(&w, r, dev);
    jw_append(&w, "", 1);
    rc = insert_event(r, "device", w.buf, now);
    jw_free(&w);
    return rc;
}

int outbox_flush(request *r)
{
    struct outbox *o = r->outbox;
    if (!o || !o->head)
        return 0;
    int rc = store_lock_key(r->db, OUTBOX_LOCK + r->customer_id);
    if (rc < 0)
        return rc;
    settings s = {0};
    bool read = false;
    int64_t now = datetime_now();
    for (note *n = o->head; n && rc >= 0; n = n->next) {
        if (n->kind == NOTE_CALLBACK && !read) {
            if ((rc = read_settings(r, &s)) < 0)
                return rc;
            read = true;
        }
        if (n->kind == NOTE_CALLBACK) {
            rc = write_callback(r, &s, n, now);
        } else if (n->kind == NOTE_DEVICE) {
            rc = write_device(r, n->device_row, now);
        } else {
            jw w;
            jw_init(&w, 128);
            jw_obj(&w);
            jw_key(&w, "device_id");
            jw_cstr(&w, n->text);
            jw_key(&w, "deviceid");
            jw_cstr(&w, n->text);
            jw_obj_end(&w);
            jw_append(&w, "", 1);
            rc = insert_event(r, "device_deleted", w.buf, now);
            jw_free(&w);
        }
    }
    return rc < 0 ? rc : 0;
}

void outbox_committed(request *r)
{
    struct outbox *o = r->outbox;
    if (!o)
        return;
    if (o->wrote_callback)
        callbacks_notify();
    if (o->wrote_event)
        events_notify(r->customer_id);
    r->outbox = NULL;
}
