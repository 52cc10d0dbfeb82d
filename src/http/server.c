/*
 * server.c — the libmicrohttpd adapter (see server.h).
 *
 * A request's life: first call of the access handler → its context (arena,
 * body buffer) is made and Content-Length checked; following calls append
 * the body; the last call (no more data) fills a `request` and runs
 * api_dispatch(), then queues the response. Queuing on that last call,
 * never the first, keeps libmicrohttpd's keep-alive path. The completion
 * callback writes the access-log line and releases the arena.
 *
 * Requests that write (POST, PUT, PATCH, DELETE) are not run on the
 * connection's thread: the connection is suspended and the request goes to
 * a pool of writer threads; when it is done the connection is resumed and
 * its response queued. A write spends most of its time waiting for its
 * batch's commit and fdatasync (store/sqlite.c), so the writers are many
 * (the larger the batch, the cheaper each write), while the connection
 * threads stay few and busy with reads.
 *
 * Paths and query strings reach us raw (the unescape callback is a no-op)
 * so that an encoded "/" in a path segment stays inside its segment; the
 * router decodes each segment itself.
 *
 * HTTPS is libmicrohttpd's own TLS (GnuTLS): the same daemon, threads,
 * suspend/resume and keep-alive, with the certificate and key read into
 * memory at start and checked with GnuTLS first, so a bad pair is a clear
 * message instead of a daemon that does not start for a reason we cannot tell.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <malloc.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/arena.h"
#include "core/util.h"
#include "http/request.h"
#include "store/store.h"

typedef struct request_ctx {
    request req;
    struct MHD_Connection *conn;
    struct request_ctx *next_job;   /* in the writers' queue */
    _Atomic bool done;              /* a writer has run it: send the response */
    char *body;
    size_t body_len, body_cap;
    bool too_large;
    int64_t started_us;
} request_ctx;

static const server_config *config;

/* TLS 1.2 and 1.3 only: 1.0 and 1.1 are deprecated (RFC 8996), and every
 * client we know of speaks 1.2. */
static const char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

/* The writers' queue (see the top of the file). */
static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_ready = PTHREAD_COND_INITIALIZER;
static request_ctx *jobs_head, *jobs_tail;
static bool jobs_stopping;
static _Atomic int in_flight;

/* A finished request's arena, reset, for the thread's next request; freed
 * when its thread ends (the key's destructor) or, for the main thread,
 * when the server stops. */
static _Thread_local arena *spare_arena;
static pthread_key_t spare_arena_key;

static void free_spare_arena(void *a)
{
    arena_free(a);
}

/* Each worker thread's database connection, opened on first use. */
static _Thread_local store *thread_db;
static pthread_mutex_t thread_dbs_lock = PTHREAD_MUTEX_INITIALIZER;
static store *thread_dbs[1024];
static int nthread_dbs;

static store *worker_db(void)
{
    if (thread_db)
        return thread_db;
    char *err = NULL;
    thread_db = store_open(config->db_url, &err);
    if (!thread_db) {
        log_line("database: %s", err ? err : "cannot open");
        free(err);
        return NULL;
    }
    pthread_mutex_lock(&thread_dbs_lock);
    if (nthread_dbs < (int)(sizeof thread_dbs / sizeof thread_dbs[0]))
        thread_dbs[nthread_dbs++] = thread_db;
    pthread_mutex_unlock(&thread_dbs_lock);
    return thread_db;
}

const char *request_header(request *r, const char *name)
{
    if (r->conn)
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
    for (int i = 0; i < r->nheaders_in; i++)
        if (strcasecmp(r->headers_in[i].name, name) == 0)
            return r->headers_in[i].value;
    return NULL;
}

/* Django's QueryDict.get(): the last value of a repeated parameter. */
const char *request_query(request *r, const char *name)
{
    for (int i = r->nquery - 1; i >= 0; i--)
        if (strcmp(r->query[i].name, name) == 0)
            return r->query[i].value;
    return NULL;
}

void request_add_header(request *r, const char *name, const char *text)
{
    if (r->nheaders_out < REQUEST_MAX_HEADERS_OUT) {
        r->headers_out[r->nheaders_out].name = name;
        r->headers_out[r->nheaders_out].value = text;
        r->nheaders_out++;
    }
}

