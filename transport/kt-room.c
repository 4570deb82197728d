/* Room lifecycle: creation, attaching and detaching peers (control loop →
 * worker), the periodic timer. The packet path is in kt-room-forward.c. */
#include "kt-room-private.h"

#include <string.h>

#define KT_ROOM_TICK_MS 250
#define KT_ROOM_RR_INTERVAL_US (G_USEC_PER_SEC)

static guint32 random_ssrc(void)
{
	guint32 v;

	do
		v = g_random_int();
	while (v == 0);
	return v;
}

KtRoom *kt_room_new(KtWorker *worker, const KtRoomConfig *config)
{
	KtRoom *room = g_new0(KtRoom, 1);

	room->refcount = 1;
	room->worker = worker;
	room->config = *config;
	room->rtcp_ssrc = random_ssrc();
	room->subscribers = g_ptr_array_new();
	for (guint k = 0; k < KT_MEDIA_N_KINDS; k++) {
		Source *s = &room->sources[k];

		s->kind = k;
		s->room = room;
		s->ssrc = random_ssrc();
		s->rtx_ssrc = random_ssrc();
		/* Video at ~1.5 Mbit/s for 1 s is ~150 packets; 1024 slots cover
		 * rtx_cache_ms up to several seconds. */
		s->cache = kt_rtx_cache_new(k == KT_MEDIA_VIDEO ? 1024 : 256,
		                            (gint64)config->rtx_cache_ms * 1000);
	}
	kt_worker_pin(worker);
	return room;
}

KtRoom *kt_room_ref(KtRoom *room)
{
	g_atomic_int_inc(&room->refcount);
	return room;
}

void kt_room_unref(KtRoom *room)
{
	if (!room || !g_atomic_int_dec_and_test(&room->refcount))
		return;
	for (guint k = 0; k < KT_MEDIA_N_KINDS; k++)
		kt_rtx_cache_free(room->sources[k].cache);
	g_ptr_array_unref(room->subscribers);
	g_free(room);
}

KtWorker *kt_room_get_worker(KtRoom *room)
{
	return room->worker;
}

guint32 kt_room_get_ssrc(KtRoom *room, KtMediaKind kind)
{
	return room->sources[kind].ssrc;
}

guint32 kt_room_get_rtx_ssrc(KtRoom *room, KtMediaKind kind)
{
	return room->sources[kind].rtx_ssrc;
}

void kt_room_get_counters(KtRoom *room, KtRoomCounters *out)
{
	KtRoomCounters *c = &room->counters;

	out->rtp_in = __atomic_load_n(&c->rtp_in, __ATOMIC_RELAXED);
	out->rtp_out = __atomic_load_n(&c->rtp_out, __ATOMIC_RELAXED);
	out->bytes_in = __atomic_load_n(&c->bytes_in, __ATOMIC_RELAXED);
	out->bytes_out = __atomic_load_n(&c->bytes_out, __ATOMIC_RELAXED);
	out->nacks_received = __atomic_load_n(&c->nacks_received, __ATOMIC_RELAXED);
	out->retransmissions = __atomic_load_n(&c->retransmissions, __ATOMIC_RELAXED);
	out->keyframe_requests_received =
	    __atomic_load_n(&c->keyframe_requests_received, __ATOMIC_RELAXED);
	out->keyframe_requests_sent = __atomic_load_n(&c->keyframe_requests_sent, __ATOMIC_RELAXED);
	out->publishers = __atomic_load_n(&c->publishers, __ATOMIC_RELAXED);
	out->subscribers = __atomic_load_n(&c->subscribers, __ATOMIC_RELAXED);
}

/* ---- worker: timer ---- */

static gboolean on_tick(gpointer data)
{
	KtRoom *room = data;
	gint64 now = g_get_monotonic_time();
	static const gint64 retry_us = 500 * 1000;

	if (now - room->last_rr_us >= KT_ROOM_RR_INTERVAL_US) {
		room->last_rr_us = now;
		kt_room_send_receiver_reports(room, now);
	}
	/* A subscriber still waiting for its first keyframe asks again (the
	 * request is coalesced per source). */
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);
		SubStream *ss = &sub->streams[KT_MEDIA_VIDEO];

		if (sub->has[KT_MEDIA_VIDEO] && !ss->started && ss->waiting_since_us &&
		    now - ss->waiting_since_us > retry_us)
			kt_room_request_keyframe(room, ss->source, now);
	}
	return G_SOURCE_CONTINUE;
}

