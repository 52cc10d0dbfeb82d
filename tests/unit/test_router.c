/*
 * test_router.c — api_dispatch() on hand-built requests, with no network
 * connection and no database: which paths reach which route (trailing
 * slash optional, ".json"/".api" suffixes in both spellings, ?format=),
 * DRF's 404 for unknown paths and formats, the Allow text of each route,
 * percent-decoded captures, and the choice between JSON, the browsable
 * page and XML (only on the Orders API's routes). Without a database an
 * API route answers 500 before authentication, which is enough to observe
 * the routing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/arena.h"
#include "core/util.h"

#define NOT_FOUND "{\"detail\":\"Not found.\"}"
#define SERVER_ERROR "{\"detail\":\"A server error occurred.\"}"
#define XML_SERVER_ERROR "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
                         "<root><detail>A server error occurred.</detail></root>"
#define XML_TYPE "application/xml; charset=utf-8"

#define ALLOW_ORDER_LIST "GET, POST, HEAD, OPTIONS"
#define ALLOW_ORDER_DETAIL "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
#define ALLOW_ITEM "GET, PUT, PATCH, HEAD, OPTIONS"
#define ALLOW_DEVICE_LIST "GET, POST, HEAD, OPTIONS"
#define ALLOW_DEVICE_DETAIL "GET, POST, PUT, DELETE, HEAD, OPTIONS"
#define ALLOW_DEVICES_BULK "POST, OPTIONS"
#define ALLOW_SHOP_LIST "GET, POST, HEAD, OPTIONS"
#define ALLOW_SHOP_DETAIL "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"

static arena *A;
static request R;
static header_pair H[4];

static int setup(void **state)
{
    (void)state;
    A = arena_new(0);
    memset(&R, 0, sizeof R);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(R.resp_body);
    R.resp_body = NULL;
    if (R.input)
        json_object_put(R.input);
    arena_free(A);
    A = NULL;
    return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Split "a=1&b=x%20y" as the http layer does: decoded, '+' as space. */
static void set_query(const char *qs)
{
    int cap = 1;
    for (const char *p = qs; *p; p++)
        cap += *p == '&';
    R.query = arena_alloc(A, sizeof(query_param) * (size_t)cap);
    R.nquery = 0;
    while (*qs) {
        const char *end = strchr(qs, '&');
        size_t n = end ? (size_t)(end - qs) : strlen(qs);
        if (n) {
            const char *eq = memchr(qs, '=', n);
            size_t name_len = eq ? (size_t)(eq - qs) : n;
            R.query[R.nquery].name = url_decode(A, qs, name_len, true);
            R.query[R.nquery].value = eq ? url_decode(A, eq + 1, n - name_len - 1, true) : "";
            R.nquery++;
        }
        qs += n + (end ? 1 : 0);
    }
}

/*
 * Dispatch `method url` (url may carry a query string), optionally with an
 * Accept header. The previous answer is released first, so a test may
 * dispatch several times.
 */
static void dispatch_accept(const char *method, const char *url, const char *accept)
{
    free(R.resp_body);
    if (R.input)
        json_object_put(R.input);
    arena_reset(A);
    memset(&R, 0, sizeof R);
    R.arena = A;
    R.db = NULL;

    R.method = http_method_parse(method);
    R.method_name = method;
    const char *q = strchr(url, '?');
    if (q) {
        R.path = arena_strndup(A, url, (size_t)(q - url));
        set_query(q + 1);
    } else {
        R.path = arena_strdup(A, url);
    }
    R.body = "";
    R.body_len = 0;
    R.base_url = "http://testserver";
    int nh = 0;
    H[nh].name = "Host";
    H[nh++].value = "testserver";
    if (accept) {
        H[nh].name = "Accept";
        H[nh++].value = accept;
    }
    R.headers_in = H;
    R.nheaders_in = nh;
    api_dispatch(&R);
}

static void dispatch(const char *method, const char *url)
{
    dispatch_accept(method, url, NULL);
}

