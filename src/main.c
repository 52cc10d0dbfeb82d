/*
 * main.c — the `stockroom` command line: `serve` and the administrative
 * commands (customers, API keys). Every command takes --db (default
 * ./stockroom.db, or STOCKROOM_DATABASE_URL) and --help; the schema is
 * created or migrated whenever a command opens the database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/callbacks.h"
#include "api/events.h"
#include "api/expiry.h"
#include "api/monitoring.h"
#include "core/metrics.h"
#include "api/import.h"
#include "api/janitor.h"
#include "api/tenants.h"
#include "api/throttle.h"
#include "http/server.h"
#include "store/store.h"

#define DEFAULT_DB "./stockroom.db"
#define DEFAULT_MAX_BODY (16u * 1024 * 1024)
#ifndef STOCKROOM_VERSION
#define STOCKROOM_VERSION "unknown"   /* CMakeLists.txt defines it from project() */
#endif

typedef struct command {
    const char *name;           /* "key create", or one word: "backup" */
    const char *args;           /* positional arguments, for usage */
    int nargs;
    int (*run)(store *db, char **args);
    const char *help;
} command;

static int cmd_customer_create(store *db, char **args)
{
    char key[API_KEY_LEN + 1];
    tenant_error err = customer_create(db, args[0], key);
    if (err) {
        fprintf(stderr, "stockroom: customer create: %s\n", err);
        return 1;
    }
    printf("customer %s created; its API key (shown once):\n%s\n", args[0], key);
    return 0;
}

/* The flags of `customer set-callback`; its url is its second argument. */
static callback_settings opt_callback;

static int cmd_customer_set_callback(store *db, char **args)
{
    char secret[CALLBACK_SECRET_LEN + 1];
    opt_callback.url = args[1];
    const char *err = callback_settings_set(db, args[0], &opt_callback, secret);
    if (err) {
        fprintf(stderr, "stockroom: customer set-callback: %s\n", err);
        return 1;
    }
    if (!*args[1]) {
        printf("callback url of %s cleared: nothing more is queued for it (callbacks queued already "
               "are still delivered)\n", args[0]);
        return 0;
    }
    printf("callbacks of %s (%s) will be sent to %s%s%s\n", args[0],
           opt_callback.events ? opt_callback.events : "device", args[1],
           opt_callback.legacy ? ", acks and nacks with a nonce as GET URL/NONCE/ack|nack" : "",
           opt_callback.basic_auth ? ", with Basic credentials"
           : opt_callback.bearer   ? ", with a Bearer token"
                                   : "");
    printf("each is signed (X-Stockroom-Signature: HMAC-SHA256) with this new secret, shown once:\n%s\n",
           secret);
    return 0;
}

static int cmd_key_create(store *db, char **args)
{
    char key[API_KEY_LEN + 1];
    tenant_error err = key_create(db, args[0], key);
    if (err) {
        fprintf(stderr, "stockroom: key create: %s\n", err);
        return 1;
    }
    printf("new API key for %s (shown once):\n%s\n", args[0], key);
    return 0;
}

static int cmd_key_revoke(store *db, char **args)
{
    tenant_error err = key_revoke(db, args[0]);
    if (err) {
        fprintf(stderr, "stockroom: key revoke: %s\n", err);
        return 1;
    }
    printf("key revoked\n");
    return 0;
}

static int cmd_key_list(store *db, char **args)
{
    tenant_error err = key_list(db, args[0], stdout);
    if (err) {
        fprintf(stderr, "stockroom: key list: %s\n", err);
        return 1;
    }
    return 0;
}

/* The password: one line of stdin, without its line ending; not echoed
 * when stdin is a terminal. */
static bool read_password(char *buf, size_t size)
{
    struct termios saved, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        fprintf(stderr, "Password: ");
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(buf, (int)size, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fprintf(stderr, "\n");
    }
    if (!ok)
        return false;
    size_t n = strlen(buf);
    if (n == size - 1 && buf[n - 1] != '\n')
        return false;   /* longer than we take */
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return true;
}

static int cmd_user_create(store *db, char **args)
{
    static char password[4096];
    if (!read_password(password, sizeof password)) {
        fprintf(stderr, "stockroom: user create: give the password on stdin, one line (at most 4095 bytes)\n");
        return 1;
    }
    tenant_error err = user_create(db, args[0], args[1], password);
    memset(password, 0, sizeof password);
    if (err) {
        fprintf(stderr, "stockroom: user create: %s\n", err);
        return 1;
    }
    printf("user %s created for %s\n", args[1], args[0]);
    return 0;
}

