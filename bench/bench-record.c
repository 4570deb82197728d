/* Recording benchmark: the CPU cost of the program composite ("movie mode")
 * and of the source recorders ("resource mode") on real RTP.
 *
 * First, not measured, real encoded RTP of a typical lesson is generated
 * into memory: the teacher camera (VP8 1280x720 25 fps, ~1.2 Mbit/s), the
 * courseware (VP8 1280x720 5 fps), the classroom on stage (VP8 640x360
 * 25 fps) and two microphones (Opus 20 ms). Then, for each configuration,
 * a thread replays it in real time, as the media worker pushes a room tap's
 * packets, into:
 *
 *   (a) one program recorder (all five streams as its inputs);
 *   (b) the program recorder and one source recorder per stream;
 *   (c) the five source recorders alone;
 *
 * and the process's CPU time (user + sys, getrusage) over the replay is
 * printed as % of one core, with the files' sizes. "replay only" is the
 * harness itself.
 *
 *   bench-record [SECONDS=20] [FPS=25] [CONFIGS=0abc]   ("0" = replay only)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>

#include "bench-rtp.h"
#include "kt-gst.h"
#include "kt-program-recorder.h"
#include "kt-rtp.h"
#include "kt-source-recorder.h"

typedef struct {
	const char *name;
	const char *what;
	KtProgramSlot slot;
	KtCodec codec;
	guint clock_rate;
	guint rate;         /* buffers per second of the source */
	const char *source; /* encoder ... payloader; %d = buffers */
	GPtrArray *packets; /* BenchPacket * */
	guint64 bytes;
} Stream;

static Stream streams[] = {
    {.name = "teacher",
     .what = "VP8 1280x720 25 fps",
     .slot = KT_PROGRAM_SLOT_TEACHER,
     .codec = KT_CODEC_VP8,
     .clock_rate = 90000,
     .rate = 25,
     /* A moving picture, upscaled (soft like a camera's, so that it fits the bit rate). */
     .source = "videotestsrc pattern=smpte horizontal-speed=2 num-buffers=%d"
               " ! video/x-raw,width=640,height=360,framerate=25/1 ! videoscale"
               " ! video/x-raw,width=1280,height=720"
               " ! vp8enc deadline=1 cpu-used=4 end-usage=cbr target-bitrate=1200000"
               " keyframe-max-dist=250 ! rtpvp8pay pt=96 mtu=1200"},
    {.name = "courseware",
     .what = "VP8 1280x720 5 fps",
     .slot = KT_PROGRAM_SLOT_COURSEWARE,
     .codec = KT_CODEC_VP8,
     .clock_rate = 90000,
     .rate = 5,
     .source = "videotestsrc pattern=smpte horizontal-speed=1 num-buffers=%d"
               " ! video/x-raw,width=1280,height=720,framerate=5/1"
               " ! vp8enc deadline=1 cpu-used=4 target-bitrate=300000 keyframe-max-dist=50"
               " ! rtpvp8pay pt=96 mtu=1200"},
    {.name = "classroom",
     .what = "VP8 640x360 25 fps",
     .slot = KT_PROGRAM_SLOT_STAGE,
     .codec = KT_CODEC_VP8,
     .clock_rate = 90000,
     .rate = 25,
     .source = "videotestsrc pattern=smpte horizontal-speed=2 num-buffers=%d"
               " ! video/x-raw,width=640,height=360,framerate=25/1"
               " ! vp8enc deadline=1 cpu-used=4 target-bitrate=500000 keyframe-max-dist=250"
               " ! rtpvp8pay pt=96 mtu=1200"},
    {.name = "teacher-mic",
     .what = "Opus 48 kHz 20 ms",
     .slot = KT_PROGRAM_SLOT_AUDIO,
     .codec = KT_CODEC_OPUS,
     .clock_rate = 48000,
     .rate = 50,
     .source = "audiotestsrc wave=sine freq=440 samplesperbuffer=960 num-buffers=%d"
               " ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000"
               " ! rtpopuspay pt=111"},
    {.name = "classroom-mic",
     .what = "Opus 48 kHz 20 ms",
     .slot = KT_PROGRAM_SLOT_AUDIO,
     .codec = KT_CODEC_OPUS,
     .clock_rate = 48000,
     .rate = 50,
     .source = "audiotestsrc wave=sine freq=660 samplesperbuffer=960 num-buffers=%d"
               " ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000"
               " ! rtpopuspay pt=111"},
};
#define N_STREAMS G_N_ELEMENTS(streams)

