/*
 * test_xml.c — XML bodies as djangorestframework-xml's XMLParser shapes
 * them (root's children an object, <list-item> children a list, text a
 * string, an empty element null), what it refuses (any DOCTYPE, hence
 * entity bombs and external entities; malformed documents; too deep a
 * nesting), and the XMLRenderer's output for JSON answers: <root>,
 * <list-item>, None as an empty element, True/False, escaped text,
 * always well-formed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/xml.h"

#define PARSE_ERROR_PREFIX "XML parse error - "
#define HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"

static int mismatches;

static void done(void)
{
    int n = mismatches;
    mismatches = 0;
    if (n) {
        print_error("%d mismatch(es) above\n", n);
        fail();
    }
}

static const char *plain(json_object *v)
{
    return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Well-formed XML: no error, and the tree prints as the JSON `want`
 * (NULL: None). */
static void gives_charset(const char *body, const char *charset, const char *want)
{
    arena *a = arena_new(0);
    const char *error = "untouched";
    json_object *v = xml_parse_body(a, body, strlen(body), charset, &error);
    const char *got = v ? plain(v) : NULL;
    bool ok = error == NULL && ((!want && !v) || (want && got && strcmp(got, want) == 0));
    if (!ok) {
        print_error("body %s: error \"%s\", tree %s; want %s\n", body, error ? error : "(none)",
                    got ? got : "NULL", want ? want : "NULL");
        mismatches++;
    }
    json_object_put(v);
    arena_free(a);
}

static void gives(const char *body, const char *want)
{
    gives_charset(body, NULL, want);
}

/* Refused: NULL, and an error in DRF's form that contains `says`. */
static void refuses_n(const char *body, size_t n, const char *says)
{
    arena *a = arena_new(0);
    const char *error = NULL;
    json_object *v = xml_parse_body(a, body, n, NULL, &error);
    bool ok = !v && error && strncmp(error, PARSE_ERROR_PREFIX, strlen(PARSE_ERROR_PREFIX)) == 0 &&
              strlen(error) > strlen(PARSE_ERROR_PREFIX) && (!says || strstr(error, says));
    if (!ok) {
        print_error("body %.200s: want an error saying \"%s\", got \"%s\", tree %s\n", body,
                    says ? says : "", error ? error : "(none)", v ? plain(v) : "NULL");
        mismatches++;
    }
    json_object_put(v);
    arena_free(a);
}

static void refuses(const char *body, const char *says)
{
    refuses_n(body, strlen(body), says);
}

/* ------------------------------------------------------------- parsing */

static void shapes_of_the_reference_parser(void **state)
{
    (void)state;
    gives("<root><a>1</a><b>x</b></root>", "{\"a\":\"1\",\"b\":\"x\"}");
    gives("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<root>\n  <a>1</a>\n</root>\n",
          "{\"a\":\"1\"}");
    /* an empty element is None, whitespace is text */
    gives("<root><a></a><b/><c> </c></root>", "{\"a\":null,\"b\":null,\"c\":\" \"}");
    /* the root's own name does not matter */
    gives("<order><a>1</a></order>", "{\"a\":\"1\"}");
    /* lists: the first child decides */
    gives("<root><l><list-item>1</list-item><list-item>2</list-item></l></root>",
          "{\"l\":[\"1\",\"2\"]}");
    gives("<root><l><list-item>1</list-item><other>2</other></l></root>", "{\"l\":[\"1\",\"2\"]}");
    gives("<root><l><other>2</other><list-item>1</list-item></l></root>",
          "{\"l\":{\"other\":\"2\",\"list-item\":\"1\"}}");
    gives("<root><list-item><a>1</a></list-item><list-item/></root>", "[{\"a\":\"1\"},null]");
    /* nesting */
    gives("<root><shipments><list-item><shipment_number>S</shipment_number><items><list-item>"
          "<SKU>k</SKU><ordered_quantity>5</ordered_quantity></list-item></items></list-item>"
          "</shipments></root>",
          "{\"shipments\":[{\"shipment_number\":\"S\",\"items\":[{\"SKU\":\"k\","
          "\"ordered_quantity\":\"5\"}]}]}");
    /* a repeated tag keeps its first place and its last value */
    gives("<root><a>1</a><b>2</b><a>3</a></root>", "{\"a\":\"3\",\"b\":\"2\"}");
    /* text around children is ignored; attributes, comments, PIs too */
    gives("<root>lead<a k=\"v\">1</a>tail<!-- c --><?pi x?></root>", "{\"a\":\"1\"}");
    /* a leaf's text: entities, character references, CDATA, comments inside */
    gives("<root><a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</a><b><![CDATA[<x>&]]></b>"
          "<c>x<!-- c -->y</c></root>",
          "{\"a\":\"<&>\\\"'AB\",\"b\":\"<x>&\",\"c\":\"xy\"}");
    /* values stay text: fields.c reads them as DRF reads JSON strings */
    gives("<root><n>007</n><d>1.5</d><t>2011-12-25 12:45:00</t></root>",
          "{\"n\":\"007\",\"d\":\"1.5\",\"t\":\"2011-12-25 12:45:00\"}");
    /* UTF-8 passes through */
    gives("<root><a>caf\xC3\xA9 \xE2\x82\xAC</a></root>", "{\"a\":\"caf\xC3\xA9 \xE2\x82\xAC\"}");
    /* namespaces as ElementTree writes them */
    gives("<root xmlns:p=\"urn:x\"><p:a>1</p:a></root>", "{\"{urn:x}a\":\"1\"}");
    done();
}

