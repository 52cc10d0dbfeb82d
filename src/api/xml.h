/*
 * xml.h — XML bodies in and out, in the shapes of djangorestframework-xml
 * (contract §8, last bullet), for the routes flagged ROUTE_XML.
 *
 * Reading: libxml2's SAX parser turns a body into the same json-c tree the
 * JSON parser gives, so validation never knows which format came in:
 * <root>'s children become an object (tag → value), an element whose first
 * child is <list-item> becomes a list, an element without children its
 * text as a string, and an empty one null. Any DOCTYPE is refused (that
 * rules out entity expansion and external entities at once); the network
 * is never used; nesting is limited to XML_MAX_DEPTH.
 *
 * Writing: the JSON a handler answered (as jw wrote it) becomes
 * <?xml version="1.0" encoding="utf-8"?>\n<root>...</root>, always
 * well-formed.
 */
#ifndef STOCKROOM_XML_H
#define STOCKROOM_XML_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/json.h"
#include "core/arena.h"

#define XML_MAX_DEPTH JSON_MAX_DEPTH

/* Once, before any thread parses: libxml2's global set-up, and an entity
 * loader that loads nothing. */
void xml_init(void);

/*
 * Parse a body. `charset` is the Content-Type's charset parameter (NULL:
 * UTF-8, whatever the document declares). On failure returns NULL and sets
 * *error (arena string, the whole DRF detail, "XML parse error - ...");
 * otherwise *error is NULL and the result is the tree, or NULL when the
 * root element is empty (Python's None). The caller owns the tree.
 */
json_object *xml_parse_body(arena *a, const char *body, size_t len, const char *charset,
                            const char **error);

/* Append DRF's XMLRenderer rendering of `json` (one complete JSON value)
 * to out. False, with nothing appended, when `json` is not valid JSON. */
bool xml_render(jw *out, const char *json, size_t len);

#endif
