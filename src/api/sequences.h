/*
 * sequences.h — pick sequences (contract §8): what the acknowledgement of
 * a pick (picks.c) asks of them.
 */
#ifndef STOCKROOM_SEQUENCES_H
#define STOCKROOM_SEQUENCES_H

#include <stdint.h>

#include "http/request.h"

/*
 * The display showing sequence step `step_ref` was acknowledged: mark the
 * step done and, when its whole group is done, light the next group (or
 * complete the sequence). Runs inside the caller's write transaction.
 * *stepnonce gets the step's stepnonce (arena) for the callback, or NULL.
 * 0 ok, -1 on a database error.
 */
int sequence_step_done(request *r, int64_t step_ref, const char **stepnonce);

#endif
