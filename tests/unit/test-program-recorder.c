/* Program recorder: real GStreamer pipelines, real files, checked with
 * ffprobe/ffmpeg. RTP comes from encoders run inside the test and is pushed
 * from their streaming threads, as the media worker would. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kt-gst.h"
#include "kt-program-recorder.h"
#include "media-pipeline.h"
#include "media-probe.h"

#define CAMERA(pattern, keyframe_dist)                                                             \
	"videotestsrc name=src is-live=true pattern=" pattern " num-buffers=%d"                    \
	" ! capsfilter name=cf caps=video/x-raw,width=320,height=240,framerate=25/1"               \
	" ! vp8enc deadline=1 keyframe-max-dist=" keyframe_dist " ! rtpvp8pay pt=96"
#define VP8_CAMERA CAMERA("smpte", "50")
#define RED_CAMERA CAMERA("red", "50")
/* Browsers send keyframes rarely (on request). */
#define SPARSE_CAMERA CAMERA("smpte", "100000")
#define COURSEWARE                                                                                 \
	"videotestsrc is-live=true pattern=white num-buffers=%d"                                   \
	" ! video/x-raw,width=640,height=480,framerate=5/1"                                        \
	" ! vp8enc deadline=1 keyframe-max-dist=10 ! rtpvp8pay pt=96"
#define H264_CAMERA                                                                                \
	"videotestsrc is-live=true num-buffers=%d ! "                                              \
	"video/x-raw,width=320,height=180,framerate=25/1"                                          \
	" ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25"                        \
	" ! rtph264pay pt=102 config-interval=-1"
#define MIC                                                                                        \
	"audiotestsrc name=src is-live=true wave=sine samplesperbuffer=960 num-buffers=%d"         \
	" ! audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay pt=111"

static const char *self_path;

/* ---- RTP generators: an encoder pipeline whose packets go to an input ---- */

typedef struct {
	GstElement *pipeline;
	GstElement *source, *capsfilter;
	KtProgramRecorder *recorder;
	gint input; /* atomic: where the packets go */
	KtCodec codec;
	gint resize_at; /* > 0: switch to 640x360 after this many packets */
	gint pushed;
} Gen;

/* The streaming thread: one RTP packet, as the media worker would push it. */
static void on_packet(const guint8 *data, gsize len, gpointer user_data)
{
	Gen *g = user_data;

	kt_program_recorder_push(g->recorder, (guint)g_atomic_int_get(&g->input), data, len,
	                         g->codec);
	if (g_atomic_int_add(&g->pushed, 1) + 1 == g->resize_at) {
		g_autoptr(GstCaps) caps =
		    gst_caps_from_string("video/x-raw,width=640,height=360,framerate=25/1");

		g_object_set(g_atomic_pointer_get(&g->capsfilter), "caps", caps, NULL);
	}
}

static void gen_start(Gen *g, KtProgramRecorder *r, guint input, const char *source_fmt,
                      int buffers, KtCodec codec)
{
	g_autofree char *src = g_strdup_printf(source_fmt, buffers);

	g->recorder = r;
	g->input = (gint)input;
	g->codec = codec;
	g->pipeline = media_pipeline_play_packets(src, on_packet, g);
	/* Long before resize_at packets have been made. */
	g_atomic_pointer_set(&g->capsfilter, gst_bin_get_by_name(GST_BIN(g->pipeline), "cf"));
	g->source = gst_bin_get_by_name(GST_BIN(g->pipeline), "src");
}

/* Runs the control loop (the recorder builds chains and calls back there)
 * until the generator's EOS. */
static void gen_finish(Gen *g)
{
	media_pipeline_run_until_eos(g->pipeline);
	gst_clear_object(&g->pipeline);
	gst_clear_object(&g->capsfilter);
	gst_clear_object(&g->source);
}

/* Runs the control loop while media accumulates. */
static void run_for(double seconds)
{
	gint64 end = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);

	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE) || (g_usleep(2000), TRUE);
}

/* ---- what ffprobe and ffmpeg see ---- */

enum { VIDEO, AUDIO };

