/* Mix-minus benchmark: the CPU cost of one lesson's mix-minus pipeline
 * (pipelines/kt-mix-minus.h) with a teacher and N classrooms, every
 * classroom with its own output: N + 1 Opus inputs decoded, N mixes of N
 * inputs each, N Opus encoders, N feeds into room sources.
 *
 * First, not measured, 20 ms Opus RTP (32 kbit/s, a different tone per
 * microphone) is generated into memory. Then a thread replays it in real
 * time, as the media worker pushes a room tap's packets, and the process's
 * CPU time (user + sys, getrusage) is sampled every second; the median of
 * the seconds after the first two (start-up) is printed as % of one core,
 * with the lowest and highest. "replay only" is the harness itself (the
 * room and its worker, the replay thread, no mix).
 *
 *   bench-mix-minus [SECONDS=10] [CLASSROOMS=10]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench-rtp.h"
#include "kt-gst.h"
#include "kt-mix-minus.h"
#include "kt-room.h"

#define MAX_INPUTS 64
#define WARM_UP_S 2

/* A packet of one microphone, for replaying all of them in time order. */
typedef struct {
	gint64 at_us;
	guint tag; /* the input */
	BenchPacket *packet;
} Tagged;

/* One microphone's Opus RTP, appended to @packets (Tagged *); @all keeps the
 * generated arrays. */
static void generate(GPtrArray *packets, GPtrArray *all, guint input, guint seconds)
{
	g_autofree char *desc = g_strdup_printf(
	    "audiotestsrc wave=sine freq=%u volume=0.1 samplesperbuffer=960 num-buffers=%u"
	    " ! audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000 frame-size=20"
	    " ! rtpopuspay pt=111",
	    300 + 97 * input, 50 * seconds);
	g_autofree char *name = g_strdup_printf("microphone %u", input);
	guint64 bytes;
	GPtrArray *mine = bench_rtp_generate(name, desc, 48000, &bytes);

	for (guint i = 0; i < mine->len; i++) {
		BenchPacket *b = g_ptr_array_index(mine, i);
		Tagged *t = g_new(Tagged, 1);

		*t = (Tagged){.at_us = b->at_us, .tag = input, .packet = b};
		g_ptr_array_add(packets, t);
	}
	g_ptr_array_add(all, mine);
}

static gint by_time(gconstpointer a, gconstpointer b)
{
	const Tagged *x = *(Tagged *const *)a, *y = *(Tagged *const *)b;

	return x->at_us < y->at_us ? -1 : x->at_us > y->at_us;
}

typedef struct {
	GPtrArray *packets; /* Tagged *, by time */
	KtMixMinus *mm;     /* NULL: replay only */
	guint inputs[MAX_INPUTS];
	gint done;
} Replay;

static gboolean wake_main(gpointer data)
{
	(void)data;
	return G_SOURCE_REMOVE;
}

