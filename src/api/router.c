/*
 * router.c — from a raw request to a resource handler, in DRF's order:
 * resolve the path (trailing slash optional, ".json"/".api" suffix), pick
 * the format, authenticate, check the method, parse the body, run the
 * handler. Everything about a response that is common to all resources
 * (Allow, Vary, 401/404/405/415/400-parse answers, OPTIONS, the browsable
 * page around the answer) happens here.
 *
 * Format: a ".json"/".api" suffix, else ?format=json|api (anything else is
 * 404), else the Accept header: HTML when text/html is acceptable with a
 * higher quality, or the same quality from a more specific range, than
 * application/json (so a browser gets HTML, while a bare wildcard and ties
 * get JSON, as DRF's negotiation puts its JSON renderer first). No allocation here:
 * the JSON path stays as cheap as it was.
 * Routes flagged ROUTE_XML also know format xml (".xml", ?format=xml, or an
 * Accept that prefers application/xml or text/xml outright: the XML
 * renderer comes last, so it wins no tie) and take XML bodies; elsewhere
 * ".xml" is no suffix, ?format=xml is 404 and an XML body 415, as before.
 *
 * DRF's form overloading: a form-encoded POST whose fields name `_method`
 * and/or `_content` (with `_content_type`, default application/json) runs
 * as that method with that body. The browsable page's raw-data form uses
 * it, so no script is needed to send PUT, PATCH or DELETE.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/monitoring.h"
#include "api/auth.h"
#include "api/browsable.h"
#include "api/credentials.h"
#include "api/json.h"
#include "api/metadata.h"
#include "api/respond.h"
#include "api/throttle.h"
#include "api/views.h"
#include "api/xml.h"
#include "core/text.h"
#include "core/util.h"
#include "store/store.h"

#define MAX_SEGMENTS 10

/* "GET, POST, HEAD, OPTIONS" for each route, in DRF's order, built once. */
static const char *allow_text[64];

static const char *build_allow(const route *rt)
{
    char buf[128] = "";
    struct { handler_fn h; const char *name; } m[] = {
        {rt->get, "GET"}, {rt->post, "POST"}, {rt->put, "PUT"}, {rt->patch, "PATCH"},
        {rt->del, "DELETE"}, {rt->get, "HEAD"},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        if (m[i].h) {
            strcat(buf, m[i].name);
            strcat(buf, ", ");
        }
    }
    if (rt->flags & ROUTE_RAW)
        buf[strlen(buf) - 2] = '\0';   /* no metadata for non-DRF views */
    else
        strcat(buf, "OPTIONS");
    return strdup(buf);
}


/* The renderers, in DRF's order: a tie goes to the first. */
typedef enum { FORMAT_NONE, FORMAT_JSON, FORMAT_API, FORMAT_XML, FORMAT_UNKNOWN } format;

/* Split the raw path into segments. Returns their number, -1 when there
 * are too many. */
static int split_path(char *path, char **seg)
{
    int n = 0;
    char *save = NULL;
    for (char *p = strtok_r(path, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (n == MAX_SEGMENTS)
            return -1;
        seg[n++] = p;
    }
    return n;
}

/* The format a ".json"/".api"/".xml" ending of the segment names
 * (FORMAT_NONE if none) and the length of the segment without it. */
static format suffix_of(const char *segment, size_t *stem)
{
    size_t len = strlen(segment);
    if (len >= 5 && strcmp(segment + len - 5, ".json") == 0) {
        *stem = len - 5;
        return FORMAT_JSON;
    }
    if (len >= 4 && strcmp(segment + len - 4, ".api") == 0) {
        *stem = len - 4;
        return FORMAT_API;
    }
    if (len >= 4 && strcmp(segment + len - 4, ".xml") == 0) {
        *stem = len - 4;
        return FORMAT_XML;
    }
    return FORMAT_NONE;
}

/* Does the pattern match the segments? Captures are decoded into `caps`
 * (when not NULL) in arena `a`. */
static bool match(arena *a, const char *pattern, char **seg, int nseg, const char **caps, int *ncaps)
{
    int i = 0, ncap = 0;
    const char *p = pattern;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= nseg)
            return false;
        if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {  /* "{name}": any one segment */
            if (caps && ncap < ROUTE_MAX_CAPTURES) {
                /* text only: a segment that decodes to anything else names nothing */
                const char *text = url_decode(a, seg[i], strlen(seg[i]), false);
                if (strstr(seg[i], "%00") || !text_valid_utf8(text, strlen(text)))
                    return false;
                caps[ncap++] = text;
            }
        } else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    if (i != nseg)
        return false;
    if (ncaps)
        *ncaps = ncap;
    return true;
}

