/*
 * orders.h — what other resources need of orders (launch.c, §8).
 */
#ifndef STOCKROOM_ORDERS_H
#define STOCKROOM_ORDERS_H

#include <stdint.h>

#include "http/request.h"

/* {order} of a path (order number, else all-digit id) → the order's id in
 * r's customer: 1 found, 0 not, -1 db error. */
int order_find(request *r, const char *key, int64_t *id);
/* Answer with the order as GET renders it: 0, or -1 (db error). */
int order_respond(request *r, int status, int64_t id);

#endif
