/* Builds Ketang's SDP answer to a browser offer (JSEP, RFC 8829 §5.3) and the negotiated
 * summary the server hands to the transport.
 *
 * Policy (what the answer always does):
 *  - BUNDLE (RFC 9143) and rtcp-mux (RFC 5761) are required; full ICE, controlled side (no
 *    a=ice-lite); DTLS role passive unless the offer says a=setup:passive (RFC 5763 §5).
 *  - At most one audio and one video m= line is accepted: the first of each kind in the
 *    BUNDLE group that has a codec we take and flows the way the mode needs (failing that,
 *    the first with a codec, answered a=inactive). Every other m= line, data channels and
 *    unknown media included, is rejected with port 0, kept in order, left out of BUNDLE.
 *  - One primary codec per m= line (the first of our preference the offer has, with the
 *    offerer's payload type), plus its RTX; on audio, with audio_red, also the offer's RED
 *    (RFC 2198) around that Opus, listed first; rtcp-fb limited to nack, nack pli, ccm fir
 *    and, on lines that flow (either way), transport-cc; on lines Ketang receives, also
 *    goog-remb where the offer has it for the chosen codec; header extensions limited to
 *    sdes:mid, on flowing lines transport-wide-cc and, on lines that took goog-remb,
 *    abs-send-time (the receive-side estimate behind REMB needs the sender's clock), and on
 *    video lines Ketang sends, playout-delay.
 *    Lines Ketang sends never take goog-remb: it estimates those from transport-cc.
 *  - ICE candidates go in the answerer BUNDLE-tag m= line only (the first accepted one,
 *    RFC 9143 §7.3.1); ICE credentials, fingerprint and setup go in every accepted one.
 *
 * The remote transport parameters (ICE ufrag/pwd, fingerprint, candidates) are those of
 * the offerer's BUNDLE-tag m= line: kt_sdp_find_media(offer, kt_sdp_get_bundle_tag(offer)).
 *
 * Ownership: the returned answer text and *negotiated array are the caller's (g_free); the
 * strings inside KtSdpAnswerParams stay the caller's and are only read during the call.
 * Threads: any thread; the function only reads the offer. */
#pragma once

#include "kt-sdp.h"

G_BEGIN_DECLS

typedef enum {
	KT_SDP_ANSWER_RECEIVE, /* WHIP: the browser sends, we answer recvonly */
	KT_SDP_ANSWER_SEND,    /* WHEP: we send, answer sendonly and announce our SSRCs */
} KtSdpAnswerMode;

typedef struct {
	KtSdpAnswerMode mode;
	/* Our ICE credentials and certificate fingerprint ("AB:CD:..", sha-256). Required. */
	const char *ice_ufrag, *ice_pwd, *fingerprint;
	/* NULL-terminated "candidate:..." strings for the BUNDLE-tag m= line, followed by
	 * a=end-of-candidates since gathering is complete. NULL: no candidates and no
	 * a=end-of-candidates (the caller trickles them later). */
	const char *const *candidates;
	/* Comma-separated preference ("opus"; "vp8,h264"). For h264 the offered variant with
	 * packetization-mode=1 and a baseline-family profile-level-id (42e01f, 42001f) wins. */
	const char *audio_codecs, *video_codecs;
	/* NULL, or the one video codec the answer must pick (the lesson already forwards it):
	 * an offer whose flowing video m= line lacks it fails with KT_SDP_ERROR_NO_CODEC. */
	const char *video_codec_required;
	/* Accept RED (RFC 2198, "red/48000/2") on audio m= lines when the offer has it for the
	 * chosen Opus (a=fmtp:<red> <opus>/<opus>...), and list it first: a browser then sends
	 * its Opus inside RED (RECEIVE), or may receive it so (SEND). FALSE: plain Opus. */
	gboolean audio_red;
	/* Accept every bundled audio/video m= line that has a usable codec (a lesson's
	 * publish connection: camera + courseware + audio), instead of at most one per kind
	 * (WHIP/WHEP); lines that do not flow the mode's way are answered inactive. */
	gboolean accept_all_lines;
	/* RECEIVE mode: take a video line's simulcast (RFC 8853) when it offers a send list and
	 * the rid extension: the answer receives every offered stream (a=rid:<id> recv,
	 * a=simulcast:recv in the offer's order) and takes the mid, rid and repaired-rid
	 * extensions. FALSE: no simulcast in the answer, so the browser sends one stream. */
	gboolean simulcast;
	/* SEND mode: our SSRCs (0: not announced), CNAME and MediaStream id; track ids are
	 * "<stream_id>-audio" and "<stream_id>-video". Ignored in RECEIVE mode. */
	guint32 audio_ssrc, video_ssrc, video_rtx_ssrc;
	const char *cname, *stream_id;
	guint64 session_id; /* o= line */
} KtSdpAnswerParams;

