/*
 * openapi.c — the OpenAPI 3.0.3 document (see openapi.h), built as a
 * json-c tree from the route table and the schema declarations.
 *
 * Components: each schema declaration reached from a route becomes one
 * component named after it ("Supplier Refund" → SupplierRefund), with
 * readOnly / writeOnly / nullable from its fields' flags, and "required"
 * holding the fields input must give plus the read-only ones (always in
 * answers); a PATCH body is a "Patched..." copy with nothing required (as
 * validation with `partial`: nested objects are still given whole).
 * A list answers "Paginated...List". Error shapes are components too:
 * Error {"detail"}, ValidationError (field → messages), OAuth2Error.
 *
 * Which body each method takes and what it answers follows the route's
 * view kind (api.h); routes of kind VIEW_OTHER are described by the table
 * `described` at the end, keyed by pattern. Operations list the answers a
 * client should plan for; 405 (a method not listed) and 500 are left to
 * the document's description.
 */
#include "api/openapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/docs.h"
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"

#define MAX_COMPONENTS 64
#define MAX_CAPTURES 8
#define MAX_RESPONSES 12

/* ------------------------------------------------------------ json-c helpers */

static json_object *jobj(void) { return json_object_new_object(); }
static json_object *jarr(void) { return json_object_new_array(); }
static json_object *jstr(const char *s) { return json_object_new_string(s); }
static void put(json_object *o, const char *key, json_object *v) { json_object_object_add(o, key, v); }
static void put_str(json_object *o, const char *key, const char *s) { put(o, key, jstr(s)); }
static void put_int(json_object *o, const char *key, int64_t i) { put(o, key, json_object_new_int64(i)); }
static void put_bool(json_object *o, const char *key, bool b) { put(o, key, json_object_new_boolean(b)); }
static void push(json_object *a, json_object *v) { json_object_array_add(a, v); }

/* {"type": type} */
static json_object *typed(const char *type)
{
    json_object *o = jobj();
    put_str(o, "type", type);
    return o;
}

/* {"type": "string", "format": format} */
static json_object *string_of(const char *format)
{
    json_object *o = typed("string");
    if (format)
        put_str(o, "format", format);
    return o;
}

/* {"$ref": "#/components/<section>/<name>"} */
static json_object *ref(const char *section, const char *name)
{
    char buf[160];
    snprintf(buf, sizeof buf, "#/components/%s/%s", section, name);
    json_object *o = jobj();
    put_str(o, "$ref", buf);
    return o;
}

static json_object *schema_ref(const char *name) { return ref("schemas", name); }

/* {"<kind>Of": [a, b]} (takes both) */
static json_object *either(const char *kind, json_object *a, json_object *b)
{
    json_object *o = jobj(), *list = jarr();
    push(list, a);
    push(list, b);
    put(o, kind, list);
    return o;
}

/* {"type": "array", "items": items} (takes items) */
static json_object *array_of(json_object *items)
{
    json_object *o = typed("array");
    put(o, "items", items);
    return o;
}

/* An object of string properties, all required: names NULL-terminated. */
static json_object *object_of_strings(const char *const *names, const char *const *descriptions)
{
    json_object *o = typed("object"), *props = jobj(), *required = jarr();
    for (int i = 0; names[i]; i++) {
        json_object *p = typed("string");
        if (descriptions && descriptions[i])
            put_str(p, "description", descriptions[i]);
        put(props, names[i], p);
        push(required, jstr(names[i]));
    }
    put(o, "properties", props);
    put(o, "required", required);
    return o;
}

/* ------------------------------------------------------------ the document */

typedef struct component {
    const schema *sc;
    bool patched;
    char name[80];
} component;

typedef struct openapi_doc {
    json_object *paths, *schemas, *operation_ids;
    component known[MAX_COMPONENTS];
    int nknown;
} doc;

/* ------------------------------------------------------------ schemas */

static bool is_read_only(const field *f)
{
    return (f->flags & F_READ_ONLY) || f->type == FIELD_URL || f->type == FIELD_RAW_JSON;
}

static const char *component_for(doc *d, const schema *sc, bool patched);

/* A $ref that is to carry more (readOnly, a description...): OpenAPI 3.0
 * ignores siblings of "$ref", so it goes inside an allOf that carries them.
 * One that may be null is anyOf the object or null alone: 3.0.3's
 * "nullable" only widens a "type" beside it, never a referenced schema. */
static json_object *ref_with(json_object *r, bool more, bool nullable)
{
    if (!more)
        return r;
    json_object *o = jobj(), *list = jarr();
    push(list, r);
    if (nullable) {
        json_object *null_only = typed("object"), *values = jarr();
        put_bool(null_only, "nullable", true);
        push(values, NULL);
        put(null_only, "enum", values);
        push(list, null_only);
    }
    put(o, nullable ? "anyOf" : "allOf", list);
    return o;
}

#define DECIMAL_PATTERN "^-?\\d{0,14}(?:\\.\\d{0,4})?$"

static json_object *field_property(doc *d, const field *f)
{
    bool read_only = is_read_only(f);
    bool nullable = (f->flags & (F_ALLOW_NULL | F_NULL_IS_BLANK)) != 0;
    bool more = read_only || nullable || (f->flags & F_WRITE_ONLY) || f->alias;
    json_object *p = NULL;
    switch (f->type) {
    case FIELD_STRING:
    case FIELD_RELATED:
        p = typed("string");
        if (f->max_length > 0)
            put_int(p, "maxLength", f->max_length);
        if (!read_only && !(f->flags & F_ALLOW_BLANK))
            put_int(p, "minLength", 1);
        if (f->type == FIELD_RELATED)
            put_str(p, "description", "Names an object that must exist, by its id.");
        break;
    case FIELD_INTEGER:
        p = typed("integer");
        if (f->min_value <= f->max_value) {
            put_int(p, "minimum", f->min_value);
            put_int(p, "maximum", f->max_value);
        }
        break;
    case FIELD_DECIMAL:
        p = string_of("decimal");
        put_str(p, "pattern", DECIMAL_PATTERN);
        put_str(p, "description", "At most 18 digits, 4 of them decimal places. Taken as a JSON number "
                                  "or a string; answered as a string with exactly four places (\"5.0000\").");
        break;
    case FIELD_DATETIME:
        p = string_of("date-time");
        break;
    case FIELD_CHOICE:
        p = typed("string");
        if (f->choices) {
            json_object *values = jarr();
            for (const char *const *c = f->choices; *c; c++)
                push(values, jstr(*c));
            put(p, "enum", values);
        }
        break;
    case FIELD_NESTED:
        p = ref_with(schema_ref(component_for(d, f->child, false)), more, nullable);
        break;
    case FIELD_NESTED_LIST:
        p = array_of(schema_ref(component_for(d, f->child, false)));
        if (!(f->flags & F_ALLOW_EMPTY) && !read_only)
            put_int(p, "minItems", 1);
        break;
    case FIELD_URL:
        p = string_of("uri");
        break;
    case FIELD_RAW_JSON:   /* max_items: a list of child */
        if (f->child && f->max_items)
            p = array_of(schema_ref(component_for(d, f->child, false)));
        else
            p = f->child ? ref_with(schema_ref(component_for(d, f->child, false)), more, nullable) : jobj();
        break;
    }
    if (!p)
        p = jobj();
    if (read_only)
        put_bool(p, "readOnly", true);
    if (f->flags & F_WRITE_ONLY)
        put_bool(p, "writeOnly", true);
    if (nullable && !json_object_object_get_ex(p, "anyOf", NULL))
        put_bool(p, "nullable", true);
    if (f->alias) {
        char text[200];
        snprintf(text, sizeof text, "Also taken as \"%s\" when \"%s\" is absent.", f->alias, f->name);
        put_str(p, "description", text);
    }
    return p;
}

