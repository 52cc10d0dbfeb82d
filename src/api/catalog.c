/*
 * catalog.c — the retail catalog (contract §4.1): shops, suppliers and
 * products, what supplier refunds (refunds.c) point at.
 *
 * The three are one pattern, so each is a declaration (its fields, its
 * table, its url collection, its ordering, and the SQL that finds the
 * refunds using an entry) and the handlers below serve any of them:
 *   - a catalog schema is `url`, the id field, then optional strings;
 *     every field after `url` is the table column of the same name;
 *   - the id field is unique per customer and is the last segment of the
 *     entry's url (so it may not contain "/");
 *   - POST takes one object or a list and upserts by the id field, as the
 *     DRF reference does with update_or_create: fields a body leaves out
 *     keep their stored values (a new entry gets ""), the later of two
 *     entries with the same id wins and counts once. PUT and PATCH also
 *     leave out what the body does not name (DRF's update());
 *   - a delete of an entry a refund uses is refused, naming the refunds
 *     (the database's foreign keys refuse it too, should a refund appear
 *     between the check and the delete).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/pagination.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/rows.h"
#include "core/util.h"
#include "store/store.h"

/* ------------------------------------------------------------ declarations */

enum { CAT_URL, CAT_ID, CAT_FIRST_TEXT };   /* every catalog schema starts so */

typedef struct catalog {
    const schema *sc;
    const char *table;              /* columns: id, customer_id, then the fields' names */
    const char *collection;         /* /api/v1/{collection}/ */
    const list_query *query;        /* ?ordering= the id field and name */
    const char *used_by;            /* $1 a row id -> document ids of the refunds using it */
} catalog;

static void check_catalog_id(validation *v, record *rec, json_object *errors);

const char *catalog_url(request *r, const char *collection, const char *id, size_t n)
{
    return arena_printf(r->arena, "%s/api/v1/%s/%s/", r->base_url, collection,
                        url_encode_segment(r->arena, id, n));
}

#define ID_URL_FN(fn, collection) \
    static const char *fn(request *r, const record *rec) \
    { return catalog_url(r, collection, rec->v[CAT_ID].s, rec->v[CAT_ID].len); }

#define OPTIONAL_TEXT(fname, max) \
    {fname, FIELD_STRING, F_ALLOW_BLANK | F_NULL_IS_BLANK, .max_length = (max)}

/* Shop {"url", "shop_id": str(1..50), "name": str(0..255), "address": str(0..255)} */
ID_URL_FN(shop_url, "shops")
static const field shop_fields[] = {
    [CAT_URL] = {"url", FIELD_URL, F_READ_ONLY, .url = shop_url},
    [CAT_ID] = {"shop_id", FIELD_STRING, F_REQUIRED, .max_length = 50},
    OPTIONAL_TEXT("name", 255),
    OPTIONAL_TEXT("address", 255),
};
const schema shop_schema = SCHEMA("Shop", shop_fields, check_catalog_id);
static const ordering_field shop_ordering[] = {{"shop_id", "shop_id"}, {"name", "name"}};
const list_query shops_query = LIST_QUERY_UNFILTERED(shop_ordering);
static const catalog shops = {
    &shop_schema, "shops", "shops", &shops_query,
    "SELECT DISTINCT document_id FROM supplier_refunds WHERE shop_ref = $1 "
    "ORDER BY document_id LIMIT 11",
};

/* Supplier {"url", "supplier_id": str(1..50), "name": str(0..255)} */
ID_URL_FN(supplier_url, "suppliers")
static const field supplier_fields[] = {
    [CAT_URL] = {"url", FIELD_URL, F_READ_ONLY, .url = supplier_url},
    [CAT_ID] = {"supplier_id", FIELD_STRING, F_REQUIRED, .max_length = 50},
    OPTIONAL_TEXT("name", 255),
};
const schema supplier_schema = SCHEMA("Supplier", supplier_fields, check_catalog_id);
static const ordering_field supplier_ordering[] = {{"supplier_id", "supplier_id"}, {"name", "name"}};
const list_query suppliers_query = LIST_QUERY_UNFILTERED(supplier_ordering);
static const catalog suppliers = {
    &supplier_schema, "suppliers", "suppliers", &suppliers_query,
    "SELECT DISTINCT document_id FROM supplier_refunds WHERE supplier_ref = $1 "
    "ORDER BY document_id LIMIT 11",
};

