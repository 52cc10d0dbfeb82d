/*
 * decimal.c — DRF DecimalField(max_digits=18, decimal_places=4) on text.
 *
 * decimal_parse() reproduces what DRF 3.14 does with a value:
 * str(data).strip(), the 1000-character guard, Python's Decimal(string)
 * (underscores dropped anywhere, exponent limits of CPython's libmpdec), then
 * validate_precision() on the value's (digits, exponent) tuple. Only integer
 * arithmetic is used; any exponent, however long, is handled by saturation.
 * A value that passes is exact in 1/10000ths and fits in int64.
 */
#include "decimal.h"
#include "text.h"

#include <stdbool.h>
#include <stdio.h>

/* DRF's DecimalField.MAX_STRING_LENGTH, counted in characters. */
#define MAX_STRING_CHARS 1000
#define MAX_WHOLE_DIGITS (DECIMAL_MAX_DIGITS - DECIMAL_PLACES)

/* Exponent range of a Decimal built from a string in CPython (libmpdec's
 * maximum context on 64-bit): outside it Decimal() raises InvalidOperation. */
#define PY_DECIMAL_EMAX INT64_C(999999999999999999)
#define PY_DECIMAL_ETINY INT64_C(-1999999999999999997)
/* Exponent literals are clamped here: far outside the range above, and far
 * from INT64 limits, so later sums cannot overflow. */
#define EXPONENT_CLAMP INT64_C(4000000000000000000)

/* Decimal(s).as_tuple(), with the coefficient's value when it is short. */
typedef struct {
    bool negative;
    int64_t coefficient;  /* valid while digit_count <= DECIMAL_MAX_DIGITS */
    int64_t digit_count;  /* len(digits): leading zeros dropped, 1 for zero */
    int64_t exponent;
} decimal_tuple;

/* Python's len() of UTF-8 text: bytes that do not continue a character. */
static size_t count_chars(const unsigned char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += (s[i] & 0xc0) != 0x80;
    return chars;
}

/* ---- Decimal(string) syntax ---- */

/* Reads the text as Decimal() does after deleting every "_". */
typedef struct {
    const unsigned char *s;
    size_t n, pos;
} reader;

static int peek(reader *r)
{
    while (r->pos < r->n && r->s[r->pos] == '_')
        r->pos++;
    return r->pos < r->n ? r->s[r->pos] : -1;
}

static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* Consumes an optional sign; true when it was '-'. */
static bool read_sign(reader *r)
{
    int c = peek(r);
    if (c == '+' || c == '-')
        r->pos++;
    return c == '-';
}

static void add_digit(decimal_tuple *t, int digit)
{
    if (t->digit_count == 0 && digit == 0)
        return;  /* leading zero: not part of the digit tuple */
    if (t->digit_count < DECIMAL_MAX_DIGITS)
        t->coefficient = t->coefficient * 10 + digit;
    t->digit_count++;
}

/* digits [ "." [digits] ] | "." digits; sets the exponent to -(fraction
 * length). False when there is no digit at all. */
static bool read_coefficient(reader *r, decimal_tuple *t)
{
    bool any_digit = false, in_fraction = false;
    int64_t fraction_len = 0;
    for (int c = peek(r); ; c = peek(r)) {
        if (is_digit(c)) {
            add_digit(t, c - '0');
            if (in_fraction)
                fraction_len++;
            any_digit = true;
        } else if (c == '.' && !in_fraction) {
            in_fraction = true;
        } else {
            break;
        }
        r->pos++;
    }
    if (t->digit_count == 0)
        t->digit_count = 1;  /* Decimal zero has digits == (0,) */
    t->exponent = -fraction_len;
    return any_digit;
}

/* ("e" | "E") [sign] digits, added to t->exponent. Absent is fine. */
static bool read_exponent(reader *r, decimal_tuple *t)
{
    int c = peek(r);
    if (c != 'e' && c != 'E')
        return true;
    r->pos++;
    bool negative = read_sign(r);
    if (!is_digit(peek(r)))
        return false;
    int64_t magnitude = 0;
    for (c = peek(r); is_digit(c); c = peek(r)) {
        if (magnitude >= EXPONENT_CLAMP / 10)
            magnitude = EXPONENT_CLAMP;  /* stays put from here on */
        else
            magnitude = magnitude * 10 + (c - '0');
        r->pos++;
    }
    t->exponent += negative ? -magnitude : magnitude;
    return true;
}

