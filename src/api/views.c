/*
 * views.c — the generic views and the request's write transaction (see
 * views.h).
 */
#include "api/views.h"

#include "api/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/outbox.h"
#include "api/respond.h"
#include "core/util.h"

/* Runs of a write (the first and its retries), and the longest pause
 * between two (a random part of 1, 2, 4 ... 64 ms). */
#define WRITE_ATTEMPTS 12
#define BACKOFF_MAX_US 64000
#define VIEW_RECHECK (-101)   /* the request's credential must be asked for again */

/* ------------------------------------------------------------ SQL pieces */

static int sql_add(sql_params *p)
{
    if (p->n == SQL_PARAMS_MAX) {   /* a bug in the caller: fail loudly, never bind wrong */
        log_line("views: more than %d parameters in one query", SQL_PARAMS_MAX);
        abort();
    }
    return p->n++;
}

int sql_int(sql_params *p, int64_t v)
{
    int k = sql_add(p);
    p->v[k].text = false;
    p->v[k].i = v;
    return k + 1;
}

int sql_text(sql_params *p, const char *s)
{
    int k = sql_add(p);
    p->v[k].text = true;
    p->v[k].s = s;
    return k + 1;
}

void sql_bind(store_stmt *st, const sql_params *p)
{
    for (int k = 0; k < p->n; k++) {
        if (p->v[k].text)
            store_bind_str(st, k + 1, p->v[k].s);
        else
            store_bind_int(st, k + 1, p->v[k].i);
    }
}

/* ------------------------------------------------------------ keys */

const resource *view_resource(request *r)
{
    return api_routes[r->route].resource;
}

/* $1 the customer, then the path key's parameters as key_sql reads them
 * (views.h's key_kind). False when the key cannot name a row. */
static bool bind_key(request *r, const resource *res, sql_params *p)
{
    sql_int(p, r->customer_id);
    const char *key = r->captures[0];
    if (res->parse_key)
        return res->parse_key(r, key, p);
    size_t n = strlen(key);
    bool digits = n > 0 && n <= 18 && strspn(key, "0123456789") == n;
    if (res->key_kind == KEY_INT) {
        sql_int(p, digits ? strtoll(key, NULL, 10) : -1);
        return digits;
    }
    sql_text(p, key);
    if (res->key_kind == KEY_TEXT_OR_INT)
        sql_int(p, digits ? strtoll(key, NULL, 10) : -1);
    return true;
}

int view_find(request *r, const resource *res, bool lock, int64_t *id)
{
    sql_params p = {0};
    if (!bind_key(r, res, &p))
        return 0;
    store_stmt *st = store_prepare(r->db, arena_printf(r->arena,
                                                       "SELECT %s.id FROM %s %s WHERE %s.id = %s AND %s.customer_id = $1%s",
                                                       res->alias, res->table, res->alias, res->alias,
                                                       res->key_sql, res->alias, lock ? " FOR UPDATE" : ""));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &p);
    int rc = store_exec_int(st, id);
    return rc == STORE_ROW ? 1 : rc;
}

int view_object(request *r, const resource *res, bool lock, int64_t *id)
{
    int found = view_find(r, res, lock, id);
    if (found == 0)
        respond_error(r, 404, "Not found.");
    return found < 0 ? found : found ? VIEW_DONE : VIEW_ANSWERED;
}

int view_respond_one(request *r, const resource *res, int status, int64_t id)
{
    int rc;
    record *rec = view_load_one(r, res, id, &rc);
    if (!rec)
        return rc < 0 ? rc : STORE_ERROR;
    respond_record(r, status, rec);
    return VIEW_DONE;
}

record *view_load_one(request *r, const resource *res, int64_t id, int *rc)
{
    selection sel = {.where = arena_printf(r->arena, "%s.id = $2 AND %s.customer_id = $1", res->alias, res->alias)};
    sql_int(&sel.params, r->customer_id);
    sql_int(&sel.params, id);
    record_vec out = {0};
    *rc = res->load(r, &sel, &out);
    if (*rc > 0)
        *rc = 0;
    return out.n > 0 ? &out.items[0] : NULL;
}

/* ------------------------------------------------------------ reading */

/* 1 when the list is in id order, -1 in reverse id order, else 0. */
static int id_direction(request *r, const char *order_by, const char *id)
{
    if (strcmp(order_by, id) == 0 || strcmp(order_by, arena_printf(r->arena, "%s, %s", id, id)) == 0)
        return 1;
    if (strcmp(order_by, arena_printf(r->arena, "%s DESC, %s", id, id)) == 0)
        return -1;
    return 0;
}

