/* SDP (RFC 8866) parser for the WebRTC offers browsers send over WHIP/WHEP.
 *
 * kt_sdp_parse() turns an offer into a read-only model: a KtSdp (opaque) holding one
 * KtSdpMedia (plain value struct) per m= line. Only what Ketang negotiates is kept: codecs
 * (rtpmap/fmtp/rtcp-fb, with RTX paired to its primary), header extensions, ICE credentials
 * and candidates, the DTLS fingerprint and role, the BUNDLE group, SSRCs and msid. Unknown
 * attributes are ignored; lines that break the grammar of a known one are errors.
 *
 * Ownership: kt_sdp_parse() returns a KtSdp the caller frees with kt_sdp_free(). Every
 * pointer obtained from it (media, codecs, strings, candidate arrays) is borrowed and lives
 * as long as the KtSdp; never modify or free them.
 * Threads: a KtSdp is immutable after parsing; every function here may be called from any
 * thread, concurrently on the same KtSdp. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Limits on untrusted input: an offer breaking one is refused with KT_SDP_ERROR_TOO_LARGE. */
#define KT_SDP_MAX_SIZE (64 * 1024)
#define KT_SDP_MAX_LINE 4096
#define KT_SDP_MAX_MEDIA 64  /* a teacher receives two m-lines per classroom */
#define KT_SDP_MAX_CODECS 64 /* payload types in one m= line */
#define KT_SDP_MAX_EXTMAPS 32
#define KT_SDP_MAX_RIDS 4     /* simulcast streams in one m= line (a=rid, a=simulcast) */
#define KT_SDP_MAX_RID_LEN 16 /* bytes of a rid id */

#define KT_SDP_ERROR (kt_sdp_error_quark())
GQuark kt_sdp_error_quark(void);

/* Shared by the parser (kt-sdp.h), the answer builder (kt-sdp-answer.h) and the offer
 * builder (kt-sdp-offer.h). */
typedef enum {
	KT_SDP_ERROR_MALFORMED,          /* not SDP, or a line breaks its grammar */
	KT_SDP_ERROR_TOO_LARGE,          /* past one of the KT_SDP_MAX_* limits */
	KT_SDP_ERROR_NO_BUNDLE,          /* no a=group:BUNDLE (RFC 9143 is required) */
	KT_SDP_ERROR_NO_RTCP_MUX,        /* a bundled RTP m= line lacks a=rtcp-mux (RFC 5761) */
	KT_SDP_ERROR_NO_FINGERPRINT,     /* no a=fingerprint, or none with sha-256 */
	KT_SDP_ERROR_NO_ICE_CREDENTIALS, /* a=ice-ufrag or a=ice-pwd missing */
	KT_SDP_ERROR_NO_CODEC,           /* no codec we can use (message lists those offered) */
	KT_SDP_ERROR_NO_MEDIA,           /* nothing in the offer flows the way the mode needs */
	KT_SDP_ERROR_UNSUPPORTED,        /* valid SDP we do not implement (a=setup:holdconn) */
	KT_SDP_ERROR_MISMATCH, /* an answer that does not fit our offer (kt-sdp-offer.h) */
} KtSdpError;

typedef struct {
	guint8 pt;
	char name[32]; /* as written in a=rtpmap ("opus", "VP8", "H264", "rtx"); "" if unknown */
	guint clock_rate;
	guint channels; /* audio: 1 unless a=rtpmap says otherwise; video: 0 */
	char fmtp[256]; /* the a=fmtp value after the payload type, "" if none */
	guint8 rtx_pt;  /* 0 if none: the "rtx" payload type whose fmtp apt= is this pt */
	gboolean fb_nack, fb_nack_pli, fb_ccm_fir, fb_transport_cc, fb_goog_remb;
} KtSdpCodec;

typedef struct {
	guint8 id;
	char uri[128];
} KtSdpExtmap;

typedef enum {
	KT_SDP_DIR_SENDRECV,
	KT_SDP_DIR_SENDONLY,
	KT_SDP_DIR_RECVONLY,
	KT_SDP_DIR_INACTIVE,
} KtSdpDirection;

/* a=rid (RFC 8851 §10): one RTP stream of a simulcast m= line. */
typedef struct {
	char id[KT_SDP_MAX_RID_LEN + 1];
	KtSdpDirection direction; /* KT_SDP_DIR_SENDONLY ("send") or KT_SDP_DIR_RECVONLY ("recv") */
	char params[128]; /* the restrictions as written ("max-width=1280;max-fps=30"), checked for
	                   * shape only, cut to fit; "" if none */
} KtSdpRid;

