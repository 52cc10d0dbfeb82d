/*
 * pg.c — the PostgreSQL backend of the store interface (libpq; see store.h).
 *
 * One PGconn per store, used by one thread at a time; no mutable globals.
 * The connection stays in libpq's pipeline mode: what a request sends goes
 * out together and its answers are read back in order, so a round trip
 * carries as much as the code allows — a statement's first PREPARE rides
 * with its first execution, BEGIN with the transaction's first statement,
 * a read's ROLLBACK with its last statement (store_read_last), statements
 * given to store_send() with the next one stepped, and the ROLLBACK of a
 * transaction that ends any other way is sent without waiting for its
 * answer (read before the connection's next answer).
 * Sessions set commit_delay for group commit (see PG_COMMIT_DELAY_US).
 * Each distinct SQL text is prepared once per session under a generated
 * name and kept in the store layer's cache (backend.h), which DEALLOCATEs
 * (finalize) what it evicts. Values travel as text; errors map by SQLSTATE
 * to STORE_UNIQUE, STORE_FOREIGN_KEY and STORE_BUSY.
 * A lost connection is re-established, never inside a transaction: when a
 * round trip that began a transaction (or belongs to a read) finds it lost,
 * the connection is reset and that round trip sent once more; cached
 * statements are then prepared again on their next use, so statement
 * pointers stay valid.
 * A watched connection (store_watch) LISTENs, and the first round trip of
 * every transaction starts with a Sync, so that PostgreSQL, idle outside a
 * transaction there, sends every notification committed before it; they
 * are handed on after each round trip. A connection made again LISTENs
 * again and says notifications may have been missed.
 */
#include "backend.h"

#include <libpq-fe.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_MAX_PARAMS 65535         /* the protocol's limit */
#define PG_KEEP_BUF (64 * 1024)     /* bigger parameter buffers are freed on reset */
#define PG_ANSWERS_MAX 64           /* answers owed at once; more: read them first */
/* Group commit: a COMMIT that finds at least commit_siblings (5) other
 * transactions open waits this long for theirs before it flushes the WAL,
 * so one flush makes them all durable (docs/decisions.md, "Group commit on
 * PostgreSQL"). A superuser's, or a role's granted SET ON PARAMETER
 * commit_delay (PostgreSQL 15); others keep PostgreSQL's own sharing. */
#define PG_COMMIT_DELAY_US "1000"

typedef struct pg_param {
    char *heap;                     /* owned copy of long text, reused */
    size_t cap;
    char small[24];                 /* an int64 in decimal, or short text */
} pg_param;

struct pg_store;

struct pg_stmt {
    struct store_stmt_common common;
    struct pg_store *db;
    char *sql;
    char name[24];
    int nparams;
    bool prepared;                  /* exists in the current session */
    bool prepare_sent;              /* its PREPARE is on its way */
    bool dirty;                     /* bound or executed since the last reset */
    bool executed;                  /* sent (and, unless `sent`, answered) */
    bool sent;                      /* sent, its answer not read yet */
    const char *bind_err;           /* a binding mistake, reported by step */
    const char **values;            /* sent to the server; NULL is SQL NULL */
    pg_param *params;
    PGresult *res;
    int rc;                         /* step's answer after the last row */
    int row, nrows;
};

/* What the server owes, in the order it answers. */
typedef struct pg_answer {
    enum { ANSWER_COMMAND, ANSWER_PREPARE, ANSWER_ROWS, ANSWER_SYNC } kind;
    struct pg_stmt *st;             /* PREPARE and ROWS */
    bool commit;                    /* a COMMIT: answered ROLLBACK, it failed */
} pg_answer;

/* Where a transaction stands. PENDING: asked for, nothing sent yet. */
typedef enum {
    TXN_NONE,
    TXN_READ_PENDING,
    TXN_READ_OPEN,
    TXN_READ_ENDED,                 /* its last statement went out with ROLLBACK (or alone) */
    TXN_WRITE_PENDING,
    TXN_WRITE_OPEN,
} pg_txn;

