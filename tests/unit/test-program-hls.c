/* The program's live HLS output (the lesson broadcast): real encoders feed
 * a program recorder, hlssink2 writes real segments, ffprobe and ffmpeg
 * read them. */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "kt-gst.h"
#include "kt-program-recorder.h"
#include "media-pipeline.h"
#include "media-probe.h"
#include "tmp-dir.h"

#define CAMERA                                                                                     \
	"videotestsrc is-live=true pattern=smpte"                                                  \
	" ! video/x-raw,width=320,height=240,framerate=25/1"                                       \
	" ! vp8enc deadline=1 keyframe-max-dist=50 ! rtpvp8pay pt=96"
#define MIC                                                                                        \
	"audiotestsrc is-live=true wave=sine samplesperbuffer=960"                                 \
	" ! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay pt=111"

/* An encoder whose RTP goes to one input, pushed from its streaming thread
 * as the media worker would. */
typedef struct {
	GstElement *pipeline;
	KtProgramRecorder *recorder;
	guint input;
	KtCodec codec;
} Gen;

static void on_packet(const guint8 *data, gsize len, gpointer user_data)
{
	Gen *g = user_data;

	kt_program_recorder_push(g->recorder, g->input, data, len, g->codec);
}

static void gen_start(Gen *g, KtProgramRecorder *r, KtProgramSlot slot, const char *src,
                      KtCodec codec)
{
	g->recorder = r;
	g->codec = codec;
	g->input = kt_program_recorder_add_input(r, slot, codec == KT_CODEC_OPUS ? 48000 : 90000);
	g->pipeline = media_pipeline_play_packets(src, on_packet, g);
}

static void gen_stop(Gen *g)
{
	gst_element_set_state(g->pipeline, GST_STATE_NULL);
	gst_clear_object(&g->pipeline);
}

typedef struct {
	gint errors;
	gint keyframes;
} Events;

static void on_error(KtProgramRecorder *r, const GError *error, gpointer data)
{
	((Events *)data)->errors++;
}

static void on_keyframe(KtProgramRecorder *r, guint input, gpointer data)
{
	((Events *)data)->keyframes++;
}

static KtProgramRecorder *new_recorder(const char *path, const char *hls_dir, Events *ev)
{
	KtProgramRecorderConfig cfg = {.width = 320,
	                               .height = 180,
	                               .fps = 15,
	                               .hls_dir = hls_dir,
	                               .hls_segment_s = 1,
	                               .hls_window = 3,
	                               .on_error = on_error,
	                               .on_keyframe = on_keyframe,
	                               .user_data = ev};
	g_autoptr(GError) error = NULL;
	KtProgramRecorder *r = kt_program_recorder_new(path, &cfg, &error);

	g_assert_no_error(error);
	g_assert_nonnull(r);
	return r;
}

/* Runs the control loop until the HLS output has completed @segments in
 * all (30 s at most: the test fails there). */
static void await_segments(KtProgramRecorder *r, guint64 segments)
{
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	KtProgramRecorderStats st;

	for (;;) {
		kt_program_recorder_get_stats(r, &st);
		if (st.hls_segments >= segments)
			return;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE) || (g_usleep(5000), TRUE);
	}
}

/* The playlist's media sequence and segment names. */
typedef struct {
	gint64 sequence;
	guint target;
	GPtrArray *segments; /* char * */
	gboolean ended;
} Playlist;

static void playlist_read(const char *dir, Playlist *p)
{
	g_autofree char *path = g_build_filename(dir, "index.m3u8", NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_true(g_str_has_prefix(text, "#EXTM3U\n"));
	*p = (Playlist){.sequence = -1, .segments = g_ptr_array_new_with_free_func(g_free)};
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "#EXT-X-MEDIA-SEQUENCE:"))
			p->sequence = g_ascii_strtoll(l + 22, NULL, 10);
		else if (g_str_has_prefix(l, "#EXT-X-TARGETDURATION:"))
			p->target = (guint)g_ascii_strtoull(l + 22, NULL, 10);
		else if (g_str_equal(l, "#EXT-X-ENDLIST"))
			p->ended = TRUE;
		else if (*l && *l != '#')
			g_ptr_array_add(p->segments, g_strdup(l));
	}
}

static void playlist_clear(Playlist *p)
{
	g_clear_pointer(&p->segments, g_ptr_array_unref);
}

/* Every listed segment is an MPEG-TS of H.264 320x180 and AAC that decodes
 * without an error. */
