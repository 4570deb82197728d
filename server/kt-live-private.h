/* The HLS route's file-name check, exposed for its fuzz target (tests/fuzz/fuzz-http.c);
 * not for other modules.
 * Threads: any (pure). */
#pragma once

#include <glib.h>

/* What a file name in the live directory may be besides the playlist: "segment", 1 to 9
 * digits, ".ts". @name is the untrusted last path segment; anything else is 404, never a
 * path. */
gboolean kt_live_is_segment_name(const char *name);
