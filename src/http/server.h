/*
 * server.h — the HTTP server: libmicrohttpd in epoll mode with a pool of
 * connection threads, a pool of writer threads and a small pool for logins.
 * It knows HTTP and nothing of the API: the application above it is a set
 * of callbacks (http_app) that decide, from a request's head, where it runs
 * (or answer it at once), and then run it.
 *
 * What it promises, against clients that mean harm (docs/decisions.md,
 * "Hostile load"):
 *   - at most max_connections connections (the process's open-file limit
 *     is raised to fit them), max_connections_per_ip from one address when
 *     set;
 *   - a request's head must be complete header_timeout seconds after its
 *     first byte arrived, and a body may not stall for body_timeout seconds;
 *     an idle keep-alive connection is closed after idle_timeout;
 *   - a Content-Length over max_body is 413 before any of the body is read;
 *     a request the application answers from its head (401, 404, 405 ...)
 *     never has its body buffered: a small body is read and thrown away so
 *     the connection stays usable, a larger one is not read and the
 *     connection is closed after the answer;
 *   - bodies are buffered in one malloc'ed block each (exactly sized when
 *     the length is declared), and all of them together within body_budget
 *     bytes: past it a request is 503 with Retry-After;
 *   - the login pool's queue is bounded: when full, 429 with Retry-After;
 *   - at most max_streams streamed answers (request.h's response_stream)
 *     are open at once: past it 503 with Retry-After. A stream produces
 *     only as fast as its client reads, holds no thread while it waits,
 *     sends its heartbeat when silent for STREAM_HEARTBEAT_S (timeouts
 *     never cut it while its client reads), and is ended when its client
 *     goes; its access-log line is written when it ends;
 *   - on SIGTERM or SIGINT it stops accepting, ends every stream at once
 *     (cleanly; a client that does not read has its connection shut down
 *     after a second), refuses new requests on open
 *     connections with 503 (and closes them), lets the requests in flight
 *     finish for up to stop_timeout seconds, answers 503 to work still
 *     queued after that, resumes every suspended connection, and returns 0.
 *     No answer is ever cut in the middle.
 *
 * With a TLS certificate and key it speaks HTTPS itself (libmicrohttpd's
 * TLS, GnuTLS underneath; TLS 1.2 and 1.3 only). Both files are read and
 * checked as a pair before anything listens.
 */
#ifndef STOCKROOM_SERVER_H
#define STOCKROOM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

typedef struct http_config {
    const char *listen_host;        /* "127.0.0.1" */
    unsigned short port;            /* 8000 */
    unsigned threads;               /* connection threads, which also run reads (0: two per core) */
    unsigned writers;               /* threads running writes (0: eight per core) */
    unsigned login_threads;         /* threads checking passwords (0: one per core) */
    unsigned login_queue;           /* logins waiting for one of them, at most */
    unsigned max_connections;       /* open connections, at most */
    unsigned max_connections_per_ip;/* from one address, at most (0: no limit) */
    unsigned header_timeout;        /* seconds from a head's first byte to its end */
    unsigned body_timeout;          /* seconds a body may go without a byte */
    unsigned idle_timeout;          /* seconds an idle connection stays open */
    unsigned stop_timeout;          /* seconds requests in flight get to finish at a stop */
    unsigned max_streams;           /* streamed answers open at once, at most: past it 503 */
    size_t max_body;                /* bytes; a larger body is 413 */
    size_t body_budget;             /* bytes of bodies buffered at once, at most */
    bool trust_proxy;               /* urls and client address from X-Forwarded-* */
    const char *tls_cert_file;      /* PEM certificate (chain); set with tls_key_file for HTTPS */
    const char *tls_key_file;       /* PEM private key, unencrypted */
} http_config;

typedef struct http_app {
    /* The head is in (method, path, query, headers; no body yet): route,
     * authenticate, and say where the request runs — or answer it
     * (LANE_ANSWERED), in which case its body is never buffered. */
    request_lane (*admit)(request *r);
    /* The body is in: run the request and fill its response. Runs on the
     * thread of the lane admit() chose. */
    void (*run)(request *r);
    /* Fill the response for an answer the http layer gives by itself:
     * 413 (body too large), 429 (login queue full), 503 (body budget spent,
     * writers' queue full, or stopping). */
    void (*refuse)(request *r, int status);
    /* Called once the socket listens (ready), and when a stop begins. */
    void (*notify)(const char *state);
    /* A request ended (its answer sent, or its connection gone), `us`
     * microseconds after its head came in: for the metrics (may be NULL). */
    void (*completed)(const request *r, int64_t us);
} http_app;

/* Serve until SIGTERM or SIGINT. 0 after a clean stop; 1 when it cannot
 * listen; 2 for a bad configuration (listen address, TLS files). */
int http_serve(const http_config *cfg, const http_app *app);

#endif
