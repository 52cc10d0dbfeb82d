/*
 * routes.c — the map of the whole API: every path, the handler of each
 * method, the declarations OPTIONS and the OpenAPI document describe, and
 * the names the API roots list. Nothing routes anywhere else. Patterns
 * match with or without the trailing slash and with a ".json"/".api"
 * suffix (".xml" too on the ROUTE_XML views: the Orders API, §8); {name} is
 * one path segment, percent-decoded (the name is for the OpenAPI
 * document). First match wins.
 *
 * Per row: pattern, view name (OPTIONS), what POST/PUT take when it is not
 * the resource's schema, the handlers — view_* are the generic views of
 * the row's resource (views.h) — then flags, the resource, the API root's
 * name for it, and for the OpenAPI document the kind of view (or its
 * description), what it answers when that differs from what it takes, and
 * what a list's query accepts.
 */
#include "api/api.h"
#include "api/devices.h"
#include "api/docs.h"
#include "api/events.h"
#include "api/openapi.h"
#include "api/monitoring.h"
#include "api/orders.h"
#include "api/resources.h"
#include "api/sequences.h"
#include "api/views.h"
#include "api/wall.h"


const route api_routes[] = {
    {"/healthz", NULL, NULL, .get = healthz, .flags = ROUTE_PUBLIC | ROUTE_RAW, .describe = describe_healthz},
    /* the operator's Prometheus: loopback, or the bearer token set (monitoring.c) */
    {"/metrics", NULL, NULL, .get = metrics_page, .flags = ROUTE_PUBLIC | ROUTE_RAW, .describe = describe_metrics},
    /* a browser opening the server's address lands on the API root */
    {"/", NULL, NULL, .get = front_door, .flags = ROUTE_PUBLIC | ROUTE_RAW, .describe = describe_front_door},

    /* Logins, §2.1, §4.3, §6 */
    {"/api/o/token/", "Token", NULL, .post = oauth_token, .flags = ROUTE_PUBLIC | ROUTE_RAW | ROUTE_LOGIN,
     .describe = describe_token},
    {"/api/user/login/", "User Login", NULL, .post = user_login, .flags = ROUTE_PUBLIC | ROUTE_LOGIN,
     .describe = describe_user_login},
    {"/api/user/logout/", "User Logout", NULL, .post = user_logout, .describe = describe_user_logout},
    {"/api/auth/login/", "Login", NULL, .get = login_page, .post = login_submit,
     .flags = ROUTE_PUBLIC | ROUTE_RAW | ROUTE_LOGIN, .describe = describe_auth_login},
    {"/api/auth/logout/", "Logout", NULL, .get = logout_page, .post = logout_page,
     .flags = ROUTE_PUBLIC | ROUTE_RAW | ROUTE_GET_WRITES, .describe = describe_auth_logout},

    /* Orders API, §3 */
    {"/api/", "Api Root", NULL, .get = api_root, .describe = describe_root},
    {"/api/orders/", "Order List", NULL, .get = view_list, .post = view_create, .flags = ROUTE_XML,
     .resource = &orders_resource, .root = "orders", .kind = VIEW_LIST, .list = &orders_query},
    {"/api/orders/{order}/", "Order Instance", NULL, .get = view_retrieve, .put = view_put, .patch = view_patch,
     .del = view_destroy, .flags = ROUTE_XML, .resource = &orders_resource, .kind = VIEW_DETAIL},
    {"/api/orders/{order}/launch/", "Order Launch", NULL, .post = order_launch, .flags = ROUTE_XML,
     .describe = describe_launch},
    {"/api/orders/{order}/abort/", "Order Abort", NULL, .post = order_abort, .flags = ROUTE_XML,
     .describe = describe_launch},
    /* the singular names Big Block's documents and clients use (§8.1) */
    {"/api/order/", "Order List", NULL, .get = view_list, .post = view_create, .flags = ROUTE_XML,
     .resource = &orders_resource, .kind = VIEW_LIST, .list = &orders_query},
    {"/api/order/{order}/", "Order Instance", NULL, .get = view_retrieve, .put = view_put, .patch = view_patch,
     .del = view_destroy, .flags = ROUTE_XML, .resource = &orders_resource, .kind = VIEW_DETAIL},
    {"/api/order/{order}/launch/", "Order Launch", NULL, .post = order_launch, .flags = ROUTE_XML,
     .describe = describe_launch},
    {"/api/order/{order}/abort/", "Order Abort", NULL, .post = order_abort, .flags = ROUTE_XML,
     .describe = describe_launch},
    {"/api/items/{id}/", "Item Instance", NULL, .get = view_retrieve, .put = view_put, .patch = view_patch,
     .flags = ROUTE_XML, .resource = &items_resource, .kind = VIEW_DETAIL},
    {"/api/device/", "Device List", NULL, .get = view_list, .post = view_create, .flags = ROUTE_XML,
     .resource = &devices_resource, .root = "device", .kind = VIEW_LIST, .list = &devices_query},
    {"/api/device/{device_id}/", "Device Instance", &display_schema, .get = view_retrieve, .post = device_apply,
     .put = device_apply, .del = view_destroy, .flags = ROUTE_XML, .resource = &devices_resource,
     .kind = VIEW_DETAIL, .output = &device_schema, .input_alt = &statics_schema},
    {"/api/device/{device_id}/ack/", "Device Ack", &ack_schema, .post = device_ack,
     .flags = ROUTE_XML, .output = &device_schema},
    {"/api/device/{device_id}/press/", "Device Press", &press_schema, .post = device_press,
     .flags = ROUTE_XML, .output = &device_schema},
    {"/api/devices/", "Devices", &display_schema, .post = devices_bulk,
     .flags = ROUTE_XML, .kind = VIEW_BULK, .output = &device_schema, .input_alt = &statics_schema,
     .selector = &device_selector_schema},

    /* Pick-to-light workflows, §8 */
    /* the device wall, §8.2: a page and its files */
    {"/api/wall/", NULL, NULL, .get = wall_page, .flags = ROUTE_RAW, .describe = describe_wall},
    {"/api/wall/{asset}", NULL, NULL, .get = wall_file, .flags = ROUTE_RAW, .describe = describe_wall_asset},
    {"/api/location-aliases/", "Location Alias List", NULL, .get = aliases_list, .post = view_create,
     .resource = &aliases_resource},
    {"/api/location-aliases/{id}/", "Location Alias Instance", NULL, .get = view_retrieve, .del = view_destroy,
     .resource = &aliases_resource, .kind = VIEW_DETAIL},

    {"/api/sequence/", "Sequence List", NULL, .get = view_list, .post = view_create,
     .resource = &sequences_resource, .root = "sequence", .kind = VIEW_LIST, .list = &sequences_query},
    {"/api/sequence/{id}/", "Sequence Instance", NULL, .get = view_retrieve, .put = view_put, .del = view_destroy,
     .resource = &sequences_resource, .kind = VIEW_DETAIL},
    {"/api/launchsequence/{id}/", "Launch Sequence", NULL, .get = sequence_launch,
     .flags = ROUTE_GET_WRITES, .describe = describe_launch_sequence},
    /* §8.2: the customer's events as Server-Sent Events, for as long as the client stays */
    {"/api/events/", NULL, NULL, .get = events_stream, .flags = ROUTE_RAW, .describe = describe_events},

    /* Retail data API, §4.1, §4.2 */
    {"/api/v1/", "Api Root", NULL, .get = retail_root, .describe = describe_root},
    {"/api/v1/shops/", "Shop List", NULL, .get = view_list, .post = shops_upsert, .flags = ROUTE_UPSERT,
     .resource = &shops_resource, .root = "shops", .kind = VIEW_LIST, .list = &shops_query},
    {"/api/v1/shops/{shop_id}/", "Shop Instance", NULL, .get = view_retrieve, .put = view_put, .patch = view_patch,
     .del = view_destroy, .resource = &shops_resource, .kind = VIEW_DETAIL},
    {"/api/v1/suppliers/", "Supplier List", NULL, .get = view_list, .post = suppliers_upsert, .flags = ROUTE_UPSERT,
     .resource = &suppliers_resource, .root = "suppliers", .kind = VIEW_LIST, .list = &suppliers_query},
    {"/api/v1/suppliers/{supplier_id}/", "Supplier Instance", NULL, .get = view_retrieve, .put = view_put,
     .patch = view_patch, .del = view_destroy, .resource = &suppliers_resource, .kind = VIEW_DETAIL},
    {"/api/v1/products/", "Product List", NULL, .get = view_list, .post = products_upsert, .flags = ROUTE_UPSERT,
     .resource = &products_resource, .root = "products", .kind = VIEW_LIST, .list = &products_query},
    {"/api/v1/products/{product_id}/", "Product Instance", NULL, .get = view_retrieve, .put = view_put,
     .patch = view_patch, .del = view_destroy, .resource = &products_resource, .kind = VIEW_DETAIL},
    {"/api/v1/supplier-refunds/", "Supplier Refund List", NULL, .get = view_list, .post = refunds_upsert,
     .flags = ROUTE_UPSERT, .resource = &refunds_resource, .root = "supplier-refunds", .kind = VIEW_LIST,
     .list = &refunds_query},
    {"/api/v1/supplier-refunds/{refund}/", "Supplier Refund Instance", NULL, .get = view_retrieve, .put = view_put,
     .patch = view_patch, .del = view_destroy, .resource = &refunds_resource, .kind = VIEW_DETAIL},
    {"/api/v1/supplier-refunds/{refund}/products/{line_id}/", "Refund Product Instance",
     &refund_product_schema, .get = refund_product_retrieve, .kind = VIEW_DETAIL},

    /* This API described: the OpenAPI document, and a page to read and try it */
    {"/api/schema/", "Schema", NULL, .get = openapi_schema, .describe = describe_schema},
    /* ... under the names Big Block's documents give it (§8.1): /orders/openapi.json, a
     * ".json" suffix like any other */
    {"/orders/openapi/", "Schema", NULL, .get = openapi_schema, .describe = describe_schema},
    {"/sequence/openapi/", "Schema", NULL, .get = openapi_schema, .describe = describe_schema},

    {"/api/docs/", NULL, NULL, .get = docs_page, .flags = ROUTE_RAW, .describe = describe_docs},
    {"/api/docs/{asset}", NULL, NULL, .get = docs_file, .flags = ROUTE_RAW, .describe = describe_docs_asset},

    /* §8's query-string API: after every other route, since its first
     * segment is any device id */
    {"/api/{device_id}/{type}/{lines12}/{lines345}/{sound}/{timing}/", "Device Query String", NULL,
     .get = device_query_string, .flags = ROUTE_GET_WRITES, .describe = describe_query_string},
    {"/api/{device_id}/{type}/{lines12}/{lines345}/{sound}/{timing}/{nonce}/", "Device Query String",
     NULL, .get = device_query_string, .flags = ROUTE_GET_WRITES, .describe = describe_query_string},
};

const int api_nroutes = (int)(sizeof api_routes / sizeof api_routes[0]);
