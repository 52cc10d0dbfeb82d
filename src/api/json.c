/*
 * json.c — body parsing with json-c and the response writer (see json.h).
 */
#include "api/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

/*
 * json-c's strict mode still takes NaN, Infinity, single-quoted strings,
 * raw control characters inside strings, and numbers such as "1." or "01",
 * which Python's json (as DRF configures it) refuses; and it saturates
 * integers beyond 64 bits. So the body is scanned first: outside strings
 * only structure, the letters of true/false/null and well-formed numbers
 * may appear; inside them a \u escape must name a Unicode scalar value
 * (json-c would turn a lone surrogate into U+FFFD, silently changing the
 * data). Integers of more than 18 digits are recorded in *big so the
 * caller can hand them to json-c as strings, which keeps their text exact
 * (fields read numbers by their text anyway). Returns the offset of the
 * first offending byte (and *why, when it is not just a bad byte), or -1.
 */
typedef struct span {
    size_t start, end;
} span;

typedef struct spans {
    span *items;
    size_t n, cap;
} spans;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of the JSON number at s[i..n), 0 if malformed; *integer_digits
 * gets its digit count when it is an integer, else 0. */
static size_t number_length(const char *s, size_t i, size_t n, size_t *integer_digits)
{
    size_t j = i;
    if (s[j] == '-')
        j++;
    size_t first = j;
    if (j >= n || !is_digit(s[j]))
        return 0;
    if (s[j] == '0') {
        j++;
        if (j < n && is_digit(s[j]))
            return 0;   /* leading zero */
    } else {
        while (j < n && is_digit(s[j]))
            j++;
    }
    size_t digits = j - first;
    bool integer = true;
    if (j < n && s[j] == '.') {
        j++;
        if (j >= n || !is_digit(s[j]))
            return 0;
        while (j < n && is_digit(s[j]))
            j++;
        integer = false;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j >= n || !is_digit(s[j]))
            return 0;
        while (j < n && is_digit(s[j]))
            j++;
        integer = false;
    }
    *integer_digits = integer ? digits : 0;
    return j - i;
}

static void spans_add(arena *a, spans *sp, size_t start, size_t end)
{
    sp->items = arena_grow(a, sp->items, sp->n, &sp->cap, sizeof(span));
    sp->items[sp->n].start = start;
    sp->items[sp->n].end = end;
    sp->n++;
}

/* The value of four hex digits at s[i..], or -1. */
static long hex4(const char *s, size_t i, size_t n)
{
    long v = 0;
    if (i + 4 > n)
        return -1;
    for (size_t k = i; k < i + 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static long find_non_json(arena *a, const char *s, size_t n, spans *big, const char **why)
{
    static const char allowed[] = "{}[],: \t\n\rtruefalsn";
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((unsigned char)c >= 0x80) {
            size_t len = text_utf8_sequence((const unsigned char *)s + i, n - i);
            if (len == 0)
                return (long)i;
            i += len - 1;
            if (!in_string)
                return (long)i;
        } else if (in_string) {
            if ((unsigned char)c < 0x20)   /* raw control characters must be escaped */
                return (long)i;
            if (c == '\\' && i + 1 < n && s[i + 1] == 'u') {
                /* \uXXXX must name a Unicode scalar value: a high surrogate
                 * only with a low one after it, a low one never alone */
                long cp = hex4(s, i + 2, n);
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return *why = "lone surrogate", (long)i;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    long low = i + 7 < n && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(s, i + 8, n) : -1;
                    if (low < 0xDC00 || low > 0xDFFF)
                        return *why = "lone surrogate", (long)i;
                    i += 6;
                }
                if (cp >= 0)
                    i += 4;
            }
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '-' || is_digit(c)) {
            size_t digits = 0, len = number_length(s, i, n, &digits);
            if (len == 0)
                return (long)i;
            if (digits > 18)
                spans_add(a, big, i, i + len);
            i += len - 1;
        } else if (!strchr(allowed, c) || c == '\0' ||
                   (c == 'a' && (i == 0 || s[i - 1] != 'f'))) {
            return (long)i;
        }
    }
    return -1;
}

/* A copy of the body with the big integers quoted (see find_non_json). */
static const char *quote_spans(arena *a, const char *body, size_t *len, const spans *big)
{
    char *out = arena_alloc(a, *len + 2 * big->n + 1), *o = out;
    size_t at = 0;
    for (size_t k = 0; k < big->n; k++) {
        memcpy(o, body + at, big->items[k].start - at);
        o += big->items[k].start - at;
        *o++ = '"';
        memcpy(o, body + big->items[k].start, big->items[k].end - big->items[k].start);
        o += big->items[k].end - big->items[k].start;
        *o++ = '"';
        at = big->items[k].end;
    }
    memcpy(o, body + at, *len - at);
    o += *len - at;
    *o = '\0';
    *len = (size_t)(o - out);
    return out;
}

