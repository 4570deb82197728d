/* One input of the program: its decoding chain, a bin built on the control
 * loop when packets of a codec arrive, linked to a request pad of the
 * compositor or the audiomixer, torn down when the input leaves, its codec
 * changes or it fails:
 *
 *   appsrc -> rtpjitterbuffer latency=200 do-lost -> depayloader -> decoder
 *     video -> videoscale -> videoconvert -> capsfilter "size" -> compositor
 *     audio -> audioconvert -> audioresample ----------------> audiomixer
 *
 * Video is scaled down to its place here, in the chain's own streaming
 * thread and once per input frame (the compositor would do it once per
 * output frame, in its thread); see recorder/README.md.
 */
#include "kt-program-private.h"

/* How each codec is depayloaded and decoded. Decoders never give up on bad
 * data (max-errors=-1): a publisher's garbage must not end the recording.
 * After loss the depayloaders wait for a keyframe and ask for one
 * (GstForceKeyUnit upstream, caught at the appsrc). One decoding thread
 * each: every input already decodes in its own thread, and a decoder's
 * helper threads cost more in wake-ups than they save at these sizes. */
typedef struct {
	const char *decode; /* depayloader ! decoder, for gst_parse_bin_from_description */
} KtProgramDecoder;

static const KtProgramDecoder kt_program_decoders[KT_CODEC_N] = {
    [KT_CODEC_OPUS] = {"rtpopusdepay ! opusdec plc=true max-errors=-1"},
    [KT_CODEC_VP8] = {"rtpvp8depay wait-for-keyframe=true request-keyframe=true"
                      " ! vp8dec threads=1 max-errors=-1 automatic-request-sync-points=true"},
    [KT_CODEC_H264] = {"rtph264depay wait-for-keyframe=true request-keyframe=true"
                       " ! avdec_h264 max-threads=1 max-errors=-1"
                       " automatic-request-sync-points=true"},
};

/* What follows the decoder, by media kind. */
static const char *const kt_program_chain_tails[KT_MEDIA_N_KINDS] = {
    [KT_MEDIA_AUDIO] = "audioconvert ! audioresample",
    [KT_MEDIA_VIDEO] = "videoscale ! videoconvert ! capsfilter name=size",
};

KtProgramInput *kt_program_input_new(KtProgramRecorder *r, guint id, KtProgramSlot slot,
                                     guint clock_rate)
{
	KtProgramInput *in = g_new0(KtProgramInput, 1);

	in->recorder = r;
	in->id = id;
	in->slot = slot;
	in->kind = slot == KT_PROGRAM_SLOT_AUDIO ? KT_MEDIA_AUDIO : KT_MEDIA_VIDEO;
	in->clock_rate = clock_rate;
	in->shown = in->kind == KT_MEDIA_AUDIO; /* video: once the layout shows it */
	kt_rtp_inlet_init(&in->inlet, KT_PROGRAM_MAX_QUEUED_BYTES, KT_PROGRAM_MAX_PENDING_BYTES);
	return in;
}

void kt_program_input_free(gpointer input)
{
	KtProgramInput *in = input;

	kt_rtp_inlet_detach(&in->inlet);
	g_free(in);
}

/* Streaming thread: a depayloader or decoder lost data and asks upstream for
 * a keyframe; only the publisher can make one. */
static void on_keyframe_request(gpointer data)
{
	KtProgramInput *in = data;
	KtProgramRecorder *r = in->recorder;

	g_mutex_lock(&r->lock);
	if (!in->want_keyframe) {
		in->want_keyframe = TRUE;
		kt_program_schedule_wake(r);
	}
	g_mutex_unlock(&r->lock);
}

/* Control loop. Adds the parsed chain to the pipeline and links it to a new
 * pad of the mixer of its kind. */
static gboolean link_chain(KtProgramInput *in, GError **error)
{
	KtProgramRecorder *r = in->recorder;
	GstElement *mixer = in->kind == KT_MEDIA_VIDEO ? r->compositor : r->audiomixer;
	g_autoptr(GstPad) ghost = gst_element_get_static_pad(in->chain, "src");

	gst_bin_add(GST_BIN(r->pipeline), in->chain);
	in->mixer_pad = gst_element_request_pad_simple(mixer, "sink_%u");
	if (!in->mixer_pad || gst_pad_link(ghost, in->mixer_pad) != GST_PAD_LINK_OK) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "input %u: cannot link to the mixer", in->id);
		return FALSE;
	}
	if (in->kind == KT_MEDIA_VIDEO) {
		/* Letterbox, never stretch. */
		gst_util_set_object_arg(G_OBJECT(in->mixer_pad), "sizing-policy",
		                        "keep-aspect-ratio");
		kt_program_layout_apply(r);
	}
	if (!gst_element_sync_state_with_parent(in->chain)) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "input %u: the decoding chain did not start", in->id);
		return FALSE;
	}
	return TRUE;
}

