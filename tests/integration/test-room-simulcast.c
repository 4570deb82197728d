/* Simulcast through a room with real peers (ICE + DTLS + SRTP over loopback), issue 5.
 *
 * A publisher peer sends three VP8 layers the way Chrome does: one SSRC each, not in the
 * SDP, named by the rid header extension (with the MID); rids deliberately listed
 * "f;q;h" so their order says nothing of their sizes (f = 1280x720 at ~1.2 Mbit/s,
 * q = 320x180 at ~150 kbit/s, h = 640x360 at ~500 kbit/s). It answers PLIs for a layer's
 * SSRC with a keyframe of that layer. Three subscribers:
 *  - "high" (estimate 5 Mbit/s) ends up on the 1280-wide layer,
 *  - "low" (estimate 200 kbit/s) on the 320-wide one; raised to 5 Mbit/s it moves up,
 *    only at a keyframe, its sequence continuous and its SSRC the same;
 *  - "plain" (no estimate) gets one stream on Ketang's SSRC;
 *  - a tap (what a recorder gets) gets the top layer, continuous, on Ketang's SSRC.
 * A NACK from "low" for a packet after its switch is answered (RTX) with that packet's
 * payload and timestamp; one for a packet before it is not answered. Its estimate
 * dropped below the lowest layer, its video pauses; raised, it resumes at a keyframe
 * with the next sequence number. */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-room.h"
#include "peer-pair.h"

#define MID_EXT 4
#define RID_EXT 10
#define N_LAYERS 3

typedef struct {
	const char *rid;
	guint32 ssrc;
	guint width, height;
	guint frame_bytes; /* at 30 frames/s */
	guint8 tag;        /* in every payload, so a receiver knows the layer */
} LayerSpec;

/* In SDP order: not by size. */
static const LayerSpec layers[N_LAYERS] = {
    {"f", 0x0F0F0F01, 1280, 720, 5000, 3},
    {"q", 0x0F0F0F02, 320, 180, 625, 1},
    {"h", 0x0F0F0F03, 640, 360, 2100, 2},
};

#define TAG_OFFSET 11 /* past descriptor, frame tag, start code and sizes */
#define MAX_PAYLOAD 1100

typedef struct {
	KtPeer *peer;
	guint16 seq[N_LAYERS];
	guint32 ts[N_LAYERS];
	guint frame;
	gint force_key[N_LAYERS];
	gint plis;
	GSource *timer;
} Publisher;

/* A receiver's view, written on the client worker, read by the test with atomics. */
typedef struct {
	const char *name;
	KtPeer *peer;
	gint packets;
	gint tag;   /* layer tag of the latest packet */
	gint width; /* of the latest keyframe */
	guint32 ssrc;
	gint ssrc_changes;
	gboolean have;
	guint16 last_seq;
	gint switches, bad_switches, max_gap;
	gint switch_seq; /* first seq of the latest switch, -1 = none */
	/* One packet kept after the switch, to compare with its retransmission. */
	gint keep_seq;
	guint8 kept[1500];
	gsize kept_len;
	gint resent_same, resent_other;
	/* Video resumed after a pause (nothing for 300 ms): at a keyframe, numbering on. */
	gint64 last_rx_us;
	gint resumes, bad_resumes;
	/* With transport-cc ("high"): media packets without the transport-wide number,
	 * which its bandwidth estimate would never hear of. */
	guint8 twcc_ext_id;
	gint unnumbered;
} Rx;

static gsize put_ext(guint8 *p, const char *rid)
{
	gsize n = 0, rid_len = strlen(rid);

	/* RFC 8285 one-byte header: MID "1" then the rid, padded to 32 bits. */
	p[n++] = 0xBE;
	p[n++] = 0xDE;
	n += 2; /* length, below */
	p[n++] = (MID_EXT << 4) | 0;
	p[n++] = '1';
	p[n++] = (RID_EXT << 4) | (rid_len - 1);
	memcpy(p + n, rid, rid_len);
	n += rid_len;
	while (n % 4)
		p[n++] = 0;
	p[2] = 0;
	p[3] = (n - 4) / 4;
	return n;
}

