/* Source recorder: real GStreamer pipelines, real files, checked with
 * ffprobe/ffmpeg. RTP comes from encoders run inside the test and is pushed
 * from their streaming threads, as the media worker would. */
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>

#include "kt-gst.h"
#include "kt-media-trim.h"
#include "kt-source-recorder.h"
#include "media-pipeline.h"
#include "media-probe.h"

#define VP8_SOURCE                                                                                 \
	"videotestsrc is-live=true num-buffers=%d"                                                 \
	" ! capsfilter name=cf caps=video/x-raw,width=320,height=240,framerate=30/1"               \
	" ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ssrc=1111"
/* Keyframes only at the start and when asked (GstForceKeyUnit), like a browser. */
#define VP8_ON_REQUEST_SOURCE                                                                      \
	"videotestsrc is-live=true num-buffers=%d"                                                 \
	" ! video/x-raw,width=320,height=240,framerate=30/1"                                       \
	" ! vp8enc deadline=1 keyframe-max-dist=100000 ! rtpvp8pay pt=96 ssrc=1111"
#define H264_SOURCE                                                                                \
	"videotestsrc is-live=true num-buffers=%d"                                                 \
	" ! capsfilter name=cf caps=video/x-raw,width=320,height=240,framerate=30/1"               \
	" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30"                        \
	" ! rtph264pay pt=102 ssrc=2222 config-interval=-1"
#define OPUS_SOURCE                                                                                \
	"audiotestsrc is-live=true samplesperbuffer=960 num-buffers=%d"                            \
	" ! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay pt=111 ssrc=3333"

static const char *self_path;

/* An RTP generator: an encoder pipeline whose packets go to a recorder. */
typedef struct {
	GstElement *pipeline;
	KtSourceRecorder *recorders[2];
	KtCodec codec;
	gint skip;      /* packets to leave out at the start */
	gint drop_from; /* > 0: packets [drop_from, drop_from + drop_count) are lost */
	gint drop_count;
	gint seen;           /* streaming thread */
	GstElement *appsink; /* where keyframe requests go up to the encoder */
	gint resize_at;      /* > 0: switch to 640x480 after this many packets */
	GstElement *capsfilter;
	gint64 first_push_us, last_push_us;
	gint pushed;
} Gen;

static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
	Gen *g = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	GstMapInfo map;

	gint index = g->seen++;

	if (g->skip > 0) {
		g->skip--;
		return GST_FLOW_OK;
	}
	if (g->drop_from > 0 && index >= g->drop_from && index < g->drop_from + g->drop_count)
		return GST_FLOW_OK;
	if (!gst_buffer_map(buf, &map, GST_MAP_READ))
		return GST_FLOW_ERROR;
	for (guint i = 0; i < G_N_ELEMENTS(g->recorders); i++)
		if (g->recorders[i])
			kt_source_recorder_push(g->recorders[i], map.data, map.size, g->codec);
	gst_buffer_unmap(buf, &map);
	if (!g->first_push_us)
		g->first_push_us = g_get_monotonic_time();
	g->last_push_us = g_get_monotonic_time();
	if (g_atomic_int_add(&g->pushed, 1) + 1 == g->resize_at) {
		g_autoptr(GstCaps) caps =
		    gst_caps_from_string("video/x-raw,width=640,height=480,framerate=30/1");

		g_object_set(g->capsfilter, "caps", caps, NULL);
	}
	return GST_FLOW_OK;
}

static void gen_start(Gen *g, const char *source_fmt, int buffers, KtCodec codec)
{
	g_autofree char *src = g_strdup_printf(source_fmt, buffers);
	g_autofree char *desc = g_strdup_printf("%s ! appsink name=out sync=false", src);
	g_autoptr(GstElement) out = NULL;
	GstAppSinkCallbacks cbs = {.new_sample = on_sample};
	GError *error = NULL;

	g->codec = codec;
	g->pipeline = gst_parse_launch(desc, &error);
	g_assert_no_error(error);
	out = gst_bin_get_by_name(GST_BIN(g->pipeline), "out");
	g->capsfilter = gst_bin_get_by_name(GST_BIN(g->pipeline), "cf");
	g->appsink = gst_object_ref(out);
	gst_app_sink_set_callbacks(GST_APP_SINK(out), &cbs, g, NULL);
	g_assert_cmpint(gst_element_set_state(g->pipeline, GST_STATE_PLAYING), !=,
	                GST_STATE_CHANGE_FAILURE);
}

