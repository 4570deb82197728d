/* The transcoding ladder between two room sources (issue 6 item 3): what a
 * publisher that cannot send simulcast (OBS over WHIP, an RTSP camera or an
 * RTMP encoder through kt-ingest) publishes into an input source is decoded
 * and encoded again as the rungs of [ingest] ladder, published as the layers
 * of the output source, so each subscriber of the output gets the rung its
 * link carries, as from a browser's simulcast.
 *
 *   input source --tap (kt-tap-link.h)--> KtLadder --layers--> output source
 *   or decoded pictures (kt_source_ladder_push_frame) --^
 *
 * Keyframe requests of the ladder go to the input's publisher. A ladder that
 * fails is logged and rebuilt a second later into the same output (again
 * every 5 s while it cannot start), so subscribers keep their m-line.
 *
 * Threads: control loop only (the thread-default main context at creation).
 * Ownership: the caller owns it; it neither owns the room (which must
 * outlive it) nor the sources.
 */
#pragma once

#include "kt-config.h"
#include "kt-ladder.h"
#include "kt-room.h"

G_BEGIN_DECLS

typedef struct _KtSourceLadder KtSourceLadder;

/* Control loop. Starts the ladder from @input into @output (0 = the room's
 * default video source). @input 0: the pictures come decoded through
 * kt_source_ladder_push_frame (from an ingest) instead of from a source. @label names it in logs
 * (copied). NULL with @error (KT_LADDER_ERROR) when GStreamer cannot build it. */
KtSourceLadder *kt_source_ladder_new(KtRoom *room, guint input, guint output,
                                     const KtSettings *settings, const char *label, GError **error);
/* Any thread (the producer's streaming thread), for @input 0: one decoded
 * picture (kt_ladder_push_frame); dropped while the ladder is rebuilt. */
void kt_source_ladder_push_frame(KtSourceLadder *sl, GstSample *picture);
/* Control loop. The input source. */
guint kt_source_ladder_get_input(KtSourceLadder *sl);
/* Control loop. The running ladder's counters; FALSE while it is rebuilt. */
gboolean kt_source_ladder_get_stats(KtSourceLadder *sl, KtLadderStats *out);
/* Control loop. The running ladder's pipeline (borrowed; NULL while it is
 * rebuilt), for diagnostics and tests. Do not change its state. */
GstElement *kt_source_ladder_get_pipeline(KtSourceLadder *sl);
/* Control loop. Unhooks and frees the ladder. NULL is fine. */
void kt_source_ladder_free(KtSourceLadder *sl);

/* The rungs of [ingest] ladder into @rungs (KT_LADDER_MAX_RUNGS); how many. */
guint kt_source_ladder_rungs(const KtSettings *settings, KtLadderRung *rungs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtSourceLadder, kt_source_ladder_free)

G_END_DECLS
