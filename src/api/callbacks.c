/*
 * callbacks.c — the callback queue and its delivery worker (see
 * callbacks.h).
 *
 * A row of `callbacks` is due when it is undelivered and its next_attempt
 * has come. The worker claims one due row at a time by pushing its
 * next_attempt a lease ahead (longer than a delivery can take) in the
 * same statement that checks it is due, so another process sees it as
 * not due until the lease ends; then it POSTs the payload and records the
 * outcome: delivered, or attempts + 1 and the next attempt after the
 * backoff. On PostgreSQL the claim skips rows another process has locked
 * (FOR UPDATE SKIP LOCKED), so claimers do not queue behind each other.
 *
 * The worker waits on a condition variable: callbacks_notify() wakes it
 * at once, otherwise it looks for due rows (queued by other processes, or
 * whose retry has come) every POLL_US at most. Logs name rows by id only:
 * a payload or url is never logged.
 */
#include "api/callbacks.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/json.h"
#include "api/outbox.h"
#include "core/arena.h"
#include "core/datetime.h"
#include "core/util.h"

#define TIMEOUT_MS 5000              /* one delivery, connecting included */
#define LEASE_US (30 * 1000000LL)    /* a claimed row is not due for this long */
#define POLL_US (500 * 1000LL)
#define URL_MAX 2048

/* ------------------------------------------------------------ the url */

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

const char *callback_url_set(store *db, const char *customer, const char *url)
{
    if (*url && !valid_url(url))
        return "the callback url must be an http:// or https:// url with a host (or \"\" to clear it)";
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    store_stmt *st = store_prepare(db, "UPDATE customers SET callback_url = $2 WHERE name = $1 RETURNING id");
    int rc = STORE_ERROR;
    if (st) {
        store_bind_str(st, 1, customer);
        store_bind_str(st, 2, *url ? url : NULL);
        rc = store_exec_int(st, NULL);
    }
    if (rc != STORE_ROW) {
        const char *err = rc == STORE_DONE ? "no such customer" : store_errmsg(db);
        store_rollback(db);
        return err;
    }
    return store_commit(db) < 0 ? store_errmsg(db) : NULL;
}

/* ------------------------------------------------------------ the worker */

static struct {
    pthread_t thread;
    bool running;
    char *db_url;
    int64_t backoff_base_us, backoff_max_us;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool pending;              /* notified since the worker last looked: lock */
    atomic_bool stopping;
} worker = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

void callbacks_notify(void)
{
    pthread_mutex_lock(&worker.lock);
    worker.pending = true;
    pthread_cond_signal(&worker.wake);
    pthread_mutex_unlock(&worker.lock);
}

/* Sleep until notified, stopping, or `us` have passed. */
static void wait_for_work(int64_t us)
{
    pthread_mutex_lock(&worker.lock);
    if (!worker.pending && !atomic_load(&worker.stopping)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (us % 1000000) * 1000;
        until.tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&worker.wake, &worker.lock, &until);
    }
    worker.pending = false;
    pthread_mutex_unlock(&worker.lock);
}

typedef struct claim {
    int64_t id, attempts, created;
    bool get;              /* Big Block's URL form: a GET with no body */
    char *url, *payload;   /* malloc'ed */
} claim;

/* The due test is in the outer WHERE too: on PostgreSQL an UPDATE that
 * waited for a row re-checks it against the row as the other left it. */
#define CLAIM_SQL(LOCK)                                                                  \
    "UPDATE callbacks SET next_attempt = $2 WHERE id = (SELECT id FROM callbacks "      \
    "WHERE delivered IS NULL AND next_attempt <= $1 ORDER BY next_attempt, id LIMIT 1" LOCK ") " \
    "AND delivered IS NULL AND next_attempt <= $1 RETURNING id, url, payload, attempts, created, method"

/* Claim one due row: 1 claimed, 0 none due, -1 db error. A plain read
 * looks first, so an idle worker takes no write lock (and, on SQLite, costs
 * no fdatasync) each time it looks. */
static int claim_due(store *db, claim *c)
{
    int64_t now = datetime_now();
    store_stmt *st = store_prepare(db,
        "SELECT id FROM callbacks WHERE delivered IS NULL AND next_attempt <= $1 LIMIT 1");
    if (!st)
        return -1;
    store_bind_int(st, 1, now);
    int rc = store_exec_int(st, NULL);
    if (rc != STORE_ROW)
        return rc < 0 ? -1 : 0;
    if (store_begin_write(db) < 0)
        return -1;
    st = store_prepare(db, store_kind_of(db) == STORE_POSTGRES ? CLAIM_SQL(" FOR UPDATE SKIP LOCKED")
                                                                : CLAIM_SQL(""));
    rc = STORE_ERROR;
    if (st) {
        store_bind_int(st, 1, now);
        store_bind_int(st, 2, now + LEASE_US);
        rc = store_step(st);
        if (rc == STORE_ROW) {
            c->id = store_col_int(st, 0);
            c->url = strdup(store_col_text(st, 1, NULL));
            c->payload = strdup(store_col_text(st, 2, NULL));
            c->attempts = store_col_int(st, 3);
            c->created = store_col_int(st, 4);
            c->get = strcmp(store_col_text(st, 5, NULL), "GET") == 0;
        }
        store_reset(st);
    }
    if (rc < 0 || store_commit(db) < 0) {
        if (rc == STORE_ROW) {
            free(c->url);
            free(c->payload);
        }
        store_rollback(db);
        return -1;
    }
    return rc == STORE_ROW;
}

typedef enum { SENT, FAILED, ABANDONED } outcome;

