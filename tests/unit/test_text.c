/*
 * test_text.c — DRF's string and integer input rules on UTF-8 bytes:
 * trimming as Python's str.strip() does, counting characters, refusing
 * control characters, IntegerField's int(re.sub(r'\.0*\s*$', '', s)) and
 * a JSON exponent number as DRF sees it after float() and str().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/text.h"

/* Checks report every mismatch, then the test fails once at its end. */
static int mismatches;

static void done(void)
{
    int n = mismatches;
    mismatches = 0;
    if (n) {
        print_error("%d mismatch(es) above\n", n);
        fail();
    }
}

/* Bytes as a C literal would show them (static buffer, one use per call). */
static const char *show(const char *s, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
    }
    buf[o] = '\0';
    return buf;
}

/* ------------------------------------------------------------ text_trim */

static void check_trim_n(const char *in, size_t n, const char *want)
{
    const char *s = in;
    size_t len = n;
    text_trim(&s, &len);
    size_t want_len = strlen(want);
    if (len != want_len || memcmp(s, want, len) != 0 || s < in || s + len > in + n) {
        char b1[200], b2[200], b3[200];
        print_error("trim(\"%s\") gave \"%s\", want \"%s\"\n", show(in, n, b1, sizeof b1),
                    show(s, len, b2, sizeof b2), show(want, want_len, b3, sizeof b3));
        mismatches++;
    }
}

static void check_trim(const char *in, const char *want)
{
    check_trim_n(in, strlen(in), want);
}

static void trim_ascii_white_space(void **state)
{
    (void)state;
    check_trim("abc", "abc");
    check_trim("  abc  ", "abc");
    check_trim("\t\n\v\f\r abc \r\n\t", "abc");
    check_trim("a b  c", "a b  c");          /* inner spaces stay */
    check_trim("   ", "");
    check_trim("", "");
    check_trim("\x1c\x1d\x1e\x1fx\x1f", "x");  /* Python: file/group/record/unit separators */
    check_trim("\x01x\x01", "\x01x\x01");      /* other controls are not white space */
    check_trim("\x7fx", "\x7fx");
    done();
}

/* Python's str.strip() white space beyond ASCII, at both ends. */
static void trim_unicode_spaces_leading(void **state)
{
    (void)state;
    static const char *const spaces[] = {
        "\xC2\x85",         /* U+0085 NEL */
        "\xC2\xA0",         /* U+00A0 NO-BREAK SPACE */
        "\xE1\x9A\x80",     /* U+1680 */
        "\xE2\x80\x80",     /* U+2000 */
        "\xE2\x80\x8A",     /* U+200A */
        "\xE2\x80\xA8",     /* U+2028 LINE SEPARATOR */
        "\xE2\x80\xA9",     /* U+2029 PARAGRAPH SEPARATOR */
        "\xE2\x80\xAF",     /* U+202F */
        "\xE2\x81\x9F",     /* U+205F */
        "\xE3\x80\x80",     /* U+3000 IDEOGRAPHIC SPACE */
    };
    char buf[64];
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s x", spaces[i], spaces[i]);
        check_trim(buf, "x");
    }
    done();
}

static void trim_unicode_spaces_trailing(void **state)
{
    (void)state;
    static const char *const spaces[] = {
        "\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x8A",
        "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80",
    };
    char buf[64];
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        snprintf(buf, sizeof buf, "x %s", spaces[i]);
        check_trim(buf, "x");
        snprintf(buf, sizeof buf, "%sx%s", spaces[i], spaces[i]);
        check_trim(buf, "x");
        snprintf(buf, sizeof buf, "%s", spaces[i]);   /* only white space */
        check_trim(buf, "");
    }
    check_trim("caf\xC3\xA9\xC2\xA0\xE3\x80\x80 ", "caf\xC3\xA9");
    done();
}

