/* Program recorder: the lesson composite in one crash-safe MP4.
 *
 * One fixed pipeline (kt-program-pipeline.c) runs from creation to stop,
 * plus one decoding chain per input (kt-program-input.c) on a request pad
 * of its compositor or audiomixer. The media worker only copies packets
 * into buffers stamped with their arrival time and hands them to the
 * input's appsrc; everything that takes time (building and removing chains,
 * the owner's callbacks, finishing the file) runs on the control loop, woken
 * through one idle source.
 */
#include "kt-program-private.h"

#include "kt-gst.h"
#include "kt-rtp.h"

/* clang-format off */
G_DEFINE_QUARK(kt-program-recorder-error-quark, kt_program_recorder_error)
/* clang-format on */

#define KT_PROGRAM_FINISH_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define KT_PROGRAM_KEYFRAME_INTERVAL_US (G_USEC_PER_SEC)

static gboolean on_wake(gpointer data);

void kt_program_schedule_wake(KtProgramRecorder *r)
{
	if (r->wake || r->stopped || r->failed)
		return;
	r->wake = g_idle_source_new();
	g_source_set_callback(r->wake, on_wake, r, NULL);
	g_source_attach(r->wake, r->control);
}

/* ---- the packet path (any thread) ---- */

/* r->lock held. The input to feed this packet to, NULL if none (counted). */
static KtProgramInput *find_input(KtProgramRecorder *r, guint input, KtCodec codec)
{
	KtProgramInput *in = g_hash_table_lookup(r->inputs, GUINT_TO_POINTER(input));

	if (!in)
		r->stats.unknown++;
	else if (kt_media_codec_kind(codec) != in->kind)
		r->stats.rejected++;
	else if (!in->shown)
		r->stats.hidden++;
	else
		return in;
	return NULL;
}

void kt_program_recorder_push(KtProgramRecorder *r, guint input, const guint8 *rtp, gsize len,
                              KtCodec codec)
{
	gboolean valid = codec > KT_CODEC_NONE && codec < KT_CODEC_N;
	KtProgramInput *in;
	KtRtpHeader h;
	gboolean wake = FALSE;

	valid = valid && rtp && kt_rtp_parse(rtp, len, &h) >= 0;
	g_mutex_lock(&r->lock);
	if (r->stopped || r->failed) {
		r->stats.dropped++;
		goto out;
	}
	if (!valid) {
		r->stats.rejected++;
		goto out;
	}
	in = find_input(r, input, codec);
	if (!in)
		goto out;
	switch (kt_decode_chain_push(&in->dec, rtp, len, &h, codec,
	                             kt_gst_lesson_time(r->config.epoch_us), &wake)) {
	case KT_DECODE_CHAIN_ACCEPTED:
		r->stats.packets++;
		break;
	case KT_DECODE_CHAIN_DROPPED:
		r->stats.dropped++;
		break;
	case KT_DECODE_CHAIN_SKIPPED:
		break;
	}
	if (wake)
		kt_program_schedule_wake(r);
out:
	g_mutex_unlock(&r->lock);
}

/* ---- the control loop ---- */

static gboolean on_keyframe_timer(gpointer data);

/* Calls on_keyframe for every input that wants a keyframe and has not had
 * one asked for within the interval; a timer retries the others. */
static void request_keyframes(KtProgramRecorder *r)
{
	g_autoptr(GArray) due = g_array_new(FALSE, FALSE, sizeof(guint));
	gint64 now = g_get_monotonic_time(), next = G_MAXINT64;
	GHashTableIter iter;
	gpointer value;

	g_mutex_lock(&r->lock);
	g_hash_table_iter_init(&iter, r->inputs);
	while (!r->stopped && !r->failed && g_hash_table_iter_next(&iter, NULL, &value)) {
		KtProgramInput *in = value;

		if (kt_decode_chain_take_keyframe(&in->dec, now, KT_PROGRAM_KEYFRAME_INTERVAL_US,
		                                  &next))
			g_array_append_val(due, in->id);
	}
	g_mutex_unlock(&r->lock);
	if (next != G_MAXINT64 && !r->keyframe_timer) {
		r->keyframe_timer = g_timeout_source_new((guint)((next - now) / 1000 + 1));
		g_source_set_callback(r->keyframe_timer, on_keyframe_timer, r, NULL);
		g_source_attach(r->keyframe_timer, r->control);
	}
	/* By id: a callback may remove inputs. */
	for (guint i = 0; i < due->len && r->config.on_keyframe; i++) {
		guint id = g_array_index(due, guint, i);

		if (g_hash_table_contains(r->inputs, GUINT_TO_POINTER(id)))
			r->config.on_keyframe(r, id, r->config.user_data);
	}
}

