/* How long a recorded media file really plays: the span of its packets' timestamps, read by
 * demuxing the whole file (parsebin; nothing is decoded).
 *
 * For files a crash cut (kt-media-trim.h): their headers do not say. A fragmented MP4's moov
 * gives at most its first fragment's duration, and a WebM whose writer died has no Duration
 * element, so GstDiscoverer reported 1 s for the program of an 8 s lesson run.
 *
 * Threads: any; blocking (reads the whole file, about as fast as the disk: call it only
 * where that is acceptable, e.g. the start-up repair). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The span, in milliseconds, from the earliest packet's timestamp to the end of the latest
 * (its timestamp plus its duration when known), over all the file's streams. Returns -1
 * with @error (may be NULL) when the file does not demux, has no timestamped packet, or
 * takes longer than @timeout_s to read. */
gint64 kt_media_span_ms(const char *path, guint timeout_s, GError **error);

G_END_DECLS
