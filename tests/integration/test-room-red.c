/* Audio RED (RFC 2198) through a room, real peers (ICE + DTLS + SRTP over
 * loopback), issue 5:
 * - a publisher sends RED (kt_red_build over a synthetic Opus sequence, one
 *   frame of redundancy, as Chromium does). A subscriber that took RED gets
 *   the RED bytes unchanged under its own RED payload type; one that numbers
 *   Opus differently gets the blocks renumbered; an Opus-only subscriber and
 *   a tap (what a recorder sees) get the primary Opus frames;
 * - packets the publisher leaves out reach the Opus-only subscriber and the
 *   tap all the same, rebuilt from the next packet's redundancy, in sequence;
 *   two in a row: the later one only (one frame of redundancy);
 * - a RED packet with a truncated block header goes to nobody and is
 *   counted; the next packet fills the hole for the Opus-only subscriber and
 *   the tap; nothing else changes. A plain Opus packet in the RED stream (a
 *   frame too long to repeat) goes to everybody as Opus;
 * - audio_red_add: a plain Opus publisher reaches a RED subscriber that
 *   reports 10 % loss wrapped in RED with the previous frame, two previous
 *   frames at 40 %, and plain Opus once it reports none; the Opus-only
 *   subscriber gets plain Opus throughout. */
#include <string.h>

#include "kt-red.h"
#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-room.h"
#include "peer-pair.h"

#define AUDIO_SSRC 7001u
#define OPUS_PT 111
#define RED_PT 63
#define FRAME_TS 960 /* 20 ms at 48 kHz */
#define BASE_SEQ 1000
#define BASE_TS 50000u
#define N_PACKETS 60
#define MAX_FRAME 80
#define TOC_CELT_FB_20MS (31 << 3) /* RFC 6716 §3.1: config 31, one frame */

static void put32(guint8 *p, guint32 v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xFF;
	p[2] = (v >> 8) & 0xFF;
	p[3] = v & 0xFF;
}

/* Synthetic 20 ms Opus frame @i: a CELT fullband TOC and bytes derived from
 * @i, of a length that varies with @i. */
static gsize opus_frame(guint i, guint8 *buf)
{
	gsize len = 20 + (i * 7) % 50;

	buf[0] = TOC_CELT_FB_20MS;
	for (gsize k = 1; k < len; k++)
		buf[k] = (guint8)(i * 31 + k);
	return len;
}

/* The RED payload of frame @i with the frames before it (up to @depth), all
 * blocks numbered @opus_pt. */
static gsize red_payload(guint i, guint depth, guint8 opus_pt, guint8 *out, gsize cap)
{
	guint8 frames[3][MAX_FRAME], primary[MAX_FRAME];
	KtRedFrame prev[2];
	guint n = 0;

	for (; n < depth && n < i; n++) {
		prev[n].len = opus_frame(i - 1 - n, frames[n]);
		prev[n].data = frames[n];
		prev[n].timestamp_offset = (n + 1) * FRAME_TS;
	}
	int len = kt_red_build(opus_pt, primary, opus_frame(i, primary), prev, n, out, cap);
	g_assert_cmpint(len, >, 0);
	return (gsize)len;
}

static gsize rtp_packet(guint8 *pkt, guint8 pt, guint i, const guint8 *payload, gsize len)
{
	pkt[0] = 0x80;
	pkt[1] = pt;
	pkt[2] = (BASE_SEQ + i) >> 8;
	pkt[3] = (BASE_SEQ + i) & 0xFF;
	put32(pkt + 4, BASE_TS + i * FRAME_TS);
	put32(pkt + 8, AUDIO_SSRC);
	memcpy(pkt + 12, payload, len);
	return 12 + len;
}

/* ---- what each receiver got ---- */

typedef struct {
	guint8 red_pt, opus_pt; /* its numbering; red_pt 0 = Opus only */
	gint got[N_PACKETS];    /* per frame index */
	gint packets, bad, out_of_order;
	gint last;
	char why[160]; /* the first bad packet */
	GMutex lock;   /* taps run on the room's worker, peers on the client one */
} Rx;

/* The publisher's stream (test 1): left out, malformed, sent as plain Opus. */
static gboolean withheld(guint i)
{
	return i == 10 || i == 40 || i == 41;
}

