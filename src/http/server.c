/*
 * server.c — the libmicrohttpd adapter (see server.h for what it promises).
 *
 * A request's life: libmicrohttpd calls the access handler once the head is
 * in (the first call): a context is made from the thread's spare arena, the
 * head is copied into a `request`, and the application's admit() routes it
 * and says where it will run — before a byte of the body is read, so an
 * unauthenticated or oversized request costs no buffering. Following calls
 * append the body to one malloc'ed block (or throw it away when the answer
 * is already made). The last call runs the request: reads on this very
 * thread; writes and logins on their pools, with the connection suspended
 * meanwhile and resumed by the pool thread when the response is ready; the
 * response is queued on a later call, never the first, which keeps
 * libmicrohttpd's keep-alive path (queued on the first call, it closes the
 * connection). The completion callback writes the access-log line and
 * gives the arena back.
 *
 * A streamed answer (request.stream) is libmicrohttpd's callback response
 * of unknown size (chunked): libmicrohttpd calls our reader only when the
 * socket can take more, so a slow client makes us produce nothing. When
 * the application has nothing, the reader suspends the connection, which
 * then costs no thread and no polling; wake() resumes it. One mutex per
 * stream stands between "nothing now: suspend" and "woken: resume", and a
 * flag says a wake came while the reader was reading, so no wake is lost
 * and a connection is never resumed unless suspended. The sweeper also
 * looks at open streams: it wakes one that has been silent for nearly
 * STREAM_HEARTBEAT_S (the reader then sends the heartbeat), and ends one
 * whose client has gone (a peek at the socket finds its end: a suspended
 * connection is not polled, so libmicrohttpd would not notice).
 *
 * Connections are tracked from accept to close (NOTIFY_CONNECTION) in a few
 * striped lists; a sweeper thread looks at them twice a second and shuts
 * down the socket of any whose request head has been arriving for longer
 * than header_timeout (the kernel's TCP_INFO counts the bytes received, so
 * an idle keep-alive connection is told apart from a slow head) or whose
 * body has stalled for body_timeout. libmicrohttpd then closes it as if the
 * client had; the socket stays valid while it is listed, since it is
 * unlisted before libmicrohttpd closes it.
 *
 * Paths and query strings reach us raw (the unescape callback is a no-op)
 * so that an encoded "/" in a path segment stays inside its segment; the
 * application decodes each segment itself.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <malloc.h>
#include <microhttpd.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/metrics.h"
#include "core/util.h"

/* A refused request's body up to this size is read and thrown away, so the
 * client reads its answer and may go on using the connection; a larger one
 * is not read at all and the connection closes after the answer (answering
 * while a client is still sending can otherwise lose the answer). */
#define DRAIN_MAX (64 * 1024)
/* The open files a server needs besides its connections: database
 * connections, WAL files, the log, libcurl's sockets. */
#define FILES_RESERVE 512
#define SWEEP_US (500 * 1000LL)
#define STRIPES 16
/* A stream silent this long is woken for its heartbeat: with the sweeper's
 * half second, one goes out at least every STREAM_HEARTBEAT_S. */
#define HEARTBEAT_US (STREAM_HEARTBEAT_S * 1000000LL - SWEEP_US)
/* At a stop, streams get this long to send their end; a client that does
 * not read cannot take it, so its socket is then shut down. */
#define STREAM_END_US (1000 * 1000LL)

/* ------------------------------------------------------------ state */

static const http_config *config;
static const http_app *app;
static struct MHD_Daemon *daemon_handle;

static _Atomic bool stopping;
static _Atomic int in_flight;          /* requests from head to completion */
static _Atomic int suspended;          /* connections suspended, not yet resumed */
static _Atomic int open_streams;       /* streamed answers from queued to completed */
static _Atomic size_t budget_used;     /* body bytes reserved */
static _Atomic int open_connections;   /* from accept to close */
static uint32_t request_id_seed;
static _Atomic uint64_t request_id_counter;

/* TLS 1.2 and 1.3 only: 1.0 and 1.1 are deprecated (RFC 8996), and every
 * client we know of speaks 1.2. */