struct pg_store {
    struct store_common common;
    PGconn *conn;
    pg_txn txn;
    bool read_last;                 /* store_read_last(): the next statement ends the read */
    pg_answer answers[PG_ANSWERS_MAX];
    int first, owed;                /* a ring of answers owed */
    bool unsynced;                  /* sent since the last Sync */
    int command_rc;                 /* the last COMMAND's result (COMMIT's) */
    char *channel;                  /* store_watch(): what it listens on ... */
    void (*notify)(const char *payload, void *ctx);   /* ... and who hears it */
    void *notify_ctx;
    uint64_t names;                 /* statement names issued */
    int64_t changes;                /* rows the last statement changed */
    stmt_cache cache;
    char err[1024];
};

#define PG(s) ((struct pg_store *)(s))
#define ST(s) ((struct pg_stmt *)(s))

/* ---- memory and messages ---------------------------------------------- */

static void out_of_memory(void)
{
    fputs("stockroom: out of memory\n", stderr);
    abort();
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        out_of_memory();
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        out_of_memory();
    return p;
}

/* Copy `msg` into dst on one line: runs of whitespace become one space. */
static void tidy(char *dst, size_t size, const char *msg)
{
    size_t n = 0;
    bool space = false;
    for (const char *p = msg; *p && n + 1 < size; p++) {
        if (isspace((unsigned char)*p)) {
            space = n > 0;
            continue;
        }
        if (space && n + 2 < size)
            dst[n++] = ' ';
        space = false;
        dst[n++] = *p;
    }
    dst[n] = '\0';
}

static void set_err(struct pg_store *db, const char *msg)
{
    tidy(db->err, sizeof db->err, msg);
}

static int code_of(const char *sqlstate)
{
    if (!sqlstate)
        return STORE_ERROR;
    if (strcmp(sqlstate, "23505") == 0)
        return STORE_UNIQUE;
    if (strcmp(sqlstate, "23503") == 0)
        return STORE_FOREIGN_KEY;
    if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
        strcmp(sqlstate, "55P03") == 0)
        return STORE_BUSY;
    return STORE_ERROR;
}

/* Record the error of a failed result (NULL: of the connection); its code. */
static int result_err(struct pg_store *db, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    char buf[sizeof db->err];
    if (primary)
        snprintf(buf, sizeof buf, "%s (SQLSTATE %s)%s%s", primary, state ? state : "?",
                 detail ? " " : "", detail ? detail : "");
    else if (*PQerrorMessage(db->conn))
        snprintf(buf, sizeof buf, "%s", PQerrorMessage(db->conn));
    else
        snprintf(buf, sizeof buf, "unexpected result: %s", PQresStatus(PQresultStatus(res)));
    set_err(db, buf);
    return code_of(state);
}

/* ---- the pipeline: what is sent, and what the server owes -------------- */

static void owe(struct pg_store *db, int kind, struct pg_stmt *st, bool commit)
{
    db->answers[(db->first + db->owed) % PG_ANSWERS_MAX] = (pg_answer){.kind = kind, .st = st, .commit = commit};
    db->owed++;
}

/* The connection is gone: every answer owed fails with `why`. */
static void lost(struct pg_store *db, const char *why)
{
    char buf[sizeof db->err];
    snprintf(buf, sizeof buf, "%s: %s", why, PQerrorMessage(db->conn));
    set_err(db, buf);
    for (; db->owed > 0; db->owed--, db->first = (db->first + 1) % PG_ANSWERS_MAX) {
        struct pg_stmt *st = db->answers[db->first].st;
        if (!st)
            continue;
        if (db->answers[db->first].kind == ANSWER_ROWS) {
            st->sent = false;
            st->rc = STORE_ERROR;
        } else {
            st->prepare_sent = false;
        }
    }
    db->first = 0;
    db->unsynced = false;
    db->command_rc = STORE_ERROR;
}

