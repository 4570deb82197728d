/* The bridge back out of GStreamer: RTP that a pipeline makes (encoder !
 * payloader) is published into a room source as a feed (kt_room_add_feed),
 * so subscribers receive a server-made stream (a composite, a mix, a
 * transcoded layer) exactly like a browser's track: Ketang's SSRC and
 * timeline, NACK answers, sender reports for lip sync, taps for recorders.
 * Keyframe requests for the source (a subscriber's PLI/FIR, a new subscriber
 * or tap) come back up the pipeline as a GstForceKeyUnit event, which
 * GStreamer's video encoders answer with a keyframe.
 *
 * Put the element from kt_rtp_out_get_sink() after the payloader. Its
 * streaming thread hands each buffer to the room's worker through a
 * fixed-size lock-free queue (nothing allocated per packet; when the worker
 * falls behind by more than the queue, packets are dropped and counted).
 *
 * Threads: new/free/get_stats from the control loop. Ownership: the caller
 * owns the KtRtpOut; the sink element belongs to the pipeline it is added to
 * (KtRtpOut keeps its own reference). Free after that pipeline reached
 * GST_STATE_NULL, so no buffer arrives any more.
 */
#pragma once

#include <gst/gst.h>

#include "kt-room.h"

G_BEGIN_DECLS

typedef struct _KtRtpOut KtRtpOut;

typedef struct {
	guint source; /* the room source to publish into; 0 = the default one of @kind */
	KtMediaKind kind;
	KtCodec codec;
	guint clock_rate;
	/* Video: publish layer @layer of @n_layers of a simulcast source (the
	 * transcoding ladder's rungs, kt-room.h "Layered feeds"); 0/0 = a plain
	 * stream. Keyframe requests for the layer come back to this sink. */
	guint layer, n_layers;
} KtRtpOutConfig;

typedef struct {
	guint64 packets;           /* handed to the room */
	guint64 bytes;             /* of those packets */
	guint64 dropped;           /* the worker queue was full */
	guint64 keyframe_requests; /* forwarded up the pipeline */
} KtRtpOutStats;

KtRtpOut *kt_rtp_out_new(KtRoom *room, const KtRtpOutConfig *config);
/* The sink element (a fakesink whose pad probe takes the packets) to link the
 * payloader to (borrowed). */
GstElement *kt_rtp_out_get_sink(KtRtpOut *out);
/* Any thread: a snapshot. */
void kt_rtp_out_get_stats(KtRtpOut *out, KtRtpOutStats *stats);
/* Removes the feed from the room (the source keeps its SSRC; a publisher or
 * another feed may take it over) and frees everything. */
void kt_rtp_out_free(KtRtpOut *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtRtpOut, kt_rtp_out_free)

G_END_DECLS
