/*
 * xml.c — XML bodies with libxml2, and XML answers (see xml.h).
 *
 * The parser is SAX: the tree is built as elements close, with the rules
 * of djangorestframework-xml's XMLParser._xml_convert() over ElementTree:
 * an element's text is the character data before its first child (what
 * follows a child is that child's tail, ignored), attributes, comments and
 * processing instructions are ignored, a namespaced tag is "{uri}local",
 * and a repeated tag keeps its first place with the last value (a dict).
 * Leaf text stays a string: the reference turns "007" into the int 7 and
 * "1.5" into a Decimal that CharField then refuses, while fields.c already
 * reads integral and numeric strings exactly as DRF reads them from JSON,
 * so keeping the text loses nothing and never mangles a string field
 * (docs/decisions.md, "XML").
 *
 * Safety: a DOCTYPE stops the parser in its first callback, before any
 * declaration inside it is read, and is answered as defusedxml's
 * forbid_dtd does; no entity is ever substituted (no XML_PARSE_NOENT),
 * nothing is loaded (XML_PARSE_NONET and an entity loader that refuses),
 * XInclude is never run, and errors go to this file, never to stderr.
 */
#include "api/xml.h"

#include "core/text.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ set-up */

static xmlParserInputPtr load_nothing(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
    (void)url;
    (void)id;
    (void)ctxt;
    return NULL;
}

/* libxml2's generic error stream (an encoding it cannot convert, say)
 * bypasses XML_PARSE_NOERROR and would write to the server's stderr: it
 * goes nowhere, for every thread (found by fuzz_xml). */
