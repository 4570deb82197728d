/* Subscribe-connection offer builder and answer reader. Policy is in kt-sdp-offer.h. */
#include "kt-sdp-offer.h"

#include <string.h>

#include "kt-sdp-private.h"

/* Ketang's own codecs with their fixed payload types. */
typedef struct {
	const char *key;  /* as in video_codecs: "vp8" */
	const char *name; /* as in a=rtpmap */
	KtSdpMediaKind kind;
	guint8 pt, rtx_pt;
	guint clock_rate, channels;
	const char *fmtp;
	gboolean feedback; /* nack, nack pli, ccm fir */
} KtSdpOfferCodec;

/* Audio first: write_line() takes Opus as [0] and RED as [1]. */
static const KtSdpOfferCodec offer_codecs[] = {
    /* RFC 7587 §7: 10 ms packets at least, in-band FEC on. */
    {"opus", "opus", KT_SDP_MEDIA_AUDIO, KT_SDP_OFFER_PT_OPUS, 0, 48000, 2,
     "minptime=10;useinbandfec=1", FALSE},
    /* RFC 2198 §5: RED whose blocks are all Opus 111 (a primary and redundancy). */
    {"red", "red", KT_SDP_MEDIA_AUDIO, KT_SDP_OFFER_PT_RED, 0, 48000, 2, "111/111", FALSE},
    {"vp8", "VP8", KT_SDP_MEDIA_VIDEO, KT_SDP_OFFER_PT_VP8, KT_SDP_OFFER_PT_VP8_RTX, 90000, 0, NULL,
     TRUE},
    /* Constrained baseline, non-interleaved mode: every browser decodes it (RFC 6184 §8.1). */
    {"h264", "H264", KT_SDP_MEDIA_VIDEO, KT_SDP_OFFER_PT_H264, KT_SDP_OFFER_PT_H264_RTX, 90000, 0,
     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", TRUE},
};

#define KT_SDP_OFFER_MAX_VIDEO 2

typedef struct {
	const KtSdpOfferParams *p;
	const KtSdpOfferStream *streams;
	guint n;
	const KtSdpOfferCodec *video[KT_SDP_OFFER_MAX_VIDEO];
	guint n_video;
	int tag; /* index of the first bundled line, which carries the candidates */
} KtSdpOfferer;

static gboolean G_GNUC_PRINTF(3, 4)
    offer_fail(GError **error, KtSdpError code, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	g_autofree char *what = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, KT_SDP_ERROR, code, what);
	return FALSE;
}

/* RFC 8866 token characters we allow in ids we write; also keeps CR/LF out of the SDP. */
static gboolean is_id(const char *s, gsize max, const char *extra)
{
	gsize len = strnlen(s, max + 1);
	if (len == 0 || len > max)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && strchr("_.-", s[i]) == NULL &&
		    strchr(extra, s[i]) == NULL)
			return FALSE;
	return TRUE;
}

static gboolean choose_video_codecs(KtSdpOfferer *o, GError **error)
{
	const char *prefs = o->p->video_codecs != NULL ? o->p->video_codecs : "vp8,h264";
	g_auto(GStrv) names = g_strsplit(prefs, ",", 0);
	for (guint i = 0; names[i] != NULL && o->n_video < KT_SDP_OFFER_MAX_VIDEO; i++) {
		const char *want = g_strstrip(names[i]);
		for (guint c = 0; c < G_N_ELEMENTS(offer_codecs); c++) {
			const KtSdpOfferCodec *codec = &offer_codecs[c];
			gboolean dup = o->n_video > 0 && o->video[0] == codec;
			if (codec->kind == KT_SDP_MEDIA_VIDEO && !dup &&
			    g_ascii_strcasecmp(codec->key, want) == 0)
				o->video[o->n_video++] = codec;
		}
	}
	if (o->n_video == 0)
		return offer_fail(error, KT_SDP_ERROR_NO_CODEC,
		                  "video_codecs \"%s\" names no codec Ketang sends (vp8, h264)",
		                  prefs);
	return TRUE;
}

