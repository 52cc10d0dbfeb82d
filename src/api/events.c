/*
 * events.c — the event stream (see events.h).
 *
 * The hub. A customer with open streams in this process has a channel:
 * its streams, `known` (the newest of its ids the hub has read) and a
 * cache of its newest frames, each row formatted once for all its
 * streams, at most CACHE_BYTES a channel (channels exist only for
 * customers with streams, so memory is bounded by --max-streams). The
 * hub's thread looks at `events` every EVENTS_POLL_US for every channel
 * (the customers' newest ids, PROBE_BATCH customers a query, each an
 * index probe), and at once for a customer events_notify() names; what is
 * new it reads once, appends to the cache (the oldest frames go past
 * CACHE_BYTES) and wakes the customer's streams. The table is the truth:
 * rows of other processes are found by the same look.
 *
 * A stream has a cursor, the last id it has put out. Woken, it takes the
 * cached frames after its cursor; when its cursor is below what the cache
 * holds (it resumed from an older Last-Event-ID, or read more slowly than
 * the cache turned over) it reads the rows after its cursor from the
 * database itself, a batch at a time, on its connection's thread (its
 * request's connection), then goes back to the cache. It buffers at most
 * OUT_BYTES past one frame, and only when the client has taken what went
 * before (the http layer asks only then). Every query names the stream's
 * customer, and a stream hangs on its customer's channel only.
 *
 * Why "rows after the cursor" misses nothing: within one customer, ids
 * become visible in increasing order (outbox.h: on PostgreSQL a lock per
 * customer from the inserts to the commit; SQLite's writers take turns),
 * so once the hub or a stream has seen id N of a customer, no row of that
 * customer below N appears later. Across customers there is no such
 * order, which is why every look is per customer, never "ids above the
 * newest seen anywhere".
 *
 * Locks: hub_lock guards the channels, their caches and their lists of
 * streams; a stream's own fields are its connection thread's. The hub
 * wakes streams while holding hub_lock, and closed() takes it, so no wake
 * reaches a stream after closed() has returned.
 */
#include "api/events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/worker.h"
#include "store/store.h"

/* a channel's cached frames, at most; -DEVENTS_CACHE_BYTES=0 makes every
 * stream read from the database (how the cache was measured) */
#ifdef EVENTS_CACHE_BYTES
#define CACHE_BYTES EVENTS_CACHE_BYTES
#else
#define CACHE_BYTES (32 * 1024)
#endif
#define FETCH_ROWS 256            /* rows the hub reads at once */
#define FETCH_BATCHES 4           /* ... and per customer per look: then the next look goes on */
#define CATCHUP_ROWS 64           /* rows a stream reads from the database at once */
#define OUT_BYTES (64 * 1024)     /* a stream's buffer, at most (past one frame) */
#define PROBE_BATCH 32            /* customers a probe asks about */
#define BUCKETS 256
#define RETRY_MS 3000             /* the reconnection delay a stream asks of EventSource */

#define ROWS_SQL "SELECT id, kind, data FROM events WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3"
/* the oldest and newest kept ids of a customer: two index probes */
#define BOUNDS_SQL                                                 \
    "SELECT (SELECT min(id) FROM events WHERE customer_id = $1), " \
    "(SELECT max(id) FROM events WHERE customer_id = $1)"
/* each customer's newest id, PROBE_BATCH customers at once (0 pads) */
#define PROBE_SQL                                                                         \
    "SELECT id, (SELECT max(e.id) FROM events e WHERE e.customer_id = customers.id) "    \
    "FROM customers WHERE id IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, " \
    "$14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, "     \
    "$30, $31, $32)"

static const char reset_data[] =
    "{\"detail\": \"Events after Last-Event-ID are no longer all kept: reload what you show "
    "(GET /api/device/) and go on from here.\"}";

/* ------------------------------------------------------------ frames */

/* One row as a stream sends it: "id: N\nevent: KIND\ndata: JSON\n\n". */
typedef struct frame {
    struct frame *next;
    int64_t id;
    size_t len;
    char text[];
} frame;

/* The bytes of a frame (a line break inside data, which JSON text never
 * has, would begin another data line, as SSE reads them). */