typedef struct {
	char codec[2][16];
	int width, height;
	double start[2], end[2]; /* first pts, last pts + duration, per kind */
} Probe;

static char *run(const char *const *argv, char **err_out)
{
	g_autoptr(GError) error = NULL;
	char *out = NULL, *err = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
	                           &err, &status, &error));
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	if (err_out)
		*err_out = err;
	else
		g_free(err);
	return out;
}

static void probe(const char *path, Probe *p)
{
	const char *streams[] = {"ffprobe",
	                         "-v",
	                         "error",
	                         "-show_entries",
	                         "stream=index,codec_name,codec_type,width,height",
	                         "-of",
	                         "csv=p=0",
	                         path,
	                         NULL};
	const char *packets[] = {"ffprobe",
	                         "-v",
	                         "error",
	                         "-show_entries",
	                         "packet=stream_index,pts_time,duration_time",
	                         "-of",
	                         "csv=p=0",
	                         path,
	                         NULL};
	g_autofree char *info = run(streams, NULL), *pkts = run(packets, NULL);
	g_auto(GStrv) lines = g_strsplit(info, "\n", -1);
	int kind_of[4] = {-1, -1, -1, -1};

	memset(p, 0, sizeof(*p));
	p->start[VIDEO] = p->start[AUDIO] = G_MAXDOUBLE;
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], ",", -1);
		int index, kind;

		if (g_strv_length(f) < 3)
			continue;
		index = atoi(f[0]);
		kind = strcmp(f[2], "video") == 0 ? VIDEO : AUDIO;
		g_assert_cmpint(index, <, 4);
		kind_of[index] = kind;
		g_strlcpy(p->codec[kind], f[1], sizeof(p->codec[kind]));
		if (kind == VIDEO && g_strv_length(f) >= 5) {
			p->width = atoi(f[3]);
			p->height = atoi(f[4]);
		}
	}
	g_clear_pointer(&lines, g_strfreev);
	lines = g_strsplit(pkts, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], ",", -1);
		int kind;
		double pts;

		if (g_strv_length(f) < 3 || strcmp(f[1], "N/A") == 0)
			continue;
		kind = kind_of[CLAMP(atoi(f[0]), 0, 3)];
		g_assert_cmpint(kind, >=, 0);
		pts = g_ascii_strtod(f[1], NULL);
		p->start[kind] = MIN(p->start[kind], pts);
		p->end[kind] = MAX(p->end[kind], pts + g_ascii_strtod(f[2], NULL));
	}
	g_test_message("%s: %s %dx%d %.3f..%.3f s, %s %.3f..%.3f s", path, p->codec[VIDEO],
	               p->width, p->height, p->start[VIDEO], p->end[VIDEO], p->codec[AUDIO],
	               p->start[AUDIO], p->end[AUDIO]);
}

/* ffmpeg decodes the whole file without a single error. */
/* Big-endian, byte by byte (box headers sit at any alignment). */
static guint64 read_be(const char *p, guint n)
{
	guint64 v = 0;

	for (guint i = 0; i < n; i++)
		v = v << 8 | (guint8)p[i];
	return v;
}

/* The file's top-level boxes are ftyp, moov, then moof + mdat pairs, all
 * whole; what may follow is a fragment being written: "free" boxes (the
 * last one cut short), or a "free" then its whole mdat (retyped first). */
static void assert_whole_fragments(const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0, off = 0;
	gboolean after_moof = FALSE, after_free = FALSE;

	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	while (off + 8 <= len) {
		guint64 size = read_be(data + off, 4);
		const char *type = data + off + 4;
		gboolean free_box = memcmp(type, "free", 4) == 0;
		gboolean mdat = memcmp(type, "mdat", 4) == 0;

		if (size == 1)
			size = read_be(data + off + 8, 8);
		g_assert_cmpuint(size, >=, 8);
		g_assert_true(free_box || off + size <= len);
		g_assert_true(!after_free || free_box || (mdat && off + size == len));
		g_assert_true(!mdat || after_moof || after_free);
		after_moof = memcmp(type, "moof", 4) == 0;
		after_free = after_free || free_box;
		off += MIN(size, len - off);
	}
	g_assert_false(after_moof); /* no moof without its mdat */
}

