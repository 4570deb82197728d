/* Loss between a real publisher peer, a room and a real subscriber peer
 * (ICE + DTLS + SRTP over loopback), issue 5:
 * - subscriber loss reaches the publisher's audio encoder (Opus FEC): the
 *   subscriber's receiver reports say it loses 40 %, then 10 %; the room's
 *   receiver reports to the publisher carry that for the audio stream, bounded
 *   to 25 %, and not for the video stream (its own uplink figure, 0 here);
 * - uplink loss is asked for again: the publisher leaves three packets out, the
 *   room NACKs them, the publisher resends them, the subscriber gets them all;
 * - a subscriber's NACK repeated before a round trip could have passed is
 *   answered once; after that, again. */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-room.h"
#include "peer-pair.h"

#define AUDIO_SSRC 5001u
#define VIDEO_SSRC 5002u
#define VIDEO_RTX_SSRC 5003u

typedef struct {
	KtPeer *publisher, *subscriber; /* client sides */
	guint32 ketang_audio, ketang_video;
	guint16 seq;
	gint reported_loss; /* what the subscriber's RRs say, of 256 */
	/* From the room's RRs to the publisher (client worker). */
	gint audio_loss, video_loss;
	gint rrs;
	GSource *timer; /* client worker */
} Loss;

static void put32(guint8 *p, guint32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xFF;
	p[2] = (v >> 8) & 0xFF;
	p[3] = v & 0xFF;
}

static void send_rtp(KtPeer *peer, guint8 pt, guint32 ssrc, guint16 seq, gboolean keyframe)
{
	guint8 pkt[200 + 64] = {0x80, pt, seq >> 8, seq & 0xFF};

	put32(pkt + 4, seq * 960u);
	put32(pkt + 8, ssrc);
	pkt[12] = 0x10; /* VP8: start of partition 0 */
	pkt[13] = keyframe ? 0x00 : 0x01;
	kt_peer_send_rtp(peer, pkt, 200, sizeof(pkt));
}

/* An RTX copy (RFC 4588 §4) of send_rtp()'s video packet @osn, as a browser pads its
 * bandwidth probes: RTX payload type 97, its own SSRC and sequence. */
static void send_rtx_copy(KtPeer *peer, guint16 rtx_seq, guint16 osn)
{
	guint8 pkt[202 + 64] = {0x80, 97, rtx_seq >> 8, rtx_seq & 0xFF};

	put32(pkt + 4, osn * 960u);
	put32(pkt + 8, VIDEO_RTX_SSRC);
	pkt[12] = osn >> 8;
	pkt[13] = osn & 0xFF;
	pkt[14] = 0x10;
	pkt[15] = 0x01;
	kt_peer_send_rtp(peer, pkt, 202, sizeof(pkt));
}

/* Client worker, every 20 ms: the publisher's media and the subscriber's report. */
static gboolean tick(gpointer data)
{
	Loss *l = data;
	KtRtcpReportBlock blocks[2] = {
	    {.ssrc = l->ketang_audio, .fraction_lost = (guint8)g_atomic_int_get(&l->reported_loss)},
	    {.ssrc = l->ketang_video, .fraction_lost = (guint8)g_atomic_int_get(&l->reported_loss)},
	};
	guint8 rr[128];
	int n;

	l->seq++;
	send_rtp(l->publisher, 111, AUDIO_SSRC, l->seq, FALSE);
	send_rtp(l->publisher, 96, VIDEO_SSRC, l->seq, l->seq % 30 == 1);
	if (l->seq % 10 == 0) {
		n = kt_rtcp_build_rr(rr, sizeof(rr), 0x5b5b5b5b, blocks, 2);
		g_assert_cmpint(n, >, 0);
		kt_peer_send_rtcp(l->subscriber, rr, n, sizeof(rr));
	}
	return G_SOURCE_CONTINUE;
}