static void drop_message(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

void xml_init(void)
{
    xmlInitParser();
    xmlSetExternalEntityLoader(load_nothing);
    xmlThrDefSetGenericErrorFunc(NULL, drop_message);
    xmlSetGenericErrorFunc(NULL, drop_message);
}

/* ------------------------------------------------------------ parsing */

typedef struct frame {
    const char *tag;          /* as ElementTree names it: "{uri}local" or "local" */
    json_object *children;    /* NULL until the first child: then a list or an object */
} frame;

typedef struct parse_state {
    arena *a;
    frame stack[XML_MAX_DEPTH];
    int depth;
    jw text;                  /* character data of the innermost element, until it has a child */
    json_object *root;        /* the finished document */
    const char *error;        /* the first error, without the "XML parse error - " prefix */
} parse_state;

static parse_state *state_of(void *ctx)
{
    return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Python's repr() of a str, or None: how DTDForbidden names its parts. */
static const char *py_repr(arena *a, const xmlChar *s)
{
    if (!s)
        return "None";
    const char *t = (const char *)s;
    char quote = strchr(t, '\'') && !strchr(t, '"') ? '"' : '\'';
    jw w;
    jw_init(&w, strlen(t) + 8);
    jw_append(&w, &quote, 1);
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        char esc[5];
        if (c == '\\' || c == (unsigned char)quote) {
            esc[0] = '\\';
            esc[1] = (char)c;
            jw_append(&w, esc, 2);
        } else if (c == '\n') {
            jw_append(&w, "\\n", 2);
        } else if (c == '\r') {
            jw_append(&w, "\\r", 2);
        } else if (c == '\t') {
            jw_append(&w, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            jw_append(&w, esc, 4);
        } else {
            jw_append(&w, (const char *)&c, 1);
        }
    }
    jw_append(&w, &quote, 1);
    const char *out = arena_strndup(a, w.buf, w.len);
    jw_free(&w);
    return out;
}

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *public_id,
                       const xmlChar *system_id)
{
    parse_state *st = state_of(ctx);
    if (!st->error)
        st->error = arena_printf(st->a, "DTDForbidden(name=%s, system_id=%s, public_id=%s)",
                                 py_repr(st->a, name), py_repr(st->a, system_id),
                                 py_repr(st->a, public_id));
    xmlStopParser(ctx);
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    (void)prefix;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_attributes;
    (void)nb_defaulted;
    (void)attributes;
    parse_state *st = state_of(ctx);
    if (st->error)
        return;
    if (st->depth == XML_MAX_DEPTH) {
        xmlParserCtxtPtr ctxt = ctx;
        st->error = arena_printf(st->a, "nesting too deep: line %d, column %d",
                                 xmlSAX2GetLineNumber(ctxt), xmlSAX2GetColumnNumber(ctxt) - 1);
        xmlStopParser(ctxt);
        return;
    }
    const char *name = (const char *)localname;
    const char *tag = uri ? arena_printf(st->a, "{%s}%s", (const char *)uri, name)
                          : arena_strdup(st->a, name);
    if (st->depth > 0) {
        frame *parent = &st->stack[st->depth - 1];
        if (!parent->children)   /* the first child decides, as in _xml_convert() */
            parent->children = strcmp(tag, "list-item") == 0 ? json_object_new_array()
                                                             : json_object_new_object();
    }
    st->text.len = 0;   /* the parent's text no longer counts: it has a child */
    st->stack[st->depth].tag = tag;
    st->stack[st->depth].children = NULL;
    st->depth++;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    (void)localname;
    (void)prefix;
    (void)uri;
    parse_state *st = state_of(ctx);
    if (st->error || st->depth == 0)
        return;
    frame *f = &st->stack[--st->depth];
    json_object *value = f->children;
    if (!value && st->text.len)
        value = json_object_new_string_len(st->text.buf, (int)st->text.len);
    st->text.len = 0;
    if (st->depth == 0) {
        st->root = value;
        return;
    }
    json_object *siblings = st->stack[st->depth - 1].children;
    if (json_object_is_type(siblings, json_type_array))
        json_object_array_add(siblings, value);
    else
        json_object_object_add(siblings, f->tag, value);   /* a repeated tag: the last wins */
}

static void on_text(void *ctx, const xmlChar *s, int n)
{
    parse_state *st = state_of(ctx);
    if (!st->error && st->depth > 0 && !st->stack[st->depth - 1].children && n > 0)
        jw_append(&st->text, (const char *)s, (size_t)n);
}

static void on_error(void *ctx, xmlErrorPtr e)
{
    parse_state *st = state_of(ctx);
    if (st->error || !e || e->level < XML_ERR_ERROR)
        return;
    size_t n = e->message ? strlen(e->message) : 0;
    while (n && (e->message[n - 1] == '\n' || e->message[n - 1] == ' '))
        n--;
    if (n == 0)
        return;   /* libxml2 always says what; the check after parsing covers this */
    char *what = arena_strndup(st->a, e->message, n);
    for (char *c = what; *c; c++)   /* one line: some messages have two */
        if (*c == '\n')
            *c = ' ';
    /* ElementTree counts columns from 0, libxml2 from 1 */
    st->error = arena_printf(st->a, "%s: line %d, column %d", what, e->line,
                             e->int2 > 0 ? e->int2 - 1 : 0);
}

/* The encoding to read the body in: the charset parameter, else UTF-8
 * (what the document itself declares is ignored, as DRF's parser does). */
static const char *body_encoding(arena *a, const char *charset, const char **error)
{
    if (!charset || !*charset)
        return "UTF-8";
    xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
    if (!h) {
        *error = arena_printf(a, "XML parse error - unknown encoding: %s", charset);
        return NULL;
    }
    xmlCharEncCloseFunc(h);
    return charset;
}

static void free_partial(parse_state *st)
{
    for (int i = 0; i < st->depth; i++)
        json_object_put(st->stack[i].children);
    json_object_put(st->root);
}

json_object *xml_parse_body(arena *a, const char *body, size_t len, const char *charset,
                            const char **error)
{
    *error = NULL;
    if (len > INT_MAX) {
        *error = "XML parse error - document too large";
        return NULL;
    }
    const char *encoding = body_encoding(a, charset, error);
    if (!encoding)
        return NULL;
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        *error = "XML parse error - out of memory";
        return NULL;
    }
    /* Only these callbacks: no document is built, no entity is declared,
     * resolved or loaded. */
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.internalSubset = on_doctype;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_text;
    sax.cdataBlock = on_text;
    sax.ignorableWhitespace = on_text;
    sax.serror = on_error;
    *ctxt->sax = sax;
    parse_state *st = arena_zalloc(a, sizeof *st);
    st->a = a;
    jw_init(&st->text, 256);
    ctxt->_private = st;
    xmlCtxtReadMemory(ctxt, body, (int)len, NULL, encoding,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                          XML_PARSE_IGNORE_ENC);
    if (!st->error && (!ctxt->wellFormed || !ctxt->nsWellFormed || st->depth != 0))
        st->error = "not well-formed";
    xmlFreeParserCtxt(ctxt);
    jw_free(&st->text);
    if (st->error) {
        free_partial(st);
        *error = arena_printf(a, "XML parse error - %s", st->error);
        return NULL;
    }
    return st->root;
}

