/*
 * orders.c — the Orders API (contract §3.1, §3.2): orders with their
 * shipments and items, and single items.
 *
 * An order is always read with one query (orders ⟕ shipments ⟕ items ⟕
 * devices, ordered by id) and written in one transaction: the whole tree
 * is inserted, or replaced on PUT and on a PATCH that names shipments or
 * items. {order} in a path is an order number first and, when no order has
 * that number and it is all digits, an id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/resources.h"
#include "api/devices.h"
#include "api/pagination.h"
#include "api/respond.h"
#include "api/rows.h"
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
    [SHIP_ITEMS] = {"items", FIELD_NESTED_LIST, F_ALLOW_EMPTY, .child = &item_schema},
};
static const schema shipment_schema = SCHEMA("Shipment", shipment_fields, NULL);

static const field order_fields[] = {
    [ORDER_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [ORDER_NUMBER] = {"order_number", FIELD_STRING, F_REQUIRED, .max_length = 64},
    [ORDER_SHIPMENTS] = {"shipments", FIELD_NESTED_LIST, F_ALLOW_EMPTY, .child = &shipment_schema},
    [ORDER_ITEMS] = {"items", FIELD_NESTED_LIST, F_ALLOW_EMPTY | F_WRITE_ONLY, .child = &item_schema},
    [ORDER_CREATED] = {"created", FIELD_DATETIME, F_READ_ONLY},
    [ORDER_MODIFIED] = {"modified", FIELD_DATETIME, F_READ_ONLY},
    /* §8: unstarted, launched, aborted, complete (launch.c moves it) */
    [ORDER_STATUS] = {"status", FIELD_STRING, F_READ_ONLY},
};
const schema order_schema = SCHEMA("Order", order_fields, check_order);

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

static void check_order(validation *v, record *rec, json_object *errors)
{
    value *ships = &rec->v[ORDER_SHIPMENTS];
    if (ships->state != VALUE_ABSENT && rec->v[ORDER_ITEMS].state != VALUE_ABSENT) {
        errors_add(errors, "non_field_errors", "Provide either shipments or items, not both.");
        return;
    }
    for (int i = 0; i < ships->nitems; i++)
        for (int j = 0; j < i; j++) {
            const value *a = &ships->items[i].v[SHIP_NUMBER], *b = &ships->items[j].v[SHIP_NUMBER];
            if (a->len == b->len && memcmp(a->s, b->s, a->len) == 0) {
                errors_add(errors, "shipments", "Shipment numbers must be unique within an order.");
                return;
            }
        }
}

/* ------------------------------------------------------------ reading */

#define ORDER_TREE_COLUMNS                                                            \
    "SELECT o.id, o.order_number, o.created, o.modified, s.id, s.shipment_number, "   \
    "i.id, i.name, i.description, i.sku, i.upc, i.ordered_quantity, "                 \
    "i.quantity_fulfilled, i.warehouse_location, d.device_id, o.status "              \
    "FROM orders o LEFT JOIN shipments s ON s.order_id = o.id "                       \
    "LEFT JOIN items i ON i.shipment_id = s.id "                                      \
    "LEFT JOIN devices d ON d.id = i.device_ref "

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

/* Rows of ORDER_TREE_COLUMNS (ordered by order, shipment, item) to order
 * records. Returns the number of orders or -1 on a database error. */
static int read_order_tree(request *r, store_stmt *st, record_vec *orders)
{
    arena *a = r->arena;
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
        return -1;
    if (ship)
        record_vec_take(&ship[SHIP_ITEMS], &items);
    if (order)
        record_vec_take(&order[ORDER_SHIPMENTS], &ships);
    return orders->n;
}

static record *load_order(request *r, int64_t id)
{
    store_stmt *st = store_prepare(r->db, ORDER_TREE_COLUMNS
        "WHERE o.id = $1 AND o.customer_id = $2 ORDER BY s.id, i.id");
    if (!st)
        return NULL;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, r->customer_id);
    record_vec orders = {0};
    if (read_order_tree(r, st, &orders) < 1)
        return NULL;
    return &orders.items[0];
}

/* {order} resolves to the order with that number, else (all digits) the
 * order with that id: this subquery, with $1 the customer, $2 the path
 * segment and $3 its integer value (-1 when it is not all digits). */
