/* Transport integration: real libnice ICE + OpenSSL DTLS + libsrtp SRTP
 * between Ketang peers over loopback (run inside a private network namespace
 * by ctest), and the room forwarding between them. */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <stun/usages/ice.h>

#include "kt-peer-private.h"
#include "kt-room.h"
#include "kt-rtcp.h"
#include "kt-rtp.h"
#include "kt-srtp.h"
#include "peer-pair.h"

#define PUB_SSRC 0x11223344u

typedef struct {
	gint rtp, rtcp;
	gint plis, nacks_seen, srs;
	guint32 last_ssrc, last_rtx_ssrc, sr_ssrc, sr_lsr;
	guint16 last_seq, rtx_osn;
	guint8 last_pt;
	guint8 payload[64];
	gsize payload_len;
	gint rtx;
} Sink;

static void sink_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	Sink *s = user_data;
	KtRtpHeader h;

	if (kt_rtp_parse(buf, len, &h) < 0)
		return;
	if (h.payload_type == 97) { /* RTX in these tests */
		s->last_rtx_ssrc = h.ssrc;
		s->rtx_osn = (buf[h.payload_offset] << 8) | buf[h.payload_offset + 1];
		g_atomic_int_inc(&s->rtx);
		return;
	}
	s->last_ssrc = h.ssrc;
	s->last_seq = h.seq;
	s->last_pt = h.payload_type;
	s->payload_len = MIN(h.payload_len, sizeof(s->payload));
	memcpy(s->payload, buf + h.payload_offset, s->payload_len);
	g_atomic_int_inc(&s->rtp);
}

static void sink_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	Sink *s = user_data;
	KtRtcpIter it;
	KtRtcpChunk c;

	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		if (c.type == KT_RTCP_PSFB && c.count == KT_RTCP_FB_PLI)
			g_atomic_int_inc(&s->plis);
		if (c.type == KT_RTCP_SR) {
			KtRtcpSenderInfo si;

			if (kt_rtcp_parse_sr(&c, &si) == 0) {
				s->sr_ssrc = si.ssrc;
				s->sr_lsr = (si.ntp_sec << 16) | (si.ntp_frac >> 16);
			}
			g_atomic_int_inc(&s->srs);
		}
	}
	g_atomic_int_inc(&s->rtcp);
}

typedef struct {
	KtPeer *peer;
	Sink *sink;
} SinkCall;

static gboolean install_sink(gpointer data)
{
	SinkCall *c = data;
	static const KtPeerMediaFuncs funcs = {sink_rtp, sink_rtcp, NULL};

	kt_peer_set_media_funcs(c->peer, c->sink ? &funcs : NULL, c->sink);
	return G_SOURCE_REMOVE;
}

static void set_sink(KtWorker *w, KtPeer *peer, Sink *sink)
{
	SinkCall c = {peer, sink};

	kt_worker_invoke_sync(w, install_sink, &c);
}

typedef struct {
	KtPeer *peer;
	guint8 buf[1500];
	gsize len;
	int rc;
} SendCall;

static gboolean do_send(gpointer data)
{
	SendCall *c = data;

	if (kt_rtp_demux(c->buf, c->len) == KT_PACKET_RTCP)
		c->rc = kt_peer_send_rtcp(c->peer, c->buf, c->len, sizeof(c->buf));
	else
		c->rc = kt_peer_send_rtp(c->peer, c->buf, c->len, sizeof(c->buf));
	return G_SOURCE_REMOVE;
}

static void send_packet(KtWorker *w, KtPeer *peer, const guint8 *pkt, gsize len)
{
	SendCall *c = g_new0(SendCall, 1);

	c->peer = peer;
	memcpy(c->buf, pkt, len);
	c->len = len;
	kt_worker_invoke_sync(w, do_send, c);
	g_assert_cmpint(c->rc, >, 0);
	g_free(c);
}

/* A VP8 packet: payload descriptor S=1 PID=0, then a frame header whose P bit
 * says keyframe (0) or interframe (1). */
