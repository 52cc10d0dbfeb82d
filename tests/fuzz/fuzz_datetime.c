/*
 * fuzz_datetime — the bytes as a DateTimeField's text: datetime_parse()
 * and datetime_parse_status() (core/datetime.h), which must agree. A value
 * they accept must come back unchanged through datetime_format() and
 * parsing again. The first 8 bytes are also taken as a stored value
 * (folded into years 1..9999, what parsing gives), which must format and
 * read back the same.
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "core/datetime.h"

#include "fuzz.h"

/* 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999, in microseconds */
#define DATETIME_MIN (-62135596800000000LL)
#define DATETIME_MAX (253402300799999999LL)

static void round_trip(int64_t us, const char *what)
{
    char buf[DATETIME_BUF];
    size_t n = datetime_format(us, buf);
    FUZZ_CHECK(n > 0 && n < DATETIME_BUF && strlen(buf) == n, "%s %" PRId64 ": format gave %zu bytes", what, us, n);
    int64_t again = 0;
    datetime_status st = datetime_parse_status(buf, n, &again);
    FUZZ_CHECK(st == DATETIME_OK && again == us, "%s %" PRId64 " formats as \"%s\", which parses as %d/%" PRId64,
               what, us, buf, (int)st, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t a = 0, b = 0;
    bool ok = datetime_parse((const char *)data, size, &a);
    datetime_status st = datetime_parse_status((const char *)data, size, &b);
    FUZZ_CHECK(st == DATETIME_OK || st == DATETIME_INVALID || st == DATETIME_OUT_OF_RANGE,
               "datetime_parse_status returned %d", (int)st);
    FUZZ_CHECK(ok == (st == DATETIME_OK), "datetime_parse says %d, datetime_parse_status %d", ok, (int)st);
    if (ok) {
        FUZZ_CHECK(a == b, "datetime_parse %" PRId64 ", datetime_parse_status %" PRId64, a, b);
        FUZZ_CHECK(a >= DATETIME_MIN && a <= DATETIME_MAX, "parsed %" PRId64 ", outside years 1..9999", a);
        round_trip(a, "parsed");
    }
    if (size >= 8) {
        uint64_t raw;
        memcpy(&raw, data, sizeof raw);
        round_trip(DATETIME_MIN + (int64_t)(raw % (uint64_t)(DATETIME_MAX - DATETIME_MIN + 1)), "stored");
    }
    return 0;
}
