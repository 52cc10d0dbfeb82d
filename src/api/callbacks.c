/*
 * callbacks.c — a customer's callback settings, and the deliverer that
 * sends the queued callbacks (see callbacks.h).
 *
 * A row of `callbacks` is due when it is undelivered and its next_attempt
 * has come. The deliverer looks for customers with due rows — each
 * customer's longest-waiting row along callbacks_customer_due — and, for
 * each customer it has nothing in flight for, claims that customer's oldest
 * due row by pushing its next_attempt a lease ahead (longer than an
 * attempt can take) in the statement that checks it is due, so another
 * process sees it as not due until the lease ends; on PostgreSQL the claim
 * skips rows another process has locked (FOR UPDATE SKIP LOCKED). The
 * claims are sent together on one libcurl multi handle; as each ends its
 * outcome is written down — delivered, or attempts + 1 and the next attempt
 * after the backoff — in the transaction that claims the next rows.
 *
 * So one thread has up to MAX_IN_FLIGHT deliveries in flight and at most one
 * per customer: a receiver that hangs holds up only its own customer's
 * callbacks, for at most CALLBACK_TIMEOUT_MS an attempt. The thread waits
 * in curl_multi_poll(): callbacks_notify() wakes it at once; otherwise it
 * looks for due rows (queued by other processes, or whose retry has come)
 * every POLL_US at most. Logs name rows by id only: a payload, url or
 * credential is never logged.
 */
#include "api/callbacks.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/outbox.h"
#include "core/arena.h"
#include "core/datetime.h"
#include "core/metrics.h"
#include "core/util.h"
#include "core/worker.h"

#define LEASE_US (30 * 1000000LL)    /* a claimed row is not due for this long */
#define POLL_US (500 * 1000LL)
#define MAX_IN_FLIGHT 256            /* deliveries at once, each of another customer */
#define URL_MAX 2048
#define CREDENTIAL_MAX 1024          /* USER:PASS or a bearer token */
#define SECRET_BYTES (CALLBACK_SECRET_LEN / 2)

_Static_assert(LEASE_US > 2 * CALLBACK_TIMEOUT_MS * 1000LL, "a lease outlives the attempt it covers");

/* ------------------------------------------------------------ settings */

static bool valid_url(const char *url)
{
    if (strlen(url) > URL_MAX)
        return false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && *host;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* "device", "orders" or "device,orders" (in any order, repeats allowed) as
 * CALLBACK_* bits; 0 when it names anything else or nothing. */
static int parse_families(const char *events)
{
    int families = 0;
    const char *p = events;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 6 && strncmp(p, "device", 6) == 0)
            families |= CALLBACK_DEVICE;
        else if (n == 6 && strncmp(p, "orders", 6) == 0)
            families |= CALLBACK_ORDERS;
        else
            return 0;
        if (!p[n])
            return families;
        p += n + 1;
    }
}

/* Nothing a header line could be split by: no control character. */
static bool header_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

const char *callback_settings_check(const callback_settings *s)
{
    if (!*s->url && (s->events || s->legacy || s->basic_auth || s->bearer))
        return "a url \"\" clears the callback: give --events, --legacy, --basic-auth or --bearer "
               "with a url";
    if (s->events && !parse_families(s->events))
        return "--events takes a comma list of the families device and orders, e.g. device,orders";
    if (s->basic_auth && s->bearer)
        return "give --basic-auth or --bearer, not both (one Authorization header is sent)";
    if (s->basic_auth) {
        const char *colon = strchr(s->basic_auth, ':');
        if (!colon || colon == s->basic_auth || !header_safe(s->basic_auth))
            return "--basic-auth takes USER:PASS: a user name (not empty), a colon, then the password, "
                   "without control characters";
        if (strlen(s->basic_auth) > CREDENTIAL_MAX)
            return "--basic-auth USER:PASS is too long (at most 1024 bytes)";
    }
    if (s->bearer) {
        bool visible = *s->bearer != '\0';
        for (const unsigned char *p = (const unsigned char *)s->bearer; *p; p++)
            visible &= *p > 0x20 && *p < 0x7f;
        if (!visible)
            return "--bearer takes a token of visible ASCII characters (no spaces)";
        if (strlen(s->bearer) > CREDENTIAL_MAX)
            return "--bearer TOKEN is too long (at most 1024 bytes)";
    }
    return NULL;
}

