/* Mix-minus: one pipeline per lesson, one decoding chain per microphone, one
 * mixer and encoder per output (kt-mix-minus-graph.c builds them).
 *
 * The media worker only copies packets into buffers stamped with their
 * arrival time and hands them to the input's appsrc; everything that takes
 * time (building and removing chains, on_error) runs on the control loop,
 * woken through one idle source.
 */
#include "kt-mix-minus-private.h"

#include "kt-gst.h"
#include "kt-rtp.h"

/* clang-format off */
G_DEFINE_QUARK(kt-mix-minus-error-quark, kt_mix_minus_error)
/* clang-format on */

/* A chain that fails sooner than this after it was built failed "quickly";
 * after KT_MIX_MINUS_MAX_QUICK_FAILURES in a row the input is given up. */
#define KT_MIX_MINUS_QUICK_FAILURE_US (G_USEC_PER_SEC)
#define KT_MIX_MINUS_MAX_QUICK_FAILURES 3

/* The configuration's numbers: default, range. */
typedef struct {
	const char *name;
	gsize offset;
	guint fallback, min, max;
} KtMixMinusSetting;

static const KtMixMinusSetting kt_mix_minus_settings[] = {
    {"kbps", G_STRUCT_OFFSET(KtMixMinusConfig, kbps), 32, 8, 256},
    {"jitter_ms", G_STRUCT_OFFSET(KtMixMinusConfig, jitter_ms), 80, 20, 500},
};

