/*
 * backend.h — the table of functions each database backend (sqlite.c,
 * pg.c) provides, and the headers every backend's store and statement
 * begin with, so store.c can dispatch the public store.h calls to them.
 * Only the store/ files include this; the API layer sees store.h alone.
 */
#ifndef STOCKROOM_BACKEND_H
#define STOCKROOM_BACKEND_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The statement cache, one for every backend (store.c): each connection
 * keeps the statements it prepared, by their SQL text, most recently used
 * first; past STMT_CACHE_MAX the least recently used statement not in use
 * is finalized. A backend embeds one in each connection and says which
 * one a store's statements run on now (SQLite: the shared writer's while
 * it writes).
 */
#define STMT_CACHE_MAX 512
#define STMT_CACHE_BUCKETS 1024   /* a power of two */

typedef struct cache_entry {
    struct cache_entry *hnext, *newer, *older;
    uint64_t hash;
    char *sql;
    store_stmt *st;
} cache_entry;

typedef struct stmt_cache {
    cache_entry *buckets[STMT_CACHE_BUCKETS];
    cache_entry *newest, *oldest;
    int count;
} stmt_cache;

typedef struct store_backend {
    store *(*open)(const char *url, char **err);
    void (*close)(store *db);
    const char *(*errmsg)(store *db);
    bool (*ping)(store *db);
    int (*exec_script)(store *db, const char *sql);   /* run ';'-separated DDL, no params, no rows */
    int (*begin_read)(store *db);
    int (*begin_write)(store *db);
    int (*commit)(store *db);
    int (*rollback)(store *db);
    int64_t (*changes)(store *db);
    int64_t (*checkpoint)(store *db, int64_t limit);
    const char *(*backup)(store *db, const char *path);
    /* statements: the cache of the connection they run on now; compile
     * one there (NULL, with the message for errmsg, on an error); make a
     * cached one ready again (reset, no bindings; false: it cannot be, e.g.
     * a PostgreSQL session lost and not prepared again); is it in use
     * (bound or stepped since its last reset: never evicted); finalize. */
    stmt_cache *(*cache)(store *db);
    store_stmt *(*compile)(store *db, const char *sql);
    bool (*recycle)(store_stmt *st);
    bool (*in_use)(store_stmt *st);
    void (*finalize)(store_stmt *st);
    void (*bind_int)(store_stmt *st, int idx, int64_t v);
    void (*bind_text)(store_stmt *st, int idx, const char *s, size_t len);
    void (*bind_null)(store_stmt *st, int idx);
    int (*step)(store_stmt *st);
    bool (*col_null)(store_stmt *st, int col);
    int64_t (*col_int)(store_stmt *st, int col);
    const char *(*col_text)(store_stmt *st, int col, size_t *len);
    void (*reset)(store_stmt *st);
    /* pipelining and notifications (store.h) */
    void (*send)(store_stmt *st);
    void (*read_last)(store *db);
    int (*watch)(store *db, const char *channel, void (*fn)(const char *payload, void *ctx), void *ctx);
} store_backend;

/* Every store (whatever its backend) starts with this header so store.c can dispatch. */
struct store_common { const store_backend *backend; store_kind kind; };
/* Every store_stmt likewise. */
struct store_stmt_common { const store_backend *backend; };

/* Finalize every statement of a cache (a connection closing). */
void stmt_cache_clear(stmt_cache *c, const store_backend *b);

extern const store_backend store_backend_pg;
extern const store_backend store_backend_sqlite;

#endif
