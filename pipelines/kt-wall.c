/* The classroom wall (kt-wall.h): lifecycle, the packet path and the
 * control loop.
 *
 * One fixed pipeline (kt-wall-pipeline.c) runs from creation to free, plus
 * one decoding chain per input (kt-decode-chain.h) on a request pad of its
 * compositor, placed by the grid (kt-wall-layout.c). The media worker only
 * copies packets into buffers stamped with their arrival time and hands them
 * to the input's appsrc; building and removing chains, keyframe requests and
 * the owner's callbacks run on the control loop, woken through one idle
 * source.
 */
#include "kt-wall-private.h"

#include "kt-gst.h"
#include "kt-rtp.h"

/* clang-format off */
G_DEFINE_QUARK(kt-wall-error-quark, kt_wall_error)
/* clang-format on */

/* At most one keyframe request per input per this. */
#define KT_WALL_KEYFRAME_INTERVAL_US (G_USEC_PER_SEC)

static gboolean on_wake(gpointer data);

void kt_wall_schedule_wake(KtWall *w)
{
	if (w->wake || w->failed || w->closing)
		return;
	w->wake = g_idle_source_new();
	g_source_set_callback(w->wake, on_wake, w, NULL);
	g_source_attach(w->wake, w->control);
}

void kt_wall_read_feed_stats(KtRtpOut *out, KtWallStats *stats)
{
	KtRtpOutStats os;

	kt_rtp_out_get_stats(out, &os);
	stats->sent = os.packets;
	stats->keyframe_requests = os.keyframe_requests;
}

/* ---- the packet path (any thread) ---- */

static gboolean is_video_codec(KtCodec codec)
{
	return codec > KT_CODEC_NONE && codec < KT_CODEC_N &&
	       kt_media_codec_kind(codec) == KT_MEDIA_VIDEO;
}

/* w->lock held. The input to feed this packet to, NULL if none (counted). */
static KtWallInput *find_input(KtWall *w, guint input)
{
	KtWallInput *in = g_hash_table_lookup(w->inputs, GUINT_TO_POINTER(input));

	if (!in)
		w->stats.unknown++;
	else if (!in->shown)
		w->stats.hidden++;
	else
		return in;
	return NULL;
}

void kt_wall_push(KtWall *w, guint input, const guint8 *rtp, gsize len, KtCodec codec)
{
	gboolean valid = is_video_codec(codec) && rtp && len > 0;
	gboolean wake = FALSE;
	KtWallInput *in;
	KtRtpHeader h;

	valid = valid && kt_rtp_parse(rtp, len, &h) >= 0;
	g_mutex_lock(&w->lock);
	if (w->failed || w->closing)
		w->stats.dropped++;
	else if (!valid)
		w->stats.rejected++;
	else if ((in = find_input(w, input)))
		switch (kt_decode_chain_push(&in->dec, rtp, len, &h, codec,
		                             kt_gst_lesson_time(w->config.epoch_us), &wake)) {
		case KT_DECODE_CHAIN_ACCEPTED:
			w->stats.packets++;
			break;
		case KT_DECODE_CHAIN_DROPPED:
			w->stats.dropped++;
			break;
		case KT_DECODE_CHAIN_SKIPPED:
			break;
		}
	if (wake)
		kt_wall_schedule_wake(w);
	g_mutex_unlock(&w->lock);
}

/* ---- the control loop ---- */

static gboolean on_keyframe_timer(gpointer data)
{
	KtWall *w = data;

	g_clear_pointer(&w->keyframe_timer, g_source_unref);
	return on_wake(w);
}

/* Calls on_keyframe for every input that wants a keyframe and has not had
 * one asked for within the interval; a timer comes back for the others. */
static void request_keyframes(KtWall *w)
{
	g_autoptr(GArray) due = g_array_new(FALSE, FALSE, sizeof(guint));
	gint64 now = g_get_monotonic_time(), next = G_MAXINT64;

	g_mutex_lock(&w->lock);
	for (guint i = 0; i < w->order->len && !w->failed; i++) {
		KtWallInput *in = g_ptr_array_index(w->order, i);

		if (kt_decode_chain_take_keyframe(&in->dec, now, KT_WALL_KEYFRAME_INTERVAL_US,
		                                  &next))
			g_array_append_val(due, in->id);
	}
	g_mutex_unlock(&w->lock);
	if (next != G_MAXINT64 && !w->keyframe_timer) {
		w->keyframe_timer = g_timeout_source_new((guint)((next - now) / 1000 + 1));
		g_source_set_callback(w->keyframe_timer, on_keyframe_timer, w, NULL);
		g_source_attach(w->keyframe_timer, w->control);
	}
	/* By id: a callback may remove inputs. */
	for (guint i = 0; i < due->len && w->config.on_keyframe; i++) {
		guint id = g_array_index(due, guint, i);

		if (g_hash_table_contains(w->inputs, GUINT_TO_POINTER(id)))
			w->config.on_keyframe(w, id, w->config.user_data);
	}
}

