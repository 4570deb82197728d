/* Redundant audio (RED, RFC 2198) around Opus on the room's packet path
 * (media worker). A publisher that negotiated RED sends most packets as RED
 * (its Opus frame plus the previous one) and some as plain Opus (frames too
 * long to repeat); a RED packet keeps the publisher's RED payload type in
 * the canonical packet, so this file can tell the two apart.
 *
 * For each canonical packet of an audio source, kt_room_red_prepare() works
 * out once what the subscribers and taps need, into room->red:
 *  - RED from the publisher (STRIP): subscribers that took RED get it as it
 *    is, under their RED payload type (the blocks renumbered if they number
 *    Opus differently); the others, and the taps (recorders expect Opus), get
 *    the primary Opus frame, and when the publisher's uplink lost the packets
 *    just before it, those packets rebuilt from its redundancy first, in
 *    sequence. A RED packet that does not parse (or whose primary is not the
 *    negotiated Opus) is dropped for every subscriber and tap alike and
 *    counted; the next packet's redundancy fills the hole for Opus-only
 *    subscribers and taps.
 *  - plain Opus with [media] audio_red_add (ADD): subscribers that took RED
 *    and report more than 5 % loss get it wrapped in RED with the previous
 *    frame (two previous frames past 15 %); everybody else gets it as it is.
 *
 * Allocates nothing and logs nothing; the buffers are the room's. */
#include "kt-room-private.h"

#include <string.h>

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

/* ADD: loss a subscriber must report for one, and for two, previous frames. */
#define KT_ROOM_RED_ADD_LOSS_PCT 5
#define KT_ROOM_RED_ADD_LOSS2_PCT 15
/* A receiver report older than this says nothing about the link any more. */
#define KT_ROOM_RED_LOSS_FRESH_US (5 * G_USEC_PER_SEC)
/* Room left in a buffer behind a packet we build: the SRTP tag and any
 * header extension stamped at send time. */
#define KT_ROOM_RED_TAIL 64

gboolean kt_room_red_is_red(const PubTrack *t, guint8 pt)
{
	return t->spec.pt_for[KT_CODEC_RED] != 0 && pt == t->spec.pt_for[KT_CODEC_RED];
}

/* @seq (Ketang's numbering) went out in the Opus-only stream. */
static void note_sent(RedSource *r, guint16 seq)
{
	if (!r->have_last || (gint16)(guint16)(seq - r->last_seq) > 0) {
		r->last_seq = seq;
		r->have_last = TRUE;
	}
}

/* The packets lost just before @h->seq, rebuilt from the redundancy of the
 * canonical packet, oldest first; of a deeper hole, the last
 * KT_ROOM_RED_MAX_RECOVER. A late packet (older than the newest sent)
 * rebuilds nothing; should it be one that was rebuilt, the receiver gets
 * it twice, and its jitter buffer drops the copy. */
static void recover(KtRoom *room, Source *s, const KtRtpHeader *h, gsize len)
{
	RedPacket *rp = &room->red;
	gint16 gap = (gint16)(guint16)(h->seq - s->red.last_seq - 1);

	if (!s->red.have_last || gap <= 0)
		return;
	for (guint16 d = MIN((guint16)gap, KT_ROOM_RED_MAX_RECOVER); d >= 1; d--) {
		guint8 *out = rp->recovered[rp->n_recovered];
		int n = kt_red_recover(room->canon, len, h, (guint16)(h->seq - d), rp->opus_pt, out,
		                       KT_ROOM_BUF - KT_ROOM_RED_TAIL);

		if (n <= 0)
			continue; /* not carried, or not safely (kt-red.h) */
		rp->recovered_len[rp->n_recovered++] = (gsize)n;
		COUNT(room, red_recovered, 1);
	}
}

