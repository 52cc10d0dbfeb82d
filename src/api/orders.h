/*
 * orders.h — orders and items as resources (routes.c), their limits, and
 * what the pick-to-light workflows (launch.c, §8) need of orders.
 */
#ifndef STOCKROOM_ORDERS_H
#define STOCKROOM_ORDERS_H

#include <stdint.h>

#include "api/views.h"
#include "http/request.h"

/* What one order may hold (docs/decisions.md, "Limits"). */
#define ORDER_MAX_SHIPMENTS 1000
#define ORDER_MAX_ITEMS 5000

extern const resource orders_resource, items_resource;

/* Lock the order the path names ({order}: number, else all-digit id), in
 * the request's transaction: VIEW_DONE (*id), VIEW_ANSWERED (404 made), or
 * a store error. */
int order_lock(request *r, int64_t *id);
/* Answer with the order as GET renders it: VIEW_DONE or a store error. */
int order_respond(request *r, int status, int64_t id);

#endif
