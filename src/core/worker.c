/*
 * worker.c — background threads (see worker.h).
 */
#include "core/worker.h"

#include <signal.h>
#include <stdio.h>
#include <time.h>

static void *start_routine(void *arg)
{
    worker *w = arg;
    w->run(w);
    return NULL;
}

int worker_start(worker *w)
{
    atomic_store(&w->stopping, false);
    w->pending = false;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&w->thread, NULL, start_routine, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        fprintf(stderr, "stockroom: cannot start the %s\n", w->name);
        return -1;
    }
    w->running = true;
    return 0;
}

void worker_stop(worker *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stopping, true);
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
}

void worker_wake(worker *w)
{
    pthread_mutex_lock(&w->lock);
    w->pending = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void worker_wait(worker *w, int64_t us)
{
    pthread_mutex_lock(&w->lock);
    if (!w->pending && !atomic_load(&w->stopping)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (us % 1000000) * 1000;
        until.tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    w->pending = false;
    pthread_mutex_unlock(&w->lock);
}

bool worker_stopping(worker *w)
{
    return atomic_load(&w->stopping);
}
