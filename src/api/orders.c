/*
 * orders.c — the Orders API (contract §3.1, §3.2): orders with their
 * shipments and items, and single items, as two resources of the generic
 * views (views.h).
 *
 * An order is always read with one query (orders ⟕ shipments ⟕ items ⟕
 * devices, ordered by id) and written in the request's transaction: the
 * whole tree is inserted, or replaced on PUT and on a PATCH that names
 * shipments or items. {order} in a path is an order number first and,
 * when no order has that number and it is all digits, an id.
 *
 * Limits (docs/decisions.md): an order has at most ORDER_MAX_SHIPMENTS
 * shipments and ORDER_MAX_ITEMS items in all, refused before any of them
 * is validated; shipment numbers are checked for repeats by sorting.
 * Locks: an update locks the order's row; an item's update locks its
 * order, then the item, as acknowledgements do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/devices.h"
#include "api/orders.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/datetime.h"
#include "core/util.h"
#include "store/store.h"

#define INT32_LIMIT 2147483647

/* ------------------------------------------------------------ declarations */

enum { ITEM_ID, ITEM_NAME, ITEM_DESCRIPTION, ITEM_SKU, ITEM_UPC, ITEM_ORDERED,
       ITEM_FULFILLED, ITEM_LOCATION, ITEM_DEVICE };
enum { SHIP_ID, SHIP_NUMBER, SHIP_ITEMS };
enum { ORDER_ID, ORDER_NUMBER, ORDER_SHIPMENTS, ORDER_ITEMS, ORDER_CREATED, ORDER_MODIFIED, ORDER_STATUS };

static void check_item(validation *v, record *rec, json_object *errors);
static void check_order(validation *v, record *rec, json_object *errors);
static void count_items(validation *v, json_object *in, json_object *errors);

