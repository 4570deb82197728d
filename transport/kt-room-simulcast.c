/* Simulcast in the room (issue 5): a publisher's layers, each forwarded through a Source
 * of its own, and per receiver the one layer it gets, switched at keyframes, rewritten
 * onto the public source's SSRC with a continuous sequence and timeline.
 *
 * Which layer a receiver gets is decided on the room's tick (kt-layer-select.h); the
 * packet path only follows that choice: it allocates nothing and logs nothing. */
#include "kt-room-private.h"

#include <string.h>

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

/* A layer with no packet for this long is inactive: receivers move away from it. */
#define LAYER_IDLE_US G_USEC_PER_SEC
#define METER_WINDOW_US G_USEC_PER_SEC
/* A wanted keyframe that has not come is asked for again after this long. */
#define SWITCH_RETRY_US (500 * 1000)

gboolean kt_room_sim_layered(const Source *s)
{
	return ((s->track && s->track->spec.n_rids > 1) || s->feed_layers > 1) && s->n_layers > 0;
}

/* ---- learning a layer's SSRC ---- */

static gboolean ext_equals(const guint8 *buf, const KtRtpHeader *h, guint8 id, const char *want)
{
	const guint8 *data = NULL;
	int n = id ? kt_rtp_find_extension(buf, h, id, &data) : -1;

	return n > 0 && (gsize)n == strlen(want) && memcmp(data, want, n) == 0;
}

PubTrack *kt_room_sim_learn(Publisher *pub, PubTrack *t, const guint8 *buf, const KtRtpHeader *h,
                            gboolean *is_rtx)
{
	gboolean rtx = t->spec.rtx_pt && h->payload_type == t->spec.rtx_pt;
	guint8 id = rtx ? t->spec.rrid_ext_id : t->spec.rid_ext_id;
	const guint8 *mid = NULL;
	int n = t->spec.mid_ext_id ? kt_rtp_find_extension(buf, h, t->spec.mid_ext_id, &mid) : -1;

	/* RFC 8852 §3: the rid names the stream within the m-line the MID names. */
	if (n > 0 && ((gsize)n != strlen(t->spec.mid) || memcmp(mid, t->spec.mid, n) != 0))
		return NULL;
	if (!id || (h->payload_type != t->spec.pt && !rtx))
		return NULL;
	for (guint i = 0; i < pub->n_tracks; i++) {
		PubTrack *l = &pub->tracks[i];

		if (l->layer_of != t || !ext_equals(buf, h, id, t->spec.rids[l->layer]))
			continue;
		*is_rtx = rtx;
		if (rtx)
			l->rtx_ssrc = h->ssrc;
		else
			l->ssrc = h->ssrc;
		return l;
	}
	return NULL;
}

/* ---- binding ---- */

static void out_reset(SimOut *o)
{
	o->layer = o->target = NULL;
	o->target_since_us = 0;
	kt_layer_select_init(&o->select);
}

void kt_room_sim_layer_reset(Source *layer, KtCodec codec, guint clock_rate)
{
	if (layer->codec != codec)
		kt_rtx_cache_reset(layer->cache);
	layer->codec = codec;
	layer->clock_rate = clock_rate;
	layer->resync = TRUE;
	layer->have_sr = FALSE;
	memset(&layer->meter, 0, sizeof(layer->meter));
}

static void bind_layer(PubTrack *lt, Source *layer)
{
	if (layer->track != lt)
		kt_room_release_source(layer);
	lt->source = layer;
	layer->track = lt;
	kt_room_sim_layer_reset(layer, lt->spec.codec, lt->spec.clock_rate);
}

