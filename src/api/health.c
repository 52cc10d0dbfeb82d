/*
 * health.c — GET /healthz (no credentials): 200 "ok" when this worker's
 * database connection answers, else 503.
 */
#include <stdlib.h>
#include <string.h>

#include "api/resources.h"
#include "store/store.h"

int healthz(request *r)
{
    bool up = r->db && store_ping(r->db);
    r->status = up ? 200 : 503;
    r->content_type = "text/plain; charset=utf-8";
    r->resp_body = strdup(up ? "ok\n" : "unavailable\n");
    r->resp_len = strlen(r->resp_body);
    return 0;
}
