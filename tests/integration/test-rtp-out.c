/* The bridge back out of GStreamer (pipelines/kt-rtp-out.h) through a real
 * room: a live VP8 encoder's RTP is published into a room source as a feed and
 * a real subscriber peer (ICE + DTLS + SRTP over loopback) receives it, decodes
 * it with GStreamer, gets sender reports for it, and gets a keyframe when it
 * sends a PLI. A second feed taking the source over continues the same SSRC
 * and sequence. Malformed packets and feeds for missing sources change
 * nothing. Layered feeds make one simulcast source (test_layered_feeds). */
#include <string.h>

#include "kt-gst.h"
#include "kt-room.h"
#include "kt-rtcp.h"
#include "kt-rtp-out.h"
#include "kt-rtp.h"
#include "media-pipeline.h"
#include "peer-pair.h"
#include "vp8-decoder.h"

/* What the subscribers take: VP8 with NACK and PLI. */
static const KtRoomTrack vp8_track = {.kind = KT_MEDIA_VIDEO,
                                      .codec = KT_CODEC_VP8,
                                      .pt = 96,
                                      .clock_rate = 90000,
                                      .pli = TRUE,
                                      .nack = TRUE};

/* A live VP8 encoder of @pattern (videotestsrc's) at @width x @height and @kbps that
 * makes keyframes only when asked (and at the start), ending in @out's sink. */
static GstElement *encoder_new(KtRtpOut *out, const char *pattern, guint width, guint height,
                               guint kbps)
{
	g_autofree char *desc = g_strdup_printf(
	    "videotestsrc is-live=true pattern=%s"
	    " ! video/x-raw,width=%u,height=%u,framerate=15/1"
	    " ! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=%u"
	    " keyframe-max-dist=100000 ! rtpvp8pay name=pay pt=96 mtu=1200 picture-id-mode=15-bit",
	    pattern, width, height, kbps * 1000);

	return media_pipeline_play_into(desc, kt_rtp_out_get_sink(out));
}

typedef struct {
	KtPeer *client;
	guint32 media_ssrc;
} Pli;

static gboolean send_pli(gpointer data)
{
	Pli *p = data;
	guint8 buf[128];
	int n = kt_rtcp_build_pli(buf, sizeof(buf), 0x5eed, p->media_ssrc);

	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(kt_peer_send_rtcp(p->client, buf, n, sizeof(buf)), >, 0);
	return G_SOURCE_REMOVE;
}

typedef struct {
	KtRoom *room;
	guint feed;
} BadInput;

/* Worker: what kt_room_feed_rtp() must shrug off. */
static gboolean feed_bad_packets(gpointer data)
{
	BadInput *b = data;
	guint8 pkt[64] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9};

	kt_room_feed_rtp(b->room, b->feed, pkt, 5, 0);           /* truncated header */
	kt_room_feed_rtp(b->room, b->feed, pkt, 12, 0);          /* no payload */
	pkt[0] = 0x40;                                           /* RTP version 1 */
	kt_room_feed_rtp(b->room, b->feed, pkt, sizeof(pkt), 0); /* wrong version */
	pkt[0] = 0x80;
	kt_room_feed_rtp(b->room, 0xfffff, pkt, sizeof(pkt), 0); /* no such feed */
	pkt[0] = 0x8f;                                           /* 15 CSRCs: past the end */
	kt_room_feed_rtp(b->room, b->feed, pkt, sizeof(pkt), 0);
	return G_SOURCE_REMOVE;
}

static void on_notify(gpointer data)
{
	g_atomic_int_set((gint *)data, 1);
}

