/*
 * request.h — one HTTP request as the two layers above and below it see
 * it: the http layer (server.c) fills the request part from the connection
 * and sends the response part; the application (the api layer) reads the
 * one and writes the other. Nothing here knows libmicrohttpd, and the
 * accessors are inline, so the api layer and its unit tests use a request
 * without linking the http layer.
 *
 * Everything hanging off a request lives in its arena (released once, when
 * the request ends), except the body, which the http layer owns, and the
 * response body, which the application malloc()s and the http layer frees.
 *
 * An answer is a body, or a stream (response_stream): bytes the http layer
 * pulls from the application for as long as the stream lasts, as the
 * client takes them.
 */
#ifndef STOCKROOM_REQUEST_H
#define STOCKROOM_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

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

#define HTTP_UNSAFE (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)

typedef struct header_pair {
    const char *name, *value;
} header_pair;

typedef struct query_param {
    const char *name;    /* percent-decoded, '+' as space */
    const char *value;
} query_param;

/* Where the http layer runs a request once its body is in (the
 * application's admit() decides, from the head alone). */
typedef enum {
    LANE_READ,       /* on the connection's own thread: reads, quick */
    LANE_WRITE,      /* on the writers' pool: anything that writes */
    LANE_LOGIN,      /* on the login pool: password checks (slow on purpose) */
    LANE_ANSWERED,   /* admit() made the answer already: run nothing */
} request_lane;

/*
 * A streamed answer (Server-Sent Events, say): the handler sets
 * request.stream, with its status and headers, instead of a body. The http
 * layer sends the head, then pulls bytes with read() whenever the client
 * can take more, so nothing piles up for a slow reader; when read() has
 * nothing, the stream sleeps, holding no thread, until wake(). When
 * nothing was sent for STREAM_HEARTBEAT_S seconds it sends `heartbeat`
 * (so a client that has gone is found, and proxies keep the connection).
 * At a stop the http layer ends every stream at once by itself. The
 * struct lives in the request's arena.
 */
#define STREAM_HEARTBEAT_S 15

typedef struct response_stream response_stream;
struct response_stream {
    /* ---- the application's, set by the handler */
    /* Up to `max` bytes into buf: their number; 0 when there is nothing
     * now (the stream sleeps until wake()); -1 at its end. On the
     * connection's thread, the one that ran the handler. */
    long (*read)(response_stream *s, char *buf, size_t max);
    /* The stream has begun (its head is queued): from now until closed()
     * returns, wake() may be called, from any thread. */
    void (*opened)(response_stream *s);
    /* It is over: its end, the client gone, the server stopping, or
     * refused before it began (503 past the limit of open streams). Called
     * exactly once, whether or not opened() was; nothing of the stream is
     * called after it returns. */
    void (*closed)(response_stream *s);
    const char *heartbeat;   /* e.g. ": keep-alive\n\n" (SSE's comment line) */
    void *ctx;
    /* ---- the http layer's, set before opened() */
    /* There is something to read: read() is called again soon. A wake
     * that comes while read() runs is not lost. */
    void (*wake)(response_stream *s);
    void *conn;
};

#define REQUEST_MAX_HEADERS_OUT 16
#define ROUTE_MAX_CAPTURES 8

typedef struct request {
    arena *arena;
    store *db;                  /* the api layer's connection for this thread */

    /* ---- the request, filled by the http layer */
    const header_pair *headers_in;
    int nheaders_in;
    http_method method;         /* 0: a method the API does not know */
    const char *method_name;    /* as sent, e.g. "PUT" */
    const char *path;           /* raw path as sent (no query string) */
    query_param *query;         /* in the order sent */
    int nquery;
    const char *body;           /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    const char *base_url;       /* "http://host:port", for absolute urls */
    const char *client_ip;      /* the peer (or, with --trust-proxy, X-Forwarded-For's first) */
    const char *request_id;     /* X-Request-ID: the client's when sane, else generated */
    bool stopping;              /* the server is stopping: refuse new work with 503 */

    /* ---- routing results (api layer) */
    int route;                  /* index of the route, -1 before routing */
    int format;                 /* the api layer's format (router.c) */
    bool format_suffix;         /* ... given by a ".json"/".api"/".xml" suffix */
    const char *captures[ROUTE_MAX_CAPTURES];  /* decoded {} path segments */
    int ncaptures;
    bool browsable;             /* format api: answer HTML */
    bool xml;                   /* format xml: answer XML (api/xml.h) */
    struct json_object *input;  /* the parsed body (POST/PUT/PATCH); {} when empty */
    struct outbox *outbox;      /* callbacks and events a write noted (api/outbox.h) */

    /* ---- authentication result (api layer) */
    int64_t customer_id;        /* 0: not authenticated */
    int64_t session_ref;        /* the session of a session cookie or temporary key, else 0 */
    const char *session_csrf;   /* by session cookie: its CSRF token (unsafe methods must echo it) */
    const char *username;       /* by session cookie: the user, for the browsable page */
    bool sent_unsafe;           /* the method as sent (before form overloading) writes */
    bool auth_deferred;         /* a read without a body: authenticated in its read transaction */
    const char *form_csrf;      /* the token a form carried (csrfmiddlewaretoken) */

    /* ---- the response */
    int status;
    const char *content_type;
    char *resp_body;            /* malloc'ed; ownership passes to the http layer */
    size_t resp_len;            /* (a stream's: the bytes it sent, for the log) */
    response_stream *stream;    /* instead of resp_body: a streamed answer */
    const char *allow;          /* "GET, POST, HEAD, OPTIONS" */
    header_pair headers_out[REQUEST_MAX_HEADERS_OUT];
    int nheaders_out;
    bool close;                 /* close the connection after this answer */
} request;

/* The method named `name` ("GET", ...), 0 for one the API does not know. */
static inline http_method http_method_parse(const char *name)
{
    static const struct { const char *name; http_method m; } methods[] = {
        {"GET", HTTP_GET},       {"POST", HTTP_POST},     {"PUT", HTTP_PUT},
        {"PATCH", HTTP_PATCH},   {"DELETE", HTTP_DELETE}, {"HEAD", HTTP_HEAD},
        {"OPTIONS", HTTP_OPTIONS},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(name, methods[i].name) == 0)
            return methods[i].m;
    return (http_method)0;
}

/* A request header's value (case-insensitive name; the first of repeated
 * ones), or NULL. */
static inline const char *request_header(const request *r, const char *name)
{
    for (int i = 0; i < r->nheaders_in; i++)
        if (strcasecmp(r->headers_in[i].name, name) == 0)
            return r->headers_in[i].value;
    return NULL;
}

/* The last value of the query parameter with this name (Django's
 * QueryDict.get()), or NULL. */
static inline const char *request_query(const request *r, const char *name)
{
    for (int i = r->nquery - 1; i >= 0; i--)
        if (strcmp(r->query[i].name, name) == 0)
            return r->query[i].value;
    return NULL;
}

/* Add a response header (name and value must outlive the request). Past
 * REQUEST_MAX_HEADERS_OUT, headers are dropped: the table is sized for
 * what the API sends. */
static inline void request_add_header(request *r, const char *name, const char *value)
{
    if (r->nheaders_out < REQUEST_MAX_HEADERS_OUT) {
        r->headers_out[r->nheaders_out].name = name;
        r->headers_out[r->nheaders_out].value = value;
        r->nheaders_out++;
    }
}

#endif
