/* The mix-minus pipeline's elements, all in one flat pipeline:
 *
 *   input:  appsrc -> rtpjitterbuffer -> rtpopusdepay -> opusdec plc -> audioconvert
 *             -> audioresample -> 48 kHz mono S16 -> tee (one pad per output hearing it)
 *   output: audiotestsrc live silence -> audiomixer (a pad per input heard) -> opusenc
 *             -> rtpopuspay -> KtRtpOut's sink
 *
 * A link is a tee request pad linked straight to an audiomixer request pad.
 * It is taken apart tee pad first: the tee marks a released pad removed, so
 * a buffer still inside the mixer pad, flushed out by releasing that pad
 * next, comes back as "not linked" (which the tee ignores) instead of
 * "flushing", which would stop the input for every other output.
 */
#include <string.h>

#include "kt-mix-minus-private.h"

#include "kt-gst.h"

/* Raw audio between chains: mono, speech-first (see pipelines/README.md). */
#define KT_MIX_MINUS_RAW "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"
/* Opus payload type of the outputs; the room rewrites it per subscriber. */
#define KT_MIX_MINUS_PT 111
/* The mixers produce time T at T + the inputs' jitter buffer + this: an input's
 * packet is decoded and at the mixer by then. Fixed, since inputs join after
 * the latency was queried. */
#define KT_MIX_MINUS_MIXER_MARGIN_MS 30
#define KT_MIX_MINUS_MIXER_EXTRA_MS 20

/* "factory prop=value ..." -> a new element in @mm's pipeline, linked after
 * the chain's last one and appended to it. */
static GstElement *chain_add(KtMixMinus *mm, KtMixMinusChain *chain, const char *desc,
                             GError **error)
{
	g_auto(GStrv) words = g_strsplit(desc, " ", -1);
	GstElement *e = gst_element_factory_make(words[0], NULL);

	if (!e || chain->n == KT_MIX_MINUS_CHAIN_MAX) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: no element %s", words[0]);
		if (e)
			gst_object_unref(gst_object_ref_sink(e));
		return NULL;
	}
	for (guint i = 1; words[i]; i++) {
		char *eq = strchr(words[i], '=');

		if (eq) {
			*eq = '\0';
			gst_util_set_object_arg(G_OBJECT(e), words[i], eq + 1);
		}
	}
	gst_bin_add(GST_BIN(mm->pipeline), e);
	chain->e[chain->n++] = e;
	if (chain->n > 1 && !gst_element_link(chain->e[chain->n - 2], e)) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: cannot link %s", words[0]);
		return NULL;
	}
	return e;
}

/* Downstream first, so nothing pushes into an element not yet running. */
static gboolean chain_start(KtMixMinusChain *chain)
{
	for (guint i = chain->n; i > 0; i--)
		if (!gst_element_sync_state_with_parent(chain->e[i - 1]))
			return FALSE;
	return TRUE;
}

static void chain_remove(KtMixMinus *mm, KtMixMinusChain *chain)
{
	for (guint i = 0; i < chain->n; i++) {
		gst_element_set_locked_state(chain->e[i], TRUE);
		gst_element_set_state(chain->e[i], GST_STATE_NULL);
	}
	for (guint i = 0; i < chain->n; i++)
		gst_bin_remove(GST_BIN(mm->pipeline), chain->e[i]);
	chain->n = 0;
}

gboolean kt_mix_minus_chain_owns(const KtMixMinusChain *chain, GstObject *object)
{
	for (guint i = 0; i < chain->n; i++)
		if (object == GST_OBJECT(chain->e[i]) ||
		    gst_object_has_as_ancestor(object, GST_OBJECT(chain->e[i])))
			return TRUE;
	return FALSE;
}

/* ---- links ---- */

static gboolean hears(const KtMixMinusOutput *out, const KtMixMinusInput *in)
{
	return !(out->owner && in->owner && strcmp(out->owner, in->owner) == 0);
}

static void link_free(gpointer data)
{
	KtMixMinusLink *l = data;

	gst_clear_object(&l->tee_pad);
	gst_clear_object(&l->mixer_pad);
	g_free(l);
}

GHashTable *kt_mix_minus_links_new(void)
{
	return g_hash_table_new_full(NULL, NULL, NULL, link_free);
}

/* Takes the link apart (see the top of this file for the order). */
static void link_release(KtMixMinusInput *in, KtMixMinusLink *l)
{
	if (l->tee_pad && in->tee)
		gst_element_release_request_pad(in->tee, l->tee_pad);
	if (l->mixer_pad) {
		g_autoptr(GstElement) mixer = gst_pad_get_parent_element(l->mixer_pad);

		if (mixer)
			gst_element_release_request_pad(mixer, l->mixer_pad);
	}
}