/* Client worker: the room's receiver reports to the publisher. */
static void on_publisher_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Loss *l = data;
	KtRtcpIter it;
	KtRtcpChunk c;
	KtRtcpReportBlock b;

	(void)peer;
	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		if (c.type != KT_RTCP_RR)
			continue;
		for (guint i = 0; i < c.count && kt_rtcp_get_report_block(&c, i, &b) >= 0; i++) {
			if (b.ssrc == AUDIO_SSRC)
				g_atomic_int_set(&l->audio_loss, b.fraction_lost);
			else if (b.ssrc == VIDEO_SSRC)
				g_atomic_int_set(&l->video_loss, b.fraction_lost);
		}
		g_atomic_int_inc(&l->rrs);
	}
}

/* A room on one worker; a publisher and a subscriber pair, their client sides on
 * another worker. */
typedef struct {
	KtWorkerPool *pool;
	KtWorker *w, *cw;
	KtRoom *room;
	PeerPair pub, sub;
} Fixture;

static void fixture_setup(Fixture *f, const KtRoomTrack *pub, guint n_pub, const KtRoomTrack *sub,
                          guint n_sub)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {
	    .keyframe_interval_ms = 300, .rtx_cache_ms = 1000, .max_playout_delay_ms = 800};

	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->cw = kt_worker_pool_get(f->pool, 1);
	f->room = kt_room_new(f->w, &rc);
	peer_pair_connect(&f->pub, f->w, f->cw);
	peer_pair_connect(&f->sub, f->w, f->cw);
	kt_room_add_publisher(f->room, f->pub.server, pub, n_pub);
	kt_room_add_subscriber(f->room, f->sub.server, sub, n_sub);
}

static void fixture_teardown(Fixture *f)
{
	kt_room_close(f->room);
	kt_room_unref(f->room);
	peer_pair_close(&f->pub);
	peer_pair_close(&f->sub);
	kt_worker_pool_free(f->pool);
}

/* Client worker: a periodic sender, kept in *slot until stop_timer(). */
static void start_timer(GSource **slot, KtPeer *peer, guint ms, GSourceFunc func, gpointer data)
{
	*slot = g_timeout_source_new(ms);
	g_source_set_callback(*slot, func, data, NULL);
	g_source_attach(*slot, kt_worker_get_context(kt_peer_get_worker(peer)));
}

static void stop_timer(GSource **slot)
{
	g_source_destroy(*slot);
	g_clear_pointer(slot, g_source_unref);
}

static gboolean start(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtcp = on_publisher_rtcp};
	Loss *l = data;

	kt_peer_set_media_funcs(l->publisher, &funcs, l);
	start_timer(&l->timer, l->publisher, 20, tick, l);
	return G_SOURCE_REMOVE;
}

