/*
 * main.c — the `stockroom` command line: `serve` and the administrative
 * commands (customers, API keys). Every command takes --db (default
 * ./stockroom.db, or STOCKROOM_DATABASE_URL) and --help; the schema is
 * created or migrated whenever a command opens the database.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/callbacks.h"
#include "api/tenants.h"
#include "http/server.h"
#include "store/store.h"

#define DEFAULT_DB "./stockroom.db"
#define DEFAULT_MAX_BODY (16u * 1024 * 1024)

typedef struct command {
    const char *group, *verb;   /* "key" "create"; verb NULL for one-word commands */
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

static int cmd_customer_set_callback(store *db, char **args)
{
    const char *err = callback_url_set(db, args[0], args[1]);
    if (err) {
        fprintf(stderr, "stockroom: customer set-callback: %s\n", err);
        return 1;
    }
    if (*args[1])
        printf("acknowledgements of %s will be POSTed to %s\n", args[0], args[1]);
    else
        printf("callback url of %s cleared\n", args[0]);
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

static const command commands[] = {
    {"customer", "create", "NAME", 1, cmd_customer_create,
     "Create a customer (tenant) and print its first API key on the last line."},
    {"customer", "set-callback", "CUSTOMER URL", 2, cmd_customer_set_callback,
     "Deliver the customer's acknowledgements (contract §8) to URL (http or https); \"\" clears it."},
    {"key", "create", "CUSTOMER", 1, cmd_key_create, "Create another API key for a customer."},
    {"key", "revoke", "KEY", 1, cmd_key_revoke, "Revoke an API key (it answers 401 from then on)."},
    {"key", "list", "CUSTOMER", 1, cmd_key_list, "List a customer's keys (first characters only)."},
    {"user", "create", "CUSTOMER USERNAME", 2, cmd_user_create,
     "Create a login user (sessions, OAuth2); the password is read from stdin, one line."},
    {"user", "list", "CUSTOMER", 1, cmd_user_list, "List a customer's users."},
    {"user", "delete", "USERNAME", 1, cmd_user_delete,
     "Delete a user; its sessions and OAuth2 tokens stop working at once."},
    {"oauth-client", "create", "CUSTOMER [--client-id ID --client-secret SECRET]", 1,
     cmd_oauth_client_create,
     "Register an OAuth2 client and print its client_id and client_secret: new random ones,\n"
     "or the given ones (a client that ships fixed credentials)."},
    {"oauth-client", "list", "CUSTOMER", 1, cmd_oauth_client_list, "List a customer's OAuth2 clients."},
    {"oauth-client", "delete", "CUSTOMER CLIENT_ID", 2, cmd_oauth_client_delete,
     "Delete a customer's OAuth2 client; the tokens it was given stop working at once."},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: stockroom COMMAND [options]\n\n"
            "  serve [--listen HOST:PORT] [--db PATH|postgresql://...] [--threads N] [--writers N]\n"
            "        Serve the Orders API and the retail data API over HTTP.\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %s %s %s [--db ...]\n        %s\n", commands[i].group, commands[i].verb,
                commands[i].args, commands[i].help);
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

static int run_serve(int argc, char **argv)
{
    server_config cfg = {.listen_host = "127.0.0.1", .port = 8000, .db_url = default_db(),
                         .threads = 0, .max_body = DEFAULT_MAX_BODY};
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'}, {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'}, {"writers", required_argument, NULL, 'w'},
        {"trust-proxy", no_argument, NULL, 'p'},
        {"tls-cert", required_argument, NULL, 'c'}, {"tls-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static char host[256];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l': {
            const char *colon = strrchr(optarg, ':');
            char *end;
            long port = colon ? strtol(colon + 1, &end, 10) : -1;
            if (!colon || *end || port < 1 || port > 65535 || (size_t)(colon - optarg) >= sizeof host) {
                fprintf(stderr, "stockroom serve: --listen takes HOST:PORT, e.g. 127.0.0.1:8000\n");
                return 2;
            }
            memcpy(host, optarg, (size_t)(colon - optarg));
            host[colon - optarg] = '\0';
            cfg.listen_host = host;
            cfg.port = (unsigned short)port;
            break;
        }
        case 'd':
            cfg.db_url = optarg;
            break;
        case 'p':
            cfg.trust_proxy = true;
            break;
        case 'c':
            cfg.tls_cert_file = optarg;
            break;
        case 'k':
            cfg.tls_key_file = optarg;
            break;
        case 't':
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "stockroom serve: --%s takes a number from 1 to 256\n",
                        c == 't' ? "threads" : "writers");
                return 2;
            }
            *(c == 't' ? &cfg.threads : &cfg.writers) = (unsigned)n;
            break;
        }
        case 'h':
            printf("usage: stockroom serve [--listen HOST:PORT] [--db PATH|postgresql://...] [--threads N]\n"
                   "                       [--writers N] [--trust-proxy] [--tls-cert FILE --tls-key FILE]\n\n"
                   "  --listen   address to listen on (default 127.0.0.1:8000)\n"
                   "  --db       SQLite file or PostgreSQL URL (default %s, or STOCKROOM_DATABASE_URL)\n"
                   "  --threads  connection threads, which also run reads (default: two per core)\n"
                   "  --writers  threads running writes (default: eight per core; writes wait\n"
                   "             for their batch's commit, and more waiting writers batch better)\n"
                   "             Every thread has its own database connection.\n"
                   "  --trust-proxy  build urls from X-Forwarded-Proto / X-Forwarded-Host\n"
                   "             (only behind a proxy that sets them)\n"
                   "  --tls-cert, --tls-key  serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate\n"
                   "             (chain) and its unencrypted PEM private key; both or neither\n\n"
                   "Acknowledgements are delivered to callback urls by a worker thread, retried after\n"
                   "BASE, 2*BASE, ... at most MAX ms: STOCKROOM_CALLBACK_BACKOFF_MS=BASE,MAX (1000,60000).\n",
                   DEFAULT_DB);
            return 0;
        default:
            fprintf(stderr, "stockroom serve: see `stockroom serve --help`\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "stockroom serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!cfg.tls_cert_file != !cfg.tls_key_file) {
        fprintf(stderr, "stockroom serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    store *db = open_db(cfg.db_url);   /* migrate once, before any worker connects */
    if (!db)
        return 1;
    store_close(db);
    api_init();
    if (callbacks_start(cfg.db_url) < 0)
        return 1;
    int rc = server_run(&cfg);
    callbacks_stop();   /* a delivery in flight is abandoned: it stays queued */
    return rc;
}

static int run_command(const command *cmd, int argc, char **argv)
{
    const char *db_url = default_db();
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {"client-id", required_argument, NULL, 'i'}, {"client-secret", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    bool takes_client = cmd->run == cmd_oauth_client_create;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 'i' || c == 's') && takes_client) {
            *(c == 'i' ? &opt_client_id : &opt_client_secret) = optarg;
        } else if (c == 'd') {
            db_url = optarg;
        } else if (c == 'h') {
            printf("usage: stockroom %s %s %s [--db PATH|postgresql://...]\n\n%s\n", cmd->group,
                   cmd->verb, cmd->args, cmd->help);
            return 0;
        } else {
            fprintf(stderr, "stockroom %s %s: see `stockroom %s %s --help`\n", cmd->group, cmd->verb,
                    cmd->group, cmd->verb);
            return 2;
        }
    }
    if (takes_client && !opt_client_id != !opt_client_secret) {
        fprintf(stderr, "stockroom oauth-client create: give both --client-id and --client-secret, or neither\n");
        return 2;
    }
    if (argc - optind != cmd->nargs) {
        fprintf(stderr, "usage: stockroom %s %s %s [--db PATH|postgresql://...]\n", cmd->group,
                cmd->verb, cmd->args);
        return 2;
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
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        const command *cmd = &commands[i];
        if (strcmp(argv[1], cmd->group) == 0 && argc >= 3 && strcmp(argv[2], cmd->verb) == 0)
            return run_command(cmd, argc - 2, argv + 2);
    }
    bool known_group = false;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        known_group |= strcmp(argv[1], commands[i].group) == 0;
    if (known_group) {
        bool help = argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
        FILE *out = help ? stdout : stderr;
        fprintf(out, "usage:\n");
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (strcmp(argv[1], commands[i].group) == 0)
                fprintf(out, "  stockroom %s %s %s [--db PATH|postgresql://...]\n        %s\n",
                        commands[i].group, commands[i].verb, commands[i].args, commands[i].help);
        return help ? 0 : 2;
    }
    fprintf(stderr, "stockroom: unknown command '%s%s%s'\n\n", argv[1], argc >= 3 ? " " : "",
            argc >= 3 ? argv[2] : "");
    usage(stderr);
    return 2;
}