#define ORDER_BY_KEY                                                                  \
    "COALESCE((SELECT id FROM orders WHERE customer_id = $1 AND order_number = $2), " \
    "(SELECT id FROM orders WHERE customer_id = $1 AND id = $3))"

static void bind_order_key(request *r, store_stmt *st, const char *key)
{
    size_t n = strlen(key);
    bool digits = n > 0 && n <= 18 && strspn(key, "0123456789") == n;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, key);
    store_bind_int(st, 3, digits ? strtoll(key, NULL, 10) : -1);
}

/* 1 found, 0 not found, -1 database error. */
static int find_order(request *r, const char *key, int64_t *id)
{
    store_stmt *st = store_prepare(r->db, "SELECT " ORDER_BY_KEY);
    if (!st)
        return -1;
    bind_order_key(r, st, key);
    int rc = store_step(st);
    bool found = rc == STORE_ROW && !store_col_null(st, 0);
    if (found)
        *id = store_col_int(st, 0);
    store_reset(st);
    return rc < 0 ? -1 : found;
}

/* ------------------------------------------------------------ writing */

static int insert_items(request *r, int64_t shipment_id, value *items)
{
    for (int i = 0; i < items->nitems; i++) {
        value *v = items->items[i].v;
        store_stmt *st = store_prepare(r->db,
            "INSERT INTO items (shipment_id, customer_id, name, description, sku, upc, "
            "ordered_quantity, quantity_fulfilled, warehouse_location, device_ref) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, shipment_id);
        store_bind_int(st, 2, r->customer_id);
        store_bind_str(st, 3, v[ITEM_NAME].state == VALUE_SET ? v[ITEM_NAME].s : "");
        store_bind_str(st, 4, v[ITEM_DESCRIPTION].state == VALUE_SET ? v[ITEM_DESCRIPTION].s : "");
        store_bind_str(st, 5, v[ITEM_SKU].s);
        store_bind_str(st, 6, v[ITEM_UPC].state == VALUE_SET ? v[ITEM_UPC].s : "");
        store_bind_int(st, 7, v[ITEM_ORDERED].i);
        store_bind_int(st, 8, v[ITEM_FULFILLED].state == VALUE_SET ? v[ITEM_FULFILLED].i : 0);
        store_bind_str(st, 9, v[ITEM_LOCATION].state == VALUE_SET ? v[ITEM_LOCATION].s : "");
        if (v[ITEM_DEVICE].state == VALUE_SET)
            store_bind_int(st, 10, v[ITEM_DEVICE].i);
        else
            store_bind_null(st, 10);
        int64_t id;
        int rc = store_exec_int(st, &id);
        if (rc != STORE_ROW)
            return rc < 0 ? rc : STORE_ERROR;
        /* complete the record for rendering */
        value_set_int(&v[ITEM_ID], id);
        for (int k = ITEM_NAME; k <= ITEM_LOCATION; k++)
            if (v[k].state != VALUE_SET) {
                if (k == ITEM_FULFILLED)
                    value_set_int(&v[k], 0);
                else
                    value_set_text(&v[k], "", 0);
            }
        if (v[ITEM_DEVICE].state != VALUE_SET)
            value_set_null(&v[ITEM_DEVICE]);
    }
    return STORE_DONE;
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

static int insert_shipments(request *r, int64_t order_id, record *order)
{
    items_to_shipment(r, order);
    value *ships = &order->v[ORDER_SHIPMENTS];
    if (ships->state != VALUE_SET) {
        ships->state = VALUE_SET;
        ships->nitems = 0;
    }
    for (int i = 0; i < ships->nitems; i++) {
        value *s = ships->items[i].v;
        store_stmt *st = store_prepare(r->db,
            "INSERT INTO shipments (order_id, shipment_number) VALUES ($1, $2) RETURNING id");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, order_id);
        store_bind_str(st, 2, s[SHIP_NUMBER].s);
        int64_t id;
        int rc = store_exec_int(st, &id);
        if (rc != STORE_ROW)
            return rc < 0 ? rc : STORE_ERROR;
        value_set_int(&s[SHIP_ID], id);
        if (s[SHIP_ITEMS].state != VALUE_SET) {
            s[SHIP_ITEMS].state = VALUE_SET;
            s[SHIP_ITEMS].nitems = 0;
        }
        if ((rc = insert_items(r, id, &s[SHIP_ITEMS])) < 0)
            return rc;
    }
    return STORE_DONE;
}

static void unique_order_error(request *r)
{
    json_object *errors = json_object_new_object();
    errors_add(errors, "non_field_errors",
               "The fields order_number, voodoo_customer must make a unique set.");
    respond_validation(r, errors);
}

/* Validate the body inside the write transaction (device references are
 * checked against the same snapshot the insert sees). */
static record *validate_in_tx(request *r, const schema *sc, bool partial)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return NULL;
    }
    validation v = {.r = r, .partial = partial};
    json_object *errors = NULL;
    record *rec = validate_object(&v, sc, api_input(r), &errors);
    if (!rec) {
        store_rollback(r->db);
        respond_validation(r, errors);
    }
    return rec;
}