static gboolean on_keyframe_timer(gpointer data)
{
	KtProgramRecorder *r = data;

	g_clear_pointer(&r->keyframe_timer, g_source_unref);
	request_keyframes(r);
	return G_SOURCE_REMOVE;
}

static void cancel_keyframe_timer(KtProgramRecorder *r)
{
	if (r->keyframe_timer) {
		g_source_destroy(r->keyframe_timer);
		g_clear_pointer(&r->keyframe_timer, g_source_unref);
	}
}

/* Control loop: builds the input's chain for the codec its packets carry and
 * feeds it what was held meanwhile. */
static void build_chain(KtProgramRecorder *r, KtProgramInput *in)
{
	GstElement *mixer = in->kind == KT_MEDIA_VIDEO ? r->compositor : r->audiomixer;
	g_autoptr(GError) error = NULL;

	if (!kt_decode_chain_build(&in->dec, GST_BIN(r->pipeline), mixer, &error)) {
		g_warning("%s: input %u: %s; its packets are dropped", r->label, in->id,
		          error->message);
		return;
	}
	g_mutex_lock(&r->lock);
	r->stats.chains++;
	g_mutex_unlock(&r->lock);
}

static gboolean on_wake(gpointer data)
{
	KtProgramRecorder *r = data;
	g_autoptr(GArray) build = g_array_new(FALSE, FALSE, sizeof(guint));
	GHashTableIter iter;
	gpointer value;

	g_mutex_lock(&r->lock);
	g_clear_pointer(&r->wake, g_source_unref);
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtProgramInput *in = value;

		if (kt_decode_chain_take_build(&in->dec))
			g_array_append_val(build, in->id);
	}
	g_mutex_unlock(&r->lock);
	for (guint i = 0; i < build->len; i++) {
		KtProgramInput *in = g_hash_table_lookup(
		    r->inputs, GUINT_TO_POINTER(g_array_index(build, guint, i)));

		if (in && r->pipeline)
			build_chain(r, in);
	}
	request_keyframes(r);
	return G_SOURCE_REMOVE;
}

/* Control loop: an input's chain failed (not the recording): it is removed
 * and rebuilt at the input's next keyframe, unless it keeps failing. */
static void restart_input(KtProgramRecorder *r, KtProgramInput *in)
{
	kt_decode_chain_failed(&in->dec);
	g_mutex_lock(&r->lock);
	kt_program_schedule_wake(r);
	g_mutex_unlock(&r->lock);
}

/* Control loop: the input whose chain holds @object, NULL if none. */
static KtProgramInput *input_of(KtProgramRecorder *r, GstObject *object)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (kt_decode_chain_owns(&((KtProgramInput *)value)->dec, object))
			return value;
	return NULL;
}

static void set_failure(KtProgramRecorder *r, const GError *gst_error)
{
	gint code = gst_error->domain == GST_RESOURCE_ERROR ? KT_PROGRAM_RECORDER_ERROR_WRITE
	                                                    : KT_PROGRAM_RECORDER_ERROR_PIPELINE;

	if (!r->failure)
		r->failure = g_error_new(KT_PROGRAM_RECORDER_ERROR, code, "recording %s: %s",
		                         r->label, gst_error->message);
}

/* Control loop: the recording failed (typically a write error or a full
 * disk). Stop taking packets, drop the pipeline; the file has been cut back
 * to its last whole fragment, and everything in it plays. */
static void fail(KtProgramRecorder *r, GstMessage *msg)
{
	g_autoptr(GError) gst_error = NULL;
	GHashTableIter iter;
	gpointer value;

	gst_message_parse_error(msg, &gst_error, NULL);
	g_mutex_lock(&r->lock);
	r->failed = TRUE;
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtProgramInput *in = value;

		kt_decode_chain_close(&in->dec);
	}
	g_mutex_unlock(&r->lock);
	set_failure(r, gst_error);
	kt_program_pipeline_remove(r); /* the file ends with its last whole fragment */
}