static const char tls_priorities[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

/* ------------------------------------------------------------ connections */

typedef enum { TRACK_WAITING, TRACK_BODY, TRACK_BUSY, TRACK_STREAM } track_state;

struct request_ctx;

typedef struct conn_track {
    struct conn_track *prev, *next;
    int fd, stripe;
    _Atomic int state;               /* track_state */
    _Atomic int64_t since_us;        /* BODY: when its last byte came */
    _Atomic int64_t head_from_us;    /* WAITING: when the next head's first data was seen (0: not yet) */
    _Atomic int64_t bytes_before;    /* WAITING: bytes received when the wait began (-1: not known yet) */
    struct request_ctx *stream;      /* STREAM: its request, until it completes (under the stripe's lock) */
    char ip[INET6_ADDRSTRLEN];
} conn_track;

static struct stripe {
    pthread_mutex_t lock;
    conn_track *head;
} stripes[STRIPES];

static void track_set(conn_track *t, track_state state)
{
    if (!t)
        return;
    atomic_store(&t->head_from_us, 0);
    atomic_store(&t->bytes_before, -1);   /* the sweeper reads it on its next look */
    atomic_store(&t->since_us, monotonic_us());
    atomic_store(&t->state, state);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_track *t = calloc(1, sizeof *t);
        if (!t)
            abort();
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *addr = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        t->fd = fd ? fd->connect_fd : -1;
        strcpy(t->ip, "-");
        if (addr && addr->client_addr) {
            const struct sockaddr *sa = addr->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, t->ip, sizeof t->ip);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, t->ip, sizeof t->ip);
        }
        track_set(t, TRACK_WAITING);
        atomic_fetch_add(&open_connections, 1);
        atomic_store(&t->bytes_before, 0);   /* a new connection: any byte begins a head */
        t->stripe = (int)(((uintptr_t)t >> 6) % STRIPES);
        struct stripe *s = &stripes[t->stripe];
        pthread_mutex_lock(&s->lock);
        t->next = s->head;
        if (s->head)
            s->head->prev = t;
        s->head = t;
        pthread_mutex_unlock(&s->lock);
        *socket_context = t;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
        conn_track *t = *socket_context;
        struct stripe *s = &stripes[t->stripe];
        pthread_mutex_lock(&s->lock);
        if (t->prev)
            t->prev->next = t->next;
        else
            s->head = t->next;
        if (t->next)
            t->next->prev = t->prev;
        pthread_mutex_unlock(&s->lock);
        free(t);
        *socket_context = NULL;
        atomic_fetch_sub(&open_connections, 1);
    }
}

/* The bytes the connection has received so far, or -1. */
static int64_t bytes_in(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        return -1;
    return (int64_t)info.tcpi_bytes_received;
}

static pthread_t sweeper_thread;
static pthread_mutex_t sweeper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweeper_wake = PTHREAD_COND_INITIALIZER;
static bool sweeper_stop;

static void sweep_stream(struct request_ctx *ctx, int fd, int64_t now);

/* Shut down the sockets of heads past their deadline and bodies stalled
 * past theirs; wake streams for their heartbeat or their end (see the top
 * of the file). */
