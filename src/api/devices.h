/*
 * devices.h — what other resources need of devices: resolving a device id
 * of the caller's customer (items point at devices), and reading one as
 * GET /api/device/{id}/ renders it (an acknowledgement answers with it).
 */
#ifndef STOCKROOM_DEVICES_H
#define STOCKROOM_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "api/fields.h"
#include "http/request.h"

/* device_id → row id within r's customer: 1 found, 0 not, -1 db error. */
int device_lookup(request *r, const char *device_id, size_t n, int64_t *id);

/* The device with row id `id` as a record of device_schema (arena), or
 * NULL when it is missing or on a database error. */
record *load_device(request *r, int64_t id);

#endif
