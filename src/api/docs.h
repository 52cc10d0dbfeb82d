/*
 * docs.h — the API docs page: GET /api/docs/ is Swagger UI reading the
 * OpenAPI document at /api/schema/ with the browser's credentials, and
 * GET /api/docs/{asset} serves Swagger UI's files from the binary itself.
 *
 * The build embeds those files when scripts/npm-install.sh web has installed them
 * (CMakeLists.txt generates the table below, docs_assets.c in the build
 * directory); without them the table is empty and the page says the
 * assets were not built. Both paths need credentials, like all of /api/.
 */
#ifndef STOCKROOM_DOCS_H
#define STOCKROOM_DOCS_H

#include <stddef.h>

#include "http/request.h"

typedef struct docs_asset {
    const char *name;                  /* "swagger-ui-bundle.js", its name under /api/docs/ */
    const unsigned char *start, *end;  /* its bytes */
} docs_asset;

/* What the build embedded (docs_nassets 0: nothing). */
extern const docs_asset docs_assets[];
extern const int docs_nassets;

/* The Content-Type of an asset, from its name's extension. */
const char *docs_content_type(const char *name);

int docs_page(request *r);   /* GET /api/docs/ */
int docs_file(request *r);   /* GET /api/docs/{asset} */

#endif
