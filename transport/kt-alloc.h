/* Splitting one subscriber's bandwidth estimate between the streams it
 * receives, by priority (issue 5, "priorities when short").
 *
 * A classroom on a weak link cannot take everything: audio goes first and is
 * never cut here, then the video sources in the order the lesson configures
 * (courseware, teacher camera, classroom cameras by default). Every video
 * stream first gets its lowest layer, in priority order, while the estimate
 * lasts; what is left then raises streams to higher layers, again in priority
 * order. A stream whose lowest layer does not fit gets a budget of 0: the
 * caller pauses it (keeps audio and the streams before it) and resumes it when
 * a later split gives it a budget again. Hysteresis on layer changes is the
 * layer selector's (kt-layer-select.h); this split only says how much each
 * stream may use.
 *
 * Pure functions over caller-owned arrays: no allocation, no logging. Threads:
 * any (no state).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KT_ALLOC_MAX_LAYERS 4

typedef struct {
	/* In */
	gboolean audio;
	guint priority; /* lower goes first; audio ignores it */
	/* What each layer needs, lowest first, in bit/s; a stream without
	 * simulcast has one layer. A layer not measured yet (0) costs nothing
	 * here: give measured figures, or expect the top layer. */
	guint32 layer_bps[KT_ALLOC_MAX_LAYERS];
	guint n_layers;
	/* Out */
	gint layer;         /* the highest layer that fits; -1: pause the stream */
	guint32 budget_bps; /* what that layer needs (0 when paused) */
} KtAllocStream;

/* Splits @estimate_bps between @streams (n <= 64). Audio is always given
 * what its one layer needs, even beyond the estimate. Returns the bits per
 * second left over (0 when short). */
guint32 kt_alloc_split(guint32 estimate_bps, KtAllocStream *streams, guint n);

G_END_DECLS
