/* Tests for the subscribe-connection offer builder and answer reader (kt-sdp-offer.h). The
 * answers are Chrome's (tests/unit/data/sdp/chrome-subscribe-answer.sdp is what Debian's
 * chromium answered to the five-stream offer built here) and edits of them. */
#include "kt-sdp-offer.h"

#include <string.h>

#define OUR_FP                                                                                     \
	"11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"     \
	"DD:EE:FF:00"
#define CHROME_FP                                                                                  \
	"A8:3E:AE:05:4F:85:D6:D3:72:63:1E:01:87:27:73:BC:37:7C:F9:45:84:3F:97:41:02:3A:78:02:"     \
	"12:CC:B2:11"

static const char *const our_candidates[] = {
    "candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host",
    "candidate:2 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000",
    NULL,
};

static KtSdpOfferParams params(guint64 version)
{
	return (KtSdpOfferParams){
	    .ice_ufrag = "kTuf",
	    .ice_pwd = "ketangpassword0123456789",
	    .fingerprint = OUR_FP,
	    .candidates = our_candidates,
	    .video_codecs = "vp8,h264",
	    .cname = "ketang-cname",
	    .session_id = 1234567890123ULL,
	    .version = version,
	};
}

static KtSdpOfferStream stream(const char *mid, KtSdpMediaKind kind, const char *from,
                               const char *source, guint32 ssrc)
{
	KtSdpOfferStream s = {.kind = kind, .active = TRUE, .ssrc = ssrc};
	s.rtx_ssrc = kind == KT_SDP_MEDIA_VIDEO ? ssrc + 1 : 0;
	g_strlcpy(s.mid, mid, sizeof s.mid);
	g_strlcpy(s.stream_id, from, sizeof s.stream_id);
	g_snprintf(s.track_id, sizeof s.track_id, "%s-%s", from, source);
	return s;
}

/* What a classroom receives: the teacher's three sources and the on-stage classroom. */
static void five_streams(KtSdpOfferStream s[5])
{
	s[0] = stream("0", KT_SDP_MEDIA_VIDEO, "p1", "camera", 1000);
	s[1] = stream("1", KT_SDP_MEDIA_VIDEO, "p1", "courseware", 2000);
	s[2] = stream("2", KT_SDP_MEDIA_AUDIO, "p1", "audio", 3000);
	s[3] = stream("3", KT_SDP_MEDIA_VIDEO, "p7", "camera", 4000);
	s[4] = stream("4", KT_SDP_MEDIA_AUDIO, "p7", "audio", 5000);
}

static char *build_ok(const KtSdpOfferParams *p, const KtSdpOfferStream *s, guint n,
                      KtSdp **reparsed)
{
	GError *error = NULL;
	char *offer = kt_sdp_offer_build(p, s, n, &error);
	g_assert_no_error(error);
	g_assert_nonnull(offer);
	*reparsed = kt_sdp_parse(offer, strlen(offer), &error);
	g_assert_no_error(error);
	return offer;
}

static void build_fails(const KtSdpOfferParams *p, const KtSdpOfferStream *s, guint n, int code,
                        const char *message_part)
{
	GError *error = NULL;
	char *offer = kt_sdp_offer_build(p, s, n, &error);
	g_assert_null(offer);
	g_assert_error(error, KT_SDP_ERROR, code);
	if (strstr(error->message, message_part) == NULL)
		g_error("\"%s\" not in error \"%s\"", message_part, error->message);
	g_error_free(error);
}

static guint count_lines(const char *text, const char *line)
{
	g_autofree char *needle = g_strconcat("\r\n", line, "\r\n", NULL);
	g_autofree char *haystack = g_strconcat("\r\n", text, NULL);
	guint n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += 2)
		n++;
	return n;
}

static void test_build_none(void)
{
	KtSdpOfferParams p = params(1);
	build_fails(&p, NULL, 0, KT_SDP_ERROR_NO_MEDIA, "at least one stream");
}

/* One stream, the whole offer line by line. */
static void test_build_one(void)
{
	KtSdpOfferParams p = params(1);
	KtSdpOfferStream s = stream("0", KT_SDP_MEDIA_AUDIO, "p1", "audio", 3000);
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, &s, 1, &sdp);
	g_assert_cmpstr(offer, ==,
	                "v=0\r\n"
	                "o=- 1234567890123 1 IN IP4 0.0.0.0\r\n"
	                "s=-\r\n"
	                "t=0 0\r\n"
	                "a=group:BUNDLE 0\r\n"
	                "a=ice-options:trickle\r\n"
	                "a=msid-semantic:WMS *\r\n"
	                "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
	                "c=IN IP4 0.0.0.0\r\n"
	                "a=mid:0\r\n"
	                "a=ice-ufrag:kTuf\r\n"
	                "a=ice-pwd:ketangpassword0123456789\r\n"
	                "a=fingerprint:sha-256 " OUR_FP "\r\n"
	                "a=setup:actpass\r\n"
	                "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
	                "a=extmap:2 http://www.ietf.org/id/"
	                "draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
	                "a=sendonly\r\n"
	                "a=rtcp-mux\r\n"
	                "a=rtcp-rsize\r\n"
	                "a=rtpmap:111 opus/48000/2\r\n"
	                "a=rtcp-fb:111 transport-cc\r\n"
	                "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
	                "a=msid:p1 p1-audio\r\n"
	                "a=ssrc:3000 cname:ketang-cname\r\n"
	                "a=ssrc:3000 msid:p1 p1-audio\r\n"
	                "a=candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host\r\n"
	                "a=candidate:2 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr "
	                "10.0.0.5 rport 40000\r\n"
	                "a=end-of-candidates\r\n");
	const KtSdpMedia *m = kt_sdp_get_media(sdp, 0);
	g_assert_cmpuint(m->n_codecs, ==, 1);
	g_assert_cmpstr(m->codecs[0].name, ==, "opus");
	g_assert_cmpuint(m->codecs[0].channels, ==, 2);
	g_assert_true(m->codecs[0].fb_transport_cc);
	g_assert_false(m->codecs[0].fb_nack);
	g_assert_cmpuint(m->ssrc, ==, 3000);
	g_assert_cmpuint(m->rtx_ssrc, ==, 0);
	g_assert_cmpuint(m->candidates->len, ==, 2);
}

