/*
 * pagination.h — DRF's PageNumberPagination (page, page_size) and its
 * OrderingFilter, shared by every list.
 *
 * page_size defaults to 100, at most 1000; an invalid page_size falls back
 * to the default. `page` must be a positive integer ("last" too, as DRF)
 * and within the pages that exist (page 1 of an empty list exists), else
 * 404 "Invalid page.". Links are absolute and keep every other query
 * parameter, sorted by name as DRF's replace_query_param writes them.
 */
#ifndef STOCKROOM_PAGINATION_H
#define STOCKROOM_PAGINATION_H

#include <stdbool.h>
#include <stdint.h>

#include "api/fields.h"
#include "api/json.h"
#include "http/request.h"

#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 1000

typedef struct page {
    int64_t number;     /* 1-based */
    int64_t size;
    int64_t count;      /* total objects */
    bool last;          /* ?page=last */
} page;

/* Read page and page_size. False (and a 404 answer) when page is not a
 * positive integer. */
bool page_parse(request *r, page *p);
/* Once count is known: false (and a 404 answer) when the page is past the
 * end. Also resolves page=last. */
bool page_check(request *r, page *p, int64_t count);
int64_t page_offset(const page *p);

/* {"count":N,"next":...,"previous":...,"results": — then the caller
 * writes the results array and calls page_end(). */
void page_begin(jw *w, request *r, const page *p);
void page_end(jw *w);

/* Answer 200 with the page: the envelope around n rendered records. */
void respond_page(request *r, const page *p, const record *recs, int n);

/* An ordering column a list accepts: the name in ?ordering= and its SQL. */
typedef struct ordering_field {
    const char *name;
    const char *sql;
} ordering_field;

/* A filter a list takes in its query string: ?name=value. */
typedef struct list_filter {
    const char *name;
    const char *format;       /* OpenAPI string format ("date-time"); NULL: plain text */
    const char *description;  /* for the OpenAPI document */
} list_filter;

/*
 * What a list's GET takes besides page and page_size: the names ?ordering=
 * accepts (with their SQL) and its filters. The list's handler orders by
 * it, the route table points at it, and the OpenAPI document describes it.
 */
typedef struct list_query {
    const ordering_field *ordering;
    int nordering;
    const list_filter *filters;
    int nfilters;
} list_query;

#define LIST_QUERY(ordering_array, filter_array) \
    { (ordering_array), (int)(sizeof(ordering_array) / sizeof((ordering_array)[0])), \
      (filter_array), (int)(sizeof(filter_array) / sizeof((filter_array)[0])) }
#define LIST_QUERY_UNFILTERED(ordering_array) \
    { (ordering_array), (int)(sizeof(ordering_array) / sizeof((ordering_array)[0])), NULL, 0 }

/*
 * The ORDER BY list for ?ordering= (unknown names ignored), ending with
 * `tiebreak` (e.g. "o.id") so the order is total; `fallback` when no
 * valid name was given. Returned in the arena.
 */
const char *ordering_sql(request *r, const ordering_field *fields, int nfields,
                         const char *fallback, const char *tiebreak);

#endif