/* The media worker's part: each packet at its time. */
static gpointer replay_thread(gpointer data)
{
	Replay *rp = data;
	gint64 start = g_get_monotonic_time();

	for (guint i = 0; i < rp->packets->len; i++) {
		const Tagged *t = g_ptr_array_index(rp->packets, i);
		gint64 wait = start + t->at_us - g_get_monotonic_time();

		if (wait > 0)
			g_usleep((gulong)wait);
		if (rp->mm)
			kt_mix_minus_push(rp->mm, rp->inputs[t->tag], t->packet->data,
			                  t->packet->len, KT_CODEC_OPUS);
	}
	g_atomic_int_set(&rp->done, 1);
	g_idle_add(wake_main, NULL);
	return NULL;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static gint by_value(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

typedef struct {
	GArray *samples; /* double: % of one core in each second */
	double cpu;
	gint64 at;
} Sampler;

static gboolean on_second(gpointer data)
{
	Sampler *s = data;
	double cpu = cpu_seconds();
	gint64 now = g_get_monotonic_time();
	double pct = 100.0 * (cpu - s->cpu) / ((now - s->at) / 1e6);

	g_array_append_val(s->samples, pct);
	s->cpu = cpu;
	s->at = now;
	return G_SOURCE_CONTINUE;
}

static void run(const char *name, KtRoom *room, GPtrArray *packets, guint classrooms, gboolean mix)
{
	Replay rp = {.packets = packets};
	Sampler s = {.samples = g_array_new(FALSE, FALSE, sizeof(double))};
	KtMixMinusStats st = {0};
	guint timer, skip;
	GThread *thread;

	if (mix) {
		GError *error = NULL;

		rp.mm = kt_mix_minus_new(room, NULL, &error);
		if (!rp.mm) {
			fprintf(stderr, "%s\n", error->message);
			exit(1);
		}
		for (guint i = 0; i <= classrooms; i++) {
			g_autofree char *owner =
			    i ? g_strdup_printf("classroom-%u", i) : g_strdup("teacher");

			rp.inputs[i] = kt_mix_minus_add_input(rp.mm, owner, 48000, NULL);
			if (i > 0) {
				guint32 ssrc, rtx;
				guint source =
				    kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);

				kt_mix_minus_add_output(rp.mm, owner, source, NULL);
			}
		}
	}
	s.cpu = cpu_seconds();
	s.at = g_get_monotonic_time();
	timer = g_timeout_add(1000, on_second, &s);
	thread = g_thread_new("replay", replay_thread, &rp);
	while (!g_atomic_int_get(&rp.done))
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(thread);
	g_source_remove(timer);
	if (rp.mm) {
		kt_mix_minus_get_stats(rp.mm, &st);
		kt_mix_minus_free(rp.mm);
	}
	skip = MIN(WARM_UP_S, s.samples->len > 1 ? s.samples->len - 1 : 0);
	g_array_remove_range(s.samples, 0, skip);
	g_array_sort(s.samples, by_value);
	if (s.samples->len == 0) {
		printf("%-40s too short to measure\n", name);
	} else {
		printf("%-40s %6.1f %%  (%.1f..%.1f over %u s)", name,
		       g_array_index(s.samples, double, s.samples->len / 2),
		       g_array_index(s.samples, double, 0),
		       g_array_index(s.samples, double, s.samples->len - 1), s.samples->len);
		if (mix)
			printf("   %" G_GUINT64_FORMAT " packets in, %" G_GUINT64_FORMAT
			       " dropped, %" G_GUINT64_FORMAT " out",
			       st.packets, st.dropped, st.out_packets);
		printf("\n");
	}
	fflush(stdout);
	g_array_unref(s.samples);
}

int main(int argc, char **argv)
{
	guint seconds = argc > 1 ? (guint)atoi(argv[1]) : 10;
	guint classrooms = argc > 2 ? (guint)atoi(argv[2]) : 10;
	g_autoptr(GPtrArray) packets = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) generated =
	    g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = NULL;
	g_autofree char *name = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room;
	double gen;

	if (seconds <= WARM_UP_S || classrooms == 0 || classrooms >= MAX_INPUTS) {
		fprintf(stderr, "usage: %s [SECONDS=10 (> %d)] [CLASSROOMS=10 (1..%d)]\n", argv[0],
		        WARM_UP_S, MAX_INPUTS - 1);
		return 2;
	}
	kt_gst_init();
	gen = cpu_seconds();
	for (guint i = 0; i <= classrooms; i++)
		generate(packets, generated, i, seconds);
	g_ptr_array_sort(packets, by_time);
	printf("bench-mix-minus: %u s, a teacher and %u classrooms: %u Opus inputs (32 kbit/s, "
	       "20 ms), %u outputs (generated in %.1f s of CPU, not counted)\n",
	       seconds, classrooms, classrooms + 1, classrooms, cpu_seconds() - gen);
	pool = kt_worker_pool_new(1, &error);
	if (!pool) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	printf("%-40s %8s\n", "configuration", "CPU (% of one core, median)");
	run("replay only", room, packets, classrooms, FALSE);
	name = g_strdup_printf("mix-minus: %u inputs, %u outputs", classrooms + 1, classrooms);
	run(name, room, packets, classrooms, TRUE);
	kt_room_close(room);
	kt_room_unref(room);
	return 0;
}
