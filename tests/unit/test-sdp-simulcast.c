/* a=rid / a=simulcast (signaling/kt-sdp-simulcast.c): parsing a Chrome simulcast offer,
 * bad input, and the answer's receive lines. */
#include "kt-sdp-answer.h"
#include "kt-sdp.h"

#include <string.h>

#define OUR_FP                                                                                     \
	"11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"     \
	"DD:EE:FF:00"

static char *load(const char *name, gsize *len)
{
	g_autofree char *path = g_build_filename(KT_TEST_DATA, "sdp", name, NULL);
	char *text = NULL;
	GError *error = NULL;

	g_file_get_contents(path, &text, len, &error);
	g_assert_no_error(error);
	return text;
}

/* The simulcast offer with @from replaced by @to in its text ("" removes). */
static KtSdp *parse_edited(const char *from, const char *to, GError **error)
{
	gsize len;
	g_autofree char *text = load("chrome-whip-simulcast.sdp", &len);
	g_autoptr(GString) s = g_string_new(text);

	if (from)
		g_assert_cmpuint(g_string_replace(s, from, to, 1), ==, 1);
	return kt_sdp_parse(s->str, s->len, error);
}

static const KtSdpMedia *video(const KtSdp *sdp)
{
	const KtSdpMedia *m = kt_sdp_find_media(sdp, "1");

	g_assert_nonnull(m);
	return m;
}

static void test_parse_chrome(void)
{
	GError *error = NULL;
	g_autoptr(KtSdp) sdp = parse_edited(NULL, NULL, &error);
	const KtSdpMedia *m;

	g_assert_no_error(error);
	m = video(sdp);
	g_assert_cmpuint(m->n_rids, ==, 3);
	g_assert_cmpstr(m->rids[0].id, ==, "f");
	g_assert_cmpint(m->rids[0].direction, ==, KT_SDP_DIR_SENDONLY);
	g_assert_true(m->has_simulcast);
	g_assert_cmpuint(m->n_simulcast_send, ==, 3);
	g_assert_cmpuint(m->n_simulcast_recv, ==, 0);
	g_assert_cmpstr(m->simulcast_send[0].rid, ==, "f");
	g_assert_cmpstr(m->simulcast_send[1].rid, ==, "q");
	g_assert_cmpstr(m->simulcast_send[2].rid, ==, "h");
	g_assert_cmpuint(m->ssrc, ==, 0);
	g_assert_cmpuint(kt_sdp_find_media(sdp, "0")->n_rids, ==, 0);
}