static void test_feed_to_subscriber(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRtpOutConfig oc = {.kind = KT_MEDIA_VIDEO, .codec = KT_CODEC_VP8, .clock_rate = 90000};
	PeerPair pair = {0};
	Vp8Receiver rx = {0};
	KtRoom *room = kt_room_new(w, &rc);
	KtRtpOut *out;
	KtRtpOutStats st;
	KtRoomCounters before, after;
	GstElement *enc;
	gint keyframes, frames;
	Pli pli;

	g_assert_no_error(error);
	peer_pair_connect(&pair, w, kt_worker_pool_get(pool, 1));
	kt_room_add_subscriber(room, pair.server, &vp8_track, 1);
	vp8_receiver_start(&rx, pair.client);

	out = kt_rtp_out_new(room, &oc);
	enc = encoder_new(out, "ball", 320, 240, 256);
	/* The picture decodes at the subscriber, on Ketang's SSRC. */
	g_assert_true(wait_count(&rx.frames, 30, 10000));
	g_assert_cmpint(rx.width, ==, 320);
	g_assert_cmpint(rx.height, ==, 240);
	g_assert_cmphex(rx.ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	g_assert_cmpint(g_atomic_int_get(&rx.keyframes), >=, 1);

	/* Sender reports map the feed's RTP time to now: within half a second of
	 * the newest packet (encoding and the 250 ms tick are all that lie between). */
	g_assert_true(wait_count(&rx.srs, 1, 3000));
	g_assert_cmpint(ABS(rx.sr_minus_last), <, 90000 / 2);

	/* A PLI from the subscriber brings a keyframe from the encoder. */
	keyframes = g_atomic_int_get(&rx.keyframes);
	pli.client = pair.client;
	pli.media_ssrc = rx.ssrc;
	kt_worker_invoke_sync(kt_peer_get_worker(pair.client), send_pli, &pli);
	g_assert_true(wait_count(&rx.keyframes, keyframes + 1, 3000));
	kt_rtp_out_get_stats(out, &st);
	g_assert_cmpuint(st.keyframe_requests, >=, 1);
	g_assert_cmpuint(st.dropped, ==, 0);
	g_assert_cmpuint(st.packets, >, 30);

	gst_element_set_state(enc, GST_STATE_NULL);
	gst_object_unref(enc);
	kt_rtp_out_free(out);

	/* Bad packets into an attached feed: nothing forwarded, nothing counted.
	 * A feed for a source that does not exist is never attached. */
	{
		KtRoomFeedSpec spec = {.kind = KT_MEDIA_VIDEO,
		                       .codec = KT_CODEC_VP8,
		                       .clock_rate = 90000,
		                       .notify = on_notify};
		BadInput bad = {room, 0};
		gint gone = 0, missing_gone = 0;
		gint packets = g_atomic_int_get(&rx.packets);

		spec.user_data = &gone;
		bad.feed = kt_room_add_feed(room, &spec);
		spec.source = 0xffff;
		spec.user_data = &missing_gone;
		kt_room_add_feed(room, &spec);
		g_assert_true(wait_count(&missing_gone, 1, 3000));
		kt_room_get_counters(room, &before);
		kt_worker_invoke_sync(w, feed_bad_packets, &bad);
		kt_room_get_counters(room, &after);
		g_assert_cmpuint(after.rtp_in, ==, before.rtp_in);
		g_assert_cmpuint(after.rtp_out, ==, before.rtp_out);
		g_assert_cmpint(g_atomic_int_get(&rx.packets), ==, packets);
		g_assert_false(g_atomic_int_get(&gone));
		kt_room_remove_feed(room, bad.feed);
		g_assert_true(wait_count(&gone, 1, 3000));
	}

	/* Another feed takes the source over: same SSRC, sequence continues. */
	frames = g_atomic_int_get(&rx.frames);
	out = kt_rtp_out_new(room, &oc);
	enc = encoder_new(out, "ball", 320, 240, 256);
	g_assert_true(wait_count(&rx.frames, frames + 30, 10000));
	g_assert_cmphex(rx.ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	g_assert_cmpint(rx.max_seq_gap, <=, 3);

	gst_element_set_state(enc, GST_STATE_NULL);
	gst_object_unref(enc);
	kt_rtp_out_free(out);
	vp8_receiver_stop(&rx);
	kt_room_close(room);
	kt_room_unref(room);
	peer_pair_close(&pair);
}

/* Two layered feeds make one simulcast source (kt-room.h "Layered feeds"): layer 0 is
 * the larger one, so only what the layers carry ranks them. A subscriber with a high
 * estimate decodes the large layer, one with a low estimate the small one; raised, the
 * low one moves up at a keyframe on the same SSRC with its sequence running on. Its PLI
 * reaches the feed of the layer it gets. Once the large layer's feed is gone, both get
 * the small layer. Bad layer specs are never attached. */
static void test_layered_feeds(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRtpOutConfig oc = {
	    .kind = KT_MEDIA_VIDEO, .codec = KT_CODEC_VP8, .clock_rate = 90000, .n_layers = 2};
	PeerPair pair[2] = {0};
	Vp8Receiver rx[2] = {0};
	Vp8Receiver *high = &rx[0], *low = &rx[1];
	KtRoom *room = kt_room_new(w, &rc);
	KtRtpOut *out[2];
	GstElement *enc[2];
	KtRtpOutStats st;
	KtRoomCounters c;
	gint keyframes;
	Pli pli;

	g_assert_no_error(error);
	for (guint i = 0; i < 2; i++) {
		peer_pair_connect(&pair[i], w, kt_worker_pool_get(pool, 1));
		kt_room_add_subscriber(room, pair[i].server, &vp8_track, 1);
		vp8_receiver_start(&rx[i], pair[i].client);
	}
	kt_room_set_subscriber_estimate(room, pair[0].server, 5000000);
	kt_room_set_subscriber_estimate(room, pair[1].server, 200000);
	for (guint l = 0; l < 2; l++) {
		oc.layer = l;
		out[l] = kt_rtp_out_new(room, &oc);
	}
	/* Noise spends the whole 800 kbit/s (the low estimate never carries it); the small
	 * ball layer takes a few tens of kbit/s. */
	enc[0] = encoder_new(out[0], "snow", 320, 240, 800);
	enc[1] = encoder_new(out[1], "ball", 160, 120, 60);

	g_assert_true(wait_value(&high->width, 320, 10000));
	g_assert_true(wait_value(&low->width, 160, 10000));
	g_assert_true(wait_count(&low->frames, 15, 10000));
	g_assert_cmphex(high->ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	g_assert_cmphex(low->ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	/* The room's sender reports reach the receivers of a layer. */
	g_assert_true(wait_count(&low->srs, 1, 3000));
	g_assert_cmpint(ABS(low->sr_minus_last), <, 90000 / 2);

	/* A PLI from "low" comes back to the small layer's encoder. */
	kt_rtp_out_get_stats(out[1], &st);
	keyframes = g_atomic_int_get(&low->keyframes);
	pli.client = pair[1].client;
	pli.media_ssrc = low->ssrc;
	kt_worker_invoke_sync(kt_peer_get_worker(pair[1].client), send_pli, &pli);
	g_assert_true(wait_count(&low->keyframes, keyframes + 1, 3000));
	{
		KtRtpOutStats st2;

		kt_rtp_out_get_stats(out[1], &st2);
		g_assert_cmpuint(st2.keyframe_requests, >, st.keyframe_requests);
	}
	g_assert_cmpint(g_atomic_int_get(&low->width), ==, 160);

	/* Raised: up to the large layer at its keyframe, same SSRC, numbering on. */
	kt_room_set_subscriber_estimate(room, pair[1].server, 5000000);
	g_assert_true(wait_value(&low->width, 320, 15000));
	kt_room_get_counters(room, &c);
	g_assert_cmpuint(c.layer_switches, >=, 1);
	g_assert_cmphex(low->ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	g_assert_cmpint(low->max_seq_gap, <=, 3);
	g_test_message("layered feeds: %" G_GUINT64_FORMAT " layer switches, low max seq gap %d",
	               c.layer_switches, low->max_seq_gap);

	/* The large layer's feed goes away: its layer goes quiet, and both receivers move
	 * to the small one within a second or so, on the same SSRC. */
	gst_element_set_state(enc[0], GST_STATE_NULL);
	g_clear_pointer(&enc[0], gst_object_unref);
	g_clear_pointer(&out[0], kt_rtp_out_free);
	g_assert_true(wait_value(&high->width, 160, 10000));
	g_assert_true(wait_value(&low->width, 160, 10000));
	g_assert_cmpint(high->ssrc_changes, ==, 0);
	g_assert_cmpint(low->ssrc_changes, ==, 0);

	/* Bad layer specs: never attached (their notify runs at once). */
	{
		KtRoomFeedSpec spec = {.kind = KT_MEDIA_VIDEO,
		                       .codec = KT_CODEC_VP8,
		                       .clock_rate = 90000,
		                       .notify = on_notify};
		gint gone[3] = {0};
		const guint bad[3][2] = {{2, 2}, {0, 1}, {0, KT_ROOM_MAX_LAYERS + 1}};

		for (guint i = 0; i < 3; i++) {
			spec.layer = bad[i][0];
			spec.n_layers = bad[i][1];
			spec.user_data = &gone[i];
			kt_room_add_feed(room, &spec);
			g_assert_true(wait_count(&gone[i], 1, 3000));
		}
	}

	gst_element_set_state(enc[1], GST_STATE_NULL);
	gst_object_unref(enc[1]);
	kt_rtp_out_free(out[1]);
	for (guint i = 0; i < 2; i++)
		vp8_receiver_stop(&rx[i]);
	kt_room_close(room);
	kt_room_unref(room);
	for (guint i = 0; i < 2; i++)
		peer_pair_close(&pair[i]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/rtp-out/feed-to-subscriber", test_feed_to_subscriber);
	g_test_add_func("/rtp-out/layered-feeds", test_layered_feeds);
	return g_test_run();
}