/* A standard H.264 1280x720 + AAC composite covering @seconds, audio and
 * video starting together. */
static void assert_program(const char *path, double seconds, Probe *p)
{
	probe(path, p);
	g_assert_cmpstr(p->codec[VIDEO], ==, "h264");
	g_assert_cmpstr(p->codec[AUDIO], ==, "aac");
	g_assert_cmpint(p->width, ==, 1280);
	g_assert_cmpint(p->height, ==, 720);
	g_assert_cmpfloat(fabs(p->start[VIDEO] - p->start[AUDIO]), <, 0.1);
	g_assert_cmpfloat(fabs(p->end[VIDEO] - p->start[VIDEO] - seconds), <, 0.5);
	g_assert_cmpfloat(fabs(p->end[AUDIO] - p->start[AUDIO] - seconds), <, 0.5);
	media_probe_assert_decodes(path);
}

/* One picture of the file at @t s, as 1280x720 RGB. */
static guint8 *frame_at(const char *dir, const char *path, double t)
{
	g_autofree char *out = g_build_filename(dir, "frame.rgb", NULL);
	g_autofree char *at = g_strdup_printf("%.2f", t);
	const char *argv[] = {"ffmpeg", "-v",        "error", "-ss", at,         "-i",
	                      path,     "-frames:v", "1",     "-f",  "rawvideo", "-pix_fmt",
	                      "rgb24",  "-y",        out,     NULL};
	g_autofree char *ignored = run(argv, NULL);
	char *data = NULL;
	gsize len = 0;

	g_assert_true(g_file_get_contents(out, &data, &len, NULL));
	g_assert_cmpuint(len, ==, 1280 * 720 * 3);
	g_remove(out);
	return (guint8 *)data;
}

static void assert_colour(const guint8 *rgb, int x, int y, int r, int g, int b)
{
	const guint8 *px = rgb + (y * 1280 + x) * 3;

	if (abs(px[0] - r) > 40 || abs(px[1] - g) > 40 || abs(px[2] - b) > 40)
		g_error("pixel %d,%d is %d,%d,%d, not %d,%d,%d", x, y, px[0], px[1], px[2], r, g,
		        b);
}

/* ---- the recorder's callbacks ---- */

typedef struct {
	gint keyframes;
	gint64 keyframe_at[16]; /* by input id: the latest request */
	gint keyframes_too_soon;
	gint errors;
	GError *error;
} Events;

/* At most one request per second per input. */
static void on_keyframe(KtProgramRecorder *r, guint input, gpointer data)
{
	Events *ev = data;
	gint64 now = g_get_monotonic_time();

	ev->keyframes++;
	g_assert_cmpuint(input, <, G_N_ELEMENTS(ev->keyframe_at));
	if (ev->keyframe_at[input] && now - ev->keyframe_at[input] < G_USEC_PER_SEC - 10000)
		ev->keyframes_too_soon++;
	ev->keyframe_at[input] = now;
}

static void on_error(KtProgramRecorder *r, const GError *error, gpointer data)
{
	Events *ev = data;

	ev->errors++;
	g_clear_error(&ev->error);
	ev->error = g_error_copy(error);
}

static KtProgramRecorder *new_recorder(const char *path, Events *ev)
{
	KtProgramRecorderConfig cfg = {.epoch_us = g_get_monotonic_time() - 3 * G_USEC_PER_SEC,
	                               .on_keyframe = on_keyframe,
	                               .on_error = on_error,
	                               .user_data = ev};
	g_autoptr(GError) error = NULL;
	KtProgramRecorder *r = kt_program_recorder_new(path, &cfg, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(kt_program_recorder_get_path(r), ==, path);
	return r;
}

static void stop_ok(KtProgramRecorder *r, Events *ev)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(kt_program_recorder_stop(r, &error));
	g_assert_no_error(error);
	g_assert_true(kt_program_recorder_stop(r, NULL)); /* idempotent */
	g_assert_cmpint(ev->errors, ==, 0);
	g_assert_cmpint(ev->keyframes_too_soon, ==, 0);
}

static void remove_dir(char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_remove(path);
	}
	g_rmdir(dir);
	g_free(dir);
}

