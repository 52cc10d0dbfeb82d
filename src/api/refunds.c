/*
 * refunds.c — supplier refunds (contract §4.2) and their product lines.
 *
 * A refund is identified by (shop, document_id); its url is
 * /api/v1/supplier-refunds/{document_id}_{shop key}/ with the shop row's
 * integer id as the key (a document id may contain "_": the key follows
 * the last one). Refunds are always read with one query (refunds ⋈ shops
 * ⋈ suppliers ⟕ lines ⟕ products, ordered by refund then line), a page of
 * them too. POST takes one refund or a list (up to REFUNDS_MAX) and
 * upserts each by (shop, document_id): an existing refund is replaced
 * whole, lines included; the later of two equal documents wins at the
 * place of the first and counts once; all in one transaction, in input
 * order (two uploads of the same documents in opposite orders may
 * deadlock on PostgreSQL: the loser runs again, views.h). Shop, supplier
 * and product ids resolve once per request (a per-request cache the
 * lookups share while a body is validated, before the transaction). List,
 * retrieve, update and destroy are the generic views.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/datetime.h"
#include "core/util.h"
#include "store/store.h"

/* Limits (docs/decisions.md): refunds in one POST (the Datawiz upload
 * client's chunk size), lines of one refund, lines of one POST. */
#define REFUNDS_MAX 2000
#define REFUND_MAX_LINES 500
#define REFUNDS_MAX_LINES 10000
/* The advisory lock of a customer's refund writes: this plus its id. */
#define REFUNDS_LOCK (7210002LL << 32)

/* ------------------------------------------------------------ lookups */

/* Catalog ids resolved while one request's body is validated: kind
 * ('s'hop, 'u' supplier, 'p'roduct) and id -> row id or not found. */
typedef struct ref_entry {
    const char *slug;
    size_t len;
    char kind;
    int found;
    int64_t id;
} ref_entry;

typedef struct ref_cache {
    request *r;
    ref_entry *slots;
    size_t cap, used;   /* cap a power of two, at most half used */
} ref_cache;

static _Thread_local ref_cache *lookups;

static void lookups_begin(request *r, ref_cache *c)
{
    c->r = r;
    c->cap = 64;
    c->used = 0;
    c->slots = arena_zalloc(r->arena, sizeof(ref_entry) * c->cap);
    lookups = c;
}

static void lookups_end(void) { lookups = NULL; }

