/*
 * store.c — dispatch of the store interface to its backend (sqlite.c, pg.c)
 * and the parts every backend shares: choosing a backend from the URL,
 * migrations, and small conveniences.
 */
#include "backend.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSERT_SQL_MAX 16384

#define B(db) (((struct store_common *)(db))->backend)
#define BS(st) (((struct store_stmt_common *)(st))->backend)

static bool is_pg_url(const char *url)
{
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

store *store_open(const char *url, char **err)
{
    const store_backend *b = is_pg_url(url) ? &store_backend_pg : &store_backend_sqlite;
    return b->open(url, err);
}

void store_close(store *db)
{
    if (db)
        B(db)->close(db);
}

store_kind store_kind_of(const store *db) { return ((const struct store_common *)db)->kind; }
const char *store_errmsg(store *db) { return B(db)->errmsg(db); }
bool store_ping(store *db) { return B(db)->ping(db); }
int store_begin_read(store *db) { return B(db)->begin_read(db); }
int store_begin_write(store *db) { return B(db)->begin_write(db); }
int store_commit(store *db) { return B(db)->commit(db); }
int store_rollback(store *db) { return B(db)->rollback(db); }
int64_t store_changes(store *db) { return B(db)->changes(db); }
void store_read_last(store *db) { B(db)->read_last(db); }
void store_send(store_stmt *st) { BS(st)->send(st); }

int store_watch(store *db, const char *channel, void (*fn)(const char *payload, void *ctx), void *ctx)
{
    return B(db)->watch(db, channel, fn, ctx);
}

int store_lock_key(store *db, int64_t key)
{
    if (store_kind_of(db) != STORE_POSTGRES)
        return STORE_DONE;
    store_stmt *st = store_prepare(db, "SELECT pg_advisory_xact_lock($1)");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, key);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : STORE_DONE;
}
int64_t store_checkpoint(store *db, int64_t limit) { return B(db)->checkpoint(db, limit); }
const char *store_backup(store *db, const char *path) { return B(db)->backup(db, path); }
void store_bind_int(store_stmt *st, int idx, int64_t v) { BS(st)->bind_int(st, idx, v); }
void store_bind_null(store_stmt *st, int idx) { BS(st)->bind_null(st, idx); }
int store_step(store_stmt *st) { return BS(st)->step(st); }
bool store_col_null(store_stmt *st, int col) { return BS(st)->col_null(st, col); }
int64_t store_col_int(store_stmt *st, int col) { return BS(st)->col_int(st, col); }
void store_reset(store_stmt *st) { BS(st)->reset(st); }

/* ---- the statement cache (backend.h) ---------------------------------- */

