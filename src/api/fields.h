/*
 * fields.h — resource declarations and the machinery that reads them.
 *
 * A resource's representation is a `schema`: an ordered array of `field`
 * declarations (name, type, flags, limits, nesting). From that one
 * declaration come
 *   - validation of input (DRF serializer semantics and messages, errors
 *     as DRF's nested shapes) into a `record` of typed values,
 *   - rendering of a record as JSON, in declaration order,
 *   - OPTIONS metadata (DRF's SimpleMetadata), in metadata.c.
 * Resource files declare schemas and do storage; they never check types
 * or write error messages for single fields themselves.
 */
#ifndef STOCKROOM_FIELDS_H
#define STOCKROOM_FIELDS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/json.h"
#include "http/request.h"

typedef enum {
    FIELD_STRING,       /* CharField: text, numbers taken as their text, trimmed */
    FIELD_INTEGER,      /* IntegerField with min/max */
    FIELD_DECIMAL,      /* DecimalField(max_digits=18, decimal_places=4), rendered as "x.xxxx" */
    FIELD_DATETIME,     /* DateTimeField, Django's parse_datetime */
    FIELD_CHOICE,       /* ChoiceField; `choose` normalises or refuses */
    FIELD_RELATED,      /* a reference by slug, resolved by `lookup` to a row id */
    FIELD_NESTED,       /* one nested object of `child` */
    FIELD_NESTED_LIST,  /* a list of nested objects of `child` */
    FIELD_URL,          /* read-only, computed by `url` */
    FIELD_RAW_JSON,     /* read-only, stored already encoded (value.s) */
} field_type;

enum {
    F_REQUIRED = 1 << 0,
    F_READ_ONLY = 1 << 1,
    F_WRITE_ONLY = 1 << 2,   /* accepted in input, never rendered */
    F_ALLOW_NULL = 1 << 3,   /* read-only fields: may be rendered as null */
    F_ALLOW_BLANK = 1 << 4,
    F_ALLOW_EMPTY = 1 << 5,  /* lists: [] is valid */
    F_NULL_IS_BLANK = 1 << 6,/* strings: null accepted and stored as "" */
};

typedef struct schema schema;
typedef struct record record;
typedef struct field field;

typedef enum { VALUE_ABSENT = 0, VALUE_NULL, VALUE_SET } value_state;

typedef struct value {
    value_state state;
    int64_t i;            /* integer, decimal (ten-thousandths), datetime (us), related row id */
    const char *s;        /* string, choice, related slug, raw JSON; NUL-terminated */
    size_t len;
    record *items;        /* nested: 1 item; nested list: nitems */
    int nitems;
} value;

struct record {
    const schema *sc;
    value *v;             /* one per field of sc, in declaration order */
};

/* Where validation runs: the request (arena, database, customer) and
 * whether absent required fields are fine (PATCH). */
typedef struct validation {
    request *r;
    bool partial;
} validation;

/* Normalise a choice (into the arena); false when it is not a valid choice. */
typedef bool (*choice_fn)(arena *a, const char *in, size_t n, const char **out);
/* Resolve a slug to a row id: 1 found, 0 not found, -1 database error. */
typedef int (*lookup_fn)(request *r, const char *slug, size_t n, int64_t *id);
/* Object-level validation, run when every field is valid: add errors with
 * errors_add(). */
typedef void (*check_fn)(validation *v, record *rec, json_object *errors);
typedef const char *(*url_fn)(request *r, const record *rec);
/* A look at the raw input before any field is validated, for limits that
 * are cheap to check and costly to find out late (the items of an order):
 * add errors to refuse it whole. */
typedef void (*precheck_fn)(validation *v, json_object *in, json_object *errors);

struct field {
    const char *name;
    field_type type;
    unsigned flags;
    int max_length;                /* strings: characters, 0 = no limit */
    int64_t min_value, max_value;  /* integers (min > max: no limits) */
    const schema *child;           /* nested; raw JSON: the shape of the stored value
                                      (for the OpenAPI document only) */
    choice_fn choose;              /* choices */
    const char *const *choices;    /* choices, for OPTIONS (NULL-terminated) */
    lookup_fn lookup;              /* related */
    const char *related_error;     /* related: printf format with %s for the value */
    url_fn url;                    /* urls */
    const char *label;             /* NULL: derived from name */
    const char *alias;             /* input: another name taken when `name` is absent
                                      (errors still go under `name`) */
    int max_items;                 /* nested lists: at most this many (0: no limit),
                                      checked before any of them is validated */
};

struct schema {
    const char *name;
    const field *fields;
    int nfields;
    check_fn check;
    precheck_fn precheck;
};

#define SCHEMA(sname, farray, checkfn) \
    { .name = (sname), .fields = (farray), .nfields = (int)(sizeof(farray) / sizeof((farray)[0])), .check = (checkfn) }

/* DRF's message for a list past its max_length. */
#define MSG_TOO_MANY "Ensure this field has no more than %d elements."

/* Validate one object. Returns the record (arena) or NULL with *errors the
 * DRF error tree (a json-c object the caller puts). `in` may be any JSON
 * value (non-objects give DRF's "Invalid data" error). */
record *validate_object(validation *v, const schema *sc, json_object *in, json_object **errors);

/* Validate a JSON list of objects (bulk endpoints). Returns n records, or
 * NULL with *errors: a list as long as the input with {} for valid items,
 * or {"non_field_errors": [...]} when `in` is not a list. When max_items > 0
 * and the list is longer, that is an error too. */
record *validate_list(validation *v, const schema *sc, json_object *in, int *n,
                      json_object **errors, int max_items);

/* Add a message to errors[key] (a list, created when missing). */
void errors_add(json_object *errors, const char *key, const char *message);

/* An empty record of sc (every value absent). */
record *record_new(arena *a, const schema *sc);
/* Field index by name, -1 when missing. */
int schema_field(const schema *sc, const char *name);

/* Set values (used by resources when filling records from rows). */
void value_set_int(value *v, int64_t i);
void value_set_text(value *v, const char *s, size_t len);
void value_set_null(value *v);

/* Write rec as a JSON object, fields in declaration order. */
void render_record(jw *w, request *r, const record *rec);

#endif
