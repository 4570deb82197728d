/* The bridge into GStreamer, packet side: see kt-rtp-in.h. */
#include "kt-rtp-in.h"

static const char *const kt_rtp_encoding_names[KT_CODEC_N] = {
    [KT_CODEC_OPUS] = "OPUS",
    [KT_CODEC_VP8] = "VP8",
    [KT_CODEC_H264] = "H264",
};

const char *kt_rtp_encoding_name(KtCodec codec)
{
	return codec > KT_CODEC_NONE && codec < KT_CODEC_N ? kt_rtp_encoding_names[codec] : NULL;
}

void kt_rtp_inlet_init(KtRtpInlet *in, gsize max_queued, gsize max_pending)
{
	*in = (KtRtpInlet){.max_queued = max_queued, .max_pending = max_pending};
	g_queue_init(&in->pending);
}

static void clear_pending(KtRtpInlet *in)
{
	GstBuffer *b;

	while ((b = g_queue_pop_head(&in->pending)))
		gst_buffer_unref(b);
	in->pending_bytes = 0;
}

void kt_rtp_inlet_detach(KtRtpInlet *in)
{
	g_clear_object(&in->appsrc);
	clear_pending(in);
}

void kt_rtp_inlet_reset(KtRtpInlet *in)
{
	kt_rtp_inlet_detach(in);
	in->keyframe_seen = FALSE;
}

void kt_rtp_inlet_forget_src(KtRtpInlet *in, GstElement *appsrc)
{
	if (in->appsrc && GST_ELEMENT(in->appsrc) == appsrc)
		g_clear_object(&in->appsrc);
}

KtRtpInletResult kt_rtp_inlet_push(KtRtpInlet *in, const guint8 *rtp, gsize len,
                                   const KtRtpHeader *h, KtCodec codec, GstClockTime lesson_time)
{
	gsize limit = in->appsrc ? in->max_queued : in->max_pending;
	gsize queued =
	    in->appsrc ? gst_app_src_get_current_level_bytes(in->appsrc) : in->pending_bytes;
	GstBuffer *buf;

	/* A decoder (and so a file) can only start at a keyframe. */
	if (kt_media_codec_kind(codec) == KT_MEDIA_VIDEO && !in->keyframe_seen) {
		if (!kt_media_is_keyframe(codec, rtp + h->payload_offset, h->payload_len))
			return KT_RTP_INLET_AWAIT_KEYFRAME;
		in->keyframe_seen = TRUE;
	}
	if (queued + len > limit)
		return KT_RTP_INLET_DROPPED;
	/* Arrival time on the lesson clock, as DTS for the jitter buffer (which
	 * derives PTS from it and the RTP timestamps). */
	buf = gst_buffer_new_memdup(rtp, len);
	GST_BUFFER_DTS(buf) = lesson_time;
	GST_BUFFER_PTS(buf) = lesson_time;
	if (in->appsrc) {
		gst_app_src_push_buffer(in->appsrc, buf);
		return KT_RTP_INLET_PUSHED;
	}
	g_queue_push_tail(&in->pending, buf);
	in->pending_bytes += len;
	return KT_RTP_INLET_HELD;
}

void kt_rtp_inlet_attach(KtRtpInlet *in, GstAppSrc *appsrc)
{
	GstBuffer *b;

	g_clear_object(&in->appsrc);
	in->appsrc = GST_APP_SRC(gst_object_ref(appsrc));
	while ((b = g_queue_pop_head(&in->pending)))
		gst_app_src_push_buffer(in->appsrc, b);
	in->pending_bytes = 0;
}

typedef struct {
	void (*func)(gpointer data);
	gpointer data;
} KeyframeProbe;

/* Streaming thread: a depayloader lost data, or a decoder wants a sync point,
 * and asks upstream for a keyframe; only the stream's publisher can make one. */
static GstPadProbeReturn on_upstream_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KeyframeProbe *p = data;

	(void)pad;
	if (gst_event_has_name(GST_PAD_PROBE_INFO_EVENT(info), "GstForceKeyUnit"))
		p->func(p->data);
	return GST_PAD_PROBE_OK;
}

void kt_rtp_inlet_configure_src(GstElement *appsrc, KtMediaKind kind, KtCodec codec, guint8 pt,
                                guint clock_rate, gsize max_bytes,
                                void (*on_keyframe_request)(gpointer data), gpointer data)
{
	g_autoptr(GstCaps) caps = gst_caps_new_simple(
	    "application/x-rtp", "media", G_TYPE_STRING, kt_media_kind_name(kind), "clock-rate",
	    G_TYPE_INT, (gint)clock_rate, "encoding-name", G_TYPE_STRING,
	    kt_rtp_encoding_name(codec), "payload", G_TYPE_INT, (gint)pt, NULL);

	/* Live, never blocking the pusher; timestamps are the arrival times the
	 * packet path stamped. */
	g_object_set(appsrc, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE, "block",
	             FALSE, "max-bytes", (guint64)max_bytes, NULL);
	if (kind == KT_MEDIA_VIDEO && on_keyframe_request) {
		g_autoptr(GstPad) pad = gst_element_get_static_pad(appsrc, "src");
		KeyframeProbe *p = g_new(KeyframeProbe, 1);

		p->func = on_keyframe_request;
		p->data = data;
		gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, p,
		                  g_free);
	}
}
