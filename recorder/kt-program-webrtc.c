/* The program over WebRTC (WHEP viewers of the program): a branch off the
 * program's encoders that publishes RTP into two room sources.
 *
 *   vtee (H.264) -> rtph264pay config-interval=-1 -> KtRtpOut -> video source
 *   araw (the mix, raw) -> audioconvert -> opusenc (FEC) -> rtpopuspay -> KtRtpOut -> audio source
 *
 *   (each half starts at a gate: closed while nobody watches)
 *
 * Why this way:
 * - The video is the program's own H.264, not a second encoding: the file,
 *   HLS and WebRTC share one x264enc. Its output is constrained baseline
 *   (ultrafast + zerolatency use none of CABAC, 8x8 transforms, B-frames or
 *   weighted prediction; the caps after x264enc pin the profile so a later
 *   preset change cannot break browsers). Every browser decodes constrained
 *   baseline; the recording's bitstream is byte for byte what it was (checked
 *   with ffprobe on 1.22: the same profile and the same bytes with and
 *   without the caps). A VP8 branch would cost about 4x x264's CPU at 720p
 *   (PLATFORM.md) for nothing a browser needs.
 * - rtph264pay repeats SPS/PPS before every IDR (config-interval=-1), so a
 *   viewer that joins at a keyframe decodes at once.
 * - A keyframe request for the video source (a new viewer, a PLI) goes up
 *   this branch as a GstForceKeyUnit event (KtRtpOut), through the tee to
 *   x264enc. The room coalesces requests (keyframe_interval_ms), so the
 *   extra IDRs in the file and HLS are few; they cost bits, never
 *   correctness (hlssink2 still cuts at its own segment length).
 * - The encoder's answer, a downstream GstForceKeyUnit ahead of the IDR, is
 *   kept from rtph264pay. On it (all-headers) the payloader (1.22) sends
 *   SPS and PPS as a packet of their own with the marker bit set, which a
 *   browser takes for a whole frame without a slice: the decoder fails
 *   (FFmpeg: invalid data), the browser sends a PLI, and the next IDR
 *   brings the next such packet. Seen in Chromium as a keyframe three times
 *   a second, a dropped frame before each, and the stream's rate inflated
 *   until the viewer's video paused. config-interval=-1 already puts SPS and
 *   PPS in front of every IDR, inside its access unit.
 * - Audio: AAC is not a WebRTC codec, so the raw mix is encoded once more,
 *   to Opus (about 1% of a core) with in-band FEC: the receiver rebuilds a
 *   lost packet from the next one's low-rate copy (RFC 6716 section 2.1.7).
 *   Opus only adds FEC when told to expect loss, hence packet-loss-percentage.
 * - No queues: payloading and the KtRtpOut probe never block (a full worker
 *   ring drops and counts), so the branch runs in the encoders' threads
 *   and adds no thread and no wake-up.
 * - A gate (a pad probe at the head of each half) drops every buffer while
 *   nobody watches: no Opus encoding, no packets through the room's worker,
 *   where they would otherwise be cached and counted for nobody. Events pass,
 *   so caps and segments are in place when it opens; the room's keyframe
 *   request for the new viewer brings the picture.
 */
#include "kt-program-private.h"

#include <gst/video/video.h>

/* Opus stereo at this rate is transparent for speech and music. */
#define KT_PROGRAM_OPUS_KBPS 64
/* What Opus plans its FEC for: the loss a classroom's link shows often. */
#define KT_PROGRAM_OPUS_LOSS_PCT 10
/* Below the path MTU with room for SRTP, header extensions and TURN. */
#define KT_PROGRAM_RTP_MTU 1200

#define KT_PROGRAM_WEBRTC_BRANCH                                                                   \
	" vtee. ! rtph264pay name=wvpay pt=102 mtu=%u config-interval=-1"                          \
	" aggregate-mode=zero-latency"                                                             \
	" araw. ! audioconvert name=waconv ! opusenc inband-fec=true packet-loss-percentage=%u"    \
	" bitrate=%u ! rtpopuspay name=wapay pt=111 mtu=%u"

/* A feed per kind: the first element of its half (gated), its payloader in
 * the description, its codec. */
