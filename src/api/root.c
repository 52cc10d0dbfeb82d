/*
 * root.c — GET /api/ and /api/v1/: the API roots, as DRF's DefaultRouter
 * answers them: each list resource's name and absolute url, in
 * registration order. The retail data API has its own root under /api/v1/;
 * /api/ lists both APIs' resources, so one page leads everywhere.
 */
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"

typedef struct root_entry {
    const char *name, *path;
} root_entry;

static const root_entry orders_api[] = {
    {"orders", "/api/orders/"},
    {"device", "/api/device/"},
    {"sequence", "/api/sequence/"},
};

static const root_entry retail_api[] = {
    {"shops", "/api/v1/shops/"},
    {"suppliers", "/api/v1/suppliers/"},
    {"products", "/api/v1/products/"},
    {"supplier-refunds", "/api/v1/supplier-refunds/"},
};

static void entries(jw *w, request *r, const root_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        jw_key(w, e[i].name);
        jw_cstr(w, arena_printf(r->arena, "%s%s", r->base_url, e[i].path));
    }
}

void api_root(request *r)
{
    jw w;
    jw_init(&w, 512);
    jw_obj(&w);
    entries(&w, r, orders_api, sizeof orders_api / sizeof orders_api[0]);
    entries(&w, r, retail_api, sizeof retail_api / sizeof retail_api[0]);
    jw_obj_end(&w);
    respond_json(r, 200, &w);
}

void retail_root(request *r)
{
    jw w;
    jw_init(&w, 512);
    jw_obj(&w);
    entries(&w, r, retail_api, sizeof retail_api / sizeof retail_api[0]);
    jw_obj_end(&w);
    respond_json(r, 200, &w);
}
