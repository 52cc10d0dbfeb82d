/*
 * sqlite.c — the SQLite backend of the store interface (store.h).
 *
 * One sqlite3 connection per store, in WAL mode with foreign keys on.
 * Durability with group commit: SQLite runs with synchronous=NORMAL (its
 * COMMIT does not fsync), and store_commit() of a write transaction returns
 * only once an fdatasync of the WAL file that started after that COMMIT
 * has finished. Concurrent writers share one fdatasync, so a commit that
 * returned survives a crash or power loss, as with synchronous=FULL, at a
 * fraction of the fsyncs.
 * Writers of this process queue on a mutex and then all use one shared
 * writer connection: they wait on each other without SQLite's sleeping busy
 * handler, and the writer's page cache stays warm (a connection's cache is
 * dropped whenever another connection has written). While a store holds
 * the writer, its statements are prepared on that connection. Writers of
 * other processes wait up to 10 s for the lock (busy timeout). Prepared statements
 * are cached per connection by their SQL text in a small open-addressing
 * table; once it is full, further texts are prepared uncached and finalized
 * at the start of the next transaction (a statement handed out stays valid
 * until then, which is all a request needs).
 * Parameters named $1..$N are bound by name, so their order in the text
 * does not matter.
 */
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "core/util.h"

typedef struct lite_stmt {
    struct store_stmt_common common;
    sqlite3_stmt *stmt;
    struct lite_store *db;
    int rc;                            /* last step result */
    bool dirty;                        /* bound or stepped since the last reset */
    int nparams;                       /* the highest $k of the text */
    int param_index[];                 /* $k -> sqlite parameter index (0: absent) */
} lite_stmt;

typedef struct lite_store {
    struct store_common common;
    sqlite3 *conn;
    sqlite3_stmt *begin_deferred, *begin_immediate, *commit, *rollback;
    sqlite3_stmt *savepoint, *release, *rollback_to;   /* one writer's part of a batch */
    bool holds_writer_lock;
    int wal_fd;                  /* the shared writer's WAL, kept open for group commit */
    struct lite_store *active;   /* whose connection runs statements: self, or the writer */
    stmt_cache cache;
    char errbuf[256];
} lite_store;

static int map_rc(lite_store *db, int rc)
{
    switch (rc) {
    case SQLITE_ROW:
        return STORE_ROW;
    case SQLITE_DONE:
    case SQLITE_OK:
        return STORE_DONE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_BUSY;
    default:
        break;
    }
    int ext = sqlite3_extended_errcode(db->conn);
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
        return STORE_UNIQUE;
    if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
        return STORE_FOREIGN_KEY;
    return STORE_ERROR;
}

/* Run a prepared transaction-control statement. */
static int run_control(lite_store *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return map_rc(db, rc);
}

static int exec_sql(lite_store *db, const char *sql)
{
    int rc = sqlite3_exec(db->conn, sql, NULL, NULL, NULL);
    return map_rc(db, rc);
}

/* Before the first connection: no global memory statistics (they take a
 * process-wide mutex on every allocation). */
