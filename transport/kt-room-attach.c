/* Attaching peers to a room: publishers bind tracks to sources (again, keeping
 * learned SSRCs, when their connection renegotiates), subscribers
 * get one SubStream per source they receive. Control loop calls hand the work
 * to the room's worker. */
#include "kt-room-private.h"

#include <string.h>

#define STORE(room, field, v) __atomic_store_n(&(room)->counters.field, (v), __ATOMIC_RELAXED)

typedef struct {
	KtRoom *room;
	KtPeer *peer;
	KtRoomTrack tracks[KT_ROOM_MAX_TRACKS];
	guint n;
	guint source; /* unsubscribe */
} AttachCall;

static void attach_call_free(gpointer data)
{
	AttachCall *call = data;

	kt_room_unref(call->room);
	kt_peer_unref(call->peer);
	g_free(call);
}

static AttachCall *attach_call_new(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n)
{
	AttachCall *call = g_new0(AttachCall, 1);

	call->room = kt_room_ref(room);
	call->peer = kt_peer_ref(peer);
	call->n = MIN(n, KT_ROOM_MAX_TRACKS);
	if (tracks)
		memcpy(call->tracks, tracks, call->n * sizeof(KtRoomTrack));
	return call;
}

static Source *track_source(KtRoom *room, const KtRoomTrack *t)
{
	Source *s =
	    kt_room_find_source(room, t->source ? t->source : room->default_source[t->kind]);

	return s && s->kind == t->kind ? s : NULL;
}

/* ---- publishers ---- */

static Publisher *find_publisher(KtRoom *room, KtPeer *peer)
{
	for (guint i = 0; i < room->publishers->len; i++) {
		Publisher *p = g_ptr_array_index(room->publishers, i);

		if (p->peer == peer)
			return p;
	}
	return NULL;
}

/* Its sources let go of its tracks (which stay as they are until bound anew). */
static void unbind_tracks(Publisher *pub)
{
	for (guint i = 0; i < pub->n_tracks; i++) {
		Source *s = pub->tracks[i].source;

		if (s && s->track == &pub->tracks[i])
			s->track = NULL;
	}
	pub->n_tracks = 0;
}

static void publisher_free(KtRoom *room, Publisher *pub)
{
	unbind_tracks(pub);
	kt_peer_set_media_funcs(pub->peer, NULL, NULL);
	kt_peer_unref(pub->peer);
	g_clear_pointer(&pub->twcc, kt_twcc_receiver_free);
	kt_room_remb_free(pub);
	g_ptr_array_remove(room->publishers, pub);
	g_free(pub);
	STORE(room, publishers, room->publishers->len);
}

static void bind_track(PubTrack *t, Source *s)
{
	if (s->track != t)
		kt_room_release_source(s); /* the previous publisher or feed loses it */
	t->source = s;
	s->track = t;
	/* Cached packets of another codec must not be resent as this one. */
	if (s->codec != t->spec.codec)
		kt_rtx_cache_reset(s->cache);
	s->codec = t->spec.codec;
	s->clock_rate = t->spec.clock_rate;
	s->resync = TRUE;
}

/* ---- SSRCs across renegotiations (KnownSsrc) ---- */

static const char *track_rid(const PubTrack *t)
{
	return t->layer_of ? t->spec.rids[t->layer] : "";
}

static KnownSsrc *find_known(Publisher *pub, const char *mid, const char *rid)
{
	for (guint i = 0; i < pub->n_known; i++)
		if (strcmp(pub->known[i].mid, mid) == 0 && strcmp(pub->known[i].rid, rid) == 0)
			return &pub->known[i];
	return NULL;
}

/* Before its tracks are replaced: the SSRCs each was given by the SDP or learned. */
static void remember_ssrcs(Publisher *pub)
{
	for (guint i = 0; i < pub->n_tracks; i++) {
		const PubTrack *t = &pub->tracks[i];
		KnownSsrc *k;

		if (!t->spec.mid[0] || (!t->ssrc && !t->rtx_ssrc))
			continue;
		k = find_known(pub, t->spec.mid, track_rid(t));
		if (!k) {
			guint slot = pub->n_known < G_N_ELEMENTS(pub->known)
			                 ? pub->n_known++
			                 : pub->next_known++ % G_N_ELEMENTS(pub->known);

			k = &pub->known[slot];
			memset(k, 0, sizeof(*k));
			g_strlcpy(k->mid, t->spec.mid, sizeof(k->mid));
			g_strlcpy(k->rid, track_rid(t), sizeof(k->rid));
		}
		if (t->ssrc)
			k->ssrc = t->ssrc;
		if (t->rtx_ssrc)
			k->rtx_ssrc = t->rtx_ssrc;
	}
}

