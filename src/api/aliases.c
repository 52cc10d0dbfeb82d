/*
 * aliases.c — location aliases (contract §8): a name for a place next to
 * a device, e.g. a shelf without a display of its own, lit through the
 * device beside it with an arrow pointing at it. devices_at_location()
 * (devices.c) resolves alias names wherever a location is a target.
 *
 *   GET    /api/location-aliases/        a bare JSON list (not paginated),
 *                                        as Big Block answers it
 *   POST   /api/location-aliases/        {"name", "deviceid", "deviceIs"} → 201
 *   GET    /api/location-aliases/{id}/   one alias
 *   DELETE /api/location-aliases/{id}/   204
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/devices.h"
#include "api/json.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/rows.h"
#include "store/store.h"

enum { AL_ID, AL_NAME, AL_DEVICEID, AL_DEVICE_IS };

static const char *const device_is_choices[] = {"to the Left of", "to the Right of", NULL};

static bool choose_device_is(arena *a, const char *in, size_t n, const char **out)
{
    (void)a;
    for (const char *const *c = device_is_choices; *c; c++)
        if (strlen(*c) == n && memcmp(*c, in, n) == 0) {
            *out = *c;
            return true;
        }
    return false;
}

static const field alias_fields[] = {
    [AL_ID] = {"id", FIELD_INTEGER, F_READ_ONLY, .min_value = 1, .max_value = 0},
    [AL_NAME] = {"name", FIELD_STRING, F_REQUIRED, .max_length = 255},
    [AL_DEVICEID] = {"deviceid", FIELD_RELATED, F_REQUIRED, .lookup = device_lookup,
                     .related_error = "Object with deviceid=%s does not exist."},
    [AL_DEVICE_IS] = {"deviceIs", FIELD_CHOICE, F_REQUIRED, .choose = choose_device_is,
                      .choices = device_is_choices},
};
const schema alias_schema = SCHEMA("Location Alias", alias_fields, NULL);

#define ALIAS_COLUMNS                                                                 \
    "SELECT a.id, a.name, d.device_id, a.device_is FROM location_aliases a "          \
    "JOIN devices d ON d.id = a.device_ref "

static record *alias_from_row(request *r, store_stmt *st)
{
    record *al = record_new(r->arena, &alias_schema);
    value_set_int(&al->v[AL_ID], store_col_int(st, 0));
    value_from_text(r->arena, st, 1, &al->v[AL_NAME]);
    value_from_text(r->arena, st, 2, &al->v[AL_DEVICEID]);
    value_from_text(r->arena, st, 3, &al->v[AL_DEVICE_IS]);
    return al;
}

/* The alias of the path, by id, in r's customer (NULL: none or error, *failed). */
static record *load_alias(request *r, int64_t id, bool *failed)
{
    *failed = false;
    store_stmt *st = store_prepare(r->db, ALIAS_COLUMNS "WHERE a.id = $1 AND a.customer_id = $2");
    if (!st) {
        *failed = true;
        return NULL;
    }
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, r->customer_id);
    int rc = store_step(st);
    record *al = rc == STORE_ROW ? alias_from_row(r, st) : NULL;
    store_reset(st);
    *failed = rc < 0;
    return al;
}

/* The {id} of the path: a positive integer, else no alias has it. */
static bool path_id(request *r, int64_t *id)
{
    char *end;
    long long v = strtoll(r->captures[0], &end, 10);
    *id = v;
    return *r->captures[0] && !*end && v > 0;
}

void aliases_list(request *r)
{
    store_stmt *st = store_prepare(r->db, ALIAS_COLUMNS "WHERE a.customer_id = $1 ORDER BY a.id");
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, r->customer_id);
    jw w;
    jw_init(&w, 1024);
    jw_arr(&w);
    int rc;
    while ((rc = store_step(st)) == STORE_ROW)
        render_record(&w, r, alias_from_row(r, st));
    store_reset(st);
    jw_arr_end(&w);
    if (rc < 0) {
        jw_free(&w);
        respond_store_error(r);
        return;
    }
    respond_json(r, 200, &w);
}

void alias_create(request *r)
{
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    validation v = {.r = r};
    json_object *errors = NULL;
    record *al = validate_object(&v, &alias_schema, api_input(r), &errors);
    if (!al) {
        store_rollback(r->db);
        respond_validation(r, errors);
        return;
    }
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO location_aliases (customer_id, name, device_ref, device_is) VALUES ($1, $2, $3, $4) "
        "RETURNING id");
    int64_t id = 0;
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, al->v[AL_NAME].s);
    store_bind_int(st, 3, al->v[AL_DEVICEID].i);
    store_bind_str(st, 4, al->v[AL_DEVICE_IS].s);
    if (store_exec_int(st, &id) != STORE_ROW || store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    value_set_int(&al->v[AL_ID], id);
    request_add_header(r, "Location",
                       arena_printf(r->arena, "%s/api/location-aliases/%lld/", r->base_url, (long long)id));
    respond_record(r, 201, al);
}

void alias_retrieve(request *r)
{
    int64_t id;
    bool failed = false;
    record *al = path_id(r, &id) ? load_alias(r, id, &failed) : NULL;
    if (failed)
        respond_store_error(r);
    else if (!al)
        respond_error(r, 404, "Not found.");
    else
        respond_record(r, 200, al);
}

void alias_delete(request *r)
{
    int64_t id;
    if (!path_id(r, &id)) {
        respond_error(r, 404, "Not found.");
        return;
    }
    if (store_begin_write(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    store_stmt *st = store_prepare(r->db,
        "DELETE FROM location_aliases WHERE id = $1 AND customer_id = $2 RETURNING id");
    if (!st) {
        respond_store_error(r);
        return;
    }
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, r->customer_id);
    int rc = store_exec_int(st, NULL);
    if (rc != STORE_ROW) {
        respond_missing(r, rc == STORE_DONE ? 0 : -1);
        return;
    }
    if (store_commit(r->db) < 0) {
        respond_store_error(r);
        return;
    }
    respond_no_content(r);
}