/* ---- the tests ---- */

/* Courseware, teacher camera and microphone: the standard picture. */
static void test_composite(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	Events ev = {0};
	KtProgramRecorder *r = new_recorder(path, &ev);
	Gen cw = {0}, cam = {0}, mic = {0};
	KtProgramRecorderStats st;
	gint64 started = g_get_monotonic_time();
	g_autofree guint8 *rgb = NULL;
	GStatBuf sb;
	Probe p;

	gen_start(&cw, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_COURSEWARE, 90000),
	          COURSEWARE, 20, KT_CODEC_VP8);
	gen_start(&cam, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000),
	          RED_CAMERA, 100, KT_CODEC_VP8);
	gen_start(&mic, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_AUDIO, 48000), MIC, 200,
	          KT_CODEC_OPUS);
	gen_finish(&cam);
	gen_finish(&mic);
	gen_finish(&cw);
	stop_ok(r, &ev);

	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.inputs, ==, 3);
	g_assert_cmpuint(st.chains, ==, 3);
	g_assert_cmpuint(st.packets, >, 200);
	g_assert_cmpuint(st.dropped + st.rejected + st.unknown + st.hidden, ==, 0);
	g_assert_cmpint(ev.keyframes, >=, 2);                /* one per video input at least */
	g_assert_cmpuint(st.first_time, >=, 3 * GST_SECOND); /* the lesson clock */
	g_assert_cmpint(g_stat(path, &sb), ==, 0);
	g_assert_cmpuint(st.bytes_written, ==, (guint64)sb.st_size);
	assert_program(path, (g_get_monotonic_time() - started) / 1e6, &p);
	g_assert_cmpfloat(fabs(st.duration / 1e9 - (p.end[VIDEO] - p.start[VIDEO])), <, 0.1);
	g_assert_cmpuint(st.video_frames, >, 80);

	/* Courseware 4:3 letterboxed in the middle, the teacher (red, 4:3)
	 * inset bottom-right. */
	rgb = frame_at(dir, path, 3.0);
	assert_colour(rgb, 640, 100, 255, 255, 255);
	assert_colour(rgb, 60, 100, 0, 0, 0);
	assert_colour(rgb, 1100, 610, 255, 0, 0);
	kt_program_recorder_free(r);
	remove_dir(dir);
}

/* A white flash and a tone pushed at the same moment are at the same
 * moment in the file (within 100 ms). */
static void test_av_sync(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	Events ev = {0};
	KtProgramRecorder *r = new_recorder(path, &ev);
	Gen cam = {0}, mic = {0};
	const char *argv[] = {"ffmpeg",
	                      "-i",
	                      path,
	                      "-vf",
	                      "blackdetect=d=0.04:pix_th=0.2",
	                      "-af",
	                      "silencedetect=n=-40dB:d=0.1",
	                      "-f",
	                      "null",
	                      "-",
	                      NULL};
	g_autofree char *err = NULL, *out = NULL;
	const char *black, *silence;
	double video_at, audio_at;

	gen_start(&cam, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000),
	          CAMERA("black", "25"), 90, KT_CODEC_VP8);
	gen_start(&mic, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_AUDIO, 48000), MIC, 180,
	          KT_CODEC_OPUS);
	g_object_set(mic.source, "volume", 0.0, NULL);
	run_for(2.0);
	g_object_set(cam.source, "pattern", 3 /* white */, NULL);
	g_object_set(mic.source, "volume", 0.5, NULL);
	gen_finish(&cam);
	gen_finish(&mic);
	stop_ok(r, &ev);

	out = run(argv, &err);
	black = strstr(err, "black_end:");
	silence = strstr(err, "silence_end: ");
	g_assert_nonnull(black);
	g_assert_nonnull(silence);
	video_at = g_ascii_strtod(black + strlen("black_end:"), NULL);
	audio_at = g_ascii_strtod(silence + strlen("silence_end: "), NULL);
	g_test_message("picture at %.3f s, sound at %.3f s", video_at, audio_at);
	g_assert_cmpfloat(video_at, >, 1.5);
	g_assert_cmpfloat(fabs(video_at - audio_at), <, 0.1);
	kt_program_recorder_free(r);
	remove_dir(dir);
}