/* ------------------------------------------------------------ negotiation */

static bool ieq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* A q parameter's value in thousandths (RFC 9110: 0, 1, 0.xxx, 1.000). */
static int parse_q(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return 1000;
    int q = (s[0] - '0') * 1000, scale = 100;
    for (size_t i = 2; i < n && i < 5 && s[1] == '.'; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9')
            break;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? 1000 : q;
}

/*
 * The renderer the Accept header prefers: JSON, HTML (FORMAT_API) or, when
 * `xml` (the route has the XML renderer), XML. For each renderer, the best
 * (quality, specificity) of the media ranges that match it, specificity as
 * DRF ranks it (any type 0, "text/" with any subtype 1, type/subtype 2,
 * with parameters other than q 3). A renderer wins only outright over
 * those before it (JSON, then HTML, then XML).
 */
static format accept_choice(const char *accept, bool xml)
{
    if (!accept)
        return FORMAT_JSON;
    int best_json = -1, best_html = -1, best_xml = -1;   /* q * 4 + specificity */
    size_t i = 0;
    while (accept[i]) {
        /* one media range: type "/" subtype, then ";"-separated parameters */
        while (accept[i] == ' ' || accept[i] == '\t')
            i++;
        size_t main = i;
        while (accept[i] && accept[i] != '/' && accept[i] != ';' && accept[i] != ',' &&
               accept[i] != ' ' && accept[i] != '\t')
            i++;
        size_t main_len = i - main, sub = i, sub_len = 0;
        bool slash = accept[i] == '/';
        if (slash) {
            sub = ++i;
            while (accept[i] && accept[i] != ';' && accept[i] != ',' && accept[i] != ' ' &&
                   accept[i] != '\t')
                i++;
            sub_len = i - sub;
        }
        int q = 1000;
        bool other_params = false;
        while (accept[i] && accept[i] != ',') {
            if (accept[i] != ';') {
                i++;
                continue;
            }
            i++;
            while (accept[i] == ' ' || accept[i] == '\t')
                i++;
            size_t param = i;
            while (accept[i] && accept[i] != ';' && accept[i] != ',' && accept[i] != ' ' &&
                   accept[i] != '\t')
                i++;
            if (i - param >= 2 && (accept[param] == 'q' || accept[param] == 'Q') &&
                accept[param + 1] == '=')
                q = parse_q(accept + param + 2, i - param - 2);
            else if (i > param)
                other_params = true;
        }
        if (accept[i] == ',')
            i++;
        if (!slash || q == 0)
            continue;
        bool any_main = ieq(accept + main, main_len, "*"), any_sub = ieq(accept + sub, sub_len, "*");
        int score = q * 4 + (any_main ? 0 : any_sub ? 1 : other_params ? 3 : 2);
        if ((any_main || ieq(accept + main, main_len, "application")) &&
            (any_sub || ieq(accept + sub, sub_len, "json")) && score > best_json)
            best_json = score;
        if ((any_main || ieq(accept + main, main_len, "text")) &&
            (any_sub || ieq(accept + sub, sub_len, "html")) && score > best_html)
            best_html = score;
        /* XMLRenderer's type is application/xml; text/xml is taken as the same */
        bool xml_main = any_main || ieq(accept + main, main_len, "application") ||
                        ieq(accept + main, main_len, "text");
        if (xml_main && (any_sub || ieq(accept + sub, sub_len, "xml")) && score > best_xml)
            best_xml = score;
    }
    if (xml && best_xml > best_json && best_xml > best_html)
        return FORMAT_XML;
    return best_html > best_json ? FORMAT_API : FORMAT_JSON;
}

/* ------------------------------------------------------------ dispatching */

static handler_fn handler_for(const route *rt, http_method m)
{
    switch (m) {
    case HTTP_GET:
    case HTTP_HEAD: return rt->get;
    case HTTP_POST: return rt->post;
    case HTTP_PUT: return rt->put;
    case HTTP_PATCH: return rt->patch;
    case HTTP_DELETE: return rt->del;
    default: return NULL;
    }
}

/* "application/json; charset=utf-8" → is it JSON? (also +json types) */
static bool is_json_type(const char *ct, size_t n)
{
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0);
}