Source *kt_room_sim_layer(KtRoom *room, Source *s, guint r)
{
	g_return_val_if_fail(r < KT_ROOM_MAX_LAYERS, NULL);
	while (s->n_layers <= r) {
		Source *layer = kt_room_source_new(room, 0, KT_MEDIA_VIDEO);

		layer->parent = s;
		layer->layer_slot = s->n_layers;
		layer->ssrc = s->ssrc ^ (s->n_layers + 1); /* internal: never leaves the room */
		s->layers[s->n_layers++] = layer;
	}
	return s->layers[r];
}

static void attach_track_layers(KtRoom *room, Publisher *pub, PubTrack *t)
{
	Source *s = t->source;
	guint n = MIN(t->spec.n_rids, KT_ROOM_MAX_LAYERS);

	/* Layers are told apart by their rids only: an SSRC in the offer names one of them,
	 * not the m-line. */
	t->ssrc = t->rtx_ssrc = 0;
	for (guint r = 0; r < n && pub->n_tracks < KT_ROOM_MAX_PUB_TRACKS; r++) {
		PubTrack *lt = &pub->tracks[pub->n_tracks++];

		kt_room_sim_layer(room, s, r);
		memset(lt, 0, sizeof(*lt));
		lt->publisher = pub;
		lt->spec = t->spec;
		lt->spec.remote_ssrc = lt->spec.remote_rtx_ssrc = 0;
		lt->layer_of = t;
		lt->layer = r;
		bind_layer(lt, s->layers[r]);
	}
}

void kt_room_sim_attach_layers(KtRoom *room, Publisher *pub)
{
	guint n = pub->n_tracks;

	for (guint i = 0; i < n; i++) {
		PubTrack *t = &pub->tracks[i];

		if (t->spec.n_rids > 1 && t->source && t->source->kind == KT_MEDIA_VIDEO)
			attach_track_layers(room, pub, t);
	}
}

void kt_room_sim_release(Source *s)
{
	if (s->parent || s->n_layers == 0)
		return;
	for (guint i = 0; i < s->n_layers; i++)
		kt_room_release_source(s->layers[i]);
	/* Whoever comes next, receivers start over at a keyframe. */
	for (guint i = 0; i < s->sinks->len; i++) {
		SubStream *ss = g_ptr_array_index(s->sinks, i);

		if (ss->sim.layer || ss->sim.target) {
			out_reset(&ss->sim);
			ss->started = FALSE;
		}
	}
	out_reset(&s->tap_out);
}

void kt_room_sim_free_layers(Source *s)
{
	for (guint i = 0; i < s->n_layers; i++)
		kt_room_source_free(s->layers[i]);
	s->n_layers = 0;
}

/* ---- the packet path ---- */

static void meter_packet(Source *l, const KtRtpHeader *h, const guint8 *payload, gsize payload_len,
                         gboolean keyframe, gint64 now)
{
	LayerMeter *m = &l->meter;
	guint w, hgt;

	if (!m->window_start_us)
		m->window_start_us = now;
	m->bytes += payload_len;
	m->frames += h->marker;
	m->last_packet_us = now;
	if (keyframe && l->codec == KT_CODEC_VP8 &&
	    kt_rtp_vp8_keyframe_size(payload, payload_len, &w, &hgt)) {
		m->info.width = w;
		m->info.height = hgt;
	}
}

/* Moves @o onto @layer at the packet in room->canon (a keyframe): its next sequence
 * number follows its last, its timestamp runs on by the wall-clock time elapsed
 * (as resync_source does for a new publisher, RFC 7667 §3.7). */
