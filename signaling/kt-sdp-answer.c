/* Answer builder: checks the offer's transport, picks one m= line and codec per kind, then
 * writes the answer and the negotiated summary. Policy is in kt-sdp-answer.h. */
#include "kt-sdp-answer.h"

#include <string.h>

#include "kt-sdp-private.h"

typedef struct {
	const KtSdpMedia *m;
	const KtSdpCodec *codec;                       /* NULL: rejected */
	const KtSdpCodec *red;                         /* RED around codec, or NULL */
	KtSdpDirection dir;                            /* ours */
	const KtSdpCodec *alts[KT_SDP_MAX_ALT_CODECS]; /* SEND-mode video extras */
	guint n_alts;
} KtSdpAnswerLine;

typedef struct {
	const KtSdp *offer;
	const KtSdpAnswerParams *p;
	KtSdpAnswerLine lines[KT_SDP_MAX_MEDIA];
	guint n_lines;
	gboolean dtls_active;
	int tag; /* index of the answerer BUNDLE-tag line */
} KtSdpAnswerer;

static gboolean G_GNUC_PRINTF(3, 4)
    answer_fail(GError **error, KtSdpError code, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	g_autofree char *what = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, KT_SDP_ERROR, code, what);
	return FALSE;
}

static gboolean is_rtp_media(const KtSdpMedia *m)
{
	return (m->kind == KT_SDP_MEDIA_AUDIO || m->kind == KT_SDP_MEDIA_VIDEO) &&
	       strstr(m->proto, "RTP/SAVPF") != NULL;
}

/* Port 0 disables an m= line unless it is bundle-only (RFC 9143 §6). */
static gboolean is_enabled_bundled(const KtSdp *offer, const KtSdpMedia *m)
{
	return (m->port != 0 || m->bundle_only) && kt_sdp_mid_is_bundled(offer, m->mid);
}

/* a=setup in the answer (RFC 5763 §5, RFC 4145 §4.1: absent means active). */
static gboolean choose_dtls_role(const KtSdpMedia *tag, gboolean *active, GError **error)
{
	const char *setup = tag->setup;
	if (setup[0] == '\0' || strcmp(setup, "actpass") == 0 || strcmp(setup, "active") == 0) {
		*active = FALSE;
		return TRUE;
	}
	if (strcmp(setup, "passive") == 0) {
		*active = TRUE;
		return TRUE;
	}
	g_set_error(error, KT_SDP_ERROR,
	            strcmp(setup, "holdconn") == 0 ? KT_SDP_ERROR_UNSUPPORTED
	                                           : KT_SDP_ERROR_MALFORMED,
	            "offer has a=setup:%s; expected actpass, active or passive", setup);
	return FALSE;
}

/* The offerer BUNDLE-tag m= line carries the transport of the whole group (RFC 9143
 * §7.2.1); every other enabled bundled RTP m= line must still ask for rtcp-mux (§9.2). */
static gboolean check_transport(KtSdpAnswerer *a, GError **error)
{
	const char *tag_mid = kt_sdp_get_bundle_tag(a->offer);
	if (tag_mid == NULL)
		return answer_fail(error, KT_SDP_ERROR_NO_BUNDLE,
		                   "offer has no a=group:BUNDLE; Ketang needs BUNDLE (RFC 9143)");
	const KtSdpMedia *tag = kt_sdp_find_media(a->offer, tag_mid);
	if (tag == NULL)
		return answer_fail(error, KT_SDP_ERROR_MALFORMED,
		                   "BUNDLE group names mid \"%s\" but no m= line has it", tag_mid);
	if (tag->ice_ufrag[0] == '\0' || tag->ice_pwd[0] == '\0')
		return answer_fail(error, KT_SDP_ERROR_NO_ICE_CREDENTIALS,
		                   "offer m= line \"%s\" lacks a=ice-ufrag/a=ice-pwd", tag_mid);
	if (g_ascii_strcasecmp(tag->fingerprint_alg, "sha-256") != 0)
		return answer_fail(error, KT_SDP_ERROR_NO_FINGERPRINT,
		                   "offer m= line \"%s\" has no sha-256 a=fingerprint", tag_mid);
	for (guint i = 0; i < kt_sdp_get_n_media(a->offer); i++) {
		const KtSdpMedia *m = kt_sdp_get_media(a->offer, i);
		if (is_rtp_media(m) && is_enabled_bundled(a->offer, m) && !m->rtcp_mux &&
		    !(m->bundle_only && m != tag))
			return answer_fail(error, KT_SDP_ERROR_NO_RTCP_MUX,
			                   "offer m= line \"%s\" lacks a=rtcp-mux (RFC 5761)",
			                   m->mid);
	}
	return choose_dtls_role(tag, &a->dtls_active, error);
}

