/*
 * browsable.c — the browsable API page (see browsable.h).
 *
 * Every piece of text that comes from the request, the database or the
 * response goes through escape() (text and attribute values alike); the
 * only markup is this file's own. The JSON is re-indented as it streams
 * (DRF's indent of 4), keys, strings and literals get a class for colour,
 * and a string value that is an absolute http(s) url becomes a link.
 */
#include "api/browsable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

void browsable_render(request *r, int status, jw *w)
{
    (void)status;  /* respond_json() has set r->status */
    r->content_type = "application/json";
    r->resp_body = jw_take(w, &r->resp_len);
}

/* ------------------------------------------------------------ writing */

static void put(jw *out, const char *s)
{
    jw_append(out, s, strlen(s));
}

static void escape(jw *out, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep;
        switch (s[i]) {
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '&': rep = "&amp;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#x27;"; break;
        default: continue;
        }
        jw_append(out, s + start, i - start);
        put(out, rep);
        start = i + 1;
    }
    jw_append(out, s + start, n - start);
}

static void escape_c(jw *out, const char *s)
{
    escape(out, s, strlen(s));
}

static bool is_url(const char *s, size_t n)
{
    return (n > 7 && strncmp(s, "http://", 7) == 0) || (n > 8 && strncmp(s, "https://", 8) == 0);
}

/* Python's quote_plus, as query strings are written back. */
static void append_quoted(jw *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '.' || c == '-' || c == '~') {
            jw_append(out, (const char *)&c, 1);
        } else if (c == ' ') {
            jw_append(out, "+", 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            jw_append(out, e, 3);
        }
    }
}

/* path?query (unescaped; the caller escapes), without `format` when
 * `format` is given, which is then set to it. */
static char *url_with_format(request *r, const char *path, const char *format, size_t *len)
{
    jw u;
    jw_init(&u, 256);
    put(&u, path);
    int n = 0;
    for (int i = 0; i < r->nquery; i++) {
        if (format && strcmp(r->query[i].name, "format") == 0)
            continue;
        jw_append(&u, n++ ? "&" : "?", 1);
        append_quoted(&u, r->query[i].name);
        jw_append(&u, "=", 1);
        append_quoted(&u, r->query[i].value);
    }
    if (format) {
        put(&u, n ? "&format=" : "?format=");
        put(&u, format);
    }
    return jw_take(&u, len);
}

static void put_url(jw *out, request *r, const char *path, const char *format)
{
    size_t n;
    char *u = url_with_format(r, path, format, &n);
    escape(out, u, n);
    free(u);
}

/* ------------------------------------------------------------ JSON */

static void newline(jw *out, int depth)
{
    jw_append(out, "\n", 1);
    for (int i = 0; i < depth; i++)
        jw_append(out, "    ", 4);
}

static size_t skip_space(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    return i;
}

/*
 * Re-indent compact JSON text. With html: escaped, coloured, urls as links;
 * without: plain text (for the form's textarea, escaped by the caller).
 */
