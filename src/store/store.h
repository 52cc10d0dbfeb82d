/*
 * store.h — the one interface between the API layer and a database.
 *
 * A `store` is one connection, owned by one thread at a time (each server
 * worker thread opens its own). SQL text is written once, in the portable
 * subset SQLite and PostgreSQL share, with $1, $2, ... placeholders. A
 * connection prepares each distinct text once and keeps the prepared
 * statement (the text is the cache key, so SQL built at run time, such as
 * an ORDER BY from ?ordering=, is cached too; the cache is bounded).
 *
 * Row locks: a SELECT may end in FOR UPDATE (or FOR UPDATE SKIP LOCKED),
 * PostgreSQL's row locks; SQLite, whose writers take turns, runs the text
 * without them.
 *
 * Behind it: sqlite.c (libsqlite3, WAL, foreign keys on) and pg.c (libpq,
 * prepared statements). The API layer never includes sqlite3.h or
 * libpq-fe.h; the store never sees HTTP.
 *
 * Values cross the interface as int64, text (pointer + length, UTF-8) or
 * NULL. Datetimes are int64 microseconds since the epoch (UTC); decimals
 * are int64 ten-thousandths (see core/decimal.h).
 */
#ifndef STOCKROOM_STORE_H
#define STOCKROOM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_stmt store_stmt;

/* Result codes of store_step() and of the transaction calls. */
enum {
    STORE_ROW = 1,          /* a row is available: read it with store_col_*() */
    STORE_DONE = 0,         /* no (more) rows; the statement has completed */
    STORE_ERROR = -1,       /* anything else; store_errmsg() says what */
    STORE_UNIQUE = -2,      /* a UNIQUE or PRIMARY KEY constraint was violated */
    STORE_FOREIGN_KEY = -3, /* a FOREIGN KEY constraint was violated */
    STORE_BUSY = -4,        /* the database stayed locked past the timeout */
};

typedef enum { STORE_SQLITE, STORE_POSTGRES } store_kind;

/*
 * Open a connection. `url` is a file path for SQLite (":memory:" allowed
 * for tests) or a "postgresql://" / "postgres://" URL (or any libpq
 * conninfo starting with one of those). On failure returns NULL and, when
 * err is not NULL, a malloc'ed message in *err.
 */
store *store_open(const char *url, char **err);
void store_close(store *db);
store_kind store_kind_of(const store *db);
const char *store_errmsg(store *db);

/*
 * Create or migrate the schema to the newest version, in a transaction.
 * `migrations` is the ordered list of DDL scripts for this backend
 * (schema.c holds both lists); the table schema_version records how many
 * have run, so running again is harmless, and two processes starting at
 * once do not both migrate. Returns STORE_DONE or an error code.
 */
int store_migrate(store *db);

/* Is the connection alive? (healthz: runs SELECT 1.) */
bool store_ping(store *db);

/*
 * Transactions. store_begin_write() takes the write lock up front on
 * SQLite (BEGIN IMMEDIATE, so concurrent writers wait for the busy
 * timeout instead of failing on upgrade); on PostgreSQL it is BEGIN.
 * store_begin_read() gives a consistent snapshot for multi-query reads.
 * PostgreSQL sends nothing at begin: BEGIN goes out with the transaction's
 * first statement, in the same round trip, and so does a read's ROLLBACK
 * with its last statement when the caller names it (store_read_last);
 * a ROLLBACK sent any other way is not waited for. A store_commit() of a
 * write returns once the COMMIT is answered (durable as the server's
 * synchronous_commit makes it).
 */
int store_begin_read(store *db);
int store_begin_write(store *db);
int store_commit(store *db);
int store_rollback(store *db);  /* safe to call when no transaction is open */

/*
 * In a read transaction: the next statement sent is the read's last. On
 * PostgreSQL the read ends in that statement's round trip, and a read
 * whose first statement is its last runs it alone, with no transaction
 * around it (one statement's snapshot is its own). A statement after it
 * would see a snapshot of its own: name only what is surely the last.
 * SQLite: nothing (its reads cost no round trips).
 */
void store_read_last(store *db);

/*
 * Statements. store_prepare() returns the connection's cached statement
 * for `sql` (preparing it on first use), reset and with no parameters bound.
 * NULL on a preparation error (a bug in the SQL: logged by the caller).
 * Parameters are numbered from 1; every parameter the SQL names must be
 * bound before the first store_step(). Text is copied if the backend needs
 * it after the call returns, so callers may pass transient buffers.
 */
store_stmt *store_prepare(store *db, const char *sql);
void store_bind_int(store_stmt *st, int idx, int64_t v);
void store_bind_text(store_stmt *st, int idx, const char *s, size_t len);
void store_bind_str(store_stmt *st, int idx, const char *s); /* NUL-terminated; NULL binds NULL */
void store_bind_null(store_stmt *st, int idx);

