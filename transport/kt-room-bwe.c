/* A bandwidth estimate per subscriber (media worker): every packet sent to a
 * subscriber on a line that negotiated transport-wide congestion control
 * carries the subscriber's transport-wide sequence number and is recorded in
 * its estimator (kt-bwe.h); the subscriber's feedback drives the estimate;
 * probe clusters let the estimate rise to what the subscriber should get.
 * Wire format of the sequence number:
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §2, in an RFC 8285
 * one-byte header extension. Allocates nothing per packet and logs nothing. */
#include "kt-room-private.h"

#include <string.h>

#include "kt-bwe.h"

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

#define EXT_LEN 8 /* what the transport-wide number adds: 0xBEDE, length 1, one word */
/* Sources' bitrates are measured over about this long. */
#define RATE_PERIOD_US G_USEC_PER_SEC
/* Recent media packets sent to a subscriber, kept to be resent as probes. */
#define HISTORY 64
/* A probe cluster aims at this many packets, well above the
 * KT_BWE_PROBE_MIN_PACKETS the estimator needs. */
#define PROBE_PACKETS 8
#define PROBE_TICK_MS 1
#define MIN_PROBE_SIZE 60 /* bytes: below this the header is most of it */
#define MAX_PADDING 255   /* RFC 3550 §5.1: the count is one octet */

typedef struct {
	guint32 ssrc;
	guint16 seq;
} Sent;

struct _SubBwe {
	KtBwe *bwe;
	guint16 seq;        /* the next transport-wide sequence number */
	guint32 demand_bps; /* kt_room_sub_set_demand; 0 = the sum of the sources */

	/* The subscriber's latest media packets on lines with RTX, newest at
	 * history[(history_next - 1) % HISTORY]. */
	Sent history[HISTORY];
	guint history_next, history_n;

	/* The probe cluster being sent (probe_timer set): its rate, the size its
	 * packets aim at, the bytes sent so far, how far back in the history the
	 * next resent packet is looked for. */
	GSource *probe_timer;
	gint64 probe_start_us;
	guint32 probe_bps;
	guint probe_size;
	guint64 probe_bytes;
	guint probe_back;

	/* Padding while a stream waits to go up (SubStream.fill_bps): its rate,
	 * the bytes owed, when they were last counted. */
	GSource *fill_timer;
	guint32 fill_bps;
	gdouble fill_owed;
	gint64 fill_at_us;

	KtTwccStatus statuses[KT_TWCC_WINDOW]; /* kt_room_bwe_on_feedback() scratch */
};

/* ---- numbering ---- */

int kt_room_bwe_stamp(guint8 *buf, gsize len, gsize cap, guint8 ext_id, guint16 seq)
{
	guint8 v[2];

	kt_rtp_write_be16(v, seq);
	return kt_rtp_add_extension(buf, len, cap, ext_id, v, sizeof(v));
}

static gboolean numbered(const SubStream *ss)
{
	return ss->sub->bwe && ss->twcc_ext_id;
}

int kt_room_bwe_prepare(SubStream *ss, guint8 *buf, gsize len, gsize cap)
{
	if (!numbered(ss))
		return (int)len;
	return kt_room_bwe_stamp(buf, len, cap, ss->twcc_ext_id, ss->sub->bwe->seq);
}

/* A media packet just sent on a line with RTX: resendable as a probe. */
static void remember(SubBwe *b, const SubStream *ss, guint32 ssrc, guint16 seq)
{
	if (ssrc != ss->source->ssrc || !ss->rtx_pt_for[ss->source->codec])
		return;
	b->history[b->history_next] = (Sent){.ssrc = ssrc, .seq = seq};
	b->history_next = (b->history_next + 1) % HISTORY;
	b->history_n = MIN(b->history_n + 1, HISTORY);
}

void kt_room_bwe_sent(SubStream *ss, gint64 send_us, guint size, gboolean is_probe)
{
	SubBwe *b = ss->sub->bwe;

	if (!numbered(ss))
		return;
	kt_bwe_on_sent(b->bwe, b->seq++, send_us, size, is_probe);
}

