/*
 * picks.c — acknowledging a pick (contract §8): POST /api/device/{id}/ack/,
 * what a button press or a scanner reports, with an optional
 * {"quantity": n}.
 *
 * In the request's transaction: what the device shows is read; the row it
 * belongs to — the order of an "item:<id>" nonce, or the sequence of a step
 * — is locked first, then the device, and what it shows read again (were
 * it another command by then, the request runs again): the lock order of
 * every writer of orders and sequences (views.h). The command is removed;
 * when its nonce names an item of the customer, n (default: the quantity
 * shown, 0 when none) is added to the item's quantity_fulfilled, capped at
 * ordered_quantity by the UPDATE itself, so acks racing for the last units
 * never over-count; a launched order whose every item is then fulfilled
 * becomes complete; a sequence step shown is reported done (sequences.h);
 * and the acknowledgement is queued for the customer's callback url
 * (callbacks.h), delivered by the worker after the commit, never on this
 * request. A device showing nothing is answered as it is: nothing changes
 * and nothing is queued (docs/decisions.md).
 */
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "api/api.h"
#include "api/commands.h"
#include "api/devices.h"
#include "api/outbox.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/sequences.h"
#include "api/views.h"
#include "core/datetime.h"
#include "store/store.h"

static const field ack_fields[] = {
    {"quantity", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
};
const schema ack_schema = SCHEMA("Acknowledgement", ack_fields, NULL);

static const char *const button_choices[] = {"main", "up", "down", NULL};

static bool choose_button(arena *a, const char *in, size_t n, const char **out)
{
    for (const char *const *c = button_choices; *c; c++)
        if (strlen(*c) == n && memcmp(*c, in, n) == 0) {
            *out = *c;
            return true;
        }
    return false;
}

static const field press_fields[] = {
    {"button", FIELD_CHOICE, 0, .choose = choose_button, .choices = button_choices},
};
const schema press_schema = SCHEMA("Press", press_fields, NULL);

/* What a device shows, as an acknowledgement sees it. */
typedef struct shown {
    int64_t command;      /* device_commands.id, 0: nothing shown */
    const char *nonce;
    int64_t quantity;     /* 0 when null */
    int64_t step;         /* the sequence step shown, 0: none */
} shown;

/* The item id in a nonce "item:<id>" (written as launch writes it: no
 * sign, no leading zero), or 0 when it names none. */
static int64_t nonce_item(const char *nonce)
{
    if (strncmp(nonce, "item:", 5) != 0 || nonce[5] < '1' || nonce[5] > '9')
        return 0;
    int64_t id = 0;
    for (const char *p = nonce + 5; *p; p++) {
        if (*p < '0' || *p > '9' || id > (INT64_MAX - 9) / 10)
            return 0;
        id = id * 10 + (*p - '0');
    }
    return id;
}

/* The device's newest live command. */
static int read_shown(request *r, int64_t device, shown *s)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT id, nonce, quantity, step_ref FROM device_commands WHERE device_ref = $1 "
        "AND (expires IS NULL OR expires > $2) ORDER BY id DESC LIMIT 1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device);
    store_bind_int(st, 2, datetime_now());
    *s = (shown){0};
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        s->command = store_col_int(st, 0);
        s->nonce = arena_strdup(r->arena, store_col_text(st, 1, NULL));
        s->quantity = store_col_null(st, 2) ? 0 : store_col_int(st, 2);
        s->step = store_col_null(st, 3) ? 0 : store_col_int(st, 3);
    }
    store_reset(st);
    return rc < 0 ? rc : VIEW_DONE;
}

/* Lock the row that owns what is shown (the item's order, the step's
 * sequence), before the device. *order gets the order (0: none). */
static int lock_owner(request *r, const shown *s, int64_t *order)
{
    *order = 0;
    int64_t item = nonce_item(s->nonce ? s->nonce : "");
    const char *find = item ? "SELECT s.order_id FROM items i JOIN shipments s ON s.id = i.shipment_id "
                              "WHERE i.id = $1 AND i.customer_id = $2"
                     : s->step ? "SELECT q.id FROM sequence_steps st JOIN sequences q ON q.id = st.sequence_id "
                                 "WHERE st.id = $1 AND q.customer_id = $2"
                               : NULL;
    if (!find)
        return VIEW_DONE;
    store_stmt *st = store_prepare(r->db, find);
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item ? item : s->step);
    store_bind_int(st, 2, r->customer_id);
    int64_t owner = 0;
    int rc = store_exec_int(st, &owner);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : VIEW_DONE;   /* an item or step of nobody's: nothing to lock */
    st = store_prepare(r->db, item ? "SELECT id FROM orders WHERE id = $1 FOR UPDATE"
                                   : "SELECT id FROM sequences WHERE id = $1 FOR UPDATE");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, owner);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    if (item && rc == STORE_ROW)
        *order = owner;
    return VIEW_DONE;
}