static void unlink_pair(KtMixMinusInput *in, KtMixMinusOutput *out)
{
	KtMixMinusLink *l = g_hash_table_lookup(out->links, GUINT_TO_POINTER(in->id));

	if (!l)
		return;
	link_release(in, l);
	g_hash_table_remove(out->links, GUINT_TO_POINTER(in->id));
	in->mm->stats.links--;
}

static gboolean link_pair(KtMixMinusInput *in, KtMixMinusOutput *out, GError **error)
{
	KtMixMinusLink *l = g_new0(KtMixMinusLink, 1);

	g_hash_table_insert(out->links, GUINT_TO_POINTER(in->id), l);
	in->mm->stats.links++;
	l->mixer_pad = gst_element_request_pad_simple(out->mixer, "sink_%u");
	l->tee_pad = gst_element_request_pad_simple(in->tee, "src_%u");
	if (!l->mixer_pad || !l->tee_pad) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: input %u cannot reach output %u", in->id, out->id);
		return FALSE;
	}
	g_object_set(l->mixer_pad, "mute", !in->audible, NULL);
	if (gst_pad_link(l->tee_pad, l->mixer_pad) != GST_PAD_LINK_OK) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: input %u cannot link to output %u", in->id, out->id);
		return FALSE;
	}
	return TRUE;
}

/* ---- inputs ---- */

gboolean kt_mix_minus_input_build(KtMixMinusInput *in, guint8 pt, GError **error)
{
	KtMixMinus *mm = in->mm;
	g_autofree char *jitter = g_strdup_printf(
	    "rtpjitterbuffer latency=%u do-lost=true drop-on-latency=true", mm->config.jitter_ms);
	/* Lost packets become gaps (do-lost) that opusdec conceals (plc) or
	 * rebuilds from the next packet's in-band FEC; a publisher's garbage
	 * never stops it (max-errors=-1). The tee may have no pad at all. */
	const char *const descs[] = {
	    "appsrc",
	    jitter,
	    "rtpopusdepay",
	    "opusdec plc=true use-inband-fec=true max-errors=-1",
	    "audioconvert",
	    "audioresample",
	    "capsfilter caps=" KT_MIX_MINUS_RAW,
	    "tee allow-not-linked=true",
	};
	GHashTableIter iter;
	gpointer value;

	kt_mix_minus_input_drop(in);
	if (!mm->pipeline) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: input %u: no pipeline", in->id);
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(descs); i++)
		if (!chain_add(mm, &in->chain, descs[i], error))
			goto fail;
	in->src = in->chain.e[0];
	in->tee = in->chain.e[in->chain.n - 1];
	kt_rtp_inlet_configure_src(in->src, KT_MEDIA_AUDIO, KT_CODEC_OPUS, pt, in->clock_rate,
	                           KT_MIX_MINUS_MAX_QUEUED_BYTES, NULL, NULL);
	g_hash_table_iter_init(&iter, mm->outputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (hears(value, in) && !link_pair(in, value, error))
			goto fail;
	if (!chain_start(&in->chain)) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: input %u: the chain did not start", in->id);
		goto fail;
	}
	in->built_us = g_get_monotonic_time();
	mm->stats.chains++;
	return TRUE;
fail:
	kt_mix_minus_input_drop(in);
	return FALSE;
}

void kt_mix_minus_input_drop(KtMixMinusInput *in)
{
	KtMixMinus *mm = in->mm;
	GHashTableIter iter;
	gpointer value;

	if (in->chain.n == 0)
		return;
	g_mutex_lock(&mm->lock);
	if (in->src)
		kt_rtp_inlet_forget_src(&in->inlet, in->src);
	g_mutex_unlock(&mm->lock);
	g_hash_table_iter_init(&iter, mm->outputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		unlink_pair(in, value);
	chain_remove(mm, &in->chain);
	in->src = in->tee = NULL;
}

void kt_mix_minus_input_apply_audible(KtMixMinusInput *in)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, in->mm->outputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtMixMinusOutput *out = value;
		KtMixMinusLink *l = g_hash_table_lookup(out->links, GUINT_TO_POINTER(in->id));

		if (l && l->mixer_pad)
			g_object_set(l->mixer_pad, "mute", !in->audible, NULL);
	}
}

GstElement *kt_mix_minus_get_input_element(KtMixMinus *mm, guint input)
{
	KtMixMinusInput *in = g_hash_table_lookup(mm->inputs, GUINT_TO_POINTER(input));

	return in && in->chain.n > 3 ? gst_object_ref(in->chain.e[3]) : NULL;
}

/* ---- outputs ---- */

