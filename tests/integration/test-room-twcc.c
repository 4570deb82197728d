/* TWCC feedback from a room to a real publisher peer (ICE + DTLS + SRTP over
 * loopback): the publisher sends 200 packets 5 ms apart, each with a
 * transport-wide sequence number, three of them never sent (lost); the
 * feedback it gets back reports every sent one as received, the three as
 * lost, with arrival spacing close to the sending spacing, several reports a
 * second. A publisher that did not negotiate TWCC gets none. */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-room.h"
#include "kt-twcc.h"
#include "peer-pair.h"

#define N_PACKETS 200
#define GAP_MS 5
#define TWCC_EXT 3
#define PUB_SSRC 4242u

typedef struct {
	KtPeer *peer; /* the publisher's browser side */
	gboolean with_twcc;
	guint next; /* packets sent so far (lost ones included) */
	gint done;
	/* From the feedback (client worker). */
	gint reports;
	gint last_reported; /* the last packet's status came back */
	gint last_fb_count;
	gint8 seen[N_PACKETS]; /* 0 = not reported, 1 = received, -1 = lost */
	gint64 arrival[N_PACKETS];
	gint64 reference_us[N_PACKETS];
} Publisher;

static gboolean lost(guint i)
{
	return i >= 50 && i <= 52;
}

static gboolean send_next(gpointer data)
{
	Publisher *p = data;
	guint8 pkt[256 + 64];
	guint i = p->next++;

	if (i >= N_PACKETS) {
		g_atomic_int_set(&p->done, 1);
		return G_SOURCE_REMOVE;
	}
	if (lost(i))
		return G_SOURCE_CONTINUE;
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = p->with_twcc ? 0x90 : 0x80; /* V=2, X when there is an extension */
	pkt[1] = 96;
	pkt[2] = (guint8)(i >> 8);
	pkt[3] = (guint8)i;
	pkt[7] = (guint8)i; /* timestamp */
	pkt[8] = PUB_SSRC >> 24;
	pkt[9] = (PUB_SSRC >> 16) & 0xFF;
	pkt[10] = (PUB_SSRC >> 8) & 0xFF;
	pkt[11] = PUB_SSRC & 0xFF;
	if (p->with_twcc) {
		/* RFC 8285 one-byte header: 0xBEDE, 1 word; id 3, 2 bytes: the sequence. */
		static const guint8 head[] = {0xBE, 0xDE, 0x00, 0x01};

		memcpy(pkt + 12, head, 4);
		pkt[16] = (TWCC_EXT << 4) | 1;
		pkt[17] = (guint8)(i >> 8);
		pkt[18] = (guint8)i;
	}
	pkt[20] = 0x10; /* a VP8 payload descriptor, then bytes */
	g_assert_cmpint(kt_peer_send_rtp(p->peer, pkt, 256, sizeof(pkt)), >, 0);
	return G_SOURCE_CONTINUE;
}

static void on_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Publisher *p = data;
	KtRtcpIter it;
	KtRtcpChunk c;
	KtTwccFeedback fb;
	KtTwccStatus st[KT_TWCC_WINDOW];

	(void)peer;
	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		int n = kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st));

		if (n < 0)
			continue;
		g_assert_cmphex(fb.media_ssrc, ==, PUB_SSRC);
		p->last_fb_count = fb.fb_count;
		for (int k = 0; k < n; k++)
			if (st[k].seq < N_PACKETS) {
				p->seen[st[k].seq] = st[k].received ? 1 : -1;
				p->arrival[st[k].seq] = st[k].arrival_us;
				p->reference_us[st[k].seq] = fb.reference_time_us;
				if (st[k].seq == N_PACKETS - 1)
					g_atomic_int_set(&p->last_reported, 1);
			}
		g_atomic_int_inc(&p->reports);
	}
}

static gboolean start_sending(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtcp = on_rtcp};
	Publisher *p = data;
	GSource *timer = g_timeout_source_new(GAP_MS);

	kt_peer_set_media_funcs(p->peer, &funcs, p);
	g_source_set_callback(timer, send_next, p, NULL);
	g_source_attach(timer, kt_worker_get_context(kt_peer_get_worker(p->peer)));
	g_source_unref(timer);
	return G_SOURCE_REMOVE;
}

static gboolean noop(gpointer data)
{
	(void)data;
	return G_SOURCE_REMOVE;
}

static void run_publisher(Publisher *p, gboolean with_twcc)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0), *cw = kt_worker_pool_get(pool, 1);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoomTrack track = {.kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .pt = 96,
	                     .clock_rate = 90000,
	                     .remote_ssrc = PUB_SSRC,
	                     .pli = TRUE,
	                     .twcc_ext_id = with_twcc ? TWCC_EXT : 0};
	KtRoom *room = kt_room_new(w, &rc);
	PeerPair pair = {0};

	g_assert_no_error(error);
	peer_pair_connect(&pair, w, cw);
	kt_room_add_publisher(room, pair.server, &track, 1);
	p->peer = pair.client;
	p->with_twcc = with_twcc;
	kt_worker_invoke_sync(w, noop, NULL); /* the publisher is attached */
	kt_worker_invoke_sync(cw, start_sending, p);
	g_assert_true(wait_count(&p->done, 1, 10000));
	/* With TWCC the last packet's report follows within the 100 ms interval;
	 * without, no report may come: watch for 500 ms. */
	g_assert_true(wait_count(&p->last_reported, 1, 500) == with_twcc);
	kt_worker_invoke_sync(cw, noop, NULL);
	kt_room_close(room);
	kt_room_unref(room);
	peer_pair_close(&pair);
}

static void test_feedback(void)
{
	Publisher *p = g_new0(Publisher, 1);
	gint64 prev = -1;
	guint spacing_ok = 0, received = 0;

	run_publisher(p, TRUE);
	/* ~1 s of sending at one report per 100 ms. */
	g_test_message("%d reports, last fb count %d", p->reports, p->last_fb_count);
	g_assert_cmpint(p->reports, >=, 5);
	for (guint i = 0; i < N_PACKETS; i++) {
		if (lost(i)) {
			g_assert_cmpint(p->seen[i], ==, -1);
			continue;
		}
		g_assert_cmpint(p->seen[i], ==, 1);
		received++;
		/* Arrival spacing follows the 5 ms sending spacing (timers and the
		 * loopback add jitter: within 4 ms for most packets). */
		if (prev >= 0 && i > 0 && !lost(i - 1)) {
			gint64 gap = p->reference_us[i] + p->arrival[i] - prev;

			spacing_ok += ABS(gap - GAP_MS * 1000) <= 4000;
		}
		prev = p->reference_us[i] + p->arrival[i];
	}
	g_test_message("%u received, %u of them %d+-4 ms after the previous", received, spacing_ok,
	               GAP_MS);
	g_assert_cmpuint(spacing_ok, >=, received * 8 / 10);
	g_free(p);
}

static void test_no_twcc_no_feedback(void)
{
	Publisher *p = g_new0(Publisher, 1);

	run_publisher(p, FALSE);
	g_assert_cmpint(p->reports, ==, 0);
	g_free(p);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-twcc/feedback", test_feedback);
	g_test_add_func("/room-twcc/none-without-negotiation", test_no_twcc_no_feedback);
	return g_test_run();
}