static bool is_form_type(const char *ct, size_t n)
{
    return n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* XMLParser's application/xml, and text/xml, its older name. */
static bool is_xml_type(const char *ct, size_t n)
{
    return (n == 15 && strncasecmp(ct, "application/xml", 15) == 0) ||
           (n == 8 && strncasecmp(ct, "text/xml", 8) == 0);
}

/* The media type of a Content-Type value, without parameters. */
static size_t media_type_len(const char *ct)
{
    const char *semi = strchr(ct, ';');
    size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n;
}

static void add_form_field(void *ctx, const char *name, const char *text)
{
    json_object_object_add(ctx, name, json_object_new_string(text));
}

/* A form body as a flat JSON object of strings (last value wins). */
static json_object *parse_form(request *r)
{
    json_object *obj = json_object_new_object();
    urlencoded_each(r->arena, r->body, r->body_len, add_form_field, obj);
    return obj;
}

/* The charset parameter of a Content-Type value (unquoted), or NULL. */
static const char *charset_of(arena *a, const char *ct)
{
    for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
        const char *name = p + 1;
        while (*name == ' ' || *name == '\t')
            name++;
        if (strncasecmp(name, "charset=", 8) != 0)
            continue;
        const char *v = name + 8;
        size_t n = strcspn(v, "; \t");
        if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
            v++;
            n -= 2;
        }
        return arena_strndup(a, v, n);
    }
    return NULL;
}

/* Parse the body for POST/PUT/PATCH, of media type `ct` (NULL: the
 * request's Content-Type). False when the answer is already made. */
static bool read_body(request *r, const route *rt, const char *ct)
{
    if (r->body_len == 0) {
        r->input = json_object_new_object();
        return true;
    }
    if (!ct)
        ct = request_header(r, "Content-Type");
    size_t ct_len = ct ? media_type_len(ct) : 0;
    if (ct && is_form_type(ct, ct_len)) {
        r->input = parse_form(r);
        return true;
    }
    if (ct && (rt->flags & ROUTE_XML) && is_xml_type(ct, ct_len)) {
        const char *error = NULL;
        json_object *v = xml_parse_body(r->arena, r->body, r->body_len, charset_of(r->arena, ct),
                                        &error);
        if (error) {
            respond_error(r, 400, error);
            return false;
        }
        r->input = v;  /* NULL for an empty root (None), as for a JSON null */
        return true;
    }
    if (!ct || !is_json_type(ct, ct_len)) {
        respond_error(r, 415, arena_printf(r->arena, "Unsupported media type \"%s\" in request.",
                                           ct ? ct : ""));
        return false;
    }
    const char *error = NULL;
    json_object *v = json_parse_body(r->arena, r->body, r->body_len, &error);
    if (error) {
        respond_error(r, 400, error);
        return false;
    }
    r->input = v;  /* NULL for a literal null, which validation reports as such */
    return true;
}

json_object *api_form(request *r)
{
    if (!r->input) {
        const char *ct = request_header(r, "Content-Type");
        r->input = ct && is_form_type(ct, media_type_len(ct)) ? parse_form(r) : json_object_new_object();
    }
    return r->input;
}

