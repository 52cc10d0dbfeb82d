/*
 * openapi.h — the OpenAPI 3.0.3 document of the whole API (GET /api/schema/).
 *
 * It is generated, never written by hand: every path, method and path
 * parameter comes from the route table (routes.c); request and response
 * bodies from the schema declarations (fields.h) that also drive
 * validation, rendering and OPTIONS; list parameters from each list's
 * list_query (pagination.h), the same one its handler orders by. Routes
 * with no schema (login, tokens, this document, the docs page) name their
 * description (one of the describe_* below) on their row; a route with
 * neither still appears, with its methods and a generic answer.
 * Everything in it is relative to the server (servers: "/"), so the
 * document does not depend on the request.
 */
#ifndef STOCKROOM_OPENAPI_H
#define STOCKROOM_OPENAPI_H

#include <json-c/json.h>

#include "api/api.h"
#include "http/request.h"

/* The whole document as a json-c tree; the caller puts it. */
json_object *openapi_document(void);

/* GET /api/schema/: the document as JSON (or the browsable page). */
int openapi_schema(request *r);

/* The descriptions of routes without a view kind (route.describe). */
void describe_root(openapi_doc *d, const route *rt, json_object *item);
void describe_token(openapi_doc *d, const route *rt, json_object *item);
void describe_user_login(openapi_doc *d, const route *rt, json_object *item);
void describe_user_logout(openapi_doc *d, const route *rt, json_object *item);
void describe_auth_login(openapi_doc *d, const route *rt, json_object *item);
void describe_auth_logout(openapi_doc *d, const route *rt, json_object *item);
void describe_schema(openapi_doc *d, const route *rt, json_object *item);
void describe_docs(openapi_doc *d, const route *rt, json_object *item);
void describe_docs_asset(openapi_doc *d, const route *rt, json_object *item);
void describe_healthz(openapi_doc *d, const route *rt, json_object *item);
void describe_wall(openapi_doc *d, const route *rt, json_object *item);
void describe_wall_asset(openapi_doc *d, const route *rt, json_object *item);
void describe_front_door(openapi_doc *d, const route *rt, json_object *item);
void describe_metrics(openapi_doc *d, const route *rt, json_object *item);
void describe_launch(openapi_doc *d, const route *rt, json_object *item);
void describe_launch_sequence(openapi_doc *d, const route *rt, json_object *item);
void describe_query_string(openapi_doc *d, const route *rt, json_object *item);
void describe_events(openapi_doc *d, const route *rt, json_object *item);

#endif
