/*
 * login.c — sessions: the browsable API's login form (§6) and Big Block's
 * JSON login (§2.1).
 *
 *   GET  /api/auth/login/    the form (username, password, next), with a
 *                            CSRF token in a csrftoken cookie and in the form
 *   POST /api/auth/login/    form token = cookie token (Django's double
 *                            submit), then the password; a session and a
 *                            302 to `next`, or the form again with an error
 *   GET|POST /api/auth/logout/   ends the cookie's session, 302 to `next`
 *   POST /api/user/login/    JSON or form {username, password}: 200
 *                            {"token": csrf, "apikey": temporary key}, or
 *                            401 "Invalid username/password."
 *   POST /api/user/logout/   ends the caller's session (cookie or key)
 *
 * Both logins set the cookies sessionid (HttpOnly) and csrftoken (readable
 * by the page's scripts, as Django's), SameSite=Lax, Secure over https.
 * The session's CSRF token is new at each login; auth.c checks it on
 * every unsafe request a session cookie authenticates. Logins run on the
 * login pool (api.h's ROUTE_LOGIN); passwords are checked before the write
 * transaction opens (slow on purpose), and repeated failures are
 * throttled per username and per client address (throttle.h).
 */
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/auth.h"
#include "api/browsable.h"
#include "api/credentials.h"
#include "api/grants.h"
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/tenants.h"
#include "api/throttle.h"
#include "api/views.h"

#define CSRF_COOKIE_SECONDS 31449600   /* Django's CSRF_COOKIE_AGE: a year */

static bool https(request *r)
{
    return r->base_url && strncmp(r->base_url, "https:", 6) == 0;
}

static void set_cookie(request *r, const char *name, const char *text, long max_age, bool http_only)
{
    request_add_header(r, "Set-Cookie",
                       arena_printf(r->arena, "%s=%s; Max-Age=%ld; Path=/; SameSite=Lax%s%s", name,
                                    text, max_age, http_only ? "; HttpOnly" : "",
                                    https(r) ? "; Secure" : ""));
}

static void set_session_cookies(request *r, const session_grant *g)
{
    set_cookie(r, "sessionid", g->id, SESSION_SECONDS, true);
    set_cookie(r, "csrftoken", g->csrf, CSRF_COOKIE_SECONDS, false);
}

/* A local path to go to after logging in or out; anything else (another
 * site, "//host", a scheme) is replaced by `fallback`. */
static const char *safe_next(const char *next, const char *fallback)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
        return fallback;
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p < ' ' || *p == 0x7f || *p == '\\')
            return fallback;
    return next;
}

static void redirect(request *r, const char *to)
{
    request_add_header(r, "Location", to);
    request_add_header(r, "Cache-Control", "no-store");
    r->status = 302;
    r->content_type = "text/html; charset=utf-8";
    r->resp_body = NULL;
    r->resp_len = 0;
}

/* A form field, copied to the arena: the form is released before the
 * response (whose headers may quote it) is sent. */
static const char *form_text(request *r, const char *name)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(api_form(r), name, &v))
        return NULL;
    return arena_strdup(r->arena, json_object_get_string(v));
}

/* A token we handed out ourselves looks like this; anything else in the
 * cookie is replaced. */
static bool token_shaped(const char *t)
{
    if (!t || strlen(t) != TOKEN_LEN)
        return false;
    for (; *t; t++)
        if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
            return false;
    return true;
}

/* The form, with a fresh CSRF cookie when the browser has none. */
static void login_form(request *r, int status, const char *next, const char *error)
{
    const char *csrf = request_cookie(r, "csrftoken");
    if (!token_shaped(csrf)) {
        char *fresh = arena_alloc(r->arena, TOKEN_LEN + 1);
        random_hex(fresh, TOKEN_LEN);
        csrf = fresh;
    }
    set_cookie(r, "csrftoken", csrf, CSRF_COOKIE_SECONDS, false);
    request_add_header(r, "Cache-Control", "no-store");
    browsable_login_page(r, status, safe_next(next, "/api/"), csrf, error);
}

int login_page(request *r)
{
    login_form(r, 200, request_query(r, "next"), NULL);
    return VIEW_DONE;
}

/*
 * The password check (slow), throttled: 1 the user's (*user, *customer),
 * 0 wrong (counted) or throttled (*wait > 0: the seconds to wait; nothing
 * was checked), or a store error.
 */
static int check_password(request *r, const char *username, const char *password, int64_t *user,
                          int64_t *customer, int *wait)
{
    *wait = throttle_wait(username, r->client_ip);
    if (*wait) {
        throttle_hit();
        return 0;
    }
    int ok = username && password && *username && *password
                 ? user_check_password(r->db, username, password, user, customer)
                 : 0;
    if (ok == 0)
        throttle_failed(username, r->client_ip);
    else if (ok > 0)
        throttle_succeeded(username);
    return ok < 0 ? STORE_ERROR : ok;
}

typedef struct session_login {
    int64_t user, customer;
    const char *next;    /* the form's: answer with a redirect; NULL: §2.1's JSON */
} session_login;

