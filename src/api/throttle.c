/*
 * throttle.c — failed-login buckets (see throttle.h): two fixed tables,
 * open addressing by a 64-bit hash of the key.
 */
#include "api/throttle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/util.h"

#define SLOTS 8192          /* a power of two */
#define PROBES 8

typedef struct slot {
    uint64_t key;           /* 0: free */
    double level;           /* failures in the bucket, as of `at` */
    int64_t at;             /* us */
} slot;

typedef struct table {
    pthread_mutex_t lock;
    unsigned limit;         /* 0: not throttled */
    slot slots[SLOTS];
} table;

static table users = {PTHREAD_MUTEX_INITIALIZER, THROTTLE_USER_DEFAULT, {{0}}};
static table addresses = {PTHREAD_MUTEX_INITIALIZER, THROTTLE_ADDRESS_DEFAULT, {{0}}};
static _Atomic unsigned long long hits;

void throttle_configure(unsigned per_user, unsigned per_address)
{
    users.limit = per_user;
    addresses.limit = per_address;
}

static uint64_t key_of(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* The bucket's level now (drained since it was last set). */
static double level_now(const table *t, const slot *s, int64_t now)
{
    double drained = (double)(now - s->at) / 1e6 * t->limit / THROTTLE_WINDOW;
    return s->level > drained ? s->level - drained : 0;
}

/* The key's slot; when `make`, a free one or the emptiest among its
 * probes. Lock held. */
static slot *find(table *t, uint64_t key, bool make, int64_t now)
{
    slot *victim = NULL;
    for (int i = 0; i < PROBES; i++) {
        slot *s = &t->slots[(key + (uint64_t)i) & (SLOTS - 1)];
        if (s->key == key)
            return s;
        if (make && (!victim || (victim->key && (!s->key || level_now(t, s, now) < level_now(t, victim, now)))))
            victim = s;
    }
    if (victim)
        *victim = (slot){.key = key, .at = now};
    return victim;
}

static int wait_of(table *t, const char *name, int64_t now)
{
    if (!name || !*name || !t->limit)
        return 0;
    pthread_mutex_lock(&t->lock);
    slot *s = find(t, key_of(name), false, now);
    double over = s ? level_now(t, s, now) + 1 - t->limit : 0;
    pthread_mutex_unlock(&t->lock);
    if (over <= 0)
        return 0;
    double seconds = over * THROTTLE_WINDOW / t->limit;
    return (int)seconds + (seconds > (int)seconds);
}

static void record_failure(table *t, const char *name, int64_t now)
{
    if (!name || !*name || !t->limit)
        return;
    pthread_mutex_lock(&t->lock);
    slot *s = find(t, key_of(name), true, now);
    s->level = level_now(t, s, now) + 1;
    s->at = now;
    pthread_mutex_unlock(&t->lock);
}

int throttle_wait(const char *username, const char *address)
{
    int64_t now = monotonic_us();
    int a = wait_of(&users, username, now), b = wait_of(&addresses, address, now);
    return a > b ? a : b;
}

void throttle_failed(const char *username, const char *address)
{
    int64_t now = monotonic_us();
    record_failure(&users, username, now);
    record_failure(&addresses, address, now);
}

void throttle_succeeded(const char *username)
{
    if (!username || !*username)
        return;
    pthread_mutex_lock(&users.lock);
    slot *s = find(&users, key_of(username), false, 0);
    if (s)
        s->level = 0;
    pthread_mutex_unlock(&users.lock);
}

void throttle_hit(void)
{
    atomic_fetch_add(&hits, 1);
}

unsigned long long throttle_hits(void)
{
    return atomic_load(&hits);
}