static void sweep(void)
{
    int64_t now = monotonic_us();
    int64_t head_limit = (int64_t)config->header_timeout * 1000000;
    int64_t body_limit = (int64_t)config->body_timeout * 1000000;
    int heads = 0, bodies = 0;
    for (int i = 0; i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        for (conn_track *t = s->head; t; t = t->next) {
            int state = atomic_load(&t->state);
            int64_t since = atomic_load(&t->since_us);
            if (state == TRACK_WAITING) {
                int64_t from = atomic_load(&t->head_from_us);
                if (!from) {
                    /* bytes beyond those the wait began with: a head has begun */
                    int64_t got = bytes_in(t->fd), before = atomic_load(&t->bytes_before);
                    if (before < 0)
                        atomic_store(&t->bytes_before, got);
                    else if (got > before) {
                        from = now;
                        atomic_store(&t->head_from_us, from);
                    }
                }
                if (from && now - from > head_limit && shutdown(t->fd, SHUT_RDWR) == 0)
                    heads++;
            } else if (state == TRACK_BODY && now - since > body_limit) {
                if (shutdown(t->fd, SHUT_RDWR) == 0)
                    bodies++;
                atomic_store(&t->state, TRACK_BUSY);   /* once */
            } else if (state == TRACK_STREAM && t->stream) {
                sweep_stream(t->stream, t->fd, now);
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (heads || bodies)
        log_line("closed %d connection(s) whose request head took over %us, %d whose body stalled over %us",
                 heads, config->header_timeout, bodies, config->body_timeout);
}

static void *run_sweeper(void *unused)
{
    pthread_mutex_lock(&sweeper_lock);
    while (!sweeper_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(SWEEP_US * 1000);
        until.tv_sec += until.tv_nsec / 1000000000;
        until.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&sweeper_wake, &sweeper_lock, &until);
        if (sweeper_stop)
            break;
        pthread_mutex_unlock(&sweeper_lock);
        sweep();
        pthread_mutex_lock(&sweeper_lock);
    }
    pthread_mutex_unlock(&sweeper_lock);
    return NULL;
}

/* ------------------------------------------------------------ requests */

typedef struct request_ctx {
    request req;
    struct MHD_Connection *conn;
    conn_track *track;
    struct request_ctx *next_job;   /* in a pool's queue */
    char *body;                     /* malloc'ed */
    size_t body_len, body_cap;
    size_t reserved;                /* bytes of the body budget held */
    size_t declared;                /* Content-Length, when given */
    bool chunked;                   /* a body of unknown length */
    request_lane lane;
    bool answered;                  /* the answer is made: the body is thrown away */
    _Atomic bool done;              /* a pool thread has run it: send the response */
    int64_t started_us;
    /* a streamed answer, from queued (stream_open) to completed */
    bool stream_open;
    pthread_mutex_t stream_lock;    /* orders "nothing now: suspend" against "woken: resume" */
    bool stream_suspended;          /* under stream_lock: suspended by its reader, not resumed yet */
    bool stream_woken;              /* under stream_lock: woken since its reader last began */
    _Atomic bool stream_gone;       /* the sweeper found the client gone */
    _Atomic int64_t stream_sent_us; /* when bytes last went out (or it began) */
} request_ctx;

/* A finished request's arena, reset, for the thread's next request; freed
 * when its thread ends (the key's destructor) or, for the main thread,
 * when the server stops. */
static _Thread_local arena *spare_arena;
static pthread_key_t spare_arena_key;

static void free_spare_arena(void *a)
{
    arena_free(a);
}

static bool reserve_budget(size_t n)
{
    size_t used = atomic_load(&budget_used);
    do {
        if (used + n > config->body_budget || used + n < used)
            return false;
    } while (!atomic_compare_exchange_weak(&budget_used, &used, used + n));
    return true;
}

static void release_budget(request_ctx *ctx)
{
    atomic_fetch_sub(&budget_used, ctx->reserved);
    ctx->reserved = 0;
}

static size_t keep_raw(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

typedef struct header_fill {
    request *r;
    header_pair *pairs;
    int n, cap;
} header_fill;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    header_fill *f = cls;
    if (f->n < f->cap) {
        f->pairs[f->n].name = key;
        f->pairs[f->n].value = value ? value : "";
        f->n++;
    }
    return MHD_YES;
}

typedef struct query_fill {
    request *r;
    size_t cap;
} query_fill;

static void add_query_param(void *cls, const char *name, const char *value)
{
    query_fill *f = cls;
    request *r = f->r;
    r->query = arena_grow(r->arena, r->query, (size_t)r->nquery, &f->cap, sizeof(query_param));
    r->query[r->nquery].name = name;
    r->query[r->nquery].value = value;
    r->nquery++;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *text)
{
    query_fill *f = cls;
    add_query_param(f, form_decode(f->r->arena, key, strlen(key)),
                    text ? form_decode(f->r->arena, text, strlen(text)) : "");
    return MHD_YES;
}

/* The first value of a list header ("a, b" → "a"), in the arena. */
static const char *first_of_list(arena *a, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    return arena_strndup(a, v, strcspn(v, ", \t"));
}

/* "scheme://host" for absolute urls: the Host header, or behind a trusted
 * proxy its X-Forwarded-Proto / X-Forwarded-Host (first value of a list). */
static const char *base_url(request *r)
{
    const char *scheme = config->tls_cert_file ? "https" : "http";
    const char *host = request_header(r, "Host");
    if (config->trust_proxy) {
        const char *proto = request_header(r, "X-Forwarded-Proto");
        const char *fwd_host = request_header(r, "X-Forwarded-Host");
        if (proto && *proto)
            scheme = first_of_list(r->arena, proto);
        if (fwd_host && *fwd_host)
            host = first_of_list(r->arena, fwd_host);
    }
    return arena_printf(r->arena, "%s://%s", scheme, host && *host ? host : "localhost");
}

/* The client's X-Request-ID when it is sane (1 to 64 of A-Z a-z 0-9 . _ -),
 * else a new one: the process's random seed and a counter. */
static const char *request_id(request *r)
{
    const char *given = request_header(r, "X-Request-ID");
    if (given) {
        size_t n = strlen(given);
        if (n >= 1 && n <= 64 &&
            strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n)
            return given;
    }
    unsigned long long count = atomic_fetch_add(&request_id_counter, 1);
    return arena_printf(r->arena, "%08x%012llx", request_id_seed, count & 0xffffffffffffULL);
}

/* The head of the request into ctx->req. */
static void fill_request(request_ctx *ctx, struct MHD_Connection *conn, const char *url, const char *method)
{
    request *r = &ctx->req;
    r->route = -1;
    r->method = http_method_parse(method);
    r->method_name = arena_strdup(r->arena, method);
    int nheaders = MHD_get_connection_values(conn, MHD_HEADER_KIND, NULL, NULL);
    header_fill f = {r, arena_alloc(r->arena, sizeof(header_pair) * (size_t)(nheaders > 0 ? nheaders : 1)), 0,
                     nheaders};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &f);
    r->headers_in = f.pairs;
    r->nheaders_in = f.n;
    query_fill qf = {r, 0};
    const char *q = strchr(url, '?');
    if (q) {
        r->path = arena_strndup(r->arena, url, (size_t)(q - url));
        urlencoded_each(r->arena, q + 1, strlen(q + 1), add_query_param, &qf);
    } else {
        r->path = arena_strdup(r->arena, url);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &qf);
    }
    r->body = "";
    r->base_url = base_url(r);
    r->client_ip = ctx->track ? ctx->track->ip : "-";
    if (config->trust_proxy) {
        /* the address our proxy added: the last of the list (the ones
         * before it are what the client claimed) */
        const char *fwd = request_header(r, "X-Forwarded-For");
        const char *last = fwd ? strrchr(fwd, ',') : NULL;
        if (fwd && *fwd)
            r->client_ip = first_of_list(r->arena, last ? last + 1 : fwd);
    }
    r->request_id = request_id(r);
    r->status = 0;   /* no answer yet */
}

