/*
 * views.h — DRF's generic views, written once: list, retrieve, create,
 * update (PUT and PATCH) and destroy, driven by a resource's declaration
 * (its schema, table, key, ordering and filters, and the few hooks that
 * are truly its own: how it reads its objects, and how it writes them).
 *
 * The one place a write transaction is opened and ended is view_write():
 * a request's input is validated first, outside any transaction (so the
 * write lock is held only while SQL runs), then its SQL runs in one
 * transaction that commits when the answer is a success and rolls back
 * otherwise, as Django's ATOMIC_REQUESTS does. A deadlock or serialization
 * failure (PostgreSQL) or a lock timeout runs the whole request again —
 * validation included — a bounded number of times with jittered backoff;
 * only when that is spent is the answer a 500. Handlers never commit,
 * roll back or map store errors: they return a store error code and the
 * framework answers.
 *
 * Return codes of handlers and hooks: VIEW_DONE (0) when the work is done
 * (a hook) or the answer made (a handler), VIEW_ANSWERED (1) when a hook
 * made an answer of its own (a 400, a 404) and the view must stop, or a
 * negative store code (store.h), VIEW_RETRY to validate and run again.
 *
 * Locks are taken in one order (docs/decisions.md, "Concurrency"): an
 * order, then its shipments, then its items; an order before the devices
 * its picks light; a device before the order an acknowledgement credits
 * is only read, never locked first (the acknowledgement locks the order,
 * then re-reads the device); a customer's refund writes and catalog
 * uploads take turns on an advisory lock; the outbox's lock comes last.
 */
#ifndef STOCKROOM_VIEWS_H
#define STOCKROOM_VIEWS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/fields.h"
#include "api/json.h"
#include "api/pagination.h"
#include "api/rows.h"
#include "http/request.h"
#include "store/store.h"

enum {
    VIEW_DONE = 0,
    VIEW_ANSWERED = 1,
    VIEW_RETRY = -100,   /* something validation relied on changed: validate and run again */
};

/* ------------------------------------------------------------ SQL pieces */

#define SQL_PARAMS_MAX 24

/* Parameters of a query built at run time, numbered as they are added. */
typedef struct sql_params {
    int n;
    struct {
        bool text;
        int64_t i;
        const char *s;
    } v[SQL_PARAMS_MAX];
} sql_params;

/* Add a parameter; returns its number (for "$%d"). */
int sql_int(sql_params *p, int64_t v);
int sql_text(sql_params *p, const char *s);
void sql_bind(store_stmt *st, const sql_params *p);

/* Which objects to read, in which order: a condition on the resource's
 * alias with its parameters ($1 is always the customer). */
typedef struct selection {
    const char *where;
    const char *order_by;    /* NULL: by id */
    sql_params params;
} selection;

/* ------------------------------------------------------------ resources */

typedef struct resource resource;

struct resource {
    const schema *sc;           /* what it takes and answers */
    const char *table, *alias;  /* "orders", "o": its rows carry id and customer_id */
    const list_query *query;    /* ?ordering= (SQL on the alias) and filters */
    bool counted;               /* row_counts keeps its rows' number a customer (schema V6):
                                   an unfiltered list reads it instead of counting */

    /* The row a path's key names: an SQL expression of $1 (the customer)
     * and the key's parameters (key_kind), e.g.
     * "(SELECT id FROM devices WHERE customer_id = $1 AND device_id = $2)".
     * The views also test the row's own customer_id = $1, so an expression
     * may end in a bare id (orders: the number's row, else the id). */
    const char *key_sql;
    enum {
        KEY_TEXT,        /* $2: the key as text */
        KEY_INT,         /* $2: the key as an integer (one that is not names no row) */
        KEY_TEXT_OR_INT, /* $2: the text, $3: as an integer, -1 when it is not one */
    } key_kind;
    /* A key the resource parses itself (refunds: "{document}_{shop}"):
     * binds $2, $3 as key_sql reads them; false when it cannot name a row. */
    bool (*parse_key)(request *r, const char *segment, sql_params *p);

    /* The list's filters as " AND ..." over the alias, adding parameters;
     * VIEW_ANSWERED when a filter's value is invalid (400 made). */
    int (*filter)(request *r, jw *where, sql_params *p);
    /* Read the selected objects into out (in the selection's order);
     * returns how many, or a store error. */
    int (*load)(request *r, const selection *sel, record_vec *out);
    /* load runs one statement: the views then name it their read's last
     * (store_read_last), so a retrieve runs with no transaction around it
     * and a list's count and page share one round trip with its end. */
    bool loads_in_one_query;

    /* Writes, inside the request's transaction. create: insert the
     * validated record and complete it (ids, defaults) so it renders as
     * stored, or point *rec at the object read back. update: the row is
     * locked; partial for PATCH. destroy: the row is locked (NULL: DELETE
     * the row, its children cascade). */
    int (*create)(request *r, record **rec, int64_t *id);
    int (*update)(request *r, int64_t id, record *rec, bool partial);
    int (*destroy)(request *r, int64_t id);
    /* Lock the row the path names before an update or destroy, in the lock
     * order (NULL: the row itself, FOR UPDATE). 1 found (*id), 0 not. */
    int (*lock)(request *r, int64_t *id);
    /* Validate the body (partial for PATCH), answering 400 when invalid
     * (NULL: view_validate() against sc). */
    record *(*validate)(request *r, bool partial);
    /* The answer to a UNIQUE violation of create or update. */
    const char *unique_error;
    /* A created object's url (Location). */
    const char *(*location)(request *r, int64_t id, const record *rec);
};

/* The route's resource (routes.c). */
const resource *view_resource(request *r);

/* The generic views, as route handlers. */
int view_list(request *r);
int view_retrieve(request *r);
int view_create(request *r);
int view_put(request *r);
int view_patch(request *r);
int view_destroy(request *r);

/* The object the path names, for a view: VIEW_DONE (*id set), or
 * VIEW_ANSWERED after a 404, or a store error. `lock`: FOR UPDATE. */
int view_object(request *r, const resource *res, bool lock, int64_t *id);
/* Answer with one object of the resource as GET renders it. */
int view_respond_one(request *r, const resource *res, int status, int64_t id);

/* Read one object of the resource by row id (NULL when missing; *rc
 * the store error when not 0). */
record *view_load_one(request *r, const resource *res, int64_t id, int *rc);
/* The row the path's key names: 1 found, 0 not, < 0 store error; `lock`
 * takes its row lock (FOR UPDATE). */
int view_find(request *r, const resource *res, bool lock, int64_t *id);

/* ------------------------------------------------------------ writing */

/*
 * Run a write: prepare (may be NULL) outside any transaction — parse and
 * validate, answering 400 itself (VIEW_ANSWERED) — then apply inside the
 * request's transaction, which commits when apply answered with a status
 * below 400. Both run again on a retryable failure (see the top).
 */
typedef int (*view_step)(request *r, void *ctx);
int view_write(request *r, view_step prepare, view_step apply, void *ctx);

/* Validate the body against sc (partial for PATCH), answering 400 when it
 * is invalid: the record, or NULL. */
record *view_validate(request *r, const schema *sc, bool partial);

/* The answer to a UNIQUE violation: {"non_field_errors": [message]}. */
int view_unique_error(request *r, const char *message);

/* {"created": N, "updated": M} with 201 and Location: the list's url. */
void respond_upserted(request *r, const char *list_path, int64_t created, int64_t updated);

#endif