static gsize make_vp8(guint8 *buf, guint16 seq, guint32 ts, gboolean key)
{
	kt_rtp_write_header(buf, 1500, 96, TRUE, seq, ts, PUB_SSRC);
	buf[12] = 0x10;
	buf[13] = key ? 0x00 : 0x01;
	for (guint i = 14; i < 112; i++)
		buf[i] = (guint8)(seq + i);
	return 112;
}

/* A connectivity check (RFC 8445 §7.2.2; sent as the controlling side: the
 * test pairs' server peers are controlled) from a new address to @peer's
 * selected socket, as a browser's check or consent request arrives: libnice
 * must still answer it (a success response with the same transaction ID)
 * once the socket is read through the worker's epoll set. */
static void assert_stun_answered(KtPeer *peer)
{
	NiceCandidate *local = NULL, *remote = NULL;
	g_autofree char *ufrag = NULL, *pwd = NULL, *username = NULL;
	struct sockaddr_storage to;
	StunAgent agent;
	StunMessage msg;
	uint8_t req[512], resp[512];
	size_t len;
	int fd;
	struct pollfd pfd;
	gssize n;

	g_assert_true(
	    nice_agent_get_selected_pair(peer->agent, peer->stream_id, 1, &local, &remote));
	g_assert_true(nice_agent_get_local_credentials(peer->agent, peer->stream_id, &ufrag, &pwd));
	username = g_strdup_printf("%s:%s", ufrag, peer->remote_ufrag);
	stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
	                STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
	len = stun_usage_ice_conncheck_create(
	    &agent, &msg, req, sizeof(req), (const uint8_t *)username, strlen(username),
	    (const uint8_t *)pwd, strlen(pwd), FALSE, TRUE, 0x6e0001ff, 0x1234, NULL,
	    STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
	g_assert_cmpuint(len, >, 20);
	nice_address_copy_to_sockaddr(&local->addr, (struct sockaddr *)&to);
	fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(sendto(fd, req, len, 0, (struct sockaddr *)&to,
	                       to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                : sizeof(struct sockaddr_in)),
	                ==, (gssize)len);
	pfd = (struct pollfd){.fd = fd, .events = POLLIN};
	g_assert_cmpint(poll(&pfd, 1, 3000), ==, 1);
	n = recv(fd, resp, sizeof(resp), 0);
	g_assert_cmpint(n, >=, 20);
	g_assert_cmpuint((resp[0] << 8) | resp[1], ==, 0x0101); /* Binding success response */
	g_assert_cmpmem(resp + 8, 12, req + 8, 12);
	close(fd); /* local, remote: libnice's own (transfer none) */
}

typedef struct {
	KtWorker *worker;
	guint want;
} WatchCount;

static gboolean watch_count_is(gpointer data)
{
	WatchCount *c = data;

	return kt_worker_get_watch_count(c->worker) == c->want;
}

/* Media both ways between two peers; once connected, each reads its
 * selected socket through the worker's epoll set (kt-peer-rx.c), STUN still
 * going through libnice, and a close takes the socket out of the set. */
static void run_peer_pair_media(const char *address)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	PeerPair pair = {.address = address};
	Sink at_server = {0}, at_client = {0};
	guint8 pkt[1500];
	gsize len;
	guint8 rr[64];
	KtRtcpReportBlock block = {.ssrc = 5};
	int n;

	WatchCount both = {w, 2}, none = {w, 0};

	peer_pair_connect(&pair, w, w);
	g_assert_true(wait_until(watch_count_is, &both, 3000));
	set_sink(w, pair.server, &at_server);
	set_sink(w, pair.client, &at_client);

	len = make_vp8(pkt, 100, 9000, TRUE);
	send_packet(w, pair.client, pkt, len);
	g_assert_true(wait_count(&at_server.rtp, 1, 3000));
	g_assert_cmpuint(at_server.last_ssrc, ==, PUB_SSRC);
	g_assert_cmpuint(at_server.last_seq, ==, 100);
	g_assert_cmpmem(at_server.payload, 64, pkt + 12, 64);

	len = make_vp8(pkt, 7, 1, FALSE);
	send_packet(w, pair.server, pkt, len);
	g_assert_true(wait_count(&at_client.rtp, 1, 3000));
	g_assert_cmpuint(at_client.last_seq, ==, 7);

	assert_stun_answered(pair.server);
	len = make_vp8(pkt, 101, 9090, FALSE);
	send_packet(w, pair.client, pkt, len);
	g_assert_true(wait_count(&at_server.rtp, 2, 3000));
	g_assert_cmpuint(at_server.last_seq, ==, 101);

	n = kt_rtcp_build_rr(rr, sizeof(rr), 42, &block, 1);
	g_assert_cmpint(n, >, 0);
	send_packet(w, pair.client, rr, n);
	g_assert_true(wait_count(&at_server.rtcp, 1, 3000));

	set_sink(w, pair.server, NULL);
	set_sink(w, pair.client, NULL);
	peer_pair_close(&pair);
	g_assert_true(wait_until(watch_count_is, &none, 3000));
}