/* ------------------------------------------------------------ streams */

static void refuse(request_ctx *ctx, int status);
static bool wait_zero(_Atomic int *counter, int64_t us);

/* A place among the open streams: false past max_streams or when stopping. */
static bool stream_admit(void)
{
    int n = atomic_load(&open_streams);
    do {
        if ((unsigned)n >= config->max_streams || atomic_load(&stopping))
            return false;
    } while (!atomic_compare_exchange_weak(&open_streams, &n, n + 1));
    return true;
}

/* The application's stream will not be sent (refused, or no answer at all):
 * tell it, once. */
static void drop_stream(request *r)
{
    response_stream *s = r->stream;
    r->stream = NULL;
    if (s)
        s->closed(s);
}

/* Something to read, or the stream must end: its reader runs again soon.
 * Resumes the connection only when its reader suspended it, once. */
static void wake_stream(request_ctx *ctx)
{
    pthread_mutex_lock(&ctx->stream_lock);
    ctx->stream_woken = true;
    if (ctx->stream_suspended) {
        ctx->stream_suspended = false;
        MHD_resume_connection(ctx->conn);
        atomic_fetch_sub(&suspended, 1);
    }
    pthread_mutex_unlock(&ctx->stream_lock);
}

static void stream_wake(response_stream *s)
{
    wake_stream(s->conn);
}

/* libmicrohttpd's content reader: the socket can take up to `max` bytes.
 * The application's bytes, else the heartbeat when it is due, else the
 * connection is suspended (0) until a wake — unless one came meanwhile. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    request_ctx *ctx = cls;
    response_stream *s = ctx->req.stream;
    for (;;) {
        pthread_mutex_lock(&ctx->stream_lock);
        ctx->stream_woken = false;
        pthread_mutex_unlock(&ctx->stream_lock);
        if (atomic_load(&ctx->stream_gone))
            return MHD_CONTENT_READER_END_WITH_ERROR;   /* nobody reads: close */
        if (atomic_load(&stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        long n = s->read(s, buf, max);
        if (n < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        int64_t now = monotonic_us();
        size_t beat = s->heartbeat ? strlen(s->heartbeat) : 0;
        if (n == 0 && beat && beat <= max && now - atomic_load(&ctx->stream_sent_us) >= HEARTBEAT_US) {
            memcpy(buf, s->heartbeat, beat);
            n = (long)beat;
        }
        if (n > 0) {
            atomic_store(&ctx->stream_sent_us, now);
            ctx->req.resp_len += (size_t)n;
            return (ssize_t)n;
        }
        pthread_mutex_lock(&ctx->stream_lock);
        bool again = ctx->stream_woken;
        if (!again) {
            ctx->stream_suspended = true;
            atomic_fetch_add(&suspended, 1);
            MHD_suspend_connection(ctx->conn);
        }
        pthread_mutex_unlock(&ctx->stream_lock);
        if (!again)
            return 0;
    }
}

/* The sweeper's look at an open stream (under its stripe's lock, so ctx
 * is alive): a client that closed its end is gone (the stream ends); a
 * stream silent for HEARTBEAT_US is woken to send its heartbeat. */
static void sweep_stream(request_ctx *ctx, int fd, int64_t now)
{
    char c;
    ssize_t got = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        if (!atomic_exchange(&ctx->stream_gone, true))
            wake_stream(ctx);
    } else if (now - atomic_load(&ctx->stream_sent_us) >= HEARTBEAT_US) {
        wake_stream(ctx);
    }
}

/* The callback response of a stream (admitted already), listed for the
 * sweeper; NULL (the stream dropped) when libmicrohttpd cannot make it. */