static bool send_command(struct pg_store *db, const char *sql)
{
    if (!PQsendQueryParams(db->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
        return false;
    owe(db, ANSWER_COMMAND, NULL, strcmp(sql, "COMMIT") == 0);
    db->unsynced = true;
    return true;
}

static bool send_prepare(struct pg_stmt *st)
{
    if (!PQsendPrepare(st->db->conn, st->name, st->sql, 0, NULL))
        return false;
    owe(st->db, ANSWER_PREPARE, st, false);
    st->prepare_sent = true;
    st->db->unsynced = true;
    return true;
}

static bool send_execute(struct pg_stmt *st)
{
    if (!PQsendQueryPrepared(st->db->conn, st->name, st->nparams, st->values, NULL, NULL, 0))
        return false;
    owe(st->db, ANSWER_ROWS, st, false);
    st->sent = true;
    st->db->unsynced = true;
    return true;
}

/* A statement's answer: its rows, or its error (an earlier error of the
 * same round trip skips it: it answers with that error's code). */
static void take_rows(struct pg_store *db, struct pg_stmt *st, PGresult *res, int *failed)
{
    st->sent = false;
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        st->res = res;
        st->nrows = PQntuples(res);
        st->rc = STORE_DONE;
        db->changes = strtoll(PQcmdTuples(res), NULL, 10);
        return;
    case PGRES_PIPELINE_ABORTED:
        st->rc = *failed ? *failed : STORE_ERROR;
        break;
    default:
        st->rc = result_err(db, res);
        if (!*failed)
            *failed = st->rc;
        break;
    }
    PQclear(res);
}

/* The answer to a command (BEGIN, COMMIT, ROLLBACK, DEALLOCATE, SELECT 1)
 * or a PREPARE. A COMMIT of a failed transaction answers ROLLBACK. */
static void take_other(struct pg_store *db, const pg_answer *a, PGresult *res, int *failed)
{
    ExecStatusType s = PQresultStatus(res);
    int rc = STORE_DONE;
    if (s == PGRES_PIPELINE_ABORTED) {
        rc = *failed ? *failed : STORE_ERROR;
    } else if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        rc = result_err(db, res);
        if (!*failed)
            *failed = rc;
    } else if (a->commit && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        set_err(db, "the transaction had failed, so COMMIT rolled it back");
        rc = STORE_ERROR;
    }
    if (a->kind == ANSWER_PREPARE) {
        a->st->prepare_sent = false;
        a->st->prepared = rc == STORE_DONE;
    } else {
        db->command_rc = rc;
    }
    PQclear(res);
}

/* Hand on the notifications the last answers brought (store_watch). */
static void deliver(struct pg_store *db)
{
    PGnotify *note;
    while ((note = PQnotifies(db->conn)) != NULL) {
        if (db->notify)
            db->notify(note->extra, db->notify_ctx);
        PQfreemem(note);
    }
}

/*
 * One round trip: a Sync after what was sent, then every answer owed, in
 * order (statements get theirs; db->command_rc is the last command's).
 * False when the connection was lost (every answer owed then failed).
 */
static bool round_trip(struct pg_store *db)
{
    if (db->unsynced) {
        if (!PQpipelineSync(db->conn)) {
            lost(db, "cannot send to PostgreSQL");
            return false;
        }
        owe(db, ANSWER_SYNC, NULL, false);
        db->unsynced = false;
    }
    int failed = 0;   /* the first error since the last Sync */
    while (db->owed > 0) {
        pg_answer a = db->answers[db->first];
        PGresult *res = PQgetResult(db->conn);
        if (!res) {
            lost(db, PQstatus(db->conn) == CONNECTION_BAD ? "the connection to PostgreSQL was lost"
                                                          : "out of step with PostgreSQL");
            return false;
        }
        db->first = (db->first + 1) % PG_ANSWERS_MAX;
        db->owed--;
        if (a.kind == ANSWER_SYNC) {
            if (PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
                PQclear(res);
                lost(db, "out of step with PostgreSQL");
                return false;
            }
            PQclear(res);
            failed = 0;
            continue;
        }
        if (a.kind == ANSWER_ROWS)
            take_rows(db, a.st, res, &failed);
        else
            take_other(db, &a, res, &failed);
        while ((res = PQgetResult(db->conn)) != NULL)   /* the end of this answer */
            PQclear(res);
        if (PQstatus(db->conn) == CONNECTION_BAD) {
            lost(db, "the connection to PostgreSQL was lost");
            return false;
        }
    }
    deliver(db);
    return true;
}

/* ---- connection ---------------------------------------------------------- */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void forget_prepared(struct pg_store *db)
{
    for (cache_entry *e = db->cache.newest; e; e = e->older) {
        ST(e->st)->prepared = false;
        ST(e->st)->prepare_sent = false;
    }
}

static int listen_again(struct pg_store *db);