/* Runs the control loop (the recorders build their pipelines there) until
 * the generator's EOS. */
static void gen_finish(Gen *g)
{
	media_pipeline_run_until_eos(g->pipeline);
	gst_clear_object(&g->pipeline);
	gst_clear_object(&g->capsfilter);
	gst_clear_object(&g->appsink);
}

static double pushed_seconds(const Gen *g)
{
	return (g->last_push_us - g->first_push_us) / 1e6;
}

typedef struct {
	gint keyframes;
	gint errors;
	GError *error;
	Gen *publisher; /* set: keyframe requests reach its encoder, as a PLI would */
} Events;

static void on_keyframe(KtSourceRecorder *r, gpointer data)
{
	Events *ev = data;

	ev->keyframes++;
	if (ev->publisher && ev->publisher->appsink) {
		g_autoptr(GstPad) pad = gst_element_get_static_pad(ev->publisher->appsink, "sink");

		gst_pad_push_event(
		    pad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
		                              gst_structure_new("GstForceKeyUnit", "all-headers",
		                                                G_TYPE_BOOLEAN, TRUE, NULL)));
	}
}

static void on_error(KtSourceRecorder *r, const GError *error, gpointer data)
{
	Events *ev = data;

	ev->errors++;
	g_clear_error(&ev->error);
	ev->error = g_error_copy(error);
}

/* Records @buffers of a source, stops, and checks the file against what was
 * pushed. Returns the file's probe. */
static void record_and_check(const char *source_fmt, int buffers, KtCodec codec, KtMediaKind kind,
                             guint clock_rate, int skip, const char *ext, const char *ff_codec)
{
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *base = g_build_filename(dir, "source", NULL);
	g_autofree char *want_path = g_strdup_printf("%s.%s", base, ext);
	g_autoptr(GError) error = NULL;
	Events ev = {0};
	KtSourceRecorderConfig cfg = {.epoch_us = g_get_monotonic_time() -
	                                          5 * G_USEC_PER_SEC, /* lesson began 5 s ago */
	                              .on_keyframe = on_keyframe,
	                              .on_error = on_error,
	                              .user_data = &ev};
	KtSourceRecorder *r = kt_source_recorder_new(base, kind, clock_rate, &cfg, &error);
	Gen g = {.skip = skip};
	KtSourceRecorderStats st;
	double expected;
	MediaProbe p;

	g_assert_no_error(error);
	g_assert_null(kt_source_recorder_get_path(r));
	g.recorders[0] = r;
	gen_start(&g, source_fmt, buffers, codec);
	gen_finish(&g);
	g_assert_true(kt_source_recorder_stop(r, &error));
	g_assert_no_error(error);
	g_assert_true(kt_source_recorder_stop(r, NULL)); /* idempotent */
	g_assert_cmpstr(kt_source_recorder_get_path(r), ==, want_path);
	g_assert_cmpstr(kt_source_recorder_get_paths(r)[0], ==, want_path);
	g_assert_null(kt_source_recorder_get_paths(r)[1]);

	kt_source_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.packets, >, 0);
	g_assert_cmpuint(st.dropped, ==, 0);
	g_assert_cmpuint(st.files, ==, 1);
	g_assert_cmpuint(st.bytes_written, >, 1000);
	g_assert_true(g_file_test(want_path, G_FILE_TEST_EXISTS));
	/* The lesson clock: the recording starts about 5 s into the lesson. */
	g_assert_cmpuint(st.first_time, >=, 5 * GST_SECOND);
	g_assert_cmpuint(st.first_time, <, 10 * GST_SECOND);
	if (kind == KT_MEDIA_VIDEO)
		g_assert_cmpint(ev.keyframes, >=, 1);
	g_assert_cmpint(ev.errors, ==, 0);

	media_probe(want_path, &p);
	g_assert_cmpstr(p.codec, ==, ff_codec);
	g_assert_cmpfloat(p.format_duration, >=, 0); /* a cleanly finished file has one */
	/* Joining mid-stream, the file begins at the next keyframe (every 30
	 * frames = 1 s in these sources). */
	expected = pushed_seconds(&g) - (skip ? (30 - skip) / 30.0 : 0);
	g_assert_cmpfloat(fabs((p.end - p.start) - expected), <, 0.5);
	g_assert_cmpfloat(fabs(p.format_duration - expected), <, 0.5);
	g_assert_cmpfloat(fabs(st.duration / 1e9 - expected), <, 0.5);
	media_probe_assert_decodes(want_path);

	kt_source_recorder_free(r);
	g_remove(want_path);
	g_rmdir(dir);
}