static void check_video(const KtSdpMedia *m, guint32 ssrc, const char *msid)
{
	g_assert_cmpint(m->kind, ==, KT_SDP_MEDIA_VIDEO);
	g_assert_cmpuint(m->n_codecs, ==, 4);
	static const guint8 pts[] = {96, 97, 102, 103};
	static const char *const names[] = {"VP8", "rtx", "H264", "rtx"};
	for (guint i = 0; i < 4; i++) {
		g_assert_cmpuint(m->codecs[i].pt, ==, pts[i]);
		g_assert_cmpstr(m->codecs[i].name, ==, names[i]);
		g_assert_cmpuint(m->codecs[i].clock_rate, ==, 90000);
	}
	g_assert_cmpuint(m->codecs[0].rtx_pt, ==, 97);
	g_assert_cmpuint(m->codecs[2].rtx_pt, ==, 103);
	for (guint i = 0; i < 4; i += 2) {
		const KtSdpCodec *c = &m->codecs[i];
		g_assert_true(c->fb_nack && c->fb_nack_pli && c->fb_ccm_fir && c->fb_transport_cc);
		g_assert_false(c->fb_goog_remb);
	}
	g_assert_cmpstr(m->codecs[2].fmtp, ==,
	                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
	g_assert_cmpuint(m->ssrc, ==, ssrc);
	g_assert_cmpuint(m->rtx_ssrc, ==, ssrc + 1);
	g_assert_cmpstr(m->msid, ==, msid);
}

static void check_transport(const KtSdpMedia *m, const char *mid, KtSdpDirection dir)
{
	g_assert_cmpstr(m->mid, ==, mid);
	g_assert_cmpuint(m->port, ==, 9);
	g_assert_cmpstr(m->proto, ==, "UDP/TLS/RTP/SAVPF");
	g_assert_cmpint(m->direction, ==, dir);
	g_assert_cmpstr(m->ice_ufrag, ==, "kTuf");
	g_assert_cmpstr(m->ice_pwd, ==, "ketangpassword0123456789");
	g_assert_cmpstr(m->fingerprint_alg, ==, "sha-256");
	g_assert_cmpstr(m->fingerprint, ==, OUR_FP);
	g_assert_cmpstr(m->setup, ==, "actpass");
	g_assert_true(m->rtcp_mux && m->rtcp_rsize);
	/* Video also asks for a playout delay when the receiver is lossy. */
	g_assert_cmpuint(m->n_extmaps, ==, m->kind == KT_SDP_MEDIA_VIDEO ? 3 : 2);
	g_assert_cmpuint(m->extmaps[0].id, ==, 1);
	g_assert_cmpstr(m->extmaps[0].uri, ==, "urn:ietf:params:rtp-hdrext:sdes:mid");
	g_assert_cmpuint(m->extmaps[1].id, ==, 2);
	g_assert_cmpstr(
	    m->extmaps[1].uri, ==,
	    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
	if (m->kind == KT_SDP_MEDIA_VIDEO) {
		g_assert_cmpuint(m->extmaps[2].id, ==, 3);
		g_assert_cmpstr(m->extmaps[2].uri, ==,
		                "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay");
	}
}

static void test_build_five(void)
{
	KtSdpOfferParams p = params(1);
	KtSdpOfferStream s[5];
	five_streams(s);
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, s, 5, &sdp);
	g_assert_cmpuint(kt_sdp_get_n_media(sdp), ==, 5);
	g_assert_cmpstr(kt_sdp_get_bundle_group(sdp), ==, "0 1 2 3 4");
	g_assert_cmpuint(count_lines(offer, "a=ssrc-group:FID 1000 1001"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "a=ssrc:1001 cname:ketang-cname"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "a=ssrc:1001 msid:p1 p1-camera"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "a=sendonly"), ==, 5);
	g_assert_cmpuint(count_lines(offer, "a=end-of-candidates"), ==, 1);
	g_assert_null(strstr(offer, "a=ice-lite"));
	/* Every codec but RTX: 3 video lines x (VP8, H.264) + 2 audio lines. */
	g_assert_cmpuint(count_lines(offer, "a=rtcp-fb:96 transport-cc"), ==, 3);
	g_assert_cmpuint(count_lines(offer, "a=rtcp-fb:102 transport-cc"), ==, 3);
	g_assert_cmpuint(count_lines(offer, "a=rtcp-fb:111 transport-cc"), ==, 2);
	g_assert_null(strstr(offer, "a=rtcp-fb:97"));
	for (guint i = 0; i < 5; i++) {
		const KtSdpMedia *m = kt_sdp_get_media(sdp, i);
		check_transport(m, s[i].mid, KT_SDP_DIR_SENDONLY);
		g_assert_cmpstr(m->cname, ==, "ketang-cname");
		g_assert_cmpuint(m->candidates->len, ==, i == 0 ? 2 : 0);
		g_assert_true(m->end_of_candidates == (i == 0));
	}
	check_video(kt_sdp_get_media(sdp, 0), 1000, "p1 p1-camera");
	check_video(kt_sdp_get_media(sdp, 1), 2000, "p1 p1-courseware");
	check_video(kt_sdp_get_media(sdp, 3), 4000, "p7 p7-camera");
	const KtSdpMedia *a = kt_sdp_get_media(sdp, 4);
	g_assert_cmpint(a->kind, ==, KT_SDP_MEDIA_AUDIO);
	g_assert_cmpstr(a->msid, ==, "p7 p7-audio");
	g_assert_cmpuint(a->ssrc, ==, 5000);
	g_assert_cmpuint(a->rtx_ssrc, ==, 0);
}

static void test_build_codecs(void)
{
	KtSdpOfferParams p = params(1);
	KtSdpOfferStream s = stream("v", KT_SDP_MEDIA_VIDEO, "p1", "camera", 10);
	struct {
		const char *prefs, *m_line;
	} cases[] = {
	    {NULL, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103"},
	    {"h264", "m=video 9 UDP/TLS/RTP/SAVPF 102 103"},
	    {" H264 , vp8,h264", "m=video 9 UDP/TLS/RTP/SAVPF 102 103 96 97"},
	    {"av1,vp8", "m=video 9 UDP/TLS/RTP/SAVPF 96 97"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		p.video_codecs = cases[i].prefs;
		g_autoptr(KtSdp) sdp = NULL;
		g_autofree char *offer = build_ok(&p, &s, 1, &sdp);
		g_assert_cmpuint(count_lines(offer, cases[i].m_line), ==, 1);
	}
	p.video_codecs = "av1, vp9";
	build_fails(&p, &s, 1, KT_SDP_ERROR_NO_CODEC, "av1, vp9");
	/* Audio lines are opus whatever the video preference. */
	KtSdpOfferStream a = stream("a", KT_SDP_MEDIA_AUDIO, "p1", "audio", 11);
	p.video_codecs = "h264";
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, &a, 1, &sdp);
	g_assert_cmpuint(count_lines(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), ==, 1);
	/* No SSRC known yet: msid only; no candidates: trickled, no end-of-candidates. */
	s.ssrc = s.rtx_ssrc = 0;
	p.candidates = NULL;
	g_autoptr(KtSdp) sdp2 = NULL;
	g_autofree char *offer2 = build_ok(&p, &s, 1, &sdp2);
	g_assert_null(strstr(offer2, "a=ssrc"));
	g_assert_null(strstr(offer2, "candidate"));
	g_assert_cmpuint(count_lines(offer2, "a=msid:p1 p1-camera"), ==, 1);
}

/* RFC 8829 §5.2.2: the same lines in the same order; the o= version grows. */
static void test_renegotiate(void)
{
	KtSdpOfferStream s[6];
	five_streams(s);
	KtSdpOfferParams p = params(2);
	/* p7 leaves the stage: its camera line stays, inactive. A new audio is appended. */
	s[3].active = FALSE;
	s[5] = stream("5", KT_SDP_MEDIA_AUDIO, "p9", "audio", 6000);
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, s, 6, &sdp);
	g_assert_true(g_str_has_prefix(offer, "v=0\r\no=- 1234567890123 2 IN IP4 0.0.0.0\r\n"));
	g_assert_cmpstr(kt_sdp_get_bundle_group(sdp), ==, "0 1 2 3 4 5");
	const KtSdpMedia *idle = kt_sdp_get_media(sdp, 3);
	check_transport(idle, "3", KT_SDP_DIR_INACTIVE);
	g_assert_cmpuint(idle->n_codecs, ==, 4);
	g_assert_cmpstr(idle->msid, ==, "");
	g_assert_cmpuint(idle->ssrc, ==, 0);
	g_assert_null(strstr(offer, "p7-camera"));
	check_transport(kt_sdp_get_media(sdp, 5), "5", KT_SDP_DIR_SENDONLY);
	g_assert_cmpstr(kt_sdp_get_media(sdp, 5)->msid, ==, "p9 p9-audio");

	/* The next camera reuses the idle video line, keeping mid 3. */
	s[3] = stream("3", KT_SDP_MEDIA_VIDEO, "p8", "camera", 7000);
	p.version = 3;
	g_autoptr(KtSdp) sdp3 = NULL;
	g_autofree char *offer3 = build_ok(&p, s, 6, &sdp3);
	g_assert_true(g_str_has_prefix(offer3, "v=0\r\no=- 1234567890123 3 IN IP4 0.0.0.0\r\n"));
	for (guint i = 0; i < 6; i++)
		g_assert_cmpstr(kt_sdp_get_media(sdp3, i)->mid, ==, s[i].mid);
	check_transport(kt_sdp_get_media(sdp3, 3), "3", KT_SDP_DIR_SENDONLY);
	check_video(kt_sdp_get_media(sdp3, 3), 7000, "p8 p8-camera");
}

/* A line the answer rejected keeps port 0 and leaves BUNDLE; candidates move to the first
 * bundled line (the offerer BUNDLE-tag, RFC 9143 §7.2). */
static void test_rejected_line(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	s[0].rejected = TRUE;
	s[0].active = FALSE;
	KtSdpOfferParams p = params(4);
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, s, 5, &sdp);
	g_assert_cmpstr(kt_sdp_get_bundle_group(sdp), ==, "1 2 3 4");
	const KtSdpMedia *m = kt_sdp_get_media(sdp, 0);
	g_assert_cmpuint(m->port, ==, 0);
	g_assert_cmpstr(m->mid, ==, "0");
	g_assert_cmpint(m->direction, ==, KT_SDP_DIR_INACTIVE);
	g_assert_cmpstr(m->ice_ufrag, ==, "");
	g_assert_cmpuint(count_lines(offer, "m=video 0 UDP/TLS/RTP/SAVPF 96 97 102 103"), ==, 1);
	g_assert_cmpuint(kt_sdp_get_media(sdp, 1)->candidates->len, ==, 2);
	g_assert_true(kt_sdp_get_media(sdp, 1)->end_of_candidates);
	/* Every line rejected: no BUNDLE group, still a valid offer. */
	for (guint i = 0; i < 5; i++)
		s[i].rejected = TRUE;
	g_autoptr(KtSdp) none = NULL;
	g_autofree char *offer2 = build_ok(&p, s, 5, &none);
	g_assert_null(kt_sdp_get_bundle_group(none));
	g_assert_null(strstr(offer2, "candidate"));
}