gboolean kt_program_input_build_chain(KtProgramInput *in, KtCodec codec, guint8 pt, GError **error)
{
	const KtProgramDecoder *d = &kt_program_decoders[codec];
	g_autofree char *desc = NULL;
	GError *parse_error = NULL;
	GstElement *chain;

	kt_program_input_drop_chain(in);
	if (!in->recorder->pipeline || !d->decode) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "input %u: cannot decode %s", in->id, kt_media_codec_name(codec));
		return FALSE;
	}
	/* 200 ms absorbs reordering and leaves time for the retransmissions the
	 * room has already asked for; lost packets become gaps (do-lost), which
	 * Opus conceals (plc). It never holds more than that (drop-on-latency),
	 * so a stalled pipeline cannot make it grow. */
	desc = g_strdup_printf("appsrc name=src"
	                       " ! rtpjitterbuffer latency=%u do-lost=true drop-on-latency=true"
	                       " ! %s ! %s",
	                       KT_PROGRAM_JITTER_MS, d->decode, kt_program_chain_tails[in->kind]);
	chain = gst_parse_bin_from_description(desc, TRUE, &parse_error);
	if (!chain || parse_error) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "input %u: %s", in->id,
		            parse_error ? parse_error->message : "no decoding chain");
		g_clear_error(&parse_error);
		if (chain)
			gst_object_unref(gst_object_ref_sink(chain));
		return FALSE;
	}
	in->chain = gst_object_ref_sink(chain);
	in->chain_codec = codec;
	in->chain_src = gst_bin_get_by_name(GST_BIN(chain), "src");
	in->chain_size = gst_bin_get_by_name(GST_BIN(chain), "size");
	kt_rtp_inlet_configure_src(in->chain_src, in->kind, codec, pt, in->clock_rate,
	                           KT_PROGRAM_MAX_QUEUED_BYTES, on_keyframe_request, in);
	if (!link_chain(in, error)) {
		kt_program_input_drop_chain(in);
		return FALSE;
	}
	return TRUE;
}

/* Streaming thread of a chain being removed: nothing more of it reaches the
 * mixer, and its elements see success rather than "not linked" (which an
 * appsrc would report as an error). */
static GstPadProbeReturn drop_all(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	return GST_PAD_PROBE_DROP;
}

void kt_program_input_drop_chain(KtProgramInput *in)
{
	KtProgramRecorder *r = in->recorder;
	g_autoptr(GstPad) ghost = NULL;

	if (!in->chain)
		return;
	g_mutex_lock(&r->lock);
	kt_rtp_inlet_forget_src(&in->inlet, in->chain_src);
	g_mutex_unlock(&r->lock);
	ghost = gst_element_get_static_pad(in->chain, "src");
	gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_all, NULL, NULL);
	if (in->mixer_pad) {
		/* Releasing flushes the pad, which wakes a chain waiting on it. */
		g_autoptr(GstElement) mixer = gst_pad_get_parent_element(in->mixer_pad);

		if (mixer)
			gst_element_release_request_pad(mixer, in->mixer_pad);
		gst_clear_object(&in->mixer_pad);
	}
	gst_element_set_state(in->chain, GST_STATE_NULL);
	if (GST_OBJECT_PARENT(in->chain))
		gst_bin_remove(GST_BIN(r->pipeline), in->chain);
	gst_clear_object(&in->chain_src);
	gst_clear_object(&in->chain_size);
	gst_clear_object(&in->chain);
	in->chain_codec = KT_CODEC_NONE;
}

gboolean kt_program_input_owns(KtProgramInput *in, GstObject *object)
{
	return in->chain && (object == GST_OBJECT(in->chain) ||
	                     gst_object_has_as_ancestor(object, GST_OBJECT(in->chain)));
}

void kt_program_input_end(KtProgramInput *in)
{
	if (in->chain_src)
		gst_app_src_end_of_stream(GST_APP_SRC(in->chain_src));
}