/* Control loop: builds the chains whose packets wait, then asks for the
 * keyframes wanted. */
static gboolean on_wake(gpointer data)
{
	KtWall *w = data;
	g_autoptr(GPtrArray) build = g_ptr_array_new();

	g_mutex_lock(&w->lock);
	g_clear_pointer(&w->wake, g_source_unref);
	for (guint i = 0; i < w->order->len; i++) {
		KtWallInput *in = g_ptr_array_index(w->order, i);

		if (kt_decode_chain_take_build(&in->dec))
			g_ptr_array_add(build, in);
	}
	g_mutex_unlock(&w->lock);
	for (guint i = 0; i < build->len && w->pipeline; i++) {
		KtWallInput *in = g_ptr_array_index(build, i);
		g_autoptr(GError) error = NULL;
		gboolean built =
		    kt_decode_chain_build(&in->dec, GST_BIN(w->pipeline), w->compositor, &error);

		if (!built)
			g_warning("wall: input %u: %s; its packets are dropped", in->id,
			          error->message);
		g_mutex_lock(&w->lock);
		w->stats.chains += built;
		g_mutex_unlock(&w->lock);
	}
	request_keyframes(w);
	return G_SOURCE_REMOVE;
}

/* Streaming thread: a depayloader or decoder wants a keyframe. */
static void on_keyframe_wanted(gpointer input)
{
	KtWallInput *in = input;

	g_mutex_lock(&in->wall->lock);
	kt_wall_schedule_wake(in->wall);
	g_mutex_unlock(&in->wall->lock);
}

/* Control loop: a chain is linked; the grid places it before it starts. */
static void on_linked(gpointer input)
{
	KtWallInput *in = input;

	kt_wall_layout_apply(in->wall);
}

/* Control loop: the input whose chain holds @object, NULL if none. */
static KtWallInput *input_of(KtWall *w, GstObject *object)
{
	for (guint i = 0; i < w->order->len; i++) {
		KtWallInput *in = g_ptr_array_index(w->order, i);

		if (kt_decode_chain_owns(&in->dec, object))
			return in;
	}
	return NULL;
}

/* Control loop: the wall failed (not one input): it stops taking packets,
 * drops the pipeline and tells the owner, once. */
static void fail(KtWall *w, GstMessage *msg)
{
	g_autoptr(GError) gst_error = NULL;
	g_autoptr(GError) error = NULL;

	gst_message_parse_error(msg, &gst_error, NULL);
	error = g_error_new(KT_WALL_ERROR, KT_WALL_ERROR_PIPELINE, "wall: %s: %s",
	                    GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), gst_error->message);
	g_mutex_lock(&w->lock);
	w->failed = w->stats.failed = TRUE;
	for (guint i = 0; i < w->order->len; i++)
		kt_decode_chain_close(&((KtWallInput *)g_ptr_array_index(w->order, i))->dec);
	g_mutex_unlock(&w->lock);
	kt_wall_pipeline_remove(w);
	if (w->config.on_error)
		w->config.on_error(w, error, w->config.user_data);
	else
		g_warning("%s", error->message);
}

/* Control loop. Errors inside an input's chain rebuild that input; any other
 * error ends the wall. */
static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtWall *w = data;
	KtWallInput *in;

	if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
		return G_SOURCE_CONTINUE;
	if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(w->pipeline)))
		return G_SOURCE_CONTINUE; /* from a chain already removed */
	in = input_of(w, GST_MESSAGE_SRC(msg));
	if (in) {
		kt_decode_chain_failed(&in->dec);
		g_mutex_lock(&w->lock);
		kt_wall_schedule_wake(w);
		g_mutex_unlock(&w->lock);
		return G_SOURCE_CONTINUE;
	}
	fail(w, msg); /* also destroys this watch, which GLib allows */
	return G_SOURCE_REMOVE;
}