/* A field is in "required" when input must give it, or when it is
 * read-only (answers always have it; requests never send it). */
static bool listed_required(const field *f)
{
    if (is_read_only(f))
        return !(f->flags & F_WRITE_ONLY);
    return (f->flags & F_REQUIRED) != 0;
}

static json_object *schema_object(doc *d, const schema *sc, bool patched)
{
    json_object *o = typed("object"), *props = jobj(), *required = jarr();
    for (int i = 0; i < sc->nfields; i++) {
        const field *f = &sc->fields[i];
        put(props, f->name, field_property(d, f));
        if (!patched && listed_required(f))
            push(required, jstr(f->name));
    }
    put(o, "properties", props);
    if (json_object_array_length(required) > 0)
        put(o, "required", required);
    else
        json_object_put(required);
    if (patched)
        put_str(o, "description", "PATCH: any subset of the fields; nested objects are given whole.");
    return o;
}

/* The component of a schema declaration (made on first use): its name. */
static const char *component_for(doc *d, const schema *sc, bool patched)
{
    for (int i = 0; i < d->nknown; i++)
        if (d->known[i].sc == sc && d->known[i].patched == patched)
            return d->known[i].name;
    if (d->nknown == MAX_COMPONENTS)
        return "TooManyComponents";   /* a dangling $ref: the validator in the tests says so */
    component *c = &d->known[d->nknown++];
    c->sc = sc;
    c->patched = patched;
    size_t n = 0;
    if (patched)
        n = (size_t)snprintf(c->name, sizeof c->name, "Patched");
    for (const char *s = sc->name; *s && n + 4 < sizeof c->name; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
            c->name[n++] = *s;
    c->name[n] = '\0';
    /* two declarations with one name: the later gets a number */
    if (json_object_object_get_ex(d->schemas, c->name, NULL))
        snprintf(c->name + n, sizeof c->name - n, "%d", d->nknown);
    put(d->schemas, c->name, NULL);   /* reserve the name before the children take theirs */
    put(d->schemas, c->name, schema_object(d, sc, patched));
    return c->name;
}

/* "Paginated<Name>List": DRF's page envelope around the objects. */
static const char *paginated_for(doc *d, const schema *sc, char *buf, size_t size)
{
    const char *item = component_for(d, sc, false);
    snprintf(buf, size, "Paginated%sList", item);
    if (json_object_object_get_ex(d->schemas, buf, NULL))
        return buf;
    json_object *o = typed("object"), *props = jobj(), *required = jarr();
    json_object *count = typed("integer");
    put_int(count, "minimum", 0);
    put(props, "count", count);
    const char *links[] = {"next", "previous"};
    for (int i = 0; i < 2; i++) {
        json_object *link = string_of("uri");
        put_bool(link, "nullable", true);
        put_str(link, "description", "The absolute url of that page (the other query parameters kept), or null.");
        put(props, links[i], link);
    }
    put(props, "results", array_of(schema_ref(item)));
    const char *names[] = {"count", "next", "previous", "results"};
    for (int i = 0; i < 4; i++)
        push(required, jstr(names[i]));
    put(o, "properties", props);
    put(o, "required", required);
    put(d->schemas, buf, o);
    return buf;
}

/* ------------------------------------------------------------ fixed components */

static void add_error_schemas(json_object *schemas)
{
    json_object *error = typed("object"), *props = jobj(), *required = jarr();
    put(props, "detail", typed("string"));
    push(required, jstr("detail"));
    put(error, "properties", props);
    put(error, "required", required);
    put_str(error, "description", "DRF's error shape, e.g. {\"detail\": \"Not found.\"}.");
    put(schemas, "Error", error);

    json_object *invalid = typed("object");
    put_str(invalid, "description",
            "Validation errors: each bad field maps to a list of messages (DRF's, word for word); "
            "a nested object maps to its own errors, a list of nested objects to a list as long "
            "as the input with {} for the valid entries; errors about the whole object go under "
            "non_field_errors.");
    props = jobj();
    put(props, "non_field_errors", array_of(typed("string")));
    put(invalid, "properties", props);
    put(invalid, "additionalProperties", jobj());
    json_object *example = jobj(), *ships = jarr(), *bad = jobj(), *items = jarr(), *item = jobj();
    push(items, item);
    json_object *messages = jarr();
    push(messages, jstr("A valid integer is required."));
    put(item, "ordered_quantity", messages);
    put(bad, "items", items);
    push(ships, jobj());
    push(ships, bad);
    put(example, "shipments", ships);
    put(invalid, "example", example);
    put(schemas, "ValidationError", invalid);

    json_object *oauth = typed("object");
    props = jobj();
    json_object *codes = typed("string"), *values = jarr();
    const char *names[] = {"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type"};
    for (int i = 0; i < 4; i++)
        push(values, jstr(names[i]));
    put(codes, "enum", values);
    put(props, "error", codes);
    put(props, "error_description", typed("string"));
    required = jarr();
    push(required, jstr("error"));
    put(oauth, "properties", props);
    put(oauth, "required", required);
    put_str(oauth, "description", "RFC 6749's error answer of the token endpoint.");
    put(schemas, "OAuth2Error", oauth);

    json_object *upsert = typed("object");
    props = jobj();
    put(props, "created", typed("integer"));
    put(props, "updated", typed("integer"));
    required = jarr();
    push(required, jstr("created"));
    push(required, jstr("updated"));
    put(upsert, "properties", props);
    put(upsert, "required", required);
    put_str(upsert, "description", "How many of the objects sent were new, and how many replaced known ones.");
    put(schemas, "UpsertResult", upsert);
}

/* {"description", "content": {media: {"schema"}}} (takes the schema; NULL: no content) */
static json_object *response(const char *description, const char *media, json_object *shape)
{
    json_object *o = jobj();
    put_str(o, "description", description);
    if (shape) {
        json_object *content = jobj(), *m = jobj();
        put(m, "schema", shape);
        put(content, media, m);
        put(o, "content", content);
    }
    return o;
}

static void add_responses(json_object *responses)
{
    json_object *unauth = response(
        "No credentials (\"Authentication credentials were not provided.\"), or bad or revoked "
        "ones (\"Invalid token.\"); also an expired session.",
        "application/json", schema_ref("Error"));
    json_object *headers = jobj(), *www = jobj();
    put_str(www, "description", "Token");
    put(www, "schema", typed("string"));
    put(headers, "WWW-Authenticate", www);
    put(unauth, "headers", headers);
    put(responses, "Unauthenticated", unauth);
    put(responses, "CsrfFailed", response(
        "A request authenticated by the session cookie, with an unsafe method, without the CSRF token "
        "in X-CSRFToken (or X-CSRF-Token): \"CSRF Failed: CSRF token missing.\"",
        "application/json", schema_ref("Error")));
    put(responses, "NotFound", response("No such object for this customer: \"Not found.\"",
                                        "application/json", schema_ref("Error")));
    put(responses, "InvalidPage", response(
        "page is not a positive integer (nor \"last\"), or is past the last page: \"Invalid page.\"",
        "application/json", schema_ref("Error")));
    put(responses, "ValidationFailed", response(
        "Validation errors, or a body that is not JSON ({\"detail\": \"JSON parse error - ...\"}).",
        "application/json", either("anyOf", schema_ref("ValidationError"), schema_ref("Error"))));
    json_object *many = jobj(), *list = jarr();
    push(list, array_of(schema_ref("ValidationError")));
    push(list, schema_ref("ValidationError"));
    push(list, schema_ref("Error"));
    put(many, "anyOf", list);
    put(responses, "ListValidationFailed", response(
        "Validation errors; for a list sent, a list as long as it with {} for the valid entries "
        "(nothing of the request is stored). Or a body that is not JSON.",
        "application/json", many));
    put(responses, "TooLarge", response("The body is over the limit (16 MiB by default): \"Request body too large.\"",
                                        "application/json", schema_ref("Error")));
    put(responses, "UnsupportedMediaType", response(
        "A Content-Type other than JSON (or a form): \"Unsupported media type \\\"...\\\" in request.\"",
        "application/json", schema_ref("Error")));
}

static json_object *query_parameter(const char *name, const char *description, json_object *shape)
{
    json_object *p = jobj();
    put_str(p, "name", name);
    put_str(p, "in", "query");
    put_bool(p, "required", false);
    put_str(p, "description", description);
    put(p, "schema", shape);
    return p;
}

static void add_parameters(json_object *parameters)
{
    json_object *page_number = typed("integer");
    put_int(page_number, "minimum", 1);
    put(parameters, "page", query_parameter(
        "page", "A page number, 1-based (\"last\" is the last page). Past the end: 404 \"Invalid page.\"", page_number));
    json_object *size = typed("integer");
    put_int(size, "minimum", 1);
    put_int(size, "maximum", PAGE_SIZE_MAX);
    put_int(size, "default", PAGE_SIZE_DEFAULT);
    put(parameters, "page_size", query_parameter(
        "page_size", "Objects per page; an invalid value means the default.", size));
    json_object *format = typed("string"), *values = jarr();
    push(values, jstr("json"));
    push(values, jstr("api"));
    put(format, "enum", values);
    put(parameters, "format", query_parameter(
        "format", "json (the default), or api for the browsable HTML page. Also a \".json\" / \".api\" "
                  "suffix of the path. Any other value: 404.", format));
}

static void add_security_schemes(json_object *schemes)
{
    json_object *s = jobj();
    put_str(s, "type", "apiKey");
    put_str(s, "in", "header");
    put_str(s, "name", "API_KEY");
    put_str(s, "description",
            "The customer's API key (`stockroom customer create` / `key create`), in the header as the "
            "Voodoo clients spell it, with an underscore. API-KEY, API-Key, Api-Key and api-key are "
            "the same header (see apiKeyDash): header names are case-insensitive.");
    put(schemes, "apiKey", s);
    s = jobj();
    put_str(s, "type", "apiKey");
    put_str(s, "in", "header");
    put_str(s, "name", "API-KEY");
    put_str(s, "description", "The same API key, in the spelling proxies that drop underscores keep.");
    put(schemes, "apiKeyDash", s);
    s = jobj();
    put_str(s, "type", "apiKey");
    put_str(s, "in", "header");
    put_str(s, "name", "Authorization");
    put_str(s, "description", "DRF's token scheme: `Authorization: Token <API key>`.");
    put(schemes, "tokenAuth", s);
    s = jobj();
    put_str(s, "type", "http");
    put_str(s, "scheme", "bearer");
    put_str(s, "description", "`Authorization: Bearer <access token>`, an OAuth2 access token from POST /api/o/token/.");
    put(schemes, "bearerAuth", s);
    s = jobj();
    put_str(s, "type", "oauth2");
    put_str(s, "description", "OAuth2's password grant at /api/o/token/ (a user and an OAuth client of the customer, "
                              "made with the command line); the access token then goes in `Authorization: Bearer`.");
    json_object *flows = jobj(), *password = jobj(), *scopes = jobj();
    put_str(password, "tokenUrl", "/api/o/token/");
    put_str(password, "refreshUrl", "/api/o/token/");
    put_str(scopes, "read", "Read the customer's data.");
    put_str(scopes, "write", "Change the customer's data.");
    put(password, "scopes", scopes);
    put(flows, "password", password);
    put(s, "flows", flows);
    put(schemes, "oauth2", s);
    s = jobj();
    put_str(s, "type", "apiKey");
    put_str(s, "in", "cookie");
    put_str(s, "name", "sessionid");
    put_str(s, "description", "The session cookie set by POST /api/user/login/ or the browsable API's login form "
                              "(/api/auth/login/). Unsafe methods also need the csrftoken cookie's value in X-CSRFToken.");
    put(schemes, "sessionCookie", s);
    s = jobj();
    put_str(s, "type", "http");
    put_str(s, "scheme", "basic");
    put_str(s, "description", "The token endpoint's client authentication: HTTP Basic with client_id:client_secret "
                              "(or both in the form body).");
    put(schemes, "clientBasic", s);
}

/* What any authenticated operation accepts, in the order clients use them. */
static json_object *security_requirements(void)
{
    json_object *list = jarr();
    const char *names[] = {"apiKey", "apiKeyDash", "tokenAuth", "bearerAuth", "oauth2", "sessionCookie"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_object *req = jobj();
        put(req, names[i], jarr());
        push(list, req);
    }
    return list;
}

/* ------------------------------------------------------------ paths and operations */

static const char *method_names[] = {"get", "post", "put", "patch", "delete"};
enum { M_GET, M_POST, M_PUT, M_PATCH, M_DELETE, M_COUNT };

static handler_fn handler_of(const route *rt, int m)
{
    handler_fn h[M_COUNT] = {rt->get, rt->post, rt->put, rt->patch, rt->del};
    return h[m];
}

/* The pattern as an OpenAPI path: "{}" captures get names param1, param2...;
 * names[] gets every capture's name. */
static void path_template(const char *pattern, char *out, size_t size, char names[][48], int *n)
{
    size_t o = 0;
    *n = 0;
    for (const char *p = pattern; *p && o + 1 < size;) {
        if (*p != '{') {
            out[o++] = *p++;
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close)
            close = p + strlen(p) - 1;
        char name[48];
        size_t len = (size_t)(close - p - 1);
        if (len == 0 || len >= sizeof name)
            snprintf(name, sizeof name, "param%d", *n + 1);
        else
            snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
        if (*n < MAX_CAPTURES)
            snprintf(names[(*n)++], 48, "%s", name);
        o += (size_t)snprintf(out + o, size - o, "{%s}", name);
        if (o >= size)
            o = size - 1;
        p = close + 1;
    }
    out[o] = '\0';
}

/* The pattern with every capture as "{}" and no trailing slash, to compare. */

static const struct {
    const char *name, *description;
} capture_descriptions[] = {
    {"order", "The order's order_number (percent-encoded); when no order of the customer has that number "
              "and it is all digits, the order's id."},
    {"id", "The object's id."},
    {"device_id", "The device's id, e.g. CAE96B:5DC841 (percent-encoded)."},
    {"shop_id", "The shop's shop_id (percent-encoded)."},
    {"supplier_id", "The supplier's supplier_id (percent-encoded)."},
    {"product_id", "The product's product_id (percent-encoded)."},
    {"refund", "{document_id}_{shop_key}: the refund's document id and its shop's server-assigned integer key, "
               "as in the refund's url."},
    {"line_id", "The product line's id, as in its url."},
    {"asset", "A file of the docs page."},
};

static json_object *path_parameter(const char *name)
{
    json_object *p = jobj(), *shape = typed("string");
    put_str(p, "name", name);
    put_str(p, "in", "path");
    put_bool(p, "required", true);
    const char *description = "One path segment, percent-encoded.";
    for (size_t i = 0; i < sizeof capture_descriptions / sizeof capture_descriptions[0]; i++)
        if (strcmp(capture_descriptions[i].name, name) == 0)
            description = capture_descriptions[i].description;
    put_str(p, "description", description);
    if (strcmp(name, "asset") == 0 && docs_nassets > 0) {
        json_object *values = jarr();
        for (int i = 0; i < docs_nassets; i++)
            push(values, jstr(docs_assets[i].name));
        put(shape, "enum", values);
    }
    put(p, "schema", shape);
    return p;
}

/* The literal segments after "api" (and "v1"), joined by "_": the stem of
 * operation ids ("supplier_refunds_products"); the first is the tag. */
static void route_stem(const route *rt, char *stem, size_t size, char *tag, size_t tag_size)
{
    size_t o = 0;
    stem[0] = tag[0] = '\0';
    const char *p = rt->pattern;
    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool skip = len == 0 || p[0] == '{' || (len == 3 && strncmp(p, "api", 3) == 0) ||
                    (len == 2 && strncmp(p, "v1", 2) == 0);
        if (!skip) {
            if (!tag[0])
                snprintf(tag, tag_size, "%.*s", (int)len, p);
            if (o && o + 1 < size)
                stem[o++] = '_';
            for (size_t i = 0; i < len && o + 1 < size; i++)
                stem[o++] = p[i] == '-' || p[i] == '.' ? '_' : p[i];
            stem[o] = '\0';
        }
        p += len;
    }
    if (!stem[0])
        snprintf(stem, size, "root");
    if (!tag[0])
        snprintf(tag, tag_size, "root");
}

