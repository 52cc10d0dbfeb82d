/*
 * devices.h — devices as a resource (routes.c), and what other resources
 * need of them: resolving a device id of the caller's customer (items
 * point at devices), the devices a location names (launch, sequences,
 * bulk updates).
 */
#ifndef STOCKROOM_DEVICES_H
#define STOCKROOM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/views.h"
#include "http/request.h"

/* Entries of one POST /api/devices/, at most (docs/decisions.md, "Limits"). */
#define DEVICES_BULK_MAX 1000

extern const resource devices_resource;

/* device_id → row id within r's customer: 1 found, 0 not, -1 db error. */
int device_lookup(request *r, const char *device_id, size_t n, int64_t *id);

/* A device a location names, with the arrow an alias implies (NULL: none). */
typedef struct device_target {
    int64_t row;
    const char *arrow;
} device_target;
/* The devices at `location` (their location or statics.locationoverride)
 * and those a location alias of that name points at: how many (targets in
 * the arena, by row id, each once), or a store error. */
int devices_at_location(request *r, const char *location, device_target **out);

/* Queue a device callback (picks.c): {"deviceid", "acknack", "nonce",
 * "qty" (null when !has_qty)} plus "stepnonce" when not NULL. */
void device_callback(request *r, const char *deviceid, const char *acknack, const char *nonce, bool has_qty,
                     int64_t qty, const char *stepnonce);

#endif
