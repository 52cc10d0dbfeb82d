/*
 * wall.h — the device wall (contract §8.2): GET /api/wall/ draws every
 * device of the caller's customer as a tile the way the device shows it
 * (its display's lines, the LED in the command's colour — blinking for a
 * flash —, the arrow and quantity, or its statics when idle), with its
 * three buttons, and keeps it live from the event stream GET /api/events/
 * (api/events.h) with no reload. GET /api/wall/{asset} serves the page's
 * script and style, files of their own (src/api/wall/) embedded by the
 * build: the Content-Security-Policy of HTML answers allows no inline
 * script. Both need credentials, like all of /api/.
 */
#ifndef STOCKROOM_WALL_H
#define STOCKROOM_WALL_H

#include "api/docs.h"
#include "http/request.h"

/* The page's files (the build's generated wall_assets.c). */
extern const docs_asset wall_assets[];
extern const int wall_nassets;

int wall_page(request *r);   /* GET /api/wall/ */
int wall_file(request *r);   /* GET /api/wall/{asset} */

#endif
