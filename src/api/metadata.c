/*
 * metadata.c — DRF 3.14's SimpleMetadata (OPTIONS) from the route table and
 * the schema declarations (see metadata.h).
 *
 * Per field, in declaration order and in DRF's key order: "type",
 * "required", "read_only", "label", then "max_length", "min_value",
 * "max_value" where declared, "child" (a list of nested objects: the child
 * serializer, with the list's required/read_only and no label) or
 * "children" (one nested object), and "choices" for writable choice fields.
 * Write-only fields are listed too (DRF leaves out only hidden fields).
 */
#include "api/metadata.h"

#include <stdlib.h>
#include <string.h>

#include "api/respond.h"

static const char *type_name(const field *f)
{
    switch (f->type) {
    case FIELD_STRING: return "string";
    case FIELD_INTEGER: return "integer";
    case FIELD_DECIMAL: return "decimal";
    case FIELD_DATETIME: return "datetime";
    case FIELD_CHOICE: return "choice";
    case FIELD_NESTED: return "nested object";
    case FIELD_RELATED:     /* SlugRelatedField */
    case FIELD_NESTED_LIST: /* ListSerializer */
    case FIELD_URL:         /* HyperlinkedIdentityField, SerializerMethodField */
    case FIELD_RAW_JSON: return "field";
    /* A field type added to fields.h without a case here shows as DRF's
     * generic "field" rather than breaking the build: add its DRF name. */
    default: return "field";
    }
}

const char *metadata_label(const field *f, char *buf, size_t size)
{
    if (f->label)
        return f->label;
    if (strcmp(f->name, "id") == 0)
        return "ID";
    size_t n = strlen(f->name);
    if (n >= size)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = f->name[i] == '_' ? ' ' : f->name[i];
    buf[n] = '\0';
    if (n && buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
    return buf;
}

static bool is_read_only(const field *f)
{
    return (f->flags & F_READ_ONLY) || f->type == FIELD_URL || f->type == FIELD_RAW_JSON;
}

static void render_fields(jw *w, const schema *sc);

static void render_field(jw *w, const field *f)
{
    bool read_only = is_read_only(f);
    bool required = (f->flags & F_REQUIRED) && !read_only;
    char label[128];
    jw_obj(w);
    jw_key(w, "type");
    jw_cstr(w, type_name(f));
    jw_key(w, "required");
    jw_bool(w, required);
    jw_key(w, "read_only");
    jw_bool(w, read_only);
    jw_key(w, "label");
    jw_cstr(w, metadata_label(f, label, sizeof label));
    if (f->type == FIELD_STRING && f->max_length > 0) {
        jw_key(w, "max_length");
        jw_int(w, f->max_length);
    }
    if (f->type == FIELD_INTEGER && f->min_value <= f->max_value) {
        jw_key(w, "min_value");
        jw_int(w, f->min_value);
        jw_key(w, "max_value");
        jw_int(w, f->max_value);
    }
    if (f->type == FIELD_NESTED_LIST && f->child) {
        /* many=True: the child serializer gets the list's own kwargs */
        jw_key(w, "child");
        jw_obj(w);
        jw_key(w, "type");
        jw_cstr(w, "nested object");
        jw_key(w, "required");
        jw_bool(w, required);
        jw_key(w, "read_only");
        jw_bool(w, read_only);
        jw_key(w, "children");
        render_fields(w, f->child);
        jw_obj_end(w);
    } else if (f->type == FIELD_NESTED && f->child) {
        jw_key(w, "children");
        render_fields(w, f->child);
    }
    if (f->type == FIELD_CHOICE && f->choices && !read_only) {
        jw_key(w, "choices");
        jw_arr(w);
        for (const char *const *c = f->choices; *c; c++) {
            jw_obj(w);
            jw_key(w, "value");
            jw_cstr(w, *c);
            jw_key(w, "display_name");
            jw_cstr(w, *c);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    jw_obj_end(w);
}

static void render_fields(jw *w, const schema *sc)
{
    jw_obj(w);
    for (int i = 0; i < sc->nfields; i++) {
        jw_key(w, sc->fields[i].name);
        render_field(w, &sc->fields[i]);
    }
    jw_obj_end(w);
}

void render_metadata(jw *w, const char *name, const schema *sc, const char *const *actions,
                     int nactions, bool xml)
{
    jw_obj(w);
    jw_key(w, "name");
    jw_cstr(w, name ? name : "");
    jw_key(w, "description");
    jw_cstr(w, "");
    jw_key(w, "renders");
    jw_arr(w);
    jw_cstr(w, "application/json");
    jw_cstr(w, "text/html");
    if (xml)
        jw_cstr(w, "application/xml");
    jw_arr_end(w);
    jw_key(w, "parses");
    jw_arr(w);
    jw_cstr(w, "application/json");
    jw_cstr(w, "application/x-www-form-urlencoded");
    jw_cstr(w, "multipart/form-data");
    if (xml)
        jw_cstr(w, "application/xml");
    jw_arr_end(w);
    if (sc && nactions > 0) {
        jw_key(w, "actions");
        jw_obj(w);
        for (int i = 0; i < nactions; i++) {
            jw_key(w, actions[i]);
            render_fields(w, sc);
        }
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

/* DRF's determine_actions() calls get_object() before describing PUT and
 * leaves PUT out on a 404: run the route's GET and keep only its status. */
static bool object_exists(request *r, const route *rt)
{
    if (!rt->get)
        return true;
    bool browsable = r->browsable, xml = r->xml;
    int nheaders = r->nheaders_out;
    http_method method = r->method;
    r->browsable = false;
    r->xml = false;
    r->method = HTTP_GET;
    rt->get(r);
    bool found = r->status == 200;
    free(r->resp_body);
    r->resp_body = NULL;
    r->resp_len = 0;
    r->content_type = NULL;
    r->nheaders_out = nheaders;
    r->method = method;
    r->browsable = browsable;
    r->xml = xml;
    r->status = 500;
    return found;
}

void metadata_respond(request *r, const route *rt)
{
    const char *actions[2];
    int n = 0;
    if (route_input(rt)) {
        if (rt->post)
            actions[n++] = "POST";
        if (rt->put && object_exists(r, rt))
            actions[n++] = "PUT";
    }
    jw w;
    jw_init(&w, 2048);
    render_metadata(&w, rt->name, route_input(rt), actions, n, rt->flags & ROUTE_XML);
    respond_json(r, 200, &w);
}