static uint64_t ref_hash(char kind, const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ (unsigned char)kind;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static ref_entry *ref_slot(ref_entry *slots, size_t cap, char kind, const char *s, size_t n)
{
    size_t i = (size_t)ref_hash(kind, s, n) & (cap - 1);
    while (slots[i].slug && !(slots[i].kind == kind && slots[i].len == n && memcmp(slots[i].slug, s, n) == 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void ref_grow(ref_cache *c)
{
    size_t cap = c->cap * 2;
    ref_entry *slots = arena_zalloc(c->r->arena, sizeof(ref_entry) * cap);
    for (size_t i = 0; i < c->cap; i++)
        if (c->slots[i].slug)
            *ref_slot(slots, cap, c->slots[i].kind, c->slots[i].slug, c->slots[i].len) = c->slots[i];
    c->slots = slots;
    c->cap = cap;
}

/* 1 found, 0 not found, -1 database error; `sql` has $1 the customer and $2 the id. */
static int lookup_cached(request *r, char kind, const char *sql, const char *slug, size_t n, int64_t *id)
{
    ref_cache *c = lookups && lookups->r == r ? lookups : NULL;
    ref_entry *e = c ? ref_slot(c->slots, c->cap, kind, slug, n) : NULL;
    if (e && e->slug) {
        *id = e->id;
        return e->found;
    }
    store_stmt *st = store_prepare(r->db, sql);
    if (!st)
        return -1;
    store_bind_int(st, 1, r->customer_id);
    store_bind_text(st, 2, slug, n);
    int rc = store_exec_int(st, id);
    if (rc < 0)
        return -1;
    int found = rc == STORE_ROW;
    if (c) {
        *e = (ref_entry){arena_strndup(r->arena, slug, n), n, kind, found, found ? *id : 0};
        if (++c->used * 2 > c->cap)
            ref_grow(c);
    }
    return found;
}

static int shop_lookup(request *r, const char *s, size_t n, int64_t *id)
{
    return lookup_cached(r, 's', "SELECT id FROM shops WHERE customer_id = $1 AND shop_id = $2", s, n, id);
}

static int supplier_lookup(request *r, const char *s, size_t n, int64_t *id)
{
    return lookup_cached(r, 'u', "SELECT id FROM suppliers WHERE customer_id = $1 AND supplier_id = $2",
                         s, n, id);
}

static int product_lookup(request *r, const char *s, size_t n, int64_t *id)
{
    return lookup_cached(r, 'p', "SELECT id FROM products WHERE customer_id = $1 AND product_id = $2",
                         s, n, id);
}

/* ------------------------------------------------------------ declarations */

enum { RP_URL, RP_PRODUCT_ID, RP_PRODUCT_URL, RP_RECEIVE_ID, RP_RECEIVE_URL, RP_QTY, RP_PRICE,
       RP_TOTAL };
enum { RF_URL, RF_IDENTIFIER, RF_DOCUMENT_ID, RF_SUPPLIER_ID, RF_SUPPLIER_URL, RF_SHOP_ID,
       RF_SHOP_URL, RF_DATE, RF_RESPONSIBLE, RF_DESCRIPTION, RF_PRODUCTS };

/* Urls. A stored refund's url value holds its path segment
 * ("{document_id}_{shop key}", encoded) in .s and its row id in .i; a
 * line's holds the same segment and the line's id. Related ids hold the
 * catalog row's id in .i. */
static const char *refund_url(request *r, const record *rec)
{
    return arena_printf(r->arena, "%s/api/v1/supplier-refunds/%s/", r->base_url, rec->v[RF_URL].s);
}

static const char *line_url(request *r, const record *rec)
{
    const value *u = &rec->v[RP_URL];
    return arena_printf(r->arena, "%s/api/v1/supplier-refunds/%s/products/%lld/", r->base_url, u->s,
                        (long long)u->i);
}

static const char *shop_url(request *r, const record *rec)
{
    return catalog_url(r, "shops", rec->v[RF_SHOP_ID].s, rec->v[RF_SHOP_ID].len);
}

static const char *supplier_url(request *r, const record *rec)
{
    return catalog_url(r, "suppliers", rec->v[RF_SUPPLIER_ID].s, rec->v[RF_SUPPLIER_ID].len);
}

static const char *product_url(request *r, const record *rec)
{
    return catalog_url(r, "products", rec->v[RP_PRODUCT_ID].s, rec->v[RP_PRODUCT_ID].len);
}

static const char *receive_document_url(request *r, const record *rec)
{
    const value *id = &rec->v[RP_RECEIVE_ID];
    return arena_printf(r->arena, "%s/api/v1/receive-documents/%s/", r->base_url,
                        url_encode_segment(r->arena, id->s, id->len));
}

#define DECIMAL(fname) {fname, FIELD_DECIMAL, F_REQUIRED}

static const field refund_product_fields[] = {
    [RP_URL] = {"url", FIELD_URL, F_READ_ONLY, .url = line_url},
    [RP_PRODUCT_ID] = {"product_id", FIELD_RELATED, F_REQUIRED, .max_length = 200, .lookup = product_lookup,
                       .related_error = "Object with product_id=%s does not exist."},
    [RP_PRODUCT_URL] = {"product_url", FIELD_URL, F_READ_ONLY, .url = product_url},
    [RP_RECEIVE_ID] = {"receive_document_id", FIELD_STRING, F_REQUIRED, .max_length = 300},
    [RP_RECEIVE_URL] = {"receive_document_url", FIELD_URL, F_READ_ONLY, .url = receive_document_url},
    [RP_QTY] = DECIMAL("qty"),
    [RP_PRICE] = DECIMAL("price"),
    [RP_TOTAL] = DECIMAL("total_price"),
};
const schema refund_product_schema = SCHEMA("Refund Product", refund_product_fields, NULL);

static void check_refund(validation *v, record *rec, json_object *errors);

static const field refund_fields[] = {
    [RF_URL] = {"url", FIELD_URL, F_READ_ONLY, .url = refund_url},
    [RF_IDENTIFIER] = {"identifier", FIELD_STRING, F_READ_ONLY, .max_length = 150},
    [RF_DOCUMENT_ID] = {"document_id", FIELD_STRING, F_REQUIRED, .max_length = 150, .alias = "identifier"},
    [RF_SUPPLIER_ID] = {"supplier_id", FIELD_RELATED, F_REQUIRED, .max_length = 50, .lookup = supplier_lookup,
                        .related_error = "Object with supplier_id=%s does not exist."},
    [RF_SUPPLIER_URL] = {"supplier_url", FIELD_URL, F_READ_ONLY, .url = supplier_url},
    [RF_SHOP_ID] = {"shop_id", FIELD_RELATED, F_REQUIRED, .max_length = 50, .lookup = shop_lookup,
                    .related_error = "Object with shop_id=%s does not exist."},
    [RF_SHOP_URL] = {"shop_url", FIELD_URL, F_READ_ONLY, .url = shop_url},
    [RF_DATE] = {"date", FIELD_DATETIME, F_REQUIRED},
    [RF_RESPONSIBLE] = {"responsible", FIELD_STRING, F_ALLOW_NULL | F_ALLOW_BLANK, .max_length = 150},
    [RF_DESCRIPTION] = {"description", FIELD_STRING, F_ALLOW_NULL | F_ALLOW_BLANK, .max_length = 200},
    [RF_PRODUCTS] = {"products", FIELD_NESTED_LIST, F_REQUIRED, .child = &refund_product_schema,
                     .max_items = REFUND_MAX_LINES},
};
const schema refund_schema = SCHEMA("Supplier Refund", refund_fields, check_refund);

static const ordering_field refund_ordering[] = {
    {"date", "r.refund_date"}, {"identifier", "r.document_id"}, {"document_id", "r.document_id"},
    {"url", "r.id"},
};
static const list_filter refund_query_filters[] = {
    {"shop_id", NULL, "Only the refunds of this shop (its shop_id)."},
    {"supplier_id", NULL, "Only the refunds from this supplier (its supplier_id)."},
    {"date_from", "date-time", "Only refunds dated at or after this datetime, or this date's midnight UTC (YYYY-MM-DD)."},
    {"date_to", "date-time", "Only refunds dated at or before this datetime, or this date's midnight UTC (YYYY-MM-DD)."},
};
const list_query refunds_query = LIST_QUERY(refund_ordering, refund_query_filters);

/* The document id is part of the refund's url. */
static void check_refund(validation *v, record *rec, json_object *errors)
{
    const value *doc = &rec->v[RF_DOCUMENT_ID];
    if (doc->state == VALUE_SET && memchr(doc->s, '/', doc->len))
        errors_add(errors, "document_id", "Document ids may not contain \"/\".");
}

/* The lines of every refund of a list together, counted before anything
 * is validated. */
static bool lines_within_limit(json_object *list)
{
    size_t n = json_object_array_length(list), total = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *products = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(list, i), "products", &products) &&
            json_object_is_type(products, json_type_array))
            total += json_object_array_length(products);
    }
    return total <= REFUNDS_MAX_LINES;
}

/* Validate one refund (or, when `many`, a list of them) with the catalog
 * lookups cached for this request. */
static record *validate_refunds(request *r, bool partial, bool many, int *n, json_object **errors)
{
    ref_cache cache;
    lookups_begin(r, &cache);
    validation v = {.r = r, .partial = partial};
    record *recs;
    *n = 1;
    if (many && json_object_array_length(api_input(r)) <= REFUNDS_MAX && !lines_within_limit(api_input(r))) {
        *errors = json_object_new_object();
        errors_add(*errors, "non_field_errors",
                   arena_printf(r->arena, "A list of refunds may have at most %d products in all.",
                                REFUNDS_MAX_LINES));
        recs = NULL;
    } else if (many) {
        recs = validate_list(&v, &refund_schema, api_input(r), n, errors, REFUNDS_MAX);
    } else {
        recs = validate_object(&v, &refund_schema, api_input(r), errors);
    }
    lookups_end();
    return recs;
}

/* ------------------------------------------------------------ reading */

#define REFUND_TREE_COLUMNS                                                              \
    "SELECT r.id, r.document_id, r.refund_date, r.responsible, r.description, "          \
    "s.id, s.shop_id, u.id, u.supplier_id, "                                            \
    "l.id, l.receive_document_id, l.qty, l.price, l.total_price, p.id, p.product_id "   \
    "FROM supplier_refunds r JOIN shops s ON s.id = r.shop_ref "                        \
    "JOIN suppliers u ON u.id = r.supplier_ref "                                        \
    "LEFT JOIN refund_products l ON l.refund_id = r.id "                                \
    "LEFT JOIN products p ON p.id = l.product_ref "

enum { C_ID, C_DOCUMENT, C_DATE, C_RESPONSIBLE, C_DESCRIPTION, C_SHOP_REF, C_SHOP, C_SUPPLIER_REF,
       C_SUPPLIER, C_LINE_ID, C_RECEIVE, C_QTY, C_PRICE, C_TOTAL, C_PRODUCT_REF, C_PRODUCT };

/* The selected refunds with their lines, one query (rows ordered by
 * refund, then line). */
static int load_refunds(request *r, const selection *sel, record_vec *refunds)
{
    arena *a = r->arena;
    store_stmt *st = store_prepare(r->db, arena_printf(a, REFUND_TREE_COLUMNS "WHERE %s ORDER BY %s, l.id",
                                                       sel->where, sel->order_by ? sel->order_by : "r.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    record_vec lines = {0};
    value *refund = NULL;
    int64_t refund_id = -1;
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        if (store_col_int(st, C_ID) != refund_id) {
            if (refund)
                record_vec_take(&refund[RF_PRODUCTS], &lines);
            refund_id = store_col_int(st, C_ID);
            refund = record_vec_push(a, refunds, &refund_schema);
            value_from_text(a, st, C_DOCUMENT, &refund[RF_DOCUMENT_ID]);
            refund[RF_IDENTIFIER] = refund[RF_DOCUMENT_ID];
            value_from_text(a, st, C_SHOP, &refund[RF_SHOP_ID]);
            refund[RF_SHOP_ID].i = store_col_int(st, C_SHOP_REF);
            value_from_text(a, st, C_SUPPLIER, &refund[RF_SUPPLIER_ID]);
            refund[RF_SUPPLIER_ID].i = store_col_int(st, C_SUPPLIER_REF);
            value_set_int(&refund[RF_DATE], store_col_int(st, C_DATE));
            value_from_text_or_null(a, st, C_RESPONSIBLE, &refund[RF_RESPONSIBLE]);
            value_from_text_or_null(a, st, C_DESCRIPTION, &refund[RF_DESCRIPTION]);
            const value *doc = &refund[RF_DOCUMENT_ID];
            const char *segment = arena_printf(a, "%s_%lld", url_encode_segment(a, doc->s, doc->len),
                                               (long long)refund[RF_SHOP_ID].i);
            value_set_text(&refund[RF_URL], segment, strlen(segment));
            refund[RF_URL].i = refund_id;
        }
        if (store_col_null(st, C_LINE_ID))
            continue;
        value *line = record_vec_push(a, &lines, &refund_product_schema);
        line[RP_URL] = refund[RF_URL];
        line[RP_URL].i = store_col_int(st, C_LINE_ID);
        value_from_text(a, st, C_PRODUCT, &line[RP_PRODUCT_ID]);
        line[RP_PRODUCT_ID].i = store_col_int(st, C_PRODUCT_REF);
        value_from_text(a, st, C_RECEIVE, &line[RP_RECEIVE_ID]);
        value_set_int(&line[RP_QTY], store_col_int(st, C_QTY));
        value_set_int(&line[RP_PRICE], store_col_int(st, C_PRICE));
        value_set_int(&line[RP_TOTAL], store_col_int(st, C_TOTAL));
    }
    store_reset(st);
    if (rc < 0)
        return rc;
    if (refund)
        record_vec_take(&refund[RF_PRODUCTS], &lines);
    return refunds->n;
}

/* "{document_id}_{shop key}" → $2 the document id, $3 the shop key. */
static bool parse_refund_key(request *r, const char *segment, sql_params *p)
{
    const char *under = strrchr(segment, '_');
    if (!under || under == segment)
        return false;
    const char *key = under + 1;
    size_t n = strlen(key);
    if (n == 0 || n > 18 || strspn(key, "0123456789") != n)
        return false;
    sql_text(p, arena_strndup(r->arena, segment, (size_t)(under - segment)));
    sql_int(p, strtoll(key, NULL, 10));
    return true;
}

/* ------------------------------------------------------------ writing */

typedef struct line_rows {
    int64_t refund;
    const record *lines;
} line_rows;

static void bind_line(store_stmt *st, int row, int p, void *ctx)
{
    const line_rows *rows = ctx;
    const value *v = rows->lines[row].v;
    store_bind_int(st, p, rows->refund);
    store_bind_int(st, p + 1, v[RP_PRODUCT_ID].i);
    store_bind_text(st, p + 2, v[RP_RECEIVE_ID].s, v[RP_RECEIVE_ID].len);
    store_bind_int(st, p + 3, v[RP_QTY].i);
    store_bind_int(st, p + 4, v[RP_PRICE].i);
    store_bind_int(st, p + 5, v[RP_TOTAL].i);
}

/* A refund's lines, in as few statements as they allow. */
static int insert_lines(request *r, int64_t refund_id, const value *lines)
{
    line_rows rows = {refund_id, lines->items};
    int rc = store_insert_rows(r->db, "refund_products",
                               "refund_id, product_ref, receive_document_id, qty, price, total_price", 6,
                               lines->nitems, bind_line, &rows, NULL);
    if (rc == STORE_FOREIGN_KEY)
        return VIEW_RETRY;   /* a product went away since validation */
    return rc < 0 ? rc : VIEW_DONE;
}

/* Overwrite refund `id` with rec's values (absent responsible/description:
 * NULL) and, when rec has products, replace its lines. */
static int write_refund(request *r, int64_t id, const record *rec)
{
    const value *v = rec->v;
    store_stmt *st = store_prepare(r->db,
        "UPDATE supplier_refunds SET shop_ref = $2, supplier_ref = $3, document_id = $4, "
        "refund_date = $5, responsible = $6, description = $7 WHERE id = $1 AND customer_id = $8");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, v[RF_SHOP_ID].i);
    store_bind_int(st, 3, v[RF_SUPPLIER_ID].i);
    store_bind_text(st, 4, v[RF_DOCUMENT_ID].s, v[RF_DOCUMENT_ID].len);
    store_bind_int(st, 5, v[RF_DATE].i);
    bind_text_value(st, 6, &v[RF_RESPONSIBLE]);
    bind_text_value(st, 7, &v[RF_DESCRIPTION]);
    store_bind_int(st, 8, r->customer_id);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_FOREIGN_KEY)
        return VIEW_RETRY;
    if (rc < 0 || v[RF_PRODUCTS].state != VALUE_SET)
        return rc < 0 ? rc : VIEW_DONE;
    st = store_prepare(r->db, "DELETE FROM refund_products WHERE refund_id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, id);
    if ((rc = store_exec_int(st, NULL)) < 0)
        return rc;
    return insert_lines(r, id, &v[RF_PRODUCTS]);
}

/* Create the refund, or replace the one with its shop and document id:
 * 1 created, 0 replaced, negative on an error. */
static int upsert_refund(request *r, const record *rec)
{
    const value *v = rec->v;
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO supplier_refunds (customer_id, shop_ref, supplier_ref, document_id, refund_date, "
        "responsible, description) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (shop_ref, document_id) DO NOTHING RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_int(st, 2, v[RF_SHOP_ID].i);
    store_bind_int(st, 3, v[RF_SUPPLIER_ID].i);
    store_bind_text(st, 4, v[RF_DOCUMENT_ID].s, v[RF_DOCUMENT_ID].len);
    store_bind_int(st, 5, v[RF_DATE].i);
    bind_text_value(st, 6, &v[RF_RESPONSIBLE]);
    bind_text_value(st, 7, &v[RF_DESCRIPTION]);
    int64_t id;
    int rc = store_exec_int(st, &id);
    if (rc == STORE_FOREIGN_KEY)
        return VIEW_RETRY;   /* its shop or supplier went away since validation */
    if (rc == STORE_ROW)
        return (rc = insert_lines(r, id, &v[RF_PRODUCTS])) != VIEW_DONE ? rc : 1;
    if (rc < 0)
        return rc;
    /* it exists: lock it, then replace it */
    st = store_prepare(r->db,
        "SELECT id FROM supplier_refunds WHERE shop_ref = $1 AND document_id = $2 AND customer_id = $3 "
        "FOR UPDATE");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, v[RF_SHOP_ID].i);
    store_bind_text(st, 2, v[RF_DOCUMENT_ID].s, v[RF_DOCUMENT_ID].len);
    store_bind_int(st, 3, r->customer_id);
    if ((rc = store_exec_int(st, &id)) != STORE_ROW)
        return rc < 0 ? rc : VIEW_RETRY;   /* deleted between the two */
    return (rc = write_refund(r, id, rec)) != VIEW_DONE ? rc : 0;
}

/* Position of each document, for "the later wins at the place of the first". */
typedef struct document_key {
    int64_t shop;
    const char *id;
    size_t len;
    int index;
} document_key;

static int by_document_then_index(const void *a, const void *b)
{
    const document_key *x = a, *y = b;
    if (x->shop != y->shop)
        return x->shop < y->shop ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->id, y->id, n);
    if (c == 0 && x->len != y->len)
        c = x->len < y->len ? -1 : 1;
    return c ? c : x->index - y->index;
}