/*
 * Where a page `*skip` rows into a list in id order (dir 1) or reverse id
 * order (-1) starts, from the customer's row_buckets: *bound gets the first
 * id of the bucket holding that row (the last, in reverse), *skip what is
 * left to step over from there (fewer than a bucket's ids). 1 found, 0
 * when the buckets end first (the page is past the rows: the plain OFFSET
 * finds nothing either), or a store error.
 */
static int bucket_start(request *r, const char *table, int dir, int64_t *skip, int64_t *bound)
{
    store_stmt *st = store_prepare(r->db, dir > 0
        ? "SELECT bucket, sum(n) FROM row_buckets WHERE customer_id = $1 AND kind = $2 GROUP BY bucket ORDER BY bucket"
        : "SELECT bucket, sum(n) FROM row_buckets WHERE customer_id = $1 AND kind = $2 GROUP BY bucket "
          "ORDER BY bucket DESC");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, table);
    int rc, found = 0;
    while ((rc = store_step(st)) == STORE_ROW) {
        int64_t bucket = store_col_int(st, 0), n = store_col_int(st, 1);
        if (n > *skip) {
            *bound = dir > 0 ? bucket << STORE_BUCKET_BITS : ((bucket + 1) << STORE_BUCKET_BITS) - 1;
            found = 1;
            break;
        }
        *skip -= n;
    }
    store_reset(st);
    return rc < 0 ? rc : found;
}

int view_list(request *r)
{
    const resource *res = view_resource(r);
    page p;
    if (!page_parse(r, &p))
        return VIEW_DONE;
    sql_params params = {0};
    sql_int(&params, r->customer_id);
    jw where;
    jw_init(&where, 128);
    if (res->filter) {
        int rc = res->filter(r, &where, &params);
        if (rc != VIEW_DONE) {
            jw_free(&where);
            return rc < 0 ? rc : VIEW_DONE;
        }
    }
    const char *filters = arena_strndup(r->arena, where.buf ? where.buf : "", where.len);
    jw_free(&where);
    const char *a = res->alias;
    /* the count: kept with the rows, by buckets of 4,096 ids (a read of a
     * few hundred small rows at a million), or, for a filtered list,
     * counted along the filter's index */
    store_stmt *count = store_prepare(r->db, res->counted && !*filters
        ? arena_printf(r->arena, "SELECT COALESCE(sum(n), 0) FROM row_buckets WHERE customer_id = $1 "
                                 "AND kind = '%s'", res->table)
        : arena_printf(r->arena, "SELECT count(*) FROM %s %s WHERE %s.customer_id = $1%s", res->table, a, a,
                       filters));
    if (!count)
        return STORE_ERROR;
    sql_bind(count, &params);
    /* The page goes out with the count in one round trip (store_send), and
     * is dropped when the count says it does not exist; only page=last
     * needs the count first. */
    int64_t total = 0;
    int rc;
    if (p.last) {
        if ((rc = store_exec_int(count, &total)) != STORE_ROW)
            return rc < 0 ? rc : STORE_ERROR;
        if (!page_check(r, &p, total))
            return VIEW_DONE;
    } else {
        store_send(count);
    }
    const list_query *q = res->query;
    const char *id = arena_printf(r->arena, "%s.id", a);
    const char *order_by = ordering_sql(r, q->ordering, q->nordering, id, id);
    /* in id order, a deep page starts at the bucket that holds its first row */
    int64_t skip = page_offset(&p);
    const char *from = "";
    int dir = res->counted && !*filters ? id_direction(r, order_by, id) : 0;
    if (dir && skip >= (1 << STORE_BUCKET_BITS)) {
        int64_t bound, left = skip;
        if ((rc = bucket_start(r, res->table, dir, &left, &bound)) < 0)
            return rc;
        if (rc) {
            skip = left;
            from = arena_printf(r->arena, " AND %s.id %s $%d", a, dir > 0 ? ">=" : "<=", sql_int(&params, bound));
        }
    }
    /* On PostgreSQL a first page's size is written into the statement: with
     * LIMIT $n a generic plan guesses a tenth of the table, which at a million
     * rows makes PostgreSQL plan every request afresh (a custom plan: ~40% of
     * a first page's time); with the number the generic plan is the right one
     * and is kept. Page sizes are few (page_size is at most 1,000), so are
     * these statements; later pages keep their numbers as parameters. */
    const char *window;
    if (skip == 0 && store_kind_of(r->db) == STORE_POSTGRES) {
        window = arena_printf(r->arena, "LIMIT %lld", (long long)p.size);
    } else {
        int limit = sql_int(&params, p.size), offset = sql_int(&params, skip);
        window = arena_printf(r->arena, "LIMIT $%d OFFSET $%d", limit, offset);
    }
    selection sel = {
        .where = arena_printf(r->arena, "%s.id IN (SELECT %s.id FROM %s %s WHERE %s.customer_id = $1%s%s "
                                        "ORDER BY %s %s)",
                              a, a, res->table, a, a, filters, from, order_by, window),
        .order_by = order_by,
        .params = params,
    };
    if (res->loads_in_one_query)
        store_read_last(r->db);
    record_vec out = {0};
    rc = res->load(r, &sel, &out);
    if (!p.last) {
        int counted = store_exec_int(count, &total);
        if (rc >= 0 && counted != STORE_ROW)
            rc = counted < 0 ? counted : STORE_ERROR;
        if (rc >= 0 && !page_check(r, &p, total))
            return VIEW_DONE;
    }
    if (rc < 0)
        return rc;
    respond_page(r, &p, out.items, out.n);
    return VIEW_DONE;
}

