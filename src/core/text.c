/*
 * text.c — DRF's string and integer input rules (see text.h).
 */
#include "core/text.h"

#include <math.h>
#include <stdlib.h>

#include <string.h>

size_t text_space_at(const unsigned char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r') || (s[0] >= 0x1c && s[0] <= 0x1f)))
        return 1;
    if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0))
        return 2;
    if (n >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)     /* U+1680 */
        return 3;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
        (s[2] <= 0x8A || s[2] == 0xA8 || s[2] == 0xA9 || s[2] == 0xAF))  /* U+2000..200A, 2028, 2029, 202F */
        return s[2] >= 0x80 ? 3 : 0;
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)     /* U+205F */
        return 3;
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)     /* U+3000 */
        return 3;
    return 0;
}

/* Length of the white space character ending at s + n (0 if none). */
static size_t space_before(const unsigned char *s, size_t n)
{
    /* find where the last character starts (skip continuation bytes) */
    size_t k = 1;
    while (k < 4 && k < n && (s[n - k] & 0xC0) == 0x80)
        k++;
    return text_space_at(s + n - k, k) == k ? k : 0;
}

void text_trim(const char **s, size_t *n)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t len = *n, k;
    while (len && (k = text_space_at(p, len)) > 0) {
        p += k;
        len -= k;
    }
    while (len && (k = space_before(p, len)) > 0)
        len -= k;
    *s = (const char *)p;
    *n = len;
}

size_t text_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

bool text_is_clean(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return false;
        if (p[i] == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
            return false;
    }
    return true;
}

static bool is_ascii_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

bool text_python_int(const char *s, size_t n, int64_t *out, int *overflow)
{
    *overflow = 0;
    /* re.sub(r'\.0*\s*$', '', s) */
    size_t end = n;
    while (end && is_ascii_space(s[end - 1]))
        end--;
    while (end && s[end - 1] == '0')
        end--;
    if (end && s[end - 1] == '.')
        n = end - 1;
    /* int(): white space, sign, digits with single '_' between them */
    size_t i = 0;
    while (i < n && is_ascii_space(s[i]))
        i++;
    while (n > i && is_ascii_space(s[n - 1]))
        n--;
    int sign = 1;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        sign = s[i++] == '-' ? -1 : 1;
    if (i >= n)
        return false;
    uint64_t v = 0;
    bool big = false, prev_digit = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (!prev_digit || i + 1 >= n || s[i + 1] < '0' || s[i + 1] > '9')
                return false;
            prev_digit = false;
            continue;
        }
        if (c < '0' || c > '9')
            return false;
        prev_digit = true;
        if (!big) {
            if (v > (UINT64_MAX - 9) / 10)
                big = true;
            else
                v = v * 10 + (uint64_t)(c - '0');
        }
    }
    if (big || (sign > 0 && v > (uint64_t)INT64_MAX) || (sign < 0 && v > (uint64_t)INT64_MAX + 1)) {
        *overflow = sign;
        return true;
    }
    *out = sign > 0 ? (int64_t)v : (int64_t)(0 - v);
    return true;
}

bool text_float_integral(const char *s, size_t n, int64_t *out)
{
    /* Python's float() rounds correctly, as strtod() does: the same double,
     * then str() and int(), which take it when it is integral and printed
     * without an exponent (below 1e16). Only a JSON number's characters:
     * no "inf", "nan", hex or spaces for strtod() to read. */
    if (n == 0 || n > 4096)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", s[i]) || s[i] == '\0')
            return false;
    char buf[4097];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + n || !isfinite(d) || d != trunc(d) || fabs(d) >= 1e16)
        return false;
    *out = (int64_t)d;
    return true;
}

size_t text_utf8_sequence(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
               : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

bool text_valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t len = p[i] ? text_utf8_sequence(p + i, n - i) : 0;
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}