/* Characters that look like space but are not white space for Python. */
static void trim_keeps_non_space_characters(void **state)
{
    (void)state;
    check_trim("\xE2\x80\x8Bx\xE2\x80\x8B", "\xE2\x80\x8Bx\xE2\x80\x8B");  /* U+200B ZERO WIDTH SPACE */
    check_trim("\xEF\xBB\xBFx\xEF\xBB\xBF", "\xEF\xBB\xBFx\xEF\xBB\xBF");  /* U+FEFF */
    check_trim("\xE2\x80\x8Cx", "\xE2\x80\x8Cx");                          /* U+200C */
    check_trim("x\xE2\x80\x8C", "x\xE2\x80\x8C");
    check_trim("x\xC3\xA9", "x\xC3\xA9");        /* ends in a continuation byte */
    check_trim("\xC3\xA0", "\xC3\xA0");          /* U+00E0 shares A0 with NBSP */
    check_trim("x\xC3\xA0", "x\xC3\xA0");
    check_trim("x\xE3\x80\x81", "x\xE3\x80\x81"); /* U+3001, next to U+3000 */
    check_trim("x\xF0\x9F\x98\x80", "x\xF0\x9F\x98\x80");
    done();
}

static void trim_respects_length(void **state)
{
    (void)state;
    /* only n bytes are looked at: the space after them is not there */
    check_trim_n(" ab  cd", 4, "ab");
    check_trim_n("ab cd", 3, "ab");
    done();
}

/* ----------------------------------------------------------- text_chars */

static void chars_count_code_points(void **state)
{
    (void)state;
    assert_int_equal(text_chars("", 0), 0);
    assert_int_equal(text_chars("abc", 3), 3);
    assert_int_equal(text_chars("caf\xC3\xA9", 5), 4);
    assert_int_equal(text_chars("\xE2\x82\xAC", 3), 1);            /* euro sign */
    assert_int_equal(text_chars("\xF0\x9F\x98\x80!", 5), 2);       /* emoji + ! */
    char buf[200];
    for (int i = 0; i < 65; i++)
        memcpy(buf + 2 * i, "\xC3\xA9", 2);
    assert_int_equal(text_chars(buf, 130), 65);
    assert_int_equal(text_chars(buf, 128), 64);
    assert_int_equal(text_chars("a\0b", 3), 3);                    /* NUL is a character */
}

/* ------------------------------------------------------- text_is_clean */

static void clean_allows_text_and_tab(void **state)
{
    (void)state;
    assert_true(text_is_clean("", 0));
    assert_true(text_is_clean("plain text 123", 14));
    assert_true(text_is_clean("a\tb", 3));
    assert_true(text_is_clean("caf\xC3\xA9", 5));
    assert_true(text_is_clean("\xC2\xA0", 2));        /* NBSP is not a control */
    assert_true(text_is_clean("\xC2\xA1", 2));
    assert_true(text_is_clean("\xE2\x80\xA8", 3));    /* U+2028 is not Cc */
    assert_true(text_is_clean("\xF0\x9F\x98\x80", 4));
    assert_true(text_is_clean("\xC3\x80\xC3\x9F", 4)); /* U+00C0, U+00DF: 80..9F as 2nd byte after C3 */
}

static void clean_refuses_control_characters(void **state)
{
    (void)state;
    assert_false(text_is_clean("a\nb", 3));
    assert_false(text_is_clean("a\rb", 3));
    assert_false(text_is_clean("\x01", 1));
    assert_false(text_is_clean("\x1f", 1));
    assert_false(text_is_clean("a\0b", 3));
    assert_false(text_is_clean("\x7f", 1));           /* DEL */
    assert_false(text_is_clean("x\xC2\x80", 3));      /* U+0080 */
    assert_false(text_is_clean("\xC2\x85", 2));       /* U+0085 */
    assert_false(text_is_clean("\xC2\x9F", 2));       /* U+009F */
    assert_true(text_is_clean("a\nb", 1));            /* only n bytes */
}

