/* Private to the kt-ladder*.c files: the ladder's body.
 *
 *   kt-ladder.c           lifecycle, the packet path, control-loop wake-ups,
 *                         keyframe requests of the input, bus
 *   kt-ladder-pipeline.c  configuration, the fixed pipeline (funnel, tee, a
 *                         branch per rung), the rungs' feeds and counters
 *
 * Lock order: l->lock, then GStreamer's own. l->lock is never held across a
 * call that waits for a streaming thread (state changes, releasing a pad)
 * nor across the owner's callbacks.
 */
#pragma once

#include "kt-decode-chain.h"
#include "kt-ladder.h"
#include "kt-rtp-out.h"

/* Jitter buffer of the input: absorbs reordering, leaves time for the
 * retransmissions the room asks for. */
#define KT_LADDER_JITTER_MS 200
/* The input's appsrc may hold this much before its packets are dropped. */
#define KT_LADDER_MAX_QUEUED_BYTES (2 * 1024 * 1024)
/* Packets held while the control loop builds the input's chain. */
#define KT_LADDER_MAX_PENDING_BYTES (1024 * 1024)

typedef struct {
	KtLadder *ladder;
	guint index; /* its layer */
	KtLadderRung rung;
	gint running;          /* atomic: not larger than the input */
	guint64 frames;        /* atomic */
	GstClockTime last_pts; /* its queue's thread: the latest picture let through */
	/* Set and cleared on the control loop; read under l->lock for stats. */
	KtRtpOut *out;
	KtRtpOutStats last; /* the feed's counters once it is gone */
} KtLadderRungState;

struct _KtLadder {
	KtRoom *room;
	guint source;
	KtLadderConfig config;
	GMainContext *control;
	KtDecodeChainSpec chain_spec;
	KtLadderRungState rungs[KT_LADDER_MAX_RUNGS];
	guint n_rungs;

	GMutex lock;
	KtDecodeChain dec; /* its fields marked so guarded by lock */
	/* Guarded by lock. */
	gboolean failed, closing;
	GSource *wake; /* control-loop work is scheduled */
	guint64 packets, dropped, rejected;
	guint chains;

	/* Atomics, streaming threads. */
	guint64 decoded;
	gint input_width, input_height;

	/* Control loop only. */
	GstElement *pipeline;
	GstElement *funnel;
	GstElement *raw; /* raw_input: the appsrc of the pictures (ref); set before any push */
	GSource *bus_watch;
	GSource *keyframe_timer; /* a rate-limited keyframe request is due */
};

/* kt-ladder-pipeline.c. Fills in the defaults of @c and checks it. */
gboolean kt_ladder_config_apply(KtLadderConfig *c, GError **error);
/* Control loop. Builds and starts the fixed pipeline and the rungs' feeds,
 * its bus watched on the control loop by @on_message. */
gboolean kt_ladder_pipeline_start(KtLadder *l, GstBusFunc on_message, GError **error);
/* Control loop. Stops and drops the pipeline with the input's chain, and the
 * feeds (their counters stay in the stats). */
void kt_ladder_pipeline_remove(KtLadder *l);
/* l->lock held: the rungs' counters into @out. */
void kt_ladder_read_rungs(KtLadder *l, KtLadderStats *out);