static gboolean malformed(guint i)
{
	return i == 20;
}

static gboolean sent_plain(guint i)
{
	return i == 30;
}

static void rx_bad(Rx *rx, const char *fmt, guint i)
{
	if (rx->bad++ == 0)
		g_snprintf(rx->why, sizeof rx->why, fmt, i);
}

/* Checks one packet against what receiver @rx should get for its seq. */
static void rx_packet(Rx *rx, const guint8 *buf, gsize len)
{
	guint8 want[1500];
	gsize want_len;
	guint8 want_pt;
	KtRtpHeader h;
	guint i;

	if (kt_rtp_parse(buf, len, &h) < 0)
		return;
	g_mutex_lock(&rx->lock);
	i = (guint16)(h.seq - BASE_SEQ);
	if (i >= N_PACKETS) {
		rx_bad(rx, "seq %u outside the stream", h.seq);
		goto out;
	}
	if (rx->packets > 0 && (gint)i <= rx->last)
		rx->out_of_order++;
	rx->last = i;
	rx->got[i]++;
	rx->packets++;
	if (rx->red_pt && !sent_plain(i)) {
		want_pt = rx->red_pt;
		want_len = red_payload(i, 1, rx->opus_pt, want, sizeof want);
	} else {
		want_pt = rx->opus_pt;
		want_len = opus_frame(i, want);
	}
	if (h.payload_type != want_pt)
		rx_bad(rx, "frame %u: wrong payload type", i);
	else if (h.timestamp != BASE_TS + i * FRAME_TS)
		rx_bad(rx, "frame %u: wrong timestamp", i);
	else if (h.payload_len != want_len || memcmp(buf + h.payload_offset, want, want_len) != 0)
		rx_bad(rx, "frame %u: wrong payload", i);
out:
	g_mutex_unlock(&rx->lock);
}

static void on_rx_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	(void)peer;
	rx_packet(data, buf, len);
}

typedef struct {
	Rx *rx;
	gint codec_wrong;
} TapRx;

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	TapRx *t = data;

	if (codec != KT_CODEC_OPUS)
		g_atomic_int_inc(&t->codec_wrong);
	rx_packet(t->rx, rtp, len);
}

/* ---- fixture: a room, a publisher, three subscribers ---- */

enum { SUB_RED, SUB_RENUMBER, SUB_OPUS, N_SUBS };

typedef struct {
	KtWorkerPool *pool;
	KtWorker *w, *cw;
	KtRoom *room;
	PeerPair pub, sub[N_SUBS];
	Rx rx[N_SUBS];
	GSource *timer;
	guint next;
} Fixture;

static KtRoomTrack audio_track(guint8 opus_pt, guint8 red_pt)
{
	KtRoomTrack t = {
	    .kind = KT_MEDIA_AUDIO, .codec = KT_CODEC_OPUS, .pt = opus_pt, .clock_rate = 48000};

	t.pt_for[KT_CODEC_OPUS] = opus_pt;
	t.pt_for[KT_CODEC_RED] = red_pt;
	return t;
}

static gboolean noop(gpointer data)
{
	return G_SOURCE_REMOVE;
}

static void fixture_setup(Fixture *f, gboolean red_add, guint8 pub_red_pt)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000, .red_add = red_add};
	KtRoomTrack pub = audio_track(OPUS_PT, pub_red_pt);
	static const guint8 numbering[N_SUBS][2] = {
	    [SUB_RED] = {100, OPUS_PT}, [SUB_RENUMBER] = {101, 109}, [SUB_OPUS] = {0, 110}};

	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->cw = kt_worker_pool_get(f->pool, 1);
	f->room = kt_room_new(f->w, &rc);
	pub.remote_ssrc = AUDIO_SSRC;
	peer_pair_connect(&f->pub, f->w, f->cw);
	kt_room_add_publisher(f->room, f->pub.server, &pub, 1);
	for (guint s = 0; s < N_SUBS; s++) {
		KtRoomTrack t = audio_track(numbering[s][1], numbering[s][0]);

		g_mutex_init(&f->rx[s].lock);
		f->rx[s].red_pt = numbering[s][0];
		f->rx[s].opus_pt = numbering[s][1];
		peer_pair_connect(&f->sub[s], f->w, f->cw);
		kt_room_add_subscriber(f->room, f->sub[s].server, &t, 1);
	}
	/* The attach calls ran before anything is sent. */
	kt_worker_invoke_sync(f->w, noop, NULL);
}