/* One operation being built: its object and its answers, put in status
 * order when it is finished. */
typedef struct op {
    json_object *obj;
    struct {
        int status;
        json_object *resp;
    } res[MAX_RESPONSES];
    int nres;
} op;

static void op_begin(doc *d, op *o, const route *rt, const char *action, const char *summary,
                     const char *tag_override)
{
    char stem[96], tag[64], id[128];
    route_stem(rt, stem, sizeof stem, tag, sizeof tag);
    memset(o, 0, sizeof *o);
    o->obj = jobj();
    json_object *tags = jarr();
    push(tags, jstr(tag_override ? tag_override : tag));
    put(o->obj, "tags", tags);
    put_str(o->obj, "summary", summary);
    snprintf(id, sizeof id, "%s_%s", stem, action);
    for (int k = 2; json_object_object_get_ex(d->operation_ids, id, NULL); k++)
        snprintf(id, sizeof id, "%s_%s_%d", stem, action, k);
    put(d->operation_ids, id, NULL);
    put_str(o->obj, "operationId", id);
    if (rt->flags & ROUTE_PUBLIC)
        put(o->obj, "security", jarr());
}

static void op_answer(op *o, int status, json_object *resp)
{
    for (int i = 0; i < o->nres; i++)
        if (o->res[i].status == status) {   /* the first said wins */
            json_object_put(resp);
            return;
        }
    if (o->nres == MAX_RESPONSES) {
        json_object_put(resp);
        return;
    }
    o->res[o->nres].status = status;
    o->res[o->nres].resp = resp;
    o->nres++;
}

