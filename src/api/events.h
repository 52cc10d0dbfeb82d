/*
 * events.h — the customer's event stream, GET /api/events/ (contract
 * §8.2): Server-Sent Events of the rows of `events` (api/outbox.h writes
 * them in the writing transaction), each with its row id as the SSE id,
 * resumed after Last-Event-ID.
 */
#ifndef STOCKROOM_EVENTS_H
#define STOCKROOM_EVENTS_H

#include <stdint.h>

/* Events of this customer were committed by this process: wake its
 * streams now rather than at the next look at the table. */
void events_notify(int64_t customer_id);

#endif
