/*
 * grants.h — what a login hands out, kept in the database so that every
 * server process sharing it honours it, and a restart keeps it: OAuth2
 * token pairs (§4.3) and sessions (§2.1, §6).
 *
 * Only BLAKE2b hashes of tokens, session ids and temporary keys are
 * stored; a CSRF token is not a credential on its own and is stored as is.
 * The writing calls run inside the caller's write transaction; the lookups
 * inside its read transaction (or none).
 */
#ifndef STOCKROOM_GRANTS_H
#define STOCKROOM_GRANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "store/store.h"

#define OAUTH_ACCESS_SECONDS 36000           /* the contract's expires_in */
#define OAUTH_REFRESH_SECONDS (30 * 86400)   /* unused refresh tokens: a month */
#define SESSION_SECONDS 1209600              /* Django's two weeks */

#define TOKEN_LEN 40      /* OAuth tokens, session ids, temporary keys, CSRF tokens: hex */

typedef struct token_pair {
    char access[TOKEN_LEN + 1], refresh[TOKEN_LEN + 1];
} token_pair;

/* A new token pair for user of customer through client `client_ref`. */
int grant_tokens(store *db, int64_t customer_id, int64_t user_id, int64_t client_ref, token_pair *out);

/* Rotate a refresh token: the old pair is gone, a new one in *out (and
 * the hash of the old access token in old_access, to forget). 1 done,
 * 0 when the refresh token is unknown, expired, used already, or was not
 * issued to one of `clients` (the registrations the caller authenticated
 * as); -1 on a database error. */
int grant_refresh(store *db, const char *refresh, const int64_t *client_refs, int nclients,
                  token_pair *out, char old_access[65]);

/* The customer of a live access token (and when it expires): 1 found, 0
 * not, -1 db error. */
int grant_access_lookup(store *db, const char *token, size_t len, int64_t *customer_id, int64_t *expires);

typedef struct session_grant {
    char id[TOKEN_LEN + 1];       /* the sessionid cookie */
    char csrf[TOKEN_LEN + 1];     /* the csrftoken cookie, and §2.1's "token" */
    char apikey[TOKEN_LEN + 1];   /* §2.1's temporary key */
} session_grant;

int grant_session(store *db, int64_t customer_id, int64_t user_id, session_grant *out);

typedef struct session_info {
    int64_t ref;                 /* sessions.id */
    int64_t customer_id;
    int64_t expires;
    const char *csrf;            /* in the arena */
    const char *username;        /* in the arena */
} session_info;

/* A live session by its cookie value: 1 found, 0 not (or expired), -1. */
int grant_session_lookup(store *db, arena *a, const char *session_id, session_info *out);
/* A live session's temporary key: 1 found (*ref, *customer_id, *expires), 0 not, -1. */
int grant_session_key_lookup(store *db, const char *key, size_t len, int64_t *ref, int64_t *customer_id,
                             int64_t *expires);
/* End a session (no-op when gone already). */
int grant_session_end(store *db, int64_t ref);


#endif