int kt_room_send_rtp(KtRoom *room, SubStream *ss, gsize len, gboolean is_probe)
{
	guint32 ssrc = kt_rtp_read_be32(room->tx + 8);
	guint16 seq = kt_rtp_read_be16(room->tx + 2);
	gint64 now;
	int n, sent;

	n = kt_room_playout_prepare(ss, room->tx, len, sizeof(room->tx) - KT_SRTP_MAX_TRAILER);
	if (n < 0)
		return n;
	if (!numbered(ss))
		return kt_peer_send_rtp(ss->sub->peer, room->tx, n, sizeof(room->tx));
	n = kt_room_bwe_prepare(ss, room->tx, n, sizeof(room->tx) - KT_SRTP_MAX_TRAILER);
	if (n < 0)
		return n;
	now = g_get_monotonic_time();
	sent = kt_peer_send_rtp(ss->sub->peer, room->tx, n, sizeof(room->tx));
	if (sent < 0)
		return sent; /* not sent: the number goes to the next packet */
	/* 0: encrypted, numbered, and dropped by a full socket buffer, as the
	 * network would drop it; the gap tells the estimate. */
	kt_room_bwe_sent(ss, now, sent > 0 ? (guint)sent : (guint)n, is_probe);
	if (!is_probe)
		remember(ss->sub->bwe, ss, ssrc, seq);
	return sent;
}

/* ---- lifecycle ---- */

static void timer_stop(GSource **timer)
{
	if (*timer) {
		g_source_destroy(*timer);
		g_clear_pointer(timer, g_source_unref);
	}
}

void kt_room_bwe_on_subscribe(SubStream *ss, guint8 ext_id)
{
	Subscriber *sub = ss->sub;

	ss->twcc_ext_id = ext_id <= 14 ? ext_id : 0; /* the one-byte form's ids */
	if (!ss->twcc_ext_id || sub->bwe)
		return;
	sub->bwe = g_new0(SubBwe, 1);
	sub->bwe->bwe = kt_bwe_new(NULL);
}

void kt_room_bwe_free(Subscriber *sub)
{
	SubBwe *b = sub->bwe;

	if (!b)
		return;
	timer_stop(&b->probe_timer);
	timer_stop(&b->fill_timer);
	kt_bwe_free(b->bwe);
	g_free(b);
	sub->bwe = NULL;
}

/* ---- probing ---- */

/* Probes go on the RTX stream (RFC 4588) of a video line the subscriber
 * receives, numbered: without RTX there is no stream to put them on without
 * disturbing the media's sequence numbers, and such a subscriber's estimate
 * grows by AIMD alone. A muted source's line is left alone.
 *
 * A line whose video flows is preferred (its recent packets are resent as
 * probes), but one that waits for its first keyframe or is paused for want of
 * bandwidth will do (padding on its RTX stream, whose SSRC the offer
 * announced): its video comes back only once the estimate carries it, and
 * with audio alone the estimate cannot grow past 1.5 x what audio sends
 * (kt-bwe-delay.c), so without probes it would stay paused for good. */
static SubStream *probe_stream(const Subscriber *sub)
{
	SubStream *idle = NULL;

	for (guint i = 0; i < sub->streams->len; i++) {
		SubStream *ss = g_ptr_array_index(sub->streams, i);
		const Source *s = ss->source;

		if (s->kind != KT_MEDIA_VIDEO || !ss->twcc_ext_id || s->muted ||
		    !ss->pt_for[s->codec] || !ss->rtx_pt_for[s->codec])
			continue;
		/* A simulcast stream counts as started while it gets a layer. */
		if (ss->started || ss->sim.layer)
			return ss;
		if (!idle)
			idle = ss;
	}
	return idle;
}

static SubStream *stream_by_ssrc(const Subscriber *sub, guint32 ssrc)
{
	for (guint i = 0; i < sub->streams->len; i++) {
		SubStream *ss = g_ptr_array_index(sub->streams, i);

		if (ss->source->ssrc == ssrc)
			return ss;
	}
	return NULL;
}