static void pretty_json(jw *out, const char *s, size_t n, bool html)
{
    int depth = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            size_t end = j < n ? j + 1 : n;   /* past the closing quote */
            const char *tok = s + i;
            size_t len = end - i;
            if (!html) {
                jw_append(out, tok, len);
            } else {
                bool key = skip_space(s, end, n) < n && s[skip_space(s, end, n)] == ':';
                const char *inner = tok + 1;
                size_t inner_len = len >= 2 ? len - 2 : 0;
                bool link = !key && is_url(inner, inner_len) && !memchr(inner, '\\', inner_len) &&
                            !memchr(inner, ' ', inner_len);
                put(out, key ? "<span class=\"k\">" : "<span class=\"s\">");
                if (link) {
                    put(out, "&quot;<a href=\"");
                    escape(out, inner, inner_len);
                    put(out, "\">");
                    escape(out, inner, inner_len);
                    put(out, "</a>&quot;");
                } else {
                    escape(out, tok, len);
                }
                put(out, "</span>");
            }
            i = end;
        } else if (c == '{' || c == '[') {
            size_t k = skip_space(s, i + 1, n);
            char close = c == '{' ? '}' : ']';
            if (k < n && s[k] == close) {
                jw_append(out, &c, 1);
                jw_append(out, &close, 1);
                i = k + 1;
                continue;
            }
            jw_append(out, &c, 1);
            depth++;
            newline(out, depth);
            i++;
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            newline(out, depth);
            jw_append(out, &c, 1);
            i++;
        } else if (c == ',') {
            jw_append(out, ",", 1);
            newline(out, depth);
            i++;
        } else if (c == ':') {
            jw_append(out, ": ", 2);
            i++;
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            i++;
        } else {
            size_t j = i;
            while (j < n && !strchr(",:{}[]\" \n\r\t", s[j]))
                j++;
            if (html) {
                put(out, "<span class=\"l\">");
                escape(out, s + i, j - i);
                put(out, "</span>");
            } else {
                jw_append(out, s + i, j - i);
            }
            i = j;
        }
    }
}

/* ------------------------------------------------------------ the form */

/* What an unbound DRF serializer shows (its initial data): the writable
 * fields, strings "", lists [], nested objects their own, others null.
 * Write-only fields are left out (orders: `items` is the other spelling
 * of `shipments`, and both at once is an error). */
static void write_template(jw *w, const schema *sc)
{
    jw_obj(w);
    for (int i = 0; sc && i < sc->nfields; i++) {
        const field *f = &sc->fields[i];
        if ((f->flags & (F_READ_ONLY | F_WRITE_ONLY)) || f->type == FIELD_URL ||
            f->type == FIELD_RAW_JSON)
            continue;
        jw_key(w, f->name);
        switch (f->type) {
        case FIELD_STRING:
        case FIELD_CHOICE:
            jw_cstr(w, "");
            break;
        case FIELD_NESTED_LIST:
            jw_arr(w);
            jw_arr_end(w);
            break;
        case FIELD_NESTED:
            write_template(w, f->child);
            break;
        default:
            jw_null(w);
        }
    }
    jw_obj_end(w);
}

/* The object's fields that the input schema takes (PUT/PATCH forms start
 * from the object as it is). False when it has none of them. */
static bool write_current(jw *w, const schema *sc, json_object *obj)
{
    if (!sc || !json_object_is_type(obj, json_type_object))
        return false;
    int n = 0;
    jw_obj(w);
    for (int i = 0; i < sc->nfields; i++) {
        const field *f = &sc->fields[i];
        json_object *v;
        if ((f->flags & F_READ_ONLY) || f->type == FIELD_URL || f->type == FIELD_RAW_JSON ||
            !json_object_object_get_ex(obj, f->name, &v))
            continue;
        jw_key(w, f->name);
        jw_json(w, v);
        n++;
    }
    jw_obj_end(w);
    return n > 0;
}

static const struct { http_method m; const char *name; } form_methods[] = {
    {HTTP_POST, "POST"}, {HTTP_PUT, "PUT"}, {HTTP_PATCH, "PATCH"}, {HTTP_DELETE, "DELETE"},
};

/* The session's CSRF token, for forms a session cookie authenticates
 * (requests by key or token need none). */