/* The Authorization header value the settings ask for, or NULL. */
static const char *authorization(arena *a, const callback_settings *s)
{
    if (s->bearer)
        return arena_printf(a, "Bearer %s", s->bearer);
    if (!s->basic_auth)
        return NULL;
    size_t n = strlen(s->basic_auth);
    size_t size = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = arena_alloc(a, size);
    sodium_bin2base64(b64, size, (const unsigned char *)s->basic_auth, n, sodium_base64_VARIANT_ORIGINAL);
    return arena_printf(a, "Basic %s", b64);
}

const char *callback_settings_set(store *db, const char *customer, const callback_settings *s,
                                  char secret[CALLBACK_SECRET_LEN + 1])
{
    secret[0] = '\0';
    const char *err = callback_settings_check(s);
    if (err)
        return err;
    if (*s->url && !valid_url(s->url))
        return "the callback url must be an http:// or https:// url with a host (or \"\" to clear it)";
    int families = parse_families(s->events ? s->events : "device");
    arena *a = arena_new(1024);
    const char *auth = authorization(a, s);
    if (*s->url) {
        unsigned char raw[SECRET_BYTES];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(secret, CALLBACK_SECRET_LEN + 1, raw, sizeof raw);
        sodium_memzero(raw, sizeof raw);
    }
    int rc = STORE_ERROR;
    if (store_begin_write(db) < 0) {
        arena_free(a);
        return store_errmsg(db);
    }
    store_stmt *st = store_prepare(db, *s->url
        ? "UPDATE customers SET callback_url = $2, callback_events = $3, callback_legacy = $4, "
          "callback_auth = $5, callback_secret = $6 WHERE name = $1 RETURNING id"
        : "UPDATE customers SET callback_url = NULL WHERE name = $1 RETURNING id");
    if (st) {
        store_bind_str(st, 1, customer);
        if (*s->url) {
            store_bind_str(st, 2, s->url);
            store_bind_str(st, 3, families == CALLBACK_DEVICE   ? "device"
                                  : families == CALLBACK_ORDERS ? "orders"
                                                                : "device,orders");
            store_bind_int(st, 4, s->legacy);
            store_bind_str(st, 5, auth);
            store_bind_str(st, 6, secret);
        }
        rc = store_exec_int(st, NULL);
    }
    arena_free(a);
    if (rc != STORE_ROW) {
        err = rc == STORE_DONE ? "no such customer" : store_errmsg(db);
        store_rollback(db);
        secret[0] = '\0';
        return err;
    }
    if (store_commit(db) < 0) {
        secret[0] = '\0';
        return store_errmsg(db);
    }
    return NULL;
}

/* ------------------------------------------------------------ the deliverer */

static void run_deliverer(worker *w);
static worker deliverer = WORKER_INIT("callback deliverer", run_deliverer);

static char *db_url;
static int64_t backoff_base_us, backoff_max_us;
/* Made before the thread starts and cleaned up after it ends, so requests
 * (which all run in between) may wake it with curl_multi_wakeup(). */
static CURLM *multi;
static atomic_bool notified;     /* a callback was queued since the thread last looked */
/* worker_stop() wakes a thread waiting in worker_wait(); this one waits in
 * curl_multi_poll(), so callbacks_stop() sets this and wakes the poll. */
static atomic_bool stop_asked;

void callbacks_notify(void)
{
    atomic_store(&notified, true);
    if (multi)
        curl_multi_wakeup(multi);
}

typedef enum { SENT, FAILED, ABANDONED } outcome;

/* A claimed row, from its claim until its outcome is written down. Its
 * arena holds it and what it sends. */
