/* Test tool for tests/e2e/sdp-offer.test.mjs: runs Ketang's subscribe-offer builder and
 * answer reader (kt-sdp-offer.h) on JSON from stdin, so a real browser can check them.
 *
 *   sdp-offer-dump offer   {"session_id":1,"version":2,"video_codecs":"vp8,h264",
 *                           "streams":[{"kind":"video","mid":"0","active":true,
 *                                       "rejected":false,"red":false,"ssrc":1,"rtx_ssrc":2,
 *                                       "stream_id":"p1","track_id":"p1-camera"}]}
 *                          → {"sdp":"v=0..."}
 *   sdp-offer-dump answer  {"streams":[...as above...],"answer":"v=0..."}
 *                          → the KtSdpOfferResult as JSON
 *
 * Failures print {"error":{"code":N,"message":"..."}} and exit 1. The ICE credentials,
 * fingerprint and candidate are fixed: nothing ever connects to them. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "kt-sdp-offer.h"

#define DUMP_FP                                                                                    \
	"11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"     \
	"DD:EE:FF:00"

static int print_json(json_t *j, int status)
{
	char *text = json_dumps(j, JSON_COMPACT);
	puts(text);
	free(text);
	json_decref(j);
	return status;
}

static int print_error(int code, const char *message)
{
	return print_json(json_pack("{s:{s:i,s:s}}", "error", "code", code, "message", message), 1);
}

static guint read_streams(json_t *in, KtSdpOfferStream *out)
{
	json_t *list = json_object_get(in, "streams");
	guint n = MIN(json_array_size(list), KT_SDP_MAX_MEDIA + 1);
	for (guint i = 0; i < n; i++) {
		json_t *s = json_array_get(list, i);
		const char *kind = json_string_value(json_object_get(s, "kind"));
		out[i].kind = g_strcmp0(kind, "audio") == 0   ? KT_SDP_MEDIA_AUDIO
		              : g_strcmp0(kind, "video") == 0 ? KT_SDP_MEDIA_VIDEO
		                                              : KT_SDP_MEDIA_OTHER;
		g_strlcpy(out[i].mid, json_string_value(json_object_get(s, "mid")) ?: "",
		          sizeof out[i].mid);
		out[i].active = json_is_true(json_object_get(s, "active"));
		out[i].rejected = json_is_true(json_object_get(s, "rejected"));
		out[i].red = json_is_true(json_object_get(s, "red"));
		out[i].ssrc = json_integer_value(json_object_get(s, "ssrc"));
		out[i].rtx_ssrc = json_integer_value(json_object_get(s, "rtx_ssrc"));
		g_strlcpy(out[i].stream_id,
		          json_string_value(json_object_get(s, "stream_id")) ?: "",
		          sizeof out[i].stream_id);
		g_strlcpy(out[i].track_id, json_string_value(json_object_get(s, "track_id")) ?: "",
		          sizeof out[i].track_id);
	}
	return n;
}

static int dump_offer(json_t *in, const KtSdpOfferStream *streams, guint n)
{
	static const char *const candidates[] = {
	    "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host",
	    NULL,
	};
	KtSdpOfferParams p = {
	    .ice_ufrag = "kTuf",
	    .ice_pwd = "ketangpassword0123456789",
	    .fingerprint = DUMP_FP,
	    .candidates = candidates,
	    .video_codecs = json_string_value(json_object_get(in, "video_codecs")),
	    .cname = "ketang",
	    .session_id = json_integer_value(json_object_get(in, "session_id")),
	    .version = json_integer_value(json_object_get(in, "version")),
	};
	g_autoptr(GError) error = NULL;
	g_autofree char *sdp = kt_sdp_offer_build(&p, streams, n, &error);
	if (sdp == NULL)
		return print_error(error->code, error->message);
	return print_json(json_pack("{s:s}", "sdp", sdp), 0);
}

static json_t *stream_json(const KtSdpAnswerStream *s)
{
	static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	return json_pack("{s:s,s:s,s:b,s:b,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:b,s:b,s:b,s:i,s:i,s:b}",
	                 "mid", s->mid, "kind", s->kind == KT_SDP_MEDIA_AUDIO ? "audio" : "video",
	                 "accepted", s->accepted, "rejected", s->rejected, "direction",
	                 dirs[s->direction], "pt_opus", s->pt_opus, "pt_red", s->pt_red,
	                 "pt_for_vp8", s->pt_for_vp8, "rtx_for_vp8", s->rtx_for_vp8, "pt_for_h264",
	                 s->pt_for_h264, "rtx_for_h264", s->rtx_for_h264, "nack", s->nack, "pli",
	                 s->pli, "fir", s->fir, "mid_ext_id", s->mid_ext_id, "twcc_ext_id",
	                 s->twcc_ext_id, "transport_cc", s->transport_cc);
}

static int dump_answer(json_t *in, const KtSdpOfferStream *streams, guint n)
{
	const char *answer = json_string_value(json_object_get(in, "answer"));
	if (answer == NULL)
		return print_error(-1, "no \"answer\" string");
	g_autoptr(GError) error = NULL;
	g_autoptr(KtSdpOfferResult) r =
	    kt_sdp_offer_read_answer(answer, strlen(answer), streams, n, &error);
	if (r == NULL)
		return print_error(error->code, error->message);
	json_t *list = json_array();
	for (guint i = 0; i < r->n_streams; i++)
		json_array_append_new(list, stream_json(&r->streams[i]));
	json_t *cands = json_array();
	for (guint i = 0; i < r->candidates->len; i++)
		json_array_append_new(cands, json_string(r->candidates->pdata[i]));
	return print_json(json_pack("{s:s,s:s,s:s,s:b,s:o,s:b,s:o}", "ice_ufrag", r->ice_ufrag,
	                            "ice_pwd", r->ice_pwd, "fingerprint", r->fingerprint,
	                            "dtls_active", r->dtls_active, "candidates", cands,
	                            "end_of_candidates", r->end_of_candidates, "streams", list),
	                  0);
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "offer") != 0 && strcmp(argv[1], "answer") != 0)) {
		fprintf(stderr, "usage: %s offer|answer < request.json\n", argv[0]);
		return 2;
	}
	json_error_t jerr;
	json_t *in = json_loadf(stdin, 0, &jerr);
	if (in == NULL)
		return print_error(-1, jerr.text);
	KtSdpOfferStream streams[KT_SDP_MAX_MEDIA + 1] = {0};
	guint n = read_streams(in, streams);
	int status = strcmp(argv[1], "offer") == 0 ? dump_offer(in, streams, n)
	                                           : dump_answer(in, streams, n);
	json_decref(in);
	return status;
}
