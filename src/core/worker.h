/*
 * worker.h — a background thread of the server (the callback deliverer,
 * the expiry of commands, the janitor, the event streams' watcher): started
 * with the stop signals blocked (they belong to the main thread, which
 * waits for them), woken early when there is work, and stopped by setting
 * a flag, waking it and joining it.
 */
#ifndef STOCKROOM_WORKER_H
#define STOCKROOM_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct worker {
    const char *name;                 /* for messages */
    void (*run)(struct worker *w);    /* the thread: loops until worker_stopping() */
    void *ctx;
    /* the rest is the worker's own */
    pthread_t thread;
    bool running;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool pending;                     /* woken since it last waited */
    atomic_bool stopping;
} worker;

#define WORKER_INIT(wname, wrun) \
    {.name = (wname), .run = (wrun), .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER}

/* 0, or -1 with a message on stderr. */
int worker_start(worker *w);
/* Ask it to stop, wake it and wait for it to end. */
void worker_stop(worker *w);
/* Wake it now if it waits (or make its next wait return at once). */
void worker_wake(worker *w);
/* Wait until woken, stopping, or `us` microseconds have passed. */
void worker_wait(worker *w, int64_t us);
bool worker_stopping(worker *w);

#endif