/* A packet the subscriber got lately, resent as RTX (RFC 4588 §4) into
 * room->tx when it is not much larger than the cluster's packets; its
 * length, 0 when the history has no such packet left. The receiver drops it
 * as a duplicate, or fills a loss with it. */
static gsize build_resend(Subscriber *sub, SubStream **out, gint64 now)
{
	KtRoom *room = sub->room;
	SubBwe *b = sub->bwe;

	while (b->probe_back < b->history_n) {
		const Sent *e =
		    &b->history[(b->history_next + HISTORY - 1 - b->probe_back) % HISTORY];
		SubStream *ss = stream_by_ssrc(sub, e->ssrc);
		const guint8 *pkt;
		gsize len = 0;
		guint8 rtx_pt;

		b->probe_back++;
		if (!ss || !ss->twcc_ext_id || ss->source->muted)
			continue;
		rtx_pt = ss->rtx_pt_for[ss->source->codec];
		pkt = kt_room_resend_lookup(ss, e->seq, now, &len);
		if (!pkt || !rtx_pt || len < KT_RTP_HEADER_LEN || len + 2 > b->probe_size * 5 / 4 ||
		    len + 2 > sizeof(room->tx) - 64)
			continue;
		memcpy(room->tx, pkt, KT_RTP_HEADER_LEN);
		kt_rtp_write_be16(room->tx + KT_RTP_HEADER_LEN, e->seq);
		memcpy(room->tx + KT_RTP_HEADER_LEN + 2, pkt + KT_RTP_HEADER_LEN,
		       len - KT_RTP_HEADER_LEN);
		kt_rtp_set_payload_type(room->tx, rtx_pt);
		kt_rtp_set_ssrc(room->tx, ss->source->rtx_ssrc);
		kt_rtp_set_seq(room->tx, ss->rtx_seq++);
		kt_room_resend_fix(ss, room->tx, len + 2, e->seq, TRUE);
		*out = ss;
		return len + 2;
	}
	return 0;
}

/* A padding-only packet on @ss's RTX stream (RFC 3550 §5.1: the last octet
 * counts the padding), as libwebrtc probes when it has nothing to resend. */
static gsize build_padding(KtRoom *room, SubBwe *b, SubStream *ss)
{
	const Source *s = ss->source;
	guint pad =
	    CLAMP(b->probe_size, MIN_PROBE_SIZE, KT_RTP_HEADER_LEN + EXT_LEN + MAX_PADDING) -
	    KT_RTP_HEADER_LEN - EXT_LEN;

	kt_rtp_write_header(room->tx, sizeof(room->tx), ss->rtx_pt_for[s->codec], FALSE,
	                    ss->rtx_seq++, s->last_ts, s->rtx_ssrc);
	room->tx[0] |= 0x20;
	memset(room->tx + KT_RTP_HEADER_LEN, 0, pad);
	room->tx[KT_RTP_HEADER_LEN + pad - 1] = (guint8)pad;
	return KT_RTP_HEADER_LEN + pad;
}

/* Sends what the cluster owes by @now (its rate since it started, plus one
 * packet so it starts at once); FALSE once it is over. */
static gboolean probe_send_due(Subscriber *sub, gint64 now)
{
	SubBwe *b = sub->bwe;
	gint64 elapsed = now - b->probe_start_us;
	guint64 due =
	    (guint64)b->probe_bps * (guint64)MAX(elapsed, 0) / 8 / G_USEC_PER_SEC + b->probe_size;
	SubStream *ss = probe_stream(sub);

	if (!ss || elapsed >= KT_BWE_PROBE_DURATION_US || !kt_peer_is_connected(sub->peer))
		return FALSE;
	for (guint i = 0; b->probe_bytes < due && i < 4 * PROBE_PACKETS; i++) {
		SubStream *to = ss;
		gsize len = build_resend(sub, &to, now);
		int n;

		if (len == 0) {
			to = ss;
			len = build_padding(sub->room, b, ss);
		}
		n = kt_room_send_rtp(sub->room, to, len, TRUE);
		if (n <= 0)
			return FALSE;
		b->probe_bytes += (guint)n;
		COUNT(sub->room, probe_packets_sent, 1);
	}
	return TRUE;
}

