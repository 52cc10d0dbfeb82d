/*
 * wall.c — the device wall's page and files (see wall.h).
 *
 * The page carries every device as GET /api/device/ answers it, in a JSON
 * data block (not a script: nothing runs inline), and the script draws the
 * tiles from it, then follows the event stream: a `device` event replaces
 * a tile, `device_deleted` removes one, a `callback` is listed under the
 * wall. The buttons POST /api/device/{id}/press/ with the session's CSRF
 * token (the csrftoken cookie, as the docs page does).
 */
#include "api/wall.h"

#include <stdlib.h>
#include <string.h>

#include "api/devices.h"
#include "api/fields.h"
#include "api/json.h"
#include "api/respond.h"
#include "api/views.h"
#include "core/util.h"

#define WALL_PREFIX "/api/wall/"

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Device wall - Stockroom</title>\n"
    "<link rel=\"stylesheet\" href=\"" WALL_PREFIX "wall.css\">\n"
    "</head>\n"
    "<body>\n"
    "<header>\n"
    "<h1>Device wall</h1>\n"
    "<label>Location <input id=\"filter\" type=\"search\" placeholder=\"filter by location\"></label>\n"
    "<span id=\"count\"></span>\n"
    "<span id=\"stream\" class=\"closed\">connecting</span>\n"
    "<a href=\"/api/\">API</a>\n"
    "</header>\n"
    "<main id=\"wall\"></main>\n"
    "<section id=\"callbacks\"><h2>Callbacks</h2><ol id=\"log\"></ol></section>\n"
    "<script type=\"application/json\" id=\"wall-devices\">";

static const char page_tail[] =
    "</script>\n"
    "<script src=\"" WALL_PREFIX "wall.js\"></script>\n"
    "</body>\n"
    "</html>\n";

/* Every device of the customer, in device id order, as a JSON list that
 * is safe inside a <script> element: "<" only ever appears inside
 * strings, where \u003c means the same. */
static int devices_json(request *r, jw *w)
{
    selection sel = {.where = "d.customer_id = $1", .order_by = "d.device_id, d.id"};
    sql_int(&sel.params, r->customer_id);
    record_vec devices = {0};
    int rc = devices_resource.load(r, &sel, &devices);
    if (rc < 0)
        return rc;
    jw list;
    jw_init(&list, 4096);
    jw_arr(&list);
    for (int i = 0; i < devices.n; i++)
        render_record(&list, r, &devices.items[i]);
    jw_arr_end(&list);
    for (size_t at = 0; at < list.len;) {
        const char *lt = memchr(list.buf + at, '<', list.len - at);
        size_t n = lt ? (size_t)(lt - (list.buf + at)) : list.len - at;
        jw_append(w, list.buf + at, n);
        at += n;
        if (lt) {
            jw_append(w, "\\u003c", 6);
            at++;
        }
    }
    jw_free(&list);
    return 0;
}

int wall_page(request *r)
{
    jw html;
    jw_init(&html, 16384);
    jw_append(&html, page_head, sizeof page_head - 1);
    int rc = devices_json(r, &html);
    if (rc < 0) {
        jw_free(&html);
        return rc;
    }
    jw_append(&html, page_tail, sizeof page_tail - 1);
    r->status = 200;
    r->content_type = "text/html; charset=utf-8";
    r->resp_body = jw_take(&html, &r->resp_len);
    request_add_header(r, "Cache-Control", "no-store");
    return 0;
}

int wall_file(request *r)
{
    const char *name = r->ncaptures > 0 ? r->captures[0] : "";
    for (int i = 0; i < wall_nassets; i++) {
        const docs_asset *a = &wall_assets[i];
        if (strcmp(a->name, name) != 0)
            continue;
        size_t n = (size_t)(a->end - a->start);
        r->status = 200;
        r->content_type = docs_content_type(a->name);
        r->resp_body = malloc(n ? n : 1);
        if (!r->resp_body)
            abort();
        memcpy(r->resp_body, a->start, n);
        r->resp_len = n;
        request_add_header(r, "Cache-Control", "no-cache");
        return 0;
    }
    respond_error(r, 404, "Not found.");
    return 0;
}
