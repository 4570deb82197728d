/* The transcoding ladder (pipelines/kt-ladder.h) through a real room: a
 * non-simulcast 1280x720 VP8 source, published into one room source (a feed
 * here, a WHIP publisher in the server), is tapped into the ladder, which
 * publishes its three rungs as the layers of another source. Real subscriber
 * peers (ICE + DTLS + SRTP over loopback) receive it:
 *  - "high" (estimate 5 Mbit/s) decodes 1280x720;
 *  - "low" (estimate 250 kbit/s) decodes the 320x180 rung; raised to 5 Mbit/s
 *    it moves up at a keyframe, on the same SSRC, its sequence running on;
 *  - bad input (not RTP, not video, garbage in a VP8 payload) changes nothing;
 *  - an error inside the input's decoding chain rebuilds it and decoding goes on.
 * A 640x360 H.264 source: the 1280x720 rung is skipped, "high" decodes
 * 640x360 and "low" 320x180. Decoded pictures (raw_input) are encoded too,
 * and go on being encoded when their producer starts again at time 0. */
#include <gst/app/gstappsink.h>
#include <string.h>

#include "kt-gst.h"
#include "kt-ladder.h"
#include "kt-room.h"
#include "kt-rtp-out.h"
#include "kt-rtp.h"
#include "media-pipeline.h"
#include "peer-pair.h"
#include "vp8-decoder.h"

typedef struct {
	KtWorkerPool *pool;
	KtWorker *w;
	KtRoom *room;
	guint input;      /* the source the camera publishes into */
	KtRtpOut *camera; /* its feed */
	GstElement *encoder;
	KtLadder *ladder;
	gint tap_gone;
	PeerPair pair[2];
	Vp8Receiver rx[2]; /* "high", "low" */
} Fixture;

/* Worker: the input source's packets, as a recorder would get them. */
static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	kt_ladder_push(((Fixture *)data)->ladder, rtp, len, codec);
}

static void on_tap_gone(gpointer data)
{
	g_atomic_int_set(&((Fixture *)data)->tap_gone, 1);
}

/* Control loop: the ladder's decoder wants a keyframe of its input. */
static void on_input_keyframe(KtLadder *ladder, gpointer data)
{
	Fixture *f = data;

	(void)ladder;
	kt_room_request_source_keyframe(f->room, f->input);
}

static void on_ladder_error(KtLadder *ladder, const GError *error, gpointer data)
{
	(void)ladder;
	(void)data;
	g_error("ladder failed: %s", error->message);
}

/* A live camera of @caps (zone plate: detailed and moving, so each rung spends its bit
 * rate and the rungs' rates stay apart), encoded by @encoder and payloaded by @pay
 * into @out's sink. */
static GstElement *camera_new(KtRtpOut *out, const char *caps, const char *encoder, const char *pay)
{
	g_autofree char *desc = g_strdup_printf(
	    "videotestsrc is-live=true pattern=zone-plate kx2=20 ky2=20 kt=1 ! %s ! %s"
	    " ! %s name=pay pt=96 mtu=1200",
	    caps, encoder, pay);

	return media_pipeline_play_into(desc, kt_rtp_out_get_sink(out));
}

static void setup(Fixture *f, KtCodec codec, const char *caps, const char *encoder, const char *pay)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoomTrack track = {.kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .pt = 96,
	                     .clock_rate = 90000,
	                     .pli = TRUE,
	                     .nack = TRUE};
	KtRtpOutConfig cam = {.kind = KT_MEDIA_VIDEO, .codec = codec, .clock_rate = 90000};
	KtLadderConfig lc = {
	    .on_keyframe = on_input_keyframe, .on_error = on_ladder_error, .user_data = f};

	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->room = kt_room_new(f->w, &rc);
	for (guint i = 0; i < 2; i++) {
		peer_pair_connect(&f->pair[i], f->w, kt_worker_pool_get(f->pool, 1));
		kt_room_add_subscriber(f->room, f->pair[i].server, &track, 1);
		vp8_receiver_start(&f->rx[i], f->pair[i].client);
	}
	kt_room_set_subscriber_estimate(f->room, f->pair[0].server, 5000000);
	kt_room_set_subscriber_estimate(f->room, f->pair[1].server, 250000);

	/* The ladder publishes into the default video source, the subscribers' one. */
	f->ladder = kt_ladder_new(f->room, 0, &lc, &error);
	g_assert_no_error(error);
	f->input = kt_room_add_source(f->room, KT_MEDIA_VIDEO, NULL, NULL);
	kt_room_add_tap(f->room, f->input, on_tap, f, on_tap_gone);
	cam.source = f->input;
	f->camera = kt_rtp_out_new(f->room, &cam);
	f->encoder = camera_new(f->camera, caps, encoder, pay);
}