void api_refuse(request *r, int status)
{
    if (status == 413)
        respond_error(r, 413, "Request body too large.");
    else if (status == 400)
        respond_error(r, 400, "Malformed request.");
    else if (status == 500)
        respond_error(r, 500, "A server error occurred.");
    else if (status == 429)
        respond_throttled(r, 1);
    else
        respond_error(r, status, "Service temporarily unavailable, try again later.");
}

/* ------------------------------------------------------- form overloading */

typedef struct overload {
    const char *method, *content, *content_type, *csrf;
} overload;

static void take_overload(void *ctx, const char *name, const char *text)
{
    overload *o = ctx;
    if (strcmp(name, "_method") == 0)
        o->method = text;
    else if (strcmp(name, "_content") == 0)
        o->content = text;
    else if (strcmp(name, "_content_type") == 0)
        o->content_type = text;
    else if (strcmp(name, "csrfmiddlewaretoken") == 0)
        o->csrf = text;
}

/*
 * DRF's form overloading, for form-encoded POSTs only: `_method` replaces
 * the method, `_content` the body, `_content_type` its media type (*ct).
 * A form's csrfmiddlewaretoken is kept for the CSRF check, which judges
 * the method as sent (a form POST asking for OPTIONS is still a POST).
 */
static void apply_overload(request *r, const char **ct)
{
    if (r->method != HTTP_POST || r->body_len == 0)
        return;
    const char *given = request_header(r, "Content-Type");
    if (!given || !is_form_type(given, media_type_len(given)))
        return;
    overload o = {0};
    urlencoded_each(r->arena, r->body, r->body_len, take_overload, &o);
    r->form_csrf = o.csrf;
    if (!o.method && !o.content)
        return;
    if (o.method && *o.method) {
        char *name = arena_strdup(r->arena, o.method);
        for (char *c = name; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        static const struct { const char *name; http_method m; } methods[] = {
            {"GET", HTTP_GET},     {"POST", HTTP_POST},     {"PUT", HTTP_PUT},
            {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
        };
        http_method m = 0;
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            if (strcmp(name, methods[i].name) == 0)
                m = methods[i].m;
        r->method_name = name;
        r->method = m;  /* 0 for any other: 405 once authenticated, as a raw one */
    }
    const char *content = o.content ? o.content : "";
    r->body = content;
    r->body_len = strlen(content);
    *ct = o.content_type && *o.content_type ? o.content_type : "application/json";
}

/* ------------------------------------------------------------ the view */

/* Authenticate (unless the route is public). False when the answer (401)
 * is made. */
/* The front door for people (issue "Run it as a service"): a browser — it
 * prefers HTML — that GETs a page without a credential of its own (none,
 * or only a cookie, maybe a dead session's) is sent to the login page,
 * which brings it back; API clients keep the contract's 401 JSON. */
static void send_browser_to_login(request *r)
{
    if (r->status != 401 || !(r->method & (HTTP_GET | HTTP_HEAD)) || request_header(r, "Authorization") ||
        request_header(r, "API_KEY") || request_header(r, "API-KEY") ||
        accept_choice(request_header(r, "Accept"), false) != FORMAT_API)
        return;
    jw next;
    jw_init(&next, 128);
    jw_append(&next, r->path, strlen(r->path));
    for (int i = 0; i < r->nquery; i++) {
        const char *pair = arena_printf(r->arena, "%s%s=%s", i ? "&" : "?",
                                        url_encode_query(r->arena, r->query[i].name, strlen(r->query[i].name)),
                                        url_encode_query(r->arena, r->query[i].value, strlen(r->query[i].value)));
        jw_append(&next, pair, strlen(pair));
    }
    const char *login = arena_printf(r->arena, "/api/auth/login/?next=%s", url_encode_query(r->arena, next.buf, next.len));
    jw_free(&next);
    free(r->resp_body);
    r->resp_body = NULL;
    r->resp_len = 0;
    r->nheaders_out = 0;
    r->allow = NULL;   /* (which would add its own Vary) */
    r->content_type = "text/html; charset=utf-8";
    r->status = 302;
    request_add_header(r, "Location", login);
    request_add_header(r, "Cache-Control", "no-store");
    request_add_header(r, "Vary", "Accept");
}

static bool authenticate(request *r, const route *rt)
{
    if ((rt->flags & ROUTE_PUBLIC) || auth_authenticate(r))
        return true;
    send_browser_to_login(r);
    return false;
}

/* GET /: a browser goes to the API's root; anything else finds nothing
 * here, as before. */
int front_door(request *r)
{
    if (accept_choice(request_header(r, "Accept"), false) != FORMAT_API) {
        respond_error(r, 404, "Not found.");
        return 0;
    }
    r->status = 302;
    r->content_type = "text/html; charset=utf-8";
    request_add_header(r, "Location", "/api/");
    request_add_header(r, "Vary", "Accept");
    return 0;
}

/* Run a handler; a store error it returns is a 500, its message in the
 * log only (an answer it may have begun is dropped). */
static void run_handler(request *r, handler_fn h)
{
    int rc = h(r);
    if (rc < 0) {
        free(r->resp_body);
        r->resp_body = NULL;
        r->resp_len = 0;
        respond_server_error(r, store_errmsg(r->db));
    }
}

/* A read answered from cached credentials: if its round trips brought word
 * that they changed before it was sent, the answer is a 401 instead. */
static void recheck_credentials(request *r, int nheaders)
{
    const char *why = NULL;
    int ok = auth_recheck(r, false, &why);
    if (ok > 0)
        return;
    free(r->resp_body);
    r->resp_body = NULL;
    r->resp_len = 0;
    r->content_type = NULL;
    r->nheaders_out = nheaders;
    if (ok < 0)
        respond_server_error(r, store_errmsg(r->db));
    else
        auth_refuse(r, why);
}

/* After the body: form overloading, CSRF, OPTIONS, the method, the body,
 * then the handler (a safe method inside one read transaction; writing
 * handlers run their SQL through view_write(), which owns the
 * transaction). */
/* A read whose credentials admit() left for later: they are looked up
 * first thing in its read transaction. */
static void run_deferred_read(request *r, const route *rt)
{
    handler_fn h = handler_for(rt, r->method);
    if (store_begin_read(r->db) < 0) {
        respond_server_error(r, store_errmsg(r->db));
        return;
    }
    int nheaders = r->nheaders_out;
    if (!auth_authenticate(r)) {
        send_browser_to_login(r);
    } else if (!h) {
        respond_error(r, 405, arena_printf(r->arena, "Method \"%s\" not allowed.", r->method_name));
    } else {
        run_handler(r, h);
        store_rollback(r->db);
        recheck_credentials(r, nheaders);
        return;
    }
    store_rollback(r->db);
}

static void run_view(request *r, const route *rt)
{
    if (r->auth_deferred) {
        run_deferred_read(r, rt);
        return;
    }
    const char *ct = NULL;
    apply_overload(r, &ct);
    if (!auth_check_csrf(r))
        return;
    if (r->method == HTTP_OPTIONS) {
        metadata_respond(r, rt);
        return;
    }
    handler_fn h = handler_for(rt, r->method);
    if (!h) {
        respond_error(r, 405, arena_printf(r->arena, "Method \"%s\" not allowed.", r->method_name));
        return;
    }
    if ((r->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH)) && !read_body(r, rt, ct))
        return;
    bool safe = (r->method & (HTTP_GET | HTTP_HEAD)) && !(rt->flags & ROUTE_GET_WRITES);
    if (!safe) {
        run_handler(r, h);   /* view_write() asks auth_recheck() before it commits */
    } else if (store_begin_read(r->db) < 0) {
        respond_server_error(r, store_errmsg(r->db));
    } else {
        int nheaders = r->nheaders_out;
        run_handler(r, h);
        store_rollback(r->db);
        recheck_credentials(r, nheaders);
    }
}

/* The raw path without its format suffix ("/api/orders/.api" → "/api/orders/",
 * "/api/orders.api" → "/api/orders"). */
static const char *path_without_suffix(request *r)
{
    size_t n = strlen(r->path);
    while (n && r->path[n - 1] == '/')
        n--;
    if (n >= 5 && strncmp(r->path + n - 5, ".json", 5) == 0)
        n -= 5;
    else if (n >= 4 && strncmp(r->path + n - 4, ".api", 4) == 0)
        n -= 4;
    return arena_strndup(r->arena, r->path, n);
}

/* The page around the answer: view name, methods, breadcrumbs (every
 * prefix of the path that is itself a view). */
static void browsable_finish(request *r, const route *rt, char **seg, int nseg, bool suffix)
{
    browsable_view v = {
        .name = rt->name,
        .input = route_input(rt),
        .methods = HTTP_OPTIONS,
        .base_path = suffix ? path_without_suffix(r) : r->path,
    };
    if (rt->get)
        v.methods |= HTTP_GET | HTTP_HEAD;
    if (rt->post)
        v.methods |= HTTP_POST;
    if (rt->put)
        v.methods |= HTTP_PUT;
    if (rt->patch)
        v.methods |= HTTP_PATCH;
    if (rt->del)
        v.methods |= HTTP_DELETE;
    browsable_crumb *crumbs = arena_alloc(r->arena, sizeof *crumbs * (size_t)(nseg > 0 ? nseg : 1));
    size_t prefix_len = 0;
    for (int k = 1; k <= nseg; k++)
        prefix_len += strlen(seg[k - 1]) + 1;
    char *prefix = arena_alloc(r->arena, prefix_len + 2);
    prefix[0] = '/';
    size_t len = 1;
    for (int k = 1; k <= nseg; k++) {
        size_t n = strlen(seg[k - 1]);
        memcpy(prefix + len, seg[k - 1], n);
        len += n;
        prefix[len++] = '/';
        prefix[len] = '\0';
        for (int i = 0; i < api_nroutes; i++) {
            const route *c = &api_routes[i];
            if (!(c->flags & ROUTE_RAW) && c->name && match(r->arena, c->pattern, seg, k, NULL, NULL)) {
                crumbs[v.ncrumbs].name = c->name;
                crumbs[v.ncrumbs].href = arena_strndup(r->arena, prefix, len);
                v.ncrumbs++;
                break;
            }
        }
    }
    v.crumbs = crumbs;
    browsable_page(r, &v);
}

/* The first route whose pattern matches (captures into r), or -1. */
static int route_index(request *r, char **seg, int nseg)
{
    for (int i = 0; i < api_nroutes; i++)
        if (match(r->arena, api_routes[i].pattern, seg, nseg, r->captures, &r->ncaptures))
            return i;
    return -1;
}

/* ------------------------------------------------------------ entry points */

const schema *route_input(const route *rt)
{
    return rt->input ? rt->input : rt->resource ? rt->resource->sc : NULL;
}

/* Every thread's database connection, opened on its first request. */
static const char *db_url;
static _Thread_local store *thread_db;
static pthread_mutex_t thread_dbs_lock = PTHREAD_MUTEX_INITIALIZER;
static store *thread_dbs[1024];
static int nthread_dbs;

static store *open_thread_db(void)
{
    if (thread_db || !db_url)
        return thread_db;
    char *err = NULL;
    thread_db = store_open(db_url, &err);
    if (!thread_db) {
        log_line("database: %s", err ? err : "cannot open");
        free(err);
        return NULL;
    }
    credentials_watch(thread_db);
    pthread_mutex_lock(&thread_dbs_lock);
    if (nthread_dbs < (int)(sizeof thread_dbs / sizeof thread_dbs[0]))
        thread_dbs[nthread_dbs++] = thread_db;
    pthread_mutex_unlock(&thread_dbs_lock);
    return thread_db;
}

void api_init(const api_config *cfg)
{
    db_url = cfg->db_url;
    throttle_configure(cfg->login_failures_user, cfg->login_failures_address);
    monitoring_init(cfg->metrics_token, cfg->metrics_off);
    xml_init();
    for (int i = 0; i < api_nroutes && i < 64; i++)
        allow_text[i] = build_allow(&api_routes[i]);
}

void api_shutdown(void)
{
    pthread_mutex_lock(&thread_dbs_lock);
    for (int i = 0; i < nthread_dbs; i++)
        store_close(thread_dbs[i]);
    nthread_dbs = 0;
    pthread_mutex_unlock(&thread_dbs_lock);
}

/* The path's segments (in the arena), for routing and breadcrumbs. */
static int path_segments(request *r, char **seg, bool *trailing_slash)
{
    char *path = arena_strdup(r->arena, r->path);
    size_t path_len = strlen(path);
    *trailing_slash = path_len > 0 && path[path_len - 1] == '/';
    return split_path(path, seg);
}

void api_resolve(request *r)
{
    char *seg[MAX_SEGMENTS];
    bool trailing_slash;
    int nseg = path_segments(r, seg, &trailing_slash);
    format fmt = FORMAT_NONE;
    /*
     * A format suffix, as DRF's format_suffix_patterns apply it after the
     * plain routes: a last segment that is just ".json"/".api" is one; so
     * is a ".json" ending without a trailing slash; with a trailing slash
     * ("/shops/foo.json/") the segment is taken whole when a route takes
     * it, and as a suffix only when none does ("/api/orders.json/").
     * ".xml" is a suffix only where the route it leaves has the XML
     * renderer; elsewhere the path is read as if ".xml" were no suffix.
     */
    int index = nseg >= 0 ? route_index(r, seg, nseg) : -1;
    size_t stem = 0;
    format ending = nseg > 0 ? suffix_of(seg[nseg - 1], &stem) : FORMAT_NONE;
    if (ending != FORMAT_NONE && (stem == 0 || !trailing_slash || index < 0)) {
        int whole = nseg;
        char *last = seg[nseg - 1];
        if (stem == 0)
            nseg--;
        else
            last[stem] = '\0';
        int stripped = route_index(r, seg, nseg);
        if (ending != FORMAT_XML || (stripped >= 0 && (api_routes[stripped].flags & ROUTE_XML))) {
            fmt = ending;
            index = stripped;
        } else {
            nseg = whole;
            last[stem] = '.';
            index = route_index(r, seg, nseg);   /* again, for its captures */
        }
    }
    r->format_suffix = fmt != FORMAT_NONE;
    if (!r->format_suffix) {
        const char *fparam = request_query(r, "format");
        if (fparam && *fparam)
            fmt = strcmp(fparam, "json") == 0 ? FORMAT_JSON
                : strcmp(fparam, "api") == 0  ? FORMAT_API
                : strcmp(fparam, "xml") == 0  ? FORMAT_XML
                                              : FORMAT_UNKNOWN;
    }
    const route *rt = index >= 0 ? &api_routes[index] : NULL;
    if (rt && fmt == FORMAT_XML && !(rt->flags & ROUTE_XML))
        fmt = FORMAT_UNKNOWN;   /* no XML renderer on this view */
    if (rt && !(rt->flags & ROUTE_RAW) && fmt == FORMAT_NONE)
        fmt = accept_choice(request_header(r, "Accept"), rt->flags & ROUTE_XML);
    r->route = index;
    r->format = fmt;
    r->browsable = rt && !(rt->flags & ROUTE_RAW) && fmt == FORMAT_API;
    r->xml = rt && !(rt->flags & ROUTE_RAW) && fmt == FORMAT_XML;
}

/* What every HTML answer carries (the browsable pages, the login form,
 * the docs page): no framing by other sites, no sniffing, scripts only
 * from this server (the pages have no inline script; Swagger UI sets
 * inline styles), forms posting only here, no full urls in Referer. */
static void html_headers(request *r)
{
    request_add_header(r, "X-Frame-Options", "DENY");
    request_add_header(r, "X-Content-Type-Options", "nosniff");
    request_add_header(r, "Referrer-Policy", "same-origin");
    request_add_header(r, "Content-Security-Policy",
                       "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
                       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
}

/* The end of every answer: the browsable page around it, the security
 * headers of HTML, the body tree released. */
static void finish(request *r)
{
    if (r->input) {
        json_object_put(r->input);
        r->input = NULL;
    }
    if (r->browsable && r->route >= 0) {
        char *seg[MAX_SEGMENTS];
        bool trailing_slash;
        int nseg = path_segments(r, seg, &trailing_slash);
        if (r->format_suffix && nseg > 0) {
            size_t stem = 0;
            if (suffix_of(seg[nseg - 1], &stem) != FORMAT_NONE) {
                if (stem == 0)
                    nseg--;
                else
                    seg[nseg - 1][stem] = '\0';
            }
        }
        browsable_finish(r, &api_routes[r->route], seg, nseg > 0 ? nseg : 0, r->format_suffix);
    }
    if (r->content_type && strncmp(r->content_type, "text/html", 9) == 0)
        html_headers(r);
}

request_lane api_admit(request *r)
{
    r->db = open_thread_db();
    api_resolve(r);
    if (r->route < 0 || r->format == FORMAT_UNKNOWN) {
        r->route = -1;
        respond_error(r, 404, "Not found.");
        return LANE_ANSWERED;
    }
    const route *rt = &api_routes[r->route];
    /* a GET that writes is as unsafe as a POST: by session cookie it needs
     * the CSRF token too, which a link from another site cannot send */
    r->sent_unsafe = (r->method & HTTP_UNSAFE) ||
                     ((rt->flags & ROUTE_GET_WRITES) && (r->method & (HTTP_GET | HTTP_HEAD)));
    if (!(rt->flags & ROUTE_RAW))
        r->allow = allow_text[r->route];
    bool writes = (r->method & HTTP_UNSAFE) ||
                  ((rt->flags & ROUTE_GET_WRITES) && (r->method & (HTTP_GET | HTTP_HEAD)));
    request_lane lane = (rt->flags & ROUTE_LOGIN) ? LANE_LOGIN : writes ? LANE_WRITE : LANE_READ;
    if (rt->flags & ROUTE_RAW) {
        /* not a DRF view: the method first, then credentials */
        if (!handler_for(rt, r->method)) {
            r->allow = allow_text[r->route];
            respond_error(r, 405, arena_printf(r->arena, "Method \"%s\" not allowed.", r->method_name));
        } else if (!r->db && !(rt->flags & ROUTE_PUBLIC)) {
            respond_server_error(r, "no database connection");
        } else if (authenticate(r, rt)) {
            return lane;
        }
    } else if (!r->db) {
        respond_server_error(r, "no database connection");
    } else if (lane == LANE_READ && (r->method & (HTTP_GET | HTTP_HEAD)) && !(rt->flags & ROUTE_PUBLIC) &&
               !request_header(r, "Content-Length") && !request_header(r, "Transfer-Encoding")) {
        /* a read with no body has nothing to refuse early: its credentials
         * are looked up in its own read transaction (run_view), not in one
         * of their own (on SQLite a snapshot each costs locks and syscalls) */
        r->auth_deferred = true;
        return lane;
    } else if (authenticate(r, rt)) {
        /* a method the view has not is 405 now, but a form POST may still
         * name another method in its body (_method): that waits for it */
        if (r->method != HTTP_OPTIONS && !handler_for(rt, r->method) && r->method != HTTP_POST)
            respond_error(r, 405, arena_printf(r->arena, "Method \"%s\" not allowed.", r->method_name));
        else
            return lane;
    }
    finish(r);
    return LANE_ANSWERED;
}

void api_run(request *r)
{
    r->db = open_thread_db();
    const route *rt = &api_routes[r->route];
    if (!r->db && !(rt->flags & ROUTE_PUBLIC)) {
        respond_server_error(r, "no database connection");
    } else if (rt->flags & ROUTE_RAW) {
        /* not a DRF view: the handler reads its own body and picks its
         * own format */
        if (auth_check_csrf(r))
            run_handler(r, handler_for(rt, r->method));
    } else {
        run_view(r, rt);
    }
    finish(r);
}

void api_dispatch(request *r)
{
    if (api_admit(r) != LANE_ANSWERED)
        api_run(r);
}