/* A new session's settings (group commit, when the role may set it: if
 * not, PostgreSQL's own sharing of flushes), then pipeline mode. */
static bool session_setup(PGconn *conn)
{
    PQclear(PQexec(conn, "SET commit_delay = " PG_COMMIT_DELAY_US));
    /* No JIT: a statement here reads a page of rows, and compiling one for a
     * plan whose estimate is large costs tens of milliseconds each time
     * (189 ms for a first page of orders under a generic plan, against 1 ms). */
    PQclear(PQexec(conn, "SET jit = off"));
    return PQenterPipelineMode(conn);
}

/* A new session in place of a lost one (listening again, if watched:
 * what was notified meanwhile is lost, and the watcher told so). */
static bool reconnect(struct pg_store *db)
{
    lost(db, "reconnecting");
    PQreset(db->conn);
    forget_prepared(db);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        set_err(db, PQerrorMessage(db->conn));
        return false;
    }
    if (PQpipelineStatus(db->conn) == PQ_PIPELINE_OFF && !session_setup(db->conn)) {
        set_err(db, PQerrorMessage(db->conn));
        return false;
    }
    if (db->channel) {
        if (listen_again(db) < 0)
            return false;
        db->notify(NULL, db->notify_ctx);
    }
    return true;
}

static bool txn_open(const struct pg_store *db)
{
    return db->txn == TXN_READ_OPEN || db->txn == TXN_WRITE_OPEN;
}

/*
 * Is the connection usable? A lost one is re-established, but never
 * inside a transaction: that transaction is gone, and going on in a new
 * session would commit the rest of its work on its own.
 */
static bool conn_ok(struct pg_store *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK)
        return true;
    if (txn_open(db)) {
        char buf[sizeof db->err];
        snprintf(buf, sizeof buf, "connection lost during a transaction: %s", PQerrorMessage(db->conn));
        set_err(db, buf);
        return false;
    }
    return reconnect(db);
}

/* Run parameterless SQL (a script of several statements too) outside the
 * pipeline, after every answer owed; STORE_DONE or an error code. */
static int run_script(struct pg_store *db, const char *sql)
{
    if (!round_trip(db))
        return STORE_ERROR;
    PQexitPipelineMode(db->conn);
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int rc = STORE_DONE;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
        rc = result_err(db, res);
    PQclear(res);
    deliver(db);
    if (PQstatus(db->conn) == CONNECTION_OK && !PQenterPipelineMode(db->conn)) {
        set_err(db, PQerrorMessage(db->conn));
        return STORE_ERROR;
    }
    return rc;
}

/* LISTEN on the watched channel (again, on a new session). */
static int listen_again(struct pg_store *db)
{
    char *name = PQescapeIdentifier(db->conn, db->channel, strlen(db->channel));
    if (!name) {
        set_err(db, PQerrorMessage(db->conn));
        return STORE_ERROR;
    }
    char sql[256];
    snprintf(sql, sizeof sql, "LISTEN %s", name);
    PQfreemem(name);
    return run_script(db, sql);
}

static store *pg_open(const char *url, char **err)
{
    static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const vals[] = {url, "UTF8", "stockroom", NULL};
    PGconn *conn = url ? PQconnectdbParams(keys, vals, 1) : NULL;
    if (PQstatus(conn) != CONNECTION_OK || !session_setup(conn)) {
        if (err) {
            char buf[1024];
            tidy(buf, sizeof buf, conn ? PQerrorMessage(conn) : "cannot connect to PostgreSQL");
            *err = xstrdup(buf);
        }
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, ignore_notice, NULL);
    struct pg_store *db = xcalloc(1, sizeof *db);
    db->common.backend = &store_backend_pg;
    db->common.kind = STORE_POSTGRES;
    db->conn = conn;
    return (store *)db;
}

static void pg_close(store *s)
{
    struct pg_store *db = PG(s);
    if (db->owed || db->unsynced)
        round_trip(db);
    PQfinish(db->conn);   /* first: the statements need no DEALLOCATE now */
    db->conn = NULL;
    stmt_cache_clear(&db->cache, &store_backend_pg);
    free(db->channel);
    free(db);
}

static const char *pg_errmsg(store *s)
{
    return PG(s)->err;
}

