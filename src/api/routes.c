/*
 * routes.c — the map of the whole API: every path, the handler of each
 * method, and the declaration OPTIONS describes. Nothing routes anywhere
 * else. Patterns match with or without the trailing slash and with a
 * ".json"/".api" suffix; {} is one path segment, percent-decoded.
 * First match wins.
 */
#include "api/api.h"
#include "api/resources.h"

const route api_routes[] = {
    /* pattern              view name (OPTIONS)  takes             handlers */
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
    {"/api/orders/", "Order List", &order_schema, .get = orders_list, .post = orders_create},
    {"/api/orders/{}/", "Order Instance", &order_schema,
     .get = order_retrieve, .put = order_put, .patch = order_patch, .del = order_delete},
    {"/api/items/{}/", "Item Instance", &item_schema,
     .get = item_retrieve, .put = item_put, .patch = item_patch},
    {"/api/device/", "Device List", &device_schema, .get = devices_list, .post = device_register},
    {"/api/device/{}/", "Device Instance", &display_schema,
     .get = device_retrieve, .post = device_apply, .put = device_apply, .del = device_delete},
    {"/api/devices/", "Devices", &display_schema, .post = devices_bulk},

    /* Retail data API, §4.1, §4.2 */
    {"/api/v1/", "Api Root", NULL, .get = retail_root},
    {"/api/v1/shops/", "Shop List", &shop_schema, .get = shops_list, .post = shops_upsert},
    {"/api/v1/shops/{}/", "Shop Instance", &shop_schema,
     .get = shop_retrieve, .put = shop_put, .patch = shop_patch, .del = shop_delete},
    {"/api/v1/suppliers/", "Supplier List", &supplier_schema, .get = suppliers_list, .post = suppliers_upsert},
    {"/api/v1/suppliers/{}/", "Supplier Instance", &supplier_schema,
     .get = supplier_retrieve, .put = supplier_put, .patch = supplier_patch, .del = supplier_delete},
    {"/api/v1/products/", "Product List", &product_schema, .get = products_list, .post = products_upsert},
    {"/api/v1/products/{}/", "Product Instance", &product_schema,
     .get = product_retrieve, .put = product_put, .patch = product_patch, .del = product_delete},
    {"/api/v1/supplier-refunds/", "Supplier Refund List", &refund_schema,
     .get = refunds_list, .post = refunds_upsert},
    {"/api/v1/supplier-refunds/{}/", "Supplier Refund Instance", &refund_schema,
     .get = refund_retrieve, .put = refund_put, .patch = refund_patch, .del = refund_delete},
    {"/api/v1/supplier-refunds/{}/products/{}/", "Refund Product Instance", &refund_product_schema,
     .get = refund_product_retrieve},
};

const int api_nroutes = (int)(sizeof api_routes / sizeof api_routes[0]);
