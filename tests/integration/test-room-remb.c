/* REMB from a room to a real publisher peer (ICE + DTLS + SRTP over loopback).
 * The publisher sends 1000-byte packets every 5 ms (1.6 Mbit/s), with the
 * abs-send-time extension when the test says so. One that took goog-remb gets
 * a REMB (PSFB FMT 15) about once a second naming its SSRC, whose value never
 * exceeds [media] publisher_max_kbps; without the extension the value is the
 * cap itself; with no cap it is the receive-side estimate (at most 1.5 x what
 * arrives); a subscriber's estimate does not cap it, even without simulcast. A
 * publisher that did not take goog-remb gets none. A publisher's own
 * malformed REMBs (and other broken feedback) change nothing. */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-room.h"
#include "kt-rtp.h"
#include "peer-pair.h"

#define GAP_MS 5
#define PACKET 1000
#define RATE_BPS (PACKET * 8 * 1000 / GAP_MS)
#define ABS_EXT 5
#define PUB_SSRC 0x5EB0C0DEu
#define CAP_KBPS 800

typedef struct {
	guint cap_kbps;
	gboolean remb;       /* the publisher's line took goog-remb */
	gboolean abs;        /* ... and abs-send-time, which it stamps */
	gboolean subscriber; /* a subscriber with TWCC receives its video */
	gboolean bad_input;  /* it sends broken feedback after the first REMB */
} Setup;

typedef struct {
	KtPeer *peer;
	gboolean abs;
	guint16 seq;
	GSource *timer;
	/* From Ketang's REMBs (client worker; read after it stopped). */
	gint rembs;
	guint64 first_bps, last_bps, min_bps, max_bps;
	gboolean all_named; /* every REMB listed PUB_SSRC */
} Pub;

typedef struct {
	KtWorkerPool *pool;
	KtWorker *w, *cw;
	KtRoom *room;
	PeerPair pub_pair, sub_pair;
	gboolean has_sub;
	Pub pub;
} Fixture;

static gboolean send_packet(gpointer data)
{
	Pub *p = data;
	guint8 pkt[PACKET + 64];
	guint16 seq = p->seq++;
	gsize off = 12;

	memset(pkt, 0, sizeof(pkt));
	kt_rtp_write_header(pkt, sizeof(pkt), 96, FALSE, seq, seq * 450u, PUB_SSRC);
	if (p->abs) {
		/* RFC 8285 one-byte form: 0xBEDE, 1 word; id 5, 3 bytes of 6.18 seconds. */
		guint32 t = (guint32)(((guint64)g_get_monotonic_time() << 18) / G_USEC_PER_SEC);

		pkt[0] |= 0x10;
		pkt[12] = 0xBE;
		pkt[13] = 0xDE;
		pkt[15] = 1;
		pkt[16] = ABS_EXT << 4 | 2;
		pkt[17] = (guint8)(t >> 16);
		pkt[18] = (guint8)(t >> 8);
		pkt[19] = (guint8)t;
		off = 20;
	}
	pkt[off] = 0x10; /* a VP8 payload descriptor, then bytes */
	kt_peer_send_rtp(p->peer, pkt, PACKET, sizeof(pkt));
	return G_SOURCE_CONTINUE;
}

static void on_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Pub *p = data;
	KtRtcpIter it;
	KtRtcpChunk c;

	(void)peer;
	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		guint64 bps;
		int n = kt_rtcp_remb_parse(&c, &bps);
		gboolean named = FALSE;

		if (n < 0)
			continue;
		for (int i = 0; i < n; i++) {
			guint32 ssrc = 0;

			g_assert_cmpint(kt_rtcp_remb_get_ssrc(&c, i, &ssrc), ==, 0);
			named |= ssrc == PUB_SSRC;
		}
		if (p->rembs == 0) {
			p->first_bps = p->min_bps = p->max_bps = bps;
			p->all_named = TRUE;
		}
		p->all_named &= named;
		p->last_bps = bps;
		p->min_bps = MIN(p->min_bps, bps);
		p->max_bps = MAX(p->max_bps, bps);
		g_atomic_int_inc(&p->rembs);
	}
}

static gboolean start_client(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtcp = on_rtcp};
	Pub *p = data;

	kt_peer_set_media_funcs(p->peer, &funcs, p);
	p->timer = g_timeout_source_new(GAP_MS);
	g_source_set_callback(p->timer, send_packet, p, NULL);
	g_source_attach(p->timer, kt_worker_get_context(kt_peer_get_worker(p->peer)));
	return G_SOURCE_REMOVE;
}