/* SELECT 1, on a new session if the old one turns out to be lost. */
static bool pg_ping(store *s)
{
    struct pg_store *db = PG(s);
    for (int attempt = 0;; attempt++) {
        if (!conn_ok(db))
            return false;
        if (send_command(db, "SELECT 1") && round_trip(db))
            return db->command_rc == STORE_DONE;
        if (attempt > 0 || txn_open(db) || !reconnect(db))
            return false;
    }
}

/* ---- transactions -------------------------------------------------------- */

/* Nothing is sent: BEGIN goes out with the first statement. */
static int begin(struct pg_store *db, pg_txn want)
{
    if (txn_open(db)) {
        set_err(db, "a transaction is already open");
        return STORE_ERROR;
    }
    db->txn = want;
    db->read_last = false;
    return STORE_DONE;
}

static int pg_begin_read(store *s)
{
    return begin(PG(s), TXN_READ_PENDING);
}

static int pg_begin_write(store *s)
{
    return begin(PG(s), TXN_WRITE_PENDING);
}

/* A Sync before BEGIN on a watched connection: PostgreSQL, idle outside a
 * transaction there, sends what it has been notified of (store_watch). */
static bool send_sync_first(struct pg_store *db)
{
    if (!db->channel)
        return true;
    if (!PQpipelineSync(db->conn))
        return false;
    owe(db, ANSWER_SYNC, NULL, false);
    db->unsynced = false;
    return true;
}

/* Before a statement goes out: BEGIN, when its transaction has not begun
 * (a read whose first statement is its last needs none: that statement's
 * own snapshot is the read's, and its Sync comes outside a transaction). */
static bool send_begin(struct pg_store *db)
{
    switch (db->txn) {
    case TXN_READ_PENDING:
        if (db->read_last) {
            db->read_last = false;
            db->txn = TXN_READ_ENDED;
            return true;
        }
        db->txn = TXN_READ_OPEN;
        return send_sync_first(db) && send_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    case TXN_WRITE_PENDING:
        db->txn = TXN_WRITE_OPEN;
        return send_sync_first(db) && send_command(db, "BEGIN");
    default:
        return true;
    }
}

/* After a read's last statement: its ROLLBACK, in the same round trip. */
static bool send_read_end(struct pg_store *db)
{
    if (db->txn != TXN_READ_OPEN || !db->read_last)
        return true;
    db->read_last = false;
    db->txn = TXN_READ_ENDED;
    return send_command(db, "ROLLBACK");
}

static void pg_read_last(store *s)
{
    struct pg_store *db = PG(s);
    if (db->txn == TXN_READ_PENDING || db->txn == TXN_READ_OPEN)
        db->read_last = true;
}

/* ROLLBACK, its answer read with the connection's next round trip: no
 * one waits for it. */
static void rollback_later(struct pg_store *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK && send_command(db, "ROLLBACK")) {
        if (PQpipelineSync(db->conn)) {
            owe(db, ANSWER_SYNC, NULL, false);
            db->unsynced = false;
        } else {
            lost(db, "cannot send to PostgreSQL");
        }
    }
}

static int pg_commit(store *s)
{
    struct pg_store *db = PG(s);
    pg_txn txn = db->txn;
    db->txn = TXN_NONE;
    db->read_last = false;
    switch (txn) {
    case TXN_WRITE_OPEN:
        if (PQstatus(db->conn) != CONNECTION_OK) {
            set_err(db, "the connection was lost before COMMIT");
            return STORE_ERROR;
        }
        if (!send_command(db, "COMMIT") || !round_trip(db))
            return STORE_ERROR;
        return db->command_rc;
    case TXN_READ_OPEN:
        rollback_later(db);
        return STORE_DONE;
    case TXN_NONE:
        set_err(db, "COMMIT without an open transaction");
        return STORE_ERROR;
    default:
        return STORE_DONE;   /* nothing was sent, or the read has ended */
    }
}

static int pg_rollback(store *s)
{
    struct pg_store *db = PG(s);
    bool open = txn_open(db);
    db->txn = TXN_NONE;
    db->read_last = false;
    if (open)
        rollback_later(db);
    return STORE_DONE;
}

static int64_t pg_changes(store *s)
{
    return PG(s)->changes;
}

static int64_t pg_checkpoint(store *s, int64_t limit)
{
    return 0;
}

