/* The program over WebRTC (recorder/kt-program-webrtc.c) through a real room:
 * a program recorder with neither file nor HLS publishes its H.264 and its
 * mix as Opus into two room sources, but only while it is told someone
 * watches; taps on them then see H.264 keyframes and a steady stream of
 * Opus, and a keyframe request for the video source (what a new WHEP viewer
 * or a PLI makes) reaches x264enc: a keyframe follows at once although the
 * program's own interval is 10 s. Every packet that ends a frame (the
 * marker bit) ends one with a slice in it: a browser takes a marked packet of
 * SPS and PPS alone for a frame, fails to decode it and asks for a keyframe,
 * whose answer brought the next such packet (kt-program-webrtc.c). */
#include "kt-gst.h"
#include "kt-program-recorder.h"
#include "kt-room.h"
#include "kt-rtp.h"

/* The program's own keyframe interval (hls_segment_s): far longer than the test waits
 * for the keyframe it asks for. */
#define KEYFRAME_INTERVAL_S 10

typedef struct {
	KtCodec want;
	gint packets, wrong_codec, keyframes; /* atomics: the worker writes */
	gint sliceless_frames; /* atomic: marked packets ending a frame with no slice */
	guint32 last_key_ts;   /* worker only */
	gboolean slice_seen;   /* worker only: in the frame being received */
	gint gone;
} Tap;

/* Whether an H.264 RTP payload (RFC 6184: single NAL unit, STAP-A or FU-A)
 * carries a slice, IDR (5) or not (1). */
static gboolean h264_has_slice(const guint8 *p, gsize len)
{
	guint type;

	if (len < 1)
		return FALSE;
	type = p[0] & 0x1f;
	if (type == 28)
		type = len >= 2 ? p[1] & 0x1f : 0;
	if (type == 24) {
		for (gsize i = 1; i + 2 < len; i += 2 + ((gsize)p[i] << 8 | p[i + 1]))
			if ((p[i + 2] & 0x1f) == 1 || (p[i + 2] & 0x1f) == 5)
				return TRUE;
		return FALSE;
	}
	return type == 1 || type == 5;
}

/* Worker: counts packets and distinct keyframes (by RTP timestamp: SPS, PPS and the
 * IDR's fragments are several packets of one frame). */
static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	Tap *t = data;
	KtRtpHeader h;

	if (codec != t->want) {
		g_atomic_int_inc(&t->wrong_codec);
		return;
	}
	g_atomic_int_inc(&t->packets);
	if (t->want != KT_CODEC_H264 || kt_rtp_parse(rtp, len, &h) != KT_RTP_OK)
		return;
	t->slice_seen |= h264_has_slice(rtp + h.payload_offset, h.payload_len);
	if (h.marker) {
		if (!t->slice_seen)
			g_atomic_int_inc(&t->sliceless_frames);
		t->slice_seen = FALSE;
	}
	if (!kt_rtp_h264_is_keyframe(rtp + h.payload_offset, h.payload_len))
		return;
	if (g_atomic_int_get(&t->keyframes) == 0 || h.timestamp != t->last_key_ts) {
		t->last_key_ts = h.timestamp;
		g_atomic_int_inc(&t->keyframes);
	}
}

static void on_tap_gone(gpointer data)
{
	g_atomic_int_set(&((Tap *)data)->gone, 1);
}

/* Iterates the control loop for @ms (the recorder's bus and wake-ups run there). */
static void run_for(guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(5000);
	}
}

/* Iterates until *@flag exceeds @above or @ms pass. */
static gboolean run_until(gint *flag, gint above, guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (g_atomic_int_get(flag) <= above && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(5000);
	}
	return g_atomic_int_get(flag) > above;
}

static void test_program_webrtc(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	guint video = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
	guint audio = kt_room_add_source(room, KT_MEDIA_AUDIO, NULL, NULL);
	KtProgramRecorderConfig cfg = {
	    .width = 320,
	    .height = 240,
	    .fps = 15,
	    .hls_segment_s = KEYFRAME_INTERVAL_S,
	    .room = room,
	    .video_source = video,
	    .audio_source = audio,
	};
	Tap vt = {.want = KT_CODEC_H264}, at = {.want = KT_CODEC_OPUS};
	KtProgramRecorder *r;
	KtProgramRecorderStats st;
	guint vtap, atap;
	gint before;

	r = kt_program_recorder_new(NULL, &cfg, &error);
	g_assert_no_error(error);
	g_assert_null(kt_program_recorder_get_path(r));
	vtap = kt_room_add_tap(room, video, on_tap, &vt, on_tap_gone);
	atap = kt_room_add_tap(room, audio, on_tap, &at, on_tap_gone);
	/* Nobody watches yet: nothing is sent. */
	run_for(1000);
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.rtp_packets, ==, 0);
	g_assert_cmpint(g_atomic_int_get(&vt.packets), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&at.packets), ==, 0);

	/* A viewer: the gate opens, and the keyframe asked for comes at once. */
	kt_program_recorder_set_webrtc_active(r, TRUE);
	kt_room_request_source_keyframe(room, video);
	g_assert_true(run_until(&vt.keyframes, 0, 3000));
	g_assert_true(run_until(&at.packets, 20, 3000));

	/* Steady state: no keyframe of its own within the test, then one on request. */
	run_for(1500);
	before = g_atomic_int_get(&vt.keyframes);
	kt_room_request_source_keyframe(room, video);
	g_assert_true(run_until(&vt.keyframes, before, 1000));
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.rtp_keyframe_requests, >=, 2);
	g_assert_cmpuint(st.rtp_packets, >, 100);
	g_test_message("program over WebRTC: %d video packets, %d keyframes, %d audio packets, "
	               "%" G_GUINT64_FORMAT " keyframe requests",
	               g_atomic_int_get(&vt.packets), g_atomic_int_get(&vt.keyframes),
	               g_atomic_int_get(&at.packets), st.rtp_keyframe_requests);
	g_assert_cmpint(g_atomic_int_get(&vt.wrong_codec), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&vt.sliceless_frames), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&at.wrong_codec), ==, 0);

	/* The last viewer left: the packets stop (what was queued drains first). */
	kt_program_recorder_set_webrtc_active(r, FALSE);
	run_for(300);
	before = g_atomic_int_get(&vt.packets) + g_atomic_int_get(&at.packets);
	run_for(1000);
	g_assert_cmpint(g_atomic_int_get(&vt.packets) + g_atomic_int_get(&at.packets), ==, before);

	g_assert_true(kt_program_recorder_stop(r, &error));
	g_assert_no_error(error);
	/* The counters outlive the feeds. */
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.rtp_packets, >, 100);
	kt_program_recorder_free(r);
	kt_room_remove_tap(room, vtap);
	kt_room_remove_tap(room, atap);
	g_assert_true(run_until(&vt.gone, 0, 3000));
	g_assert_true(run_until(&at.gone, 0, 3000));
	kt_room_close(room);
	kt_room_unref(room);
}

/* Neither a file, nor HLS, nor a room: nothing to make. */
static void test_program_needs_an_output(void)
{
	g_autoptr(GError) error = NULL;
	KtProgramRecorder *r = kt_program_recorder_new(NULL, NULL, &error);

	g_assert_null(r);
	g_assert_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/program-webrtc/through-room", test_program_webrtc);
	g_test_add_func("/program-webrtc/needs-an-output", test_program_needs_an_output);
	return g_test_run();
}
