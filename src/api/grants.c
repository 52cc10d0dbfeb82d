/*
 * grants.c — OAuth2 token pairs and sessions in the database (see grants.h).
 */
#include "api/grants.h"

#include <stdio.h>
#include <string.h>

#include "api/tenants.h"
#include "core/datetime.h"

#define SECOND 1000000LL

static int exec(store_stmt *st)
{
    int rc = store_exec_int(st, NULL);
    return rc < 0 ? -1 : 0;
}

int grant_tokens(store *db, int64_t customer_id, int64_t user_id, int64_t client_ref, token_pair *out)
{
    char access_hex[65], refresh_hex[65];
    random_hex(out->access, TOKEN_LEN);
    random_hex(out->refresh, TOKEN_LEN);
    secret_hash(out->access, TOKEN_LEN, access_hex);
    secret_hash(out->refresh, TOKEN_LEN, refresh_hex);
    int64_t now = datetime_now();
    store_stmt *st = store_prepare(db,
        "INSERT INTO oauth_tokens (customer_id, user_id, client_ref, access_hash, refresh_hash, "
        "access_expires, refresh_expires, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    if (!st)
        return -1;
    store_bind_int(st, 1, customer_id);
    store_bind_int(st, 2, user_id);
    store_bind_int(st, 3, client_ref);
    store_bind_text(st, 4, access_hex, 64);
    store_bind_text(st, 5, refresh_hex, 64);
    store_bind_int(st, 6, now + OAUTH_ACCESS_SECONDS * SECOND);
    store_bind_int(st, 7, now + OAUTH_REFRESH_SECONDS * SECOND);
    store_bind_int(st, 8, now);
    return exec(st);
}

int grant_refresh(store *db, const char *refresh, const int64_t *client_refs, int nclients,
                  token_pair *out, char old_access[65])
{
    char hex[65];
    secret_hash(refresh, strlen(refresh), hex);
    /* Deleting the row is what makes the token single-use: of two requests
     * racing with the same refresh token, one deletes it, the other finds
     * nothing. */
    store_stmt *st = store_prepare(db,
        "DELETE FROM oauth_tokens WHERE refresh_hash = $1 AND refresh_expires > $2 "
        "RETURNING customer_id, user_id, client_ref, access_hash");
    if (!st)
        return -1;
    store_bind_text(st, 1, hex, 64);
    store_bind_int(st, 2, datetime_now());
    int rc = store_step(st);
    if (rc != STORE_ROW) {
        store_reset(st);
        return rc < 0 ? -1 : 0;
    }
    int64_t customer = store_col_int(st, 0), user = store_col_int(st, 1), client = store_col_int(st, 2);
    size_t n = 0;
    const char *access = store_col_text(st, 3, &n);
    snprintf(old_access, 65, "%.*s", (int)(n < 64 ? n : 64), access);
    store_reset(st);
    bool ours = false;
    for (int i = 0; i < nclients; i++)
        ours |= client_refs[i] == client;
    if (!ours)
        return 0;   /* the caller rolls back: the token stays valid for its client */
    return grant_tokens(db, customer, user, client, out) < 0 ? -1 : 1;
}

int grant_access_lookup(store *db, const char *token, size_t len, int64_t *customer_id, int64_t *expires)
{
    char hex[65];
    secret_hash(token, len, hex);
    store_stmt *st = store_prepare(db,
        "SELECT customer_id, access_expires FROM oauth_tokens WHERE access_hash = $1 AND access_expires > $2");
    if (!st)
        return -1;
    store_bind_text(st, 1, hex, 64);
    store_bind_int(st, 2, datetime_now());
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        *customer_id = store_col_int(st, 0);
        *expires = store_col_int(st, 1);
    }
    store_reset(st);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int grant_session(store *db, int64_t customer_id, int64_t user_id, session_grant *out)
{
    char id_hex[65], key_hex[65];
    random_hex(out->id, TOKEN_LEN);
    random_hex(out->csrf, TOKEN_LEN);
    random_hex(out->apikey, TOKEN_LEN);
    secret_hash(out->id, TOKEN_LEN, id_hex);
    secret_hash(out->apikey, TOKEN_LEN, key_hex);
    int64_t now = datetime_now();
    store_stmt *st = store_prepare(db,
        "INSERT INTO sessions (customer_id, user_id, session_hash, apikey_hash, csrf_token, "
        "expires, created) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    if (!st)
        return -1;
    store_bind_int(st, 1, customer_id);
    store_bind_int(st, 2, user_id);
    store_bind_text(st, 3, id_hex, 64);
    store_bind_text(st, 4, key_hex, 64);
    store_bind_text(st, 5, out->csrf, TOKEN_LEN);
    store_bind_int(st, 6, now + SESSION_SECONDS * SECOND);
    store_bind_int(st, 7, now);
    return exec(st);
}

int grant_session_lookup(store *db, arena *a, const char *session_id, session_info *out)
{
    char hex[65];
    secret_hash(session_id, strlen(session_id), hex);
    store_stmt *st = store_prepare(db,
        "SELECT s.id, s.customer_id, s.csrf_token, u.username, s.expires FROM sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.session_hash = $1 AND s.expires > $2");
    if (!st)
        return -1;
    store_bind_text(st, 1, hex, 64);
    store_bind_int(st, 2, datetime_now());
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        size_t n;
        out->ref = store_col_int(st, 0);
        out->customer_id = store_col_int(st, 1);
        const char *csrf = store_col_text(st, 2, &n);
        out->csrf = arena_strndup(a, csrf, n);
        const char *name = store_col_text(st, 3, &n);
        out->username = arena_strndup(a, name, n);
        out->expires = store_col_int(st, 4);
    }
    store_reset(st);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int grant_session_key_lookup(store *db, const char *key, size_t len, int64_t *ref, int64_t *customer_id,
                             int64_t *expires)
{
    char hex[65];
    secret_hash(key, len, hex);
    store_stmt *st = store_prepare(db,
        "SELECT id, customer_id, expires FROM sessions WHERE apikey_hash = $1 AND expires > $2");
    if (!st)
        return -1;
    store_bind_text(st, 1, hex, 64);
    store_bind_int(st, 2, datetime_now());
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        *ref = store_col_int(st, 0);
        *customer_id = store_col_int(st, 1);
        *expires = store_col_int(st, 2);
    }
    store_reset(st);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int grant_session_end(store *db, int64_t ref)
{
    store_stmt *st = store_prepare(db, "DELETE FROM sessions WHERE id = $1");
    if (!st)
        return -1;
    store_bind_int(st, 1, ref);
    return exec(st);
}