static size_t keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

http_method http_method_parse(const char *m)
{
    static const struct { const char *name; http_method m; } methods[] = {
        {"GET", HTTP_GET},       {"POST", HTTP_POST},     {"PUT", HTTP_PUT},
        {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE}, {"HEAD", HTTP_HEAD},
        {"OPTIONS", HTTP_OPTIONS},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].m;
    return 0;
}

/* Split "a=1&b=x%20y" into decoded name/value pairs in the arena. */
static void parse_query(request *r, const char *qs)
{
    int cap = 1;
    for (const char *p = qs; *p; p++)
        cap += *p == '&';
    r->query = arena_alloc(r->arena, sizeof(query_param) * (size_t)cap);
    r->nquery = 0;
    while (*qs) {
        const char *end = strchr(qs, '&');
        size_t n = end ? (size_t)(end - qs) : strlen(qs);
        if (n) {
            const char *eq = memchr(qs, '=', n);
            size_t name_len = eq ? (size_t)(eq - qs) : n;
            query_param *q = &r->query[r->nquery++];
            q->name = url_decode(r->arena, qs, name_len, true);
            q->value = eq ? url_decode(r->arena, eq + 1, n - name_len - 1, true) : "";
        }
        qs += n + (end ? 1 : 0);
    }
}

/* "scheme://host" for absolute urls: the Host header, or behind a trusted
 * proxy its X-Forwarded-Proto / X-Forwarded-Host (first value of a list). */
static const char *base_url(request *r, struct MHD_Connection *conn)
{
    const char *scheme = config->tls_cert_file ? "https" : "http";
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (config->trust_proxy) {
        const char *proto = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
        const char *fwd_host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-Host");
        if (proto && *proto)
            scheme = arena_strndup(r->arena, proto, strcspn(proto, ", "));
        if (fwd_host && *fwd_host)
            host = arena_strndup(r->arena, fwd_host, strcspn(fwd_host, ", "));
    }
    return arena_printf(r->arena, "%s://%s", scheme, host && *host ? host : "localhost");
}

static void fill_request(request_ctx *ctx, struct MHD_Connection *conn, const char *url,
                         const char *method)
{
    request *r = &ctx->req;
    r->conn = conn;
    r->method = http_method_parse(method);
    r->method_name = arena_strdup(r->arena, method);
    const char *q = strchr(url, '?');
    if (q) {
        r->path = arena_strndup(r->arena, url, (size_t)(q - url));
        parse_query(r, q + 1);
    } else {
        r->path = arena_strdup(r->arena, url);
        /* libmicrohttpd may already have split off the query: rebuild from its args */
        r->query = NULL;
        r->nquery = 0;
    }
    r->body = ctx->body ? ctx->body : "";
    r->body_len = ctx->body_len;
    r->base_url = base_url(r, conn);
    r->status = 500;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *text)
{
    request *r = cls;
    if (r->nquery < 64) {
        if (!r->query)
            r->query = arena_alloc(r->arena, sizeof(query_param) * 64);
        query_param *qp = &r->query[r->nquery++];
        qp->name = url_decode(r->arena, key, strlen(key), true);
        qp->value = text ? url_decode(r->arena, text, strlen(text), true) : "";
    }
    return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, request *r)
{
    struct MHD_Response *resp;
    if (r->resp_body)
        resp = MHD_create_response_from_buffer(r->resp_len, r->resp_body, MHD_RESPMEM_MUST_FREE);
    else
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    r->resp_body = NULL;  /* owned by libmicrohttpd now */
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    if (r->allow) {
        MHD_add_response_header(resp, "Vary", "Accept");
        MHD_add_response_header(resp, "Allow", r->allow);
    }
    for (int i = 0; i < r->nheaders_out; i++)
        MHD_add_response_header(resp, r->headers_out[i].name, r->headers_out[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    request_ctx *ctx = *con_cls;
    if (!ctx) {
        arena *a = spare_arena ? spare_arena : arena_new(16384);
        spare_arena = NULL;
        pthread_setspecific(spare_arena_key, NULL);
        ctx = arena_zalloc(a, sizeof *ctx);
        ctx->req.arena = a;
        ctx->started_us = monotonic_us();
        *con_cls = ctx;
        atomic_fetch_add(&in_flight, 1);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > config->max_body)
            ctx->too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->too_large || ctx->body_len + n > config->max_body) {
            ctx->too_large = true;
            return MHD_YES;
        }
        if (ctx->body_len + n + 1 > ctx->body_cap) {
            size_t cap = ctx->body_cap ? ctx->body_cap * 2 : 4096;
            while (cap < ctx->body_len + n + 1)
                cap *= 2;
            char *grown = arena_alloc(ctx->req.arena, cap);
            if (ctx->body_len)
                memcpy(grown, ctx->body, ctx->body_len);
            ctx->body = grown;
            ctx->body_cap = cap;
        }
        memcpy(ctx->body + ctx->body_len, upload_data, n);
        ctx->body_len += n;
        ctx->body[ctx->body_len] = '\0';
        return MHD_YES;
    }
    request *r = &ctx->req;
    if (atomic_load(&ctx->done))   /* resumed after a writer ran it */
        return send_response(conn, r);
    fill_request(ctx, conn, url, method);
    if (!strchr(url, '?'))
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, r);
    if (ctx->too_large) {
        api_respond_too_large(r);
        return send_response(conn, r);
    }
    if (r->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)) {
        ctx->conn = conn;
        MHD_suspend_connection(conn);
        pthread_mutex_lock(&jobs_lock);
        if (jobs_tail)
            jobs_tail->next_job = ctx;
        else
            jobs_head = ctx;
        jobs_tail = ctx;
        pthread_cond_signal(&jobs_ready);
        pthread_mutex_unlock(&jobs_lock);
        return MHD_YES;
    }
    r->db = worker_db();
    api_dispatch(r);
    return send_response(conn, r);
}