static gboolean check_stream(const KtSdpOfferStream *streams, guint i, GError **error)
{
	const KtSdpOfferStream *s = &streams[i];
	if (s->kind != KT_SDP_MEDIA_AUDIO && s->kind != KT_SDP_MEDIA_VIDEO)
		return offer_fail(error, KT_SDP_ERROR_MALFORMED,
		                  "stream %u: only audio and video can be offered", i);
	/* 16 bytes: the longest mid the one-byte header extension form carries (RFC 8285). */
	if (!is_id(s->mid, 16, ""))
		return offer_fail(error, KT_SDP_ERROR_MALFORMED,
		                  "stream %u: mid must be 1-16 of A-Z a-z 0-9 _ . -", i);
	for (guint j = 0; j < i; j++)
		if (strcmp(streams[j].mid, s->mid) == 0)
			return offer_fail(error, KT_SDP_ERROR_MALFORMED,
			                  "streams %u and %u share mid \"%s\"", j, i, s->mid);
	if (!s->active || s->rejected)
		return TRUE;
	/* msid ids are tokens (RFC 8830 §2); braces for Firefox-style UUIDs. */
	if (!is_id(s->stream_id, 63, "{}") || !is_id(s->track_id, 63, "{}"))
		return offer_fail(error, KT_SDP_ERROR_MALFORMED,
		                  "stream %u (mid %s): stream and track ids must be 1-63 of "
		                  "A-Z a-z 0-9 _ . - { }",
		                  i, s->mid);
	return TRUE;
}

static gboolean check_streams(KtSdpOfferer *o, GError **error)
{
	if (o->n == 0)
		return offer_fail(error, KT_SDP_ERROR_NO_MEDIA,
		                  "an offer needs at least one stream; offer once there is "
		                  "something to receive");
	if (o->n > KT_SDP_MAX_MEDIA)
		return offer_fail(error, KT_SDP_ERROR_TOO_LARGE,
		                  "%u streams; one connection carries at most %d", o->n,
		                  KT_SDP_MAX_MEDIA);
	o->tag = -1;
	for (guint i = 0; i < o->n; i++) {
		if (!check_stream(o->streams, i, error))
			return FALSE;
		if (o->tag < 0 && !o->streams[i].rejected)
			o->tag = i;
	}
	return TRUE;
}

static void write_session(const KtSdpOfferer *o, GString *s)
{
	g_string_append_printf(s,
	                       "v=0\r\no=- %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
	                       " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
	                       o->p->session_id, o->p->version);
	if (o->tag >= 0) {
		g_string_append(s, "a=group:BUNDLE");
		for (guint i = 0; i < o->n; i++)
			if (!o->streams[i].rejected)
				g_string_append_printf(s, " %s", o->streams[i].mid);
		g_string_append(s, "\r\n");
	}
	/* The page may trickle its candidates over the WebSocket (RFC 8840 §4.1.1). */
	g_string_append(s, "a=ice-options:trickle\r\na=msid-semantic:WMS *\r\n");
}

