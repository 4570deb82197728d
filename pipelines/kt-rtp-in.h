/* The bridge into GStreamer, packet side: RTP that a room tap delivers (on the
 * media worker) becomes GstBuffers stamped with their arrival time on the
 * lesson clock and goes into the appsrc that heads a chain
 * (appsrc ! rtpjitterbuffer ! depayloader ! ...). While the owner's control
 * loop is still building that chain, packets wait in a bounded queue, and the
 * owner hears it must build one. Video is held back until its first keyframe,
 * so a decoder or muxer always starts on one.
 *
 * Threads: none of its own and no lock. The owner guards a KtRtpInlet with
 * the lock it already holds around its state: the worker pushes, the control
 * loop attaches and resets. Ownership: the inlet holds a reference to the
 * attached appsrc and to every queued buffer.
 */
#pragma once

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include "kt-media.h"
#include "kt-rtp.h"

G_BEGIN_DECLS

typedef struct {
	/* The owner may read these, and clear keyframe_seen to make the next
	 * video packet wait for a keyframe again (decoding restarts). */
	GstAppSrc *appsrc; /* NULL while there is no chain */
	GQueue pending;    /* GstBuffer *, waiting for the chain */
	gsize pending_bytes;
	gsize max_queued, max_pending;
	gboolean keyframe_seen;
} KtRtpInlet;

typedef enum {
	KT_RTP_INLET_PUSHED,         /* into the appsrc */
	KT_RTP_INLET_HELD,           /* queued until a chain is attached: build one */
	KT_RTP_INLET_DROPPED,        /* the appsrc or the queue was full */
	KT_RTP_INLET_AWAIT_KEYFRAME, /* video before its first keyframe: not kept */
} KtRtpInletResult;

/* @max_queued: bytes the attached appsrc may hold (seconds of media, so a
 * slow consumer stalls its chain, never the worker); @max_pending: bytes held
 * while there is no chain. */
void kt_rtp_inlet_init(KtRtpInlet *in, gsize max_queued, gsize max_pending);
/* Lets go of the appsrc and the queue; the next video packet must be a
 * keyframe again (a new codec, a new file, a stop). */
void kt_rtp_inlet_reset(KtRtpInlet *in);

/* Lets go of the appsrc and the queue; the keyframe state stays (a chain
 * failed or the owner stops feeding it). */
void kt_rtp_inlet_detach(KtRtpInlet *in);
/* The chain headed by @appsrc is going away: nothing more is pushed into it
 * (packets queue until the next attach). No-op if another one is attached. */
void kt_rtp_inlet_forget_src(KtRtpInlet *in, GstElement *appsrc);

/* One packet (@h parsed from @rtp) of @codec, arrived at @lesson_time. */
KtRtpInletResult kt_rtp_inlet_push(KtRtpInlet *in, const guint8 *rtp, gsize len,
                                   const KtRtpHeader *h, KtCodec codec, GstClockTime lesson_time);

/* Control loop: the chain is built; what waited goes into @appsrc first. */
void kt_rtp_inlet_attach(KtRtpInlet *in, GstAppSrc *appsrc);

/* Control loop: sets an appsrc up for RTP of @codec with payload type @pt:
 * caps, live, time format, never blocking the pusher, at most @max_bytes.
 * For video, @on_keyframe_request (may be NULL) runs on a streaming thread
 * whenever something downstream (a depayloader after loss, a decoder) asks
 * for a keyframe with an upstream GstForceKeyUnit event. */
void kt_rtp_inlet_configure_src(GstElement *appsrc, KtMediaKind kind, KtCodec codec, guint8 pt,
                                guint clock_rate, gsize max_bytes,
                                void (*on_keyframe_request)(gpointer data), gpointer data);

/* The RTP encoding-name of @codec ("VP8", "H264", "OPUS"), NULL if none. */
const char *kt_rtp_encoding_name(KtCodec codec);

G_END_DECLS