static void test_vp8_webm(void)
{
	record_and_check(VP8_SOURCE, 90, KT_CODEC_VP8, KT_MEDIA_VIDEO, 90000, 0, "webm", "vp8");
}

/* Joining mid-stream: nothing is written before the next keyframe, and the
 * file still decodes without an error. */
static void test_vp8_starts_at_keyframe(void)
{
	record_and_check(VP8_SOURCE, 120, KT_CODEC_VP8, KT_MEDIA_VIDEO, 90000, 7, "webm", "vp8");
}

static void test_opus_webm(void)
{
	record_and_check(OPUS_SOURCE, 150, KT_CODEC_OPUS, KT_MEDIA_AUDIO, 48000, 0, "webm", "opus");
}

static void test_h264_mp4(void)
{
	record_and_check(H264_SOURCE, 90, KT_CODEC_H264, KT_MEDIA_VIDEO, 90000, 0, "mp4", "h264");
}

/* Packets lost mid-stream: the depayloader asks for a keyframe, the request
 * reaches the publisher (here the test's encoder, which makes keyframes only
 * when asked), and the file resumes at the keyframe that answers it, after a
 * short freeze, decoding without an error. */
static void test_vp8_loss_recovers_by_keyframe(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *base = g_build_filename(dir, "cam", NULL);
	g_autofree char *path = g_strdup_printf("%s.webm", base);
	g_autoptr(GError) error = NULL;
	Gen g = {.drop_from = 45, .drop_count = 3};
	Events ev = {.publisher = &g};
	KtSourceRecorderConfig cfg = {.on_keyframe = on_keyframe, .user_data = &ev};
	KtSourceRecorder *r = kt_source_recorder_new(base, KT_MEDIA_VIDEO, 90000, &cfg, &error);
	const char *argv[] = {"ffprobe",
	                      "-v",
	                      "error",
	                      "-select_streams",
	                      "v:0",
	                      "-show_entries",
	                      "packet=pts_time,flags",
	                      "-of",
	                      "csv=p=0",
	                      path,
	                      NULL};
	g_autofree char *packets = NULL;
	g_auto(GStrv) lines = NULL;
	double prev = -1, gap = 0, gap_end = 0;
	gboolean gap_end_key = FALSE;
	guint keyframes = 0, after_gap = 0;

	g_assert_no_error(error);
	g.recorders[0] = r;
	gen_start(&g, VP8_ON_REQUEST_SOURCE, 120, KT_CODEC_VP8);
	gen_finish(&g);
	g_assert_true(kt_source_recorder_stop(r, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ev.keyframes, >=, 1);
	media_probe_assert_decodes(path);
	/* The longest pause between packets is the freeze; a keyframe ends it. */
	packets = media_probe_run(argv, NULL);
	lines = g_strsplit(packets, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		double t;
		gboolean key = strstr(lines[i], ",K") != NULL;

		if (sscanf(lines[i], "%lf", &t) != 1)
			continue;
		keyframes += key;
		if (prev >= 0 && t - prev > gap) {
			gap = t - prev;
			gap_end = t;
			gap_end_key = key;
		}
		prev = t;
	}
	for (guint i = 0; lines[i]; i++) {
		double t;

		if (sscanf(lines[i], "%lf", &t) == 1 && t > gap_end)
			after_gap++;
	}
	g_test_message(
	    "loss: %d keyframe request(s), freeze %.3f s, %u keyframes, %u packets after",
	    ev.keyframes, gap, keyframes, after_gap);
	g_assert_cmpuint(keyframes, >=, 2);
	g_assert_true(gap_end_key);
	g_assert_cmpfloat(gap, <, 1.0);
	g_assert_cmpuint(after_gap, >=, 30);
	kt_source_recorder_free(r);
	g_remove(path);
	g_rmdir(dir);
}

/* A publisher with another codec takes the source over: the VP8 file is
 * finished and an H.264 one begins beside it. */
/* on_file: each file as it begins. */
static void on_file(KtSourceRecorder *r, const char *path, gpointer data)
{
	g_ptr_array_add(data, g_strdup(path));
}

static void test_codec_change(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *base = g_build_filename(dir, "cam", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) begun = g_ptr_array_new_with_free_func(g_free);
	KtSourceRecorderConfig cfg = {.on_file = on_file, .user_data = begun};
	KtSourceRecorder *r = kt_source_recorder_new(base, KT_MEDIA_VIDEO, 90000, &cfg, &error);
	const char *const *paths;
	Gen g1 = {0}, g2 = {0};
	MediaProbe p;

	g1.recorders[0] = r;
	gen_start(&g1, VP8_SOURCE, 45, KT_CODEC_VP8);
	gen_finish(&g1);
	g2.recorders[0] = r;
	gen_start(&g2, H264_SOURCE, 45, KT_CODEC_H264);
	gen_finish(&g2);
	g_assert_true(kt_source_recorder_stop(r, &error));
	paths = kt_source_recorder_get_paths(r);
	g_assert_true(g_str_has_suffix(paths[0], "/cam.webm"));
	g_assert_true(g_str_has_suffix(paths[1], "/cam-2.mp4"));
	g_assert_null(paths[2]);
	g_assert_cmpuint(begun->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(begun, 0), ==, paths[0]);
	g_assert_cmpstr(g_ptr_array_index(begun, 1), ==, paths[1]);
	media_probe(paths[0], &p);
	g_assert_cmpstr(p.codec, ==, "vp8");
	media_probe_assert_decodes(paths[0]);
	media_probe(paths[1], &p);
	g_assert_cmpstr(p.codec, ==, "h264");
	g_assert_cmpfloat(p.end - p.start, >, 1.0);
	media_probe_assert_decodes(paths[1]);
	for (guint i = 0; paths[i]; i++)
		g_remove(paths[i]);
	kt_source_recorder_free(r);
	g_rmdir(dir);
}

/* The publisher changes resolution mid-lesson (bandwidth adaptation): the
 * same file goes on and decodes without an error. */
static void record_resize(const char *source_fmt, KtCodec codec, const char *ext)
{
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *base = g_build_filename(dir, "cam", NULL);
	g_autofree char *path = g_strdup_printf("%s.%s", base, ext);
	g_autoptr(GError) error = NULL;
	Events ev = {0};
	KtSourceRecorderConfig cfg = {.on_error = on_error, .user_data = &ev};
	KtSourceRecorder *r = kt_source_recorder_new(base, KT_MEDIA_VIDEO, 90000, &cfg, &error);
	Gen g = {.resize_at = 40};
	KtSourceRecorderStats st;
	MediaProbe p;

	g.recorders[0] = r;
	gen_start(&g, source_fmt, 90, codec);
	gen_finish(&g);
	g_assert_true(kt_source_recorder_stop(r, &error));
	g_assert_no_error(error);
	g_assert_cmpint(ev.errors, ==, 0);
	kt_source_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.files, ==, 1);
	media_probe(path, &p);
	g_assert_cmpfloat(fabs((p.end - p.start) - pushed_seconds(&g)), <, 0.5);
	media_probe_assert_decodes(path);
	{
		const char *argv[] = {"ffprobe",       "-v",          "error",
		                      "-show_entries", "frame=width", "-of",
		                      "csv=p=0",       path,          NULL};
		g_autofree char *widths = media_probe_run(argv, NULL);

		/* Both sizes are in the file, the new one last. */
		g_assert_nonnull(strstr(widths, "320"));
		g_assert_nonnull(strstr(widths, "640"));
		g_assert_true(g_strrstr(widths, "320") < strstr(widths, "640"));
	}
	kt_source_recorder_free(r);
	g_remove(path);
	g_rmdir(dir);
}

