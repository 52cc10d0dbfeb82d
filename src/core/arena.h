/*
 * arena.h — a request's memory pool.
 *
 * Every allocation a request makes (parsed strings, validation errors, the
 * response body) comes from its arena and is released at once when the
 * request ends: handlers never free piecemeal. Allocations are 16-byte
 * aligned; allocation failure aborts the process (there is no sane partial
 * answer to out-of-memory on a request path).
 */
#ifndef STOCKROOM_ARENA_H
#define STOCKROOM_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_new(size_t first_block);
void arena_free(arena *a);
/* Forget everything allocated but keep the largest block for reuse. */
void arena_reset(arena *a);

void *arena_alloc(arena *a, size_t n);          /* uninitialised */
void *arena_zalloc(arena *a, size_t n);         /* zeroed */
/* Room for one more element in a growing array of `n` elements of `size`
 * bytes with room for *cap: `items` itself, or (when full) a copy twice
 * as large (first 8). The old block stays in the arena until its reset. */
void *arena_grow(arena *a, void *items, size_t n, size_t *cap, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
