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

/* A customer's API key, else a live session's temporary key. */
static bool by_key(request *r, const char *key)
{
    while (*key == ' ' || *key == '\t')
        key++;
    size_t n = strlen(key);
    while (n && (key[n - 1] == ' ' || key[n - 1] == '\t'))
        n--;
    char hash[65];
    secret_hash(key, n, hash);
    credential c = {0};
    if (!credentials_get(CREDENTIAL_KEY, hash, &c)) {
        uint64_t ticket = credentials_ticket();
        int found = key_lookup(r->db, key, n, &c.customer_id);
        if (found == 0)
            found = grant_session_key_lookup(r->db, key, n, &c.session_ref, &c.customer_id, &c.expires);
        if (found < 0)
            return db_error(r);
        if (!found)
            return fail(r, "Invalid token.");
        credentials_put(CREDENTIAL_KEY, hash, ticket, &c);
    }
    r->customer_id = c.customer_id;
    r->session_ref = c.session_ref;
    return true;
}

/* An OAuth access token. */
static bool by_bearer(request *r, const char *token)
{
    char hash[65];
    secret_hash(token, strlen(token), hash);
    credential c = {0};
    if (!credentials_get(CREDENTIAL_BEARER, hash, &c)) {
        uint64_t ticket = credentials_ticket();
        int found = grant_access_lookup(r->db, token, strlen(token), &c.customer_id, &c.expires);
        if (found < 0)
            return db_error(r);
        if (!found)
            return fail(r, "Invalid token.");
        credentials_put(CREDENTIAL_BEARER, hash, ticket, &c);
    }
    r->customer_id = c.customer_id;
    return true;
}

/* A live session's cookie: 1 (r filled in), 0 none, -1 (answered). */
static int by_session(request *r, const char *sid)
{
    char hash[65];
    secret_hash(sid, strlen(sid), hash);
    credential c = {0};
    if (!credentials_get(CREDENTIAL_SESSION, hash, &c)) {
        uint64_t ticket = credentials_ticket();
        session_info s;
        int found = grant_session_lookup(r->db, r->arena, sid, &s);
        if (found < 0) {
            db_error(r);
            return -1;
        }
        if (!found)
            return 0;
        c = (credential){.customer_id = s.customer_id, .session_ref = s.ref, .expires = s.expires};
        snprintf(c.csrf, sizeof c.csrf, "%s", s.csrf);
        snprintf(c.username, sizeof c.username, "%s", s.username);
        credentials_put(CREDENTIAL_SESSION, hash, ticket, &c);
    }
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
    const char *key = request_header(r, "API_KEY");
    if (!key)
        key = request_header(r, "API-KEY");
    if (key)
        return by_key(r, key);

    bool malformed = false;
    key = authorization(r, "Token", &malformed);
    if (key)
        return by_key(r, key);
    if (malformed)
        return fail(r, "Invalid token.");

    const char *bearer = authorization(r, "Bearer", &malformed);
    if (malformed)
        return fail(r, "Invalid token.");
    if (bearer)
        return by_bearer(r, bearer);

    const char *sid = request_cookie(r, "sessionid");
    if (sid && *sid) {
        int found = by_session(r, sid);
        if (found != 0)
            return found > 0;
    }
    return fail(r, "Authentication credentials were not provided.");
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
