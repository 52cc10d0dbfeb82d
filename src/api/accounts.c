/*
 * accounts.c — users and OAuth2 clients (see accounts.h).
 *
 * Passwords are chosen by people, so they get libsodium's Argon2id
 * (crypto_pwhash_str, "interactive" limits). Client secrets are either
 * random or published with the client they belong to (the Datawiz upload
 * client ships fixed ones), so a slow hash would protect nothing: they are
 * stored as BLAKE2b like API keys.
 */
#include "api/accounts.h"

#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "core/datetime.h"

static tenant_error finish(store *db, tenant_error err)
{
    if (err) {
        store_rollback(db);
        return err;
    }
    return store_commit(db) < 0 ? store_errmsg(db) : NULL;
}

/* Django's username rule: letters, digits and @ . + - _ (non-ASCII
 * letters pass as UTF-8), at most 150 characters. */
static bool valid_username(const char *s)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                  strchr("@.+-_", *p) || *p >= 0x80;
        if (!ok)
            return false;
        chars += (*p & 0xC0) != 0x80;
    }
    return chars >= 1 && chars <= USERNAME_MAX;
}

/* ------------------------------------------------------------ passwords */

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t hashing_once = PTHREAD_ONCE_INIT;

static void hashing_init(void)
{
    /* verified in place of a missing user's hash, so that "no such user"
     * takes as long as "wrong password" */
    char pw[33];
    random_hex(pw, 32);
    if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
}

static bool password_matches(const char *hash, const char *password)
{
    pthread_once(&hashing_once, hashing_init);
    return hash[0] && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int user_check_password(store *db, const char *username, const char *password,
                        int64_t *user_id, int64_t *customer_id)
{
    char hash[crypto_pwhash_STRBYTES] = "";
    if (store_begin_read(db) < 0)
        return -1;
    store_stmt *st = store_prepare(db,
        "SELECT id, customer_id, password_hash FROM users WHERE username = $1");
    if (!st) {
        store_rollback(db);
        return -1;
    }
    store_bind_str(st, 1, username);
    int rc = store_step(st);
    if (rc == STORE_ROW) {
        *user_id = store_col_int(st, 0);
        *customer_id = store_col_int(st, 1);
        size_t n = 0;
        const char *h = store_col_text(st, 2, &n);
        if (n < sizeof hash)
            memcpy(hash, h, n + 1);
    }
    store_reset(st);
    store_rollback(db);
    if (rc < 0)
        return -1;
    if (rc != STORE_ROW) {
        pthread_once(&hashing_once, hashing_init);
        password_matches(dummy_hash, password);
        return 0;
    }
    return password_matches(hash, password) ? 1 : 0;
}

/* ------------------------------------------------------------ users */

tenant_error user_create(store *db, const char *customer, const char *username, const char *password)
{
    if (!valid_username(username))
        return "a username is 1 to 150 letters, digits and @ . + - _";
    if (!*password)
        return "the password is empty";
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return "out of memory while hashing the password";
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    int64_t cid;
    int found = customer_id_of(db, customer, &cid);
    if (found <= 0)
        return finish(db, found < 0 ? store_errmsg(db) : "no such customer");
    store_stmt *st = store_prepare(db,
        "INSERT INTO users (customer_id, username, password_hash, created) VALUES ($1, $2, $3, $4)");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_int(st, 1, cid);
    store_bind_str(st, 2, username);
    store_bind_str(st, 3, hash);
    store_bind_int(st, 4, datetime_now());
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_UNIQUE)
        return finish(db, "a user with that username exists already");
    return finish(db, rc < 0 ? store_errmsg(db) : NULL);
}

/* Print a customer's rows of `sql` (name, created; $1 the customer) under
 * `heading`, one a line. */
static tenant_error list_named(store *db, const char *customer, const char *sql, const char *heading,
                               FILE *out)
{
    if (store_begin_read(db) < 0)
        return store_errmsg(db);
    int64_t cid;
    int found = customer_id_of(db, customer, &cid);
    if (found <= 0)
        return finish(db, found < 0 ? store_errmsg(db) : "no such customer");
    store_stmt *st = store_prepare(db, sql);
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_int(st, 1, cid);
    fprintf(out, "%-42s %s\n", heading, "CREATED (UTC)");
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        char when[DATETIME_BUF];
        datetime_format(store_col_int(st, 1), when);
        fprintf(out, "%-42s %.19s\n", store_col_text(st, 0, NULL), when);
    }
    store_reset(st);
    return finish(db, rc < 0 ? store_errmsg(db) : NULL);
}