/* ---- generation (not measured) ---- */

static void generate(Stream *s, guint seconds)
{
	g_autofree char *src = g_strdup_printf(s->source, (int)(s->rate * seconds));

	s->packets = bench_rtp_generate(s->name, src, s->clock_rate, &s->bytes);
}

/* ---- replay (the media worker) ---- */

typedef struct {
	const BenchPacket *packet;
	guint stream;
} Item;

typedef struct {
	GArray *items; /* Item, by time */
	KtProgramRecorder *program;
	guint inputs[N_STREAMS];
	KtSourceRecorder *sources[N_STREAMS];
	gint done;
} Replay;

static gint by_time(gconstpointer a, gconstpointer b)
{
	gint64 ta = ((const Item *)a)->packet->at_us, tb = ((const Item *)b)->packet->at_us;

	return ta < tb ? -1 : ta > tb;
}

static gboolean wake_main(gpointer data)
{
	return G_SOURCE_REMOVE;
}

static gpointer replay_thread(gpointer data)
{
	Replay *rp = data;
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < rp->items->len; i++) {
		const Item *it = &g_array_index(rp->items, Item, i);
		const Stream *s = &streams[it->stream];
		gint64 wait = start + it->packet->at_us - g_get_monotonic_time();

		if (wait > 0)
			g_usleep((gulong)wait);
		if (rp->program)
			kt_program_recorder_push(rp->program, rp->inputs[it->stream],
			                         it->packet->data, it->packet->len, s->codec);
		if (rp->sources[it->stream])
			kt_source_recorder_push(rp->sources[it->stream], it->packet->data,
			                        it->packet->len, s->codec);
	}
	g_atomic_int_set(&rp->done, 1);
	g_idle_add(wake_main, NULL);
	return NULL;
}

/* ---- measuring ---- */

/* CPU seconds (user + sys) and context switches of the whole process so far. */
static double cpu_seconds(guint64 *switches)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	if (switches)
		*switches = (guint64)ru.ru_nvcsw + (guint64)ru.ru_nivcsw;
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double file_mb(const char *path)
{
	GStatBuf st;

	return path && g_stat(path, &st) == 0 ? st.st_size / 1e6 : 0;
}

typedef struct {
	char key;
	const char *name;
	gboolean program, sources;
	gboolean hls, no_file; /* the program also / only as HLS */
} Config;

