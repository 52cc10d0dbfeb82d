/*
 * respond.h — the one way to answer a request. Every response of the API
 * goes through these: JSON bodies (or the browsable HTML page when the
 * request asked for format "api"), DRF-shaped errors, and empty answers.
 */
#ifndef STOCKROOM_RESPOND_H
#define STOCKROOM_RESPOND_H

#include <json-c/json.h>

#include "api/fields.h"
#include "api/json.h"
#include "http/request.h"

/* Send the writer's JSON with `status` (takes the buffer). */
void respond_json(request *r, int status, jw *w);
/* {"detail": detail} */
void respond_error(request *r, int status, const char *detail);
/* 400 with a DRF validation error tree (puts `errors`). */
void respond_validation(request *r, json_object *errors);
/* One record as a JSON object (fields.h's render_record). */
void respond_record(request *r, int status, const record *rec);
/* 204, no body. */
void respond_no_content(request *r);
/* 429 {"detail": "Request was throttled. Expected available in N seconds."}
 * with Retry-After: N, as DRF's throttles answer. */
void respond_throttled(request *r, int seconds);
/* 500 {"detail": "A server error occurred."}, with `why` in the log only. */
void respond_server_error(request *r, const char *why);

#endif
