/*
 * import.c — `stockroom import-orders CUSTOMER`: orders as JSON lines on
 * stdin, each created exactly as POST /api/orders/ creates it — the same
 * parser, the same validation (orders.c's declarations), the same create
 * hook — without HTTP in between, in transactions of IMPORT_BATCH orders.
 * For loading a warehouse's history, or a database to benchmark at the
 * size of years (scripts/bench-scale.py). A line that is not a valid
 * order is reported (its line number and the errors, as the API would
 * answer them) and skipped; the others go in.
 */
#include "api/import.h"

#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/orders.h"
#include "api/resources.h"
#include "api/tenants.h"
#include "api/views.h"
#include "core/arena.h"
#include "store/store.h"

#define IMPORT_BATCH 1000
#define LINE_MAX_BYTES (16 * 1024 * 1024)

/* Commit the batch open on db; false (and a message) when it failed. */
static bool commit_batch(store *db, FILE *out)
{
    if (store_commit(db) >= 0)
        return true;
    fprintf(out, "import: commit failed: %s\n", store_errmsg(db));
    store_rollback(db);
    return false;
}

const char *import_orders(store *db, const char *customer, FILE *in, FILE *out)
{
    int64_t customer_id;
    int found = customer_id_of(db, customer, &customer_id);
    if (found <= 0)
        return found < 0 ? store_errmsg(db) : "no such customer";
    arena *a = arena_new(1 << 20);
    request r = {.arena = a, .db = db, .customer_id = customer_id, .route = -1};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long number = 0, created = 0, refused = 0, in_batch = 0;
    const char *failure = NULL;
    while (!failure && (len = getline(&line, &cap, in)) > 0) {
        number++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        arena_reset(a);
        const char *error = NULL;
        json_object *body = len > LINE_MAX_BYTES ? NULL : json_parse_body(a, line, (size_t)len, &error);
        json_object *errors = NULL;
        record *order = NULL;
        if (body || !error) {
            validation v = {.r = &r};
            order = validate_object(&v, &order_schema, body, &errors);
        }
        if (!order) {
            fprintf(out, "line %lld: %s\n", number,
                    error ? error : errors ? json_object_to_json_string(errors) : "too long");
            json_object_put(errors);
            json_object_put(body);
            refused++;
            continue;
        }
        if (in_batch == 0 && store_begin_write(db) < 0) {
            failure = store_errmsg(db);
            json_object_put(body);
            break;
        }
        int64_t id;
        int rc = orders_resource.create(&r, &order, &id);
        json_object_put(body);
        if (rc == STORE_UNIQUE) {
            /* the order number is taken: the batch so far is kept, this line not */
            store_rollback(db);
            fprintf(out, "line %lld: {\"non_field_errors\":[\"%s\"]}\n", number, orders_resource.unique_error);
            refused++;
            created -= in_batch;   /* rolled back with it: the batch is redone below */
            failure = "an order number is taken: import the lines after the last reported batch again";
            break;
        }
        if (rc < 0) {
            failure = store_errmsg(db);
            store_rollback(db);
            created -= in_batch;
            break;
        }
        created++;
        if (++in_batch == IMPORT_BATCH) {
            if (!commit_batch(db, out)) {
                created -= in_batch;
                failure = "a commit failed";
            }
            in_batch = 0;
        }
    }
    if (!failure && in_batch && !commit_batch(db, out)) {
        created -= in_batch;
        failure = "a commit failed";
    }
    fprintf(out, "imported %lld orders (%lld lines refused)\n", created, refused);
    free(line);
    arena_free(a);
    return failure;
}