static void assert_segments(const char *dir, const Playlist *p)
{
	for (guint i = 0; i < p->segments->len; i++) {
		g_autofree char *path = g_build_filename(dir, p->segments->pdata[i], NULL);
		const char *argv[] = {"ffprobe",
		                      "-v",
		                      "error",
		                      "-show_entries",
		                      "stream=codec_name,width,height",
		                      "-of",
		                      "csv=p=0",
		                      path,
		                      NULL};
		g_autofree char *out = media_probe_run(argv, NULL);

		if (!strstr(out, "h264,320,180"))
			g_test_message("%s: %s", path, out);
		g_assert_nonnull(strstr(out, "h264,320,180"));
		g_assert_nonnull(strstr(out, "aac"));
		media_probe_assert_decodes(path);
	}
}

/* The file and the broadcast from one encoding: segments roll through a
 * sliding window, old ones are deleted, the file is whole. */
static void test_file_and_hls(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-hls-XXXXXX", NULL);
	g_autofree char *live = g_build_filename(dir, "live", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	g_autofree char *first = g_build_filename(live, "segment00000.ts", NULL);
	Events ev = {0};
	KtProgramRecorder *r;
	Gen cam = {0}, mic = {0};
	Playlist p;
	KtProgramRecorderStats st;

	g_assert_cmpint(g_mkdir(live, 0700), ==, 0);
	r = new_recorder(path, live, &ev);
	g_assert_cmpstr(kt_program_recorder_get_path(r), ==, path);
	gen_start(&cam, r, KT_PROGRAM_SLOT_TEACHER, CAMERA, KT_CODEC_VP8);
	gen_start(&mic, r, KT_PROGRAM_SLOT_AUDIO, MIC, KT_CODEC_OPUS);

	await_segments(r, 3);
	playlist_read(live, &p);
	g_assert_cmpuint(p.target, ==, 1);
	g_assert_cmpuint(p.segments->len, ==, 3);
	g_assert_false(p.ended);
	assert_segments(live, &p);
	playlist_clear(&p);

	/* Window 3, 4 spare files: the first segment goes once 8 exist. */
	await_segments(r, 9);
	playlist_read(live, &p);
	g_assert_cmpint(p.sequence, >=, 6);
	g_assert_cmpuint(p.segments->len, ==, 3);
	g_assert_false(g_file_test(first, G_FILE_TEST_EXISTS));
	assert_segments(live, &p);
	playlist_clear(&p);

	gen_stop(&cam);
	gen_stop(&mic);
	g_assert_true(kt_program_recorder_stop(r, NULL));
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.hls_failures, ==, 0);
	g_assert_cmpint(ev.errors, ==, 0);
	/* A clean stop ends the playlist. */
	playlist_read(live, &p);
	g_assert_true(p.ended);
	playlist_clear(&p);
	media_probe_assert_decodes(path);
	kt_program_recorder_free(r);
	tmp_dir_remove(live);
	tmp_dir_remove(dir);
}

/* A lesson broadcast but not recorded: no file at all. */
static void test_hls_only(void)
{
	g_autofree char *live = g_dir_make_tmp("kt-hls-XXXXXX", NULL);
	Events ev = {0};
	KtProgramRecorder *r = new_recorder(NULL, live, &ev);
	Gen mic = {0};
	Playlist p;

	g_assert_null(kt_program_recorder_get_path(r));
	gen_start(&mic, r, KT_PROGRAM_SLOT_AUDIO, MIC, KT_CODEC_OPUS);
	await_segments(r, 2); /* black picture and the tone */
	gen_stop(&mic);
	g_assert_true(kt_program_recorder_stop(r, NULL));
	playlist_read(live, &p);
	g_assert_cmpuint(p.segments->len, >=, 2);
	assert_segments(live, &p);
	playlist_clear(&p);
	g_assert_cmpint(ev.errors, ==, 0);
	kt_program_recorder_free(r);
	tmp_dir_remove(live);
}

/* After a rebuild the playlist lists the new output's segments (segmentKNNNNN.ts,
 * K the output's number: failed attempts while the directory was gone count
 * too), each on disk and decodable from its own start. */
static void assert_playlist_lists_rebuilt(const char *dir)
{
	Playlist p;

	playlist_read(dir, &p);
	g_assert_cmpuint(p.segments->len, >=, 2);
	for (guint i = 0; i < p.segments->len; i++) {
		const char *name = g_ptr_array_index(p.segments, i);
		g_autofree char *file = g_build_filename(dir, name, NULL);

		g_assert_true(g_str_has_prefix(name, "segment"));
		g_assert_cmpuint(strlen(name), >, strlen("segment00000.ts"));
		media_probe_assert_decodes(file);
	}
	playlist_clear(&p);
}

