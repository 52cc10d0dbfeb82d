/*
 * expiry.h — commands whose time ran out (contract §8.1): a command with
 * seconds > 0 that is neither acknowledged nor removed by its `expires` is
 * removed within a second of it, even when no request touches its device,
 * and its nack callback {"deviceid", "acknack": "nack", "nonce", "qty": 0}
 * (plus "stepnonce" for a sequence step's) is queued, with the device's
 * event, in the same transaction.
 *
 * One thread per server process, with its own database connection, looks
 * every EXPIRY_POLL_US for commands past their expiry (an index walk). It
 * takes them with one DELETE ... RETURNING, which on PostgreSQL skips rows
 * another transaction holds (FOR UPDATE SKIP LOCKED): of several servers
 * on one database, or of the worker and an acknowledgement racing for one
 * command, exactly one removes it, so a nack is sent exactly once and
 * never for a command that was acknowledged. The rows are in the database,
 * so an expiry that fell while no server ran is handled at the next start.
 */
#ifndef STOCKROOM_EXPIRY_H
#define STOCKROOM_EXPIRY_H

#include <stdint.h>

#include "store/store.h"

#define EXPIRY_POLL_US (250 * 1000LL)
#define EXPIRY_BATCH 200

/* 0, or -1 with a message on stderr. */
int expiry_start(const char *db_url);
void expiry_stop(void);

/* Expire what is due now, on this connection: commands expired, or -1. */
int expiry_pass(store *db);

#endif