gboolean kt_mix_minus_output_build(KtMixMinusOutput *out, GError **error)
{
	KtMixMinus *mm = out->mm;
	guint64 upstream = (mm->config.jitter_ms + KT_MIX_MINUS_MIXER_MARGIN_MS) * GST_MSECOND;
	/* Mixers start at their first buffer, their own silence's (start-time-
	 * selection=first), which is stamped with the running time on the
	 * lesson clock like the inputs' packets. 20 ms buffers: one Opus frame.
	 * opusenc: see pipelines/README.md for the choices. */
	g_autofree char *mixer = g_strdup_printf(
	    "audiomixer start-time-selection=first output-buffer-duration=20000000"
	    " min-upstream-latency=%" G_GUINT64_FORMAT " latency=%" G_GUINT64_FORMAT,
	    upstream, (guint64)KT_MIX_MINUS_MIXER_EXTRA_MS * GST_MSECOND);
	g_autofree char *enc = g_strdup_printf(
	    "opusenc bitrate=%u bitrate-type=constrained-vbr frame-size=20"
	    " audio-type=voice inband-fec=true packet-loss-percentage=10 dtx=false complexity=5",
	    mm->config.kbps * 1000);
	g_autofree char *pay = g_strdup_printf("rtpopuspay pt=%u", KT_MIX_MINUS_PT);
	const char *const descs[] = {
	    "audiotestsrc is-live=true wave=silence samplesperbuffer=960",
	    "capsfilter caps=" KT_MIX_MINUS_RAW,
	    mixer,
	    "capsfilter caps=" KT_MIX_MINUS_RAW,
	    enc,
	    pay,
	};
	GstElement *sink = kt_rtp_out_get_sink(out->out);
	GHashTableIter iter;
	gpointer value;

	for (guint i = 0; i < G_N_ELEMENTS(descs); i++)
		if (!chain_add(mm, &out->chain, descs[i], error))
			goto fail;
	out->mixer = out->chain.e[2];
	gst_bin_add(GST_BIN(mm->pipeline), sink); /* a reference of its own: KtRtpOut keeps one */
	out->chain.e[out->chain.n++] = sink;
	if (!gst_element_link(out->chain.e[out->chain.n - 2], sink) || !chain_start(&out->chain)) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: output %u did not start", out->id);
		goto fail;
	}
	/* Running: inputs join like they join a running output later. */
	g_hash_table_iter_init(&iter, mm->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtMixMinusInput *in = value;

		if (in->chain.n > 0 && hears(out, in) && !link_pair(in, out, error))
			goto fail;
	}
	return TRUE;
fail:
	kt_mix_minus_output_drop(out);
	return FALSE;
}

void kt_mix_minus_output_drop(KtMixMinusOutput *out)
{
	KtMixMinus *mm = out->mm;
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, out->links);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		KtMixMinusInput *in = g_hash_table_lookup(mm->inputs, key);

		if (in)
			link_release(in, value);
		g_hash_table_iter_remove(&iter);
		mm->stats.links--;
	}
	if (mm->pipeline)
		chain_remove(mm, &out->chain);
	out->chain.n = 0;
	out->mixer = NULL;
}

/* ---- the pipeline ---- */

gboolean kt_mix_minus_pipeline_start(KtMixMinus *mm, GstBusFunc on_message, GError **error)
{
	g_autoptr(GstBus) bus = NULL;

	mm->pipeline = gst_object_ref_sink(gst_pipeline_new("mix-minus"));
	kt_gst_use_lesson_clock(GST_PIPELINE(mm->pipeline), mm->config.epoch_us);
	bus = gst_element_get_bus(mm->pipeline);
	mm->bus_watch = gst_bus_create_watch(bus);
	g_source_set_callback(mm->bus_watch, G_SOURCE_FUNC(on_message), mm, NULL);
	g_source_attach(mm->bus_watch, mm->control);
	/* Empty, it reaches PLAYING at once; chains join it running. */
	if (gst_element_set_state(mm->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_set_error(error, KT_MIX_MINUS_ERROR, KT_MIX_MINUS_ERROR_PIPELINE,
		            "mix-minus: the pipeline did not start");
		kt_mix_minus_pipeline_remove(mm);
		return FALSE;
	}
	return TRUE;
}

void kt_mix_minus_pipeline_remove(KtMixMinus *mm)
{
	GHashTableIter iter;
	gpointer value;

	if (mm->bus_watch) {
		g_source_destroy(mm->bus_watch);
		g_clear_pointer(&mm->bus_watch, g_source_unref);
	}
	if (!mm->pipeline)
		return;
	gst_element_set_state(mm->pipeline, GST_STATE_NULL);
	g_hash_table_iter_init(&iter, mm->outputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		kt_mix_minus_output_drop(value);
	g_hash_table_iter_init(&iter, mm->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		kt_mix_minus_input_drop(value);
	gst_clear_object(&mm->pipeline);
}