/* Inputs leave, come back, change slot, resolution and codec: one file. */
static void test_dynamic(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	Events ev = {0};
	KtProgramRecorder *r = new_recorder(path, &ev);
	Gen cam = {.resize_at = 90}, mic = {0}, cw = {0}, stage = {0};
	guint cam_id, cw_id, stage_id;
	gint64 started = g_get_monotonic_time();
	KtProgramRecorderStats st;
	Probe p;

	cam_id = kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000);
	gen_start(&cam, r, cam_id, VP8_CAMERA, 125, KT_CODEC_VP8);
	gen_start(&mic, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_AUDIO, 48000), MIC, 250,
	          KT_CODEC_OPUS);
	run_for(1.0);
	cw_id = kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_COURSEWARE, 90000);
	gen_start(&cw, r, cw_id, COURSEWARE, 15, KT_CODEC_VP8);
	stage_id = kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_STAGE, 90000);
	gen_start(&stage, r, stage_id, H264_CAMERA, 75, KT_CODEC_H264);
	run_for(1.0);
	/* The teacher leaves and rejoins: packets meanwhile go nowhere. */
	kt_program_recorder_remove_input(r, cam_id);
	run_for(0.3);
	cam_id = kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000);
	g_atomic_int_set(&cam.input, (gint)cam_id);
	run_for(0.7);
	/* The stage classroom becomes the teacher picture, then goes back. */
	kt_program_recorder_set_slot(r, stage_id, KT_PROGRAM_SLOT_TEACHER);
	run_for(0.5);
	/* The old teacher's packets are skipped now: wait until some were (a
	 * loaded machine may not have made any in half a second). */
	for (gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;;) {
		kt_program_recorder_get_stats(r, &st);
		if (st.hidden > 0)
			break;
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		run_for(0.05);
	}
	kt_program_recorder_set_slot(r, stage_id, KT_PROGRAM_SLOT_STAGE);
	gen_finish(&cw);
	kt_program_recorder_remove_input(r, cw_id);
	gen_finish(&stage);
	/* The teacher's camera switches codec (another publisher takes over). */
	gen_finish(&cam);
	cam = (Gen){0};
	gen_start(&cam, r, cam_id, H264_CAMERA, 25, KT_CODEC_H264);
	gen_finish(&cam);
	gen_finish(&mic);
	stop_ok(r, &ev);

	kt_program_recorder_get_stats(r, &st);
	g_test_message("chains %u, unknown %" G_GUINT64_FORMAT ", hidden %" G_GUINT64_FORMAT,
	               st.chains, st.unknown, st.hidden);
	g_assert_cmpuint(st.unknown, >, 0); /* pushed while the teacher was away */
	g_assert_cmpuint(st.hidden, >, 0);  /* the old teacher while the stage was teacher */
	g_assert_cmpuint(st.chains, >=, 6);
	g_assert_cmpuint(st.inputs, ==, 3);
	assert_program(path, (g_get_monotonic_time() - started) / 1e6, &p);
	kt_program_recorder_free(r);
	remove_dir(dir);
}

/* Nothing to record: a black, silent file of the recording's length. */
static void test_no_inputs(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	Events ev = {0};
	gint64 started = g_get_monotonic_time();
	KtProgramRecorder *r = new_recorder(path, &ev);
	g_autofree guint8 *rgb = NULL;
	Probe p;

	run_for(2.5);
	stop_ok(r, &ev);
	assert_program(path, (g_get_monotonic_time() - started) / 1e6, &p);
	rgb = frame_at(dir, path, 1.0);
	assert_colour(rgb, 640, 360, 0, 0, 0);
	kt_program_recorder_free(r);
	remove_dir(dir);
}

/* The crash tests' child: records a camera (keyframe only at the start, as
 * browsers do) and a microphone until killed; says "recording SECONDS" (the
 * file's length so far) once both are decoded. With @file_limit, the file
 * may grow to that many bytes. */