static void test_peer_pair_media(void)
{
	run_peer_pair_media("127.0.0.1");
}

/* The education network is moving to IPv6: the same over ::1. */
static void test_peer_pair_media_ipv6(void)
{
	run_peer_pair_media("::1");
}

typedef struct {
	gint done;
	gint sub_rtt;
	double sub_loss;
	guint64 pub_bytes;
} StatsResult;

static void on_stats(const KtRoomPeerStats *st, guint n, gpointer data)
{
	StatsResult *r = data;

	for (guint i = 0; i < n; i++) {
		if (st[i].publisher) {
			r->pub_bytes = st[i].bytes_in;
		} else {
			r->sub_rtt = st[i].rtt_ms;
			r->sub_loss = st[i].loss_pct;
		}
	}
	r->done = 1;
}

/* Publisher → room → subscriber, then the subscriber's feedback. */
static void test_room_forwarding(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(w, &rc);
	PeerPair pub = {0}, sub = {0};
	Sink at_publisher = {0}, at_subscriber = {0};
	KtRoomTrack pub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 96,
	                         .clock_rate = 90000,
	                         .remote_ssrc = PUB_SSRC,
	                         .pli = TRUE,
	                         .nack = TRUE};
	KtRoomTrack sub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 100,
	                         .rtx_pt = 97,
	                         .clock_rate = 90000,
	                         .pli = TRUE,
	                         .nack = TRUE};
	guint8 pkt[1500];
	gsize len;
	guint32 room_ssrc = kt_room_get_ssrc(room, KT_MEDIA_VIDEO);
	KtRtcpSenderInfo si = {.ssrc = PUB_SSRC, .ntp_sec = 1, .rtp_ts = 9000};
	guint16 lost = 0;
	int n;

	peer_pair_connect(&pub, w, w);
	peer_pair_connect(&sub, w, w);
	set_sink(w, pub.client, &at_publisher);
	set_sink(w, sub.client, &at_subscriber);
	kt_room_add_publisher(room, pub.server, &pub_track, 1);
	kt_room_add_subscriber(room, sub.server, &sub_track, 1);

	/* The new subscriber makes the room ask the publisher for a keyframe. */
	g_assert_true(wait_count(&at_publisher.plis, 1, 3000));

	/* Interframes are held back until a keyframe starts the subscriber. */
	len = make_vp8(pkt, 1000, 9000, FALSE);
	send_packet(w, pub.client, pkt, len);
	for (guint i = 0; i < 10; i++) {
		len = make_vp8(pkt, 1001 + i, 12000, i == 0);
		send_packet(w, pub.client, pkt, len);
	}
	g_assert_true(wait_count(&at_subscriber.rtp, 10, 3000));
	g_assert_cmpuint(at_subscriber.last_ssrc, ==, room_ssrc);
	g_assert_cmpuint(at_subscriber.last_pt, ==, 100);
	g_assert_cmpuint(at_subscriber.last_seq, ==, 1010);
	g_assert_cmpmem(at_subscriber.payload, 64, pkt + 12, 64);
	g_assert_cmpint(g_atomic_int_get(&at_subscriber.rtp), ==, 10);

	/* NACK → RTX from the cache with the original sequence number. */
	lost = 1005;
	n = kt_rtcp_build_nack(pkt, sizeof(pkt), 1, room_ssrc, &lost, 1);
	send_packet(w, sub.client, pkt, n);
	g_assert_true(wait_count(&at_subscriber.rtx, 1, 3000));
	g_assert_cmpuint(at_subscriber.rtx_osn, ==, 1005);
	g_assert_cmpuint(at_subscriber.last_rtx_ssrc, ==,
	                 kt_room_get_rtx_ssrc(room, KT_MEDIA_VIDEO));

	/* A storm of 20 PLIs becomes at most one request per 300 ms interval
	 * (one now or at the end of the running interval, one trailing). */
	g_atomic_int_set(&at_publisher.plis, 0);
	for (guint i = 0; i < 20; i++) {
		n = kt_rtcp_build_pli(pkt, sizeof(pkt), 1, room_ssrc);
		send_packet(w, sub.client, pkt, n);
	}
	g_assert_true(wait_count(&at_publisher.plis, 1, 3000));
	g_assert_false(wait_count(&at_publisher.plis, 3, 800));

	/* Publisher SR → subscriber SR under the room's SSRC (lip sync). */
	n = kt_rtcp_build_sr(pkt, sizeof(pkt), &si, NULL, 0);
	send_packet(w, pub.client, pkt, n);
	g_assert_true(wait_count(&at_subscriber.srs, 1, 3000));
	g_assert_cmpuint(at_subscriber.sr_ssrc, ==, room_ssrc);

	/* The subscriber's RR echoing that SR gives its round-trip time; the
	 * publisher's traffic shows in its stats. */
	{
		KtRtcpReportBlock rb = {
		    .ssrc = room_ssrc, .fraction_lost = 26, .lsr = at_subscriber.sr_lsr, .dlsr = 0};
		StatsResult res = {.sub_rtt = -1};

		n = kt_rtcp_build_rr(pkt, sizeof(pkt), 1, &rb, 1);
		send_packet(w, sub.client, pkt, n);
		for (guint tries = 0; tries < 50 && res.sub_rtt < 0; tries++) {
			res.done = 0;
			res.sub_rtt = -1;
			kt_room_query_stats(room, on_stats, &res, NULL);
			g_assert_true(wait_for(&res.done, 3000));
		}
		g_assert_cmpint(res.sub_rtt, >=, 0);
		g_assert_cmpint(res.sub_rtt, <, 1000);
		g_assert_cmpfloat(res.sub_loss, >, 9.0); /* 26/256 */
		g_assert_cmpuint(res.pub_bytes, >, 1000);
	}

	/* Garbage from a subscriber changes nothing for anyone. */
	memset(pkt, 0xff, 40);
	pkt[0] = 0x80;
	pkt[1] = 206;
	send_packet(w, sub.client, pkt, 40);
	len = make_vp8(pkt, 1011, 15000, FALSE);
	send_packet(w, pub.client, pkt, len);
	g_assert_true(wait_count(&at_subscriber.rtp, 11, 3000));

	kt_room_remove_peer(room, sub.server);
	kt_room_close(room);
	kt_room_unref(room);
	set_sink(w, pub.client, NULL);
	set_sink(w, sub.client, NULL);
	peer_pair_close(&pub);
	peer_pair_close(&sub);
}