static gboolean on_probe_tick(gpointer data)
{
	Subscriber *sub = data;

	if (probe_send_due(sub, g_get_monotonic_time()))
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&sub->bwe->probe_timer, g_source_unref);
	return G_SOURCE_REMOVE;
}

/* A cluster at @bps for KT_BWE_PROBE_DURATION_US, paced by a 1 ms timer: its
 * packets aim at PROBE_PACKETS in all, so low rates still get enough of them
 * to be measured (padding packets are small), high rates are resent media. */
static void probe_start(Subscriber *sub, guint32 bps, gint64 now)
{
	SubBwe *b = sub->bwe;

	b->probe_start_us = now;
	b->probe_bps = bps;
	b->probe_size =
	    (guint)MAX((guint64)bps * KT_BWE_PROBE_DURATION_US / 8 / G_USEC_PER_SEC / PROBE_PACKETS,
	               MIN_PROBE_SIZE);
	b->probe_bytes = 0;
	b->probe_back = 0;
	if (!probe_send_due(sub, now))
		return;
	b->probe_timer = g_timeout_source_new(PROBE_TICK_MS);
	g_source_set_callback(b->probe_timer, on_probe_tick, sub, NULL);
	g_source_attach(b->probe_timer, kt_worker_get_context(sub->room->worker));
}

static void maybe_probe(Subscriber *sub, gint64 now)
{
	SubBwe *b = sub->bwe;
	guint32 bps;

	if (b->probe_timer || !probe_stream(sub) || !kt_peer_is_connected(sub->peer))
		return;
	if (kt_bwe_probe_wanted(b->bwe, now, &bps))
		probe_start(sub, bps, now);
}

/* ---- padding before going up ---- */

#define FILL_TICK_MS 5
#define FILL_SIZE 1200               /* resent media up to this; padding is smaller */
#define FILL_MAX_OWED_US (20 * 1000) /* a late tick does not become a burst */

/* What the subscriber's streams waiting to go up would add (SubStream.fill_bps),
 * at most half its estimate: padding tests the link, it must not fill it. */
static guint32 fill_wanted(const Subscriber *sub)
{
	guint64 sum = 0;

	for (guint i = 0; i < sub->streams->len; i++) {
		const SubStream *ss = g_ptr_array_index(sub->streams, i);

		if (!ss->source->muted)
			sum += ss->fill_bps;
	}
	return (guint32)MIN(sum, kt_room_sub_get_estimate(sub) / 2);
}

/* Sends what the padding owes by @now: recent media again on its RTX stream
 * (the receiver drops the copy), padding once the history is used up. FALSE
 * once there is nothing to pad for. Not while a probe cluster is sent: its
 * packets must be its own. */
static gboolean fill_send_due(Subscriber *sub, gint64 now)
{
	SubBwe *b = sub->bwe;
	SubStream *ss = probe_stream(sub);
	gint64 dt = MIN(now - b->fill_at_us, FILL_MAX_OWED_US);

	if (!b->fill_bps || !ss || !kt_peer_is_connected(sub->peer))
		return FALSE;
	b->fill_at_us = now;
	if (b->probe_timer)
		return TRUE;
	b->fill_owed += (gdouble)b->fill_bps * (gdouble)MAX(dt, 0) / 8e6;
	b->probe_size = FILL_SIZE;
	for (guint i = 0; b->fill_owed > 0 && i < 16; i++) {
		SubStream *to = ss;
		gsize len = build_resend(sub, &to, now);
		int n;

		if (len == 0) {
			b->probe_back = 0; /* round the history again next time */
			to = ss;
			len = build_padding(sub->room, b, ss);
		}
		n = kt_room_send_rtp(sub->room, to, len, TRUE);
		if (n <= 0)
			return n == 0; /* a full socket: try again next tick */
		b->fill_owed -= n;
		COUNT(sub->room, padding_packets_sent, 1);
	}
	return TRUE;
}

