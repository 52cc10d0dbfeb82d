/*
 * fuzz_xml — XML request bodies and XML answers (api/xml.h): the bytes
 * after the first go to xml_parse_body(), without a charset or with one of
 * the Content-Type charsets below, or to xml_render() as the JSON a
 * handler answered. Whatever xml_render() accepts must come out as XML
 * that xml_parse_body() reads back; a tree that parsed is rendered (as
 * json-c writes it) and must read back too.
 *
 * The first byte picks: bits 0-1 the mode (0, 1: parse as UTF-8; 2: parse
 * with a charset, bits 2-4 choosing it; 3: render), the rest is the body.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api/json.h"
#include "api/xml.h"
#include "core/arena.h"

#include "fuzz.h"

static const char *const charsets[] = {
    "utf-8", "UTF-8", "iso-8859-1", "utf-16", "UTF-16LE", "us-ascii", "windows-1252", "no-such-charset",
};

static arena *A;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xml_init();
    A = arena_new(0);
    return 0;
}

/* Render JSON text; when it was accepted, the document must parse. */
static void render_and_reparse(const char *json, size_t len, bool must_accept)
{
    jw w;
    jw_init(&w, 256);
    bool ok = xml_render(&w, json, len);
    FUZZ_CHECK(ok || !must_accept, "xml_render refused JSON that json-c wrote: %.*s", (int)len, json);
    FUZZ_CHECK(ok || w.len == 0, "xml_render refused the JSON but wrote %zu bytes", w.len);
    if (ok) {
        size_t n;
        char *out = jw_take(&w, &n);
        char *doc = fuzz_copy((const uint8_t *)out, n);
        free(out);
        const char *error = NULL;
        json_object *tree = xml_parse_body(A, doc, n, NULL, &error);
        /* JSON may nest deeper than the parser's limit (XML_MAX_DEPTH):
         * that refusal is not a malformed document */
        FUZZ_CHECK(!error || strstr(error, "nesting too deep"),
                   "xml_render wrote a document that does not parse (%s):\n%s", error, doc);
        json_object_put(tree);
        free(doc);
    }
    jw_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] & 3;
    const char *charset = mode == 2 ? charsets[(data[0] >> 2) & 7] : NULL;
    arena_reset(A);
    char *body = fuzz_copy(data + 1, size - 1);
    if (mode == 3) {
        render_and_reparse(body, size - 1, false);
    } else {
        const char *error = NULL;
        json_object *tree = xml_parse_body(A, body, size - 1, charset, &error);
        FUZZ_CHECK(!(error && tree), "xml_parse_body gave a tree and an error: %s", error);
        if (tree) {
            const char *json = json_object_to_json_string_ext(tree, JSON_C_TO_STRING_PLAIN);
            render_and_reparse(json, strlen(json), true);
        }
        json_object_put(tree);
    }
    free(body);
    return 0;
}