static void test_vp8_resolution_change(void)
{
	record_resize(VP8_SOURCE, KT_CODEC_VP8, "webm");
}

static void test_h264_resolution_change(void)
{
	record_resize(H264_SOURCE, KT_CODEC_H264, "mp4");
}

/* Garbage never reaches a pipeline nor crashes one. */
static void test_bad_input(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *base = g_build_filename(dir, "x", NULL);
	KtSourceRecorder *r;
	guint8 junk[64];
	KtSourceRecorderStats st;

	g_assert_null(kt_source_recorder_new("", KT_MEDIA_VIDEO, 90000, NULL, &error));
	g_assert_error(error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_PIPELINE);
	g_clear_error(&error);
	g_assert_null(kt_source_recorder_new(base, KT_MEDIA_VIDEO, 0, NULL, &error));
	g_clear_error(&error);

	r = kt_source_recorder_new(base, KT_MEDIA_VIDEO, 90000, NULL, &error);
	g_assert_no_error(error);
	memset(junk, 0xab, sizeof(junk));
	kt_source_recorder_push(r, junk, sizeof(junk), KT_CODEC_VP8); /* not RTP v2 */
	kt_source_recorder_push(r, junk, 5, KT_CODEC_VP8);            /* truncated */
	junk[0] = 0x80;
	kt_source_recorder_push(r, junk, sizeof(junk), KT_CODEC_OPUS); /* wrong kind */
	kt_source_recorder_push(r, junk, sizeof(junk), KT_CODEC_N);    /* no such codec */
	while (g_main_context_iteration(NULL, FALSE))
		;
	kt_source_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.packets, ==, 0);
	g_assert_null(kt_source_recorder_get_path(r));
	g_assert_true(kt_source_recorder_stop(r, &error));
	kt_source_recorder_free(r);
	kt_source_recorder_free(NULL);
	g_rmdir(dir);
}