static void send_frame(Publisher *pub, guint l, gboolean key)
{
	const LayerSpec *L = &layers[l];
	guint left = L->frame_bytes;
	gboolean first = TRUE;

	while (left > 0) {
		guint8 pkt[1500] = {0};
		guint n = MIN(left, MAX_PAYLOAD);
		gsize h = 12, off;
		guint8 *pl;

		left -= n;
		pkt[0] = 0x90; /* V=2, X=1 */
		pkt[1] = 96 | (left == 0 ? 0x80 : 0);
		kt_rtp_write_be16(pkt + 2, pub->seq[l]++);
		kt_rtp_write_be32(pkt + 4, pub->ts[l]);
		kt_rtp_write_be32(pkt + 8, L->ssrc);
		h += put_ext(pkt + 12, L->rid);
		pl = pkt + h;
		memset(pl, 0x55, n);
		pl[0] = first ? 0x10 : 0x00; /* VP8 descriptor: S on the frame's first packet */
		if (first) {
			off = 1;
			pl[off] = key ? 0x00 : 0x01; /* frame tag: P=0 is a keyframe */
			pl[off + 1] = pl[off + 2] = 0;
			if (key) {
				pl[off + 3] = 0x9d;
				pl[off + 4] = 0x01;
				pl[off + 5] = 0x2a;
				pl[off + 6] = L->width & 0xff;
				pl[off + 7] = L->width >> 8;
				pl[off + 8] = L->height & 0xff;
				pl[off + 9] = L->height >> 8;
			}
		}
		pl[TAG_OFFSET] = L->tag;
		kt_peer_send_rtp(pub->peer, pkt, h + n, sizeof(pkt));
		first = FALSE;
	}
}

/* Client worker, 30 frames/s: every layer, a keyframe each 4 s or when asked for. */
static gboolean publish_tick(gpointer data)
{
	Publisher *pub = data;

	for (guint l = 0; l < N_LAYERS; l++) {
		gboolean key =
		    pub->frame % 120 == 0 || g_atomic_int_exchange(&pub->force_key[l], 0);

		send_frame(pub, l, key);
		pub->ts[l] += 3000;
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
		g_atomic_int_inc(&pub->plis);
		for (guint l = 0; l < N_LAYERS; l++)
			if (kt_rtcp_fb_get_media_ssrc(&c) == layers[l].ssrc)
				g_atomic_int_set(&pub->force_key[l], 1);
	}
}

static void on_rx_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Rx *rx = data;
	KtRtpHeader h;
	const guint8 *pl;
	guint w, hgt;
	gint tag;

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) < 0 || h.payload_len <= TAG_OFFSET)
		return;
	pl = buf + h.payload_offset;
	if (h.payload_type == 97) {
		/* RTX (RFC 4588 §4): the original sequence number, then the payload, which
		 * must be the kept packet's, with its timestamp. */
		KtRtpHeader k;

		if (!rx->kept_len || kt_rtp_read_be16(pl) != (guint16)rx->keep_seq ||
		    kt_rtp_parse(rx->kept, rx->kept_len, &k) < 0)
			return;
		if (h.payload_len == k.payload_len + 2 && h.timestamp == k.timestamp &&
		    h.ssrc != k.ssrc &&
		    memcmp(pl + 2, rx->kept + k.payload_offset, k.payload_len) == 0)
			g_atomic_int_inc(&rx->resent_same);
		else
			g_atomic_int_inc(&rx->resent_other);
		return;
	}
	tag = pl[TAG_OFFSET];
	if (rx->twcc_ext_id) {
		const guint8 *ext;

		if (kt_rtp_find_extension(buf, &h, rx->twcc_ext_id, &ext) != 2)
			g_atomic_int_inc(&rx->unnumbered);
	}
	if (rx->have && h.ssrc != rx->ssrc)
		rx->ssrc_changes++;
	if (rx->have && g_get_monotonic_time() - rx->last_rx_us > 300 * 1000) {
		if ((guint16)(h.seq - rx->last_seq) != 1 ||
		    !kt_rtp_vp8_is_keyframe(pl, h.payload_len))
			rx->bad_resumes++;
		g_atomic_int_inc(&rx->resumes);
	}
	rx->last_rx_us = g_get_monotonic_time();
	if (rx->have && tag != g_atomic_int_get(&rx->tag)) {
		gint gap = (guint16)(h.seq - rx->last_seq);

		rx->switches++;
		rx->max_gap = MAX(rx->max_gap, gap);
		if (gap != 1 || !kt_rtp_vp8_is_keyframe(pl, h.payload_len))
			rx->bad_switches++;
		g_atomic_int_set(&rx->switch_seq, h.seq);
	}
	if (rx->have && (gint16)(h.seq - rx->last_seq) > 1)
		rx->max_gap = MAX(rx->max_gap, (guint16)(h.seq - rx->last_seq));
	if (g_atomic_int_get(&rx->keep_seq) == h.seq && !rx->kept_len && len <= sizeof(rx->kept)) {
		memcpy(rx->kept, buf, len);
		rx->kept_len = len;
	}
	if (kt_rtp_vp8_keyframe_size(pl, h.payload_len, &w, &hgt))
		g_atomic_int_set(&rx->width, w);
	rx->have = TRUE;
	rx->ssrc = h.ssrc;
	rx->last_seq = h.seq;
	g_atomic_int_set(&rx->tag, tag);
	g_atomic_int_inc(&rx->packets);
}

