/*
 * browsable.h — the browsable API (contract §6): the same answer as JSON,
 * shown in an HTML page like DRF's BrowsableAPIRenderer: breadcrumbs, the
 * view's name, an OPTIONS button and format links, the request line, the
 * response status and headers, the JSON pretty-printed (HTML-escaped, urls
 * as links), pagination buttons, and a raw-data form (method selector
 * limited to the path's methods, media type, textarea) that posts with
 * DRF's `_method` / `_content_type` / `_content` form overloading, which
 * the router honours. Plain HTML and CSS, no scripts, no external assets.
 *
 * The router builds the page once the view has answered (so every header,
 * Location included, is known): respond_json() only keeps the JSON when
 * the request is browsable.
 */
#ifndef STOCKROOM_BROWSABLE_H
#define STOCKROOM_BROWSABLE_H

#include "api/fields.h"
#include "api/json.h"
#include "http/request.h"

/* Keep w's JSON as the answer until browsable_page() (takes w). */
void browsable_render(request *r, int status, jw *w);

typedef struct browsable_crumb {
    const char *name;          /* view name */
    const char *href;          /* raw path */
} browsable_crumb;

typedef struct browsable_view {
    const char *name;          /* "Order List" */
    const schema *input;       /* what POST/PUT take: the form's template */
    unsigned methods;          /* http_method bits the path answers */
    const char *base_path;     /* the raw path without a format suffix */
    const browsable_crumb *crumbs;
    int ncrumbs;
} browsable_view;

/* Replace the answer the view left (JSON or none) with the page. A 204
 * becomes 200 (the page shows 204), as DRF does, so browsers show it. */
void browsable_page(request *r, const browsable_view *v);

/* The login form of /api/auth/login/ (login.c), with its CSRF token, the
 * path to return to, and an error to show (or NULL). */
void browsable_login_page(request *r, int status, const char *next, const char *csrf, const char *error);

#endif
