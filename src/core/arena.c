/*
 * arena.c — bump allocator in a chain of blocks (see arena.h).
 *
 * Small requests are carved from the current block; a request larger than
 * a quarter of the block size gets a block of its own so the current block
 * is not wasted. reset() keeps only the first block, so a reused arena does
 * not allocate at all for typical requests.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} block;

struct arena {
    block *head;        /* current block; the chain ends at `first` */
    block *first;       /* kept across reset() */
    block *big;         /* oversized allocations, one block each */
    size_t block_size;
};

static block *block_new(size_t size)
{
    block *b = malloc(sizeof *b + size);
    if (!b) {
        fputs("stockroom: out of memory\n", stderr);
        abort();
    }
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena *arena_new(size_t first_block)
{
    arena *a = malloc(sizeof *a);
    if (!a) {
        fputs("stockroom: out of memory\n", stderr);
        abort();
    }
    a->block_size = first_block < 1024 ? 1024 : first_block;
    a->first = a->head = block_new(a->block_size);
    a->big = NULL;
    return a;
}

static void free_chain(block *b, block *stop)
{
    while (b && b != stop) {
        block *next = b->next;
        free(b);
        b = next;
    }
}

void arena_free(arena *a)
{
    if (!a)
        return;
    free_chain(a->head, NULL);
    free_chain(a->big, NULL);
    free(a);
}

/* Keep the largest block of the chain (the arena grew to need it, so the
 * next user of this arena likely will too) and free everything else. */
void arena_reset(arena *a)
{
    block *keep = a->head;
    for (block *b = a->head; b; b = b->next)
        if (b->size > keep->size)
            keep = b;
    for (block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (b != keep)
            free(b);
    }
    free_chain(a->big, NULL);
    a->big = NULL;
    keep->next = NULL;
    keep->used = 0;
    a->first = a->head = keep;
}

void *arena_alloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    block *b = a->head;
    if (b->size - b->used >= n) {
        void *p = b->data + b->used;
        b->used += n;
        return p;
    }
    if (n > a->block_size / 4) {
        block *big = block_new(n);
        big->used = n;
        big->next = a->big;
        a->big = big;
        return big->data;
    }
    block *nb = block_new(b->size * 2);
    nb->next = b;
    nb->used = n;
    a->head = nb;
    return nb->data;
}

void *arena_zalloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *arena_grow(arena *a, void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    *cap = *cap ? *cap * 2 : 8;
    void *grown = arena_alloc(a, size * *cap);
    if (n)
        memcpy(grown, items, size * n);
    return grown;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return arena_strdup(a, "");
    char *p = arena_alloc(a, (size_t)n + 1);
    if ((size_t)n < sizeof small) {
        memcpy(p, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(p, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return p;
}