static void expect_body(const char *want)
{
    if (!R.resp_body || R.resp_len != strlen(want) || memcmp(R.resp_body, want, R.resp_len) != 0) {
        print_error("%s %s: body %.*s, want %s\n", R.method_name, R.path, (int)R.resp_len,
                    R.resp_body ? R.resp_body : "(none)", want);
        fail();
    }
}

static void expect_not_found(const char *method, const char *url)
{
    dispatch(method, url);
    if (R.status != 404) {
        print_error("%s %s: status %d, want 404\n", method, url, R.status);
        fail();
    }
    assert_string_equal(R.content_type, "application/json");
    expect_body(NOT_FOUND);
}

/* The url reaches the API route whose Allow text is `allow` (and answers
 * 500 as JSON for want of a database). */
static void expect_route(const char *url, const char *allow)
{
    dispatch("GET", url);
    if (R.status != 500 || !R.allow || strcmp(R.allow, allow) != 0) {
        print_error("GET %s: status %d, Allow \"%s\"; want 500 and \"%s\"\n", url, R.status,
                    R.allow ? R.allow : "(none)", allow);
        fail();
    }
    if (R.xml) {
        assert_string_equal(R.content_type, XML_TYPE);
        expect_body(XML_SERVER_ERROR);
    } else if (!R.browsable) {
        assert_string_equal(R.content_type, "application/json");
        expect_body(SERVER_ERROR);
    }
}

static void expect_capture(const char *url, const char *allow, const char *capture)
{
    expect_route(url, allow);
    if (R.ncaptures != 1 || strcmp(R.captures[0], capture) != 0) {
        print_error("GET %s: %d capture(s), first \"%s\"; want \"%s\"\n", url, R.ncaptures,
                    R.ncaptures ? R.captures[0] : "", capture);
        fail();
    }
}

/* ------------------------------------------------------------- 404s */

static void unknown_paths_are_not_found(void **state)
{
    (void)state;
    expect_not_found("GET", "/");
    expect_not_found("GET", "/apis/");
    expect_not_found("GET", "/api/nothing/");
    expect_not_found("GET", "/api/orders/x/y/");
    expect_not_found("GET", "/api/orders/x/y/z/");
    expect_not_found("GET", "/API/orders/");
    expect_not_found("GET", "/api/orders/x/y/z/w/v/u/t/s/r/q/");   /* many segments */
    expect_not_found("POST", "/api/nothing/");
    expect_not_found("DELETE", "/nope");
    expect_not_found("GET", "/api/v1/shops.xml");          /* no XML renderer there */
    expect_not_found("GET", "/api/v1/supplier-refunds.xml");
    expect_not_found("GET", "/api/nothing.xml");
    assert_null(R.allow);
}

static void unknown_format_is_not_found(void **state)
{
    (void)state;
    expect_not_found("GET", "/api/v1/shops/?format=xml");
    expect_not_found("GET", "/api/v1/shops/x/?format=xml");
    expect_not_found("GET", "/api/orders/?format=XML");
    expect_not_found("GET", "/api/orders?format=JSON");
    expect_not_found("GET", "/api/orders/x/?format=yaml");
    expect_not_found("POST", "/api/orders/?format=html");
    expect_not_found("GET", "/nope/?format=json");
    expect_not_found("GET", "/api/orders/?page=2&format=csv");
}

/* DRF: format = format_suffix or query_params.get('format'); only a
 * non-empty value filters the renderers. */
static void empty_format_parameter_is_no_format(void **state)
{
    (void)state;
    expect_route("/api/orders/?format=", ALLOW_ORDER_LIST);
    assert_false(R.browsable);
}

static void format_suffix_beats_format_parameter(void **state)
{
    (void)state;
    expect_route("/api/orders.json?format=xml", ALLOW_ORDER_LIST);
    assert_false(R.browsable);
    expect_route("/api/orders/.api?format=json", ALLOW_ORDER_LIST);
    assert_true(R.browsable);
}

/* ---------------------------------------------------------- the routes */

