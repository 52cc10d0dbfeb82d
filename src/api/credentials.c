/*
 * credentials.c — the process's cache of credentials and its listener
 * (see credentials.h).
 *
 * A fixed table of slots, each holding one credential, placed by its hash
 * (uniformly random: BLAKE2b of a random secret) and kind; a newer
 * credential takes an occupied slot. Slots are guarded in stripes. Every
 * change seen (a notification, a forget, the listener's loss or return)
 * bumps `generation` before it evicts, and a fill keeps its answer only if
 * the generation is still the one of its ticket, checked under the slot's
 * lock: so an answer read before a change committed never outlives it.
 */
#include "api/credentials.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "core/datetime.h"
#include "core/util.h"

#define SLOTS 8192             /* a power of two */
#define STRIPES 64

typedef struct slot {
    bool used;
    unsigned char kind;
    unsigned char hash[32];
    credential c;
} slot;

static slot slots[SLOTS];
static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};
static atomic_uint_fast64_t generation;
static atomic_bool listening;          /* the cache is on: every request connection listens */

static pthread_mutex_t *stripe_of(size_t i)
{
    return &stripes[i % STRIPES];
}

static bool parse_hash(const char *hex, unsigned char out[32])
{
    size_t n = 0;
    return hex && strlen(hex) == 64 && sodium_hex2bin(out, 32, hex, 64, NULL, &n, NULL) == 0 && n == 32;
}

static size_t slot_of(credential_kind kind, const unsigned char hash[32])
{
    uint64_t h;
    memcpy(&h, hash, sizeof h);
    return (size_t)((h ^ ((uint64_t)kind * 0x9E3779B97F4A7C15ULL)) & (SLOTS - 1));
}

bool credentials_get(credential_kind kind, const char hash[65], credential *out)
{
    unsigned char h[32];
    if (!atomic_load(&listening) || !parse_hash(hash, h))
        return false;
    size_t i = slot_of(kind, h);
    pthread_mutex_lock(stripe_of(i));
    bool hit = slots[i].used && slots[i].kind == kind && memcmp(slots[i].hash, h, 32) == 0;
    if (hit)
        *out = slots[i].c;
    pthread_mutex_unlock(stripe_of(i));
    return hit && (out->expires == 0 || out->expires > datetime_now());
}

uint64_t credentials_ticket(void)
{
    return atomic_load(&generation);
}

void credentials_put(credential_kind kind, const char hash[65], uint64_t ticket, const credential *c)
{
    unsigned char h[32];
    if (!atomic_load(&listening) || !parse_hash(hash, h))
        return;
    size_t i = slot_of(kind, h);
    pthread_mutex_lock(stripe_of(i));
    if (atomic_load(&generation) == ticket && atomic_load(&listening)) {
        slots[i].used = true;
        slots[i].kind = (unsigned char)kind;
        memcpy(slots[i].hash, h, 32);
        slots[i].c = *c;
    }
    pthread_mutex_unlock(stripe_of(i));
}

/* Evict every slot that `gone` says goes (NULL: all). */
static void evict_where(bool (*gone)(const slot *s, const void *arg), const void *arg)
{
    atomic_fetch_add(&generation, 1);
    for (size_t stripe = 0; stripe < STRIPES; stripe++) {
        pthread_mutex_lock(&stripes[stripe]);
        for (size_t i = stripe; i < SLOTS; i += STRIPES)
            if (slots[i].used && (!gone || gone(&slots[i], arg)))
                slots[i].used = false;
        pthread_mutex_unlock(&stripes[stripe]);
    }
}

void credentials_forget(const char *hash)
{
    unsigned char h[32];
    if (!parse_hash(hash, h))
        return;
    atomic_fetch_add(&generation, 1);
    for (int kind = CREDENTIAL_KEY; kind <= CREDENTIAL_SESSION; kind++) {
        size_t i = slot_of(kind, h);
        pthread_mutex_lock(stripe_of(i));
        if (slots[i].used && memcmp(slots[i].hash, h, 32) == 0)
            slots[i].used = false;
        pthread_mutex_unlock(stripe_of(i));
    }
}

static bool of_session(const slot *s, const void *arg)
{
    return s->c.session_ref == *(const int64_t *)arg;
}

void credentials_forget_session(int64_t session_ref)
{
    if (session_ref)
        evict_where(of_session, &session_ref);
}

/* ------------------------------------------------------------ watching */

/* A credential's hash; "" (the triggers' word for a change that may touch
 * any, such as a user renamed), NULL (notifications missed) or anything
 * else: everything. */
static void on_notification(const char *payload, void *ctx)
{
    (void)ctx;
    unsigned char h[32];
    if (payload && parse_hash(payload, h))
        credentials_forget(payload);
    else
        evict_where(NULL, NULL);
}

void credentials_watch(store *db)
{
    static atomic_bool refused;   /* a PostgreSQL connection could not listen: off for good */
    if (store_kind_of(db) != STORE_POSTGRES || atomic_load(&refused))
        return;
    /* A thread opens its connection on its first request, when other
     * threads may have filled the cache: store_watch says that what
     * committed before this LISTEN was not heard here (a NULL), and the
     * cache starts again (threads are few: a few times in a server's life). */
    if (store_watch(db, CREDENTIALS_CHANNEL, on_notification, NULL) == STORE_DONE) {
        atomic_store(&listening, true);
        return;
    }
    atomic_store(&refused, true);
    atomic_store(&listening, false);
    evict_where(NULL, NULL);
    log_line("credentials: cannot listen for changes (%s): every request queries its credentials",
             store_errmsg(db));
}

bool credentials_on(void)
{
    return atomic_load(&listening);
}
