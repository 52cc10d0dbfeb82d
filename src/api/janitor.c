/*
 * janitor.c — removing old rows in small batches (see janitor.h).
 */
#include "api/janitor.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/datetime.h"
#include "core/util.h"
#include "core/worker.h"
#include "store/store.h"

/* What goes: a table, and the rows (by id) of it past `$1`, oldest first,
 * along the index named in the comment. */
static const struct {
    const char *what;
    const char *sql;
    bool delivered;   /* $1 from keep_delivered, else keep_expired */
} chores[] = {
    {"delivered callbacks", /* callbacks_delivered */
     "DELETE FROM callbacks WHERE id IN (SELECT id FROM callbacks WHERE delivered IS NOT NULL "
     "AND delivered < $1 ORDER BY delivered LIMIT $2)", true},
    {"streamed events", /* events_created: kept as long as delivered callbacks */
     "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created < $1 ORDER BY created LIMIT $2)",
     true},
    {"expired sessions", /* sessions_expires */
     "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires < $1 ORDER BY expires LIMIT $2)",
     false},
    {"expired OAuth tokens", /* oauth_tokens_expires */
     "DELETE FROM oauth_tokens WHERE id IN (SELECT id FROM oauth_tokens WHERE refresh_expires < $1 "
     "ORDER BY refresh_expires LIMIT $2)", false},
};

static void run_janitor(worker *w);
static worker janitor = WORKER_INIT("janitor", run_janitor);
static janitor_config config;

/* One batch: rows deleted, or -1. */
static int batch(store *db, const char *sql, int64_t before)
{
    if (store_begin_write(db) < 0)
        return -1;
    store_stmt *st = store_prepare(db, sql);
    int64_t n = -1;
    if (st) {
        store_bind_int(st, 1, before);
        store_bind_int(st, 2, JANITOR_BATCH);
        if (store_exec_int(st, NULL) >= 0)
            n = store_changes(db);
    }
    if (n < 0 || store_commit(db) < 0) {
        store_rollback(db);
        return -1;
    }
    return (int)n;
}

/* PostgreSQL spreads each bucket of row_buckets over up to 16 rows (one
 * per backend that wrote it, so writers do not queue on one row); a list's
 * count sums them all. Every bucket but a list's newest (where inserts
 * land) is folded back into one row, in one statement whose row locks
 * keep it exact beside writers: the count reads a row a bucket again. */
static void fold_buckets(store *db)
{
    if (store_kind_of(db) != STORE_POSTGRES || store_begin_write(db) < 0)
        return;
    store_stmt *st = store_prepare(db,
        "WITH folded AS (DELETE FROM row_buckets b WHERE shard <> 0 AND bucket < "
        "(SELECT max(bucket) FROM row_buckets m WHERE m.customer_id = b.customer_id AND m.kind = b.kind) "
        "RETURNING customer_id, kind, bucket, n) "
        "INSERT INTO row_buckets (customer_id, kind, bucket, shard, n) "
        "SELECT customer_id, kind, bucket, 0, sum(n) FROM folded GROUP BY customer_id, kind, bucket "
        "ON CONFLICT (customer_id, kind, bucket, shard) DO UPDATE SET n = row_buckets.n + excluded.n");
    int64_t n = -1;
    if (st && store_exec_int(st, NULL) >= 0)
        n = store_changes(db);
    if (n < 0 || store_commit(db) < 0) {
        log_line("janitor: folding row_buckets failed: %s", store_errmsg(db));
        store_rollback(db);
    }
}

int64_t janitor_pass(store *db, const janitor_config *cfg)
{
    fold_buckets(db);
    int64_t now = datetime_now(), total = 0;
    for (size_t i = 0; i < sizeof chores / sizeof chores[0]; i++) {
        int64_t before = now - (chores[i].delivered ? cfg->keep_delivered_us : cfg->keep_expired_us);
        int64_t removed = 0;
        int n;
        do {
            n = batch(db, chores[i].sql, before);
            if (n < 0) {
                log_line("janitor: removing %s failed: %s", chores[i].what, store_errmsg(db));
                break;
            }
            removed += n;
            if (n == JANITOR_BATCH) {   /* more to go: let the tenants' writes in first */
                struct timespec pause = {0, 20 * 1000000};
                nanosleep(&pause, NULL);
            }
        } while (n == JANITOR_BATCH && !worker_stopping(&janitor));
        if (removed)
            log_line("janitor: removed %lld %s", (long long)removed, chores[i].what);
        total += removed;
    }
    int64_t wal = store_checkpoint(db, JANITOR_WAL_LIMIT);
    if (wal > 0)
        log_line("janitor: the WAL had grown to %lld bytes: checkpointed and truncated", (long long)wal);
    return total;
}

static void run_janitor(worker *w)
{
    store *db = NULL;
    while (!worker_stopping(w)) {
        if (!db) {
            char *err = NULL;
            if (!(db = store_open(config.db_url, &err))) {
                log_line("janitor: database: %s", err ? err : "cannot open");
                free(err);
            }
        }
        if (db)
            janitor_pass(db, &config);
        worker_wait(w, JANITOR_PERIOD_S * 1000000LL);
    }
    store_close(db);
}

int janitor_start(const janitor_config *cfg)
{
    config = *cfg;
    return worker_start(&janitor);
}

void janitor_stop(void)
{
    worker_stop(&janitor);
}
