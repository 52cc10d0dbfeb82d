/*
 * root.c — GET /api/ and /api/v1/: the API roots, as DRF's DefaultRouter
 * answers them: each list resource's name and absolute url, in the route
 * table's order (a route with a `root` name is listed). The retail data
 * API has its own root under /api/v1/; /api/ lists both APIs' resources,
 * so one page leads everywhere.
 */
#include <string.h>

#include "api/api.h"
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"

/* Every listed route whose pattern starts with `prefix`. */
static int list_root(request *r, const char *prefix)
{
    jw w;
    jw_init(&w, 512);
    jw_obj(&w);
    for (int i = 0; i < api_nroutes; i++) {
        const route *rt = &api_routes[i];
        if (rt->root && strncmp(rt->pattern, prefix, strlen(prefix)) == 0) {
            jw_key(&w, rt->root);
            jw_cstr(&w, arena_printf(r->arena, "%s%s", r->base_url, rt->pattern));
        }
    }
    jw_obj_end(&w);
    respond_json(r, 200, &w);
    return 0;
}

int api_root(request *r) { return list_root(r, "/api/"); }
int retail_root(request *r) { return list_root(r, "/api/v1/"); }
