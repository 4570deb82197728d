/* The transcoding ladder (kt-ladder.h): lifecycle, the packet path and the
 * control loop.
 *
 * One fixed pipeline (kt-ladder-pipeline.c) runs from creation to free, plus
 * the input's decoding chain (kt-decode-chain.h) on a request pad of its
 * funnel. The media worker only copies packets into buffers stamped with
 * their arrival time and hands them to the chain's appsrc; building the
 * chain, keyframe requests and the owner's callbacks run on the control loop,
 * woken through one idle source.
 */
#include "kt-ladder-private.h"

#include <gst/app/gstappsrc.h>

#include "kt-gst.h"
#include "kt-rtp.h"

/* clang-format off */
G_DEFINE_QUARK(kt-ladder-error-quark, kt_ladder_error)
/* clang-format on */

/* At most one keyframe request of the input per this. */
#define KT_LADDER_KEYFRAME_INTERVAL_US (G_USEC_PER_SEC)

static gboolean on_wake(gpointer data);

/* l->lock held. */
static void schedule_wake(KtLadder *l)
{
	if (l->wake || l->failed || l->closing)
		return;
	l->wake = g_idle_source_new();
	g_source_set_callback(l->wake, on_wake, l, NULL);
	g_source_attach(l->wake, l->control);
}

/* ---- the packet path (any thread) ---- */

void kt_ladder_push(KtLadder *l, const guint8 *rtp, gsize len, KtCodec codec)
{
	gboolean valid = codec > KT_CODEC_NONE && codec < KT_CODEC_N &&
	                 kt_media_codec_kind(codec) == KT_MEDIA_VIDEO && rtp && len > 0;
	gboolean wake = FALSE;
	KtRtpHeader h;

	/* A raw_input ladder takes pictures only. */
	valid = valid && !l->config.raw_input && kt_rtp_parse(rtp, len, &h) >= 0;
	g_mutex_lock(&l->lock);
	if (l->failed || l->closing)
		l->dropped++;
	else if (!valid)
		l->rejected++;
	else
		switch (kt_decode_chain_push(&l->dec, rtp, len, &h, codec,
		                             kt_gst_lesson_time(l->config.epoch_us), &wake)) {
		case KT_DECODE_CHAIN_ACCEPTED:
			l->packets++;
			break;
		case KT_DECODE_CHAIN_DROPPED:
			l->dropped++;
			break;
		case KT_DECODE_CHAIN_SKIPPED:
			break;
		}
	if (wake)
		schedule_wake(l);
	g_mutex_unlock(&l->lock);
}

void kt_ladder_push_frame(KtLadder *l, GstSample *sample)
{
	GstBuffer *buffer = sample ? gst_sample_get_buffer(sample) : NULL;
	GstCaps *caps = sample ? gst_sample_get_caps(sample) : NULL;
	GstElement *raw = NULL;

	g_mutex_lock(&l->lock);
	if (!buffer || !caps || !l->config.raw_input)
		l->rejected++;
	else if (l->failed || l->closing || !l->raw)
		l->dropped++;
	else {
		raw = gst_object_ref(l->raw);
		l->packets++;
	}
	g_mutex_unlock(&l->lock);
	if (!raw)
		return;
	/* The caps change only with the source (a new size): appsrc sends them on. */
	gst_app_src_set_caps(GST_APP_SRC(raw), caps);
	/* The producer's times mean nothing here (a reconnected ingest starts again
	 * at 0, and the encoders drop pictures that go back): appsrc stamps it on
	 * arrival with the ladder's clock (do-timestamp), but only where it has no
	 * time. Its metadata is copied for that, never its pictures. */
	buffer = gst_buffer_copy(buffer);
	GST_BUFFER_PTS(buffer) = GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
	GST_BUFFER_DURATION(buffer) = GST_CLOCK_TIME_NONE;
	gst_app_src_push_buffer(GST_APP_SRC(raw), buffer);
	gst_object_unref(raw);
}

/* ---- the control loop ---- */

static gboolean on_keyframe_timer(gpointer data)
{
	KtLadder *l = data;

	g_clear_pointer(&l->keyframe_timer, g_source_unref);
	return on_wake(l);
}

/* Calls on_keyframe when the input wants a keyframe and none was asked for
 * within the interval; a timer comes back otherwise. */
static void request_keyframe(KtLadder *l)
{
	gint64 now = g_get_monotonic_time(), next = G_MAXINT64;
	gboolean due;

	g_mutex_lock(&l->lock);
	due = !l->failed &&
	      kt_decode_chain_take_keyframe(&l->dec, now, KT_LADDER_KEYFRAME_INTERVAL_US, &next);
	g_mutex_unlock(&l->lock);
	if (next != G_MAXINT64 && !l->keyframe_timer) {
		l->keyframe_timer = g_timeout_source_new((guint)((next - now) / 1000 + 1));
		g_source_set_callback(l->keyframe_timer, on_keyframe_timer, l, NULL);
		g_source_attach(l->keyframe_timer, l->control);
	}
	if (due && l->config.on_keyframe)
		l->config.on_keyframe(l, l->config.user_data);
}

/* Control loop: builds the chain when packets wait for one, then asks for the
 * keyframe wanted. */
static gboolean on_wake(gpointer data)
{
	KtLadder *l = data;
	gboolean build;

	g_mutex_lock(&l->lock);
	g_clear_pointer(&l->wake, g_source_unref);
	build = kt_decode_chain_take_build(&l->dec);
	g_mutex_unlock(&l->lock);
	if (build && l->pipeline) {
		g_autoptr(GError) error = NULL;
		gboolean built =
		    kt_decode_chain_build(&l->dec, GST_BIN(l->pipeline), l->funnel, &error);

		if (!built)
			g_warning("ladder: %s; its packets are dropped", error->message);
		g_mutex_lock(&l->lock);
		l->chains += built;
		g_mutex_unlock(&l->lock);
	}
	request_keyframe(l);
	return G_SOURCE_REMOVE;
}