static void switch_to(KtRoom *room, Source *s, SimOut *o, Source *layer, gsize len, gint64 now)
{
	guint16 seq = kt_rtp_read_be16(room->canon + 2);
	guint32 ts = kt_rtp_read_be32(room->canon + 4);

	if (!o->have_out && s->have_out) {
		/* It got the source's own stream before (a publisher without layers). */
		o->have_out = TRUE;
		o->last_seq = s->last_seq;
		o->last_ts = s->last_ts;
		o->last_us = s->last_time_us;
	}
	if (o->have_out) {
		guint64 elapsed = (guint64)(now - o->last_us) * layer->clock_rate / G_USEC_PER_SEC;

		o->seq_off = (guint16)(o->last_seq + 1 - seq);
		o->ts_off = (guint32)(o->last_ts + MAX(elapsed, 1) - ts);
	} else {
		o->seq_off = 0;
		o->ts_off = 0;
	}
	if (o->layer)
		COUNT(room, layer_switches, 1);
	if (layer->codec == KT_CODEC_VP8 && len > KT_RTP_HEADER_LEN)
		kt_vp8_munge_switch(&o->vp8, room->canon + KT_RTP_HEADER_LEN,
		                    len - KT_RTP_HEADER_LEN);
	o->first_seq = seq + o->seq_off;
	o->layer = layer;
	o->target = NULL;
}

/* Whether @o takes the packet of @layer now in room->canon; rewrites it into @pkt. */
static gboolean out_take(KtRoom *room, Source *s, SimOut *o, Source *layer, gboolean keyframe,
                         gsize len, guint8 *pkt, gint64 now)
{
	guint16 seq;
	guint32 ts;

	if (o->target == layer && keyframe)
		switch_to(room, s, o, layer, len, now);
	else if (o->layer != layer)
		return FALSE;
	seq = kt_rtp_read_be16(room->canon + 2) + o->seq_off;
	/* A late packet from before the switch would reuse a number of the old layer. */
	if ((gint16)(seq - o->first_seq) < 0)
		return FALSE;
	ts = kt_rtp_read_be32(room->canon + 4) + o->ts_off;
	memcpy(pkt, room->canon, len);
	kt_rtp_set_seq(pkt, seq);
	kt_rtp_set_timestamp(pkt, ts);
	kt_rtp_set_ssrc(pkt, s->ssrc);
	if (layer->codec == KT_CODEC_VP8 && len > KT_RTP_HEADER_LEN)
		kt_vp8_munge_packet(&o->vp8, pkt + KT_RTP_HEADER_LEN, len - KT_RTP_HEADER_LEN,
		                    TRUE);
	if (!o->have_out || (gint16)(seq - o->last_seq) > 0) {
		o->have_out = TRUE;
		o->last_seq = seq;
		o->last_ts = ts;
		o->last_us = now;
	}
	return TRUE;
}

void kt_room_sim_forward(KtRoom *room, Source *layer, const KtRtpHeader *h, const guint8 *payload,
                         gsize payload_len, gsize out_len, gboolean keyframe, gint64 now)
{
	Source *s = layer->parent;
	guint64 sent = 0;

	meter_packet(layer, h, payload, payload_len, keyframe, now);
	if (s->muted)
		return;
	for (gint i = -KT_ROOM_PREFETCH_STEPS; i < 0; i++)
		kt_room_prefetch_sinks(s->sinks, i, s->ssrc, TRUE);
	for (guint i = 0; i < s->sinks->len; i++) {
		SubStream *ss = g_ptr_array_index(s->sinks, i);
		guint8 pt = ss->pt_for[layer->codec];

		kt_room_prefetch_sinks(s->sinks, (gint)i, s->ssrc, TRUE);
		if (!pt || !kt_peer_is_connected(ss->sub->peer) ||
		    !out_take(room, s, &ss->sim, layer, keyframe, out_len, room->tx, now))
			continue;
		ss->started = TRUE;
		kt_rtp_set_payload_type(room->tx, pt);
		/* Through the estimate's numbering, as every packet to a subscriber. */
		if (kt_room_send_rtp(room, ss, out_len, FALSE) > 0) {
			ss->packets++;
			ss->octets += payload_len;
			sent++;
		}
	}
	/* Counted once for the whole fan-out, as kt-room-forward.c does. */
	if (sent) {
		COUNT(room, rtp_out, sent);
		COUNT(room, bytes_out, sent * out_len);
	}
	/* Recorders get the top layer, on the public SSRC. */
	if (s->taps->len > 0 &&
	    out_take(room, s, &s->tap_out, layer, keyframe, out_len, room->tx, now))
		for (guint i = 0; i < s->taps->len; i++) {
			Tap *tap = g_ptr_array_index(s->taps, i);

			tap->func(room->tx, out_len, layer->codec, tap->user_data);
		}
}