static bool same_document(const document_key *x, const document_key *y)
{
    return x->shop == y->shop && x->len == y->len && memcmp(x->id, y->id, x->len) == 0;
}

/* For each distinct document, its last occurrence at its first position;
 * NULL at the other positions. */
static record **latest_documents(request *r, record *recs, int n)
{
    document_key *keys = arena_alloc(r->arena, sizeof *keys * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        const value *v = recs[i].v;
        keys[i] = (document_key){v[RF_SHOP_ID].i, v[RF_DOCUMENT_ID].s, v[RF_DOCUMENT_ID].len, i};
    }
    qsort(keys, (size_t)n, sizeof *keys, by_document_then_index);
    record **slots = arena_zalloc(r->arena, sizeof *slots * (size_t)(n ? n : 1));
    for (int a = 0, b; a < n; a = b) {
        for (b = a + 1; b < n && same_document(&keys[a], &keys[b]); b++)
            ;
        slots[keys[a].index] = &recs[keys[b - 1].index];
    }
    return slots;
}

/* ------------------------------------------------------------ list */

/* ?shop_id=, ?supplier_id= (exact; empty matches nothing, as in the DRF
 * reference) and ?date_from=, ?date_to= (inclusive; a datetime as input
 * takes it, or a date meaning its midnight UTC; empty is no filter). */