static gboolean stop_ticking(gpointer data)
{
	Loss *l = data;

	stop_timer(&l->timer);
	kt_peer_set_media_funcs(l->publisher, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* The teacher's audio and VP8 video, as published and as received. */
static void audio_video_tracks(KtRoomTrack pub[2], KtRoomTrack sub[2])
{
	pub[0] = (KtRoomTrack){.kind = KT_MEDIA_AUDIO,
	                       .codec = KT_CODEC_OPUS,
	                       .pt = 111,
	                       .clock_rate = 48000,
	                       .remote_ssrc = AUDIO_SSRC};
	pub[1] = (KtRoomTrack){.kind = KT_MEDIA_VIDEO,
	                       .codec = KT_CODEC_VP8,
	                       .pt = 96,
	                       .clock_rate = 90000,
	                       .remote_ssrc = VIDEO_SSRC,
	                       .pli = TRUE};
	sub[0] = (KtRoomTrack){
	    .kind = KT_MEDIA_AUDIO, .codec = KT_CODEC_OPUS, .pt = 111, .clock_rate = 48000};
	sub[1] = (KtRoomTrack){.kind = KT_MEDIA_VIDEO,
	                       .codec = KT_CODEC_VP8,
	                       .pt = 96,
	                       .clock_rate = 90000,
	                       .pli = TRUE};
}

static void test_subscriber_loss_reaches_publisher_audio(void)
{
	KtRoomTrack pub_tracks[2], sub_tracks[2];
	Fixture f = {0};
	Loss *l = g_new0(Loss, 1);

	audio_video_tracks(pub_tracks, sub_tracks);
	fixture_setup(&f, pub_tracks, 2, sub_tracks, 2);
	l->publisher = f.pub.client;
	l->subscriber = f.sub.client;
	l->ketang_audio = kt_room_get_ssrc(f.room, KT_MEDIA_AUDIO);
	l->ketang_video = kt_room_get_ssrc(f.room, KT_MEDIA_VIDEO);
	l->audio_loss = l->video_loss = -1;
	g_atomic_int_set(&l->reported_loss, 102); /* 40 % */
	kt_worker_invoke_sync(f.cw, start, l);

	/* 40 % comes through as the 25 % bound, for audio only. */
	g_assert_true(wait_value(&l->audio_loss, 64, 5000));
	g_assert_cmpint(g_atomic_int_get(&l->video_loss), ==, 0);
	/* Below the bound it is passed on as it is. */
	g_atomic_int_set(&l->reported_loss, 26); /* 10 % */
	g_assert_true(wait_value(&l->audio_loss, 26, 5000));
	g_assert_cmpint(g_atomic_int_get(&l->video_loss), ==, 0);
	g_test_message("%d receiver reports to the publisher", g_atomic_int_get(&l->rrs));

	kt_worker_invoke_sync(f.cw, stop_ticking, l);
	fixture_teardown(&f);
	g_free(l);
}

typedef struct {
	KtPeer *publisher, *subscriber; /* client sides */
	guint16 next;
	GSource *timer;
	gint nacked[64]; /* seqs the room asked for (publisher's numbering) */
	gint nacks;
	gint got[64]; /* distinct seqs (Ketang's numbering, offset removed) at the subscriber */
	gint distinct;
	gint first_out; /* Ketang's number for seq 1, -1 before */
} Uplink;

#define UPLINK_PACKETS 60

static gboolean uplink_withheld(guint16 seq)
{
	return seq >= 20 && seq <= 22;
}

static gboolean uplink_tick(gpointer data)
{
	Uplink *u = data;
	guint16 seq = ++u->next;

	if (seq > UPLINK_PACKETS)
		return G_SOURCE_CONTINUE;
	if (!uplink_withheld(seq))
		send_rtp(u->publisher, 96, VIDEO_SSRC, seq, seq == 1);
	return G_SOURCE_CONTINUE;
}

/* The publisher side: answers the room's NACKs by sending the packets again. */
static void on_uplink_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Uplink *u = data;
	KtRtcpIter it;
	KtRtcpChunk c;

	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		int n = kt_rtcp_nack_count(&c);

		if (c.type != KT_RTCP_RTPFB || c.count != KT_RTCP_FB_NACK || n <= 0)
			continue;
		g_assert_cmphex(kt_rtcp_fb_get_media_ssrc(&c), ==, VIDEO_SSRC);
		for (int i = 0; i < n; i++) {
			guint16 pid, blp;

			g_assert_cmpint(kt_rtcp_nack_get(&c, i, &pid, &blp), >=, 0);
			for (guint b = 0; b <= 16; b++) {
				guint16 seq = pid + b;

				if (b > 0 && !(blp & (1u << (b - 1))))
					continue;
				if (seq < G_N_ELEMENTS(u->nacked))
					u->nacked[seq]++;
				send_rtp(peer, 96, VIDEO_SSRC, seq, FALSE);
			}
		}
		/* And once a packet that had arrived, as a browser pads its probes:
		 * the subscriber must not get it twice. */
		if (g_atomic_int_get(&u->nacks) == 0)
			send_rtx_copy(peer, 1, 10);
		g_atomic_int_inc(&u->nacks);
	}
}

static void on_subscriber_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Uplink *u = data;
	KtRtpHeader h;
	gint k;

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) < 0)
		return;
	if (u->first_out < 0)
		u->first_out = h.seq; /* seq 1, the keyframe: the stream starts there */
	k = (guint16)(h.seq - u->first_out) + 1;
	if (k < (gint)G_N_ELEMENTS(u->got) && !u->got[k]++)
		g_atomic_int_inc(&u->distinct);
}