static void configure_library(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int open_stores;            /* to close the shared writer with the last store */
static struct lite_store *shared_writer;   /* guarded by writer_lock */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

static void write_metrics(FILE *out, void *unused);
static int lite_rollback(store *s);

/* How much of the file each connection reads through a memory map
 * (store.h); set before the first open. */
static int64_t mmap_bytes = STORE_SQLITE_MMAP_DEFAULT;

void store_sqlite_mmap(int64_t bytes)
{
    mmap_bytes = bytes;
}

static store *lite_open(const char *url, char **err)
{
    const char *path = url;
    if (strncmp(path, "sqlite://", 9) == 0)
        path += 9;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_library);
    metrics_register(write_metrics, NULL);
    lite_store *db = calloc(1, sizeof *db);
    if (!db)
        abort();
    db->common.backend = &store_backend_sqlite;
    db->common.kind = STORE_SQLITE;
    db->active = db;
    db->wal_fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
        if (err && asprintf(err, "cannot open SQLite database %s: %s", path,
                            db->conn ? sqlite3_errmsg(db->conn) : "out of memory") < 0)
            *err = NULL;
        sqlite3_close(db->conn);
        free(db);
        return NULL;
    }
    sqlite3_busy_timeout(db->conn, 10000);
    sqlite3_extended_result_codes(db->conn, 1);
    char setup[256];
    snprintf(setup, sizeof setup, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                  "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                                  "PRAGMA cache_size=-8000; PRAGMA mmap_size=%lld;", (long long)mmap_bytes);
    if (exec_sql(db, setup) < 0) {
        if (err && asprintf(err, "cannot set up SQLite database %s: %s", path,
                            sqlite3_errmsg(db->conn)) < 0)
            *err = NULL;
        sqlite3_close(db->conn);
        free(db);
        return NULL;
    }
    /* prepared once: transactions are begun and ended on every request */
    sqlite3_prepare_v3(db->conn, "BEGIN DEFERRED", -1, SQLITE_PREPARE_PERSISTENT, &db->begin_deferred, NULL);
    sqlite3_prepare_v3(db->conn, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &db->begin_immediate, NULL);
    sqlite3_prepare_v3(db->conn, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &db->commit, NULL);
    sqlite3_prepare_v3(db->conn, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &db->rollback, NULL);
    sqlite3_prepare_v3(db->conn, "SAVEPOINT request", -1, SQLITE_PREPARE_PERSISTENT, &db->savepoint, NULL);
    sqlite3_prepare_v3(db->conn, "RELEASE request", -1, SQLITE_PREPARE_PERSISTENT, &db->release, NULL);
    sqlite3_prepare_v3(db->conn, "ROLLBACK TO request", -1, SQLITE_PREPARE_PERSISTENT, &db->rollback_to, NULL);
    __atomic_add_fetch(&open_stores, 1, __ATOMIC_SEQ_CST);
    return (store *)db;
}

static void lite_close(store *s)
{
    lite_store *db = (lite_store *)s;
    /* Counted under writer_lock, where the writer is opened: a store that
     * closes while another thread is opening the writer must not see the
     * count before the writer is in it and close the writer under that
     * thread's commit. */
    if (db->holds_writer_lock)
        lite_rollback(s);   /* closed inside a write: its work goes, the lock is given back */
    lite_store *last_writer = NULL;
    pthread_mutex_lock(&writer_lock);   /* the writer is closed unlocked, so never held here */
    if (__atomic_sub_fetch(&open_stores, 1, __ATOMIC_SEQ_CST) == 1 && db != shared_writer) {
        /* only the shared writer is left: close it too */
        last_writer = shared_writer;
        shared_writer = NULL;
    }
    pthread_mutex_unlock(&writer_lock);
    if (last_writer)
        lite_close((store *)last_writer);
    stmt_cache_clear(&db->cache, &store_backend_sqlite);
    sqlite3_finalize(db->begin_deferred);
    sqlite3_finalize(db->begin_immediate);
    sqlite3_finalize(db->commit);
    sqlite3_finalize(db->rollback);
    sqlite3_finalize(db->savepoint);
    sqlite3_finalize(db->release);
    sqlite3_finalize(db->rollback_to);
    if (db->wal_fd >= 0)
        close(db->wal_fd);
    sqlite3_close(db->conn);
    free(db);
}

static const char *lite_errmsg(store *s)
{
    lite_store *db = ((lite_store *)s)->active;
    if (db->errbuf[0])
        return db->errbuf;
    return sqlite3_errmsg(db->conn);
}

static bool lite_ping(store *s)
{
    lite_store *db = (lite_store *)s;
    return exec_sql(db, "SELECT 1") == STORE_DONE;
}

static int lite_exec_script(store *s, const char *sql) { return exec_sql(((lite_store *)s)->active, sql); }
/*
 * Writers (see the top of the file). A write transaction of this process
 * runs on the shared writer connection, under writer_lock, as a SAVEPOINT
 * inside a batch transaction: when other writers are already queued as it
 * ends, the batch stays open and the next writer continues it; the last
 * one commits. Every writer of a batch is answered only once the batch has
 * committed and an fdatasync covered it (group commit), and a writer that
 * fails rolls back to its own savepoint, leaving the others' work alone.
 * Shared pages (the tables' last leaves, the indexes, sqlite_sequence) are
 * then written to the WAL once per batch instead of once per request.
 */
#define BATCH_MAX 64

static int writers_waiting;      /* queued on writer_lock (atomic) */
static bool batch_open;          /* the writer connection is inside BEGIN: writer_lock */
static int batch_size;           /* savepoints released into it so far: writer_lock */
static uint64_t batch_last;      /* number of the newest batch: writer_lock */