typedef struct delivery {
    arena *arena;
    int64_t id, customer, attempts;
    const char *url, *body;        /* body NULL: a GET (Big Block's URL form) */
    const char *auth, *secret;     /* the customer's, or NULL */
    CURL *easy;
    struct curl_slist *headers;
    outcome result;
    char error[CURL_ERROR_SIZE];   /* libcurl's words, for last_error */
    const char *log_error;         /* for the log: no url, no host */
    struct delivery *next;
} delivery;

static int64_t backoff_us(int64_t attempts)
{
    int64_t wait = backoff_base_us;
    for (int64_t i = 1; i < attempts && wait < backoff_max_us; i++)
        wait *= 2;
    return wait < backoff_max_us ? wait : backoff_max_us;
}

static bool in_flight_for(const delivery *flying, int64_t customer)
{
    for (const delivery *d = flying; d; d = d->next)
        if (d->customer == customer)
            return true;
    return false;
}

/* Up to `max` customers with due rows and nothing in flight here, the
 * longest-waiting first: their number, or -1. A plain read looks first, so
 * an idle deliverer takes no write lock (on SQLite, no fdatasync) when it
 * looks. At most MAX_IN_FLIGHT of the candidates read are in flight, which
 * leaves `max` others. */
static int due_customers(store *db, int64_t now, const delivery *flying, int64_t *out, int max)
{
    if (max <= 0)
        return 0;
    store_stmt *st = store_prepare(db, "SELECT id FROM callbacks WHERE delivered IS NULL AND next_attempt <= $1 LIMIT 1");
    if (!st)
        return -1;
    store_bind_int(st, 1, now);
    int rc = store_exec_int(st, NULL);
    if (rc != STORE_ROW)
        return rc < 0 ? -1 : 0;
    st = store_prepare(db,
        "SELECT customer FROM (SELECT u.id AS customer, (SELECT c.next_attempt FROM callbacks c "
        "WHERE c.customer_id = u.id AND c.delivered IS NULL AND c.next_attempt <= $1 "
        "ORDER BY c.next_attempt LIMIT 1) AS waiting_since FROM customers u) d "
        "WHERE waiting_since IS NOT NULL ORDER BY waiting_since, customer LIMIT $2");
    if (!st)
        return -1;
    store_bind_int(st, 1, now);
    store_bind_int(st, 2, MAX_IN_FLIGHT);
    int n = 0;
    while (n < max && (rc = store_step(st)) == STORE_ROW) {
        int64_t customer = store_col_int(st, 0);
        if (!in_flight_for(flying, customer))
            out[n++] = customer;
    }
    store_reset(st);
    return rc < 0 ? -1 : n;
}

/* The due test is in the outer WHERE too: on PostgreSQL an UPDATE that
 * waited for a row re-checks it against the row as the other left it. The
 * customer's settings are read as they are now: a retry is signed with the
 * current secret. */
#define CLAIM_SQL                                                                                     \
    "UPDATE callbacks SET next_attempt = $2 WHERE id = (SELECT id FROM callbacks WHERE customer_id = $3 " \
    "AND delivered IS NULL AND next_attempt <= $1 ORDER BY next_attempt, id LIMIT 1 FOR UPDATE SKIP LOCKED) " \
    "AND delivered IS NULL AND next_attempt <= $1 RETURNING id, url, payload, attempts, created, method, "   \
    "(SELECT callback_auth FROM customers WHERE customers.id = callbacks.customer_id), "                     \
    "(SELECT callback_secret FROM customers WHERE customers.id = callbacks.customer_id)"

static const char *column_or_null(arena *a, store_stmt *st, int col)
{
    return store_col_null(st, col) ? NULL : arena_strdup(a, store_col_text(st, col, NULL));
}

/* Claim the oldest due row of `customer` in the open transaction: a new
 * delivery, NULL when another took it meanwhile (or on an error: *rc < 0). */
