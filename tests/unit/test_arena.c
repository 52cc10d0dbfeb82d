/*
 * test_arena.c — the request arena: every allocation 16-byte aligned and
 * usable in full (the sanitizer build checks the bounds), small requests
 * carved from growing blocks, large ones in blocks of their own, reset()
 * keeping one block for reuse, and the string helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/arena.h"

static void assert_aligned(const void *p)
{
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
}

/* Fill n bytes with a pattern derived from seed, and check it later. */
static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 31u + i);
}

static void check_fill(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != (unsigned char)(seed * 31u + i)) {
            print_error("allocation %u overwritten at byte %zu\n", seed, i);
            fail();
        }
    }
}

static void many_small_allocations_stay_intact(void **state)
{
    (void)state;
    arena *a = arena_new(0);   /* the minimum block size */
    enum { N = 5000 };
    static unsigned char *ptrs[N];
    static size_t sizes[N];
    for (unsigned i = 0; i < N; i++) {
        sizes[i] = 1 + (i * 7) % 97;
        ptrs[i] = arena_alloc(a, sizes[i]);
        assert_aligned(ptrs[i]);
        fill(ptrs[i], sizes[i], i);
    }
    for (unsigned i = 0; i < N; i++)
        check_fill(ptrs[i], sizes[i], i);
    arena_free(a);
}

static void every_size_is_aligned(void **state)
{
    (void)state;
    arena *a = arena_new(1024);
    for (size_t n = 0; n <= 600; n++) {
        unsigned char *p = arena_alloc(a, n);
        assert_aligned(p);
        memset(p, 0xAB, n);
    }
    arena_free(a);
}

static void large_allocations_get_their_own_block(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    unsigned char *small1 = arena_alloc(a, 100);
    fill(small1, 100, 1);
    /* over a quarter of the block size: a block of its own */
    unsigned char *big1 = arena_alloc(a, 1025);
    assert_aligned(big1);
    fill(big1, 1025, 2);
    unsigned char *huge = arena_alloc(a, 3 * 1024 * 1024);
    assert_aligned(huge);
    fill(huge, 3 * 1024 * 1024, 3);
    /* small allocations continue */
    unsigned char *small2 = arena_alloc(a, 100);
    assert_aligned(small2);
    fill(small2, 100, 4);
    /* bigger than the whole block */
    unsigned char *big2 = arena_alloc(a, 100000);
    assert_aligned(big2);
    fill(big2, 100000, 5);
    check_fill(small1, 100, 1);
    check_fill(big1, 1025, 2);
    check_fill(huge, 3 * 1024 * 1024, 3);
    check_fill(small2, 100, 4);
    check_fill(big2, 100000, 5);
    arena_free(a);
}

static void mixed_sizes_interleaved(void **state)
{
    (void)state;
    arena *a = arena_new(2048);
    enum { N = 400 };
    unsigned char *ptrs[N];
    size_t sizes[N];
    for (unsigned i = 0; i < N; i++) {
        sizes[i] = i % 10 == 0 ? 5000 + i : i % 3 == 0 ? 500 : 24;
        ptrs[i] = arena_alloc(a, sizes[i]);
        assert_aligned(ptrs[i]);
        fill(ptrs[i], sizes[i], i);
    }
    for (unsigned i = 0; i < N; i++)
        check_fill(ptrs[i], sizes[i], i);
    arena_free(a);
}

static void zalloc_is_zeroed(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    /* dirty the first block, reset, then zalloc over the same bytes */
    unsigned char *dirty = arena_alloc(a, 512);
    memset(dirty, 0xFF, 512);
    arena_reset(a);
    for (size_t n = 1; n < 3000; n += 97) {
        unsigned char *p = arena_zalloc(a, n);
        assert_aligned(p);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xEE, n);
    }
    arena_free(a);
}

/* reset keeps one block (the largest, so a reused arena does not grow
 * again) and hands it out from its start, round after round. */
static void reset_keeps_one_block_for_reuse(void **state)
{
    (void)state;
    arena *a = arena_new(1024);
    memset(arena_alloc(a, 64), 7, 64);
    /* grow: more blocks and big blocks */
    for (int i = 0; i < 200; i++)
        memset(arena_alloc(a, 200), i, 200);
    memset(arena_alloc(a, 50000), 1, 50000);
    arena_reset(a);
    unsigned char *first = arena_alloc(a, 64);
    assert_aligned(first);
    /* the kept block holds what the grown arena needed without growing */
    for (int i = 0; i < 40; i++)
        memset(arena_alloc(a, 200), i, 200);
    arena_reset(a);
    assert_ptr_equal(arena_alloc(a, 64), first);
    /* and it keeps working after several rounds */
    for (int round = 0; round < 5; round++) {
        unsigned char *ptrs[300];
        for (unsigned i = 0; i < 300; i++) {
            ptrs[i] = arena_alloc(a, 40 + i);
            assert_aligned(ptrs[i]);
            fill(ptrs[i], 40 + i, i + (unsigned)round);
        }
        unsigned char *big = arena_alloc(a, 20000);
        fill(big, 20000, 99);
        for (unsigned i = 0; i < 300; i++)
            check_fill(ptrs[i], 40 + i, i + (unsigned)round);
        check_fill(big, 20000, 99);
        arena_reset(a);
        unsigned char *start = arena_alloc(a, 1);
        arena_reset(a);
        assert_ptr_equal(arena_alloc(a, 1), start);
        arena_reset(a);
    }
    arena_free(a);
}