/* A write error (here ENOSPC from /dev/full) stops that recording cleanly
 * and reports it; a recorder beside it goes on unaffected. */
static void test_write_error(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *bad = g_build_filename(dir, "bad", NULL);
	g_autofree char *bad_file = g_build_filename(dir, "bad.webm", NULL);
	g_autofree char *good = g_build_filename(dir, "good", NULL);
	g_autofree char *good_file = g_build_filename(dir, "good.webm", NULL);
	g_autoptr(GError) error = NULL;
	Events ev = {0}, good_ev = {0};
	KtSourceRecorderConfig cfg = {.on_error = on_error, .user_data = &ev};
	KtSourceRecorderConfig good_cfg = {.on_error = on_error, .user_data = &good_ev};
	Gen g = {0};
	KtSourceRecorderStats st;
	MediaProbe p;

	g_assert_cmpint(symlink("/dev/full", bad_file), ==, 0);
	g.recorders[0] = kt_source_recorder_new(bad, KT_MEDIA_VIDEO, 90000, &cfg, &error);
	g.recorders[1] = kt_source_recorder_new(good, KT_MEDIA_VIDEO, 90000, &good_cfg, &error);
	g_assert_no_error(error);
	gen_start(&g, VP8_SOURCE, 60, KT_CODEC_VP8);
	gen_finish(&g);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpint(ev.errors, ==, 1);
	g_assert_error(ev.error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_WRITE);
	g_test_message("reported: %s", ev.error->message);
	g_assert_false(kt_source_recorder_stop(g.recorders[0], &error));
	g_assert_error(error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_WRITE);
	g_clear_error(&error);
	kt_source_recorder_get_stats(g.recorders[0], &st);
	g_assert_cmpuint(st.dropped, >, 0); /* what came after the failure */

	g_assert_true(kt_source_recorder_stop(g.recorders[1], &error));
	g_assert_no_error(error);
	g_assert_cmpint(good_ev.errors, ==, 0);
	media_probe(good_file, &p);
	g_assert_cmpstr(p.codec, ==, "vp8");
	g_assert_cmpfloat(p.end - p.start, >, 1.5);
	media_probe_assert_decodes(good_file);

	kt_source_recorder_free(g.recorders[0]);
	kt_source_recorder_free(g.recorders[1]);
	g_clear_error(&ev.error);
	g_remove(bad_file);
	g_remove(good_file);
	g_rmdir(dir);
}

/* Browsers send keyframes rarely (on request), so the crash test's video has
 * only the first one: clusters and fragments must not wait for keyframes. */
#define SPARSE_VP8_SOURCE                                                                          \
	"videotestsrc is-live=true num-buffers=%d ! "                                              \
	"video/x-raw,width=320,height=240,framerate=30/1"                                          \
	" ! vp8enc deadline=1 keyframe-max-dist=100000 ! rtpvp8pay pt=96 ssrc=1111"
#define SPARSE_H264_SOURCE                                                                         \
	"videotestsrc is-live=true num-buffers=%d ! "                                              \
	"video/x-raw,width=320,height=240,framerate=30/1"                                          \
	" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=100000"                    \
	" ! rtph264pay pt=102 ssrc=2222 config-interval=-1"

/* The child of the crash test: records VP8 and Opus (WebM) and H.264 (MP4)
 * until killed; says "recording" once packets flow. */