static gboolean uplink_start(gpointer data)
{
	static const KtPeerMediaFuncs pub_funcs = {.rtcp = on_uplink_rtcp};
	static const KtPeerMediaFuncs sub_funcs = {.rtp = on_subscriber_rtp};
	Uplink *u = data;

	kt_peer_set_media_funcs(u->publisher, &pub_funcs, u);
	kt_peer_set_media_funcs(u->subscriber, &sub_funcs, u);
	start_timer(&u->timer, u->publisher, 10, uplink_tick, u);
	return G_SOURCE_REMOVE;
}

static gboolean uplink_stop(gpointer data)
{
	Uplink *u = data;

	stop_timer(&u->timer);
	kt_peer_set_media_funcs(u->publisher, NULL, NULL);
	kt_peer_set_media_funcs(u->subscriber, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static void test_uplink_loss_is_asked_for_again(void)
{
	KtRoomTrack pub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 96,
	                         .rtx_pt = 97,
	                         .clock_rate = 90000,
	                         .remote_ssrc = VIDEO_SSRC,
	                         .remote_rtx_ssrc = VIDEO_RTX_SSRC,
	                         .pli = TRUE,
	                         .nack = TRUE};
	KtRoomTrack sub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 96,
	                         .clock_rate = 90000,
	                         .pli = TRUE,
	                         .nack = TRUE};
	Fixture f = {0};
	Uplink *u = g_new0(Uplink, 1);
	KtRoomCounters counters;

	fixture_setup(&f, &pub_track, 1, &sub_track, 1);
	u->publisher = f.pub.client;
	u->subscriber = f.sub.client;
	u->first_out = -1;
	kt_worker_invoke_sync(f.cw, uplink_start, u);

	/* Every packet reaches the subscriber, the three withheld ones too. */
	g_assert_true(wait_count(&u->distinct, UPLINK_PACKETS, 5000));
	for (guint16 seq = 20; seq <= 22; seq++)
		g_assert_cmpint(u->nacked[seq], >=, 1);
	g_assert_cmpint(u->nacked[19] + u->nacked[23], ==, 0);
	kt_room_get_counters(f.room, &counters);
	g_assert_cmpuint(counters.nacks_sent, >=, 1);
	g_test_message("%d NACK packets; subscriber got %d of %d; %" G_GUINT64_FORMAT
	               " duplicate(s) from the publisher dropped",
	               g_atomic_int_get(&u->nacks), g_atomic_int_get(&u->distinct), UPLINK_PACKETS,
	               counters.publisher_rtx_duplicates);
	g_assert_cmpuint(counters.publisher_rtx_duplicates, >=, 1);
	g_assert_cmpint(u->got[10], ==, 1);

	kt_worker_invoke_sync(f.cw, uplink_stop, u);
	fixture_teardown(&f);
	g_free(u);
}

/* Polls the room's counters until retransmissions + skipped reach @total. */
static void wait_nacks_handled(KtRoom *room, guint64 total, KtRoomCounters *c)
{
	gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;

	do
		kt_room_get_counters(room, c);
	while (c->retransmissions + c->retransmissions_skipped < total &&
	       g_get_monotonic_time() < deadline && (g_usleep(2000), TRUE));
	g_assert_cmpuint(c->retransmissions + c->retransmissions_skipped, ==, total);
}

/* One VP8 video with NACK, published and received; the publisher's
 * UPLINK_PACKETS have all reached the subscriber. */
static Uplink *video_uplink_setup(Fixture *f)
{
	KtRoomTrack track = {.kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .pt = 96,
	                     .clock_rate = 90000,
	                     .remote_ssrc = VIDEO_SSRC,
	                     .pli = TRUE,
	                     .nack = TRUE};
	Uplink *u = g_new0(Uplink, 1);

	fixture_setup(f, &track, 1, &track, 1);
	u->publisher = f->pub.client;
	u->subscriber = f->sub.client;
	u->first_out = -1;
	kt_worker_invoke_sync(f->cw, uplink_start, u);
	g_assert_true(wait_count(&u->distinct, UPLINK_PACKETS, 5000));
	return u;
}