/* ------------------------------------------------------ text_python_int */

typedef struct {
    const char *text;
    int ok;          /* 1: int() succeeds */
    int overflow;    /* when ok: 0, or the sign of a value beyond int64 */
    int64_t value;   /* when ok and no overflow */
} int_case;

static void check_int_table(const int_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const int_case *c = &cases[i];
        int64_t v = -777;
        int overflow = 99;
        bool ok = text_python_int(c->text, strlen(c->text), &v, &overflow);
        bool good = ok == (bool)c->ok &&
                    (!ok || (overflow == c->overflow && (overflow != 0 || v == c->value)));
        if (!good) {
            print_error("text_python_int(\"%s\"): got ok=%d overflow=%d value=%lld, "
                        "want ok=%d overflow=%d value=%lld\n",
                        c->text, ok, overflow, (long long)v, c->ok, c->overflow,
                        (long long)c->value);
            mismatches++;
        }
    }
}

#define INT_TABLE(cases) (check_int_table(cases, sizeof(cases) / sizeof(cases[0])), done())

static void python_int_accepts_drf_integer_forms(void **state)
{
    (void)state;
    static const int_case cases[] = {
        {"10", 1, 0, 10},
        {" 10 ", 1, 0, 10},
        {"\t10\n", 1, 0, 10},
        {"10.0", 1, 0, 10},
        {"10.", 1, 0, 10},
        {"10.000", 1, 0, 10},
        {"10.0 ", 1, 0, 10},
        {" 10.0\n", 1, 0, 10},
        {"10 .0", 1, 0, 10},       /* the regex takes ".0", int() the space */
        {"+5", 1, 0, 5},
        {"-5", 1, 0, -5},
        {" -5 ", 1, 0, -5},
        {"0", 1, 0, 0},
        {"-0", 1, 0, 0},
        {"0.0", 1, 0, 0},
        {"007", 1, 0, 7},
        {"100", 1, 0, 100},        /* trailing zeros without a point are digits */
        {"1_000", 1, 0, 1000},
        {"1_0_0", 1, 0, 100},
        {"1_000.0", 1, 0, 1000},
        {"-1_000", 1, 0, -1000},
        {"2147483647", 1, 0, 2147483647},
        {"9223372036854775807", 1, 0, INT64_MAX},
        {"-9223372036854775808", 1, 0, INT64_MIN},
    };
    INT_TABLE(cases);
}

static void python_int_refuses_non_integers(void **state)
{
    (void)state;
    static const int_case cases[] = {
        {"10.5", 0, 0, 0},
        {"10.01", 0, 0, 0},
        {"10.50", 0, 0, 0},
        {"1e3", 0, 0, 0},
        {"1E3", 0, 0, 0},
        {"", 0, 0, 0},
        {" ", 0, 0, 0},
        {".", 0, 0, 0},
        {".0", 0, 0, 0},
        {"abc", 0, 0, 0},
        {"10abc", 0, 0, 0},
        {"+", 0, 0, 0},
        {"-", 0, 0, 0},
        {"+-5", 0, 0, 0},
        {"- 5", 0, 0, 0},
        {"1 0", 0, 0, 0},
        {"0x10", 0, 0, 0},
        {"_1", 0, 0, 0},
        {"1_", 0, 0, 0},
        {"1__0", 0, 0, 0},
        {"-_1", 0, 0, 0},
        {"1.0.0", 0, 0, 0},
        {"1,000", 0, 0, 0},
        {"true", 0, 0, 0},
        {"NaN", 0, 0, 0},
        {"inf", 0, 0, 0},
    };
    INT_TABLE(cases);
}

