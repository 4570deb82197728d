/* Classroom wall benchmark: the CPU cost of compositing four classrooms
 * (VP8 640x360 25 fps each, ~500 kbit/s, real encoded RTP generated first,
 * not measured) into one 960x540 15 fps VP8 grid (kt-wall.h) published into
 * a room with no subscriber. A thread replays the packets in real time, as the
 * media worker pushes a room tap's; the process's CPU time (user + sys,
 * getrusage) is sampled every second and the median of the seconds after the
 * first two (start-up: chains built, first keyframes) is printed as % of one
 * core.
 *
 *   bench-wall [SECONDS=12]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench-rtp.h"
#include "kt-gst.h"
#include "kt-room.h"
#include "kt-wall.h"

#define N_CLASSROOMS 4
#define WARM_UP_SECONDS 2

/* Moving pictures, soft like a camera's, so that they fit the bit rate. */
#define CLASSROOM_SOURCE                                                                           \
	"videotestsrc pattern=%s horizontal-speed=2 num-buffers=%u"                                \
	" ! video/x-raw,width=640,height=360,framerate=25/1"                                       \
	" ! vp8enc deadline=1 cpu-used=4 end-usage=cbr target-bitrate=500000"                      \
	" keyframe-max-dist=250 ! rtpvp8pay pt=96 mtu=1200"

static const char *const patterns[N_CLASSROOMS] = {"smpte", "ball", "snow", "pinwheel"};
static const char *const labels[N_CLASSROOMS] = {"第一小学 3班", "第二小学 1班", "第三中学 2班",
                                                 "希望小学 5班"};

typedef struct {
	const BenchPacket *packet;
	guint classroom;
} Item;

typedef struct {
	GArray *items; /* Item, by time */
	KtWall *wall;
	guint inputs[N_CLASSROOMS];
	gint done;
} Replay;

static gint by_time(gconstpointer a, gconstpointer b)
{
	gint64 ta = ((const Item *)a)->packet->at_us, tb = ((const Item *)b)->packet->at_us;

	return ta < tb ? -1 : ta > tb;
}

static gpointer replay_thread(gpointer data)
{
	Replay *rp = data;
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < rp->items->len; i++) {
		const Item *it = &g_array_index(rp->items, Item, i);
		gint64 wait = start + it->packet->at_us - g_get_monotonic_time();

		if (wait > 0)
			g_usleep((gulong)wait);
		kt_wall_push(rp->wall, rp->inputs[it->classroom], it->packet->data, it->packet->len,
		             KT_CODEC_VP8);
	}
	g_atomic_int_set(&rp->done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	guint seconds = argc > 1 ? (guint)atoi(argv[1]) : 12;
	g_autoptr(GArray) items = g_array_new(FALSE, FALSE, sizeof(Item));
	g_autoptr(GArray) samples = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = NULL;
	GPtrArray *packets[N_CLASSROOMS];
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtWallConfig wc = {0};
	Replay rp = {.items = items};
	KtWallStats st;
	KtRoom *room;
	GThread *thread;
	guint64 bytes = 0;

	if (seconds <= WARM_UP_SECONDS) {
		fprintf(stderr, "usage: %s [SECONDS=12] (more than %d)\n", argv[0],
		        WARM_UP_SECONDS);
		return 2;
	}
	kt_gst_init();
	for (guint i = 0; i < N_CLASSROOMS; i++) {
		g_autofree char *src = g_strdup_printf(CLASSROOM_SOURCE, patterns[i], seconds * 25);

		packets[i] = bench_rtp_generate(labels[i], src, 90000, &bytes);
		for (guint k = 0; k < packets[i]->len; k++) {
			Item it = {g_ptr_array_index(packets[i], k), i};

			g_array_append_val(items, it);
		}
	}
	g_array_sort(items, by_time);
	pool = kt_worker_pool_new(1, &error);
	if (!pool) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	rp.wall = kt_wall_new(room, &wc, &error);
	if (!rp.wall) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	for (guint i = 0; i < N_CLASSROOMS; i++)
		rp.inputs[i] = kt_wall_add_input(rp.wall, labels[i], 90000, NULL);

	thread = g_thread_new("replay", replay_thread, &rp);
	samples = bench_cpu_measure(&rp.done);
	g_thread_join(thread);
	kt_wall_get_stats(rp.wall, &st);
	printf("bench-wall: %u classrooms VP8 640x360 25 fps (%.2f Mbit/s in all) -> wall "
	       "960x540 15 fps VP8 800 kbit/s, %u s\n",
	       N_CLASSROOMS, bytes * 8 / 1e6 / seconds, seconds);
	bench_cpu_print(samples, WARM_UP_SECONDS);
	printf("frames %" G_GUINT64_FORMAT ", packets in %" G_GUINT64_FORMAT
	       " (dropped %" G_GUINT64_FORMAT "), RTP out %" G_GUINT64_FORMAT ", grid %ux%u\n",
	       st.frames, st.packets, st.dropped, st.sent, st.columns, st.rows);
	kt_wall_free(rp.wall);
	kt_room_close(room);
	kt_room_unref(room);
	for (guint i = 0; i < N_CLASSROOMS; i++)
		g_ptr_array_unref(packets[i]);
	return 0;
}