static void run_config(const Config *c, GArray *items, const char *dir, guint seconds, guint fps)
{
	g_autofree char *live = g_build_filename(dir, "live", NULL);
	KtProgramRecorderConfig pc = {.fps = fps, .hls_dir = c->hls ? live : NULL};
	Replay rp = {.items = items};
	g_autofree char *program_path = g_build_filename(dir, "program.mp4", NULL);
	double cpu, wall, sources_mb = 0;
	guint64 switches, switches_end;
	gint64 t0;
	GThread *thread;
	KtProgramRecorderStats st = {0};

	if (c->hls)
		g_mkdir(live, 0700);
	if (c->program) {
		rp.program = kt_program_recorder_new(c->no_file ? NULL : program_path, &pc, NULL);
		for (guint i = 0; i < N_STREAMS; i++)
			rp.inputs[i] = kt_program_recorder_add_input(rp.program, streams[i].slot,
			                                             streams[i].clock_rate);
	}
	for (guint i = 0; c->sources && i < N_STREAMS; i++) {
		g_autofree char *base = g_build_filename(dir, streams[i].name, NULL);

		rp.sources[i] = kt_source_recorder_new(base, kt_media_codec_kind(streams[i].codec),
		                                       streams[i].clock_rate, NULL, NULL);
	}
	t0 = g_get_monotonic_time();
	cpu = cpu_seconds(&switches);
	thread = g_thread_new("replay", replay_thread, &rp);
	while (!g_atomic_int_get(&rp.done))
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(thread);
	cpu = cpu_seconds(&switches_end) - cpu;
	wall = (g_get_monotonic_time() - t0) / 1e6;

	if (rp.program) {
		kt_program_recorder_stop(rp.program, NULL);
		kt_program_recorder_get_stats(rp.program, &st);
	}
	for (guint i = 0; i < N_STREAMS; i++) {
		if (!rp.sources[i])
			continue;
		kt_source_recorder_stop(rp.sources[i], NULL);
		sources_mb += file_mb(kt_source_recorder_get_path(rp.sources[i]));
		g_remove(kt_source_recorder_get_path(rp.sources[i]));
		kt_source_recorder_free(rp.sources[i]);
	}
	printf("%-34s %6.1f %%  %6.0f", c->name, 100.0 * cpu / wall,
	       (switches_end - switches) / wall);
	if (rp.program)
		printf("   program.mp4 %.2f MB, %" G_GUINT64_FORMAT
		       " frames of %u, %" G_GUINT64_FORMAT " packets dropped",
		       c->no_file ? 0.0 : file_mb(program_path), st.video_frames,
		       (guint)(fps * wall), st.dropped);
	if (c->hls)
		printf("   HLS %" G_GUINT64_FORMAT " segments", st.hls_segments);
	if (c->sources)
		printf("   sources %.2f MB", sources_mb);
	printf("\n");
	fflush(stdout);
	g_remove(program_path);
	kt_program_recorder_free(rp.program);
	if (c->hls) {
		g_autoptr(GDir) d = g_dir_open(live, 0, NULL);
		const char *name;

		while (d && (name = g_dir_read_name(d))) {
			g_autofree char *path = g_build_filename(live, name, NULL);

			g_remove(path);
		}
		g_rmdir(live);
	}
}

int main(int argc, char **argv)
{
	guint seconds = argc > 1 ? (guint)atoi(argv[1]) : 20;
	guint fps = argc > 2 ? (guint)atoi(argv[2]) : 25;
	const char *which = argc > 3 ? argv[3] : "0abcde";
	static const Config configs[] = {
	    {'0', "replay only", FALSE, FALSE, FALSE, FALSE},
	    {'a', "(a) program recorder", TRUE, FALSE, FALSE, FALSE},
	    {'b', "(b) program + 5 source recorders", TRUE, TRUE, FALSE, FALSE},
	    {'c', "(c) 5 source recorders", FALSE, TRUE, FALSE, FALSE},
	    {'d', "(d) program + HLS", TRUE, FALSE, TRUE, FALSE},
	    {'e', "(e) program as HLS only", TRUE, FALSE, TRUE, TRUE},
	};
	g_autofree char *dir = g_dir_make_tmp("bench-record-XXXXXX", NULL);
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(Item));
	double gen = cpu_seconds(NULL);

	if (seconds == 0 || fps == 0) {
		fprintf(stderr, "usage: %s [SECONDS=20] [FPS=25] [CONFIGS=0abcde]\n", argv[0]);
		return 2;
	}
	kt_gst_init();
	for (guint i = 0; i < N_STREAMS; i++) {
		generate(&streams[i], seconds);
		for (guint k = 0; k < streams[i].packets->len; k++) {
			Item it = {g_ptr_array_index(streams[i].packets, k), i};

			g_array_append_val(items, it);
		}
	}
	g_array_sort(items, by_time);
	printf("bench-record: %u s of RTP per configuration (generated in %.1f s of CPU, not "
	       "counted); program %ux%u at %u fps\n",
	       seconds, cpu_seconds(NULL) - gen, 1280, 720, fps);
	for (guint i = 0; i < N_STREAMS; i++)
		printf("  %-14s %-20s %5u packets %7.2f Mbit/s\n", streams[i].name, streams[i].what,
		       streams[i].packets->len, streams[i].bytes * 8 / 1e6 / seconds);
	printf("%-34s %8s  %s\n", "configuration", "CPU (% of one core)", "switches/s");
	for (guint i = 0; i < G_N_ELEMENTS(configs); i++)
		if (strchr(which, configs[i].key))
			run_config(&configs[i], items, dir, seconds, fps);
	for (guint i = 0; i < N_STREAMS; i++)
		g_ptr_array_unref(streams[i].packets);
	g_rmdir(dir);
	return 0;
}