/* A tap (what a recorder gets), on the room's worker. */
typedef struct {
	guint32 ssrc;
	gint packets, top, other, max_gap, ssrc_bad;
	gboolean have;
	guint16 last_seq;
} TapRx;

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	TapRx *t = data;
	KtRtpHeader h;

	if (codec != KT_CODEC_VP8 || kt_rtp_parse(rtp, len, &h) < 0 || h.payload_len <= TAG_OFFSET)
		return;
	if (rtp[h.payload_offset + TAG_OFFSET] == 3)
		g_atomic_int_inc(&t->top);
	else
		g_atomic_int_inc(&t->other);
	if (h.ssrc != t->ssrc)
		g_atomic_int_inc(&t->ssrc_bad);
	if (t->have && (gint16)(h.seq - t->last_seq) > 0)
		t->max_gap = MAX(t->max_gap, (guint16)(h.seq - t->last_seq));
	if (!t->have || (gint16)(h.seq - t->last_seq) > 0)
		t->last_seq = h.seq;
	t->have = TRUE;
	g_atomic_int_inc(&t->packets);
}

typedef struct {
	KtWorkerPool *pool;
	KtWorker *w, *cw;
	KtRoom *room;
	PeerPair pub, sub[3];
	Publisher publisher;
	Rx rx[3];
	TapRx tap;
} Fixture;

