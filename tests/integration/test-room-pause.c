/* Priorities when a subscriber's link is short, for video without simulcast (issue 5),
 * with real peers (ICE + DTLS + SRTP over loopback).
 *
 * One publisher sends two single-layer VP8 streams: "slides" (~150 kbit/s, priority 0,
 * as courseware) and "camera" (~500 kbit/s, priority 2, as a classroom camera). Two
 * subscribers receive both, with RTX:
 *  - "full" keeps an estimate of 5 Mbit/s throughout and must see both streams
 *    without a gap whatever happens to the other;
 *  - "short" is given 300 kbit/s: after 2 s short (not at once) its camera pauses
 *    and its slides go on; given 5 Mbit/s again, the camera resumes (not sooner than
 *    3 s after the pause) at a keyframe with the next sequence number, so its jitter
 *    buffer sees no gap and NACKs nothing of the pause. A NACK after the resume is
 *    answered with the same bytes; one for a packet of before the pause is not.
 *  - paused again, "short" then loses its estimate altogether (no transport-cc):
 *    the camera resumes, since nothing then says it does not fit. */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-room.h"
#include "peer-pair.h"

#define N_STREAMS 2
#define TAG_OFFSET 11
#define MAX_PAYLOAD 1100
#define RTX_PT 97

typedef struct {
	const char *name;
	guint32 ssrc;
	guint frame_bytes; /* at 30 frames/s */
	guint priority;
} StreamSpec;

static const StreamSpec streams[N_STREAMS] = {
    {"slides", 0x51DE5001, 625, 0},
    {"camera", 0xCA3E2A01, 2100, 2},
};

typedef struct {
	KtPeer *peer;
	guint16 seq[N_STREAMS];
	guint32 ts[N_STREAMS];
	guint frame;
	gint force_key[N_STREAMS];
	GSource *timer;
} Publisher;

/* What one subscriber sees of one stream; written on the client worker. */
typedef struct {
	gint packets;
	gboolean have;
	guint16 last_seq;
	gint64 last_rx_us;
	gint max_gap;     /* in sequence numbers, outside resumes */
	gint resumes;     /* nothing for 300 ms, then packets again */
	gint bad_resumes; /* not at a keyframe, or not the next sequence number */
	gint resume_seq;  /* first of the latest resume, -1 = none */
	/* One packet kept, to compare with its retransmission. */
	gint keep_seq;
	guint8 kept[1500];
	gsize kept_len;
	gint resent_same, resent_other, resent_any;
} StreamRx;

typedef struct {
	KtPeer *peer;
	guint32 ssrc[N_STREAMS], rtx_ssrc[N_STREAMS]; /* Ketang's, per stream */
	StreamRx s[N_STREAMS];
} Rx;

static void send_frame(Publisher *pub, guint i, gboolean key)
{
	guint left = streams[i].frame_bytes;
	gboolean first = TRUE;

	while (left > 0) {
		guint8 pkt[1500] = {0};
		guint n = MIN(left, MAX_PAYLOAD);
		guint8 *pl = pkt + 12;

		left -= n;
		kt_rtp_write_header(pkt, sizeof(pkt), 96, left == 0, pub->seq[i]++, pub->ts[i],
		                    streams[i].ssrc);
		memset(pl, 0x55, n);
		pl[0] = first ? 0x10 : 0x00; /* VP8 descriptor: S on the frame's first packet */
		if (first) {
			pl[1] = key ? 0x00 : 0x01; /* frame tag: P=0 is a keyframe */
			pl[2] = pl[3] = 0;
			if (key) {
				static const guint8 start[] = {0x9d, 0x01, 0x2a, 0x40,
				                               0x01, 0xb4, 0x00};

				memcpy(pl + 4, start, sizeof(start)); /* 320x180 */
			}
		}
		pl[TAG_OFFSET] = (guint8)(pub->seq[i] & 0xff); /* tells packets apart */
		kt_peer_send_rtp(pub->peer, pkt, 12 + n, sizeof(pkt));
		first = FALSE;
	}
}

