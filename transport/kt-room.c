/* Room lifecycle: creation, sources, the periodic timer, teardown. Attaching
 * peers is in kt-room-attach.c, the packet path in kt-room-forward.c. */
#include "kt-room-private.h"

#include <string.h>

/* 50 ms: TWCC feedback goes out every other tick (libwebrtc's receivers send it every
 * 50-250 ms); receiver reports once a second. */
#define KT_ROOM_TICK_MS 50
#define KT_ROOM_RR_INTERVAL_US (G_USEC_PER_SEC)
#define KT_ROOM_TWCC_INTERVAL_US (100 * 1000)
/* Keyframe retries for subscribers still waiting keep their own pace. */
#define KT_ROOM_RETRY_SCAN_US (250 * 1000)

static guint32 random_ssrc(void)
{
	guint32 v;

	do
		v = g_random_int();
	while (v == 0);
	return v;
}

Source *kt_room_source_new(KtRoom *room, guint id, KtMediaKind kind)
{
	Source *s = g_new0(Source, 1);

	s->id = id;
	s->room = room;
	s->kind = kind;
	s->ssrc = random_ssrc();
	s->rtx_ssrc = random_ssrc();
	s->sinks = g_ptr_array_new();
	s->taps = g_ptr_array_new_with_free_func(kt_room_tap_free);
	/* Video at ~1.5 Mbit/s for 1 s is ~150 packets; 1024 slots cover
	 * rtx_cache_ms up to several seconds. */
	s->cache = kt_rtx_cache_new(kind == KT_MEDIA_VIDEO ? 1024 : 256,
	                            (gint64)room->config.rtx_cache_ms * 1000);
	return s;
}

static void source_stop_timer(Source *s)
{
	for (guint i = 0; i < s->n_layers; i++)
		source_stop_timer(s->layers[i]);
	if (s->keyframe_timer) {
		g_source_destroy(s->keyframe_timer);
		g_source_unref(s->keyframe_timer);
		s->keyframe_timer = NULL;
	}
}

/* Worker (or before the room is shared). Sinks must be gone already. */
void kt_room_source_free(gpointer data)
{
	Source *s = data;

	source_stop_timer(s);
	kt_room_sim_free_layers(s);
	kt_room_release_source(s);
	g_ptr_array_unref(s->sinks);
	g_ptr_array_unref(s->taps);
	kt_rtx_cache_free(s->cache);
	g_free(s);
}

