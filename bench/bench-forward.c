/* Packet-path benchmark: cost per forwarded packet per subscriber.
 *
 * A publisher peer (client end on worker 1) sends a paced 600 kbit/s VP8 +
 * Opus stream over real SRTP/UDP to a room on media worker 0, which forwards
 * it to N real subscriber peers whose client ends (worker 1) decrypt what they
 * get; everything runs over loopback in a private network namespace. The
 * figure is worker 0's thread CPU time divided by the packets it forwarded:
 * everything the server does (GLib/libnice poll and receive, SRTP unprotect,
 * rewrite, RTX cache, SRTP protect, UDP send, RTCP), including the kernel's
 * loopback delivery of what it sends, which a real NIC would not charge to
 * it. For scale, the same thread's cost of a plain sendto() of the same
 * packets to a plain UDP socket is measured and printed too. Allocation calls
 * on worker 0 during the run are counted by interposing malloc.
 *
 *   bench-forward [SUBSCRIBERS=200] [SECONDS=10]   (inside tests/netns-run.sh)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kt-room-private.h"
#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-send-batch.h"
#include "peer-pair.h"

/* ---- allocation counter (ELF interposition over glibc's malloc) ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static __thread gboolean counting;
static guint64 allocations;

void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
	if (counting)
		__atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (counting)
		__atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		__atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	return __libc_realloc(p, n);
}

/* ---- the stream ---- */

#define VIDEO_SSRC 0x1111u
#define AUDIO_SSRC 0x2222u
#define VIDEO_PKT 1100 /* bytes of payload */
#define AUDIO_PKT 90

typedef struct {
	KtRoom *room;
	gint64 start_us, end_us;
	guint64 video_sent, audio_sent;
	guint16 vseq, aseq;
	double cpu_start, cpu_end;
	KtWorker *worker;           /* the measured one */
	guint64 ice_start, ice_end; /* its ICE contexts' runs (kt_worker_get_ice_runs) */
	guint ice_contexts;
	guint64 sends_before;
	GSource *timer;
	gint done;
	KtPeer *publisher;
	double video_pps, audio_pps;
} Feed;

static gint received;

static double thread_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static gsize make_packet(guint8 *buf, gsize cap, Feed *f, gboolean video)
{
	guint16 seq = video ? f->vseq++ : f->aseq++;

	kt_rtp_write_header(buf, cap, video ? 96 : 111, TRUE, seq, seq * (video ? 3000 : 960),
	                    video ? VIDEO_SSRC : AUDIO_SSRC);
	memset(buf + 12, 0x5a, video ? VIDEO_PKT : AUDIO_PKT);
	/* VP8 descriptor: S=1; a keyframe every 2 s (60 packets/s ≈ 120). */
	buf[12] = 0x10;
	buf[13] = (video && seq % 120 == 0) ? 0x00 : 0x01;
	return 12 + (video ? VIDEO_PKT : AUDIO_PKT);
}