KtWall *kt_wall_new(KtRoom *room, const KtWallConfig *config, GError **error)
{
	KtWallConfig c = {0};
	KtWall *w;

	if (config)
		c = *config;
	if (!room) {
		g_set_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID, "wall: no room");
		return NULL;
	}
	if (!kt_wall_config_apply(&c, error))
		return NULL;
	kt_gst_init();
	w = g_new0(KtWall, 1);
	w->room = kt_room_ref(room);
	w->config = c;
	if (w->config.epoch_us == 0)
		w->config.epoch_us = g_get_monotonic_time();
	w->control = g_main_context_ref_thread_default();
	g_mutex_init(&w->lock);
	w->chain_spec = (KtDecodeChainSpec){
	    .kind = KT_MEDIA_VIDEO,
	    .jitter_ms = KT_WALL_JITTER_MS,
	    .max_queued = KT_WALL_MAX_QUEUED_BYTES,
	    .max_pending = KT_WALL_MAX_PENDING_BYTES,
	    .tail = kt_wall_chain_tail,
	    .lock = &w->lock,
	    .on_keyframe_wanted = on_keyframe_wanted,
	    .on_linked = on_linked,
	};
	w->inputs = g_hash_table_new(NULL, NULL);
	w->order = g_ptr_array_new();
	w->stats.columns = w->stats.rows = 1;
	if (!kt_wall_pipeline_start(w, on_bus_message, error)) {
		kt_wall_free(w);
		return NULL;
	}
	return w;
}

guint kt_wall_add_input(KtWall *w, const char *label, guint clock_rate, GError **error)
{
	KtWallInput *in;

	if (!label || !g_utf8_validate(label, -1, NULL) || clock_rate == 0) {
		g_set_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID,
		            "wall: an input needs a UTF-8 label and a clock rate");
		return 0;
	}
	in = g_new0(KtWallInput, 1);
	in->wall = w;
	in->id = ++w->last_id;
	in->label = g_markup_escape_text(label, -1);
	in->tile = -1;
	kt_decode_chain_init(&in->dec, &w->chain_spec, clock_rate, in);
	g_mutex_lock(&w->lock);
	g_hash_table_insert(w->inputs, GUINT_TO_POINTER(in->id), in);
	g_ptr_array_add(w->order, in);
	w->stats.inputs++;
	g_mutex_unlock(&w->lock);
	kt_wall_layout_apply(w);
	return in->id;
}

static KtWallInput *lookup(KtWall *w, guint input, GError **error)
{
	KtWallInput *in = g_hash_table_lookup(w->inputs, GUINT_TO_POINTER(input));

	if (!in)
		g_set_error(error, KT_WALL_ERROR, KT_WALL_ERROR_NO_INPUT, "wall: no input %u",
		            input);
	return in;
}

static void input_free(KtWallInput *in)
{
	kt_decode_chain_drop(&in->dec);
	kt_decode_chain_clear(&in->dec);
	g_free(in->label);
	g_free(in);
}

gboolean kt_wall_remove_input(KtWall *w, guint input, GError **error)
{
	KtWallInput *in = lookup(w, input, error);

	if (!in)
		return FALSE;
	g_mutex_lock(&w->lock);
	g_hash_table_remove(w->inputs, GUINT_TO_POINTER(input));
	g_ptr_array_remove(w->order, in);
	w->stats.inputs--;
	kt_decode_chain_close(&in->dec);
	g_mutex_unlock(&w->lock);
	input_free(in);
	kt_wall_layout_apply(w);
	return TRUE;
}

gboolean kt_wall_set_mark(KtWall *w, guint input, KtWallMark mark, GError **error)
{
	KtWallInput *in;

	if (mark >= KT_WALL_N_MARKS) {
		g_set_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID, "wall: no mark %d",
		            (int)mark);
		return FALSE;
	}
	in = lookup(w, input, error);
	if (!in)
		return FALSE;
	in->mark = mark;
	kt_wall_layout_mark(w, in);
	return TRUE;
}

void kt_wall_get_stats(KtWall *w, KtWallStats *out)
{
	g_mutex_lock(&w->lock);
	if (w->out)
		kt_wall_read_feed_stats(w->out, &w->stats);
	*out = w->stats;
	g_mutex_unlock(&w->lock);
}

GArray *kt_wall_get_layout(KtWall *w)
{
	return kt_wall_layout_get(w);
}

GstElement *kt_wall_get_pipeline(KtWall *w)
{
	return w->pipeline;
}

void kt_wall_free(KtWall *w)
{
	if (!w)
		return;
	g_mutex_lock(&w->lock);
	w->closing = TRUE;
	for (guint i = 0; i < w->order->len; i++)
		kt_decode_chain_close(&((KtWallInput *)g_ptr_array_index(w->order, i))->dec);
	if (w->wake) {
		g_source_destroy(w->wake);
		g_clear_pointer(&w->wake, g_source_unref);
	}
	g_mutex_unlock(&w->lock);
	if (w->keyframe_timer) {
		g_source_destroy(w->keyframe_timer);
		g_clear_pointer(&w->keyframe_timer, g_source_unref);
	}
	kt_wall_pipeline_remove(w);
	for (guint i = 0; i < w->order->len; i++)
		input_free(g_ptr_array_index(w->order, i));
	g_ptr_array_unref(w->order);
	g_hash_table_unref(w->inputs);
	g_main_context_unref(w->control);
	g_mutex_clear(&w->lock);
	kt_room_unref(w->room);
	g_free(w);
}