static bool fail_write(request *r, int rc)
{
    store_rollback(r->db);
    if (rc == STORE_UNIQUE)
        unique_order_error(r);
    else
        respond_store_error(r);
    return false;
}

static bool commit(request *r)
{
    if (store_commit(r->db) < 0) {
        respond_store_error(r);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ handlers */

void orders_list(request *r)
{
    page p;
    if (!page_parse(r, &p))
        return;
    const char *number = request_query(r, "order_number");
    const char *order_by = ordering_sql(r, orders_query.ordering, orders_query.nordering, "o.id", "o.id");
    store_stmt *st = store_prepare(r->db, number
        ? "SELECT count(*) FROM orders WHERE customer_id = $1 AND order_number = $2"
        : "SELECT count(*) FROM orders WHERE customer_id = $1");
    int64_t count = 0;
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    if (number)
        store_bind_str(st, 2, number);
    if (store_exec_int(st, &count) != STORE_ROW)
        goto fail;
    if (!page_check(r, &p, count))
        return;
    const char *sql = arena_printf(r->arena,
        ORDER_TREE_COLUMNS "WHERE o.id IN (SELECT o.id FROM orders o WHERE o.customer_id = $1%s "
        "ORDER BY %s LIMIT $2 OFFSET $3) ORDER BY %s, s.id, i.id",
        number ? " AND o.order_number = $4" : "", order_by, order_by);
    st = store_prepare(r->db, sql);
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, p.size);
    store_bind_int(st, 3, page_offset(&p));
    if (number)
        store_bind_str(st, 4, number);
    record_vec orders = {0};
    if (read_order_tree(r, st, &orders) < 0)
        goto fail;
    respond_page(r, &p, orders.items, orders.n);
    return;
fail:
    respond_store_error(r);
}

void orders_create(request *r)
{
    record *order = validate_in_tx(r, &order_schema, false);
    if (!order)
        return;
    int64_t now = datetime_now(), id;
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO orders (customer_id, order_number, created, modified) VALUES ($1, $2, $3, $3) RETURNING id");
    if (!st) {
        fail_write(r, STORE_ERROR);
        return;
    }
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, order->v[ORDER_NUMBER].s);
    store_bind_int(st, 3, now);
    int rc = store_exec_int(st, &id);
    if (rc != STORE_ROW || (rc = insert_shipments(r, id, order)) < 0) {
        fail_write(r, rc);
        return;
    }
    if (!commit(r))
        return;
    value_set_int(&order->v[ORDER_ID], id);
    value_set_int(&order->v[ORDER_CREATED], now);
    value_set_int(&order->v[ORDER_MODIFIED], now);
    value_set_text(&order->v[ORDER_STATUS], "unstarted", 9);
    request_add_header(r, "Location", arena_printf(r->arena, "%s/api/orders/%lld/", r->base_url, (long long)id));
    respond_record(r, 201, order);
}

/* One query: the key's resolution and the whole tree. */
void order_retrieve(request *r)
{
    store_stmt *st = store_prepare(r->db, ORDER_TREE_COLUMNS
        "WHERE o.id = " ORDER_BY_KEY " ORDER BY s.id, i.id");
    if (!st) {
        respond_store_error(r);
        return;
    }
    bind_order_key(r, st, r->captures[0]);
    record_vec orders = {0};
    int found = read_order_tree(r, st, &orders);
    record *order = found > 0 ? &orders.items[0] : NULL;
    if (found < 0)
        respond_store_error(r);
    else if (!order)
        respond_error(r, 404, "Not found.");
    else
        respond_record(r, 200, order);
}