/* Streaming thread: the depayloader or decoder wants a keyframe. */
static void on_keyframe_wanted(gpointer input)
{
	KtLadder *l = input;

	g_mutex_lock(&l->lock);
	schedule_wake(l);
	g_mutex_unlock(&l->lock);
}

/* Control loop: the ladder failed (not its input): it stops taking packets,
 * drops the pipeline and tells the owner, once. */
static void fail(KtLadder *l, GstMessage *msg)
{
	g_autoptr(GError) gst_error = NULL;
	g_autoptr(GError) error = NULL;

	gst_message_parse_error(msg, &gst_error, NULL);
	error = g_error_new(KT_LADDER_ERROR, KT_LADDER_ERROR_PIPELINE, "ladder: %s: %s",
	                    GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), gst_error->message);
	g_mutex_lock(&l->lock);
	l->failed = TRUE;
	kt_decode_chain_close(&l->dec);
	g_mutex_unlock(&l->lock);
	kt_ladder_pipeline_remove(l);
	if (l->config.on_error)
		l->config.on_error(l, error, l->config.user_data);
	else
		g_warning("%s", error->message);
}

/* Control loop. Errors inside the input's chain rebuild it; any other error
 * ends the ladder. */
static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtLadder *l = data;

	(void)bus;
	if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
		return G_SOURCE_CONTINUE;
	if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(l->pipeline)))
		return G_SOURCE_CONTINUE; /* from a chain already removed */
	if (kt_decode_chain_owns(&l->dec, GST_MESSAGE_SRC(msg))) {
		kt_decode_chain_failed(&l->dec);
		g_mutex_lock(&l->lock);
		schedule_wake(l);
		g_mutex_unlock(&l->lock);
		return G_SOURCE_CONTINUE;
	}
	fail(l, msg); /* also destroys this watch, which GLib allows */
	return G_SOURCE_REMOVE;
}

KtLadder *kt_ladder_new(KtRoom *room, guint source, const KtLadderConfig *config, GError **error)
{
	KtLadderConfig c = {0};
	KtLadder *l;

	if (config)
		c = *config;
	if (!room) {
		g_set_error(error, KT_LADDER_ERROR, KT_LADDER_ERROR_INVALID, "ladder: no room");
		return NULL;
	}
	if (!kt_ladder_config_apply(&c, error))
		return NULL;
	kt_gst_init();
	l = g_new0(KtLadder, 1);
	l->room = kt_room_ref(room);
	l->source = source;
	l->config = c;
	if (l->config.epoch_us == 0)
		l->config.epoch_us = g_get_monotonic_time();
	l->control = g_main_context_ref_thread_default();
	g_mutex_init(&l->lock);
	l->n_rungs = c.n_rungs;
	for (guint i = 0; i < c.n_rungs; i++) {
		l->rungs[i].ladder = l;
		l->rungs[i].index = i;
		l->rungs[i].rung = c.rungs[i];
		l->rungs[i].running = TRUE; /* until the input's size says otherwise */
		l->rungs[i].last_pts = GST_CLOCK_TIME_NONE;
	}
	l->chain_spec = (KtDecodeChainSpec){
	    .kind = KT_MEDIA_VIDEO,
	    .jitter_ms = KT_LADDER_JITTER_MS,
	    .max_queued = KT_LADDER_MAX_QUEUED_BYTES,
	    .max_pending = KT_LADDER_MAX_PENDING_BYTES,
	    .tail = "videoconvert",
	    .lock = &l->lock,
	    .on_keyframe_wanted = on_keyframe_wanted,
	};
	kt_decode_chain_init(&l->dec, &l->chain_spec, 90000, l);
	if (!kt_ladder_pipeline_start(l, on_bus_message, error)) {
		kt_ladder_free(l);
		return NULL;
	}
	return l;
}

void kt_ladder_get_stats(KtLadder *l, KtLadderStats *out)
{
	memset(out, 0, sizeof(*out));
	g_mutex_lock(&l->lock);
	out->packets = l->packets;
	out->dropped = l->dropped;
	out->rejected = l->rejected;
	out->chains = l->chains;
	out->failed = l->failed;
	kt_ladder_read_rungs(l, out);
	g_mutex_unlock(&l->lock);
	out->decoded = __atomic_load_n(&l->decoded, __ATOMIC_RELAXED);
	out->input_width = g_atomic_int_get(&l->input_width);
	out->input_height = g_atomic_int_get(&l->input_height);
}

GstElement *kt_ladder_get_pipeline(KtLadder *l)
{
	return l->pipeline;
}

void kt_ladder_free(KtLadder *l)
{
	if (!l)
		return;
	g_mutex_lock(&l->lock);
	l->closing = TRUE;
	kt_decode_chain_close(&l->dec);
	if (l->wake) {
		g_source_destroy(l->wake);
		g_clear_pointer(&l->wake, g_source_unref);
	}
	g_mutex_unlock(&l->lock);
	if (l->keyframe_timer) {
		g_source_destroy(l->keyframe_timer);
		g_clear_pointer(&l->keyframe_timer, g_source_unref);
	}
	kt_ladder_pipeline_remove(l);
	kt_decode_chain_drop(&l->dec);
	kt_decode_chain_clear(&l->dec);
	g_main_context_unref(l->control);
	g_mutex_clear(&l->lock);
	kt_room_unref(l->room);
	g_free(l);
}