static gboolean on_fill_tick(gpointer data)
{
	Subscriber *sub = data;

	if (fill_send_due(sub, g_get_monotonic_time()))
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&sub->bwe->fill_timer, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void maybe_fill(Subscriber *sub, gint64 now)
{
	SubBwe *b = sub->bwe;

	b->fill_bps = fill_wanted(sub);
	if (!b->fill_bps || b->fill_timer || !probe_stream(sub) || !kt_peer_is_connected(sub->peer))
		return;
	b->fill_owed = 0;
	b->fill_at_us = now;
	b->probe_back = 0;
	b->fill_timer = g_timeout_source_new(FILL_TICK_MS);
	g_source_set_callback(b->fill_timer, on_fill_tick, sub, NULL);
	g_source_attach(b->fill_timer, kt_worker_get_context(sub->room->worker));
}

/* ---- demand ---- */

static void measure_sources(KtRoom *room, gint64 now)
{
	for (guint i = 0; i < room->sources->len; i++) {
		Source *s = g_ptr_array_index(room->sources, i);
		gint64 span = now - s->mark_us;

		if (s->mark_us && span < RATE_PERIOD_US)
			continue;
		s->bitrate_bps = s->mark_us ? (guint32)MIN((s->bytes_in - s->bytes_at_mark) * 8 *
		                                               G_USEC_PER_SEC / (guint64)span,
		                                           G_MAXUINT32)
		                            : 0;
		s->bytes_at_mark = s->bytes_in;
		s->mark_us = now;
	}
}

/* What the subscriber receives: the sources forwarded to it. */
static guint32 sources_demand(const Subscriber *sub)
{
	guint64 sum = 0;

	for (guint i = 0; i < sub->streams->len; i++) {
		const SubStream *ss = g_ptr_array_index(sub->streams, i);
		const Source *s = ss->source;

		if (ss->pt_for[s->codec] && !s->muted)
			sum += s->bitrate_bps;
	}
	return (guint32)MIN(sum, G_MAXUINT32);
}

void kt_room_sub_set_demand(Subscriber *sub, guint32 bps)
{
	if (sub->bwe)
		sub->bwe->demand_bps = bps;
}

void kt_room_bwe_tick(KtRoom *room, gint64 now)
{
	measure_sources(room, now);
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);

		if (!sub->bwe)
			continue;
		kt_bwe_set_demand(sub->bwe->bwe, sub->bwe->demand_bps ? sub->bwe->demand_bps
		                                                      : sources_demand(sub));
		maybe_probe(sub, now);
		maybe_fill(sub, now);
	}
}

/* ---- feedback ---- */

void kt_room_bwe_on_feedback(Subscriber *sub, const KtRtcpChunk *c, gint64 now)
{
	SubBwe *b = sub->bwe;
	KtTwccFeedback fb;
	int n;

	if (!b)
		return;
	n = kt_twcc_parse(c, &fb, b->statuses, G_N_ELEMENTS(b->statuses));
	if (n < 0)
		return;
	COUNT(sub->room, twcc_feedback_received, 1);
	kt_bwe_on_feedback(b->bwe, &fb, b->statuses, MIN((guint)n, G_N_ELEMENTS(b->statuses)), now);
	/* A probe that reached its rate may be followed by the next at once. */
	maybe_probe(sub, now);
}

guint32 kt_room_sub_get_estimate(const Subscriber *sub)
{
	return sub->bwe ? kt_bwe_target_bps(sub->bwe->bwe) : 0;
}

gboolean kt_room_sub_estimate_bounded(const Subscriber *sub)
{
	return sub->estimate_pinned || !sub->bwe || kt_bwe_is_bounded(sub->bwe->bwe);
}

gdouble kt_room_sub_get_loss(const Subscriber *sub)
{
	return sub->bwe ? kt_bwe_loss_fraction(sub->bwe->bwe) : -1;
}
