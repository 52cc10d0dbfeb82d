/*
 * fields.c — validation and rendering driven by schema declarations
 * (see fields.h; OPTIONS metadata is in metadata.c). Messages and error shapes are DRF 3.14's:
 * field errors are lists of strings under the field's name, nested objects
 * nest, lists of objects give lists with {} for valid entries, and
 * object-level errors go under "non_field_errors". Object-level checks
 * run only when every field is valid, as in DRF.
 */
#include "api/fields.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/datetime.h"
#include "core/decimal.h"
#include "core/text.h"

#define MSG_REQUIRED "This field is required."
#define MSG_NULL "This field may not be null."
#define MSG_BLANK "This field may not be blank."
#define MSG_NOT_STRING "Not a valid string."
#define MSG_INT_INVALID "A valid integer is required."
#define MSG_EMPTY_LIST "This list may not be empty."

void errors_add(json_object *errors, const char *key, const char *message)
{
    json_object *list = NULL;
    if (!json_object_object_get_ex(errors, key, &list)) {
        list = json_object_new_array();
        json_object_object_add(errors, key, list);
    }
    json_object_array_add(list, json_object_new_string(message));
}

static json_object *message_list(const char *message)
{
    json_object *list = json_object_new_array();
    json_object_array_add(list, json_object_new_string(message));
    return list;
}

static json_object *non_field_error(const char *message)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "non_field_errors", message_list(message));
    return o;
}

record *record_new(arena *a, const schema *sc)
{
    record *rec = arena_alloc(a, sizeof *rec);
    rec->sc = sc;
    rec->v = arena_zalloc(a, sizeof(value) * (size_t)sc->nfields);
    return rec;
}

int schema_field(const schema *sc, const char *name)
{
    for (int i = 0; i < sc->nfields; i++)
        if (strcmp(sc->fields[i].name, name) == 0)
            return i;
    return -1;
}

void value_set_int(value *v, int64_t i)
{
    v->state = VALUE_SET;
    v->i = i;
}

void value_set_text(value *v, const char *s, size_t len)
{
    v->state = VALUE_SET;
    v->s = s;
    v->len = len;
}

void value_set_null(value *v)
{
    v->state = VALUE_NULL;
    v->s = NULL;
    v->len = 0;
}

/* The text of a JSON scalar as Python's str() would mostly give it: strings
 * as they are, numbers as sent (json-c keeps the text). NULL for others. */
