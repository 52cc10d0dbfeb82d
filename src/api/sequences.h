/*
 * sequences.h — pick sequences (contract §8) as a resource (routes.c), and
 * what the acknowledgement of a pick (picks.c) asks of them.
 */
#ifndef STOCKROOM_SEQUENCES_H
#define STOCKROOM_SEQUENCES_H

#include <stdint.h>

#include "api/views.h"
#include "http/request.h"

/* Steps of one sequence, at most (docs/decisions.md, "Limits"). */
#define SEQUENCE_MAX_STEPS 1000

extern const resource sequences_resource;

/*
 * The command showing sequence step `step_ref` was acknowledged: mark the
 * step done and, when its whole group is done, light the next group — or,
 * after the last, complete the sequence and queue its callback {"acknack":
 * "ack", "nonce": <the sequence's nonce>, "sequence": <its id>}. Runs
 * inside the request's transaction, with the sequence's row locked by the
 * caller. VIEW_DONE, COMMAND_FULL (a device of the next group is full) or
 * a store error.
 */
int sequence_step_done(request *r, int64_t step_ref);

#endif