static gboolean start(gpointer data)
{
	static const KtPeerMediaFuncs pub_funcs = {.rtcp = on_publisher_rtcp};
	static const KtPeerMediaFuncs rx_funcs = {.rtp = on_rx_rtp};
	Fixture *f = data;

	kt_peer_set_media_funcs(f->publisher.peer, &pub_funcs, &f->publisher);
	for (guint i = 0; i < 3; i++)
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
	for (guint i = 0; i < 3; i++)
		kt_peer_set_media_funcs(f->rx[i].peer, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static void setup(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 2000};
	KtRoomTrack pub = {.kind = KT_MEDIA_VIDEO,
	                   .codec = KT_CODEC_VP8,
	                   .pt = 96,
	                   .clock_rate = 90000,
	                   .mid_ext_id = MID_EXT,
	                   .mid = "1",
	                   .nack = TRUE,
	                   .pli = TRUE,
	                   .n_rids = N_LAYERS,
	                   .rid_ext_id = RID_EXT};
	KtRoomTrack sub = {.kind = KT_MEDIA_VIDEO,
	                   .codec = KT_CODEC_VP8,
	                   .pt = 96,
	                   .rtx_pt = 97,
	                   .clock_rate = 90000,
	                   .nack = TRUE,
	                   .pli = TRUE};
	static const char *const names[3] = {"high", "low", "plain"};

	for (guint l = 0; l < N_LAYERS; l++)
		g_strlcpy(pub.rids[l], layers[l].rid, sizeof(pub.rids[l]));
	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->cw = kt_worker_pool_get(f->pool, 1);
	f->room = kt_room_new(f->w, &rc);
	peer_pair_connect(&f->pub, f->w, f->cw);
	for (guint i = 0; i < 3; i++) {
		peer_pair_connect(&f->sub[i], f->w, f->cw);
		f->rx[i].name = names[i];
		f->rx[i].peer = f->sub[i].client;
		f->rx[i].keep_seq = -1;
		f->rx[i].switch_seq = -1;
		/* "high" numbers what it gets (transport-cc), the others do not. */
		sub.twcc_ext_id = f->rx[i].twcc_ext_id = i == 0 ? 3 : 0;
		kt_room_add_subscriber(f->room, f->sub[i].server, &sub, 1);
	}
	kt_room_set_subscriber_estimate(f->room, f->sub[0].server, 5000000);
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 200000);
	f->tap.ssrc = kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO);
	kt_room_add_tap(f->room, kt_room_get_default_source(f->room, KT_MEDIA_VIDEO), on_tap,
	                &f->tap, NULL);
	kt_room_add_publisher(f->room, f->pub.server, &pub, 1);
	f->publisher.peer = f->pub.client;
	for (guint l = 0; l < N_LAYERS; l++) {
		f->publisher.seq[l] = g_random_int_range(0, 0x10000);
		f->publisher.ts[l] = g_random_int();
	}
	kt_worker_invoke_sync(f->cw, start, f);
}

static void teardown(Fixture *f)
{
	kt_worker_invoke_sync(f->cw, stop, f);
	kt_room_close(f->room);
	kt_room_unref(f->room);
	peer_pair_close(&f->pub);
	for (guint i = 0; i < 3; i++)
		peer_pair_close(&f->sub[i]);
	kt_worker_pool_free(f->pool);
}

static void report(const Rx *rx)
{
	g_test_message("%s: %d packets, layer tag %d, width %d, %d switches (%d bad, max gap %d), "
	               "%d SSRC changes",
	               rx->name, g_atomic_int_get(&rx->packets), g_atomic_int_get(&rx->tag),
	               g_atomic_int_get(&rx->width), rx->switches, rx->bad_switches, rx->max_gap,
	               rx->ssrc_changes);
}