/* ---- RTCP ---- */

void kt_room_sim_on_sender_report(KtRoom *room, Source *layer)
{
	Source *s = layer->parent;

	for (guint i = 0; i < s->sinks->len; i++) {
		SubStream *ss = g_ptr_array_index(s->sinks, i);

		if (ss->sim.layer == layer)
			kt_room_send_sender_report(room, ss);
	}
}

gboolean kt_room_sim_sender_info(const SubStream *ss, KtRtcpSenderInfo *si)
{
	const Source *s = ss->source, *l = ss->sim.layer;

	if (l) {
		if (!l->have_sr)
			return FALSE;
		*si = l->last_sr;
		si->rtp_ts += l->ts_offset + ss->sim.ts_off;
	} else {
		*si = s->last_sr;
		si->rtp_ts += s->ts_offset;
	}
	si->ssrc = s->ssrc;
	return TRUE;
}

Source *kt_room_sim_keyframe_source(SubStream *ss)
{
	if (ss->sim.target)
		return ss->sim.target;
	return ss->sim.layer ? ss->sim.layer : ss->source;
}

static gboolean layer_in_use(const Source *s, const Source *layer)
{
	if (s->tap_out.layer == layer || s->tap_out.target == layer)
		return TRUE;
	for (guint i = 0; i < s->sinks->len; i++) {
		const SubStream *ss = g_ptr_array_index(s->sinks, i);

		if (ss->sim.layer == layer || ss->sim.target == layer)
			return TRUE;
	}
	return FALSE;
}

/* A keyframe of the public source (a tap, a recorder, a new publisher): of every layer
 * someone gets or waits for; of all of them before anyone has chosen. */
void kt_room_sim_request_keyframes(KtRoom *room, Source *s, gint64 now)
{
	gboolean any = FALSE;

	for (guint i = 0; i < s->n_layers; i++)
		if (layer_in_use(s, s->layers[i])) {
			kt_room_request_keyframe(room, s->layers[i], now);
			any = TRUE;
		}
	for (guint i = 0; !any && i < s->n_layers; i++)
		kt_room_request_keyframe(room, s->layers[i], now);
}

KtRtxCache *kt_room_sim_resend_cache(const SubStream *ss, guint16 seq, guint16 *canon)
{
	const SimOut *o = &ss->sim;

	if (!o->layer || (gint16)(seq - o->first_seq) < 0)
		return NULL; /* before its last switch: another layer's packet */
	*canon = (guint16)(seq - o->seq_off);
	return o->layer->cache;
}

void kt_room_sim_fix_resent(SubStream *ss, guint8 *pkt, gsize len, guint16 seq, gboolean rtx)
{
	gsize at = KT_RTP_HEADER_LEN + (rtx ? 2 : 0); /* RTX: the original seq first */

	kt_rtp_set_timestamp(pkt, kt_rtp_read_be32(pkt + 4) + ss->sim.ts_off);
	if (ss->sim.layer->codec == KT_CODEC_VP8 && len > at)
		kt_vp8_munge_packet(&ss->sim.vp8, pkt + at, len - at, FALSE);
	if (!rtx) {
		kt_rtp_set_seq(pkt, seq);
		kt_rtp_set_ssrc(pkt, ss->source->ssrc);
	}
}

/* ---- the tick: meters and layer choice ---- */

