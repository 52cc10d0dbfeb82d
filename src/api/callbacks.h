/*
 * callbacks.h — delivering acknowledgements to a customer's callback url
 * (contract §8).
 *
 * callback_enqueue() queues one in the `callbacks` table inside the
 * caller's write transaction, so it is stored exactly when the
 * acknowledgement is. One worker thread per server process
 * (callbacks_start/stop, around server_run) delivers due rows with
 * libcurl as JSON POSTs and retries failures with backoff until the
 * receiver answers 2xx. A row is claimed with a lease before it is sent,
 * so processes sharing a database never send the same attempt twice; a
 * delivery cut short by a crash is sent again after the lease, with the
 * same payload `id` (receivers drop repeats by it). Requests never wait
 * for a delivery.
 */
#ifndef STOCKROOM_CALLBACKS_H
#define STOCKROOM_CALLBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"
#include "store/store.h"

/* Wake this process's worker (a callback was queued and committed). */
void callbacks_notify(void);

/* `stockroom customer set-callback`: store the customer's callback url
 * (an http:// or https:// url; "" clears it). NULL ok, else a message. */
const char *callback_url_set(store *db, const char *customer, const char *url);

/*
 * The worker, with its own connection to db_url. Retries wait
 * BASE * 2^(attempts-1), at most MAX; STOCKROOM_CALLBACK_BACKOFF_MS="BASE,MAX"
 * changes the defaults (1000,60000). callbacks_start() returns 0, or -1
 * with a message on stderr. callbacks_stop() abandons a delivery in
 * flight (it stays queued) and returns once the worker has ended.
 */
int callbacks_start(const char *db_url);
void callbacks_stop(void);

#endif