/* Client worker, 30 frames/s: a keyframe each 4 s or when asked for. */
static gboolean publish_tick(gpointer data)
{
	Publisher *pub = data;

	for (guint i = 0; i < N_STREAMS; i++) {
		send_frame(pub, i,
		           pub->frame % 120 == 0 || g_atomic_int_exchange(&pub->force_key[i], 0));
		pub->ts[i] += 3000;
	}
	pub->frame++;
	return G_SOURCE_CONTINUE;
}

static void on_publisher_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Publisher *pub = data;
	KtRtcpIter it;
	KtRtcpChunk c;

	(void)peer;
	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		if (c.type != KT_RTCP_PSFB || c.count != KT_RTCP_FB_PLI)
			continue;
		for (guint i = 0; i < N_STREAMS; i++)
			if (kt_rtcp_fb_get_media_ssrc(&c) == streams[i].ssrc)
				g_atomic_int_set(&pub->force_key[i], 1);
	}
}

static void on_resent(StreamRx *s, const KtRtpHeader *h, const guint8 *pl)
{
	KtRtpHeader k;

	g_atomic_int_inc(&s->resent_any);
	/* RFC 4588 §4: the original sequence number, then the kept packet's payload. */
	if (!s->kept_len || kt_rtp_read_be16(pl) != (guint16)s->keep_seq ||
	    kt_rtp_parse(s->kept, s->kept_len, &k) < 0)
		return;
	if (h->payload_len == k.payload_len + 2 && h->timestamp == k.timestamp &&
	    memcmp(pl + 2, s->kept + k.payload_offset, k.payload_len) == 0)
		g_atomic_int_inc(&s->resent_same);
	else
		g_atomic_int_inc(&s->resent_other);
}

static void on_rx_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Rx *rx = data;
	KtRtpHeader h;
	const guint8 *pl;
	gint64 now = g_get_monotonic_time();

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) < 0 || h.payload_len <= TAG_OFFSET)
		return;
	pl = buf + h.payload_offset;
	for (guint i = 0; i < N_STREAMS; i++) {
		StreamRx *s = &rx->s[i];

		if (h.payload_type == RTX_PT && h.ssrc == rx->rtx_ssrc[i]) {
			on_resent(s, &h, pl);
			return;
		}
		if (h.ssrc != rx->ssrc[i] || h.payload_type == RTX_PT)
			continue;
		if (s->have && now - s->last_rx_us > 300 * 1000) {
			if ((guint16)(h.seq - s->last_seq) != 1 ||
			    !kt_rtp_vp8_is_keyframe(pl, h.payload_len))
				g_atomic_int_inc(&s->bad_resumes);
			g_atomic_int_set(&s->resume_seq, h.seq);
			g_atomic_int_inc(&s->resumes);
		} else if (s->have && (gint16)(h.seq - s->last_seq) > 0) {
			s->max_gap = MAX(s->max_gap, (guint16)(h.seq - s->last_seq));
		}
		if (g_atomic_int_get(&s->keep_seq) == h.seq && !s->kept_len &&
		    len <= sizeof(s->kept)) {
			memcpy(s->kept, buf, len);
			s->kept_len = len;
		}
		s->have = TRUE;
		s->last_seq = h.seq;
		s->last_rx_us = now;
		g_atomic_int_inc(&s->packets);
		return;
	}
}

typedef struct {
	KtWorkerPool *pool;
	KtWorker *w, *cw;
	KtRoom *room;
	guint source[N_STREAMS];
	PeerPair pub, sub[2];
	Publisher publisher;
	Rx rx[2]; /* full, short */
} Fixture;

static gboolean start(gpointer data)
{
	static const KtPeerMediaFuncs pub_funcs = {.rtcp = on_publisher_rtcp};
	static const KtPeerMediaFuncs rx_funcs = {.rtp = on_rx_rtp};
	Fixture *f = data;

	kt_peer_set_media_funcs(f->publisher.peer, &pub_funcs, &f->publisher);
	for (guint i = 0; i < 2; i++)
		kt_peer_set_media_funcs(f->rx[i].peer, &rx_funcs, &f->rx[i]);
	f->publisher.timer = g_timeout_source_new(33);
	g_source_set_callback(f->publisher.timer, publish_tick, &f->publisher, NULL);
	g_source_attach(f->publisher.timer, kt_worker_get_context(f->cw));
	return G_SOURCE_REMOVE;
}

