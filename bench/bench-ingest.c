/* Lesson source benchmark (issue 6 items 3 and 5): the CPU cost of one RTSP
 * camera as a lesson source (server/kt-media-feed.c). The camera
 * (tests/e2e/tools/rtsp-camera --busy: 1280x720 25 fps H.264 of a moving zone
 * plate, so that every encoder spends its whole rate, + Opus) runs in a child
 * process and is not measured. Two ways, SECONDS each, sampled like the other
 * benches (median % of one core after 4 s of start-up):
 *   1. as Ketang runs a source: the ingest pulls and decodes, hands the
 *      decoded pictures to a raw-input ladder, which encodes the three rungs;
 *   2. the way before it (for comparison): the ingest encodes VP8 at 720p
 *      into a room source, a tap gives it to the ladder, which decodes it and
 *      encodes the rungs.
 *
 *   bench-ingest [SECONDS=15] [RTSP_CAMERA]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench-rtp.h"
#include "kt-gst.h"
#include "kt-ingest.h"
#include "kt-ladder.h"
#include "kt-room.h"

#define WARM_UP_SECONDS 4

static gboolean on_done(gpointer data)
{
	g_atomic_int_set((gint *)data, 1);
	return G_SOURCE_REMOVE;
}

static GArray *measure(guint seconds)
{
	gint done = 0;

	g_timeout_add_seconds(seconds, on_done, &done);
	return bench_cpu_measure(&done);
}

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer ladder)
{
	kt_ladder_push(ladder, rtp, len, codec);
}

static void on_picture(KtIngest *in, GstSample *picture, gpointer ladder)
{
	kt_ladder_push_frame(ladder, picture);
}

/* Starts the camera; its first line names the URL. */
static char *camera_start(const char *bin, GPid *pid)
{
	const char *argv[] = {bin, "--size", "1280x720", "--fps", "25", "--busy", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GIOChannel) out = NULL;
	g_autofree char *line = NULL;
	gint fd;

	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
	                              NULL, pid, NULL, &fd, NULL, &error)) {
		fprintf(stderr, "bench-ingest: %s\n", error->message);
		return NULL;
	}
	out = g_io_channel_unix_new(fd);
	g_io_channel_set_close_on_unref(out, TRUE);
	if (g_io_channel_read_line(out, &line, NULL, NULL, NULL) != G_IO_STATUS_NORMAL ||
	    !g_str_has_prefix(line, "rtsp-camera: ")) {
		fprintf(stderr, "bench-ingest: the camera did not start\n");
		return NULL;
	}
	return g_strdup(g_strstrip(line + strlen("rtsp-camera: ")));
}

static void print_rungs(KtLadder *ladder, guint seconds)
{
	KtLadderStats ls;

	kt_ladder_get_stats(ladder, &ls);
	for (guint i = 0; i < ls.n_rungs; i++)
		printf("  rung %ux%u: %" G_GUINT64_FORMAT " pictures, %.0f kbit/s\n",
		       ls.rungs[i].width, ls.rungs[i].height, ls.rungs[i].frames,
		       ls.rungs[i].bytes * 8 / 1e3 / seconds);
}

/* One way of running the source, measured; FALSE when it could not start. */
static gboolean run(KtRoom *room, const char *url, gboolean raw, guint seconds)
{
	KtLadderConfig lc = {.raw_input = raw};
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) samples = NULL;
	KtLadder *ladder = kt_ladder_new(room, 0, &lc, &error);
	KtIngestConfig ic = {.url = url, .video_kbps = 2400};
	guint input = 0, tap = 0;
	KtIngest *in;

	if (!ladder) {
		fprintf(stderr, "bench-ingest: %s\n", error->message);
		return FALSE;
	}
	if (raw) {
		ic.on_frame = on_picture;
		ic.user_data = ladder;
	} else {
		input = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);
		ic.video_source = input;
		tap = kt_room_add_tap(room, input, on_tap, ladder, NULL);
	}
	in = kt_ingest_new(room, &ic, &error);
	if (!in) {
		fprintf(stderr, "bench-ingest: %s\n", error->message);
		kt_ladder_free(ladder);
		return FALSE;
	}
	samples = measure(seconds);
	printf("%s: ", raw ? "decoded pictures into the ladder (Ketang's way)"
	                   : "VP8 720p in between (before)");
	bench_cpu_print(samples, WARM_UP_SECONDS);
	print_rungs(ladder, seconds);
	if (tap)
		kt_room_remove_tap(room, tap);
	/* Its teardown waits for the worker (which removed the tap first) and for its
	 * streaming threads: nothing reaches the ladder after this. */
	kt_ingest_free(in);
	kt_ladder_free(ladder);
	if (input)
		kt_room_remove_source(room, input);
	return TRUE;
}

int main(int argc, char **argv)
{
	guint seconds = argc > 1 ? (guint)atoi(argv[1]) : 15;
	const char *camera = argc > 2 ? argv[2] : KT_BENCH_RTSP_CAMERA;
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = NULL;
	g_autofree char *url = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room;
	gboolean ok;
	GPid pid;

	if (seconds <= WARM_UP_SECONDS) {
		fprintf(stderr, "usage: %s [SECONDS=15] [RTSP_CAMERA]\n", argv[0]);
		return 2;
	}
	kt_gst_init();
	url = camera_start(camera, &pid);
	if (!url)
		return 1;
	pool = kt_worker_pool_new(1, &error);
	if (!pool) {
		fprintf(stderr, "bench-ingest: %s\n", error->message);
		kill(pid, SIGTERM);
		return 1;
	}
	room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	printf("bench-ingest: RTSP H.264 1280x720 25 fps + Opus -> 3 VP8 rungs + Opus, %u s each\n",
	       seconds);
	ok = run(room, url, TRUE, seconds) && run(room, url, FALSE, seconds);
	kt_room_close(room);
	kt_room_unref(room);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return ok ? 0 : 1;
}