/* GStreamer's criticals, passed on; those about an element dropped while
 * still running (a failed output not stopped: its source threads run on in
 * freed memory) are counted. */
static void on_gst_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                       gpointer data)
{
	if (strstr(message, "Trying to dispose element"))
		(*(guint *)data)++;
	g_log_default_handler(domain, level, message, data);
}

/* The broadcast's directory disappears mid-lesson: the HLS output fails,
 * reported in the stats; the file never notices. Once the directory is back
 * the output is rebuilt by itself and new segments, named apart from the
 * first output's, roll again. */
static void test_hls_failure(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-hls-XXXXXX", NULL);
	g_autofree char *live = g_build_filename(dir, "live", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	g_autofree char *rebuilt = NULL;
	Events ev = {0};
	KtProgramRecorder *r;
	Gen cam = {0};
	KtProgramRecorderStats st;
	gint64 deadline;
	guint64 frames, segments;
	GLogLevelFlags fatal;
	guint undisposed = 0, handler;

	/* GStreamer's splitmuxsink, when it cannot open its next file, warns and
	 * fails assertions (a buffer before a segment in its next muxer) before
	 * the error arrives: not fatal here, as they are not in the server. */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	handler = g_log_set_handler("GStreamer", G_LOG_LEVEL_CRITICAL, on_gst_log, &undisposed);
	g_assert_cmpint(g_mkdir(live, 0700), ==, 0);
	r = new_recorder(path, live, &ev);
	gen_start(&cam, r, KT_PROGRAM_SLOT_TEACHER, CAMERA, KT_CODEC_VP8);
	await_segments(r, 1);
	tmp_dir_remove(live); /* the next segment cannot be opened */
	deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	do {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE) || (g_usleep(5000), TRUE);
		kt_program_recorder_get_stats(r, &st);
	} while (st.hls_failures == 0);
	/* The recording goes on: two more seconds of frames are encoded. And the
	 * first rebuild (after 1 s) fails as well while the directory is gone,
	 * at its first segment: a failed output is stopped whole before it is
	 * dropped (counted by on_gst_log), whatever state hlssink2 left it in. */
	frames = st.video_frames;
	deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	do {
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_main_context_iteration(NULL, FALSE) || (g_usleep(5000), TRUE);
		kt_program_recorder_get_stats(r, &st);
	} while (st.video_frames < frames + 30 || st.hls_failures < 2);
	/* The directory is back: a rebuilt output writes two more segments. */
	g_assert_cmpint(g_mkdir(live, 0700), ==, 0);
	segments = st.hls_segments;
	await_segments(r, segments + 2);
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.hls_failures, >=, 2);
	g_test_message("HLS: %u failures, %" G_GUINT64_FORMAT " segments before, %" G_GUINT64_FORMAT
	               " after the rebuild",
	               st.hls_failures, segments, st.hls_segments);
	assert_playlist_lists_rebuilt(live);
	gen_stop(&cam);
	g_assert_true(kt_program_recorder_stop(r, NULL));
	g_assert_cmpint(ev.errors, ==, 0);
	media_probe_assert_decodes(path);
	kt_program_recorder_free(r);
	g_log_remove_handler("GStreamer", handler);
	g_log_set_always_fatal(fatal);
	g_assert_cmpuint(undisposed, ==, 0);
	tmp_dir_remove(dir);
}

static void test_bad_config(void)
{
	KtProgramRecorderConfig long_segments = {.hls_dir = "/tmp", .hls_segment_s = 11};
	KtProgramRecorderConfig small_window = {.hls_dir = "/tmp", .hls_window = 2};
	g_autoptr(GError) error = NULL;

	g_assert_null(kt_program_recorder_new(NULL, NULL, &error));
	g_assert_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE);
	g_clear_error(&error);
	g_assert_null(kt_program_recorder_new(NULL, &long_segments, &error));
	g_assert_nonnull(strstr(error->message, "hls_segment_s"));
	g_clear_error(&error);
	g_assert_null(kt_program_recorder_new(NULL, &small_window, &error));
	g_assert_nonnull(strstr(error->message, "hls_window"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/program-hls/file-and-hls", test_file_and_hls);
	g_test_add_func("/program-hls/hls-only", test_hls_only);
	g_test_add_func("/program-hls/hls-failure", test_hls_failure);
	g_test_add_func("/program-hls/bad-config", test_bad_config);
	return g_test_run();
}