static const char *pg_backup(store *s, const char *path)
{
    return "a PostgreSQL database is backed up with PostgreSQL's own tools: pg_dump for a copy, "
           "pg_basebackup and WAL archiving for point-in-time recovery (see the README)";
}

static int pg_exec_script(store *s, const char *sql)
{
    struct pg_store *db = PG(s);
    if (!conn_ok(db))
        return STORE_ERROR;
    if (db->txn == TXN_READ_PENDING || db->txn == TXN_WRITE_PENDING) {
        db->read_last = false;
        if (!send_begin(db) || !round_trip(db))
            return STORE_ERROR;
        if (db->command_rc < 0)
            return db->command_rc;
    }
    return run_script(db, sql);
}

/* ---- notifications --------------------------------------------------------- */

static int pg_watch(store *s, const char *channel, void (*fn)(const char *payload, void *ctx), void *ctx)
{
    struct pg_store *db = PG(s);
    if (!conn_ok(db))
        return STORE_ERROR;
    free(db->channel);
    db->channel = xstrdup(channel);
    db->notify = fn;
    db->notify_ctx = ctx;
    int rc = listen_again(db);
    if (rc < 0) {
        free(db->channel);
        db->channel = NULL;
        return rc;
    }
    fn(NULL, ctx);   /* what committed before this LISTEN was not heard here */
    return rc;
}

/* ---- counting $n placeholders ------------------------------------------------ */

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/* p is on an opening quote q; returns the position after its closing one.
 * A doubled quote stands for itself; `backslash` is for E'...' strings. */
static const char *skip_quoted(const char *p, char q, bool backslash)
{
    for (p++; *p; p++) {
        if (backslash && *p == '\\' && p[1])
            p++;
        else if (*p == q && p[1] == q)
            p++;
        else if (*p == q)
            return p + 1;
    }
    return p;
}

/* p is on a slash-star comment; they nest in PostgreSQL. */
static const char *skip_comment(const char *p)
{
    int depth = 0;
    while (*p) {
        if (p[0] == '/' && p[1] == '*') {
            depth++;
            p += 2;
        } else if (p[0] == '*' && p[1] == '/') {
            p += 2;
            if (--depth == 0)
                break;
        } else {
            p++;
        }
    }
    return p;
}

/* p is on a '$' that is not a parameter: skip a $tag$...$tag$ string if one
 * starts here, else just the '$'. */
static const char *skip_dollar_quote(const char *p)
{
    const char *t = p + 1;
    while (*t != '$' && ident_char(*t))
        t++;
    if (*t != '$')
        return p + 1;
    size_t taglen = (size_t)(t + 1 - p);
    const char *body = t + 1;
    const char *end = memmem(body, strlen(body), p, taglen);
    return end ? end + taglen : body + strlen(body);
}

/* Parse the digits of $n at p + 1; raise *max to n. */
static const char *param_number(const char *p, int *max)
{
    long n = 0;
    for (p++; isdigit((unsigned char)*p); p++)
        if (n <= PG_MAX_PARAMS)
            n = n * 10 + (*p - '0');
    if (n > PG_MAX_PARAMS)
        n = PG_MAX_PARAMS;
    if (n > *max)
        *max = (int)n;
    return p;
}

/* The highest $n in the SQL, outside strings, quoted names and comments. */
static int count_params(const char *sql)
{
    int max = 0;
    const char *p = sql;
    while (*p) {
        if (*p == '\'') {
            p = skip_quoted(p, '\'', false);
        } else if (*p == '"') {
            p = skip_quoted(p, '"', false);
        } else if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        } else if (p[0] == '/' && p[1] == '*') {
            p = skip_comment(p);
        } else if (*p == '$') {
            p = isdigit((unsigned char)p[1]) ? param_number(p, &max) : skip_dollar_quote(p);
        } else if (ident_char(*p)) {
            const char *word = p;   /* a name or number: a '$' in it is not a parameter */
            while (ident_char(*p))
                p++;
            if (p - word == 1 && (*word == 'E' || *word == 'e') && *p == '\'')
                p = skip_quoted(p, '\'', true);
        } else {
            p++;
        }
    }
    return max;
}

/* ---- statements ----------------------------------------------------------- */