static void list_route_spellings(void **state)
{
    (void)state;
    static const char *const json_urls[] = {
        "/api/orders/", "/api/orders", "/api/orders.json", "/api/orders/.json",
        "/api/orders.json/", "/api/orders/?format=json", "/api/orders?format=json",
        "/api/orders/?page=2&ordering=-created",
    };
    for (size_t i = 0; i < sizeof json_urls / sizeof json_urls[0]; i++) {
        expect_route(json_urls[i], ALLOW_ORDER_LIST);
        assert_false(R.browsable);
        assert_int_equal(R.ncaptures, 0);
    }
    static const char *const api_urls[] = {
        "/api/orders.api", "/api/orders/.api", "/api/orders/?format=api", "/api/orders?format=api",
    };
    for (size_t i = 0; i < sizeof api_urls / sizeof api_urls[0]; i++) {
        expect_route(api_urls[i], ALLOW_ORDER_LIST);
        if (!R.browsable) {
            print_error("GET %s: not browsable\n", api_urls[i]);
            fail();
        }
    }
}

static void detail_route_spellings(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "/api/orders/x/", "/api/orders/x", "/api/orders/x.json", "/api/orders/x/.json",
        "/api/orders/x/?format=json", "/api/orders/x.api",
        "/api/orders/x/.api", "/api/orders/x/?format=api",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        expect_capture(urls[i], ALLOW_ORDER_DETAIL, "x");
        bool want_html = strstr(urls[i], ".api") || strstr(urls[i], "format=api");
        if (R.browsable != want_html) {
            print_error("GET %s: browsable %d, want %d\n", urls[i], R.browsable, want_html);
            fail();
        }
    }
    /* With a trailing slash the plain route comes first, as in DRF: the
     * segment is the id "x.json" (a shop or document id may end so). */
    expect_capture("/api/orders/x.json/", ALLOW_ORDER_DETAIL, "x.json");
    assert_false(R.browsable);
    /* the same for every method: routing comes before the method check */
    static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        dispatch(methods[i], "/api/orders/17/");
        assert_int_equal(R.status, 500);
        assert_string_equal(R.allow, ALLOW_ORDER_DETAIL);
        assert_string_equal(R.captures[0], "17");
    }
}

static void every_route_has_its_allow_text(void **state)
{
    (void)state;
    expect_route("/api/orders/", ALLOW_ORDER_LIST);
    expect_capture("/api/orders/ORD-1/", ALLOW_ORDER_DETAIL, "ORD-1");
    expect_capture("/api/items/5/", ALLOW_ITEM, "5");
    expect_capture("/api/items/5", ALLOW_ITEM, "5");
    expect_route("/api/device/", ALLOW_DEVICE_LIST);
    expect_capture("/api/device/d-1/", ALLOW_DEVICE_DETAIL, "d-1");
    expect_route("/api/devices/", ALLOW_DEVICES_BULK);
    expect_route("/api/devices", ALLOW_DEVICES_BULK);
    expect_not_found("GET", "/api/devices/x/");
    expect_not_found("GET", "/api/items/");
    expect_route("/api/", "GET, HEAD, OPTIONS");
    expect_route("/api", "GET, HEAD, OPTIONS");
    expect_route("/api/v1/", "GET, HEAD, OPTIONS");
}

/* Non-DRF views (token endpoint, login pages) answer a method they lack
 * with 405 and an Allow header without OPTIONS, before any credentials. */
static void raw_routes_refuse_other_methods(void **state)
{
    (void)state;
    dispatch("GET", "/api/o/token/");
    assert_int_equal(R.status, 405);
    assert_string_equal(R.allow, "POST");
    expect_body("{\"detail\":\"Method \\\"GET\\\" not allowed.\"}");
    dispatch("DELETE", "/api/auth/login/");
    assert_int_equal(R.status, 405);
    assert_string_equal(R.allow, "GET, POST, HEAD");
    dispatch("OPTIONS", "/healthz");
    assert_int_equal(R.status, 405);
    assert_string_equal(R.allow, "GET, HEAD");
}