static gboolean clear_funcs(gpointer data)
{
	Fixture *f = data;

	if (f->timer) {
		g_source_destroy(f->timer);
		g_clear_pointer(&f->timer, g_source_unref);
	}
	kt_peer_set_media_funcs(f->pub.client, NULL, NULL);
	for (guint s = 0; s < N_SUBS; s++)
		kt_peer_set_media_funcs(f->sub[s].client, NULL, NULL);
	return G_SOURCE_REMOVE;
}

static void fixture_teardown(Fixture *f)
{
	kt_worker_invoke_sync(f->cw, clear_funcs, f);
	kt_room_close(f->room);
	kt_room_unref(f->room);
	peer_pair_close(&f->pub);
	for (guint s = 0; s < N_SUBS; s++) {
		peer_pair_close(&f->sub[s]);
		g_mutex_clear(&f->rx[s].lock);
	}
	kt_worker_pool_free(f->pool);
}

/* Client worker: each subscriber's packets to @funcs with its receiver's
 * data, and @tick every @ms as the publisher. */
static void start_on_client(Fixture *f, const KtPeerMediaFuncs *funcs, GSourceFunc tick, guint ms,
                            gpointer rx_data[N_SUBS])
{
	for (guint s = 0; s < N_SUBS; s++)
		kt_peer_set_media_funcs(f->sub[s].client, funcs, rx_data[s]);
	f->timer = g_timeout_source_new(ms);
	g_source_set_callback(f->timer, tick, f, NULL);
	g_source_attach(f->timer, kt_worker_get_context(f->cw));
}

/* ---- test 1: a RED publisher ---- */

static gboolean red_tick(gpointer data)
{
	Fixture *f = data;
	guint8 payload[1500], pkt[1600];
	guint i = f->next++;
	gsize len;

	if (i >= N_PACKETS || withheld(i))
		return G_SOURCE_CONTINUE;
	if (malformed(i)) {
		/* F=1 and a block header cut after two of its four bytes. */
		static const guint8 cut[] = {0x80 | OPUS_PT, 0x00};
		len = rtp_packet(pkt, RED_PT, i, cut, sizeof cut);
	} else if (sent_plain(i)) {
		len = rtp_packet(pkt, OPUS_PT, i, payload, opus_frame(i, payload));
	} else {
		len = rtp_packet(pkt, RED_PT, i, payload,
		                 red_payload(i, 1, OPUS_PT, payload, sizeof payload));
	}
	kt_peer_send_rtp(f->pub.client, pkt, len, sizeof pkt);
	return G_SOURCE_CONTINUE;
}

typedef struct {
	Fixture *f;
	gpointer rx[N_SUBS];
} StartCall;

static gboolean start_red(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_rx_rtp};
	StartCall *c = data;

	start_on_client(c->f, &funcs, red_tick, 5, c->rx);
	return G_SOURCE_REMOVE;
}

static void assert_rx(Rx *rx, const char *name, gboolean opus_only)
{
	g_mutex_lock(&rx->lock);
	if (rx->bad)
		g_error("%s: %d bad packets; first: %s", name, rx->bad, rx->why);
	g_assert_cmpint(rx->out_of_order, ==, 0);
	for (guint i = 0; i < N_PACKETS; i++) {
		/* Opus-only receivers get what was left out back, except the first of
		 * two in a row; RED receivers get what was sent and parsed. */
		gboolean want = opus_only ? i != 40 : !withheld(i) && !malformed(i);

		if (rx->got[i] != (want ? 1 : 0))
			g_error("%s: frame %u arrived %d times", name, i, rx->got[i]);
	}
	g_mutex_unlock(&rx->lock);
}