/* Product {"url", "product_id": str(1..200), "name": str(0..255), "barcode": str(0..64)} */
ID_URL_FN(product_url, "products")
static const field product_fields[] = {
    [CAT_URL] = {"url", FIELD_URL, F_READ_ONLY, .url = product_url},
    [CAT_ID] = {"product_id", FIELD_STRING, F_REQUIRED, .max_length = 200},
    OPTIONAL_TEXT("name", 255),
    OPTIONAL_TEXT("barcode", 64),
};
const schema product_schema = SCHEMA("Product", product_fields, check_catalog_id);
static const ordering_field product_ordering[] = {{"product_id", "product_id"}, {"name", "name"}};
const list_query products_query = LIST_QUERY_UNFILTERED(product_ordering);
static const catalog products = {
    &product_schema, "products", "products", &products_query,
    "SELECT DISTINCT r.document_id FROM refund_products l "
    "JOIN supplier_refunds r ON r.id = l.refund_id WHERE l.product_ref = $1 "
    "ORDER BY r.document_id LIMIT 11",
};

/* The id is the last segment of the entry's url. */
static void check_catalog_id(validation *v, record *rec, json_object *errors)
{
    const value *id = &rec->v[CAT_ID];
    if (id->state == VALUE_SET && memchr(id->s, '/', id->len))
        errors_add(errors, rec->sc->fields[CAT_ID].name,
                   arena_printf(v->r->arena, "%s ids may not contain \"/\".", rec->sc->name));
}

/* ------------------------------------------------------------ SQL */

/* The SQL of a catalog is written once here, in terms of its table and
 * columns (the store caches each text's prepared statement). */

/* "shop_id, name, address" */
static const char *column_list(request *r, const catalog *c)
{
    const char *cols = c->sc->fields[CAT_ID].name;
    for (int i = CAT_FIRST_TEXT; i < c->sc->nfields; i++)
        cols = arena_printf(r->arena, "%s, %s", cols, c->sc->fields[i].name);
    return cols;
}

static const char *select_sql(request *r, const catalog *c, const char *rest)
{
    return arena_printf(r->arena, "SELECT id, %s FROM %s %s", column_list(r, c), c->table, rest);
}

/* Insert with $1 the customer, $2.. the columns; no row when the id exists. */
static const char *insert_sql(request *r, const catalog *c)
{
    const char *values = "$1, $2";
    for (int i = CAT_FIRST_TEXT; i < c->sc->nfields; i++)
        values = arena_printf(r->arena, "%s, $%d", values, i + 1);
    return arena_printf(r->arena,
        "INSERT INTO %s (customer_id, %s) VALUES (%s) ON CONFLICT (customer_id, %s) DO NOTHING "
        "RETURNING id", c->table, column_list(r, c), values, c->sc->fields[CAT_ID].name);
}

/* Update the row `where` names ($1 is the customer): $2.. the columns,
 * NULL keeps a column. */
static const char *update_sql(request *r, const catalog *c, const char *where)
{
    const char *set = NULL;
    for (int i = CAT_ID; i < c->sc->nfields; i++) {
        const char *name = c->sc->fields[i].name;
        const char *one = arena_printf(r->arena, "%s = COALESCE($%d, %s)", name, i + 1, name);
        set = set ? arena_printf(r->arena, "%s, %s", set, one) : one;
    }
    return arena_printf(r->arena, "UPDATE %s SET %s WHERE %s RETURNING id", c->table, set, where);
}

/* Bind the record's columns from parameter 2 on: absent values as `absent`
 * (NULL keeps the stored value in update_sql; "" is a new entry's default). */
static void bind_columns(store_stmt *st, const record *rec, const char *absent)
{
    for (int i = CAT_ID; i < rec->sc->nfields; i++) {
        const value *v = &rec->v[i];
        store_bind_str(st, i + 1, v->state == VALUE_SET ? v->s : absent);
    }
}

/* A row of select_sql (id first) to a record. */
static record *entry_from_row(request *r, const catalog *c, store_stmt *st)
{
    record *rec = record_new(r->arena, c->sc);
    for (int i = CAT_ID; i < c->sc->nfields; i++)
        value_from_text(r->arena, st, i, &rec->v[i]);
    return rec;
}

/* The entry named by the path: 1 found (row id, record), 0 not, -1 error. */
static int find_entry(request *r, const catalog *c, int64_t *row_id, record **rec)
{
    store_stmt *st = store_prepare(r->db, select_sql(r, c, arena_printf(r->arena,
        "WHERE customer_id = $1 AND %s = $2", c->sc->fields[CAT_ID].name)));
    if (!st)
        return -1;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, r->captures[0]);
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        *row_id = store_col_int(st, 0);
        if (rec)
            *rec = entry_from_row(r, c, st);
    }
    store_reset(st);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

/* ------------------------------------------------------------ handlers */