static const char *scalar_text(json_object *in, size_t *len)
{
    switch (json_object_get_type(in)) {
    case json_type_string:
        *len = (size_t)json_object_get_string_len(in);
        return json_object_get_string(in);
    case json_type_int:
    case json_type_double: {
        const char *t = json_object_get_string(in);
        *len = strlen(t);
        return t;
    }
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------- scalars */

static const char *check_string(validation *v, const field *f, json_object *in, value *out)
{
    size_t n;
    const char *t = scalar_text(in, &n);
    if (!t)
        return MSG_NOT_STRING;
    text_trim(&t, &n);
    if (!text_is_clean(t, n))
        return MSG_NOT_STRING;
    if (n == 0 && !(f->flags & F_ALLOW_BLANK))
        return MSG_BLANK;
    if (f->max_length && text_chars(t, n) > (size_t)f->max_length)
        return arena_printf(v->r->arena, "Ensure this field has no more than %d characters.",
                            f->max_length);
    value_set_text(out, arena_strndup(v->r->arena, t, n), n);
    return NULL;
}

static const char *range_error(validation *v, const field *f, int sign_of_overflow, int64_t x)
{
    if (f->min_value > f->max_value)
        return NULL;
    if (sign_of_overflow < 0 || (sign_of_overflow == 0 && x < f->min_value))
        return arena_printf(v->r->arena, "Ensure this value is greater than or equal to %" PRId64 ".",
                            f->min_value);
    if (sign_of_overflow > 0 || x > f->max_value)
        return arena_printf(v->r->arena, "Ensure this value is less than or equal to %" PRId64 ".",
                            f->max_value);
    return NULL;
}

static const char *check_integer(validation *v, const field *f, json_object *in, value *out)
{
    size_t n;
    const char *t = scalar_text(in, &n);
    if (!t)
        return MSG_INT_INVALID;
    if (json_object_is_type(in, json_type_string) && n > 1000)
        return "String value too large.";
    int64_t x = 0;
    int overflow = 0;
    bool exponent = json_object_is_type(in, json_type_double) && (memchr(t, 'e', n) || memchr(t, 'E', n));
    bool ok = exponent ? text_float_integral(t, n, &x) : text_python_int(t, n, &x, &overflow);
    if (!ok || (overflow && f->min_value > f->max_value))   /* beyond int64, no limit to quote */
        return MSG_INT_INVALID;
    const char *range = range_error(v, f, overflow, x);
    if (range)
        return range;
    value_set_int(out, x);
    return NULL;
}

static const char *check_decimal(validation *v, const field *f, json_object *in, value *out)
{
    size_t n;
    const char *t = scalar_text(in, &n);
    if (!t)
        return decimal_message(DECIMAL_INVALID);
    int64_t x;
    decimal_status st = decimal_parse(t, n, &x);
    if (st != DECIMAL_OK)
        return decimal_message(st);
    value_set_int(out, x);
    return NULL;
}

static const char *check_datetime(validation *v, const field *f, json_object *in, value *out)
{
    int64_t us;
    if (!json_object_is_type(in, json_type_string))
        return DATETIME_FORMAT_ERROR;
    datetime_status st = datetime_parse_status(json_object_get_string(in),
                                               (size_t)json_object_get_string_len(in), &us);
    if (st == DATETIME_OUT_OF_RANGE)
        return DATETIME_RANGE_ERROR;
    if (st != DATETIME_OK)
        return DATETIME_FORMAT_ERROR;
    value_set_int(out, us);
    return NULL;
}

/* What DRF would print for an input value in a message. */
static const char *display_text(arena *a, json_object *in, size_t *len)
{
    const char *t = scalar_text(in, len);
    if (t)
        return t;
    if (json_object_is_type(in, json_type_boolean)) {
        t = json_object_get_boolean(in) ? "True" : "False";
    } else {
        t = json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    }
    *len = strlen(t);
    return arena_strndup(a, t, *len);
}

static const char *check_choice(validation *v, const field *f, json_object *in, value *out)
{
    size_t n;
    const char *t = display_text(v->r->arena, in, &n);
    const char *chosen;
    if (json_object_is_type(in, json_type_string) && n == 0 && (f->flags & F_ALLOW_BLANK)) {
        value_set_text(out, "", 0);
        return NULL;
    }
    if (!f->choose(v->r->arena, t, n, &chosen))
        return arena_printf(v->r->arena, "\"%.*s\" is not a valid choice.", (int)n, t);
    value_set_text(out, chosen, strlen(chosen));
    return NULL;
}

static const char *check_related(validation *v, const field *f, json_object *in, value *out)
{
    size_t n;
    const char *t = scalar_text(in, &n);
    if (!t)
        return arena_printf(v->r->arena, "Incorrect type. Expected pk value, received %s.",
                            json_python_type(in));
    int64_t id = 0;
    int found = f->lookup(v->r, t, n, &id);
    if (found < 0)
        return "A server error occurred.";
    if (found == 0)
        return arena_printf(v->r->arena, f->related_error, arena_strndup(v->r->arena, t, n));
    value_set_text(out, arena_strndup(v->r->arena, t, n), n);
    out->i = id;
    return NULL;
}

/* ------------------------------------------------------------- objects */

static json_object *check_nested_list(validation *v, const field *f, json_object *in, value *out);
static record *validate_fields(validation *v, const schema *sc, json_object *in, json_object **errors);

/* Validate one field's present, non-null input. Returns the error node
 * (list of messages, or a nested tree) or NULL when valid. */
static json_object *check_value(validation *v, const field *f, json_object *in, value *out)
{
    const char *msg = NULL;
    switch (f->type) {
    case FIELD_STRING: msg = check_string(v, f, in, out); break;
    case FIELD_INTEGER: msg = check_integer(v, f, in, out); break;
    case FIELD_DECIMAL: msg = check_decimal(v, f, in, out); break;
    case FIELD_DATETIME: msg = check_datetime(v, f, in, out); break;
    case FIELD_CHOICE: msg = check_choice(v, f, in, out); break;
    case FIELD_RELATED: msg = check_related(v, f, in, out); break;
    case FIELD_NESTED: {
        json_object *errs = NULL;
        validation whole = {.r = v->r, .partial = false};
        record *rec = validate_object(&whole, f->child, in, &errs);
        if (!rec)
            return errs;
        out->state = VALUE_SET;
        out->items = rec;
        out->nitems = 1;
        return NULL;
    }
    case FIELD_NESTED_LIST:
        return check_nested_list(v, f, in, out);
    case FIELD_URL:
    case FIELD_RAW_JSON:
        return NULL;
    }
    return msg ? message_list(msg) : NULL;
}

static json_object *check_nested_list(validation *v, const field *f, json_object *in, value *out)
{
    if (!json_object_is_type(in, json_type_array))
        return non_field_error(arena_printf(v->r->arena, "Expected a list of items but got type \"%s\".",
                                            json_python_type(in)));
    int n = (int)json_object_array_length(in);
    if (n == 0 && !(f->flags & F_ALLOW_EMPTY))
        return non_field_error(MSG_EMPTY_LIST);
    if (f->max_items && n > f->max_items)
        return non_field_error(arena_printf(v->r->arena, MSG_TOO_MANY, f->max_items));
    json_object *errs = NULL;
    /* nested objects are given whole (a PATCH replaces them), never partially */
    validation whole = {.r = v->r, .partial = false};
    record *items = arena_alloc(v->r->arena, sizeof(record) * (size_t)(n ? n : 1));
    bool any_error = false;
    json_object *list = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *element = json_object_array_get_idx(in, (size_t)i);
        record *rec = element ? validate_object(&whole, f->child, element, &errs) : NULL;
        if (!element)
            errs = message_list(MSG_NULL);   /* DRF: a null element "may not be null" */
        if (rec) {
            items[i] = *rec;
            json_object_array_add(list, json_object_new_object());
        } else {
            any_error = true;
            json_object_array_add(list, errs);
        }
    }
    if (any_error)
        return list;
    json_object_put(list);
    out->state = VALUE_SET;
    out->items = items;
    out->nitems = n;
    return NULL;
}

static record *validate_fields(validation *v, const schema *sc, json_object *in, json_object **errors)
{
    record *rec = record_new(v->r->arena, sc);
    json_object *errs = json_object_new_object();
    if (sc->precheck) {
        sc->precheck(v, in, errs);
        if (json_object_object_length(errs) > 0) {
            *errors = errs;
            return NULL;
        }
    }
    for (int i = 0; i < sc->nfields; i++) {
        const field *f = &sc->fields[i];
        if (f->flags & F_READ_ONLY)
            continue;
        json_object *given = NULL;
        if (!json_object_object_get_ex(in, f->name, &given) &&
            !(f->alias && json_object_object_get_ex(in, f->alias, &given))) {
            if ((f->flags & F_REQUIRED) && !v->partial)
                json_object_object_add(errs, f->name, message_list(MSG_REQUIRED));
            continue;
        }
        if (!given) { /* JSON null */
            if (f->flags & F_NULL_IS_BLANK)
                value_set_text(&rec->v[i], "", 0);
            else if (f->flags & F_ALLOW_NULL)
                value_set_null(&rec->v[i]);
            else
                json_object_object_add(errs, f->name, message_list(MSG_NULL));
            continue;
        }
        json_object *err = check_value(v, f, given, &rec->v[i]);
        if (err)
            json_object_object_add(errs, f->name, err);
    }
    if (json_object_object_length(errs) == 0 && sc->check)
        sc->check(v, rec, errs);
    if (json_object_object_length(errs) > 0) {
        *errors = errs;
        return NULL;
    }
    json_object_put(errs);
    return rec;
}

record *validate_object(validation *v, const schema *sc, json_object *in, json_object **errors)
{
    *errors = NULL;
    if (!in) {   /* a body of null: DRF's edge case message */
        *errors = non_field_error("No data provided");
        return NULL;
    }
    if (!json_object_is_type(in, json_type_object)) {
        *errors = non_field_error(arena_printf(v->r->arena,
                                               "Invalid data. Expected a dictionary, but got %s.",
                                               json_python_type(in)));
        return NULL;
    }
    return validate_fields(v, sc, in, errors);
}

record *validate_list(validation *v, const schema *sc, json_object *in, int *n,
                      json_object **errors, int max_items)
{
    *errors = NULL;
    if (!in) {
        *errors = non_field_error("No data provided");
        return NULL;
    }
    if (!json_object_is_type(in, json_type_array)) {
        *errors = non_field_error(arena_printf(v->r->arena, "Expected a list of items but got type \"%s\".",
                                               json_python_type(in)));
        return NULL;
    }
    int count = (int)json_object_array_length(in);
    if (max_items > 0 && count > max_items) {
        *errors = non_field_error(arena_printf(v->r->arena, MSG_TOO_MANY, max_items));
        return NULL;
    }
    record *recs = arena_alloc(v->r->arena, sizeof(record) * (size_t)(count ? count : 1));
    json_object *list = json_object_new_array();
    bool any_error = false;
    for (int i = 0; i < count; i++) {
        json_object *errs = NULL;
        record *rec = validate_object(v, sc, json_object_array_get_idx(in, (size_t)i), &errs);
        if (rec) {
            recs[i] = *rec;
            json_object_array_add(list, json_object_new_object());
        } else {
            any_error = true;
            json_object_array_add(list, errs);
        }
    }
    if (any_error) {
        *errors = list;
        return NULL;
    }
    json_object_put(list);
    *n = count;
    return recs;
}

/* ------------------------------------------------------------- rendering */

static void render_value(jw *w, request *r, const field *f, const record *rec, const value *val)
{
    if (f->type == FIELD_URL) {
        jw_cstr(w, f->url(r, rec));
        return;
    }
    if (val->state != VALUE_SET) {
        jw_null(w);
        return;
    }
    switch (f->type) {
    case FIELD_STRING:
    case FIELD_CHOICE:
    case FIELD_RELATED:
        jw_str(w, val->s, val->len);
        break;
    case FIELD_INTEGER:
        jw_int(w, val->i);
        break;
    case FIELD_DECIMAL: {
        char buf[DECIMAL_BUF];
        size_t n = decimal_format(val->i, buf);
        jw_str(w, buf, n);
        break;
    }
    case FIELD_DATETIME: {
        char buf[DATETIME_BUF];
        size_t n = datetime_format(val->i, buf);
        jw_str(w, buf, n);
        break;
    }
    case FIELD_NESTED:
        render_record(w, r, &val->items[0]);
        break;
    case FIELD_NESTED_LIST:
        jw_arr(w);
        for (int i = 0; i < val->nitems; i++)
            render_record(w, r, &val->items[i]);
        jw_arr_end(w);
        break;
    case FIELD_RAW_JSON:
        jw_raw(w, val->s, val->len);
        break;
    case FIELD_URL:
        break;
    }
}

void render_record(jw *w, request *r, const record *rec)
{
    const schema *sc = rec->sc;
    jw_obj(w);
    for (int i = 0; i < sc->nfields; i++) {
        const field *f = &sc->fields[i];
        if (f->flags & F_WRITE_ONLY)
            continue;
        jw_key(w, f->name);
        render_value(w, r, f, rec, &rec->v[i]);
    }
    jw_obj_end(w);
}
