/* Transcoding ladder benchmark: the CPU cost of one 1280x720 25 fps VP8 input
 * (~2 Mbit/s, real encoded RTP generated first, not measured) decoded once and
 * encoded again as the default three rungs (1280x720 1.2 Mbit/s, 640x360
 * 500 kbit/s, 320x180 150 kbit/s, kt-ladder.h), published into a room with no
 * subscriber. A thread replays the packets in real time, as the media worker
 * pushes a room tap's; the process's CPU time is sampled every second and the
 * median of the seconds after the first two (start-up: chain built, first
 * keyframes) is printed as % of one core.
 *
 *   bench-ladder [SECONDS=12]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench-rtp.h"
#include "kt-gst.h"
#include "kt-ladder.h"
#include "kt-room.h"

#define WARM_UP_SECONDS 2
#define FPS 25

/* A detailed moving picture (zone plate), so that every rung spends its bit rate; a
 * keyframe every 2 s stands in for the publisher's answer to the ladder's requests (a
 * picture the decoder lost, e.g. to a starved CPU, costs at most that). */
#define CAMERA_SOURCE                                                                              \
	"videotestsrc pattern=zone-plate kx2=20 ky2=20 kt=1 num-buffers=%u"                        \
	" ! video/x-raw,width=1280,height=720,framerate=%u/1"                                      \
	" ! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=2000000"                     \
	" keyframe-max-dist=50 ! rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit"

typedef struct {
	GPtrArray *packets; /* BenchPacket *, by time */
	KtLadder *ladder;
	gint done;
} Replay;

static gpointer replay_thread(gpointer data)
{
	Replay *rp = data;
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < rp->packets->len; i++) {
		const BenchPacket *p = g_ptr_array_index(rp->packets, i);
		gint64 wait = start + p->at_us - g_get_monotonic_time();

		if (wait > 0)
			g_usleep((gulong)wait);
		kt_ladder_push(rp->ladder, p->data, p->len, KT_CODEC_VP8);
	}
	g_atomic_int_set(&rp->done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	guint seconds = argc > 1 ? (guint)atoi(argv[1]) : 12;
	g_autoptr(GArray) samples = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = NULL;
	g_autofree char *src = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	Replay rp = {0};
	KtLadderStats st;
	KtRoom *room;
	GThread *thread;
	guint64 bytes = 0;

	if (seconds <= WARM_UP_SECONDS) {
		fprintf(stderr, "usage: %s [SECONDS=12] (more than %d)\n", argv[0],
		        WARM_UP_SECONDS);
		return 2;
	}
	kt_gst_init();
	src = g_strdup_printf(CAMERA_SOURCE, seconds * FPS, FPS);
	rp.packets = bench_rtp_generate("camera", src, 90000, &bytes);
	pool = kt_worker_pool_new(1, &error);
	if (!pool) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	rp.ladder = kt_ladder_new(room, 0, NULL, &error);
	if (!rp.ladder) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}

	thread = g_thread_new("replay", replay_thread, &rp);
	samples = bench_cpu_measure(&rp.done);
	g_thread_join(thread);
	kt_ladder_get_stats(rp.ladder, &st);
	printf("bench-ladder: VP8 1280x720 %u fps (%.2f Mbit/s) -> %u VP8 rungs, %u s\n", FPS,
	       bytes * 8 / 1e6 / seconds, st.n_rungs, seconds);
	bench_cpu_print(samples, WARM_UP_SECONDS);
	printf("input: %" G_GUINT64_FORMAT " packets (dropped %" G_GUINT64_FORMAT
	       "), %" G_GUINT64_FORMAT " of %u pictures decoded\n",
	       st.packets, st.dropped, st.decoded, seconds * FPS);
	for (guint i = 0; i < st.n_rungs; i++)
		printf("rung %ux%u %u kbit/s: %" G_GUINT64_FORMAT " pictures encoded, %.0f kbit/s"
		       " sent\n",
		       st.rungs[i].width, st.rungs[i].height, st.rungs[i].kbps, st.rungs[i].frames,
		       st.rungs[i].bytes * 8 / 1e3 / seconds);
	kt_ladder_free(rp.ladder);
	kt_room_close(room);
	kt_room_unref(room);
	g_ptr_array_unref(rp.packets);
	return 0;
}