/* Group commit: batches are numbered in order; a syncer makes every batch
 * up to the newest committed one durable with one fdatasync of the WAL,
 * while later ones wait for it. A batch whose COMMIT failed is marked in
 * batch_failed (by number, in a ring: a waiter looks at its own soon). */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_done = PTHREAD_COND_INITIALIZER;
static uint64_t batches_committed, batches_synced;
static uint64_t batch_failed[256];
static bool sync_running;

/* For GET /metrics: writes per batch, and how long each fdatasync took. */
static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64};
static metrics_histogram batch_sizes = {.bounds = batch_bounds, .nbounds = 7};
static metrics_histogram sync_durations = METRICS_DURATION_HISTOGRAM;

static void write_metrics(FILE *out, void *unused)
{
    (void)unused;
    metrics_write_family(out, "stockroom_db_write_batch_size", "histogram",
                         "Writes committed together in one SQLite transaction (group commit).");
    metrics_write_histogram(out, "stockroom_db_write_batch_size", "", &batch_sizes, 1);
    metrics_write_family(out, "stockroom_db_fsync_duration_seconds", "histogram",
                         "Time of each fdatasync of the SQLite WAL (one covers every batch committed before it).");
    metrics_write_histogram(out, "stockroom_db_fsync_duration_seconds", "", &sync_durations, 1e-6);
}

/* Give the writer connection back: keep its last error for store_errmsg(). */
static void release_writer(lite_store *db)
{
    if (db->active != db) {
        snprintf(db->errbuf, sizeof db->errbuf, "%s", lite_errmsg((store *)db));
        db->active = db;
    }
    if (db->holds_writer_lock) {
        db->holds_writer_lock = false;
        pthread_mutex_unlock(&writer_lock);
    }
}

/* The process's writer connection for db's file (db itself when it is on
 * another file than the writer, which only tests do). */
static lite_store *writer_for(lite_store *db)
{
    const char *path = sqlite3_db_filename(db->conn, "main");
    if (!path || !*path)
        return db;   /* :memory: and temporary databases are private */
    if (!shared_writer) {
        char *err = NULL;
        shared_writer = (lite_store *)lite_open(path, &err);
        free(err);
        if (!shared_writer)
            return db;
    }
    const char *wpath = sqlite3_db_filename(shared_writer->conn, "main");
    return wpath && strcmp(wpath, path) == 0 ? shared_writer : db;
}

static int lite_begin_read(store *s)
{
    lite_store *db = (lite_store *)s;
    return run_control(db, db->begin_deferred);
}

/* End the open batch: COMMIT and publish its outcome. writer_lock held. */
static void batch_close(void)
{
    lite_store *w = shared_writer;
    int rc = run_control(w, w->commit);
    if (!sqlite3_get_autocommit(w->conn))
        run_control(w, w->rollback);
    batch_open = false;
    metrics_observe(&batch_sizes, (uint64_t)batch_size, 1);
    pthread_mutex_lock(&sync_lock);
    if (rc < 0)
        batch_failed[batch_last % 256] = batch_last;
    batches_committed = batch_last;
    pthread_cond_broadcast(&sync_done);
    pthread_mutex_unlock(&sync_lock);
}

/* A writer is done with the batch (its savepoint released or rolled back):
 * leave the batch open for a queued writer, or commit it. writer_lock held. */
static void batch_turn_done(void)
{
    if (batch_open && (__atomic_load_n(&writers_waiting, __ATOMIC_SEQ_CST) == 0 ||
                       batch_size >= BATCH_MAX))
        batch_close();
}

static int lite_begin_write(store *s)
{
    lite_store *db = (lite_store *)s;
    if (!db->holds_writer_lock) {
        __atomic_add_fetch(&writers_waiting, 1, __ATOMIC_SEQ_CST);
        pthread_mutex_lock(&writer_lock);
        __atomic_sub_fetch(&writers_waiting, 1, __ATOMIC_SEQ_CST);
        db->holds_writer_lock = true;
    }
    lite_store *w = writer_for(db);
    db->active = w;
    if (w != shared_writer) {
        /* a private file: a plain transaction (close a batch left open for us) */
        if (batch_open)
            batch_close();
        int rc = run_control(w, w->begin_immediate);
        if (rc < 0)
            release_writer(db);
        return rc;
    }
    if (!batch_open) {
        int rc = run_control(w, w->begin_immediate);
        if (rc < 0) {
            release_writer(db);
            return rc;
        }
        batch_open = true;
        batch_size = 0;
        batch_last++;
    }
    int rc = run_control(w, w->savepoint);
    if (rc < 0) {
        batch_turn_done();
        release_writer(db);
    }
    return rc;
}