int view_retrieve(request *r)
{
    const resource *res = view_resource(r);
    selection sel = {0};
    if (!bind_key(r, res, &sel.params)) {
        respond_error(r, 404, "Not found.");
        return VIEW_DONE;
    }
    sel.where = arena_printf(r->arena, "%s.id = %s AND %s.customer_id = $1", res->alias, res->key_sql, res->alias);
    if (res->loads_in_one_query)
        store_read_last(r->db);   /* one statement: no transaction around it */
    record_vec out = {0};
    int rc = res->load(r, &sel, &out);
    if (rc < 0)
        return rc;
    if (out.n == 0)
        respond_error(r, 404, "Not found.");
    else
        respond_record(r, 200, &out.items[0]);
    return VIEW_DONE;
}

/* ------------------------------------------------------------ writing */

record *view_validate(request *r, const schema *sc, bool partial)
{
    validation v = {.r = r, .partial = partial};
    json_object *errors = NULL;
    record *rec = validate_object(&v, sc, api_input(r), &errors);
    if (!rec)
        respond_validation(r, errors);
    return rec;
}

int view_unique_error(request *r, const char *message)
{
    json_object *errors = json_object_new_object();
    errors_add(errors, "non_field_errors", message);
    respond_validation(r, errors);
    return VIEW_ANSWERED;
}

/* Forget an answer made by a run that did not commit. */
static void discard_answer(request *r, int nheaders)
{
    free(r->resp_body);
    r->resp_body = NULL;
    r->resp_len = 0;
    r->content_type = NULL;
    r->status = 500;
    r->nheaders_out = nheaders;
}