static void write_codec(const KtSdpOfferCodec *c, GString *s)
{
	g_string_append_printf(s, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock_rate);
	if (c->channels > 1)
		g_string_append_printf(s, "/%u", c->channels);
	g_string_append(s, "\r\n");
	if (c->feedback)
		g_string_append_printf(s,
		                       "a=rtcp-fb:%u nack\r\na=rtcp-fb:%u nack pli\r\n"
		                       "a=rtcp-fb:%u ccm fir\r\n",
		                       c->pt, c->pt, c->pt);
	g_string_append_printf(s, "a=rtcp-fb:%u transport-cc\r\n", c->pt);
	if (c->fmtp != NULL)
		g_string_append_printf(s, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
	if (c->rtx_pt != 0)
		g_string_append_printf(s, "a=rtpmap:%u rtx/%u\r\na=fmtp:%u apt=%u\r\n", c->rtx_pt,
		                       c->clock_rate, c->rtx_pt, c->pt);
}

/* Announces the stream (RFC 8830 msid; RFC 5576 a=ssrc; RFC 4588 §8.3 FID group). */
static void write_source(const KtSdpOfferer *o, const KtSdpOfferStream *st, GString *s)
{
	const char *cname = o->p->cname != NULL ? o->p->cname : "ketang";
	guint32 rtx = st->kind == KT_SDP_MEDIA_VIDEO ? st->rtx_ssrc : 0;
	g_string_append_printf(s, "a=msid:%s %s\r\n", st->stream_id, st->track_id);
	if (st->ssrc == 0)
		return;
	if (rtx != 0)
		g_string_append_printf(s, "a=ssrc-group:FID %u %u\r\n", st->ssrc, rtx);
	guint32 ssrcs[2] = {st->ssrc, rtx};
	for (guint i = 0; i < 2 && ssrcs[i] != 0; i++)
		g_string_append_printf(s, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n",
		                       ssrcs[i], cname, ssrcs[i], st->stream_id, st->track_id);
}

static void write_formats(const KtSdpOfferer *o, const KtSdpOfferStream *st, GString *s)
{
	if (st->kind == KT_SDP_MEDIA_AUDIO) {
		g_string_append_printf(s, " %u", KT_SDP_OFFER_PT_OPUS);
		if (st->red)
			g_string_append_printf(s, " %u", KT_SDP_OFFER_PT_RED);
		return;
	}
	for (guint i = 0; i < o->n_video; i++)
		g_string_append_printf(s, " %u %u", o->video[i]->pt, o->video[i]->rtx_pt);
}

/* RFC 8829 §5.2.2: a rejected line stays, with port 0, outside BUNDLE. */
static void write_rejected(const KtSdpOfferer *o, const KtSdpOfferStream *st, GString *s)
{
	g_string_append_printf(s, "m=%s 0 UDP/TLS/RTP/SAVPF",
	                       st->kind == KT_SDP_MEDIA_AUDIO ? "audio" : "video");
	write_formats(o, st, s);
	g_string_append_printf(s, "\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=inactive\r\n", st->mid);
}

static void write_line(const KtSdpOfferer *o, guint index, GString *s)
{
	const KtSdpOfferStream *st = &o->streams[index];
	const KtSdpOfferParams *p = o->p;
	gboolean audio = st->kind == KT_SDP_MEDIA_AUDIO;
	g_string_append_printf(s, "m=%s 9 UDP/TLS/RTP/SAVPF", audio ? "audio" : "video");
	write_formats(o, st, s);
	g_string_append_printf(s, "\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n", st->mid);
	g_string_append_printf(s, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", p->ice_ufrag, p->ice_pwd);
	g_string_append_printf(s, "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n",
	                       p->fingerprint);
	g_string_append_printf(s, "a=extmap:%u " KT_SDP_MID_URI "\r\n", KT_SDP_OFFER_MID_EXT_ID);
	g_string_append_printf(s, "a=extmap:%u " KT_SDP_TWCC_URI "\r\n", KT_SDP_OFFER_TWCC_EXT_ID);
	if (!audio)
		g_string_append_printf(s, "a=extmap:%u " KT_SDP_PLAYOUT_DELAY_URI "\r\n",
		                       KT_SDP_OFFER_PLAYOUT_DELAY_EXT_ID);
	g_string_append_printf(s, "a=%s\r\n", st->active ? "sendonly" : "inactive");
	g_string_append(s, "a=rtcp-mux\r\na=rtcp-rsize\r\n");
	if (audio)
		write_codec(&offer_codecs[0], s);
	if (audio && st->red)
		write_codec(&offer_codecs[1], s);
	for (guint i = 0; !audio && i < o->n_video; i++)
		write_codec(o->video[i], s);
	if (st->active)
		write_source(o, st, s);
	if ((int)index == o->tag && p->candidates != NULL) {
		for (guint i = 0; p->candidates[i] != NULL; i++)
			g_string_append_printf(s, "a=%s\r\n", p->candidates[i]);
		g_string_append(s, "a=end-of-candidates\r\n");
	}
}

char *kt_sdp_offer_build(const KtSdpOfferParams *p, const KtSdpOfferStream *streams, guint n,
                         GError **error)
{
	g_return_val_if_fail(p != NULL && (streams != NULL || n == 0), NULL);
	g_return_val_if_fail(p->ice_ufrag != NULL && p->ice_pwd != NULL, NULL);
	g_return_val_if_fail(p->fingerprint != NULL, NULL);
	KtSdpOfferer o = {.p = p, .streams = streams, .n = n};
	if (!check_streams(&o, error) || !choose_video_codecs(&o, error))
		return NULL;
	GString *s = g_string_sized_new(1024 * n);
	write_session(&o, s);
	for (guint i = 0; i < n; i++) {
		if (streams[i].rejected)
			write_rejected(&o, &streams[i], s);
		else
			write_line(&o, i, s);
	}
	return g_string_free(s, FALSE);
}

/* ---- the answer ---- */

/* The answer must list the offer's m= lines, same count, order, mids and kinds (RFC 3264
 * §6, RFC 8829 §5.3.1). */
static gboolean check_lines(const KtSdp *answer, const KtSdpOfferStream *offered, guint n,
                            GError **error)
{
	guint n_media = kt_sdp_get_n_media(answer);
	if (n_media != n)
		return offer_fail(error, KT_SDP_ERROR_MISMATCH,
		                  "answer has %u m= lines; the offer had %u", n_media, n);
	for (guint i = 0; i < n; i++) {
		const KtSdpMedia *m = kt_sdp_get_media(answer, i);
		if (strcmp(m->mid, offered[i].mid) != 0)
			return offer_fail(error, KT_SDP_ERROR_MISMATCH,
			                  "answer m= line %u has mid \"%s\"; the offer's is \"%s\"",
			                  i, m->mid, offered[i].mid);
		if (m->kind != offered[i].kind)
			return offer_fail(
			    error, KT_SDP_ERROR_MISMATCH,
			    "answer m= line \"%s\" is %s; the offer's is %s", m->mid, m->kind_str,
			    offered[i].kind == KT_SDP_MEDIA_AUDIO ? "audio" : "video");
	}
	return TRUE;
}

/* The answerer's a=setup against our actpass (RFC 5763 §5; RFC 4145 §4: absent = active). */
static gboolean read_setup(const char *setup, gboolean *dtls_active, GError **error)
{
	if (setup[0] == '\0' || strcmp(setup, "active") == 0) {
		*dtls_active = TRUE;
		return TRUE;
	}
	if (strcmp(setup, "passive") == 0) {
		*dtls_active = FALSE;
		return TRUE;
	}
	if (strcmp(setup, "actpass") == 0)
		return offer_fail(
		    error, KT_SDP_ERROR_MISMATCH,
		    "answer has a=setup:actpass; an answerer picks active or passive");
	return offer_fail(error,
	                  strcmp(setup, "holdconn") == 0 ? KT_SDP_ERROR_UNSUPPORTED
	                                                 : KT_SDP_ERROR_MALFORMED,
	                  "answer has a=setup:%s; expected active or passive", setup);
}

static gboolean is_rejected(const KtSdpMedia *m)
{
	return m->port == 0 && !m->bundle_only;
}

/* The answerer BUNDLE-tag line carries the transport of the whole group (RFC 9143 §7.3). */
static gboolean read_transport(const KtSdp *answer, KtSdpOfferResult *r, GError **error)
{
	const char *tag_mid = kt_sdp_get_bundle_tag(answer);
	if (tag_mid == NULL)
		return offer_fail(error, KT_SDP_ERROR_NO_BUNDLE,
		                  "answer has no a=group:BUNDLE; Ketang needs BUNDLE (RFC 9143)");
	const KtSdpMedia *tag = kt_sdp_find_media(answer, tag_mid);
	if (tag == NULL || is_rejected(tag))
		return offer_fail(error, KT_SDP_ERROR_MISMATCH,
		                  "answer BUNDLE group starts with mid \"%s\", which is not an "
		                  "accepted m= line",
		                  tag_mid);
	if (tag->ice_ufrag[0] == '\0' || tag->ice_pwd[0] == '\0')
		return offer_fail(error, KT_SDP_ERROR_NO_ICE_CREDENTIALS,
		                  "answer m= line \"%s\" lacks a=ice-ufrag/a=ice-pwd", tag_mid);
	if (g_ascii_strcasecmp(tag->fingerprint_alg, "sha-256") != 0)
		return offer_fail(error, KT_SDP_ERROR_NO_FINGERPRINT,
		                  "answer m= line \"%s\" has no sha-256 a=fingerprint", tag_mid);
	if (!read_setup(tag->setup, &r->dtls_active, error))
		return FALSE;
	g_strlcpy(r->ice_ufrag, tag->ice_ufrag, sizeof r->ice_ufrag);
	g_strlcpy(r->ice_pwd, tag->ice_pwd, sizeof r->ice_pwd);
	g_strlcpy(r->fingerprint, tag->fingerprint, sizeof r->fingerprint);
	for (guint i = 0; i < tag->candidates->len; i++)
		g_ptr_array_add(r->candidates, g_strdup(tag->candidates->pdata[i]));
	r->end_of_candidates = tag->end_of_candidates;
	return TRUE;
}

/* Our codec with payload type @pt on a line offered as @st, primary or RTX; NULL if none. */
static const KtSdpOfferCodec *find_offered(const KtSdpOfferStream *st, guint8 pt, gboolean *is_rtx)
{
	for (guint i = 0; i < G_N_ELEMENTS(offer_codecs); i++) {
		const KtSdpOfferCodec *c = &offer_codecs[i];
		if (c->pt == KT_SDP_OFFER_PT_RED && !st->red)
			continue;
		if (c->kind == st->kind && (c->pt == pt || (c->rtx_pt != 0 && c->rtx_pt == pt))) {
			*is_rtx = c->pt != pt;
			return c;
		}
	}
	return NULL;
}

static void keep_codec(KtSdpAnswerStream *out, const KtSdpOfferCodec *c, gboolean is_rtx)
{
	guint8 *slot = c->pt == KT_SDP_OFFER_PT_OPUS  ? &out->pt_opus
	               : c->pt == KT_SDP_OFFER_PT_RED ? &out->pt_red
	               : c->pt == KT_SDP_OFFER_PT_VP8
	                   ? (is_rtx ? &out->rtx_for_vp8 : &out->pt_for_vp8)
	                   : (is_rtx ? &out->rtx_for_h264 : &out->pt_for_h264);
	*slot = is_rtx ? c->rtx_pt : c->pt;
}

/* RFC 3264 §6.1: the answer uses the offer's payload type numbers for the same codecs. */
static gboolean read_codecs(const KtSdpMedia *m, const KtSdpOfferStream *offered,
                            KtSdpAnswerStream *out, GError **error)
{
	const KtSdpCodec *first = NULL;
	for (guint i = 0; i < m->n_codecs; i++) {
		const KtSdpCodec *c = &m->codecs[i];
		gboolean is_rtx = FALSE;
		const KtSdpOfferCodec *ours = find_offered(offered, c->pt, &is_rtx);
		if (ours == NULL)
			return offer_fail(error, KT_SDP_ERROR_MISMATCH,
			                  "answer m= line \"%s\" has payload type %u, which Ketang "
			                  "did not offer",
			                  m->mid, c->pt);
		if (c->name[0] != '\0' &&
		    g_ascii_strcasecmp(c->name, is_rtx ? "rtx" : ours->name) != 0)
			return offer_fail(error, KT_SDP_ERROR_MISMATCH,
			                  "answer m= line \"%s\" maps payload type %u to %s; the "
			                  "offer had %s",
			                  m->mid, c->pt, c->name, is_rtx ? "rtx" : ours->name);
		keep_codec(out, ours, is_rtx);
		if (!is_rtx && ours->pt != KT_SDP_OFFER_PT_RED && first == NULL)
			first = c;
	}
	if (first == NULL)
		return offer_fail(error, KT_SDP_ERROR_NO_CODEC,
		                  "answer accepts m= line \"%s\" without any codec", m->mid);
	out->nack = first->fb_nack;
	out->pli = first->fb_nack_pli;
	out->fir = first->fb_ccm_fir;
	out->transport_cc = first->fb_transport_cc;
	return TRUE;
}

/* RFC 3264 §6.1: sendonly is answered recvonly or inactive; inactive only inactive. */
static gboolean read_direction(const KtSdpMedia *m, const KtSdpOfferStream *offered, GError **error)
{
	KtSdpDirection dir = m->direction;
	if (dir == KT_SDP_DIR_INACTIVE || (offered->active && dir == KT_SDP_DIR_RECVONLY))
		return TRUE;
	return offer_fail(error, KT_SDP_ERROR_MISMATCH,
	                  "answer m= line \"%s\" is a=%s; Ketang offered a=%s", m->mid,
	                  kt_sdp_direction_name(dir), offered->active ? "sendonly" : "inactive");
}

static gboolean read_line(const KtSdp *answer, guint index, const KtSdpOfferStream *offered,
                          KtSdpAnswerStream *out, GError **error)
{
	const KtSdpMedia *m = kt_sdp_get_media(answer, index);
	g_strlcpy(out->mid, m->mid, sizeof out->mid);
	out->kind = m->kind;
	out->direction = KT_SDP_DIR_INACTIVE;
	if (is_rejected(m)) {
		out->rejected = TRUE;
		return TRUE;
	}
	if (offered->rejected)
		return offer_fail(error, KT_SDP_ERROR_MISMATCH,
		                  "answer accepts m= line \"%s\", which Ketang offered with port 0",
		                  m->mid);
	if (!kt_sdp_mid_is_bundled(answer, m->mid))
		return offer_fail(error, KT_SDP_ERROR_MISMATCH,
		                  "answer accepts m= line \"%s\" outside its BUNDLE group", m->mid);
	if (!m->rtcp_mux)
		return offer_fail(error, KT_SDP_ERROR_NO_RTCP_MUX,
		                  "answer m= line \"%s\" lacks a=rtcp-mux (RFC 5761)", m->mid);
	if (!read_direction(m, offered, error) || !read_codecs(m, offered, out, error))
		return FALSE;
	out->direction = m->direction;
	out->accepted = m->direction == KT_SDP_DIR_RECVONLY;
	for (guint i = 0; i < m->n_extmaps; i++) {
		if (strcmp(m->extmaps[i].uri, KT_SDP_MID_URI) == 0)
			out->mid_ext_id = m->extmaps[i].id;
		else if (strcmp(m->extmaps[i].uri, KT_SDP_TWCC_URI) == 0)
			out->twcc_ext_id = m->extmaps[i].id;
		else if (strcmp(m->extmaps[i].uri, KT_SDP_PLAYOUT_DELAY_URI) == 0 &&
		         offered->kind == KT_SDP_MEDIA_VIDEO)
			out->playout_delay_ext_id = m->extmaps[i].id;
	}
	/* Both halves, or neither (RFC 8285 §5: the answerer may drop an extension). */
	if (!out->twcc_ext_id || !out->transport_cc) {
		out->twcc_ext_id = 0;
		out->transport_cc = FALSE;
	}
	return TRUE;
}

static KtSdpOfferResult *result_new(guint n)
{
	KtSdpOfferResult *r = g_new0(KtSdpOfferResult, 1);
	r->candidates = g_ptr_array_new_with_free_func(g_free);
	r->streams = g_new0(KtSdpAnswerStream, MAX(n, 1));
	r->n_streams = n;
	return r;
}

KtSdpOfferResult *kt_sdp_offer_read_answer(const char *answer, gsize len,
                                           const KtSdpOfferStream *offered, guint n, GError **error)
{
	g_return_val_if_fail(offered != NULL || n == 0, NULL);
	g_autoptr(KtSdp) sdp = kt_sdp_parse(answer, len, error);
	if (sdp == NULL || !check_lines(sdp, offered, n, error))
		return NULL;
	g_autoptr(KtSdpOfferResult) r = result_new(n);
	gboolean any_accepted = FALSE;
	for (guint i = 0; i < n; i++)
		any_accepted |= !is_rejected(kt_sdp_get_media(sdp, i));
	/* With every line rejected there is no transport to read. */
	if (any_accepted && !read_transport(sdp, r, error))
		return NULL;
	for (guint i = 0; i < n; i++)
		if (!read_line(sdp, i, &offered[i], &r->streams[i], error))
			return NULL;
	return g_steal_pointer(&r);
}

void kt_sdp_offer_result_free(KtSdpOfferResult *r)
{
	if (r == NULL)
		return;
	g_ptr_array_unref(r->candidates);
	g_free(r->streams);
	g_free(r);
}
