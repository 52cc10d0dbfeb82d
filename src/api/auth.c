/*
 * auth.c — credentials to customer, and the CSRF check (see auth.h). A key
 * or token that is present but wrong, revoked, expired or malformed is
 * "Invalid token."; no credentials at all is "Authentication credentials
 * were not provided.". A credential found is kept in the process's cache
 * (credentials.h), which answers for it until it changes; one not found is
 * asked of the database every time.
 */
#include "api/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/credentials.h"
#include "api/grants.h"
#include "api/respond.h"
#include "api/tenants.h"

static bool fail(request *r, const char *detail)
{
    request_add_header(r, "WWW-Authenticate", "Token");
    respond_error(r, 401, detail);
    return false;
}

static bool db_error(request *r)
{
    respond_server_error(r, store_errmsg(r->db));
    return false;
}

/* The credential after "Authorization: <scheme> ", NULL if the header is
 * absent or names another scheme; *malformed when it names this scheme but
 * has no single credential after it. */
static const char *authorization(request *r, const char *scheme, bool *malformed)
{
    const char *auth = request_header(r, "Authorization");
    size_t slen = strlen(scheme);
    *malformed = false;
    if (!auth)
        return NULL;
    while (*auth == ' ')
        auth++;
    if (strncasecmp(auth, scheme, slen) != 0 || (auth[slen] != ' ' && auth[slen] != '\0'))
        return NULL;
    const char *cred = auth + slen;
    while (*cred == ' ')
        cred++;
    size_t n = strlen(cred);
    while (n && cred[n - 1] == ' ')
        n--;
    if (n == 0 || memchr(cred, ' ', n)) {
        *malformed = true;
        return NULL;
    }
    return arena_strndup(r->arena, cred, n);
}

const char *request_cookie(request *r, const char *name)
{
    const char *h = request_header(r, "Cookie");
    size_t nlen = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
            const char *v = h + nlen + 1;
            size_t vlen = len - nlen - 1;
            while (vlen && v[vlen - 1] == ' ')
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            return arena_strndup(r->arena, v, vlen);
        }
        h = end;
    }
    return NULL;
}

/* The database's answer for a credential (lookup functions below): 1
 * found (*c filled in), 0 not, -1 db error. */
typedef int (*credential_lookup)(request *r, const char *secret, size_t len, credential *c);

/* A customer's API key, else a live session's temporary key. */
static int lookup_key(request *r, const char *key, size_t len, credential *c)
{
    int found = key_lookup(r->db, key, len, &c->customer_id);
    if (found == 0)
        found = grant_session_key_lookup(r->db, key, len, &c->session_ref, &c->customer_id, &c->expires);
    return found;
}

static int lookup_bearer(request *r, const char *token, size_t len, credential *c)
{
    return grant_access_lookup(r->db, token, len, &c->customer_id, &c->expires);
}

static int lookup_session(request *r, const char *sid, size_t len, credential *c)
{
    session_info s;
    int found = grant_session_lookup(r->db, r->arena, sid, &s);
    if (found > 0) {
        *c = (credential){.customer_id = s.customer_id, .session_ref = s.ref, .expires = s.expires};
        snprintf(c->csrf, sizeof c->csrf, "%s", s.csrf);
        snprintf(c->username, sizeof c->username, "%s", s.username);
    }
    return found;
}

/* The credential from the process's cache, else (unless cache_only) from
 * the database, and then kept: 1 found, 0 not, -1 db error. */
static int find(request *r, credential_kind kind, const char *secret, size_t len, credential_lookup lookup,
                bool cache_only, credential *c)
{
    char hash[65];
    secret_hash(secret, len, hash);
    if (credentials_get(kind, hash, c))
        return 1;
    if (cache_only)
        return 0;
    uint64_t ticket = credentials_ticket();
    *c = (credential){0};
    int found = lookup(r, secret, len, c);
    if (found > 0)
        credentials_put(kind, hash, ticket, c);
    return found;
}

/* A key header's value without the blanks around it (in the arena). */
static const char *trimmed(request *r, const char *key)
{
    while (*key == ' ' || *key == '\t')
        key++;
    size_t n = strlen(key);
    while (n && (key[n - 1] == ' ' || key[n - 1] == '\t'))
        n--;
    return arena_strndup(r->arena, key, n);
}

/*
 * Who the request's credentials name, in auth.h's order: 1 (r's customer,
 * session, CSRF token and user set), 0 with the 401's detail in *why, or
 * -1 on a database error. cache_only: see find().
 */
static int identify(request *r, bool cache_only, const char **why)
{
    const char *key = request_header(r, "API_KEY");
    if (!key)
        key = request_header(r, "API-KEY");
    bool malformed = false;
    if (!key)
        key = authorization(r, "Token", &malformed);
    *why = "Invalid token.";
    if (malformed)
        return 0;
    credential c;
    int found;
    if (key) {
        key = trimmed(r, key);
        if ((found = find(r, CREDENTIAL_KEY, key, strlen(key), lookup_key, cache_only, &c)) <= 0)
            return found;
        r->customer_id = c.customer_id;
        r->session_ref = c.session_ref;
        return 1;
    }

    const char *bearer = authorization(r, "Bearer", &malformed);
    if (malformed)
        return 0;
    if (bearer) {
        if ((found = find(r, CREDENTIAL_BEARER, bearer, strlen(bearer), lookup_bearer, cache_only, &c)) <= 0)
            return found;
        r->customer_id = c.customer_id;
        return 1;
    }

    *why = "Authentication credentials were not provided.";
    const char *sid = request_cookie(r, "sessionid");
    if (!sid || !*sid)
        return 0;
    if ((found = find(r, CREDENTIAL_SESSION, sid, strlen(sid), lookup_session, cache_only, &c)) <= 0)
        return found;
    r->customer_id = c.customer_id;
    r->session_ref = c.session_ref;
    r->session_csrf = arena_strdup(r->arena, c.csrf);
    r->username = arena_strdup(r->arena, c.username);
    return 1;
}

bool auth_authenticate(request *r)
{
    if (!r->db) {
        respond_server_error(r, "no database connection");
        return false;
    }
    const char *why = NULL;
    int found = identify(r, false, &why);
    if (found < 0)
        return db_error(r);
    return found ? true : fail(r, why);
}

int auth_recheck(request *r, bool cache_only, const char **why)
{
    if (!r->customer_id || !credentials_on())
        return 1;
    int64_t customer = r->customer_id;
    int found = identify(r, cache_only, why);
    if (found > 0 && r->customer_id != customer) {
        *why = "Invalid token.";
        return 0;
    }
    return found;
}

void auth_refuse(request *r, const char *why)
{
    fail(r, why);
}

bool auth_check_csrf(request *r)
{
    if (!r->session_csrf || !r->sent_unsafe)
        return true;
    const char *sent = request_header(r, "X-CSRFToken");
    if (!sent)
        sent = request_header(r, "X-CSRF-Token");
    if (!sent)
        sent = r->form_csrf;
    if (!sent || !*sent) {
        respond_error(r, 403, "CSRF Failed: CSRF token missing.");
        return false;
    }
    size_t n = strlen(sent);
    if (n != strlen(r->session_csrf) || sodium_memcmp(sent, r->session_csrf, n) != 0) {
        respond_error(r, 403, "CSRF Failed: CSRF token incorrect.");
        return false;
    }
    return true;
}
