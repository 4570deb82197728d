/* Ketang's SDP offer for a participant's subscribe connection, and the reader of the
 * browser's answer to it (JSEP, RFC 8829 §5.2 and §5.3; PROTOCOL.md "The lesson
 * WebSocket").
 *
 * Policy (what every offer does):
 *  - One m= line per entry of the stream table, in table order, with the entry's mid. The
 *    caller keeps the table for the life of the connection: an m= line never moves or
 *    changes its mid (RFC 8829 §5.2.2). A stream that goes away stays as an a=inactive
 *    line (no msid, no SSRCs); the caller may later put a new stream of the same kind in
 *    it, keeping the mid. A line the answer rejected (port 0) is offered with port 0 and
 *    left out of BUNDLE; it is never reused.
 *  - Full ICE, Ketang controlling (it offers, RFC 8445 §6.1.1); a=setup:actpass (RFC 5763
 *    §5); one BUNDLE group of every line not rejected (RFC 9143); rtcp-mux, rtcp-rsize; the
 *    same ICE credentials and fingerprint in every line; the candidates, followed by
 *    a=end-of-candidates, in the first bundled line (the offerer BUNDLE-tag).
 *  - Fixed payload types: opus 111, RED (RFC 2198) around it 63 on lines that ask for it;
 *    VP8 96 + rtx 97; H.264 102 + rtx 103 (constrained baseline 42e01f,
 *    packetization-mode=1). Video feedback nack, nack pli, ccm fir; transport-cc on every
 *    codec. Header extensions sdes:mid with id 1 and transport-wide-cc with id 2 (Ketang
 *    numbers what it sends and estimates the bandwidth from the browser's feedback), and on
 *    video lines playout-delay with id 3 (Ketang asks a lossy receiver to buffer long
 *    enough for retransmissions, transport/kt-playout.h).
 *  - Sending lines are a=sendonly with a=msid:<stream> <track> (RFC 8830) and, when the
 *    SSRC is known, a=ssrc cname/msid plus a=ssrc-group:FID for video RTX (RFC 4588 §8.3).
 *
 * Ownership: kt_sdp_offer_build() returns text the caller frees with g_free();
 * kt_sdp_offer_read_answer() returns a result the caller frees with
 * kt_sdp_offer_result_free(). Parameter strings and arrays stay the caller's and are only
 * read during the call.
 * Threads: any thread; nothing here has state. */
#pragma once

#include "kt-sdp.h"

G_BEGIN_DECLS

#define KT_SDP_OFFER_PT_OPUS 111
#define KT_SDP_OFFER_PT_RED 63
#define KT_SDP_OFFER_PT_VP8 96
#define KT_SDP_OFFER_PT_VP8_RTX 97
#define KT_SDP_OFFER_PT_H264 102
#define KT_SDP_OFFER_PT_H264_RTX 103
#define KT_SDP_OFFER_MID_EXT_ID 1
#define KT_SDP_OFFER_TWCC_EXT_ID 2
#define KT_SDP_OFFER_PLAYOUT_DELAY_EXT_ID 3 /* video lines only */

/* One m= line of the subscribe connection. */
typedef struct {
	KtSdpMediaKind kind; /* KT_SDP_MEDIA_AUDIO or KT_SDP_MEDIA_VIDEO */
	char mid[32];        /* 1-16 of [A-Za-z0-9_.-] (fits the one-byte mid extension) */
	gboolean active;     /* sendonly; FALSE: a=inactive, the stream is gone */
	/* Our SSRCs (0: not announced; rtx_ssrc only for video) and the msid ids, 1-63 of
	 * [A-Za-z0-9_.-{}]. Ignored when !active. */
	guint32 ssrc, rtx_ssrc;
	char stream_id[64], track_id[64];
	/* The last answer rejected this line (port 0): it is offered with port 0 again and
	 * takes no stream (RFC 8829 §5.2.2). */
	gboolean rejected;
	/* Audio: also offer RED around Opus ("red/48000/2", a=fmtp:63 111/111), after Opus.
	 * The answer reader takes RED only on lines offered with it. */
	gboolean red;
} KtSdpOfferStream;