/* True when Python's Decimal(text) succeeds with a finite value. */
static bool read_decimal(const unsigned char *s, size_t n, decimal_tuple *t)
{
    reader r = {s, n, 0};
    *t = (decimal_tuple){0};
    t->negative = read_sign(&r);
    return read_coefficient(&r, t) && read_exponent(&r, t) && peek(&r) == -1;
}

/* libmpdec refuses (overflow, or clamping/rounding below etiny) what lies
 * outside its exponent range instead of building it exactly. */
static bool python_can_represent(const decimal_tuple *t)
{
    if (t->exponent < PY_DECIMAL_ETINY)
        return false;
    int64_t adjusted = t->exponent + t->digit_count - 1;  /* zero: exponent */
    return adjusted <= PY_DECIMAL_EMAX;
}

/* DRF DecimalField.validate_precision(), checks in DRF's order. */
static decimal_status validate_precision(const decimal_tuple *t)
{
    int64_t total, whole, places;
    if (t->exponent >= 0) {
        total = t->digit_count + t->exponent;
        whole = total;
        places = 0;
    } else if (t->digit_count > -t->exponent) {
        total = t->digit_count;
        whole = total + t->exponent;
        places = -t->exponent;
    } else {
        total = -t->exponent;
        whole = 0;
        places = total;
    }
    if (total > DECIMAL_MAX_DIGITS)
        return DECIMAL_MAX_DIGITS_ERR;
    if (places > DECIMAL_PLACES)
        return DECIMAL_MAX_PLACES_ERR;
    if (whole > MAX_WHOLE_DIGITS)
        return DECIMAL_MAX_WHOLE_ERR;
    return DECIMAL_OK;
}

/* coefficient * 10^(exponent + 4); only for values that passed validation,
 * so -4 <= exponent and digits + exponent <= 14: the result is < 10^18. */
static int64_t to_scaled(const decimal_tuple *t)
{
    int64_t v = t->coefficient;
    for (int64_t i = 0; i < t->exponent + DECIMAL_PLACES; i++)
        v *= 10;
    return t->negative ? -v : v;
}

decimal_status decimal_parse(const char *text, size_t n, int64_t *out)
{
    text_trim(&text, &n);
    const unsigned char *s = (const unsigned char *)text;
    if (count_chars(s, n) > MAX_STRING_CHARS)
        return DECIMAL_TOO_LONG;
    /* From here on digit and fraction counts are at most 1000, and the
     * exponent literal is clamped: no sum below can overflow. */
    decimal_tuple t;
    if (!read_decimal(s, n, &t) || !python_can_represent(&t))
        return DECIMAL_INVALID;
    decimal_status st = validate_precision(&t);
    if (st == DECIMAL_OK)
        *out = to_scaled(&t);
    return st;
}

const char *decimal_message(decimal_status st)
{
    switch (st) {
    case DECIMAL_OK:
        return NULL;
    case DECIMAL_INVALID:
        return "A valid number is required.";
    case DECIMAL_MAX_DIGITS_ERR:
        return "Ensure that there are no more than 18 digits in total.";
    case DECIMAL_MAX_PLACES_ERR:
        return "Ensure that there are no more than 4 decimal places.";
    case DECIMAL_MAX_WHOLE_ERR:
        return "Ensure that there are no more than 14 digits before the decimal point.";
    case DECIMAL_TOO_LONG:
        return "String value too large.";
    }
    return "A valid number is required.";
}

size_t decimal_format(int64_t v, char *buf)
{
    /* Magnitude in unsigned arithmetic so INT64_MIN formats too. */
    uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
    int len = snprintf(buf, DECIMAL_BUF, "%s%llu.%04llu", v < 0 ? "-" : "",
                       (unsigned long long)(magnitude / DECIMAL_SCALE),
                       (unsigned long long)(magnitude % DECIMAL_SCALE));
    return (size_t)len;
}