/* A new publisher (here: H.264 after VP8, as when a teacher moves from the
 * browser to OBS) continues the same outgoing stream: same SSRC, next
 * sequence number, and the payload type the subscriber accepted for the new
 * codec. */
static void test_room_publisher_switch(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(w, &rc);
	PeerPair pub1 = {0}, pub2 = {0}, sub = {0};
	Sink at_subscriber = {0};
	KtRoomTrack vp8 = {.kind = KT_MEDIA_VIDEO,
	                   .codec = KT_CODEC_VP8,
	                   .pt = 96,
	                   .clock_rate = 90000,
	                   .remote_ssrc = PUB_SSRC,
	                   .pli = TRUE};
	KtRoomTrack h264 = {.kind = KT_MEDIA_VIDEO,
	                    .codec = KT_CODEC_H264,
	                    .pt = 125,
	                    .clock_rate = 90000,
	                    .remote_ssrc = PUB_SSRC + 1,
	                    .pli = TRUE};
	KtRoomTrack sub_track = {.kind = KT_MEDIA_VIDEO,
	                         .codec = KT_CODEC_VP8,
	                         .pt = 100,
	                         .clock_rate = 90000,
	                         .pli = TRUE};
	guint8 pkt[1500];
	gsize len;

	sub_track.pt_for[KT_CODEC_H264] = 102;
	peer_pair_connect(&pub1, w, w);
	peer_pair_connect(&pub2, w, w);
	peer_pair_connect(&sub, w, w);
	set_sink(w, sub.client, &at_subscriber);
	kt_room_add_publisher(room, pub1.server, &vp8, 1);
	kt_room_add_subscriber(room, sub.server, &sub_track, 1);
	for (guint i = 0; i < 10; i++) {
		len = make_vp8(pkt, 500 + i, 9000, i == 0);
		send_packet(w, pub1.client, pkt, len);
	}
	g_assert_true(wait_count(&at_subscriber.rtp, 10, 3000));
	g_assert_cmpuint(at_subscriber.last_seq, ==, 509);
	g_assert_cmpuint(at_subscriber.last_pt, ==, 100);

	kt_room_add_publisher(room, pub2.server, &h264, 1);
	kt_rtp_write_header(pkt, sizeof(pkt), 125, TRUE, 9000, 77, PUB_SSRC + 1);
	pkt[12] = 0x65; /* H.264 IDR slice, single NAL unit */
	memset(pkt + 13, 0x42, 99);
	send_packet(w, pub2.client, pkt, 112);
	g_assert_true(wait_count(&at_subscriber.rtp, 11, 3000));
	g_assert_cmpuint(at_subscriber.last_ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	g_assert_cmpuint(at_subscriber.last_seq, ==, 510);
	g_assert_cmpuint(at_subscriber.last_pt, ==, 102);

	kt_room_close(room);
	kt_room_unref(room);
	set_sink(w, sub.client, NULL);
	peer_pair_close(&pub1);
	peer_pair_close(&pub2);
	peer_pair_close(&sub);
}

typedef struct {
	gint packets, gone;
	guint32 ssrc;
	KtCodec codec;
} TapSeen;

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	TapSeen *t = data;
	KtRtpHeader h;

	if (kt_rtp_parse(rtp, len, &h) == 0) {
		t->ssrc = h.ssrc;
		t->codec = codec;
		g_atomic_int_inc(&t->packets);
	}
}