#define KT_SDP_MAX_ALT_CODECS 3

/* One per offered m= line, in offer order. */
typedef struct {
	char mid[32];
	KtSdpMediaKind kind;
	gboolean active;          /* FALSE when rejected (port 0); then nothing below is set */
	KtSdpDirection direction; /* ours in the answer; inactive means accepted but idle */
	guint8 pt;
	char codec[16]; /* lowercase: "opus", "vp8", "h264", ... */
	guint clock_rate;
	guint channels;
	guint8 rtx_pt; /* 0 if none */
	guint8 red_pt; /* audio: RED around `codec` accepted (audio_red), 0 if not */
	gboolean nack, pli, fir;
	/* The line flows and the offer had transport-wide congestion control: the answer
	 * takes its extension (twcc_ext_id) and, where the codec offered it, "transport-cc"
	 * feedback (transport_cc: both). Receiving, Ketang sends TWCC feedback to the sender;
	 * sending, it numbers its packets and estimates the bandwidth from the receiver's
	 * feedback. 0/FALSE otherwise. */
	gboolean transport_cc;
	guint8 twcc_ext_id;
	/* A line Ketang receives whose offer had goog-remb for its codec: the answer takes it
	 * (and abs-send-time when offered, abs_send_time_ext_id), and Ketang sends the sender
	 * REMB (draft-alvestrand-rmcat-remb). FALSE/0 otherwise. */
	gboolean goog_remb;
	guint8 abs_send_time_ext_id;
	/* Video Ketang sends, whose offer had the playout-delay extension: the answer takes
	 * it, and Ketang asks a lossy receiver for a playout delay that leaves time for
	 * retransmissions (transport/kt-playout.h). 0 otherwise. */
	guint8 playout_delay_ext_id;
	guint8 mid_ext_id; /* 0 if the sdes:mid extension was not offered */
	/* Simulcast taken (see KtSdpAnswerParams.simulcast): the offered send streams' rids in
	 * the offer's order (paused ones included) and the extensions that name them in
	 * packets (rrid_ext_id 0: RTX packets carry none). n_rids 0: one stream. */
	guint n_rids;
	char rids[KT_SDP_MAX_RIDS][KT_SDP_MAX_RID_LEN + 1];
	guint8 rid_ext_id, rrid_ext_id;
	guint32 remote_ssrc, remote_rtx_ssrc; /* from the offer's a=ssrc / FID; 0 if none */
	gboolean dtls_active; /* our DTLS role, same in every entry: TRUE = client */
	/* SEND mode video without video_codec_required: further codecs the receiver accepted
	 * besides `codec`, so Ketang can forward whichever one the publisher sends (an
	 * answerer may send any format its answer lists, RFC 3264 §6.1). */
	struct {
		char codec[16];
		guint8 pt, rtx_pt;
	} alt[KT_SDP_MAX_ALT_CODECS];
	guint n_alt;
} KtSdpNegotiated;

/* Returns the answer text, or NULL with @error set (KT_SDP_ERROR_NO_BUNDLE, _NO_RTCP_MUX,
 * _NO_FINGERPRINT, _NO_ICE_CREDENTIALS, _NO_CODEC, _NO_MEDIA, _UNSUPPORTED, _MALFORMED).
 * On success *@negotiated holds *@n_negotiated entries (one per offered m= line). */
char *kt_sdp_answer_build(const KtSdp *offer, const KtSdpAnswerParams *p,
                          KtSdpNegotiated **negotiated, guint *n_negotiated, GError **error);

G_END_DECLS