static void test_build_bad_streams(void)
{
	KtSdpOfferParams p = params(1);
	KtSdpOfferStream s[KT_SDP_MAX_MEDIA + 1];
	five_streams(s);
	g_strlcpy(s[2].mid, "1", sizeof s[2].mid);
	build_fails(&p, s, 5, KT_SDP_ERROR_MALFORMED, "share mid \"1\"");
	five_streams(s);
	const char *bad_mids[] = {"", "a b", "x\r\na=evil", "01234567890123456"};
	for (guint i = 0; i < G_N_ELEMENTS(bad_mids); i++) {
		g_strlcpy(s[1].mid, bad_mids[i], sizeof s[1].mid);
		build_fails(&p, s, 5, KT_SDP_ERROR_MALFORMED, "mid must be");
	}
	five_streams(s);
	g_strlcpy(s[4].track_id, "p7 audio", sizeof s[4].track_id);
	build_fails(&p, s, 5, KT_SDP_ERROR_MALFORMED, "stream 4 (mid 4)");
	s[4].active = FALSE; /* ids of an inactive line are not written, so not checked */
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, s, 5, &sdp);
	five_streams(s);
	s[0].stream_id[0] = '\0';
	build_fails(&p, s, 5, KT_SDP_ERROR_MALFORMED, "stream and track ids");
	five_streams(s);
	s[1].kind = KT_SDP_MEDIA_APPLICATION;
	build_fails(&p, s, 5, KT_SDP_ERROR_MALFORMED, "only audio and video");
	for (guint i = 0; i < G_N_ELEMENTS(s); i++) {
		g_autofree char *mid = g_strdup_printf("%u", i);
		s[i] = stream(mid, KT_SDP_MEDIA_AUDIO, "p1", mid, 100 + i);
	}
	build_fails(&p, s, G_N_ELEMENTS(s), KT_SDP_ERROR_TOO_LARGE, "at most 64");
	g_autoptr(KtSdp) full = NULL;
	g_autofree char *offer16 = build_ok(&p, s, KT_SDP_MAX_MEDIA, &full);
	g_assert_cmpuint(kt_sdp_get_n_media(full), ==, KT_SDP_MAX_MEDIA);
}

