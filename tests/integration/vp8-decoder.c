/* The test subscriber's VP8 decoder and receiver (vp8-decoder.h). */
#include "vp8-decoder.h"

#include "kt-media.h"
#include "kt-rtcp.h"
#include "kt-rtp.h"

void vp8_decoder_start(Vp8Decoder *d, const char *format, Vp8DecoderFrameFunc on_frame,
                       gpointer data)
{
	g_autofree char *convert =
	    format ? g_strdup_printf(" ! videoconvert ! video/x-raw,format=%s", format) : NULL;
	g_autofree char *desc = g_strdup_printf(
	    "appsrc name=src is-live=true format=time do-timestamp=true"
	    " caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96"
	    " ! rtpjitterbuffer latency=100 ! rtpvp8depay ! vp8dec%s"
	    " ! appsink name=frames sync=false",
	    convert ? convert : "");
	GstAppSinkCallbacks cbs = {.new_sample = on_frame};
	g_autoptr(GstElement) sink = NULL;
	GError *error = NULL;

	d->pipeline = gst_parse_launch(desc, &error);
	g_assert_no_error(error);
	d->src = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(d->pipeline), "src"));
	sink = gst_bin_get_by_name(GST_BIN(d->pipeline), "frames");
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, data, NULL);
	gst_element_set_state(d->pipeline, GST_STATE_PLAYING);
}

void vp8_decoder_push(Vp8Decoder *d, const guint8 *rtp, gsize len)
{
	gst_app_src_push_buffer(d->src, gst_buffer_new_memdup(rtp, len));
}

void vp8_decoder_stop(Vp8Decoder *d)
{
	gst_element_set_state(d->pipeline, GST_STATE_NULL);
	gst_clear_object(&d->src);
	gst_clear_object(&d->pipeline);
}

/* ---- Vp8Receiver ---- */

static void on_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Vp8Receiver *r = data;
	KtRtpHeader h;

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) < 0)
		return;
	if (g_atomic_int_get(&r->packets) > 0) {
		r->max_seq_gap = MAX(r->max_seq_gap, (gint)(guint16)(h.seq - r->last_seq));
		r->ssrc_changes += h.ssrc != r->ssrc;
	}
	r->ssrc = h.ssrc;
	r->last_seq = h.seq;
	r->last_ts = h.timestamp;
	if (kt_media_is_keyframe(KT_CODEC_VP8, buf + h.payload_offset, h.payload_len))
		g_atomic_int_inc(&r->keyframes);
	vp8_decoder_push(&r->decoder, buf, len);
	g_atomic_int_inc(&r->packets);
}

static void on_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Vp8Receiver *r = data;
	KtRtcpIter it;
	KtRtcpChunk c;
	KtRtcpSenderInfo si;

	(void)peer;
	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0)
		if (c.type == KT_RTCP_SR && kt_rtcp_parse_sr(&c, &si) == 0 && si.ssrc == r->ssrc) {
			r->sr_minus_last = (gint32)(si.rtp_ts - r->last_ts);
			g_atomic_int_inc(&r->srs);
		}
}

static GstFlowReturn on_frame(GstAppSink *sink, gpointer data)
{
	Vp8Receiver *r = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstStructure *st = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
	gint w = 0, h = 0;

	gst_structure_get_int(st, "width", &w);
	gst_structure_get_int(st, "height", &h);
	g_atomic_int_set(&r->height, h);
	g_atomic_int_set(&r->width, w);
	g_atomic_int_inc(&r->frames);
	return GST_FLOW_OK;
}

static gboolean install_receiver(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_rtp, .rtcp = on_rtcp};
	Vp8Receiver *r = data;

	kt_peer_set_media_funcs(r->peer, &funcs, r);
	return G_SOURCE_REMOVE;
}

void vp8_receiver_start(Vp8Receiver *r, KtPeer *peer)
{
	r->peer = peer;
	vp8_decoder_start(&r->decoder, NULL, on_frame, r);
	kt_worker_invoke_sync(kt_peer_get_worker(peer), install_receiver, r);
}

void vp8_receiver_stop(Vp8Receiver *r)
{
	vp8_decoder_stop(&r->decoder);
}
