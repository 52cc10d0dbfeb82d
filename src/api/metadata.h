/*
 * metadata.h — OPTIONS metadata (DRF 3.14's SimpleMetadata), derived from
 * the route table (view name, which methods the path has) and the schema
 * declarations of fields.h (the same ones that drive validation).
 */
#ifndef STOCKROOM_METADATA_H
#define STOCKROOM_METADATA_H

#include "api/api.h"
#include "api/fields.h"
#include "api/json.h"
#include "http/request.h"

/*
 * Answer OPTIONS on `rt` (the request is authenticated): {"name",
 * "description", "renders", "parses", "actions"}. "actions" has "POST"
 * when the path takes POST and "PUT" when it takes PUT and, as DRF's
 * get_object() check, the object exists (the route's GET answers 200);
 * without either it is left out.
 */
void metadata_respond(request *r, const route *rt);

/* DRF's SimpleMetadata for a view: `name` ("Order List"), the schema of
 * what POST/PUT takes, and the actions to describe it under ("POST",
 * "PUT"; none when nactions is 0). `xml`: the view also renders and
 * parses application/xml (ROUTE_XML). */
void render_metadata(jw *w, const char *name, const schema *sc, const char *const *actions,
                     int nactions, bool xml);

/* DRF's label of a field: its declared label, else "ID" for "id" (as
 * Django names an automatic primary key), else the name with '_' as
 * space and the first letter capitalised ("Receive document id").
 * Written into buf (at least 128 bytes); returns buf. */
const char *metadata_label(const field *f, char *buf, size_t size);

#endif