static gboolean stop_client(gpointer data)
{
	Pub *p = data;

	g_source_destroy(p->timer);
	g_clear_pointer(&p->timer, g_source_unref);
	kt_peer_set_media_funcs(p->peer, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* A well-formed REMB header (PSFB FMT 15, sender and media SSRC) into @b. */
static gsize remb_head(guint8 *b, guint words)
{
	b[0] = 0x80 | KT_RTCP_FB_AFB;
	b[1] = KT_RTCP_PSFB;
	b[2] = 0;
	b[3] = (guint8)words;
	memcpy(b + 4, "\x5E\xB0\xC0\xDE\0\0\0\0", 8);
	return 12;
}

/* Broken feedback from the publisher (client worker): REMBs that claim more
 * SSRCs than they hold, a wrong identifier, no bitrate at all, the largest
 * exponent, and a chunk whose length runs past the packet. */
static gboolean send_bad_input(gpointer data)
{
	Pub *p = data;
	guint8 b[256];
	gsize n;

	n = remb_head(b, 4);
	memcpy(b + n, "REMB\x05\x01\x00\x00\x5E\xB0\xC0\xDE", 8); /* 5 SSRCs, room for 0 */
	kt_peer_send_rtcp(p->peer, b, n + 8, sizeof(b));
	n = remb_head(b, 4);
	memcpy(b + n, "REMX\x00\x01\x00\x00", 8);
	kt_peer_send_rtcp(p->peer, b, n + 8, sizeof(b));
	n = remb_head(b, 3);
	memcpy(b + n, "REMB", 4);
	kt_peer_send_rtcp(p->peer, b, n + 4, sizeof(b));
	n = remb_head(b, 5);
	memcpy(b + n, "REMB\x01\xFF\xFF\xFF\x5E\xB0\xC0\xDE", 12); /* 2^63 and more */
	kt_peer_send_rtcp(p->peer, b, n + 12, sizeof(b));
	n = remb_head(b, 60);
	memcpy(b + n, "REMB\x01\x00\x10\x00", 8);
	kt_peer_send_rtcp(p->peer, b, n + 8, sizeof(b));
	return G_SOURCE_REMOVE;
}

static gboolean noop(gpointer data)
{
	(void)data;
	return G_SOURCE_REMOVE;
}

static void fixture_setup(Fixture *f, const Setup *s)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {
	    .keyframe_interval_ms = 300, .rtx_cache_ms = 1000, .publisher_max_kbps = s->cap_kbps};
	KtRoomTrack pub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 96,
	                         .clock_rate = 90000,
	                         .remote_ssrc = PUB_SSRC,
	                         .pli = TRUE,
	                         .remb = s->remb,
	                         .abs_send_time_ext_id = s->abs ? ABS_EXT : 0};
	KtRoomTrack sub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 96,
	                         .clock_rate = 90000,
	                         .pli = TRUE,
	                         .twcc_ext_id = 3};

	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->cw = kt_worker_pool_get(f->pool, 1);
	f->room = kt_room_new(f->w, &rc);
	peer_pair_connect(&f->pub_pair, f->w, f->cw);
	kt_room_add_publisher(f->room, f->pub_pair.server, &pub_track, 1);
	if (s->subscriber) {
		f->has_sub = TRUE;
		peer_pair_connect(&f->sub_pair, f->w, f->cw);
		kt_room_add_subscriber(f->room, f->sub_pair.server, &sub_track, 1);
	}
	f->pub.peer = f->pub_pair.client;
	f->pub.abs = s->abs;
	kt_worker_invoke_sync(f->w, noop, NULL); /* attached */
	kt_worker_invoke_sync(f->cw, start_client, &f->pub);
}

static void fixture_teardown(Fixture *f)
{
	kt_room_close(f->room);
	kt_room_unref(f->room);
	peer_pair_close(&f->pub_pair);
	if (f->has_sub)
		peer_pair_close(&f->sub_pair);
	kt_worker_pool_free(f->pool);
}