/* After: the same m-line (and rid) goes on sending on the same SSRCs, unless the SDP
 * now names others. A simulcast m-line's own track keeps none: its layers have them. */
static void recall_ssrcs(Publisher *pub)
{
	for (guint i = 0; i < pub->n_tracks; i++) {
		PubTrack *t = &pub->tracks[i];
		const KnownSsrc *k;

		if (!t->spec.mid[0] || (t->spec.n_rids > 1 && !t->layer_of))
			continue;
		k = find_known(pub, t->spec.mid, track_rid(t));
		if (!k)
			continue;
		if (!t->ssrc)
			t->ssrc = k->ssrc;
		if (!t->rtx_ssrc)
			t->rtx_ssrc = k->rtx_ssrc;
	}
}

/* ---- attaching ---- */

static Publisher *publisher_new(KtRoom *room, KtPeer *peer)
{
	static const KtPeerMediaFuncs funcs = {
	    .rtp = kt_room_on_publisher_rtp,
	    .rtcp = kt_room_on_publisher_rtcp,
	};
	Publisher *pub = g_new0(Publisher, 1);

	pub->peer = kt_peer_ref(peer);
	pub->room = room;
	g_ptr_array_add(room->publishers, pub);
	STORE(room, publishers, room->publishers->len);
	kt_peer_set_media_funcs(pub->peer, &funcs, pub);
	return pub;
}

static void bind_tracks(KtRoom *room, Publisher *pub, const KtRoomTrack *tracks, guint n)
{
	pub->twcc_ext_id = 0;
	for (guint i = 0; i < n; i++) {
		Source *s = track_source(room, &tracks[i]);
		PubTrack *t;

		if (!s)
			continue;
		t = &pub->tracks[pub->n_tracks++];
		memset(t, 0, sizeof(*t));
		t->publisher = pub;
		t->spec = tracks[i];
		t->ssrc = t->spec.remote_ssrc;
		t->rtx_ssrc = t->spec.remote_rtx_ssrc;
		bind_track(t, s);
		/* One transport-wide sequence for the whole (bundled) connection. */
		if (t->spec.twcc_ext_id)
			pub->twcc_ext_id = t->spec.twcc_ext_id;
	}
	kt_room_sim_attach_layers(room, pub);
}

static gboolean attach_publisher_on_worker(gpointer data)
{
	AttachCall *call = data;
	KtRoom *room = call->room;
	Publisher *pub;

	if (room->closed)
		return G_SOURCE_REMOVE;
	pub = find_publisher(room, call->peer);
	if (pub) {
		/* A renegotiation of the same connection: its tracks are bound anew. */
		remember_ssrcs(pub);
		unbind_tracks(pub);
	} else {
		pub = publisher_new(room, call->peer);
	}
	bind_tracks(room, pub, call->tracks, call->n);
	recall_ssrcs(pub);
	if (pub->twcc_ext_id && !pub->twcc)
		pub->twcc = kt_twcc_receiver_new();
	else if (!pub->twcc_ext_id)
		g_clear_pointer(&pub->twcc, kt_twcc_receiver_free);
	/* Renegotiated, it keeps its receive-side estimate. */
	if (!pub->remb)
		kt_room_remb_attach(pub);
	kt_room_ensure_timer(room);
	/* Subscribers already waiting for this source want a keyframe. */
	for (guint i = 0; i < pub->n_tracks; i++)
		if (pub->tracks[i].source->sinks->len > 0)
			kt_room_request_keyframe(room, pub->tracks[i].source,
			                         g_get_monotonic_time());
	return G_SOURCE_REMOVE;
}

void kt_room_add_publisher(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n)
{
	kt_worker_invoke(room->worker, attach_publisher_on_worker,
	                 attach_call_new(room, peer, tracks, n), attach_call_free);
}

/* ---- subscribers ---- */

static Subscriber *find_subscriber(KtRoom *room, KtPeer *peer)
{
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *s = g_ptr_array_index(room->subscribers, i);

		if (s->peer == peer)
			return s;
	}
	return NULL;
}

/* A new receiver cannot decode video until a keyframe: ask for one so the
 * first picture arrives within a round trip plus an encode. */
