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
 * every unsafe request a session cookie authenticates. Passwords are
 * checked before the write transaction opens (slow on purpose).
 */
#include <string.h>

#include "api/accounts.h"
#include "api/api.h"
#include "api/auth.h"
#include "api/browsable.h"
#include "api/grants.h"
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/tenants.h"

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

static const char *form_text(request *r, const char *name)
{
    json_object *v = NULL;
    return json_object_object_get_ex(api_form(r), name, &v) ? json_object_get_string(v) : NULL;
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

void login_page(request *r)
{
    login_form(r, 200, request_query(r, "next"), NULL);
}

void login_submit(request *r)
{
    const char *next = form_text(r, "next");
    const char *cookie = request_cookie(r, "csrftoken"), *sent = form_text(r, "csrfmiddlewaretoken");
    if (!cookie || !*cookie || !sent || !*sent) {
        login_form(r, 403, next, "CSRF Failed: CSRF token missing.");
        return;
    }
    if (strcmp(cookie, sent) != 0) {
        login_form(r, 403, next, "CSRF Failed: CSRF token incorrect.");
        return;
    }
    const char *username = form_text(r, "username"), *password = form_text(r, "password");
    int64_t user = 0, customer = 0;
    int ok = username && password && *username && *password
                 ? user_check_password(r->db, username, password, &user, &customer)
                 : 0;
    if (ok < 0) {
        respond_server_error(r, store_errmsg(r->db));
        return;
    }
    if (!ok) {
        login_form(r, 200, next,
                   "Please enter a correct username and password. Note that both fields may be "
                   "case-sensitive.");
        return;
    }
    session_grant g;
    if (store_begin_write(r->db) < 0 || grant_sweep(r->db) < 0 ||
        grant_session(r->db, customer, user, &g) < 0 || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    set_session_cookies(r, &g);
    redirect(r, safe_next(next, "/api/"));
}

/* End the session a cookie names, if it is live. */
static bool end_cookie_session(request *r)
{
    const char *sid = request_cookie(r, "sessionid");
    if (!sid || !*sid)
        return true;
    session_info s;
    int found = grant_session_lookup(r->db, r->arena, sid, &s);
    if (found < 0)
        return false;
    if (found == 0)
        return true;
    return store_begin_write(r->db) >= 0 && grant_session_end(r->db, s.ref) >= 0 &&
           store_commit(r->db) >= 0;
}

static void clear_cookies(request *r)
{
    set_cookie(r, "sessionid", "\"\"", 0, true);
}

void logout_page(request *r)
{
    const char *next = r->method == HTTP_POST ? form_text(r, "next") : NULL;
    if (!next)
        next = request_query(r, "next");
    if (!end_cookie_session(r)) {
        respond_store_error(r);
        return;
    }
    clear_cookies(r);
    redirect(r, safe_next(next, "/api/auth/login/"));
}

static const char *input_text(json_object *in, const char *name)
{
    json_object *v = NULL;
    if (!in || !json_object_is_type(in, json_type_object) || !json_object_object_get_ex(in, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

void user_login(request *r)
{
    const char *username = input_text(api_input(r), "username");
    const char *password = input_text(api_input(r), "password");
    int64_t user = 0, customer = 0;
    int ok = username && password && *username && *password
                 ? user_check_password(r->db, username, password, &user, &customer)
                 : 0;
    if (ok < 0) {
        respond_server_error(r, store_errmsg(r->db));
        return;
    }
    if (!ok) {
        request_add_header(r, "WWW-Authenticate", "Token");
        respond_error(r, 401, "Invalid username/password.");
        return;
    }
    session_grant g;
    if (store_begin_write(r->db) < 0 || grant_sweep(r->db) < 0 ||
        grant_session(r->db, customer, user, &g) < 0 || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    set_session_cookies(r, &g);
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
}

void user_logout(request *r)
{
    if (r->session_ref) {
        if (store_begin_write(r->db) < 0 || grant_session_end(r->db, r->session_ref) < 0 ||
            store_commit(r->db) < 0) {
            respond_store_error(r);
            return;
        }
        clear_cookies(r);
    }
    jw w;
    jw_init(&w, 64);
    jw_obj(&w);
    jw_key(&w, "detail");
    jw_cstr(&w, "Successfully logged out.");
    jw_obj_end(&w);
    respond_json(r, 200, &w);
}
