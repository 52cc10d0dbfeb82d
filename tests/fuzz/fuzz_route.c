/*
 * fuzz_route — a request's path and query string as the router reads them
 * (api_resolve(), api/api.h): the bytes up to the first newline are the
 * path, the rest the query string, split into parameters by
 * urlencoded_each() as the http layer does; the Accept header is a fixed
 * browser's. Properties: the route is -1 or a row of api_routes, its
 * captures are as many as the pattern's {} segments, each a valid UTF-8
 * text without NUL, and the format is one the router knows.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/api.h"
#include "core/arena.h"
#include "core/text.h"
#include "core/util.h"
#include "http/request.h"

#include "fuzz.h"

static arena *A;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    A = arena_new(0);
    return 0;
}

typedef struct params {
    query_param *q;
    int n;
    size_t cap;
} params;

static void add_param(void *ctx, const char *name, const char *value)
{
    params *p = ctx;
    p->q = arena_grow(A, p->q, (size_t)p->n, &p->cap, sizeof *p->q);
    p->q[p->n].name = name;
    p->q[p->n].value = value;
    p->n++;
}

static int pattern_captures(const char *pattern)
{
    int n = 0;
    for (const char *p = pattern; (p = strchr(p, '{')); p++)
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_reset(A);
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t path_len = nl ? (size_t)(nl - s) : size;
    /* libmicrohttpd hands over a NUL-terminated path that starts with "/" */
    char *path = arena_alloc(A, path_len + 2);
    path[0] = '/';
    memcpy(path + 1, s, path_len);
    path[path_len + 1] = '\0';   /* a NUL inside ends it, as in a C string */

    params p = {0};
    if (nl)
        urlencoded_each(A, nl + 1, size - path_len - 1, add_param, &p);
    header_pair accept = {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"};
    request r = {.arena = A, .path = path, .query = p.q, .nquery = p.n, .headers_in = &accept,
                 .nheaders_in = 1, .method = HTTP_GET, .method_name = "GET"};
    api_resolve(&r);
    FUZZ_CHECK(r.route >= -1 && r.route < api_nroutes, "route %d out of the table", r.route);
    if (r.route >= 0) {
        FUZZ_CHECK(r.ncaptures == pattern_captures(api_routes[r.route].pattern) ||
                       r.ncaptures == ROUTE_MAX_CAPTURES,
                   "%d captures for %s", r.ncaptures, api_routes[r.route].pattern);
        for (int i = 0; i < r.ncaptures; i++)
            FUZZ_CHECK(r.captures[i] && text_valid_utf8(r.captures[i], strlen(r.captures[i])),
                       "capture %d is not text", i);
    }
    FUZZ_CHECK(!(r.browsable && r.xml), "both browsable and XML");
    return 0;
}