/* The owner's callback logs the failure; without one the recorder does. */
static void report_failure(KtProgramRecorder *r)
{
	if (r->config.on_error)
		r->config.on_error(r, r->failure, r->config.user_data);
	else
		g_warning("%s", r->failure->message);
}

/* Control loop. An error of the HLS branch drops that branch and nothing
 * else. */
static gboolean hls_error(KtProgramRecorder *r, GstMessage *msg)
{
	g_autoptr(GError) gst_error = NULL;

	if (!kt_program_hls_owns(r, GST_MESSAGE_SRC(msg)))
		return FALSE;
	gst_message_parse_error(msg, &gst_error, NULL);
	kt_program_hls_failed(r, gst_error);
	return TRUE;
}

/* Control loop. Errors inside an input's chain restart that input, errors
 * of the HLS branch end the broadcast; any other error ends the recording. */
static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtProgramRecorder *r = data;
	KtProgramInput *in;

	if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
		return G_SOURCE_CONTINUE;
	if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(r->pipeline)))
		return G_SOURCE_CONTINUE; /* from a chain already removed */
	if (hls_error(r, msg))
		return G_SOURCE_CONTINUE;
	in = input_of(r, GST_MESSAGE_SRC(msg));
	if (in) {
		restart_input(r, in);
		return G_SOURCE_CONTINUE;
	}
	fail(r, msg); /* also destroys this watch, which GLib allows */
	report_failure(r);
	return G_SOURCE_REMOVE;
}

KtProgramRecorder *kt_program_recorder_new(const char *path, const KtProgramRecorderConfig *config,
                                           GError **error)
{
	KtProgramRecorderConfig c = {0};
	KtProgramRecorder *r;

	if (config)
		c = *config;
	if ((!path || !*path) && !(c.hls_dir && *c.hls_dir) && !c.room) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "program recorder: no path, no HLS directory and no room");
		return NULL;
	}
	if (!kt_program_config_apply(&c, error))
		return NULL;
	kt_gst_init();
	r = g_new0(KtProgramRecorder, 1);
	r->path = path && *path ? g_strdup(path) : NULL;
	r->hls_dir = c.hls_dir && *c.hls_dir ? g_strdup(c.hls_dir) : NULL;
	r->label = r->path ? r->path : r->hls_dir ? r->hls_dir : "(WebRTC only)";
	r->config = c;
	r->config.hls_dir = r->hls_dir;
	if (r->config.epoch_us == 0)
		r->config.epoch_us = g_get_monotonic_time();
	r->control = g_main_context_ref_thread_default();
	g_mutex_init(&r->lock);
	g_mutex_init(&r->hls.lock);
	kt_program_input_specs_init(r);
	r->inputs = g_hash_table_new_full(NULL, NULL, NULL, kt_program_input_free);
	r->file.fd = -1;
	r->stats.first_time = kt_gst_lesson_time(r->config.epoch_us);
	r->stats.first_wall_us = g_get_real_time();
	if (!kt_program_pipeline_start(r, on_bus_message, error)) {
		kt_program_recorder_free(r);
		return NULL;
	}
	return r;
}

guint kt_program_recorder_add_input(KtProgramRecorder *r, KtProgramSlot slot, guint clock_rate)
{
	KtProgramInput *in;

	g_return_val_if_fail(r && slot < KT_PROGRAM_N_SLOTS && clock_rate > 0, 0);
	in = kt_program_input_new(r, ++r->last_id, slot, clock_rate);
	in->order = ++r->last_order;
	g_mutex_lock(&r->lock);
	g_hash_table_insert(r->inputs, GUINT_TO_POINTER(in->id), in);
	r->stats.inputs++;
	g_mutex_unlock(&r->lock);
	kt_program_layout_apply(r);
	return in->id;
}

void kt_program_recorder_set_slot(KtProgramRecorder *r, guint input, KtProgramSlot slot)
{
	KtProgramInput *in;

	g_return_if_fail(r && slot < KT_PROGRAM_SLOT_AUDIO);
	in = g_hash_table_lookup(r->inputs, GUINT_TO_POINTER(input));
	if (!in || in->kind != KT_MEDIA_VIDEO)
		return;
	in->slot = slot;
	in->order = ++r->last_order;
	kt_program_layout_apply(r);
}