/* fdatasync the WAL of the connection that wrote. The writer connection
 * keeps its WAL open (the file is only removed when the last connection
 * to the database closes, and the writer is one), so its descriptor is
 * opened once; other connections (tests on private files) open it each
 * time. */
static int sync_wal(lite_store *on)
{
    int fd = on->wal_fd;
    if (fd < 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s-wal", sqlite3_db_filename(on->conn, "main"));
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return errno == ENOENT ? 0 : -1;   /* no WAL: everything is in the database file */
        if (on == shared_writer)
            on->wal_fd = fd;
    }
    int64_t started = monotonic_us();
    int rc = fdatasync(fd);
    metrics_observe(&sync_durations, (uint64_t)(monotonic_us() - started), 1e-6);
    if (fd != on->wal_fd)
        close(fd);
    return rc;
}

/* Wait until batch `seq` has committed and is durable. */
static int wait_durable(lite_store *db, lite_store *on, uint64_t seq)
{
    int rc = 0;
    bool failed = false;
    pthread_mutex_lock(&sync_lock);
    while (batches_committed < seq)
        pthread_cond_wait(&sync_done, &sync_lock);
    failed = batch_failed[seq % 256] == seq;
    while (!failed && batches_synced < seq) {
        if (sync_running) {
            pthread_cond_wait(&sync_done, &sync_lock);
            continue;
        }
        sync_running = true;
        uint64_t target = batches_committed;
        pthread_mutex_unlock(&sync_lock);
        rc = sync_wal(on);
        pthread_mutex_lock(&sync_lock);
        sync_running = false;
        if (rc == 0 && target > batches_synced)
            batches_synced = target;
        pthread_cond_broadcast(&sync_done);
        if (rc < 0)
            break;
    }
    pthread_mutex_unlock(&sync_lock);
    if (failed)
        snprintf(db->errbuf, sizeof db->errbuf, "the batch of writes this one was part of did not commit");
    else if (rc < 0)
        snprintf(db->errbuf, sizeof db->errbuf, "fdatasync of the WAL failed: %s", strerror(errno));
    return failed || rc < 0 ? STORE_ERROR : STORE_DONE;
}

static int lite_commit(store *s)
{
    lite_store *db = (lite_store *)s, *on = db->active;
    if (!db->holds_writer_lock)
        return run_control(db, db->commit);   /* a read transaction */
    if (on != shared_writer) {
        /* a private file: COMMIT, then make it durable alone */
        int rc = run_control(on, on->commit);
        if (!sqlite3_get_autocommit(on->conn))
            return rc;   /* still open: the caller rolls back */
        release_writer(db);
        if (rc < 0)
            return rc;
        return sync_wal(on) < 0 ? STORE_ERROR : STORE_DONE;
    }
    int rc = run_control(on, on->release);
    if (rc < 0)
        return rc;   /* still inside the savepoint: the caller rolls back */
    batch_size++;
    uint64_t seq = batch_last;
    batch_turn_done();
    release_writer(db);
    return wait_durable(db, on, seq);
}

static int lite_rollback(store *s)
{
    lite_store *db = (lite_store *)s, *on = db->active;
    if (!db->holds_writer_lock || on != shared_writer) {
        int rc = sqlite3_get_autocommit(on->conn) ? STORE_DONE : run_control(on, on->rollback);
        release_writer(db);
        return rc;
    }
    /* only this writer's work goes; the batch goes on */
    int rc = run_control(on, on->rollback_to);
    if (rc >= 0)
        rc = run_control(on, on->release);
    if (sqlite3_get_autocommit(on->conn)) {
        /* SQLite ended the whole transaction (an I/O error): the batch is lost */
        batch_open = false;
        pthread_mutex_lock(&sync_lock);
        batch_failed[batch_last % 256] = batch_last;
        batches_committed = batch_last;
        pthread_cond_broadcast(&sync_done);
        pthread_mutex_unlock(&sync_lock);
    }
    batch_turn_done();
    release_writer(db);
    return rc;
}

/* SQLite has no row locks (its writers take turns): the text without its
 * FOR UPDATE clauses, in a malloc'ed copy, or NULL when it has none. */
