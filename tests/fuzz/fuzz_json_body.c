/*
 * fuzz_json_body — a request body as the router reads it: json_parse_body()
 * (api/json.h) on the bytes after the first, then, when they parse,
 * validate_object() or validate_list() (api/fields.h) with one of the real
 * resource schemas, on a
 * request whose database is an in-memory SQLite store, so related fields
 * and object checks run their real SQL. Every valid record is rendered
 * back with render_record() and the output must parse as JSON again.
 *
 * The first byte picks what validates: bits 0-3 the schema (table below,
 * modulo its size), bit 4 a list (bulk POST) instead of one object, bit 5
 * a partial update (PATCH) for the schemas the server patches.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/devices.h"
#include "api/fields.h"
#include "api/json.h"
#include "api/resources.h"
#include "core/arena.h"
#include "http/request.h"
#include "store/store.h"

#include "fuzz.h"

typedef struct target {
    const schema *sc;
    bool patchable;        /* validated with partial = true on PATCH */
    int max_items;         /* validate_list()'s limit */
} target;

static const target targets[] = {
    {&order_schema, true, 0},
    {&item_schema, true, 0},
    {&display_schema, false, 0},
    {&statics_schema, false, 0},
    {&device_schema, false, 0},
    {&device_selector_schema, false, 0},
    {&refund_schema, true, 2000},
    {&refund_product_schema, false, 0},
    {&shop_schema, true, 0},
    {&supplier_schema, true, 0},
    {&product_schema, true, 0},
    {&sequence_schema, false, 0},
    {&alias_schema, false, 0},
    {&ack_schema, false, 0},
    {&press_schema, false, 0},
};
#define NTARGETS ((int)(sizeof targets / sizeof targets[0]))

static store *db;
static arena *A;
static request R;

/* One customer with one of everything a body may name: device "D1" at
 * location "A-01", alias "A-02" beside it, shop "S1", supplier "U1",
 * product "P1" (the seeds use these). */
static const char *const fixture[] = {
    "INSERT INTO customers (name, created) VALUES ('fuzz', 0)",
    "INSERT INTO devices (customer_id, device_id, location, updated) VALUES (1, 'D1', 'A-01', 0)",
    ("INSERT INTO location_aliases (customer_id, name, device_ref, device_is) "
     "VALUES (1, 'A-02', 1, 'to the Left of')"),
    "INSERT INTO shops (customer_id, shop_id) VALUES (1, 'S1')",
    "INSERT INTO suppliers (customer_id, supplier_id) VALUES (1, 'U1')",
    "INSERT INTO products (customer_id, product_id) VALUES (1, 'P1')",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char *err = NULL;
    db = store_open(":memory:", &err);
    FUZZ_CHECK(db, "store_open: %s", err ? err : "?");
    FUZZ_CHECK(store_migrate(db) == STORE_DONE, "store_migrate: %s", store_errmsg(db));
    for (size_t i = 0; i < sizeof fixture / sizeof fixture[0]; i++) {
        store_stmt *st = store_prepare(db, fixture[i]);
        FUZZ_CHECK(st && store_exec_int(st, NULL) == STORE_DONE, "%s: %s", fixture[i], store_errmsg(db));
    }
    A = arena_new(0);
    return 0;
}

/* What the server fills in before it renders a stored record: read-only
 * values (ids, urls' keys, timestamps), here placeholders, so url
 * functions see what they always see. */
static void fill_read_only(record *rec)
{
    for (int i = 0; i < rec->sc->nfields; i++) {
        const field *f = &rec->sc->fields[i];
        value *v = &rec->v[i];
        if ((f->flags & F_READ_ONLY) && v->state == VALUE_ABSENT) {
            switch (f->type) {
            case FIELD_URL:
                value_set_text(v, "doc_1", 5);
                v->i = 1;
                break;
            case FIELD_STRING:
            case FIELD_CHOICE:
            case FIELD_RELATED:
                value_set_text(v, "x", 1);
                break;
            case FIELD_INTEGER:
            case FIELD_DECIMAL:
            case FIELD_DATETIME:
                value_set_int(v, 1);
                break;
            case FIELD_RAW_JSON:
            case FIELD_NESTED:
            case FIELD_NESTED_LIST:
                value_set_null(v);
                break;
            }
        }
        if ((f->type == FIELD_NESTED || f->type == FIELD_NESTED_LIST) && v->state == VALUE_SET)
            for (int k = 0; k < v->nitems; k++)
                fill_read_only(&v->items[k]);
    }
}

static void render_and_reparse(record *rec)
{
    fill_read_only(rec);
    jw w;
    jw_init(&w, 256);
    render_record(&w, &R, rec);
    size_t len;
    char *out = jw_take(&w, &len);
    char *text = fuzz_copy((const uint8_t *)out, len);   /* a body ends in a NUL */
    free(out);
    const char *error = NULL;
    json_object *again = json_parse_body(A, text, len, &error);
    FUZZ_CHECK(error == NULL && again != NULL, "%s record rendered as invalid JSON (%s): %s",
               rec->sc->name, error ? error : "null", text);
    json_object_put(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const target *t = &targets[(data[0] & 0x0f) % NTARGETS];
    bool list = data[0] & 0x10, partial = (data[0] & 0x20) && t->patchable;

    arena_reset(A);
    memset(&R, 0, sizeof R);
    R.arena = A;
    R.db = db;
    R.customer_id = 1;
    R.base_url = "http://testserver";

    char *body = fuzz_copy(data + 1, size - 1);
    const char *error = NULL;
    json_object *in = json_parse_body(A, body, size - 1, &error);
    if (error) {
        FUZZ_CHECK(in == NULL, "json_parse_body gave a tree and an error: %s", error);
        free(body);
        return 0;
    }

    validation v = {.r = &R, .partial = partial};
    json_object *errors = NULL;
    if (list) {
        int n = 0;
        record *recs = validate_list(&v, t->sc, in, &n, &errors, t->max_items);
        FUZZ_CHECK((recs == NULL) == (errors != NULL), "validate_list: records and errors at once");
        for (int i = 0; recs && i < n; i++)
            render_and_reparse(&recs[i]);
    } else {
        record *rec = validate_object(&v, t->sc, in, &errors);
        FUZZ_CHECK((rec == NULL) == (errors != NULL), "validate_object: a record and errors at once");
        if (rec)
            render_and_reparse(rec);
    }
    json_object_put(errors);
    json_object_put(in);
    free(body);
    return 0;
}