static int crash_child(const char *path, const char *file_limit)
{
	Events ev = {0};
	KtProgramRecorder *r;
	KtProgramRecorderStats st;
	Gen cam = {0}, mic = {0};
	gint64 started;

	if (file_limit) { /* die of SIGXFSZ past it, without a core */
		struct rlimit fsize = {strtoul(file_limit, NULL, 10), RLIM_INFINITY};
		struct rlimit core = {0, 0};

		setrlimit(RLIMIT_CORE, &core);
		setrlimit(RLIMIT_FSIZE, &fsize);
	}
	kt_gst_init();
	started = g_get_monotonic_time();
	r = new_recorder(path, &ev);
	gen_start(&cam, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000),
	          SPARSE_CAMERA, -1, KT_CODEC_VP8);
	gen_start(&mic, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_AUDIO, 48000), MIC, -1,
	          KT_CODEC_OPUS);
	do {
		g_main_context_iteration(NULL, FALSE) || (g_usleep(1000), TRUE);
		kt_program_recorder_get_stats(r, &st);
	} while (st.chains < 2);
	printf("recording %.3f\n", (g_get_monotonic_time() - started) / 1e6);
	fflush(stdout);
	for (;;)
		g_main_context_iteration(NULL, TRUE);
	return 0;
}

/* A crash inside a write: past RLIMIT_FSIZE the kernel writes what fits,
 * and the next write kills the child (SIGXFSZ), so the file ends inside a
 * fragment's write, at any byte. It still plays. */
static void test_crash_inside_write(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	const char *argv[] = {self_path, "--crash-child", path, "350000", NULL};
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	g_autoptr(GError) error = NULL;
	GStatBuf st;
	GPid pid;
	int status = 0;
	Probe p;

	g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
	                            G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
	                            NULL, &pid, &error));
	g_assert_no_error(error);
	while (waitpid(pid, &status, WNOHANG) == 0 && g_get_monotonic_time() < deadline)
		g_usleep(20000); /* media accumulates until the limit */
	if (g_get_monotonic_time() >= deadline) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	g_spawn_close_pid(pid);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGXFSZ);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 350000); /* it ended inside a write */

	probe(path, &p);
	g_assert_cmpfloat(p.end[VIDEO] - p.start[VIDEO], >, 0.5);
	assert_whole_fragments(path);
	media_probe_assert_decodes(path);
	remove_dir(dir);
}

/* kill -9 while recording: the file plays, up to at most 2 s before the
 * kill. */
static void test_crash_safety(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	const char *argv[] = {self_path, "--crash-child", path, NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GIOChannel) out = NULL;
	g_autofree char *line = NULL;
	double recorded, before_kill;
	gint64 said;
	GPid pid;
	int fd, status;
	Probe p;

	g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
	                                       NULL, NULL, &pid, NULL, &fd, NULL, &error));
	g_assert_no_error(error);
	out = g_io_channel_unix_new(fd);
	g_io_channel_set_close_on_unref(out, TRUE);
	g_assert_cmpint(g_io_channel_read_line(out, &line, NULL, NULL, &error), ==,
	                G_IO_STATUS_NORMAL);
	g_assert_true(g_str_has_prefix(line, "recording "));
	said = g_get_monotonic_time();
	recorded = g_ascii_strtod(line + strlen("recording "), NULL);
	g_usleep(4 * G_USEC_PER_SEC); /* media accumulates */
	before_kill = recorded + (g_get_monotonic_time() - said) / 1e6;
	kill(pid, SIGKILL);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFSIGNALED(status));

	probe(path, &p);
	g_assert_cmpstr(p.codec[VIDEO], ==, "h264");
	g_assert_cmpstr(p.codec[AUDIO], ==, "aac");
	g_test_message("killed at %.3f s", before_kill);
	g_assert_cmpfloat(p.end[VIDEO], >=, before_kill - 2.0);
	g_assert_cmpfloat(p.end[AUDIO], >=, before_kill - 2.0);
	assert_whole_fragments(path);
	media_probe_assert_decodes(path);
	remove_dir(dir);
}

