/* The room's packet path (media worker): publisher RTP → canonical packet →
 * every subscriber; RTCP both ways. Allocates nothing and logs nothing. */
#include "kt-room-private.h"

#include <string.h>

#include "kt-rtp.h"

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

/* A payload type alone is a guess: the camera and the courseware send VP8 on the same one.
 * It names a track only while the track's SSRC (of that kind, media or RTX) is unknown, so
 * a stream nothing else names cannot take over a track that has its own. */
static gboolean pt_names_track(const PubTrack *t, guint8 pt)
{
	if (t->spec.rtx_pt && pt == t->spec.rtx_pt)
		return t->rtx_ssrc == 0;
	return t->ssrc == 0 && (pt == t->spec.pt || kt_room_red_is_red(t, pt));
}

static PubTrack *find_track(Publisher *pub, const guint8 *buf, const KtRtpHeader *h,
                            gboolean *is_rtx)
{
	for (guint i = 0; i < pub->n_tracks; i++) {
		PubTrack *t = &pub->tracks[i];

		if (t->ssrc && t->ssrc == h->ssrc) {
			*is_rtx = FALSE;
			return t;
		}
		if (t->rtx_ssrc && t->rtx_ssrc == h->ssrc) {
			*is_rtx = TRUE;
			return t;
		}
	}
	/* Unsignalled SSRC: learn it from the MID header extension (RFC 8843
	 * §9.2) or, failing that, from the payload type. */
	for (guint i = 0; i < pub->n_tracks; i++) {
		PubTrack *t = &pub->tracks[i];
		const guint8 *mid = NULL;
		int n = -1;
		gboolean match;

		if (t->layer_of)
			continue;
		if (t->spec.n_rids > 1) {
			PubTrack *layer = kt_room_sim_learn(pub, t, buf, h, is_rtx);

			if (layer)
				return layer;
			continue;
		}
		if (t->spec.mid_ext_id)
			n = kt_rtp_find_extension(buf, h, t->spec.mid_ext_id, &mid);
		if (n > 0)
			match = (gsize)n == strlen(t->spec.mid) && memcmp(mid, t->spec.mid, n) == 0;
		else
			match = pt_names_track(t, h->payload_type);
		if (!match)
			continue;
		*is_rtx = t->spec.rtx_pt && h->payload_type == t->spec.rtx_pt;
		if (*is_rtx)
			t->rtx_ssrc = h->ssrc;
		else
			t->ssrc = h->ssrc;
		return t;
	}
	return NULL;
}

/* New publisher on a source: continue the outgoing sequence and timeline so
 * subscribers' jitter buffers see one stream (RFC 7667 §3.7). */
static void resync_source(Source *s, guint16 seq, guint32 ts, gint64 now)
{
	if (s->have_out) {
		guint64 elapsed = (guint64)(now - s->last_time_us) * s->clock_rate / G_USEC_PER_SEC;

		s->seq_offset = (guint16)(s->last_seq + 1 - seq);
		s->ts_offset = (guint32)(s->last_ts + MAX(elapsed, 1) - ts);
	} else {
		s->seq_offset = 0;
		s->ts_offset = 0;
	}
	s->resync = FALSE;
}

/* Build room->canon: 12-byte header with our SSRC, rewritten seq/ts, no
 * CSRCs or header extensions (their ids mean nothing to subscribers), then
 * payload and padding as received. */
static gsize build_canonical(KtRoom *room, Source *s, const guint8 *buf, const KtRtpHeader *h,
                             const guint8 *payload, gsize payload_len, guint16 seq)
{
	guint16 out_seq = seq + s->seq_offset;
	guint32 out_ts = h->timestamp + s->ts_offset;
	gsize len = 12 + payload_len + h->padding_len;

	if (len > sizeof(room->canon) - 64)
		return 0;
	kt_rtp_write_header(room->canon, sizeof(room->canon), h->payload_type, h->marker, out_seq,
	                    out_ts, s->ssrc);
	if (h->padding)
		room->canon[0] |= 0x20;
	memcpy(room->canon + 12, payload, payload_len + h->padding_len);
	/* Retransmissions (older seq) must not move the stream's head back. */
	if (!s->have_out || (gint16)(out_seq - s->last_seq) > 0) {
		s->have_out = TRUE;
		s->last_seq = out_seq;
		s->last_ts = out_ts;
	}
	return len;
}

