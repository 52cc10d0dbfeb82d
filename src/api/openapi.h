/*
 * openapi.h — the OpenAPI 3.0.3 document of the whole API (GET /api/schema/).
 *
 * It is generated, never written by hand: every path, method and path
 * parameter comes from the route table (routes.c); request and response
 * bodies from the schema declarations (fields.h) that also drive
 * validation, rendering and OPTIONS; list parameters from each list's
 * list_query (pagination.h), the same one its handler orders by. Routes
 * with no schema (login, tokens, this document, the docs page) are
 * described by a small table in openapi.c keyed by pattern; a route found
 * in neither still appears, with its methods and a generic answer.
 * Everything in it is relative to the server (servers: "/"), so the
 * document does not depend on the request.
 */
#ifndef STOCKROOM_OPENAPI_H
#define STOCKROOM_OPENAPI_H

#include <json-c/json.h>

#include "http/request.h"

/* The whole document as a json-c tree; the caller puts it. */
json_object *openapi_document(void);

/* GET /api/schema/: the document as JSON (or the browsable page). */
void openapi_schema(request *r);

#endif