/* Records until the file fails; returns the recorder, failed and stopped. */
static KtProgramRecorder *record_until_error(const char *path, Events *ev)
{
	KtProgramRecorder *r = new_recorder(path, ev);
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	g_autoptr(GError) error = NULL;
	KtProgramRecorderStats st;
	Gen cam = {0};

	/* Noise fills the bit rate: the file grows at ~190 kB/s. */
	gen_start(&cam, r, kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000),
	          CAMERA("snow", "50"), -1, KT_CODEC_VP8);
	while (ev->errors == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE) || (g_usleep(2000), TRUE);
	g_assert_cmpint(ev->errors, ==, 1);
	g_assert_error(ev->error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_WRITE);
	g_test_message("reported: %s", ev->error->message);
	run_for(0.2); /* packets after the failure are dropped */
	gst_element_set_state(cam.pipeline, GST_STATE_NULL);
	gst_clear_object(&cam.pipeline);
	gst_clear_object(&cam.capsfilter);
	gst_clear_object(&cam.source);
	g_assert_false(kt_program_recorder_stop(r, &error));
	g_assert_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_WRITE);
	g_assert_cmpint(ev->errors, ==, 1); /* once */
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.dropped, >, 0);
	g_clear_error(&ev->error);
	return r;
}

/* A write error (ENOSPC from /dev/full; then EFBIG past RLIMIT_FSIZE, a
 * disk filling up mid-recording) stops the recording cleanly, reports it
 * once, and leaves what was written playable. */
