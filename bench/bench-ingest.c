/* Lesson source benchmark (issue 6 items 3 and 5): the CPU cost of one RTSP
 * camera as a lesson source. The camera (tests/e2e/tools/rtsp-camera,
 * 1280x720 25 fps H.264 + Opus) runs in a child process and is not measured.
 * Two phases of SECONDS each, sampled like the other benches (median % of one
 * core after 3 s of start-up):
 *   1. the ingest alone: RTSP pull, H.264 decode, VP8 encode at 720p, Opus;
 *   2. the same plus the ladder on its picture (decode, three VP8 rungs):
 *      the whole cost of one source in a lesson (server/kt-media-feed.c).
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

#define WARM_UP_SECONDS 3

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

/* Starts the camera; its first line names the URL. */
static char *camera_start(const char *bin, GPid *pid)
{
	const char *argv[] = {bin, "--size", "1280x720", "--fps", "25", NULL};
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

int main(int argc, char **argv)
{
	guint seconds = argc > 1 ? (guint)atoi(argv[1]) : 15;
	const char *camera = argc > 2 ? argv[2] : KT_BENCH_RTSP_CAMERA;
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = NULL;
	g_autoptr(GArray) alone = NULL;
	g_autoptr(GArray) laddered = NULL;
	g_autofree char *url = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtIngestStats is;
	KtLadderStats ls;
	KtIngest *in;
	KtLadder *ladder;
	KtRoom *room;
	guint input, tap;
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
	room = pool ? kt_room_new(kt_worker_pool_get(pool, 0), &rc) : NULL;
	input = room ? kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL) : 0;
	in = room ? kt_ingest_new(
	                room,
	                &(KtIngestConfig){.url = url, .video_source = input, .video_kbps = 2400},
	                &error)
	          : NULL;
	if (!in) {
		fprintf(stderr, "bench-ingest: %s\n", error->message);
		kill(pid, SIGTERM);
		return 1;
	}
	alone = measure(seconds);
	kt_ingest_get_stats(in, &is);
	printf("bench-ingest: RTSP H.264 1280x720 25 fps + Opus -> VP8 720p + Opus, %u s each\n",
	       seconds);
	printf("ingest alone: ");
	bench_cpu_print(alone, WARM_UP_SECONDS);
	printf("  %" G_GUINT64_FORMAT " video, %" G_GUINT64_FORMAT " audio packets\n",
	       is.video_packets, is.audio_packets);

	ladder = kt_ladder_new(room, 0, NULL, &error);
	if (!ladder) {
		fprintf(stderr, "bench-ingest: %s\n", error->message);
		kill(pid, SIGTERM);
		return 1;
	}
	tap = kt_room_add_tap(room, input, on_tap, ladder, NULL);
	kt_room_request_source_keyframe(room, input);
	laddered = measure(seconds);
	kt_ladder_get_stats(ladder, &ls);
	printf("ingest + ladder (one lesson source): ");
	bench_cpu_print(laddered, WARM_UP_SECONDS);
	for (guint i = 0; i < ls.n_rungs; i++)
		printf("  rung %ux%u: %" G_GUINT64_FORMAT " pictures, %.0f kbit/s\n",
		       ls.rungs[i].width, ls.rungs[i].height, ls.rungs[i].frames,
		       ls.rungs[i].bytes * 8 / 1e3 / seconds);

	kt_room_remove_tap(room, tap);
	/* Its teardown waits for the worker, which removed the tap first: no push
	 * reaches the ladder after this. */
	kt_ingest_free(in);
	kt_ladder_free(ladder);
	kt_room_close(room);
	kt_room_unref(room);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return 0;
}