static void captures_are_percent_decoded(void **state)
{
    (void)state;
    expect_capture("/api/orders/a%2Fb/", ALLOW_ORDER_DETAIL, "a/b");
    expect_capture("/api/orders/a%2fb", ALLOW_ORDER_DETAIL, "a/b");
    expect_capture("/api/orders/caf%C3%A9/", ALLOW_ORDER_DETAIL, "caf\xC3\xA9");
    expect_capture("/api/orders/a%20b/", ALLOW_ORDER_DETAIL, "a b");
    expect_capture("/api/orders/a+b/", ALLOW_ORDER_DETAIL, "a+b");      /* '+' is not a space in paths */
    expect_capture("/api/orders/100%25/", ALLOW_ORDER_DETAIL, "100%");
    expect_capture("/api/orders/%3F%23/", ALLOW_ORDER_DETAIL, "?#");
    expect_capture("/api/orders/a%2Fb.json", ALLOW_ORDER_DETAIL, "a/b");
    expect_capture("/api/device/shelf%2F1%2F2/", ALLOW_DEVICE_DETAIL, "shelf/1/2");
    expect_capture("/api/orders/%zz/", ALLOW_ORDER_DETAIL, "%zz");      /* not an escape: kept */
}

static void healthz_without_database(void **state)
{
    (void)state;
    dispatch("GET", "/healthz");
    assert_int_equal(R.status, 503);
    assert_non_null(R.resp_body);
    assert_true(strncmp(R.content_type, "text/plain", 10) == 0);
    dispatch("GET", "/healthz/");
    assert_int_equal(R.status, 503);
    assert_null(R.allow);   /* not a DRF view */
}

/* ---------------------------------------------------------- negotiation */

static void accept_header_chooses_the_browsable_page(void **state)
{
    (void)state;
    const char *browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    dispatch_accept("GET", "/api/orders/", browser);
    assert_int_equal(R.status, 500);
    assert_string_equal(R.allow, ALLOW_ORDER_LIST);
    assert_true(R.browsable);
    assert_true(strncmp(R.content_type, "text/html", 9) == 0);

    dispatch_accept("GET", "/api/orders/", "application/json");
    assert_false(R.browsable);
    assert_string_equal(R.content_type, "application/json");
    dispatch_accept("GET", "/api/orders/", "*/*");
    assert_false(R.browsable);
    dispatch_accept("GET", "/api/orders/", "application/json, text/html");
    assert_false(R.browsable);
    /* an explicit format wins over Accept */
    dispatch_accept("GET", "/api/orders/?format=json", browser);
    assert_false(R.browsable);
    expect_body(SERVER_ERROR);
    dispatch_accept("GET", "/api/orders.json", browser);
    assert_false(R.browsable);
    dispatch_accept("GET", "/api/orders/.json", browser);
    assert_false(R.browsable);
    dispatch_accept("GET", "/api/orders/?format=api", "application/json");
    assert_true(R.browsable);
}

/* ------------------------------------------------------------------ XML */

/* The Orders API's routes render XML for ".xml", "/.xml", ?format=xml. */
static void xml_format_spellings(void **state)
{
    (void)state;
    static const struct { const char *url, *allow; } urls[] = {
        {"/api/orders.xml", ALLOW_ORDER_LIST},        {"/api/orders/.xml", ALLOW_ORDER_LIST},
        {"/api/orders/?format=xml", ALLOW_ORDER_LIST}, {"/api/orders.xml/", ALLOW_ORDER_LIST},
        {"/api/orders/x.xml", ALLOW_ORDER_DETAIL},     {"/api/orders/x/.xml", ALLOW_ORDER_DETAIL},
        {"/api/orders/x/?format=xml", ALLOW_ORDER_DETAIL},
        {"/api/items/5.xml", ALLOW_ITEM},              {"/api/device/.xml", ALLOW_DEVICE_LIST},
        {"/api/device/d-1.xml", ALLOW_DEVICE_DETAIL},  {"/api/devices.xml", ALLOW_DEVICES_BULK},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        expect_route(urls[i].url, urls[i].allow);
        if (!R.xml || R.browsable) {
            print_error("GET %s: xml %d, browsable %d\n", urls[i].url, R.xml, R.browsable);
            fail();
        }
    }
    expect_capture("/api/orders/x.xml", ALLOW_ORDER_DETAIL, "x");
    /* with a trailing slash the plain route takes the segment whole, as for .json */
    expect_capture("/api/orders/x.xml/", ALLOW_ORDER_DETAIL, "x.xml");
    assert_false(R.xml);
    /* the suffix wins over ?format=, both ways */
    expect_route("/api/orders.xml?format=json", ALLOW_ORDER_LIST);
    assert_true(R.xml);
    expect_route("/api/orders.json?format=xml", ALLOW_ORDER_LIST);
    assert_false(R.xml);
}