static void test_red_publisher(void)
{
	Fixture f = {0};
	Rx tap_rx = {.opus_pt = OPUS_PT};
	TapRx tap = {.rx = &tap_rx};
	StartCall call = {&f, {&f.rx[0], &f.rx[1], &f.rx[2]}};
	KtRoomCounters c;

	fixture_setup(&f, FALSE, RED_PT);
	g_mutex_init(&tap_rx.lock);
	kt_room_add_tap(f.room, kt_room_get_default_source(f.room, KT_MEDIA_AUDIO), on_tap, &tap,
	                NULL);
	kt_worker_invoke_sync(f.w, noop, NULL);
	kt_worker_invoke_sync(f.cw, start_red, &call);

	g_assert_true(wait_count(&f.rx[SUB_OPUS].packets, N_PACKETS - 1, 5000));
	g_assert_true(wait_count(&f.rx[SUB_RED].packets, N_PACKETS - 4, 5000));
	g_assert_true(wait_count(&f.rx[SUB_RENUMBER].packets, N_PACKETS - 4, 5000));
	g_assert_true(wait_count(&tap_rx.packets, N_PACKETS - 1, 5000));
	g_usleep(100 * 1000); /* nothing more may come */
	assert_rx(&f.rx[SUB_RED], "RED subscriber", FALSE);
	assert_rx(&f.rx[SUB_RENUMBER], "RED subscriber with Opus 109", FALSE);
	assert_rx(&f.rx[SUB_OPUS], "Opus-only subscriber", TRUE);
	assert_rx(&tap_rx, "tap", TRUE);
	g_assert_cmpint(g_atomic_int_get(&tap.codec_wrong), ==, 0);

	kt_room_get_counters(f.room, &c);
	g_test_message("stripped %" G_GUINT64_FORMAT " recovered %" G_GUINT64_FORMAT
	               " dropped %" G_GUINT64_FORMAT,
	               c.red_stripped, c.red_recovered, c.red_dropped);
	g_assert_cmpuint(c.red_stripped, ==, N_PACKETS - 5); /* 3 withheld, 1 bad, 1 plain */
	g_assert_cmpuint(c.red_recovered, ==, 3);            /* 10, 20 and 41 */
	g_assert_cmpuint(c.red_dropped, ==, 1);
	g_assert_cmpuint(c.red_added, ==, 0);

	fixture_teardown(&f);
	g_mutex_clear(&tap_rx.lock);
}

/* ---- test 2: audio_red_add for a plain Opus publisher ---- */

typedef struct {
	guint8 red_pt, opus_pt;
	gint plain, red[3]; /* RED packets by redundant blocks */
	gint bad;
	char why[160];
} AddRx;

static void add_bad(AddRx *rx, const char *what, guint i)
{
	if (g_atomic_int_add(&rx->bad, 1) == 0)
		g_snprintf(rx->why, sizeof rx->why, "frame %u: %s", i, what);
}

/* RED must hold frame i as primary and frames i-1, i-2.. before it. */
static void check_added(AddRx *rx, const guint8 *payload, gsize len, guint i)
{
	KtRedBlock b[KT_RED_MAX_BLOCKS];
	int n = kt_red_parse(payload, len, b, G_N_ELEMENTS(b));
	guint8 want[MAX_FRAME];

	if (n < 1 || n > 3)
		return add_bad(rx, "RED does not parse", i);
	for (int k = 0; k < n; k++) {
		guint back = (guint)(n - 1 - k);
		gsize want_len = opus_frame(i - back, want);

		if (b[k].pt != rx->opus_pt || b[k].timestamp_offset != back * FRAME_TS ||
		    b[k].length != want_len || memcmp(payload + b[k].offset, want, want_len) != 0)
			return add_bad(rx, "RED block wrong", i);
	}
	g_atomic_int_inc(&rx->red[n - 1]);
}

static void on_add_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	AddRx *rx = data;
	guint8 want[MAX_FRAME];
	KtRtpHeader h;
	guint i;

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) < 0)
		return add_bad(rx, "not RTP", 0);
	i = (guint16)(h.seq - BASE_SEQ);
	if (h.timestamp != BASE_TS + i * FRAME_TS)
		return add_bad(rx, "wrong timestamp", i);
	if (rx->red_pt && h.payload_type == rx->red_pt)
		return check_added(rx, buf + h.payload_offset, h.payload_len, i);
	gsize want_len = opus_frame(i, want);
	if (h.payload_type != rx->opus_pt || h.payload_len != want_len ||
	    memcmp(buf + h.payload_offset, want, want_len) != 0)
		return add_bad(rx, "wrong Opus", i);
	g_atomic_int_inc(&rx->plain);
}

