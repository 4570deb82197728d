/* A simulcast publisher renegotiates (issue 5): the lesson teacher page's camera goes out as
 * three layers, and sharing courseware later (or stopping it) is a new offer on the same
 * connection, which the server answers by calling kt_room_add_publisher again.
 *
 * The publisher here behaves as libwebrtc does: each layer on an SSRC of its own that no SDP
 * names, told apart by the rid header extension (with the MID), and both extensions only
 * until a receiver report acknowledges that SSRC. The courseware is a plain VP8 line on the
 * same payload type, its SSRC in the SDP. A subscriber gets both. After each renegotiation
 * (courseware added, removed, added again) the camera must keep arriving on Ketang's SSRC
 * with nothing but camera packets in it, and the courseware nothing but courseware: the
 * layers' SSRCs, learned before the acknowledgement, cannot be learned again after it. */
#include <string.h>

#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-room.h"
#include "peer-pair.h"

#define MID_EXT 4
#define RID_EXT 10
#define N_LAYERS 3
#define CAMERA_MID "0"
#define COURSEWARE_MID "2"
#define COURSEWARE_SSRC 0x0C0C0C0C
#define COURSEWARE_TAG 9
#define TAG_OFFSET 11 /* past descriptor, frame tag, start code and sizes */

typedef struct {
	const char *rid;
	guint32 ssrc;
	guint width, height, frame_bytes;
	guint8 tag;
} LayerSpec;

static const LayerSpec layers[N_LAYERS] = {
    {"f", 0x0F0F0F01, 640, 360, 1500, 3},
    {"h", 0x0F0F0F02, 320, 180, 700, 2},
    {"q", 0x0F0F0F03, 160, 90, 300, 1},
};

/* One RTP stream of the publisher, on the client worker. */
typedef struct {
	const char *mid, *rid; /* rid NULL: a plain line */
	guint32 ssrc;
	guint width, height, frame_bytes;
	guint8 tag;
	guint16 seq;
	guint32 ts;
	gint acked;     /* a receiver report named its SSRC: no more MID and rid */
	gint force_key; /* a PLI asked for a keyframe */
} Stream;

typedef struct {
	KtPeer *peer;
	Stream streams[N_LAYERS + 1]; /* the layers, then the courseware */
	gint courseware_on;
	guint frame;
	GSource *timer;
} Publisher;

/* What the subscriber gets of one of Ketang's SSRCs, written on the client worker. */
typedef struct {
	guint32 ssrc;
	gint packets, keyframes;
	gint foreign; /* packets carrying the other source's tag */
} Rx;

typedef struct {
	KtWorkerPool *pool;
	KtWorker *w, *cw;
	KtRoom *room;
	PeerPair pub, sub;
	Publisher publisher;
	guint courseware;
	Rx camera, slides;
} Fixture;

static gsize put_ext(guint8 *p, const Stream *s)
{
	gsize n = 4, mid_len = strlen(s->mid), rid_len = s->rid ? strlen(s->rid) : 0;

	/* RFC 8285 one-byte header: the MID, then the rid, padded to 32 bits. */
	p[0] = 0xBE;
	p[1] = 0xDE;
	p[n++] = (MID_EXT << 4) | (mid_len - 1);
	memcpy(p + n, s->mid, mid_len);
	n += mid_len;
	if (rid_len) {
		p[n++] = (RID_EXT << 4) | (rid_len - 1);
		memcpy(p + n, s->rid, rid_len);
		n += rid_len;
	}
	while (n % 4)
		p[n++] = 0;
	p[2] = 0;
	p[3] = (n - 4) / 4;
	return n;
}

static void send_frame(Publisher *pub, Stream *s, gboolean key)
{
	guint left = s->frame_bytes;
	gboolean first = TRUE;
	gboolean ext = !g_atomic_int_get(&s->acked);

	while (left > 0) {
		guint8 pkt[1500] = {0};
		guint n = MIN(left, 1100);
		gsize h = 12;
		guint8 *pl;

		left -= n;
		pkt[0] = ext ? 0x90 : 0x80;
		pkt[1] = 96 | (left == 0 ? 0x80 : 0);
		kt_rtp_write_be16(pkt + 2, s->seq++);
		kt_rtp_write_be32(pkt + 4, s->ts);
		kt_rtp_write_be32(pkt + 8, s->ssrc);
		if (ext)
			h += put_ext(pkt + 12, s);
		pl = pkt + h;
		memset(pl, 0x55, n);
		pl[0] = first ? 0x10 : 0x00; /* VP8 descriptor: S on the frame's first packet */
		if (first) {
			pl[1] = key ? 0x00 : 0x01; /* frame tag: P=0 is a keyframe */
			pl[2] = pl[3] = 0;
			if (key) {
				pl[4] = 0x9d;
				pl[5] = 0x01;
				pl[6] = 0x2a;
				pl[7] = s->width & 0xff;
				pl[8] = s->width >> 8;
				pl[9] = s->height & 0xff;
				pl[10] = s->height >> 8;
			}
		}
		pl[TAG_OFFSET] = s->tag;
		kt_peer_send_rtp(pub->peer, pkt, h + n, sizeof(pkt));
		first = FALSE;
	}
}