#define FILTER_DATE_ERROR "Enter a valid date/time."

/* A date filter's value: false (and a 400 answer) when it is not one. */
static bool parse_date_filter(request *r, const char *name, bool *has, int64_t *out)
{
    const char *text = request_query(r, name);
    *has = false;
    if (!text || !*text)
        return true;
    size_t n = strlen(text);
    if (datetime_parse(text, n, out) ||
        (n == 10 && text[4] == '-' && text[7] == '-' &&
         datetime_parse(arena_printf(r->arena, "%sT00:00", text), n + 6, out))) {
        *has = true;
        return true;
    }
    json_object *errors = json_object_new_object();
    errors_add(errors, name, FILTER_DATE_ERROR);
    respond_validation(r, errors);
    return false;
}

static int filter_refunds(request *r, jw *where, sql_params *p)
{
    const char *shop = request_query(r, "shop_id"), *supplier = request_query(r, "supplier_id");
    bool has_from, has_to;
    int64_t from, to;
    if (!parse_date_filter(r, "date_from", &has_from, &from) || !parse_date_filter(r, "date_to", &has_to, &to))
        return VIEW_ANSWERED;
    const char *sql = "";
    if (shop)
        sql = arena_printf(r->arena, "%s AND r.shop_ref = (SELECT id FROM shops WHERE customer_id = $1 "
                           "AND shop_id = $%d)", sql, sql_text(p, shop));
    if (supplier)
        sql = arena_printf(r->arena, "%s AND r.supplier_ref = (SELECT id FROM suppliers WHERE "
                           "customer_id = $1 AND supplier_id = $%d)", sql, sql_text(p, supplier));
    if (has_from)
        sql = arena_printf(r->arena, "%s AND r.refund_date >= $%d", sql, sql_int(p, from));
    if (has_to)
        sql = arena_printf(r->arena, "%s AND r.refund_date <= $%d", sql, sql_int(p, to));
    jw_append(where, sql, strlen(sql));
    return VIEW_DONE;
}

