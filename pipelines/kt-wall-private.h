/* Private to the kt-wall*.c files: the wall's body and its inputs'.
 *
 *   kt-wall.c           lifecycle, the packet path, control-loop wake-ups,
 *                       keyframe requests, bus
 *   kt-wall-pipeline.c  the fixed pipeline: background, compositor, VP8
 *                       encoder, payloader, room feed
 *   kt-wall-layout.c    the grid table -> tiles, labels, markers
 *
 * Lock order: w->lock, then GStreamer's own. w->lock is never held across a
 * call that waits for a streaming thread (state changes, releasing a pad)
 * nor across the owner's callbacks.
 */
#pragma once

#include "kt-decode-chain.h"
#include "kt-rtp-out.h"
#include "kt-wall.h"

/* Jitter buffer of each input: absorbs reordering, leaves time for the
 * retransmissions the room asks for. */
#define KT_WALL_JITTER_MS 200
/* An input's appsrc may hold this much before its packets are dropped. */
#define KT_WALL_MAX_QUEUED_BYTES (2 * 1024 * 1024)
/* Packets held per input while the control loop builds its chain. */
#define KT_WALL_MAX_PENDING_BYTES (1024 * 1024)

typedef struct {
	KtWall *wall;
	guint id;
	char *label; /* escaped for Pango markup (textoverlay reads markup) */
	/* Its packets, held or in its chain: fields marked so guarded by
	 * wall->lock. */
	KtDecodeChain dec;

	/* Guarded by wall->lock. */
	gboolean shown; /* has a tile (inputs without one are not fed) */

	/* Control loop only. */
	KtWallMark mark;
	gint tile; /* -1: none */
} KtWallInput;

struct _KtWall {
	KtRoom *room;
	KtWallConfig config;
	GMainContext *control;
	KtDecodeChainSpec chain_spec;

	GMutex lock;
	/* Guarded by lock; they change only on the control loop, which may read
	 * them without it. */
	GHashTable *inputs; /* guint id -> KtWallInput * (owned) */
	GPtrArray *order;   /* KtWallInput *, in the order they were added: tiles */
	gboolean failed, closing;
	GSource *wake; /* control-loop work is scheduled */
	KtWallStats stats;
	KtRtpOut *out; /* the room feed; set and cleared on the control loop */

	/* Control loop only. */
	guint last_id;
	GstElement *pipeline;
	GstElement *compositor;
	GSource *bus_watch;
	GSource *keyframe_timer; /* a rate-limited keyframe request is due */
};

/* kt-wall.c. w->lock held. */
void kt_wall_schedule_wake(KtWall *w);
/* w->lock held: the feed's counters into @stats. */
void kt_wall_read_feed_stats(KtRtpOut *out, KtWallStats *stats);

/* kt-wall-pipeline.c. Fills in the defaults of @c and checks its ranges. */
gboolean kt_wall_config_apply(KtWallConfig *c, GError **error);
/* Control loop. Builds and starts the fixed pipeline feeding the room, its
 * bus watched on the control loop by @on_message. */
gboolean kt_wall_pipeline_start(KtWall *w, GstBusFunc on_message, GError **error);
/* Control loop. Stops and drops the pipeline with every input's chain, and
 * the feed. */
void kt_wall_pipeline_remove(KtWall *w);

/* kt-wall-layout.c. The decoding chain's tail for a tile. */
extern const char kt_wall_chain_tail[];
/* Control loop: places every input by the grid table (compositor pad, scaled
 * size, label, marker, shown or not). */
void kt_wall_layout_apply(KtWall *w);
/* Control loop: redraws @in's marker. */
void kt_wall_layout_mark(KtWall *w, KtWallInput *in);
/* Control loop: the tiles in use (KtWallTile). */
GArray *kt_wall_layout_get(KtWall *w);