/* Client worker, 30 frames/s: a keyframe each 4 s or when asked for. */
static gboolean publish_tick(gpointer data)
{
	Publisher *pub = data;
	guint n = g_atomic_int_get(&pub->courseware_on) ? N_LAYERS + 1 : N_LAYERS;

	for (guint i = 0; i < n; i++) {
		Stream *s = &pub->streams[i];

		send_frame(pub, s,
		           pub->frame % 120 == 0 || g_atomic_int_exchange(&s->force_key, 0));
		s->ts += 3000;
	}
	pub->frame++;
	return G_SOURCE_CONTINUE;
}

static Stream *stream_by_ssrc(Publisher *pub, guint32 ssrc)
{
	for (guint i = 0; i < G_N_ELEMENTS(pub->streams); i++)
		if (pub->streams[i].ssrc == ssrc)
			return &pub->streams[i];
	return NULL;
}

/* Receiver reports acknowledge SSRCs; PLIs ask a stream for a keyframe. */
static void on_publisher_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Publisher *pub = data;
	KtRtcpIter it;
	KtRtcpChunk c;
	KtRtcpReportBlock b;
	Stream *s;

	(void)peer;
	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		if (c.type == KT_RTCP_RR) {
			for (guint i = 0; kt_rtcp_get_report_block(&c, i, &b) >= 0; i++)
				if ((s = stream_by_ssrc(pub, b.ssrc)))
					g_atomic_int_set(&s->acked, 1);
		} else if (c.type == KT_RTCP_PSFB && c.count == KT_RTCP_FB_PLI &&
		           (s = stream_by_ssrc(pub, kt_rtcp_fb_get_media_ssrc(&c)))) {
			g_atomic_int_set(&s->force_key, 1);
		}
	}
}

static void on_rx_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Fixture *f = data;
	KtRtpHeader h;
	const guint8 *pl;
	Rx *rx;
	gboolean slide;

	(void)peer;
	if (kt_rtp_parse(buf, len, &h) < 0 || h.payload_len <= TAG_OFFSET || h.payload_type != 96)
		return;
	rx = h.ssrc == f->camera.ssrc ? &f->camera : h.ssrc == f->slides.ssrc ? &f->slides : NULL;
	if (!rx)
		return;
	pl = buf + h.payload_offset;
	slide = pl[TAG_OFFSET] == COURSEWARE_TAG;
	if (slide != (rx == &f->slides))
		g_atomic_int_inc(&rx->foreign);
	if (kt_rtp_vp8_is_keyframe(pl, h.payload_len))
		g_atomic_int_inc(&rx->keyframes);
	g_atomic_int_inc(&rx->packets);
}