static void teardown(Fixture *f)
{
	gst_element_set_state(f->encoder, GST_STATE_NULL);
	gst_object_unref(f->encoder);
	kt_rtp_out_free(f->camera);
	kt_room_remove_source(f->room, f->input);
	g_assert_true(wait_count(&f->tap_gone, 1, 3000)); /* nothing pushes any more */
	kt_ladder_free(f->ladder);
	for (guint i = 0; i < 2; i++)
		vp8_receiver_stop(&f->rx[i]);
	kt_room_close(f->room);
	kt_room_unref(f->room);
	for (guint i = 0; i < 2; i++)
		peer_pair_close(&f->pair[i]);
	kt_worker_pool_free(f->pool);
}

/* Both values at once (width and height are written one after the other). */
static gboolean wait_size(Vp8Receiver *r, gint width, gint height, guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	do {
		if (g_atomic_int_get(&r->width) == width && g_atomic_int_get(&r->height) == height)
			return TRUE;
	} while (wait_value(&r->width, width, 20) || g_get_monotonic_time() < end);
	return FALSE;
}

/* The counters, and each rung's sending rate since @mark (taken at *@mark_us), which
 * then moves to now. */
static void report(KtLadder *ladder, KtLadderStats *mark, gint64 *mark_us)
{
	KtLadderStats st;
	gint64 now = g_get_monotonic_time();
	gdouble secs = (now - *mark_us) / 1e6;

	kt_ladder_get_stats(ladder, &st);
	g_test_message("input %ux%u: %" G_GUINT64_FORMAT " packets, %" G_GUINT64_FORMAT
	               " decoded, %u chains, %" G_GUINT64_FORMAT " rejected",
	               st.input_width, st.input_height, st.packets, st.decoded, st.chains,
	               st.rejected);
	for (guint i = 0; i < st.n_rungs; i++)
		g_test_message("rung %ux%u (%u kbit/s): %s, %" G_GUINT64_FORMAT
		               " frames, %.0f kbit/s sent over the last %.1f s, %" G_GUINT64_FORMAT
		               " keyframe requests",
		               st.rungs[i].width, st.rungs[i].height, st.rungs[i].kbps,
		               st.rungs[i].running ? "running" : "skipped", st.rungs[i].frames,
		               (st.rungs[i].bytes - mark->rungs[i].bytes) * 8 / 1000.0 / secs, secs,
		               st.rungs[i].keyframe_requests);
	*mark = st;
	*mark_us = now;
}

/* The input's decoder, inside the ladder's pipeline (in its decoding chain); a new
 * reference, NULL if none. */
static GstElement *find_decoder(KtLadder *ladder)
{
	GstIterator *it = gst_bin_iterate_recurse(GST_BIN(kt_ladder_get_pipeline(ladder)));
	GValue v = G_VALUE_INIT;
	GstElement *found = NULL;

	while (!found && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
		GstElement *e = g_value_get_object(&v);
		GstElementFactory *factory = gst_element_get_factory(e);

		if (factory && g_str_equal(GST_OBJECT_NAME(factory), "vp8dec"))
			found = gst_object_ref(e);
		g_value_reset(&v);
	}
	g_value_unset(&v);
	gst_iterator_free(it);
	return found;
}

typedef struct {
	KtLadder *ladder;
	guint chains;
	guint64 decoded;
} Progress;