static void meter_roll(Source *l, gint64 now)
{
	LayerMeter *m = &l->meter;
	gint64 span = now - m->window_start_us;

	m->info.active = m->last_packet_us && now - m->last_packet_us <= LAYER_IDLE_US;
	if (!m->window_start_us || span < METER_WINDOW_US)
		return;
	m->info.bitrate_bps = m->bytes * 8 * G_USEC_PER_SEC / span;
	m->info.fps = (guint)((guint64)m->frames * G_USEC_PER_SEC / span);
	m->bytes = 0;
	m->frames = 0;
	m->window_start_us = now;
}

typedef struct {
	Source *s;
	KtLayerInfo ranked[KT_ROOM_MAX_LAYERS];
	guint order[KT_ROOM_MAX_LAYERS]; /* rank → slot */
	guint n;
} Ladder;

static int rank_of(const Ladder *l, const Source *layer)
{
	for (guint r = 0; layer && r < l->n; r++)
		if (l->order[r] == layer->layer_slot)
			return r;
	return -1;
}

/* Points @o at the layer of rank @r: at once if it gets it already (a pending switch is
 * called off), else at that layer's next keyframe, which is asked for. */
static void out_aim(KtRoom *room, const Ladder *l, SimOut *o, int r, gint64 now)
{
	Source *want = r >= 0 ? l->s->layers[l->order[r]] : NULL;

	if (!want || want == o->layer) {
		o->target = NULL;
		return;
	}
	if (want != o->target || now - o->target_since_us >= SWITCH_RETRY_US) {
		o->target = want;
		o->target_since_us = now;
		kt_room_request_keyframe(room, want, now);
	}
}

/* What one of @ss's subscriber's streams may spend: its share of the estimate
 * (kt-room-alloc.c; 1 bit/s when it got none, so that it pauses rather than
 * falling back on loss); 0 while the estimate is unknown. */
static gint64 stream_estimate(const SubStream *ss)
{
	if (ss->sub->estimate_bps <= 0)
		return 0;
	return MAX(ss->budget_bps, 1);
}

guint kt_room_sim_ladder_bps(Source *s, guint32 *bps, guint max)
{
	KtLayerInfo info[KT_ROOM_MAX_LAYERS];
	guint order[KT_ROOM_MAX_LAYERS], n = 0;

	for (guint i = 0; i < s->n_layers; i++)
		info[i] = s->layers[i]->meter.info;
	kt_layer_order(info, s->n_layers, order);
	for (guint r = 0; r < s->n_layers && n < max; r++)
		if (info[order[r]].active)
			bps[n++] = (guint32)MIN(info[order[r]].bitrate_bps, G_MAXUINT32);
	return n;
}

static void choose_for(KtRoom *room, const Ladder *l, SubStream *ss, gint64 now)
{
	SimOut *o = &ss->sim;
	int r;
	KtLayerInput in = {
	    .estimate_bps = stream_estimate(ss),
	    .fraction_lost = ss->fraction_lost,
	    .loss_at_us = ss->loss_at_us,
	};

	ss->fill_bps = 0;
	if (!ss->pt_for[l->s->codec] || !kt_peer_is_connected(ss->sub->peer))
		return;
	o->select.current = rank_of(l, o->target ? o->target : o->layer);
	r = kt_layer_select_update(&o->select, l->ranked, l->n, &in, now);
	/* Not started yet: a subscriber starts at the lowest active layer, and
	 * keeps aiming at it while a new estimate climbs (probes can double it
	 * within a few hundred ms); started, it goes up at the next keyframe of
	 * a higher layer as usual. Its first frame is the smallest keyframe,
	 * asked for once. Choosing by the estimate before the first frame
	 * chased each step up (a keyframe of q, then of h, then of f) and
	 * started viewers late and at the top layer (e2e/simulcast, 2 of 5
	 * loaded runs). */
	if (!o->layer && r > 0) {
		int lowest = 0;

		while (lowest < r && !l->ranked[lowest].active)
			lowest++;
		r = lowest;
	}
	/* Waiting to go up: what the higher layer would add, sent as padding
	 * meanwhile (kt-room-bwe.c), so the wait tests the link at that rate. */
	ss->fill_bps = 0;
	if (o->select.up_to > r && r >= 0 && !o->target)
		ss->fill_bps = (guint32)MIN(
		    l->ranked[o->select.up_to].bitrate_bps -
		        MIN(l->ranked[r].bitrate_bps, l->ranked[o->select.up_to].bitrate_bps),
		    G_MAXUINT32);
	if (o->select.below_lowest) {
		/* Even the lowest layer would not fit: no video until it does (its audio
		 * goes on); it resumes at a keyframe, its numbering running on. */
		if (o->layer || o->target)
			COUNT(room, video_pauses, 1);
		o->layer = o->target = NULL;
		return;
	}
	out_aim(room, l, o, r, now);
}

