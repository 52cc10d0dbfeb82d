/*
 * respond.c — building responses (see respond.h). The browsable format
 * wraps the same JSON in a small HTML page; everything user-supplied is
 * HTML-escaped there. The xml format turns the JSON into DRF's XML
 * (api/xml.h); the JSON path does no work for either.
 */
#include "api/respond.h"

#include <stdio.h>
#include <string.h>

#include "api/browsable.h"
#include "api/xml.h"
#include "core/util.h"
#include "store/store.h"

/* The writer's JSON as XML. Our own JSON is always valid; were it not,
 * the answer is a 500, still in XML. */
static void respond_xml(request *r, jw *w)
{
    jw out;
    jw_init(&out, w->len + w->len / 2 + 64);
    if (!xml_render(&out, w->buf, w->len)) {
        log_line("error: %s %s: a response that is not JSON", log_escape(r->arena, r->method_name, 16),
                 log_escape(r->arena, r->path, 512));
        static const char failed[] = "{\"detail\":\"A server error occurred.\"}";
        r->status = 500;
        out.len = 0;
        xml_render(&out, failed, sizeof failed - 1);
    }
    jw_free(w);
    r->content_type = "application/xml; charset=utf-8";
    r->resp_body = jw_take(&out, &r->resp_len);
}

void respond_json(request *r, int status, jw *w)
{
    r->status = status;
    if (r->browsable) {
        browsable_render(r, status, w);
        return;
    }
    if (r->xml) {
        respond_xml(r, w);
        return;
    }
    r->content_type = "application/json";
    r->resp_body = jw_take(w, &r->resp_len);
}

void respond_error(request *r, int status, const char *detail)
{
    jw w;
    jw_init(&w, 128);
    jw_obj(&w);
    jw_key(&w, "detail");
    jw_cstr(&w, detail);
    jw_obj_end(&w);
    respond_json(r, status, &w);
}

void respond_validation(request *r, json_object *errors)
{
    jw w;
    jw_init(&w, 256);
    jw_json(&w, errors);
    json_object_put(errors);
    respond_json(r, 400, &w);
}

void respond_record(request *r, int status, const record *rec)
{
    jw w;
    jw_init(&w, 1024);
    render_record(&w, r, rec);
    respond_json(r, status, &w);
}

void respond_no_content(request *r)
{
    r->status = 204;
    r->content_type = NULL;
    r->resp_body = NULL;
    r->resp_len = 0;
}

void respond_server_error(request *r, const char *why)
{
    log_line("error: %s %s: %s", log_escape(r->arena, r->method_name, 16), log_escape(r->arena, r->path, 512),
             log_escape(r->arena, why ? why : "unknown", 1024));
    respond_error(r, 500, "A server error occurred.");
}

void respond_throttled(request *r, int seconds)
{
    if (seconds < 1)
        seconds = 1;
    request_add_header(r, "Retry-After", arena_printf(r->arena, "%d", seconds));
    respond_error(r, 429, arena_printf(r->arena, "Request was throttled. Expected available in %d second%s.",
                                       seconds, seconds == 1 ? "" : "s"));
}
