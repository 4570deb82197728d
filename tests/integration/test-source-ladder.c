/* kt-source-ladder (server/): the ladder between two room sources that WHIP
 * publishers without simulcast and the lesson sources go through. On a real
 * room, a live VP8 camera published into an input source (a feed here, a WHIP
 * publisher in the server) comes out of the output source as layers (a tap
 * on the output counts the packets). A failure of the ladder (an error posted
 * on its pipeline, as an encoder's would be) is rebuilt a second later into
 * the same output, and the packets flow again; so does a picture-fed ladder
 * (input 0). [ingest] ladder gives the rungs. */
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "kt-config.h"
#include "kt-gst.h"
#include "kt-room.h"
#include "kt-rtp-out.h"
#include "kt-source-ladder.h"
#include "media-pipeline.h"
#include "peer-pair.h"

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	(void)rtp;
	(void)len;
	(void)codec;
	g_atomic_int_inc((gint *)data);
}

/* Iterates the control loop until *@counter grew by @by or 10 s passed. */
static gboolean wait_growth(gint *counter, gint by)
{
	return wait_count(counter, g_atomic_int_get(counter) + by, 10000);
}

/* Posts an error on the running ladder's pipeline, as a failing encoder would.
 * The ladder logs it as a warning: not fatal here, as it is not in the server
 * (the callers lower the fatal mask around it). */
static void break_ladder(KtSourceLadder *sl)
{
	KtLadderStats st;

	GstElement *pipeline = kt_source_ladder_get_pipeline(sl);
	GError *error = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE, "test");

	g_assert_true(kt_source_ladder_get_stats(sl, &st));
	g_assert_nonnull(pipeline);
	gst_element_post_message(pipeline,
	                         gst_message_new_error(GST_OBJECT(pipeline), error, "forced"));
	g_error_free(error);
}

static KtSettings *two_rungs(void)
{
	KtSettings *st = kt_settings_new_default();
	const char ini[] = "[ingest]\nladder = 320x180@300,160x90@80\n";

	g_assert_true(kt_settings_load_data(st, ini, sizeof(ini) - 1, NULL));
	return st;
}

static void test_from_source(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	g_autoptr(KtSettings) settings = two_rungs();
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	guint input = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
	guint output = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
	KtRtpOutConfig cam = {
	    .source = input, .kind = KT_MEDIA_VIDEO, .codec = KT_CODEC_VP8, .clock_rate = 90000};
	KtRtpOut *camera = kt_rtp_out_new(room, &cam);
	GstElement *encoder = media_pipeline_play_into(
	    "videotestsrc is-live=true pattern=ball ! "
	    "video/x-raw,width=320,height=180,framerate=15/1"
	    " ! vp8enc deadline=1 keyframe-max-dist=15 ! rtpvp8pay name=pay pt=96 mtu=1200",
	    kt_rtp_out_get_sink(camera));
	gint out_packets = 0;
	guint tap = kt_room_add_tap(room, output, on_tap, &out_packets, NULL);
	KtSourceLadder *sl = kt_source_ladder_new(room, input, output, settings, "test", &error);
	KtLadderStats st;
	GLogLevelFlags fatal;

	g_assert_no_error(error);
	g_assert_cmpuint(kt_source_ladder_get_input(sl), ==, input);
	g_assert_true(wait_growth(&out_packets, 30));
	g_assert_true(kt_source_ladder_get_stats(sl, &st));
	g_assert_cmpuint(st.n_rungs, ==, 2);
	g_assert_cmpuint(st.rungs[1].width, ==, 160);
	/* It fails: rebuilt into the same output, the packets flow again. */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	break_ladder(sl);
	g_assert_true(wait_growth(&out_packets, 1)); /* whatever was on its way */
	g_assert_true(wait_growth(&out_packets, 30));
	g_log_set_always_fatal(fatal);
	g_assert_true(kt_source_ladder_get_stats(sl, &st));
	g_assert_false(st.failed);
	g_test_message("rebuilt: %" G_GUINT64_FORMAT " input packets, %u chains", st.packets,
	               st.chains);

	kt_room_remove_tap(room, tap);
	gst_element_set_state(encoder, GST_STATE_NULL);
	gst_object_unref(encoder);
	kt_rtp_out_free(camera);
	kt_source_ladder_free(sl);
	kt_room_close(room);
	kt_room_unref(room);
}

/* Input 0: decoded pictures from a producer's appsink (an ingest in the server). */
static GstFlowReturn on_picture(GstAppSink *sink, gpointer sl)
{
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);

	if (sample)
		kt_source_ladder_push_frame(sl, sample);
	return GST_FLOW_OK;
}

static void test_from_pictures(void)
{
	static GstAppSinkCallbacks callbacks = {.new_sample = on_picture};
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	g_autoptr(KtSettings) settings = two_rungs();
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	guint output = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
	gint out_packets = 0;
	guint tap = kt_room_add_tap(room, output, on_tap, &out_packets, NULL);
	KtSourceLadder *sl = kt_source_ladder_new(room, 0, output, settings, "test", &error);
	GstElement *producer =
	    gst_parse_launch("videotestsrc is-live=true ! "
	                     "video/x-raw,format=I420,width=320,height=180,framerate=15/1"
	                     " ! appsink name=sink sync=false",
	                     NULL);
	g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(producer), "sink");
	GLogLevelFlags fatal;

	g_assert_no_error(error);
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, sl, NULL);
	gst_element_set_state(producer, GST_STATE_PLAYING);
	g_assert_true(wait_growth(&out_packets, 30));
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	break_ladder(sl); /* pictures are dropped while it is rebuilt */
	g_assert_true(wait_growth(&out_packets, 1));
	g_assert_true(wait_growth(&out_packets, 30));
	g_log_set_always_fatal(fatal);

	/* The producer stops first (its thread calls into the ladder). */
	gst_element_set_state(producer, GST_STATE_NULL);
	gst_object_unref(producer);
	kt_room_remove_tap(room, tap);
	kt_source_ladder_free(sl);
	kt_room_close(room);
	kt_room_unref(room);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/source-ladder/from-source", test_from_source);
	g_test_add_func("/source-ladder/from-pictures", test_from_pictures);
	return g_test_run();
}