static void prepare_strip(KtRoom *room, Source *s, const KtRtpHeader *h, gsize len)
{
	RedPacket *rp = &room->red;
	int n;

	rp->mode = KT_ROOM_RED_STRIP;
	rp->opus_pt = s->track->spec.pt;
	rp->payload_len = h->payload_len;
	rp->n_recovered = 0;
	s->red.red_pt = h->payload_type;
	s->red.opus_pt = rp->opus_pt;
	memcpy(rp->primary, room->canon, len);
	n = kt_red_to_primary(rp->primary, len, h, rp->opus_pt);
	if (n <= 0) {
		rp->primary_len = 0;
		COUNT(room, red_dropped, 1);
		return;
	}
	rp->primary_len = (gsize)n;
	COUNT(room, red_stripped, 1);
	recover(room, s, h, len);
	note_sent(&s->red, h->seq);
}

/* How many previous frames @ss should get with a plain Opus packet: 0 when
 * it did not take RED or its link is clean enough. */
static guint wanted_depth(const SubStream *ss, gint64 now)
{
	guint pct = ss->fraction_lost * 100u / 256u;

	if (!ss->pt_for[KT_CODEC_RED] || !ss->loss_at_us ||
	    now - ss->loss_at_us > KT_ROOM_RED_LOSS_FRESH_US)
		return 0;
	return pct > KT_ROOM_RED_ADD_LOSS2_PCT ? 2 : pct > KT_ROOM_RED_ADD_LOSS_PCT ? 1 : 0;
}

/* The canonical Opus packet wrapped in RED with up to @depth previous
 * frames, into room->red.added[depth - 1]; returns its length, 0 if none. */
static gsize build_added(KtRoom *room, Source *s, const KtRtpHeader *h, guint depth)
{
	guint8 *out = room->red.added[depth - 1];
	int n = kt_red_history_build(&s->red.history, h->seq, h->timestamp, h->payload_type,
	                             room->canon + h->payload_offset, h->payload_len, depth,
	                             out + KT_RTP_HEADER_LEN,
	                             KT_ROOM_BUF - KT_RTP_HEADER_LEN - KT_ROOM_RED_TAIL);

	if (n <= 0)
		return 0;
	/* The canonical header (no CSRCs, no extension), without padding. */
	memcpy(out, room->canon, KT_RTP_HEADER_LEN);
	out[0] &= (guint8)~0x20;
	return KT_RTP_HEADER_LEN + (gsize)n;
}

/* Plain Opus: builds the RED forms the lossy sinks need, before the frame
 * joins the history (the redundancy is the frames before it). */
static void prepare_add(KtRoom *room, Source *s, const KtRtpHeader *h, gint64 now)
{
	RedPacket *rp = &room->red;
	guint need = 0;

	for (guint i = 0; i < s->sinks->len; i++)
		need = MAX(need, wanted_depth(g_ptr_array_index(s->sinks, i), now));
	rp->opus_pt = h->payload_type;
	rp->now_us = now;
	for (guint d = 1; d <= KT_RED_HISTORY_LEN; d++)
		rp->added_len[d - 1] = d <= need ? build_added(room, s, h, d) : 0;
	if (need > 0)
		rp->mode = KT_ROOM_RED_ADD;
	kt_red_history_push(&s->red.history, h->seq, h->timestamp, room->canon + h->payload_offset,
	                    h->payload_len);
}

void kt_room_red_prepare(KtRoom *room, Source *s, gsize len, gint64 now)
{
	KtRtpHeader h;

	room->red.mode = KT_ROOM_RED_NONE;
	if (s->kind != KT_MEDIA_AUDIO || kt_rtp_parse(room->canon, len, &h) < 0)
		return;
	if (s->track && kt_room_red_is_red(s->track, h.payload_type)) {
		prepare_strip(room, s, &h, len);
		return;
	}
	/* A publisher that negotiated RED sends it itself (this packet is one of
	 * its frames too long to repeat). */
	if (room->config.red_add && s->codec == KT_CODEC_OPUS &&
	    !(s->track && s->track->spec.pt_for[KT_CODEC_RED]))
		prepare_add(room, s, &h, now);
	note_sent(&s->red, h.seq);
}

/* A rebuilt packet to @ss, ahead of the one being forwarded. */
static void send_recovered(KtRoom *room, SubStream *ss, const guint8 *pkt, gsize len, guint8 pt)
{
	memcpy(room->tx, pkt, len);
	kt_rtp_set_payload_type(room->tx, pt);
	if (kt_room_send_rtp(room, ss, len, FALSE) <= 0)
		return;
	ss->packets++;
	ss->octets += len - KT_RTP_HEADER_LEN;
	COUNT(room, rtp_out, 1);
	COUNT(room, bytes_out, len);
}