static size_t frame_size(int64_t id, const char *kind, const char *data, size_t n)
{
    size_t breaks = 0;
    for (size_t i = 0; i < n; i++)
        breaks += data[i] == '\n' || (data[i] == '\r' && (i + 1 == n || data[i + 1] != '\n'));
    return (size_t)snprintf(NULL, 0, "id: %lld\nevent: %s\ndata: ", (long long)id, kind) + n +
           breaks * (sizeof "\ndata: " - 1) + 2;
}

/* Write it at `to` (frame_size() bytes and a NUL). */
static size_t frame_write(char *to, int64_t id, const char *kind, const char *data, size_t n)
{
    size_t o = (size_t)sprintf(to, "id: %lld\nevent: %s\ndata: ", (long long)id, kind);
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\r' && i + 1 < n && data[i + 1] == '\n')
            continue;   /* the \n next makes the break */
        if (data[i] == '\n' || data[i] == '\r') {
            memcpy(to + o, "\ndata: ", sizeof "\ndata: " - 1);
            o += sizeof "\ndata: " - 1;
        } else {
            to[o++] = data[i];
        }
    }
    to[o++] = '\n';
    to[o++] = '\n';
    to[o] = '\0';
    return o;
}

/* The current row of a ROWS_SQL statement as a malloc'ed frame. */
static frame *frame_of_row(store_stmt *st)
{
    size_t n = 0;
    int64_t id = store_col_int(st, 0);
    const char *kind = store_col_text(st, 1, NULL), *data = store_col_text(st, 2, &n);
    size_t size = frame_size(id, kind, data, n);
    frame *f = malloc(sizeof *f + size + 1);
    if (!f)
        abort();
    f->next = NULL;
    f->id = id;
    f->len = frame_write(f->text, id, kind, data, n);
    return f;
}

static void free_frames(frame *f)
{
    while (f) {
        frame *next = f->next;
        free(f);
        f = next;
    }
}

/* ------------------------------------------------------------ channels and streams */

typedef struct stream stream;

typedef struct channel {
    struct channel *next;        /* in its bucket */
    int64_t customer_id;
    int64_t known;               /* the newest id of the customer the hub has read */
    int64_t floor;               /* the cache holds every row of the customer after floor, up to known */
    frame *oldest, *newest;      /* the cache */
    size_t cached;               /* its bytes */
    bool notified;               /* events_notify() named it since the last look */
    stream *streams;
} channel;

struct stream {
    response_stream rs;          /* what the http layer sees (rs.ctx is this) */
    stream *prev, *next;         /* in its channel, once opened */
    channel *ch;
    int64_t customer_id;
    int64_t cursor;              /* the last id put into out */
    int64_t newest;              /* the customer's newest id when the stream began */
    store *db;                   /* its connection thread's */
    char *out;                   /* malloc'ed: out_len bytes, sent up to out_off */
    size_t out_len, out_off, out_cap;
};

static pthread_mutex_t hub_lock = PTHREAD_MUTEX_INITIALIZER;
static channel *buckets[BUCKETS];
static _Atomic int nchannels;

static void run_hub(worker *w);
static worker hub = WORKER_INIT("event streams' watcher", run_hub);

static channel **bucket_of(int64_t customer_id)
{
    return &buckets[(uint64_t)customer_id % BUCKETS];
}

/* Under hub_lock. */
static channel *find_channel(int64_t customer_id)
{
    for (channel *ch = *bucket_of(customer_id); ch; ch = ch->next)
        if (ch->customer_id == customer_id)
            return ch;
    return NULL;
}

/* Room in out for n more bytes. */
static char *out_room(stream *s, size_t n)
{
    if (s->out_len + n + 1 > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : 4096;
        while (cap < s->out_len + n + 1)
            cap *= 2;
        char *grown = realloc(s->out, cap);
        if (!grown)
            abort();
        s->out = grown;
        s->out_cap = cap;
    }
    return s->out + s->out_len;
}

static void out_frame(stream *s, const frame *f)
{
    memcpy(out_room(s, f->len), f->text, f->len);
    s->out_len += f->len;
    s->cursor = f->id;
}

typedef enum { FILL_NONE, FILL_SOME, FILL_FAILED } fill_result;

/* The rows after the cursor from the database (those the cache no longer
 * holds), into out. */