/* Sends for @ms (or until @rembs REMBs came); returns the room's REMB count. */
static guint64 run(Fixture *f, const Setup *s, gint rembs, guint ms)
{
	KtRoomCounters c;

	fixture_setup(f, s);
	if (s->bad_input) {
		g_assert_true(wait_count(&f->pub.rembs, 1, 3000));
		kt_worker_invoke_sync(f->cw, send_bad_input, &f->pub);
	}
	wait_count(&f->pub.rembs, rembs, ms);
	kt_worker_invoke_sync(f->cw, stop_client, &f->pub);
	kt_room_get_counters(f->room, &c);
	g_test_message("%d REMBs, first %" G_GUINT64_FORMAT " last %" G_GUINT64_FORMAT
	               " min %" G_GUINT64_FORMAT " max %" G_GUINT64_FORMAT ", room sent %" G_GUINT64_FORMAT,
	               f->pub.rembs, f->pub.first_bps, f->pub.last_bps, f->pub.min_bps, f->pub.max_bps,
	               c.remb_sent);
	g_assert_cmpuint(c.rtp_in, >, 0);
	fixture_teardown(f);
	return c.remb_sent;
}

/* With abs-send-time and a cap below what it sends: the estimate (at least
 * what arrives once known) is capped; the first REMB, before the estimate is
 * known, is the cap itself. */
static void test_estimate_capped(void)
{
	Setup s = {.cap_kbps = CAP_KBPS, .remb = TRUE, .abs = TRUE};
	Fixture f = {0};
	guint64 sent = run(&f, &s, 4, 5000);

	g_assert_cmpint(f.pub.rembs, >=, 4);
	g_assert_cmpuint(sent, >=, (guint64)f.pub.rembs);
	g_assert_true(f.pub.all_named);
	g_assert_cmpuint(f.pub.first_bps, ==, CAP_KBPS * 1000);
	g_assert_cmpuint(f.pub.max_bps, <=, CAP_KBPS * 1000);
	g_assert_cmpuint(f.pub.min_bps, >, 0);
}

/* No cap: the REMB is the receive-side estimate, known after a second, and
 * bounded by 1.5 x what arrives (gcc-02 §5.5). */
static void test_estimate_uncapped(void)
{
	Setup s = {.remb = TRUE, .abs = TRUE};
	Fixture f = {0};

	run(&f, &s, 3, 5000);
	g_assert_cmpint(f.pub.rembs, >=, 3);
	g_assert_cmpuint(f.pub.max_bps, <=, RATE_BPS * 3 / 2 + 10000 + RATE_BPS / 10);
	g_assert_cmpuint(f.pub.min_bps, >=, 30000);
}

/* Without abs-send-time the REMB carries the cap alone; the publisher's broken
 * feedback in the middle changes nothing. */
static void test_cap_only_and_bad_input(void)
{
	Setup s = {.cap_kbps = CAP_KBPS, .remb = TRUE, .bad_input = TRUE};
	Fixture f = {0};

	run(&f, &s, 3, 4000);
	g_assert_cmpint(f.pub.rembs, >=, 3);
	g_assert_true(f.pub.all_named);
	g_assert_cmpuint(f.pub.min_bps, ==, CAP_KBPS * 1000);
	g_assert_cmpuint(f.pub.max_bps, ==, CAP_KBPS * 1000);
}

/* A subscriber's estimate (300 kbit/s at the start) does not cap a publisher
 * without simulcast: the subscriber only probes as far as what it is sent. */
static void test_subscribers_do_not_cap(void)
{
	Setup s = {.cap_kbps = 2500, .remb = TRUE, .subscriber = TRUE};
	Fixture f = {0};

	run(&f, &s, 2, 3000);
	g_assert_cmpint(f.pub.rembs, >=, 2);
	g_assert_cmpuint(f.pub.min_bps, ==, 2500000);
	g_assert_cmpuint(f.pub.max_bps, ==, 2500000);
}

static void test_none_without_negotiation(void)
{
	Setup s = {.cap_kbps = CAP_KBPS, .abs = TRUE};
	Fixture f = {0};

	g_assert_cmpuint(run(&f, &s, 1, 2000), ==, 0);
	g_assert_cmpint(f.pub.rembs, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-remb/estimate-capped", test_estimate_capped);
	g_test_add_func("/room-remb/estimate-uncapped", test_estimate_uncapped);
	g_test_add_func("/room-remb/cap-only-and-bad-input", test_cap_only_and_bad_input);
	g_test_add_func("/room-remb/subscribers-do-not-cap", test_subscribers_do_not_cap);
	g_test_add_func("/room-remb/none-without-negotiation", test_none_without_negotiation);
	return g_test_run();
}