static struct MHD_Response *open_stream(request_ctx *ctx)
{
    request *r = &ctx->req;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, ctx, NULL);
    if (!resp) {
        drop_stream(r);
        atomic_fetch_sub(&open_streams, 1);
        return NULL;
    }
    pthread_mutex_init(&ctx->stream_lock, NULL);
    atomic_store(&ctx->stream_sent_us, monotonic_us());
    ctx->stream_open = true;
    r->stream->wake = stream_wake;
    r->stream->conn = ctx;
    r->resp_len = 0;
    if (ctx->track) {
        struct stripe *st = &stripes[ctx->track->stripe];
        pthread_mutex_lock(&st->lock);
        ctx->track->stream = ctx;
        pthread_mutex_unlock(&st->lock);
        track_set(ctx->track, TRACK_STREAM);
    }
    return resp;
}

/* The stream's request completed: unlisted, then the application told
 * (after which nothing wakes it), then its lock goes. */
static void close_stream(request_ctx *ctx)
{
    if (ctx->track) {
        struct stripe *st = &stripes[ctx->track->stripe];
        pthread_mutex_lock(&st->lock);
        ctx->track->stream = NULL;
        pthread_mutex_unlock(&st->lock);
    }
    drop_stream(&ctx->req);
    if (ctx->stream_suspended)   /* libmicrohttpd completes no suspended connection: a bug */
        log_line("error: a stream completed while suspended");
    pthread_mutex_destroy(&ctx->stream_lock);
    ctx->stream_open = false;
    atomic_fetch_sub(&open_streams, 1);
}

/* Each open stream's request (under its stripe's lock, so it is alive). */
static void each_stream(void (*fn)(request_ctx *ctx))
{
    for (int i = 0; i < STRIPES; i++) {
        struct stripe *st = &stripes[i];
        pthread_mutex_lock(&st->lock);
        for (conn_track *t = st->head; t; t = t->next)
            if (t->stream)
                fn(t->stream);
        pthread_mutex_unlock(&st->lock);
    }
}

static void shut_stream(request_ctx *ctx)
{
    if (ctx->track)
        shutdown(ctx->track->fd, SHUT_RDWR);
}

/* At a stop (`stopping` is set): every stream's reader ends it now; those
 * whose client cannot take the end in STREAM_END_US have their socket shut
 * down. Streams never hold the stop up for longer. */
static void end_streams(void)
{
    if (atomic_load(&open_streams) == 0)
        return;
    int n = atomic_load(&open_streams);
    each_stream(wake_stream);
    if (!wait_zero(&open_streams, STREAM_END_US)) {
        log_line("%d stream(s) not ended after %lldms: their connections are shut down",
                 atomic_load(&open_streams), STREAM_END_US / 1000);
        each_stream(shut_stream);
        wait_zero(&open_streams, STREAM_END_US);
    }
    log_line("ended %d stream(s)", n);
}

/* ------------------------------------------------------------ answering */

static enum MHD_Result send_response(request_ctx *ctx)
{
    request *r = &ctx->req;
    if (r->status == 0) {   /* the application made no answer: a bug */
        log_line("error: %s %s: no answer was made", log_escape(r->arena, r->method_name, 16),
                 log_escape(r->arena, r->path, 512));
        refuse(ctx, 500);
    }
    if (r->stream && !stream_admit())   /* --max-streams open, or stopping */
        refuse(ctx, 503);
    struct MHD_Response *resp;
    if (r->stream)
        resp = open_stream(ctx);
    else if (r->resp_body)
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
    if (r->request_id)
        MHD_add_response_header(resp, "X-Request-ID", r->request_id);
    if (r->close || atomic_load(&stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(ctx->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    /* the reader runs on this thread, after this handler returns */
    if (ret == MHD_YES && r->stream)
        r->stream->opened(r->stream);
    return ret;
}

/* An answer from the http layer itself (see http_app.refuse). */
static void refuse(request_ctx *ctx, int status)
{
    request *r = &ctx->req;
    drop_stream(r);
    free(r->resp_body);
    r->resp_body = NULL;
    r->resp_len = 0;
    r->nheaders_out = 0;
    r->allow = NULL;
    r->status = status;
    app->refuse(r, status);
    bool has_retry = false;
    for (int i = 0; i < r->nheaders_out; i++)
        has_retry |= strcasecmp(r->headers_out[i].name, "Retry-After") == 0;
    if ((status == 503 || status == 429) && !has_retry)
        request_add_header(r, "Retry-After", "1");
    if (atomic_load(&stopping))
        r->close = true;
    ctx->answered = true;
}

/* ------------------------------------------------------------ pools */

typedef struct pool {
    const char *name;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    request_ctx *head, *tail;
    unsigned queued, bound;     /* bound 0: no limit */
    bool closing;               /* what is still queued is refused, not run */
    pthread_t *threads;
    unsigned nthreads;
} pool;

static pool writers = {.name = "writers"}, logins = {.name = "logins"};

static void resume(request_ctx *ctx)
{
    atomic_store(&ctx->done, true);
    MHD_resume_connection(ctx->conn);
    atomic_fetch_sub(&suspended, 1);
}

/* Queue a request (its connection suspended first). False when the queue
 * is full or closing: nothing is queued, the connection is not suspended. */
static bool pool_submit(pool *p, request_ctx *ctx)
{
    pthread_mutex_lock(&p->lock);
    bool ok = !p->closing && (!p->bound || p->queued < p->bound);
    if (ok) {
        atomic_fetch_add(&suspended, 1);
        MHD_suspend_connection(ctx->conn);
        ctx->next_job = NULL;
        if (p->tail)
            p->tail->next_job = ctx;
        else
            p->head = ctx;
        p->tail = ctx;
        p->queued++;
        pthread_cond_signal(&p->ready);
    }
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static void *run_pool(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->closing)
            pthread_cond_wait(&p->ready, &p->lock);
        request_ctx *ctx = p->head;
        bool refused = p->closing;
        if (ctx) {
            p->head = ctx->next_job;
            if (!p->head)
                p->tail = NULL;
            p->queued--;
        }
        pthread_mutex_unlock(&p->lock);
        if (!ctx)
            return NULL;   /* closing, and nothing left */
        if (refused)
            refuse(ctx, 503);
        else
            app->run(&ctx->req);
        resume(ctx);
    }
}

static bool pool_start(pool *p, unsigned nthreads, unsigned bound)
{
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->ready, NULL);
    p->bound = bound;
    p->nthreads = nthreads;
    p->threads = calloc(nthreads, sizeof *p->threads);
    if (!p->threads)
        abort();
    for (unsigned i = 0; i < nthreads; i++)
        if (pthread_create(&p->threads[i], NULL, run_pool, p) != 0)
            return false;
    return true;
}

/* No more jobs: those still queued are answered 503; the threads end once
 * the queue is empty. */
static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->closing = true;
    pthread_cond_broadcast(&p->ready);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    p->threads = NULL;
}