static fill_result catch_up(stream *s)
{
    store_stmt *st = store_prepare(s->db, ROWS_SQL);
    if (!st)
        return FILL_FAILED;
    store_bind_int(st, 1, s->customer_id);
    store_bind_int(st, 2, s->cursor);
    store_bind_int(st, 3, CATCHUP_ROWS);
    int rc = STORE_DONE;
    while (s->out_len < OUT_BYTES && (rc = store_step(st)) == STORE_ROW) {
        size_t n = 0;
        int64_t id = store_col_int(st, 0);
        const char *kind = store_col_text(st, 1, NULL), *data = store_col_text(st, 2, &n);
        s->out_len += frame_write(out_room(s, frame_size(id, kind, data, n)), id, kind, data, n);
        s->cursor = id;
    }
    store_reset(st);
    if (rc < 0) {
        log_line("events: a stream of customer %lld cannot read its events: %s", (long long)s->customer_id,
                 store_errmsg(s->db));
        return FILL_FAILED;
    }
    return s->out_len ? FILL_SOME : FILL_NONE;
}

/* The frames after the cursor into the (empty) out: from the cache, or,
 * below what it holds, from the database. */
static fill_result fill(stream *s)
{
    for (int pass = 0; pass < 2; pass++) {
        pthread_mutex_lock(&hub_lock);
        channel *ch = s->ch;
        int64_t floor = ch->floor;
        if (s->cursor >= floor) {
            for (const frame *f = ch->oldest; f && s->out_len < OUT_BYTES; f = f->next)
                if (f->id > s->cursor)
                    out_frame(s, f);
            pthread_mutex_unlock(&hub_lock);
            return s->out_len ? FILL_SOME : FILL_NONE;
        }
        pthread_mutex_unlock(&hub_lock);
        fill_result got = catch_up(s);
        if (got != FILL_NONE)
            return got;
        /* no row after the cursor any more, yet the cache begins above it:
         * they were removed meanwhile (retention); go on from the cache */
        s->cursor = floor;
    }
    return FILL_NONE;
}

/* response_stream.read */
static long stream_read(response_stream *rs, char *buf, size_t max)
{
    stream *s = rs->ctx;
    if (s->out_off == s->out_len) {
        s->out_off = s->out_len = 0;
        fill_result got = fill(s);
        if (got == FILL_FAILED)
            return -1;   /* the client reconnects with its Last-Event-ID */
        if (got == FILL_NONE)
            return 0;
    }
    size_t n = s->out_len - s->out_off < max ? s->out_len - s->out_off : max;
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    return (long)n;
}

/* response_stream.opened: hang it on its customer's channel (made now,
 * knowing the newest id the stream's request read, if it is the first). */
static void stream_opened(response_stream *rs)
{
    stream *s = rs->ctx;
    pthread_mutex_lock(&hub_lock);
    channel *ch = find_channel(s->customer_id);
    if (!ch) {
        ch = calloc(1, sizeof *ch);
        if (!ch)
            abort();
        ch->customer_id = s->customer_id;
        ch->known = ch->floor = s->newest;
        channel **b = bucket_of(s->customer_id);
        ch->next = *b;
        *b = ch;
        atomic_fetch_add(&nchannels, 1);
    }
    s->ch = ch;
    s->prev = NULL;
    s->next = ch->streams;
    if (ch->streams)
        ch->streams->prev = s;
    ch->streams = s;
    pthread_mutex_unlock(&hub_lock);
}

/* response_stream.closed: off its channel (the channel and its cache go
 * with its last stream). */
static void stream_closed(response_stream *rs)
{
    stream *s = rs->ctx;
    pthread_mutex_lock(&hub_lock);
    channel *ch = s->ch;
    if (ch) {
        if (s->prev)
            s->prev->next = s->next;
        else
            ch->streams = s->next;
        if (s->next)
            s->next->prev = s->prev;
        if (!ch->streams) {
            channel **p = bucket_of(ch->customer_id);
            while (*p != ch)
                p = &(*p)->next;
            *p = ch->next;
            free_frames(ch->oldest);
            free(ch);
            atomic_fetch_sub(&nchannels, 1);
        }
        s->ch = NULL;
    }
    pthread_mutex_unlock(&hub_lock);
    free(s->out);
    s->out = NULL;
}