static void test_layer_per_subscriber(void)
{
	Fixture *f = g_new0(Fixture, 1);
	Rx *high = &f->rx[0], *low = &f->rx[1], *plain = &f->rx[2];
	KtRoomCounters c, c2;
	gint64 raised;
	gint switch_seq, paused;

	setup(f);
	/* By what they carry: the top layer to "high", the lowest to "low". */
	g_assert_true(wait_value(&high->width, 1280, 10000));
	g_assert_true(wait_value(&high->tag, 3, 10000));
	g_assert_true(wait_value(&low->width, 320, 10000));
	g_assert_true(wait_value(&low->tag, 1, 10000));
	/* Not negotiated anything, no estimate: one stream on Ketang's SSRC. */
	g_assert_true(wait_count(&plain->packets, 30, 10000));
	g_usleep(500 * 1000); /* settle: nothing moves while estimates hold */
	g_assert_cmpint(g_atomic_int_get(&low->tag), ==, 1);
	g_assert_cmpint(g_atomic_int_get(&high->tag), ==, 3);
	report(high);
	report(low);
	report(plain);
	g_assert_cmphex(plain->ssrc, ==, kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO));
	/* Every layer packet to "high" carries its transport-wide number. */
	g_assert_cmpint(g_atomic_int_get(&high->unnumbered), ==, 0);
	g_assert_cmphex(low->ssrc, ==, kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO));
	/* The recorder's tap: the top layer only, on Ketang's SSRC, continuous. */
	g_test_message("tap: %d packets, %d of the top layer, max gap %d",
	               g_atomic_int_get(&f->tap.packets), g_atomic_int_get(&f->tap.top),
	               f->tap.max_gap);
	g_assert_cmpint(g_atomic_int_get(&f->tap.top), >, 100);
	g_assert_cmpint(g_atomic_int_get(&f->tap.other), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&f->tap.ssrc_bad), ==, 0);
	g_assert_cmpint(f->tap.max_gap, ==, 1);

	/* "low" gets 5 Mbit/s: up, at a keyframe, continuous, same SSRC. */
	kt_room_get_counters(f->room, &c);
	raised = g_get_monotonic_time();
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 5000000);
	g_assert_true(wait_value(&low->tag, 3, 15000));
	g_assert_true(wait_value(&low->width, 1280, 5000));
	g_test_message("low: up to the top layer %" G_GINT64_FORMAT " ms after its estimate rose",
	               (g_get_monotonic_time() - raised) / 1000);
	kt_room_get_counters(f->room, &c2);
	g_assert_cmpuint(c2.layer_switches, >, c.layer_switches);
	g_test_message("layer switches: %" G_GUINT64_FORMAT
	               ", keyframe requests sent %" G_GUINT64_FORMAT,
	               c2.layer_switches, c2.keyframe_requests_sent);
	report(low);
	g_assert_cmpint(low->bad_switches, ==, 0);
	g_assert_cmpint(low->ssrc_changes, ==, 0);
	g_assert_cmpint(high->ssrc_changes, ==, 0);
	g_assert_cmpint(plain->ssrc_changes, ==, 0);
	g_assert_cmpint(low->max_gap, <=, 1);

	/* NACK a packet after the switch: the same bytes come back. */
	switch_seq = g_atomic_int_get(&low->switch_seq);
	g_assert_cmpint(switch_seq, >=, 0);
	g_atomic_int_set(&low->keep_seq, (guint16)(low->last_seq + 5));
	g_assert_true(wait_count(&low->packets, g_atomic_int_get(&low->packets) + 30, 5000));
	g_assert_cmpuint(low->kept_len, >, 0);
	kt_room_get_counters(f->room, &c);
	peer_send_nack(f->cw, low->peer, kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO),
	               (guint16)g_atomic_int_get(&low->keep_seq));
	g_assert_true(wait_count(&low->resent_same, 1, 3000));
	g_assert_cmpint(g_atomic_int_get(&low->resent_other), ==, 0);
	/* One from before its switch (another layer's numbering) is not answered. */
	peer_send_nack(f->cw, low->peer, kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO),
	               (guint16)(switch_seq - 1));
	g_usleep(300 * 1000);
	kt_room_get_counters(f->room, &c2);
	g_assert_cmpuint(c2.retransmissions, ==, c.retransmissions + 1);
	g_test_message("NACK after the switch answered with the same %" G_GSIZE_FORMAT
	               " bytes; before it: not answered; %d PLIs at the publisher",
	               low->kept_len, g_atomic_int_get(&f->publisher.plis));

	/* Below the lowest layer: "low" gets no video until its estimate carries one.
	 * The pause waits for a shortage of 2 s (kt-room-alloc.c), not one sample. */
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 50000);
	gint64 pause_asked = g_get_monotonic_time();
	do {
		g_usleep(50 * 1000);
		kt_room_get_counters(f->room, &c);
	} while (c.video_pauses == 0 && g_get_monotonic_time() - pause_asked < 5 * G_USEC_PER_SEC);
	g_assert_cmpuint(c.video_pauses, ==, 1);
	g_assert_cmpint(g_get_monotonic_time() - pause_asked, >=, 2 * G_USEC_PER_SEC - 100000);
	g_usleep(200 * 1000); /* what was already on its way */
	paused = g_atomic_int_get(&low->packets);
	g_usleep(1000 * 1000);
	g_assert_cmpint(g_atomic_int_get(&low->packets), ==, paused);
	kt_room_set_subscriber_estimate(f->room, f->sub[1].server, 5000000);
	g_assert_true(wait_count(&low->resumes, 1, 5000));
	g_assert_cmpint(low->bad_resumes, ==, 0);
	g_assert_cmpint(low->ssrc_changes, ==, 0);
	g_test_message("low: paused at %d packets, resumed at a keyframe, next sequence number",
	               paused);

	teardown(f);
	g_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-simulcast/layer-per-subscriber", test_layer_per_subscriber);
	return g_test_run();
}