static gboolean progressed(gpointer data)
{
	Progress *p = data;
	KtLadderStats st;

	kt_ladder_get_stats(p->ladder, &st);
	return st.chains >= p->chains && st.decoded >= p->decoded;
}

/* What the ladder must shrug off, pushed from the test thread (any thread may). */
static void push_bad_input(KtLadder *ladder)
{
	guint8 pkt[200] = {0x80, 96, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 9};

	kt_ladder_push(ladder, pkt, 5, KT_CODEC_VP8);            /* truncated header */
	kt_ladder_push(ladder, NULL, 0, KT_CODEC_VP8);           /* nothing */
	kt_ladder_push(ladder, pkt, sizeof(pkt), KT_CODEC_OPUS); /* not video */
	kt_ladder_push(ladder, pkt, sizeof(pkt), KT_CODEC_N);    /* no codec */
	pkt[0] = 0x40;                                           /* RTP version 1 */
	kt_ladder_push(ladder, pkt, sizeof(pkt), KT_CODEC_VP8);
	pkt[0] = 0x80;
	for (guint i = 12; i < sizeof(pkt); i++) /* a VP8 "keyframe" of garbage */
		pkt[i] = (guint8)(i * 37);
	pkt[12] = 0x10;
	pkt[13] = 0x00;
	kt_ladder_push(ladder, pkt, sizeof(pkt), KT_CODEC_VP8);
}