void events_notify(int64_t customer_id)
{
    if (atomic_load(&nchannels) == 0)   /* no stream here: nothing to wake */
        return;
    pthread_mutex_lock(&hub_lock);
    channel *ch = find_channel(customer_id);
    if (ch)
        ch->notified = true;
    pthread_mutex_unlock(&hub_lock);
    if (ch)
        worker_wake(&hub);
}

/* ------------------------------------------------------------ the endpoint */

/* A Last-Event-ID we could have sent: 1 to 18 digits. */
static bool parse_event_id(const char *text, int64_t *id)
{
    size_t n = strlen(text);
    if (n == 0 || n > 18 || strspn(text, "0123456789") != n)
        return false;
    *id = strtoll(text, NULL, 10);
    return true;
}

int events_stream(request *r)
{
    store_stmt *st = store_prepare(r->db, BOUNDS_SQL);
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    int rc = store_step(st);
    int64_t oldest = 0, newest = 0;
    if (rc == STORE_ROW) {
        oldest = store_col_null(st, 0) ? 0 : store_col_int(st, 0);
        newest = store_col_null(st, 1) ? 0 : store_col_int(st, 1);
    }
    store_reset(st);
    if (rc < 0)
        return rc;

    const char *given = request_header(r, "Last-Event-ID");
    if (!given || !*given)
        given = request_query(r, "last_event_id");
    int64_t last = 0;
    bool resume = given && *given && parse_event_id(given, &last) && oldest && oldest <= last && last <= newest;
    bool reset = given && *given && !resume;

    r->status = 200;
    r->content_type = "text/event-stream";
    request_add_header(r, "Cache-Control", "no-cache");
    request_add_header(r, "X-Accel-Buffering", "no");   /* a proxy (nginx) must not buffer it */
    if (r->method == HTTP_HEAD)
        return 0;

    stream *s = arena_zalloc(r->arena, sizeof *s);
    s->rs = (response_stream){.read = stream_read, .opened = stream_opened, .closed = stream_closed,
                              .heartbeat = ": keep-alive\n\n", .ctx = s};
    s->customer_id = r->customer_id;
    s->db = r->db;
    s->newest = newest;
    s->cursor = resume ? last : newest;
    /* the first block: the reconnection delay, and the id to come back
     * with (or the reset, which carries it) */
    char head[64];
    int n = snprintf(head, sizeof head, "retry: %d\n", RETRY_MS);
    memcpy(out_room(s, (size_t)n), head, (size_t)n);
    s->out_len += (size_t)n;
    if (reset) {
        s->out_len += frame_write(out_room(s, frame_size(newest, "reset", reset_data, sizeof reset_data - 1)),
                                  newest, "reset", reset_data, sizeof reset_data - 1);
    } else {
        n = snprintf(head, sizeof head, "id: %lld\n\n", (long long)s->cursor);
        memcpy(out_room(s, (size_t)n), head, (size_t)n);
        s->out_len += (size_t)n;
    }
    r->stream = &s->rs;
    return 0;
}

/* ------------------------------------------------------------ the hub */

typedef struct target {
    int64_t customer_id, known;
    bool fetch;
} target;