static void test_write_error(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *full = g_build_filename(dir, "full.mp4", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	struct rlimit saved, small;
	Events ev = {0};
	Probe p;

	g_assert_cmpint(symlink("/dev/full", full), ==, 0);
	kt_program_recorder_free(record_until_error(full, &ev));

	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
	small = saved;
	small.rlim_cur = 300 * 1000;
	signal(SIGXFSZ, SIG_IGN);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
	ev = (Events){0};
	kt_program_recorder_free(record_until_error(path, &ev));
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
	signal(SIGXFSZ, SIG_DFL);

	probe(path, &p);
	g_assert_cmpstr(p.codec[VIDEO], ==, "h264");
	g_assert_cmpfloat(p.end[VIDEO] - p.start[VIDEO], >, 0.5);
	assert_whole_fragments(path); /* cut back to its last whole fragment */
	media_probe_assert_decodes(path);
	remove_dir(dir);
}

/* One RTP packet, a whole frame (marker set). */
static void rtp_packet(guint8 *buf, guint8 pt, guint16 seq, guint32 ts, const guint8 *payload,
                       gsize n)
{
	memset(buf, 0, 12);
	buf[0] = 0x80;
	buf[1] = 0x80 | pt;
	buf[2] = seq >> 8;
	buf[3] = seq & 0xff;
	buf[4] = ts >> 24;
	buf[5] = (ts >> 16) & 0xff;
	buf[6] = (ts >> 8) & 0xff;
	buf[7] = ts & 0xff;
	buf[11] = 7; /* ssrc */
	memcpy(buf + 12, payload, n);
}

/* Garbage, unknown ids and wrong codecs are counted and ignored; garbage
 * that looks like media reaches the decoders without harm. */
static void test_bad_input(void)
{
	char *dir = g_dir_make_tmp("kt-prog-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "program.mp4", NULL);
	KtProgramRecorderConfig odd = {.width = 1279};
	g_autoptr(GError) error = NULL;
	Events ev = {0};
	KtProgramRecorder *r;
	KtProgramRecorderStats st;
	guint8 junk[200], pkt[300];
	gint64 started;
	guint cam, mic;
	Probe p;

	g_assert_null(kt_program_recorder_new(path, &odd, &error));
	g_assert_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE);
	g_clear_error(&error);
	g_assert_null(kt_program_recorder_new("", NULL, &error));
	g_clear_error(&error);

	started = g_get_monotonic_time();
	r = new_recorder(path, &ev);
	cam = kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_TEACHER, 90000);
	mic = kt_program_recorder_add_input(r, KT_PROGRAM_SLOT_AUDIO, 48000);
	memset(junk, 0xab, sizeof(junk));
	kt_program_recorder_push(r, cam, junk, sizeof(junk), KT_CODEC_VP8); /* bad padding */
	kt_program_recorder_push(r, cam, junk, 5, KT_CODEC_VP8);            /* truncated */
	kt_program_recorder_push(r, cam, NULL, 0, KT_CODEC_VP8);
	rtp_packet(pkt, 96, 1, 0, junk, sizeof(junk));
	kt_program_recorder_push(r, cam, pkt, 12 + sizeof(junk), KT_CODEC_OPUS); /* wrong kind */
	kt_program_recorder_push(r, mic, pkt, 12 + sizeof(junk), KT_CODEC_VP8);  /* wrong kind */
	kt_program_recorder_push(r, cam, pkt, 12 + sizeof(junk), KT_CODEC_N);    /* no codec */
	kt_program_recorder_push(r, cam, pkt, 12 + sizeof(junk), KT_CODEC_NONE);
	kt_program_recorder_push(r, 999, pkt, 12 + sizeof(junk), KT_CODEC_VP8); /* no such id */
	kt_program_recorder_push(r, 0, pkt, 12 + sizeof(junk), KT_CODEC_VP8);
	kt_program_recorder_get_stats(r, &st);
	g_assert_cmpuint(st.rejected, ==, 7);
	g_assert_cmpuint(st.unknown, ==, 2);
	g_assert_cmpuint(st.packets, ==, 0);

	/* Noise in RTP that claims to be a VP8 keyframe, and Opus noise. */
	for (guint16 seq = 0; seq < 100; seq++) {
		junk[0] = 0x10; /* VP8 descriptor: start of partition */
		junk[1] = 0x00; /* VP8 header: keyframe */
		for (guint i = 2; i < sizeof(junk); i++)
			junk[i] = (guint8)g_random_int();
		rtp_packet(pkt, 96, seq, seq * 900u, junk, sizeof(junk));
		kt_program_recorder_push(r, cam, pkt, 12 + sizeof(junk), KT_CODEC_VP8);
		rtp_packet(pkt, 111, seq, seq * 480u, junk + 1, 80);
		kt_program_recorder_push(r, mic, pkt, 12 + 80, KT_CODEC_OPUS);
		run_for(0.01);
	}
	kt_program_recorder_remove_input(r, cam);
	kt_program_recorder_push(r, cam, pkt, 12 + 80, KT_CODEC_VP8); /* after removal */
	kt_program_recorder_remove_input(r, cam);                     /* twice: ignored */
	kt_program_recorder_set_slot(r, cam, KT_PROGRAM_SLOT_STAGE);  /* ignored */
	run_for(0.5);
	stop_ok(r, &ev);
	kt_program_recorder_push(r, mic, pkt, 12 + 80, KT_CODEC_OPUS); /* after stop */
	kt_program_recorder_get_stats(r, &st);
	g_test_message("chains %u, packets %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT
	               ", keyframe requests %d",
	               st.chains, st.packets, st.dropped, ev.keyframes);
	g_assert_cmpint(ev.keyframes, >=, 1);
	g_assert_cmpuint(st.unknown, ==, 3);
	/* Accepted, or dropped once a chain kept failing on them, and after stop. */
	g_assert_cmpuint(st.packets + st.dropped, ==, 201);
	g_assert_cmpuint(st.packets, >, 0);
	assert_program(path, (g_get_monotonic_time() - started) / 1e6, &p);
	kt_program_recorder_free(r);
	kt_program_recorder_free(NULL);
	remove_dir(dir);
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	if (argc >= 3 && strcmp(argv[1], "--crash-child") == 0)
		return crash_child(argv[2], argc > 3 ? argv[3] : NULL);
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/program-recorder/composite", test_composite);
	g_test_add_func("/program-recorder/av-sync", test_av_sync);
	g_test_add_func("/program-recorder/dynamic", test_dynamic);
	g_test_add_func("/program-recorder/no-inputs", test_no_inputs);
	g_test_add_func("/program-recorder/crash-safety", test_crash_safety);
	g_test_add_func("/program-recorder/crash-inside-write", test_crash_inside_write);
	g_test_add_func("/program-recorder/write-error", test_write_error);
	g_test_add_func("/program-recorder/bad-input", test_bad_input);
	return g_test_run();
}