static void test_repeated_nack_answered_once(void)
{
	Fixture f = {0};
	Uplink *u;
	KtRoomCounters c;
	guint32 video;
	guint16 newest;

	u = video_uplink_setup(&f);

	/* The same NACK twice in a row: one retransmission, one skipped. */
	video = kt_room_get_ssrc(f.room, KT_MEDIA_VIDEO);
	newest = (guint16)(u->first_out + UPLINK_PACKETS - 1); /* well inside the cache */
	peer_send_nack(f.cw, f.sub.client, video, newest);
	peer_send_nack(f.cw, f.sub.client, video, newest);
	wait_nacks_handled(f.room, 2, &c);
	g_assert_cmpuint(c.retransmissions, ==, 1);
	g_assert_cmpuint(c.retransmissions_skipped, ==, 1);
	/* Once the guard (20 ms before an RTT is known) has passed, it is a new
	 * request: the time passing is what is tested here. */
	g_usleep(60 * 1000);
	peer_send_nack(f.cw, f.sub.client, video, newest);
	wait_nacks_handled(f.room, 3, &c);
	g_assert_cmpuint(c.retransmissions, ==, 2);

	kt_worker_invoke_sync(f.cw, uplink_stop, u);
	fixture_teardown(&f);
	g_free(u);
}

/* Client worker: what the subscriber's packets say of the playout delay. */
typedef struct {
	guint32 video; /* Ketang's video SSRC */
	gint video_plain, audio_marked;
	gint min_10ms; /* the latest MIN seen on video, -1 none */
} Playout;

#define PLAYOUT_EXT_ID 5

static void on_playout_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Playout *p = data;
	KtRtpHeader h;
	const guint8 *el = NULL;
	int n;

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) != KT_RTP_OK)
		return;
	n = kt_rtp_find_extension(buf, &h, PLAYOUT_EXT_ID, &el);
	if (h.ssrc != p->video) {
		if (n >= 0)
			g_atomic_int_inc(&p->audio_marked);
		return;
	}
	if (n != 3) {
		g_atomic_int_inc(&p->video_plain);
		return;
	}
	g_atomic_int_set(&p->min_10ms, el[0] << 4 | el[1] >> 4);
	/* MAX: libwebrtc's default 10 s, so the browser keeps its own behaviour above MIN. */
	g_assert_cmpuint((el[1] & 0x0F) << 8 | el[2], ==, 1000);
}

typedef struct {
	Loss loss; /* first: start() and stop_ticking() take it */
	Playout seen;
} PlayoutTest;

static gboolean playout_listen(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_playout_rtp};
	PlayoutTest *t = data;

	kt_peer_set_media_funcs(t->loss.subscriber, &funcs, &t->seen);
	return G_SOURCE_REMOVE;
}

