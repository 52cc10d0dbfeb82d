/*
 * api.h — the API layer's entry points (the application the http layer
 * serves, see http/server.h's http_app), and what resource files share:
 * the route table's shape and the handler type.
 *
 * api_admit() takes a request's head: it routes it (routes.c is the map of
 * the whole API), negotiates the format, authenticates and checks the
 * method, and says which lane it runs on — or answers it at once, before
 * its body is read. api_run() takes the whole request: it parses the body
 * and calls the resource's handler, which answers through respond.h. The
 * same table, with the schemas it points at, is what OPTIONS (metadata.c)
 * and the OpenAPI document (openapi.c) describe.
 */
#ifndef STOCKROOM_API_H
#define STOCKROOM_API_H

#include "api/fields.h"
#include "api/pagination.h"
#include "http/request.h"

/* A view: answers the request (VIEW_DONE, views.h) or returns a store
 * error code, which the framework answers (500, the message in the log). */
typedef int (*handler_fn)(request *r);
typedef struct resource resource;

enum {
    ROUTE_PUBLIC = 1 << 0,   /* no credentials needed */
    ROUTE_RAW = 1 << 1,      /* not a DRF view: no format or metadata; the
                                handler reads its own body */
    ROUTE_UPSERT = 1 << 2,   /* lists: POST takes one object or a list of them,
                                upserted, and answers 201 {"created", "updated"} */
    ROUTE_GET_WRITES = 1 << 3, /* its GET changes things (§8's query-string API,
                                launchsequence): no read transaction around it,
                                the handler opens its write transaction */
    ROUTE_XML = 1 << 4,      /* also parses XML bodies and renders format xml
                                (".xml", ?format=xml, Accept), api/xml.h */
    ROUTE_LOGIN = 1 << 5,    /* checks passwords: runs on the login pool */
};

/* What a view does with its methods, as the OpenAPI document tells it. */
typedef enum {
    VIEW_OTHER = 0,  /* no schema: openapi.c describes it by its pattern */
    VIEW_LIST,       /* GET a page of objects; POST creates one (201) */
    VIEW_DETAIL,     /* one object: GET; PUT (POST) replace or apply; PATCH; DELETE (204) */
    VIEW_BULK,       /* POST a list of entries, answered by the objects they touched */
} view_kind;

/* How the OpenAPI document describes a route without a view kind (openapi.c). */
typedef struct openapi_doc openapi_doc;
struct route;
typedef void (*describe_fn)(openapi_doc *d, const struct route *rt, struct json_object *item);

typedef struct route {
    const char *pattern;     /* "/api/orders/{order}/": {name} captures one segment */
    const char *name;        /* DRF's view name, for OPTIONS: "Order List" */
    const schema *input;     /* what POST (list) or PUT (detail) takes, for OPTIONS
                                (NULL: the resource's schema) */
    handler_fn get, post, put, patch, del;
    unsigned flags;
    const resource *resource;   /* the generic views' declaration (views.h) */
    const char *root;        /* listed in the API root under this name */
    describe_fn describe;    /* its OpenAPI description, when it has no view kind */
    /* for the OpenAPI document: */
    view_kind kind;
    const schema *output;    /* what it answers, when that is not `input` */
    const schema *input_alt; /* the other body POST/PUT take (a device's static update) */
    const schema *selector;  /* bulk: the keys an entry names its objects by */
    const list_query *list;  /* lists: what ?ordering= accepts, the filters */
} route;

extern const route api_routes[];
extern const int api_nroutes;

/* What a route's POST/PUT take: its input, else its resource's schema. */
const schema *route_input(const route *rt);

/* What the API layer is configured with (serve's options, main.c). */
typedef struct api_config {
    const char *db_url;             /* every thread opens its own connection on its first request */
    unsigned login_failures_user;   /* throttle.h: failures per window per username (0: none) */
    unsigned login_failures_address;/* ... per client address */
    const char *metrics_token;      /* opens GET /metrics beyond loopback (monitoring.h); NULL: not */
    bool metrics_off;               /* count nothing; GET /metrics is 404 */
} api_config;

/* Once, before serving. */
void api_init(const api_config *cfg);
/* After serving: close those connections. */
void api_shutdown(void);

request_lane api_admit(request *r);
void api_run(request *r);
/* The answers the http layer gives by itself (413, 429, 503), DRF-shaped. */
void api_refuse(request *r, int status);
/* admit, then run on this thread: a whole request at once (unit tests). */
void api_dispatch(request *r);
/* Route r's path (with its query's `format` and its Accept header):
 * r->route (-1: none), r->format, r->captures — each a decoded path
 * segment that is valid UTF-8 without NUL, or the route does not match. */
void api_resolve(request *r);

/* For ROUTE_RAW handlers: a form-encoded body as an object of strings
 * (last value wins), {} for any other body; the router releases it. */
json_object *api_form(request *r);

/* The request's body as a JSON object (handlers of POST/PUT/PATCH). */
static inline json_object *api_input(request *r) { return (json_object *)r->input; }

#endif