static void ensure_timer(KtRoom *room)
{
	if (room->timer || room->closed)
		return;
	room->timer = g_timeout_source_new(KT_ROOM_TICK_MS);
	g_source_set_callback(room->timer, on_tick, room, NULL);
	g_source_attach(room->timer, kt_worker_get_context(room->worker));
}

/* ---- worker: attach / detach ---- */

typedef struct {
	KtRoom *room;
	KtPeer *peer;
	KtRoomTrack tracks[KT_ROOM_MAX_TRACKS];
	guint n;
} AttachCall;

static void attach_call_free(gpointer data)
{
	AttachCall *call = data;

	kt_room_unref(call->room);
	if (call->peer)
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

static void publisher_detach(KtRoom *room)
{
	Publisher *pub = room->publisher;

	if (!pub)
		return;
	for (guint i = 0; i < pub->n_tracks; i++) {
		Source *s = pub->tracks[i].source;

		if (s && s->track == &pub->tracks[i])
			s->track = NULL;
	}
	kt_peer_set_media_funcs(pub->peer, NULL, NULL);
	kt_peer_unref(pub->peer);
	g_free(pub);
	room->publisher = NULL;
	__atomic_store_n(&room->counters.publishers, 0, __ATOMIC_RELAXED);
}

static gboolean attach_publisher_on_worker(gpointer data)
{
	AttachCall *call = data;
	KtRoom *room = call->room;
	static const KtPeerMediaFuncs funcs = {
	    .rtp = kt_room_on_publisher_rtp,
	    .rtcp = kt_room_on_publisher_rtcp,
	};
	Publisher *pub;

	if (room->closed)
		return G_SOURCE_REMOVE;
	publisher_detach(room);
	pub = g_new0(Publisher, 1);
	pub->peer = kt_peer_ref(call->peer);
	pub->room = room;
	for (guint i = 0; i < call->n; i++) {
		PubTrack *t = &pub->tracks[pub->n_tracks++];
		Source *s = &room->sources[call->tracks[i].kind];

		t->spec = call->tracks[i];
		t->ssrc = t->spec.remote_ssrc;
		t->rtx_ssrc = t->spec.remote_rtx_ssrc;
		t->source = s;
		s->track = t;
		/* Cached packets of another codec must not be resent as this one. */
		if (s->codec != t->spec.codec)
			kt_rtx_cache_reset(s->cache);
		s->codec = t->spec.codec;
		s->clock_rate = t->spec.clock_rate;
		s->resync = TRUE;
	}
	room->publisher = pub;
	__atomic_store_n(&room->counters.publishers, 1, __ATOMIC_RELAXED);
	kt_peer_set_media_funcs(pub->peer, &funcs, pub);
	ensure_timer(room);
	return G_SOURCE_REMOVE;
}

void kt_room_add_publisher(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n)
{
	kt_worker_invoke(room->worker, attach_publisher_on_worker,
	                 attach_call_new(room, peer, tracks, n), attach_call_free);
}

static void on_subscriber_connected(KtPeer *peer, gpointer user_data)
{
	Subscriber *sub = user_data;
	gint64 now = g_get_monotonic_time();

	/* RFC: a new receiver cannot decode until a keyframe; ask now so the
	 * first picture arrives within a round trip plus an encode. */
	g_debug("peer %u: connected", kt_peer_get_id(peer));
	if (sub->has[KT_MEDIA_VIDEO]) {
		sub->streams[KT_MEDIA_VIDEO].waiting_since_us = now;
		kt_room_request_keyframe(sub->room, sub->streams[KT_MEDIA_VIDEO].source, now);
	}
	for (guint k = 0; k < KT_MEDIA_N_KINDS; k++)
		if (sub->has[k] && sub->streams[k].source->have_sr)
			kt_room_send_sender_report(sub->room, sub, sub->streams[k].source);
}

static gboolean attach_subscriber_on_worker(gpointer data)
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
	sub = g_new0(Subscriber, 1);
	sub->peer = kt_peer_ref(call->peer);
	sub->room = room;
	for (guint i = 0; i < call->n; i++) {
		const KtRoomTrack *t = &call->tracks[i];
		SubStream *ss = &sub->streams[t->kind];

		sub->has[t->kind] = TRUE;
		ss->source = &room->sources[t->kind];
		memcpy(ss->pt_for, t->pt_for, sizeof(ss->pt_for));
		memcpy(ss->rtx_pt_for, t->rtx_pt_for, sizeof(ss->rtx_pt_for));
		if (t->codec > KT_CODEC_NONE && t->codec < KT_CODEC_N && !ss->pt_for[t->codec]) {
			ss->pt_for[t->codec] = t->pt;
			ss->rtx_pt_for[t->codec] = t->rtx_pt;
		}
		ss->nack = t->nack;
		ss->pli = t->pli;
		ss->fir = t->fir;
		ss->started = t->kind != KT_MEDIA_VIDEO;
		ss->rtx_seq = g_random_int_range(0, 0x8000);
	}
	g_ptr_array_add(room->subscribers, sub);
	__atomic_store_n(&room->counters.subscribers, room->subscribers->len, __ATOMIC_RELAXED);
	kt_peer_set_media_funcs(sub->peer, &funcs, sub);
	/* Connected before we got here: run the connect work now. */
	if (kt_peer_is_connected(sub->peer))
		on_subscriber_connected(sub->peer, sub);
	ensure_timer(room);
	return G_SOURCE_REMOVE;
}