static gboolean start(gpointer data)
{
	static const KtPeerMediaFuncs pub_funcs = {.rtcp = on_publisher_rtcp};
	static const KtPeerMediaFuncs rx_funcs = {.rtp = on_rx_rtp};
	Fixture *f = data;

	kt_peer_set_media_funcs(f->publisher.peer, &pub_funcs, &f->publisher);
	kt_peer_set_media_funcs(f->sub.client, &rx_funcs, f);
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
	kt_peer_set_media_funcs(f->sub.client, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* A negotiated VP8 line (feedback as Chrome offers it) of @mid. */
static KtRoomTrack vp8_line(const char *mid)
{
	KtRoomTrack t = {.kind = KT_MEDIA_VIDEO,
	                 .codec = KT_CODEC_VP8,
	                 .pt = 96,
	                 .clock_rate = 90000,
	                 .mid_ext_id = MID_EXT,
	                 .nack = TRUE,
	                 .pli = TRUE};

	g_strlcpy(t.mid, mid, sizeof(t.mid));
	return t;
}

/* The publisher's m-lines as the answer negotiates them: the camera with its rids, and
 * (@courseware) the courseware line with the SSRC its SDP names. */
static guint publisher_tracks(Fixture *f, gboolean courseware, KtRoomTrack *t)
{
	t[0] = vp8_line(CAMERA_MID);
	t[0].n_rids = N_LAYERS;
	t[0].rid_ext_id = RID_EXT;
	for (guint l = 0; l < N_LAYERS; l++)
		g_strlcpy(t[0].rids[l], layers[l].rid, sizeof(t[0].rids[l]));
	if (!courseware)
		return 1;
	t[1] = vp8_line(COURSEWARE_MID);
	t[1].source = f->courseware;
	t[1].remote_ssrc = COURSEWARE_SSRC;
	return 2;
}

static void setup(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 2000};
	KtRoomTrack pub[2], sub[2];
	guint32 rtx;

	f->pool = kt_worker_pool_new(2, &error);
	g_assert_no_error(error);
	f->w = kt_worker_pool_get(f->pool, 0);
	f->cw = kt_worker_pool_get(f->pool, 1);
	f->room = kt_room_new(f->w, &rc);
	f->courseware = kt_room_add_source(f->room, KT_MEDIA_VIDEO, &f->slides.ssrc, &rtx);
	f->camera.ssrc = kt_room_get_ssrc(f->room, KT_MEDIA_VIDEO);
	peer_pair_connect(&f->pub, f->w, f->cw);
	peer_pair_connect(&f->sub, f->w, f->cw);
	for (guint i = 0; i < 2; i++) {
		sub[i] = vp8_line(i ? "1" : "0");
		sub[i].mid_ext_id = 0;
		sub[i].source = i ? f->courseware : 0;
	}
	kt_room_add_subscriber(f->room, f->sub.server, sub, 2);

	f->publisher.peer = f->pub.client;
	for (guint l = 0; l < N_LAYERS; l++)
		f->publisher.streams[l] = (Stream){.mid = CAMERA_MID,
		                                   .rid = layers[l].rid,
		                                   .ssrc = layers[l].ssrc,
		                                   .width = layers[l].width,
		                                   .height = layers[l].height,
		                                   .frame_bytes = layers[l].frame_bytes,
		                                   .tag = layers[l].tag};
	f->publisher.streams[N_LAYERS] = (Stream){.mid = COURSEWARE_MID,
	                                          .ssrc = COURSEWARE_SSRC,
	                                          .width = 640,
	                                          .height = 360,
	                                          .frame_bytes = 1200,
	                                          .tag = COURSEWARE_TAG};
	for (guint i = 0; i < G_N_ELEMENTS(f->publisher.streams); i++) {
		f->publisher.streams[i].seq = g_random_int_range(0, 0x10000);
		f->publisher.streams[i].ts = g_random_int();
	}
	kt_room_add_publisher(f->room, f->pub.server, pub, publisher_tracks(f, FALSE, pub));
	kt_worker_invoke_sync(f->cw, start, f);
}

static void teardown(Fixture *f)
{
	kt_worker_invoke_sync(f->cw, stop, f);
	kt_room_close(f->room);
	kt_room_unref(f->room);
	peer_pair_close(&f->pub);
	peer_pair_close(&f->sub);
	kt_worker_pool_free(f->pool);
}

/* A new offer on the publisher's connection, answered: its tracks bound again. */
static void renegotiate(Fixture *f, gboolean courseware)
{
	KtRoomTrack t[2];

	g_atomic_int_set(&f->publisher.courseware_on, courseware);
	kt_room_add_publisher(f->room, f->pub.server, t, publisher_tracks(f, courseware, t));
}

static void assert_clean(Fixture *f, const char *when)
{
	g_test_message("%s: camera %d packets (%d keyframes), courseware %d packets (%d keyframes)",
	               when, g_atomic_int_get(&f->camera.packets),
	               g_atomic_int_get(&f->camera.keyframes), g_atomic_int_get(&f->slides.packets),
	               g_atomic_int_get(&f->slides.keyframes));
	g_assert_cmpint(g_atomic_int_get(&f->camera.foreign), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&f->slides.foreign), ==, 0);
}

static gboolean all_acked(Publisher *pub, guint n)
{
	for (guint i = 0; i < n; i++)
		if (!g_atomic_int_get(&pub->streams[i].acked))
			return FALSE;
	return TRUE;
}

static void wait_acked(Fixture *f, guint n)
{
	gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	while (!all_acked(&f->publisher, n) && g_get_monotonic_time() < until)
		g_usleep(20 * 1000);
	g_assert_true(all_acked(&f->publisher, n));
}

static void test_layers_survive_renegotiation(void)
{
	Fixture *f = g_new0(Fixture, 1);
	gint camera, slides;

	setup(f);
	g_assert_true(wait_count(&f->camera.packets, 60, 10000));
	/* Every layer acknowledged: from now on no packet names its layer. */
	wait_acked(f, N_LAYERS);
	assert_clean(f, "camera alone");

	/* Courseware shared: a new offer with the camera and the courseware. */
	camera = g_atomic_int_get(&f->camera.packets);
	renegotiate(f, TRUE);
	g_assert_true(wait_count(&f->slides.packets, 60, 10000));
	g_assert_true(wait_count(&f->camera.packets, camera + 60, 10000));
	wait_acked(f, N_LAYERS + 1);
	assert_clean(f, "courseware added");

	/* Courseware stopped, then shared again on the same line. */
	camera = g_atomic_int_get(&f->camera.packets);
	renegotiate(f, FALSE);
	g_assert_true(wait_count(&f->camera.packets, camera + 60, 10000));
	assert_clean(f, "courseware stopped");
	camera = g_atomic_int_get(&f->camera.packets);
	slides = g_atomic_int_get(&f->slides.packets);
	renegotiate(f, TRUE);
	g_assert_true(wait_count(&f->slides.packets, slides + 60, 10000));
	g_assert_true(wait_count(&f->camera.packets, camera + 60, 10000));
	assert_clean(f, "courseware again");

	teardown(f);
	g_free(f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-renegotiate/layers-survive", test_layers_survive_renegotiation);
	return g_test_run();
}