void kt_program_recorder_remove_input(KtProgramRecorder *r, guint input)
{
	KtProgramInput *in;

	g_mutex_lock(&r->lock);
	in = g_hash_table_lookup(r->inputs, GUINT_TO_POINTER(input));
	if (in) {
		g_hash_table_steal(r->inputs, GUINT_TO_POINTER(input));
		r->stats.inputs--;
		kt_decode_chain_close(&in->dec);
	}
	g_mutex_unlock(&r->lock);
	if (!in)
		return;
	kt_decode_chain_drop(&in->dec);
	kt_program_input_free(in);
	kt_program_layout_apply(r);
}

/* Control loop. Ends every stream and waits until the muxer has written the
 * end of the file, then removes the pipeline. */
static gboolean finish_pipeline(KtProgramRecorder *r, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + KT_PROGRAM_FINISH_TIMEOUT_US;
	g_autoptr(GstBus) bus = NULL;
	GHashTableIter iter;
	gpointer value;
	gboolean ok = FALSE;

	if (!r->pipeline)
		return TRUE;
	bus = gst_element_get_bus(r->pipeline);
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		kt_decode_chain_end(&((KtProgramInput *)value)->dec);
	gst_element_send_event(r->video_bg, gst_event_new_eos());
	gst_element_send_event(r->audio_bg, gst_event_new_eos());
	for (;;) {
		gint64 left = deadline - g_get_monotonic_time();
		g_autoptr(GstMessage) msg = left > 0 ? kt_gst_wait_eos(bus, left) : NULL;
		KtProgramInput *in;

		if (!msg) {
			g_set_error(error, KT_PROGRAM_RECORDER_ERROR,
			            KT_PROGRAM_RECORDER_ERROR_TIMEOUT,
			            "recording %s: not finalised within %d s", r->label,
			            (int)(KT_PROGRAM_FINISH_TIMEOUT_US / G_USEC_PER_SEC));
			break;
		}
		if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
			ok = TRUE;
			kt_program_hls_finish(r, MAX(deadline - g_get_monotonic_time(), 0));
			break;
		}
		if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(r->pipeline)))
			continue;
		if (kt_program_hls_owns(r, GST_MESSAGE_SRC(msg))) {
			kt_program_hls_drop(r); /* the broadcast ends without its last segment */
			continue;
		}
		in = input_of(r, GST_MESSAGE_SRC(msg));
		if (in) {
			/* Its end cannot reach the mixer any more: let it go. */
			kt_decode_chain_drop(&in->dec);
			continue;
		}
		fail(r, msg);
		g_propagate_error(error, g_error_copy(r->failure));
		break;
	}
	kt_program_pipeline_remove(r);
	return ok;
}

gboolean kt_program_recorder_stop(KtProgramRecorder *r, GError **error)
{
	g_autoptr(GError) local = NULL;
	GHashTableIter iter;
	gpointer value;

	if (r->stop_done) {
		if (!r->stop_ok && r->failure)
			g_propagate_error(error, g_error_copy(r->failure));
		return r->stop_ok;
	}
	g_mutex_lock(&r->lock);
	r->stopped = TRUE;
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtProgramInput *in = value;

		kt_decode_chain_close(&in->dec);
	}
	if (r->wake) {
		g_source_destroy(r->wake);
		g_clear_pointer(&r->wake, g_source_unref);
	}
	g_mutex_unlock(&r->lock);
	cancel_keyframe_timer(r);
	r->stop_done = TRUE;
	r->stop_ok = finish_pipeline(r, &local) && !r->failure;
	if (!r->failure && local)
		r->failure = g_error_copy(local);
	if (!r->stop_ok)
		g_propagate_error(error, g_error_copy(r->failure));
	return r->stop_ok;
}

void kt_program_recorder_free(KtProgramRecorder *r)
{
	if (!r)
		return;
	kt_program_recorder_stop(r, NULL);
	g_hash_table_unref(r->inputs);
	g_clear_error(&r->failure);
	g_main_context_unref(r->control);
	g_mutex_clear(&r->lock);
	g_mutex_clear(&r->hls.lock);
	g_free(r->path);
	g_free(r->hls_dir);
	g_free(r);
}

const char *kt_program_recorder_get_path(KtProgramRecorder *r)
{
	return r->path;
}

void kt_program_recorder_get_stats(KtProgramRecorder *r, KtProgramRecorderStats *out)
{
	g_mutex_lock(&r->lock);
	*out = r->stats;
	kt_program_webrtc_read_stats(r, out);
	g_mutex_unlock(&r->lock);
}
