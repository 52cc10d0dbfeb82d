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
 * List, retrieve, update and destroy are the generic views (views.h); a
 * POST of one entry or a list (at most CATALOG_BULK_MAX) is the upsert
 * below, in one transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/util.h"
#include "store/store.h"

#define CATALOG_BULK_MAX 2000   /* entries of one POST: the upload client's chunk */

/* ------------------------------------------------------------ declarations */

enum { CAT_URL, CAT_ID, CAT_FIRST_TEXT };   /* every catalog schema starts so */

typedef struct catalog {
    const resource *res;            /* the generic views' declaration */
    const char *collection;         /* /api/v1/{collection}/ */
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

static int load_entries(request *r, const selection *sel, record_vec *out);
static int update_entry(request *r, int64_t id, record *rec, bool partial);
static int destroy_entry(request *r, int64_t id);

/* A catalog's part of the generic views: table aliased c, key its id field. */
#define CATALOG_RESOURCE(sc_, table_, id_field, query_)                                        \
    {.sc = &sc_, .table = table_, .alias = "c", .query = &query_, .counted = true,             \
     .key_sql = "(SELECT id FROM " table_ " WHERE customer_id = $1 AND " id_field " = $2)",   \
     .load = load_entries, .loads_in_one_query = true, .update = update_entry, .destroy = destroy_entry}

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
const resource shops_resource = CATALOG_RESOURCE(shop_schema, "shops", "shop_id", shops_query);
static const catalog shops = {
    &shops_resource, "shops",
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
const resource suppliers_resource = CATALOG_RESOURCE(supplier_schema, "suppliers", "supplier_id", suppliers_query);
static const catalog suppliers = {
    &suppliers_resource, "suppliers",
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
const resource products_resource = CATALOG_RESOURCE(product_schema, "products", "product_id", products_query);
static const catalog products = {
    &products_resource, "products",
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

static const catalog *const catalogs[] = {&shops, &suppliers, &products};

/* The catalog of a resource. */
static const catalog *catalog_of(const resource *res)
{
    for (size_t i = 0; i < sizeof catalogs / sizeof catalogs[0]; i++)
        if (catalogs[i]->res == res)
            return catalogs[i];
    abort();   /* only the three above use this file's hooks */
}

/* "shop_id, name, address" */
static const char *column_list(request *r, const catalog *c)
{
    const schema *sc = c->res->sc;
    const char *cols = sc->fields[CAT_ID].name;
    for (int i = CAT_FIRST_TEXT; i < sc->nfields; i++)
        cols = arena_printf(r->arena, "%s, %s", cols, sc->fields[i].name);
    return cols;
}

/* Insert with $1 the customer, $2.. the columns; no row when the id exists. */
static const char *insert_sql(request *r, const catalog *c)
{
    const char *values = "$1, $2";
    for (int i = CAT_FIRST_TEXT; i < c->res->sc->nfields; i++)
        values = arena_printf(r->arena, "%s, $%d", values, i + 1);
    return arena_printf(r->arena,
        "INSERT INTO %s (customer_id, %s) VALUES (%s) ON CONFLICT (customer_id, %s) DO NOTHING "
        "RETURNING id", c->res->table, column_list(r, c), values, c->res->sc->fields[CAT_ID].name);
}

/* Update the row `where` names ($1 is the customer): $2.. the columns,
 * NULL keeps a column. */
static const char *update_sql(request *r, const catalog *c, const char *where)
{
    const char *set = NULL;
    for (int i = CAT_ID; i < c->res->sc->nfields; i++) {
        const char *name = c->res->sc->fields[i].name;
        const char *one = arena_printf(r->arena, "%s = COALESCE($%d, %s)", name, i + 1, name);
        set = set ? arena_printf(r->arena, "%s, %s", set, one) : one;
    }
    return arena_printf(r->arena, "UPDATE %s SET %s WHERE %s RETURNING id", c->res->table, set, where);
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

static int load_entries(request *r, const selection *sel, record_vec *out)
{
    const catalog *c = catalog_of(view_resource(r));
    store_stmt *st = store_prepare(r->db, arena_printf(r->arena, "SELECT c.id, %s FROM %s c WHERE %s ORDER BY %s",
                                                       column_list(r, c), c->res->table, sel->where,
                                                       sel->order_by ? sel->order_by : "c.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        value *v = record_vec_push(r->arena, out, c->res->sc);
        for (int i = CAT_ID; i < c->res->sc->nfields; i++)
            value_from_text(r->arena, st, i, &v[i]);
    }
    store_reset(st);
    return rc < 0 ? rc : out->n;
}

/* ------------------------------------------------------------ writes */

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
    const char *where = arena_printf(r->arena, "customer_id = $1 AND %s = $2", c->res->sc->fields[CAT_ID].name);
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
    if (rc == STORE_DONE)
        return VIEW_RETRY;   /* deleted between the two: run the request again */
    return rc == STORE_ROW ? 0 : rc;
}

typedef struct upsert {
    const catalog *c;
    record *recs;
    int n;
} upsert;

static int validate_entries(request *r, void *ctx)
{
    upsert *u = ctx;
    validation v = {.r = r, .partial = false};
    json_object *in = api_input(r), *errors = NULL;
    u->n = 1;
    u->recs = json_object_is_type(in, json_type_array)
        ? validate_list(&v, u->c->res->sc, in, &u->n, &errors, CATALOG_BULK_MAX)
        : validate_object(&v, u->c->res->sc, in, &errors);
    if (u->recs)
        return VIEW_DONE;
    respond_validation(r, errors);
    return VIEW_ANSWERED;
}

/* A customer's catalog uploads take turns (PostgreSQL): an upload writes
 * its entries in input order (the order lists show them created in), and
 * two uploads of the same entries in opposite orders would otherwise wait
 * for each other in a circle. This plus the customer's id. */
#define CATALOG_LOCK (7210004LL << 32)

static int apply_entries(request *r, void *ctx)
{
    upsert *u = ctx;
    int rc = store_lock_key(r->db, CATALOG_LOCK + r->customer_id);
    if (rc < 0)
        return rc;
    record **latest = latest_by_id(r, u->recs, u->n);
    int64_t created = 0, updated = 0;
    for (int i = 0; i < u->n; i++) {
        if (!latest[i])
            continue;
        rc = upsert_entry(r, u->c, latest[i]);
        if (rc < 0)
            return rc;
        created += rc;
        updated += !rc;
    }
    respond_upserted(r, arena_printf(r->arena, "/api/v1/%s/", u->c->collection), created, updated);
    return VIEW_DONE;
}

static int catalog_upsert(request *r, const catalog *c)
{
    upsert u = {.c = c};
    return view_write(r, validate_entries, apply_entries, &u);
}

/* PUT and PATCH: the given fields replace the stored ones. A new id that
 * another entry has is DRF's unique message under the id field. */
static int update_entry(request *r, int64_t id, record *rec, bool partial)
{
    const catalog *c = catalog_of(view_resource(r));
    int id_param = c->res->sc->nfields + 1;   /* after the columns' parameters */
    store_stmt *st = store_prepare(r->db, update_sql(r, c, arena_printf(r->arena,
        "customer_id = $1 AND id = $%d", id_param)));
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    bind_columns(st, rec, NULL);
    store_bind_int(st, id_param, id);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_UNIQUE) {
        const char *name = c->res->sc->fields[CAT_ID].name;
        char *label = arena_strdup(r->arena, name), *under = NULL;
        while ((under = strchr(label, '_')))
            *under = ' ';
        char *model = arena_strdup(r->arena, c->res->sc->name);   /* Django's verbose name */
        model[0] = (char)(model[0] - 'A' + 'a');
        json_object *errors = json_object_new_object();
        errors_add(errors, name, arena_printf(r->arena, "%s with this %s already exists.", model, label));
        respond_validation(r, errors);
        return VIEW_ANSWERED;
    }
    return rc == STORE_ROW ? VIEW_DONE : rc < 0 ? rc : STORE_ERROR;
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
        *nrefs = rc;
        return NULL;
    }
    return arena_printf(r->arena, "Used by supplier refund %s.", names ? names : "");
}

static int destroy_entry(request *r, int64_t id)
{
    const catalog *c = catalog_of(view_resource(r));
    store_stmt *st = store_prepare(r->db, c->used_by);
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    int nrefs;
    const char *message = used_by_message(r, st, &nrefs);
    if (nrefs < 0)
        return nrefs;
    if (nrefs > 0) {
        respond_error(r, 400, message);
        return VIEW_ANSWERED;
    }
    st = store_prepare(r->db, arena_printf(r->arena, "DELETE FROM %s WHERE customer_id = $1 AND id = $2",
                                           c->res->table));
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, id);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_FOREIGN_KEY) {
        respond_error(r, 400, "Used by a supplier refund.");
        return VIEW_ANSWERED;
    }
    return rc < 0 ? rc : VIEW_DONE;
}

/* The route table's upserts. */
int shops_upsert(request *r) { return catalog_upsert(r, &shops); }
int suppliers_upsert(request *r) { return catalog_upsert(r, &suppliers); }
int products_upsert(request *r) { return catalog_upsert(r, &products); }
