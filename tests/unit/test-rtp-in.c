/* The bridge into GStreamer, packet side (pipelines/kt-rtp-in.h): the
 * keyframe gate, the bounded queue while there is no chain, the hand-over to
 * a real appsrc, lesson-time stamps, resets, and the keyframe-request probe. */
#include <gst/app/gstappsrc.h>

#include "kt-gst.h"
#include "kt-rtp-in.h"

#define PKT 100

/* A VP8 packet: payload descriptor S=1 PID=0, then the frame tag whose bit 0
 * is P (0 = keyframe). */
static gsize vp8_packet(guint8 *buf, guint16 seq, gboolean key, KtRtpHeader *h)
{
	g_assert_cmpint(kt_rtp_write_header(buf, PKT, 96, FALSE, seq, seq * 3000u, 0x1234), ==, 12);
	memset(buf + 12, 0xab, PKT - 12);
	buf[12] = 0x10;
	buf[13] = key ? 0x00 : 0x01;
	g_assert_cmpint(kt_rtp_parse(buf, PKT, h), ==, 0);
	return PKT;
}

static void test_keyframe_gate_and_queue(void)
{
	KtRtpInlet in;
	guint8 buf[PKT];
	KtRtpHeader h;
	gsize len;

	kt_rtp_inlet_init(&in, 10 * PKT, 3 * PKT);
	/* Video before its first keyframe is not kept. */
	len = vp8_packet(buf, 1, FALSE, &h);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 10), ==,
	                KT_RTP_INLET_AWAIT_KEYFRAME);
	g_assert_cmpuint(g_queue_get_length(&in.pending), ==, 0);
	/* From the keyframe on, packets wait for a chain, up to max_pending. */
	len = vp8_packet(buf, 2, TRUE, &h);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 20), ==,
	                KT_RTP_INLET_HELD);
	g_assert_true(in.keyframe_seen);
	for (guint16 seq = 3; seq < 5; seq++) {
		len = vp8_packet(buf, seq, FALSE, &h);
		g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, seq * 10), ==,
		                KT_RTP_INLET_HELD);
	}
	len = vp8_packet(buf, 5, FALSE, &h);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 50), ==,
	                KT_RTP_INLET_DROPPED);
	g_assert_cmpuint(in.pending_bytes, ==, 3 * PKT);
	/* Stamped with the arrival time given, as DTS and PTS. */
	g_assert_cmpuint(GST_BUFFER_DTS((GstBuffer *)g_queue_peek_head(&in.pending)), ==, 20);
	g_assert_cmpuint(GST_BUFFER_PTS((GstBuffer *)g_queue_peek_tail(&in.pending)), ==, 40);

	/* detach keeps the keyframe state; reset does not. */
	kt_rtp_inlet_detach(&in);
	g_assert_cmpuint(in.pending_bytes, ==, 0);
	len = vp8_packet(buf, 6, FALSE, &h);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 60), ==,
	                KT_RTP_INLET_HELD);
	kt_rtp_inlet_reset(&in);
	g_assert_false(in.keyframe_seen);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 70), ==,
	                KT_RTP_INLET_AWAIT_KEYFRAME);
	/* Audio has no keyframes to wait for. */
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_OPUS, 80), ==,
	                KT_RTP_INLET_HELD);
	kt_rtp_inlet_reset(&in);
}

static void test_attach_to_appsrc(void)
{
	g_autoptr(GstElement) src = gst_object_ref_sink(gst_element_factory_make("appsrc", NULL));
	g_autoptr(GstElement) other = gst_object_ref_sink(gst_element_factory_make("appsrc", NULL));
	KtRtpInlet in;
	guint8 buf[PKT];
	KtRtpHeader h;
	gsize len;

	kt_rtp_inlet_configure_src(src, KT_MEDIA_VIDEO, KT_CODEC_VP8, 96, 90000, 2 * PKT, NULL,
	                           NULL);
	kt_rtp_inlet_init(&in, 2 * PKT, 10 * PKT);
	len = vp8_packet(buf, 1, TRUE, &h);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 1), ==,
	                KT_RTP_INLET_HELD);
	/* What waited goes into the appsrc first. */
	kt_rtp_inlet_attach(&in, GST_APP_SRC(src));
	g_assert_cmpuint(g_queue_get_length(&in.pending), ==, 0);
	g_assert_cmpuint(gst_app_src_get_current_level_bytes(GST_APP_SRC(src)), ==, PKT);
	len = vp8_packet(buf, 2, FALSE, &h);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 2), ==,
	                KT_RTP_INLET_PUSHED);
	/* The appsrc is bounded too: the pusher never blocks, packets drop. */
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 3), ==,
	                KT_RTP_INLET_DROPPED);
	/* Forgetting another chain's appsrc changes nothing; forgetting this
	 * one makes packets wait again. */
	kt_rtp_inlet_forget_src(&in, other);
	g_assert_true(in.appsrc == GST_APP_SRC(src));
	kt_rtp_inlet_forget_src(&in, src);
	g_assert_null(in.appsrc);
	g_assert_cmpint(kt_rtp_inlet_push(&in, buf, len, &h, KT_CODEC_VP8, 4), ==,
	                KT_RTP_INLET_HELD);
	kt_rtp_inlet_reset(&in);
}