static uint64_t hash_text(const char *s)
{
    uint64_t h = 14695981039346656037ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void list_unlink(stmt_cache *c, cache_entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void list_push(stmt_cache *c, cache_entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
}

static void entry_drop(stmt_cache *c, cache_entry *e, const store_backend *b)
{
    cache_entry **at = &c->buckets[e->hash & (STMT_CACHE_BUCKETS - 1)];
    while (*at != e)
        at = &(*at)->hnext;
    *at = e->hnext;
    list_unlink(c, e);
    c->count--;
    b->finalize(e->st);
    free(e->sql);
    free(e);
}

void stmt_cache_clear(stmt_cache *c, const store_backend *b)
{
    while (c->newest)
        entry_drop(c, c->newest, b);
}

store_stmt *store_prepare(store *db, const char *sql)
{
    const store_backend *b = B(db);
    stmt_cache *c = b->cache(db);
    uint64_t hash = hash_text(sql);
    for (cache_entry *e = c->buckets[hash & (STMT_CACHE_BUCKETS - 1)]; e; e = e->hnext) {
        if (e->hash == hash && strcmp(e->sql, sql) == 0) {
            if (!b->recycle(e->st))
                return NULL;
            list_unlink(c, e);
            list_push(c, e);
            return e->st;
        }
    }
    store_stmt *st = b->compile(db, sql);
    if (!st)
        return NULL;
    cache_entry *e = calloc(1, sizeof *e);
    char *copy = strdup(sql);
    if (!e || !copy)
        abort();
    *e = (cache_entry){.hash = hash, .sql = copy, .st = st};
    e->hnext = c->buckets[hash & (STMT_CACHE_BUCKETS - 1)];
    c->buckets[hash & (STMT_CACHE_BUCKETS - 1)] = e;
    list_push(c, e);
    c->count++;
    /* past the bound: the least recently used statements not in use go */
    for (cache_entry *old = c->oldest; old && c->count > STMT_CACHE_MAX;) {
        cache_entry *newer = old->newer;
        if (old != e && !b->in_use(old->st))
            entry_drop(c, old, b);
        old = newer;
    }
    return st;
}

void store_bind_text(store_stmt *st, int idx, const char *s, size_t len)
{
    BS(st)->bind_text(st, idx, s, len);
}

void store_bind_str(store_stmt *st, int idx, const char *s)
{
    if (s)
        BS(st)->bind_text(st, idx, s, strlen(s));
    else
        BS(st)->bind_null(st, idx);
}

/* NULL reads as "" (length 0) from every backend; store_col_null() tells them apart. */
const char *store_col_text(store_stmt *st, int col, size_t *len)
{
    size_t n = 0;
    const char *t = BS(st)->col_text(st, col, &n);
    if (len)
        *len = t ? n : 0;
    return t ? t : "";
}

int store_exec_int(store_stmt *st, int64_t *out)
{
    int rc = store_step(st);
    if (rc == STORE_ROW && out)
        *out = store_col_int(st, 0);
    store_reset(st);
    return rc;
}

/*
 * Migrations run under the write lock (BEGIN IMMEDIATE on SQLite; on
 * PostgreSQL an advisory transaction lock), so two processes starting at
 * once serialise and the second sees the first's version.
 */
int store_migrate(store *db)
{
    int count = 0;
    const char *const *steps = schema_migrations(store_kind_of(db), &count);
    int rc = store_begin_write(db);
    if (rc < 0)
        return rc;
    if (store_kind_of(db) == STORE_POSTGRES) {
        store_stmt *lock = store_prepare(db, "SELECT pg_advisory_xact_lock(7210001)");
        if (!lock || store_exec_int(lock, NULL) < 0)
            goto fail;
    }
    if (B(db)->exec_script(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)") < 0)
        goto fail;
    int64_t version = 0;
    store_stmt *st = store_prepare(db, "SELECT version FROM schema_version");
    if (!st)
        goto fail;
    rc = store_exec_int(st, &version);
    if (rc < 0)
        goto fail;
    if (rc == STORE_DONE) {
        st = store_prepare(db, "INSERT INTO schema_version (version) VALUES (0)");
        if (!st || store_exec_int(st, NULL) < 0)
            goto fail;
    }
    for (int64_t i = version; i < count; i++) {
        if (B(db)->exec_script(db, steps[i]) < 0)
            goto fail;
        st = store_prepare(db, "UPDATE schema_version SET version = $1");
        if (!st)
            goto fail;
        store_bind_int(st, 1, i + 1);
        if (store_exec_int(st, NULL) < 0)
            goto fail;
    }
    return store_commit(db);
fail:
    fprintf(stderr, "stockroom: migration failed: %s\n", store_errmsg(db));
    store_rollback(db);
    return STORE_ERROR;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int store_insert_rows(store *db, const char *table, const char *columns, int ncolumns, int n,
                      void (*bind)(store_stmt *st, int row, int first, void *ctx), void *ctx, int64_t *ids)
{
    char sql[INSERT_SQL_MAX];
    for (int done = 0; done < n;) {
        int batch = STORE_INSERT_BATCH;
        while (batch > n - done)
            batch /= 2;
        if (n - done <= STORE_INSERT_EXACT)
            batch = n - done;
        /* built by hand, not by snprintf() per parameter: this runs for
         * every nested write, and the text is only a key for the cache */
        int len = snprintf(sql, sizeof sql, "INSERT INTO %s (%s) VALUES ", table, columns);
        if (len + (size_t)batch * (size_t)ncolumns * 8 + 32 >= sizeof sql)
            return STORE_ERROR;   /* too many columns for one statement: a caller's bug */
        for (int row = 0, p = 1; row < batch; row++) {
            if (row) {
                sql[len++] = ',';
                sql[len++] = ' ';
            }
            sql[len++] = '(';
            for (int c = 0; c < ncolumns; c++, p++) {
                if (c) {
                    sql[len++] = ',';
                    sql[len++] = ' ';
                }
                sql[len++] = '$';
                char digits[8];
                int nd = 0;
                for (int v = p; v; v /= 10)
                    digits[nd++] = (char)('0' + v % 10);
                while (nd)
                    sql[len++] = digits[--nd];
            }
            sql[len++] = ')';
        }
        snprintf(sql + len, sizeof sql - (size_t)len, "%s", ids ? " RETURNING id" : "");
        store_stmt *st = store_prepare(db, sql);
        if (!st)
            return STORE_ERROR;
        for (int row = 0; row < batch; row++)
            bind(st, done + row, 1 + row * ncolumns, ctx);
        int rc, got = 0;
        while ((rc = store_step(st)) == STORE_ROW)
            if (ids && got < batch)
                ids[done + got++] = store_col_int(st, 0);
        store_reset(st);
        if (rc < 0)
            return rc;
        if (ids)
            qsort(ids + done, (size_t)got, sizeof *ids, by_value);
        done += batch;
    }
    return STORE_DONE;
}