/* ------------------------------------------------------------ the handler */

/* The first call: the head is in. */
static enum MHD_Result begin_request(struct MHD_Connection *conn, const char *url, const char *method,
                                     void **con_cls)
{
    arena *a = spare_arena ? spare_arena : arena_new(16384);
    spare_arena = NULL;
    pthread_setspecific(spare_arena_key, NULL);
    request_ctx *ctx = arena_zalloc(a, sizeof *ctx);
    ctx->req.arena = a;
    ctx->conn = conn;
    ctx->started_us = monotonic_us();
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    ctx->track = ci ? ci->socket_context : NULL;
    *con_cls = ctx;
    atomic_fetch_add(&in_flight, 1);
    fill_request(ctx, conn, url, method);
    request *r = &ctx->req;

    const char *cl = request_header(r, "Content-Length");
    const char *te = request_header(r, "Transfer-Encoding");
    bool too_large = false, ambiguous = cl && te;
    for (int i = 0; i < r->nheaders_in && cl; i++)   /* two lengths: a smuggling attempt */
        ambiguous |= strcasecmp(r->headers_in[i].name, "Content-Length") == 0 &&
                     r->headers_in[i].value != cl && strcmp(r->headers_in[i].value, cl) != 0;
    if (cl) {
        /* libmicrohttpd has checked it is a number */
        unsigned long long n = strtoull(cl, NULL, 10);
        too_large = n > config->max_body;
        ctx->declared = too_large ? 0 : (size_t)n;
    }
    ctx->chunked = te && !cl;
    bool has_body = ctx->declared > 0 || ctx->chunked || too_large;
    track_set(ctx->track, has_body ? TRACK_BODY : TRACK_BUSY);

    r->stopping = atomic_load(&stopping);
    if (ambiguous) {
        refuse(ctx, 400);
        r->close = true;
        return send_response(ctx);
    } else if (r->stopping) {
        refuse(ctx, 503);
    } else if (too_large) {
        refuse(ctx, 413);
    } else {
        ctx->lane = app->admit(r);
        if (ctx->lane == LANE_ANSWERED)
            ctx->answered = true;
        else if (ctx->declared && !reserve_budget(ctx->declared))
            refuse(ctx, 503);
        else
            ctx->reserved = ctx->declared;
    }
    /* An answer made from the head alone, with a body on its way: read a
     * small body and throw it away, so the connection goes on; refuse to
     * read a large one (queued now, libmicrohttpd closes the connection). */
    if (ctx->answered && (too_large || ctx->declared > DRAIN_MAX)) {
        r->close = true;
        return send_response(ctx);
    }
    return MHD_YES;
}

