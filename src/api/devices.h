/*
 * devices.h — what other resources need of devices: resolving a device id
 * of the caller's customer (items point at devices), reading one as GET
 * renders it (an acknowledgement answers with it), and lighting them
 * (launch, sequences, the query-string API of §8).
 */
#ifndef STOCKROOM_DEVICES_H
#define STOCKROOM_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "api/fields.h"
#include "http/request.h"

/* The SET list of an UPDATE of devices that leaves a device dark: every
 * column of its display (the command, its nonce, expiry and sequence step). */
#define DISPLAY_CLEARED "display = NULL, display_nonce = '', display_expires = NULL, display_step = NULL"

/* device_id → row id within r's customer: 1 found, 0 not, -1 db error. */
int device_lookup(request *r, const char *device_id, size_t n, int64_t *id);

/* A command (§3.3) to show on devices, validated as a POST to a device
 * would validate it (in the arena). NULL with *errors (DRF shape) when
 * invalid or not a command. */
typedef struct device_command device_command;
device_command *device_command_parse(request *r, json_object *in, json_object **errors);
/* Show it on one device, in the caller's write transaction; `arrow`
 * replaces the command's arrow when not NULL (alias targets); step_ref is
 * the sequence step shown (0: none). 0 ok, -1 db error. */
int device_command_show(request *r, int64_t device_row, const device_command *dc, const char *arrow,
                        int64_t step_ref);
/* Clear every display of r's customer that shows this nonce. */
int device_clear_by_nonce(request *r, const char *nonce);

/* A device a location names, with the arrow an alias implies (NULL: none). */
typedef struct device_target {
    int64_t row;
    const char *arrow;
} device_target;
/* The devices at `location` (their location or statics.locationoverride)
 * and those a location alias of that name points at: the number found
 * (targets in the arena, by row id, each once), -1 on a db error. */
int devices_at_location(request *r, const char *location, device_target **out);

/* Answer with the device as GET renders it: 0, or -1 (db error). */
int device_respond(request *r, int status, int64_t device_row);

/* The device with row id `id` as a record of device_schema (arena), or
 * NULL when it is missing or on a database error. */
record *load_device(request *r, int64_t id);

#endif