/* ------------------------------------------------------------ views */

/* PUT replaces the refund whole (what a POST of it does); PATCH changes
 * the fields it names (products, when named, replace all lines), over the
 * refund as it is now (locked). */
static int update_refund(request *r, int64_t id, record *in, bool partial)
{
    if (partial) {
        int rc;
        record *stored = view_load_one(r, &refunds_resource, id, &rc);
        if (!stored)
            return rc < 0 ? rc : STORE_ERROR;
        for (int k = RF_DOCUMENT_ID; k <= RF_DESCRIPTION; k++)
            if (in->v[k].state == VALUE_ABSENT)
                in->v[k] = stored->v[k];
    }
    return write_refund(r, id, in);
}

/* Validation with the catalog lookups cached (validate_refunds). */
static record *validate_one_refund(request *r, bool partial)
{
    json_object *errors = NULL;
    int n;
    record *rec = validate_refunds(r, partial, false, &n, &errors);
    if (!rec)
        respond_validation(r, errors);
    return rec;
}

static int lock_refund(request *r, int64_t *id);

const resource refunds_resource = {
    .sc = &refund_schema,
    .table = "supplier_refunds",
    .alias = "r",
    .query = &refunds_query,
    .counted = true,
    .key_sql = "(SELECT id FROM supplier_refunds WHERE customer_id = $1 AND document_id = $2 AND shop_ref = $3)",
    .parse_key = parse_refund_key,
    .filter = filter_refunds,
    .load = load_refunds,
    .loads_in_one_query = true,
    .update = update_refund,
    .lock = lock_refund,
    .unique_error = "The fields shop_id, document_id must make a unique set.",
    .validate = validate_one_refund,
};