static char *without_row_locks(const char *sql)
{
    static const char *const clauses[] = {" FOR UPDATE SKIP LOCKED", " FOR UPDATE"};
    if (!strstr(sql, " FOR UPDATE"))
        return NULL;
    char *copy = strdup(sql);
    if (!copy)
        abort();
    for (size_t i = 0; i < sizeof clauses / sizeof clauses[0]; i++) {
        size_t n = strlen(clauses[i]);
        for (char *p = strstr(copy, clauses[i]); p; p = strstr(p, clauses[i]))
            memmove(p, p + n, strlen(p + n) + 1);
    }
    return copy;
}

static int64_t lite_changes(store *s)
{
    return sqlite3_changes64(((lite_store *)s)->active->conn);
}

/* Checkpoint without blocking anyone first (PASSIVE), then truncate: what
 * is left to copy then is little, so writers wait only a moment; readers
 * that do not let go within 200 ms make it wait for the next call. */
static int64_t lite_checkpoint(store *s, int64_t limit)
{
    lite_store *db = (lite_store *)s;
    const char *file = sqlite3_db_filename(db->conn, "main");
    if (!file || !*file)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s-wal", file);
    struct stat wal;
    if (stat(path, &wal) != 0 || wal.st_size <= limit)
        return 0;
    sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_busy_timeout(db->conn, 200);
    int rc = sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_busy_timeout(db->conn, 10000);
    return rc == SQLITE_OK ? (int64_t)wal.st_size : rc == SQLITE_BUSY ? 0 : -1;
}

/* fsync a file, then its directory (so the file's name is durable too). */
static bool sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        strcpy(dir, ".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static const char *lite_backup(store *s, const char *path)
{
    lite_store *db = (lite_store *)s;
    if (access(path, F_OK) == 0)
        return "the backup file exists already: name a new one";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->conn, "VACUUM INTO ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_OK) {
        snprintf(db->errbuf, sizeof db->errbuf, "%s", sqlite3_errmsg(db->conn));
        return db->errbuf;
    }
    if (!sync_file(path)) {
        snprintf(db->errbuf, sizeof db->errbuf, "the copy was written but fsync failed: %s", strerror(errno));
        return db->errbuf;
    }
    return NULL;
}

/* With STOCKROOM_EXPLAIN set, the plan of every statement prepared is
 * logged once ("plan: <statement> :: <step> | <step>"): how the tests
 * check that every query of the API walks an index (test_plans.py). */
static void log_plan(sqlite3 *conn, const char *sql)
{
    static int explain = -1;
    if (explain < 0)
        explain = getenv("STOCKROOM_EXPLAIN") != NULL;
    if (!explain || strncmp(sql, "SELECT", 6) != 0)
        return;
    char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    if (q && sqlite3_prepare_v2(conn, q, -1, &st, NULL) == SQLITE_OK) {
        char steps[2048] = "";
        size_t n = 0;
        while (sqlite3_step(st) == SQLITE_ROW && n < sizeof steps - 4)
            n += (size_t)snprintf(steps + n, sizeof steps - n, "%s%s", n ? " | " : "",
                                  (const char *)sqlite3_column_text(st, 3));
        fprintf(stderr, "plan: %s :: %s\n", sql, steps);
    }
    sqlite3_finalize(st);
    sqlite3_free(q);
}

static store_stmt *lite_compile(store *s, const char *sql)
{
    lite_store *db = ((lite_store *)s)->active;
    db->errbuf[0] = '\0';
    sqlite3_stmt *raw = NULL;
    char *plain = without_row_locks(sql);
    int rc = sqlite3_prepare_v3(db->conn, plain ? plain : sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL);
    if (rc == SQLITE_OK)
        log_plan(db->conn, plain ? plain : sql);
    free(plain);
    if (rc != SQLITE_OK) {
        snprintf(db->errbuf, sizeof db->errbuf, "%s (in: %.120s)", sqlite3_errmsg(db->conn), sql);
        return NULL;
    }
    /* parameters are named $1..$N: map each number to SQLite's index */
    int n = sqlite3_bind_parameter_count(raw), max = 0;
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(raw, i);
        int k = name && name[0] == '$' ? atoi(name + 1) : 0;
        if (k > max)
            max = k;
    }
    lite_stmt *st = calloc(1, sizeof *st + sizeof(int) * (size_t)(max + 1));
    if (!st)
        abort();
    st->common.backend = &store_backend_sqlite;
    st->stmt = raw;
    st->db = db;
    st->nparams = max;
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(raw, i);
        int k = name && name[0] == '$' ? atoi(name + 1) : 0;
        if (k >= 1)
            st->param_index[k] = i;
    }
    return (store_stmt *)st;
}