/* Baseline-family H.264 with packetization-mode=1 forwards to every browser (RFC 6184
 * §8.1: a missing profile-level-id means 42000a, a missing mode means 0). */
static int h264_score(const KtSdpCodec *c)
{
	char mode[8] = "0", profile[16] = "42000a";
	kt_sdp_fmtp_get(c->fmtp, "packetization-mode", mode, sizeof mode);
	kt_sdp_fmtp_get(c->fmtp, "profile-level-id", profile, sizeof profile);
	return (strcmp(mode, "1") == 0 ? 2 : 0) + (g_ascii_strncasecmp(profile, "42", 2) == 0);
}

static const KtSdpCodec *choose_codec(const KtSdpMedia *m, const char *prefs)
{
	g_auto(GStrv) names = g_strsplit(prefs != NULL ? prefs : "", ",", 0);
	for (guint n = 0; names[n] != NULL; n++) {
		const char *want = g_strstrip(names[n]);
		const KtSdpCodec *best = NULL;
		int best_score = -1;
		for (guint i = 0; i < m->n_codecs; i++) {
			const KtSdpCodec *c = &m->codecs[i];
			if (want[0] == '\0' || g_ascii_strcasecmp(c->name, want) != 0)
				continue;
			if (g_ascii_strcasecmp(want, "opus") == 0 && c->clock_rate != 48000)
				continue;
			int score = g_ascii_strcasecmp(want, "h264") == 0 ? h264_score(c) : 0;
			if (score > best_score) {
				best = c;
				best_score = score;
			}
		}
		if (best != NULL)
			return best;
	}
	return NULL;
}

static KtSdpDirection our_direction(KtSdpAnswerMode mode, KtSdpDirection offered)
{
	if (mode == KT_SDP_ANSWER_RECEIVE)
		return offered == KT_SDP_DIR_SENDONLY || offered == KT_SDP_DIR_SENDRECV
		           ? KT_SDP_DIR_RECVONLY
		           : KT_SDP_DIR_INACTIVE;
	return offered == KT_SDP_DIR_RECVONLY || offered == KT_SDP_DIR_SENDRECV
	           ? KT_SDP_DIR_SENDONLY
	           : KT_SDP_DIR_INACTIVE;
}

/* "opus, VP8, H264" from every enabled audio/video m= line, for error messages. */
static char *offered_codec_names(const KtSdp *offer)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	for (guint i = 0; i < kt_sdp_get_n_media(offer); i++) {
		const KtSdpMedia *m = kt_sdp_get_media(offer, i);
		for (guint c = 0; is_rtp_media(m) && c < m->n_codecs; c++) {
			const char *name = m->codecs[c].name;
			if (name[0] != '\0' && g_ascii_strcasecmp(name, "rtx") != 0 &&
			    !g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL))
				g_ptr_array_add(names, (gpointer)name);
		}
	}
	g_ptr_array_add(names, NULL);
	return names->len > 1 ? g_strjoinv(", ", (char **)names->pdata) : g_strdup("none");
}

static const char *codec_prefs(const KtSdpAnswerParams *p, KtSdpMediaKind kind)
{
	if (kind == KT_SDP_MEDIA_AUDIO)
		return p->audio_codecs;
	return p->video_codec_required != NULL ? p->video_codec_required : p->video_codecs;
}

/* SEND-mode video lists every preferred codec the receiver has, so the lesson's video can
 * be forwarded whatever codec its publisher (now or after a reconnect) uses. */