static gboolean playout_unlisten(gpointer data)
{
	PlayoutTest *t = data;

	kt_peer_set_media_funcs(t->loss.subscriber, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* A subscriber whose video line took the playout-delay extension: nothing is
 * written while its reports say it loses nothing; once they say 20 %, every
 * video packet asks for a delay that covers six retransmission rounds (its
 * round trip unknown: 200 ms assumed, 1.2 x (200 + 5 x 200) + 20 = 1460 ms,
 * capped at 800 ms); audio never carries it. */
static void test_lossy_subscriber_asked_for_playout_delay(void)
{
	KtRoomTrack pub_tracks[2], sub_tracks[2];
	Fixture f = {0};
	PlayoutTest *t = g_new0(PlayoutTest, 1);

	audio_video_tracks(pub_tracks, sub_tracks);
	sub_tracks[1].playout_delay_ext_id = PLAYOUT_EXT_ID;
	fixture_setup(&f, pub_tracks, 2, sub_tracks, 2);
	t->loss.publisher = f.pub.client;
	t->loss.subscriber = f.sub.client;
	t->loss.ketang_audio = kt_room_get_ssrc(f.room, KT_MEDIA_AUDIO);
	t->loss.ketang_video = t->seen.video = kt_room_get_ssrc(f.room, KT_MEDIA_VIDEO);
	t->seen.min_10ms = -1;
	kt_worker_invoke_sync(f.cw, playout_listen, t);
	kt_worker_invoke_sync(f.cw, start, &t->loss);

	/* Clean for the first second and a half: a tick has passed with nothing asked. */
	g_assert_true(wait_count(&t->seen.video_plain, 60, 5000));
	g_assert_cmpint(g_atomic_int_get(&t->seen.min_10ms), ==, -1);
	g_atomic_int_set(&t->loss.reported_loss, 51); /* 20 % */
	g_assert_true(wait_value(&t->seen.min_10ms, 80, 5000));
	g_assert_cmpint(g_atomic_int_get(&t->seen.audio_marked), ==, 0);

	kt_worker_invoke_sync(f.cw, stop_ticking, &t->loss);
	kt_worker_invoke_sync(f.cw, playout_unlisten, t);
	fixture_teardown(&f);
	g_free(t);
}

/* Polls the room's counters until @field reaches @total (3 s at most). */
#define WAIT_COUNTER(room, c, field, total)                                                        \
	do {                                                                                       \
		gint64 deadline_ = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;                    \
		do                                                                                 \
			kt_room_get_counters((room), (c));                                         \
		while ((c)->field < (total) && g_get_monotonic_time() < deadline_ &&               \
		       (g_usleep(2000), TRUE));                                                    \
		g_assert_cmpuint((c)->field, >=, (total));                                         \
	} while (0)

/* A NACK for video the cache no longer holds: that frame can never be
 * completed, so the room asks the publisher for a keyframe at once instead of
 * leaving the subscriber to time out. A NACK for a packet that never came
 * (ahead of the stream) asks for nothing. */
static void test_nack_for_gone_packet_asks_keyframe(void)
{
	Fixture f = {0};
	Uplink *u;
	KtRoomCounters c;
	guint64 sent_before;
	guint32 video;

	u = video_uplink_setup(&f);
	video = kt_room_get_ssrc(f.room, KT_MEDIA_VIDEO);

	peer_send_nack(f.cw, f.sub.client, video, (guint16)(u->first_out + UPLINK_PACKETS + 100));
	WAIT_COUNTER(f.room, &c, retransmissions_missed, 1);
	g_assert_cmpuint(c.keyframes_for_missed, ==, 0);

	/* The cache keeps a packet 1 s (rtx_cache_ms): its age passing is what is
	 * tested here. */
	g_usleep(1100 * 1000);
	kt_room_get_counters(f.room, &c);
	sent_before = c.keyframe_requests_sent;
	peer_send_nack(f.cw, f.sub.client, video, (guint16)(u->first_out + 5));
	WAIT_COUNTER(f.room, &c, retransmissions_missed, 2);
	g_assert_cmpuint(c.keyframes_for_missed, ==, 1);
	g_assert_cmpuint(c.retransmissions, ==, 0);
	WAIT_COUNTER(f.room, &c, keyframe_requests_sent, sent_before + 1);

	kt_worker_invoke_sync(f.cw, uplink_stop, u);
	fixture_teardown(&f);
	g_free(u);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-loss/subscriber-loss-reaches-publisher-audio",
	                test_subscriber_loss_reaches_publisher_audio);
	g_test_add_func("/room-loss/uplink-loss-is-asked-for-again",
	                test_uplink_loss_is_asked_for_again);
	g_test_add_func("/room-loss/repeated-nack-answered-once", test_repeated_nack_answered_once);
	g_test_add_func("/room-loss/lossy-subscriber-asked-for-playout-delay",
	                test_lossy_subscriber_asked_for_playout_delay);
	g_test_add_func("/room-loss/nack-for-gone-packet-asks-keyframe",
	                test_nack_for_gone_packet_asks_keyframe);
	return g_test_run();
}
