/*
 * resources.h — what each resource file gives the route table (routes.c):
 * its declarations (schemas, list queries, resources for the generic views
 * of views.h) and the handlers that are its own. One section per file.
 */
#ifndef STOCKROOM_RESOURCES_H
#define STOCKROOM_RESOURCES_H

#include "api/fields.h"
#include "api/pagination.h"
#include "api/views.h"
#include "http/request.h"

/* orders.c — §3.1, §3.2 (orders_resource, items_resource: orders.h) */
extern const schema order_schema, item_schema;
extern const list_query orders_query;

/* devices.c — §3.3 (devices_resource: devices.h) */
extern const schema device_schema, display_schema, statics_schema, device_selector_schema;
extern const list_query devices_query;
int device_apply(request *r);
int devices_bulk(request *r);

/* picks.c — §8 */
extern const schema ack_schema, press_schema;
int device_ack(request *r);
int device_press(request *r);

/* catalog.c — §4.1 */
extern const schema shop_schema, supplier_schema, product_schema;
extern const list_query shops_query, suppliers_query, products_query;
extern const resource shops_resource, suppliers_resource, products_resource;
int shops_upsert(request *r);
int suppliers_upsert(request *r);
int products_upsert(request *r);
/* An entry's absolute url: /api/v1/{collection}/{id}/ (id percent-encoded). */
const char *catalog_url(request *r, const char *collection, const char *id, size_t n);

/* refunds.c — §4.2 */
extern const schema refund_schema, refund_product_schema;
extern const list_query refunds_query;
extern const resource refunds_resource;
int refunds_upsert(request *r);
int refund_product_retrieve(request *r);

/* health.c — §7 */
int healthz(request *r);

/* router.c — GET / */
int front_door(request *r);

/* aliases.c — §8 */
extern const schema alias_schema;
extern const resource aliases_resource;
int aliases_list(request *r);

/* sequences.c — §8 (sequences_resource: sequences.h) */
extern const schema sequence_schema;
extern const list_query sequences_query;
int sequence_launch(request *r);

/* qs.c — §8's query-string API */
int device_query_string(request *r);

/* launch.c — §8 */
int order_launch(request *r);
int order_abort(request *r);

/* root.c — API roots */
int api_root(request *r);
int retail_root(request *r);

/* oauth.c — §4.3 */
int oauth_token(request *r);

/* login.c — §2.1, §6 */
int login_page(request *r);
int login_submit(request *r);
int logout_page(request *r);
int user_login(request *r);
int user_logout(request *r);

#endif