static int crash_child(const char *dir)
{
	const char *names[] = {"vp8", "h264", "opus"};
	const char *sources[] = {SPARSE_VP8_SOURCE, SPARSE_H264_SOURCE, OPUS_SOURCE};
	const KtCodec codecs[] = {KT_CODEC_VP8, KT_CODEC_H264, KT_CODEC_OPUS};
	Gen g[3] = {0};

	kt_gst_init();
	for (guint i = 0; i < 3; i++) {
		g_autofree char *base = g_build_filename(dir, names[i], NULL);
		KtMediaKind kind = kt_media_codec_kind(codecs[i]);

		g[i].recorders[0] = kt_source_recorder_new(
		    base, kind, kind == KT_MEDIA_AUDIO ? 48000 : 90000, NULL, NULL);
		gen_start(&g[i], sources[i], -1, codecs[i]);
	}
	while (!g_atomic_int_get(&g[0].pushed) || !g_atomic_int_get(&g[1].pushed) ||
	       !g_atomic_int_get(&g[2].pushed))
		g_main_context_iteration(NULL, FALSE) || (g_usleep(1000), TRUE);
	printf("recording\n");
	fflush(stdout);
	for (;;)
		g_main_context_iteration(NULL, TRUE);
	return 0;
}

static void check_killed_file(const char *path, const char *codec, double pushed)
{
	g_autoptr(GError) error = NULL;
	guint64 cut = 0;
	MediaProbe p;

	/* First what the server's restart does with a killed run's files. A kill
	 * inside a write() can leave the file's last block cut short: the kernel
	 * gives up a write between pages when SIGKILL arrives, and ffmpeg then
	 * reports "File ended prematurely" (seen under ASan, opus.webm, once). */
	g_assert_true(kt_media_trim_incomplete(path, &cut, &error));
	g_assert_no_error(error);
	g_test_message("%s: %" G_GUINT64_FORMAT " bytes cut by the repair", path, cut);
	media_probe(path, &p);
	g_assert_cmpstr(p.codec, ==, codec);
	/* Everything up to 2 s before the kill is there. */
	g_assert_cmpfloat(p.end - p.start, >=, pushed - 2.0);
	media_probe_assert_decodes(path);
}

/* kill -9 while recording: every file, repaired as a restart repairs it,
 * plays up to at most 2 s before the kill. */
static void test_crash_safety(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-rec-XXXXXX", NULL);
	g_autofree char *vp8 = g_build_filename(dir, "vp8.webm", NULL);
	g_autofree char *h264 = g_build_filename(dir, "h264.mp4", NULL);
	g_autofree char *opus = g_build_filename(dir, "opus.webm", NULL);
	const char *argv[] = {self_path, "--crash-child", dir, NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GIOChannel) out = NULL;
	g_autofree char *line = NULL;
	gint64 started;
	double killed_at;
	GPid pid;
	int fd, status;

	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
	                                       NULL, NULL, &pid, NULL, &fd, NULL, &error));
	g_assert_no_error(error);
	out = g_io_channel_unix_new(fd);
	g_io_channel_set_close_on_unref(out, TRUE);
	g_assert_cmpint(g_io_channel_read_line(out, &line, NULL, NULL, &error), ==,
	                G_IO_STATUS_NORMAL);
	g_assert_cmpstr(line, ==, "recording\n");
	started = g_get_monotonic_time();
	g_usleep(4 * G_USEC_PER_SEC);
	kill(pid, SIGKILL);
	/* How long the child recorded, read once: checking a file (ffprobe, a
	 * full decode) takes time that must not count against the next one. */
	killed_at = (g_get_monotonic_time() - started) / 1e6;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFSIGNALED(status));

	check_killed_file(vp8, "vp8", killed_at);
	check_killed_file(h264, "h264", killed_at);
	check_killed_file(opus, "opus", killed_at);
	g_remove(opus);
	g_remove(vp8);
	g_remove(h264);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc == 3 && strcmp(argv[1], "--crash-child") == 0)
		return crash_child(argv[2]);
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/recorder/vp8-webm", test_vp8_webm);
	g_test_add_func("/recorder/vp8-starts-at-keyframe", test_vp8_starts_at_keyframe);
	g_test_add_func("/recorder/opus-webm", test_opus_webm);
	g_test_add_func("/recorder/h264-mp4", test_h264_mp4);
	g_test_add_func("/recorder/vp8-loss-recovers-by-keyframe",
	                test_vp8_loss_recovers_by_keyframe);
	g_test_add_func("/recorder/codec-change", test_codec_change);
	g_test_add_func("/recorder/vp8-resolution-change", test_vp8_resolution_change);
	g_test_add_func("/recorder/h264-resolution-change", test_h264_resolution_change);
	g_test_add_func("/recorder/bad-input", test_bad_input);
	g_test_add_func("/recorder/write-error", test_write_error);
	g_test_add_func("/recorder/crash-safety", test_crash_safety);
	return g_test_run();
}