static int cmd_user_list(store *db, char **args)
{
    tenant_error err = user_list(db, args[0], stdout);
    if (err) {
        fprintf(stderr, "stockroom: user list: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_user_delete(store *db, char **args)
{
    tenant_error err = user_delete(db, args[0]);
    if (err) {
        fprintf(stderr, "stockroom: user delete: %s\n", err);
        return 1;
    }
    printf("user %s deleted (its sessions and tokens with it)\n", args[0]);
    return 0;
}

/* --client-id / --client-secret of `oauth-client create` */
static const char *opt_client_id, *opt_client_secret;

static int cmd_oauth_client_create(store *db, char **args)
{
    char id[CLIENT_ID_MAX + 1], secret[CLIENT_SECRET_MAX + 1];
    tenant_error err = oauth_client_create(db, args[0], opt_client_id, opt_client_secret, id, secret);
    if (err) {
        fprintf(stderr, "stockroom: oauth-client create: %s\n", err);
        return 1;
    }
    printf("OAuth2 client for %s (the secret is shown once):\nclient_id: %s\nclient_secret: %s\n",
           args[0], id, secret);
    return 0;
}

static int cmd_oauth_client_list(store *db, char **args)
{
    tenant_error err = oauth_client_list(db, args[0], stdout);
    if (err) {
        fprintf(stderr, "stockroom: oauth-client list: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_oauth_client_delete(store *db, char **args)
{
    tenant_error err = oauth_client_delete(db, args[0], args[1]);
    if (err) {
        fprintf(stderr, "stockroom: oauth-client delete: %s\n", err);
        return 1;
    }
    printf("client %s deleted (its tokens with it)\n", args[1]);
    return 0;
}

static int cmd_backup(store *db, char **args)
{
    const char *err = store_backup(db, args[0]);
    if (err) {
        fprintf(stderr, "stockroom backup: %s\n", err);
        return 1;
    }
    printf("backed up to %s\n", args[0]);
    return 0;
}

static int cmd_import_orders(store *db, char **args)
{
    const char *err = import_orders(db, args[0], stdin, stdout);
    if (err) {
        fprintf(stderr, "stockroom import-orders: %s\n", err);
        return 1;
    }
    return 0;
}

static const command commands[] = {
    {"customer create", "NAME", 1, cmd_customer_create,
     "Create a customer (tenant) and print its first API key on the last line."},
    {"customer set-callback",
     "CUSTOMER URL [--events device,orders] [--legacy] [--basic-auth USER:PASS | --bearer TOKEN]", 2,
     cmd_customer_set_callback,
     "Send the customer's callbacks (contract §8.1) to URL (http or https) as JSON POSTs, and print\n"
     "a new signing secret on the last line: each callback carries X-Stockroom-Signature:\n"
     "t=UNIX_SECONDS,v1=hex HMAC-SHA256 of \"t.BODY\" keyed by the secret. --events: the families\n"
     "sent (device: acks, nacks, calls, sequences, the default; orders: order events). --legacy:\n"
     "acks and nacks with a nonce go as Big Block's GET URL/NONCE/ack (or /nack), no body.\n"
     "--basic-auth / --bearer: sent as Authorization. Flags left out return to their defaults.\n"
     "URL \"\" clears the callback (callbacks queued already are still delivered)."},
    {"key create", "CUSTOMER", 1, cmd_key_create, "Create another API key for a customer."},
    {"key revoke", "KEY", 1, cmd_key_revoke, "Revoke an API key (it answers 401 from then on)."},
    {"key list", "CUSTOMER", 1, cmd_key_list, "List a customer's keys (first characters only)."},
    {"user create", "CUSTOMER USERNAME", 2, cmd_user_create,
     "Create a login user (sessions, OAuth2); the password is read from stdin, one line."},
    {"user list", "CUSTOMER", 1, cmd_user_list, "List a customer's users."},
    {"user delete", "USERNAME", 1, cmd_user_delete,
     "Delete a user; its sessions and OAuth2 tokens stop working at once."},
    {"oauth-client create", "CUSTOMER [--client-id ID --client-secret SECRET]", 1,
     cmd_oauth_client_create,
     "Register an OAuth2 client and print its client_id and client_secret: new random ones,\n"
     "or the given ones (a client that ships fixed credentials)."},
    {"oauth-client list", "CUSTOMER", 1, cmd_oauth_client_list, "List a customer's OAuth2 clients."},
    {"oauth-client delete", "CUSTOMER CLIENT_ID", 2, cmd_oauth_client_delete,
     "Delete a customer's OAuth2 client; the tokens it was given stop working at once."},
    {"import-orders", "CUSTOMER", 1, cmd_import_orders,
     "Create orders from JSON lines on stdin (each the body of POST /api/orders/), validated\n"
     "and stored as the API does, in transactions of 1,000; refused lines are reported."},
    {"backup", "FILE", 1, cmd_backup,
     "Copy a live SQLite database to FILE (a new file), consistent as of one moment, while the\n"
     "server goes on serving and writing; start a server on FILE to restore it. (PostgreSQL:\n"
     "pg_dump, or base backups; see the README.)"},
};

/* A help text under its command, every line indented. */
static void print_help(FILE *out, const char *help)
{
    fputs("        ", out);
    for (const char *h = help; *h; h++) {
        fputc(*h, out);
        if (*h == '\n')
            fputs("        ", out);
    }
    fputc('\n', out);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: stockroom COMMAND [options]\n\n"
            "  serve [--listen HOST:PORT] [--db PATH|postgresql://...] [options]\n"
            "        Serve the Orders API and the retail data API over HTTP (`serve --help`: every option).\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    {
        fprintf(out, "  %s %s [--db ...]\n", commands[i].name, commands[i].args);
        print_help(out, commands[i].help);
    }
    fprintf(out, "\nThe database defaults to %s, or STOCKROOM_DATABASE_URL when set.\n"
                 "Run `stockroom COMMAND --help` for a command's options.\n", DEFAULT_DB);
}

static const char *default_db(void)
{
    const char *env = getenv("STOCKROOM_DATABASE_URL");
    return env && *env ? env : DEFAULT_DB;
}

static store *open_db(const char *url)
{
    char *err = NULL;
    store *db = store_open(url, &err);
    if (!db) {
        fprintf(stderr, "stockroom: %s\n", err ? err : "cannot open the database");
        free(err);
        return NULL;
    }
    if (store_migrate(db) < 0) {
        fprintf(stderr, "stockroom: cannot create or migrate the schema: %s\n", store_errmsg(db));
        store_close(db);
        return NULL;
    }
    return db;
}

/* ------------------------------------------------------------ serve */

/*
 * Every setting of `serve`, once: its flag, its environment variable, its
 * default and its help. The environment is read first and flags override
 * it; `serve --help` (and the man page) list both.
 */
typedef enum { OPT_TEXT, OPT_COUNT, OPT_BYTES, OPT_SWITCH, OPT_LISTEN, OPT_DURATION } option_kind;

typedef struct serve_option {
    const char *flag;          /* "max-connections" */
    const char *env;           /* "STOCKROOM_MAX_CONNECTIONS" */
    option_kind kind;
    const char *arg;           /* "N", "FILE" ... for the help */
    unsigned long long min, max;   /* counts and sizes */
    const char *help;
} serve_option;

static http_config serve_cfg;
static api_config serve_api;
static janitor_config serve_janitor;
static const char *serve_db;
static char serve_host[256];

enum { O_LISTEN, O_DB, O_THREADS, O_WRITERS, O_LOGIN_THREADS, O_LOGIN_QUEUE, O_MAX_CONNECTIONS,
       O_MAX_PER_IP, O_MAX_STREAMS, O_HEADER_TIMEOUT, O_BODY_TIMEOUT, O_IDLE_TIMEOUT, O_STOP_TIMEOUT, O_MAX_BODY,
       O_BODY_BUDGET, O_LOGIN_FAILURES_USER, O_LOGIN_FAILURES_ADDRESS, O_KEEP_DELIVERED, O_KEEP_EXPIRED,
       O_TRUST_PROXY, O_TLS_CERT, O_TLS_KEY, O_METRICS_TOKEN, O_METRICS_OFF, O_SQLITE_MMAP, O_COUNT };

static const serve_option serve_options[O_COUNT] = {
    [O_LISTEN] = {"listen", "STOCKROOM_LISTEN", OPT_LISTEN, "HOST:PORT", 0, 0,
                  "address to listen on (default 127.0.0.1:8000)"},
    [O_DB] = {"db", "STOCKROOM_DB", OPT_TEXT, "PATH|URL", 0, 0,
              "SQLite file or postgresql:// URL (default " DEFAULT_DB "; STOCKROOM_DATABASE_URL too)"},
    [O_THREADS] = {"threads", "STOCKROOM_THREADS", OPT_COUNT, "N", 1, 256,
                   "connection threads, which also run reads (default: two per core)"},
    [O_WRITERS] = {"writers", "STOCKROOM_WRITERS", OPT_COUNT, "N", 1, 256,
                   "threads running writes (default: eight per core; a write waits for its\n"
                   "batch's commit, and more waiting writers batch better)"},
    [O_LOGIN_THREADS] = {"login-threads", "STOCKROOM_LOGIN_THREADS", OPT_COUNT, "N", 1, 64,
                         "threads checking passwords (default: one per core)"},
    [O_LOGIN_QUEUE] = {"login-queue", "STOCKROOM_LOGIN_QUEUE", OPT_COUNT, "N", 1, 100000,
                       "logins waiting for a password check, at most; past it 429 (default 64)"},
    [O_MAX_CONNECTIONS] = {"max-connections", "STOCKROOM_MAX_CONNECTIONS", OPT_COUNT, "N", 16, 1000000,
                           "open connections, at most (default 16384; the open-file limit is\n"
                           "raised to fit them, as far as the hard limit allows)"},
    [O_MAX_PER_IP] = {"max-connections-per-ip", "STOCKROOM_MAX_CONNECTIONS_PER_IP", OPT_COUNT, "N", 0, 1000000,
                      "open connections from one address, at most (default 0: no limit, since\n"
                      "many honest clients can share one address behind NAT)"},
    [O_MAX_STREAMS] = {"max-streams", "STOCKROOM_MAX_STREAMS", OPT_COUNT, "N", 1, 1000000,
                       "event streams (GET /api/events/) open at once, at most; past it 503\n"
                       "(default 4096; each holds a connection)"},
    [O_HEADER_TIMEOUT] = {"header-timeout", "STOCKROOM_HEADER_TIMEOUT", OPT_COUNT, "SECONDS", 1, 3600,
                          "a request's head must be complete this long after its first byte (default 10)"},
    [O_BODY_TIMEOUT] = {"body-timeout", "STOCKROOM_BODY_TIMEOUT", OPT_COUNT, "SECONDS", 1, 3600,
                        "a body may not go this long without a byte (default 15)"},
    [O_IDLE_TIMEOUT] = {"idle-timeout", "STOCKROOM_IDLE_TIMEOUT", OPT_COUNT, "SECONDS", 1, 86400,
                        "an idle keep-alive connection is closed after this long (default 60)"},
    [O_STOP_TIMEOUT] = {"stop-timeout", "STOCKROOM_STOP_TIMEOUT", OPT_COUNT, "SECONDS", 1, 3600,
                        "on SIGTERM/SIGINT, requests in flight get this long to finish (default 10)"},
    [O_MAX_BODY] = {"max-body", "STOCKROOM_MAX_BODY", OPT_BYTES, "SIZE", 1024, 1ULL << 32,
                    "largest request body; beyond it 413 (default 16M)"},
    [O_BODY_BUDGET] = {"body-budget", "STOCKROOM_BODY_BUDGET", OPT_BYTES, "SIZE", 1024 * 1024, 1ULL << 40,
                       "request bodies buffered at once, at most; past it 503 (default 256M)"},
    [O_LOGIN_FAILURES_USER] = {"login-failures-per-user", "STOCKROOM_LOGIN_FAILURES_PER_USER", OPT_COUNT, "N",
                               0, 100000,
                               "failed logins of one username allowed in a burst, then one per\n"
                               "600/N seconds; past it 429 (default 10; 0: no limit)"},
    [O_LOGIN_FAILURES_ADDRESS] = {"login-failures-per-address", "STOCKROOM_LOGIN_FAILURES_PER_ADDRESS",
                                  OPT_COUNT, "N", 0, 1000000,
                                  "the same per client address (default 100; 0: no limit)"},
    [O_KEEP_DELIVERED] = {"keep-delivered", "STOCKROOM_KEEP_DELIVERED", OPT_DURATION, "DURATION", 0, 0,
                          "delivered callbacks and streamed events are kept this long, then removed\n"
                          "(default 7d; an event stream resumes exactly within it)"},
    [O_KEEP_EXPIRED] = {"keep-expired", "STOCKROOM_KEEP_EXPIRED", OPT_DURATION, "DURATION", 0, 0,
                        "expired sessions, temporary keys and OAuth tokens are removed this long\n"
                        "after they expired (default 1d; durations: 90s, 30m, 12h, 7d)"},
    [O_TRUST_PROXY] = {"trust-proxy", "STOCKROOM_TRUST_PROXY", OPT_SWITCH, NULL, 0, 0,
                       "take urls and the client's address from X-Forwarded-Proto, -Host and -For\n"
                       "(only behind a proxy that sets them)"},
    [O_TLS_CERT] = {"tls-cert", "STOCKROOM_TLS_CERT", OPT_TEXT, "FILE", 0, 0,
                    "serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate (chain) ..."},
    [O_TLS_KEY] = {"tls-key", "STOCKROOM_TLS_KEY", OPT_TEXT, "FILE", 0, 0,
                   "... and its unencrypted PEM private key; both or neither"},
    [O_METRICS_TOKEN] = {"metrics-token", "STOCKROOM_METRICS_TOKEN", OPT_TEXT, "TOKEN", 0, 0,
                         "GET /metrics answers loopback only; with a token, also whoever sends\n"
                         "Authorization: Bearer TOKEN (prefer the variable: flags show in ps)"},
    [O_METRICS_OFF] = {"metrics-off", "STOCKROOM_METRICS_OFF", OPT_SWITCH, NULL, 0, 0,
                       "count nothing for GET /metrics, which is then 404 (make bench compares)"},
    [O_SQLITE_MMAP] = {"sqlite-mmap", "STOCKROOM_SQLITE_MMAP", OPT_BYTES, "SIZE", 0, 1ULL << 40,
                       "SQLite: read the file through a memory map this large (default 2G;\n"
                       "0: read() only; address space, not memory)"},
};

/* "16M", "256k", "1G", "1048576" → bytes. */
static bool parse_bytes(const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (end == text || errno)
        return false;
    unsigned long long unit = 1;
    if (*end == 'k' || *end == 'K')
        unit = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        unit = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        unit = 1024ULL * 1024 * 1024, end++;
    if (*end || n > ~0ULL / unit)
        return false;
    *out = n * unit;
    return true;
}

/* "90", "90s", "30m", "12h", "7d" → microseconds. */
static bool parse_duration(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(text, &end, 10);
    long long unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : *end == 'm' ? 60 : 1;
    if (*end && strchr("smhd", *end))
        end++;
    if (end == text || *end || errno || n < 0 || n > 100LL * 365 * 86400 / unit)
        return false;
    *out = n * unit * 1000000;
    return true;
}

/* Apply one setting; `from` names where it came from, for the message. */
static bool set_option(int which, const char *text, const char *from)
{
    const serve_option *o = &serve_options[which];
    unsigned long long n = 0;
    switch (o->kind) {
    case OPT_LISTEN: {
        const char *colon = strrchr(text, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : -1;
        if (!colon || *end || port < 1 || port > 65535 || (size_t)(colon - text) >= sizeof serve_host) {
            fprintf(stderr, "stockroom serve: %s takes HOST:PORT, e.g. 127.0.0.1:8000\n", from);
            return false;
        }
        memcpy(serve_host, text, (size_t)(colon - text));
        serve_host[colon - text] = '\0';
        serve_cfg.listen_host = serve_host;
        serve_cfg.port = (unsigned short)port;
        return true;
    }
    case OPT_SWITCH: {
        bool *flag = which == O_METRICS_OFF ? &serve_api.metrics_off : &serve_cfg.trust_proxy;
        if (strcmp(text, "") == 0 || strcmp(text, "0") == 0 || strcasecmp(text, "false") == 0 ||
            strcasecmp(text, "no") == 0 || strcasecmp(text, "off") == 0) {
            *flag = false;
            return true;
        }
        if (strcmp(text, "1") == 0 || strcasecmp(text, "true") == 0 || strcasecmp(text, "yes") == 0 ||
            strcasecmp(text, "on") == 0) {
            *flag = true;
            return true;
        }
        fprintf(stderr, "stockroom serve: %s takes 1/true/yes/on or 0/false/no/off\n", from);
        return false;
    }
    case OPT_DURATION:
        if (!parse_duration(text, which == O_KEEP_DELIVERED ? &serve_janitor.keep_delivered_us
                                                           : &serve_janitor.keep_expired_us)) {
            fprintf(stderr, "stockroom serve: %s takes a duration: 90s, 30m, 12h, 7d\n", from);
            return false;
        }
        return true;
    case OPT_TEXT:
        if (which == O_DB)
            serve_db = text;
        else if (which == O_TLS_CERT)
            serve_cfg.tls_cert_file = *text ? text : NULL;
        else if (which == O_TLS_KEY)
            serve_cfg.tls_key_file = *text ? text : NULL;
        else if (which == O_METRICS_TOKEN)
            serve_api.metrics_token = text;
        return true;
    case OPT_COUNT:
    case OPT_BYTES: {
        char *end;
        bool ok;
        if (o->kind == OPT_BYTES) {
            ok = parse_bytes(text, &n);
        } else {
            errno = 0;
            n = strtoull(text, &end, 10);
            ok = *text && *text != '-' && !*end && !errno;
        }
        if (!ok || n < o->min || n > o->max) {
            fprintf(stderr, "stockroom serve: %s takes %s from %llu to %llu%s\n", from,
                    o->kind == OPT_BYTES ? "a size" : "a number", o->min, o->max,
                    o->kind == OPT_BYTES ? " bytes (k, M, G suffixes allowed)" : "");
            return false;
        }
        unsigned *counts[O_COUNT] = {
            [O_THREADS] = &serve_cfg.threads, [O_WRITERS] = &serve_cfg.writers,
            [O_LOGIN_THREADS] = &serve_cfg.login_threads, [O_LOGIN_QUEUE] = &serve_cfg.login_queue,
            [O_MAX_CONNECTIONS] = &serve_cfg.max_connections, [O_MAX_PER_IP] = &serve_cfg.max_connections_per_ip,
            [O_MAX_STREAMS] = &serve_cfg.max_streams,
            [O_HEADER_TIMEOUT] = &serve_cfg.header_timeout, [O_BODY_TIMEOUT] = &serve_cfg.body_timeout,
            [O_IDLE_TIMEOUT] = &serve_cfg.idle_timeout, [O_STOP_TIMEOUT] = &serve_cfg.stop_timeout,
            [O_LOGIN_FAILURES_USER] = &serve_api.login_failures_user,
            [O_LOGIN_FAILURES_ADDRESS] = &serve_api.login_failures_address,
        };
        if (which == O_SQLITE_MMAP)
            store_sqlite_mmap((int64_t)n);
        else if (which == O_MAX_BODY)
            serve_cfg.max_body = (size_t)n;
        else if (which == O_BODY_BUDGET)
            serve_cfg.body_budget = (size_t)n;
        else
            *counts[which] = (unsigned)n;
        return true;
    }
    }
    return false;
}

static void serve_help(void)
{
    printf("usage: stockroom serve [options]\n\n"
           "Serve the Orders API and the retail data API. Every option can also be set by the\n"
           "environment variable named after it; a flag wins over the variable.\n\n");
    for (int i = 0; i < O_COUNT; i++) {
        const serve_option *o = &serve_options[i];
        printf("  --%s%s%s  (%s)\n", o->flag, o->arg ? " " : "", o->arg ? o->arg : "", o->env);
        printf("        ");
        for (const char *h = o->help; *h; h++) {
            putchar(*h);
            if (*h == '\n')
                printf("        ");
        }
        putchar('\n');
    }
    printf("\nCallbacks are delivered to callback urls by a worker thread, many at once but one at a\n"
           "time per customer, %d s an attempt at most, retried after BASE, 2*BASE, ... at most MAX ms:\n"
           "STOCKROOM_CALLBACK_BACKOFF_MS=BASE,MAX (1000,60000).\n", CALLBACK_TIMEOUT_MS / 1000);
}

/* ------------------------------------------------------------ manpage */

/*
 * `stockroom manpage` prints stockroom(1) in roff, built from commands[] and
 * serve_options[] so that it cannot drift from the binary; the build runs it
 * after linking (CMakeLists.txt) and installs its output. Not in the usage.
 */

/* Text for roff: a backslash, a minus (flags and variables are copied from
 * the page) and any non-ASCII character (as \[uXXXX]) are escaped, a line
 * that would start with a control character gets \&, and the help texts'
 * line breaks (for the terminal) become plain white space. */
static void roff_text(const char *s)
{
    bool line_start = true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n') {
            putchar('\n');
            line_start = true;
            while (p[1] == ' ')
                p++;
            continue;
        }
        if (line_start && (*p == '.' || *p == '\''))
            fputs("\\&", stdout);
        line_start = false;
        if (*p == '\\') {
            fputs("\\e", stdout);
        } else if (*p == '-') {
            fputs("\\-", stdout);
        } else if (*p < 0x80) {
            putchar(*p);
        } else {
            /* one UTF-8 sequence (the strings are ours: well formed) */
            unsigned cp;
            int more = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : 1;
            cp = *p & (0x3f >> more);
            while (more-- && (p[1] & 0xc0) == 0x80)
                cp = (cp << 6) | (*++p & 0x3f);
            printf("\\[u%04X]", cp);
        }
    }
}

/* "CUSTOMER [--client-id ID --client-secret SECRET]": words in upper case
 * (and the values after a flag) are italic, flags bold. */
static void roff_args(const char *args)
{
    while (*args) {
        size_t n = strcspn(args, " []|");
        if (n == 0) {
            putchar(*args++);
            continue;
        }
        char word[128];
        snprintf(word, sizeof word, "%.*s", (int)n, args);
        fputs(word[0] == '-' ? "\\fB" : "\\fI", stdout);
        roff_text(word);
        fputs("\\fR", stdout);
        args += n;
    }
}

/* Where the output device lacks a glyph the texts use (groff -Tascii has
 * no section sign), a plain stand-in. */
static void roff_fallbacks(void)
{
    static const struct { const char *utf8, *glyph, *ascii; } stand_ins[] = {
        {"\u00a7", "u00A7", "section\\ "},
    };
    for (size_t k = 0; k < sizeof stand_ins / sizeof stand_ins[0]; k++) {
        bool used = false;
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            used |= strstr(commands[i].help, stand_ins[k].utf8) != NULL;
        for (int i = 0; i < O_COUNT; i++)
            used |= strstr(serve_options[i].help, stand_ins[k].utf8) != NULL;
        if (used)
            printf(".if !c\\[%s] .char \\[%s] %s\n", stand_ins[k].glyph, stand_ins[k].glyph,
                   stand_ins[k].ascii);
    }
}

static void print_manpage(void)
{
    printf(".\\\" Generated by `stockroom manpage` from the binary's own tables of commands and\n"
           ".\\\" options (src/main.c); edit those, not this file.\n"
           ".TH STOCKROOM 1 \"\" \"stockroom %s\" \"Stockroom Manual\"\n", STOCKROOM_VERSION);
    roff_fallbacks();
    printf(".SH NAME\n"
           "stockroom \\- serve the Orders API and the retail data API (Django REST framework compatible)\n"
           ".SH SYNOPSIS\n"
           ".B stockroom serve\n"
           "[\\fIoptions\\fR]\n"
           ".br\n"
           ".B stockroom\n"
           "\\fICOMMAND\\fR [\\fIARGUMENTS\\fR] [\\fB\\-\\-db\\fR \\fIPATH\\fR|\\fIURL\\fR]\n"
           ".br\n"
           ".B stockroom\n"
           "[\\fICOMMAND\\fR] \\fB\\-\\-help\\fR\n"
           ".SH DESCRIPTION\n"
           ".B stockroom\n"
           "is one binary that serves two REST APIs whose clients were written for Django REST\n"
           "framework servers: the warehouse Orders API under \\fI/api/\\fR (orders, shipments,\n"
           "items and pick\\-to\\-light devices) and the retail data API under \\fI/api/v1/\\fR\n"
           "(supplier refunds, shops, suppliers, products).\n"
           "Data lives in an SQLite file, or in a PostgreSQL database that several servers can share.\n"
           ".PP\n"
           ".B stockroom serve\n"
           "listens for HTTP (or HTTPS) requests; the other commands manage customers (tenants), their\n"
           "API keys, users and OAuth2 clients in the same database.\n"
           "Every command creates or migrates the database schema when it opens the database.\n"
           "A customer sees only its own data; keys and passwords are stored hashed.\n"
           ".PP\n"
           "The server writes one access log line per request on standard error, and answers\n"
           "\\fBGET /healthz\\fR with 200 while the database answers (no key needed).\n"
           "Under systemd it reports readiness and stopping with \\fBsd_notify\\fR(3)\n"
           "(\\fIType=notify\\fR).\n");

    printf(".SH \"SERVE OPTIONS\"\n"
           "Every option of \\fBserve\\fR can also be set by the environment variable named after it;\n"
           "a flag wins over the variable.\n");
    for (int i = 0; i < O_COUNT; i++) {
        const serve_option *o = &serve_options[i];
        printf(".TP\n\\fB\\-\\-");
        roff_text(o->flag);
        printf("\\fR");
        if (o->arg) {
            putchar(' ');
            roff_args(o->arg);
        }
        putchar('\n');
        roff_text(o->help);
        printf("\n.br\nEnvironment: \\fB");
        roff_text(o->env);
        printf("\\fR.\n");
    }
    printf(".TP\n\\fB\\-\\-help\\fR\nList these options and exit.\n");

    printf(".SH COMMANDS\n"
           "Each command takes \\fB\\-\\-db\\fR \\fIPATH\\fR|\\fIURL\\fR, the database (default\n"
           "\\fI%s\\fR, or \\fBSTOCKROOM_DATABASE_URL\\fR when set), and \\fB\\-\\-help\\fR.\n",
           DEFAULT_DB);
    printf(".TP\n\\fBserve\\fR [\\fIoptions\\fR]\n"
           "Serve the Orders API and the retail data API (see \\fBSERVE OPTIONS\\fR above).\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        printf(".TP\n\\fB");
        roff_text(commands[i].name);
        printf("\\fR ");
        roff_args(commands[i].args);
        printf(" [\\fB\\-\\-db\\fR \\fIPATH\\fR|\\fIURL\\fR]\n");
        roff_text(commands[i].help);
        putchar('\n');
    }

    printf(".SH ENVIRONMENT\n");
    for (int i = 0; i < O_COUNT; i++) {
        printf(".TP\n.B ");
        roff_text(serve_options[i].env);
        printf("\nThe value of \\fB\\-\\-");
        roff_text(serve_options[i].flag);
        printf("\\fR for \\fBserve\\fR%s.\n",
               serve_options[i].kind == OPT_SWITCH ? " (1, true, yes, on; or 0, false, no, off)" : "");
    }
    printf(".TP\n.B STOCKROOM_DATABASE_URL\n"
           "The database of every command when \\fB\\-\\-db\\fR is not given (for \\fBserve\\fR, nor\n"
           "\\fBSTOCKROOM_DB\\fR): an SQLite file path or a \\fIpostgresql://\\fR URL.\n"
           ".TP\n.B STOCKROOM_CALLBACK_BACKOFF_MS\n"
           "\\fIBASE\\fR or \\fIBASE\\fR,\\fIMAX\\fR in milliseconds: a callback delivery that fails\n"
           "is retried after \\fIBASE\\fR, 2*\\fIBASE\\fR, 4*\\fIBASE\\fR ... at most \\fIMAX\\fR\n"
           "(default 1000,60000).\n"
           ".TP\n.B STOCKROOM_EXPLAIN\n"
           "When set, the SQLite query plan of every statement prepared is logged once on\n"
           "standard error (for checking that queries use indexes).\n"
           ".TP\n.B NOTIFY_SOCKET\n"
           "Set by systemd for a \\fIType=notify\\fR service: \\fBserve\\fR reports there when it is\n"
           "ready and when it stops.\n");

    printf(".SH FILES\n"
           ".TP\n.I %s\n"
           "The default database, relative to the working directory.\n"
           ".TP\n.I /var/lib/stockroom/stockroom.db\n"
           "The database of the systemd service (its \\fIStateDirectory\\fR).\n"
           ".TP\n.I /etc/default/stockroom\n"
           "Optional \\fBSTOCKROOM_\\fR\\fINAME\\fR=\\fIvalue\\fR lines read by the systemd service.\n"
           ".TP\n.I /lib/systemd/system/stockroom.service\n"
           "The systemd unit.\n",
           DEFAULT_DB);

    printf(".SH SIGNALS\n"
           ".TP\n.BR SIGTERM \", \" SIGINT\n"
           "Stop gracefully: \\fBserve\\fR stops accepting connections, requests in flight get\n"
           "\\fB\\-\\-stop\\-timeout\\fR seconds to finish, requests that arrive meanwhile are answered\n"
           "503, and the process exits with status 0.\n");

    printf(".SH \"EXIT STATUS\"\n"
           ".TP\n.B 0\n"
           "Success; for \\fBserve\\fR, a graceful stop.\n"
           ".TP\n.B 1\n"
           "Failure: the database cannot be opened or migrated, the address cannot be listened on,\n"
           "or the command failed (an unknown customer, say); a message says why.\n"
           ".TP\n.B 2\n"
           "Usage error: an unknown command or option, a missing argument, or a bad option value\n"
           "(from a flag or from its environment variable, which the message names).\n");

    printf(".SH \"SEE ALSO\"\n"
           ".BR systemctl (1),\n"
           ".BR journalctl (1),\n"
           ".BR systemd.exec (5),\n"
           ".BR sd_notify (3),\n"
           ".BR sqlite3 (1),\n"
           ".BR psql (1)\n"
           ".PP\n"
           "The README of the source tree: building, configuration, and the APIs by example.\n");
}

/* systemd-style readiness and stopping (Type=notify); sd_notify does
 * nothing when NOTIFY_SOCKET is not set, i.e. when not run by systemd. */
static void serve_notify(const char *state)
{
    if (strcmp(state, "ready") == 0)
        sd_notify(0, "READY=1\nSTATUS=serving");
    else if (strcmp(state, "stopping") == 0)
        sd_notify(0, "STOPPING=1");
}

static http_app stockroom_app = {
    .admit = api_admit,
    .run = api_run,
    .refuse = api_refuse,
    .notify = serve_notify,
    .completed = monitoring_request,
};

static int run_serve(int argc, char **argv)
{
    serve_cfg = (http_config){
        .listen_host = "127.0.0.1", .port = 8000, .login_queue = 64, .max_connections = 16384, .max_streams = 4096,
        .header_timeout = 10, .body_timeout = 15, .idle_timeout = 60, .stop_timeout = 10,
        .max_body = DEFAULT_MAX_BODY, .body_budget = 256u * 1024 * 1024,
    };
    serve_api = (api_config){.login_failures_user = THROTTLE_USER_DEFAULT,
                             .login_failures_address = THROTTLE_ADDRESS_DEFAULT};
    serve_janitor = (janitor_config){.keep_delivered_us = 7 * 86400 * 1000000LL,
                                     .keep_expired_us = 86400 * 1000000LL};
    serve_db = default_db();
    for (int i = 0; i < O_COUNT; i++) {
        const char *v = getenv(serve_options[i].env);
        if (v && !set_option(i, v, serve_options[i].env))
            return 2;
    }
    struct option opts[O_COUNT + 2];
    for (int i = 0; i < O_COUNT; i++)
        opts[i] = (struct option){serve_options[i].flag,
                                  serve_options[i].kind == OPT_SWITCH ? no_argument : required_argument, NULL,
                                  1000 + i};
    opts[O_COUNT] = (struct option){"help", no_argument, NULL, 'h'};
    opts[O_COUNT + 1] = (struct option){NULL, 0, NULL, 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') {
            serve_help();
            return 0;
        }
        if (c < 1000 || c >= 1000 + O_COUNT) {
            fprintf(stderr, "stockroom serve: see `stockroom serve --help`\n");
            return 2;
        }
        char flag[64];
        snprintf(flag, sizeof flag, "--%s", serve_options[c - 1000].flag);
        if (!set_option(c - 1000, serve_options[c - 1000].kind == OPT_SWITCH ? "1" : optarg, flag))
            return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "stockroom serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!serve_cfg.tls_cert_file != !serve_cfg.tls_key_file) {
        fprintf(stderr, "stockroom serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    store *db = open_db(serve_db);   /* migrate once, before any worker connects */
    if (!db)
        return 1;
    store_close(db);
    serve_api.db_url = serve_db;
    metrics_set_build(STOCKROOM_VERSION);
    if (serve_api.metrics_off)
        stockroom_app.completed = NULL;
    api_init(&serve_api);
    serve_janitor.db_url = serve_db;
    if (callbacks_start(serve_db) < 0 || janitor_start(&serve_janitor) < 0 || expiry_start(serve_db) < 0 ||
        events_start(serve_db) < 0)
        return 1;
    int rc = http_serve(&serve_cfg, &stockroom_app);
    events_stop();   /* every stream has ended */
    expiry_stop();
    janitor_stop();
    callbacks_stop();   /* a delivery in flight is abandoned: it stays queued */
    api_shutdown();
    return rc;
}

static int run_command(const command *cmd, int argc, char **argv)
{
    const char *db_url = default_db();
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {"client-id", required_argument, NULL, 'i'}, {"client-secret", required_argument, NULL, 's'},
        {"events", required_argument, NULL, 'e'}, {"legacy", no_argument, NULL, 'l'},
        {"basic-auth", required_argument, NULL, 'b'}, {"bearer", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    bool takes_client = cmd->run == cmd_oauth_client_create;
    bool takes_callback = cmd->run == cmd_customer_set_callback;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 'i' || c == 's') && takes_client) {
            *(c == 'i' ? &opt_client_id : &opt_client_secret) = optarg;
        } else if ((c == 'e' || c == 'l' || c == 'b' || c == 't') && takes_callback) {
            if (c == 'e')
                opt_callback.events = optarg;
            else if (c == 'l')
                opt_callback.legacy = true;
            else
                *(c == 'b' ? &opt_callback.basic_auth : &opt_callback.bearer) = optarg;
        } else if (c == 'd') {
            db_url = optarg;
        } else if (c == 'h') {
            printf("usage: stockroom %s %s [--db PATH|postgresql://...]\n\n%s\n", cmd->name, cmd->args,
                   cmd->help);
            return 0;
        } else {
            fprintf(stderr, "stockroom %s: see `stockroom %s --help`\n", cmd->name, cmd->name);
            return 2;
        }
    }
    if (takes_client && !opt_client_id != !opt_client_secret) {
        fprintf(stderr, "stockroom oauth-client create: give both --client-id and --client-secret, or neither\n");
        return 2;
    }
    if (argc - optind != cmd->nargs) {
        fprintf(stderr, "usage: stockroom %s %s [--db PATH|postgresql://...]\n", cmd->name, cmd->args);
        return 2;
    }
    if (takes_callback) {   /* the flags' own mistakes are usage errors, found before the database */
        opt_callback.url = argv[optind + 1];
        const char *err = callback_settings_check(&opt_callback);
        if (err) {
            fprintf(stderr, "stockroom: customer set-callback: %s\n", err);
            return 2;
        }
    }
    store *db = open_db(db_url);
    if (!db)
        return 1;
    int rc = cmd->run(db, argv + optind);
    store_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    if (tenants_init() < 0) {
        fprintf(stderr, "stockroom: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return run_serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "manpage") == 0 && argc == 2) {   /* for the build; not in the usage */
        print_manpage();
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    }
    /* "customer create" is argv[1] and argv[2]; "backup" argv[1] alone */
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command *cmd = &commands[i];
        const char *space = strchr(cmd->name, ' ');
        size_t group = space ? (size_t)(space - cmd->name) : strlen(cmd->name);
        if (strlen(argv[1]) != group || strncmp(argv[1], cmd->name, group) != 0)
            continue;
        if (!space)
            return run_command(cmd, argc - 1, argv + 1);
        if (argc >= 3 && strcmp(argv[2], space + 1) == 0)
            return run_command(cmd, argc - 2, argv + 2);
    }
    bool known_group = false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        known_group |= strncmp(argv[1], commands[i].name, strlen(argv[1])) == 0 &&
                       commands[i].name[strlen(argv[1])] == ' ';
    if (known_group) {
        bool help = argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
        FILE *out = help ? stdout : stderr;
        fprintf(out, "usage:\n");
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strncmp(argv[1], commands[i].name, strlen(argv[1])) == 0 &&
                commands[i].name[strlen(argv[1])] == ' ')
            {
                fprintf(out, "  stockroom %s %s [--db PATH|postgresql://...]\n", commands[i].name, commands[i].args);
                print_help(out, commands[i].help);
            }
        return help ? 0 : 2;
    }
    fprintf(stderr, "stockroom: unknown command '%s%s%s'\n\n", argv[1], argc >= 3 ? " " : "",
            argc >= 3 ? argv[2] : "");
    usage(stderr);
    return 2;
}
