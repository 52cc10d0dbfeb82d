/*
 * fuzz_decimal — the bytes as a DecimalField's text: decimal_parse()
 * (core/decimal.h). A value it accepts must come back unchanged through
 * decimal_format() and decimal_parse(); the first 8 bytes are also taken
 * as a stored value, which must format within DECIMAL_BUF and, when it is
 * one parsing can give (under 10^14: |v| < 10^18 ten-thousandths), read
 * back the same.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "core/decimal.h"

#include "fuzz.h"

#define DECIMAL_LIMIT 1000000000000000000LL   /* 10^18 ten-thousandths = 10^14 */

static void round_trip(int64_t v, const char *what)
{
    char buf[DECIMAL_BUF];
    size_t n = decimal_format(v, buf);
    FUZZ_CHECK(n > 0 && n < DECIMAL_BUF && strlen(buf) == n, "%s %" PRId64 ": format gave %zu bytes", what, v, n);
    if (v <= -DECIMAL_LIMIT || v >= DECIMAL_LIMIT)
        return;
    int64_t again = 0;
    decimal_status st = decimal_parse(buf, n, &again);
    FUZZ_CHECK(st == DECIMAL_OK && again == v, "%s %" PRId64 " formats as \"%s\", which parses as %d/%" PRId64,
               what, v, buf, (int)st, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t v = 0;
    decimal_status st = decimal_parse((const char *)data, size, &v);
    FUZZ_CHECK(st >= DECIMAL_OK && st <= DECIMAL_TOO_LONG, "decimal_parse returned %d", (int)st);
    FUZZ_CHECK((st == DECIMAL_OK) == (decimal_message(st) == NULL), "decimal_message(%d)", (int)st);
    if (st == DECIMAL_OK) {
        FUZZ_CHECK(v > -DECIMAL_LIMIT && v < DECIMAL_LIMIT, "parsed %" PRId64 ", beyond 18 digits", v);
        round_trip(v, "parsed");
    }
    if (size >= 8) {
        int64_t stored;
        memcpy(&stored, data, sizeof stored);
        round_trip(stored, "stored");
    }
    return 0;
}
