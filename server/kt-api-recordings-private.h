/* The archive API's path parser, exposed for its fuzz target (tests/fuzz/fuzz-http.c); not
 * for other modules.
 * Threads: any (pure). */
#pragma once

#include <glib.h>

/* Parses what follows "/api/recordings/" in a request path (untrusted): "{id}" or
 * "{id}/media", id 1..18 decimal digits and at most G_MAXINT64. Sets *id and *media, or
 * returns FALSE (*id untouched). */
gboolean kt_api_recordings_parse_item_path(const char *rest, gint64 *id, gboolean *media);