static void choose_alternatives(const KtSdpAnswerParams *p, KtSdpAnswerLine *l)
{
	l->n_alts = 0;
	if (p->mode != KT_SDP_ANSWER_SEND || l->m->kind != KT_SDP_MEDIA_VIDEO ||
	    p->video_codec_required != NULL || l->codec == NULL)
		return;
	g_auto(GStrv) names = g_strsplit(p->video_codecs != NULL ? p->video_codecs : "", ",", 0);
	for (guint n = 0; names[n] != NULL && l->n_alts < KT_SDP_MAX_ALT_CODECS; n++) {
		const char *want = g_strstrip(names[n]);
		if (want[0] == '\0' || g_ascii_strcasecmp(want, l->codec->name) == 0)
			continue;
		const KtSdpCodec *c = choose_codec(l->m, want);
		if (c != NULL)
			l->alts[l->n_alts++] = c;
	}
}

/* RFC 2198 §5: the RED format of @m whose a=fmtp lists only @opus as its encodings
 * ("111/111": primary and one level of redundancy), or NULL. */
static const KtSdpCodec *find_red(const KtSdpMedia *m, const KtSdpCodec *opus)
{
	g_autofree char *want = g_strdup_printf("%u", opus->pt);
	for (guint i = 0; i < m->n_codecs; i++) {
		const KtSdpCodec *c = &m->codecs[i];
		if (g_ascii_strcasecmp(c->name, "red") != 0 || c->clock_rate != opus->clock_rate ||
		    c->fmtp[0] == '\0')
			continue;
		g_auto(GStrv) pts = g_strsplit(c->fmtp, "/", 0);
		gboolean only_opus = TRUE;
		for (guint k = 0; pts[k] != NULL; k++)
			only_opus &= strcmp(g_strstrip(pts[k]), want) == 0;
		if (only_opus)
			return c;
	}
	return NULL;
}

/* With audio_red, the RED the offer has around the audio line's Opus. */
static void choose_red(const KtSdpAnswerParams *p, KtSdpAnswerLine *l)
{
	l->red = NULL;
	if (p->audio_red && l->codec != NULL && l->m->kind == KT_SDP_MEDIA_AUDIO &&
	    g_ascii_strcasecmp(l->codec->name, "opus") == 0)
		l->red = find_red(l->m, l->codec);
}

/* Keeps, per kind, the first line with a codec that flows, else the first with a codec. */
static gboolean select_lines(KtSdpAnswerer *a, gboolean *any_rtp, GError **error)
{
	int best[2] = {-1, -1};
	for (guint i = 0; i < a->n_lines; i++) {
		KtSdpAnswerLine *l = &a->lines[i];
		l->dir = our_direction(a->p->mode, l->m->direction);
		if (!is_rtp_media(l->m) || !is_enabled_bundled(a->offer, l->m))
			continue;
		*any_rtp = TRUE;
		int k = l->m->kind == KT_SDP_MEDIA_VIDEO;
		const KtSdpCodec *codec = choose_codec(l->m, codec_prefs(a->p, l->m->kind));
		if (codec == NULL && k == 1 && a->p->video_codec_required != NULL &&
		    l->dir != KT_SDP_DIR_INACTIVE) {
			g_autofree char *offered = offered_codec_names(a->offer);
			g_set_error(error, KT_SDP_ERROR, KT_SDP_ERROR_NO_CODEC,
			            "this lesson forwards %s video but the offer has only %s",
			            a->p->video_codec_required, offered);
			return FALSE;
		}
		if (codec == NULL)
			continue;
		if (a->p->accept_all_lines) {
			/* An idle line (a track the page stopped sending) stays
			 * accepted, answered inactive: rejecting it (port 0) would
			 * stop its transceiver for good, and the page could not
			 * send on it again (RFC 8829 §5.3.1). */
			l->codec = codec;
			continue;
		}
		if (best[k] < 0 || (l->dir != KT_SDP_DIR_INACTIVE &&
		                    a->lines[best[k]].dir == KT_SDP_DIR_INACTIVE)) {
			if (best[k] >= 0)
				a->lines[best[k]].codec = NULL;
			best[k] = i;
			l->codec = codec;
		}
	}
	return TRUE;
}

