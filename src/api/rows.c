/*
 * rows.c — rows to records (see rows.h).
 */
#include "api/rows.h"

#include <string.h>

value *record_vec_push(arena *a, record_vec *vec, const schema *sc)
{
    vec->items = arena_grow(a, vec->items, (size_t)vec->n, &vec->cap, sizeof(record));
    record *rec = &vec->items[vec->n++];
    rec->sc = sc;
    rec->v = arena_zalloc(a, sizeof(value) * (size_t)sc->nfields);
    return rec->v;
}

void record_vec_take(value *out, record_vec *vec)
{
    out->state = VALUE_SET;
    out->items = vec->items;
    out->nitems = vec->n;
    *vec = (record_vec){0};
}

void value_from_text(arena *a, store_stmt *st, int col, value *out)
{
    size_t n;
    const char *t = store_col_text(st, col, &n);
    value_set_text(out, arena_strndup(a, t, n), n);
}

void value_from_text_or_null(arena *a, store_stmt *st, int col, value *out)
{
    if (store_col_null(st, col))
        value_set_null(out);
    else
        value_from_text(a, st, col, out);
}

void value_from_int_or_null(store_stmt *st, int col, value *out)
{
    if (store_col_null(st, col))
        value_set_null(out);
    else
        value_set_int(out, store_col_int(st, col));
}

void bind_text_value(store_stmt *st, int idx, const value *v)
{
    if (v->state == VALUE_SET)
        store_bind_text(st, idx, v->s, v->len);
    else
        store_bind_null(st, idx);
}