json_object *json_parse_body(arena *a, const char *body, size_t len, const char **error)
{
    spans big = {0};
    const char *why = "invalid character or byte";
    long bad = find_non_json(a, body, len, &big, &why);
    if (bad >= 0) {
        *error = arena_printf(a, "JSON parse error - %s at char %ld", why, bad);
        return NULL;
    }
    if (big.n)
        body = quote_spans(a, body, &len, &big);
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok) {
        *error = "JSON parse error - out of memory";
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    /* body[len] is a NUL: passing it lets json-c finish a bare number */
    json_object *v = json_tokener_parse_ex(tok, body, (int)len + 1);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t offset = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* the text ended inside a value */
        *error = arena_printf(a, "JSON parse error - unexpected end of data at char %zu", len);
        json_tokener_free(tok);
        return NULL;
    }
    if (jerr != json_tokener_success) {
        *error = arena_printf(a, "JSON parse error - %s at char %zu",
                              json_tokener_error_desc(jerr), offset);
        json_tokener_free(tok);
        return NULL;
    }
    /* Only white space may follow the value. */
    for (size_t i = offset; i < len && body[i]; i++) {
        char c = body[i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            *error = arena_printf(a, "JSON parse error - extra data at char %zu", i);
            json_object_put(v);
            json_tokener_free(tok);
            return NULL;
        }
    }
    json_tokener_free(tok);
    *error = NULL;
    if (!v) /* the literal null: json-c returns NULL with success */
        return NULL;
    return v;
}

const char *json_python_type(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "NoneType";
    case json_type_boolean: return "bool";
    case json_type_double: return "float";
    case json_type_int: return "int";
    case json_type_object: return "dict";
    case json_type_array: return "list";
    case json_type_string: return "str";
    }
    return "object";
}

/* ------------------------------------------------------------------ writer */

void jw_init(jw *w, size_t initial)
{
    w->cap = initial < 64 ? 64 : initial;
    w->buf = malloc(w->cap);
    if (!w->buf)
        abort();
    w->len = 0;
    w->depth = 0;
    w->need_comma[0] = 0;
}

char *jw_take(jw *w, size_t *len)
{
    char *b = w->buf;
    *len = w->len;
    w->buf = NULL;
    w->len = w->cap = 0;
    return b;
}

void jw_free(jw *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

static void grow(jw *w, size_t n)
{
    size_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + n)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b)
        abort();
    w->buf = b;
    w->cap = cap;
}

/* Room for n more bytes; the common case is one comparison. */
static inline void reserve(jw *w, size_t n)
{
    if (__builtin_expect(w->len + n > w->cap, 0))
        grow(w, n);
}

void jw_append(jw *w, const char *s, size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void put(jw *w, char c)
{
    reserve(w, 1);
    w->buf[w->len++] = c;
}

/* Called before every value: a comma unless it is the first in its container. */
static void before_value(jw *w)
{
    if (w->need_comma[w->depth] == 1)
        put(w, ',');
    else if (w->need_comma[w->depth] == 0)
        w->need_comma[w->depth] = 1;
    else /* 2: right after a key */
        w->need_comma[w->depth] = 1;
}

static void open(jw *w, char c)
{
    before_value(w);
    put(w, c);
    if (w->depth < JSON_MAX_DEPTH)
        w->depth++;
    w->need_comma[w->depth] = 0;
}

void jw_obj(jw *w) { open(w, '{'); }
void jw_arr(jw *w) { open(w, '['); }

void jw_obj_end(jw *w)
{
    put(w, '}');
    if (w->depth > 0)
        w->depth--;
}

void jw_arr_end(jw *w)
{
    put(w, ']');
    if (w->depth > 0)
        w->depth--;
}

/* Bytes that JSON strings must escape: control characters, '"' and '\\'. */
static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void write_escape(jw *w, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 0};
    size_t len = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
        esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
        esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
        len = 6;
    }
    jw_append(w, esc, len);
}

/* Copies runs without escapes whole: the usual string is one memcpy. */
static void write_string(jw *w, const char *s, size_t n)
{
    reserve(w, n + 2);
    w->buf[w->len++] = '"';
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (__builtin_expect(!needs_escape((unsigned char)s[i]), 1))
            continue;
        jw_append(w, s + start, i - start);
        write_escape(w, (unsigned char)s[i]);
        start = i + 1;
    }
    jw_append(w, s + start, n - start);
    put(w, '"');
}

void jw_key(jw *w, const char *key)
{
    before_value(w);
    write_string(w, key, strlen(key));
    put(w, ':');
    w->need_comma[w->depth] = 2;
}

void jw_str(jw *w, const char *s, size_t n)
{
    before_value(w);
    write_string(w, s, n);
}

void jw_cstr(jw *w, const char *s)
{
    if (!s)
        jw_null(w);
    else
        jw_str(w, s, strlen(s));
}

void jw_int(jw *w, int64_t v)
{
    char b[24], *p = b + sizeof b;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    before_value(w);
    jw_append(w, p, (size_t)(b + sizeof b - p));
}

void jw_null(jw *w)
{
    before_value(w);
    jw_append(w, "null", 4);
}

void jw_bool(jw *w, bool v)
{
    before_value(w);
    if (v)
        jw_append(w, "true", 4);
    else
        jw_append(w, "false", 5);
}

void jw_raw(jw *w, const char *json, size_t n)
{
    before_value(w);
    jw_append(w, json, n);
}

void jw_json(jw *w, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        jw_null(w);
        break;
    case json_type_object:
        jw_obj(w);
        json_object_object_foreach(v, k, child) {
            jw_key(w, k);
            jw_json(w, child);
        }
        jw_obj_end(w);
        break;
    case json_type_array:
        jw_arr(w);
        for (size_t i = 0; i < json_object_array_length(v); i++)
            jw_json(w, json_object_array_get_idx(v, i));
        jw_arr_end(w);
        break;
    case json_type_string:
        jw_str(w, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    default: {
        const char *t = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        jw_raw(w, t, strlen(t));
    }
    }
}