static void start_stream(SubStream *ss, gint64 now)
{
	if (ss->source->kind == KT_MEDIA_VIDEO && !ss->started) {
		ss->waiting_since_us = now;
		kt_room_request_keyframe(ss->sub->room, kt_room_sim_keyframe_source(ss), now);
	}
	if (ss->source->have_sr)
		kt_room_send_sender_report(ss->sub->room, ss);
}

static void on_subscriber_connected(KtPeer *peer, gpointer user_data)
{
	Subscriber *sub = user_data;
	gint64 now = g_get_monotonic_time();

	g_debug("peer %u: connected", kt_peer_get_id(peer));
	for (guint i = 0; i < sub->streams->len; i++)
		start_stream(g_ptr_array_index(sub->streams, i), now);
}

void kt_room_drop_sink(SubStream *ss)
{
	g_ptr_array_remove(ss->source->sinks, ss);
	g_ptr_array_remove(ss->sub->streams, ss);
	g_free(ss);
}

static void subscribe_one(Subscriber *sub, Source *s, const KtRoomTrack *t)
{
	SubStream *ss = NULL;

	for (guint i = 0; i < sub->streams->len && !ss; i++)
		if (((SubStream *)g_ptr_array_index(sub->streams, i))->source == s)
			ss = g_ptr_array_index(sub->streams, i);
	if (!ss) {
		ss = g_new0(SubStream, 1);
		ss->sub = sub;
		ss->source = s;
		ss->started = s->kind != KT_MEDIA_VIDEO;
		ss->rtx_seq = g_random_int_range(0, 0x8000);
		kt_layer_select_init(&ss->sim.select);
		g_ptr_array_add(sub->streams, ss);
		g_ptr_array_add(s->sinks, ss);
	}
	memcpy(ss->pt_for, t->pt_for, sizeof(ss->pt_for));
	memcpy(ss->rtx_pt_for, t->rtx_pt_for, sizeof(ss->rtx_pt_for));
	if (t->codec > KT_CODEC_NONE && t->codec < KT_CODEC_N && !ss->pt_for[t->codec]) {
		ss->pt_for[t->codec] = t->pt;
		ss->rtx_pt_for[t->codec] = t->rtx_pt;
	}
	ss->nack = t->nack;
	ss->pli = t->pli;
	ss->fir = t->fir;
	kt_room_bwe_on_subscribe(ss, t->twcc_ext_id);
	/* The one-byte form's ids only: it is written into Ketang's own block. */
	ss->playout_ext_id = t->playout_delay_ext_id <= 14 ? t->playout_delay_ext_id : 0;
	if (kt_peer_is_connected(sub->peer))
		start_stream(ss, g_get_monotonic_time());
}

static gboolean subscribe_on_worker(gpointer data)
{
	AttachCall *call = data;
	KtRoom *room = call->room;
	static const KtPeerMediaFuncs funcs = {
	    .rtcp = kt_room_on_subscriber_rtcp,
	    .connected = on_subscriber_connected,
	};
	Subscriber *sub;

	if (room->closed)
		return G_SOURCE_REMOVE;
	sub = find_subscriber(room, call->peer);
	if (!sub) {
		sub = g_new0(Subscriber, 1);
		sub->peer = kt_peer_ref(call->peer);
		sub->room = room;
		sub->streams = g_ptr_array_new();
		sub->rtt_ms = -1;
		kt_playout_init(&sub->playout, room->config.max_playout_delay_ms);
		g_ptr_array_add(room->subscribers, sub);
		STORE(room, subscribers, room->subscribers->len);
		kt_peer_set_media_funcs(sub->peer, &funcs, sub);
	}
	for (guint i = 0; i < call->n; i++) {
		Source *s = track_source(room, &call->tracks[i]);

		if (s)
			subscribe_one(sub, s, &call->tracks[i]);
	}
	kt_room_ensure_timer(room);
	return G_SOURCE_REMOVE;
}

void kt_room_add_subscriber(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n)
{
	kt_worker_invoke(room->worker, subscribe_on_worker, attach_call_new(room, peer, tracks, n),
	                 attach_call_free);
}

static gboolean unsubscribe_on_worker(gpointer data)
{
	AttachCall *call = data;
	Subscriber *sub = find_subscriber(call->room, call->peer);

	for (guint i = 0; sub && i < sub->streams->len; i++) {
		SubStream *ss = g_ptr_array_index(sub->streams, i);

		if (ss->source->id == call->source) {
			kt_room_drop_sink(ss);
			break;
		}
	}
	return G_SOURCE_REMOVE;
}