static void reset_of_a_fresh_arena(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    arena_reset(a);
    arena_reset(a);
    char *s = arena_strdup(a, "still fine");
    assert_string_equal(s, "still fine");
    arena_free(a);
    arena_free(NULL);   /* allowed */
}

static void strdup_and_strndup(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    const char *src = "hello, world";
    char *s = arena_strdup(a, src);
    assert_ptr_not_equal(s, src);
    assert_string_equal(s, src);
    assert_aligned(s);
    char *t = arena_strndup(a, src, 5);
    assert_string_equal(t, "hello");
    char *e = arena_strndup(a, src, 0);
    assert_string_equal(e, "");
    /* strndup copies exactly n bytes, NUL or not */
    char *z = arena_strndup(a, "a\0b", 3);
    assert_memory_equal(z, "a\0b", 4);
    char *u = arena_strdup(a, "caf\xC3\xA9");
    assert_string_equal(u, "caf\xC3\xA9");
    /* a long string goes to a big block */
    char longsrc[5000];
    memset(longsrc, 'x', sizeof longsrc - 1);
    longsrc[sizeof longsrc - 1] = '\0';
    char *l = arena_strdup(a, longsrc);
    assert_string_equal(l, longsrc);
    arena_free(a);
}

static void printf_short_and_long(void **state)
{
    (void)state;
    arena *a = arena_new(0);
    char *s = arena_printf(a, "%s=%d (%.2f)", "n", 42, 1.5);
    assert_string_equal(s, "n=42 (1.50)");
    assert_aligned(s);
    assert_string_equal(arena_printf(a, "%s", ""), "");
    assert_string_equal(arena_printf(a, "%lld", (long long)INT64_MIN), "-9223372036854775808");

    /* exactly at and around the 256-byte internal buffer */
    char ref[1200];
    for (int len = 250; len <= 260; len++) {
        memset(ref, 'a' + len % 26, (size_t)len);
        ref[len] = '\0';
        char *p = arena_printf(a, "%s", ref);
        assert_int_equal(strlen(p), (size_t)len);
        assert_string_equal(p, ref);
    }
    /* long formatted output with several arguments */
    memset(ref, 'q', 1000);
    ref[1000] = '\0';
    char *p = arena_printf(a, "<%s|%d|%s>", ref, -7, "end");
    assert_int_equal(strlen(p), 1 + 1000 + 8);
    assert_int_equal(p[0], '<');
    assert_memory_equal(p + 1, ref, 1000);
    assert_string_equal(p + 1001, "|-7|end>");
    arena_free(a);
}

static void strings_survive_growth(void **state)
{
    (void)state;
    arena *a = arena_new(1024);
    char *strs[2000];
    for (int i = 0; i < 2000; i++)
        strs[i] = arena_printf(a, "item-%d-%s", i, i % 50 == 0 ? "with a considerably longer tail to vary sizes" : "x");
    for (int i = 0; i < 2000; i++) {
        char want[128];
        snprintf(want, sizeof want, "item-%d-%s", i, i % 50 == 0 ? "with a considerably longer tail to vary sizes" : "x");
        assert_string_equal(strs[i], want);
    }
    arena_free(a);
}

/* A growing array keeps every element through its regrowths. */
static void grow_keeps_the_elements(void **state)
{
    (void)state;
    arena *a = arena_new(256);
    long *items = NULL;
    size_t n = 0, cap = 0;
    for (long i = 0; i < 1000; i++) {
        items = arena_grow(a, items, n, &cap, sizeof *items);
        assert_true(n < cap);
        items[n++] = i * 7;
    }
    assert_int_equal(cap, 1024);   /* 8, 16, ... doubling */
    for (long i = 0; i < 1000; i++)
        assert_int_equal(items[i], i * 7);
    long *same = arena_grow(a, items, 1000, &cap, sizeof *items);
    assert_ptr_equal(same, items);   /* room left: no copy */
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_small_allocations_stay_intact),
        cmocka_unit_test(grow_keeps_the_elements),
        cmocka_unit_test(every_size_is_aligned),
        cmocka_unit_test(large_allocations_get_their_own_block),
        cmocka_unit_test(mixed_sizes_interleaved),
        cmocka_unit_test(zalloc_is_zeroed),
        cmocka_unit_test(reset_keeps_one_block_for_reuse),
        cmocka_unit_test(reset_of_a_fresh_arena),
        cmocka_unit_test(strdup_and_strndup),
        cmocka_unit_test(printf_short_and_long),
        cmocka_unit_test(strings_survive_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