static void op_answer_ref(op *o, int status, const char *name)
{
    op_answer(o, status, ref("responses", name));
}

/* A JSON answer of `schema` (taken). */
static void op_answer_json(op *o, int status, const char *description, json_object *shape)
{
    op_answer(o, status, response(description, "application/json", shape));
}

static void op_body(op *o, json_object *shape, const char *description)
{
    json_object *body = jobj(), *content = jobj(), *media = jobj();
    put(media, "schema", shape);
    put(content, "application/json", media);
    if (description)
        put_str(body, "description", description);
    put(body, "content", content);
    put_bool(body, "required", true);
    put(o->obj, "requestBody", body);
}

static void op_parameter(op *o, json_object *parameter)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(o->obj, "parameters", &list)) {
        list = jarr();
        put(o->obj, "parameters", list);
    }
    push(list, parameter);
}

/* The answers every operation of a DRF view may give, by what it is. */
static void op_common_answers(op *o, const route *rt, int m)
{
    bool unsafe = m != M_GET;
    bool body = m == M_POST || m == M_PUT || m == M_PATCH;
    if (!(rt->flags & ROUTE_PUBLIC)) {
        op_answer_ref(o, 401, "Unauthenticated");
        if (unsafe)
            op_answer_ref(o, 403, "CsrfFailed");
    }
    if (body && !(rt->flags & ROUTE_RAW)) {
        op_answer_ref(o, 413, "TooLarge");
        op_answer_ref(o, 415, "UnsupportedMediaType");
    }
}