static gboolean config_apply(KtMixMinusConfig *c, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(kt_mix_minus_settings); i++) {
		const KtMixMinusSetting *s = &kt_mix_minus_settings[i];
		guint *v = G_STRUCT_MEMBER_P(c, s->offset);

		if (*v == 0)
			*v = s->fallback;
		if (*v < s->min || *v > s->max) {
			g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_INVALID,
			            "mix-minus: %s %u is not %u..%u", s->name, *v, s->min, s->max);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean on_wake(gpointer data);

/* mm->lock held. */
static void schedule_wake(KtMixMinus *mm)
{
	if (mm->wake || mm->failed)
		return;
	mm->wake = g_idle_source_new();
	g_source_set_callback(mm->wake, on_wake, mm, NULL);
	g_source_attach(mm->wake, mm->control);
}

/* ---- the packet path (any thread) ---- */

void kt_mix_minus_push(KtMixMinus *mm, guint input, const guint8 *rtp, gsize len, KtCodec codec)
{
	gboolean valid = codec == KT_CODEC_OPUS && rtp;
	KtMixMinusInput *in;
	KtRtpHeader h;

	valid = valid && kt_rtp_parse(rtp, len, &h) >= 0 && h.payload_len > 0;
	g_mutex_lock(&mm->lock);
	in = g_hash_table_lookup(mm->inputs, GUINT_TO_POINTER(input));
	if (!in) {
		mm->stats.unknown++;
		goto out;
	}
	if (!valid) {
		mm->stats.rejected++;
		goto out;
	}
	if (mm->failed || in->given_up) {
		mm->stats.dropped++;
		goto out;
	}
	if (!in->inlet.appsrc && g_queue_is_empty(&in->inlet.pending))
		in->pt = h.payload_type; /* the chain to build takes the first one's */
	switch (kt_rtp_inlet_push(&in->inlet, rtp, len, &h, codec,
	                          kt_gst_lesson_time(mm->config.epoch_us))) {
	case KT_RTP_INLET_DROPPED:
	case KT_RTP_INLET_AWAIT_KEYFRAME: /* video only: never here */
		mm->stats.dropped++;
		break;
	case KT_RTP_INLET_HELD:
		mm->stats.packets++;
		if (!in->want_chain) {
			in->want_chain = TRUE;
			schedule_wake(mm);
		}
		break;
	case KT_RTP_INLET_PUSHED:
		mm->stats.packets++;
		break;
	}
out:
	g_mutex_unlock(&mm->lock);
}

/* ---- the control loop ---- */

/* Builds the input's chain and feeds it what was held meanwhile. */
static void build_chain(KtMixMinus *mm, KtMixMinusInput *in)
{
	g_autoptr(GError) error = NULL;
	guint8 pt;

	g_mutex_lock(&mm->lock);
	pt = in->pt;
	g_mutex_unlock(&mm->lock);
	if (!kt_mix_minus_input_build(in, pt, &error)) {
		g_warning("%s; input %u is dropped", error->message, in->id);
		g_mutex_lock(&mm->lock);
		in->given_up = TRUE;
		kt_rtp_inlet_detach(&in->inlet);
		g_mutex_unlock(&mm->lock);
		return;
	}
	g_mutex_lock(&mm->lock);
	if (!mm->failed)
		kt_rtp_inlet_attach(&in->inlet, GST_APP_SRC(in->src));
	g_mutex_unlock(&mm->lock);
}

static gboolean on_wake(gpointer data)
{
	KtMixMinus *mm = data;
	g_autoptr(GArray) build = g_array_new(FALSE, FALSE, sizeof(guint));
	GHashTableIter iter;
	gpointer value;

	g_mutex_lock(&mm->lock);
	g_clear_pointer(&mm->wake, g_source_unref);
	g_hash_table_iter_init(&iter, mm->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtMixMinusInput *in = value;

		if (in->want_chain && !in->inlet.appsrc && !g_queue_is_empty(&in->inlet.pending))
			g_array_append_val(build, in->id);
		in->want_chain = FALSE;
	}
	g_mutex_unlock(&mm->lock);
	for (guint i = 0; i < build->len; i++) {
		KtMixMinusInput *in = g_hash_table_lookup(
		    mm->inputs, GUINT_TO_POINTER(g_array_index(build, guint, i)));

		if (in && mm->pipeline)
			build_chain(mm, in);
	}
	return G_SOURCE_REMOVE;
}

/* An input's chain failed (not the mix): it is removed and built again from
 * its next packets, unless it keeps failing. */
static void restart_input(KtMixMinus *mm, KtMixMinusInput *in)
{
	gboolean quick = g_get_monotonic_time() - in->built_us < KT_MIX_MINUS_QUICK_FAILURE_US;

	in->quick_failures = quick ? in->quick_failures + 1 : 0;
	kt_mix_minus_input_drop(in);
	g_mutex_lock(&mm->lock);
	kt_rtp_inlet_reset(&in->inlet);
	mm->stats.restarts++;
	if (in->quick_failures >= KT_MIX_MINUS_MAX_QUICK_FAILURES)
		in->given_up = TRUE;
	g_mutex_unlock(&mm->lock);
}

static KtMixMinusInput *input_of(KtMixMinus *mm, GstObject *object)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, mm->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (kt_mix_minus_chain_owns(&((KtMixMinusInput *)value)->chain, object))
			return value;
	return NULL;
}

/* The mix failed: stop taking packets, drop the pipeline, tell the owner. */
static void fail(KtMixMinus *mm, GstMessage *msg)
{
	g_autoptr(GError) gst_error = NULL;
	g_autofree char *debug = NULL;
	GHashTableIter iter;
	gpointer value;

	gst_message_parse_error(msg, &gst_error, &debug);
	mm->failure =
	    g_error_new(KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE, "mix-minus: %s (%s)",
	                gst_error->message, GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)));
	g_mutex_lock(&mm->lock);
	mm->failed = TRUE;
	g_hash_table_iter_init(&iter, mm->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		kt_rtp_inlet_detach(&((KtMixMinusInput *)value)->inlet);
	if (mm->wake) {
		g_source_destroy(mm->wake);
		g_clear_pointer(&mm->wake, g_source_unref);
	}
	g_mutex_unlock(&mm->lock);
	kt_mix_minus_pipeline_remove(mm);
	if (mm->config.on_error)
		mm->config.on_error(mm, mm->failure, mm->config.user_data);
	else
		g_warning("%s", mm->failure->message);
}