/* A part of the body. */
static enum MHD_Result body_part(request_ctx *ctx, const char *data, size_t n)
{
    track_set(ctx->track, TRACK_BODY);
    if (ctx->answered) {
        ctx->body_len += n;   /* thrown away, counted */
        return ctx->body_len > DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    if (ctx->body_len + n > config->max_body)
        return MHD_NO;   /* a chunked body past the limit: nothing sane to answer mid-body */
    if (ctx->body_len + n + 1 > ctx->body_cap) {
        size_t cap = ctx->declared ? ctx->declared + 1 : ctx->body_cap ? ctx->body_cap * 2 : 16384;
        while (cap < ctx->body_len + n + 1)
            cap *= 2;
        if (cap > config->max_body + 1)
            cap = config->max_body + 1;
        size_t more = cap > ctx->reserved ? cap - ctx->reserved : 0;
        if (more && !reserve_budget(more))
            return MHD_NO;   /* a chunked body past the budget */
        ctx->reserved += more;
        char *grown = realloc(ctx->body, cap);
        if (!grown)
            abort();
        ctx->body = grown;
        ctx->body_cap = cap;
    }
    memcpy(ctx->body + ctx->body_len, data, n);
    ctx->body_len += n;
    ctx->body[ctx->body_len] = '\0';
    return MHD_YES;
}

/* The last call: the whole body is in. */
static enum MHD_Result run_request(request_ctx *ctx)
{
    request *r = &ctx->req;
    track_set(ctx->track, TRACK_BUSY);
    if (ctx->answered)
        return send_response(ctx);
    if (ctx->body) {
        r->body = ctx->body;
        r->body_len = ctx->body_len;
    }
    if (ctx->lane == LANE_READ) {
        app->run(r);
        return send_response(ctx);
    }
    pool *p = ctx->lane == LANE_LOGIN ? &logins : &writers;
    if (!pool_submit(p, ctx)) {
        refuse(ctx, p == &logins && !atomic_load(&stopping) ? 429 : 503);
        return send_response(ctx);
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    request_ctx *ctx = *con_cls;
    if (!ctx)
        return begin_request(conn, url, method, con_cls);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return body_part(ctx, upload_data, n);
    }
    if (atomic_load(&ctx->done))   /* resumed after a pool thread ran it */
        return send_response(ctx);
    return run_request(ctx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    request_ctx *ctx = *con_cls;
    if (!ctx)
        return;
    request *r = &ctx->req;
    long long us = (long long)(monotonic_us() - ctx->started_us);
    char status[8] = "-";   /* no answer was sent */
    if (r->status)
        snprintf(status, sizeof status, "%d", r->status);
    log_line("%s %s %s %zu %lldus %s%s", log_escape(r->arena, r->method_name, 16),
             log_escape(r->arena, r->path, 512), status, r->resp_len, us,
             log_escape(r->arena, r->request_id, 64),
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
    if (app->completed)
        app->completed(r, us);
    if (ctx->stream_open)
        close_stream(ctx);
    track_set(ctx->track, TRACK_WAITING);
    free(r->resp_body);
    free(ctx->body);
    release_budget(ctx);
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
    /* what a stream whose client went says (its reader asks for the close):
     * its access-log line says it already */
    if (strcmp(buf, "Closing connection (application error generating response).") == 0)
        return;
    log_line("libmicrohttpd: %s", buf);
}

/* ------------------------------------------------------------ TLS */

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
static bool tls_pair_usable(const http_config *cfg, const char *cert, const char *key)
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

/* ------------------------------------------------------------ running */

/* Room for the connections in the open-file limit: raise the soft limit as
 * far as needed (and allowed); returns the connections that fit. */
static unsigned fit_open_files(unsigned wanted)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return wanted;
    rlim_t need = (rlim_t)wanted + FILES_RESERVE;
    if (lim.rlim_cur < need) {
        lim.rlim_cur = need < lim.rlim_max ? need : lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur >= need)
        return wanted;
    unsigned fit = lim.rlim_cur > FILES_RESERVE * 2 ? (unsigned)(lim.rlim_cur - FILES_RESERVE) : (unsigned)lim.rlim_cur / 2;
    log_line("the open-file limit (%llu, hard %llu) leaves room for %u connections, not --max-connections %u",
             (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max, fit, wanted);
    return fit;
}

/* Wait up to `us` for *counter to reach zero. */
static bool wait_zero(_Atomic int *counter, int64_t us)
{
    int64_t until = monotonic_us() + us;
    while (atomic_load(counter) > 0 && monotonic_us() < until)
        usleep(10000);
    return atomic_load(counter) == 0;
}

/* The http layer's figures, for GET /metrics (core/metrics.h). */
static void write_metrics(FILE *out, void *unused)
{
    (void)unused;
    static const struct {
        const char *name, *help;
        _Atomic int *value;
    } gauges[] = {
        {"stockroom_http_requests_in_flight", "Requests from their head to their completion.", &in_flight},
        {"stockroom_http_connections_open", "Open client connections.", &open_connections},
        {"stockroom_http_streams_open", "Open event streams (GET /api/events/).", &open_streams},
    };
    for (size_t i = 0; i < sizeof gauges / sizeof gauges[0]; i++) {
        metrics_write_family(out, gauges[i].name, "gauge", gauges[i].help);
        fprintf(out, "%s %d\n", gauges[i].name, atomic_load(gauges[i].value));
    }
    metrics_write_family(out, "stockroom_http_body_bytes_buffered", "gauge",
                         "Request body bytes buffered (reserved against --body-budget).");
    fprintf(out, "stockroom_http_body_bytes_buffered %zu\n", atomic_load(&budget_used));
    pool *pools[] = {&writers, &logins};
    metrics_write_family(out, "stockroom_queue_depth", "gauge",
                         "Requests waiting for a thread of a pool (writers: writes; logins: password checks).");
    for (size_t i = 0; i < 2; i++) {
        pthread_mutex_lock(&pools[i]->lock);
        unsigned queued = pools[i]->queued;
        pthread_mutex_unlock(&pools[i]->lock);
        fprintf(out, "stockroom_queue_depth{pool=\"%s\"} %u\n", pools[i]->name, queued);
    }
}

int http_serve(const http_config *cfg, const http_app *application)
{
    config = cfg;
    app = application;
    unsigned cores = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads ? cfg->threads : 2 * cores;
    unsigned nwriters = cfg->writers ? cfg->writers : 8 * cores;
    unsigned nlogins = cfg->login_threads ? cfg->login_threads : cores;

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
    unsigned max_connections = fit_open_files(cfg->max_connections);
    if (getrandom(&request_id_seed, sizeof request_id_seed, 0) != sizeof request_id_seed)
        request_id_seed = (uint32_t)getpid() ^ (uint32_t)time(NULL);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&stripes[i].lock, NULL);

    /* Response buffers and arena blocks come and go with every request:
     * keep them in the heap instead of mmap/munmap each time (bodies are
     * bounded by the budget). */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    pthread_key_create(&spare_arena_key, free_spare_arena);

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
    daemon_handle = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_TURBO |
            MHD_ALLOW_SUSPEND_RESUME | (tls ? MHD_USE_TLS : 0),
        cfg->port, NULL, NULL, on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,   /* first, or libmicrohttpd warns */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_raw, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_CONNECTION_LIMIT, max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
        MHD_OPTION_ARRAY, tls ? tls_options : no_options,
        MHD_OPTION_END);
    if (!daemon_handle) {
        log_line("cannot listen on %s:%u: %s", cfg->listen_host, cfg->port, strerror(errno));
        free(tls_cert);
        free(tls_key);
        return 1;
    }
    if (!pool_start(&writers, nwriters, 0) || !pool_start(&logins, nlogins, cfg->login_queue) ||
        pthread_create(&sweeper_thread, NULL, run_sweeper, NULL) != 0) {
        log_line("cannot start threads: %s", strerror(errno));
        abort();
    }
    metrics_register(write_metrics, NULL);
    log_line("serving on %s://%s:%u with %u connection threads, %u writers, %u login threads, "
             "up to %u connections, %u of them streams",
             tls ? "https" : "http", cfg->listen_host, cfg->port, threads, nwriters, nlogins, max_connections,
             cfg->max_streams);
    if (app->notify)
        app->notify("ready");