static int compare_status(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Put the operation under its method in the path item. */
static void op_end(op *o, json_object *item, int m)
{
    qsort(o->res, (size_t)o->nres, sizeof o->res[0], compare_status);
    json_object *responses = jobj();
    for (int i = 0; i < o->nres; i++) {
        char status[8];
        snprintf(status, sizeof status, "%d", o->res[i].status);
        put(responses, status, o->res[i].resp);
    }
    if (o->nres == 0)
        put(responses, "default", response("See the contract.", NULL, NULL));
    put(o->obj, "responses", responses);
    put(item, method_names[m], o->obj);
}

static json_object *location_header(const char *description)
{
    json_object *headers = jobj(), *location = jobj();
    put_str(location, "description", description);
    put(location, "schema", string_of("uri"));
    put(headers, "Location", location);
    return headers;
}

/* "an Order" / "a Device": the schema's name with its article. */
static const char *with_article(const schema *sc, char *buf, size_t size)
{
    const char *name = sc && sc->name ? sc->name : "object";
    bool vowel = strchr("AEIOUaeiou", name[0]) != NULL;
    snprintf(buf, size, "%s %s", vowel ? "an" : "a", name);
    return buf;
}

/* What a body that may be either of two declarations looks like. */
static json_object *input_schema(doc *d, const route *rt, bool patched)
{
    json_object *main = schema_ref(component_for(d, route_input(rt), patched));
    if (!rt->input_alt)
        return main;
    return either("anyOf", main, schema_ref(component_for(d, rt->input_alt, patched)));
}

static const schema *output_of(const route *rt) { return rt->output ? rt->output : route_input(rt); }

static void describe_list(doc *d, const route *rt, json_object *item)
{
    char text[200], one[80], page_name[120];
    const schema *out = output_of(rt);
    op o;
    if (rt->get) {
        snprintf(text, sizeof text, "List the %ss, a page at a time", out->name);
        op_begin(d, &o, rt, "list", text, NULL);
        op_parameter(&o, ref("parameters", "page"));
        op_parameter(&o, ref("parameters", "page_size"));
        bool may_refuse = false;
        if (rt->list) {
            const list_query *q = rt->list;
            json_object *values = jarr();
            char names[400] = "";
            for (int i = 0; i < q->nordering; i++) {
                push(values, jstr(q->ordering[i].name));
                snprintf(text, sizeof text, "-%s", q->ordering[i].name);
                push(values, jstr(text));
                size_t used = strlen(names);
                snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", q->ordering[i].name);
            }
            json_object *items = typed("string");
            put(items, "enum", values);
            json_object *ordering = query_parameter("ordering", "", array_of(items));
            char description[600];
            snprintf(description, sizeof description,
                     "Fields to order by, comma-separated, \"-\" for descending: %s. Unknown names are "
                     "ignored; the default is creation order, which also breaks ties.", names);
            put_str(ordering, "description", description);
            put_str(ordering, "style", "form");
            put_bool(ordering, "explode", false);
            op_parameter(&o, ordering);
            for (int i = 0; i < q->nfilters; i++) {
                const list_filter *f = &q->filters[i];
                op_parameter(&o, query_parameter(f->name, f->description, string_of(f->format)));
                may_refuse |= f->format != NULL;
            }
        }
        op_answer_json(&o, 200, "A page of them.", schema_ref(paginated_for(d, out, page_name, sizeof page_name)));
        op_answer_ref(&o, 404, "InvalidPage");
        if (may_refuse)
            op_answer_ref(&o, 400, "ValidationFailed");
        op_common_answers(&o, rt, M_GET);
        op_end(&o, item, M_GET);
    }
    if (rt->post && route_input(rt)) {
        json_object *in = schema_ref(component_for(d, route_input(rt), false));
        if (rt->flags & ROUTE_UPSERT) {
            snprintf(text, sizeof text, "Create or update %ss: one, or a list", route_input(rt)->name);
            op_begin(d, &o, rt, "upsert", text, NULL);
            op_body(&o, either("oneOf", in, array_of(schema_ref(component_for(d, route_input(rt), false)))),
                    "One object or a list of them; each is matched to a known one by its id field "
                    "and replaces it, or is created. All or nothing.");
            json_object *created = response("Stored.", "application/json", schema_ref("UpsertResult"));
            put(created, "headers", location_header("The list's url."));
            op_answer(&o, 201, created);
            op_answer_ref(&o, 400, "ListValidationFailed");
        } else {
            snprintf(text, sizeof text, "Create %s", with_article(route_input(rt), one, sizeof one));
            op_begin(d, &o, rt, "create", text, NULL);
            op_body(&o, in, NULL);
            json_object *created = response("Created: the object as stored.", "application/json",
                                            schema_ref(component_for(d, out, false)));
            put(created, "headers", location_header("The new object's url."));
            op_answer(&o, 201, created);
            op_answer_ref(&o, 400, "ValidationFailed");
        }
        op_common_answers(&o, rt, M_POST);
        op_end(&o, item, M_POST);
    }
}

static void describe_detail(doc *d, const route *rt, json_object *item)
{
    char text[200], one[80];
    const schema *out = output_of(rt);
    with_article(out, one, sizeof one);
    op o;
    for (int m = 0; m < M_COUNT; m++) {
        if (!handler_of(rt, m))
            continue;
        static const char *const actions[] = {"retrieve", "apply", "update", "partial_update", "destroy"};
        switch (m) {
        case M_GET: snprintf(text, sizeof text, "Retrieve %s", one); break;
        case M_POST:
        case M_PUT:
            if (rt->input_alt)
                snprintf(text, sizeof text, "Send %s a %s, or a %s update", one,
                         route_input(rt)->name, rt->input_alt->name);
            else
                snprintf(text, sizeof text, "Replace %s", one);
            break;
        case M_PATCH: snprintf(text, sizeof text, "Change some fields of %s", one); break;
        case M_DELETE: snprintf(text, sizeof text, "Delete %s", one); break;
        }
        op_begin(d, &o, rt, actions[m], text, NULL);
        if (route_input(rt) && (m == M_POST || m == M_PUT))
            op_body(&o, input_schema(d, rt, false),
                    rt->input_alt ? "Which of the two it is follows from the fields given." : NULL);
        if (route_input(rt) && m == M_PATCH)
            op_body(&o, input_schema(d, rt, true), NULL);
        if (m == M_DELETE)
            op_answer(&o, 204, response("Deleted.", NULL, NULL));
        else
            op_answer_json(&o, 200, "The object.", schema_ref(component_for(d, out, false)));
        if (m == M_POST || m == M_PUT || m == M_PATCH)
            op_answer_ref(&o, 400, "ValidationFailed");
        op_answer_ref(&o, 404, "NotFound");
        op_common_answers(&o, rt, m);
        op_end(&o, item, m);
    }
}

static void describe_bulk(doc *d, const route *rt, json_object *item)
{
    char text[200];
    const schema *out = output_of(rt);
    op o;
    if (!rt->post || !route_input(rt))
        return;
    snprintf(text, sizeof text, "Apply a list of entries to %ss", out->name);
    op_begin(d, &o, rt, "apply", text, NULL);
    json_object *entry = input_schema(d, rt, false);
    if (rt->selector) {
        json_object *all = jarr();
        push(all, schema_ref(component_for(d, rt->selector, false)));
        push(all, entry);
        entry = jobj();
        put(entry, "allOf", all);
    }
    op_body(&o, array_of(entry),
            "Entries apply in order, all or nothing; each names the objects it applies to by one "
            "of the selector's keys, looked for in the order declared.");
    op_answer_json(&o, 200, "The objects touched, entry by entry.",
                   array_of(schema_ref(component_for(d, out, false))));
    op_answer_ref(&o, 400, "ListValidationFailed");
    op_common_answers(&o, rt, M_POST);
    op_end(&o, item, M_POST);
}

/* ------------------------------------------------------------ routes without a schema */

/* Which methods a described operation may appear under: a DRF view has
 * exactly the methods it has handlers for; a raw route's .get answers
 * every method, so its description decides. */
static bool route_has(const route *rt, int m)
{
    return (rt->flags & ROUTE_RAW) || handler_of(rt, m) != NULL;
}

static json_object *html_page(void) { return string_of(NULL); }

static void answer_html(op *o, int status, const char *description)
{
    op_answer(o, status, response(description, "text/html", html_page()));
}

static void answer_redirect(op *o, int status, const char *description)
{
    json_object *r = response(description, NULL, NULL);
    put(r, "headers", location_header("Where to go next."));
    op_answer(o, status, r);
}

/* A form (and JSON) body of string fields; `required` NULL-terminated too.
 * Returns the properties, for the caller to add to. */
static json_object *form_body(op *o, const char *const *names, const char *const *descriptions,
                              const char *const *required, bool json_too)
{
    json_object *shape = typed("object"), *props = jobj(), *req = jarr();
    for (int i = 0; names[i]; i++) {
        json_object *p = typed("string");
        if (strcmp(names[i], "password") == 0 || strcmp(names[i], "client_secret") == 0)
            put_str(p, "format", "password");
        if (descriptions && descriptions[i])
            put_str(p, "description", descriptions[i]);
        put(props, names[i], p);
    }
    for (int i = 0; required && required[i]; i++)
        push(req, jstr(required[i]));
    put(shape, "properties", props);
    if (json_object_array_length(req) > 0)
        put(shape, "required", req);
    else
        json_object_put(req);
    json_object *body = jobj(), *content = jobj(), *form = jobj();
    if (json_too) {
        json_object *media = jobj();
        put(media, "schema", json_object_get(shape));
        put(content, "application/json", media);
    }
    put(form, "schema", shape);
    put(content, "application/x-www-form-urlencoded", form);
    put(body, "content", content);
    put_bool(body, "required", true);
    put(o->obj, "requestBody", body);
    return props;
}

void describe_root(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "retrieve", "Api Root: the url of every list", "root");
    json_object *shape = typed("object"), *props = jobj(), *required = jarr();
    for (int i = 0; i < api_nroutes; i++) {
        const route *list = &api_routes[i];
        /* the lists under this root: /api/ has both APIs', /api/v1/ the retail one's */
        if (list->kind != VIEW_LIST || !list->get || !list->root ||
            strncmp(list->pattern, rt->pattern, strlen(rt->pattern)) != 0)
            continue;
        const char *name = list->root;   /* the name the root lists it under */
        put(props, name, string_of("uri"));
        push(required, jstr(name));
    }
    put(shape, "properties", props);
    put(shape, "required", required);
    op_answer_json(&o, 200, "Each list's name and its absolute url.", shape);
    op_common_answers(&o, rt, M_GET);
    op_end(&o, item, M_GET);
}