/* Copies RED @pkt into room->tx under @ss's RED payload type, its blocks
 * renumbered from @from to @ss's Opus payload type when they differ. */
static gsize copy_red(KtRoom *room, const SubStream *ss, const guint8 *pkt, gsize len,
                      gsize payload_len, guint8 from)
{
	guint8 opus_pt = ss->pt_for[KT_CODEC_OPUS];

	memcpy(room->tx, pkt, len);
	kt_rtp_set_payload_type(room->tx, ss->pt_for[KT_CODEC_RED]);
	if (opus_pt != from &&
	    kt_red_map_pt(room->tx + KT_RTP_HEADER_LEN, payload_len, from, opus_pt) < 0)
		return 0;
	return len;
}

static gsize sink_strip(KtRoom *room, SubStream *ss, gsize len, gsize *payload_len)
{
	RedPacket *rp = &room->red;
	guint8 opus_pt = ss->pt_for[KT_CODEC_OPUS];

	if (rp->primary_len == 0)
		return 0; /* unparsable: nobody gets it */
	if (ss->pt_for[KT_CODEC_RED]) {
		*payload_len = rp->payload_len;
		return copy_red(room, ss, room->canon, len, rp->payload_len, rp->opus_pt);
	}
	for (guint i = 0; i < rp->n_recovered; i++)
		send_recovered(room, ss, rp->recovered[i], rp->recovered_len[i], opus_pt);
	memcpy(room->tx, rp->primary, rp->primary_len);
	kt_rtp_set_payload_type(room->tx, opus_pt);
	*payload_len = rp->primary_len - KT_RTP_HEADER_LEN;
	return rp->primary_len;
}

static gsize sink_add(KtRoom *room, SubStream *ss, gsize len, gsize *payload_len)
{
	RedPacket *rp = &room->red;
	guint depth = wanted_depth(ss, rp->now_us);
	gsize added = depth > 0 ? rp->added_len[depth - 1] : 0;

	if (added > 0) {
		gsize n = copy_red(room, ss, rp->added[depth - 1], added, added - KT_RTP_HEADER_LEN,
		                   rp->opus_pt);

		if (n > 0) {
			COUNT(room, red_added, 1);
			*payload_len = n - KT_RTP_HEADER_LEN;
			return n;
		}
	}
	memcpy(room->tx, room->canon, len);
	kt_rtp_set_payload_type(room->tx, ss->pt_for[KT_CODEC_OPUS]);
	return len;
}

gsize kt_room_red_for_sink(KtRoom *room, SubStream *ss, gsize len, gsize *payload_len)
{
	switch (room->red.mode) {
	case KT_ROOM_RED_STRIP:
		return sink_strip(room, ss, len, payload_len);
	case KT_ROOM_RED_ADD:
		return sink_add(room, ss, len, payload_len);
	case KT_ROOM_RED_NONE:
		break;
	}
	return 0;
}

void kt_room_red_tap(KtRoom *room, Source *s)
{
	const RedPacket *rp = &room->red;

	if (rp->primary_len == 0)
		return;
	for (guint i = 0; i < s->taps->len; i++) {
		Tap *tap = g_ptr_array_index(s->taps, i);

		for (guint k = 0; k < rp->n_recovered; k++)
			tap->func(rp->recovered[k], rp->recovered_len[k], s->codec, tap->user_data);
		tap->func(rp->primary, rp->primary_len, s->codec, tap->user_data);
	}
}

guint8 kt_room_red_resend_pt(const SubStream *ss, const guint8 *pkt, guint8 pt)
{
	const RedSource *r = &ss->source->red;

	if (ss->source->kind != KT_MEDIA_AUDIO || !r->red_pt || (pkt[1] & 0x7F) != r->red_pt)
		return pt;
	/* Cached as the publisher sent it: resent as it is, never stripped. */
	return ss->pt_for[KT_CODEC_RED] && ss->pt_for[KT_CODEC_OPUS] == r->opus_pt
	           ? ss->pt_for[KT_CODEC_RED]
	           : 0;
}