static void test_vp8_720p(void)
{
	Fixture *f = g_new0(Fixture, 1);
	Vp8Receiver *high = &f->rx[0], *low = &f->rx[1];
	KtLadderStats st;
	KtRoomCounters c, c2;
	gint64 start = g_get_monotonic_time(), mark_us = start, raised;
	KtLadderStats mark = {0};
	guint64 decoded;
	gint frames;

	setup(f, KT_CODEC_VP8, "video/x-raw,width=1280,height=720,framerate=10/1",
	      "vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=2000000"
	      " keyframe-max-dist=100000",
	      "rtpvp8pay picture-id-mode=15-bit");
	g_assert_true(wait_size(high, 1280, 720, 30000));
	g_test_message("high: 1280x720 decoded %" G_GINT64_FORMAT " ms after start",
	               (g_get_monotonic_time() - start) / 1000);
	g_assert_true(wait_size(low, 320, 180, 20000));
	g_test_message("low: 320x180 decoded %" G_GINT64_FORMAT " ms after start",
	               (g_get_monotonic_time() - start) / 1000);
	/* The room may move a receiver for a moment while it first measures the layers. */
	g_assert_true(wait_count(&low->frames, g_atomic_int_get(&low->frames) + 10, 10000));
	g_assert_true(wait_size(high, 1280, 720, 10000));
	g_assert_true(wait_size(low, 320, 180, 10000));
	g_assert_cmphex(high->ssrc, ==, kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO));
	g_assert_cmphex(low->ssrc, ==, kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO));
	kt_ladder_get_stats(f->ladder, &st);
	g_assert_cmpuint(st.input_width, ==, 1280);
	g_assert_cmpuint(st.n_rungs, ==, 3);
	for (guint i = 0; i < 3; i++) {
		g_assert_true(st.rungs[i].running);
		g_assert_cmpuint(st.rungs[i].frames, >, 0);
	}
	report(f->ladder, &mark, &mark_us);

	/* Bad input: counted, nothing else moves: the same decoding chain, the same
	 * input size, every rung on, both keep decoding their sizes. */
	push_bad_input(f->ladder);
	kt_ladder_get_stats(f->ladder, &st);
	g_assert_cmpuint(st.rejected, ==, 5);
	decoded = st.decoded;
	frames = g_atomic_int_get(&high->frames);
	g_assert_true(wait_count(&high->frames, frames + 10, 10000));
	g_assert_true(wait_count(&low->frames, g_atomic_int_get(&low->frames) + 10, 10000));
	g_assert_true(wait_size(high, 1280, 720, 10000));
	g_assert_true(wait_size(low, 320, 180, 10000));
	kt_ladder_get_stats(f->ladder, &st);
	g_assert_false(st.failed);
	g_assert_cmpuint(st.chains, ==, 1);
	g_assert_cmpuint(st.decoded, >, decoded);
	g_assert_cmpuint(st.input_width, ==, 1280);
	for (guint i = 0; i < 3; i++)
		g_assert_true(st.rungs[i].running);

	/* An error inside the input's decoding chain: rebuilt at the input's next keyframe
	 * (asked for through on_keyframe), decoding goes on, nothing else fails. */
	{
		g_autoptr(GstElement) decoder = find_decoder(f->ladder);
		Progress p = {f->ladder, st.chains + 1, st.decoded + 10};
		gint64 posted = g_get_monotonic_time();

		g_assert_nonnull(decoder);
		gst_element_post_message(
		    decoder, gst_message_new_error(GST_OBJECT(decoder),
		                                   g_error_new_literal(GST_STREAM_ERROR,
		                                                       GST_STREAM_ERROR_DECODE,
		                                                       "injected by the test"),
		                                   "test-ladder"));
		g_assert_true(wait_until(progressed, &p, 15000));
		g_test_message("decoding chain rebuilt, 10 pictures decoded %" G_GINT64_FORMAT
		               " ms after the error",
		               (g_get_monotonic_time() - posted) / 1000);
		g_assert_true(
		    wait_count(&high->frames, g_atomic_int_get(&high->frames) + 10, 10000));
		g_assert_true(wait_size(high, 1280, 720, 10000));
		kt_ladder_get_stats(f->ladder, &st);
		g_assert_false(st.failed);
		g_assert_cmpuint(st.chains, ==, 2);
	}

	/* "low" raised: up at a keyframe, same SSRC, numbering on. */
	kt_room_get_counters(f->room, &c);
	raised = g_get_monotonic_time();
	kt_room_set_subscriber_estimate(f->room, f->pair[1].server, 5000000);
	g_assert_true(wait_size(low, 1280, 720, 20000));
	g_test_message("low: up to 1280x720 %" G_GINT64_FORMAT " ms after its estimate rose",
	               (g_get_monotonic_time() - raised) / 1000);
	kt_room_get_counters(f->room, &c2);
	g_assert_cmpuint(c2.layer_switches, >, c.layer_switches);
	g_assert_cmpint(low->ssrc_changes, ==, 0);
	g_assert_cmpint(high->ssrc_changes, ==, 0);
	g_assert_cmpint(low->max_seq_gap, <=, 3);
	g_test_message("low: max sequence gap %d, %d keyframes; %" G_GUINT64_FORMAT
	               " layer switches in the room",
	               low->max_seq_gap, g_atomic_int_get(&low->keyframes), c2.layer_switches);
	report(f->ladder, &mark, &mark_us);
	kt_ladder_get_stats(f->ladder, &st);
	g_assert_false(st.failed);
	teardown(f);
	g_free(f);
}

static void test_h264_360p(void)
{
	Fixture *f = g_new0(Fixture, 1);
	Vp8Receiver *high = &f->rx[0], *low = &f->rx[1];
	KtLadderStats st, mark = {0};
	gint64 start = g_get_monotonic_time(), mark_us = start;

	setup(f, KT_CODEC_H264, "video/x-raw,width=640,height=360,framerate=10/1",
	      "x264enc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=100000"
	      " ! video/x-h264,profile=constrained-baseline",
	      "rtph264pay config-interval=-1");
	g_assert_true(wait_size(high, 640, 360, 30000));
	g_assert_true(wait_size(low, 320, 180, 20000));
	g_assert_true(wait_count(&high->frames, g_atomic_int_get(&high->frames) + 10, 10000));
	g_assert_cmpint(g_atomic_int_get(&high->width), ==, 640);
	kt_ladder_get_stats(f->ladder, &st);
	g_assert_cmpuint(st.input_width, ==, 640);
	g_assert_cmpuint(st.input_height, ==, 360);
	g_assert_false(st.rungs[0].running); /* 1280x720: larger than the input */
	g_assert_cmpuint(st.rungs[0].sent, ==, 0);
	g_assert_true(st.rungs[1].running);
	g_assert_true(st.rungs[2].running);
	report(f->ladder, &mark, &mark_us);
	teardown(f);
	g_free(f);
}