static int64_t backoff_us(int64_t attempts)
{
    int64_t wait = worker.backoff_base_us;
    for (int64_t i = 1; i < attempts && wait < worker.backoff_max_us; i++)
        wait *= 2;
    return wait < worker.backoff_max_us ? wait : worker.backoff_max_us;
}

/* Write down what became of a claimed row. */
static void record_outcome(store *db, const claim *c, outcome o, const char *error)
{
    int64_t now = datetime_now();
    store_stmt *st = NULL;
    if (store_begin_write(db) < 0)
        goto fail;
    if (o == SENT) {
        st = store_prepare(db, "UPDATE callbacks SET delivered = $2, attempts = attempts + 1, "
                               "last_error = NULL WHERE id = $1");
    } else if (o == FAILED) {
        st = store_prepare(db, "UPDATE callbacks SET attempts = attempts + 1, next_attempt = $2, "
                               "last_error = $3 WHERE id = $1");
    } else {   /* give the lease back: due again at once, for whichever process runs next */
        st = store_prepare(db, "UPDATE callbacks SET next_attempt = $2 WHERE id = $1");
    }
    if (!st)
        goto fail;
    store_bind_int(st, 1, c->id);
    store_bind_int(st, 2, o == FAILED ? now + backoff_us(c->attempts + 1) : now);
    if (o == FAILED)
        store_bind_str(st, 3, error);
    if (store_exec_int(st, NULL) < 0 || store_commit(db) < 0)
        goto fail;
    return;
fail:
    /* the lease runs out and the row is sent again, with the same id */
    log_line("callbacks: recording the outcome of callback %lld failed: %s", (long long)c->id,
             store_errmsg(db));
    store_rollback(db);
}

static size_t discard_body(char *data, size_t size, size_t n, void *unused)
{
    return size * n;
}

/* libcurl calls this about once a second, and more often while data
 * moves: a non-zero answer ends the transfer. */
static int stop_requested(void *unused, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    return atomic_load(&worker.stopping) ? 1 : 0;
}

static outcome deliver(CURL *curl, const claim *c, char *error, size_t size)
{
    char curl_error[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_URL, c->url);
    arena *a = arena_new(1024);
    if (c->get) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        const char *body = callback_body(a, c->id, c->created, c->payload);
        curl_easy_setopt(curl, CURLOPT_COPYPOSTFIELDS, body);
    }
    CURLcode rc = curl_easy_perform(curl);
    arena_free(a);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        return ABANDONED;
    if (rc != CURLE_OK) {
        snprintf(error, size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(rc));
        return FAILED;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300)
        return SENT;
    snprintf(error, size, "HTTP %ld", status);
    return FAILED;
}

static CURL *new_handle(struct curl_slist *headers)
{
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM for timeouts */
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "stockroom");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, stop_requested);
    return curl;
}

static void *run_worker(void *unused)
{
    /* no "Expect: 100-continue" round trip before a body */
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    CURL *curl = new_handle(headers);   /* kept: its connections are reused */
    store *db = NULL;
    int64_t poll = worker.backoff_base_us < POLL_US ? worker.backoff_base_us : POLL_US;
    while (!atomic_load(&worker.stopping)) {
        if (!curl || !headers) {
            log_line("callbacks: libcurl could not be set up; nothing will be delivered");
            break;
        }
        if (!db) {
            char *err = NULL;
            if (!(db = store_open(worker.db_url, &err))) {
                log_line("callbacks: database: %s", err ? err : "cannot open");
                free(err);
                wait_for_work(1000000);
                continue;
            }
        }
        claim c;
        int got = claim_due(db, &c);
        if (got < 0)
            log_line("callbacks: looking for due callbacks failed: %s", store_errmsg(db));
        if (got <= 0) {
            wait_for_work(got < 0 ? 1000000 : poll);
            continue;
        }
        char error[CURL_ERROR_SIZE + 32] = "";
        outcome o = deliver(curl, &c, error, sizeof error);
        if (o == FAILED)
            log_line("callbacks: delivery of callback %lld failed (attempt %lld): %s", (long long)c.id,
                     (long long)c.attempts + 1, error);
        record_outcome(db, &c, o, error);
        free(c.url);
        free(c.payload);
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    store_close(db);
    return NULL;
}

/* "BASE" or "BASE,MAX" in milliseconds from the environment. */
static int read_backoff(void)
{
    worker.backoff_base_us = 1000 * 1000LL;
    worker.backoff_max_us = 60 * 1000 * 1000LL;
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
    worker.backoff_base_us = base * 1000;
    worker.backoff_max_us = max * 1000;
    return 0;
}

int callbacks_start(const char *db_url)
{
    if (worker.running || read_backoff() < 0)
        return -1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "stockroom: libcurl failed to initialise\n");
        return -1;
    }
    worker.db_url = strdup(db_url);
    atomic_store(&worker.stopping, false);
    /* The stop signals belong to the main thread (server_run waits for
     * them): the worker is born with them blocked. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&worker.thread, NULL, run_worker, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "stockroom: cannot start the callback worker\n");
        free(worker.db_url);
        curl_global_cleanup();
        return -1;
    }
    worker.running = true;
    return 0;
}

void callbacks_stop(void)
{
    if (!worker.running)
        return;
    pthread_mutex_lock(&worker.lock);
    atomic_store(&worker.stopping, true);
    pthread_cond_signal(&worker.wake);
    pthread_mutex_unlock(&worker.lock);
    pthread_join(worker.thread, NULL);
    worker.running = false;
    free(worker.db_url);
    worker.db_url = NULL;
    curl_global_cleanup();
}
