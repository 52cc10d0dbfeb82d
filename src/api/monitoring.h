/*
 * monitoring.h — GET /metrics and the API layer's measurements (see
 * monitoring.c for who may read them).
 */
#ifndef STOCKROOM_MONITORING_H
#define STOCKROOM_MONITORING_H

#include <stdbool.h>
#include <stdint.h>

#include "http/request.h"

/* Once, before serving: the bearer token that opens /metrics to other
 * addresses than loopback (NULL or "": loopback only); off: /metrics is
 * 404 (and the http layer is not asked to count). */
void monitoring_init(const char *token, bool off);
/* A request answered (its route, method and status), in `us` microseconds. */
void monitoring_request(const request *r, int64_t us);
/* GET /metrics. */
int metrics_page(request *r);

#endif