/* Elsewhere ".xml" is no suffix: a retail id may end so, as before. */
static void xml_suffix_is_an_id_elsewhere(void **state)
{
    (void)state;
    expect_capture("/api/v1/shops/foo.xml", ALLOW_SHOP_DETAIL, "foo.xml");
    assert_false(R.xml);
    expect_capture("/api/v1/shops/.xml", ALLOW_SHOP_DETAIL, ".xml");
    assert_false(R.xml);
    expect_route("/api/v1/shops/", ALLOW_SHOP_LIST);
    assert_false(R.xml);
}

static void accept_header_chooses_xml_on_xml_routes(void **state)
{
    (void)state;
    static const char *const xml[] = {
        "application/xml", "text/xml", "application/xml, */*;q=0.5",
        "application/json;q=0.5, application/xml", "APPLICATION/XML",
        "application/xml;q=0.9, text/html;q=0.8",
    };
    for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++) {
        dispatch_accept("GET", "/api/orders/", xml[i]);
        if (!R.xml) {
            print_error("Accept %s: not XML\n", xml[i]);
            fail();
        }
        assert_string_equal(R.content_type, XML_TYPE);
        expect_body(XML_SERVER_ERROR);
    }
    static const char *const not_xml[] = {
        "*/*", "application/*", "application/json, application/xml",
        "application/xml, application/json", "text/html, application/xml",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/xml;q=0", "application/xhtml+xml", "image/png",
    };
    for (size_t i = 0; i < sizeof not_xml / sizeof not_xml[0]; i++) {
        dispatch_accept("GET", "/api/orders/", not_xml[i]);
        if (R.xml) {
            print_error("Accept %s: XML\n", not_xml[i]);
            fail();
        }
    }
    /* an explicit format wins over Accept */
    dispatch_accept("GET", "/api/orders/?format=json", "application/xml");
    assert_false(R.xml);
    assert_string_equal(R.content_type, "application/json");
    dispatch_accept("GET", "/api/orders/.api", "application/xml");
    assert_false(R.xml);
    assert_true(R.browsable);
    /* a view without the XML renderer answers JSON */
    dispatch_accept("GET", "/api/v1/shops/", "application/xml");
    assert_false(R.xml);
    assert_string_equal(R.content_type, "application/json");
    /* a path no route takes has no XML renderer: its 404 is JSON */
    dispatch_accept("GET", "/api/orders/x/y/", "application/xml");
    assert_int_equal(R.status, 404);
    assert_string_equal(R.content_type, "application/json");
}

/* DRF tries its renderers (JSON first) against each precedence level of
 * the Accept header: at a tie, JSON wins. */
static void accept_tie_gives_json(void **state)
{
    (void)state;
    dispatch_accept("GET", "/api/orders/", "text/html, application/json");
    assert_false(R.browsable);
    assert_string_equal(R.content_type, "application/json");
}

int main(void)
{
    api_init(&(api_config){0});
    const struct CMUnitTest tests[] = {
        TEST(unknown_paths_are_not_found),
        TEST(unknown_format_is_not_found),
        TEST(empty_format_parameter_is_no_format),
        TEST(format_suffix_beats_format_parameter),
        TEST(list_route_spellings),
        TEST(detail_route_spellings),
        TEST(every_route_has_its_allow_text),
        TEST(raw_routes_refuse_other_methods),
        TEST(captures_are_percent_decoded),
        TEST(healthz_without_database),
        TEST(accept_header_chooses_the_browsable_page),
        TEST(accept_tie_gives_json),
        TEST(xml_format_spellings),
        TEST(xml_suffix_is_an_id_elsewhere),
        TEST(accept_header_chooses_xml_on_xml_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