static const struct {
	const char *head;
	const char *payloader;
	KtCodec codec;
	guint clock_rate;
} kt_program_feeds[KT_MEDIA_N_KINDS] = {
    [KT_MEDIA_VIDEO] = {"wvpay", "wvpay", KT_CODEC_H264, 90000},
    [KT_MEDIA_AUDIO] = {"waconv", "wapay", KT_CODEC_OPUS, 48000},
};

/* Streaming thread: the gate. */
static GstPadProbeReturn on_gate(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtProgramRecorder *r = data;

	return g_atomic_int_get(&r->webrtc_active) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* Streaming thread: the encoder's downstream force-key-unit events stop
 * before the payloader (see the top of this file). */
static GstPadProbeReturn on_payloader_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	return gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))
	           ? GST_PAD_PROBE_DROP
	           : GST_PAD_PROBE_OK;
}

static void add_gate(KtProgramRecorder *r, const char *name)
{
	g_autoptr(GstElement) head = gst_bin_get_by_name(GST_BIN(r->pipeline), name);
	g_autoptr(GstPad) pad = gst_element_get_static_pad(head, "sink");

	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_gate,
	                  r, NULL);
}

void kt_program_recorder_set_webrtc_active(KtProgramRecorder *r, gboolean active)
{
	g_atomic_int_set(&r->webrtc_active, active);
}

char *kt_program_webrtc_describe(KtProgramRecorder *r)
{
	if (!r->config.room)
		return g_strdup("");
	return g_strdup_printf(KT_PROGRAM_WEBRTC_BRANCH, KT_PROGRAM_RTP_MTU,
	                       KT_PROGRAM_OPUS_LOSS_PCT, KT_PROGRAM_OPUS_KBPS * 1000,
	                       KT_PROGRAM_RTP_MTU);
}

gboolean kt_program_webrtc_link(KtProgramRecorder *r, GError **error)
{
	const guint sources[KT_MEDIA_N_KINDS] = {
	    [KT_MEDIA_VIDEO] = r->config.video_source,
	    [KT_MEDIA_AUDIO] = r->config.audio_source,
	};

	if (!r->config.room)
		return TRUE;
	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++) {
		KtRtpOutConfig oc = {
		    .source = sources[kind],
		    .kind = kind,
		    .codec = kt_program_feeds[kind].codec,
		    .clock_rate = kt_program_feeds[kind].clock_rate,
		};
		g_autoptr(GstElement) pay =
		    gst_bin_get_by_name(GST_BIN(r->pipeline), kt_program_feeds[kind].payloader);
		KtRtpOut *out = kt_rtp_out_new(r->config.room, &oc);
		GstElement *sink = kt_rtp_out_get_sink(out);

		add_gate(r, kt_program_feeds[kind].head);
		if (kind == KT_MEDIA_VIDEO) {
			g_autoptr(GstPad) in = gst_element_get_static_pad(pay, "sink");

			gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
			                  on_payloader_event, NULL, NULL);
		}
		g_mutex_lock(&r->lock);
		r->rtp_out[kind] = out;
		g_mutex_unlock(&r->lock);
		gst_bin_add(GST_BIN(r->pipeline), sink);
		if (!gst_element_link(pay, sink)) {
			g_set_error(error, KT_PROGRAM_RECORDER_ERROR,
			            KT_PROGRAM_RECORDER_ERROR_PIPELINE,
			            "program %s: cannot link the %s payloader to the room",
			            r->label, kt_media_kind_name(kind));
			return FALSE;
		}
	}
	return TRUE;
}

void kt_program_webrtc_read_stats(KtProgramRecorder *r, KtProgramRecorderStats *stats)
{
	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++) {
		KtRtpOutStats os;

		if (!r->rtp_out[kind])
			continue;
		kt_rtp_out_get_stats(r->rtp_out[kind], &os);
		stats->rtp_packets += os.packets;
		stats->rtp_keyframe_requests += os.keyframe_requests;
	}
}

void kt_program_webrtc_drop(KtProgramRecorder *r)
{
	KtRtpOut *outs[KT_MEDIA_N_KINDS];

	g_mutex_lock(&r->lock);
	kt_program_webrtc_read_stats(r, &r->stats);
	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++)
		outs[kind] = g_steal_pointer(&r->rtp_out[kind]);
	g_mutex_unlock(&r->lock);
	/* After NULL: no buffer reaches a sink any more. */
	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++)
		kt_rtp_out_free(outs[kind]);
}
