/* The bridge back: a pad probe on a fakesink (GStreamer streaming thread) →
 * lock-free ring → the room's worker → kt_room_feed_rtp(). Keyframe requests go
 * the other way as an upstream GstForceKeyUnit event.
 *
 * A probe rather than an appsink: an appsink wraps every buffer in a new
 * GstSample, an allocation per packet; the probe takes a reference to the
 * payloader's own buffer and drops it from the pipeline. */
#include "kt-rtp-out.h"

/* A power of two. 512 packets is ~2 s of 720p video at 2 Mbit/s: far more
 * than a worker ever lags, small enough to bound the memory it pins. */
#define RING_SIZE 512u

typedef struct {
	GstBuffer *buffer;
	gint64 capture_us;
} Slot;

typedef struct {
	GSource base;
	KtRtpOut *out;
} DrainSource;

struct _KtRtpOut {
	KtRoom *room;
	KtWorker *worker;
	KtRtpOutConfig config;
	guint feed;
	GstElement *sink;
	GstSegment segment; /* streaming thread: the latest, for running times */
	GSource *drain;     /* DrainSource on the worker's context */

	/* Single producer (the streaming thread), single consumer (the worker). */
	Slot ring[RING_SIZE];
	guint head; /* next write; producer only writes, atomics */
	guint tail; /* next read; consumer only writes, atomics */
	gint armed; /* a wake-up of the worker is pending */

	guint64 packets, bytes, dropped, keyframe_requests; /* atomics */
	guint keyframe_count;                               /* worker */
};

/* ---- worker side ---- */

static void drain(KtRtpOut *out)
{
	guint tail = g_atomic_int_get(&out->tail);
	guint head = g_atomic_int_get(&out->head);

	while (tail != head) {
		Slot *slot = &out->ring[tail % RING_SIZE];
		GstMapInfo map;

		if (gst_buffer_map(slot->buffer, &map, GST_MAP_READ)) {
			kt_room_feed_rtp(out->room, out->feed, map.data, map.size,
			                 slot->capture_us);
			__atomic_fetch_add(&out->bytes, map.size, __ATOMIC_RELAXED);
			gst_buffer_unmap(slot->buffer, &map);
		}
		gst_buffer_unref(slot->buffer);
		slot->buffer = NULL;
		tail++;
		g_atomic_int_set(&out->tail, tail);
		__atomic_fetch_add(&out->packets, 1, __ATOMIC_RELAXED);
		head = g_atomic_int_get(&out->head);
	}
}

static gboolean drain_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	KtRtpOut *out = ((DrainSource *)source)->out;

	(void)callback;
	(void)user_data;
	/* Disarm before draining: a packet pushed from here on re-arms us. */
	g_source_set_ready_time(source, -1);
	g_atomic_int_set(&out->armed, 0);
	drain(out);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs drain_funcs = {.dispatch = drain_dispatch};

/* A subscriber or tap of the source wants a keyframe (the room coalesced
 * the requests). The encoder upstream of the payloader answers it. */
static void on_keyframe(gpointer user_data)
{
	KtRtpOut *out = user_data;
	GstPad *pad = gst_element_get_static_pad(out->sink, "sink");
	GstStructure *st = gst_structure_new(
	    "GstForceKeyUnit", "running-time", GST_TYPE_CLOCK_TIME, GST_CLOCK_TIME_NONE,
	    "all-headers", G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_UINT, out->keyframe_count++, NULL);

	gst_pad_push_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, st));
	gst_object_unref(pad);
	__atomic_fetch_add(&out->keyframe_requests, 1, __ATOMIC_RELAXED);
}

/* ---- streaming thread ---- */