static void catalog_list(request *r, const catalog *c)
{
    page p;
    if (!page_parse(r, &p))
        return;
    int64_t count = 0;
    store_stmt *st = store_prepare(r->db, arena_printf(r->arena,
        "SELECT count(*) FROM %s WHERE customer_id = $1", c->table));
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    if (store_exec_int(st, &count) != STORE_ROW)
        goto fail;
    if (!page_check(r, &p, count))
        return;
    const char *order_by = ordering_sql(r, c->query->ordering, c->query->nordering, "id", "id");
    st = store_prepare(r->db, select_sql(r, c, arena_printf(r->arena,
        "WHERE customer_id = $1 ORDER BY %s LIMIT $2 OFFSET $3", order_by)));
    if (!st)
        goto fail;
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, p.size);
    store_bind_int(st, 3, page_offset(&p));
    jw w;
    jw_init(&w, 1024 + (size_t)p.size * 160);
    page_begin(&w, r, &p);
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        render_record(&w, r, entry_from_row(r, c, st));
    store_reset(st);
    if (rc < 0) {
        jw_free(&w);
        goto fail;
    }
    page_end(&w);
    respond_json(r, 200, &w);
    return;
fail:
    respond_store_error(r);
}

/* Position of each entry's id among the entries, for "the later wins at
 * the place of the first". */
typedef struct entry_key {
    const char *id;
    size_t len;
    int index;
} entry_key;

static int by_id_then_index(const void *a, const void *b)
{
    const entry_key *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->id, y->id, n);
    if (c == 0 && x->len != y->len)
        c = x->len < y->len ? -1 : 1;
    return c ? c : x->index - y->index;
}

/* recs[i] for each distinct id, at its first position, holding its last
 * occurrence; NULL at the other positions. */
static record **latest_by_id(request *r, record *recs, int n)
{
    entry_key *keys = arena_alloc(r->arena, sizeof *keys * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++)
        keys[i] = (entry_key){recs[i].v[CAT_ID].s, recs[i].v[CAT_ID].len, i};
    qsort(keys, (size_t)n, sizeof *keys, by_id_then_index);
    record **slots = arena_zalloc(r->arena, sizeof *slots * (size_t)(n ? n : 1));
    for (int a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && keys[b].len == keys[a].len &&
                        memcmp(keys[b].id, keys[a].id, keys[a].len) == 0; b++)
            ;
        slots[keys[a].index] = &recs[keys[b - 1].index];
    }
    return slots;
}

/* Insert the entry, or update it when its id exists: 1 created, 0 updated,
 * negative on a database error. */
static int upsert_entry(request *r, const catalog *c, const record *rec)
{
    const char *where = arena_printf(r->arena, "customer_id = $1 AND %s = $2",
                                     c->sc->fields[CAT_ID].name);
    /* twice at most: a concurrent delete between the two can undo the first try */
    for (int attempt = 0; attempt < 2; attempt++) {
        store_stmt *st = store_prepare(r->db, insert_sql(r, c));
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, r->customer_id);
        bind_columns(st, rec, "");
        int rc = store_exec_int(st, NULL);
        if (rc != STORE_DONE)
            return rc == STORE_ROW ? 1 : rc;
        st = store_prepare(r->db, update_sql(r, c, where));
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, r->customer_id);
        bind_columns(st, rec, NULL);
        rc = store_exec_int(st, NULL);
        if (rc != STORE_DONE)
            return rc == STORE_ROW ? 0 : rc;
    }
    return STORE_ERROR;
}

static void catalog_upsert(request *r, const catalog *c)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    validation v = {.r = r, .partial = false};
    json_object *in = api_input(r), *errors = NULL;
    int n = 1;
    record *recs = json_object_is_type(in, json_type_array)
        ? validate_list(&v, c->sc, in, &n, &errors, 0)
        : validate_object(&v, c->sc, in, &errors);
    if (!recs) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    record **latest = latest_by_id(r, recs, n);
    int64_t created = 0, updated = 0;
    for (int i = 0; i < n; i++) {
        if (!latest[i])
            continue;
        int rc = upsert_entry(r, c, latest[i]);
        if (rc < 0) {
            respond_store_error(r);
            return;
        }
        created += rc;
        updated += !rc;
    }
    if (store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    request_add_header(r, "Location", arena_printf(r->arena, "%s/api/v1/%s/", r->base_url, c->collection));
    jw w;
    jw_init(&w, 64);
    jw_obj(&w);
    jw_key(&w, "created");
    jw_int(&w, created);
    jw_key(&w, "updated");
    jw_int(&w, updated);
    jw_obj_end(&w);
    respond_json(r, 201, &w);
}