typedef struct {
	/* Our ICE credentials and certificate fingerprint ("AB:CD:..", sha-256). Required. */
	const char *ice_ufrag, *ice_pwd, *fingerprint;
	/* NULL-terminated "candidate:..." strings, then a=end-of-candidates. NULL: none and no
	 * a=end-of-candidates (they are trickled). */
	const char *const *candidates;
	/* Comma-separated video codecs in preference order, of "vp8" and "h264"; NULL means
	 * "vp8,h264". Unknown names are skipped; none known is KT_SDP_ERROR_NO_CODEC. */
	const char *video_codecs;
	const char *cname; /* RTCP CNAME in a=ssrc lines; NULL: "ketang" */
	/* o= line: the session id stays for the connection, the version grows with every
	 * offer (RFC 8829 §5.2.2). */
	guint64 session_id, version;
} KtSdpOfferParams;

/* Returns the offer, or NULL with @error set: KT_SDP_ERROR_NO_MEDIA when @n is 0 (offers
 * are only built once a participant has something to receive), KT_SDP_ERROR_TOO_LARGE past
 * KT_SDP_MAX_MEDIA lines (the answer parser's limit), KT_SDP_ERROR_MALFORMED for a kind
 * other than audio/video, an empty, duplicate or badly formed mid, stream or track id,
 * KT_SDP_ERROR_NO_CODEC (see video_codecs). */
char *kt_sdp_offer_build(const KtSdpOfferParams *p, const KtSdpOfferStream *streams, guint n,
                         GError **error);

/* What the answer says about one offered m= line, in offer order. */
typedef struct {
	char mid[32];
	KtSdpMediaKind kind;
	/* The browser will receive on this line: not rejected and answered a=recvonly. */
	gboolean accepted;
	gboolean rejected;        /* port 0: mark the line rejected for the next offer */
	KtSdpDirection direction; /* as answered: recvonly or inactive (rejected: inactive) */
	/* Our payload types the answer kept, 0 for those it dropped. */
	guint8 pt_for_vp8, rtx_for_vp8, pt_for_h264, rtx_for_h264, pt_opus;
	guint8 pt_red; /* RED around Opus kept (offered with `red`), 0 if not */
	/* Feedback of the answer's first codec (its preferred one, RFC 3264 §6.1). */
	gboolean nack, pli, fir;
	guint8 mid_ext_id; /* 0 when the answer dropped the sdes:mid extension */
	/* Transport-wide congestion control: the answer kept the extension (its id) and
	 * the first codec's transport-cc feedback; 0/FALSE unless it kept both. */
	guint8 twcc_ext_id;
	gboolean transport_cc;
	/* Video: the answer kept the playout-delay extension (its id), 0 if not. */
	guint8 playout_delay_ext_id;
} KtSdpAnswerStream;

typedef struct {
	/* The browser's transport, from its BUNDLE-tag m= line (RFC 9143 §7.3). */
	char ice_ufrag[64], ice_pwd[128], fingerprint[160]; /* fingerprint: sha-256 */
	gboolean dtls_active;  /* the browser is DTLS client (a=setup:active): we are server */
	GPtrArray *candidates; /* of char* "candidate:...", owned; usually empty (trickle) */
	gboolean end_of_candidates;
	KtSdpAnswerStream *streams; /* @n_streams entries, one per offered line, owned */
	guint n_streams;
} KtSdpOfferResult;

/* Reads the browser's answer (@len bytes of @answer) to the offer built from @offered
 * (only kind, mid, active, rejected and red are read). Returns NULL with @error set:
 * KT_SDP_ERROR_MALFORMED / _TOO_LARGE (not SDP), _NO_BUNDLE, _NO_RTCP_MUX,
 * _NO_FINGERPRINT (no sha-256 one), _NO_ICE_CREDENTIALS, _NO_CODEC (an accepted line
 * without any codec), _UNSUPPORTED (a=setup:holdconn), _MISMATCH (m= lines missing, extra,
 * reordered or of another kind; a payload type Ketang did not offer; a=setup:actpass; a
 * direction that does not answer ours, RFC 3264 §6.1). */
KtSdpOfferResult *kt_sdp_offer_read_answer(const char *answer, gsize len,
                                           const KtSdpOfferStream *offered, guint n,
                                           GError **error);
void kt_sdp_offer_result_free(KtSdpOfferResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtSdpOfferResult, kt_sdp_offer_result_free)

G_END_DECLS