static gboolean choose_lines(KtSdpAnswerer *a, GError **error)
{
	gboolean any_rtp = FALSE, any_codec = FALSE, any_flowing = FALSE;
	a->n_lines = kt_sdp_get_n_media(a->offer);
	for (guint i = 0; i < a->n_lines; i++)
		a->lines[i].m = kt_sdp_get_media(a->offer, i);
	if (!select_lines(a, &any_rtp, error))
		return FALSE;
	a->tag = -1;
	for (guint i = 0; i < a->n_lines; i++) {
		choose_alternatives(a->p, &a->lines[i]);
		choose_red(a->p, &a->lines[i]);
		if (a->lines[i].codec == NULL)
			continue;
		any_codec = TRUE;
		any_flowing |= a->lines[i].dir != KT_SDP_DIR_INACTIVE;
		if (a->tag < 0)
			a->tag = i;
	}
	if (any_rtp && !any_codec) {
		g_autofree char *offered = offered_codec_names(a->offer);
		const char *audio = codec_prefs(a->p, KT_SDP_MEDIA_AUDIO);
		const char *video = codec_prefs(a->p, KT_SDP_MEDIA_VIDEO);
		return answer_fail(error, KT_SDP_ERROR_NO_CODEC,
		                   "no acceptable codec: offer has %s; Ketang takes %s / %s",
		                   offered, audio != NULL ? audio : "-",
		                   video != NULL ? video : "-");
	}
	if (!any_flowing)
		return answer_fail(error, KT_SDP_ERROR_NO_MEDIA,
		                   a->p->mode == KT_SDP_ANSWER_RECEIVE
		                       ? "offer sends no bundled audio or video (WHIP needs "
		                         "sendonly or sendrecv)"
		                       : "offer receives no bundled audio or video (WHEP needs "
		                         "recvonly or sendrecv)");
	return TRUE;
}

static void write_session(KtSdpAnswerer *a, GString *s)
{
	g_string_append_printf(s, "v=0\r\no=- %" G_GUINT64_FORMAT " 2 IN IP4 0.0.0.0\r\n",
	                       a->p->session_id);
	g_string_append(s, "s=-\r\nt=0 0\r\na=group:BUNDLE");
	for (guint i = 0; i < a->n_lines; i++)
		if (a->lines[i].codec != NULL)
			g_string_append_printf(s, " %s", a->lines[i].m->mid);
	g_string_append(s, "\r\n");
	if (a->p->mode == KT_SDP_ANSWER_SEND && a->p->stream_id != NULL)
		g_string_append_printf(s, "a=msid-semantic:WMS %s\r\n", a->p->stream_id);
}

/* RFC 3264 §6: a rejected stream keeps its media type and a format, with port 0. */
static void write_rejected(const KtSdpMedia *m, GString *s)
{
	g_string_append_printf(s, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->kind_str, m->proto,
	                       m->fmt);
	if (m->mid[0] != '\0')
		g_string_append_printf(s, "a=mid:%s\r\n", m->mid);
}

/* @twcc: the line takes transport-wide congestion control (see twcc_ext); @remb: goog-remb
 * (see takes_remb). */