typedef struct {
	Fixture *f;
	guint32 ketang_ssrc;
	gint loss; /* what the RED subscriber reports, of 256 */
} AddState;

static AddState add_state;

static gboolean add_tick(gpointer data)
{
	Fixture *f = data;
	guint8 payload[MAX_FRAME], pkt[200], rr[64];
	guint i = f->next++;
	KtRtcpReportBlock b = {.ssrc = add_state.ketang_ssrc,
	                       .fraction_lost = (guint8)g_atomic_int_get(&add_state.loss)};
	int n;

	kt_peer_send_rtp(f->pub.client, pkt,
	                 rtp_packet(pkt, OPUS_PT, i, payload, opus_frame(i, payload)), sizeof pkt);
	/* Both RED subscribers report; each send encrypts the buffer in place. */
	for (guint s = SUB_RED; i % 10 == 0 && s <= SUB_RENUMBER; s++) {
		n = kt_rtcp_build_rr(rr, sizeof rr, 0x5b5b5b5b, &b, 1);
		g_assert_cmpint(n, >, 0);
		kt_peer_send_rtcp(f->sub[s].client, rr, n, sizeof rr);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean start_add(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_add_rtp};
	StartCall *c = data;

	start_on_client(c->f, &funcs, add_tick, 5, c->rx);
	return G_SOURCE_REMOVE;
}

static void assert_add_ok(AddRx *rx, const char *name)
{
	if (g_atomic_int_get(&rx->bad))
		g_error("%s: %d bad packets; first: %s", name, rx->bad, rx->why);
}

static void test_red_added_for_lossy_subscriber(void)
{
	Fixture f = {0};
	AddRx rx[N_SUBS] = {
	    {.red_pt = 100, .opus_pt = OPUS_PT}, {.red_pt = 101, .opus_pt = 109}, {.opus_pt = 110}};
	StartCall call = {&f, {&rx[0], &rx[1], &rx[2]}};
	KtRoomCounters c;
	gint red1;

	fixture_setup(&f, TRUE, 0);
	add_state = (AddState){&f, kt_room_get_ssrc(f.room, KT_MEDIA_AUDIO), 26}; /* 10 % */
	kt_worker_invoke_sync(f.cw, start_add, &call);

	/* 10 %: one previous frame. */
	g_assert_true(wait_count(&rx[SUB_RED].red[1], 20, 5000));
	g_assert_true(wait_count(&rx[SUB_RENUMBER].red[1], 20, 5000));
	/* 40 %: two. */
	g_atomic_int_set(&add_state.loss, 102);
	g_assert_true(wait_count(&rx[SUB_RED].red[2], 20, 5000));
	g_assert_true(wait_count(&rx[SUB_RENUMBER].red[2], 20, 5000));
	/* No loss: plain Opus again. */
	g_atomic_int_set(&add_state.loss, 0);
	red1 = g_atomic_int_get(&rx[SUB_RED].plain);
	g_assert_true(wait_count(&rx[SUB_RED].plain, red1 + 20, 5000));

	assert_add_ok(&rx[SUB_RED], "RED subscriber");
	assert_add_ok(&rx[SUB_RENUMBER], "RED subscriber with Opus 109");
	assert_add_ok(&rx[SUB_OPUS], "Opus-only subscriber");
	g_assert_cmpint(rx[SUB_OPUS].red[0] + rx[SUB_OPUS].red[1] + rx[SUB_OPUS].red[2], ==, 0);
	g_assert_cmpint(rx[SUB_OPUS].plain, >, 60);
	kt_room_get_counters(f.room, &c);
	g_test_message("added %" G_GUINT64_FORMAT ", RED subscriber: %d plain, %d + %d RED",
	               c.red_added, rx[SUB_RED].plain, rx[SUB_RED].red[1], rx[SUB_RED].red[2]);
	g_assert_cmpuint(c.red_added, >=, 80);
	g_assert_cmpuint(c.red_stripped + c.red_recovered + c.red_dropped, ==, 0);

	fixture_teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-red/red-publisher", test_red_publisher);
	g_test_add_func("/room-red/red-added", test_red_added_for_lossy_subscriber);
	return g_test_run();
}