static void on_tap_gone(gpointer data)
{
	g_atomic_int_inc(&((TapSeen *)data)->gone);
}

/* Several sources in one room (a teacher's camera and a classroom's audio):
 * each reaches its subscribers under its own SSRC; a muted source stops
 * reaching them and resumes on unmute; unsubscribing stops one stream only. */
static void test_room_sources_and_mute(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(w, &rc);
	PeerPair teacher = {0}, classroom = {0}, viewer = {0};
	Sink at_viewer = {0};
	guint32 class_ssrc = 0;
	guint class_audio = kt_room_add_source(room, KT_MEDIA_AUDIO, &class_ssrc, NULL);
	KtRoomTrack cam = {.kind = KT_MEDIA_VIDEO,
	                   .codec = KT_CODEC_VP8,
	                   .pt = 96,
	                   .clock_rate = 90000,
	                   .remote_ssrc = PUB_SSRC,
	                   .pli = TRUE};
	KtRoomTrack mic = {.source = class_audio,
	                   .kind = KT_MEDIA_AUDIO,
	                   .codec = KT_CODEC_OPUS,
	                   .pt = 111,
	                   .clock_rate = 48000,
	                   .remote_ssrc = 0x5151};
	KtRoomTrack wants[2] = {
	    {.kind = KT_MEDIA_VIDEO, .codec = KT_CODEC_VP8, .pt = 100, .clock_rate = 90000},
	    {.source = class_audio,
	     .kind = KT_MEDIA_AUDIO,
	     .codec = KT_CODEC_OPUS,
	     .pt = 109,
	     .clock_rate = 48000},
	};
	guint8 pkt[1500];
	gsize len;
	gint seen;

	g_assert_cmpuint(class_audio, >, kt_room_get_default_source(room, KT_MEDIA_VIDEO));
	g_assert_cmpuint(class_ssrc, !=, 0);
	peer_pair_connect(&teacher, w, w);
	peer_pair_connect(&classroom, w, w);
	peer_pair_connect(&viewer, w, w);
	set_sink(w, viewer.client, &at_viewer);
	kt_room_add_publisher(room, teacher.server, &cam, 1);
	kt_room_add_publisher(room, classroom.server, &mic, 1);
	kt_room_add_subscriber(room, viewer.server, wants, 2);

	len = make_vp8(pkt, 1, 3000, TRUE);
	send_packet(w, teacher.client, pkt, len);
	g_assert_true(wait_count(&at_viewer.rtp, 1, 3000));
	g_assert_cmpuint(at_viewer.last_ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));

	kt_rtp_write_header(pkt, sizeof(pkt), 111, FALSE, 40, 960, 0x5151);
	memset(pkt + 12, 0x11, 60);
	send_packet(w, classroom.client, pkt, 72);
	g_assert_true(wait_count(&at_viewer.rtp, 2, 3000));
	g_assert_cmpuint(at_viewer.last_ssrc, ==, class_ssrc);
	g_assert_cmpuint(at_viewer.last_pt, ==, 109);

	/* Muted: the classroom's audio stops here, the teacher's video does not. */
	kt_room_set_source_muted(room, class_audio, TRUE);
	kt_rtp_write_header(pkt, sizeof(pkt), 111, FALSE, 41, 1920, 0x5151);
	send_packet(w, classroom.client, pkt, 72);
	len = make_vp8(pkt, 2, 6000, FALSE);
	send_packet(w, teacher.client, pkt, len);
	g_assert_true(wait_count(&at_viewer.rtp, 3, 3000));
	g_assert_cmpuint(at_viewer.last_ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
	g_assert_false(wait_count(&at_viewer.rtp, 4, 300));

	kt_room_set_source_muted(room, class_audio, FALSE);
	kt_rtp_write_header(pkt, sizeof(pkt), 111, FALSE, 42, 2880, 0x5151);
	send_packet(w, classroom.client, pkt, 72);
	g_assert_true(wait_count(&at_viewer.rtp, 4, 3000));
	g_assert_cmpuint(at_viewer.last_ssrc, ==, class_ssrc);

	/* Unsubscribed from the classroom: only the teacher's video remains. */
	kt_room_unsubscribe(room, viewer.server, class_audio);
	kt_rtp_write_header(pkt, sizeof(pkt), 111, FALSE, 43, 3840, 0x5151);
	send_packet(w, classroom.client, pkt, 72);
	len = make_vp8(pkt, 3, 9000, FALSE);
	send_packet(w, teacher.client, pkt, len);
	g_assert_true(wait_count(&at_viewer.rtp, 5, 3000));
	seen = g_atomic_int_get(&at_viewer.rtp);
	g_assert_false(wait_count(&at_viewer.rtp, seen + 1, 300));
	g_assert_cmpuint(at_viewer.last_ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));

	/* A tap (a recorder) gets the teacher's video under the room's SSRC. */
	{
		TapSeen tap = {0};
		guint id = kt_room_add_tap(room, kt_room_get_default_source(room, KT_MEDIA_VIDEO),
		                           on_tap, &tap, on_tap_gone);

		len = make_vp8(pkt, 4, 12000, TRUE);
		send_packet(w, teacher.client, pkt, len);
		g_assert_true(wait_count(&tap.packets, 1, 3000));
		g_assert_cmpuint(tap.ssrc, ==, kt_room_get_ssrc(room, KT_MEDIA_VIDEO));
		g_assert_cmpint(tap.codec, ==, KT_CODEC_VP8);
		kt_room_remove_tap(room, id);
		g_assert_true(wait_count(&tap.gone, 1, 3000));
	}

	kt_room_remove_source(room, class_audio);
	kt_room_close(room);
	kt_room_unref(room);
	set_sink(w, viewer.client, NULL);
	peer_pair_close(&teacher);
	peer_pair_close(&classroom);
	peer_pair_close(&viewer);
}

