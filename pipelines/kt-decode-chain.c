/* An input's decoding chain: what the program recorder and the classroom wall
 * share (kt-decode-chain.h). The owner decides where the picture goes and
 * what is drawn on it (its tail and on_linked); this file builds, links,
 * feeds, restarts and removes the chain.
 */
#include "kt-decode-chain.h"

#include <string.h>

#include <gst/app/gstappsrc.h>

/* clang-format off */
G_DEFINE_QUARK(kt-decode-chain-error-quark, kt_decode_chain_error)
/* clang-format on */

/* A chain that fails sooner than this after it was built failed "quickly". */
#define KT_DECODE_CHAIN_QUICK_FAILURE_US (G_USEC_PER_SEC)

/* How each codec is depayloaded and decoded. Decoders never give up on bad
 * data (max-errors=-1): a publisher's garbage must not end the owner's
 * stream. After loss the depayloaders wait for a keyframe and ask for one
 * (GstForceKeyUnit upstream, caught at the appsrc). One decoding thread
 * each: every input already decodes in its own thread, and a decoder's
 * helper threads cost more in wake-ups than they save at these sizes. */
static const char *const kt_decoders[KT_CODEC_N] = {
    [KT_CODEC_OPUS] = "rtpopusdepay ! opusdec plc=true max-errors=-1",
    [KT_CODEC_VP8] = "rtpvp8depay wait-for-keyframe=true request-keyframe=true"
                     " ! vp8dec threads=1 max-errors=-1 automatic-request-sync-points=true",
    [KT_CODEC_H264] = "rtph264depay wait-for-keyframe=true request-keyframe=true"
                      " ! avdec_h264 max-threads=1 max-errors=-1"
                      " automatic-request-sync-points=true",
};

void kt_decode_chain_init(KtDecodeChain *c, const KtDecodeChainSpec *spec, guint clock_rate,
                          gpointer input)
{
	memset(c, 0, sizeof(*c));
	c->spec = spec;
	c->input = input;
	c->clock_rate = clock_rate;
	kt_rtp_inlet_init(&c->inlet, spec->max_queued, spec->max_pending);
}

void kt_decode_chain_clear(KtDecodeChain *c)
{
	kt_rtp_inlet_detach(&c->inlet);
}

/* ---- the packet path (owner's lock held) ---- */

/* True when the request is new: the control loop must hear of it. */
static gboolean want_keyframe(KtDecodeChain *c)
{
	gboolean was = c->want_keyframe;

	c->want_keyframe = TRUE;
	return !was;
}

KtDecodeChainPush kt_decode_chain_push(KtDecodeChain *c, const guint8 *rtp, gsize len,
                                       const KtRtpHeader *h, KtCodec codec,
                                       GstClockTime lesson_time, gboolean *wake)
{
	if (codec == c->failed_codec)
		return KT_DECODE_CHAIN_DROPPED;
	if (codec != c->codec) {
		/* Another codec: its chain replaces this one, starting at its first
		 * keyframe. */
		c->codec = codec;
		c->pt = h->payload_type;
		c->want_keyframe = c->spec->kind == KT_MEDIA_VIDEO;
		kt_rtp_inlet_reset(&c->inlet);
		*wake = TRUE;
	}
	switch (kt_rtp_inlet_push(&c->inlet, rtp, len, h, codec, lesson_time)) {
	case KT_RTP_INLET_AWAIT_KEYFRAME:
		/* Video starts at a keyframe; until one comes, ask again (the
		 * owner keeps to one request per interval). */
		*wake |= want_keyframe(c);
		return KT_DECODE_CHAIN_SKIPPED;
	case KT_RTP_INLET_DROPPED:
		return KT_DECODE_CHAIN_DROPPED;
	case KT_RTP_INLET_HELD:
		c->want_chain = TRUE;
		*wake = TRUE;
		return KT_DECODE_CHAIN_ACCEPTED;
	case KT_RTP_INLET_PUSHED:
	default:
		return KT_DECODE_CHAIN_ACCEPTED;
	}
}

gboolean kt_decode_chain_take_build(KtDecodeChain *c)
{
	gboolean build =
	    c->want_chain && !c->closed && !c->inlet.appsrc && !g_queue_is_empty(&c->inlet.pending);

	c->want_chain = FALSE;
	return build;
}