void kt_room_add_subscriber(KtRoom *room, KtPeer *peer, const KtRoomTrack *tracks, guint n)
{
	kt_worker_invoke(room->worker, attach_subscriber_on_worker,
	                 attach_call_new(room, peer, tracks, n), attach_call_free);
}

static void subscriber_free(Subscriber *sub)
{
	kt_peer_set_media_funcs(sub->peer, NULL, NULL);
	kt_peer_unref(sub->peer);
	g_free(sub);
}

static gboolean remove_peer_on_worker(gpointer data)
{
	AttachCall *call = data;
	KtRoom *room = call->room;

	if (room->publisher && room->publisher->peer == call->peer) {
		publisher_detach(room);
		return G_SOURCE_REMOVE;
	}
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);

		if (sub->peer == call->peer) {
			g_ptr_array_remove_index_fast(room->subscribers, i);
			subscriber_free(sub);
			break;
		}
	}
	__atomic_store_n(&room->counters.subscribers, room->subscribers->len, __ATOMIC_RELAXED);
	return G_SOURCE_REMOVE;
}

void kt_room_remove_peer(KtRoom *room, KtPeer *peer)
{
	kt_worker_invoke(room->worker, remove_peer_on_worker, attach_call_new(room, peer, NULL, 0),
	                 attach_call_free);
}

static gboolean close_on_worker(gpointer data)
{
	KtRoom *room = data;

	room->closed = TRUE;
	for (guint k = 0; k < KT_MEDIA_N_KINDS; k++) {
		Source *s = &room->sources[k];

		if (s->keyframe_timer) {
			g_source_destroy(s->keyframe_timer);
			g_source_unref(s->keyframe_timer);
			s->keyframe_timer = NULL;
		}
	}
	publisher_detach(room);
	while (room->subscribers->len > 0)
		subscriber_free(g_ptr_array_steal_index_fast(room->subscribers, 0));
	if (room->timer) {
		g_source_destroy(room->timer);
		g_source_unref(room->timer);
		room->timer = NULL;
	}
	return G_SOURCE_REMOVE;
}

void kt_room_close(KtRoom *room)
{
	kt_worker_unpin(room->worker);
	kt_worker_invoke(room->worker, close_on_worker, kt_room_ref(room),
	                 (GDestroyNotify)kt_room_unref);
}