/* A random pause before the next run: up to 1, 2, 4 ... 64 ms. */
static void backoff(int attempt)
{
    static _Thread_local unsigned seed;
    if (!seed)
        seed = (unsigned)monotonic_us() ^ (unsigned)(uintptr_t)&seed;
    int64_t ceiling = 1000LL << (attempt < 6 ? attempt : 6);
    if (ceiling > BACKOFF_MAX_US)
        ceiling = BACKOFF_MAX_US;
    int64_t us = (int64_t)(rand_r(&seed) % (unsigned)ceiling) + 200;
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

int view_write(request *r, view_step prepare, view_step apply, void *ctx)
{
    int nheaders = r->nheaders_out;
    for (int attempt = 1;; attempt++) {
        if (prepare) {
            int rc = prepare(r, ctx);
            if (rc != VIEW_DONE)
                return rc < 0 ? rc : VIEW_DONE;
        }
        outbox_reset(r);
        int rc = store_begin_write(r->db);
        const char *refused = NULL;
        if (rc >= 0) {
            rc = apply(r, ctx);
            if (rc >= 0 && r->status == 0)
                rc = STORE_ERROR;   /* a view that made no answer: a bug, never committed */
            else if (rc >= 0 && r->status < 400 && auth_recheck(r, true, &refused) == 0)
                rc = VIEW_RECHECK;
            else if (rc >= 0 && r->status < 400 && (rc = outbox_flush(r)) >= 0)
                rc = store_commit(r->db);
            else if (rc >= 0)
                store_rollback(r->db);
        }
        if (rc == VIEW_RECHECK) {
            /* the cache forgot the credential since admission: ask outside
             * the transaction (whose own changes, a logout's, a query would
             * see), and run again while it is still good */
            store_rollback(r->db);
            discard_answer(r, nheaders);
            int ok = auth_recheck(r, false, &refused);
            if (ok > 0 && attempt < WRITE_ATTEMPTS)
                continue;
            if (ok == 0)
                auth_refuse(r, refused);
            else
                respond_server_error(r, ok < 0 ? store_errmsg(r->db) : "credentials kept changing");
            return VIEW_DONE;
        }
        if (rc >= 0) {
            if (r->status < 400)
                outbox_committed(r);
            outbox_reset(r);
            return VIEW_DONE;
        }
        const char *why = arena_strdup(r->arena, store_errmsg(r->db));
        store_rollback(r->db);
        discard_answer(r, nheaders);
        if ((rc == STORE_BUSY || rc == VIEW_RETRY) && attempt < WRITE_ATTEMPTS) {
            backoff(attempt);
            continue;
        }
        respond_server_error(r, arena_printf(r->arena, "%s (after %d attempt%s)", why, attempt,
                                             attempt == 1 ? "" : "s"));
        return VIEW_DONE;
    }
}

typedef struct write_ctx {
    const resource *res;
    record *rec;
    bool partial;
} write_ctx;

static int validate_input(request *r, void *ctx)
{
    write_ctx *c = ctx;
    c->rec = c->res->validate ? c->res->validate(r, c->partial) : view_validate(r, c->res->sc, c->partial);
    return c->rec ? VIEW_DONE : VIEW_ANSWERED;
}

/* An update looks for its object before it validates the body, as DRF's
 * get_object() comes first: a missing object is 404 whatever the body. */
static int find_then_validate(request *r, void *ctx)
{
    write_ctx *c = ctx;
    int64_t id;
    int rc = view_object(r, c->res, false, &id);
    return rc != VIEW_DONE ? rc : validate_input(r, ctx);
}

/* A hook's result: a UNIQUE violation is the resource's 400. */
static int hook_result(request *r, const resource *res, int rc)
{
    if (rc == STORE_UNIQUE && res->unique_error)
        return view_unique_error(r, res->unique_error);
    return rc;
}

static int create_apply(request *r, void *ctx)
{
    write_ctx *c = ctx;
    int64_t id = 0;
    int rc = hook_result(r, c->res, c->res->create(r, &c->rec, &id));
    if (rc != VIEW_DONE)
        return rc;
    if (c->res->location)
        request_add_header(r, "Location", c->res->location(r, id, c->rec));
    respond_record(r, 201, c->rec);
    return VIEW_DONE;
}

int view_create(request *r)
{
    write_ctx c = {.res = view_resource(r)};
    return view_write(r, validate_input, create_apply, &c);
}

static int lock_row(request *r, const resource *res, int64_t *id)
{
    return res->lock ? res->lock(r, id) : view_find(r, res, true, id);
}

static int update_apply(request *r, void *ctx)
{
    write_ctx *c = ctx;
    int64_t id = 0;
    int found = lock_row(r, c->res, &id);
    if (found <= 0) {
        if (found == 0)
            respond_error(r, 404, "Not found.");
        return found < 0 ? found : VIEW_ANSWERED;
    }
    int rc = hook_result(r, c->res, c->res->update(r, id, c->rec, c->partial));
    return rc != VIEW_DONE ? rc : view_respond_one(r, c->res, 200, id);
}

static int update(request *r, bool partial)
{
    write_ctx c = {.res = view_resource(r), .partial = partial};
    return view_write(r, find_then_validate, update_apply, &c);
}

int view_put(request *r) { return update(r, false); }
int view_patch(request *r) { return update(r, true); }

static int destroy_apply(request *r, void *ctx)
{
    const resource *res = ((write_ctx *)ctx)->res;
    int64_t id = 0;
    int rc;
    if (res->destroy) {
        rc = lock_row(r, res, &id);
        if (rc > 0)
            rc = res->destroy(r, id);
        else if (rc == 0)
            rc = STORE_DONE;   /* not found */
        if (rc != VIEW_DONE || id == 0) {
            if (rc == VIEW_DONE)
                respond_error(r, 404, "Not found.");
            return rc < 0 ? rc : VIEW_ANSWERED;
        }
    } else {
        /* one statement: of deletes racing for a row, one sees it */
        sql_params p = {0};
        if (!bind_key(r, res, &p)) {
            respond_error(r, 404, "Not found.");
            return VIEW_ANSWERED;
        }
        store_stmt *st = store_prepare(r->db, arena_printf(r->arena, "DELETE FROM %s WHERE id = %s AND customer_id = $1 RETURNING id",
                                                           res->table, res->key_sql));
        if (!st)
            return STORE_ERROR;
        sql_bind(st, &p);
        rc = store_exec_int(st, &id);
        if (rc < 0)
            return rc;
        if (rc == STORE_DONE) {
            respond_error(r, 404, "Not found.");
            return VIEW_ANSWERED;
        }
    }
    respond_no_content(r);
    return VIEW_DONE;
}

int view_destroy(request *r)
{
    write_ctx c = {.res = view_resource(r)};
    return view_write(r, NULL, destroy_apply, &c);
}

void respond_upserted(request *r, const char *list_path, int64_t created, int64_t updated)
{
    request_add_header(r, "Location", arena_printf(r->arena, "%s%s", r->base_url, list_path));
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
