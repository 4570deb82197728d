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
#include "media-pipeline.h"
#include "media-probe.h"
#include "peer-pair.h"

#define PUB_SSRC 1111u

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
	GstAppSinkCallbacks cbs = {.new_sample = on_sample};

	g_assert_no_error(error);
	out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	gst_app_sink_set_callbacks(GST_APP_SINK(out), &cbs, pub, NULL);
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	media_pipeline_run_until_eos(pipeline);
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

/* A VP8 file as long as what was pushed, that decodes without an error. */
static void check_file(const char *path, double pushed)
{
	MediaProbe p;

	media_probe(path, &p);
	g_assert_cmpstr(p.codec, ==, "vp8");
	g_assert_cmpfloat(fabs(p.format_duration - pushed), <, 0.5);
	media_probe_assert_decodes(path);
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