/* Run or advance: STORE_ROW, STORE_DONE or a negative error code. */
int store_step(store_stmt *st);

/* Send a statement whose parameters are all bound, and read its rows
 * later (its first store_step()): on PostgreSQL it goes out with the next
 * statement stepped, in one round trip (libpq's pipeline mode), so reads
 * that do not depend on each other cost one wait. SQLite: nothing (the
 * statement runs at its first step). */
void store_send(store_stmt *st);

/* Columns of the current row, numbered from 0. Text stays valid until the
 * next store_step() or store_reset() on this statement. */
bool store_col_null(store_stmt *st, int col);
int64_t store_col_int(store_stmt *st, int col);
const char *store_col_text(store_stmt *st, int col, size_t *len);

/* Release the statement's result and bindings (it stays prepared). Calling
 * store_prepare() again does this too; call it when done with a statement
 * before the transaction ends. */
void store_reset(store_stmt *st);

/* Take a lock named by `key` until the transaction ends (PostgreSQL: an
 * advisory transaction lock; SQLite, whose writers take turns: nothing).
 * For writes whose rows cannot be locked in one order beforehand. */
int store_lock_key(store *db, int64_t key);

/*
 * Notifications, PostgreSQL's LISTEN/NOTIFY: store_watch() makes this
 * connection listen on `channel` and hand each notification's payload to
 * fn as its round trips bring them — NULL when some may have been missed
 * (assume anything changed): once as it starts listening (what committed
 * before was not heard here), and when the connection was lost and made
 * again.
 * PostgreSQL sends them at a Sync outside a transaction, and the first
 * round trip of every transaction (a statement run alone ends with one)
 * has such a Sync: so once a statement has been answered, every change
 * committed before it was sent has been handed to fn. STORE_DONE, or an
 * error code; SQLite has no notifications: STORE_ERROR.
 */
int store_watch(store *db, const char *channel, void (*fn)(const char *payload, void *ctx), void *ctx);

/* Rows the last INSERT/UPDATE/DELETE of this connection changed. */
int64_t store_changes(store *db);

/* SQLite: when the WAL file is larger than `limit` bytes, checkpoint it
 * and truncate it (waiting at most a moment for readers: if they do not
 * let go, the next call tries again); returns the size it had, 0 when it
 * was within the limit, -1 on an error. PostgreSQL: 0 (its WAL is the
 * server's business). */
int64_t store_checkpoint(store *db, int64_t limit);

/* A consistent copy of the whole database into a new file at `path`, made
 * while others go on reading and writing (SQLite: VACUUM INTO in one read
 * snapshot, then the copy is fsynced). NULL when done, else a message;
 * PostgreSQL answers how to back it up instead (pg_dump). */
const char *store_backup(store *db, const char *path);

/* Convenience: bind nothing more, step once, return STORE_DONE / error,
 * or STORE_ROW's first column as int64 in *out (when out is not NULL). */
int store_exec_int(store_stmt *st, int64_t *out);

/*
 * Insert n rows into `table` with as few statements as the rows allow:
 * multi-row INSERTs of up to STORE_INSERT_BATCH rows — up to
 * STORE_INSERT_EXACT rows (an order's items, a refund's lines) in one
 * statement of exactly that many, more in batches of powers of two, so a
 * table has a score of statement texts, all cached. `columns`
 * names ncolumns columns ("a, b, c"); bind(st, row, first, ctx) binds row
 * `row`'s values to parameters first .. first + ncolumns - 1. When ids is
 * not NULL it gets the new rows' ids (column id), in row order: ids grow
 * with the VALUES order on both databases, so the returned ids are sorted
 * rather than trusted to come back in order. STORE_DONE or an error code.
 */
#define STORE_INSERT_BATCH 64
#define STORE_INSERT_EXACT 16
int store_insert_rows(store *db, const char *table, const char *columns, int ncolumns, int n,
                      void (*bind)(store_stmt *st, int row, int first, void *ctx), void *ctx, int64_t *ids);

/*
 * Rows of the counted lists are also counted by ranges of ids (the table
 * row_buckets, kept by triggers in the writing transaction: customer, list,
 * bucket = id >> STORE_BUCKET_BITS, n), so a deep page in id order starts
 * from the bucket that holds its first row (views.c).
 */
#define STORE_BUCKET_BITS 12

/*
 * SQLite reads the database file through a memory map of up to this many
 * bytes per connection (PRAGMA mmap_size): a page the OS has cached costs
 * no read() then. 0 reads through SQLite's own page cache only. Set once,
 * before the first store_open(); the mapping is address space, not memory
 * (the pages are the OS's page cache, shared by every connection).
 */
#define STORE_SQLITE_MMAP_DEFAULT (2LL * 1024 * 1024 * 1024)
void store_sqlite_mmap(int64_t bytes);

#endif