static const field item_fields[] = {
    [ITEM_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [ITEM_NAME] = {"name", FIELD_STRING, F_ALLOW_BLANK, .max_length = 255},
    [ITEM_DESCRIPTION] = {"description", FIELD_STRING, F_ALLOW_BLANK, .max_length = 1000},
    [ITEM_SKU] = {"SKU", FIELD_STRING, F_REQUIRED, .max_length = 64},
    [ITEM_UPC] = {"UPC", FIELD_STRING, F_ALLOW_BLANK, .max_length = 64},
    [ITEM_ORDERED] = {"ordered_quantity", FIELD_INTEGER, F_REQUIRED, .min_value = 0, .max_value = INT32_LIMIT},
    [ITEM_FULFILLED] = {"quantity_fulfilled", FIELD_INTEGER, 0, .min_value = 0, .max_value = INT32_LIMIT},
    [ITEM_LOCATION] = {"warehouse_location", FIELD_STRING, F_ALLOW_BLANK, .max_length = 255},
    [ITEM_DEVICE] = {"device", FIELD_RELATED, F_ALLOW_NULL, .lookup = device_lookup,
                     .related_error = "Invalid pk \"%s\" - object does not exist."},
};
const schema item_schema = SCHEMA("Item", item_fields, check_item);

static const field shipment_fields[] = {
    [SHIP_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [SHIP_NUMBER] = {"shipment_number", FIELD_STRING, F_REQUIRED, .max_length = 64},
    [SHIP_ITEMS] = {"items", FIELD_NESTED_LIST, F_ALLOW_EMPTY, .child = &item_schema,
                    .max_items = ORDER_MAX_ITEMS},
};
static const schema shipment_schema = SCHEMA("Shipment", shipment_fields, NULL);

static const field order_fields[] = {
    [ORDER_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [ORDER_NUMBER] = {"order_number", FIELD_STRING, F_REQUIRED, .max_length = 64},
    [ORDER_SHIPMENTS] = {"shipments", FIELD_NESTED_LIST, F_ALLOW_EMPTY, .child = &shipment_schema,
                         .max_items = ORDER_MAX_SHIPMENTS},
    [ORDER_ITEMS] = {"items", FIELD_NESTED_LIST, F_ALLOW_EMPTY | F_WRITE_ONLY, .child = &item_schema,
                     .max_items = ORDER_MAX_ITEMS},
    [ORDER_CREATED] = {"created", FIELD_DATETIME, F_READ_ONLY},
    [ORDER_MODIFIED] = {"modified", FIELD_DATETIME, F_READ_ONLY},
    /* §8: unstarted, launched, aborted, complete (launch.c moves it) */
    [ORDER_STATUS] = {"status", FIELD_STRING, F_READ_ONLY},
};
const schema order_schema = {.name = "Order", .fields = order_fields,
                             .nfields = (int)(sizeof order_fields / sizeof order_fields[0]),
                             .check = check_order, .precheck = count_items};

static const ordering_field order_ordering[] = {
    {"id", "o.id"}, {"order_number", "o.order_number"}, {"created", "o.created"},
};
static const list_filter order_filters[] = {
    {"order_number", NULL, "Only the order with this order_number (exact match)."},
};
const list_query orders_query = LIST_QUERY(order_ordering, order_filters);

/* quantity_fulfilled may not exceed ordered_quantity (checked on whole items;
 * a PATCH of one item checks against the stored values instead). */
static void check_item(validation *v, record *rec, json_object *errors)
{
    if (v->partial)
        return;
    int64_t fulfilled = rec->v[ITEM_FULFILLED].state == VALUE_SET ? rec->v[ITEM_FULFILLED].i : 0;
    if (fulfilled > rec->v[ITEM_ORDERED].i)
        errors_add(errors, "non_field_errors", "quantity_fulfilled may not exceed ordered_quantity.");
}

/* The items of every shipment together, counted before anything is
 * validated: the cap is on the whole order. */
static void count_items(validation *v, json_object *in, json_object *errors)
{
    json_object *ships = NULL, *items = NULL;
    size_t total = 0;
    if (json_object_object_get_ex(in, "items", &items) && json_object_is_type(items, json_type_array))
        total += json_object_array_length(items);
    if (json_object_object_get_ex(in, "shipments", &ships) && json_object_is_type(ships, json_type_array)) {
        size_t n = json_object_array_length(ships);
        for (size_t i = 0; i < n && i <= ORDER_MAX_SHIPMENTS; i++) {
            json_object *ship = json_object_array_get_idx(ships, i);
            if (json_object_is_type(ship, json_type_object) && json_object_object_get_ex(ship, "items", &items) &&
                json_object_is_type(items, json_type_array))
                total += json_object_array_length(items);
        }
    }
    if (total > ORDER_MAX_ITEMS)
        errors_add(errors, "non_field_errors",
                   arena_printf(v->r->arena, "An order may have at most %d items.", ORDER_MAX_ITEMS));
}

static int by_text(const void *a, const void *b)
{
    const value *x = *(const value *const *)a, *y = *(const value *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void check_order(validation *v, record *rec, json_object *errors)
{
    value *ships = &rec->v[ORDER_SHIPMENTS];
    if (ships->state != VALUE_ABSENT && rec->v[ORDER_ITEMS].state != VALUE_ABSENT) {
        errors_add(errors, "non_field_errors", "Provide either shipments or items, not both.");
        return;
    }
    /* repeated shipment numbers, by sorting: n log n */
    const value **numbers = arena_alloc(v->r->arena, sizeof *numbers * (size_t)(ships->nitems ? ships->nitems : 1));
    for (int i = 0; i < ships->nitems; i++)
        numbers[i] = &ships->items[i].v[SHIP_NUMBER];
    qsort(numbers, (size_t)ships->nitems, sizeof *numbers, by_text);
    for (int i = 1; i < ships->nitems; i++)
        if (by_text(&numbers[i - 1], &numbers[i]) == 0) {
            errors_add(errors, "shipments", "Shipment numbers must be unique within an order.");
            return;
        }
}

/* ------------------------------------------------------------ reading */

#define ORDER_TREE_COLUMNS                                                            \
    "SELECT o.id, o.order_number, o.created, o.modified, s.id, s.shipment_number, "   \
    "i.id, i.name, i.description, i.sku, i.upc, i.ordered_quantity, "                 \
    "i.quantity_fulfilled, i.warehouse_location, d.device_id, o.status "

/* PostgreSQL finds a tree's rows through the parent-id indexes. SQLite reads
 * them as id ranges of the tables themselves (schema V9: a tree is written in
 * one piece, so its rows are neighbours and the order row records their
 * first and last ids): that touches two fewer cold pages per order than
 * index-then-row, which is most of what a random order costs in a large
 * file. The parent-id test stays, so a range that also spans other rows is
 * only slower, never wrong; its unary + keeps SQLite from preferring the
 * index for it. */
#define ORDER_TREE_JOINS_PG                                                           \
    "FROM orders o LEFT JOIN shipments s ON s.order_id = o.id "                       \
    "LEFT JOIN items i ON i.shipment_id = s.id "                                      \
    "LEFT JOIN devices d ON d.id = i.device_ref "
#define ORDER_TREE_JOINS_SQLITE                                                       \
    "FROM orders o "                                                                  \
    "LEFT JOIN shipments s ON s.id BETWEEN o.first_shipment_id AND o.last_shipment_id " \
    "AND +s.order_id = o.id "                                                         \
    "LEFT JOIN items i ON i.id BETWEEN o.first_item_id AND o.last_item_id "           \
    "AND +i.shipment_id = s.id "                                                      \
    "LEFT JOIN devices d ON d.id = i.device_ref "

/* Whether trees are read by their id ranges, and so must record them when
 * written: one answer for load_orders and insert_shipments. */
static bool trees_by_ranges(store *db)
{
    return store_kind_of(db) == STORE_SQLITE;
}

static void item_from_row(arena *a, store_stmt *st, int c, value *v)
{
    value_set_int(&v[ITEM_ID], store_col_int(st, c));
    value_from_text(a, st, c + 1, &v[ITEM_NAME]);
    value_from_text(a, st, c + 2, &v[ITEM_DESCRIPTION]);
    value_from_text(a, st, c + 3, &v[ITEM_SKU]);
    value_from_text(a, st, c + 4, &v[ITEM_UPC]);
    value_set_int(&v[ITEM_ORDERED], store_col_int(st, c + 5));
    value_set_int(&v[ITEM_FULFILLED], store_col_int(st, c + 6));
    value_from_text(a, st, c + 7, &v[ITEM_LOCATION]);
    if (store_col_null(st, c + 8))
        value_set_null(&v[ITEM_DEVICE]);
    else
        value_from_text(a, st, c + 8, &v[ITEM_DEVICE]);
}

/* The selected orders, whole, in one query (rows ordered by order, then
 * shipment, then item). */
static int load_orders(request *r, const selection *sel, record_vec *orders)
{
    arena *a = r->arena;
    store_stmt *st = store_prepare(r->db, arena_printf(a, "%s%s WHERE %s ORDER BY %s, s.id, i.id", ORDER_TREE_COLUMNS,
                                                       trees_by_ranges(r->db) ? ORDER_TREE_JOINS_SQLITE
                                                                              : ORDER_TREE_JOINS_PG,
                                                       sel->where,
                                                       sel->order_by ? sel->order_by : "o.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    record_vec ships = {0}, items = {0};
    value *order = NULL, *ship = NULL;
    int64_t order_id = -1, ship_id = -1;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (store_col_int(st, 0) != order_id) {
            if (ship)
                record_vec_take(&ship[SHIP_ITEMS], &items);
            if (order)
                record_vec_take(&order[ORDER_SHIPMENTS], &ships);
            ship = NULL;
            ship_id = -1;
            order_id = store_col_int(st, 0);
            order = record_vec_push(a, orders, &order_schema);
            value_set_int(&order[ORDER_ID], order_id);
            value_from_text(a, st, 1, &order[ORDER_NUMBER]);
            value_set_int(&order[ORDER_CREATED], store_col_int(st, 2));
            value_set_int(&order[ORDER_MODIFIED], store_col_int(st, 3));
            value_from_text(a, st, 15, &order[ORDER_STATUS]);
        }
        if (!store_col_null(st, 4) && store_col_int(st, 4) != ship_id) {
            if (ship)
                record_vec_take(&ship[SHIP_ITEMS], &items);
            ship_id = store_col_int(st, 4);
            ship = record_vec_push(a, &ships, &shipment_schema);
            value_set_int(&ship[SHIP_ID], ship_id);
            value_from_text(a, st, 5, &ship[SHIP_NUMBER]);
        }
        if (!store_col_null(st, 6))
            item_from_row(a, st, 6, record_vec_push(a, &items, &item_schema));
    }
    store_reset(st);
    if (rc < 0)
        return rc;
    if (ship)
        record_vec_take(&ship[SHIP_ITEMS], &items);
    if (order)
        record_vec_take(&order[ORDER_SHIPMENTS], &ships);
    return orders->n;
}

static int filter_orders(request *r, jw *where, sql_params *p)
{
    const char *number = request_query(r, "order_number");
    if (number) {
        const char *sql = arena_printf(r->arena, " AND o.order_number = $%d", sql_text(p, number));
        jw_append(where, sql, strlen(sql));
    }
    return VIEW_DONE;
}

/* ------------------------------------------------------------ writing */

/* The rows of an order's tree, for store_insert_rows. */
typedef struct shipment_rows {
    int64_t order;
    const record *shipments;
} shipment_rows;

static void bind_shipment(store_stmt *st, int row, int p, void *ctx)
{
    const shipment_rows *rows = ctx;
    store_bind_int(st, p, rows->order);
    store_bind_str(st, p + 1, rows->shipments[row].v[SHIP_NUMBER].s);
}

typedef struct item_row {
    value *v;
    int64_t shipment;
} item_row;

typedef struct item_rows {
    int64_t customer;
    item_row *rows;
} item_rows;

static const char *text_or_empty(const value *v)
{
    return v->state == VALUE_SET ? v->s : "";
}

static void bind_item(store_stmt *st, int row, int p, void *ctx)
{
    const item_rows *items = ctx;
    const value *v = items->rows[row].v;
    store_bind_int(st, p, items->rows[row].shipment);
    store_bind_int(st, p + 1, items->customer);
    store_bind_str(st, p + 2, text_or_empty(&v[ITEM_NAME]));
    store_bind_str(st, p + 3, text_or_empty(&v[ITEM_DESCRIPTION]));
    store_bind_str(st, p + 4, v[ITEM_SKU].s);
    store_bind_str(st, p + 5, text_or_empty(&v[ITEM_UPC]));
    store_bind_int(st, p + 6, v[ITEM_ORDERED].i);
    store_bind_int(st, p + 7, v[ITEM_FULFILLED].state == VALUE_SET ? v[ITEM_FULFILLED].i : 0);
    store_bind_str(st, p + 8, text_or_empty(&v[ITEM_LOCATION]));
    if (v[ITEM_DEVICE].state == VALUE_SET)
        store_bind_int(st, p + 9, v[ITEM_DEVICE].i);
    else
        store_bind_null(st, p + 9);
}

/* Items without shipments become one shipment named after the order. */
static void items_to_shipment(request *r, record *order)
{
    value *items = &order->v[ORDER_ITEMS];
    if (items->state != VALUE_SET)
        return;
    record *ship = record_new(r->arena, &shipment_schema);
    ship->v[SHIP_NUMBER] = order->v[ORDER_NUMBER];
    ship->v[SHIP_ITEMS] = *items;
    value *ships = &order->v[ORDER_SHIPMENTS];
    ships->state = VALUE_SET;
    ships->items = ship;
    ships->nitems = 1;
    items->state = VALUE_ABSENT;
}

/* The id ranges an order's shipments and items were written in (0: none),
 * which SQLite's tree reads scan (ORDER_TREE_JOINS_SQLITE). */
typedef struct tree_ranges {
    int64_t first_shipment, last_shipment, first_item, last_item;
} tree_ranges;

static void bind_id_or_null(store_stmt *st, int p, int64_t id)
{
    if (id)
        store_bind_int(st, p, id);
    else
        store_bind_null(st, p);
}

static int record_tree_ranges(request *r, int64_t order_id, const tree_ranges *t)
{
    store_stmt *st = store_prepare(r->db, "UPDATE orders SET first_shipment_id = $2, last_shipment_id = $3, "
                                          "first_item_id = $4, last_item_id = $5 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, order_id);
    bind_id_or_null(st, 2, t->first_shipment);
    bind_id_or_null(st, 3, t->last_shipment);
    bind_id_or_null(st, 4, t->first_item);
    bind_id_or_null(st, 5, t->last_item);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

/* Every shipment and item of the order, in as few statements as they
 * allow (store_insert_rows), and the record completed for rendering. */
static int insert_shipments(request *r, int64_t order_id, record *order)
{
    items_to_shipment(r, order);
    value *ships = &order->v[ORDER_SHIPMENTS];
    if (ships->state != VALUE_SET) {
        ships->state = VALUE_SET;
        ships->nitems = 0;
    }
    int nships = ships->nitems, nitems = 0;
    for (int i = 0; i < nships; i++) {
        value *items = &ships->items[i].v[SHIP_ITEMS];
        if (items->state != VALUE_SET) {
            items->state = VALUE_SET;
            items->nitems = 0;
        }
        nitems += items->nitems;
    }
    int64_t *ids = arena_alloc(r->arena, sizeof *ids * (size_t)(nships + nitems + 1));
    shipment_rows rows = {order_id, ships->items};
    int rc = store_insert_rows(r->db, "shipments", "order_id, shipment_number", 2, nships, bind_shipment, &rows,
                               ids);
    if (rc < 0)
        return rc;
    tree_ranges ranges = {0};
    if (nships)
        ranges = (tree_ranges){ids[0], ids[nships - 1], 0, 0};
    item_rows items = {r->customer_id, arena_alloc(r->arena, sizeof(item_row) * (size_t)(nitems + 1))};
    for (int i = 0, k = 0; i < nships; i++) {
        value *s = ships->items[i].v;
        value_set_int(&s[SHIP_ID], ids[i]);
        for (int j = 0; j < s[SHIP_ITEMS].nitems; j++)
            items.rows[k++] = (item_row){s[SHIP_ITEMS].items[j].v, ids[i]};
    }
    rc = store_insert_rows(r->db, "items",
                           "shipment_id, customer_id, name, description, sku, upc, ordered_quantity, "
                           "quantity_fulfilled, warehouse_location, device_ref",
                           10, nitems, bind_item, &items, ids);
    if (rc == STORE_FOREIGN_KEY)
        return VIEW_RETRY;   /* a device went away since validation: validate again */
    if (rc < 0)
        return rc;
    if (nitems) {
        ranges.first_item = ids[0];
        ranges.last_item = ids[nitems - 1];
    }
    if (trees_by_ranges(r->db) && (rc = record_tree_ranges(r, order_id, &ranges)) < 0)
        return rc;
    for (int k = 0; k < nitems; k++) {   /* complete the records for rendering */
        value *v = items.rows[k].v;
        value_set_int(&v[ITEM_ID], ids[k]);
        for (int f = ITEM_NAME; f <= ITEM_LOCATION; f++)
            if (v[f].state != VALUE_SET) {
                if (f == ITEM_FULFILLED)
                    value_set_int(&v[f], 0);
                else
                    value_set_text(&v[f], "", 0);
            }
        if (v[ITEM_DEVICE].state != VALUE_SET)
            value_set_null(&v[ITEM_DEVICE]);
    }
    return VIEW_DONE;
}

static int create_order(request *r, record **rec, int64_t *id)
{
    record *order = *rec;
    int64_t now = datetime_now();
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO orders (customer_id, order_number, created, modified) VALUES ($1, $2, $3, $3) RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, order->v[ORDER_NUMBER].s);
    store_bind_int(st, 3, now);
    int rc = store_exec_int(st, id);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    if ((rc = insert_shipments(r, *id, order)) != VIEW_DONE)
        return rc;
    value_set_int(&order->v[ORDER_ID], *id);
    value_set_int(&order->v[ORDER_CREATED], now);
    value_set_int(&order->v[ORDER_MODIFIED], now);
    value_set_text(&order->v[ORDER_STATUS], "unstarted", 9);
    return VIEW_DONE;
}

/* PUT (whole) and PATCH (partial) of a locked order: the number, and the
 * tree when it was given. */
static int update_order(request *r, int64_t id, record *order, bool partial)
{
    if (partial) {
        json_object *errors = json_object_new_object();
        check_order(&(validation){.r = r, .partial = true}, order, errors);
        if (json_object_object_length(errors)) {
            respond_validation(r, errors);
            return VIEW_ANSWERED;
        }
        json_object_put(errors);
    }
    bool has_number = order->v[ORDER_NUMBER].state == VALUE_SET;
    store_stmt *st = store_prepare(r->db, has_number
        ? "UPDATE orders SET modified = $2, order_number = $3 WHERE id = $1 RETURNING order_number"
        : "UPDATE orders SET modified = $2 WHERE id = $1 RETURNING order_number");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, datetime_now());
    if (has_number)
        store_bind_str(st, 3, order->v[ORDER_NUMBER].s);
    int rc = store_step(st);
    if (rc == STORE_ROW && !has_number)   /* items alone in a PATCH: their shipment is named after the order */
        value_from_text(r->arena, st, 0, &order->v[ORDER_NUMBER]);
    store_reset(st);
    if (rc != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    bool replace_tree = !partial || order->v[ORDER_SHIPMENTS].state != VALUE_ABSENT ||
                        order->v[ORDER_ITEMS].state != VALUE_ABSENT;
    if (!replace_tree)
        return VIEW_DONE;
    st = store_prepare(r->db, "DELETE FROM shipments WHERE order_id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    return insert_shipments(r, id, order);
}

static const char *order_location(request *r, int64_t id, const record *rec)
{
    return arena_printf(r->arena, "%s/api/orders/%lld/", r->base_url, (long long)id);
}

const resource orders_resource = {
    .sc = &order_schema,
    .table = "orders",
    .alias = "o",
    .query = &orders_query,
    .counted = true,
    /* a number first, else the id: the views check the row's customer */
    .key_sql = "COALESCE((SELECT id FROM orders WHERE customer_id = $1 AND order_number = $2), $3)",
    .key_kind = KEY_TEXT_OR_INT,
    .filter = filter_orders,
    .load = load_orders,
    .loads_in_one_query = true,
    .create = create_order,
    .update = update_order,
    .unique_error = "The fields order_number, voodoo_customer must make a unique set.",
    .location = order_location,
};

/* ------------------------------------------------------------ items */

#define ITEM_COLUMNS                                                                  \
    "SELECT i.id, i.name, i.description, i.sku, i.upc, i.ordered_quantity, "          \
    "i.quantity_fulfilled, i.warehouse_location, d.device_id, i.device_ref "          \
    "FROM items i LEFT JOIN devices d ON d.id = i.device_ref "

static int load_items(request *r, const selection *sel, record_vec *out)
{
    store_stmt *st = store_prepare(r->db, arena_printf(r->arena, ITEM_COLUMNS "WHERE %s ORDER BY %s", sel->where,
                                                       sel->order_by ? sel->order_by : "i.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        value *v = record_vec_push(r->arena, out, &item_schema);
        item_from_row(r->arena, st, 0, v);
        v[ITEM_DEVICE].i = store_col_null(st, 9) ? 0 : store_col_int(st, 9);
    }
    store_reset(st);
    return rc < 0 ? rc : out->n;
}

/* An item's order first, then the item: the order every writer of an
 * order's tree keeps (views.h). */
static int lock_item(request *r, int64_t *id)
{
    const char *key = r->captures[0];
    size_t n = strlen(key);
    if (n == 0 || n > 18 || strspn(key, "0123456789") != n)
        return 0;
    int64_t item = strtoll(key, NULL, 10), order = 0;
    store_stmt *st = store_prepare(r->db,
        "SELECT s.order_id FROM items i JOIN shipments s ON s.id = i.shipment_id "
        "WHERE i.id = $1 AND i.customer_id = $2");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    store_bind_int(st, 2, r->customer_id);
    int rc = store_exec_int(st, &order);
    if (rc != STORE_ROW)
        return rc;
    st = store_prepare(r->db, "SELECT id FROM orders WHERE id = $1 FOR UPDATE");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, order);
    if ((rc = store_exec_int(st, NULL)) != STORE_ROW)
        return rc == STORE_DONE ? 0 : rc;   /* deleted meanwhile */
    st = store_prepare(r->db, "SELECT id FROM items WHERE id = $1 FOR UPDATE");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, item);
    rc = store_exec_int(st, id);
    return rc == STORE_ROW ? 1 : rc;
}

/* The given fields over the item as it is now (locked), then one UPDATE. */
static int update_item(request *r, int64_t id, record *in, bool partial)
{
    int rc;
    record *stored = view_load_one(r, &items_resource, id, &rc);
    if (!stored)
        return rc < 0 ? rc : STORE_ERROR;
    int64_t device_ref = stored->v[ITEM_DEVICE].i;
    for (int k = ITEM_NAME; k <= ITEM_DEVICE; k++)
        if (in->v[k].state != VALUE_ABSENT || !partial)
            stored->v[k] = in->v[k];
    if (in->v[ITEM_DEVICE].state != VALUE_ABSENT || !partial)
        device_ref = in->v[ITEM_DEVICE].state == VALUE_SET ? in->v[ITEM_DEVICE].i : 0;
    value *s = stored->v;
    int64_t fulfilled = s[ITEM_FULFILLED].state == VALUE_SET ? s[ITEM_FULFILLED].i : 0;
    if (fulfilled > s[ITEM_ORDERED].i) {
        json_object *errors = json_object_new_object();
        errors_add(errors, "non_field_errors", "quantity_fulfilled may not exceed ordered_quantity.");
        respond_validation(r, errors);
        return VIEW_ANSWERED;
    }
    store_stmt *st = store_prepare(r->db,
        "UPDATE items SET name = $2, description = $3, sku = $4, upc = $5, ordered_quantity = $6, "
        "quantity_fulfilled = $7, warehouse_location = $8, device_ref = $9 WHERE id = $1 RETURNING shipment_id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    store_bind_str(st, 2, s[ITEM_NAME].state == VALUE_SET ? s[ITEM_NAME].s : "");
    store_bind_str(st, 3, s[ITEM_DESCRIPTION].state == VALUE_SET ? s[ITEM_DESCRIPTION].s : "");
    store_bind_str(st, 4, s[ITEM_SKU].s);
    store_bind_str(st, 5, s[ITEM_UPC].state == VALUE_SET ? s[ITEM_UPC].s : "");
    store_bind_int(st, 6, s[ITEM_ORDERED].i);
    store_bind_int(st, 7, fulfilled);
    store_bind_str(st, 8, s[ITEM_LOCATION].state == VALUE_SET ? s[ITEM_LOCATION].s : "");
    if (device_ref)
        store_bind_int(st, 9, device_ref);
    else
        store_bind_null(st, 9);
    rc = store_exec_int(st, NULL);
    if (rc == STORE_FOREIGN_KEY)
        return VIEW_RETRY;
    if (rc < 0)
        return rc;
    st = store_prepare(r->db,
        "UPDATE orders SET modified = $2 WHERE id = (SELECT order_id FROM shipments WHERE id = "
        "(SELECT shipment_id FROM items WHERE id = $1))");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, datetime_now());
    rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : VIEW_DONE;
}

const resource items_resource = {
    .sc = &item_schema,
    .table = "items",
    .alias = "i",
    .key_sql = "(SELECT id FROM items WHERE customer_id = $1 AND id = $2)",
    .key_kind = KEY_INT,
    .load = load_items,
    .loads_in_one_query = true,
    .update = update_item,
    .lock = lock_item,
};
