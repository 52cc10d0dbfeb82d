/*
 * datetime.c — Django 3.2 parse_datetime() and DRF's datetime output.
 *
 * The parser is a hand-written matcher for Django's datetime_re (re.match at
 * the start, Python's "$" at the end, which also matches before one final
 * "\n"), followed by the checks Python's datetime() and timezone() make.
 * Offsets are converted to UTC; the result must stay in years 1..9999, as
 * Python's astimezone() requires. Calendar arithmetic is integer-only
 * (proleptic Gregorian day counts), with no dependence on TZ or libc time.
 */
#include "datetime.h"
#include "text.h"

#include <stdio.h>
#include <time.h>

#define US_PER_SECOND INT64_C(1000000)
#define SECONDS_PER_DAY 86400
#define MINUTES_PER_DAY 1440
#define DAYS_PER_400_YEARS 146097
#define DAYS_PER_100_YEARS 36524
#define DAYS_PER_4_YEARS 1461
/* Days from 0001-01-01 to 1970-01-01. */
#define EPOCH_DAY_NUMBER 719162

/* What datetime_re captures, as integers. */
typedef struct {
    int year, month, day, hour, minute, second, microsecond;
    int offset_minutes;  /* east of UTC; 0 for "Z" and for naive values */
} datetime_fields;

typedef struct {
    const unsigned char *s;
    size_t n, pos;
} cursor;

/* ---- the regular expression ---- */

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static size_t digits_ahead(const cursor *c)
{
    size_t len = 0;
    while (c->pos + len < c->n && is_digit(c->s[c->pos + len]))
        len++;
    return len;
}

static int digits_value(const unsigned char *s, size_t len)
{
    int v = 0;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* \d{min,max} where the next token cannot start with a digit, so the whole
 * run of digits has to fit. */
static bool read_number(cursor *c, size_t min_len, size_t max_len, int *value)
{
    size_t len = digits_ahead(c);
    if (len < min_len || len > max_len)
        return false;
    *value = digits_value(c->s + c->pos, len);
    c->pos += len;
    return true;
}

/* Exactly two digits (the offset's \d{2}, which a digit may follow). */
static bool read_two_digits(cursor *c, int *value)
{
    if (digits_ahead(c) < 2)
        return false;
    *value = digits_value(c->s + c->pos, 2);
    c->pos += 2;
    return true;
}

static bool read_char(cursor *c, char want)
{
    if (c->pos >= c->n || c->s[c->pos] != (unsigned char)want)
        return false;
    c->pos++;
    return true;
}


/* (?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2}) */
static bool read_date(cursor *c, datetime_fields *f)
{
    return read_number(c, 4, 4, &f->year) && read_char(c, '-') &&
           read_number(c, 1, 2, &f->month) && read_char(c, '-') &&
           read_number(c, 1, 2, &f->day);
}

/* [\.,](?P<microsecond>\d{1,6})\d{0,6}, padded on the right to 6 digits. */
static bool read_fraction(cursor *c, datetime_fields *f)
{
    if (!read_char(c, '.') && !read_char(c, ','))
        return false;
    size_t len = digits_ahead(c);
    if (len < 1 || len > 12)
        return false;
    size_t kept = len < 6 ? len : 6;
    f->microsecond = digits_value(c->s + c->pos, kept);
    for (size_t i = kept; i < 6; i++)
        f->microsecond *= 10;
    c->pos += len;
    return true;
}

/* [T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(fraction)?)?
 * A ":" or "." that does not start its optional group can match nothing
 * after it either, so seeing one commits to the group. */
static bool read_time(cursor *c, datetime_fields *f)
{
    if (!read_char(c, 'T') && !read_char(c, ' '))
        return false;
    if (!read_number(c, 1, 2, &f->hour) || !read_char(c, ':') ||
        !read_number(c, 1, 2, &f->minute))
        return false;
    if (!read_char(c, ':'))
        return true;
    if (!read_number(c, 1, 2, &f->second))
        return false;
    bool fraction_follows = c->pos < c->n &&
                            (c->s[c->pos] == '.' || c->s[c->pos] == ',');
    return !fraction_follows || read_fraction(c, f);
}

/* \s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)? — Django: minutes = int(tz[-2:])
 * when present, and the sign applies to hours and minutes alike. */
static bool read_offset(cursor *c, datetime_fields *f)
{
    for (size_t len; (len = text_space_at(c->s + c->pos, c->n - c->pos)) > 0;)
        c->pos += len;
    if (read_char(c, 'Z'))
        return true;
    bool negative = read_char(c, '-');
    if (!negative && !read_char(c, '+'))
        return true;  /* no offset: naive */
    int hours, minutes = 0;
    if (!read_two_digits(c, &hours))
        return false;
    bool has_colon = read_char(c, ':');
    if ((has_colon || digits_ahead(c) > 0) && !read_two_digits(c, &minutes))
        return false;
    f->offset_minutes = (negative ? -1 : 1) * (hours * 60 + minutes);
    return true;
}

/* Python's "$": the end, or just before a "\n" that ends the text. */
static bool at_end(const cursor *c)
{
    return c->pos == c->n || (c->pos + 1 == c->n && c->s[c->pos] == '\n');
}

static bool match_datetime_re(const char *text, size_t n, datetime_fields *f)
{
    cursor c = {(const unsigned char *)text, n, 0};
    *f = (datetime_fields){0};
    return read_date(&c, f) && read_time(&c, f) && read_offset(&c, f) &&
           at_end(&c);
}

/* ---- calendar ---- */

static bool is_leap_year(int64_t year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static int days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[month - 1] + (month == 2 && is_leap_year(year));
}

/* Day number of y-m-d counted from 0001-01-01 (day 0); year >= 1. */
static int64_t day_number(int year, int month, int day)
{
    int64_t y = year - 1;
    int64_t days = y * 365 + y / 4 - y / 100 + y / 400;
    for (int m = 1; m < month; m++)
        days += days_in_month(year, m);
    return days + day - 1;
}

static int64_t floor_div(int64_t a, int64_t b, int64_t *remainder)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        r += b;
        q--;
    }
    *remainder = r;
    return q;
}

