/* Tests for the SDP parser (kt-sdp.h) and answer builder (kt-sdp-answer.h) against offers
 * written in Chrome's and Firefox's format (tests/unit/data/sdp/). */
#include "kt-sdp-answer.h"
#include "kt-sdp.h"

#include <string.h>

#define OUR_FP                                                                                     \
	"11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"     \
	"DD:EE:FF:00"

static const char *const our_candidates[] = {
    "candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host",
    "candidate:2 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000",
    NULL,
};

static char *load(const char *name, gsize *len)
{
	g_autofree char *path = g_build_filename(KT_TEST_DATA, "sdp", name, NULL);
	char *text = NULL;
	GError *error = NULL;
	g_file_get_contents(path, &text, len, &error);
	g_assert_no_error(error);
	return text;
}

static KtSdp *parse_file(const char *name)
{
	gsize len;
	g_autofree char *text = load(name, &len);
	GError *error = NULL;
	KtSdp *sdp = kt_sdp_parse(text, len, &error);
	g_assert_no_error(error);
	g_assert_nonnull(sdp);
	return sdp;
}

static KtSdpAnswerParams whip_params(void)
{
	return (KtSdpAnswerParams){
	    .mode = KT_SDP_ANSWER_RECEIVE,
	    .ice_ufrag = "kTuf",
	    .ice_pwd = "ketangpassword0123456789",
	    .fingerprint = OUR_FP,
	    .candidates = our_candidates,
	    .audio_codecs = "opus",
	    .video_codecs = "vp8,h264",
	    .session_id = 1234567890123ULL,
	};
}