/* Which targets have rows after their `known` (marks them to fetch). */
static int probe(store *db, target *t, size_t n)
{
    for (size_t from = 0; from < n; from += PROBE_BATCH) {
        size_t count = n - from < PROBE_BATCH ? n - from : PROBE_BATCH;
        store_stmt *st = store_prepare(db, PROBE_SQL);
        if (!st)
            return STORE_ERROR;
        for (size_t i = 0; i < PROBE_BATCH; i++)
            store_bind_int(st, (int)i + 1, i < count ? t[from + i].customer_id : 0);
        int rc;
        while ((rc = store_step(st)) == STORE_ROW) {
            int64_t customer = store_col_int(st, 0);
            int64_t newest = store_col_null(st, 1) ? 0 : store_col_int(st, 1);
            for (size_t i = from; i < from + count; i++)
                if (t[i].customer_id == customer && newest > t[i].known)
                    t[i].fetch = true;
        }
        store_reset(st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The cache within CACHE_BYTES: the oldest frames go, and with them the
 * floor rises. Under hub_lock. */
static void trim(channel *ch)
{
    while (ch->cached > CACHE_BYTES && ch->oldest) {
        frame *f = ch->oldest;
        ch->oldest = f->next;
        ch->floor = f->id;
        ch->cached -= f->len;
        free(f);
    }
    if (!ch->oldest)
        ch->newest = NULL;
}

/* Read the customer's rows after `from` into its channel's cache and wake
 * its streams; *more when rows remain for the next look. */
static int fetch(store *db, int64_t customer_id, int64_t from, bool *more)
{
    *more = false;
    for (int batch = 0; batch < FETCH_BATCHES; batch++) {
        store_stmt *st = store_prepare(db, ROWS_SQL);
        if (!st)
            return STORE_ERROR;
        store_bind_int(st, 1, customer_id);
        store_bind_int(st, 2, from);
        store_bind_int(st, 3, FETCH_ROWS);
        frame *first = NULL, *last = NULL;
        size_t bytes = 0;
        int rows = 0, rc;
        while ((rc = store_step(st)) == STORE_ROW) {
            frame *f = frame_of_row(st);
            if (last)
                last->next = f;
            else
                first = f;
            last = f;
            bytes += f->len;
            rows++;
        }
        store_reset(st);
        if (rc < 0 || rows == 0) {
            free_frames(first);
            return rc < 0 ? rc : 0;
        }
        pthread_mutex_lock(&hub_lock);
        channel *ch = find_channel(customer_id);
        bool taken = ch && ch->known == from;   /* else it went, or was made anew: the next look reads again */
        if (taken) {
            if (ch->newest)
                ch->newest->next = first;
            else
                ch->oldest = first;
            ch->newest = last;
            ch->cached += bytes;
            ch->known = last->id;
            trim(ch);
            for (stream *s = ch->streams; s; s = s->next)
                s->rs.wake(&s->rs);
        }
        pthread_mutex_unlock(&hub_lock);
        if (!taken) {
            free_frames(first);
            return 0;
        }
        if (rows < FETCH_ROWS)
            return 0;
        from = last->id;
    }
    *more = true;
    return 0;
}

/* One look: every channel (`full`), or those notified. */
static int look(store *db, bool full)
{
    target *t = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&hub_lock);
    for (int b = 0; b < BUCKETS; b++) {
        for (channel *ch = buckets[b]; ch; ch = ch->next) {
            if (!full && !ch->notified)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                t = realloc(t, cap * sizeof *t);
                if (!t)
                    abort();
            }
            t[n++] = (target){ch->customer_id, ch->known, ch->notified};
            ch->notified = false;
        }
    }
    pthread_mutex_unlock(&hub_lock);
    int rc = full ? probe(db, t, n) : 0;
    bool again = false;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        bool more = false;
        if (t[i].fetch)
            rc = fetch(db, t[i].customer_id, t[i].known, &more);
        if (more) {   /* a long backlog: the next look, at once, goes on with it */
            pthread_mutex_lock(&hub_lock);
            channel *ch = find_channel(t[i].customer_id);
            if (ch)
                ch->notified = again = true;
            pthread_mutex_unlock(&hub_lock);
        }
    }
    free(t);
    if (again)
        worker_wake(&hub);
    return rc;
}

static void run_hub(worker *w)
{
    store *db = NULL;
    int64_t next_full = 0;
    while (!worker_stopping(w)) {
        if (!db) {
            char *err = NULL;
            if (!(db = store_open(w->ctx, &err))) {
                log_line("events: database: %s", err ? err : "cannot open");
                free(err);
                worker_wait(w, 1000000);
                continue;
            }
        }
        int64_t now = monotonic_us();
        bool full = now >= next_full;
        if (full)
            next_full = now + EVENTS_POLL_US;
        if (atomic_load(&nchannels) > 0 && look(db, full) < 0) {
            /* a connection that failed is opened anew (PostgreSQL restarted, say) */
            log_line("events: looking for new events failed: %s", store_errmsg(db));
            store_close(db);
            db = NULL;
        }
        now = monotonic_us();
        worker_wait(w, next_full > now ? next_full - now : 0);
    }
    store_close(db);
}

int events_start(const char *db_url)
{
    hub.ctx = strdup(db_url);
    return worker_start(&hub);
}

void events_stop(void)
{
    worker_stop(&hub);
    free(hub.ctx);
    hub.ctx = NULL;
}