KtRoom *kt_room_new(KtWorker *worker, const KtRoomConfig *config)
{
	KtRoom *room = g_new0(KtRoom, 1);

	room->refcount = 1;
	room->worker = worker;
	room->config = *config;
	room->rtcp_ssrc = random_ssrc();
	room->sources = g_ptr_array_new_with_free_func(kt_room_source_free);
	room->publishers = g_ptr_array_new();
	room->subscribers = g_ptr_array_new();
	room->feeds = g_ptr_array_new_with_free_func(kt_room_feed_free);
	/* Nothing runs on the worker yet: the defaults go in directly. */
	for (guint k = 0; k < KT_MEDIA_N_KINDS; k++) {
		Source *s = kt_room_source_new(room, ++room->next_source_id, k);

		g_ptr_array_add(room->sources, s);
		room->default_source[k] = s->id;
		room->default_ssrc[k] = s->ssrc;
		room->default_rtx_ssrc[k] = s->rtx_ssrc;
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
	/* kt_room_close() emptied publishers and subscribers on the worker. */
	g_ptr_array_unref(room->sources);
	g_ptr_array_unref(room->publishers);
	g_ptr_array_unref(room->subscribers);
	g_ptr_array_unref(room->feeds);
	g_free(room);
}

KtWorker *kt_room_get_worker(KtRoom *room)
{
	return room->worker;
}

guint kt_room_get_default_source(KtRoom *room, KtMediaKind kind)
{
	return room->default_source[kind];
}

guint32 kt_room_get_ssrc(KtRoom *room, KtMediaKind kind)
{
	return room->default_ssrc[kind];
}

guint32 kt_room_get_rtx_ssrc(KtRoom *room, KtMediaKind kind)
{
	return room->default_rtx_ssrc[kind];
}

#define LOAD(field) __atomic_load_n(&room->counters.field, __ATOMIC_RELAXED)

void kt_room_get_counters(KtRoom *room, KtRoomCounters *out)
{
	out->rtp_in = LOAD(rtp_in);
	out->rtp_out = LOAD(rtp_out);
	out->bytes_in = LOAD(bytes_in);
	out->bytes_out = LOAD(bytes_out);
	out->nacks_received = LOAD(nacks_received);
	out->retransmissions = LOAD(retransmissions);
	out->keyframe_requests_received = LOAD(keyframe_requests_received);
	out->keyframe_requests_sent = LOAD(keyframe_requests_sent);
	out->twcc_feedback_sent = LOAD(twcc_feedback_sent);
	out->nacks_sent = LOAD(nacks_sent);
	out->retransmissions_skipped = LOAD(retransmissions_skipped);
	out->retransmissions_missed = LOAD(retransmissions_missed);
	out->keyframes_for_missed = LOAD(keyframes_for_missed);
	out->red_stripped = LOAD(red_stripped);
	out->red_recovered = LOAD(red_recovered);
	out->red_dropped = LOAD(red_dropped);
	out->red_added = LOAD(red_added);
	out->twcc_feedback_received = LOAD(twcc_feedback_received);
	out->probe_packets_sent = LOAD(probe_packets_sent);
	out->padding_packets_sent = LOAD(padding_packets_sent);
	out->publisher_rtx_duplicates = LOAD(publisher_rtx_duplicates);
	out->layer_switches = LOAD(layer_switches);
	out->video_pauses = LOAD(video_pauses);
	out->remb_sent = LOAD(remb_sent);
	out->publishers = LOAD(publishers);
	out->subscribers = LOAD(subscribers);
}

/* ---- worker: lookups ---- */

Source *kt_room_find_source(KtRoom *room, guint id)
{
	for (guint i = 0; i < room->sources->len; i++) {
		Source *s = g_ptr_array_index(room->sources, i);

		if (s->id == id)
			return s;
	}
	return NULL;
}

Source *kt_room_find_source_by_ssrc(KtRoom *room, guint32 ssrc)
{
	for (guint i = 0; i < room->sources->len; i++) {
		Source *s = g_ptr_array_index(room->sources, i);

		if (s->ssrc == ssrc)
			return s;
	}
	return NULL;
}

/* ---- sources (control loop → worker) ---- */

typedef struct {
	KtRoom *room;
	Source *source; /* add: the new source */
	guint id;
	enum { SET_MUTED, SET_PRIORITY } setting;
	gboolean muted;
	guint priority;
} SourceCall;

static void source_call_free(gpointer data)
{
	SourceCall *call = data;

	kt_room_unref(call->room);
	g_free(call);
}

static SourceCall *source_call_new(KtRoom *room, guint id)
{
	SourceCall *call = g_new0(SourceCall, 1);

	call->room = kt_room_ref(room);
	call->id = id;
	return call;
}

static gboolean add_source_on_worker(gpointer data)
{
	SourceCall *call = data;

	if (call->room->closed)
		kt_room_source_free(call->source);
	else
		g_ptr_array_add(call->room->sources, call->source);
	return G_SOURCE_REMOVE;
}

guint kt_room_add_source(KtRoom *room, KtMediaKind kind, guint32 *ssrc, guint32 *rtx_ssrc)
{
	guint id = g_atomic_int_add(&room->next_source_id, 1) + 1;
	SourceCall *call = source_call_new(room, id);

	call->source = kt_room_source_new(room, id, kind);
	if (ssrc)
		*ssrc = call->source->ssrc;
	if (rtx_ssrc)
		*rtx_ssrc = call->source->rtx_ssrc;
	kt_worker_invoke(room->worker, add_source_on_worker, call, source_call_free);
	return id;
}

static gboolean remove_source_on_worker(gpointer data)
{
	SourceCall *call = data;
	Source *s = kt_room_find_source(call->room, call->id);

	if (!s)
		return G_SOURCE_REMOVE;
	while (s->sinks->len > 0)
		kt_room_drop_sink(g_ptr_array_index(s->sinks, s->sinks->len - 1));
	g_ptr_array_remove(call->room->sources, s);
	return G_SOURCE_REMOVE;
}

void kt_room_remove_source(KtRoom *room, guint source)
{
	kt_worker_invoke(room->worker, remove_source_on_worker, source_call_new(room, source),
	                 source_call_free);
}

/* One setting of a source, applied on the worker (floor control, priority). */
static gboolean set_source_on_worker(gpointer data)
{
	SourceCall *call = data;
	Source *s = kt_room_find_source(call->room, call->id);

	if (!s)
		return G_SOURCE_REMOVE;
	switch (call->setting) {
	case SET_MUTED:
		s->muted = call->muted;
		break;
	case SET_PRIORITY:
		s->priority = call->priority;
		break;
	}
	return G_SOURCE_REMOVE;
}

void kt_room_set_source_muted(KtRoom *room, guint source, gboolean muted)
{
	SourceCall *call = source_call_new(room, source);

	call->setting = SET_MUTED;
	call->muted = muted;
	kt_worker_invoke(room->worker, set_source_on_worker, call, source_call_free);
}

void kt_room_set_source_priority(KtRoom *room, guint source, guint priority)
{
	SourceCall *call = source_call_new(room, source);

	call->setting = SET_PRIORITY;
	call->priority = priority;
	kt_worker_invoke(room->worker, set_source_on_worker, call, source_call_free);
}

/* ---- worker: timer ---- */

static gboolean on_tick(gpointer data)
{
	KtRoom *room = data;
	gint64 now = g_get_monotonic_time();
	static const gint64 retry_us = 500 * 1000;

	kt_room_send_publisher_nacks(room, now);
	kt_room_alloc_tick(room, now);
	kt_room_bwe_tick(room, now);
	kt_room_remb_tick(room, now);
	if (now - room->last_twcc_us >= KT_ROOM_TWCC_INTERVAL_US) {
		room->last_twcc_us = now;
		kt_room_send_twcc_feedback(room);
	}
	if (now - room->last_rr_us >= KT_ROOM_RR_INTERVAL_US) {
		room->last_rr_us = now;
		kt_room_send_receiver_reports(room, now);
		kt_room_send_feed_reports(room, now);
	}
	kt_room_sim_tick(room, now);
	kt_room_playout_tick(room, now);
	/* A subscriber still waiting for its first keyframe asks again (the
	 * request is coalesced per source). */
	if (now - room->last_retry_us < KT_ROOM_RETRY_SCAN_US)
		return G_SOURCE_CONTINUE;
	room->last_retry_us = now;
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);

		for (guint j = 0; j < sub->streams->len; j++) {
			SubStream *ss = g_ptr_array_index(sub->streams, j);

			if (!ss->started && ss->waiting_since_us &&
			    now - ss->waiting_since_us > retry_us)
				kt_room_request_keyframe(room, kt_room_sim_keyframe_source(ss),
				                         now);
		}
	}
	return G_SOURCE_CONTINUE;
}

