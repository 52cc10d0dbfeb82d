/*
 * expiry.c — removing expired commands and queueing their nacks (see
 * expiry.h).
 */
#include "api/expiry.h"

#include <stdlib.h>
#include <string.h>

#include "api/devices.h"
#include "api/outbox.h"
#include "core/arena.h"
#include "core/datetime.h"
#include "core/util.h"
#include "core/worker.h"

/* Commands past their expiry, oldest first, along device_commands_expires. */
#define EXPIRED_SQL(LOCK)                                                                          \
    "DELETE FROM device_commands WHERE id IN (SELECT id FROM device_commands WHERE expires <= $1 " \
    "ORDER BY expires LIMIT $2" LOCK ") RETURNING customer_id, device_ref, nonce, step_ref"

typedef struct expired {
    int64_t customer, device;
    const char *nonce;
    bool step;
} expired;

static int by_customer(const void *a, const void *b)
{
    const expired *x = a, *y = b;
    if (x->customer != y->customer)
        return (x->customer > y->customer) - (x->customer < y->customer);
    return (x->device > y->device) - (x->device < y->device);
}

/* The nacks and device events of one customer's expired commands. */
static int report(request *r, const expired *e, size_t n)
{
    int64_t now = datetime_now();
    for (size_t i = 0; i < n; i++) {
        store_stmt *st = store_prepare(r->db, "UPDATE devices SET updated = $2 WHERE id = $1 RETURNING device_id");
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, e[i].device);
        store_bind_int(st, 2, now);
        int rc = store_step(st);
        const char *deviceid = rc == STORE_ROW ? arena_strdup(r->arena, store_col_text(st, 0, NULL)) : NULL;
        store_reset(st);
        if (rc < 0)
            return rc;
        if (!deviceid)
            continue;   /* its device went meanwhile */
        /* a step's command has its stepnonce as its nonce */
        device_callback(r, deviceid, "nack", e[i].nonce, true, 0, e[i].step ? e[i].nonce : NULL);
        outbox_device(r, e[i].device);
    }
    return outbox_flush(r);
}

int expiry_pass(store *db)
{
    int64_t now = datetime_now();
    /* a plain read first: an idle server takes no write lock each time it looks */
    store_stmt *st = store_prepare(db, "SELECT id FROM device_commands WHERE expires <= $1 LIMIT 1");
    if (!st)
        return -1;
    store_bind_int(st, 1, now);
    int rc = store_exec_int(st, NULL);
    if (rc != STORE_ROW)
        return rc < 0 ? -1 : 0;
    arena *a = arena_new(16384);
    if (store_begin_write(db) < 0) {
        arena_free(a);
        return -1;
    }
    st = store_prepare(db, store_kind_of(db) == STORE_POSTGRES ? EXPIRED_SQL(" FOR UPDATE SKIP LOCKED")
                                                                : EXPIRED_SQL(""));
    size_t n = 0, cap = 0;
    expired *e = NULL;
    rc = STORE_ERROR;
    if (st) {
        store_bind_int(st, 1, now);
        store_bind_int(st, 2, EXPIRY_BATCH);
        while ((rc = store_step(st)) == STORE_ROW) {
            e = arena_grow(a, e, n, &cap, sizeof *e);
            e[n].customer = store_col_int(st, 0);
            e[n].device = store_col_int(st, 1);
            e[n].nonce = arena_strdup(a, store_col_text(st, 2, NULL));
            e[n].step = !store_col_null(st, 3);
            n++;
        }
        store_reset(st);
    }
    /* customer by customer, in id order: the outbox's locks are taken in
     * one order by every expiry worker */
    if (n)
        qsort(e, n, sizeof *e, by_customer);
    request *done[EXPIRY_BATCH];
    size_t ndone = 0;
    for (size_t i = 0; i < n && rc >= 0;) {
        size_t j = i;
        while (j < n && e[j].customer == e[i].customer)
            j++;
        request *r = arena_zalloc(a, sizeof *r);
        r->arena = a;
        r->db = db;
        r->customer_id = e[i].customer;
        rc = report(r, e + i, j - i);
        done[ndone++] = r;
        i = j;
    }
    if (rc < 0 || store_commit(db) < 0) {
        log_line("expiry: expiring commands failed: %s", store_errmsg(db));
        store_rollback(db);
        arena_free(a);
        return -1;
    }
    for (size_t i = 0; i < ndone; i++)
        outbox_committed(done[i]);
    arena_free(a);
    return (int)n;
}

static void run_expiry(worker *w)
{
    store *db = NULL;
    while (!worker_stopping(w)) {
        if (!db) {
            char *err = NULL;
            if (!(db = store_open(w->ctx, &err))) {
                log_line("expiry: database: %s", err ? err : "cannot open");
                free(err);
                worker_wait(w, 1000000);
                continue;
            }
        }
        int n = expiry_pass(db);
        if (n < EXPIRY_BATCH)   /* a full batch: more are due at once */
            worker_wait(w, n < 0 ? 1000000 : EXPIRY_POLL_US);
    }
    store_close(db);
}

static worker expiry = WORKER_INIT("command expiry", run_expiry);

int expiry_start(const char *db_url)
{
    expiry.ctx = strdup(db_url);
    return worker_start(&expiry);
}

void expiry_stop(void)
{
    worker_stop(&expiry);
    free(expiry.ctx);
    expiry.ctx = NULL;
}
