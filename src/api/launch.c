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
 * left alone. Both lock the order first (then the devices), are idempotent,
 * and answer the order with its status.
 */
#include <string.h>

#include "api/api.h"
#include "api/commands.h"
#include "api/devices.h"
#include "api/orders.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/datetime.h"
#include "store/store.h"

static int set_status(request *r, int64_t order_id, const char *status, bool keep_complete)
{
    store_stmt *st = store_prepare(r->db, keep_complete
        ? "UPDATE orders SET status = $2, modified = $3 WHERE id = $1 AND status <> 'complete'"
        : "UPDATE orders SET status = $2, modified = $3 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, order_id);
    store_bind_str(st, 2, status);
    store_bind_int(st, 3, datetime_now());
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

/* The body: {"color"} at most, checked as a command's colour (null: the default). */
static const field launch_fields[] = {
    {"color", FIELD_CHOICE, F_ALLOW_BLANK | F_ALLOW_NULL, .choose = choose_color, .choices = color_choices},
};
static const schema launch_schema = SCHEMA("Launch", launch_fields, NULL);

typedef struct launch {
    const char *color;
} launch;

static int validate_launch(request *r, void *ctx)
{
    record *body = view_validate(r, &launch_schema, false);
    if (!body)
        return VIEW_ANSWERED;
    ((launch *)ctx)->color = body->v[0].state == VALUE_SET ? body->v[0].s : "g";
    return VIEW_DONE;
}

/* An item to light, read before lighting (lighting runs statements of its own). */
typedef struct pick {
    int64_t item, remaining, device;
    const char *sku, *line3, *location, *order_number;
} pick;

static int apply_launch(request *r, void *ctx)
{
    int64_t id;
    int rc = view_object(r, &orders_resource, true, &id);
    if (rc != VIEW_DONE)
        return rc;
    store_stmt *st = store_prepare(r->db,
        "SELECT i.id, i.sku, i.name, i.description, i.ordered_quantity - i.quantity_fulfilled, "
        "i.device_ref, i.warehouse_location, o.order_number "
        "FROM items i JOIN shipments s ON s.id = i.shipment_id JOIN orders o ON o.id = s.order_id "
        "WHERE o.id = $1 AND i.quantity_fulfilled < i.ordered_quantity ORDER BY i.id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    size_t n = 0, cap = 0;
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
    if (rc < 0)
        return rc;
    const char *color = ((launch *)ctx)->color;
    for (size_t i = 0; i < n; i++) {
        pick *p = &picks[i];
        device_command c = {
            .command = "pick",
            .line = {p->order_number, p->sku, p->line3, "", ""},
            .color = color, .arrow = "", .sound = "", .barcode = "", .qrcode = "", .icon = "",
            .has_quantity = true, .quantity = p->remaining,
            .nonce = arena_printf(r->arena, "item:%lld", (long long)p->item),
        };
        device_target one = {p->device, NULL}, *targets = &one;
        int ntargets = p->device ? 1 : devices_at_location(r, p->location, &targets);
        if (ntargets < 0)
            return ntargets;
        for (int k = 0; k < ntargets; k++)
            if ((rc = command_show(r, targets[k].row, &c, targets[k].arrow, 0)) != VIEW_DONE)
                return rc == COMMAND_FULL ? command_full_answer(r) : rc;
    }
    if ((rc = set_status(r, id, n ? "launched" : "complete", false)) != VIEW_DONE)
        return rc;
    return view_respond_one(r, &orders_resource, 200, id);
}

int order_launch(request *r)
{
    launch l = {0};
    return view_write(r, validate_launch, apply_launch, &l);
}

static int apply_abort(request *r, void *ctx)
{
    int64_t id;
    int rc = view_object(r, &orders_resource, true, &id);
    if (rc != VIEW_DONE)
        return rc;
    store_stmt *st = store_prepare(r->db,
        "SELECT i.id FROM items i JOIN shipments s ON s.id = i.shipment_id WHERE s.order_id = $1 ORDER BY i.id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    size_t n = 0, cap = 0;
    int64_t *items = NULL;
    while ((rc = store_step(st)) == STORE_ROW) {
        items = arena_grow(r->arena, items, n, &cap, sizeof *items);
        items[n++] = store_col_int(st, 0);
    }
    store_reset(st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = commands_clear_nonce(r, arena_printf(r->arena, "item:%lld", (long long)items[i]))) != VIEW_DONE)
            return rc;
    /* a complete order stays complete; anything else is aborted */
    if ((rc = set_status(r, id, "aborted", true)) != VIEW_DONE)
        return rc;
    return view_respond_one(r, &orders_resource, 200, id);
}

int order_abort(request *r)
{
    return view_write(r, NULL, apply_abort, NULL);
}
