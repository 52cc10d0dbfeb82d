/*
 * routes.c — the map of the whole API: every path, the handler of each
 * method, and the declarations OPTIONS and the OpenAPI document describe.
 * Nothing routes anywhere else. Patterns match with or without the
 * trailing slash and with a ".json"/".api" suffix (".xml" too on the
 * ROUTE_XML views: the Orders API, §8); {name} is one path
 * segment, percent-decoded (the name is for the OpenAPI document).
 * First match wins.
 *
 * Per row: pattern, view name (OPTIONS), what POST/PUT take, the handlers,
 * then for the OpenAPI document the kind of view, what it answers when
 * that differs from what it takes, and what a list's query accepts.
 */
#include "api/api.h"
#include "api/docs.h"
#include "api/openapi.h"
#include "api/resources.h"

const route api_routes[] = {
    {"/healthz", NULL, NULL, .get = healthz, .flags = ROUTE_PUBLIC | ROUTE_RAW},

    /* Logins, §2.1, §4.3, §6 */
    {"/api/o/token/", "Token", NULL, .post = oauth_token, .flags = ROUTE_PUBLIC | ROUTE_RAW},
    {"/api/user/login/", "User Login", NULL, .post = user_login, .flags = ROUTE_PUBLIC},
    {"/api/user/logout/", "User Logout", NULL, .post = user_logout},
    {"/api/auth/login/", "Login", NULL, .get = login_page, .post = login_submit,
     .flags = ROUTE_PUBLIC | ROUTE_RAW},
    {"/api/auth/logout/", "Logout", NULL, .get = logout_page, .post = logout_page,
     .flags = ROUTE_PUBLIC | ROUTE_RAW},

    /* Orders API, §3 */
    {"/api/", "Api Root", NULL, .get = api_root},
    {"/api/orders/", "Order List", &order_schema, .get = orders_list, .post = orders_create,
     .flags = ROUTE_XML, .kind = VIEW_LIST, .list = &orders_query},
    {"/api/orders/{order}/", "Order Instance", &order_schema,
     .get = order_retrieve, .put = order_put, .patch = order_patch, .del = order_delete,
     .flags = ROUTE_XML, .kind = VIEW_DETAIL},
    {"/api/orders/{order}/launch/", "Order Launch", NULL, .post = order_launch, .flags = ROUTE_XML},
    {"/api/orders/{order}/abort/", "Order Abort", NULL, .post = order_abort, .flags = ROUTE_XML},
    {"/api/items/{id}/", "Item Instance", &item_schema,
     .get = item_retrieve, .put = item_put, .patch = item_patch,
     .flags = ROUTE_XML, .kind = VIEW_DETAIL},
    {"/api/device/", "Device List", &device_schema, .get = devices_list, .post = device_register,
     .flags = ROUTE_XML, .kind = VIEW_LIST, .list = &devices_query},
    {"/api/device/{device_id}/", "Device Instance", &display_schema,
     .get = device_retrieve, .post = device_apply, .put = device_apply, .del = device_delete,
     .flags = ROUTE_XML, .kind = VIEW_DETAIL, .output = &device_schema, .input_alt = &statics_schema},
    {"/api/device/{device_id}/ack/", "Device Ack", &ack_schema, .post = device_ack,
     .flags = ROUTE_XML, .output = &device_schema},
    {"/api/devices/", "Devices", &display_schema, .post = devices_bulk,
     .flags = ROUTE_XML, .kind = VIEW_BULK, .output = &device_schema, .input_alt = &statics_schema,
     .selector = &device_selector_schema},

    /* Pick-to-light workflows, §8 */
    {"/api/location-aliases/", "Location Alias List", &alias_schema,
     .get = aliases_list, .post = alias_create},
    {"/api/location-aliases/{id}/", "Location Alias Instance", &alias_schema,
     .get = alias_retrieve, .del = alias_delete, .kind = VIEW_DETAIL},

    {"/api/sequence/", "Sequence List", &sequence_schema, .get = sequences_list, .post = sequence_create,
     .kind = VIEW_LIST, .list = &sequences_query},
    {"/api/sequence/{id}/", "Sequence Instance", &sequence_schema,
     .get = sequence_retrieve, .put = sequence_put, .del = sequence_delete, .kind = VIEW_DETAIL},
    {"/api/launchsequence/{id}/", "Launch Sequence", NULL, .get = sequence_launch,
     .flags = ROUTE_GET_WRITES},

    /* Retail data API, §4.1, §4.2 */
    {"/api/v1/", "Api Root", NULL, .get = retail_root},
    {"/api/v1/shops/", "Shop List", &shop_schema, .get = shops_list, .post = shops_upsert,
     .flags = ROUTE_UPSERT, .kind = VIEW_LIST, .list = &shops_query},
    {"/api/v1/shops/{shop_id}/", "Shop Instance", &shop_schema,
     .get = shop_retrieve, .put = shop_put, .patch = shop_patch, .del = shop_delete,
     .kind = VIEW_DETAIL},
    {"/api/v1/suppliers/", "Supplier List", &supplier_schema, .get = suppliers_list, .post = suppliers_upsert,
     .flags = ROUTE_UPSERT, .kind = VIEW_LIST, .list = &suppliers_query},
    {"/api/v1/suppliers/{supplier_id}/", "Supplier Instance", &supplier_schema,
     .get = supplier_retrieve, .put = supplier_put, .patch = supplier_patch, .del = supplier_delete,
     .kind = VIEW_DETAIL},
    {"/api/v1/products/", "Product List", &product_schema, .get = products_list, .post = products_upsert,
     .flags = ROUTE_UPSERT, .kind = VIEW_LIST, .list = &products_query},
    {"/api/v1/products/{product_id}/", "Product Instance", &product_schema,
     .get = product_retrieve, .put = product_put, .patch = product_patch, .del = product_delete,
     .kind = VIEW_DETAIL},
    {"/api/v1/supplier-refunds/", "Supplier Refund List", &refund_schema,
     .get = refunds_list, .post = refunds_upsert,
     .flags = ROUTE_UPSERT, .kind = VIEW_LIST, .list = &refunds_query},
    {"/api/v1/supplier-refunds/{refund}/", "Supplier Refund Instance", &refund_schema,
     .get = refund_retrieve, .put = refund_put, .patch = refund_patch, .del = refund_delete,
     .kind = VIEW_DETAIL},
    {"/api/v1/supplier-refunds/{refund}/products/{line_id}/", "Refund Product Instance",
     &refund_product_schema, .get = refund_product_retrieve,
     .kind = VIEW_DETAIL},

    /* This API described: the OpenAPI document, and a page to read and try it */
    {"/api/schema/", "Schema", NULL, .get = openapi_schema},

    {"/api/docs/", NULL, NULL, .get = docs_page, .flags = ROUTE_RAW},
    {"/api/docs/{asset}", NULL, NULL, .get = docs_file, .flags = ROUTE_RAW},

    /* §8's query-string API: after every other route, since its first
     * segment is any device id */
    {"/api/{device_id}/{type}/{lines12}/{lines345}/{sound}/{timing}/", "Device Query String", NULL,
     .get = device_query_string, .flags = ROUTE_GET_WRITES},
    {"/api/{device_id}/{type}/{lines12}/{lines345}/{sound}/{timing}/{nonce}/", "Device Query String",
     NULL, .get = device_query_string, .flags = ROUTE_GET_WRITES},
};

const int api_nroutes = (int)(sizeof api_routes / sizeof api_routes[0]);