/* raw_input: decoded pictures handed over by a producer (an ingest in the
 * server) are encoded as the rungs; when the producer starts again (a camera
 * reconnected: its times start at 0 again) the rungs go on encoding. */
static GstFlowReturn on_raw_picture(GstAppSink *sink, gpointer ladder)
{
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);

	if (sample)
		kt_ladder_push_frame(ladder, sample);
	return GST_FLOW_OK;
}

static GstElement *producer_start(KtLadder *ladder)
{
	static GstAppSinkCallbacks callbacks = {.new_sample = on_raw_picture};
	GError *error = NULL;
	GstElement *p = gst_parse_launch(
	    "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=640,height=360,"
	    "framerate=15/1 ! appsink name=sink sync=false",
	    &error);
	g_autoptr(GstElement) sink = NULL;

	g_assert_no_error(error);
	sink = gst_bin_get_by_name(GST_BIN(p), "sink");
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, ladder, NULL);
	g_assert_cmpint(gst_element_set_state(p, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
	return p;
}

static void producer_stop(GstElement *p)
{
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(p);
}

/* Runs the control loop until every running rung encoded @more pictures past
 * @from (@seconds at most: FALSE). */
static gboolean rungs_encode(KtLadder *ladder, const KtLadderStats *from, guint64 more,
                             guint seconds)
{
	gint64 end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	KtLadderStats st;

	do {
		gboolean all = TRUE;

		g_main_context_iteration(NULL, FALSE) || (g_usleep(10000), TRUE);
		kt_ladder_get_stats(ladder, &st);
		for (guint i = 0; i < st.n_rungs; i++)
			all = all && (!st.rungs[i].running ||
			              st.rungs[i].frames >= from->rungs[i].frames + more);
		if (all)
			return TRUE;
	} while (g_get_monotonic_time() < end);
	return FALSE;
}

static void test_raw_input(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	guint out = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
	KtLadderConfig lc = {.raw_input = TRUE};
	KtLadder *ladder = kt_ladder_new(room, out, &lc, &error);
	KtLadderStats st, mark = {0};
	guint8 rtp[64] = {0x80, 96};
	GstElement *producer;

	g_assert_no_error(error);
	/* RTP into a raw ladder is refused, not decoded. */
	kt_ladder_push(ladder, rtp, sizeof(rtp), KT_CODEC_VP8);
	kt_ladder_push_frame(ladder, NULL);
	producer = producer_start(ladder);
	g_assert_true(rungs_encode(ladder, &mark, 60, 10)); /* 4 s of pictures */
	kt_ladder_get_stats(ladder, &st);
	g_assert_cmpuint(st.input_width, ==, 640);
	g_assert_false(st.rungs[0].running); /* 1280x720: larger than the pictures */
	g_assert_cmpuint(st.rejected, ==, 2);
	g_test_message("first producer: %" G_GUINT64_FORMAT
	               " pictures, rung 640x360 %" G_GUINT64_FORMAT " encoded",
	               st.packets, st.rungs[1].frames);
	/* The producer starts over, its times at 0 again: its pictures are encoded
	 * at once, not only once their times pass the first producer's 4 s. */
	producer_stop(producer);
	mark = st;
	producer = producer_start(ladder);
	g_assert_true(rungs_encode(ladder, &mark, 15, 3));
	kt_ladder_get_stats(ladder, &st);
	g_test_message("after a restart: rung 640x360 %" G_GUINT64_FORMAT
	               " encoded, 320x180 %" G_GUINT64_FORMAT,
	               st.rungs[1].frames, st.rungs[2].frames);
	producer_stop(producer);
	kt_ladder_free(ladder);
	kt_room_close(room);
	kt_room_unref(room);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/ladder/vp8-720p", test_vp8_720p);
	g_test_add_func("/ladder/h264-360p", test_h264_360p);
	g_test_add_func("/ladder/raw-input", test_raw_input);
	return g_test_run();
}