tenant_error user_list(store *db, const char *customer, FILE *out)
{
    return list_named(db, customer,
                      "SELECT username, created FROM users WHERE customer_id = $1 ORDER BY username",
                      "USERNAME", out);
}

tenant_error user_delete(store *db, const char *username)
{
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    /* its sessions and tokens go with it (ON DELETE CASCADE) */
    store_stmt *st = store_prepare(db, "DELETE FROM users WHERE username = $1 RETURNING id");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_str(st, 1, username);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_DONE)
        return finish(db, "no such user");
    return finish(db, rc == STORE_ROW ? NULL : store_errmsg(db));
}

/* ------------------------------------------------------------ OAuth clients */

/* Printable ASCII without spaces; a client id also without ':' (HTTP Basic
 * splits "id:secret" at the first colon). */
static bool valid_credential(const char *s, size_t max, bool colon_ok)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || (!colon_ok && s[i] == ':'))
            return false;
    return true;
}

tenant_error oauth_client_create(store *db, const char *customer, const char *client_id,
                                 const char *secret, char *id_out, char *secret_out)
{
    if (client_id && !valid_credential(client_id, CLIENT_ID_MAX, false))
        return "a client id is 1 to 100 printable characters, no spaces or ':'";
    if (secret && !valid_credential(secret, CLIENT_SECRET_MAX, true))
        return "a client secret is 1 to 255 printable characters, no spaces";
    if (client_id) {
        strcpy(id_out, client_id);
    } else {
        random_hex(id_out, 40);
    }
    if (secret) {
        strcpy(secret_out, secret);
    } else {
        random_hex(secret_out, 64);
    }
    char hex[65];
    secret_hash(secret_out, strlen(secret_out), hex);
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    int64_t cid;
    int found = customer_id_of(db, customer, &cid);
    if (found <= 0)
        return finish(db, found < 0 ? store_errmsg(db) : "no such customer");
    store_stmt *st = store_prepare(db,
        "INSERT INTO oauth_clients (customer_id, client_id, secret_hash, created) "
        "VALUES ($1, $2, $3, $4)");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_int(st, 1, cid);
    store_bind_str(st, 2, id_out);
    store_bind_text(st, 3, hex, 64);
    store_bind_int(st, 4, datetime_now());
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_UNIQUE)
        return finish(db, "this customer has a client with that id already");
    return finish(db, rc < 0 ? store_errmsg(db) : NULL);
}

tenant_error oauth_client_list(store *db, const char *customer, FILE *out)
{
    return list_named(db, customer,
                      "SELECT client_id, created FROM oauth_clients WHERE customer_id = $1 ORDER BY id",
                      "CLIENT ID", out);
}

tenant_error oauth_client_delete(store *db, const char *customer, const char *client_id)
{
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    int64_t cid;
    int found = customer_id_of(db, customer, &cid);
    if (found <= 0)
        return finish(db, found < 0 ? store_errmsg(db) : "no such customer");
    /* the tokens it issued go with it (ON DELETE CASCADE) */
    store_stmt *st = store_prepare(db,
        "DELETE FROM oauth_clients WHERE customer_id = $1 AND client_id = $2 RETURNING id");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_int(st, 1, cid);
    store_bind_str(st, 2, client_id);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_DONE)
        return finish(db, "no such client");
    return finish(db, rc == STORE_ROW ? NULL : store_errmsg(db));
}

int oauth_client_check(store *db, const char *client_id, const char *secret,
                       oauth_client_match *out, int max)
{
    char hex[65];
    secret_hash(secret, strlen(secret), hex);
    store_stmt *st = store_prepare(db,
        "SELECT id, customer_id, secret_hash FROM oauth_clients WHERE client_id = $1 ORDER BY id");
    if (!st)
        return -1;
    store_bind_str(st, 1, client_id);
    int n = 0, rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        size_t len = 0;
        const char *h = store_col_text(st, 2, &len);
        if (len == 64 && sodium_memcmp(h, hex, 64) == 0 && n < max) {
            out[n].ref = store_col_int(st, 0);
            out[n].customer_id = store_col_int(st, 1);
            n++;
        }
    }
    store_reset(st);
    return rc < 0 ? -1 : n;
}
