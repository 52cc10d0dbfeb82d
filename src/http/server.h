/*
 * server.h — the HTTP server: libmicrohttpd in epoll mode with a pool of
 * connection threads (which run reads) and a pool of writer threads (which
 * run writes), each thread holding its own database connection.
 *
 * server_run() serves until SIGTERM or SIGINT, then stops accepting,
 * lets the requests in flight finish (up to 10 s), closes the database
 * connections and returns 0. Every request is handed to api_dispatch()
 * (api/api.h) once its whole body has arrived.
 *
 * With a TLS certificate and key it speaks HTTPS itself (libmicrohttpd's TLS,
 * GnuTLS underneath; TLS 1.2 and 1.3 only) and builds urls with https://.
 * Both files are read and checked as a pair before anything listens; a file
 * that cannot be read, is not PEM, or does not match the other makes
 * server_run() return 2 after logging why.
 */
#ifndef STOCKROOM_SERVER_H
#define STOCKROOM_SERVER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct server_config {
    const char *listen_host;   /* "127.0.0.1" */
    unsigned short port;       /* 8000 */
    const char *db_url;        /* file path or postgresql:// URL */
    unsigned threads;          /* connection threads, which also run reads (0: two per core) */
    unsigned writers;          /* threads running writes (0: eight per core) */
    size_t max_body;           /* bytes; larger bodies get 413 */
    bool trust_proxy;          /* urls follow X-Forwarded-Proto / X-Forwarded-Host */
    const char *tls_cert_file; /* PEM certificate (chain); set with tls_key_file for HTTPS */
    const char *tls_key_file;  /* PEM private key, unencrypted */
} server_config;

/* 0 after a clean stop; 1 when it cannot listen; 2 for a bad configuration
 * (listen address, TLS files). */
int server_run(const server_config *cfg);

#endif