static void send_to_subscribers(KtRoom *room, Source *s, gsize len, gboolean keyframe,
                                gsize payload_len)
{
	/* Counted once for the whole fan-out: two atomic adds per send were a
	 * tenth of the room's own time. */
	guint64 sent = 0, bytes = 0;

	for (gint i = -KT_ROOM_PREFETCH_STEPS; i < 0; i++)
		kt_room_prefetch_sinks(s->sinks, i, s->ssrc, FALSE);
	for (guint i = 0; i < s->sinks->len; i++) {
		SubStream *ss = g_ptr_array_index(s->sinks, i);
		KtPeer *peer = ss->sub->peer;
		guint8 pt = ss->pt_for[s->codec];
		gsize tx_len = len, tx_payload_len = payload_len;

		kt_room_prefetch_sinks(s->sinks, (gint)i, s->ssrc, FALSE);
		if (!pt || !kt_peer_is_connected(peer) || ss->pause.on)
			continue;
		if (!ss->started) {
			/* Video starts at a keyframe so the first frame decodes. */
			if (!keyframe)
				continue;
			ss->started = TRUE;
			kt_room_pause_resumed(ss, kt_rtp_read_be16(room->canon + 2));
			/* Once per stream, not per packet. */
			g_debug("peer %u: first keyframe %" G_GINT64_FORMAT " ms after connect",
			        kt_peer_get_id(peer),
			        (g_get_monotonic_time() - ss->waiting_since_us) / 1000);
		}
		if (room->red.mode != KT_ROOM_RED_NONE) {
			/* RED as is, stripped or added, per subscriber (kt-room-red.c). */
			tx_len = kt_room_red_for_sink(room, ss, len, &tx_payload_len);
			if (tx_len == 0)
				continue;
		} else {
			memcpy(room->tx, room->canon, len);
			kt_rtp_set_payload_type(room->tx, pt);
		}
		if (ss->pause.skip)
			kt_rtp_set_seq(
			    room->tx, kt_room_pause_out_seq(ss, kt_rtp_read_be16(room->canon + 2)));
		if (kt_room_send_rtp(room, ss, tx_len, FALSE) > 0) {
			ss->packets++;
			ss->octets += tx_payload_len;
			sent++;
			bytes += tx_len;
		}
	}
	if (sent) {
		COUNT(room, rtp_out, sent);
		COUNT(room, bytes_out, bytes);
	}
}

void kt_room_on_publisher_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	Publisher *pub = user_data;
	KtRoom *room = pub->room;
	KtRtpHeader h;
	PubTrack *t;
	Source *s;
	gboolean is_rtx = FALSE;
	const guint8 *payload;
	gsize payload_len;
	guint16 seq;
	gint64 now;

	if (kt_rtp_parse(buf, len, &h) < 0)
		return;
	now = g_get_monotonic_time();
	/* Every packet counts for the sender's estimate, RTX and padding probes too. */
	if (pub->twcc) {
		const guint8 *ext;

		if (kt_rtp_find_extension(buf, &h, pub->twcc_ext_id, &ext) == 2)
			kt_twcc_receiver_record(pub->twcc, (guint16)(ext[0] << 8 | ext[1]), now);
	}
	if (pub->remb)
		kt_room_remb_on_packet(pub, buf, &h, len, now);
	t = find_track(pub, buf, &h, &is_rtx);
	if (!t || !t->source)
		return;
	payload = buf + h.payload_offset;
	payload_len = h.payload_len;
	seq = h.seq;
	if (is_rtx) {
		/* RFC 4588 §4: original sequence number, then the payload. A
		 * padding-only RTX packet is a bandwidth probe: drop it. */
		if (payload_len < 2 + 1)
			return;
		seq = (payload[0] << 8) | payload[1];
		payload += 2;
		payload_len -= 2;
		h.payload_type = t->spec.pt;
	}
	/* Padding-only packets count too: their numbers are no gap. */
	if (t->spec.nack && t->source->kind == KT_MEDIA_VIDEO)
		kt_nack_list_on_packet(&t->nacks, seq, now);
	if (payload_len == 0)
		return; /* padding only */
	s = t->source;
	if (!s->resync && kt_room_already_have(s, seq, now)) {
		/* A copy of what arrived: Chrome pads its own bandwidth probes
		 * with old packets on RTX, a publisher may answer one NACK twice,
		 * a network may duplicate. Forwarded, a probe would cost every
		 * subscriber's link its rate and count in the layer's bitrate; it
		 * is dropped, as mediasoup drops repeated packets. */
		COUNT(room, publisher_rtx_duplicates, 1);
		return;
	}
	COUNT(room, rtp_in, 1);
	COUNT(room, bytes_in, len);
	pub->bytes_in += len;
	if (!t->stats_ready) {
		kt_rtp_stats_init(&t->stats, t->ssrc, t->spec.clock_rate);
		t->stats_ready = TRUE;
	}
	if (!is_rtx)
		kt_rtp_stats_update(&t->stats, seq, h.timestamp, now);
	/* RED keeps its payload type: the canonical packet says what it carries. */
	if (!kt_room_red_is_red(t, h.payload_type))
		h.payload_type = t->spec.pt;
	kt_room_forward(room, s, buf, &h, payload, payload_len, seq, now);
}