/* One payloaded packet into the ring (a reference, no copy). */
static void enqueue(KtRtpOut *out, GstBuffer *buffer)
{
	guint head = g_atomic_int_get(&out->head);
	gint64 capture_us = g_get_monotonic_time();
	GstClockTime running;
	Slot *slot;

	/* The instant the RTP timestamp stands for: the payloader derives it
	 * from the running time, and the pipeline clock is the system
	 * (monotonic) clock, so base time + running time is that instant. */
	running =
	    gst_segment_to_running_time(&out->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
	if (GST_CLOCK_TIME_IS_VALID(running))
		capture_us = (gint64)((gst_element_get_base_time(out->sink) + running) / 1000);
	if (head - g_atomic_int_get(&out->tail) >= RING_SIZE) {
		__atomic_fetch_add(&out->dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	slot = &out->ring[head % RING_SIZE];
	slot->buffer = gst_buffer_ref(buffer);
	slot->capture_us = capture_us;
	g_atomic_int_set(&out->head, head + 1);
	if (g_atomic_int_compare_and_exchange(&out->armed, 0, 1))
		g_source_set_ready_time(out->drain, 0);
}

static GstPadProbeReturn on_data(GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
	KtRtpOut *out = user_data;

	(void)pad;
	if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
		GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);

		if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT)
			gst_event_copy_segment(event, &out->segment);
		return GST_PAD_PROBE_OK;
	}
	if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
		enqueue(out, GST_PAD_PROBE_INFO_BUFFER(info));
	} else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
		/* Payloaders push a frame's packets as one list. */
		GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);

		for (guint i = 0; i < gst_buffer_list_length(list); i++)
			enqueue(out, gst_buffer_list_get(list, i));
	}
	return GST_PAD_PROBE_DROP; /* taken: the fakesink has nothing to do */
}

/* ---- control loop ---- */

KtRtpOut *kt_rtp_out_new(KtRoom *room, const KtRtpOutConfig *config)
{
	KtRtpOut *out = g_new0(KtRtpOut, 1);
	g_autoptr(GstPad) pad = NULL;
	KtRoomFeedSpec spec = {
	    .source = config->source,
	    .kind = config->kind,
	    .codec = config->codec,
	    .clock_rate = config->clock_rate,
	    .on_keyframe = config->kind == KT_MEDIA_VIDEO ? on_keyframe : NULL,
	    .user_data = out,
	    .layer = config->layer,
	    .n_layers = config->n_layers,
	};

	out->room = kt_room_ref(room);
	out->worker = kt_room_get_worker(room);
	out->config = *config;
	/* sync=false: the pipeline already runs live; waiting on the clock here
	 * would only add latency. async=false: a sink that never prerolls. */
	gst_segment_init(&out->segment, GST_FORMAT_UNDEFINED);
	out->sink = gst_element_factory_make("fakesink", NULL);
	g_object_set(out->sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
	gst_object_ref_sink(out->sink);
	pad = gst_element_get_static_pad(out->sink, "sink");
	gst_pad_add_probe(pad,
	                  GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
	                      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
	                  on_data, out, NULL);
	out->drain = g_source_new(&drain_funcs, sizeof(DrainSource));
	((DrainSource *)out->drain)->out = out;
	g_source_set_priority(out->drain, G_PRIORITY_DEFAULT);
	g_source_attach(out->drain, kt_worker_get_context(out->worker));
	out->feed = kt_room_add_feed(room, &spec);
	return out;
}

GstElement *kt_rtp_out_get_sink(KtRtpOut *out)
{
	return out->sink;
}

void kt_rtp_out_get_stats(KtRtpOut *out, KtRtpOutStats *stats)
{
	stats->packets = __atomic_load_n(&out->packets, __ATOMIC_RELAXED);
	stats->bytes = __atomic_load_n(&out->bytes, __ATOMIC_RELAXED);
	stats->dropped = __atomic_load_n(&out->dropped, __ATOMIC_RELAXED);
	stats->keyframe_requests = __atomic_load_n(&out->keyframe_requests, __ATOMIC_RELAXED);
}

/* On the worker, so no dispatch or keyframe callback is running: stop the
 * drain source, take the feed out of the room (kt_worker_invoke runs at once
 * there), let go of what is still queued. */
static gboolean teardown_on_worker(gpointer data)
{
	KtRtpOut *out = data;
	guint tail = g_atomic_int_get(&out->tail), head = g_atomic_int_get(&out->head);

	g_source_destroy(out->drain);
	kt_room_remove_feed(out->room, out->feed);
	for (; tail != head; tail++)
		g_clear_pointer(&out->ring[tail % RING_SIZE].buffer, gst_buffer_unref);
	g_atomic_int_set(&out->tail, tail);
	return G_SOURCE_REMOVE;
}

void kt_rtp_out_free(KtRtpOut *out)
{
	if (!out)
		return;
	kt_worker_invoke_sync(out->worker, teardown_on_worker, out);
	g_source_unref(out->drain);
	gst_object_unref(out->sink);
	kt_room_unref(out->room);
	g_free(out);
}