gboolean kt_decode_chain_take_keyframe(KtDecodeChain *c, gint64 now, gint64 interval_us,
                                       gint64 *next)
{
	if (!c->want_keyframe || c->closed)
		return FALSE;
	if (now - c->keyframe_asked_us < interval_us) {
		*next = MIN(*next, c->keyframe_asked_us + interval_us);
		return FALSE;
	}
	c->want_keyframe = FALSE;
	c->keyframe_asked_us = now;
	return TRUE;
}

void kt_decode_chain_close(KtDecodeChain *c)
{
	c->closed = TRUE;
	kt_rtp_inlet_detach(&c->inlet);
}

/* ---- the chain (control loop) ---- */

/* Streaming thread: a depayloader or decoder lost data and asks upstream for
 * a keyframe; only the publisher can make one. */
static void on_keyframe_request(gpointer data)
{
	KtDecodeChain *c = data;
	gboolean wake;

	g_mutex_lock(c->spec->lock);
	wake = want_keyframe(c);
	g_mutex_unlock(c->spec->lock);
	if (wake && c->spec->on_keyframe_wanted)
		c->spec->on_keyframe_wanted(c->input);
}

/* The bin: appsrc, jitter buffer, decoder, the owner's tail. */
static GstElement *parse_chain(KtDecodeChain *c, KtCodec codec, GError **error)
{
	g_autofree char *desc = NULL;
	g_autoptr(GstPad) sink = NULL;
	GError *parse_error = NULL;
	GstElement *bin;

	if (codec <= KT_CODEC_NONE || codec >= KT_CODEC_N || !kt_decoders[codec]) {
		g_set_error(error, KT_DECODE_CHAIN_ERROR, KT_DECODE_CHAIN_ERROR_BUILD,
		            "cannot decode %s", kt_media_codec_name(codec));
		return NULL;
	}
	/* The jitter buffer absorbs reordering and leaves time for the
	 * retransmissions the room has already asked for; lost packets become
	 * gaps (do-lost), which Opus conceals (plc). It never holds more than
	 * that (drop-on-latency), so a stalled pipeline cannot make it grow. */
	desc = g_strdup_printf("appsrc name=src"
	                       " ! rtpjitterbuffer latency=%u do-lost=true drop-on-latency=true"
	                       " ! %s ! %s",
	                       c->spec->jitter_ms, kt_decoders[codec], c->spec->tail);
	bin = gst_parse_bin_from_description(desc, TRUE, &parse_error);
	if (!bin || parse_error) {
		g_set_error(error, KT_DECODE_CHAIN_ERROR, KT_DECODE_CHAIN_ERROR_BUILD, "%s",
		            parse_error ? parse_error->message : "no decoding chain");
		g_clear_error(&parse_error);
		if (bin)
			gst_object_unref(gst_object_ref_sink(bin));
		return NULL;
	}
	/* The chain starts at its appsrc. A sink pad the parser ghosted for an
	 * unlinked one inside (textoverlay's text pad) would count as linked,
	 * and textoverlay would wait for text forever. */
	sink = gst_element_get_static_pad(bin, "sink");
	if (sink)
		gst_element_remove_pad(bin, sink);
	return gst_object_ref_sink(bin);
}

/* Adds the bin to @pipeline, links it to a new pad of @mixer and starts it. */
static gboolean link_chain(KtDecodeChain *c, GstBin *pipeline, GstElement *mixer, GError **error)
{
	g_autoptr(GstPad) ghost = gst_element_get_static_pad(c->bin, "src");

	gst_bin_add(pipeline, c->bin);
	c->mixer_pad = gst_element_request_pad_simple(mixer, "sink_%u");
	if (!c->mixer_pad || gst_pad_link(ghost, c->mixer_pad) != GST_PAD_LINK_OK) {
		g_set_error(error, KT_DECODE_CHAIN_ERROR, KT_DECODE_CHAIN_ERROR_BUILD,
		            "cannot link to the mixer");
		return FALSE;
	}
	if (c->spec->kind == KT_MEDIA_VIDEO) /* letterbox, never stretch */
		gst_util_set_object_arg(G_OBJECT(c->mixer_pad), "sizing-policy",
		                        "keep-aspect-ratio");
	if (c->spec->on_linked)
		c->spec->on_linked(c->input);
	if (!gst_element_sync_state_with_parent(c->bin)) {
		g_set_error(error, KT_DECODE_CHAIN_ERROR, KT_DECODE_CHAIN_ERROR_BUILD,
		            "the decoding chain did not start");
		return FALSE;
	}
	return TRUE;
}

