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
 *
 * A resource of the generic views, but for its list.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/devices.h"
#include "api/resources.h"
#include "api/respond.h"
#include "api/views.h"
#include "store/store.h"

enum { AL_ID, AL_NAME, AL_DEVICEID, AL_DEVICE_IS };

static const char *const device_is_choices[] = {"to the Left of", "to the Right of", NULL};

static bool choose_device_is(arena *a, const char *in, size_t n, const char **out)
{
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

static int load_aliases(request *r, const selection *sel, record_vec *out)
{
    store_stmt *st = store_prepare(r->db, arena_printf(r->arena,
        "SELECT a.id, a.name, d.device_id, a.device_is FROM location_aliases a "
        "JOIN devices d ON d.id = a.device_ref WHERE %s ORDER BY %s", sel->where,
        sel->order_by ? sel->order_by : "a.id"));
    if (!st)
        return STORE_ERROR;
    sql_bind(st, &sel->params);
    int rc;
    while ((rc = store_step(st)) == STORE_ROW) {
        value *v = record_vec_push(r->arena, out, &alias_schema);
        value_set_int(&v[AL_ID], store_col_int(st, 0));
        value_from_text(r->arena, st, 1, &v[AL_NAME]);
        value_from_text(r->arena, st, 2, &v[AL_DEVICEID]);
        value_from_text(r->arena, st, 3, &v[AL_DEVICE_IS]);
    }
    store_reset(st);
    return rc < 0 ? rc : out->n;
}

static int create_alias(request *r, record **rec, int64_t *id)
{
    record *al = *rec;
    store_stmt *st = store_prepare(r->db,
        "INSERT INTO location_aliases (customer_id, name, device_ref, device_is) VALUES ($1, $2, $3, $4) "
        "RETURNING id");
    if (!st)
        return STORE_ERROR;
    store_bind_int(st, 1, r->customer_id);
    store_bind_str(st, 2, al->v[AL_NAME].s);
    store_bind_int(st, 3, al->v[AL_DEVICEID].i);
    store_bind_str(st, 4, al->v[AL_DEVICE_IS].s);
    int rc = store_exec_int(st, id);
    if (rc == STORE_FOREIGN_KEY)
        return VIEW_RETRY;   /* the device went away since validation */
    if (rc != STORE_ROW)
        return rc < 0 ? rc : STORE_ERROR;
    value_set_int(&al->v[AL_ID], *id);
    return VIEW_DONE;
}

static const char *alias_location(request *r, int64_t id, const record *rec)
{
    return arena_printf(r->arena, "%s/api/location-aliases/%lld/", r->base_url, (long long)id);
}

const resource aliases_resource = {
    .sc = &alias_schema,
    .table = "location_aliases",
    .alias = "a",
    .key_sql = "(SELECT id FROM location_aliases WHERE customer_id = $1 AND id = $2)",
    .key_kind = KEY_INT,
    .load = load_aliases,
    .loads_in_one_query = true,
    .create = create_alias,
    .location = alias_location,
};

/* Every alias, a bare list. */
int aliases_list(request *r)
{
    selection sel = {.where = "a.customer_id = $1"};
    sql_int(&sel.params, r->customer_id);
    record_vec out = {0};
    int rc = load_aliases(r, &sel, &out);
    if (rc < 0)
        return rc;
    jw w;
    jw_init(&w, 1024);
    jw_arr(&w);
    for (int i = 0; i < out.n; i++)
        render_record(&w, r, &out.items[i]);
    jw_arr_end(&w);
    respond_json(r, 200, &w);
    return VIEW_DONE;
}
