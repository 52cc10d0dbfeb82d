/*
 * resources.h — every resource's handlers and declarations, for the route
 * table (routes.c). One section per resource file.
 */
#ifndef STOCKROOM_RESOURCES_H
#define STOCKROOM_RESOURCES_H

#include "api/fields.h"
#include "api/pagination.h"
#include "http/request.h"

/* orders.c — §3.1, §3.2 */
extern const schema order_schema, item_schema;
extern const list_query orders_query;
void orders_list(request *r);
void orders_create(request *r);
void order_retrieve(request *r);
void order_put(request *r);
void order_patch(request *r);
void order_delete(request *r);
void item_retrieve(request *r);
void item_put(request *r);
void item_patch(request *r);

/* devices.c — §3.3 */
extern const schema device_schema, display_schema, statics_schema, device_selector_schema;
extern const list_query devices_query;
void devices_list(request *r);
void device_register(request *r);
void device_retrieve(request *r);
void device_apply(request *r);
void device_delete(request *r);
void devices_bulk(request *r);

/* picks.c — §8 */
extern const schema ack_schema;
void device_ack(request *r);

/* catalog.c — §4.1 */
extern const schema shop_schema, supplier_schema, product_schema;
extern const list_query shops_query, suppliers_query, products_query;
void shops_list(request *r);
void shops_upsert(request *r);
void shop_retrieve(request *r);
void shop_put(request *r);
void shop_patch(request *r);
void shop_delete(request *r);
void suppliers_list(request *r);
void suppliers_upsert(request *r);
void supplier_retrieve(request *r);
void supplier_put(request *r);
void supplier_patch(request *r);
void supplier_delete(request *r);
void products_list(request *r);
void products_upsert(request *r);
void product_retrieve(request *r);
void product_put(request *r);
void product_patch(request *r);
void product_delete(request *r);
/* An entry's absolute url: /api/v1/{collection}/{id}/ (id percent-encoded). */
const char *catalog_url(request *r, const char *collection, const char *id, size_t n);

/* refunds.c — §4.2 */
extern const schema refund_schema, refund_product_schema;
extern const list_query refunds_query;
void refunds_list(request *r);
void refunds_upsert(request *r);
void refund_retrieve(request *r);
void refund_put(request *r);
void refund_patch(request *r);
void refund_delete(request *r);
void refund_product_retrieve(request *r);

/* health.c — §7 */
void healthz(request *r);

/* aliases.c — §8 */
extern const schema alias_schema;
void aliases_list(request *r);
void alias_create(request *r);
void alias_retrieve(request *r);
void alias_delete(request *r);

/* sequences.c — §8 */
extern const schema sequence_schema;
extern const list_query sequences_query;
void sequences_list(request *r);
void sequence_create(request *r);
void sequence_retrieve(request *r);
void sequence_put(request *r);
void sequence_delete(request *r);
void sequence_launch(request *r);

/* qs.c — §8's query-string API */
void device_query_string(request *r);

/* launch.c — §8 */
void order_launch(request *r);
void order_abort(request *r);

/* root.c — API roots */
void api_root(request *r);
void retail_root(request *r);

/* oauth.c — §4.3 */
void oauth_token(request *r);

/* login.c — §2.1, §6 */
void login_page(request *r);
void login_submit(request *r);
void logout_page(request *r);
void user_login(request *r);
void user_logout(request *r);

#endif
