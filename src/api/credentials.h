/*
 * credentials.h — the server process's cache of credentials: whom an API
 * key, a session's temporary key, an OAuth access token or a session
 * cookie names (customer, session, expiry, and a session's CSRF token and
 * user), by the BLAKE2b hash the tables keep of it, so that a request
 * authenticated once costs no query for its credentials again.
 *
 * On PostgreSQL only. Triggers on the credential tables (schema V8) notify
 * the hash of every credential updated or deleted — a revoke, a logout, a
 * token rotated, a session expired by hand, a deleted user, customer or
 * client cascading — on the channel "stockroom_credentials", from the
 * transaction that changes it, whoever makes it (the CLI included). Every
 * request connection LISTENs there (credentials_watch), and PostgreSQL
 * hands it what was committed before each of its transactions begins
 * (store_watch): so when a request has made its first round trip, the
 * cache has forgotten every credential changed before the request was
 * sent, and the request checks its own again (auth_recheck) before it
 * answers or commits. A credential revoked through one server is refused
 * by every other on its next request, with no query for credentials on
 * the requests in between. Expiry is checked against the cached expiry on
 * every use; a server forgets what it ends itself before it answers.
 *
 * On SQLite the cache stays off: a lookup there is an index read inside
 * the process (no round trip to save), and the CLI, another process, has
 * no channel to say what it revoked.
 *
 * Thread-safe (a lock per stripe of slots); a fill that raced with a
 * change is dropped (the ticket taken before its query tells).
 */
#ifndef STOCKROOM_CREDENTIALS_H
#define STOCKROOM_CREDENTIALS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/accounts.h"
#include "api/grants.h"
#include "store/store.h"

#define CREDENTIALS_CHANNEL "stockroom_credentials"

typedef enum {
    CREDENTIAL_KEY,       /* API_KEY / Authorization: Token: a customer's key or a temporary key */
    CREDENTIAL_BEARER,    /* Authorization: Bearer: an OAuth access token */
    CREDENTIAL_SESSION,   /* the sessionid cookie */
} credential_kind;

typedef struct credential {
    int64_t customer_id;
    int64_t session_ref;                /* the session (sessions.id), 0 for a customer's own key */
    int64_t expires;                    /* microseconds since the epoch; 0: never */
    char csrf[TOKEN_LEN + 1];           /* a session's CSRF token */
    char username[USERNAME_MAX * 4 + 1];   /* a session's user (UTF-8) */
} credential;

/* A request connection, before its first request: on PostgreSQL it
 * listens for changes, and the cache is on while every one does. */
void credentials_watch(store *db);
/* Is the cache on (PostgreSQL, every request connection listening)? */
bool credentials_on(void);

/* The live credential of that kind whose secret hashes to `hash` (64 hex
 * characters, secret_hash()): true and *out, or false (not cached, expired,
 * or the cache is off: query). */
bool credentials_get(credential_kind kind, const char hash[65], credential *out);
/* Taken before the query whose answer credentials_put() then keeps: a
 * change seen in between drops it. */
uint64_t credentials_ticket(void);
void credentials_put(credential_kind kind, const char hash[65], uint64_t ticket, const credential *c);

/* Forget a credential by its hash (every kind; anything but 64 hex
 * characters: nothing). */
void credentials_forget(const char *hash);
/* Forget every credential of a session (its cookie and temporary key). */
void credentials_forget_session(int64_t session_ref);

#endif