/* PUT (whole) and PATCH (partial): find, validate, update, replace the tree
 * when it was given, answer the order as stored. */
static void order_update(request *r, bool partial)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t id;
    int found = find_order(r, r->captures[0], &id);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    validation v = {.r = r, .partial = partial};
    json_object *errors = NULL;
    record *order = validate_object(&v, &order_schema, api_input(r), &errors);
    if (!order) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    if (partial)
        check_order(&v, order, errors = json_object_new_object());
    if (errors && json_object_object_length(errors)) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    if (errors)
        json_object_put(errors);
    bool has_number = order->v[ORDER_NUMBER].state == VALUE_SET;
    store_stmt *st = store_prepare(r->db, has_number
        ? "UPDATE orders SET modified = $2, order_number = $3 WHERE id = $1"
        : "UPDATE orders SET modified = $2 WHERE id = $1");
    if (!st) {
        fail_write(r, STORE_ERROR);
        return;
    }
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, datetime_now());
    if (has_number)
        store_bind_str(st, 3, order->v[ORDER_NUMBER].s);
    int rc = store_exec_int(st, NULL);
    bool replace_tree = !partial || order->v[ORDER_SHIPMENTS].state != VALUE_ABSENT ||
                        order->v[ORDER_ITEMS].state != VALUE_ABSENT;
    if (rc >= 0 && replace_tree) {
        if (order->v[ORDER_NUMBER].state != VALUE_SET) {
            /* items alone in a PATCH: the shipment is named after the stored number */
            record *stored = load_order(r, id);
            if (stored)
                order->v[ORDER_NUMBER] = stored->v[ORDER_NUMBER];
        }
        st = store_prepare(r->db, "DELETE FROM shipments WHERE order_id = $1");
        if (!st) {
            fail_write(r, STORE_ERROR);
            return;
        }
        store_bind_int(st, 1, id);
        rc = store_exec_int(st, NULL);
        if (rc >= 0)
            rc = insert_shipments(r, id, order);
    }
    if (rc < 0) {
        fail_write(r, rc);
        return;
    }
    record *stored = load_order(r, id);
    if (!stored) {
        fail_write(r, STORE_ERROR);
        return;
    }
    if (commit(r))
        respond_record(r, 200, stored);
}

void order_put(request *r) { order_update(r, false); }
void order_patch(request *r) { order_update(r, true); }

void order_delete(request *r)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t id;
    int found = find_order(r, r->captures[0], &id);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    store_stmt *st = store_prepare(r->db, "DELETE FROM orders WHERE id = $1");
    if (st)
        store_bind_int(st, 1, id);
    if (!st || store_exec_int(st, NULL) < 0) {
        fail_write(r, STORE_ERROR);
        return;
    }
    if (commit(r))
        respond_no_content(r);
}

/* ------------------------------------------------------------ items */

#define ITEM_COLUMNS                                                                  \
    "SELECT i.id, i.name, i.description, i.sku, i.upc, i.ordered_quantity, "          \
    "i.quantity_fulfilled, i.warehouse_location, d.device_id, i.device_ref, s.order_id " \
    "FROM items i JOIN shipments s ON s.id = i.shipment_id "                          \
    "LEFT JOIN devices d ON d.id = i.device_ref "

static record *load_item(request *r, int64_t id, int64_t *device_ref, int64_t *order_id)
{
    store_stmt *st = store_prepare(r->db, ITEM_COLUMNS "WHERE i.id = $1 AND i.customer_id = $2");
    if (!st)
        return NULL;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, r->customer_id);
    if (store_step(st) != STORE_ROW) {
        store_reset(st);
        return NULL;
    }
    record *item = record_new(r->arena, &item_schema);
    item_from_row(r->arena, st, 0, item->v);
    if (device_ref)
        *device_ref = store_col_null(st, 9) ? 0 : store_col_int(st, 9);
    if (order_id)
        *order_id = store_col_int(st, 10);
    store_reset(st);
    return item;
}

static bool item_id_of(request *r, int64_t *id)
{
    const char *s = r->captures[0];
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n) {
        respond_error(r, 404, "Not found.");
        return false;
    }
    *id = strtoll(s, NULL, 10);
    return true;
}