typedef struct {
	gboolean ready;
	char *ufrag, *pwd;
	char **candidates;
	KtPeerState state;
} OffererSide;

static void offerer_ready(KtPeer *peer, const char *ufrag, const char *pwd,
                          const char *const *candidates, gpointer data)
{
	OffererSide *o = data;

	o->ufrag = g_strdup(ufrag);
	o->pwd = g_strdup(pwd);
	o->candidates = g_strdupv((char **)candidates);
	o->ready = TRUE;
}

static void offerer_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer data)
{
	((OffererSide *)data)->state = state;
}

/* Ketang as the SDP offerer (the subscribe connection): its peer starts
 * without a remote description, the browser-like side answers, and Ketang
 * learns the answer afterwards, including trickled candidates. */
static void test_offerer_peer(void)
{
	static const char *const loopback[] = {"127.0.0.1", NULL};
	static const KtPeerEvents events = {offerer_ready, offerer_state};
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	g_autoptr(KtCert) server_cert = kt_cert_new_ecdsa("s", 1, NULL, NULL);
	g_autoptr(KtCert) client_cert = kt_cert_new_ecdsa("c", 1, NULL, NULL);
	OffererSide server = {0}, client = {0};
	KtPeerConfig scfg = {
	    .worker = w, .cert = server_cert, .local_addresses = loopback, .controlling = TRUE};
	KtPeerConfig ccfg = {.worker = w,
	                     .cert = client_cert,
	                     .local_addresses = loopback,
	                     .controlling = FALSE,
	                     .dtls_role = KT_DTLS_ROLE_CLIENT};
	KtPeer *sp, *cp;
	Sink at_client = {0};
	guint8 pkt[1500];
	gsize len;
	gint connected = 0;

	sp = kt_peer_new(&scfg, &events, &server, &error);
	g_assert_no_error(error);
	g_assert_true(wait_for(&server.ready, 5000));

	/* The answerer knows the offer; we hand it no candidates, they trickle. */
	ccfg.remote_ufrag = server.ufrag;
	ccfg.remote_pwd = server.pwd;
	ccfg.remote_fingerprint = kt_cert_get_fingerprint(server_cert);
	ccfg.remote_candidates = (const char *const *)server.candidates;
	cp = kt_peer_new(&ccfg, &events, &client, &error);
	g_assert_no_error(error);
	g_assert_true(wait_for(&client.ready, 5000));

	kt_peer_set_remote(sp, KT_DTLS_ROLE_SERVER, client.ufrag, client.pwd,
	                   kt_cert_get_fingerprint(client_cert), NULL);
	for (guint i = 0; client.candidates[i]; i++)
		kt_peer_add_remote_candidate(sp, client.candidates[i]);

	for (guint tries = 0; !connected; tries++) {
		g_assert_cmpuint(tries, <, 100); /* 10 s */
		wait_for(&connected, 100);
		connected = server.state == KT_PEER_STATE_CONNECTED &&
		            client.state == KT_PEER_STATE_CONNECTED;
		g_assert_cmpint(server.state, !=, KT_PEER_STATE_FAILED);
		g_assert_cmpint(client.state, !=, KT_PEER_STATE_FAILED);
	}
	set_sink(w, cp, &at_client);
	len = make_vp8(pkt, 5, 1, TRUE);
	send_packet(w, sp, pkt, len);
	g_assert_true(wait_count(&at_client.rtp, 1, 3000));

	set_sink(w, cp, NULL);
	kt_peer_close(sp);
	kt_peer_close(cp);
	kt_peer_unref(sp);
	kt_peer_unref(cp);
	for (OffererSide *o = &server; o; o = o == &server ? &client : NULL) {
		g_free(o->ufrag);
		g_free(o->pwd);
		g_strfreev(o->candidates);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/transport/peer-pair-media", test_peer_pair_media);
	g_test_add_func("/transport/peer-pair-media-ipv6", test_peer_pair_media_ipv6);
	g_test_add_func("/transport/offerer-peer", test_offerer_peer);
	g_test_add_func("/transport/room-forwarding", test_room_forwarding);
	g_test_add_func("/transport/room-publisher-switch", test_room_publisher_switch);
	g_test_add_func("/transport/room-sources-and-mute", test_room_sources_and_mute);
	return g_test_run();
}
