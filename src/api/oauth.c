/*
 * oauth.c — POST /api/o/token/, OAuth2's token endpoint (RFC 6749 §3.2,
 * contract §4.3): the password grant and the refresh-token grant, for
 * confidential clients.
 *
 * The client authenticates with HTTP Basic (RFC 6749 §2.3.1: id and secret
 * form-encoded, then joined by ':' and base64'd) or with client_id and
 * client_secret in the body; the Datawiz upload client does the first to
 * log in and the second to refresh. Checks run in oauthlib's order:
 * grant type, required parameters, client, then the grant itself, so each
 * failure gets the error RFC 6749 §5.2 names. Every answer carries
 * Cache-Control: no-store (§5.1).
 *
 * The password check runs on the login pool (api.h's ROUTE_LOGIN) before
 * the write transaction opens: it is slow on purpose and must not hold the
 * database's write lock. Failures are throttled (throttle.h).
 */
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "api/accounts.h"
#include "api/credentials.h"
#include "api/api.h"
#include "api/grants.h"
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/throttle.h"
#include "api/views.h"
#include "core/util.h"

static void oauth_error(request *r, int status, const char *error)
{
    jw w;
    jw_init(&w, 64);
    jw_obj(&w);
    jw_key(&w, "error");
    jw_cstr(&w, error);
    jw_obj_end(&w);
    if (status == 401)
        request_add_header(r, "WWW-Authenticate", "Basic realm=\"api\"");
    respond_json(r, status, &w);
}

static void tokens_answer(request *r, const token_pair *t)
{
    jw w;
    jw_init(&w, 256);
    jw_obj(&w);
    jw_key(&w, "access_token");
    jw_cstr(&w, t->access);
    jw_key(&w, "token_type");
    jw_cstr(&w, "Bearer");
    jw_key(&w, "expires_in");
    jw_int(&w, OAUTH_ACCESS_SECONDS);
    jw_key(&w, "refresh_token");
    jw_cstr(&w, t->refresh);
    jw_key(&w, "scope");
    jw_cstr(&w, "read write");
    jw_obj_end(&w);
    respond_json(r, 200, &w);
}

static const char *param(request *r, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(api_form(r), name, &v))
        return NULL;
    const char *s = json_object_get_string(v);
    return s && *s ? s : NULL;
}

/*
 * The client's credentials: from "Authorization: Basic", else from the
 * body. False when a Basic header is there but unreadable.
 */
static bool client_credentials(request *r, const char **id, const char **secret)
{
    *id = *secret = NULL;
    const char *auth = request_header(r, "Authorization");
    while (auth && *auth == ' ')
        auth++;
    if (auth && strncasecmp(auth, "Basic ", 6) == 0) {
        const char *b64 = auth + 6;
        while (*b64 == ' ')
            b64++;
        size_t n = strlen(b64);
        while (n && b64[n - 1] == ' ')
            n--;
        char *raw = arena_alloc(r->arena, n + 1);
        size_t len = 0;
        if (sodium_base642bin((unsigned char *)raw, n, b64, n, NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            return false;
        raw[len] = '\0';
        char *colon = memchr(raw, ':', len);
        if (!colon || memchr(raw, '\0', len))
            return false;
        *id = url_decode(r->arena, raw, (size_t)(colon - raw), true);
        *secret = url_decode(r->arena, colon + 1, len - (size_t)(colon - raw) - 1, true);
        return true;
    }
    *id = param(r, "client_id");
    *secret = param(r, "client_secret");
    return true;
}

typedef struct grant {
    int64_t customer, user, client_ref;
    int64_t refs[OAUTH_CLIENT_MATCH_MAX];
    int nrefs;
    char old_access[65];   /* a refresh: the hash of the access token it ended */
} grant;

static int issue_tokens(request *r, void *ctx)
{
    grant *g = ctx;
    token_pair t;
    if (grant_tokens(r->db, g->customer, g->user, g->client_ref, &t) < 0)
        return STORE_ERROR;
    tokens_answer(r, &t);
    return VIEW_DONE;
}

static int password_grant(request *r, const oauth_client_match *clients, int nclients)
{
    const char *username = param(r, "username"), *password = param(r, "password");
    int wait = throttle_wait(username, r->client_ip);
    if (wait) {
        throttle_hit();
        respond_throttled(r, wait);
        return VIEW_DONE;
    }
    grant g = {0};
    int ok = user_check_password(r->db, username, password, &g.user, &g.customer);
    if (ok < 0)
        return STORE_ERROR;
    if (ok)
        throttle_succeeded(username);
    else
        throttle_failed(username, r->client_ip);
    /* the client must be registered by the user's own customer */
    for (int i = 0; ok && i < nclients; i++)
        if (clients[i].customer_id == g.customer)
            g.client_ref = clients[i].ref;
    if (!ok || !g.client_ref) {
        oauth_error(r, 400, "invalid_grant");
        return VIEW_DONE;
    }
    return view_write(r, NULL, issue_tokens, &g);
}

static int rotate_tokens(request *r, void *ctx)
{
    grant *g = ctx;
    token_pair t;
    int done = grant_refresh(r->db, param(r, "refresh_token"), g->refs, g->nrefs, &t, g->old_access);
    if (done < 0)
        return STORE_ERROR;
    if (done == 0)
        oauth_error(r, 400, "invalid_grant");
    else
        tokens_answer(r, &t);
    return VIEW_DONE;
}

static int refresh_grant(request *r, const oauth_client_match *clients, int nclients)
{
    grant g = {.nrefs = nclients};
    for (int i = 0; i < nclients; i++)
        g.refs[i] = clients[i].ref;
    int rc = view_write(r, NULL, rotate_tokens, &g);
    /* the old access token: this server forgets it before it answers, the
     * others when PostgreSQL notifies them of the commit */
    credentials_forget(g.old_access);
    return rc;
}

int oauth_token(request *r)
{
    request_add_header(r, "Cache-Control", "no-store");
    request_add_header(r, "Pragma", "no-cache");
    const char *grant_type = param(r, "grant_type");
    bool by_password = grant_type && strcmp(grant_type, "password") == 0;
    bool by_refresh = grant_type && strcmp(grant_type, "refresh_token") == 0;
    if (!grant_type) {
        oauth_error(r, 400, "invalid_request");
        return VIEW_DONE;
    }
    if (!by_password && !by_refresh) {
        oauth_error(r, 400, "unsupported_grant_type");
        return VIEW_DONE;
    }
    if (by_password ? !param(r, "username") || !param(r, "password") : !param(r, "refresh_token")) {
        oauth_error(r, 400, "invalid_request");
        return VIEW_DONE;
    }
    const char *id, *secret;
    if (!client_credentials(r, &id, &secret) || !id || !secret) {
        oauth_error(r, 401, "invalid_client");
        return VIEW_DONE;
    }
    oauth_client_match clients[OAUTH_CLIENT_MATCH_MAX];
    int nclients = oauth_client_check(r->db, id, secret, clients, OAUTH_CLIENT_MATCH_MAX);
    if (nclients < 0)
        return STORE_ERROR;
    if (nclients == 0) {
        oauth_error(r, 401, "invalid_client");
        return VIEW_DONE;
    }
    return by_password ? password_grant(r, clients, nclients) : refresh_grant(r, clients, nclients);
}
