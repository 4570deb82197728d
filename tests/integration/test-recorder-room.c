/* Recording through a real room: a publisher peer sends VP8 over ICE + DTLS
 * + SRTP into a KtRoom, a source recorder attached with kt_room_add_tap
 * writes it, ffprobe/ffmpeg check the file. Proves the tap path end to end. */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>

#include "kt-gst.h"
#include "kt-room.h"
#include "kt-source-recorder.h"
#include "peer-pair.h"

#define PUB_SSRC 1111u

/* LeakSanitizer: see tests/lsan.supp (GLib's quark table, grown by
 * GStreamer, is never freed by design). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:_dl_init\n";
}

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

typedef struct {
	KtWorker *worker;
	KtPeer *peer; /* the publisher's browser side */
	gint sent;
	gint64 first_us, last_us;
} Publisher;

typedef struct {
	KtPeer *peer;
	gsize len;
	guint8 buf[1500];
} Packet;

static gboolean send_on_worker(gpointer data)
{
	Packet *p = data;

	kt_peer_send_rtp(p->peer, p->buf, p->len, sizeof(p->buf));
	return G_SOURCE_REMOVE;
}

/* Encoder streaming thread: each RTP packet goes out through the publisher
 * peer, on its worker. */
static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
	Publisher *pub = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	Packet *p = g_new(Packet, 1);

	p->peer = pub->peer;
	p->len = gst_buffer_extract(buf, 0, p->buf, 1400);
	kt_worker_invoke(pub->worker, send_on_worker, p, g_free);
	if (!pub->first_us)
		pub->first_us = g_get_monotonic_time();
	pub->last_us = g_get_monotonic_time();
	g_atomic_int_inc(&pub->sent);
	return GST_FLOW_OK;
}

/* Sends 3 s of live VP8 and runs the control loop meanwhile. */
static void publish_vp8(Publisher *pub)
{
	GError *error = NULL;
	g_autoptr(GstElement) pipeline = gst_parse_launch(
	    "videotestsrc is-live=true num-buffers=90 ! "
	    "video/x-raw,width=320,height=240,framerate=30/1"
	    " ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ssrc=1111 mtu=1200"
	    " ! appsink name=out sync=false",
	    &error);
	g_autoptr(GstElement) out = NULL;
	g_autoptr(GstBus) bus = NULL;
	GstAppSinkCallbacks cbs = {.new_sample = on_sample};
	GstMessage *msg = NULL;
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

	g_assert_no_error(error);
	out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	gst_app_sink_set_callbacks(GST_APP_SINK(out), &cbs, pub, NULL);
	bus = gst_element_get_bus(pipeline);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	while (!msg && g_get_monotonic_time() < deadline) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		msg = gst_bus_timed_pop_filtered(bus, 10 * GST_MSECOND,
		                                 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	}
	g_assert_nonnull(msg);
	g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
	gst_message_unref(msg);
	gst_element_set_state(pipeline, GST_STATE_NULL);
}

static char *run(const char *const *argv, char **err)
{
	g_autoptr(GError) error = NULL;
	char *out = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
	                           err, &status, &error));
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	return out;
}

typedef struct {
	KtRoom *room;
	guint source;
	KtSourceRecorder *recorder;
	gint keyframe_requests;
	gint tap_gone;
} Recording;

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	kt_source_recorder_push(((Recording *)data)->recorder, rtp, len, codec);
}

static void on_tap_gone(gpointer data)
{
	g_atomic_int_set(&((Recording *)data)->tap_gone, 1);
}

static void on_keyframe(KtSourceRecorder *r, gpointer data)
{
	Recording *rec = data;

	rec->keyframe_requests++;
	kt_room_request_source_keyframe(rec->room, rec->source);
}

static void check_file(const char *path, double pushed)
{
	const char *info[] = {"ffprobe",
	                      "-v",
	                      "error",
	                      "-show_entries",
	                      "stream=codec_name:format=duration",
	                      "-of",
	                      "default=nw=1",
	                      path,
	                      NULL};
	const char *decode[] = {"ffmpeg", "-v", "error", "-i", path, "-f", "null", "-", NULL};
	g_autofree char *out = NULL, *err = NULL, *dout = NULL, *derr = NULL;
	const char *d;

	out = run(info, &err);
	g_test_message("%s: %s", path, out);
	g_assert_nonnull(strstr(out, "codec_name=vp8\n"));
	d = strstr(out, "duration=");
	g_assert_nonnull(d);
	g_assert_cmpfloat(fabs(g_ascii_strtod(d + 9, NULL) - pushed), <, 0.5);
	dout = run(decode, &derr);
	g_assert_cmpstr(derr, ==, "");
}

static void test_record_through_room(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *base = g_build_filename(dir, "teacher-camera", NULL);
	g_autofree char *file = g_strconcat(base, ".webm", NULL);
	KtRoomTrack track = {.kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .pt = 96,
	                     .clock_rate = 90000,
	                     .remote_ssrc = PUB_SSRC,
	                     .pli = TRUE,
	                     .nack = TRUE};
	PeerPair pair = {0};
	Recording rec = {0};
	KtSourceRecorderConfig cfg = {.on_keyframe = on_keyframe, .user_data = &rec};
	KtSourceRecorder *recorder;
	KtSourceRecorderStats st;
	KtRoomCounters counters;
	Publisher pub = {0};
	guint tap;

	rec.room = kt_room_new(w, &rc);
	rec.source = kt_room_get_default_source(rec.room, KT_MEDIA_VIDEO);
	peer_pair_connect(&pair, w, w);
	kt_room_add_publisher(rec.room, pair.server, &track, 1);
	recorder = kt_source_recorder_new(base, KT_MEDIA_VIDEO, 90000, &cfg, &error);
	g_assert_no_error(error);
	rec.recorder = recorder;
	tap = kt_room_add_tap(rec.room, rec.source, on_tap, &rec, on_tap_gone);

	pub.worker = w;
	pub.peer = pair.client;
	publish_vp8(&pub);
	g_usleep(300 * 1000); /* the last packets cross the room */
	kt_room_remove_tap(rec.room, tap);
	g_assert_true(wait_for(&rec.tap_gone, 3000));
	g_assert_true(kt_source_recorder_stop(recorder, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(kt_source_recorder_get_path(recorder), ==, file);

	kt_source_recorder_get_stats(recorder, &st);
	g_assert_cmpuint(st.packets, >, 50);
	g_assert_cmpuint(st.dropped, ==, 0);
	g_assert_cmpint(rec.keyframe_requests, >=, 1);
	kt_room_get_counters(rec.room, &counters);
	g_assert_cmpuint(counters.keyframe_requests_sent, >=, 1);
	check_file(file, (pub.last_us - pub.first_us) / 1e6);

	kt_source_recorder_free(recorder);
	kt_room_close(rec.room);
	kt_room_unref(rec.room);
	peer_pair_close(&pair);
	g_remove(file);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/recorder/through-room", test_record_through_room);
	return g_test_run();
}
