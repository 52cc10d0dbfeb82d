/*
 * outbox.h — what a write tells the world besides its answer (contract
 * §8.1, §8.2): callbacks for the customer's receiver and events for the
 * customer's streams (GET /api/events/).
 *
 * A write notes them as it goes — the devices it changed, the callbacks it
 * raises, in the order it raises them — and outbox_flush() writes them in
 * the write's own transaction, just before it commits (view_write does
 * this), so they exist exactly when the write does and never without it.
 * A device noted several times is written once, as it is at the end.
 *
 * Order: on PostgreSQL the flush holds an advisory lock of the customer
 * until the commit, so a customer's callbacks and events get their ids in
 * the order their writes commit: a stream that has read up to id N never
 * later finds a row below N, and a receiver may order callbacks by id.
 * (SQLite's writers take turns anyway.) The lock is taken last, after
 * every row lock of the write, and the flush waits on nothing else, so it
 * adds no lock cycle.
 */
#ifndef STOCKROOM_OUTBOX_H
#define STOCKROOM_OUTBOX_H

#include <stdint.h>

#include "http/request.h"
#include "store/store.h"

typedef enum {
    CALLBACK_DEVICE = 1,   /* acks, nacks, calls, sequence callbacks */
    CALLBACK_ORDERS = 2,   /* order events */
} callback_family;

/* Device `row` (of r's customer) changed: stream it as it is after the write. */
void outbox_device(request *r, int64_t device_row);
/* Device `row`, whose id was `device_id`, is gone. */
void outbox_device_gone(request *r, int64_t device_row, const char *device_id);

/*
 * A callback: `object` is its JSON object without "id" and "created"
 * (which the flush puts first), e.g. {"deviceid":"A","acknack":"ack",...}.
 * `legacy_nonce`: for a device ack or nack with a nonce, the nonce Big
 * Block's URL form carries (with legacy_verb "ack" or "nack"), else NULL.
 * Queued only when the customer has a callback url and takes the family.
 */
void outbox_callback(request *r, callback_family family, const char *object, const char *legacy_nonce,
                     const char *legacy_verb);

/* Write what was noted, in r's transaction: 0, or a store error. */
int outbox_flush(request *r);
/* The transaction committed: wake this process's deliverer and streams. */
void outbox_committed(request *r);
/* Forget what was noted (rolled back, or about to run again). */
void outbox_reset(request *r);

/* A callback's JSON body as it is sent and streamed: id and created, then
 * the members of the payload stored (callbacks.payload since V7). */
char *callback_body(arena *a, int64_t id, int64_t created, const char *payload);

#endif