static delivery *claim(store *db, int64_t customer, int64_t now, int *rc)
{
    store_stmt *st = store_prepare(db, CLAIM_SQL);
    if (!st) {
        *rc = STORE_ERROR;
        return NULL;
    }
    store_bind_int(st, 1, now);
    store_bind_int(st, 2, now + LEASE_US);
    store_bind_int(st, 3, customer);
    delivery *d = NULL;
    if ((*rc = store_step(st)) == STORE_ROW) {
        arena *a = arena_new(2048);
        d = arena_zalloc(a, sizeof *d);
        d->arena = a;
        d->id = store_col_int(st, 0);
        d->customer = customer;
        d->attempts = store_col_int(st, 3);
        d->url = arena_strdup(a, store_col_text(st, 1, NULL));
        d->body = strcmp(store_col_text(st, 5, NULL), "GET") == 0
                      ? NULL
                      : callback_body(a, d->id, store_col_int(st, 4), store_col_text(st, 2, NULL));
        d->auth = column_or_null(a, st, 6);
        d->secret = column_or_null(a, st, 7);
    }
    store_reset(st);
    return d;
}

/* Deliveries by outcome, for GET /metrics (counted when written down). */
static _Atomic uint64_t outcomes[3];

static void write_metrics(FILE *out, void *unused)
{
    (void)unused;
    static const char *const names[] = {[SENT] = "delivered", [FAILED] = "failed", [ABANDONED] = "abandoned"};
    metrics_write_family(out, "stockroom_callback_deliveries_total", "counter",
                         "Callback deliveries by this process, by outcome (failed: retried later; "
                         "abandoned: given back at a stop).");
    for (int i = 0; i < 3; i++)
        fprintf(out, "stockroom_callback_deliveries_total{outcome=\"%s\"} %llu\n", names[i],
                (unsigned long long)atomic_load(&outcomes[i]));
}

/* Write down what became of a delivery, in the open transaction. */
static int record(store *db, const delivery *d, int64_t now)
{
    atomic_fetch_add(&outcomes[d->result], 1);
    store_stmt *st;
    if (d->result == SENT)
        st = store_prepare(db, "UPDATE callbacks SET delivered = $2, attempts = attempts + 1, "
                               "last_error = NULL WHERE id = $1");
    else if (d->result == FAILED)
        st = store_prepare(db, "UPDATE callbacks SET attempts = attempts + 1, next_attempt = $2, "
                               "last_error = $3 WHERE id = $1");
    else   /* give the lease back: due again at once, for whichever process runs next */
        st = store_prepare(db, "UPDATE callbacks SET next_attempt = $2 WHERE id = $1");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, d->id);
    store_bind_int(st, 2, d->result == FAILED ? now + backoff_us(d->attempts + 1) : now);
    if (d->result == FAILED)
        store_bind_str(st, 3, d->error);
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? rc : 0;
}

/* X-Stockroom-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">,
 * keyed by the secret's text as set-callback printed it. */
static const char *signature_header(arena *a, const char *secret, const char *body)
{
    long long t = (long long)time(NULL);
    char stamp[32];
    int n = snprintf(stamp, sizeof stamp, "%lld.", t);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)stamp, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&state, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&state, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    return arena_printf(a, "X-Stockroom-Signature: t=%lld,v1=%s", t, hex);
}

static size_t discard_body(char *data, size_t size, size_t n, void *unused)
{
    return size * n;
}

/* Append one header line to *h: false when out of memory (*h is kept). */
static bool add_header(struct curl_slist **h, const char *line)
{
    struct curl_slist *longer = curl_slist_append(*h, line);
    if (longer)
        *h = longer;
    return longer != NULL;
}

/* Set up d's transfer and add it to the multi handle: false when libcurl
 * cannot (then d has no easy handle; its lease runs out). */
static bool start(delivery *d)
{
    arena *a = d->arena;
    struct curl_slist *h = NULL;
    bool auth_ok = !d->auth || header_safe(d->auth);
    if (!auth_ok)
        log_line("callbacks: callback %lld: the customer's callback_auth is no header value; sent "
                 "without it", (long long)d->id);
    bool ok = add_header(&h, "Expect:") &&   /* no 100-continue round trip */
              (!d->body || add_header(&h, "Content-Type: application/json")) &&
              (!d->auth || !auth_ok || add_header(&h, arena_printf(a, "Authorization: %s", d->auth))) &&
              (!d->secret || add_header(&h, signature_header(a, d->secret, d->body ? d->body : "")));
    CURL *easy = ok ? curl_easy_init() : NULL;
    if (!easy) {
        curl_slist_free_all(h);
        return false;
    }
    curl_easy_setopt(easy, CURLOPT_PRIVATE, d);
    curl_easy_setopt(easy, CURLOPT_URL, d->url);
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);   /* a nonce "." in a legacy url stays */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);     /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)CALLBACK_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CALLBACK_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "stockroom");
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, d->error);
    if (d->body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, d->body);   /* in d's arena: outlives the transfer */
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
        curl_easy_cleanup(easy);
        curl_slist_free_all(h);
        return false;
    }
    d->easy = easy;
    d->headers = h;
    return true;
}