gboolean kt_room_already_have(Source *s, guint16 seq, gint64 now)
{
	gsize len;

	return kt_rtx_cache_lookup(s->cache, (guint16)(seq + s->seq_offset), now, &len) != NULL;
}

void kt_room_forward(KtRoom *room, Source *s, const guint8 *buf, KtRtpHeader *h,
                     const guint8 *payload, gsize payload_len, guint16 seq, gint64 now)
{
	gboolean keyframe;
	gsize out_len;

	if (s->resync)
		resync_source(s, seq, h->timestamp, now);
	s->last_time_us = now;
	out_len = build_canonical(room, s, buf, h, payload, payload_len, seq);
	if (out_len == 0)
		return;
	s->bytes_in += out_len;
	kt_rtx_cache_store(s->cache, seq + s->seq_offset, room->canon, out_len, now);
	keyframe =
	    s->kind == KT_MEDIA_VIDEO && kt_media_is_keyframe(s->codec, payload, payload_len);
	if (s->parent) {
		kt_room_sim_forward(room, s, h, payload, payload_len, out_len, keyframe, now);
		return;
	}
	/* Floor control: a muted source is not forwarded (its stats and
	 * receiver reports go on, so the publisher notices nothing). */
	if (s->muted)
		return;
	kt_room_red_prepare(room, s, out_len, now);
	send_to_subscribers(room, s, out_len, keyframe, payload_len);
	/* Recorders get what the lesson heard: muted audio is not recorded. They
	 * take Opus, so RED reaches them as its Opus frames. */
	if (room->red.mode == KT_ROOM_RED_STRIP) {
		kt_room_red_tap(room, s);
		return;
	}
	for (guint i = 0; i < s->taps->len; i++) {
		Tap *tap = g_ptr_array_index(s->taps, i);

		tap->func(room->canon, out_len, s->codec, tap->user_data);
	}
}

/* ---- RTCP ---- */

/* Ketang sends publishers no sender reports, so it does not know their round
 * trip: ask again every 100 ms, a few times (kt-nack-list.h). */
#define KT_ROOM_PUBLISHER_NACK_RETRY_US (100 * 1000)

/* What each publisher's uplink lost, asked for again (RFC 4585 §6.2.1). */
void kt_room_send_publisher_nacks(KtRoom *room, gint64 now)
{
	guint16 seqs[KT_NACK_MAX];

	for (guint i = 0; i < room->publishers->len; i++) {
		Publisher *pub = g_ptr_array_index(room->publishers, i);

		if (!kt_peer_is_connected(pub->peer))
			continue;
		for (guint j = 0; j < pub->n_tracks; j++) {
			PubTrack *t = &pub->tracks[j];
			guint n;
			int len;

			if (!t->nacks.n || !t->ssrc)
				continue;
			n = kt_nack_list_due(&t->nacks, now, KT_ROOM_PUBLISHER_NACK_RETRY_US, seqs,
			                     G_N_ELEMENTS(seqs));
			if (n == 0)
				continue;
			len = kt_rtcp_build_nack(room->tx, 1200, room->rtcp_ssrc, t->ssrc, seqs, n);
			if (len > 0 &&
			    kt_peer_send_rtcp(pub->peer, room->tx, len, sizeof(room->tx)) > 0)
				COUNT(room, nacks_sent, 1);
		}
	}
}

