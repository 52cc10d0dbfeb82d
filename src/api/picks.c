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
#include "api/callbacks.h"
#include "api/commands.h"
#include "api/devices.h"
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

/*
 * Add qty to the item's quantity_fulfilled, never past ordered_quantity
 * (and never lowering one already past it), then complete its order when
 * the order is launched and every item of it is fulfilled. The order is
 * locked already.
 */
static int credit_item(request *r, int64_t order, int64_t item, int64_t qty, int64_t now)
{
    /* CASE rather than min()/LEAST(): the same text on SQLite and PostgreSQL */
    store_stmt *st = store_prepare(r->db,
        "UPDATE items SET quantity_fulfilled = CASE "
        "WHEN quantity_fulfilled + $2 <= ordered_quantity THEN quantity_fulfilled + $2 "
        "WHEN quantity_fulfilled > ordered_quantity THEN quantity_fulfilled "
        "ELSE ordered_quantity END "
        "WHERE id = $1 AND customer_id = $3 AND $2 > 0 AND quantity_fulfilled < ordered_quantity RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    store_bind_int(st, 2, qty);
    store_bind_int(st, 3, r->customer_id);
    int rc = store_exec_int(st, NULL);
    if (rc < 0)
        return rc;
    if (rc == STORE_ROW) {   /* the item changed, so did its order */
        st = store_prepare(r->db, "UPDATE orders SET modified = $2 WHERE id = $1");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, order);
        store_bind_int(st, 2, now);
        if ((rc = store_exec_int(st, NULL)) < 0)
            return rc;
    }
    st = store_prepare(r->db,
        "UPDATE orders SET status = 'complete', modified = $2 WHERE id = $1 AND status = 'launched' "
        "AND NOT EXISTS (SELECT 1 FROM shipments s JOIN items i ON i.shipment_id = s.id "
        "WHERE s.order_id = orders.id AND i.quantity_fulfilled < i.ordered_quantity)");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, order);
    store_bind_int(st, 2, now);
    rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

typedef struct ack {
    record *body;
    bool queued;
} ack;

static int validate_ack(request *r, void *ctx)
{
    ack *a = ctx;
    int64_t device;
    int rc = view_object(r, &devices_resource, false, &device);
    if (rc != VIEW_DONE)
        return rc;
    a->body = view_validate(r, &ack_schema, false);
    return a->body ? VIEW_DONE : VIEW_ANSWERED;
}

static int apply_ack(request *r, void *ctx)
{
    ack *a = ctx;
    int64_t device = 0, order = 0, now = datetime_now();
    int rc = view_object(r, &devices_resource, false, &device);
    if (rc != VIEW_DONE)
        return rc;
    shown seen, s;
    if ((rc = read_shown(r, device, &seen)) != VIEW_DONE || (rc = lock_owner(r, &seen, &order)) != VIEW_DONE ||
        (rc = view_find(r, &devices_resource, true, &device)) < 0 || (rc = read_shown(r, device, &s)) != VIEW_DONE)
        return rc < 0 ? rc : STORE_ERROR;
    if (s.command != seen.command)
        return VIEW_RETRY;   /* it shows something else now: its owner may be another */
    a->queued = false;
    if (s.command) {
        int64_t qty = a->body->v[0].state == VALUE_SET ? a->body->v[0].i : s.quantity;
        int64_t item = nonce_item(s.nonce);
        const char *stepnonce = NULL;
        /* gone before the step is done: finishing a group may light this device again */
        if ((rc = command_remove(r, device, s.command)) != VIEW_DONE ||
            (item && order && (rc = credit_item(r, order, item, qty, now)) != VIEW_DONE) ||
            (s.step && (rc = sequence_step_done(r, s.step, &stepnonce)) != VIEW_DONE) ||
            (rc = callback_enqueue(r, r->captures[0], s.nonce, qty, stepnonce, &a->queued)) < 0)
            return rc < 0 ? rc : STORE_ERROR;
    }
    return view_respond_one(r, &devices_resource, 200, device);
}

int device_ack(request *r)
{
    ack a = {0};
    int rc = view_write(r, validate_ack, apply_ack, &a);
    if (a.queued && r->status == 200)
        callbacks_notify();
    return rc;
}
