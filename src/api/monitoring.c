/*
 * monitoring.c — GET /metrics (issue "Run it as a service"), and the API
 * layer's own measurements: requests by route template, method and status,
 * their durations by route, login throttling, and the callback queue's
 * depth (read from the database when /metrics is read).
 *
 * /metrics is for the operator's Prometheus, not the world: it answers a
 * client on loopback (127.0.0.0/8, ::1), and anyone else only with
 * `Authorization: Bearer <token>` when the operator set a token
 * (--metrics-token / STOCKROOM_METRICS_TOKEN); everyone else gets 404, as
 * if there were nothing there. With --trust-proxy the client is the one
 * X-Forwarded-For names, so a proxy on loopback does not open it to all.
 *
 * Counting a request is three plain stores in its thread's own shard of
 * the tables (sized for the route table); a scrape adds the shards up.
 */
#include "api/monitoring.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/respond.h"
#include "api/throttle.h"
#include "core/metrics.h"
#include "core/util.h"
#include "store/store.h"

#define ROUTES_MAX 96
/* The statuses the API answers; anything else is counted as "other". */
static const int statuses[] = {200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 406,
                               409, 413, 415, 429, 500, 503};
#define NSTATUSES (int)(sizeof statuses / sizeof statuses[0])
static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other"};
#define NMETHODS (int)(sizeof methods / sizeof methods[0])

/* Each thread counts in a shard of its own, so counting is a few plain
 * stores on memory no other thread writes (no locked instruction, no
 * cache line passed between cores); a scrape adds the shards up. Route -1
 * (no route: a 404 of an unknown path) is row ROUTES_MAX. */
typedef struct shard {
    struct shard *next;
    _Atomic uint64_t requests[ROUTES_MAX + 1][NMETHODS][NSTATUSES + 1];
    _Atomic uint64_t buckets[ROUTES_MAX + 1][METRICS_MAX_BUCKETS + 1];
    _Atomic uint64_t sum_us[ROUTES_MAX + 1];
} shard;

static shard *shards;   /* every thread's, newest first: shards_lock to add */
static pthread_mutex_t shards_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local shard *mine;
static const char *metrics_token;   /* NULL: loopback only */
static bool metrics_off;

static int method_index(http_method m)
{
    for (int i = 0; i < NMETHODS - 1; i++)
        if (m == (http_method)(1 << i))
            return i;
    return NMETHODS - 1;
}

static int status_index(int status)
{
    for (int i = 0; i < NSTATUSES; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUSES;
}

/* One writer (this thread), readers elsewhere: a relaxed load and store. */
static inline void bump(_Atomic uint64_t *x, uint64_t by)
{
    atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + by, memory_order_relaxed);
}

void monitoring_request(const request *r, int64_t us)
{
    if (!mine) {
        mine = calloc(1, sizeof *mine);
        if (!mine)
            abort();
        pthread_mutex_lock(&shards_lock);
        mine->next = shards;
        shards = mine;
        pthread_mutex_unlock(&shards_lock);
    }
    int row = r->route >= 0 && r->route < ROUTES_MAX ? r->route : ROUTES_MAX;
    bump(&mine->requests[row][method_index(r->method)][status_index(r->status)], 1);
    double seconds = (double)us * 1e-6;
    int b = 0;
    while (b < metrics_duration_nbounds && seconds > metrics_duration_bounds[b])
        b++;
    bump(&mine->buckets[row][b], 1);
    bump(&mine->sum_us[row], us > 0 ? (uint64_t)us : 0);
}

static const char *route_label(int row)
{
    return row < ROUTES_MAX && row < api_nroutes ? api_routes[row].pattern : "(none)";
}