static int start_session(request *r, void *ctx)
{
    session_login *l = ctx;
    session_grant g;
    if (grant_session(r->db, l->customer, l->user, &g) < 0)
        return STORE_ERROR;
    set_session_cookies(r, &g);
    if (l->next) {
        redirect(r, safe_next(l->next, "/api/"));
        return VIEW_DONE;
    }
    request_add_header(r, "Cache-Control", "no-store");
    jw w;
    jw_init(&w, 128);
    jw_obj(&w);
    jw_key(&w, "token");
    jw_cstr(&w, g.csrf);
    jw_key(&w, "apikey");
    jw_cstr(&w, g.apikey);
    jw_obj_end(&w);
    respond_json(r, 200, &w);
    return VIEW_DONE;
}

int login_submit(request *r)
{
    const char *next = form_text(r, "next");
    const char *cookie = request_cookie(r, "csrftoken"), *sent = form_text(r, "csrfmiddlewaretoken");
    if (!cookie || !*cookie || !sent || !*sent) {
        login_form(r, 403, next, "CSRF Failed: CSRF token missing.");
        return VIEW_DONE;
    }
    if (strcmp(cookie, sent) != 0) {
        login_form(r, 403, next, "CSRF Failed: CSRF token incorrect.");
        return VIEW_DONE;
    }
    session_login l = {.next = next ? next : ""};
    int wait;
    int ok = check_password(r, form_text(r, "username"), form_text(r, "password"), &l.user, &l.customer, &wait);
    if (ok < 0)
        return ok;
    if (wait) {
        login_form(r, 429, next, arena_printf(r->arena, "Too many failed logins. Try again in %d seconds.", wait));
        request_add_header(r, "Retry-After", arena_printf(r->arena, "%d", wait));
        return VIEW_DONE;
    }
    if (!ok) {
        login_form(r, 200, next,
                   "Please enter a correct username and password. Note that both fields may be "
                   "case-sensitive.");
        return VIEW_DONE;
    }
    return view_write(r, NULL, start_session, &l);
}

static void clear_cookies(request *r)
{
    set_cookie(r, "sessionid", "\"\"", 0, true);
}

typedef struct cookie_logout {
    const char *next;
    int64_t ended;     /* the session ended, to forget */
} cookie_logout;

/* End the session a cookie names, if it is live. */
static int end_cookie_session(request *r, void *ctx)
{
    cookie_logout *l = ctx;
    const char *sid = request_cookie(r, "sessionid");
    session_info s;
    int found = sid && *sid ? grant_session_lookup(r->db, r->arena, sid, &s) : 0;
    if (found > 0 && grant_session_end(r->db, s.ref) < 0)
        found = -1;
    if (found < 0)
        return STORE_ERROR;
    l->ended = found ? s.ref : 0;
    clear_cookies(r);
    redirect(r, safe_next(l->next, "/api/auth/login/"));
    return VIEW_DONE;
}

int logout_page(request *r)
{
    cookie_logout l = {.next = r->method == HTTP_POST ? form_text(r, "next") : NULL};
    if (!l.next)
        l.next = request_query(r, "next");
    int rc = view_write(r, NULL, end_cookie_session, &l);
    /* this server forgets it before it answers; the others when PostgreSQL
     * notifies them of the commit */
    credentials_forget_session(l.ended);
    return rc;
}

static const char *input_text(json_object *in, const char *name)
{
    json_object *v = NULL;
    if (!in || !json_object_is_type(in, json_type_object) || !json_object_object_get_ex(in, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    /* a NUL would cut it short in every C string after: no such credential */
    return memchr(s, 0, (size_t)json_object_get_string_len(v)) ? NULL : s;
}

int user_login(request *r)
{
    session_login l = {0};
    int wait;
    int ok = check_password(r, input_text(api_input(r), "username"), input_text(api_input(r), "password"),
                            &l.user, &l.customer, &wait);
    if (ok < 0)
        return ok;
    if (wait) {
        respond_throttled(r, wait);
        return VIEW_DONE;
    }
    if (!ok) {
        request_add_header(r, "WWW-Authenticate", "Token");
        respond_error(r, 401, "Invalid username/password.");
        return VIEW_DONE;
    }
    return view_write(r, NULL, start_session, &l);
}

static int end_session(request *r, void *ctx)
{
    if (r->session_ref) {
        if (grant_session_end(r->db, r->session_ref) < 0)
            return STORE_ERROR;
        clear_cookies(r);
    }
    jw w;
    jw_init(&w, 64);
    jw_obj(&w);
    jw_key(&w, "detail");
    jw_cstr(&w, "Successfully logged out.");
    jw_obj_end(&w);
    respond_json(r, 200, &w);
    return VIEW_DONE;
}

int user_logout(request *r)
{
    int rc = view_write(r, NULL, end_session, NULL);
    credentials_forget_session(r->session_ref);   /* here before the answer (see logout_page) */
    return rc;
}