/* Take d's transfer off the multi handle and free it (d stays). */
static void finish_transfer(delivery *d)
{
    curl_multi_remove_handle(multi, d->easy);
    curl_easy_cleanup(d->easy);
    curl_slist_free_all(d->headers);
    d->easy = NULL;
    d->headers = NULL;
}

static void unlink_delivery(delivery **list, delivery *d)
{
    for (delivery **p = list; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            return;
        }
}

/* Move the transfers libcurl has finished from *flying to the list returned,
 * each with its outcome. */
static delivery *take_finished(delivery **flying)
{
    delivery *done = NULL;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        delivery *d = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
        long status = 0;
        CURLcode rc = msg->data.result;   /* msg is gone once the handle is removed */
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        finish_transfer(d);
        if (rc == CURLE_OK && status >= 200 && status < 300) {
            d->result = SENT;
        } else {
            d->result = FAILED;
            if (rc != CURLE_OK) {
                d->log_error = curl_easy_strerror(rc);
                if (!d->error[0])
                    snprintf(d->error, sizeof d->error, "%s", d->log_error);
            } else {
                snprintf(d->error, sizeof d->error, "HTTP %ld", status);
                d->log_error = d->error;
            }
            log_line("callbacks: delivery of callback %lld failed (attempt %lld): %s", (long long)d->id,
                     (long long)d->attempts + 1, d->log_error);
        }
        unlink_delivery(flying, d);
        d->next = done;
        done = d;
    }
    return done;
}

static void free_deliveries(delivery *list)
{
    while (list) {
        delivery *next = list->next;
        if (list->easy)
            finish_transfer(list);
        arena_free(list->arena);
        list = next;
    }
}

static int count(const delivery *list)
{
    int n = 0;
    for (; list; list = list->next)
        n++;
    return n;
}

/*
 * One turn of the deliverer's work in one write transaction: write down
 * the outcomes of `done`, claim the oldest due row of each customer with
 * nothing in flight, then start those. The outcomes and
 * claims stand or fall together: after a failed commit the claimed rows
 * were never leased (they stay due) and the outcomes are lost (their
 * leases run out and they are sent again, with the same id). 0, or -1.
 */
static int take_turn(store *db, delivery **flying, delivery *done)
{
    int64_t now = datetime_now();
    int64_t customers[MAX_IN_FLIGHT];
    int n = due_customers(db, now, *flying, customers, MAX_IN_FLIGHT - count(*flying));
    if (!done && n <= 0)
        return n < 0 ? -1 : 0;
    int rc = store_begin_write(db);
    for (delivery *d = done; d && rc >= 0; d = d->next)
        rc = record(db, d, now);
    delivery *claims = NULL;
    for (int i = 0; i < n && rc >= 0; i++) {
        delivery *d = claim(db, customers[i], now, &rc);
        if (d) {
            d->next = claims;
            claims = d;
        }
    }
    if (rc < 0 || store_commit(db) < 0) {
        store_rollback(db);
        free_deliveries(claims);
        return -1;
    }
    for (delivery *d = claims, *next; d; d = next) {
        next = d->next;
        if (start(d)) {
            d->next = *flying;
            *flying = d;
        } else {
            log_line("callbacks: libcurl could not send callback %lld; it is sent again when its lease "
                     "ends", (long long)d->id);
            d->next = NULL;
            free_deliveries(d);
        }
    }
    return n < 0 ? -1 : 0;
}