static void bare_roots(void **state)
{
    (void)state;
    gives("<root/>", NULL);
    gives("<root></root>", NULL);
    gives("<root>abc</root>", "\"abc\"");
    done();
}

static void charsets(void **state)
{
    (void)state;
    /* the Content-Type's charset wins over the document's declaration */
    gives_charset("<?xml version=\"1.0\" encoding=\"ascii\"?><root><a>caf\xE9</a></root>",
                  "iso-8859-1", "{\"a\":\"caf\xC3\xA9\"}");
    gives_charset("<root><a>caf\xC3\xA9</a></root>", "utf-8", "{\"a\":\"caf\xC3\xA9\"}");
    /* without one, UTF-8 whatever the document says */
    gives("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><root><a>caf\xC3\xA9</a></root>",
          "{\"a\":\"caf\xC3\xA9\"}");
    arena *a = arena_new(0);
    const char *error = NULL;
    assert_null(xml_parse_body(a, "<root/>", 7, "no-such-charset", &error));
    assert_string_equal(error, "XML parse error - unknown encoding: no-such-charset");
    arena_free(a);
    done();
}

static void doctypes_are_refused(void **state)
{
    (void)state;
    /* billion laughs: refused at the DOCTYPE, before any entity is declared */
    refuses("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
            " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
            " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
            " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
            "]>\n<root><a>&lol3;</a></root>",
            "DTDForbidden(name='lolz', system_id=None, public_id=None)");
    /* external entities, general and parameter */
    refuses("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><root><a>&x;</a></root>",
            "DTDForbidden(name='r', system_id=None, public_id=None)");
    refuses("<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/x\"> %p;]><root/>",
            "DTDForbidden(name='r'");
    /* an external DTD, named as Python's repr() names it */
    refuses("<!DOCTYPE root SYSTEM \"http://example.com/x.dtd\"><root/>",
            "DTDForbidden(name='root', system_id='http://example.com/x.dtd', public_id=None)");
    refuses("<!DOCTYPE root PUBLIC \"-//it's//EN\" \"x.dtd\"><root/>",
            "DTDForbidden(name='root', system_id='x.dtd', public_id=\"-//it's//EN\")");
    refuses("<!DOCTYPE root><root/>", "DTDForbidden(name='root'");
    /* no entity can be used without one */
    refuses("<root><a>&x;</a></root>", "Entity 'x' not defined");
    done();
}

static void malformed_is_refused(void **state)
{
    (void)state;
    refuses("hello", "line 1, column 0");
    refuses("{\"order_number\": \"1\"}", NULL);
    refuses("<root><a>1</root>", "mismatch");
    refuses("<root><a>1</a>", NULL);
    refuses("<root/><root/>", "Extra content");
    refuses("<root a=1/>", NULL);
    refuses("<p:root/>", "Namespace prefix p");
    refuses("<root><a>\xFF</a></root>", "UTF-8");
    refuses("<root><a>&#1;</a></root>", NULL);
    refuses_n("<root><a>x\0y</a></root>", 21, NULL);
    refuses("<root><a>&#xD800;</a></root>", NULL);
    /* errors stay on one line */
    arena *a = arena_new(0);
    const char *error = NULL;
    assert_null(xml_parse_body(a, "<root>\xFF</root>", 14, NULL, &error));
    assert_null(strchr(error, '\n'));
    arena_free(a);
    done();
}

/* Nesting: XML_MAX_DEPTH elements deep is fine, one more is refused. */
static void nesting_is_limited(void **state)
{
    (void)state;
    char body[XML_MAX_DEPTH * 16 + 64];
    for (int depth = XML_MAX_DEPTH; depth <= XML_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        for (int i = 0; i < depth; i++)
            n += (size_t)sprintf(body + n, "<e>");
        n += (size_t)sprintf(body + n, "x");
        for (int i = 0; i < depth; i++)
            n += (size_t)sprintf(body + n, "</e>");
        arena *a = arena_new(0);
        const char *error = NULL;
        json_object *v = xml_parse_body(a, body, n, NULL, &error);
        if (depth == XML_MAX_DEPTH) {
            assert_null(error);
            assert_non_null(v);
        } else {
            assert_null(v);
            assert_non_null(strstr(error, "nesting too deep"));
        }
        json_object_put(v);
        arena_free(a);
    }
}

/* A failure halfway leaves nothing behind (the sanitizer build checks). */
static void failures_free_what_was_built(void **state)
{
    (void)state;
    refuses("<root><a><list-item>1</list-item><list-item><b>2</b></list-item>", NULL);
    refuses("<root><a><b>1</b></a><c><d>2</d>&nope;</c></root>", "nope");
    done();
}