/* Taps (recorders) have no estimate: the top active layer. */
static void choose_for_taps(KtRoom *room, const Ladder *l, gint64 now)
{
	int top = -1;

	for (guint r = 0; r < l->n; r++) {
		const KtLayerInfo *i = &l->ranked[r];

		/* Ranked on nothing yet: wait rather than record a small layer first. */
		if (i->active && !i->bitrate_bps && !(i->width && i->height))
			return;
		if (i->active)
			top = r;
	}
	out_aim(room, l, &l->s->tap_out, top, now);
}

static void tick_source(KtRoom *room, Source *s, gint64 now)
{
	Ladder l = {.s = s, .n = s->n_layers};
	KtLayerInfo info[KT_ROOM_MAX_LAYERS];

	for (guint i = 0; i < s->n_layers; i++) {
		meter_roll(s->layers[i], now);
		info[i] = s->layers[i]->meter.info;
	}
	kt_layer_order(info, l.n, l.order);
	for (guint r = 0; r < l.n; r++)
		l.ranked[r] = info[l.order[r]];
	for (guint i = 0; i < s->sinks->len; i++)
		choose_for(room, &l, g_ptr_array_index(s->sinks, i), now);
	if (s->taps->len > 0)
		choose_for_taps(room, &l, now);
}

void kt_room_sim_tick(KtRoom *room, gint64 now)
{
	for (guint i = 0; i < room->sources->len; i++) {
		Source *s = g_ptr_array_index(room->sources, i);

		if (kt_room_sim_layered(s))
			tick_source(room, s, now);
	}
}

guint kt_room_sim_video_height(const Subscriber *sub)
{
	for (guint i = 0; i < sub->streams->len; i++) {
		const SubStream *ss = g_ptr_array_index(sub->streams, i);

		if (ss->sim.layer && ss->source->kind == KT_MEDIA_VIDEO)
			return ss->sim.layer->meter.info.height;
	}
	return 0;
}

/* ---- control loop → worker ---- */

typedef struct {
	KtRoom *room;
	KtPeer *peer;
	gint64 bps;
} EstimateCall;

static void estimate_call_free(gpointer data)
{
	EstimateCall *call = data;

	kt_room_unref(call->room);
	kt_peer_unref(call->peer);
	g_free(call);
}

static gboolean set_estimate_on_worker(gpointer data)
{
	EstimateCall *call = data;

	for (guint i = 0; i < call->room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(call->room->subscribers, i);

		if (sub->peer == call->peer) {
			sub->estimate_bps = MAX(call->bps, 0);
			sub->estimate_pinned = TRUE;
		}
	}
	return G_SOURCE_REMOVE;
}

void kt_room_set_subscriber_estimate(KtRoom *room, KtPeer *peer, gint64 bps)
{
	EstimateCall *call = g_new0(EstimateCall, 1);

	call->room = kt_room_ref(room);
	call->peer = kt_peer_ref(peer);
	call->bps = bps;
	kt_worker_invoke(room->worker, set_estimate_on_worker, call, estimate_call_free);
}