/* The media SSRC of a publisher's TWCC reports: libwebrtc takes a report only
 * when that is one of its sending SSRCs, so any learned one (a simulcast
 * m-line's own track has none, its layers have). */
static guint32 twcc_media_ssrc(const Publisher *pub)
{
	for (guint i = 0; i < pub->n_tracks; i++)
		if (pub->tracks[i].ssrc)
			return pub->tracks[i].ssrc;
	return 0;
}

/* What each TWCC publisher's packets did since the last report, back to its
 * bandwidth estimator (at most a few reports per publisher per call). */
void kt_room_send_twcc_feedback(KtRoom *room)
{
	for (guint i = 0; i < room->publishers->len; i++) {
		Publisher *pub = g_ptr_array_index(room->publishers, i);
		guint32 media_ssrc = twcc_media_ssrc(pub);
		int n;

		if (!pub->twcc || !kt_peer_is_connected(pub->peer))
			continue;
		for (guint k = 0; k < 4; k++) {
			/* 1200 bytes: one report stays inside any path MTU. */
			n = kt_twcc_receiver_build(pub->twcc, room->tx, 1200, room->rtcp_ssrc,
			                           media_ssrc);
			if (n <= 0)
				break;
			if (kt_peer_send_rtcp(pub->peer, room->tx, n, sizeof(room->tx)) > 0)
				COUNT(room, twcc_feedback_sent, 1);
		}
	}
}

static PubTrack *track_by_ssrc(Publisher *pub, guint32 ssrc)
{
	for (guint i = 0; i < pub->n_tracks; i++)
		if (pub->tracks[i].ssrc == ssrc)
			return &pub->tracks[i];
	return NULL;
}

void kt_room_send_sender_report(KtRoom *room, SubStream *ss)
{
	KtRtcpSenderInfo si;
	int n;

	if (!ss->started || !kt_peer_is_connected(ss->sub->peer))
		return;
	/* Same NTP↔RTP mapping as the publisher's (RFC 3550 §6.4.1), on our
	 * timeline, with this subscriber's own counts: lip sync survives. */
	if (!kt_room_sim_sender_info(ss, &si))
		return;
	si.packet_count = ss->packets;
	si.octet_count = ss->octets;
	n = kt_rtcp_build_sr(room->tx, sizeof(room->tx), &si, NULL, 0);
	if (n > 0 && kt_peer_send_rtcp(ss->sub->peer, room->tx, n, sizeof(room->tx)) > 0) {
		ss->sr_lsr = (si.ntp_sec << 16) | (si.ntp_frac >> 16);
		ss->sr_sent_us = g_get_monotonic_time();
	}
}

static void on_sender_report(KtRoom *room, Publisher *pub, const KtRtcpChunk *c, gint64 now)
{
	KtRtcpSenderInfo si;
	PubTrack *t;
	Source *s;

	if (kt_rtcp_parse_sr(c, &si) < 0)
		return;
	t = track_by_ssrc(pub, si.ssrc);
	if (!t || !t->source)
		return;
	if (t->stats_ready)
		kt_rtp_stats_on_sr(&t->stats, si.ntp_sec, si.ntp_frac, now);
	s = t->source;
	s->last_sr = si;
	s->have_sr = TRUE;
	if (s->parent)
		kt_room_sim_on_sender_report(room, s);
	for (guint i = 0; i < s->sinks->len; i++)
		kt_room_send_sender_report(room, g_ptr_array_index(s->sinks, i));
}

