/*
 * pg.c — the PostgreSQL backend of the store interface (libpq; see store.h).
 *
 * One PGconn per store, used by one thread at a time; no mutable globals.
 * Each distinct SQL text is PQprepare'd once per session under a generated
 * name and kept in the store layer's cache (backend.h), which DEALLOCATEs
 * (finalize) what it evicts. Values travel as text;
 * errors map by SQLSTATE to STORE_UNIQUE, STORE_FOREIGN_KEY and STORE_BUSY.
 * A lost connection is re-established (once per call) by begin, prepare and
 * ping, never inside a transaction; cached statements are then prepared
 * again on their next use, so statement pointers stay valid.
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
    bool dirty;                     /* bound or executed since the last reset */
    bool executed;
    const char *bind_err;           /* a binding mistake, reported by step */
    const char **values;            /* sent to the server; NULL is SQL NULL */
    pg_param *params;
    PGresult *res;
    int rc;                         /* step's answer after the last row */
    int row, nrows;
};

struct pg_store {
    struct store_common common;
    PGconn *conn;
    bool in_txn;                    /* between our BEGIN and COMMIT/ROLLBACK */
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

/* ---- connection ---------------------------------------------------------- */

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void forget_prepared(struct pg_store *db)
{
    for (cache_entry *e = db->cache.newest; e; e = e->older)
        ST(e->st)->prepared = false;
}

/*
 * Is the connection usable? A lost one is re-established once, but never
 * inside a transaction: that transaction is gone, and going on in a new
 * session would commit the rest of its work on its own.
 */
static bool conn_ok(struct pg_store *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK)
        return true;
    if (db->in_txn) {
        char buf[sizeof db->err];
        snprintf(buf, sizeof buf, "connection lost during a transaction: %s", PQerrorMessage(db->conn));
        set_err(db, buf);
        return false;
    }
    PQreset(db->conn);
    forget_prepared(db);
    if (PQstatus(db->conn) == CONNECTION_OK)
        return true;
    set_err(db, PQerrorMessage(db->conn));
    return false;
}

/* Run one parameterless command (or script); STORE_DONE or an error code. */
static int run(struct pg_store *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    int rc = STORE_DONE;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
        rc = result_err(db, res);
    PQclear(res);
    return rc;
}

/* run(), reconnecting once if the connection turns out to be lost. Only for
 * commands that change nothing (BEGIN, SELECT 1) outside a transaction. */
static int run_retry(struct pg_store *db, const char *sql)
{
    if (!conn_ok(db))
        return STORE_ERROR;
    int rc = run(db, sql);
    if (rc < 0 && PQstatus(db->conn) == CONNECTION_BAD && conn_ok(db))
        rc = run(db, sql);
    return rc;
}

static store *pg_open(const char *url, char **err)
{
    static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
    const char *const vals[] = {url, "UTF8", "stockroom", NULL};
    PGconn *conn = url ? PQconnectdbParams(keys, vals, 1) : NULL;
    if (PQstatus(conn) != CONNECTION_OK) {
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
    stmt_cache_clear(&db->cache, &store_backend_pg);
    PQfinish(db->conn);
    free(db);
}

static const char *pg_errmsg(store *s)
{
    return PG(s)->err;
}

static bool pg_ping(store *s)
{
    return run_retry(PG(s), "SELECT 1") == STORE_DONE;
}

static int pg_exec_script(store *s, const char *sql)
{
    struct pg_store *db = PG(s);
    return conn_ok(db) ? run(db, sql) : STORE_ERROR;
}

/* ---- transactions -------------------------------------------------------- */

static bool txn_open(struct pg_store *db)
{
    PGTransactionStatusType ts = PQtransactionStatus(db->conn);
    return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

static int begin(struct pg_store *db, const char *sql)
{
    db->in_txn = false;         /* the caller believes none is open */
    if (!conn_ok(db))
        return STORE_ERROR;
    if (PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
        set_err(db, "a transaction is already open");
        db->in_txn = txn_open(db);
        return STORE_ERROR;
    }
    int rc = run_retry(db, sql);
    db->in_txn = rc == STORE_DONE;
    return rc;
}

static int pg_begin_read(store *s)
{
    return begin(PG(s), "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

static int pg_begin_write(store *s)
{
    return begin(PG(s), "BEGIN");
}

static int pg_commit(store *s)
{
    struct pg_store *db = PG(s);
    db->in_txn = false;
    if (!txn_open(db)) {
        set_err(db, PQstatus(db->conn) == CONNECTION_OK ? "COMMIT without an open transaction"
                                                        : "the connection was lost before COMMIT");
        return STORE_ERROR;
    }
    PGresult *res = PQexec(db->conn, "COMMIT");
    int rc = STORE_DONE;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = result_err(db, res);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        set_err(db, "the transaction had failed, so COMMIT rolled it back");
        rc = STORE_ERROR;
    }
    PQclear(res);
    return rc;
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

static int pg_rollback(store *s)
{
    struct pg_store *db = PG(s);
    db->in_txn = false;
    return txn_open(db) ? run(db, "ROLLBACK") : STORE_DONE;
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

static void stmt_reset(struct pg_stmt *st)
{
    if (!st->dirty)
        return;
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

/* PQprepare the statement in the current session, reconnecting once if the
 * connection turns out to be lost (outside a transaction only). */
static bool server_prepare(struct pg_stmt *st)
{
    struct pg_store *db = st->db;
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQprepare(db->conn, st->name, st->sql, 0, NULL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            result_err(db, res);
        PQclear(res);
        if (ok) {
            st->prepared = true;
            return true;
        }
        if (attempt > 0 || PQstatus(db->conn) != CONNECTION_BAD || !conn_ok(db))
            return false;
    }
}

static stmt_cache *pg_cache(store *s)
{
    return &PG(s)->cache;
}

static store_stmt *pg_compile(store *s, const char *sql)
{
    struct pg_store *db = PG(s);
    if (!conn_ok(db))
        return NULL;
    struct pg_stmt *st = stmt_new(db, sql);
    if (!server_prepare(st)) {
        stmt_free(st);
        return NULL;
    }
    return (store_stmt *)st;
}

static bool pg_recycle(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    if (!conn_ok(st->db))
        return false;
    stmt_reset(st);
    return st->prepared || server_prepare(st);
}

static bool pg_in_use(store_stmt *s)
{
    return ST(s)->dirty;
}

static void pg_finalize(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    if (st->prepared && PQstatus(st->db->conn) == CONNECTION_OK) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        run(st->db, sql);
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

/* Send the statement with its parameters; STORE_DONE when rows (if any) wait. */
static int execute(struct pg_stmt *st)
{
    struct pg_store *db = st->db;
    if (st->bind_err) {
        set_err(db, st->bind_err);
        return STORE_ERROR;
    }
    if (!st->prepared && !server_prepare(st))
        return STORE_ERROR;
    st->res = PQexecPrepared(db->conn, st->name, st->nparams, st->values, NULL, NULL, 0);
    db->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
    switch (PQresultStatus(st->res)) {
    case PGRES_TUPLES_OK:
        st->nrows = PQntuples(st->res);
        return STORE_DONE;
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
        return STORE_DONE;
    default:
        break;
    }
    int rc = result_err(db, st->res);
    PQclear(st->res);
    st->res = NULL;
    return rc;
}

static int pg_step(store_stmt *s)
{
    struct pg_stmt *st = ST(s);
    if (!st->executed) {
        st->executed = true;
        st->dirty = true;
        st->rc = execute(st);
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