static void csrf_input(jw *out, request *r)
{
    if (!r->session_csrf)
        return;
    put(out, "<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"");
    escape_c(out, r->session_csrf);
    put(out, "\">\n");
}

static void raw_form(jw *out, request *r, const browsable_view *v, json_object *body)
{
    unsigned writes = v->methods & (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE);
    if (!writes)
        return;
    /* the method shown first: a write that failed is offered again as it
     * was sent; else PUT on a detail, else the first the path has */
    http_method chosen = 0;
    bool resend = (r->method & writes) && r->status >= 400 && r->body_len > 0;
    if ((r->method & writes) && r->status >= 400)
        chosen = r->method;
    else if (writes & HTTP_PUT)
        chosen = HTTP_PUT;
    else
        for (size_t i = 0; i < sizeof form_methods / sizeof form_methods[0] && !chosen; i++)
            if (writes & form_methods[i].m)
                chosen = form_methods[i].m;

    jw content;
    jw_init(&content, 512);
    if (resend) {
        jw_append(&content, r->body, r->body_len);
    } else {
        jw data;
        jw_init(&data, 512);
        if (!((writes & (HTTP_PUT | HTTP_PATCH)) && r->status == 200 &&
              write_current(&data, v->input, body))) {
            jw_free(&data);
            jw_init(&data, 512);
            write_template(&data, v->input);
        }
        pretty_json(&content, data.buf, data.len, false);
        jw_free(&data);
    }

    put(out, "<section class=\"panel\" aria-labelledby=\"raw-title\">\n"
             "<h2 id=\"raw-title\">Raw data</h2>\n<form class=\"raw\" method=\"post\" action=\"");
    put_url(out, r, r->path, NULL);
    put(out, "\">\n");
    csrf_input(out, r);
    put(out, "<div class=\"row\">\n<label for=\"raw-method\">Method</label>\n"
             "<select id=\"raw-method\" name=\"_method\">\n");
    for (size_t i = 0; i < sizeof form_methods / sizeof form_methods[0]; i++) {
        if (!(writes & form_methods[i].m))
            continue;
        put(out, "<option value=\"");
        put(out, form_methods[i].name);
        put(out, form_methods[i].m == chosen ? "\" selected>" : "\">");
        put(out, form_methods[i].name);
        put(out, "</option>\n");
    }
    put(out, "</select>\n<label for=\"raw-type\">Media type</label>\n"
             "<select id=\"raw-type\" name=\"_content_type\">\n"
             "<option value=\"application/json\" selected>application/json</option>\n"
             "<option value=\"application/x-www-form-urlencoded\">"
             "application/x-www-form-urlencoded</option>\n</select>\n</div>\n"
             "<label for=\"raw-content\" class=\"block\">Content</label>\n"
             "<textarea id=\"raw-content\" name=\"_content\" rows=\"14\" spellcheck=\"false\">\n");
    escape(out, content.buf, content.len);
    put(out, "</textarea>\n<div class=\"row\"><button type=\"submit\" class=\"primary\">Send"
             "</button></div>\n</form>\n</section>\n");
    jw_free(&content);
}

/* ------------------------------------------------------------ the page */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
    }
}

typedef struct header_line {
    const char *name, *value;
} header_line;

static int by_header_name(const void *a, const void *b)
{
    return strcasecmp(((const header_line *)a)->name, ((const header_line *)b)->name);
}

static void response_headers(jw *out, request *r)
{
    header_line h[REQUEST_MAX_HEADERS_OUT + 3];
    int n = 0;
    if (r->allow) {
        h[n++] = (header_line){"Allow", r->allow};
        h[n++] = (header_line){"Vary", "Accept"};
    }
    if (r->resp_body)
        h[n++] = (header_line){"Content-Type", r->content_type ? r->content_type : "application/json"};
    for (int i = 0; i < r->nheaders_out; i++)
        h[n++] = (header_line){r->headers_out[i].name, r->headers_out[i].value};
    qsort(h, (size_t)n, sizeof h[0], by_header_name);
    for (int i = 0; i < n; i++) {
        put(out, "<b>");
        escape_c(out, h[i].name);
        put(out, ":</b> ");
        size_t len = strlen(h[i].value);
        if (is_url(h[i].value, len)) {
            put(out, "<a href=\"");
            escape(out, h[i].value, len);
            put(out, "\">");
            escape(out, h[i].value, len);
            put(out, "</a>");
        } else {
            escape(out, h[i].value, len);
        }
        put(out, "\n");
    }
}