void describe_token(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_POST))
        return;
    op_begin(d, &o, rt, "create", "OAuth2 token: the password or refresh_token grant", "authentication");
    put_str(o.obj, "description",
            "RFC 6749 token endpoint. The client authenticates with HTTP Basic (client_id:client_secret) "
            "or with client_id and client_secret in the body; unknown parameters are ignored. Tokens "
            "live in the database: they survive restarts and work on every server sharing it.");
    json_object *security = jarr(), *basic = jobj();
    put(basic, "clientBasic", jarr());
    push(security, basic);
    push(security, jobj());   /* or the client's credentials in the body */
    put(o.obj, "security", security);
    static const char *const names[] = {"grant_type", "username", "password", "refresh_token",
                                        "client_id", "client_secret", "scope", NULL};
    static const char *const descriptions[] = {
        "password or refresh_token.", "grant_type=password: the user's name.",
        "grant_type=password: the user's password.", "grant_type=refresh_token: the refresh token.",
        "The OAuth client, unless given by HTTP Basic.", "The OAuth client's secret, unless given by HTTP Basic.",
        "Ignored: tokens always have \"read write\".", NULL};
    static const char *const required[] = {"grant_type", NULL};
    json_object *props = form_body(&o, names, descriptions, required, false), *grant = NULL;
    if (json_object_object_get_ex(props, "grant_type", &grant)) {
        json_object *values = jarr();
        push(values, jstr("password"));
        push(values, jstr("refresh_token"));
        put(grant, "enum", values);
    }
    json_object *token = typed("object"), *tprops = jobj(), *treq = jarr();
    put(tprops, "access_token", typed("string"));
    json_object *type = typed("string"), *bearer = jarr();
    push(bearer, jstr("Bearer"));
    put(type, "enum", bearer);
    put(tprops, "token_type", type);
    json_object *expires = typed("integer");
    put_str(expires, "description", "Seconds the access token lives: 36000.");
    put(tprops, "expires_in", expires);
    put(tprops, "refresh_token", typed("string"));
    json_object *scope = typed("string");
    put_str(scope, "example", "read write");
    put(tprops, "scope", scope);
    const char *fields[] = {"access_token", "token_type", "expires_in", "refresh_token", "scope"};
    for (int i = 0; i < 5; i++)
        push(treq, jstr(fields[i]));
    put(token, "properties", tprops);
    put(token, "required", treq);
    op_answer_json(&o, 200, "The tokens.", token);
    op_answer_json(&o, 400, "invalid_grant (a wrong password or refresh token), unsupported_grant_type, "
                            "or invalid_request (a parameter missing).", schema_ref("OAuth2Error"));
    op_answer_json(&o, 401, "invalid_client: unknown client or wrong secret.", schema_ref("OAuth2Error"));
    op_end(&o, item, M_POST);
}

void describe_user_login(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_POST))
        return;
    op_begin(d, &o, rt, "create", "Session login (Big Block): a session, its CSRF token and a temporary key",
             "authentication");
    static const char *const names[] = {"username", "password", NULL};
    form_body(&o, names, NULL, names, true);
    static const char *const answer[] = {"token", "apikey", NULL};
    static const char *const meaning[] = {
        "The CSRF token (the csrftoken cookie): send it in X-CSRFToken with unsafe requests "
        "authenticated by the session.",
        "A temporary API key, valid in the API key header until the session ends (14 days, or logout).", NULL};
    json_object *ok = response("Logged in; sets the cookies sessionid (HttpOnly) and csrftoken.",
                               "application/json", object_of_strings(answer, meaning));
    json_object *headers = jobj(), *cookie = jobj();
    put_str(cookie, "description", "sessionid=...; HttpOnly, and csrftoken=...");
    put(cookie, "schema", typed("string"));
    put(headers, "Set-Cookie", cookie);
    put(ok, "headers", headers);
    op_answer(&o, 200, ok);
    op_answer_json(&o, 401, "\"Invalid username/password.\"", schema_ref("Error"));
    op_common_answers(&o, rt, M_POST);
    op_end(&o, item, M_POST);
}

void describe_user_logout(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_POST))
        return;
    op_begin(d, &o, rt, "create", "End the session (and its temporary key)", "authentication");
    static const char *const detail[] = {"detail", NULL};
    op_answer_json(&o, 200, "{\"detail\": \"Successfully logged out.\"}", object_of_strings(detail, NULL));
    op_common_answers(&o, rt, M_POST);
    op_end(&o, item, M_POST);
}