/* Worker 1: the publisher's browser, pacing its packets every 5 ms. */
static gboolean on_feed_tick(gpointer data)
{
	Feed *f = data;
	static guint8 buf[1600];
	gint64 now = g_get_monotonic_time();
	double elapsed = (now - f->start_us) / 1e6;

	while (f->video_sent < elapsed * f->video_pps) {
		gsize len = make_packet(buf, sizeof(buf), f, TRUE);

		kt_peer_send_rtp(f->publisher, buf, len, sizeof(buf));
		f->video_sent++;
	}
	while (f->audio_sent < elapsed * f->audio_pps) {
		gsize len = make_packet(buf, sizeof(buf), f, FALSE);

		kt_peer_send_rtp(f->publisher, buf, len, sizeof(buf));
		f->audio_sent++;
	}
	if (now >= f->end_us) {
		g_atomic_int_set(&f->done, TRUE);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* Once a second every peer end reports, as browsers and the room do (the
 * clients on worker 1, the server's ends on worker 0, counted in its CPU).
 * Without it a silent end loses consent after 10 s (kt-peer-consent.c) while
 * 200 pairs connect, stops sending, and the run measured nothing, or (before
 * consent stopped the send path) peers that had failed. */
typedef struct {
	PeerPair *pairs; /* [0] the publisher, then the subscribers */
	gint n;          /* atomic: pairs connected so far */
	gboolean server; /* the server's ends, else the clients */
	GSource *timer;
} Reports;

static gboolean on_report_tick(gpointer data)
{
	Reports *r = data;
	guint8 rr[64];
	KtRtcpReportBlock block = {.ssrc = VIDEO_SSRC};

	for (gint i = 0; i < g_atomic_int_get(&r->n); i++) {
		int n = kt_rtcp_build_rr(rr, sizeof(rr), 0x5000 + (guint32)i, &block, 1);
		KtPeer *peer = r->server ? r->pairs[i].server : r->pairs[i].client;

		if (n > 0)
			kt_peer_send_rtcp(peer, rr, (gsize)n, sizeof(rr));
	}
	return G_SOURCE_CONTINUE;
}

static gboolean start_reports(gpointer data)
{
	Reports *r = data;

	r->timer = g_timeout_source_new(1000);
	g_source_set_callback(r->timer, on_report_tick, r, NULL);
	g_source_attach(r->timer, g_main_context_get_thread_default());
	return G_SOURCE_REMOVE;
}

static gboolean stop_reports(gpointer data)
{
	Reports *r = data;

	g_source_destroy(r->timer);
	g_clear_pointer(&r->timer, g_source_unref);
	return G_SOURCE_REMOVE;
}

static gboolean start_feed(gpointer data)
{
	Feed *f = data;

	f->start_us = g_get_monotonic_time();
	f->timer = g_timeout_source_new(5);
	g_source_set_callback(f->timer, on_feed_tick, f, NULL);
	g_source_attach(f->timer, g_main_context_get_thread_default());
	return G_SOURCE_REMOVE;
}

/* Worker 0: start/stop measuring its own CPU and allocations. */
static gboolean measure_begin(gpointer data)
{
	Feed *f = data;

	f->cpu_start = thread_cpu_seconds();
	f->ice_start = kt_worker_get_ice_runs(f->worker);
	allocations = 0;
	counting = TRUE;
	return G_SOURCE_REMOVE;
}

/* One window of the feed: worker 0's CPU and the room's sends at its end. */
typedef struct {
	KtWorker *worker;
	KtRoom *room;
	double cpu;
	guint64 sends;
} Snapshot;

static gboolean take_snapshot(gpointer data)
{
	Snapshot *snap = data;
	KtRoomCounters c;

	snap->cpu = thread_cpu_seconds();
	kt_room_get_counters(snap->room, &c);
	snap->sends = c.rtp_out;
	return G_SOURCE_REMOVE;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static gboolean measure_end(gpointer data)
{
	Feed *f = data;

	counting = FALSE;
	f->cpu_end = thread_cpu_seconds();
	f->ice_end = kt_worker_get_ice_runs(f->worker);
	f->ice_contexts = kt_worker_get_ice_contexts(f->worker);
	return G_SOURCE_REMOVE;
}

static void count_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	g_atomic_int_inc(&received);
}

static gboolean install_counter(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {count_rtp, NULL, NULL};

	kt_peer_set_media_funcs(data, &funcs, NULL);
	return G_SOURCE_REMOVE;
}

/* The publisher's client end takes what the server sends (RTCP): it counts
 * as consent (kt-peer-consent.c counts only a peer with media functions). */
static gboolean install_listener(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {NULL, NULL, NULL};

	kt_peer_set_media_funcs(data, &funcs, NULL);
	return G_SOURCE_REMOVE;
}

static gboolean clear_media(gpointer data)
{
	kt_peer_set_media_funcs(data, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* The same thread sending the same sizes to @n plain UDP sockets drained by
 * another thread: what the kernel alone charges per packet here. */
static gint drain_stop;

static gpointer drain(gpointer data)
{
	GPtrArray *socks = data;
	guint8 buf[2048];

	while (!g_atomic_int_get(&drain_stop))
		for (guint i = 0; i < socks->len; i++)
			while (recv(GPOINTER_TO_INT(g_ptr_array_index(socks, i)), buf, sizeof(buf),
			            MSG_DONTWAIT) > 0)
				;
	return NULL;
}

typedef struct {
	KtWorker *worker;
	gboolean batched;
	guint64 sent, dropped;
} SendStats;

static gboolean read_send_stats(gpointer data)
{
	SendStats *s = data;

	s->batched = kt_worker_get_send_stats(s->worker, &s->sent, &s->dropped);
	return G_SOURCE_REMOVE;
}

/* @batch NULL: one sendto() per packet; else each round's packets through
 * @batch, one io_uring submission for all subscribers, as the worker sends. */
static double sendto_floor_us(guint n, KtSendBatch *batch)
{
	GPtrArray *socks = g_ptr_array_new();
	struct sockaddr_in *addrs = g_new0(struct sockaddr_in, n);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	guint8 pkt[VIDEO_PKT + 12 + 16] = {0x80};
	guint rounds = 400;
	double c0, c1;
	GThread *t;

	for (guint i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		socklen_t len = sizeof(addrs[i]);

		addrs[i].sin_family = AF_INET;
		addrs[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(fd, (struct sockaddr *)&addrs[i], sizeof(addrs[i]));
		getsockname(fd, (struct sockaddr *)&addrs[i], &len);
		g_ptr_array_add(socks, GINT_TO_POINTER(fd));
	}
	g_atomic_int_set(&drain_stop, 0);
	t = g_thread_new("drain", drain, socks);
	c0 = thread_cpu_seconds();
	for (guint r = 0; r < rounds; r++) {
		for (guint i = 0; i < n; i++) {
			gsize len = r % 2 ? sizeof(pkt) : AUDIO_PKT + 28;

			if (batch)
				kt_send_batch_add(batch, tx, (struct sockaddr *)&addrs[i],
				                  sizeof(addrs[i]), pkt, len);
			else
				sendto(tx, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&addrs[i],
				       sizeof(addrs[i]));
		}
		if (batch)
			kt_send_batch_flush(batch);
		g_usleep(2000); /* about the publisher's packet rate */
	}
	c1 = thread_cpu_seconds();
	g_atomic_int_set(&drain_stop, 1);
	g_thread_join(t);
	for (guint i = 0; i < n; i++)
		close(GPOINTER_TO_INT(g_ptr_array_index(socks, i)));
	close(tx);
	g_ptr_array_unref(socks);
	g_free(addrs);
	return (c1 - c0) * 1e6 / ((double)rounds * n);
}

int main(int argc, char **argv)
{
	guint n_subs = argc > 1 ? (guint)atoi(argv[1]) : 200;
	guint seconds = argc > 2 ? (guint)atoi(argv[2]) : 10;
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w0 = kt_worker_pool_get(pool, 0), *w1 = kt_worker_pool_get(pool, 1);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(w0, &rc);
	PeerPair *pairs = g_new0(PeerPair, n_subs + 1);
	PeerPair *subs = pairs + 1, *pubp = pairs;
	Reports reports = {.pairs = pairs}, server_reports = {.pairs = pairs, .server = TRUE};
	KtRoomTrack pub_tracks[2] = {
	    {.kind = KT_MEDIA_VIDEO,
	     .codec = KT_CODEC_VP8,
	     .pt = 96,
	     .clock_rate = 90000,
	     .remote_ssrc = VIDEO_SSRC,
	     .pli = TRUE,
	     .nack = TRUE},
	    {.kind = KT_MEDIA_AUDIO,
	     .codec = KT_CODEC_OPUS,
	     .pt = 111,
	     .clock_rate = 48000,
	     .remote_ssrc = AUDIO_SSRC},
	};
	KtRoomTrack sub_tracks[2] = {
	    {.kind = KT_MEDIA_VIDEO,
	     .codec = KT_CODEC_VP8,
	     .pt = 96,
	     .rtx_pt = 97,
	     .clock_rate = 90000,
	     .pli = TRUE,
	     .nack = TRUE},
	    {.kind = KT_MEDIA_AUDIO, .codec = KT_CODEC_OPUS, .pt = 111, .clock_rate = 48000},
	};
	/* 600 kbit/s of VP8 in ~1.1 kB packets, Opus at 20 ms. */
	Feed feed = {.room = room,
	             .worker = w0,
	             .video_pps = 600000.0 / 8 / (VIDEO_PKT + 12),
	             .audio_pps = 50};
	KtRoomCounters before, after;
	double cpu, per_packet_us, wall, idle_cpu_per_s = 0, marginal_us;
	SendStats send_stats = {.worker = w0};
	guint n_windows = seconds >= 2 ? MIN(seconds / 2, 16) : 1;
	double window_us[16], sorted_us[16];
	Snapshot prev;
	KtSendBatch *floor_batch;
	guint64 sends;

	/* Their reports are this bench's own (Reports, both ends). */
	for (guint i = 0; i <= n_subs; i++)
		pairs[i].silent = TRUE;
	peer_pair_connect(pubp, w0, w1);
	kt_room_add_publisher(room, pubp->server, pub_tracks, 2);
	kt_worker_invoke_sync(w1, install_listener, pubp->client);
	g_atomic_int_set(&reports.n, 1);
	g_atomic_int_set(&server_reports.n, 1);
	kt_worker_invoke_sync(w1, start_reports, &reports);
	kt_worker_invoke_sync(w0, start_reports, &server_reports);
	for (guint i = 0; i < n_subs; i++) {
		peer_pair_connect(&subs[i], w0, w1);
		kt_worker_invoke_sync(w1, install_counter, subs[i].client);
		kt_room_add_subscriber(room, subs[i].server, sub_tracks, 2);
		g_atomic_int_set(&reports.n, (gint)i + 2);
		g_atomic_int_set(&server_reports.n, (gint)i + 2);
	}
	/* A sync call behind the attach calls: they have run when it returns. */
	kt_worker_invoke_sync(w0, clear_media, pubp->client);
	kt_room_get_counters(room, &before);
	/* The room's idle cost with every subscriber connected (ICE consent
	 * checks, timers, the worker's poll over all sockets): per subscriber
	 * and per second, not per packet. */
	{
		Feed idle = {.worker = w0};
		gint never = 0;

		/* Progress on stderr, so a profiler can attach for one phase. */
		fprintf(stderr, "bench-forward: %u subscribers connected, idle for 2 s\n", n_subs);

		kt_worker_invoke_sync(w0, measure_begin, &idle);
		wait_for(&never, 2000);
		kt_worker_invoke_sync(w0, measure_end, &idle);
		idle_cpu_per_s = (idle.cpu_end - idle.cpu_start) / 2.0;
	}
	fprintf(stderr, "bench-forward: feeding for %u s\n", seconds);
	feed.publisher = pubp->client;
	feed.end_us = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	kt_worker_invoke_sync(w0, measure_begin, &feed);
	kt_worker_invoke_sync(w1, start_feed, &feed);
	/* The run in windows of a second or two, each measured by itself: the
	 * median of them says what this machine does when nothing else gets in
	 * the way, the spread how much something did (this VM's neighbours
	 * move every figure by tens of percent from one minute to the next). */
	prev = (Snapshot){.worker = w0, .room = room};
	kt_worker_invoke_sync(w0, take_snapshot, &prev);
	for (guint i = 0; i < n_windows; i++) {
		Snapshot snap = {.worker = w0, .room = room};

		g_usleep((gulong)(seconds * G_USEC_PER_SEC / n_windows));
		kt_worker_invoke_sync(w0, take_snapshot, &snap);
		window_us[i] = snap.sends > prev.sends
		                   ? (snap.cpu - prev.cpu) * 1e6 / (double)(snap.sends - prev.sends)
		                   : 0;
		prev = snap;
	}
	wait_for(&feed.done, 5000);
	kt_worker_invoke_sync(w0, measure_end, &feed);
	kt_room_get_counters(room, &after);
	fprintf(stderr, "bench-forward: feed done\n");

	sends = after.rtp_out - before.rtp_out;
	/* The last fan-out may still be on its way through worker 1's clients:
	 * give them up to 2 s before counting what they received. */
	for (guint i = 0; i < 2000 && (guint64)g_atomic_int_get(&received) < sends; i++)
		g_usleep(1000);
	cpu = feed.cpu_end - feed.cpu_start;
	wall = seconds;
	per_packet_us = sends ? cpu * 1e6 / sends : 0;
	marginal_us = sends ? (cpu - idle_cpu_per_s * seconds) * 1e6 / sends : 0;
	printf("bench-forward: %u subscribers, %u s, 600 kbit/s VP8 + Opus 20 ms\n", n_subs,
	       seconds);
	printf("  publisher packets in      %" G_GUINT64_FORMAT " (video %" G_GUINT64_FORMAT
	       ", audio %" G_GUINT64_FORMAT ")\n",
	       feed.video_sent + feed.audio_sent, feed.video_sent, feed.audio_sent);
	printf("  packets forwarded         %" G_GUINT64_FORMAT "\n", sends);
	printf("  packets received by subs  %d\n", g_atomic_int_get(&received));
	printf("  worker CPU                %.3f s of %.1f s (%.1f%% of a core)\n", cpu, wall,
	       100 * cpu / wall);
	printf("  sockets read through epoll  worker 0: %u, worker 1: %u\n",
	       kt_worker_get_watch_count(w0), kt_worker_get_watch_count(w1));
	printf("  idle worker CPU, all connected, no media  %.1f%% of a core (%.1f us/s per "
	       "subscriber)\n",
	       100 * idle_cpu_per_s, idle_cpu_per_s * 1e6 / n_subs);
	printf("  cost per forwarded packet per subscriber  %.3f us (all worker CPU / packets)\n",
	       per_packet_us);
	printf("    of which forwarding (minus idle cost)   %.3f us\n", marginal_us);
	memcpy(sorted_us, window_us, n_windows * sizeof(double));
	qsort(sorted_us, n_windows, sizeof(double), compare_doubles);
	printf("    by %.1f s windows: median %.3f us, range %.3f-%.3f us:",
	       (double)seconds / n_windows,
	       n_windows % 2 ? sorted_us[n_windows / 2]
	                     : (sorted_us[n_windows / 2 - 1] + sorted_us[n_windows / 2]) / 2,
	       sorted_us[0], sorted_us[n_windows - 1]);
	for (guint i = 0; i < n_windows; i++)
		printf(" %.2f", window_us[i]);
	printf("\n");
	printf("  worker 0 ran one of its %u ICE contexts %" G_GUINT64_FORMAT
	       " times (libnice's timers walked only then)\n",
	       feed.ice_contexts, feed.ice_end - feed.ice_start);
	kt_worker_invoke_sync(w0, read_send_stats, &send_stats);
	if (send_stats.batched)
		printf("  worker 0 sent through io_uring batches   %" G_GUINT64_FORMAT
		       " datagrams, %" G_GUINT64_FORMAT " dropped\n",
		       send_stats.sent, send_stats.dropped);
	else
		printf("  worker 0 sent each datagram by itself (sendto)\n");
	printf(
	    "    plain sendto() of the same packets      %.3f us (kernel floor on this machine)\n",
	    sendto_floor_us(n_subs, NULL));
	floor_batch = kt_send_batch_new(256, NULL);
	if (floor_batch)
		printf(
		    "    the same through io_uring, one batch    %.3f us (the batched floor, %s)\n",
		    sendto_floor_us(n_subs, floor_batch),
		    kt_send_batch_get_send_with_addr(floor_batch) ? "IORING_OP_SEND + address"
		                                                  : "IORING_OP_SENDMSG");
	g_clear_pointer(&floor_batch, kt_send_batch_free);
	printf("  subscriber streams per core (this stream)  %.0f\n",
	       per_packet_us > 0 ? 1e6 / (per_packet_us * (feed.video_pps + feed.audio_pps)) : 0);
	printf("  allocations on the packet path            %" G_GUINT64_FORMAT
	       " (%.4f per packet)\n",
	       allocations, sends ? (double)allocations / sends : 0);

	kt_worker_invoke_sync(w1, stop_reports, &reports);
	kt_worker_invoke_sync(w0, stop_reports, &server_reports);
	kt_room_close(room);
	kt_room_unref(room);
	for (guint i = 0; i < n_subs; i++) {
		kt_worker_invoke_sync(w1, clear_media, subs[i].client);
		peer_pair_close(&subs[i]);
	}
	kt_worker_invoke_sync(w1, clear_media, pubp->client);
	peer_pair_close(pubp);
	g_free(pairs);
	return 0;
}
