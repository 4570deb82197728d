/* Feeds: streams made inside Ketang published into a room source (the way
 * back out of GStreamer, pipelines/kt-rtp-out.h). The control-loop calls hand
 * the work to the worker; the packet path shares kt_room_forward() with peer
 * publishers, so a feed is rewritten, cached, forwarded and tapped exactly
 * like a browser's track. */
#include "kt-room-private.h"

#include <string.h>

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

/* Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
#define NTP_UNIX_OFFSET G_GUINT64_CONSTANT(2208988800)

void kt_room_feed_free(gpointer data)
{
	LocalFeed *f = data;

	if (f->source && f->source->feed == f)
		f->source->feed = NULL;
	if (f->spec.notify)
		f->spec.notify(f->spec.user_data);
	g_free(f);
}

void kt_room_release_source(Source *s)
{
	kt_room_sim_release(s);
	if (s->track) {
		s->track->source = NULL;
		s->track = NULL;
	}
	if (s->feed) {
		s->feed->source = NULL;
		s->feed = NULL;
	}
	s->feed_layers = 0;
}

static LocalFeed *find_feed(KtRoom *room, guint id)
{
	for (guint i = 0; i < room->feeds->len; i++) {
		LocalFeed *f = g_ptr_array_index(room->feeds, i);

		if (f->id == id)
			return f;
	}
	return NULL;
}

/* ---- control loop → worker ---- */

typedef struct {
	KtRoom *room;
	LocalFeed *feed; /* add: until attached */
	guint id;        /* remove */
} FeedCall;

static void feed_call_free(gpointer data)
{
	FeedCall *call = data;

	if (call->feed)
		kt_room_feed_free(call->feed); /* never attached: its notify still runs */
	kt_room_unref(call->room);
	g_free(call);
}

static gboolean layer_spec_valid(const KtRoomFeedSpec *spec)
{
	if (spec->n_layers == 0 && spec->layer == 0)
		return TRUE;
	return spec->kind == KT_MEDIA_VIDEO && spec->n_layers >= 2 &&
	       spec->n_layers <= KT_ROOM_MAX_LAYERS && spec->layer < spec->n_layers;
}

/* @f publishes one layer of @s: the layers are the same layer Sources a browser's rids
 * get (kt-room-simulcast.c), so the layer choice, switching and munging are theirs. */
static void attach_layer_feed(KtRoom *room, Source *s, LocalFeed *f)
{
	Source *layer;

	if (s->feed_layers != f->spec.n_layers) {
		/* Its publisher, a plain feed or another ladder loses it; receivers start over. */
		kt_room_release_source(s);
		s->feed_layers = f->spec.n_layers;
		s->codec = f->spec.codec;
		s->clock_rate = f->spec.clock_rate;
	}
	layer = kt_room_sim_layer(room, s, f->spec.layer);
	kt_room_release_source(layer); /* the layer's previous feed, if any */
	kt_room_sim_layer_reset(layer, f->spec.codec, f->spec.clock_rate);
	layer->feed = f;
	f->source = layer;
	g_ptr_array_add(room->feeds, f);
	kt_room_ensure_timer(room);
	if (s->sinks->len > 0 || s->taps->len > 0)
		kt_room_request_keyframe(room, layer, g_get_monotonic_time());
}

static gboolean add_feed_on_worker(gpointer data)
{
	FeedCall *call = data;
	KtRoom *room = call->room;
	LocalFeed *f = call->feed;
	guint id = f->spec.source ? f->spec.source : room->default_source[f->spec.kind];
	Source *s = room->closed ? NULL : kt_room_find_source(room, id);

	if (!s || s->kind != f->spec.kind || !layer_spec_valid(&f->spec))
		return G_SOURCE_REMOVE; /* call_free runs the notify */
	call->feed = NULL;
	if (f->spec.n_layers > 0) {
		attach_layer_feed(room, s, f);
		return G_SOURCE_REMOVE;
	}
	kt_room_release_source(s);
	if (s->codec != f->spec.codec)
		kt_rtx_cache_reset(s->cache);
	s->codec = f->spec.codec;
	s->clock_rate = f->spec.clock_rate;
	s->resync = TRUE; /* continue the source's timeline for its subscribers */
	s->have_sr = FALSE;
	s->feed = f;
	f->source = s;
	g_ptr_array_add(room->feeds, f);
	kt_room_ensure_timer(room);
	if (s->sinks->len > 0 || s->taps->len > 0)
		kt_room_request_keyframe(room, s, g_get_monotonic_time());
	return G_SOURCE_REMOVE;
}