static void pager_link(jw *out, json_object *page, const char *key, const char *rel, const char *text)
{
    json_object *link = NULL;
    const char *href = NULL;
    if (json_object_object_get_ex(page, key, &link) && json_object_is_type(link, json_type_string))
        href = json_object_get_string(link);
    if (href && is_url(href, strlen(href))) {
        put(out, "<a class=\"btn\" rel=\"");
        put(out, rel);
        put(out, "\" href=\"");
        escape_c(out, href);
        put(out, "\">");
        put(out, text);
        put(out, "</a>\n");
    } else {
        put(out, "<span class=\"btn disabled\">");
        put(out, text);
        put(out, "</span>\n");
    }
}

/* DRF's paginated shape: {"count", "next", "previous", "results": [...]}. */
static void pager(jw *out, json_object *body)
{
    json_object *count, *results;
    if (!json_object_is_type(body, json_type_object) ||
        !json_object_object_get_ex(body, "count", &count) ||
        !json_object_object_get_ex(body, "results", &results) ||
        !json_object_object_get_ex(body, "next", NULL) ||
        !json_object_object_get_ex(body, "previous", NULL))
        return;
    put(out, "<nav class=\"pager\" aria-label=\"Pages\">\n");
    pager_link(out, body, "previous", "prev", "&laquo; Previous");
    char line[64];
    snprintf(line, sizeof line, "<span class=\"count\">%lld in all</span>\n",
             (long long)json_object_get_int64(count));
    put(out, line);
    pager_link(out, body, "next", "next", "Next &raquo;");
    put(out, "</nav>\n");
}