static KtSdpAnswerParams whep_params(void)
{
	KtSdpAnswerParams p = whip_params();
	p.mode = KT_SDP_ANSWER_SEND;
	p.audio_ssrc = 11111111;
	p.video_ssrc = 22222222;
	p.video_rtx_ssrc = 33333333;
	p.cname = "ketang-cname";
	p.stream_id = "lesson-7";
	return p;
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

static const KtSdpCodec *codec_by_pt(const KtSdpMedia *m, guint pt)
{
	for (guint i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

/* Builds an answer that must succeed, and re-parses it to check it is valid SDP. */
static char *build_ok(const KtSdp *offer, const KtSdpAnswerParams *p, KtSdpNegotiated **neg,
                      guint *n_neg, KtSdp **reparsed)
{
	GError *error = NULL;
	char *answer = kt_sdp_answer_build(offer, p, neg, n_neg, &error);
	g_assert_no_error(error);
	g_assert_nonnull(answer);
	*reparsed = kt_sdp_parse(answer, strlen(answer), &error);
	g_assert_no_error(error);
	return answer;
}

static void build_fails(const KtSdp *offer, const KtSdpAnswerParams *p, int code,
                        const char *message_part)
{
	GError *error = NULL;
	KtSdpNegotiated *neg = NULL;
	guint n_neg = 0;
	char *answer = kt_sdp_answer_build(offer, p, &neg, &n_neg, &error);
	g_assert_null(answer);
	g_assert_null(neg);
	g_assert_error(error, KT_SDP_ERROR, code);
	if (message_part != NULL && strstr(error->message, message_part) == NULL)
		g_error("\"%s\" not in error \"%s\"", message_part, error->message);
	g_error_free(error);
}

static void test_parse_chrome_whip(void)
{
	g_autoptr(KtSdp) sdp = parse_file("chrome-whip.sdp");
	g_assert_cmpuint(kt_sdp_get_n_media(sdp), ==, 2);
	g_assert_cmpstr(kt_sdp_get_bundle_group(sdp), ==, "0 1");
	g_assert_cmpstr(kt_sdp_get_bundle_tag(sdp), ==, "0");
	g_assert_true(kt_sdp_mid_is_bundled(sdp, "1"));
	g_assert_false(kt_sdp_mid_is_bundled(sdp, "2"));
	g_assert_null(kt_sdp_get_media(sdp, 2));

	const KtSdpMedia *a = kt_sdp_get_media(sdp, 0);
	g_assert_cmpint(a->kind, ==, KT_SDP_MEDIA_AUDIO);
	g_assert_cmpstr(a->mid, ==, "0");
	g_assert_cmpuint(a->port, ==, 9);
	g_assert_cmpstr(a->proto, ==, "UDP/TLS/RTP/SAVPF");
	g_assert_cmpint(a->direction, ==, KT_SDP_DIR_SENDONLY);
	g_assert_true(a->rtcp_mux && a->rtcp_rsize);
	g_assert_cmpstr(a->ice_ufrag, ==, "Xj3p");
	g_assert_cmpstr(a->ice_pwd, ==, "7Kq0sXh2Z9mYbR1vFwLpT3aD");
	g_assert_cmpstr(a->fingerprint_alg, ==, "sha-256");
	g_assert_true(g_str_has_prefix(a->fingerprint, "4E:2B:9A"));
	g_assert_cmpstr(a->setup, ==, "actpass");
	g_assert_cmpuint(a->n_codecs, ==, 8);
	const KtSdpCodec *opus = &a->codecs[0];
	g_assert_cmpuint(opus->pt, ==, 111);
	g_assert_cmpstr(opus->name, ==, "opus");
	g_assert_cmpuint(opus->clock_rate, ==, 48000);
	g_assert_cmpuint(opus->channels, ==, 2);
	g_assert_cmpstr(opus->fmtp, ==, "minptime=10;useinbandfec=1");
	g_assert_true(opus->fb_transport_cc && !opus->fb_nack);
	g_assert_cmpuint(codec_by_pt(a, 9)->channels, ==, 1);
	g_assert_cmpuint(a->n_extmaps, ==, 4);
	g_assert_cmpuint(a->extmaps[3].id, ==, 4);
	g_assert_cmpstr(a->extmaps[3].uri, ==, "urn:ietf:params:rtp-hdrext:sdes:mid");
	g_assert_cmpuint(a->ssrc, ==, 1718431232);
	g_assert_cmpuint(a->rtx_ssrc, ==, 0);
	g_assert_cmpstr(a->cname, ==, "Yk8Y0rX5q2Lx1b3M");
	g_assert_true(g_str_has_prefix(a->msid, "5a1f4c7e-3b7e-4f3a-9a57-2f6d0e8c1b23 b0d1"));
	g_assert_cmpuint(a->candidates->len, ==, 3);
	g_assert_true(g_str_has_prefix(a->candidates->pdata[0], "candidate:3348464186 1 udp "));
	g_assert_true(a->end_of_candidates);

	const KtSdpMedia *v = kt_sdp_find_media(sdp, "1");
	g_assert_nonnull(v);
	g_assert_cmpint(v->kind, ==, KT_SDP_MEDIA_VIDEO);
	g_assert_cmpuint(v->n_codecs, ==, 25);
	const KtSdpCodec *vp8 = codec_by_pt(v, 96);
	g_assert_cmpstr(vp8->name, ==, "VP8");
	g_assert_cmpuint(vp8->rtx_pt, ==, 97);
	g_assert_true(vp8->fb_nack && vp8->fb_nack_pli && vp8->fb_ccm_fir);
	g_assert_true(vp8->fb_transport_cc && vp8->fb_goog_remb);
	g_assert_cmpuint(codec_by_pt(v, 102)->rtx_pt, ==, 103);
	g_assert_cmpuint(codec_by_pt(v, 116)->rtx_pt, ==, 117);
	g_assert_cmpuint(codec_by_pt(v, 118)->rtx_pt, ==, 0);
	g_assert_cmpuint(codec_by_pt(v, 97)->rtx_pt, ==, 0);
	g_assert_cmpuint(v->ssrc, ==, 2984622543u);
	g_assert_cmpuint(v->rtx_ssrc, ==, 1102943817u);
	g_assert_cmpuint(v->candidates->len, ==, 0);
	g_assert_cmpuint(v->n_extmaps, ==, 11);
}

static void test_parse_firefox(void)
{
	g_autoptr(KtSdp) sdp = parse_file("firefox-whip.sdp");
	g_assert_cmpuint(kt_sdp_get_n_media(sdp), ==, 2);
	const KtSdpMedia *a = kt_sdp_get_media(sdp, 0);
	const KtSdpMedia *v = kt_sdp_get_media(sdp, 1);
	/* Firefox puts the fingerprint at session level only. */
	g_assert_cmpstr(a->fingerprint_alg, ==, "sha-256");
	g_assert_true(g_str_has_prefix(v->fingerprint, "A1:33:0F"));
	g_assert_cmpstr(v->ice_ufrag, ==, "5e8a2f1c");
	g_assert_cmpuint(a->extmaps[1].id, ==, 2); /* "2/recvonly" */
	g_assert_cmpstr(a->extmaps[1].uri, ==, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
	g_assert_cmpuint(codec_by_pt(a, 9)->channels, ==, 1);
	g_assert_cmpuint(codec_by_pt(v, 120)->rtx_pt, ==, 124);
	g_assert_cmpuint(codec_by_pt(v, 126)->rtx_pt, ==, 127);
	g_assert_cmpuint(v->ssrc, ==, 1542957121u);
	g_assert_cmpuint(v->rtx_ssrc, ==, 3870563904u);
	g_assert_true(g_str_has_prefix(v->msid, "{8f3a6c2e"));
}

static void check_whip_transport(const KtSdpMedia *m)
{
	g_assert_cmpuint(m->port, ==, 9);
	g_assert_cmpstr(m->proto, ==, "UDP/TLS/RTP/SAVPF");
	g_assert_cmpstr(m->ice_ufrag, ==, "kTuf");
	g_assert_cmpstr(m->ice_pwd, ==, "ketangpassword0123456789");
	g_assert_cmpstr(m->fingerprint_alg, ==, "sha-256");
	g_assert_cmpstr(m->fingerprint, ==, OUR_FP);
	g_assert_cmpstr(m->setup, ==, "passive");
	g_assert_true(m->rtcp_mux && m->rtcp_rsize);
}

static void test_answer_whip_chrome(void)
{
	g_autoptr(KtSdp) offer = parse_file("chrome-whip.sdp");
	KtSdpAnswerParams p = whip_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);

	g_assert_true(g_str_has_prefix(text, "v=0\r\no=- 1234567890123 "));
	g_assert_cmpuint(count_lines(text, "a=group:BUNDLE 0 1"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=ice-lite"), ==, 0);
	/* Ketang receives here: it takes TWCC (extension 3 and feedback on every
	 * codec that offered it) and, where the offer has it (video), goog-remb with
	 * abs-send-time (extension 2). */
	g_assert_cmpuint(count_lines(text, "a=extmap:3 "
	                                   "http://www.ietf.org/id/"
	                                   "draft-holmer-rmcat-transport-wide-cc-extensions-01"),
	                 ==, 2);
	g_assert_cmpuint(count_lines(text, "a=rtcp-fb:111 transport-cc"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=rtcp-fb:96 transport-cc"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=rtcp-fb:96 goog-remb"), ==, 1);
	g_assert_cmpuint(
	    count_lines(text,
	                "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
	    ==, 1);
	g_assert_null(strstr(text, "a=ssrc"));
	g_assert_null(strstr(text, "msid"));
	g_assert_cmpuint(count_lines(text, "a=recvonly"), ==, 2);
	g_assert_cmpuint(count_lines(text, "a=fmtp:111 minptime=10;useinbandfec=1"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=end-of-candidates"), ==, 1);

	g_assert_cmpuint(kt_sdp_get_n_media(ans), ==, 2);
	const KtSdpMedia *a = kt_sdp_get_media(ans, 0);
	const KtSdpMedia *v = kt_sdp_get_media(ans, 1);
	check_whip_transport(a);
	check_whip_transport(v);
	g_assert_cmpint(a->direction, ==, KT_SDP_DIR_RECVONLY);
	g_assert_cmpuint(a->n_codecs, ==, 1);
	g_assert_cmpstr(a->codecs[0].name, ==, "opus");
	g_assert_cmpuint(a->codecs[0].channels, ==, 2);
	g_assert_cmpuint(a->n_extmaps, ==, 2);
	g_assert_cmpuint(a->extmaps[0].id, ==, 4);
	g_assert_cmpuint(a->extmaps[1].id, ==, 3);
	g_assert_cmpuint(a->candidates->len, ==, 2);
	g_assert_cmpstr(a->candidates->pdata[0], ==, our_candidates[0]);
	g_assert_true(a->end_of_candidates);

	g_assert_cmpstr(v->mid, ==, "1");
	g_assert_cmpuint(v->n_codecs, ==, 2);
	g_assert_cmpstr(v->codecs[0].name, ==, "VP8");
	g_assert_cmpuint(v->codecs[0].rtx_pt, ==, 97);
	g_assert_true(v->codecs[0].fb_nack && v->codecs[0].fb_nack_pli && v->codecs[0].fb_ccm_fir);
	g_assert_cmpuint(v->candidates->len, ==, 0);
	g_assert_false(v->end_of_candidates);

	g_assert_cmpuint(n_neg, ==, 2);
	g_assert_true(neg[0].active);
	g_assert_cmpstr(neg[0].mid, ==, "0");
	g_assert_cmpstr(neg[0].codec, ==, "opus");
	g_assert_cmpuint(neg[0].pt, ==, 111);
	g_assert_cmpuint(neg[0].clock_rate, ==, 48000);
	g_assert_cmpuint(neg[0].channels, ==, 2);
	g_assert_cmpuint(neg[0].mid_ext_id, ==, 4);
	g_assert_cmpuint(neg[0].remote_ssrc, ==, 1718431232);
	g_assert_false(neg[0].nack || neg[0].dtls_active);
	g_assert_true(neg[0].transport_cc);
	g_assert_cmpuint(neg[0].twcc_ext_id, ==, 3);
	g_assert_false(neg[0].goog_remb);
	g_assert_cmpuint(neg[0].abs_send_time_ext_id, ==, 0);
	g_assert_true(neg[1].goog_remb);
	g_assert_cmpuint(neg[1].abs_send_time_ext_id, ==, 2);
	g_assert_cmpint(neg[1].kind, ==, KT_SDP_MEDIA_VIDEO);
	g_assert_cmpstr(neg[1].codec, ==, "vp8");
	g_assert_cmpuint(neg[1].pt, ==, 96);
	g_assert_cmpuint(neg[1].rtx_pt, ==, 97);
	g_assert_true(neg[1].nack && neg[1].pli && neg[1].fir && neg[1].transport_cc);
	g_assert_cmpuint(neg[1].twcc_ext_id, ==, 3);
	g_assert_cmpuint(neg[1].remote_ssrc, ==, 2984622543u);
	g_assert_cmpuint(neg[1].remote_rtx_ssrc, ==, 1102943817u);
	g_assert_cmpint(neg[1].direction, ==, KT_SDP_DIR_RECVONLY);
	/* Offered, but on video Ketang receives: a playout delay is the receiver's to ask. */
	g_assert_cmpuint(neg[1].playout_delay_ext_id, ==, 0);
}

static void test_answer_h264_preferred(void)
{
	g_autoptr(KtSdp) offer = parse_file("chrome-whip.sdp");
	KtSdpAnswerParams p = whip_params();
	p.video_codecs = "h264,vp8";
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);
	/* 102 is the first packetization-mode=1 baseline-family variant. */
	g_assert_cmpstr(neg[1].codec, ==, "h264");
	g_assert_cmpuint(neg[1].pt, ==, 102);
	g_assert_cmpuint(neg[1].n_alt, ==, 0); /* exactly the required codec */
	g_assert_cmpuint(neg[1].rtx_pt, ==, 103);
	g_assert_cmpuint(count_lines(text, "m=video 9 UDP/TLS/RTP/SAVPF 102 103"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=fmtp:102 level-asymmetry-allowed=1;"
	                                   "packetization-mode=1;profile-level-id=42001f"),
	                 ==, 1);
	g_assert_cmpuint(count_lines(text, "a=fmtp:103 apt=102"), ==, 1);
}

static void test_answer_h264_only(void)
{
	g_autoptr(KtSdp) offer = parse_file("whip-h264-only.sdp"); /* LF line ends */
	KtSdpAnswerParams p = whip_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_cmpstr(neg[1].codec, ==, "h264");
	g_assert_cmpuint(neg[1].pt, ==, 102);
	g_assert_cmpuint(neg[1].n_alt, ==, 0); /* exactly the required codec */
	g_assert_cmpstr(kt_sdp_get_media(ans, 1)->codecs[0].name, ==, "H264");
}

static void test_answer_vp8_only(void)
{
	g_autoptr(KtSdp) offer = parse_file("whip-vp8-only.sdp");
	KtSdpAnswerParams p = whip_params();
	p.video_codecs = "h264";
	/* Audio is still fine, so the answer keeps it and rejects the video m= line. */
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_true(neg[0].active);
	g_assert_false(neg[1].active);
	g_assert_cmpuint(kt_sdp_get_media(ans, 1)->port, ==, 0);
	g_assert_cmpstr(kt_sdp_get_bundle_group(ans), ==, "0");
	/* Without any usable codec at all the error names what was offered. */
	p.audio_codecs = "g729";
	build_fails(offer, &p, KT_SDP_ERROR_NO_CODEC, "VP8");
}

static void test_answer_firefox(void)
{
	g_autoptr(KtSdp) offer = parse_file("firefox-whip.sdp");
	KtSdpAnswerParams p = whip_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_cmpuint(neg[0].pt, ==, 109);
	g_assert_cmpuint(neg[0].mid_ext_id, ==, 3);
	g_assert_cmpuint(neg[1].pt, ==, 120);
	g_assert_cmpuint(neg[1].rtx_pt, ==, 124);
	g_assert_cmpuint(neg[1].remote_rtx_ssrc, ==, 3870563904u);
	g_assert_false(kt_sdp_get_media(ans, 0)->rtcp_rsize); /* not offered for audio */
	g_assert_cmpuint(count_lines(text, "a=fmtp:120 max-fs=12288;max-fr=60"), ==, 1);
}

static void test_answer_whep(void)
{
	g_autoptr(KtSdp) offer = parse_file("chrome-whep.sdp");
	KtSdpAnswerParams p = whep_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);

	g_assert_cmpuint(count_lines(text, "a=msid-semantic:WMS lesson-7"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=sendonly"), ==, 2);
	/* Sending, Ketang numbers its packets and estimates the bandwidth from the
	 * viewer's feedback: TWCC on both lines (extension 3), transport-cc on
	 * every codec listed, never goog-remb. */
	g_assert_cmpuint(count_lines(text, "a=extmap:3 "
	                                   "http://www.ietf.org/id/"
	                                   "draft-holmer-rmcat-transport-wide-cc-extensions-01"),
	                 ==, 2);
	g_assert_cmpuint(count_lines(text, "a=rtcp-fb:111 transport-cc"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=rtcp-fb:96 transport-cc"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=rtcp-fb:102 transport-cc"), ==, 1);
	g_assert_null(strstr(text, "goog-remb"));
	g_assert_null(strstr(text, "abs-send-time"));
	g_assert_cmpuint(count_lines(text, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"), ==,
	                 1);
	g_assert_cmpuint(count_lines(text, "a=ssrc-group:FID 22222222 33333333"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=ssrc:11111111 cname:ketang-cname"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=ssrc:33333333 msid:lesson-7 lesson-7-video"), ==, 1);
	g_assert_cmpstr(kt_sdp_get_bundle_group(ans), ==, "0 1");

	g_assert_cmpuint(kt_sdp_get_n_media(ans), ==, 3);
	const KtSdpMedia *a = kt_sdp_get_media(ans, 0);
	const KtSdpMedia *v = kt_sdp_get_media(ans, 1);
	const KtSdpMedia *d = kt_sdp_get_media(ans, 2);
	g_assert_cmpint(a->direction, ==, KT_SDP_DIR_SENDONLY);
	g_assert_cmpuint(a->ssrc, ==, 11111111);
	g_assert_cmpstr(a->msid, ==, "lesson-7 lesson-7-audio");
	g_assert_cmpuint(v->ssrc, ==, 22222222);
	g_assert_cmpuint(v->rtx_ssrc, ==, 33333333);
	g_assert_cmpstr(v->cname, ==, "ketang-cname");
	g_assert_cmpint(d->kind, ==, KT_SDP_MEDIA_APPLICATION);
	g_assert_cmpuint(d->port, ==, 0);
	g_assert_cmpstr(d->mid, ==, "2");

	g_assert_cmpuint(n_neg, ==, 3);
	g_assert_cmpint(neg[1].direction, ==, KT_SDP_DIR_SENDONLY);
	g_assert_cmpstr(neg[1].codec, ==, "vp8");
	for (guint i = 0; i < 2; i++) {
		g_assert_true(neg[i].transport_cc);
		g_assert_cmpuint(neg[i].twcc_ext_id, ==, 3);
		g_assert_false(neg[i].goog_remb);
		g_assert_cmpuint(neg[i].abs_send_time_ext_id, ==, 0);
	}
	g_assert_false(neg[2].active || neg[2].transport_cc);
	g_assert_cmpstr(neg[2].mid, ==, "2");
	/* Playout delay: on the video Ketang sends, with the offer's id; not on audio. */
	g_assert_cmpuint(neg[1].playout_delay_ext_id, ==, 5);
	g_assert_cmpuint(neg[0].playout_delay_ext_id, ==, 0);
	g_assert_cmpuint(
	    count_lines(text,
	                "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"),
	    ==, 1);

	/* The viewer also accepted H.264: listed so a later H.264 publisher (OBS)
	 * can be forwarded to it without renegotiation. */
	g_assert_cmpuint(neg[1].n_alt, ==, 1);
	g_assert_cmpstr(neg[1].alt[0].codec, ==, "h264");
	g_assert_cmpuint(neg[1].alt[0].pt, ==, 102);
	g_assert_cmpuint(neg[1].alt[0].rtx_pt, ==, 103);
	g_assert_cmpuint(v->n_codecs, ==, 4); /* VP8, its RTX, H.264, its RTX */
	g_assert_cmpuint(count_lines(text, "a=rtpmap:102 H264/90000"), ==, 1);
	g_assert_cmpuint(neg[0].n_alt, ==, 0);
}

/* A lesson's publish connection: camera and courseware are two video m= lines. */
static void test_accept_all_lines(void)
{
	g_autoptr(KtSdp) offer = parse_file("chrome-publish-camera-courseware.sdp");
	KtSdpAnswerParams p = whip_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = NULL;

	/* WHIP policy: one video line, the second is rejected. */
	text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_cmpuint(n_neg, ==, 3);
	g_assert_true(neg[1].active);
	g_assert_false(neg[2].active);
	g_clear_pointer(&text, g_free);
	g_clear_pointer(&neg, g_free);
	g_clear_pointer(&ans, kt_sdp_free);

	p.accept_all_lines = TRUE;
	text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_cmpuint(n_neg, ==, 3);
	for (guint i = 0; i < 3; i++) {
		g_assert_true(neg[i].active);
		g_assert_cmpint(neg[i].direction, ==, KT_SDP_DIR_RECVONLY);
	}
	g_assert_cmpstr(neg[2].mid, ==, "2");
	g_assert_cmpstr(neg[2].codec, ==, "vp8");
	g_assert_cmpuint(neg[2].remote_ssrc, ==, 3984622543u);
	g_assert_cmpstr(kt_sdp_get_bundle_group(ans), ==, "0 1 2");

	/* The teacher stops sharing: the courseware line turns inactive and must
	 * stay accepted (answered inactive), or its transceiver could never send
	 * again. */
	{
		g_autofree char *path = g_build_filename(
		    KT_TEST_DATA, "sdp", "chrome-publish-camera-courseware.sdp", NULL);
		g_autofree char *orig = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(KtSdp) idle = NULL;
		g_autofree KtSdpNegotiated *neg2 = NULL;
		g_autoptr(KtSdp) ans2 = NULL;
		g_autofree char *text2 = NULL;
		guint n2;
		char *last;

		g_assert_true(g_file_get_contents(path, &orig, NULL, &error));
		last = g_strrstr(orig, "a=sendonly");
		g_assert_nonnull(last);
		memcpy(last, "a=inactive", strlen("a=inactive"));
		idle = kt_sdp_parse(orig, strlen(orig), &error);
		g_assert_no_error(error);
		text2 = build_ok(idle, &p, &neg2, &n2, &ans2);
		g_assert_true(neg2[2].active);
		g_assert_cmpint(neg2[2].direction, ==, KT_SDP_DIR_INACTIVE);
		g_assert_cmpuint(kt_sdp_get_media(ans2, 2)->port, !=, 0);
		g_assert_cmpstr(kt_sdp_get_bundle_group(ans2), ==, "0 1 2");
	}
}

static void test_video_codec_required(void)
{
	g_autoptr(KtSdp) offer = parse_file("chrome-whep.sdp");
	KtSdpAnswerParams p = whep_params();
	p.video_codec_required = "h264";
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_cmpstr(neg[1].codec, ==, "h264");
	g_assert_cmpuint(neg[1].pt, ==, 102);
	g_assert_cmpuint(neg[1].n_alt, ==, 0); /* exactly the required codec */

	g_autoptr(KtSdp) vp8_only = parse_file("whip-vp8-only.sdp");
	p = whip_params();
	p.video_codec_required = "h264";
	build_fails(vp8_only, &p, KT_SDP_ERROR_NO_CODEC, "forwards h264");
}

static void test_direction_mismatch(void)
{
	g_autoptr(KtSdp) whip = parse_file("chrome-whip.sdp");
	g_autoptr(KtSdp) whep = parse_file("chrome-whep.sdp");
	KtSdpAnswerParams send = whep_params();
	KtSdpAnswerParams receive = whip_params();
	build_fails(whip, &send, KT_SDP_ERROR_NO_MEDIA, "WHEP");
	build_fails(whep, &receive, KT_SDP_ERROR_NO_MEDIA, "WHIP");
}

static void test_answer_rejections(void)
{
	g_autoptr(KtSdp) no_bundle = parse_file("chrome-whip-no-bundle.sdp");
	g_autoptr(KtSdp) no_mux = parse_file("chrome-whip-no-rtcp-mux.sdp");
	g_autoptr(KtSdp) no_fp = parse_file("chrome-whip-no-fingerprint.sdp");
	KtSdpAnswerParams p = whip_params();
	build_fails(no_bundle, &p, KT_SDP_ERROR_NO_BUNDLE, "BUNDLE");
	build_fails(no_mux, &p, KT_SDP_ERROR_NO_RTCP_MUX, "rtcp-mux");
	build_fails(no_fp, &p, KT_SDP_ERROR_NO_FINGERPRINT, "fingerprint");
}

/* Applies g_strsplit/join edits to an offer file, then parses it. */
static KtSdp *edited_file(const char *name, const char *from, const char *to)
{
	gsize len;
	g_autofree char *text = load(name, &len);
	g_auto(GStrv) parts = g_strsplit(text, from, -1);
	g_assert_cmpuint(g_strv_length(parts), >, 1);
	g_autofree char *edited = g_strjoinv(to, parts);
	GError *error = NULL;
	KtSdp *sdp = kt_sdp_parse(edited, strlen(edited), &error);
	g_assert_no_error(error);
	return sdp;
}

static KtSdp *edited_offer(const char *from, const char *to)
{
	return edited_file("chrome-whip.sdp", from, to);
}

/* A viewer that does not offer transport-wide congestion control gets none;
 * one that offers the extension without the feedback gets the extension
 * only, which is not enough to estimate with (transport_cc FALSE). */
static void test_answer_whep_without_twcc(void)
{
	KtSdpAnswerParams p = whep_params();
	g_autoptr(KtSdp) no_ext =
	    edited_file("chrome-whep.sdp", "draft-holmer-rmcat-transport-wide-cc", "x-unknown");
	g_autoptr(KtSdp) no_fb = edited_file("chrome-whep.sdp", " transport-cc", " x-unknown");
	g_autofree KtSdpNegotiated *neg = NULL;
	g_autofree KtSdpNegotiated *neg2 = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autoptr(KtSdp) ans2 = NULL;
	g_autofree char *text = build_ok(no_ext, &p, &neg, &n_neg, &ans);
	g_autofree char *text2 = build_ok(no_fb, &p, &neg2, &n_neg, &ans2);

	g_assert_null(strstr(text, "transport-wide-cc"));
	g_assert_null(strstr(text, "transport-cc"));
	g_assert_null(strstr(text2, "transport-cc"));
	g_assert_cmpuint(count_lines(text2, "a=extmap:3 "
	                                    "http://www.ietf.org/id/"
	                                    "draft-holmer-rmcat-transport-wide-cc-extensions-01"),
	                 ==, 2);
	for (guint i = 0; i < 2; i++) {
		g_assert_true(neg[i].active && neg2[i].active);
		g_assert_cmpint(neg[i].direction, ==, KT_SDP_DIR_SENDONLY);
		g_assert_false(neg[i].transport_cc || neg2[i].transport_cc);
		g_assert_cmpuint(neg[i].twcc_ext_id, ==, 0);
		g_assert_cmpuint(neg2[i].twcc_ext_id, ==, 3);
	}
}

/* goog-remb is taken only where the offer has it for the chosen codec, abs-send-time only
 * with it; both also through the wildcard "a=rtcp-fb:* goog-remb" (RFC 4585 §4.2). */
static void test_answer_remb_only_when_offered(void)
{
	KtSdpAnswerParams p = whip_params();
	g_autoptr(KtSdp) no_remb = edited_offer(" goog-remb", " x-unknown");
	g_autoptr(KtSdp) no_abs = edited_offer("rtp-hdrext/abs-send-time", "rtp-hdrext/x-unknown");
	g_autoptr(KtSdp) wildcard =
	    edited_offer("a=rtpmap:118 ulpfec/90000\r\n",
	                 "a=rtpmap:118 ulpfec/90000\r\na=rtcp-fb:* goog-remb\r\n");
	const KtSdp *offers[] = {no_remb, no_abs, wildcard};
	const gboolean remb[] = {FALSE, TRUE, TRUE};
	const guint8 abs[] = {0, 0, 2};

	for (guint i = 0; i < G_N_ELEMENTS(offers); i++) {
		g_autofree KtSdpNegotiated *neg = NULL;
		guint n_neg;
		g_autoptr(KtSdp) ans = NULL;
		g_autofree char *text = build_ok(offers[i], &p, &neg, &n_neg, &ans);

		g_assert_cmpuint(n_neg, ==, 2);
		g_assert_cmpuint(count_lines(text, "a=rtcp-fb:96 goog-remb"), ==, remb[i] ? 1 : 0);
		g_assert_cmpuint(count_lines(text, "a=rtcp-fb:111 goog-remb"), ==, 0);
		g_assert_true((strstr(text, "abs-send-time") != NULL) == (abs[i] != 0));
		g_assert_false(neg[0].goog_remb);
		g_assert_cmpuint(neg[0].abs_send_time_ext_id, ==, 0);
		g_assert_true(neg[1].goog_remb == remb[i]);
		g_assert_cmpuint(neg[1].abs_send_time_ext_id, ==, abs[i]);
		/* TWCC stays as it was: a publisher gets both. */
		g_assert_true(neg[1].transport_cc);
		g_assert_cmpuint(neg[1].twcc_ext_id, ==, 3);
	}
}

static void test_answer_edge_cases(void)
{
	KtSdpAnswerParams p = whip_params();
	g_autoptr(KtSdp) no_ice = edited_offer("a=ice-pwd:", "a=x-ice-pwd:");
	build_fails(no_ice, &p, KT_SDP_ERROR_NO_ICE_CREDENTIALS, "ice");
	g_autoptr(KtSdp) sha1 = edited_offer("a=fingerprint:sha-256", "a=fingerprint:sha-1");
	build_fails(sha1, &p, KT_SDP_ERROR_NO_FINGERPRINT, NULL);
	g_autoptr(KtSdp) holdconn = edited_offer("a=setup:actpass", "a=setup:holdconn");
	build_fails(holdconn, &p, KT_SDP_ERROR_UNSUPPORTED, "holdconn");

	g_autoptr(KtSdp) blanks = edited_offer("a=mid:0\r\n", "a=mid:0 \t\r\n");
	g_assert_cmpstr(kt_sdp_get_media(blanks, 0)->mid, ==, "0");

	/* Offer passive -> we are the DTLS client (RFC 5763 §5). */
	g_autoptr(KtSdp) passive = edited_offer("a=setup:actpass", "a=setup:passive");
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(passive, &p, &neg, &n_neg, &ans);
	g_assert_true(neg[0].dtls_active);
	g_assert_cmpuint(count_lines(text, "a=setup:active"), ==, 2);
}

static void test_answer_second_audio_rejected(void)
{
	/* Turn the video m= line into a second audio line carrying opus. */
	g_autoptr(KtSdp) two_audio = NULL;
	{
		gsize len;
		g_autofree char *text = load("chrome-whip.sdp", &len);
		g_auto(GStrv) a = g_strsplit(text, "m=video", -1);
		g_autofree char *t1 = g_strjoinv("m=audio", a);
		g_auto(GStrv) b = g_strsplit(t1, "a=rtpmap:96 VP8/90000", -1);
		g_autofree char *t2 = g_strjoinv("a=rtpmap:96 opus/48000/2", b);
		two_audio = kt_sdp_parse(t2, strlen(t2), NULL);
		g_assert_nonnull(two_audio);
	}
	KtSdpAnswerParams p = whip_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;
	g_autofree char *text = build_ok(two_audio, &p, &neg, &n_neg, &ans);
	g_assert_true(neg[0].active);
	g_assert_false(neg[1].active);
	g_assert_cmpuint(count_lines(text, "m=audio 0 UDP/TLS/RTP/SAVPF 96"), ==, 1);
	g_assert_cmpstr(kt_sdp_get_bundle_group(ans), ==, "0");
}

static void parse_fails(const char *text, gssize len, int code, const char *message_part)
{
	GError *error = NULL;
	KtSdp *sdp = kt_sdp_parse(text, len < 0 ? strlen(text) : (gsize)len, &error);
	g_assert_null(sdp);
	g_assert_error(error, KT_SDP_ERROR, code);
	if (message_part != NULL && strstr(error->message, message_part) == NULL)
		g_error("\"%s\" not in error \"%s\"", message_part, error->message);
	g_error_free(error);
}

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

/* ---- RED (RFC 2198) around Opus ---- */

/* @name's text with every @from replaced by @to (which must occur). */
static KtSdp *parse_edited(const char *name, const char *const *edits)
{
	gsize len;
	g_autofree char *text = load(name, &len);
	GError *error = NULL;
	for (guint i = 0; edits[i] != NULL; i += 2) {
		g_assert_nonnull(strstr(text, edits[i]));
		g_auto(GStrv) parts = g_strsplit(text, edits[i], -1);
		g_free(text);
		text = g_strjoinv(edits[i + 1], parts);
	}
	KtSdp *sdp = kt_sdp_parse(text, strlen(text), &error);
	g_assert_no_error(error);
	return sdp;
}

/* Chrome's offer without RED on audio (as a page that set codec preferences sends). */
static const char *const no_red[] = {
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 ",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 ",
    "a=rtpmap:63 red/48000/2\r\n",
    "",
    "a=fmtp:63 111/111\r\n",
    "",
    NULL,
};

/* A publisher offering RED gets it accepted and listed first, so it sends RED. */
static void test_answer_red_whip(void)
{
	g_autoptr(KtSdp) offer = parse_file("chrome-whip.sdp");
	KtSdpAnswerParams p = whip_params();
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg;
	g_autoptr(KtSdp) ans = NULL;

	p.audio_red = TRUE;
	g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);
	g_assert_cmpuint(count_lines(text, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=rtpmap:63 red/48000/2"), ==, 1);
	g_assert_cmpuint(count_lines(text, "a=fmtp:63 111/111"), ==, 1);
	/* The video line's RED (ULPFEC's, red/90000) is not Ketang's business. */
	g_assert_null(strstr(text, "red/90000"));
	const KtSdpMedia *a = kt_sdp_get_media(ans, 0);
	g_assert_cmpuint(a->n_codecs, ==, 2);
	g_assert_cmpstr(a->codecs[0].name, ==, "red");
	g_assert_cmpuint(a->codecs[0].channels, ==, 2);
	g_assert_cmpstr(a->codecs[0].fmtp, ==, "111/111");
	g_assert_cmpstr(a->codecs[1].name, ==, "opus");
	g_assert_cmpstr(a->codecs[1].fmtp, ==, "minptime=10;useinbandfec=1");
	/* Opus stays the codec; RED is what it comes in. */
	g_assert_cmpstr(neg[0].codec, ==, "opus");
	g_assert_cmpuint(neg[0].pt, ==, 111);
	g_assert_cmpuint(neg[0].red_pt, ==, 63);
	g_assert_true(neg[0].transport_cc);
	g_assert_cmpuint(neg[1].red_pt, ==, 0);

	/* audio_red off: plain Opus, as before. */
	g_autofree KtSdpNegotiated *neg2 = NULL;
	g_autoptr(KtSdp) ans2 = NULL;
	p.audio_red = FALSE;
	g_autofree char *plain = build_ok(offer, &p, &neg2, &n_neg, &ans2);
	g_assert_cmpuint(count_lines(plain, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), ==, 1);
	g_assert_null(strstr(plain, "red/"));
	g_assert_cmpuint(kt_sdp_get_media(ans2, 0)->n_codecs, ==, 1);
	g_assert_cmpuint(neg2[0].red_pt, ==, 0);
}

/* No RED offered, or a RED Ketang cannot read as Opus-in-RED: plain Opus. */
static void test_answer_red_not_offered(void)
{
	static const char *const other_red[] = {"a=fmtp:63 111/111", "a=fmtp:63 111/9", NULL};
	static const char *const no_fmtp[] = {"a=fmtp:63 111/111\r\n", "", NULL};
	static const char *const other_rate[] = {"a=rtpmap:63 red/48000/2", "a=rtpmap:63 red/8000",
	                                         NULL};
	const char *const *const cases[] = {no_red, other_red, no_fmtp, other_rate};
	KtSdpAnswerParams p = whip_params();

	p.audio_red = TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(KtSdp) offer = parse_edited("chrome-whip.sdp", cases[i]);
		g_autofree KtSdpNegotiated *neg = NULL;
		guint n_neg;
		g_autoptr(KtSdp) ans = NULL;
		g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);

		g_assert_cmpuint(count_lines(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111"), ==, 1);
		g_assert_null(strstr(text, "red/"));
		g_assert_cmpstr(neg[0].codec, ==, "opus");
		g_assert_cmpuint(neg[0].red_pt, ==, 0);
	}
}

/* A subscriber (WHEP) that offers RED may receive it; one that does not, plain Opus. */
static void test_answer_red_whep(void)
{
	KtSdpAnswerParams p = whep_params();
	p.audio_red = TRUE;
	{
		g_autoptr(KtSdp) offer = parse_file("chrome-whep.sdp");
		g_autofree KtSdpNegotiated *neg = NULL;
		guint n_neg;
		g_autoptr(KtSdp) ans = NULL;
		g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);

		g_assert_cmpuint(count_lines(text, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111"), ==, 1);
		g_assert_cmpuint(count_lines(text, "a=fmtp:63 111/111"), ==, 1);
		g_assert_cmpint(neg[0].direction, ==, KT_SDP_DIR_SENDONLY);
		g_assert_cmpuint(neg[0].red_pt, ==, 63);
		g_assert_cmpuint(neg[0].pt, ==, 111);
		g_assert_cmpuint(kt_sdp_get_media(ans, 0)->ssrc, ==, 11111111);
	}
	{
		g_autoptr(KtSdp) offer = parse_edited("chrome-whep.sdp", no_red);
		g_autofree KtSdpNegotiated *neg = NULL;
		guint n_neg;
		g_autoptr(KtSdp) ans = NULL;
		g_autofree char *text = build_ok(offer, &p, &neg, &n_neg, &ans);

		g_assert_null(strstr(text, "red/"));
		g_assert_cmpuint(neg[0].red_pt, ==, 0);
	}
}

static void test_parse_bad_input(void)
{
	static const char binary[] = "v=0\r\no=- 1\0\x01\x02 2\r\n";
	parse_fails("", 0, KT_SDP_ERROR_MALFORMED, "empty");
	parse_fails("hello world", -1, KT_SDP_ERROR_MALFORMED, "line 1");
	parse_fails("GET / HTTP/1.1\r\nHost: x\r\n\r\n", -1, KT_SDP_ERROR_MALFORMED, NULL);
	parse_fails(binary, sizeof binary - 1, KT_SDP_ERROR_MALFORMED, NULL);
	parse_fails("v=0\r\no=- \xff\xfe\r\n", -1, KT_SDP_ERROR_MALFORMED, "UTF-8");
	parse_fails("v=1\r\n", -1, KT_SDP_ERROR_MALFORMED, "v=0");
	parse_fails("v=0\r\ns=-\r\nt=0 0\r\n", -1, KT_SDP_ERROR_MALFORMED, "o=");
	parse_fails(HEAD "m=audio 9\r\n", -1, KT_SDP_ERROR_MALFORMED, "line 5");
	parse_fails(HEAD "m=audio x UDP/TLS/RTP/SAVPF 111\r\n", -1, KT_SDP_ERROR_MALFORMED, "port");
	parse_fails(HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 200\r\n", -1, KT_SDP_ERROR_MALFORMED,
	            "payload type");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=rtpmap:111 opus\r\n", -1,
	            KT_SDP_ERROR_MALFORMED, "line 6");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=rtpmap:111 opus/x/2\r\n", -1,
	            KT_SDP_ERROR_MALFORMED, "clock rate");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=ssrc-group:FID 1\r\n", -1,
	            KT_SDP_ERROR_MALFORMED, "FID");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=extmap:0 urn:x\r\n", -1,
	            KT_SDP_ERROR_MALFORMED, "extmap");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=candidate:1 1 udp\r\n", -1,
	            KT_SDP_ERROR_MALFORMED, "candidate");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=fingerprint:sha-256\r\n", -1,
	            KT_SDP_ERROR_MALFORMED, "fingerprint");
	parse_fails(HEAD "a=ice-ufrag:\r\n", -1, KT_SDP_ERROR_MALFORMED, "ice-ufrag");
	parse_fails(HEAD
	            "m=audio 9 RTP/SAVPF 0\r\na=mid:a\r\nm=video 9 RTP/SAVPF 96\r\na=mid:a\r\n",
	            -1, KT_SDP_ERROR_MALFORMED, "twice");
	parse_fails(HEAD "m=audio 9 RTP/SAVPF 111\r\na=mid:01234567890123456789012345678901\r\n",
	            -1, KT_SDP_ERROR_TOO_LARGE, "a=mid");
}

static void test_parse_limits(void)
{
	g_autofree char *huge = g_malloc(KT_SDP_MAX_SIZE + 1);
	memset(huge, 'a', KT_SDP_MAX_SIZE + 1);
	parse_fails(huge, KT_SDP_MAX_SIZE + 1, KT_SDP_ERROR_TOO_LARGE, NULL);

	g_autoptr(GString) s = g_string_new(HEAD "a=x-long:");
	for (guint i = 0; i < KT_SDP_MAX_LINE; i++)
		g_string_append_c(s, 'z');
	g_string_append(s, "\r\n");
	parse_fails(s->str, s->len, KT_SDP_ERROR_TOO_LARGE, "line 5");

	g_string_assign(s, HEAD);
	for (guint i = 0; i <= KT_SDP_MAX_MEDIA; i++)
		g_string_append_printf(s, "m=audio 9 RTP/SAVPF 0\r\na=mid:%u\r\n", i);
	parse_fails(s->str, s->len, KT_SDP_ERROR_TOO_LARGE, "m= lines");

	g_string_assign(s, HEAD "m=video 9 RTP/SAVPF");
	for (guint i = 0; i <= KT_SDP_MAX_CODECS; i++)
		g_string_append_printf(s, " %u", i);
	g_string_append(s, "\r\n");
	parse_fails(s->str, s->len, KT_SDP_ERROR_TOO_LARGE, "payload types");
}

/* Every prefix of a real offer either parses or fails cleanly, and what parses can be
 * answered or refused without crashing. */
static void test_parse_truncated(void)
{
	gsize len;
	g_autofree char *text = load("chrome-whip.sdp", &len);
	KtSdpAnswerParams p = whip_params();
	guint parsed = 0;
	for (gsize cut = 0; cut < len; cut++) {
		GError *error = NULL;
		g_autoptr(KtSdp) sdp = kt_sdp_parse(text, cut, &error);
		if (sdp == NULL) {
			g_assert_true(error != NULL && error->domain == KT_SDP_ERROR);
			g_error_free(error);
			continue;
		}
		parsed++;
		KtSdpNegotiated *neg = NULL;
		guint n_neg;
		g_autofree char *answer = kt_sdp_answer_build(sdp, &p, &neg, &n_neg, &error);
		g_assert_true((answer != NULL) == (error == NULL));
		g_clear_error(&error);
		g_free(neg);
	}
	g_assert_cmpuint(parsed, >, 0);
}

/* Random byte flips in a real offer: never crashes, never leaks. */
static void test_parse_mutated(void)
{
	gsize len;
	g_autofree char *text = load("firefox-whip.sdp", &len);
	KtSdpAnswerParams p = whip_params();
	GRand *rand = g_rand_new_with_seed(20240611);
	for (guint round = 0; round < 3000; round++) {
		g_autofree char *copy = g_memdup2(text, len);
		guint flips = g_rand_int_range(rand, 1, 8);
		for (guint i = 0; i < flips; i++)
			copy[g_rand_int_range(rand, 0, len)] = g_rand_int_range(rand, 0, 256);
		GError *error = NULL;
		g_autoptr(KtSdp) sdp = kt_sdp_parse(copy, len, &error);
		if (sdp == NULL) {
			g_assert_true(error != NULL && error->domain == KT_SDP_ERROR);
			g_error_free(error);
			continue;
		}
		KtSdpNegotiated *neg = NULL;
		guint n_neg;
		g_autofree char *answer = kt_sdp_answer_build(sdp, &p, &neg, &n_neg, &error);
		g_clear_error(&error);
		g_free(neg);
	}
	g_rand_free(rand);
}

static void test_fmtp_get(void)
{
	char v[16];
	const char *f = "level-asymmetry-allowed=1; packetization-mode=1;profile-level-id=42e01f";
	g_assert_true(kt_sdp_fmtp_get(f, "packetization-mode", v, sizeof v));
	g_assert_cmpstr(v, ==, "1");
	g_assert_true(kt_sdp_fmtp_get(f, "profile-level-id", v, sizeof v));
	g_assert_cmpstr(v, ==, "42e01f");
	g_assert_false(kt_sdp_fmtp_get(f, "level", v, sizeof v));
	g_assert_false(kt_sdp_fmtp_get("", "apt", v, sizeof v));
	g_assert_true(kt_sdp_fmtp_get("apt=96", "apt", v, 2));
	g_assert_cmpstr(v, ==, "9");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp/parse/chrome-whip", test_parse_chrome_whip);
	g_test_add_func("/sdp/parse/firefox", test_parse_firefox);
	g_test_add_func("/sdp/parse/bad-input", test_parse_bad_input);
	g_test_add_func("/sdp/parse/limits", test_parse_limits);
	g_test_add_func("/sdp/parse/truncated", test_parse_truncated);
	g_test_add_func("/sdp/parse/mutated", test_parse_mutated);
	g_test_add_func("/sdp/fmtp-get", test_fmtp_get);
	g_test_add_func("/sdp/answer/whip-chrome", test_answer_whip_chrome);
	g_test_add_func("/sdp/answer/h264-preferred", test_answer_h264_preferred);
	g_test_add_func("/sdp/answer/h264-only", test_answer_h264_only);
	g_test_add_func("/sdp/answer/vp8-only", test_answer_vp8_only);
	g_test_add_func("/sdp/answer/firefox", test_answer_firefox);
	g_test_add_func("/sdp/answer/whep", test_answer_whep);
	g_test_add_func("/sdp/answer/whep-without-twcc", test_answer_whep_without_twcc);
	g_test_add_func("/sdp/answer/accept-all-lines", test_accept_all_lines);
	g_test_add_func("/sdp/answer/video-codec-required", test_video_codec_required);
	g_test_add_func("/sdp/answer/direction-mismatch", test_direction_mismatch);
	g_test_add_func("/sdp/answer/rejections", test_answer_rejections);
	g_test_add_func("/sdp/answer/remb-only-when-offered", test_answer_remb_only_when_offered);
	g_test_add_func("/sdp/answer/edge-cases", test_answer_edge_cases);
	g_test_add_func("/sdp/answer/second-audio", test_answer_second_audio_rejected);
	g_test_add_func("/sdp/answer/red-whip", test_answer_red_whip);
	g_test_add_func("/sdp/answer/red-not-offered", test_answer_red_not_offered);
	g_test_add_func("/sdp/answer/red-whep", test_answer_red_whep);
	return g_test_run();
}