/* ---- answers ---- */

/* Offset of @needle in @hay (asserted present). Out of line: GCC 12 at -O3
 * otherwise mistakes a pointer difference into g_autofree memory for a
 * dangling pointer. */
G_NO_INLINE static gsize index_of(const char *hay, const char *needle)
{
	const char *at = strstr(hay, needle);

	g_assert_nonnull(at);
	return (gsize)(at - hay);
}

static char *load_answer(void)
{
	g_autofree char *path =
	    g_build_filename(KT_TEST_DATA, "sdp", "chrome-subscribe-answer.sdp", NULL);
	char *text = NULL;
	GError *error = NULL;
	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	return text;
}

/* The Chrome answer with every match of @pattern (multi-line regex) replaced. */
static char *edit(const char *text, const char *pattern, const char *replacement)
{
	GError *error = NULL;
	g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, &error);
	g_assert_no_error(error);
	char *out = g_regex_replace(re, text, -1, 0, replacement, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(out, !=, text); /* the edit must change something */
	return out;
}

static KtSdpOfferResult *read_ok(const char *answer, const KtSdpOfferStream *s, guint n)
{
	GError *error = NULL;
	KtSdpOfferResult *r = kt_sdp_offer_read_answer(answer, strlen(answer), s, n, &error);
	g_assert_no_error(error);
	g_assert_nonnull(r);
	g_assert_cmpuint(r->n_streams, ==, n);
	return r;
}