/* Errors inside an input's chain restart that input; any other fails the mix. */
static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtMixMinus *mm = data;
	KtMixMinusInput *in;

	(void)bus;
	if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
		return G_SOURCE_CONTINUE;
	if (!gst_object_has_as_ancestor(GST_MESSAGE_SRC(msg), GST_OBJECT(mm->pipeline)))
		return G_SOURCE_CONTINUE; /* from a chain already removed */
	in = input_of(mm, GST_MESSAGE_SRC(msg));
	if (in) {
		restart_input(mm, in);
		return G_SOURCE_CONTINUE;
	}
	fail(mm, msg); /* destroys this watch, which GLib allows */
	return G_SOURCE_REMOVE;
}

KtMixMinus *kt_mix_minus_new(KtRoom *room, const KtMixMinusConfig *config, GError **error)
{
	KtMixMinusConfig c = {0};
	KtMixMinus *mm;

	if (config)
		c = *config;
	if (!room) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_INVALID,
		            "mix-minus: no room");
		return NULL;
	}
	if (!config_apply(&c, error))
		return NULL;
	kt_gst_init();
	mm = g_new0(KtMixMinus, 1);
	mm->room = kt_room_ref(room);
	mm->config = c;
	if (mm->config.epoch_us == 0)
		mm->config.epoch_us = g_get_monotonic_time();
	mm->control = g_main_context_ref_thread_default();
	g_mutex_init(&mm->lock);
	mm->inputs = g_hash_table_new(NULL, NULL);
	mm->outputs = g_hash_table_new(NULL, NULL);
	if (!kt_mix_minus_pipeline_start(mm, on_bus_message, error)) {
		kt_mix_minus_free(mm);
		return NULL;
	}
	return mm;
}

guint kt_mix_minus_add_input(KtMixMinus *mm, const char *owner, guint clock_rate, GError **error)
{
	KtMixMinusInput *in;

	if (clock_rate == 0) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_INVALID,
		            "mix-minus: an input needs a clock rate");
		return 0;
	}
	in = g_new0(KtMixMinusInput, 1);
	in->mm = mm;
	in->id = ++mm->last_input;
	in->owner = g_strdup(owner);
	in->clock_rate = clock_rate;
	in->audible = TRUE;
	kt_rtp_inlet_init(&in->inlet, KT_MIX_MINUS_MAX_QUEUED_BYTES,
	                  KT_MIX_MINUS_MAX_PENDING_BYTES);
	g_mutex_lock(&mm->lock);
	g_hash_table_insert(mm->inputs, GUINT_TO_POINTER(in->id), in);
	mm->stats.inputs++;
	g_mutex_unlock(&mm->lock);
	return in->id;
}

gboolean kt_mix_minus_set_input_audible(KtMixMinus *mm, guint input, gboolean audible)
{
	KtMixMinusInput *in = g_hash_table_lookup(mm->inputs, GUINT_TO_POINTER(input));

	if (!in)
		return FALSE;
	in->audible = audible;
	kt_mix_minus_input_apply_audible(in);
	return TRUE;
}

static void input_free(KtMixMinusInput *in)
{
	kt_rtp_inlet_detach(&in->inlet);
	g_free(in->owner);
	g_free(in);
}

void kt_mix_minus_remove_input(KtMixMinus *mm, guint input)
{
	KtMixMinusInput *in = g_hash_table_lookup(mm->inputs, GUINT_TO_POINTER(input));

	if (!in)
		return;
	/* Unlinked while still in the table: the outputs' links name it. */
	kt_mix_minus_input_drop(in);
	g_mutex_lock(&mm->lock);
	g_hash_table_remove(mm->inputs, GUINT_TO_POINTER(input));
	mm->stats.inputs--;
	kt_rtp_inlet_detach(&in->inlet);
	g_mutex_unlock(&mm->lock);
	input_free(in);
}

