/*
 * request.h — what a handler sees of an HTTP request, and what it leaves
 * behind as the response. The http layer (server.c) fills it from
 * libmicrohttpd and sends the response; the api layer never includes
 * microhttpd.h. Everything hanging off a request lives in its arena,
 * except the response body, which the http layer hands to libmicrohttpd.
 */
#ifndef STOCKROOM_REQUEST_H
#define STOCKROOM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

typedef struct store store;

typedef enum {
    HTTP_GET = 1 << 0,
    HTTP_POST = 1 << 1,
    HTTP_PUT = 1 << 2,
    HTTP_PATCH = 1 << 3,
    HTTP_DELETE = 1 << 4,
    HTTP_HEAD = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
} http_method;

typedef struct header_pair {
    const char *name, *value;
} header_pair;

typedef struct query_param {
    const char *name;    /* percent-decoded, '+' as space */
    const char *value;
} query_param;

#define REQUEST_MAX_HEADERS_OUT 8
#define ROUTE_MAX_CAPTURES 8

typedef struct request {
    arena *arena;
    store *db;                  /* this thread's connection */
    void *conn;                 /* the http layer's connection (opaque) */
    /* Without a connection (unit tests), request headers come from here. */
    const header_pair *headers_in;
    int nheaders_in;

    http_method method;
    const char *method_name;    /* as sent, e.g. "PUT" */
    const char *path;           /* raw path as sent (no query string) */
    query_param *query;         /* in the order sent */
    int nquery;
    const char *body;           /* NUL-terminated copy; body_len excludes the NUL */
    size_t body_len;
    const char *base_url;       /* "http://host:port", for absolute urls */

    /* routing results */
    const char *captures[ROUTE_MAX_CAPTURES];  /* decoded {} path segments */
    int ncaptures;
    bool browsable;             /* format api: answer HTML */
    bool xml;                   /* format xml: answer XML (api/xml.h) */

    struct json_object *input;  /* the parsed body (POST/PUT/PATCH); {} when empty */

    /* authentication result */
    int64_t customer_id;        /* 0: not authenticated */
    int64_t session_ref;        /* the session of a session cookie or temporary key, else 0 */
    const char *session_csrf;   /* by session cookie: its CSRF token (unsafe methods must echo it) */
    const char *username;       /* by session cookie: the user, for the browsable page */
    /* CSRF: was the method as sent (before form overloading) unsafe, and
     * the token the form carried (csrfmiddlewaretoken), if any */
    bool sent_unsafe;
    const char *form_csrf;

    /* the response */
    int status;
    const char *content_type;
    char *resp_body;            /* malloc'ed; ownership passes to the http layer */
    size_t resp_len;
    const char *allow;          /* "GET, POST, HEAD, OPTIONS" */
    header_pair headers_out[REQUEST_MAX_HEADERS_OUT];
    int nheaders_out;
} request;

/* The method named `name` ("GET", ...), 0 for one the API does not know. */
http_method http_method_parse(const char *name);

/* A request header's value (case-insensitive name), or NULL. */
const char *request_header(request *r, const char *name);
/* The last value of the query parameter with this name (as Django), or NULL. */
const char *request_query(request *r, const char *name);
/* Add a response header (name and value must outlive the request). */
void request_add_header(request *r, const char *name, const char *value);

#endif