static void count_request(gpointer data)
{
	g_atomic_int_inc((gint *)data);
}

static GstEvent *force_key_unit(void)
{
	return gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
	                            gst_structure_new_empty("GstForceKeyUnit"));
}

/* appsrc ! fakesink, playing: returns the fakesink's sink pad, from which
 * upstream events travel to the appsrc as a decoder's would. */
static GstPad *downstream_of(GstElement *pipeline, GstElement *src)
{
	GstElement *sink = gst_element_factory_make("fakesink", NULL);

	gst_bin_add_many(GST_BIN(pipeline), src, sink, NULL);
	g_assert_true(gst_element_link(src, sink));
	g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=,
	                GST_STATE_CHANGE_FAILURE);
	return gst_element_get_static_pad(sink, "sink");
}

static void test_configure_src(void)
{
	g_autoptr(GstElement) vp = gst_pipeline_new(NULL);
	g_autoptr(GstElement) ap = gst_pipeline_new(NULL);
	GstElement *video = gst_element_factory_make("appsrc", NULL);
	GstElement *audio = gst_element_factory_make("appsrc", NULL);
	g_autoptr(GstCaps) caps = NULL;
	g_autoptr(GstPad) vpad = NULL;
	g_autoptr(GstPad) apad = NULL;
	GstStructure *st;
	gint requests = 0, audio_requests = 0;
	gboolean is_live = FALSE;

	kt_rtp_inlet_configure_src(video, KT_MEDIA_VIDEO, KT_CODEC_H264, 102, 90000, 4096,
	                           count_request, &requests);
	g_object_get(video, "caps", &caps, "is-live", &is_live, NULL);
	st = gst_caps_get_structure(caps, 0);
	g_assert_cmpstr(gst_structure_get_name(st), ==, "application/x-rtp");
	g_assert_cmpstr(gst_structure_get_string(st, "encoding-name"), ==, "H264");
	g_assert_cmpstr(gst_structure_get_string(st, "media"), ==, "video");
	g_assert_true(is_live);
	/* A keyframe request from downstream reaches the owner; other upstream
	 * events do not. */
	vpad = downstream_of(vp, video);
	gst_pad_push_event(vpad, force_key_unit());
	gst_pad_push_event(vpad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
	                                              gst_structure_new_empty("Other")));
	g_assert_cmpint(requests, ==, 1);
	/* Audio gets no probe. */
	kt_rtp_inlet_configure_src(audio, KT_MEDIA_AUDIO, KT_CODEC_OPUS, 111, 48000, 4096,
	                           count_request, &audio_requests);
	apad = downstream_of(ap, audio);
	gst_pad_push_event(apad, force_key_unit());
	g_assert_cmpint(audio_requests, ==, 0);
	gst_element_set_state(vp, GST_STATE_NULL);
	gst_element_set_state(ap, GST_STATE_NULL);
}

static void test_encoding_names(void)
{
	g_assert_cmpstr(kt_rtp_encoding_name(KT_CODEC_OPUS), ==, "OPUS");
	g_assert_cmpstr(kt_rtp_encoding_name(KT_CODEC_VP8), ==, "VP8");
	g_assert_null(kt_rtp_encoding_name(KT_CODEC_NONE));
	g_assert_null(kt_rtp_encoding_name(KT_CODEC_N));
	g_assert_null(kt_rtp_encoding_name((KtCodec)-1));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/rtp-in/keyframe-gate-and-queue", test_keyframe_gate_and_queue);
	g_test_add_func("/rtp-in/attach-to-appsrc", test_attach_to_appsrc);
	g_test_add_func("/rtp-in/configure-src", test_configure_src);
	g_test_add_func("/rtp-in/encoding-names", test_encoding_names);
	return g_test_run();
}