static void write_requests(FILE *out, void *unused)
{
    (void)unused;
    pthread_mutex_lock(&shards_lock);
    shard *first = shards;   /* shards are only ever added, at the head */
    pthread_mutex_unlock(&shards_lock);
    char label[256];
    metrics_write_family(out, "stockroom_http_requests_total", "counter",
                         "Requests answered, by route template, method and status.");
    for (int row = 0; row <= ROUTES_MAX; row++)
        for (int m = 0; m < NMETHODS; m++)
            for (int st = 0; st <= NSTATUSES; st++) {
                uint64_t n = 0;
                for (shard *sh = first; sh; sh = sh->next)
                    n += atomic_load_explicit(&sh->requests[row][m][st], memory_order_relaxed);
                if (!n)
                    continue;
                char status[8] = "other";
                if (st < NSTATUSES)
                    snprintf(status, sizeof status, "%d", statuses[st]);
                fprintf(out, "stockroom_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                        metrics_label(label, sizeof label, route_label(row)), methods[m], status,
                        (unsigned long long)n);
            }
    metrics_write_family(out, "stockroom_http_request_duration_seconds", "histogram",
                         "Time from a request's head to its answer, by route template.");
    for (int row = 0; row <= ROUTES_MAX; row++) {
        metrics_histogram h = METRICS_DURATION_HISTOGRAM;
        for (shard *sh = first; sh; sh = sh->next) {
            for (int b = 0; b <= metrics_duration_nbounds; b++) {
                uint64_t n = atomic_load_explicit(&sh->buckets[row][b], memory_order_relaxed);
                atomic_fetch_add_explicit(&h.bucket[b], n, memory_order_relaxed);
                atomic_fetch_add_explicit(&h.count, n, memory_order_relaxed);
            }
            atomic_fetch_add_explicit(&h.sum, atomic_load_explicit(&sh->sum_us[row], memory_order_relaxed),
                                      memory_order_relaxed);
        }
        if (!atomic_load_explicit(&h.count, memory_order_relaxed))
            continue;
        char labels[300];
        snprintf(labels, sizeof labels, "route=\"%s\"", metrics_label(label, sizeof label, route_label(row)));
        metrics_write_histogram(out, "stockroom_http_request_duration_seconds", labels, &h, 1e-6);
    }
    metrics_write_family(out, "stockroom_login_throttled_total", "counter",
                         "Logins refused because a user or an address failed too often.");
    fprintf(out, "stockroom_login_throttled_total %llu\n", throttle_hits());
}

void monitoring_init(const char *token, bool off)
{
    metrics_token = token && *token ? token : NULL;
    metrics_off = off;
    if (api_nroutes > ROUTES_MAX)
        log_line("metrics: %d routes, counted up to %d (raise ROUTES_MAX)", api_nroutes, ROUTES_MAX);
    metrics_register(write_requests, NULL);
}

/* ------------------------------------------------------------ the page */

static bool loopback(const char *ip)
{
    return ip && (strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0);
}

static bool token_matches(request *r)
{
    const char *auth = request_header(r, "Authorization");
    if (!metrics_token || !auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *sent = auth + 7;
    size_t n = strlen(metrics_token);
    /* compared in constant time: the token is a secret */
    return strlen(sent) == n && sodium_memcmp(sent, metrics_token, n) == 0;
}

/* Figures only the database knows, read at each scrape. */
static void write_queue(FILE *out, request *r)
{
    if (!r->db)
        return;
    store_stmt *st = store_prepare(r->db, "SELECT count(*) FROM callbacks WHERE delivered IS NULL");
    int64_t queued = 0;
    if (!st || store_exec_int(st, &queued) != STORE_ROW)
        return;
    metrics_write_family(out, "stockroom_callbacks_queued", "gauge",
                         "Callbacks waiting for delivery (all customers, all server processes).");
    fprintf(out, "stockroom_callbacks_queued %lld\n", (long long)queued);
}

int metrics_page(request *r)
{
    if (metrics_off || (!loopback(r->client_ip) && !token_matches(r))) {
        respond_error(r, 404, "Not found.");
        return 0;
    }
    size_t len = 0;
    char *text = metrics_render(&len);
    if (!text) {
        respond_server_error(r, "out of memory rendering the metrics");
        return 0;
    }
    char *queue = NULL;
    size_t qlen = 0;
    FILE *out = open_memstream(&queue, &qlen);
    if (out) {
        write_queue(out, r);
        fclose(out);
    }
    char *body = malloc(len + qlen + 1);
    if (!body)
        abort();
    memcpy(body, text, len);
    if (queue)
        memcpy(body + len, queue, qlen);
    body[len + qlen] = '\0';
    free(text);
    free(queue);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->resp_body = body;
    r->resp_len = len + qlen;
    request_add_header(r, "Cache-Control", "no-store");
    return 0;
}