void kt_room_on_publisher_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	Publisher *pub = user_data;
	KtRtcpIter it;
	KtRtcpChunk c;
	gint64 now = g_get_monotonic_time();

	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		if (c.type == KT_RTCP_SR)
			on_sender_report(pub->room, pub, &c, now);
		/* RR/SDES/BYE/REMB/TWCC from a publisher need nothing yet: a REMB
		 * it sends says what it receives, not what it should send us. */
	}
}

static gboolean on_keyframe_timer(gpointer data)
{
	Source *s = data;

	g_source_unref(s->keyframe_timer);
	s->keyframe_timer = NULL;
	kt_room_request_keyframe(s->room, s, g_get_monotonic_time());
	return G_SOURCE_REMOVE;
}

void kt_room_request_keyframe(KtRoom *room, Source *s, gint64 now)
{
	PubTrack *t = s->track;
	gint64 interval = (gint64)room->config.keyframe_interval_ms * 1000;
	int n;

	if (kt_room_sim_layered(s)) {
		kt_room_sim_request_keyframes(room, s, now);
		return;
	}
	if ((!s->feed && (!t || !t->ssrc)) || s->kind != KT_MEDIA_VIDEO || room->closed)
		return;
	/* Coalesce: however many subscribers ask, one request per interval. A
	 * request inside the interval is not dropped but sent once at its end
	 * (browsers also ignore requests closer than ~300 ms), so a subscriber
	 * that joins just after another still gets its keyframe promptly. */
	if (s->last_keyframe_request_us && now - s->last_keyframe_request_us < interval) {
		if (!s->keyframe_timer) {
			guint wait_ms = (s->last_keyframe_request_us + interval - now) / 1000 + 20;

			s->keyframe_timer = g_timeout_source_new(wait_ms);
			g_source_set_callback(s->keyframe_timer, on_keyframe_timer, s, NULL);
			g_source_attach(s->keyframe_timer, kt_worker_get_context(room->worker));
		}
		return;
	}
	s->last_keyframe_request_us = now;
	if (s->feed) {
		if (s->feed->spec.on_keyframe)
			s->feed->spec.on_keyframe(s->feed->spec.user_data);
		COUNT(room, keyframe_requests_sent, 1);
		return;
	}
	if (t->spec.pli || !t->spec.fir)
		n = kt_rtcp_build_pli(room->tx, sizeof(room->tx), room->rtcp_ssrc, t->ssrc);
	else
		n = kt_rtcp_build_fir(room->tx, sizeof(room->tx), room->rtcp_ssrc, t->ssrc,
		                      s->fir_seq++);
	if (n > 0 && kt_peer_send_rtcp(t->publisher->peer, room->tx, n, sizeof(room->tx)) > 0)
		COUNT(room, keyframe_requests_sent, 1);
}

static SubStream *sub_stream_for(Subscriber *sub, guint32 ssrc)
{
	for (guint i = 0; i < sub->streams->len; i++) {
		SubStream *ss = g_ptr_array_index(sub->streams, i);

		if (ss->source->ssrc == ssrc)
			return ss;
	}
	return NULL;
}

/* Before a subscriber's round trip is measured, a repeated NACK is taken as a
 * new request after this long. */
#define KT_ROOM_RESEND_GUARD_US (20 * 1000)

/* Whether @seq was resent to @ss less than a round trip ago: the subscriber
 * cannot have received it yet, so its NACK repeats an old request (a lossy
 * link sends NACKs again on its own timer; answering each would double the
 * load on the link that is already short). */
static gboolean resent_recently(const SubStream *ss, guint16 seq, gint64 now)
{
	gint64 guard =
	    ss->sub->rtt_ms > 0 ? (gint64)ss->sub->rtt_ms * 1000 : KT_ROOM_RESEND_GUARD_US;

	for (guint i = 0; i < KT_ROOM_RESENT_KEEP; i++)
		if (ss->resent_at_us[i] && ss->resent_seq[i] == seq &&
		    now - ss->resent_at_us[i] < guard)
			return TRUE;
	return FALSE;
}

