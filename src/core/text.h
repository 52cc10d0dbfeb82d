/*
 * text.h — the string rules DRF applies to input, on UTF-8 bytes that
 * json-c has already validated: trimming (Python's str.strip()), character
 * counting for max_length, refusing control characters, and Python's int()
 * for integer fields.
 */
#ifndef STOCKROOM_TEXT_H
#define STOCKROOM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed UTF-8 sequence at s (as Python's strict
 * decoder sees it: no overlong forms, no surrogates, at most U+10FFFF),
 * or 0 when it is not one. */
size_t text_utf8_sequence(const unsigned char *s, size_t n);
/* Is it all well-formed UTF-8, without NUL? */
bool text_valid_utf8(const char *s, size_t n);

/* Length of the white-space character at s (Python's \s on UTF-8: ASCII
 * and Unicode spaces), 0 if none. */
size_t text_space_at(const unsigned char *s, size_t n);
/* Strip leading and trailing white space (ASCII and Unicode spaces). */
void text_trim(const char **s, size_t *n);
/* Number of characters (code points). */
size_t text_chars(const char *s, size_t n);
/* No control characters other than tab (C0, DEL, C1). */
bool text_is_clean(const char *s, size_t n);

/*
 * DRF's IntegerField: int(re.sub(r'\.0*\s*$', '', text)) with Python's int()
 * (surrounding white space, a sign, '_' between digits). Returns false when
 * that raises; on a value beyond int64, returns true with *overflow = the
 * sign of the value (+1/-1) so the caller can report the range error.
 */
bool text_python_int(const char *s, size_t n, int64_t *out, int *overflow);

/* A JSON number in exponent form ("1e3") as DRF sees it after Python's
 * float(): valid when integral and below 1e16 in magnitude. */
bool text_float_integral(const char *s, size_t n, int64_t *out);

#endif