void kt_room_unsubscribe(KtRoom *room, KtPeer *peer, guint source)
{
	AttachCall *call = attach_call_new(room, peer, NULL, 0);

	call->source = source;
	kt_worker_invoke(room->worker, unsubscribe_on_worker, call, attach_call_free);
}

static void subscriber_free(KtRoom *room, Subscriber *sub)
{
	while (sub->streams->len > 0)
		kt_room_drop_sink(g_ptr_array_index(sub->streams, sub->streams->len - 1));
	g_ptr_array_unref(sub->streams);
	kt_room_bwe_free(sub);
	kt_peer_set_media_funcs(sub->peer, NULL, NULL);
	kt_peer_unref(sub->peer);
	g_ptr_array_remove(room->subscribers, sub);
	g_free(sub);
	STORE(room, subscribers, room->subscribers->len);
}

/* ---- detaching ---- */

static gboolean remove_peer_on_worker(gpointer data)
{
	AttachCall *call = data;
	Publisher *pub = find_publisher(call->room, call->peer);
	Subscriber *sub = find_subscriber(call->room, call->peer);

	if (pub)
		publisher_free(call->room, pub);
	if (sub)
		subscriber_free(call->room, sub);
	return G_SOURCE_REMOVE;
}

void kt_room_remove_peer(KtRoom *room, KtPeer *peer)
{
	kt_worker_invoke(room->worker, remove_peer_on_worker, attach_call_new(room, peer, NULL, 0),
	                 attach_call_free);
}

void kt_room_detach_all(KtRoom *room)
{
	while (room->publishers->len > 0)
		publisher_free(room, g_ptr_array_index(room->publishers, 0));
	while (room->subscribers->len > 0)
		subscriber_free(room, g_ptr_array_index(room->subscribers, 0));
}

/* ---- stats ---- */

typedef struct {
	KtRoom *room;
	GMainContext *control;
	KtRoomStatsFunc func;
	gpointer user_data;
	GDestroyNotify notify;
	GArray *stats; /* KtRoomPeerStats, with peer references */
} StatsCall;

static void stats_call_free(gpointer data)
{
	StatsCall *call = data;

	for (guint i = 0; call->stats && i < call->stats->len; i++)
		kt_peer_unref(g_array_index(call->stats, KtRoomPeerStats, i).peer);
	if (call->stats)
		g_array_unref(call->stats);
	if (call->notify)
		call->notify(call->user_data);
	g_main_context_unref(call->control);
	kt_room_unref(call->room);
	g_free(call);
}

static gboolean deliver_stats(gpointer data)
{
	StatsCall *call = data;

	call->func((const KtRoomPeerStats *)call->stats->data, call->stats->len, call->user_data);
	return G_SOURCE_REMOVE;
}

static gboolean collect_stats_on_worker(gpointer data)
{
	StatsCall *call = data;
	KtRoom *room = call->room;

	call->stats = g_array_new(FALSE, TRUE, sizeof(KtRoomPeerStats));
	for (guint i = 0; i < room->publishers->len; i++) {
		Publisher *p = g_ptr_array_index(room->publishers, i);
		KtRoomPeerStats st = {.peer = kt_peer_ref(p->peer),
		                      .publisher = TRUE,
		                      .bytes_in = p->bytes_in,
		                      .loss_pct = p->fraction_lost * 100.0 / 256,
		                      .rtt_ms = -1};

		g_array_append_val(call->stats, st);
	}
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *s = g_ptr_array_index(room->subscribers, i);
		KtRoomPeerStats st = {.peer = kt_peer_ref(s->peer),
		                      .loss_pct = s->fraction_lost * 100.0 / 256,
		                      .rtt_ms = s->rtt_ms,
		                      .estimate_bps = kt_room_sub_get_estimate(s),
		                      .video_height = kt_room_sim_video_height(s)};

		g_array_append_val(call->stats, st);
	}
	/* Hand the call over to the control loop, which frees it. */
	g_main_context_invoke_full(call->control, G_PRIORITY_DEFAULT, deliver_stats, call,
	                           stats_call_free);
	return G_SOURCE_REMOVE;
}

void kt_room_query_stats(KtRoom *room, KtRoomStatsFunc func, gpointer user_data,
                         GDestroyNotify notify)
{
	StatsCall *call = g_new0(StatsCall, 1);

	call->room = kt_room_ref(room);
	call->control = g_main_context_ref_thread_default();
	call->func = func;
	call->user_data = user_data;
	call->notify = notify;
	kt_worker_invoke(room->worker, collect_stats_on_worker, call, NULL);
}
