/* One input of the program: its packets and decoding chain
 * (pipelines/kt-decode-chain.h), linked to a request pad of the compositor
 * or the audiomixer:
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

/* What follows the decoder, by media kind. */
static const char *const kt_program_chain_tails[KT_MEDIA_N_KINDS] = {
    [KT_MEDIA_AUDIO] = "audioconvert ! audioresample",
    [KT_MEDIA_VIDEO] = "videoscale ! videoconvert ! capsfilter name=size",
};

/* Streaming thread: a depayloader or decoder wants a keyframe. */
static void on_keyframe_wanted(gpointer input)
{
	KtProgramInput *in = input;

	g_mutex_lock(&in->recorder->lock);
	kt_program_schedule_wake(in->recorder);
	g_mutex_unlock(&in->recorder->lock);
}

/* Control loop: a video chain is linked; the layout gives it its place
 * before it starts. */
static void on_linked(gpointer input)
{
	KtProgramInput *in = input;

	if (in->kind == KT_MEDIA_VIDEO)
		kt_program_layout_apply(in->recorder);
}

void kt_program_input_specs_init(KtProgramRecorder *r)
{
	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++)
		r->chain_specs[kind] = (KtDecodeChainSpec){
		    .kind = kind,
		    .jitter_ms = KT_PROGRAM_JITTER_MS,
		    .max_queued = KT_PROGRAM_MAX_QUEUED_BYTES,
		    .max_pending = KT_PROGRAM_MAX_PENDING_BYTES,
		    .tail = kt_program_chain_tails[kind],
		    .lock = &r->lock,
		    .on_keyframe_wanted = on_keyframe_wanted,
		    .on_linked = on_linked,
		};
}

KtProgramInput *kt_program_input_new(KtProgramRecorder *r, guint id, KtProgramSlot slot,
                                     guint clock_rate)
{
	KtProgramInput *in = g_new0(KtProgramInput, 1);

	in->recorder = r;
	in->id = id;
	in->slot = slot;
	in->kind = slot == KT_PROGRAM_SLOT_AUDIO ? KT_MEDIA_AUDIO : KT_MEDIA_VIDEO;
	in->shown = in->kind == KT_MEDIA_AUDIO; /* video: once the layout shows it */
	kt_decode_chain_init(&in->dec, &r->chain_specs[in->kind], clock_rate, in);
	return in;
}

void kt_program_input_free(gpointer input)
{
	KtProgramInput *in = input;

	kt_decode_chain_clear(&in->dec);
	g_free(in);
}
