/*
 * fuzz_form — application/x-www-form-urlencoded text, as query strings and
 * form bodies arrive (core/util.h): urlencoded_each() and form_decode().
 * Properties: every name and value is valid UTF-8 without NUL (Django's
 * QueryDict makes them text, U+FFFD for what is not), there are no more
 * pairs than '&'-separated parts, and a component without '%' or '+' that
 * is already text decodes to itself.
 */
#include <stdbool.h>
#include <stdint.h>
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

static void check_pair(void *ctx, const char *name, const char *value)
{
    size_t *pairs = ctx;
    (*pairs)++;
    FUZZ_CHECK(name && value, "a NULL name or value");
    FUZZ_CHECK(text_valid_utf8(name, strlen(name)), "name is not UTF-8");
    FUZZ_CHECK(text_valid_utf8(value, strlen(value)), "value is not UTF-8");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_reset(A);
    char *s = fuzz_copy(data, size);
    size_t pairs = 0, parts = 1;
    for (size_t i = 0; i < size; i++)
        parts += s[i] == '&' || s[i] == ';';
    urlencoded_each(A, s, size, check_pair, &pairs);
    FUZZ_CHECK(pairs <= parts, "%zu pairs from %zu parts", pairs, parts);

    const char *d = form_decode(A, s, size);
    FUZZ_CHECK(d && text_valid_utf8(d, strlen(d)), "form_decode: not UTF-8");
    if (!memchr(s, '%', size) && !memchr(s, '+', size) && !memchr(s, '\0', size) &&
        text_valid_utf8(s, size))
        FUZZ_CHECK(strcmp(d, s) == 0, "plain text changed by decoding");
    free(s);
    return 0;
}
