/*
 * docs.c — GET /api/docs/ and its assets (see docs.h). Raw routes with
 * GET only: the router has checked the method and the credentials.
 *
 * The page is Swagger UI's "BaseLayout" pointed at /api/schema/, fetched
 * with the browser's credentials (the session cookie of the browsable
 * API's login); "Try it out" requests carry the CSRF token from the
 * csrftoken cookie when there is one, as unsafe session requests need.
 */
#include "api/docs.h"

#include <stdlib.h>
#include <string.h>

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
    "<script src=\"" DOCS_PREFIX "stockroom-docs.js\"></script>\n"
    "</body>\n"
    "</html>\n";

/* The page's own script, a file of its own: the Content-Security-Policy
 * of HTML answers allows no inline script. */
static const char init_js[] =
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
    "});\n";

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

static int respond_bytes(request *r, const char *content_type, const void *bytes, size_t n)
{
    r->status = 200;
    r->content_type = content_type;
    r->resp_body = malloc(n ? n : 1);
    if (!r->resp_body)
        abort();
    memcpy(r->resp_body, bytes, n);
    r->resp_len = n;
    return 0;
}

int docs_page(request *r)
{
    if (docs_nassets == 0)
        respond_bytes(r, "text/html; charset=utf-8", missing_html, sizeof missing_html - 1);
    else
        respond_bytes(r, "text/html; charset=utf-8", page_html, sizeof page_html - 1);
    request_add_header(r, "Cache-Control", "no-cache");
    return 0;
}

int docs_file(request *r)
{
    const char *name = r->ncaptures > 0 ? r->captures[0] : "";
    if (strcmp(name, "stockroom-docs.js") == 0) {
        respond_bytes(r, "text/javascript; charset=utf-8", init_js, sizeof init_js - 1);
        request_add_header(r, "Cache-Control", "no-cache");
        return 0;
    }
    for (int i = 0; i < docs_nassets; i++) {
        const docs_asset *a = &docs_assets[i];
        if (strcmp(a->name, name) == 0) {
            respond_bytes(r, docs_content_type(a->name), a->start, (size_t)(a->end - a->start));
            /* the files change only with the binary; private: they need credentials */
            request_add_header(r, "Cache-Control", "private, max-age=3600");
            return 0;
        }
    }
    respond_error(r, 404, "Not found.");
    return 0;
}
