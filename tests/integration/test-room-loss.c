/* Subscriber loss reaches the publisher's audio encoder (issue 5, Opus FEC):
 * a real publisher peer sends audio and video through a room to a real
 * subscriber peer (ICE + DTLS + SRTP over loopback); the subscriber's receiver
 * reports say it loses 40 %, then 10 %. The room's receiver reports to the
 * publisher carry that loss for the audio stream, bounded to 25 %, and not
 * for the video stream (its own uplink figure, 0 here). */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-room.h"
#include "peer-pair.h"

#define AUDIO_SSRC 5001u
#define VIDEO_SSRC 5002u

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

static gboolean start(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtcp = on_publisher_rtcp};
	Loss *l = data;

	kt_peer_set_media_funcs(l->publisher, &funcs, l);
	l->timer = g_timeout_source_new(20);
	g_source_set_callback(l->timer, tick, l, NULL);
	g_source_attach(l->timer, kt_worker_get_context(kt_peer_get_worker(l->publisher)));
	return G_SOURCE_REMOVE;
}

static gboolean stop_ticking(gpointer data)
{
	Loss *l = data;

	g_source_destroy(l->timer);
	g_clear_pointer(&l->timer, g_source_unref);
	kt_peer_set_media_funcs(l->publisher, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static void test_subscriber_loss_reaches_publisher_audio(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0), *cw = kt_worker_pool_get(pool, 1);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(w, &rc);
	KtRoomTrack pub_tracks[2] = {
	    {.kind = KT_MEDIA_AUDIO,
	     .codec = KT_CODEC_OPUS,
	     .pt = 111,
	     .clock_rate = 48000,
	     .remote_ssrc = AUDIO_SSRC},
	    {.kind = KT_MEDIA_VIDEO,
	     .codec = KT_CODEC_VP8,
	     .pt = 96,
	     .clock_rate = 90000,
	     .remote_ssrc = VIDEO_SSRC,
	     .pli = TRUE},
	};
	KtRoomTrack sub_tracks[2] = {
	    {.kind = KT_MEDIA_AUDIO, .codec = KT_CODEC_OPUS, .pt = 111, .clock_rate = 48000},
	    {.kind = KT_MEDIA_VIDEO,
	     .codec = KT_CODEC_VP8,
	     .pt = 96,
	     .clock_rate = 90000,
	     .pli = TRUE},
	};
	PeerPair pub = {0}, sub = {0};
	Loss *l = g_new0(Loss, 1);

	g_assert_no_error(error);
	peer_pair_connect(&pub, w, cw);
	peer_pair_connect(&sub, w, cw);
	kt_room_add_publisher(room, pub.server, pub_tracks, 2);
	kt_room_add_subscriber(room, sub.server, sub_tracks, 2);
	l->publisher = pub.client;
	l->subscriber = sub.client;
	l->ketang_audio = kt_room_get_ssrc(room, KT_MEDIA_AUDIO);
	l->ketang_video = kt_room_get_ssrc(room, KT_MEDIA_VIDEO);
	l->audio_loss = l->video_loss = -1;
	g_atomic_int_set(&l->reported_loss, 102); /* 40 % */
	kt_worker_invoke_sync(cw, start, l);

	/* 40 % comes through as the 25 % bound, for audio only. */
	g_assert_true(wait_value(&l->audio_loss, 64, 5000));
	g_assert_cmpint(g_atomic_int_get(&l->video_loss), ==, 0);
	/* Below the bound it is passed on as it is. */
	g_atomic_int_set(&l->reported_loss, 26); /* 10 % */
	g_assert_true(wait_value(&l->audio_loss, 26, 5000));
	g_assert_cmpint(g_atomic_int_get(&l->video_loss), ==, 0);
	g_test_message("%d receiver reports to the publisher", g_atomic_int_get(&l->rrs));

	kt_worker_invoke_sync(cw, stop_ticking, l);
	kt_room_close(room);
	kt_room_unref(room);
	peer_pair_close(&pub);
	peer_pair_close(&sub);
	g_free(l);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-loss/subscriber-loss-reaches-publisher-audio",
	                test_subscriber_loss_reaches_publisher_audio);
	return g_test_run();
}