/* The JSON object of an order event (§8.1) about an item, its shipment
 * or its order. */
typedef struct credited {
    const char *order_number, *shipment_number, *sku;
    int64_t item, shipment, order, qty, fulfilled, ordered;
} credited;

static void order_event(request *r, const char *event, const credited *c)
{
    jw w;
    jw_init(&w, 256);
    jw_obj(&w);
    jw_key(&w, "order_event");
    jw_cstr(&w, event);
    jw_key(&w, "nonce");
    bool item = strncmp(event, "item_", 5) == 0, order = strcmp(event, "order_complete") == 0;
    jw_cstr(&w, arena_printf(r->arena, "%s:%lld", item ? "item" : order ? "order" : "shipment",
                             (long long)(item ? c->item : order ? c->order : c->shipment)));
    jw_key(&w, "order_number");
    jw_cstr(&w, c->order_number);
    if (!order) {
        jw_key(&w, "shipment_number");
        jw_cstr(&w, c->shipment_number);
    }
    if (item) {
        jw_key(&w, "SKU");
        jw_cstr(&w, c->sku);
        jw_key(&w, "qty");
        jw_int(&w, c->qty);
        jw_key(&w, "quantity_fulfilled");
        jw_int(&w, c->fulfilled);
        jw_key(&w, "ordered_quantity");
        jw_int(&w, c->ordered);
    }
    jw_obj_end(&w);
    jw_append(&w, "", 1);
    outbox_callback(r, CALLBACK_ORDERS, w.buf, NULL, NULL);
    jw_free(&w);
}

/*
 * Add qty to the item's quantity_fulfilled, never past ordered_quantity
 * (and never lowering one already past it), then complete its order when
 * the order is launched and every item of it is fulfilled, raising the
 * order events of what happened, in order. The order is locked already.
 */
static int credit_item(request *r, int64_t order, int64_t item, int64_t qty, int64_t now)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT i.quantity_fulfilled, i.ordered_quantity, i.sku, s.id, s.shipment_number, o.order_number "
        "FROM items i JOIN shipments s ON s.id = i.shipment_id JOIN orders o ON o.id = s.order_id "
        "WHERE i.id = $1 AND i.customer_id = $2 AND o.id = $3");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    store_bind_int(st, 2, r->customer_id);
    store_bind_int(st, 3, order);
    credited c = {.item = item, .order = order};
    int64_t before = 0;
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        before = store_col_int(st, 0);
        c.ordered = store_col_int(st, 1);
        c.sku = arena_strdup(r->arena, store_col_text(st, 2, NULL));
        c.shipment = store_col_int(st, 3);
        c.shipment_number = arena_strdup(r->arena, store_col_text(st, 4, NULL));
        c.order_number = arena_strdup(r->arena, store_col_text(st, 5, NULL));
    }
    store_reset(st);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : VIEW_DONE;   /* an item of another order by now: nothing to credit */
    if (qty <= 0 || before >= c.ordered)
        return VIEW_DONE;
    c.fulfilled = before + qty <= c.ordered ? before + qty : c.ordered;
    c.qty = c.fulfilled - before;
    st = store_prepare(r->db, "UPDATE items SET quantity_fulfilled = $2 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    store_bind_int(st, 2, c.fulfilled);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    order_event(r, "item_picked", &c);
    if (c.fulfilled < c.ordered) {
        st = store_prepare(r->db, "UPDATE orders SET modified = $2 WHERE id = $1");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, order);
        store_bind_int(st, 2, now);
        rc = store_exec_int(st, NULL);
        return rc < 0 ? rc : VIEW_DONE;
    }
    order_event(r, "item_complete", &c);
    int64_t open = 0;
    st = store_prepare(r->db, "SELECT count(*) FROM items WHERE shipment_id = $1 "
                              "AND quantity_fulfilled < ordered_quantity");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, c.shipment);
    if ((rc = store_exec_int(st, &open)) != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    if (!open)
        order_event(r, "shipment_complete", &c);
    st = store_prepare(r->db,
        "UPDATE orders SET status = CASE WHEN status = 'launched' AND NOT EXISTS (SELECT 1 FROM shipments s "
        "JOIN items i ON i.shipment_id = s.id WHERE s.order_id = orders.id "
        "AND i.quantity_fulfilled < i.ordered_quantity) THEN 'complete' ELSE status END, modified = $2 "
        "WHERE id = $1 RETURNING status");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, order);
    store_bind_int(st, 2, now);
    bool complete = false;
    if ((rc = store_step(st)) == STORE_ROW)
        complete = strcmp(store_col_text(st, 0, NULL), "complete") == 0;
    store_reset(st);
    if (rc < 0)
        return rc;
    if (complete && !open)
        order_event(r, "order_complete", &c);
    return VIEW_DONE;
}

