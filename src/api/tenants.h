/*
 * tenants.h — customers (tenants) and their API keys.
 *
 * A key is 40 hex characters from libsodium's randombytes; only its
 * BLAKE2b hash is stored (keys are long random secrets, so a fast hash is
 * enough: nothing to brute-force). Used by the command line (main.c) and
 * by authentication (auth.c).
 */
#ifndef STOCKROOM_TENANTS_H
#define STOCKROOM_TENANTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

#define API_KEY_LEN 40

/* Results of the commands: 0 ok, else a message for the user. */
typedef const char *tenant_error;

int tenants_init(void);   /* libsodium; call once before anything else */
tenant_error customer_create(store *db, const char *name, char key[API_KEY_LEN + 1]);
tenant_error key_create(store *db, const char *customer, char key[API_KEY_LEN + 1]);
tenant_error key_revoke(store *db, const char *key);
tenant_error key_list(store *db, const char *customer, FILE *out);

/* The id of the customer named `name`: 1 found, 0 not, -1 db error. */
int customer_id_of(store *db, const char *name, int64_t *id);

/* BLAKE2b-256 of a secret, as 64 hex characters (what the tables keep of
 * keys, tokens, session ids and client secrets). */
void secret_hash(const char *secret, size_t len, char hex[65]);
/* `len` (even, at most 128) random hex characters from libsodium, NUL-terminated. */
void random_hex(char *out, size_t len);

/* The customer a key belongs to: 1 found (not revoked), 0 not, -1 db error. */
int key_lookup(store *db, const char *key, size_t len, int64_t *customer_id);

#endif
