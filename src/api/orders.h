/*
 * orders.h — orders and items as resources (routes.c, launch.c) and their
 * limits.
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


#endif