static void output_free(KtMixMinus *mm, KtMixMinusOutput *out)
{
	KtRtpOutStats st;

	kt_mix_minus_output_drop(out);
	kt_rtp_out_get_stats(out->out, &st);
	mm->gone_out_packets += st.packets;
	mm->gone_out_dropped += st.dropped;
	kt_rtp_out_free(out->out);
	g_hash_table_unref(out->links);
	g_free(out->owner);
	g_free(out);
}

guint kt_mix_minus_add_output(KtMixMinus *mm, const char *owner, guint source, GError **error)
{
	KtRtpOutConfig oc = {
	    .source = source, .kind = KT_MEDIA_AUDIO, .codec = KT_CODEC_OPUS, .clock_rate = 48000};
	KtMixMinusOutput *out;

	if (source == 0 || !mm->pipeline) {
		g_set_error(error, KT_MIX_MINUS_ERROR,
		            source == 0 ? KT_MIX_MINUS_ERROR_INVALID : KT_MIX_MINUS_ERROR_PIPELINE,
		            source == 0 ? "mix-minus: an output needs a room source"
		                        : "mix-minus: the mix has failed");
		return 0;
	}
	out = g_new0(KtMixMinusOutput, 1);
	out->mm = mm;
	out->id = ++mm->last_output;
	out->owner = g_strdup(owner);
	out->source = source;
	out->links = kt_mix_minus_links_new();
	out->out = kt_rtp_out_new(mm->room, &oc);
	g_hash_table_insert(mm->outputs, GUINT_TO_POINTER(out->id), out);
	if (!kt_mix_minus_output_build(out, error)) {
		g_hash_table_remove(mm->outputs, GUINT_TO_POINTER(out->id));
		output_free(mm, out);
		return 0;
	}
	mm->stats.outputs++;
	return out->id;
}

void kt_mix_minus_remove_output(KtMixMinus *mm, guint output)
{
	KtMixMinusOutput *out = g_hash_table_lookup(mm->outputs, GUINT_TO_POINTER(output));

	if (!out)
		return;
	g_hash_table_remove(mm->outputs, GUINT_TO_POINTER(output));
	mm->stats.outputs--;
	output_free(mm, out);
}

void kt_mix_minus_get_stats(KtMixMinus *mm, KtMixMinusStats *out)
{
	GHashTableIter iter;
	gpointer value;

	g_mutex_lock(&mm->lock);
	*out = mm->stats;
	g_mutex_unlock(&mm->lock);
	out->out_packets = mm->gone_out_packets;
	out->out_dropped = mm->gone_out_dropped;
	g_hash_table_iter_init(&iter, mm->outputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtRtpOutStats st;

		kt_rtp_out_get_stats(((KtMixMinusOutput *)value)->out, &st);
		out->out_packets += st.packets;
		out->out_dropped += st.dropped;
	}
}

void kt_mix_minus_free(KtMixMinus *mm)
{
	GHashTableIter iter;
	gpointer value;

	if (!mm)
		return;
	g_mutex_lock(&mm->lock);
	mm->failed = TRUE; /* takes no more packets */
	if (mm->wake) {
		g_source_destroy(mm->wake);
		g_clear_pointer(&mm->wake, g_source_unref);
	}
	g_mutex_unlock(&mm->lock);
	kt_mix_minus_pipeline_remove(mm);
	g_hash_table_iter_init(&iter, mm->outputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		output_free(mm, value);
		g_hash_table_iter_remove(&iter);
	}
	g_hash_table_iter_init(&iter, mm->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		input_free(value);
		g_hash_table_iter_remove(&iter);
	}
	g_hash_table_unref(mm->outputs);
	g_hash_table_unref(mm->inputs);
	g_clear_error(&mm->failure);
	g_main_context_unref(mm->control);
	g_mutex_clear(&mm->lock);
	kt_room_unref(mm->room);
	g_free(mm);
}