static void test_parse_variants(void)
{
	GError *error = NULL;
	g_autoptr(KtSdp) a =
	    parse_edited("a=rid:q send", "a=rid:q send max-width=320;max-fps=15", &error);
	g_autoptr(KtSdp) b = NULL;
	g_autoptr(KtSdp) c = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(video(a)->rids[1].params, ==, "max-width=320;max-fps=15");
	/* Paused streams and alternatives: the first alternative is kept. */
	b = parse_edited("a=simulcast:send f;q;h", "a=simulcast:send ~f;q,h", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(video(b)->n_simulcast_send, ==, 2);
	g_assert_true(video(b)->simulcast_send[0].paused);
	g_assert_cmpstr(video(b)->simulcast_send[0].rid, ==, "f");
	g_assert_cmpstr(video(b)->simulcast_send[1].rid, ==, "q");
	/* Both directions. */
	c = parse_edited("a=simulcast:send f;q;h", "a=rid:r recv\r\na=simulcast:send f;q recv r",
	                 &error);
	g_assert_no_error(error);
	g_assert_cmpuint(video(c)->n_simulcast_send, ==, 2);
	g_assert_cmpuint(video(c)->n_simulcast_recv, ==, 1);
}

static void test_parse_bad_input(void)
{
	static const struct {
		const char *from, *to;
		KtSdpError code;
	} cases[] = {
	    /* Too many rids, too long, bad characters, repeated, wrong direction. */
	    {"a=rid:h send", "a=rid:h send\r\na=rid:x send\r\na=rid:y send",
	     KT_SDP_ERROR_TOO_LARGE},
	    {"a=rid:h send", "a=rid:h send\r\na=rid:abcdefghijklmnopq send",
	     KT_SDP_ERROR_TOO_LARGE},
	    {"a=rid:h send", "a=rid:h/1 send", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid:h send\r\na=rid:h send", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid:h sendrecv", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid:h", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid: send", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid:h send max-width=", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid:h send a=1=2", KT_SDP_ERROR_MALFORMED},
	    /* Simulcast naming an unknown rid, or one of the other direction. */
	    {"a=simulcast:send f;q;h", "a=simulcast:send f;q;z", KT_SDP_ERROR_MALFORMED},
	    {"a=rid:h send", "a=rid:h recv", KT_SDP_ERROR_MALFORMED},
	    /* Malformed simulcast lines. */
	    {"a=simulcast:send f;q;h", "a=simulcast:send", KT_SDP_ERROR_MALFORMED},
	    {"a=simulcast:send f;q;h", "a=simulcast:sideways f;q;h", KT_SDP_ERROR_MALFORMED},
	    {"a=simulcast:send f;q;h", "a=simulcast:send f;;h", KT_SDP_ERROR_MALFORMED},
	    {"a=simulcast:send f;q;h", "a=simulcast:send f;q;h;f", KT_SDP_ERROR_MALFORMED},
	    {"a=simulcast:send f;q;h", "a=simulcast:send f;q;h;a;b", KT_SDP_ERROR_TOO_LARGE},
	    {"a=simulcast:send f;q;h", "a=simulcast:send f send q", KT_SDP_ERROR_MALFORMED},
	    {"a=simulcast:send f;q;h", "a=simulcast:send f;q;h\r\na=simulcast:send f",
	     KT_SDP_ERROR_MALFORMED},
	    {"a=simulcast:send f;q;h", "a=simulcast:send ~", KT_SDP_ERROR_MALFORMED},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		GError *error = NULL;
		g_autoptr(KtSdp) sdp = parse_edited(cases[i].from, cases[i].to, &error);

		if (sdp != NULL || !g_error_matches(error, KT_SDP_ERROR, cases[i].code))
			g_error("case %u (%s): expected error %d, got %s", i, cases[i].to,
			        cases[i].code, error ? error->message : "none");
		g_test_message("%s -> %s", cases[i].to, error->message);
		g_error_free(error);
	}
}

static KtSdpAnswerParams params(gboolean simulcast)
{
	return (KtSdpAnswerParams){
	    .mode = KT_SDP_ANSWER_RECEIVE,
	    .ice_ufrag = "kTuf",
	    .ice_pwd = "ketangpassword0123456789",
	    .fingerprint = OUR_FP,
	    .audio_codecs = "opus",
	    .video_codecs = "vp8,h264",
	    .simulcast = simulcast,
	};
}

static char *answer(const KtSdp *offer, gboolean simulcast, KtSdpNegotiated **neg, guint *n)
{
	KtSdpAnswerParams p = params(simulcast);
	GError *error = NULL;
	char *text = kt_sdp_answer_build(offer, &p, neg, n, &error);

	g_assert_no_error(error);
	g_assert_nonnull(text);
	return text;
}

static void test_answer_receives_simulcast(void)
{
	GError *error = NULL;
	g_autoptr(KtSdp) offer = parse_edited(NULL, NULL, &error);
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n = 0;
	g_autofree char *text = answer(offer, TRUE, &neg, &n);
	g_autoptr(KtSdp) parsed = kt_sdp_parse(text, strlen(text), &error);

	g_assert_no_error(error);
	/* Receive lines in the offer's order, and the three extensions. */
	g_assert_nonnull(strstr(text, "a=rid:f recv\r\na=rid:q recv\r\na=rid:h recv\r\n"
	                              "a=simulcast:recv f;q;h\r\n"));
	g_assert_nonnull(strstr(text, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"));
	g_assert_nonnull(
	    strstr(text, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"));
	g_assert_nonnull(
	    strstr(text, "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"));
	/* The answer parses back: rids of the receive direction. */
	g_assert_cmpuint(video(parsed)->n_simulcast_recv, ==, 3);
	g_assert_cmpint(video(parsed)->rids[0].direction, ==, KT_SDP_DIR_RECVONLY);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(neg[0].n_rids, ==, 0);
	g_assert_cmpuint(neg[1].n_rids, ==, 3);
	g_assert_cmpstr(neg[1].rids[0], ==, "f");
	g_assert_cmpstr(neg[1].rids[2], ==, "h");
	g_assert_cmpuint(neg[1].rid_ext_id, ==, 10);
	g_assert_cmpuint(neg[1].rrid_ext_id, ==, 11);
	g_assert_cmpuint(neg[1].mid_ext_id, ==, 4);
	g_assert_cmpuint(neg[1].remote_ssrc, ==, 0);
}

static void test_answer_paused(void)
{
	GError *error = NULL;
	g_autoptr(KtSdp) offer =
	    parse_edited("a=simulcast:send f;q;h", "a=simulcast:send f;~q;h", &error);
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n = 0;
	g_autofree char *text = answer(offer, TRUE, &neg, &n);

	g_assert_nonnull(strstr(text, "a=simulcast:recv f;~q;h\r\n"));
	g_assert_cmpuint(neg[1].n_rids, ==, 3);
}

/* Simulcast off ([media] simulcast = false), no rid extension, or a sending answer:
 * no simulcast lines, one stream. */
static void test_answer_without_simulcast(void)
{
	GError *error = NULL;
	g_autoptr(KtSdp) offer = parse_edited(NULL, NULL, &error);
	g_autoptr(KtSdp) no_ext =
	    parse_edited("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\n", "", &error);
	KtSdp *offers[] = {offer, no_ext};

	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(offers); i++) {
		g_autofree KtSdpNegotiated *neg = NULL;
		guint n = 0;
		g_autofree char *text = answer(offers[i], i == 1, &neg, &n);

		g_assert_null(strstr(text, "a=rid:"));
		g_assert_null(strstr(text, "a=simulcast"));
		g_assert_null(strstr(text, "rtp-stream-id"));
		g_assert_cmpuint(neg[1].n_rids, ==, 0);
		g_assert_cmpuint(neg[1].rid_ext_id, ==, 0);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sdp-simulcast/parse/chrome", test_parse_chrome);
	g_test_add_func("/sdp-simulcast/parse/variants", test_parse_variants);
	g_test_add_func("/sdp-simulcast/parse/bad-input", test_parse_bad_input);
	g_test_add_func("/sdp-simulcast/answer/receives", test_answer_receives_simulcast);
	g_test_add_func("/sdp-simulcast/answer/paused", test_answer_paused);
	g_test_add_func("/sdp-simulcast/answer/without", test_answer_without_simulcast);
	return g_test_run();
}