void describe_auth_login(doc *d, const route *rt, json_object *item)
{
    op o;
    if (route_has(rt, M_GET)) {
        op_begin(d, &o, rt, "form", "The browsable API's login form", "authentication");
        op_parameter(&o, query_parameter("next", "Where to go after logging in.", string_of(NULL)));
        answer_html(&o, 200, "The login form.");
        op_end(&o, item, M_GET);
    }
    if (route_has(rt, M_POST)) {
        op_begin(d, &o, rt, "submit", "Log in to the browsable API (sets the session cookie)", "authentication");
        static const char *const names[] = {"username", "password", "csrfmiddlewaretoken", "next", NULL};
        static const char *const descriptions[] = {
            NULL, NULL, "The form's CSRF token (Django's name).", "Where to go after logging in.", NULL};
        static const char *const required[] = {"username", "password", "csrfmiddlewaretoken", NULL};
        form_body(&o, names, descriptions, required, false);
        answer_redirect(&o, 302, "Logged in: sets the sessionid (HttpOnly) and csrftoken cookies, goes to next.");
        answer_html(&o, 200, "The form again, with the error (wrong username or password).");
        answer_html(&o, 403, "CSRF verification failed.");
        op_end(&o, item, M_POST);
    }
}

void describe_auth_logout(doc *d, const route *rt, json_object *item)
{
    op o;
    for (int m = M_GET; m <= M_POST; m++) {
        if (!route_has(rt, m))
            continue;
        op_begin(d, &o, rt, m == M_GET ? "retrieve" : "create", "Log out of the browsable API",
                 "authentication");
        op_parameter(&o, query_parameter("next", "Where to go after logging out.", string_of(NULL)));
        answer_redirect(&o, 302, "The session is over; goes to next (or the login page).");
        op_end(&o, item, m);
    }
}

void describe_schema(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "retrieve", "This document: OpenAPI 3.0.3, generated from the route table", "schema");
    json_object *doc_schema = typed("object");
    put_str(doc_schema, "description", "An OpenAPI 3.0.3 document.");
    op_answer_json(&o, 200, "The OpenAPI document.", doc_schema);
    op_common_answers(&o, rt, M_GET);
    op_end(&o, item, M_GET);
}

/* A page and its files: the API docs (Swagger UI) or the device wall. */
static void describe_page(doc *d, const route *rt, json_object *item, const char *summary, const char *tag)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "page", summary, tag);
    answer_html(&o, 200, "The page.");
    op_common_answers(&o, rt, M_GET);
    op_end(&o, item, M_GET);
}

static void describe_asset(doc *d, const route *rt, json_object *item, const char *summary, const char *tag)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "asset", summary, tag);
    json_object *ok = jobj(), *content = jobj();
    put_str(ok, "description", "The file.");
    const char *types[] = {"text/javascript", "text/css"};
    for (int i = 0; i < 2; i++) {
        json_object *media = jobj();
        put(media, "schema", string_of(NULL));
        put(content, types[i], media);
    }
    put(ok, "content", content);
    op_answer(&o, 200, ok);
    op_answer_ref(&o, 404, "NotFound");
    op_common_answers(&o, rt, M_GET);
    op_end(&o, item, M_GET);
}

void describe_docs(doc *d, const route *rt, json_object *item)
{
    describe_page(d, rt, item, "The interactive API docs (Swagger UI over /api/schema/)", "schema");
}

void describe_docs_asset(doc *d, const route *rt, json_object *item)
{
    describe_asset(d, rt, item, "A file of the docs page (Swagger UI's script or style sheet)", "schema");
}

void describe_wall(doc *d, const route *rt, json_object *item)
{
    describe_page(d, rt, item, "The device wall: every device drawn live, with its buttons (§8.2)", "device");
}

void describe_wall_asset(doc *d, const route *rt, json_object *item)
{
    describe_asset(d, rt, item, "A file of the device wall (its script or style sheet)", "device");
}

void describe_healthz(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "retrieve", "Health: does the database answer?", "health");
    op_answer(&o, 200, response("The database answers: \"ok\".", "text/plain", string_of(NULL)));
    op_answer(&o, 503, response("It does not: \"unavailable\".", "text/plain", string_of(NULL)));
    op_end(&o, item, M_GET);
}

void describe_metrics(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "retrieve", "Metrics for Prometheus (text format 0.0.4): loopback, or the operator's "
             "bearer token", "health");
    op_answer(&o, 200, response("The metrics.", "text/plain", string_of(NULL)));
    op_answer(&o, 404, response("Neither from loopback nor with the token.", "application/json", jobj()));
    op_end(&o, item, M_GET);
}

void describe_front_door(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "retrieve", "Front door: a browser goes to the API root", "front door");
    answer_redirect(&o, 302, "A browser (Accept prefers text/html) goes to /api/.");
    op_answer(&o, 404, response("Anything else finds nothing here.", "application/json", jobj()));
    op_end(&o, item, M_GET);
}

/* §8's actions on an object, answered with that object: launch and abort
 * (the order), launchsequence (the sequence), the query-string API (the
 * device). */
static void describe_action(doc *d, const route *rt, json_object *item, int m, const char *summary,
                            const schema *answer, const char *description)
{
    op o;
    op_begin(d, &o, rt, m == M_GET ? "run" : "create", summary, NULL);
    op_answer_json(&o, 200, description, schema_ref(component_for(d, answer, false)));
    op_common_answers(&o, rt, m);
    op_end(&o, item, m);
}

void describe_launch(doc *d, const route *rt, json_object *item)
{
    if (route_has(rt, M_POST))
        describe_action(d, rt, item, M_POST, "Launch (or abort) the order's picks: body {} or {\"color\"}",
                        &order_schema, "The order, with its status.");
}

void describe_launch_sequence(doc *d, const route *rt, json_object *item)
{
    if (route_has(rt, M_GET))
        describe_action(d, rt, item, M_GET, "Launch or relaunch the sequence (lights its first group)",
                        &sequence_schema, "The sequence, with its status.");
}

void describe_query_string(doc *d, const route *rt, json_object *item)
{
    if (route_has(rt, M_GET))
        describe_action(d, rt, item, M_GET,
                        "Light the device as POST /api/device/{id}/ would: ~ splits lines, the colour "
                        "follows the seconds", &device_schema, "The device.");
}

void describe_events(doc *d, const route *rt, json_object *item)
{
    op o;
    if (!route_has(rt, M_GET))
        return;
    op_begin(d, &o, rt, "stream", "The customer's events as Server-Sent Events (devices, callbacks)", NULL);
    put_str(o.obj, "description",
            "A stream that stays open: `retry: 3000` and `id: <the newest event id>` first, then one "
            "block per event, `id: <event id>`, `event: device` (data: the device as GET answers it), "
            "`device_deleted` (data: {\"device_id\", \"deviceid\"}) or `callback` (data: the callback "
            "body as queued), `data: <JSON>`, in id order, the caller's customer's only; a `: keep-alive` "
            "comment when it has been silent for 15 s. With Last-Event-ID it resumes right after that "
            "event, missing and repeating none; when that id is no longer kept (older than the "
            "retention) or not this customer's, it begins with one `reset` event: reload what you show "
            "and go on from there.");
    json_object *header = jobj();
    put_str(header, "name", "Last-Event-ID");
    put_str(header, "in", "header");
    put_bool(header, "required", false);
    put_str(header, "description", "Resume after this event id (EventSource sends it when it reconnects).");
    put(header, "schema", string_of(NULL));
    op_parameter(&o, header);
    op_parameter(&o, query_parameter("last_event_id", "As the Last-Event-ID header, for clients that cannot "
                                     "set headers (the header wins).", string_of(NULL)));
    json_object *ok = response("The stream (text/event-stream; Cache-Control: no-cache).", "text/event-stream",
                               string_of(NULL));
    op_answer(&o, 200, ok);
    op_answer_json(&o, 503, "Too many streams open on this server (--max-streams), or it is stopping; "
                            "Retry-After says when to try again.", schema_ref("Error"));
    op_common_answers(&o, rt, M_GET);
    op_end(&o, item, M_GET);
}

