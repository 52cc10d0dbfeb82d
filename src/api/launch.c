/*
 * launch.c — lighting an order's picks (contract §8): POST
 * /api/orders/{order}/launch/ and .../abort/.
 *
 * Launch shows, for every item not yet fulfilled, a `pick` on its device —
 * or, when it has none, on every device its warehouse_location names
 * (devices.c: location, locationoverride, aliases) — with the order number,
 * the SKU, the name (else the description), the remaining quantity, colour
 * from the body (default green) and the nonce "item:<item id>", which is
 * how an acknowledgement (picks.c) finds the item and how abort finds what
 * launch lit: a display a later command replaced has another nonce and is
 * left alone. Both are one write transaction, idempotent, and answer the
 * order with its status.
 */
#include <string.h>

#include "api/api.h"
#include "api/devices.h"
#include "api/orders.h"
#include "api/resources.h"
#include "api/respond.h"
#include "core/datetime.h"
#include "store/store.h"

static int set_status(request *r, int64_t order_id, const char *status)
{
    store_stmt *st = store_prepare(r->db, "UPDATE orders SET status = $2, modified = $3 WHERE id = $1");
    if (!st)
        return -1;
    store_bind_int(st, 1, order_id);
    store_bind_str(st, 2, status);
    store_bind_int(st, 3, datetime_now());
    return store_exec_int(st, NULL) < 0 ? -1 : 0;
}

/* Find the order of the path inside a write transaction: 1 found, else the
 * answer (404/500) is made and the transaction is closed. */
static int open_order(request *r, int64_t *id)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return 0;
    }
    int found = order_find(r, r->captures[0], id);
    if (found <= 0) {
        respond_missing(r, found);
        return 0;
    }
    return 1;
}

static void finish(request *r, int64_t id)
{
    if (store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    /* read after the commit, in a read snapshot of its own */
    if (store_begin_read(r->db) < 0 || order_respond(r, 200, id) < 0)
        respond_store_error(r);
    store_rollback(r->db);
}

/* The colour of the body, checked as a device command checks it. */
static const char *launch_color(request *r, json_object **errors)
{
    json_object *in = api_input(r), *color = NULL;
    if (!json_object_is_type(in, json_type_object) || !json_object_object_get_ex(in, "color", &color))
        return "g";
    json_object *probe = json_object_new_object();
    json_object_object_add(probe, "command", json_object_new_string("pick"));
    json_object_object_add(probe, "color", json_object_get(color));
    device_command *dc = device_command_parse(r, probe, errors);
    json_object_put(probe);
    if (!dc)
        return NULL;
    return json_object_is_type(color, json_type_null) ? "g" : json_object_get_string(color);
}

void order_launch(request *r)
{
    json_object *errors = NULL;
    const char *color = launch_color(r, &errors);
    if (!color) {
        respond_validation(r, errors);
        return;
    }
    int64_t id;
    if (!open_order(r, &id))
        return;
    store_stmt *st = store_prepare(r->db,
        "SELECT i.id, i.sku, i.name, i.description, i.ordered_quantity - i.quantity_fulfilled, "
        "i.device_ref, i.warehouse_location, o.order_number "
        "FROM items i JOIN shipments s ON s.id = i.shipment_id JOIN orders o ON o.id = s.order_id "
        "WHERE o.id = $1 AND i.quantity_fulfilled < i.ordered_quantity ORDER BY i.id");
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    /* collect first: lighting runs statements of its own */
    typedef struct pick {
        int64_t item, remaining, device;
        const char *sku, *line3, *location, *order_number;
    } pick;
    size_t n = 0, cap = 0;
    int rc;
    pick *picks = NULL;
    while ((rc = store_step(st)) == STORE_ROW) {
        picks = arena_grow(r->arena, picks, n, &cap, sizeof *picks);
        pick *p = &picks[n++];
        p->item = store_col_int(st, 0);
        p->sku = arena_strdup(r->arena, store_col_text(st, 1, NULL));
        const char *name = store_col_text(st, 2, NULL);
        p->line3 = arena_strdup(r->arena, *name ? name : store_col_text(st, 3, NULL));
        p->remaining = store_col_int(st, 4);
        p->device = store_col_null(st, 5) ? 0 : store_col_int(st, 5);
        p->location = arena_strdup(r->arena, store_col_text(st, 6, NULL));
        p->order_number = arena_strdup(r->arena, store_col_text(st, 7, NULL));
    }
    store_reset(st);
    if (rc < 0) {
        respond_store_error(r);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        pick *p = &picks[i];
        json_object *cmd = json_object_new_object();
        json_object_object_add(cmd, "command", json_object_new_string("pick"));
        json_object_object_add(cmd, "line1", json_object_new_string(p->order_number));
        json_object_object_add(cmd, "line2", json_object_new_string(p->sku));
        json_object_object_add(cmd, "line3", json_object_new_string(p->line3));
        json_object_object_add(cmd, "quantity", json_object_new_int64(p->remaining));
        json_object_object_add(cmd, "nonce",
                               json_object_new_string(arena_printf(r->arena, "item:%lld", (long long)p->item)));
        json_object_object_add(cmd, "seconds", json_object_new_int(0));
        json_object_object_add(cmd, "color", json_object_new_string(color));
        json_object *cmd_errors = NULL;
        device_command *dc = device_command_parse(r, cmd, &cmd_errors);
        json_object_put(cmd);
        if (!dc) {   /* stored values always make a valid command; a bug if not */
            json_object_put(cmd_errors);
            respond_server_error(r, "launch: a stored item made an invalid command");
            store_rollback(r->db);
            return;
        }
        device_target one = {p->device, NULL}, *targets = &one;
        int ntargets = p->device ? 1 : devices_at_location(r, p->location, &targets);
        if (ntargets < 0) {
            respond_store_error(r);
            return;
        }
        for (int k = 0; k < ntargets; k++)
            if (device_command_show(r, targets[k].row, dc, targets[k].arrow, 0) < 0) {
                respond_store_error(r);
                return;
            }
    }
    if (set_status(r, id, n ? "launched" : "complete") < 0) {
        respond_store_error(r);
        return;
    }
    finish(r, id);
}

void order_abort(request *r)
{
    int64_t id;
    if (!open_order(r, &id))
        return;
    store_stmt *st = store_prepare(r->db,
        "SELECT i.id FROM items i JOIN shipments s ON s.id = i.shipment_id WHERE s.order_id = $1 ORDER BY i.id");
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    size_t n = 0, cap = 0;
    int rc;
    int64_t *items = NULL;
    while ((rc = store_step(st)) == STORE_ROW) {
        items = arena_grow(r->arena, items, n, &cap, sizeof *items);
        items[n++] = store_col_int(st, 0);
    }
    store_reset(st);
    if (rc < 0) {
        respond_store_error(r);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (device_clear_by_nonce(r, arena_printf(r->arena, "item:%lld", (long long)items[i])) < 0) {
            respond_store_error(r);
            return;
        }
    /* a complete order stays complete; anything else is aborted */
    st = store_prepare(r->db,
        "UPDATE orders SET status = 'aborted', modified = $2 WHERE id = $1 AND status <> 'complete'");
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, datetime_now());
    if (store_exec_int(st, NULL) < 0) {
        respond_store_error(r);
        return;
    }
    finish(r, id);
}