static void retransmit(KtRoom *room, SubStream *ss, guint16 seq, gint64 now)
{
	gsize len = 0;
	const guint8 *pkt = kt_room_resend_lookup(ss, seq, now, &len);
	guint8 pt = ss->pt_for[ss->source->codec], rtx_pt = ss->rtx_pt_for[ss->source->codec];

	if (!pkt) {
		kt_room_resend_missed(room, ss, seq, now);
		return;
	}
	if (len >= 12)
		pt = kt_room_red_resend_pt(ss, pkt, pt); /* RED is not resent stripped */
	if (len < 12 || len + 2 > sizeof(room->tx) - 64 || !pt)
		return;
	if (resent_recently(ss, seq, now)) {
		COUNT(room, retransmissions_skipped, 1);
		return;
	}
	if (rtx_pt) {
		/* RFC 4588 §4: RTX stream with its own SSRC and sequence. */
		memcpy(room->tx, pkt, 12);
		room->tx[12] = seq >> 8;
		room->tx[13] = seq & 0xff;
		memcpy(room->tx + 14, pkt + 12, len - 12);
		len += 2;
		kt_rtp_set_payload_type(room->tx, rtx_pt);
		kt_rtp_set_ssrc(room->tx, ss->source->rtx_ssrc);
		kt_rtp_set_seq(room->tx, ss->rtx_seq++);
	} else {
		memcpy(room->tx, pkt, len);
		kt_rtp_set_payload_type(room->tx, pt);
	}
	kt_room_resend_fix(ss, room->tx, len, seq, rtx_pt != 0);
	if (kt_room_send_rtp(room, ss, len, FALSE) > 0) {
		COUNT(room, retransmissions, 1);
		ss->resent_seq[ss->resent_next] = seq;
		ss->resent_at_us[ss->resent_next] = now;
		ss->resent_next = (ss->resent_next + 1) % KT_ROOM_RESENT_KEEP;
	}
}

static void on_nack(KtRoom *room, Subscriber *sub, const KtRtcpChunk *c, gint64 now)
{
	SubStream *ss = sub_stream_for(sub, kt_rtcp_fb_get_media_ssrc(c));
	int n = kt_rtcp_nack_count(c);

	if (!ss || n <= 0)
		return;
	COUNT(room, nacks_received, 1);
	for (int i = 0; i < n && i < 64; i++) {
		guint16 pid, blp;

		if (kt_rtcp_nack_get(c, i, &pid, &blp) < 0)
			break;
		retransmit(room, ss, pid, now);
		for (guint b = 0; b < 16; b++)
			if (blp & (1u << b))
				retransmit(room, ss, pid + b + 1, now);
	}
}

static void on_keyframe_request(KtRoom *room, Subscriber *sub, guint32 media_ssrc, gint64 now)
{
	SubStream *ss = sub_stream_for(sub, media_ssrc);

	COUNT(room, keyframe_requests_received, 1);
	if (ss)
		kt_room_request_keyframe(room, kt_room_sim_keyframe_source(ss), now);
}

/* RFC 3550 §6.4.1: RTT = now - (time we sent the SR the block echoes) - DLSR. */
static void on_report_blocks(Subscriber *sub, const KtRtcpChunk *c, gint64 now)
{
	KtRtcpReportBlock b;

	for (guint i = 0; i < c->count && kt_rtcp_get_report_block(c, i, &b) >= 0; i++) {
		SubStream *ss = sub_stream_for(sub, b.ssrc);
		gint64 rtt_us;

		if (!ss)
			continue;
		sub->fraction_lost = b.fraction_lost;
		ss->fraction_lost = b.fraction_lost;
		ss->loss_at_us = now;
		if (!b.lsr || b.lsr != ss->sr_lsr)
			continue;
		rtt_us = now - ss->sr_sent_us - (gint64)b.dlsr * G_USEC_PER_SEC / 65536;
		if (rtt_us >= 0 && rtt_us < 60 * G_USEC_PER_SEC)
			sub->rtt_ms = rtt_us / 1000;
	}
}

