/*
 * callbacks.h — a customer's callback settings and the delivery of its
 * queued callbacks (contract §8, §8.1).
 *
 * The outbox (outbox.h) queues callbacks in the `callbacks` table inside
 * the write that raised them. One deliverer thread per server process
 * (callbacks_start/stop, around server_run) sends due rows with libcurl's
 * multi interface, many at once but at most one per customer, so a
 * customer whose receiver hangs delays only its own callbacks; failures are
 * retried with backoff until the receiver answers 2xx. A row is claimed
 * with a lease before it is sent, so processes sharing a database never
 * send the same attempt twice; a delivery cut short by a crash is sent
 * again after the lease, with the same `id` (receivers drop repeats by
 * it). Requests never wait for a delivery.
 */
#ifndef STOCKROOM_CALLBACKS_H
#define STOCKROOM_CALLBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Wake this process's deliverer (a callback was queued and committed). */
void callbacks_notify(void);

/* What `stockroom customer set-callback` sets: every setting at once, so a
 * flag left out goes back to its default. */
typedef struct callback_settings {
    const char *url;          /* http:// or https://; "" clears the callback */
    const char *events;       /* comma list of device, orders; NULL: device */
    bool legacy;              /* device acks and nacks with a nonce as GET URL/NONCE/ack|nack */
    const char *basic_auth;   /* USER:PASS, sent as Authorization: Basic; or NULL */
    const char *bearer;       /* TOKEN, sent as Authorization: Bearer; or NULL */
} callback_settings;

/* The signing secret set-callback prints: 32 random bytes in hex. */
#define CALLBACK_SECRET_LEN 64

/* The flags' own mistakes (an unknown family, both credentials, a
 * USER:PASS without its colon, flags beside a url ""): NULL, or a message. */
const char *callback_settings_check(const callback_settings *s);

/*
 * Store the settings of customer `customer` with a new signing secret,
 * written to `secret` (NUL-terminated); for url "" only the url is cleared
 * (callbacks queued already are still sent, signed and with the
 * credentials as they stand) and `secret` is "". NULL when done, else a
 * message and nothing changed.
 */
const char *callback_settings_set(store *db, const char *customer, const callback_settings *s,
                                  char secret[CALLBACK_SECRET_LEN + 1]);

/*
 * The deliverer, with its own connection to db_url. Retries wait
 * BASE * 2^(attempts-1), at most MAX; STOCKROOM_CALLBACK_BACKOFF_MS="BASE,MAX"
 * changes the defaults (1000,60000). An attempt that has no answer within
 * CALLBACK_TIMEOUT_MS, connecting included, has failed. callbacks_start()
 * returns 0, or -1 with a message on stderr. callbacks_stop() abandons the
 * deliveries in flight (they stay queued, due again at once) and returns
 * once the thread has ended.
 */
#define CALLBACK_TIMEOUT_MS 5000
int callbacks_start(const char *db_url);
void callbacks_stop(void);

#endif