static void read_fails(const char *answer, gsize len, const KtSdpOfferStream *s, guint n, int code,
                       const char *message_part)
{
	GError *error = NULL;
	KtSdpOfferResult *r = kt_sdp_offer_read_answer(answer, len, s, n, &error);
	g_assert_null(r);
	g_assert_error(error, KT_SDP_ERROR, code);
	if (strstr(error->message, message_part) == NULL)
		g_error("\"%s\" not in error \"%s\"", message_part, error->message);
	g_error_free(error);
}

static void check_accepted_video(const KtSdpAnswerStream *a, const char *mid)
{
	g_assert_cmpstr(a->mid, ==, mid);
	g_assert_cmpint(a->kind, ==, KT_SDP_MEDIA_VIDEO);
	g_assert_true(a->accepted);
	g_assert_false(a->rejected);
	g_assert_cmpint(a->direction, ==, KT_SDP_DIR_RECVONLY);
	g_assert_cmpuint(a->pt_for_vp8, ==, 96);
	g_assert_cmpuint(a->rtx_for_vp8, ==, 97);
	g_assert_cmpuint(a->pt_for_h264, ==, 102);
	g_assert_cmpuint(a->rtx_for_h264, ==, 103);
	g_assert_cmpuint(a->pt_opus, ==, 0);
	g_assert_true(a->nack && a->pli && a->fir);
	g_assert_cmpuint(a->mid_ext_id, ==, 1);
	g_assert_cmpuint(a->twcc_ext_id, ==, 2);
	g_assert_true(a->transport_cc);
}

static void test_read_chrome(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	g_autofree char *answer = load_answer();
	g_autoptr(KtSdpOfferResult) r = read_ok(answer, s, 5);
	g_assert_cmpstr(r->ice_ufrag, ==, "PKto");
	g_assert_cmpstr(r->ice_pwd, ==, "3X9NRK4p+Uipgm1XwY0QvbSX");
	g_assert_cmpstr(r->fingerprint, ==, CHROME_FP);
	g_assert_true(r->dtls_active);
	g_assert_cmpuint(r->candidates->len, ==, 0); /* Chrome trickles them */
	g_assert_false(r->end_of_candidates);
	for (guint i = 0; i < 5; i++) {
		g_assert_cmpstr(r->streams[i].mid, ==, s[i].mid);
		g_assert_cmpint(r->streams[i].kind, ==, s[i].kind);
	}
	check_accepted_video(&r->streams[0], "0");
	check_accepted_video(&r->streams[1], "1");
	check_accepted_video(&r->streams[3], "3");
	for (guint i = 2; i < 5; i += 2) {
		const KtSdpAnswerStream *a = &r->streams[i];
		g_assert_cmpint(a->kind, ==, KT_SDP_MEDIA_AUDIO);
		g_assert_true(a->accepted);
		g_assert_cmpuint(a->pt_opus, ==, 111);
		g_assert_cmpuint(a->pt_for_vp8 + a->pt_for_h264, ==, 0);
		g_assert_false(a->nack || a->pli || a->fir);
		g_assert_cmpuint(a->twcc_ext_id, ==, 2);
		g_assert_true(a->transport_cc);
	}

	/* A browser that drops either half of TWCC: none (RFC 8285 §5 lets an
	 * answerer leave an extension out; without the feedback there is
	 * nothing to estimate from). */
	g_autofree char *no_ext = edit(answer, "^a=extmap:2 .*\r\n", "");
	g_autofree char *no_fb = edit(answer, "^a=rtcp-fb:[0-9]+ transport-cc\r\n", "");
	g_autoptr(KtSdpOfferResult) r2 = read_ok(no_ext, s, 5);
	g_autoptr(KtSdpOfferResult) r3 = read_ok(no_fb, s, 5);
	for (guint i = 0; i < 5; i++) {
		g_assert_true(r2->streams[i].accepted && r3->streams[i].accepted);
		g_assert_cmpuint(r2->streams[i].twcc_ext_id + r3->streams[i].twcc_ext_id, ==, 0);
		g_assert_false(r2->streams[i].transport_cc || r3->streams[i].transport_cc);
	}

	/* Playout delay: this answer (recorded before Ketang offered it) has none;
	 * one that keeps it has it on video only, where it was offered. */
	for (guint i = 0; i < 5; i++)
		g_assert_cmpuint(r->streams[i].playout_delay_ext_id, ==, 0);
	g_autofree char *playout =
	    edit(answer, "^(a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n)",
	         "\\1a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n");
	g_autoptr(KtSdpOfferResult) r4 = read_ok(playout, s, 5);
	for (guint i = 0; i < 5; i++)
		g_assert_cmpuint(r4->streams[i].playout_delay_ext_id, ==,
		                 s[i].kind == KT_SDP_MEDIA_VIDEO ? 3 : 0);
}