static gboolean stop(gpointer data)
{
	Fixture *f = data;

	g_source_destroy(f->publisher.timer);
	g_source_unref(f->publisher.timer);
	kt_peer_set_media_funcs(f->publisher.peer, NULL, NULL);
	for (guint i = 0; i < 2; i++)
		kt_peer_set_media_funcs(f->rx[i].peer, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static void setup(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 2000};
	KtRoomTrack pub[N_STREAMS], sub[N_STREAMS];

	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->cw = kt_worker_pool_get(f->pool, 1);
	f->room = kt_room_new(f->w, &rc);
	for (guint i = 0; i < N_STREAMS; i++) {
		guint32 ssrc, rtx_ssrc;

		f->source[i] = kt_room_add_source(f->room, KT_MEDIA_VIDEO, &ssrc, &rtx_ssrc);
		kt_room_set_source_priority(f->room, f->source[i], streams[i].priority);
		for (guint r = 0; r < 2; r++) {
			f->rx[r].ssrc[i] = ssrc;
			f->rx[r].rtx_ssrc[i] = rtx_ssrc;
			f->rx[r].s[i].keep_seq = -1;
			f->rx[r].s[i].resume_seq = -1;
		}
		pub[i] = (KtRoomTrack){.source = f->source[i],
		                       .kind = KT_MEDIA_VIDEO,
		                       .codec = KT_CODEC_VP8,
		                       .pt = 96,
		                       .clock_rate = 90000,
		                       .remote_ssrc = streams[i].ssrc,
		                       .nack = TRUE,
		                       .pli = TRUE};
		sub[i] = (KtRoomTrack){.source = f->source[i],
		                       .kind = KT_MEDIA_VIDEO,
		                       .codec = KT_CODEC_VP8,
		                       .pt = 96,
		                       .rtx_pt = RTX_PT,
		                       .clock_rate = 90000,
		                       .nack = TRUE,
		                       .pli = TRUE};
	}
	peer_pair_connect(&f->pub, f->w, f->cw);
	for (guint r = 0; r < 2; r++) {
		peer_pair_connect(&f->sub[r], f->w, f->cw);
		f->rx[r].peer = f->sub[r].client;
		kt_room_add_subscriber(f->room, f->sub[r].server, sub, N_STREAMS);
		kt_room_set_subscriber_estimate(f->room, f->sub[r].server, 5000000);
	}
	kt_room_add_publisher(f->room, f->pub.server, pub, N_STREAMS);
	f->publisher.peer = f->pub.client;
	for (guint i = 0; i < N_STREAMS; i++) {
		f->publisher.seq[i] = g_random_int_range(0, 0x10000);
		f->publisher.ts[i] = g_random_int();
	}
	kt_worker_invoke_sync(f->cw, start, f);
}

static void teardown(Fixture *f)
{
	kt_worker_invoke_sync(f->cw, stop, f);
	kt_room_close(f->room);
	kt_room_unref(f->room);
	peer_pair_close(&f->pub);
	for (guint r = 0; r < 2; r++)
		peer_pair_close(&f->sub[r]);
	kt_worker_pool_free(f->pool);
}

static guint64 pauses(KtRoom *room)
{
	KtRoomCounters c;

	kt_room_get_counters(room, &c);
	return c.video_pauses;
}

/* Waits (up to @timeout_ms) until the room counted @want video pauses; how long it took. */
static gint64 wait_pauses(KtRoom *room, guint64 want, guint timeout_ms)
{
	gint64 start = g_get_monotonic_time();

	while (pauses(room) < want && g_get_monotonic_time() - start < timeout_ms * 1000)
		g_usleep(50 * 1000);
	g_assert_cmpuint(pauses(room), ==, want);
	return g_get_monotonic_time() - start;
}

static void test_camera_pauses_first(void)
{
	Fixture *f = g_new0(Fixture, 1);
	StreamRx *full_cam = &f->rx[0].s[1], *full_slides = &f->rx[0].s[0];
	StreamRx *cam = &f->rx[1].s[1], *slides = &f->rx[1].s[0];
	gint cam_at, slides_at, full_at, resume_seq;
	gint64 took, raised;
	guint16 before_pause;

	setup(f);
	for (guint r = 0; r < 2; r++)
		for (guint i = 0; i < N_STREAMS; i++)
			g_assert_true(wait_count(&f->rx[r].s[i].packets, 60, 10000));
	g_usleep(1200 * 1000); /* the sources' bitrates measured (1 s windows) */

	/* 300 kbit/s: the slides (150) fit, the camera (500) does not. */
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 300000);
	took = wait_pauses(f->room, 1, 5000);
	g_test_message("short: camera paused %" G_GINT64_FORMAT " ms after its estimate fell",
	               took / 1000);
	g_assert_cmpint(took, >=,
	                2 * G_USEC_PER_SEC - 100000); /* a shortage of 2 s, not a sample */
	g_usleep(200 * 1000);                         /* what was already on its way */
	before_pause = cam->last_seq;
	cam_at = g_atomic_int_get(&cam->packets);
	slides_at = g_atomic_int_get(&slides->packets);
	full_at = g_atomic_int_get(&full_cam->packets);
	g_usleep(1000 * 1000);
	g_assert_cmpint(g_atomic_int_get(&cam->packets), ==, cam_at);
	g_assert_cmpint(g_atomic_int_get(&slides->packets), >=, slides_at + 20);
	g_assert_cmpint(g_atomic_int_get(&full_cam->packets), >=, full_at + 40);

	/* Back to 5 Mbit/s: the camera resumes at a keyframe, numbering on. */
	raised = g_get_monotonic_time();
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 5000000);
	g_assert_true(wait_count(&cam->resumes, 1, 8000));
	g_test_message("short: camera resumed %" G_GINT64_FORMAT " ms after its estimate rose",
	               (g_get_monotonic_time() - raised) / 1000);
	g_assert_cmpint(cam->bad_resumes, ==, 0);
	resume_seq = g_atomic_int_get(&cam->resume_seq);
	g_assert_cmpint(resume_seq, ==, (guint16)(before_pause + 1));

	/* NACK a packet after the resume: its own numbering, the same bytes back. */
	g_atomic_int_set(&cam->keep_seq, (guint16)(cam->last_seq + 5));
	g_assert_true(wait_count(&cam->packets, g_atomic_int_get(&cam->packets) + 30, 5000));
	g_assert_cmpuint(cam->kept_len, >, 0);
	peer_send_nack(f->cw, f->rx[1].peer, f->rx[1].ssrc[1],
	               (guint16)g_atomic_int_get(&cam->keep_seq));
	g_assert_true(wait_count(&cam->resent_same, 1, 3000));
	g_assert_cmpint(g_atomic_int_get(&cam->resent_other), ==, 0);
	/* One of before the pause: numbered otherwise, and useless to the decoder. */
	peer_send_nack(f->cw, f->rx[1].peer, f->rx[1].ssrc[1], (guint16)(before_pause - 2));
	g_usleep(300 * 1000);
	g_assert_cmpint(g_atomic_int_get(&cam->resent_any), ==, 1);

	/* Paused again, then no estimate at all: nothing says it does not fit. */
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 300000);
	wait_pauses(f->room, 2, 5000);
	g_usleep(3000 * 1000); /* a paused stream resumes 3 s after its pause at the earliest */
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 0);
	g_assert_true(wait_count(&cam->resumes, 2, 5000));
	g_assert_cmpint(cam->bad_resumes, ==, 0);

	/* The other subscriber saw none of it; the slides never paused. */
	g_test_message("full: camera %d packets, max gap %d; slides %d packets, max gap %d; "
	               "short's slides max gap %d",
	               g_atomic_int_get(&full_cam->packets), full_cam->max_gap,
	               g_atomic_int_get(&full_slides->packets), full_slides->max_gap,
	               slides->max_gap);
	g_assert_cmpint(full_cam->resumes, ==, 0);
	g_assert_cmpint(full_cam->max_gap, ==, 1);
	g_assert_cmpint(full_slides->resumes, ==, 0);
	g_assert_cmpint(slides->resumes, ==, 0);
	g_assert_cmpint(slides->max_gap, ==, 1);
	teardown(f);
	g_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-pause/camera-pauses-first", test_camera_pauses_first);
	return g_test_run();
}