    int sig = 0;
    sigwait(&stop, &sig);
    log_line("received %s: finishing requests in flight (up to %us)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
             cfg->stop_timeout);
    if (app->notify)
        app->notify("stopping");
    /* Stop accepting; requests that arrive on open connections from now on
     * are refused (503, connection closed); those in flight go on. */
    atomic_store(&stopping, true);
    MHD_socket listen_fd = MHD_quiesce_daemon(daemon_handle);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    end_streams();
    bool finished = wait_zero(&in_flight, (int64_t)cfg->stop_timeout * 1000000);
    /* Work still queued is answered 503; work running finishes. */
    pool_stop(&writers);
    pool_stop(&logins);
    if (!wait_zero(&suspended, 10 * 1000000LL))
        log_line("%d connection(s) still suspended", atomic_load(&suspended));   /* a bug: libmicrohttpd aborts */
    if (!finished)
        log_line("%d request(s) still in flight after %us: answered 503 or closed", atomic_load(&in_flight),
                 cfg->stop_timeout);
    pthread_mutex_lock(&sweeper_lock);
    sweeper_stop = true;
    pthread_cond_signal(&sweeper_wake);
    pthread_mutex_unlock(&sweeper_lock);
    pthread_join(sweeper_thread, NULL);
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    free(tls_cert);
    free(tls_key);
    arena_free(spare_arena);   /* the main thread's, if it completed requests while stopping */
    spare_arena = NULL;
    log_line("stopped");
    return 0;
}