void kt_room_on_subscriber_rtcp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	Subscriber *sub = user_data;
	KtRoom *room = sub->room;
	KtRtcpIter it;
	KtRtcpChunk c;
	gint64 now = g_get_monotonic_time();

	kt_rtcp_iter_init(&it, buf, len);
	while (kt_rtcp_iter_next(&it, &c) > 0) {
		if (c.type == KT_RTCP_RR || c.type == KT_RTCP_SR) {
			on_report_blocks(sub, &c, now);
		} else if (c.type == KT_RTCP_RTPFB && c.count == KT_RTCP_FB_NACK) {
			on_nack(room, sub, &c, now);
		} else if (c.type == KT_RTCP_RTPFB && c.count == KT_RTCP_FB_TWCC) {
			kt_room_bwe_on_feedback(sub, &c, now);
		} else if (c.type == KT_RTCP_PSFB && c.count == KT_RTCP_FB_PLI) {
			on_keyframe_request(room, sub, kt_rtcp_fb_get_media_ssrc(&c), now);
		} else if (c.type == KT_RTCP_PSFB && c.count == KT_RTCP_FB_FIR) {
			guint32 ssrc;
			guint8 fseq;

			/* RFC 5104 §4.3.1: the target SSRC is in the FCI. */
			if (kt_rtcp_fir_count(&c) > 0 && kt_rtcp_fir_get(&c, 0, &ssrc, &fseq) >= 0)
				on_keyframe_request(room, sub, ssrc, now);
		}
	}
}

/* Receiver reports of this long ago no longer say anything about a subscriber's link. */
#define KT_ROOM_LOSS_FRESH_US (5 * G_USEC_PER_SEC)
/* At most this much subscriber loss (of 256) is passed on: enough for the
 * publisher's Opus to spend its most on in-band FEC (RFC 6716 §2.1.7), bounded
 * so that one classroom on a terrible link cannot make the teacher's encoder
 * give up bitrate for everyone. */
#define KT_ROOM_MAX_RELAYED_LOSS 64 /* 25 % */

/* Audio: the publisher's Opus turns in-band FEC on only when its receiver says
 * it loses packets, and Ketang's own receiver report would only speak of the
 * publisher's uplink. What the subscribers lose (the worst of them, fresh and
 * bounded) goes into the report instead when it is higher. Video keeps the
 * uplink's own figure: layers and retransmissions serve the weak subscribers. */
static void relay_subscriber_loss(const PubTrack *t, KtRtcpReportBlock *b, gint64 now)
{
	const Source *s = t->source;
	guint8 worst = 0;

	if (!s || s->kind != KT_MEDIA_AUDIO)
		return;
	for (guint i = 0; i < s->sinks->len; i++) {
		const SubStream *ss = g_ptr_array_index(s->sinks, i);

		if (ss->loss_at_us && now - ss->loss_at_us <= KT_ROOM_LOSS_FRESH_US)
			worst = MAX(worst, ss->fraction_lost);
	}
	b->fraction_lost = MAX(b->fraction_lost, MIN(worst, KT_ROOM_MAX_RELAYED_LOSS));
}

void kt_room_send_receiver_reports(KtRoom *room, gint64 now)
{
	KtRtcpReportBlock blocks[KT_ROOM_MAX_PUB_TRACKS];

	for (guint p = 0; p < room->publishers->len; p++) {
		Publisher *pub = g_ptr_array_index(room->publishers, p);
		guint n = 0;
		int len;

		if (!kt_peer_is_connected(pub->peer))
			continue;
		for (guint i = 0; i < pub->n_tracks; i++) {
			PubTrack *t = &pub->tracks[i];

			if (!t->stats_ready || kt_rtp_stats_get_packets(&t->stats) == 0)
				continue;
			kt_rtp_stats_fill_report(&t->stats, now, &blocks[n]);
			/* The uplink's own loss, for link quality, before any relaying. */
			pub->fraction_lost =
			    MAX(n == 0 ? 0 : pub->fraction_lost, blocks[n].fraction_lost);
			relay_subscriber_loss(t, &blocks[n], now);
			n++;
		}
		if (n == 0)
			continue;
		len = kt_rtcp_build_rr(room->tx, sizeof(room->tx), room->rtcp_ssrc, blocks, n);
		if (len > 0)
			kt_peer_send_rtcp(pub->peer, room->tx, len, sizeof(room->tx));
	}
}