/* ------------------------------------------------------------ rendering */

static void put(jw *out, const char *s)
{
    jw_append(out, s, strlen(s));
}


/*
 * Character data as Python's XMLGenerator writes it (&, <, > escaped),
 * and a carriage return as a reference so it survives. What XML 1.0
 * cannot carry at all (other control characters, U+FFFE, U+FFFF, bytes
 * that are not UTF-8) becomes U+FFFD: DRF would fail with a 500, and
 * validation never stores such text anyway.
 */
static void put_text(jw *out, const char *s, size_t n)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t start = 0, i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        size_t step = 1;
        if (c >= 0x80) {
            step = text_utf8_sequence((const unsigned char *)s + i, n - i);
            if (step == 0) {
                step = 1;
                rep = replacement;
            } else if (step == 3 && c == 0xEF && (unsigned char)s[i + 1] == 0xBF &&
                       (unsigned char)s[i + 2] >= 0xBE) {
                rep = replacement;
            }
        } else if (c == '&') {
            rep = "&amp;";
        } else if (c == '<') {
            rep = "&lt;";
        } else if (c == '>') {
            rep = "&gt;";
        } else if (c == '\r') {
            rep = "&#13;";
        } else if (c < 0x20 && c != '\t' && c != '\n') {
            rep = replacement;
        }
        if (rep) {
            jw_append(out, s + start, i - start);
            put(out, rep);
            start = i + step;
        }
        i += step;
    }
    jw_append(out, s + start, n - start);
}

static bool is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* A key as an element name. DRF writes keys as they are; the keys here
 * are field names, which are names already. Anything else is made one
 * (other bytes as '_', a '_' in front of a bad first character), so the
 * document stays well-formed whatever the data. */
static void put_name(jw *out, const char *key)
{
    if (!is_name_start((unsigned char)key[0]))
        jw_append(out, "_", 1);
    for (const char *k = key; *k; k++)
        jw_append(out, is_name_char((unsigned char)*k) ? k : "_", 1);
}

static void render_value(jw *out, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        break;   /* None: an empty element */
    case json_type_boolean:
        put(out, json_object_get_boolean(v) ? "True" : "False");
        break;
    case json_type_int:
    case json_type_double:
        put(out, json_object_get_string(v));   /* the number's text */
        break;
    case json_type_string:
        put_text(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    case json_type_array:
        for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
            put(out, "<list-item>");
            render_value(out, json_object_array_get_idx(v, i));
            put(out, "</list-item>");
        }
        break;
    case json_type_object: {   /* the macro declares variables: clang wants them in a block */
        json_object_object_foreach(v, key, child) {
            jw_append(out, "<", 1);
            put_name(out, key);
            jw_append(out, ">", 1);
            render_value(out, child);
            jw_append(out, "</", 2);
            put_name(out, key);
            jw_append(out, ">", 1);
        }
        break;
    }
    }
}

bool xml_render(jw *out, const char *json, size_t len)
{
    if (len > INT_MAX)
        return false;
    json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 2);
    if (!tok)
        return false;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *v = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_continue) {   /* a bare number needs the end marked */
        v = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
    }
    json_tokener_free(tok);
    if (jerr != json_tokener_success)
        return false;
    put(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<root>");
    render_value(out, v);
    put(out, "</root>");
    json_object_put(v);
    return true;
}