static void catalog_retrieve(request *r, const catalog *c)
{
    int64_t row_id;
    record *rec = NULL;
    int found = find_entry(r, c, &row_id, &rec);
    if (found < 0)
        respond_store_error(r);
    else if (!found)
        respond_error(r, 404, "Not found.");
    else
        respond_record(r, 200, rec);
}

/* PUT and PATCH: the given fields replace the stored ones. A new id that
 * another entry has is DRF's unique message under the id field. */
static void catalog_update(request *r, const catalog *c, bool partial)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t row_id;
    int found = find_entry(r, c, &row_id, NULL);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    validation v = {.r = r, .partial = partial};
    json_object *errors = NULL;
    record *rec = validate_object(&v, c->sc, api_input(r), &errors);
    if (!rec) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    /* the row id follows the columns' parameters */
    int id_param = c->sc->nfields + 1;
    store_stmt *st = store_prepare(r->db, update_sql(r, c, arena_printf(r->arena,
        "customer_id = $1 AND id = $%d", id_param)));
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, r->customer_id);
    bind_columns(st, rec, NULL);
    store_bind_int(st, id_param, row_id);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_UNIQUE) {
        store_rollback(r->db);
        const char *name = c->sc->fields[CAT_ID].name;
        char *label = arena_strdup(r->arena, name), *under = NULL;
        while ((under = strchr(label, '_')))
            *under = ' ';
        errors = json_object_new_object();
        char *model = arena_strdup(r->arena, c->sc->name);   /* Django's verbose name */
        model[0] = (char)(model[0] - 'A' + 'a');
        errors_add(errors, name, arena_printf(r->arena, "%s with this %s already exists.",
                                              model, label));
        respond_validation(r, errors);
        return;
    }
    if (rc != STORE_ROW) {
        respond_store_error(r);
        return;
    }
    /* read back what is stored, under its (maybe new) id */
    st = store_prepare(r->db, select_sql(r, c, "WHERE customer_id = $1 AND id = $2"));
    record *stored = NULL;
    if (st) {
        store_bind_int(st, 1, r->customer_id);
        store_bind_int(st, 2, row_id);
        if (store_step(st) == STORE_ROW)
            stored = entry_from_row(r, c, st);
        store_reset(st);
    }
    if (!stored || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_record(r, 200, stored);
}

/* "Used by supplier refund a, b." (sorted; past ten: "a, ..., j and others."). */
static const char *used_by_message(request *r, store_stmt *st, int *nrefs)
{
    const char *names = NULL;
    int rc;
    *nrefs = 0;
    while ((rc = store_step(st)) == STORE_ROW) {
        size_t n;
        const char *t = store_col_text(st, 0, &n);
        if (++*nrefs > 10) {
            names = arena_printf(r->arena, "%s and others", names);
            continue;
        }
        names = names ? arena_printf(r->arena, "%s, %.*s", names, (int)n, t)
                      : arena_strndup(r->arena, t, n);
    }
    store_reset(st);
    if (rc < 0) {
        *nrefs = -1;
        return NULL;
    }
    return arena_printf(r->arena, "Used by supplier refund %s.", names ? names : "");
}

static void catalog_delete(request *r, const catalog *c)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    int64_t row_id;
    int found = find_entry(r, c, &row_id, NULL);
    if (found <= 0) {
        respond_missing(r, found);
        return;
    }
    store_stmt *st = store_prepare(r->db, c->used_by);
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, row_id);
    int nrefs;
    const char *message = used_by_message(r, st, &nrefs);
    if (nrefs < 0) {
        respond_store_error(r);
        return;
    }
    if (nrefs > 0) {
        store_rollback(r->db);
        respond_error(r, 400, message);
        return;
    }
    st = store_prepare(r->db, arena_printf(r->arena, "DELETE FROM %s WHERE customer_id = $1 AND id = $2",
                                           c->table));
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, row_id);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_FOREIGN_KEY) {
        store_rollback(r->db);
        respond_error(r, 400, "Used by a supplier refund.");
        return;
    }
    if (rc < 0 || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_no_content(r);
}

/* The route table's handlers for each catalog. */
#define CATALOG_HANDLERS(many, one, cat)                                   \
    void many##_list(request *r) { catalog_list(r, &cat); }                \
    void many##_upsert(request *r) { catalog_upsert(r, &cat); }            \
    void one##_retrieve(request *r) { catalog_retrieve(r, &cat); }         \
    void one##_put(request *r) { catalog_update(r, &cat, false); }         \
    void one##_patch(request *r) { catalog_update(r, &cat, true); }        \
    void one##_delete(request *r) { catalog_delete(r, &cat); }

CATALOG_HANDLERS(shops, shop, shops)
CATALOG_HANDLERS(suppliers, supplier, suppliers)
CATALOG_HANDLERS(products, product, products)