void item_retrieve(request *r)
{
    int64_t id;
    if (!item_id_of(r, &id))
        return;
    record *item = load_item(r, id, NULL, NULL);
    if (!item) {
        respond_error(r, 404, "Not found.");
        return;
    }
    jw w;
    jw_init(&w, 512);
    render_record(&w, r, item);
    respond_json(r, 200, &w);
}

static void item_update(request *r, bool partial)
{
    int64_t id, device_ref = 0, order_id = 0;
    if (!item_id_of(r, &id))
        return;
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    record *stored = load_item(r, id, &device_ref, &order_id);
    if (!stored) {
        store_rollback(r->db);
        respond_error(r, 404, "Not found.");
        return;
    }
    validation v = {.r = r, .partial = partial};
    json_object *errors = NULL;
    record *in = validate_object(&v, &item_schema, api_input(r), &errors);
    if (!in) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    /* merge the given fields over the stored item */
    for (int k = ITEM_NAME; k <= ITEM_DEVICE; k++)
        if (in->v[k].state != VALUE_ABSENT || !partial)
            stored->v[k] = in->v[k];
    if (in->v[ITEM_DEVICE].state != VALUE_ABSENT || !partial)
        device_ref = in->v[ITEM_DEVICE].state == VALUE_SET ? in->v[ITEM_DEVICE].i : 0;
    for (int k = ITEM_NAME; k <= ITEM_LOCATION; k++)
        if (stored->v[k].state != VALUE_SET) {
            if (k == ITEM_FULFILLED)
                value_set_int(&stored->v[k], 0);
            else
                value_set_text(&stored->v[k], "", 0);
        }
    if (stored->v[ITEM_DEVICE].state != VALUE_SET)
        value_set_null(&stored->v[ITEM_DEVICE]);
    if (stored->v[ITEM_FULFILLED].i > stored->v[ITEM_ORDERED].i) {
        store_rollback(r->db);
        errors = json_object_new_object();
        errors_add(errors, "non_field_errors", "quantity_fulfilled may not exceed ordered_quantity.");
        respond_validation(r, errors);
        return;
    }
    value *s = stored->v;
    store_stmt *st = store_prepare(r->db,
        "UPDATE items SET name = $2, description = $3, sku = $4, upc = $5, ordered_quantity = $6, "
        "quantity_fulfilled = $7, warehouse_location = $8, device_ref = $9 WHERE id = $1");
    if (!st) {
        fail_write(r, STORE_ERROR);
        return;
    }
    store_bind_int(st, 1, id);
    store_bind_str(st, 2, s[ITEM_NAME].s);
    store_bind_str(st, 3, s[ITEM_DESCRIPTION].s);
    store_bind_str(st, 4, s[ITEM_SKU].s);
    store_bind_str(st, 5, s[ITEM_UPC].s);
    store_bind_int(st, 6, s[ITEM_ORDERED].i);
    store_bind_int(st, 7, s[ITEM_FULFILLED].i);
    store_bind_str(st, 8, s[ITEM_LOCATION].s);
    if (device_ref)
        store_bind_int(st, 9, device_ref);
    else
        store_bind_null(st, 9);
    int rc = store_exec_int(st, NULL);
    if (rc >= 0) {
        st = store_prepare(r->db, "UPDATE orders SET modified = $2 WHERE id = $1");
        if (!st)
            rc = STORE_ERROR;
        else {
            store_bind_int(st, 1, order_id);
            store_bind_int(st, 2, datetime_now());
            rc = store_exec_int(st, NULL);
        }
    }
    if (rc < 0) {
        fail_write(r, rc);
        return;
    }
    if (!commit(r))
        return;
    jw w;
    jw_init(&w, 512);
    render_record(&w, r, stored);
    respond_json(r, 200, &w);
}

void item_put(request *r) { item_update(r, false); }
void item_patch(request *r) { item_update(r, true); }

/* ------------------------------------------------------------ for §8 */

int order_find(request *r, const char *key, int64_t *id)
{
    return find_order(r, key, id);
}

int order_respond(request *r, int status, int64_t id)
{
    record *order = load_order(r, id);
    if (!order)
        return -1;
    respond_record(r, status, order);
    return 0;
}