guint kt_room_add_feed(KtRoom *room, const KtRoomFeedSpec *spec)
{
	static gint next_feed = 0;
	FeedCall *call = g_new0(FeedCall, 1);
	guint id = g_atomic_int_add(&next_feed, 1) + 1;

	g_return_val_if_fail(spec->kind < KT_MEDIA_N_KINDS && spec->clock_rate > 0, 0);
	call->room = kt_room_ref(room);
	call->feed = g_new0(LocalFeed, 1);
	call->feed->id = id;
	call->feed->spec = *spec;
	/* @call belongs to the worker from here on (it may already be freed). */
	kt_worker_invoke(room->worker, add_feed_on_worker, call, feed_call_free);
	return id;
}

static gboolean remove_feed_on_worker(gpointer data)
{
	FeedCall *call = data;
	LocalFeed *f = find_feed(call->room, call->id);

	if (f)
		g_ptr_array_remove(call->room->feeds, f); /* runs its notify */
	return G_SOURCE_REMOVE;
}

void kt_room_remove_feed(KtRoom *room, guint feed)
{
	FeedCall *call = g_new0(FeedCall, 1);

	call->room = kt_room_ref(room);
	call->id = feed;
	kt_worker_invoke(room->worker, remove_feed_on_worker, call, feed_call_free);
}

/* ---- worker: packets and reports ---- */

void kt_room_feed_rtp(KtRoom *room, guint feed, const guint8 *rtp, gsize len, gint64 capture_us)
{
	LocalFeed *f = find_feed(room, feed);
	KtRtpHeader h;

	if (!f || !f->source || kt_rtp_parse(rtp, len, &h) < 0 || h.payload_len == 0)
		return;
	COUNT(room, rtp_in, 1);
	COUNT(room, bytes_in, len);
	f->have_time = TRUE;
	f->last_ts = h.timestamp;
	f->last_capture_us = capture_us;
	kt_room_forward(room, f->source, rtp, &h, rtp + h.payload_offset, h.payload_len, h.seq,
	                g_get_monotonic_time());
}

/* A feed has no publisher sending us SRs: the room writes them, mapping the
 * feed's RTP timeline to wall-clock NTP time (RFC 3550 §6.4.1). Receivers use
 * the mapping to line a feed's audio up with its video. */
void kt_room_send_feed_reports(KtRoom *room, gint64 now)
{
	gint64 real_us = g_get_real_time();
	KtRtcpSenderInfo si = {0};
	guint64 frac;

	frac = (guint64)(real_us % G_USEC_PER_SEC) << 32;
	si.ntp_sec = (guint32)(real_us / G_USEC_PER_SEC + NTP_UNIX_OFFSET);
	si.ntp_frac = (guint32)(frac / G_USEC_PER_SEC);
	for (guint i = 0; i < room->feeds->len; i++) {
		LocalFeed *f = g_ptr_array_index(room->feeds, i);
		Source *s = f->source;

		if (!s || !f->have_time)
			continue;
		si.rtp_ts = f->last_ts + (guint32)((now - f->last_capture_us) *
		                                   (gint64)f->spec.clock_rate / G_USEC_PER_SEC);
		s->last_sr = si;
		s->have_sr = TRUE;
		if (s->parent)
			kt_room_sim_on_sender_report(room, s); /* a layer: to its receivers */
		for (guint j = 0; j < s->sinks->len; j++)
			kt_room_send_sender_report(room, g_ptr_array_index(s->sinks, j));
	}
}