static const char style[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
    "color:#1f2933;background:#f3f5f8}"
    "header.bar{background:#1f2d3d;color:#fff;padding:.7rem 1.5rem;display:flex;align-items:center;"
    "justify-content:space-between;gap:1rem}"
    "header.bar .who{display:flex;align-items:center;gap:.7rem;font-size:.9rem}"
    "header.bar .who form{margin:0}header.bar a{color:#fff;text-decoration:none}"
    "header.bar button{background:transparent;color:#fff;border-color:#6b7c8f;padding:.15rem .7rem}"
    "header.bar button:hover{background:#2c3e52}"
    ".login{max-width:24rem;margin:3rem auto}.login label{display:block;font-size:.9rem;color:#52606d;margin:.6rem 0 .2rem}"
    ".login input[type=text],.login input[type=password]{width:100%;font:inherit;padding:.4rem .55rem;"
    "border:1px solid #b6c1cd;border-radius:4px}.login button{margin-top:1rem}"
    ".error{color:#c53030;background:#fff5f5;border:1px solid #feb2b2;border-radius:4px;padding:.5rem .8rem}"
    "header.bar .brand{font-weight:600;font-size:1.05rem;letter-spacing:.01em}"
    "main{max-width:1100px;margin:0 auto;padding:.5rem 1.5rem 3rem}"
    ".crumbs ol{list-style:none;margin:0;padding:.7rem 0;display:flex;flex-wrap:wrap;font-size:.9rem}"
    ".crumbs li+li::before{content:\"\\203A\";padding:0 .5rem;color:#8795a1}"
    ".crumbs a{color:#2b6cb0;text-decoration:none}.crumbs a:hover{text-decoration:underline}"
    ".crumbs [aria-current]{color:#52606d}"
    ".head{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap;"
    "border-bottom:1px solid #dde3ea;margin-bottom:1rem;padding-bottom:.6rem}"
    "h1{font-size:1.75rem;font-weight:500;margin:0}"
    ".toolbar{display:flex;gap:.4rem;flex-wrap:wrap;align-items:center}.toolbar form{margin:0}"
    ".btn,button{display:inline-block;padding:.35rem .85rem;border:1px solid #b6c1cd;border-radius:4px;"
    "background:#fff;color:#1f2d3d;font:inherit;font-size:.9rem;line-height:1.4;text-decoration:none;cursor:pointer}"
    ".btn:hover,button:hover{background:#e8eef5}"
    "button.primary{background:#2b6cb0;border-color:#2b6cb0;color:#fff}button.primary:hover{background:#245a94}"
    ".btn.disabled{color:#a3afbb;border-color:#e0e6ec;cursor:default;background:#f8fafc}"
    "pre{margin:0 0 1rem;padding:.9rem 1.1rem;background:#fff;border:1px solid #dde3ea;border-radius:4px;"
    "overflow:auto;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;"
    "white-space:pre-wrap;word-break:break-word}"
    "pre.request{background:#f8fafc}"
    ".meta{color:#52606d}.meta b{color:#1f2933}"
    ".meta b.status-ok{color:#276749}.meta b.status-error{color:#c53030}"
    "pre a{color:#2b6cb0}.k{color:#7b3f98}.s{color:#22743a}.l{color:#0b5cad}"
    ".pager{display:flex;align-items:center;gap:.7rem;margin:0 0 1.5rem}.pager .count{color:#52606d;font-size:.9rem}"
    ".panel{background:#fff;border:1px solid #dde3ea;border-radius:4px;padding:1rem 1.2rem}"
    ".panel h2{font-size:1.05rem;margin:0 0 .8rem;font-weight:600}"
    ".raw .row{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap;margin:0 0 .8rem}"
    ".raw .row label{font-size:.9rem;color:#52606d}"
    ".raw label.block{display:block;font-size:.9rem;color:#52606d;margin-bottom:.3rem}"
    "select{font:inherit;font-size:.9rem;padding:.25rem .4rem;border:1px solid #b6c1cd;border-radius:4px;background:#fff}"
    "textarea{display:block;width:100%;min-height:14rem;margin:0 0 .8rem;padding:.6rem .7rem;"
    "font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,\"Liberation Mono\",monospace;"
    "border:1px solid #b6c1cd;border-radius:4px;resize:vertical}";

static void page_start(jw *out, const char *title)
{
    put(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
    escape_c(out, title);
    put(out, " &ndash; Stockroom API</title>\n<style>");
    put(out, style);
    put(out, "</style>\n</head>\n<body>\n");
}

/* The bar on top: who is logged in (by session) with a way out, else a
 * way in that comes back to this page. */
static void header_bar(jw *out, request *r)
{
    put(out, "<header class=\"bar\"><a class=\"brand\" href=\"/api/\">Stockroom API</a>"
             "<div class=\"who\">");
    if (r->username) {
        put(out, "<span id=\"user\">");
        escape_c(out, r->username);
        put(out, "</span><form id=\"logout-form\" method=\"post\" action=\"/api/auth/logout/\">");
        csrf_input(out, r);
        put(out, "<button type=\"submit\" id=\"logout-button\">Log out</button></form>");
    } else {
        put(out, "<a id=\"login-link\" href=\"/api/auth/login/?next=");
        escape_c(out, url_encode_query(r->arena, r->path, strlen(r->path)));
        put(out, "\">Log in</a>");
    }
    put(out, "</div></header>\n");
}

void browsable_login_page(request *r, int status, const char *next, const char *csrf, const char *error)
{
    jw page;
    jw_init(&page, 16384);
    page_start(&page, "Log in");
    put(&page, "<header class=\"bar\"><a class=\"brand\" href=\"/api/\">Stockroom API</a></header>\n"
               "<main>\n<section class=\"panel login\" aria-labelledby=\"login-title\">\n"
               "<h1 id=\"login-title\">Log in</h1>\n");
    if (error) {
        put(&page, "<p class=\"error\" id=\"login-error\" role=\"alert\">");
        escape_c(&page, error);
        put(&page, "</p>\n");
    }
    put(&page, "<form id=\"login-form\" method=\"post\" action=\"/api/auth/login/\">\n"
               "<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"");
    escape_c(&page, csrf);
    put(&page, "\">\n<input type=\"hidden\" name=\"next\" value=\"");
    escape_c(&page, next);
    put(&page, "\">\n<label for=\"id_username\">Username</label>\n"
               "<input type=\"text\" name=\"username\" id=\"id_username\" autocomplete=\"username\" "
               "autocapitalize=\"none\" maxlength=\"150\" required autofocus>\n"
               "<label for=\"id_password\">Password</label>\n"
               "<input type=\"password\" name=\"password\" id=\"id_password\" "
               "autocomplete=\"current-password\" required>\n"
               "<button type=\"submit\" class=\"primary\" id=\"submit-id-submit\">Log in</button>\n"
               "</form>\n</section>\n</main>\n</body>\n</html>\n");
    free(r->resp_body);
    r->status = status;
    r->content_type = "text/html; charset=utf-8";
    r->resp_body = jw_take(&page, &r->resp_len);
}

void browsable_page(request *r, const browsable_view *v)
{
    const char *name = v->name ? v->name : "Stockroom API";
    json_object *body = NULL;
    if (r->resp_body && r->resp_len) {
        json_tokener *tok = json_tokener_new();
        body = json_tokener_parse_ex(tok, r->resp_body, (int)r->resp_len);
        json_tokener_free(tok);
    }
    jw page;
    jw_init(&page, r->resp_len * 3 + 16384);

    page_start(&page, name);
    header_bar(&page, r);
    put(&page, "<main>\n");

    if (v->ncrumbs > 0) {
        put(&page, "<nav class=\"crumbs\" aria-label=\"Breadcrumbs\"><ol>\n");
        for (int i = 0; i < v->ncrumbs; i++) {
            if (i == v->ncrumbs - 1) {
                put(&page, "<li aria-current=\"page\">");
                escape_c(&page, v->crumbs[i].name);
            } else {
                put(&page, "<li><a href=\"");
                escape_c(&page, v->crumbs[i].href);
                put(&page, "\">");
                escape_c(&page, v->crumbs[i].name);
                put(&page, "</a>");
            }
            put(&page, "</li>\n");
        }
        put(&page, "</ol></nav>\n");
    }

    put(&page, "<div class=\"head\">\n<h1>");
    escape_c(&page, name);
    put(&page, "</h1>\n<div class=\"toolbar\">\n<form method=\"post\" action=\"");
    put_url(&page, r, r->path, NULL);
    put(&page, "\"><input type=\"hidden\" name=\"_method\" value=\"OPTIONS\">");
    csrf_input(&page, r);
    put(&page, "<button type=\"submit\">OPTIONS</button></form>\n");
    if (v->methods & HTTP_GET) {
        put(&page, "<a class=\"btn\" href=\"");
        put_url(&page, r, v->base_path, "json");
        put(&page, "\">GET json</a>\n<a class=\"btn\" href=\"");
        put_url(&page, r, v->base_path, "api");
        put(&page, "\">GET api</a>\n");
    }
    put(&page, "</div>\n</div>\n");

    put(&page, "<pre class=\"request\"><b>");
    escape_c(&page, r->method_name ? r->method_name : "");
    put(&page, "</b> ");
    put_url(&page, r, r->path, NULL);
    put(&page, "</pre>\n");

    char status_line[96];
    snprintf(status_line, sizeof status_line, "<b class=\"%s\">HTTP %d %s</b>\n",
             r->status < 400 ? "status-ok" : "status-error", r->status, reason(r->status));
    put(&page, "<pre class=\"response\"><span class=\"meta\">");
    put(&page, status_line);
    response_headers(&page, r);
    put(&page, "</span>");
    if (r->resp_body && r->resp_len) {
        put(&page, "\n");
        pretty_json(&page, r->resp_body, r->resp_len, true);
    }
    put(&page, "</pre>\n");

    pager(&page, body);
    raw_form(&page, r, v, body);
    put(&page, "</main>\n</body>\n</html>\n");

    if (body)
        json_object_put(body);
    free(r->resp_body);
    r->content_type = "text/html; charset=utf-8";
    r->resp_body = jw_take(&page, &r->resp_len);
    if (r->status == 204)
        r->status = 200;
}