gboolean kt_decode_chain_build(KtDecodeChain *c, GstBin *pipeline, GstElement *mixer,
                               GError **error)
{
	KtCodec codec;
	guint8 pt;

	kt_decode_chain_drop(c);
	g_mutex_lock(c->spec->lock);
	codec = c->codec;
	pt = c->pt;
	g_mutex_unlock(c->spec->lock);
	c->bin = parse_chain(c, codec, error);
	if (c->bin) {
		c->chain_codec = codec;
		c->src = gst_bin_get_by_name(GST_BIN(c->bin), "src");
		c->size = gst_bin_get_by_name(GST_BIN(c->bin), "size");
		kt_rtp_inlet_configure_src(c->src, c->spec->kind, codec, pt, c->clock_rate,
		                           c->spec->max_queued, on_keyframe_request, c);
		if (link_chain(c, pipeline, mixer, error)) {
			c->built_us = g_get_monotonic_time();
			g_mutex_lock(c->spec->lock);
			/* The codec may have changed meanwhile: then the next
			 * wake-up replaces this chain. */
			if (c->codec == codec && !c->closed)
				kt_rtp_inlet_attach(&c->inlet, GST_APP_SRC(c->src));
			g_mutex_unlock(c->spec->lock);
			return TRUE;
		}
		kt_decode_chain_drop(c);
	}
	g_mutex_lock(c->spec->lock);
	c->failed_codec = codec;
	kt_rtp_inlet_detach(&c->inlet);
	g_mutex_unlock(c->spec->lock);
	return FALSE;
}

/* Streaming thread of a chain being removed: nothing more of it reaches the
 * mixer, and its elements see success rather than "not linked" (which an
 * appsrc would report as an error). */
static GstPadProbeReturn drop_all(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	return GST_PAD_PROBE_DROP;
}

void kt_decode_chain_drop(KtDecodeChain *c)
{
	g_autoptr(GstPad) ghost = NULL;
	GstObject *pipeline;

	if (!c->bin)
		return;
	g_mutex_lock(c->spec->lock);
	kt_rtp_inlet_forget_src(&c->inlet, c->src);
	g_mutex_unlock(c->spec->lock);
	ghost = gst_element_get_static_pad(c->bin, "src");
	gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_all, NULL, NULL);
	if (c->mixer_pad) {
		/* Releasing flushes the pad, which wakes a chain waiting on it. */
		g_autoptr(GstElement) mixer = gst_pad_get_parent_element(c->mixer_pad);

		if (mixer)
			gst_element_release_request_pad(mixer, c->mixer_pad);
		gst_clear_object(&c->mixer_pad);
	}
	gst_element_set_state(c->bin, GST_STATE_NULL);
	pipeline = GST_OBJECT_PARENT(c->bin);
	if (pipeline)
		gst_bin_remove(GST_BIN(pipeline), c->bin);
	gst_clear_object(&c->src);
	gst_clear_object(&c->size);
	gst_clear_object(&c->bin);
	c->chain_codec = KT_CODEC_NONE;
}

void kt_decode_chain_failed(KtDecodeChain *c)
{
	gboolean quick = g_get_monotonic_time() - c->built_us < KT_DECODE_CHAIN_QUICK_FAILURE_US;
	KtCodec codec = c->chain_codec;

	c->quick_failures = quick ? c->quick_failures + 1 : 0;
	kt_decode_chain_drop(c);
	g_mutex_lock(c->spec->lock);
	kt_rtp_inlet_reset(&c->inlet);
	c->want_keyframe = c->spec->kind == KT_MEDIA_VIDEO;
	if (c->quick_failures >= KT_DECODE_CHAIN_MAX_QUICK_FAILURES)
		c->failed_codec = codec;
	g_mutex_unlock(c->spec->lock);
}

gboolean kt_decode_chain_owns(const KtDecodeChain *c, GstObject *object)
{
	return c->bin && (object == GST_OBJECT(c->bin) ||
	                  gst_object_has_as_ancestor(object, GST_OBJECT(c->bin)));
}

void kt_decode_chain_end(KtDecodeChain *c)
{
	if (c->src)
		gst_app_src_end_of_stream(GST_APP_SRC(c->src));
}

GstElement *kt_decode_chain_get(const KtDecodeChain *c, const char *name)
{
	return c->bin ? gst_bin_get_by_name(GST_BIN(c->bin), name) : NULL;
}
