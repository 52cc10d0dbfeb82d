/*
 * docs.c — GET /api/docs/ and its assets (see docs.h). Raw routes: the
 * router hands over every method, so these check for GET/HEAD themselves,
 * and authenticate as the router would (inside a read transaction).
 *
 * The page is Swagger UI's "BaseLayout" pointed at /api/schema/, fetched
 * with the browser's credentials (the session cookie of the browsable
 * API's login); "Try it out" requests carry the CSRF token from the
 * csrftoken cookie when there is one, as unsafe session requests need.
 */
#include "api/docs.h"

#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/respond.h"
#include "store/store.h"

#define DOCS_PREFIX "/api/docs/"

static const char page_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Stockroom API</title>\n"
    "<link rel=\"stylesheet\" href=\"" DOCS_PREFIX "swagger-ui.css\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"swagger-ui\"></div>\n"
    "<script src=\"" DOCS_PREFIX "swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "function csrfToken() {\n"
    "  var m = document.cookie.match(/(?:^|;\\s*)csrftoken=([^;]*)/);\n"
    "  return m ? decodeURIComponent(m[1]) : null;\n"
    "}\n"
    "window.ui = SwaggerUIBundle({\n"
    "  url: \"/api/schema/?format=json\",\n"
    "  dom_id: \"#swagger-ui\",\n"
    "  deepLinking: true,\n"
    "  withCredentials: true,\n"
    "  requestInterceptor: function (req) {\n"
    "    var token = csrfToken();\n"
    "    if (token && !/^(GET|HEAD|OPTIONS)$/i.test(req.method || \"GET\"))\n"
    "      req.headers[\"X-CSRFToken\"] = token;\n"
    "    return req;\n"
    "  }\n"
    "});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

static const char missing_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head><meta charset=\"utf-8\"><title>Stockroom API</title></head>\n"
    "<body>\n"
    "<h1>API docs: assets not built</h1>\n"
    "<p>This server was built without the files of the docs page (Swagger UI, from the npm\n"
    "package <code>swagger-ui-dist</code>). Run <code>bash scripts/npm-install.sh web</code> (it needs\n"
    "npm and the npm registry), then rebuild (<code>make build</code>).</p>\n"
    "<p>The OpenAPI document itself is served all the same: <a href=\"/api/schema/\">/api/schema/</a>.</p>\n"
    "</body>\n"
    "</html>\n";

const char *docs_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (dot && strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (dot && strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    return "application/octet-stream";
}

/* GET or HEAD by someone with credentials; false when the answer is made. */
static bool may_read(request *r)
{
    if (!(r->method & (HTTP_GET | HTTP_HEAD))) {
        r->allow = "GET, HEAD";
        respond_error(r, 405, arena_printf(r->arena, "Method \"%s\" not allowed.", r->method_name));
        return false;
    }
    if (!r->db) {
        respond_server_error(r, "no database connection");
        return false;
    }
    if (store_begin_read(r->db) < 0) {
        respond_server_error(r, store_errmsg(r->db));
        return false;
    }
    bool ok = auth_authenticate(r);
    store_rollback(r->db);
    return ok;
}

static void respond_bytes(request *r, const char *content_type, const void *bytes, size_t n)
{
    r->status = 200;
    r->content_type = content_type;
    r->resp_body = malloc(n ? n : 1);
    if (!r->resp_body) {
        respond_server_error(r, "out of memory");
        return;
    }
    memcpy(r->resp_body, bytes, n);
    r->resp_len = n;
}

void docs_page(request *r)
{
    if (!may_read(r))
        return;
    if (docs_nassets == 0)
        respond_bytes(r, "text/html; charset=utf-8", missing_html, sizeof missing_html - 1);
    else
        respond_bytes(r, "text/html; charset=utf-8", page_html, sizeof page_html - 1);
    request_add_header(r, "Cache-Control", "no-cache");
}

void docs_file(request *r)
{
    if (!may_read(r))
        return;
    const char *name = r->ncaptures > 0 ? r->captures[0] : "";
    for (int i = 0; i < docs_nassets; i++) {
        const docs_asset *a = &docs_assets[i];
        if (strcmp(a->name, name) == 0) {
            respond_bytes(r, docs_content_type(a->name), a->start, (size_t)(a->end - a->start));
            /* the files change only with the binary; private: they need credentials */
            request_add_header(r, "Cache-Control", "private, max-age=3600");
            request_add_header(r, "X-Content-Type-Options", "nosniff");
            return;
        }
    }
    respond_error(r, 404, "Not found.");
}