/* A method a route has that nothing above described: it still appears. */
static void describe_generic(doc *d, const route *rt, json_object *item, int m)
{
    static const char *const actions[] = {"retrieve", "create", "update", "partial_update", "destroy"};
    op o;
    op_begin(d, &o, rt, actions[m], rt->name ? rt->name : rt->pattern, NULL);
    if (route_input(rt) && m != M_GET && m != M_DELETE)
        op_body(&o, schema_ref(component_for(d, route_input(rt), m == M_PATCH)), NULL);
    if (rt->output)   /* e.g. an acknowledgement answers the device */
        op_answer_json(&o, 200, "The object.", schema_ref(component_for(d, rt->output, false)));
    else if (route_input(rt) && m == M_GET)   /* a bare list (location aliases) */
        op_answer_json(&o, 200, "Every object, a bare list.", array_of(schema_ref(component_for(d, route_input(rt), false))));
    else if (route_input(rt) && m == M_POST)
        op_answer_json(&o, 201, "The object created.", schema_ref(component_for(d, route_input(rt), false)));
    else if (m == M_DELETE)
        op_answer(&o, 204, response("Deleted.", NULL, NULL));
    else
        op_answer(&o, 200, response("See the contract.", NULL, NULL));
    op_common_answers(&o, rt, m);
    op_end(&o, item, m);
}

static void describe_route(doc *d, const route *rt)
{
    char path[256], names[MAX_CAPTURES][48];
    int ncaptures = 0;
    path_template(rt->pattern, path, sizeof path, names, &ncaptures);
    json_object *item = NULL;
    if (!json_object_object_get_ex(d->paths, path, &item)) {   /* first match wins, as routing */
        item = jobj();
        put(d->paths, path, item);
    } else {
        return;
    }
    json_object *parameters = jarr();
    for (int i = 0; i < ncaptures; i++)
        push(parameters, path_parameter(names[i]));
    if (!(rt->flags & ROUTE_RAW))
        push(parameters, ref("parameters", "format"));
    if (json_object_array_length(parameters) > 0)
        put(item, "parameters", parameters);
    else
        json_object_put(parameters);

    switch (rt->kind) {
    case VIEW_LIST: describe_list(d, rt, item); break;
    case VIEW_DETAIL: describe_detail(d, rt, item); break;
    case VIEW_BULK: describe_bulk(d, rt, item); break;
    case VIEW_OTHER:
        if (rt->describe)
            rt->describe(d, rt, item);
        break;
    }
    /* every method the route has is in the document, described or not */
    bool any = false;
    for (int m = 0; m < M_COUNT; m++)
        any |= json_object_object_get_ex(item, method_names[m], NULL);
    for (int m = 0; m < M_COUNT; m++) {
        if (!handler_of(rt, m) || json_object_object_get_ex(item, method_names[m], NULL))
            continue;
        if ((rt->flags & ROUTE_RAW) && any)
            continue;   /* a raw route's .get stands for the methods described */
        describe_generic(d, rt, item, m);
    }
}

/* ------------------------------------------------------------ the whole */

static const char overview[] =
    "Stockroom serves two APIs whose clients were written for Django REST framework servers: the "
    "warehouse Orders API (orders, shipments, items, pick-to-light devices) under /api/, and the "
    "retail data API (shops, suppliers, products, supplier refunds) under /api/v1/.\n\n"
    "This document is generated from the server's route table and the field declarations that "
    "validate input, so it says what the server does.\n\n"
    "**Paths** end in `/`; the same path without it is served identically. Every url in an answer "
    "is absolute. `?format=api` (or a `.api` suffix, or an Accept header preferring text/html) "
    "gives the browsable HTML page instead of JSON. OPTIONS on every path answers DRF's "
    "metadata; HEAD is answered wherever GET is.\n\n"
    "**Credentials** are needed everywhere under /api/ except the token endpoint and the session "
    "login: the API key header (`API_KEY`, or `API-KEY`...), `Authorization: Token <key>`, "
    "`Authorization: Bearer <access token>`, or the session cookie.\n\n"
    "**Errors** have DRF's shapes: `{\"detail\": \"...\"}` (401, 403, 404, 405 `Method \"PUT\" "
    "not allowed.`, 413, 415, 500 `A server error occurred.`), validation errors as field → "
    "messages (400), and RFC 6749's `{\"error\": \"...\"}` from the token endpoint.\n\n"
    "**Values**: strings are trimmed and also take numbers (as their text); integers take "
    "integral strings; decimals are answered as strings with four places; datetimes are taken "
    "as Django parses them (an offset is converted to UTC) and answered as "
    "`YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC, without an offset. Unknown input fields are ignored.\n\n"
    "**Lists** are paginated (`page`, `page_size`) and take `ordering`; the order is always total.";

json_object *openapi_document(void)
{
    doc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    json_object *root = jobj();
    put_str(root, "openapi", "3.0.3");
    json_object *info = jobj();
    put_str(info, "title", "Stockroom API");
    put_str(info, "version", "1");
    put_str(info, "description", overview);
    put(root, "info", info);
    json_object *servers = jarr(), *server = jobj();
    put_str(server, "url", "/");
    push(servers, server);
    put(root, "servers", servers);
    put(root, "security", security_requirements());

    d->paths = jobj();
    d->operation_ids = jobj();
    json_object *components = jobj();
    d->schemas = jobj();
    add_error_schemas(d->schemas);
    for (int i = 0; i < api_nroutes; i++)
        describe_route(d, &api_routes[i]);
    put(root, "paths", d->paths);

    put(components, "schemas", d->schemas);
    json_object *responses = jobj(), *parameters = jobj(), *schemes = jobj();
    add_responses(responses);
    add_parameters(parameters);
    add_security_schemes(schemes);
    put(components, "responses", responses);
    put(components, "parameters", parameters);
    put(components, "securitySchemes", schemes);
    put(root, "components", components);
    json_object_put(d->operation_ids);
    free(d);
    return root;
}

int openapi_schema(request *r)
{
    json_object *document = openapi_document();
    if (!document)
        abort();
    jw w;
    jw_init(&w, 64 * 1024);
    jw_json(&w, document);
    json_object_put(document);
    respond_json(r, 200, &w);
    return 0;
}