static void python_int_reports_overflow_sign(void **state)
{
    (void)state;
    static const int_case cases[] = {
        {"9223372036854775808", 1, 1, 0},
        {"-9223372036854775809", 1, -1, 0},
        {"18446744073709551615", 1, 1, 0},
        {"18446744073709551616", 1, 1, 0},
        {"99999999999999999999999999999999", 1, 1, 0},
        {"-99999999999999999999999999999999", 1, -1, 0},
        {" +99999999999999999999999.000 ", 1, 1, 0},
        {"9_999_999_999_999_999_999", 1, 1, 0},
        {"99999999999999999999999x", 0, 0, 0},    /* still has to be an integer */
    };
    INT_TABLE(cases);
}

static void python_int_respects_length(void **state)
{
    (void)state;
    int64_t v = 0;
    int overflow = 0;
    assert_true(text_python_int("12345", 2, &v, &overflow));
    assert_int_equal(v, 12);
    assert_int_equal(overflow, 0);
    assert_true(text_python_int("7.5", 1, &v, &overflow));
    assert_int_equal(v, 7);
}

/* --------------------------------------------------- text_float_integral */

typedef struct {
    const char *text;
    int ok;
    int64_t value;
} float_case;

static void float_integral_cases(void **state)
{
    (void)state;
    /* Python: int(re.sub(r'\.0*\s*$', '', str(float(text)))) */
    static const float_case cases[] = {
        {"1e3", 1, 1000},
        {"1E3", 1, 1000},
        {"1e+3", 1, 1000},
        {"-2e2", 1, -200},
        {"1.5e1", 1, 15},
        {"1.0e0", 1, 1},
        {"10e-1", 1, 1},
        {"100e-2", 1, 1},
        {"0e5", 1, 0},
        {"0.0e0", 1, 0},
        {"-0e0", 1, 0},
        {"0.000e-3", 1, 0},
        {"1e15", 1, INT64_C(1000000000000000)},
        {"9.007199254740991e15", 1, INT64_C(9007199254740991)},
        {"12.5e1", 1, 125},
        {"0.5e1", 1, 5},
        {"1.5e0", 0, 0},       /* 1.5 */
        {"1e-1", 0, 0},        /* 0.1 */
        {"15e-1", 0, 0},
        {"1e16", 0, 0},        /* str() gives "1e+16" */
        {"-1e16", 0, 0},
        {"1e400", 0, 0},       /* inf */
        {"1.5", 0, 0},         /* not exponent form */
        /* float() rounds first (found by fuzz_text): */
        {"1.00000000000000001e0", 1, 1},
        {"100000000000000000000000000000000000000000000000000000000000000000000000000000000e-80", 1, 1},
        {"9999999999999999e0", 0, 0},   /* float() is 1e16 */
        {"9007199254740993e0", 1, INT64_C(9007199254740992)},   /* the nearest double */
        {"1e", 0, 0},
        {"e1", 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const float_case *c = &cases[i];
        int64_t v = -777;
        bool ok = text_float_integral(c->text, strlen(c->text), &v);
        if (ok != (bool)c->ok || (ok && v != c->value)) {
            print_error("text_float_integral(\"%s\"): got ok=%d value=%lld, want ok=%d value=%lld\n",
                        c->text, ok, (long long)v, c->ok, (long long)c->value);
            mismatches++;
        }
    }
    done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trim_ascii_white_space),
        cmocka_unit_test(trim_unicode_spaces_leading),
        cmocka_unit_test(trim_unicode_spaces_trailing),
        cmocka_unit_test(trim_keeps_non_space_characters),
        cmocka_unit_test(trim_respects_length),
        cmocka_unit_test(chars_count_code_points),
        cmocka_unit_test(clean_allows_text_and_tab),
        cmocka_unit_test(clean_refuses_control_characters),
        cmocka_unit_test(python_int_accepts_drf_integer_forms),
        cmocka_unit_test(python_int_refuses_non_integers),
        cmocka_unit_test(python_int_reports_overflow_sign),
        cmocka_unit_test(python_int_respects_length),
        cmocka_unit_test(float_integral_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