/* Stopping: give the leases of the deliveries in flight back. */
static void abandon(store *db, delivery *flying)
{
    if (!flying)
        return;
    for (delivery *d = flying; d; d = d->next)
        d->result = ABANDONED;
    int64_t now = datetime_now();
    int rc = store_begin_write(db);
    for (delivery *d = flying; d && rc >= 0; d = d->next)
        rc = record(db, d, now);
    if (rc < 0 || store_commit(db) < 0) {
        log_line("callbacks: giving back %d callbacks in flight failed (%s): they are sent again when "
                 "their leases end", count(flying), store_errmsg(db));
        store_rollback(db);
    }
    free_deliveries(flying);
}

static void run_deliverer(worker *w)
{
    (void)w;   /* it stops on stop_asked */
    delivery *flying = NULL;
    store *db = NULL;
    int64_t poll = backoff_base_us < POLL_US ? backoff_base_us : POLL_US;
    int64_t next_look = 0;   /* monotonic: look for due rows then, even if not woken */
    while (!atomic_load(&stop_asked)) {
        if (!db) {
            char *err = NULL;
            if (!(db = store_open(db_url, &err))) {
                log_line("callbacks: database: %s", err ? err : "cannot open");
                free(err);
                curl_multi_poll(multi, NULL, 0, 1000, NULL);
                continue;
            }
        }
        int running;
        curl_multi_perform(multi, &running);
        delivery *done = take_finished(&flying);
        int64_t now = monotonic_us();
        /* a finished delivery frees its customer, whose next row may be due */
        bool look = atomic_exchange(&notified, false) || done || now >= next_look;
        if (look) {
            int rc = take_turn(db, &flying, done);
            free_deliveries(done);
            if (rc < 0)
                log_line("callbacks: looking for due callbacks failed: %s", store_errmsg(db));
            next_look = now + (rc < 0 ? 1000000 : poll);
            if (rc == 0)
                continue;   /* start what was claimed at once */
        }
        int64_t wait_ms = (next_look - monotonic_us() + 999) / 1000;
        curl_multi_poll(multi, NULL, 0, wait_ms < 0 ? 0 : (int)wait_ms, NULL);
    }
    abandon(db, flying);
    store_close(db);
}

/* "BASE" or "BASE,MAX" in milliseconds from the environment. */
static int read_backoff(void)
{
    backoff_base_us = 1000 * 1000LL;
    backoff_max_us = 60 * 1000 * 1000LL;
    const char *env = getenv("STOCKROOM_CALLBACK_BACKOFF_MS");
    if (!env || !*env)
        return 0;
    char *end;
    long long base = strtoll(env, &end, 10), max = base;
    if (*end == ',')
        max = strtoll(end + 1, &end, 10);
    if (*end || base < 1 || max < base || max > 24LL * 3600 * 1000) {
        fprintf(stderr, "stockroom: STOCKROOM_CALLBACK_BACKOFF_MS takes BASE or BASE,MAX in "
                        "milliseconds (1 <= BASE <= MAX <= one day), e.g. 1000,60000\n");
        return -1;
    }
    backoff_base_us = base * 1000;
    backoff_max_us = max * 1000;
    return 0;
}

int callbacks_start(const char *url)
{
    if (deliverer.running || read_backoff() < 0)
        return -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(multi = curl_multi_init())) {
        fprintf(stderr, "stockroom: libcurl failed to initialise\n");
        return -1;
    }
    db_url = strdup(url);
    metrics_register(write_metrics, NULL);
    atomic_store(&stop_asked, false);
    if (worker_start(&deliverer) < 0) {
        curl_multi_cleanup(multi);
        multi = NULL;
        free(db_url);
        curl_global_cleanup();
        return -1;
    }
    return 0;
}

void callbacks_stop(void)
{
    if (!deliverer.running)
        return;
    atomic_store(&stop_asked, true);
    curl_multi_wakeup(multi);
    worker_stop(&deliverer);
    curl_multi_cleanup(multi);
    multi = NULL;
    free(db_url);
    db_url = NULL;
    curl_global_cleanup();
}
