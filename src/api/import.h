/*
 * import.h — creating orders in bulk from JSON lines, through the same
 * validation and create hook as POST /api/orders/ (import.c).
 */
#ifndef STOCKROOM_IMPORT_H
#define STOCKROOM_IMPORT_H

#include <stdio.h>

#include "store/store.h"

/* Each line of `in` one order (the body of POST /api/orders/) for the
 * customer named `customer`. Reports refused lines and the total on
 * `out`. NULL when every batch committed, else what stopped it. */
const char *import_orders(store *db, const char *customer, FILE *in, FILE *out);

#endif
