/*
 * util.c — logging, clocks and percent encoding (see util.h).
 */
#include "core/util.h"

#include "core/text.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void log_line(const char *fmt, ...)
{
    char buf[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof buf - n - 1 ? (size_t)m : sizeof buf - n - 2;
    buf[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, n);
    (void)w;
}

int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *url_decode(arena *a, const char *s, size_t n, bool plus_is_space)
{
    char *out = arena_alloc(a, n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n &&
            hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            *o++ = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            *o++ = ' ';
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

char *url_encode_segment(arena *a, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = arena_alloc(a, n * 3 + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Percent-decode, then make it text as Django's QueryDict does: what is
 * not UTF-8 (and NUL) becomes U+FFFD. */
const char *form_decode(arena *a, const char *s, size_t n)
{
    char *raw = url_decode(a, s, n, true);
    size_t len = 0;   /* url_decode never lengthens; a %00 may hide the rest from strlen */
    for (size_t i = 0; i < n; len++)
        i += s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2]) ? 3 : 1;
    if (text_valid_utf8(raw, len))
        return raw;
    char *out = arena_alloc(a, len * 3 + 1), *o = out;
    const unsigned char *p = (const unsigned char *)raw;
    for (size_t i = 0; i < len;) {
        size_t k = p[i] ? text_utf8_sequence(p + i, len - i) : 0;
        if (k) {
            memcpy(o, p + i, k);
            o += k;
            i += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    return out;
}

void urlencoded_each(arena *a, const char *s, size_t n,
                     void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *name = form_decode(a, p, (size_t)((eq ? eq : stop) - p));
            const char *value = eq ? form_decode(a, eq + 1, (size_t)(stop - eq - 1)) : "";
            fn(ctx, name, value);
        }
        p = stop + 1;
    }
}

const char *log_escape(arena *a, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    if (!s)
        return "-";
    size_t n = strnlen(s, max + 1);
    bool cut = n > max;
    if (cut)
        n = max;
    char *out = arena_alloc(a, n * 4 + 4), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *o++ = (char)c;
        } else {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    if (cut) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}
