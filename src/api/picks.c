/*
 * picks.c — acknowledging a pick (contract §8): POST /api/device/{id}/ack/,
 * what a button press or a scanner reports, with an optional
 * {"quantity": n}.
 *
 * One write transaction: the device's row is locked and its display read
 * (one past its expiry counts as none); the display is cleared; when its
 * nonce is "item:<id>" naming an item of the customer, n (default: the
 * quantity shown, 0 when none) is added to the item's quantity_fulfilled,
 * capped at ordered_quantity by the UPDATE itself, so acks racing for the
 * last units never over-count; a launched order whose every item is then
 * fulfilled becomes complete; a sequence step shown is reported done
 * (sequences.h); and the acknowledgement is queued for the customer's
 * callback url (callbacks.h), delivered by the worker after the commit,
 * never on this request. A device showing nothing is answered as it is:
 * nothing changes and nothing is queued (docs/decisions.md).
 */
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "api/api.h"
#include "api/callbacks.h"
#include "api/devices.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/sequences.h"
#include "core/datetime.h"
#include "store/store.h"

#define INT32_LIMIT 2147483647

static const field ack_fields[] = {
    {"quantity", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
};
const schema ack_schema = SCHEMA("Acknowledgement", ack_fields, NULL);

/* What a device showed when it was acknowledged. */
typedef struct shown {
    bool any;             /* a display, not expired */
    const char *nonce;    /* its nonce ("" when none) */
    int64_t quantity;     /* its quantity, 0 when null */
    bool is_step;         /* it shows a sequence step ... */
    int64_t step;         /* ... this one */
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

/* The quantity in a stored display (rendered JSON), 0 when null. */
static int64_t display_quantity(const char *display)
{
    json_object *d = json_tokener_parse(display), *q = NULL;
    int64_t n = 0;
    if (d && json_object_object_get_ex(d, "quantity", &q) && json_object_is_type(q, json_type_int))
        n = json_object_get_int64(q);
    json_object_put(d);
    return n < 0 ? 0 : n;
}

/*
 * Find the customer's device and lock its row for this transaction (the
 * no-op UPDATE: on PostgreSQL a second ack of the same device waits here
 * and then reads what the first left, so one display is never credited
 * twice; SQLite's writers are serialised anyway), reading what it shows.
 * 1 found, 0 not, -1 db error.
 */
static int lock_device(request *r, int64_t now, int64_t *row, shown *s)
{
    store_stmt *st = store_prepare(r->db,
        "UPDATE devices SET updated = updated WHERE customer_id = $1 AND device_id = $2 "
        "RETURNING id, display, display_nonce, display_expires, display_step");
    if (!st)
        return -1;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, r->captures[0]);
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        *row = store_col_int(st, 0);
        bool expired = !store_col_null(st, 3) && store_col_int(st, 3) <= now;
        s->any = !store_col_null(st, 1) && !expired;
        if (s->any) {
            s->quantity = display_quantity(store_col_text(st, 1, NULL));
            s->nonce = arena_strdup(r->arena, store_col_text(st, 2, NULL));
            s->is_step = !store_col_null(st, 4);
            s->step = s->is_step ? store_col_int(st, 4) : 0;
        }
    }
    store_reset(st);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

static int clear_display(request *r, int64_t row, int64_t now)
{
    store_stmt *st = store_prepare(r->db,
        "UPDATE devices SET " DISPLAY_CLEARED ", updated = $2 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, row);
    store_bind_int(st, 2, now);
    return store_exec_int(st, NULL);
}

/*
 * Add qty to the item's quantity_fulfilled, never past ordered_quantity
 * (and never lowering one already past it), then complete its order when
 * the order is launched and every item of it is fulfilled. An item that
 * is not the customer's is left alone. 0 ok, < 0 db error.
 */
static int credit_item(request *r, int64_t item, int64_t qty, int64_t now)
{
    store_stmt *st = store_prepare(r->db,
        "SELECT s.order_id FROM items i JOIN shipments s ON s.id = i.shipment_id "
        "WHERE i.id = $1 AND i.customer_id = $2");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    store_bind_int(st, 2, r->customer_id);
    int64_t order = 0;
    int rc = store_exec_int(st, &order);
    if (rc != STORE_ROW)
        return rc;   /* no such item of this customer: nothing to credit */
    /* Lock the order before the item: an order PUT/DELETE locks the order
     * and then its items, so taking them in that order here too means the
     * two never wait for each other in a circle (PostgreSQL). */
    st = store_prepare(r->db, "UPDATE orders SET modified = modified WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, order);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    /* CASE rather than min()/LEAST(): the same text on SQLite and PostgreSQL */
    st = store_prepare(r->db,
        "UPDATE items SET quantity_fulfilled = CASE "
        "WHEN quantity_fulfilled + $2 <= ordered_quantity THEN quantity_fulfilled + $2 "
        "WHEN quantity_fulfilled > ordered_quantity THEN quantity_fulfilled "
        "ELSE ordered_quantity END "
        "WHERE id = $1 AND $2 > 0 AND quantity_fulfilled < ordered_quantity RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    store_bind_int(st, 2, qty);
    rc = store_exec_int(st, NULL);
    if (rc < 0)
        return rc;
    /* The item changed, so did its order. Updating the order also locks its
     * row before the check below: of two acks finishing an order's last two
     * items at once (PostgreSQL), the later one waits here and its check
     * then sees both. */
    if (rc == STORE_ROW) {
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
    return rc < 0 ? rc : 0;
}

void device_ack(request *r)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t now = datetime_now(), row = 0;
    shown s = {0};
    int found = lock_device(r, now, &row, &s);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    validation v = {.r = r};
    json_object *errors = NULL;
    record *ack = validate_object(&v, &ack_schema, api_input(r), &errors);
    if (!ack) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    bool queued = false;
    if (s.any) {
        int64_t qty = ack->v[0].state == VALUE_SET ? ack->v[0].i : s.quantity;
        int64_t item = nonce_item(s.nonce);
        const char *stepnonce = NULL;
        /* cleared before the step is done: finishing a group may light this device again */
        if (clear_display(r, row, now) < 0 || (item && credit_item(r, item, qty, now) < 0) ||
            (s.is_step && sequence_step_done(r, s.step, &stepnonce) < 0) ||
            callback_enqueue(r, r->captures[0], s.nonce, qty, stepnonce, &queued) < 0) {
            respond_store_error(r);
            return;
        }
    }
    record *dev = load_device(r, row);
    if (!dev || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    if (queued)
        callbacks_notify();
    respond_record(r, 200, dev);
}