static void write_codec(const KtSdpMedia *m, const KtSdpCodec *c, gboolean twcc, gboolean remb,
                        GString *s)
{
	g_string_append_printf(s, "a=rtpmap:%u %s/%u", c->pt, c->name, c->clock_rate);
	if (m->kind == KT_SDP_MEDIA_AUDIO && c->channels > 1)
		g_string_append_printf(s, "/%u", c->channels);
	g_string_append(s, "\r\n");
	if (c->fb_nack)
		g_string_append_printf(s, "a=rtcp-fb:%u nack\r\n", c->pt);
	if (c->fb_nack_pli)
		g_string_append_printf(s, "a=rtcp-fb:%u nack pli\r\n", c->pt);
	if (c->fb_ccm_fir)
		g_string_append_printf(s, "a=rtcp-fb:%u ccm fir\r\n", c->pt);
	if (twcc && c->fb_transport_cc)
		g_string_append_printf(s, "a=rtcp-fb:%u transport-cc\r\n", c->pt);
	if (remb && c->fb_goog_remb)
		g_string_append_printf(s, "a=rtcp-fb:%u goog-remb\r\n", c->pt);
	/* Opus: 10 ms packets at least, in-band FEC on (RFC 7587 §7). Others: the offer's
	 * parameters, which for H.264 keep its profile-level-id (RFC 6184 §8.2.2). */
	if (g_ascii_strcasecmp(c->name, "opus") == 0)
		g_string_append_printf(s, "a=fmtp:%u minptime=10;useinbandfec=1\r\n", c->pt);
	else if (c->fmtp[0] != '\0')
		g_string_append_printf(s, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
	if (c->rtx_pt != 0) {
		const KtSdpCodec *rtx = NULL;
		for (guint i = 0; i < m->n_codecs; i++)
			if (m->codecs[i].pt == c->rtx_pt)
				rtx = &m->codecs[i];
		g_string_append_printf(s, "a=rtpmap:%u rtx/%u\r\na=fmtp:%u apt=%u\r\n", c->rtx_pt,
		                       rtx != NULL ? rtx->clock_rate : c->clock_rate, c->rtx_pt,
		                       c->pt);
	}
}

/* RED as offered: its rtpmap and the fmtp naming the Opus it carries (RFC 2198 §5). */
static void write_red(const KtSdpCodec *red, GString *s)
{
	g_string_append_printf(s, "a=rtpmap:%u red/%u", red->pt, red->clock_rate);
	if (red->channels > 1)
		g_string_append_printf(s, "/%u", red->channels);
	g_string_append_printf(s, "\r\na=fmtp:%u %s\r\n", red->pt, red->fmtp);
}

/* Announces our sources (RFC 8830 msid; RFC 5576 a=ssrc, RFC 4588 §8.3 FID group). */
static void write_ssrcs(KtSdpAnswerer *a, const KtSdpAnswerLine *l, GString *s)
{
	const KtSdpAnswerParams *p = a->p;
	gboolean video = l->m->kind == KT_SDP_MEDIA_VIDEO;
	guint32 ssrc = video ? p->video_ssrc : p->audio_ssrc;
	guint32 rtx = video && l->codec->rtx_pt != 0 ? p->video_rtx_ssrc : 0;
	const char *stream = p->stream_id != NULL ? p->stream_id : "-";
	g_autofree char *track = g_strdup_printf("%s-%s", stream, l->m->kind_str);
	g_string_append_printf(s, "a=msid:%s %s\r\n", stream, track);
	if (ssrc == 0)
		return;
	if (rtx != 0)
		g_string_append_printf(s, "a=ssrc-group:FID %u %u\r\n", ssrc, rtx);
	guint32 ssrcs[2] = {ssrc, rtx};
	for (guint i = 0; i < 2 && ssrcs[i] != 0; i++) {
		if (p->cname != NULL)
			g_string_append_printf(s, "a=ssrc:%u cname:%s\r\n", ssrcs[i], p->cname);
		g_string_append_printf(s, "a=ssrc:%u msid:%s %s\r\n", ssrcs[i], stream, track);
	}
}

static guint8 find_ext(const KtSdpMedia *m, const char *uri)
{
	for (guint i = 0; i < m->n_extmaps; i++)
		if (strcmp(m->extmaps[i].uri, uri) == 0)
			return m->extmaps[i].id;
	return 0;
}

static guint8 find_mid_ext(const KtSdpMedia *m)
{
	return find_ext(m, KT_SDP_MID_URI);
}

/* Transport-wide congestion control on flowing lines: Ketang gives feedback on
 * what it receives (publishers' lines) and estimates the bandwidth towards
 * subscribers from theirs (sending lines). */
static guint8 twcc_ext(const KtSdpAnswerLine *l)
{
	return l->dir == KT_SDP_DIR_RECVONLY || l->dir == KT_SDP_DIR_SENDONLY
	           ? find_ext(l->m, KT_SDP_TWCC_URI)
	           : 0;
}

/* REMB towards senders that want it (libwebrtc, Janus and mediasoup do the same): only on
 * lines Ketang receives, whose chosen codec the offer gave goog-remb. */
static gboolean takes_remb(const KtSdpAnswerLine *l)
{
	return l->dir == KT_SDP_DIR_RECVONLY && l->codec->fb_goog_remb;
}

/* abs-send-time, only with goog-remb: nothing else reads it. */
static guint8 abs_send_time_ext(const KtSdpAnswerLine *l)
{
	return takes_remb(l) ? find_ext(l->m, KT_SDP_ABS_SEND_TIME_URI) : 0;
}

/* Playout delay on video Ketang sends: it asks a lossy receiver to buffer long enough
 * for retransmissions to arrive (transport/kt-playout.h). */
static guint8 playout_delay_ext(const KtSdpAnswerLine *l)
{
	return l->dir == KT_SDP_DIR_SENDONLY && strcmp(l->m->kind_str, "video") == 0
	           ? find_ext(l->m, KT_SDP_PLAYOUT_DELAY_URI)
	           : 0;
}

static gboolean takes_simulcast(const KtSdpAnswerer *a, const KtSdpAnswerLine *l)
{
	return a->p->simulcast && a->p->mode == KT_SDP_ANSWER_RECEIVE &&
	       l->dir == KT_SDP_DIR_RECVONLY && kt_sdp_simulcast_receivable(l->m);
}

static void write_accepted(KtSdpAnswerer *a, guint index, GString *s)
{
	const KtSdpAnswerLine *l = &a->lines[index];
	const KtSdpMedia *m = l->m;
	/* RED first: an offerer sends the first format of the answer (RFC 3264 §6.1). */
	g_string_append_printf(s, "m=%s 9 UDP/TLS/RTP/SAVPF", m->kind_str);
	if (l->red != NULL)
		g_string_append_printf(s, " %u", l->red->pt);
	g_string_append_printf(s, " %u", l->codec->pt);
	if (l->codec->rtx_pt != 0)
		g_string_append_printf(s, " %u", l->codec->rtx_pt);
	for (guint i = 0; i < l->n_alts; i++) {
		g_string_append_printf(s, " %u", l->alts[i]->pt);
		if (l->alts[i]->rtx_pt != 0)
			g_string_append_printf(s, " %u", l->alts[i]->rtx_pt);
	}
	g_string_append_printf(s, "\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=%s\r\n", m->mid,
	                       kt_sdp_direction_name(l->dir));
	g_string_append_printf(s, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", a->p->ice_ufrag,
	                       a->p->ice_pwd);
	g_string_append_printf(s, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\n", a->p->fingerprint,
	                       a->dtls_active ? "active" : "passive");
	g_string_append(s, "a=rtcp-mux\r\n");
	if (m->rtcp_rsize)
		g_string_append(s, "a=rtcp-rsize\r\n");
	guint8 mid_ext = find_mid_ext(m);
	if (mid_ext != 0)
		g_string_append_printf(s, "a=extmap:%u " KT_SDP_MID_URI "\r\n", mid_ext);
	guint8 twcc = twcc_ext(l);
	if (twcc != 0)
		g_string_append_printf(s, "a=extmap:%u " KT_SDP_TWCC_URI "\r\n", twcc);
	guint8 abs = abs_send_time_ext(l);
	if (abs != 0)
		g_string_append_printf(s, "a=extmap:%u " KT_SDP_ABS_SEND_TIME_URI "\r\n", abs);
	guint8 playout = playout_delay_ext(l);
	if (playout != 0)
		g_string_append_printf(s, "a=extmap:%u " KT_SDP_PLAYOUT_DELAY_URI "\r\n", playout);
	if (l->red != NULL)
		write_red(l->red, s);
	if (takes_simulcast(a, l))
		kt_sdp_simulcast_write_recv(m, s);
	gboolean remb = takes_remb(l);
	write_codec(m, l->codec, twcc != 0, remb, s);
	for (guint i = 0; i < l->n_alts; i++)
		write_codec(m, l->alts[i], twcc != 0, remb, s);
	if (l->dir == KT_SDP_DIR_SENDONLY)
		write_ssrcs(a, l, s);
	if ((int)index == a->tag && a->p->candidates != NULL) {
		for (guint i = 0; a->p->candidates[i] != NULL; i++)
			g_string_append_printf(s, "a=%s\r\n", a->p->candidates[i]);
		g_string_append(s, "a=end-of-candidates\r\n");
	}
}

static void lower_name(char *dst, gsize size, const char *name)
{
	g_strlcpy(dst, name, size);
	for (char *p = dst; *p != '\0'; p++)
		*p = g_ascii_tolower(*p);
}

static void fill_negotiated(KtSdpAnswerer *a, guint index, KtSdpNegotiated *n)
{
	const KtSdpAnswerLine *l = &a->lines[index];
	const KtSdpCodec *c = l->codec;
	g_strlcpy(n->mid, l->m->mid, sizeof n->mid);
	n->kind = l->m->kind;
	n->dtls_active = a->dtls_active;
	if (c == NULL) {
		n->direction = KT_SDP_DIR_INACTIVE;
		return;
	}
	n->active = TRUE;
	n->direction = l->dir;
	n->pt = c->pt;
	lower_name(n->codec, sizeof n->codec, c->name);
	for (guint i = 0; i < l->n_alts; i++) {
		lower_name(n->alt[i].codec, sizeof n->alt[i].codec, l->alts[i]->name);
		n->alt[i].pt = l->alts[i]->pt;
		n->alt[i].rtx_pt = l->alts[i]->rtx_pt;
	}
	n->n_alt = l->n_alts;
	n->clock_rate = c->clock_rate;
	n->channels = c->channels;
	n->rtx_pt = c->rtx_pt;
	n->red_pt = l->red != NULL ? l->red->pt : 0;
	n->nack = c->fb_nack;
	n->pli = c->fb_nack_pli;
	n->fir = c->fb_ccm_fir;
	n->twcc_ext_id = twcc_ext(l);
	n->transport_cc = n->twcc_ext_id != 0 && c->fb_transport_cc;
	n->goog_remb = takes_remb(l);
	n->abs_send_time_ext_id = abs_send_time_ext(l);
	n->playout_delay_ext_id = playout_delay_ext(l);
	n->mid_ext_id = find_mid_ext(l->m);
	n->remote_ssrc = l->m->ssrc;
	n->remote_rtx_ssrc = l->m->rtx_ssrc;
	if (takes_simulcast(a, l)) {
		n->n_rids = l->m->n_simulcast_send;
		for (guint i = 0; i < n->n_rids; i++)
			g_strlcpy(n->rids[i], l->m->simulcast_send[i].rid, sizeof n->rids[i]);
		n->rid_ext_id = kt_sdp_media_ext_id(l->m, KT_SDP_RID_URI);
		n->rrid_ext_id = kt_sdp_media_ext_id(l->m, KT_SDP_RRID_URI);
	}
}

char *kt_sdp_answer_build(const KtSdp *offer, const KtSdpAnswerParams *p,
                          KtSdpNegotiated **negotiated, guint *n_negotiated, GError **error)
{
	g_return_val_if_fail(offer != NULL && p != NULL, NULL);
	g_return_val_if_fail(p->ice_ufrag != NULL && p->ice_pwd != NULL, NULL);
	g_return_val_if_fail(p->fingerprint != NULL, NULL);
	g_return_val_if_fail(negotiated != NULL && n_negotiated != NULL, NULL);
	KtSdpAnswerer a = {.offer = offer, .p = p};
	if (!check_transport(&a, error) || !choose_lines(&a, error))
		return NULL;
	GString *s = g_string_sized_new(2048);
	write_session(&a, s);
	KtSdpNegotiated *out = g_new0(KtSdpNegotiated, MAX(a.n_lines, 1));
	for (guint i = 0; i < a.n_lines; i++) {
		if (a.lines[i].codec != NULL)
			write_accepted(&a, i, s);
		else
			write_rejected(a.lines[i].m, s);
		fill_negotiated(&a, i, &out[i]);
	}
	*negotiated = out;
	*n_negotiated = a.n_lines;
	return g_string_free(s, FALSE);
}
