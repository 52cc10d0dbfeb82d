/*
 * events.h — the customer's event stream, GET /api/events/ (contract
 * §8.2): Server-Sent Events of the rows of `events` (api/outbox.h writes
 * them in the writing transaction), the caller's customer's only, each
 * with its row id as the SSE id:
 *
 *     id: 812
 *     event: device            (or device_deleted, callback)
 *     data: {"device_id": ...} (the row's JSON, one line)
 *
 * What a client may rely on:
 *   - without Last-Event-ID (header, or ?last_event_id= for clients that
 *     cannot set headers) the stream starts now: the first block is
 *     `retry: 3000` and `id: <the customer's newest event id>` (no event),
 *     so a client that reconnects with it misses nothing even when nothing
 *     arrived;
 *   - with a Last-Event-ID between the customer's oldest and newest kept
 *     events, it resumes right after it: nothing missed, nothing repeated,
 *     in id order, also for events written by other server processes on
 *     the same database;
 *   - with any other Last-Event-ID (older than the retention, --keep-
 *     delivered; not a number; not this customer's) the stream begins
 *     with one `reset` event (`id:` the newest, data {"detail"}): events
 *     may have been missed, so reload what you show and go on from there;
 *   - an event reaches the streams of this process at once after its
 *     commit, and those of other processes within about POLL_US;
 *   - `: keep-alive` comment lines keep a silent stream open (http layer).
 *
 * One watcher thread per process (the hub, events_start) looks at the
 * table for the customers that have streams here; see events.c.
 */
#ifndef STOCKROOM_EVENTS_H
#define STOCKROOM_EVENTS_H

#include <stdint.h>

#include "http/request.h"

/* How often the hub looks at `events` for rows it was not told of. */
#define EVENTS_POLL_US (250 * 1000LL)

/* Events of this customer were committed by this process: wake its
 * streams now rather than at the next look at the table. */
void events_notify(int64_t customer_id);

/* The hub's thread, with its own connection: 0, or -1 with a message. */
int events_start(const char *db_url);
/* After every stream has ended (http_serve returned). */
void events_stop(void);

/* GET /api/events/ (the route is raw: credentials checked, no format). */
int events_stream(request *r);

#endif