static struct pg_stmt *stmt_new(struct pg_store *db, const char *sql)
{
    struct pg_stmt *st = xcalloc(1, sizeof *st);
    st->common.backend = &store_backend_pg;
    st->db = db;
    st->sql = xstrdup(sql);
    snprintf(st->name, sizeof st->name, "s%" PRIu64, ++db->names);
    st->nparams = count_params(sql);
    st->values = xcalloc((size_t)st->nparams, sizeof *st->values);
    st->params = xcalloc((size_t)st->nparams, sizeof *st->params);
    st->row = -1;
    return st;
}

static void stmt_free(struct pg_stmt *st)
{
    PQclear(st->res);
    for (int i = 0; i < st->nparams; i++)
        free(st->params[i].heap);
    free(st->params);
    free(st->values);
    free(st->sql);
    free(st);
}

/* Read the statement's answers if some are still on their way. */
static void settle(struct pg_stmt *st)
{
    if (st->sent || st->prepare_sent)
        round_trip(st->db);
}

static void stmt_reset(struct pg_stmt *st)
{
    if (!st->dirty)
        return;
    settle(st);
    PQclear(st->res);
    st->res = NULL;
    for (int i = 0; i < st->nparams; i++) {
        pg_param *p = &st->params[i];
        st->values[i] = NULL;
        if (p->cap > PG_KEEP_BUF) {
            free(p->heap);
            p->heap = NULL;
            p->cap = 0;
        }
    }
    st->bind_err = NULL;
    st->executed = false;
    st->rc = STORE_DONE;
    st->row = -1;
    st->nrows = 0;
    st->dirty = false;
}

static stmt_cache *pg_cache(store *s)
{
    return &PG(s)->cache;
}

/* Nothing is sent: the statement is prepared with its first execution. */
static store_stmt *pg_compile(store *s, const char *sql)
{
    struct pg_store *db = PG(s);
    if (!conn_ok(db))
        return NULL;
    return (store_stmt *)stmt_new(db, sql);
}

static bool pg_recycle(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    stmt_reset(st);
    return conn_ok(st->db);
}

static bool pg_in_use(store_stmt *s)
{
    return ST(s)->dirty;
}

/* DEALLOCATE goes out with the connection's next round trip. */
static void pg_finalize(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    struct pg_store *db = st->db;
    if (db->conn) {
        settle(st);
        if (st->prepared && PQstatus(db->conn) == CONNECTION_OK) {
            char sql[48];
            snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
            if (db->owed > PG_ANSWERS_MAX - 8)
                round_trip(db);
            send_command(db, sql);
        }
    }
    stmt_free(st);
}

/* ---- binding -------------------------------------------------------------- */

/* A parameter past the last one the SQL names is ignored, as SQLite
 * ignores it: callers bind a query's parameters without knowing which of
 * them its text reads. */
static pg_param *param_at(struct pg_stmt *st, int idx)
{
    st->dirty = true;
    if (idx < 1) {
        st->bind_err = "parameter index out of range";
        return NULL;
    }
    return idx <= st->nparams ? &st->params[idx - 1] : NULL;
}

static void pg_bind_int(store_stmt *s, int idx, int64_t v)
{
    struct pg_stmt *st = ST(s);
    pg_param *p = param_at(st, idx);
    if (!p)
        return;
    snprintf(p->small, sizeof p->small, "%" PRId64, v);
    st->values[idx - 1] = p->small;
}

static void pg_bind_null(store_stmt *s, int idx)
{
    struct pg_stmt *st = ST(s);
    if (param_at(st, idx))
        st->values[idx - 1] = NULL;
}

/* Room for `need` bytes of text in the parameter's own storage. */
static char *param_room(pg_param *p, size_t need)
{
    if (need <= sizeof p->small)
        return p->small;
    if (p->cap < need) {
        size_t cap = p->cap * 2 > need ? p->cap * 2 : need;
        char *heap = realloc(p->heap, cap);
        if (!heap)
            out_of_memory();
        p->heap = heap;
        p->cap = cap;
    }
    return p->heap;
}

/* Text is copied and NUL-terminated, as libpq's text format requires; a NUL
 * inside it could not be sent, so it is reported by step. NULL binds NULL. */