/* Audio lines asked to carry RED offer it after Opus; video ignores the flag. */
static void test_build_red(void)
{
	KtSdpOfferParams p = params(1);
	KtSdpOfferStream s[3] = {
	    stream("0", KT_SDP_MEDIA_AUDIO, "p1", "audio", 3000),
	    stream("1", KT_SDP_MEDIA_VIDEO, "p1", "camera", 1000),
	    stream("2", KT_SDP_MEDIA_AUDIO, "p7", "audio", 5000),
	};
	s[0].red = s[1].red = s[2].red = TRUE;
	s[2].rejected = TRUE;
	g_autoptr(KtSdp) sdp = NULL;
	g_autofree char *offer = build_ok(&p, s, 3, &sdp);

	g_assert_cmpuint(count_lines(offer, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "m=audio 0 UDP/TLS/RTP/SAVPF 111 63"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "a=rtpmap:63 red/48000/2"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "a=fmtp:63 111/111"), ==, 1);
	g_assert_cmpuint(count_lines(offer, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103"), ==, 1);
	const KtSdpMedia *a = kt_sdp_get_media(sdp, 0);
	g_assert_cmpuint(a->n_codecs, ==, 2);
	g_assert_cmpstr(a->codecs[0].name, ==, "opus");
	g_assert_cmpstr(a->codecs[1].name, ==, "red");
	g_assert_cmpuint(a->codecs[1].clock_rate, ==, 48000);
	g_assert_cmpuint(a->codecs[1].channels, ==, 2);
	g_assert_cmpstr(a->codecs[1].fmtp, ==, "111/111");
}

/* The browser keeps RED on the lines offered with it; RED on a line offered
 * without it does not fit the offer. */
static void test_read_red(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	s[2].red = s[4].red = TRUE;
	g_autofree char *answer = load_answer();
	g_autofree char *with_red =
	    edit(answer, "^(m=audio 9 UDP/TLS/RTP/SAVPF 111)\r\n", "\\1 63\r\n");
	g_autofree char *red = edit(with_red, "^(a=fmtp:111 minptime=10;useinbandfec=1\r\n)",
	                            "\\1a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n");
	{
		g_autoptr(KtSdpOfferResult) r = read_ok(red, s, 5);
		for (guint i = 2; i < 5; i += 2) {
			g_assert_true(r->streams[i].accepted);
			g_assert_cmpuint(r->streams[i].pt_opus, ==, 111);
			g_assert_cmpuint(r->streams[i].pt_red, ==, 63);
			g_assert_false(r->streams[i].nack || r->streams[i].pli);
		}
		g_assert_cmpuint(r->streams[0].pt_red, ==, 0);
	}
	{
		/* Offered, not taken: plain Opus. */
		g_autoptr(KtSdpOfferResult) r = read_ok(answer, s, 5);
		g_assert_cmpuint(r->streams[2].pt_opus, ==, 111);
		g_assert_cmpuint(r->streams[2].pt_red, ==, 0);
	}
	/* RED first in the answer: Opus is still the line's codec. */
	g_autofree char *red_first = edit(red, "^m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n",
	                                  "m=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n");
	{
		g_autoptr(KtSdpOfferResult) r = read_ok(red_first, s, 5);
		g_assert_cmpuint(r->streams[4].pt_opus, ==, 111);
		g_assert_cmpuint(r->streams[4].pt_red, ==, 63);
	}
	/* A RED-only answer names no codec Ketang sends. */
	g_autofree char *red_only = edit(red, "^m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\n",
	                                 "m=audio 9 UDP/TLS/RTP/SAVPF 63\r\n");
	g_autofree char *red_only2 = edit(red_only, "^a=(rtpmap|fmtp):111 .*\r\n", "");
	read_fails(red_only2, strlen(red_only2), s, 5, KT_SDP_ERROR_NO_CODEC, "without any codec");
	s[4].red = FALSE;
	read_fails(red, strlen(red), s, 5, KT_SDP_ERROR_MISMATCH,
	           "payload type 63, which Ketang did not offer");
}

/* Answers Chrome gives in other situations, made by editing the real one. */
static void test_read_variants(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	g_autofree char *answer = load_answer();

	/* A browser without H.264: VP8 only; its feedback without ccm fir. */
	g_autofree char *no_h264 = edit(answer, "^a=(rtpmap|rtcp-fb|fmtp):10[23] .*\r\n", "");
	g_autofree char *vp8 = edit(no_h264, " 96 97 102 103\r\n", " 96 97\r\n");
	g_autofree char *vp8_nofir = edit(vp8, "^a=rtcp-fb:96 ccm fir\r\n", "");
	g_autoptr(KtSdpOfferResult) r = read_ok(vp8_nofir, s, 5);
	g_assert_cmpuint(r->streams[0].pt_for_vp8, ==, 96);
	g_assert_cmpuint(r->streams[0].rtx_for_vp8, ==, 97);
	g_assert_cmpuint(r->streams[0].pt_for_h264 + r->streams[0].rtx_for_h264, ==, 0);
	g_assert_true(r->streams[0].nack && r->streams[0].pli && !r->streams[0].fir);

	/* H.264 preferred by the answerer: feedback is the first codec's; no RTX kept. */
	g_autofree char *h264 =
	    edit(answer, "^a=rtpmap:96 VP8/90000\r\n(a=rtcp-fb:96 .*\r\n)*", "");
	g_autofree char *h264b = edit(h264, "^a=(rtpmap|fmtp):9[7] .*\r\n", "");
	g_autofree char *h264c = edit(h264b, " 96 97 102 103\r\n", " 102 103\r\n");
	g_autoptr(KtSdpOfferResult) r2 = read_ok(h264c, s, 5);
	g_assert_cmpuint(r2->streams[1].pt_for_vp8 + r2->streams[1].rtx_for_vp8, ==, 0);
	g_assert_cmpuint(r2->streams[1].pt_for_h264, ==, 102);
	g_assert_true(r2->streams[1].nack && r2->streams[1].fir);

	/* The browser is DTLS server; complete candidates in the BUNDLE-tag line. */
	g_autofree char *passive = edit(answer, "^a=setup:active", "a=setup:passive");
	g_autofree char *cands = edit(passive, "^(a=mid:0\r\n)",
	                              "\\1a=candidate:9 1 udp 2122260223 127.0.0.1 51000 typ "
	                              "host\r\na=end-of-candidates\r\n");
	g_autoptr(KtSdpOfferResult) r3 = read_ok(cands, s, 5);
	g_assert_false(r3->dtls_active);
	g_assert_cmpuint(r3->candidates->len, ==, 1);
	g_assert_cmpstr(r3->candidates->pdata[0], ==,
	                "candidate:9 1 udp 2122260223 127.0.0.1 51000 typ host");
	g_assert_true(r3->end_of_candidates);
}

/* Our inactive line answered inactive; our rejected line answered port 0. */
static void test_read_renegotiated(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	g_autofree char *answer = load_answer();
	s[3].active = FALSE;
	g_autofree char *idle =
	    edit(answer, "^(a=mid:3\r\n(a=.*\r\n)*?)a=recvonly", "\\1a=inactive");
	g_autoptr(KtSdpOfferResult) r = read_ok(idle, s, 5);
	g_assert_false(r->streams[3].accepted);
	g_assert_false(r->streams[3].rejected);
	g_assert_cmpint(r->streams[3].direction, ==, KT_SDP_DIR_INACTIVE);
	g_assert_true(r->streams[4].accepted);
	/* The same answer to a sendonly line is the browser declining it for now. */
	s[3].active = TRUE;
	g_autoptr(KtSdpOfferResult) declined = read_ok(idle, s, 5);
	g_assert_false(declined->streams[3].accepted);
	/* recvonly answering our a=inactive is not an answer to this offer. */
	s[3].active = FALSE;
	read_fails(answer, strlen(answer), s, 5, KT_SDP_ERROR_MISMATCH,
	           "\"3\" is a=recvonly; Ketang offered a=inactive");

	/* Chrome's answer to a port-0 line: port 0, out of BUNDLE. */
	five_streams(s);
	s[0].rejected = TRUE;
	g_autofree char *rej = edit(answer,
	                            "^m=video 9 (.*)\r\n(?=c=.*\r\na=rtcp:9 .*\r\n"
	                            "a=ice-ufrag:.*\r\na=ice-pwd:.*\r\n"
	                            "a=ice-options:.*\r\na=fingerprint:.*\r\n"
	                            "a=setup:.*\r\na=mid:0\r\n)",
	                            "m=video 0 \\1\r\n");
	g_autofree char *rej2 = edit(rej, "BUNDLE 0 1", "BUNDLE 1");
	g_autoptr(KtSdpOfferResult) r2 = read_ok(rej2, s, 5);
	g_assert_true(r2->streams[0].rejected);
	g_assert_false(r2->streams[0].accepted);
	g_assert_cmpuint(r2->streams[0].pt_for_vp8, ==, 0);
	g_assert_true(r2->streams[1].accepted);
	g_assert_cmpstr(r2->ice_ufrag, ==, "PKto");
	/* Accepting a line we offered with port 0 is not allowed. */
	read_fails(answer, strlen(answer), s, 5, KT_SDP_ERROR_MISMATCH,
	           "\"0\", which Ketang offered with port 0");
}

static void test_read_bad_lines(void)
{
	KtSdpOfferStream s[6];
	five_streams(s);
	g_autofree char *answer = load_answer();
	gsize len = strlen(answer);
	/* Missing (fewer offered than answered), extra, reordered, other kind. */
	read_fails(answer, len, s, 4, KT_SDP_ERROR_MISMATCH,
	           "answer has 5 m= lines; the offer had 4");
	s[5] = stream("5", KT_SDP_MEDIA_AUDIO, "p9", "audio", 1);
	read_fails(answer, len, s, 6, KT_SDP_ERROR_MISMATCH,
	           "answer has 5 m= lines; the offer had 6");
	KtSdpOfferStream swapped[5];
	five_streams(swapped);
	swapped[0] = s[1];
	swapped[1] = s[0];
	read_fails(answer, len, swapped, 5, KT_SDP_ERROR_MISMATCH,
	           "m= line 0 has mid \"0\"; the offer's is \"1\"");
	five_streams(swapped);
	swapped[2].kind = KT_SDP_MEDIA_VIDEO;
	read_fails(answer, len, swapped, 5, KT_SDP_ERROR_MISMATCH,
	           "\"2\" is audio; the offer's is video");
	/* Cut short: a valid SDP with fewer m= lines. */
	read_fails(answer, index_of(answer, "m=audio"), s, 5, KT_SDP_ERROR_MISMATCH,
	           "answer has 2 m= lines");
}

static void test_read_bad_transport(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	g_autofree char *answer = load_answer();
	struct {
		const char *pattern, *replacement;
		int code;
		const char *message;
	} cases[] = {
	    {"^a=group:BUNDLE.*\r\n", "", KT_SDP_ERROR_NO_BUNDLE, "no a=group:BUNDLE"},
	    {"^a=fingerprint:.*\r\n", "", KT_SDP_ERROR_NO_FINGERPRINT, "no sha-256"},
	    {"^a=fingerprint:sha-256", "a=fingerprint:sha-1", KT_SDP_ERROR_NO_FINGERPRINT,
	     "no sha-256"},
	    {"^a=setup:active", "a=setup:actpass", KT_SDP_ERROR_MISMATCH, "a=setup:actpass"},
	    {"^a=setup:active", "a=setup:holdconn", KT_SDP_ERROR_UNSUPPORTED, "holdconn"},
	    {"^a=setup:active", "a=setup:sideways", KT_SDP_ERROR_MALFORMED, "sideways"},
	    {"^a=ice-pwd:.*\r\n", "", KT_SDP_ERROR_NO_ICE_CREDENTIALS, "\"0\" lacks a=ice-ufrag"},
	    {"^a=ice-ufrag:.*\r\n", "", KT_SDP_ERROR_NO_ICE_CREDENTIALS, "lacks a=ice-ufrag"},
	    {"^a=rtcp-mux\r\n", "", KT_SDP_ERROR_NO_RTCP_MUX, "\"0\" lacks a=rtcp-mux"},
	    {"BUNDLE 0 1 2 3 4", "BUNDLE 0 1 2 3", KT_SDP_ERROR_MISMATCH,
	     "\"4\" outside its BUNDLE group"},
	    {"BUNDLE 0 1", "BUNDLE 9 0 1", KT_SDP_ERROR_MISMATCH, "starts with mid \"9\""},
	    {"^a=recvonly", "a=sendrecv", KT_SDP_ERROR_MISMATCH,
	     "\"0\" is a=sendrecv; Ketang offered a=sendonly"},
	    {"^a=recvonly", "a=sendonly", KT_SDP_ERROR_MISMATCH, "is a=sendonly"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *bad = edit(answer, cases[i].pattern, cases[i].replacement);
		read_fails(bad, strlen(bad), s, 5, cases[i].code, cases[i].message);
	}
}

static void test_read_bad_codecs(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	g_autofree char *answer = load_answer();
	struct {
		const char *pattern, *replacement;
		int code;
		const char *message;
	} cases[] = {
	    /* A payload type we never offered, e.g. one the browser made up. */
	    {" 96 97 102 103\r\n", " 96 97 102 103 98\r\n", KT_SDP_ERROR_MISMATCH,
	     "payload type 98, which Ketang did not offer"},
	    {"^m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio 9 UDP/TLS/RTP/SAVPF 111 96",
	     KT_SDP_ERROR_MISMATCH, "payload type 96, which"},
	    /* Our number with another codec. */
	    {"^a=rtpmap:96 VP8", "a=rtpmap:96 VP9", KT_SDP_ERROR_MISMATCH,
	     "maps payload type 96 to VP9; the offer had VP8"},
	    {"^a=rtpmap:97 rtx", "a=rtpmap:97 red", KT_SDP_ERROR_MISMATCH, "97 to red"},
	    /* An accepted line with only RTX is no codec at all. */
	    {"^m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103", "m=video 9 UDP/TLS/RTP/SAVPF 97",
	     KT_SDP_ERROR_NO_CODEC, "without any codec"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *bad = edit(answer, cases[i].pattern, cases[i].replacement);
		read_fails(bad, strlen(bad), s, 5, cases[i].code, cases[i].message);
	}
}

static void test_read_not_sdp(void)
{
	KtSdpOfferStream s[5];
	five_streams(s);
	read_fails("", 0, s, 5, KT_SDP_ERROR_MALFORMED, "empty");
	read_fails("{\"type\":\"answer\"}", 17, s, 5, KT_SDP_ERROR_MALFORMED, "line 1");
	g_autofree char *answer = load_answer();
	read_fails(answer, 40, s, 5, KT_SDP_ERROR_MALFORMED, "SDP");
	g_autofree char *huge = g_strnfill(KT_SDP_MAX_SIZE + 1, 'a');
	read_fails(huge, strlen(huge), s, 5, KT_SDP_ERROR_TOO_LARGE, "limit");
	g_autofree char *bad_m = edit(answer, "^m=audio 9 ", "m=audio nine ");
	read_fails(bad_m, strlen(bad_m), s, 5, KT_SDP_ERROR_MALFORMED, "m= port");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp-offer/build/none", test_build_none);
	g_test_add_func("/sdp-offer/build/one", test_build_one);
	g_test_add_func("/sdp-offer/build/five", test_build_five);
	g_test_add_func("/sdp-offer/build/codecs", test_build_codecs);
	g_test_add_func("/sdp-offer/build/renegotiate", test_renegotiate);
	g_test_add_func("/sdp-offer/build/rejected-line", test_rejected_line);
	g_test_add_func("/sdp-offer/build/bad-streams", test_build_bad_streams);
	g_test_add_func("/sdp-offer/build/red", test_build_red);
	g_test_add_func("/sdp-offer/answer/chrome", test_read_chrome);
	g_test_add_func("/sdp-offer/answer/red", test_read_red);
	g_test_add_func("/sdp-offer/answer/variants", test_read_variants);
	g_test_add_func("/sdp-offer/answer/renegotiated", test_read_renegotiated);
	g_test_add_func("/sdp-offer/answer/bad-lines", test_read_bad_lines);
	g_test_add_func("/sdp-offer/answer/bad-transport", test_read_bad_transport);
	g_test_add_func("/sdp-offer/answer/bad-codecs", test_read_bad_codecs);
	g_test_add_func("/sdp-offer/answer/not-sdp", test_read_not_sdp);
	return g_test_run();
}