/* Inverse of day_number() for any day, negative ones included. */
static void civil_from_day_number(int64_t days, int64_t *year, int *month,
                                  int *day)
{
    int64_t rest;
    int64_t y = 1 + 400 * floor_div(days, DAYS_PER_400_YEARS, &rest);
    int64_t centuries = rest / DAYS_PER_100_YEARS;
    if (centuries == 4)
        centuries = 3;  /* the last day of the cycle, in a leap year */
    rest -= centuries * DAYS_PER_100_YEARS;
    int64_t quads = rest / DAYS_PER_4_YEARS;
    rest -= quads * DAYS_PER_4_YEARS;
    int64_t years = rest / 365;
    if (years == 4)
        years = 3;  /* the last day of a leap year */
    rest -= years * 365;
    y += 100 * centuries + 4 * quads + years;

    int m = 1;
    while (rest >= days_in_month(y, m))
        rest -= days_in_month(y, m++);
    *year = y;
    *month = m;
    *day = (int)rest + 1;
}

/* ---- Python's datetime() and timezone() checks ---- */

static bool fields_in_range(const datetime_fields *f)
{
    return f->year >= 1 && f->year <= 9999 && f->month >= 1 &&
           f->month <= 12 && f->day >= 1 &&
           f->day <= days_in_month(f->year, f->month) && f->hour <= 23 &&
           f->minute <= 59 && f->second <= 59 &&
           f->offset_minutes > -MINUTES_PER_DAY &&
           f->offset_minutes < MINUTES_PER_DAY;
}

static int64_t utc_microseconds(const datetime_fields *f)
{
    int64_t days = day_number(f->year, f->month, f->day) - EPOCH_DAY_NUMBER;
    int64_t seconds = days * SECONDS_PER_DAY + f->hour * 3600 +
                      (f->minute - f->offset_minutes) * 60 + f->second;
    return seconds * US_PER_SECOND + f->microsecond;
}

/* 0001-01-01T00:00:00 <= us <= 9999-12-31T23:59:59.999999 */
static bool in_python_range(int64_t us)
{
    int64_t first_day = -EPOCH_DAY_NUMBER;
    int64_t end_day = day_number(9999, 12, 31) + 1 - EPOCH_DAY_NUMBER;
    int64_t us_per_day = SECONDS_PER_DAY * US_PER_SECOND;
    return us >= first_day * us_per_day && us < end_day * us_per_day;
}

datetime_status datetime_parse_status(const char *text, size_t n,
                                      int64_t *out_us)
{
    datetime_fields f;
    if (!match_datetime_re(text, n, &f) || !fields_in_range(&f))
        return DATETIME_INVALID;
    int64_t us = utc_microseconds(&f);
    if (!in_python_range(us))
        return DATETIME_OUT_OF_RANGE;
    *out_us = us;
    return DATETIME_OK;
}

bool datetime_parse(const char *text, size_t n, int64_t *out_us)
{
    return datetime_parse_status(text, n, out_us) == DATETIME_OK;
}

/* ---- output ---- */

/* n digits of v (0 <= v < 10^n), zero-padded. */
static char *put_digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

size_t datetime_format(int64_t us, char *buf)
{
    int64_t microsecond, second_of_day, year;
    int64_t seconds = floor_div(us, US_PER_SECOND, &microsecond);
    int64_t days = floor_div(seconds, SECONDS_PER_DAY, &second_of_day);
    int month, day;
    civil_from_day_number(days + EPOCH_DAY_NUMBER, &year, &month, &day);
    if (year < 0 || year > 9999)   /* outside what parsing produces: print as is */
        return (size_t)snprintf(buf, DATETIME_BUF, "%04lld-%02d-%02dT%02d:%02d:%02d",
                                (long long)year, month, day, (int)(second_of_day / 3600),
                                (int)(second_of_day / 60 % 60), (int)(second_of_day % 60));
    /* written digit by digit: this runs for every datetime of every response */
    char *p = buf;
    p = put_digits(p, year, 4);
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, second_of_day / 3600, 2);
    *p++ = ':';
    p = put_digits(p, second_of_day / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, second_of_day % 60, 2);
    if (microsecond != 0) {
        *p++ = '.';
        p = put_digits(p, microsecond, 6);
    }
    *p = '\0';
    return (size_t)(p - buf);
}

int64_t datetime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_SECOND + ts.tv_nsec / 1000;
}
