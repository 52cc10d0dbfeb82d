/*
 * rows.h — from database rows to records, shared by every resource: copying
 * a column into a value, collecting records into growable arrays, and
 * nesting them (an order's shipments, a refund's lines) from one joined
 * query. Everything lives in the request's arena.
 */
#ifndef STOCKROOM_ROWS_H
#define STOCKROOM_ROWS_H

#include "api/fields.h"
#include "store/store.h"

/* A growable array of records. */
typedef struct record_vec {
    record *items;
    int n;
    size_t cap;
} record_vec;

/* Append an empty record of sc; returns its values. */
value *record_vec_push(arena *a, record_vec *vec, const schema *sc);
/* Hand the records over to a nested-list value; the vector starts empty again. */
void record_vec_take(value *out, record_vec *vec);

/* Copy a text column (NULL reads as ""). */
void value_from_text(arena *a, store_stmt *st, int col, value *out);
/* Copy a text column, NULL as null. */
void value_from_text_or_null(arena *a, store_stmt *st, int col, value *out);
/* An integer column, NULL as null. */
void value_from_int_or_null(store_stmt *st, int col, value *out);
/* Bind a text value, or NULL when it is not set. */
void bind_text_value(store_stmt *st, int idx, const value *v);

#endif
