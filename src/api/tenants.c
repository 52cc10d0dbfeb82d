/*
 * tenants.c — customers and API keys (see tenants.h).
 */
#include "api/tenants.h"

#include <sodium.h>
#include <string.h>

#include "core/datetime.h"

int tenants_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void secret_hash(const char *key, size_t len, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)key, len, NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

void random_hex(char *out, size_t len)
{
    unsigned char raw[64];
    size_t n = len / 2 > sizeof raw ? sizeof raw : len / 2;
    randombytes_buf(raw, n);
    sodium_bin2hex(out, n * 2 + 1, raw, n);
}

static void new_key(char key[API_KEY_LEN + 1])
{
    random_hex(key, API_KEY_LEN);
}

static tenant_error insert_key(store *db, int64_t customer_id, char key[API_KEY_LEN + 1])
{
    char hex[65];
    new_key(key);
    secret_hash(key, API_KEY_LEN, hex);
    store_stmt *st = store_prepare(db,
        "INSERT INTO api_keys (customer_id, key_hash, key_prefix, revoked, created) "
        "VALUES ($1, $2, $3, 0, $4)");
    if (!st)
        return store_errmsg(db);
    store_bind_int(st, 1, customer_id);
    store_bind_text(st, 2, hex, 64);
    store_bind_text(st, 3, key, 8);
    store_bind_int(st, 4, datetime_now());
    return store_exec_int(st, NULL) < 0 ? store_errmsg(db) : NULL;
}

int customer_id_of(store *db, const char *name, int64_t *id)
{
    store_stmt *st = store_prepare(db, "SELECT id FROM customers WHERE name = $1");
    if (!st)
        return -1;
    store_bind_str(st, 1, name);
    int rc = store_exec_int(st, id);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

static tenant_error finish(store *db, tenant_error err)
{
    if (err) {
        store_rollback(db);
        return err;
    }
    return store_commit(db) < 0 ? store_errmsg(db) : NULL;
}

tenant_error customer_create(store *db, const char *name, char key[API_KEY_LEN + 1])
{
    if (!*name)
        return "a customer needs a name";
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    store_stmt *st = store_prepare(db, "INSERT INTO customers (name, created) VALUES ($1, $2) RETURNING id");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_str(st, 1, name);
    store_bind_int(st, 2, datetime_now());
    int64_t id = 0;
    int rc = store_exec_int(st, &id);
    if (rc == STORE_UNIQUE)
        return finish(db, "a customer with that name exists already (use `key create` for another key)");
    if (rc != STORE_ROW)
        return finish(db, store_errmsg(db));
    return finish(db, insert_key(db, id, key));
}

tenant_error key_create(store *db, const char *customer, char key[API_KEY_LEN + 1])
{
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    int64_t id;
    int found = customer_id_of(db, customer, &id);
    if (found <= 0)
        return finish(db, found < 0 ? store_errmsg(db) : "no such customer");
    return finish(db, insert_key(db, id, key));
}

tenant_error key_revoke(store *db, const char *key)
{
    char hex[65];
    secret_hash(key, strlen(key), hex);
    if (store_begin_write(db) < 0)
        return store_errmsg(db);
    store_stmt *st = store_prepare(db, "UPDATE api_keys SET revoked = 1 WHERE key_hash = $1 RETURNING id");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_text(st, 1, hex, 64);
    int rc = store_exec_int(st, NULL);
    if (rc == STORE_DONE)
        return finish(db, "no such key");
    return finish(db, rc == STORE_ROW ? NULL : store_errmsg(db));
}

tenant_error key_list(store *db, const char *customer, FILE *out)
{
    if (store_begin_read(db) < 0)
        return store_errmsg(db);
    int64_t id;
    int found = customer_id_of(db, customer, &id);
    if (found <= 0)
        return finish(db, found < 0 ? store_errmsg(db) : "no such customer");
    store_stmt *st = store_prepare(db,
        "SELECT key_prefix, revoked, created FROM api_keys WHERE customer_id = $1 ORDER BY id");
    if (!st)
        return finish(db, store_errmsg(db));
    store_bind_int(st, 1, id);
    fprintf(out, "%-12s %-8s %s\n", "KEY", "STATE", "CREATED (UTC)");
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        char when[DATETIME_BUF];
        datetime_format(store_col_int(st, 2), when);
        fprintf(out, "%.8s...  %-8s %.19s\n", store_col_text(st, 0, NULL),
                store_col_int(st, 1) ? "revoked" : "active", when);
    }
    store_reset(st);
    return finish(db, rc < 0 ? store_errmsg(db) : NULL);
}

int key_lookup(store *db, const char *key, size_t len, int64_t *customer_id)
{
    char hex[65];
    secret_hash(key, len, hex);
    store_stmt *st = store_prepare(db, "SELECT customer_id FROM api_keys WHERE key_hash = $1 AND revoked = 0");
    if (!st)
        return -1;
    store_bind_text(st, 1, hex, 64);
    int rc = store_exec_int(st, customer_id);
    return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}