typedef struct upload {
    record *recs;
    int n;
    int64_t created, updated;
} upload;

static int validate_upload(request *r, void *ctx)
{
    upload *u = ctx;
    json_object *errors = NULL;
    u->recs = validate_refunds(r, false, json_object_is_type(api_input(r), json_type_array), &u->n, &errors);
    if (u->recs)
        return VIEW_DONE;
    respond_validation(r, errors);
    return VIEW_ANSWERED;
}

/* A customer's refund writes take turns (PostgreSQL): an upload touches
 * many refunds in its input's order, and two in opposite orders would
 * otherwise wait for each other in a circle. */
static int lock_refunds(request *r)
{
    return store_lock_key(r->db, REFUNDS_LOCK + r->customer_id);
}

static int lock_refund(request *r, int64_t *id)
{
    int rc = lock_refunds(r);
    return rc < 0 ? rc : view_find(r, &refunds_resource, true, id);
}

static int apply_upload(request *r, void *ctx)
{
    upload *u = ctx;
    int rc = lock_refunds(r);
    if (rc < 0)
        return rc;
    record **latest = latest_documents(r, u->recs, u->n);
    int64_t created = 0, updated = 0;
    for (int i = 0; i < u->n; i++) {
        if (!latest[i])
            continue;
        rc = upsert_refund(r, latest[i]);
        if (rc == STORE_UNIQUE)
            return view_unique_error(r, refunds_resource.unique_error);
        if (rc < 0)
            return rc;
        created += rc;
        updated += !rc;
    }
    respond_upserted(r, "/api/v1/supplier-refunds/", created, updated);
    return VIEW_DONE;
}

int refunds_upsert(request *r)
{
    upload u = {0};
    return view_write(r, validate_upload, apply_upload, &u);
}

int refund_product_retrieve(request *r)
{
    const char *line = r->captures[1];
    size_t n = strlen(line);
    selection sel = {0};
    sql_int(&sel.params, r->customer_id);
    if (!parse_refund_key(r, r->captures[0], &sel.params) || n == 0 || n > 18 ||
        strspn(line, "0123456789") != n) {
        respond_error(r, 404, "Not found.");
        return VIEW_DONE;
    }
    sel.where = arena_printf(r->arena, "r.id = %s AND l.id = $%d", refunds_resource.key_sql,
                             sql_int(&sel.params, strtoll(line, NULL, 10)));
    record_vec refunds = {0};
    int rc = load_refunds(r, &sel, &refunds);
    if (rc < 0)
        return rc;
    const value *lines = rc > 0 ? &refunds.items[0].v[RF_PRODUCTS] : NULL;
    if (!lines || lines->nitems != 1) {
        respond_error(r, 404, "Not found.");
        return VIEW_DONE;
    }
    respond_record(r, 200, &lines->items[0]);
    return VIEW_DONE;
}