/* The device callback of an acknowledgement or an expiry (§8, §8.1). */
void device_callback(request *r, const char *deviceid, const char *acknack, const char *nonce, bool has_qty,
                     int64_t qty, const char *stepnonce)
{
    jw w;
    jw_init(&w, 256);
    jw_obj(&w);
    jw_key(&w, "deviceid");
    jw_cstr(&w, deviceid);
    jw_key(&w, "acknack");
    jw_cstr(&w, acknack);
    jw_key(&w, "nonce");
    jw_cstr(&w, nonce);
    jw_key(&w, "qty");
    if (has_qty)
        jw_int(&w, qty);
    else
        jw_null(&w);
    if (stepnonce) {
        jw_key(&w, "stepnonce");
        jw_cstr(&w, stepnonce);
    }
    jw_obj_end(&w);
    jw_append(&w, "", 1);
    bool acked = strcmp(acknack, "ack") == 0 || strcmp(acknack, "nack") == 0;
    outbox_callback(r, CALLBACK_DEVICE, w.buf, acked ? nonce : NULL, acked ? acknack : NULL);
    jw_free(&w);
}

/* What a press or an acknowledgement asks (validated before the write). */
typedef struct ack {
    record *body;
    const char *button;   /* a press: main, up or down; NULL: /ack/ */
} ack;

/* Acknowledge what device `device` shows (s, read again under the locks):
 * remove it, credit its item, report its step, queue its callback. */
static int acknowledge(request *r, int64_t device, int64_t order, const shown *s, int64_t qty)
{
    int64_t item = nonce_item(s->nonce);
    /* gone before the step is done: finishing a group may light this device again */
    int rc = command_remove(r, device, s->command);
    if (rc != VIEW_DONE)
        return rc;
    /* a step's command has its stepnonce as its nonce */
    device_callback(r, r->captures[0], "ack", s->nonce, true, qty, s->step ? s->nonce : NULL);
    if (item && order && (rc = credit_item(r, order, item, qty, datetime_now())) != VIEW_DONE)
        return rc;
    if (s->step && (rc = sequence_step_done(r, s->step)) != VIEW_DONE)
        return rc;
    return VIEW_DONE;
}

/* An idle press: a call, with the device's unsolicitedNonce. */
static int call(request *r, int64_t device, const char *button)
{
    store_stmt *st = store_prepare(r->db, "SELECT unsolicitednonce FROM devices WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, device);
    const char *nonce = "";
    int rc = store_step(st);
    if (rc == STORE_ROW)
        nonce = arena_strdup(r->arena, store_col_text(st, 0, NULL));
    store_reset(st);
    if (rc < 0)
        return rc;
    const char *acknack = strcmp(button, "up") == 0 ? "call_up" : strcmp(button, "down") == 0 ? "call_down" : "call";
    device_callback(r, r->captures[0], acknack, nonce, false, 0, NULL);
    return VIEW_DONE;
}

static int validate_ack(request *r, void *ctx)
{
    ack *a = ctx;
    int64_t device;
    int rc = view_object(r, &devices_resource, false, &device);
    if (rc != VIEW_DONE)
        return rc;
    a->body = view_validate(r, a->button ? &press_schema : &ack_schema, false);
    if (a->body && a->button && a->body->v[0].state == VALUE_SET)
        a->button = a->body->v[0].s;
    return a->body ? VIEW_DONE : VIEW_ANSWERED;
}

static int apply_ack(request *r, void *ctx)
{
    ack *a = ctx;
    int64_t device = 0, order = 0;
    int rc = view_object(r, &devices_resource, false, &device);
    if (rc != VIEW_DONE)
        return rc;
    shown seen, s;
    if ((rc = read_shown(r, device, &seen)) != VIEW_DONE || (rc = lock_owner(r, &seen, &order)) != VIEW_DONE ||
        (rc = view_find(r, &devices_resource, true, &device)) < 0 || (rc = read_shown(r, device, &s)) != VIEW_DONE)
        return rc < 0 ? rc : STORE_ERROR;
    if (s.command != seen.command)
        return VIEW_RETRY;   /* it shows something else now: its owner may be another */
    bool main_button = !a->button || strcmp(a->button, "main") == 0;
    if (!s.command && a->button)
        rc = call(r, device, a->button);
    else if (s.command && main_button)
        rc = acknowledge(r, device, order, &s,
                         !a->button && a->body->v[0].state == VALUE_SET ? a->body->v[0].i : s.quantity);
    else if (s.command)
        rc = command_adjust(r, device, s.command, strcmp(a->button, "up") == 0 ? 1 : -1);
    if (rc == COMMAND_FULL)
        return command_full_answer(r);
    return rc != VIEW_DONE ? rc : view_respond_one(r, &devices_resource, 200, device);
}

int device_ack(request *r)
{
    ack a = {0};
    return view_write(r, validate_ack, apply_ack, &a);
}

int device_press(request *r)
{
    ack a = {.button = "main"};
    return view_write(r, validate_ack, apply_ack, &a);
}