/* A writer thread: run queued writing requests until the server stops. */
static void *run_writer(void *unused)
{
    for (;;) {
        pthread_mutex_lock(&jobs_lock);
        while (!jobs_head && !jobs_stopping)
            pthread_cond_wait(&jobs_ready, &jobs_lock);
        request_ctx *ctx = jobs_head;
        if (ctx) {
            jobs_head = ctx->next_job;
            if (!jobs_head)
                jobs_tail = NULL;
        }
        pthread_mutex_unlock(&jobs_lock);
        if (!ctx)
            return NULL;   /* stopping, and nothing left */
        ctx->req.db = worker_db();
        api_dispatch(&ctx->req);
        atomic_store(&ctx->done, true);
        MHD_resume_connection(ctx->conn);
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request_ctx *ctx = *con_cls;
    if (!ctx)
        return;
    request *r = &ctx->req;
    if (r->method_name) {
        long long us = (long long)(monotonic_us() - ctx->started_us);
        log_line("%s %s %d %zu %lldus", r->method_name, r->path, r->status, r->resp_len, us);
    }
    free(r->resp_body);
    arena *a = r->arena;   /* ctx itself lives in the arena: nothing of it is read after this */
    if (!spare_arena) {    /* keep one per thread: the next request allocates nothing */
        arena_reset(a);
        spare_arena = a;
        pthread_setspecific(spare_arena_key, a);
    } else {
        arena_free(a);
    }
    *con_cls = NULL;
    atomic_fetch_sub(&in_flight, 1);
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    log_line("libmicrohttpd: %s", buf);
}

/* A PEM file, whole and NUL-terminated (libmicrohttpd takes C strings);
 * NULL after logging why. */
static char *read_pem(const char *flag, const char *path)
{
    enum { max_pem = 1024 * 1024 };   /* a certificate chain is a few KiB */
    FILE *f = fopen(path, "r");
    if (!f) {
        log_line("%s %s: %s", flag, path, strerror(errno));
        return NULL;
    }
    char *text = malloc(max_pem + 1);
    if (!text)
        abort();
    size_t n = fread(text, 1, max_pem + 1, f);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    const char *why = read_errno ? strerror(read_errno)
                      : n > max_pem ? "larger than 1 MiB: not a PEM certificate or key"
                      : n == 0      ? "empty"
                      : memchr(text, '\0', n) ? "not a PEM file (binary data)"
                                               : NULL;
    if (why) {
        log_line("%s %s: %s", flag, path, why);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* Whether GnuTLS takes cert and key as a pair, the very call libmicrohttpd
 * makes when it starts; logs GnuTLS's reason when not (not PEM, key does
 * not match the certificate, ...). */
static bool tls_pair_usable(const server_config *cfg, const char *cert, const char *key)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        abort();
    gnutls_datum_t cert_d = {(unsigned char *)cert, (unsigned)strlen(cert)};
    gnutls_datum_t key_d = {(unsigned char *)key, (unsigned)strlen(key)};
    int rc = gnutls_certificate_set_x509_key_mem(cred, &cert_d, &key_d, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (rc < 0)
        log_line("cannot use --tls-cert %s and --tls-key %s as a PEM certificate and its private key: %s",
                 cfg->tls_cert_file, cfg->tls_key_file, gnutls_strerror(rc));
    return rc >= 0;
}

int server_run(const server_config *cfg)
{
    config = cfg;
    /* Defaults, measured with `make bench`: two connection threads per core
     * (reads run on them), eight writers per core (see the top of the file). */
    unsigned cores = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads ? cfg->threads : 2 * cores;
    unsigned writers = cfg->writers ? cfg->writers : 8 * cores;
    if (threads < 1)
        threads = 1;
    if (writers < 1)
        writers = 1;

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
    if (inet_pton(AF_INET, cfg->listen_host, &addr.sin_addr) != 1) {
        log_line("cannot listen on %s: not an IPv4 address", cfg->listen_host);
        return 2;
    }

    /* Read and check the TLS pair before anything listens. libmicrohttpd
     * keeps pointers to them, so they live until the daemon stops. */
    bool tls = cfg->tls_cert_file != NULL;
    char *tls_cert = NULL, *tls_key = NULL;
    if (tls) {
        tls_cert = read_pem("--tls-cert", cfg->tls_cert_file);
        tls_key = tls_cert ? read_pem("--tls-key", cfg->tls_key_file) : NULL;
        if (!tls_key || !tls_pair_usable(cfg, tls_cert, tls_key)) {
            free(tls_cert);
            free(tls_key);
            return 2;
        }
    }

    /* Large response buffers and arena blocks come and go with every request:
     * keep them in the heap instead of mmap/munmap each time. */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    pthread_key_create(&spare_arena_key, free_spare_arena);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* libmicrohttpd refuses TLS options without MHD_USE_TLS: pass them only then. */
    struct MHD_OptionItem tls_options[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, tls_key},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)tls_priorities},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO |
            MHD_ALLOW_SUSPEND_RESUME | (tls ? MHD_USE_TLS : 0),
        cfg->port, NULL, NULL, on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,   /* first, or libmicrohttpd warns */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_ARRAY, tls ? tls_options : no_options,
        MHD_OPTION_END);
    if (!d) {
        log_line("cannot listen on %s:%u: %s", cfg->listen_host, cfg->port, strerror(errno));
        free(tls_cert);
        free(tls_key);
        return 1;
    }
    pthread_t *writer_threads = calloc(writers, sizeof *writer_threads);
    if (!writer_threads)
        abort();
    for (unsigned i = 0; i < writers; i++)
        pthread_create(&writer_threads[i], NULL, run_writer, NULL);
    log_line("serving on %s://%s:%u with %u connection threads and %u writers",
             tls ? "https" : "http", cfg->listen_host, cfg->port, threads, writers);

    int sig = 0;
    sigwait(&stop, &sig);
    log_line("received %s: finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    MHD_quiesce_daemon(d);
    for (int i = 0; i < 1000 && atomic_load(&in_flight) > 0; i++)
        usleep(10000);
    pthread_mutex_lock(&jobs_lock);
    jobs_stopping = true;
    pthread_cond_broadcast(&jobs_ready);
    pthread_mutex_unlock(&jobs_lock);
    for (unsigned i = 0; i < writers; i++)
        pthread_join(writer_threads[i], NULL);
    free(writer_threads);
    MHD_stop_daemon(d);
    free(tls_cert);
    free(tls_key);
    arena_free(spare_arena);   /* the main thread's, if it completed requests while stopping */
    spare_arena = NULL;
    for (int i = 0; i < nthread_dbs; i++)
        store_close(thread_dbs[i]);
    nthread_dbs = 0;
    log_line("stopped");
    return 0;
}
