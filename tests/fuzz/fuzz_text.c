/*
 * fuzz_text — the bytes as url text and as field input: url_decode() in
 * both modes and url_encode_segment() (core/util.h), whose output must
 * decode back to the same bytes; text_trim(), text_chars(),
 * text_is_clean(), text_python_int() and text_float_integral()
 * (core/text.h), with the properties their callers rely on.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/text.h"
#include "core/util.h"

#include "fuzz.h"

static arena *A;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    A = arena_new(0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;   /* exactly size bytes, no NUL after them */
    arena_reset(A);

    /* percent decoding of anything, '+' as space or not */
    for (int plus = 0; plus < 2; plus++) {
        char *d = url_decode(A, s, size, plus);
        FUZZ_CHECK(d != NULL, "url_decode returned NULL");
    }
    /* encode, then decode: the same bytes, in either mode */
    char *e = url_encode_segment(A, s, size);
    size_t elen = strlen(e);
    FUZZ_CHECK(elen >= size && elen <= 3 * size, "url_encode_segment: %zu bytes from %zu", elen, size);
    for (size_t i = 0; i < elen; i++)
        FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%", e[i]),
                   "url_encode_segment left byte 0x%02x", (unsigned char)e[i]);
    for (int plus = 0; plus < 2; plus++) {
        char *d = url_decode(A, e, elen, plus);
        FUZZ_CHECK(memcmp(d, s, size) == 0 && d[size] == '\0', "encode then decode (plus=%d) differs", plus);
    }

    /* trimming stays inside the text and leaves no space at its ends */
    const char *t = s;
    size_t n = size;
    text_trim(&t, &n);
    FUZZ_CHECK(t >= s && t + n <= s + size, "text_trim left the text");
    const char *t2 = t;
    size_t n2 = n;
    text_trim(&t2, &n2);
    FUZZ_CHECK(t2 == t && n2 == n, "text_trim is not idempotent");

    size_t chars = text_chars(s, size);
    FUZZ_CHECK(chars <= size, "text_chars: %zu characters in %zu bytes", chars, size);
    (void)text_is_clean(s, size);
    (void)text_is_clean(t, n);

    /* an int that parses prints and parses back the same */
    int64_t v = 0;
    int overflow = 0;
    if (text_python_int(s, size, &v, &overflow) && !overflow) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%" PRId64, v);
        int64_t again = 0;
        int over2 = 0;
        FUZZ_CHECK(text_python_int(buf, (size_t)len, &again, &over2) && !over2 && again == v,
                   "text_python_int: %" PRId64 " printed as %s reads back as %" PRId64, v, buf, again);
    }
    FUZZ_CHECK(overflow >= -1 && overflow <= 1, "text_python_int overflow %d", overflow);

    /* exponent form: integral values below 1e16 only */
    int64_t f = 0;
    if (text_float_integral(s, size, &f))
        FUZZ_CHECK(f > -10000000000000000LL && f < 10000000000000000LL, "text_float_integral gave %" PRId64, f);
    return 0;
}