/* One stream of an a=simulcast list (RFC 8853 §5.1): its first alternative. */
typedef struct {
	char rid[KT_SDP_MAX_RID_LEN + 1];
	gboolean paused; /* written "~<rid>" */
} KtSdpSimulcastStream;

typedef enum {
	KT_SDP_MEDIA_AUDIO,
	KT_SDP_MEDIA_VIDEO,
	KT_SDP_MEDIA_APPLICATION,
	KT_SDP_MEDIA_OTHER,
} KtSdpMediaKind;

typedef struct {
	KtSdpMediaKind kind;
	char kind_str[16]; /* the m= media token as written ("audio", "video", "text", ...) */
	guint port;
	char proto[64];
	char fmt[64]; /* the first <fmt> token of the m= line, echoed when it is rejected */
	char mid[32]; /* "" if the m= line has no a=mid */
	KtSdpDirection direction; /* the session-level one, or sendrecv, if the m= line has none */
	gboolean rtcp_mux, rtcp_rsize;
	gboolean bundle_only; /* a=bundle-only: port 0 means "only if bundled" (RFC 9143 §6) */
	/* Session-level ice-ufrag/pwd, fingerprint and setup are inherited by m= lines that do
	 * not set their own, so these are filled whenever the offer has them anywhere. */
	char ice_ufrag[64], ice_pwd[128];
	char fingerprint_alg[16], fingerprint[160]; /* the sha-256 one when several are given */
	char setup[16];                             /* "actpass", "active", ... or "" */
	KtSdpCodec *codecs;                         /* in m= line order; only for RTP protocols */
	guint n_codecs;
	KtSdpExtmap *extmaps;
	guint n_extmaps;
	guint32 ssrc, rtx_ssrc; /* first a=ssrc and its a=ssrc-group:FID partner; 0 if none */
	char cname[64];
	char msid[160];        /* "<stream> <track>" from a=msid, else from a=ssrc:<ssrc> msid: */
	GPtrArray *candidates; /* of char*: each "candidate:..." as written after "a=" */
	/* a=rid lines, and the a=simulcast streams per direction in the order written (which
	 * says nothing about the streams' sizes). Every rid a list names has an a=rid of that
	 * direction. */
	KtSdpRid rids[KT_SDP_MAX_RIDS];
	guint n_rids;
	KtSdpSimulcastStream simulcast_send[KT_SDP_MAX_RIDS], simulcast_recv[KT_SDP_MAX_RIDS];
	guint n_simulcast_send, n_simulcast_recv;
	gboolean has_simulcast;
	gboolean end_of_candidates;
} KtSdpMedia;

typedef struct _KtSdp KtSdp;

/* Parses @len bytes of @text (CRLF or LF line ends; need not be NUL-terminated). Returns
 * NULL and sets @error (KT_SDP_ERROR) naming the line number and what is wrong. */
KtSdp *kt_sdp_parse(const char *text, gsize len, GError **error);
void kt_sdp_free(KtSdp *sdp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtSdp, kt_sdp_free)

guint kt_sdp_get_n_media(const KtSdp *sdp);
/* The @i-th m= line in offer order, or NULL if @i is out of range. */
const KtSdpMedia *kt_sdp_get_media(const KtSdp *sdp, guint i);
/* The m= line with a=mid @mid, or NULL. */
const KtSdpMedia *kt_sdp_find_media(const KtSdp *sdp, const char *mid);

/* The mids of the first a=group:BUNDLE, space-separated as written ("0 1 2"), or NULL if
 * there is none. Later BUNDLE groups are ignored: Ketang uses one transport per peer. */
const char *kt_sdp_get_bundle_group(const KtSdp *sdp);
/* The first mid of that group: the offerer's BUNDLE-tag (RFC 9143 §7.2), or NULL. */
const char *kt_sdp_get_bundle_tag(const KtSdp *sdp);
gboolean kt_sdp_mid_is_bundled(const KtSdp *sdp, const char *mid);

/* Looks up @key in an fmtp value ("a=1;b=2", spaces after ';' allowed), copying its value
 * into @value (NUL-terminated, truncated to @value_size). FALSE if @key is absent. */
gboolean kt_sdp_fmtp_get(const char *fmtp, const char *key, char *value, gsize value_size);

G_END_DECLS
