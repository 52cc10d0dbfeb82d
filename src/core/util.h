/*
 * util.h — small things every layer uses: the log, clocks, and percent
 * encoding. log_line() writes one whole line to stderr with a single
 * write(2), so lines from concurrent threads never interleave; whatever
 * came from a request goes through log_escape() first.
 */
#ifndef STOCKROOM_UTIL_H
#define STOCKROOM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t monotonic_us(void);

/* Percent-decode n bytes (and '+' as space when plus_is_space) into the arena. */
char *url_decode(arena *a, const char *s, size_t n, bool plus_is_space);
/* Percent-encode a path segment (everything but unreserved characters). */
char *url_encode_segment(arena *a, const char *s, size_t n);
/* Percent-encode a query component (as url_encode_segment; space is %20). */
#define url_encode_query url_encode_segment

/* Percent-decode a form or query component ('+' as space) into text as
 * Django's QueryDict does: bytes that are not UTF-8, and NUL, become U+FFFD. */
const char *form_decode(arena *a, const char *s, size_t n);

/* Call fn(ctx, name, value) for each name=value pair of n bytes of
 * application/x-www-form-urlencoded text (a query string or a form body),
 * in order, both decoded into the arena ('+' as space) and made text as
 * Django's QueryDict does (bytes that are not UTF-8, and NUL, become
 * U+FFFD); a pair without '=' has the value "", empty pairs are skipped. */
void urlencoded_each(arena *a, const char *s, size_t n,
                     void (*fn)(void *ctx, const char *name, const char *value), void *ctx);

/* s as the log may show it: printable ASCII as it is, '"', '\\', control
 * characters and every other byte as \xNN, so nothing from a request can
 * start a line or pass for another field; at most `max` bytes of s are
 * shown ("..." marks the cut). In the arena. */
const char *log_escape(arena *a, const char *s, size_t max);

#endif