void kt_room_ensure_timer(KtRoom *room)
{
	if (room->timer || room->closed)
		return;
	room->timer = g_timeout_source_new(KT_ROOM_TICK_MS);
	g_source_set_callback(room->timer, on_tick, room, NULL);
	g_source_attach(room->timer, kt_worker_get_context(room->worker));
}

/* ---- teardown ---- */

static gboolean close_on_worker(gpointer data)
{
	KtRoom *room = data;

	room->closed = TRUE;
	kt_room_detach_all(room);
	g_ptr_array_set_size(room->feeds, 0); /* notifies run here, on the worker */
	for (guint i = 0; i < room->sources->len; i++) {
		Source *src = g_ptr_array_index(room->sources, i);

		source_stop_timer(src);
		g_ptr_array_set_size(src->taps, 0); /* notifies run here, on the worker */
	}
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

/* ---- taps (control loop → worker) ---- */

void kt_room_tap_free(gpointer data)
{
	Tap *t = data;

	if (t->notify)
		t->notify(t->user_data);
	g_free(t);
}

typedef struct {
	KtRoom *room;
	guint source;
	Tap *tap;     /* add */
	guint tap_id; /* remove */
} TapCall;

static void tap_call_free(gpointer data)
{
	TapCall *call = data;

	if (call->tap)
		kt_room_tap_free(call->tap); /* never attached */
	kt_room_unref(call->room);
	g_free(call);
}

static gboolean add_tap_on_worker(gpointer data)
{
	TapCall *call = data;
	Source *s = call->room->closed ? NULL : kt_room_find_source(call->room, call->source);

	if (s) {
		g_ptr_array_add(s->taps, g_steal_pointer(&call->tap));
		kt_room_request_keyframe(call->room, s, g_get_monotonic_time());
	}
	return G_SOURCE_REMOVE;
}

guint kt_room_add_tap(KtRoom *room, guint source, KtRoomTapFunc func, gpointer user_data,
                      GDestroyNotify notify)
{
	static gint next_tap = 0;
	TapCall *call = g_new0(TapCall, 1);
	guint id = g_atomic_int_add(&next_tap, 1) + 1;

	call->room = kt_room_ref(room);
	call->source = source;
	call->tap = g_new0(Tap, 1);
	call->tap->id = id;
	call->tap->func = func;
	call->tap->user_data = user_data;
	call->tap->notify = notify;
	/* @call belongs to the worker from here on (it may already be freed). */
	kt_worker_invoke(room->worker, add_tap_on_worker, call, tap_call_free);
	return id;
}

static gboolean remove_tap_on_worker(gpointer data)
{
	TapCall *call = data;

	for (guint i = 0; i < call->room->sources->len; i++) {
		Source *s = g_ptr_array_index(call->room->sources, i);

		for (guint j = 0; j < s->taps->len; j++)
			if (((Tap *)g_ptr_array_index(s->taps, j))->id == call->tap_id) {
				g_ptr_array_remove_index(s->taps, j);
				return G_SOURCE_REMOVE;
			}
	}
	return G_SOURCE_REMOVE;
}

void kt_room_remove_tap(KtRoom *room, guint tap)
{
	TapCall *call = g_new0(TapCall, 1);

	call->room = kt_room_ref(room);
	call->tap_id = tap;
	kt_worker_invoke(room->worker, remove_tap_on_worker, call, tap_call_free);
}

static gboolean keyframe_on_worker(gpointer data)
{
	TapCall *call = data;
	Source *s = kt_room_find_source(call->room, call->source);

	if (s)
		kt_room_request_keyframe(call->room, s, g_get_monotonic_time());
	return G_SOURCE_REMOVE;
}

void kt_room_request_source_keyframe(KtRoom *room, guint source)
{
	TapCall *call = g_new0(TapCall, 1);

	call->room = kt_room_ref(room);
	call->source = source;
	kt_worker_invoke(room->worker, keyframe_on_worker, call, tap_call_free);
}