/* ----------------------------------------------------------- rendering */

static void renders(const char *json, const char *want_inside_root)
{
    jw out;
    jw_init(&out, 64);
    bool ok = xml_render(&out, json, strlen(json));
    char *want = malloc(strlen(HEAD) + strlen(want_inside_root) + 32);
    sprintf(want, HEAD "<root>%s</root>", want_inside_root);
    if (!ok || out.len != strlen(want) || memcmp(out.buf, want, out.len) != 0) {
        print_error("render %s: got %.*s, want %s\n", json, ok ? (int)out.len : 6,
                    ok ? out.buf : "(fail)", want);
        mismatches++;
    }
    free(want);
    jw_free(&out);
}

static void renderer_shapes(void **state)
{
    (void)state;
    renders("{\"count\":2,\"next\":\"http://h/api/orders/?page=2&page_size=1\",\"previous\":null,"
            "\"results\":[{\"id\":1},{\"id\":2}]}",
            "<count>2</count><next>http://h/api/orders/?page=2&amp;page_size=1</next>"
            "<previous></previous><results><list-item><id>1</id></list-item>"
            "<list-item><id>2</id></list-item></results>");
    renders("[{},{\"deviceid\":[\"Object with deviceid=x does not exist.\"]}]",
            "<list-item></list-item><list-item><deviceid><list-item>Object with deviceid=x "
            "does not exist.</list-item></deviceid></list-item>");
    renders("{\"a\":true,\"b\":false,\"c\":null,\"d\":[],\"e\":{},\"f\":-12,\"g\":\"5.0000\"}",
            "<a>True</a><b>False</b><c></c><d></d><e></e><f>-12</f><g>5.0000</g>");
    renders("{}", "");
    renders("[]", "");
    renders("\"text\"", "text");
    renders("null", "");
}

static void renderer_escapes(void **state)
{
    (void)state;
    /* XMLGenerator escapes &, <, > in text (quotes need none there) */
    renders("{\"a\":\"<b>&amp;\\\"'</b>\"}", "<a>&lt;b&gt;&amp;amp;\"'&lt;/b&gt;</a>");
    /* non-ASCII passes as UTF-8; \r survives as a reference */
    renders("{\"a\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00\"}",
            "<a>caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80</a>");
    renders("{\"a\":\"x\\r\\ny\\tz\"}", "<a>x&#13;\ny\tz</a>");
    /* what XML 1.0 cannot carry becomes U+FFFD */
    renders("{\"a\":\"x\\u0001y\\u0000\\uffff\"}", "<a>x\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBD</a>");
    /* keys that are no XML names are made names */
    renders("{\"a b\":1,\"1x\":2,\"\":3,\"p:q\":4,\"ok-name_1.x\":5,\"<&>\":6}",
            "<a_b>1</a_b><_1x>2</_1x><_>3</_><p_q>4</p_q><ok-name_1.x>5</ok-name_1.x>"
            "<____>6</____>");
    done();
}

static void renderer_refuses_what_is_not_json(void **state)
{
    (void)state;
    jw out;
    jw_init(&out, 64);
    assert_false(xml_render(&out, "{\"a\":", 5));
    assert_false(xml_render(&out, "nope", 4));
    assert_int_equal(out.len, 0);
    jw_free(&out);
}

/* What the renderer writes, the parser reads back as the same tree, with
 * DRF's losses: numbers and booleans become text, null stays null. */
static void round_trip(void **state)
{
    (void)state;
    const char *json = "{\"order_number\":\"A&B <1>\",\"shipments\":[{\"shipment_number\":\"S1\","
                       "\"items\":[{\"SKU\":\"k\",\"ordered_quantity\":5,\"device\":null}]}]}";
    jw out;
    jw_init(&out, 64);
    assert_true(xml_render(&out, json, strlen(json)));
    arena *a = arena_new(0);
    const char *error = NULL;
    json_object *v = xml_parse_body(a, out.buf, out.len, NULL, &error);
    assert_null(error);
    assert_string_equal(plain(v), "{\"order_number\":\"A&B <1>\",\"shipments\":[{\"shipment_number\":"
                                  "\"S1\",\"items\":[{\"SKU\":\"k\",\"ordered_quantity\":\"5\","
                                  "\"device\":null}]}]}");
    json_object_put(v);
    arena_free(a);
    jw_free(&out);
}

int main(void)
{
    xml_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes_of_the_reference_parser),
        cmocka_unit_test(bare_roots),
        cmocka_unit_test(charsets),
        cmocka_unit_test(doctypes_are_refused),
        cmocka_unit_test(malformed_is_refused),
        cmocka_unit_test(nesting_is_limited),
        cmocka_unit_test(failures_free_what_was_built),
        cmocka_unit_test(renderer_shapes),
        cmocka_unit_test(renderer_escapes),
        cmocka_unit_test(renderer_refuses_what_is_not_json),
        cmocka_unit_test(round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