static stmt_cache *lite_cache(store *s)
{
    return &((lite_store *)s)->active->cache;
}

static void lite_reset(store_stmt *s)
{
    lite_stmt *st = (lite_stmt *)s;
    sqlite3_reset(st->stmt);
    sqlite3_clear_bindings(st->stmt);
    st->rc = 0;
    st->dirty = false;
}

static bool lite_recycle(store_stmt *s)
{
    lite_reset(s);
    return true;
}

static bool lite_in_use(store_stmt *s)
{
    return ((lite_stmt *)s)->dirty;
}

static void lite_finalize(store_stmt *s)
{
    sqlite3_finalize(((lite_stmt *)s)->stmt);
    free(s);
}

static int param(lite_stmt *st, int idx)
{
    st->dirty = true;
    return idx >= 1 && idx <= st->nparams ? st->param_index[idx] : 0;
}

static void lite_bind_int(store_stmt *s, int idx, int64_t v)
{
    lite_stmt *st = (lite_stmt *)s;
    if (param(st, idx))
        sqlite3_bind_int64(st->stmt, param(st, idx), v);
}

static void lite_bind_text(store_stmt *s, int idx, const char *text, size_t len)
{
    lite_stmt *st = (lite_stmt *)s;
    if (param(st, idx))
        sqlite3_bind_text64(st->stmt, param(st, idx), text, len, SQLITE_TRANSIENT, SQLITE_UTF8);
}

static void lite_bind_null(store_stmt *s, int idx)
{
    lite_stmt *st = (lite_stmt *)s;
    if (param(st, idx))
        sqlite3_bind_null(st->stmt, param(st, idx));
}

static int lite_step(store_stmt *s)
{
    lite_stmt *st = (lite_stmt *)s;
    st->dirty = true;
    if (st->rc == SQLITE_DONE)
        return STORE_DONE;
    st->rc = sqlite3_step(st->stmt);
    int rc = map_rc(st->db, st->rc);
    if (rc < 0)
        snprintf(st->db->errbuf, sizeof st->db->errbuf, "%s", sqlite3_errmsg(st->db->conn));
    return rc;
}

static bool lite_col_null(store_stmt *s, int col)
{
    return sqlite3_column_type(((lite_stmt *)s)->stmt, col) == SQLITE_NULL;
}

static int64_t lite_col_int(store_stmt *s, int col)
{
    return sqlite3_column_int64(((lite_stmt *)s)->stmt, col);
}

static const char *lite_col_text(store_stmt *s, int col, size_t *len)
{
    sqlite3_stmt *raw = ((lite_stmt *)s)->stmt;
    const char *t = (const char *)sqlite3_column_text(raw, col);
    if (len)
        *len = t ? (size_t)sqlite3_column_bytes(raw, col) : 0;
    return t ? t : "";
}

/* Statements run at their first step, reads cost no round trip, and one
 * process's writers take turns on one connection: no pipelining. */
static void lite_send(store_stmt *s)
{
    (void)s;
}

static void lite_read_last(store *s)
{
    (void)s;
}

static int lite_watch(store *s, const char *channel, void (*fn)(const char *payload, void *ctx), void *ctx)
{
    snprintf(((lite_store *)s)->errbuf, sizeof ((lite_store *)s)->errbuf, "SQLite has no notifications");
    return STORE_ERROR;
}

const store_backend store_backend_sqlite = {
    .send = lite_send,
    .read_last = lite_read_last,
    .watch = lite_watch,
    .open = lite_open,
    .close = lite_close,
    .errmsg = lite_errmsg,
    .ping = lite_ping,
    .exec_script = lite_exec_script,
    .begin_read = lite_begin_read,
    .begin_write = lite_begin_write,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .changes = lite_changes,
    .checkpoint = lite_checkpoint,
    .backup = lite_backup,
    .cache = lite_cache,
    .compile = lite_compile,
    .recycle = lite_recycle,
    .in_use = lite_in_use,
    .finalize = lite_finalize,
    .bind_int = lite_bind_int,
    .bind_text = lite_bind_text,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .col_null = lite_col_null,
    .col_int = lite_col_int,
    .col_text = lite_col_text,
    .reset = lite_reset,
};