static void pg_bind_text(store_stmt *s, int idx, const char *text, size_t len)
{
    struct pg_stmt *st = ST(s);
    pg_param *p = param_at(st, idx);
    if (!p)
        return;
    if (!text) {
        st->values[idx - 1] = NULL;
        return;
    }
    if (memchr(text, '\0', len)) {
        st->bind_err = "a text parameter contains a NUL byte";
        return;
    }
    char *dst = param_room(p, len + 1);
    memcpy(dst, text, len);
    dst[len] = '\0';
    st->values[idx - 1] = dst;
}

/* ---- running and reading ---------------------------------------------------- */

/*
 * Send the statement (its PREPARE first when this session has not got it;
 * BEGIN first when its transaction has not begun; a read's ROLLBACK after
 * it when it is the read's last) and, when `wait`, make the round trip.
 * A round trip that was its transaction's first and finds the connection
 * lost is made again, once, on a new session: nothing of it can have
 * committed.
 */
static int execute(struct pg_stmt *st, bool wait)
{
    struct pg_store *db = st->db;
    if (st->bind_err) {
        set_err(db, st->bind_err);
        return STORE_ERROR;
    }
    for (int attempt = 0;; attempt++) {
        pg_txn before = db->txn;
        bool read_last = db->read_last;
        if (!conn_ok(db))
            return STORE_ERROR;
        if (db->owed > PG_ANSWERS_MAX - 8 && !round_trip(db))
            return STORE_ERROR;
        bool sent = send_begin(db) && (st->prepared || st->prepare_sent || send_prepare(st)) &&
                    send_execute(st) && send_read_end(db);
        if (sent && !wait)
            return STORE_DONE;
        if (sent && round_trip(db))
            return st->rc;
        if (!sent)
            lost(db, "cannot send to PostgreSQL");
        if (attempt > 0 || (before != TXN_READ_PENDING && before != TXN_WRITE_PENDING) || !reconnect(db))
            return STORE_ERROR;
        db->txn = before;
        db->read_last = read_last;
    }
}

static int pg_step(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    if (!st->executed) {
        st->executed = true;
        st->dirty = true;
        st->rc = execute(st, true);
    } else if (st->sent) {
        round_trip(st->db);
    }
    if (st->rc < 0)
        return st->rc;
    if (st->row + 1 < st->nrows) {
        st->row++;
        return STORE_ROW;
    }
    st->row = st->nrows;
    return STORE_DONE;
}

static void pg_send(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    if (st->executed)
        return;
    st->executed = true;
    st->dirty = true;
    st->rc = execute(st, false);
}

/* Is there a value at `col` of the current row? */
static bool has_value(const struct pg_stmt *st, int col)
{
    return st->res && st->row >= 0 && st->row < st->nrows && col >= 0 &&
           col < PQnfields(st->res);
}

static bool pg_col_null(store_stmt *s, int col)
{
    struct pg_stmt *st = ST(s);
    return !has_value(st, col) || PQgetisnull(st->res, st->row, col);
}

/* Integers arrive as decimal text; booleans as "t"/"f" (1/0, as in SQLite). */
static int64_t pg_col_int(store_stmt *s, int col)
{
    struct pg_stmt *st = ST(s);
    if (pg_col_null(s, col))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, col);
    if ((v[0] == 't' || v[0] == 'f') && v[1] == '\0')
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

/* NULL (and *len 0) for SQL NULL, as SQLite does. */
static const char *pg_col_text(store_stmt *s, int col, size_t *len)
{
    struct pg_stmt *st = ST(s);
    if (pg_col_null(s, col)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = (size_t)PQgetlength(st->res, st->row, col);
    return PQgetvalue(st->res, st->row, col);
}

static void pg_reset(store_stmt *s)
{
    stmt_reset(ST(s));
}

const store_backend store_backend_pg = {
    .send = pg_send,
    .read_last = pg_read_last,
    .watch = pg_watch,
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .ping = pg_ping,
    .exec_script = pg_exec_script,
    .begin_read = pg_begin_read,
    .begin_write = pg_begin_write,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .changes = pg_changes,
    .checkpoint = pg_checkpoint,
    .backup = pg_backup,
    .cache = pg_cache,
    .compile = pg_compile,
    .recycle = pg_recycle,
    .in_use = pg_in_use,
    .finalize = pg_finalize,
    .bind_int = pg_bind_int,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_null = pg_col_null,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .reset = pg_reset,
};
