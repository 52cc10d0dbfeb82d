/*
 * janitor.h — what time makes old, removed by the server itself
 * (issue "Years of data"): delivered callbacks after their retention,
 * sessions (with their temporary keys) and OAuth token pairs some time after
 * they expired; on SQLite, a WAL grown past its limit is checkpointed and
 * truncated. One thread per server process, with its own database
 * connection, waking every JANITOR_PERIOD_S. Rows go in batches of
 * JANITOR_BATCH, each its own short transaction with a pause after it, so
 * a backlog of millions never becomes one long write that stalls tenants;
 * the queries that find them walk an index (schema V6). With several
 * server processes on one database each runs its own: they delete the
 * same kind of rows, harmlessly.
 */
#ifndef STOCKROOM_JANITOR_H
#define STOCKROOM_JANITOR_H

#include <stdint.h>

#include "store/store.h"

#define JANITOR_PERIOD_S 30
#define JANITOR_BATCH 500
#define JANITOR_WAL_LIMIT (64 * 1024 * 1024)

typedef struct janitor_config {
    const char *db_url;
    int64_t keep_delivered_us;   /* delivered callbacks are kept this long */
    int64_t keep_expired_us;     /* sessions and tokens, this long past their expiry */
} janitor_config;

/* 0, or -1 with a message on stderr. */
int janitor_start(const janitor_config *cfg);
void janitor_stop(void);

/* One pass now, on this connection (tests and the command line): rows removed. */
int64_t janitor_pass(store *db, const janitor_config *cfg);

#endif
