/*
 * fuzz.h — what the libFuzzer targets of tests/fuzz share: the entry point
 * libFuzzer calls, and FUZZ_CHECK, which reports a broken property (a
 * round trip that does not come back, output that does not parse) and
 * aborts, so libFuzzer saves the input as a crash.
 */
#ifndef STOCKROOM_FUZZ_H
#define STOCKROOM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                   \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s\n  ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* A copy of the input as the server holds a body: malloc'ed, exactly
 * size bytes plus a NUL (so ASan sees any read past it). Free it. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    for (size_t i = 0; i < size; i++)
        s[i] = (char)data[i];
    s[size] = '\0';
    return s;
}

#endif
