/*
 * accounts.h — who may log in: users (a username and an Argon2id password
 * hash) and OAuth2 clients (a client id and the BLAKE2b hash of its
 * secret), each belonging to one customer (contract §2.1, §4.3, §7).
 *
 * The administration functions serve the command line (main.c); the
 * checks serve the login endpoints (oauth.c, login.c). A password check
 * costs tens of milliseconds and 64 MiB by design, so callers run it
 * outside any transaction, on the login pool (as many at a time as it has
 * threads).
 */
#ifndef STOCKROOM_ACCOUNTS_H
#define STOCKROOM_ACCOUNTS_H

#include <stdint.h>
#include <stdio.h>

#include "api/tenants.h"
#include "store/store.h"

#define CLIENT_ID_MAX 100
#define CLIENT_SECRET_MAX 255
#define USERNAME_MAX 150

/* Command line. Each returns NULL or a message for the user. */
tenant_error user_create(store *db, const char *customer, const char *username, const char *password);
tenant_error user_list(store *db, const char *customer, FILE *out);
tenant_error user_delete(store *db, const char *username);
/* client_id / secret NULL: new random ones. The strings written to
 * id_out / secret_out (CLIENT_*_MAX + 1 bytes) are what the client uses. */
tenant_error oauth_client_create(store *db, const char *customer, const char *client_id,
                                 const char *secret, char *id_out, char *secret_out);
tenant_error oauth_client_list(store *db, const char *customer, FILE *out);
tenant_error oauth_client_delete(store *db, const char *customer, const char *client_id);

/* Is this the user's password? 1 yes (*user_id, *customer_id set), 0 no
 * (wrong password or no such user: indistinguishable, and as slow), -1 on
 * a database error. Opens and closes its own read transaction. */
int user_check_password(store *db, const char *username, const char *password,
                        int64_t *user_id, int64_t *customer_id);

/* A client authenticated by id and secret. One client id may be registered
 * by several customers (a shipped client's fixed credentials). */
typedef struct oauth_client_match {
    int64_t ref;          /* oauth_clients.id */
    int64_t customer_id;
} oauth_client_match;
#define OAUTH_CLIENT_MATCH_MAX 16

/* The registrations whose id and secret both match: their number (0: an
 * unknown client or a wrong secret), -1 on a database error. */
int oauth_client_check(store *db, const char *client_id, const char *secret,
                       oauth_client_match *out, int max);

#endif
