/* kt-signal-msg: every client message type parses when valid and is refused,
 * with a code and a message naming the field, when it is not. */
#include "kt-signal-msg.h"

#include <string.h>

#define SDP "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define SDP_JSON "v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"
#define TOKEN "v1.maths.teacher.1795549599.c2VjcmV0LW1hYy12YWx1ZQ"

static void parse_ok(const char *text, KtSignalMsg *msg)
{
	g_autoptr(GError) error = NULL;
	if (!kt_signal_msg_parse(text, strlen(text), msg, &error))
		g_error("refused %s: %s", text, error->message);
}

/* Refused with @code and a message containing @needle. */
static void expect_bad(const char *text, gsize len, KtSignalMsgError code, const char *needle)
{
	g_autoptr(GError) error = NULL;
	KtSignalMsg msg;

	if (kt_signal_msg_parse(text, len, &msg, &error))
		g_error("accepted %.200s", text);
	if (!g_error_matches(error, KT_SIGNAL_MSG_ERROR, code))
		g_error("%.200s: got %s (%s), want %s", text, kt_signal_msg_error_code(error->code),
		        error->message, kt_signal_msg_error_code(code));
	if (needle && !strstr(error->message, needle))
		g_error("%.200s: message \"%s\" does not mention \"%s\"", text, error->message,
		        needle);
	/* The token is a credential: never echoed. */
	g_assert_null(strstr(error->message, "c2VjcmV0"));
	kt_signal_msg_clear(&msg);
}

#define BAD(text, code, needle) expect_bad(text, strlen(text), KT_SIGNAL_MSG_ERROR_##code, needle)

static void test_valid_every_type(void)
{
	KtSignalMsg m;

	parse_ok("{\"type\":\"join\",\"id\":1,\"token\":\"" TOKEN
	         "\",\"name\":\"双峰二小 三(2)班\"}",
	         &m);
	g_assert_cmpint(m.type, ==, KT_SIGNAL_MSG_JOIN);
	g_assert_cmpstr(m.token, ==, TOKEN);
	g_assert_cmpstr(m.name, ==, "双峰二小 三(2)班");
	g_assert_cmpint(json_integer_value(m.id), ==, 1);
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"name\":null}", &m);
	g_assert_null(m.name);
	g_assert_null(m.id);
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"publish_offer\",\"id\":\"a\",\"sdp\":\"" SDP_JSON "\",\"tracks\":["
	         "{\"mid\":\"0\",\"source\":\"camera\"},{\"mid\":\"1\",\"source\":\"courseware\"},"
	         "{\"mid\":\"2\",\"source\":\"audio\"}]}",
	         &m);
	g_assert_cmpint(m.type, ==, KT_SIGNAL_MSG_PUBLISH_OFFER);
	g_assert_cmpstr(m.sdp, ==, SDP);
	g_assert_cmpuint(json_array_size(m.tracks), ==, 3);
	g_assert_cmpstr(json_string_value(m.id), ==, "a");
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[]}", &m);
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"subscribe_answer\",\"sdp\":\"" SDP_JSON "\"}", &m);
	g_assert_cmpint(m.type, ==, KT_SIGNAL_MSG_SUBSCRIBE_ANSWER);
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"candidate\",\"pc\":\"subscribe\",\"candidate\":\"candidate:1 1 udp "
	         "2122260223 127.0.0.1 5000 typ host\",\"sdpMid\":\"0\"}",
	         &m);
	g_assert_cmpstr(m.pc, ==, "subscribe");
	g_assert_cmpstr(m.sdp_mid, ==, "0");
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":\"\"}", &m);
	g_assert_cmpstr(m.candidate, ==, "");
	g_assert_null(m.sdp_mid);
	kt_signal_msg_clear(&m);

	static const char *const bare[] = {"raise_hand", "lower_hand", "unstage", "end_lesson"};
	for (guint i = 0; i < G_N_ELEMENTS(bare); i++) {
		g_autofree char *text = g_strdup_printf("{\"type\":\"%s\",\"id\":7}", bare[i]);
		parse_ok(text, &m);
		g_assert_cmpstr(kt_signal_msg_type_name(m.type), ==, bare[i]);
		kt_signal_msg_clear(&m);
	}
	static const char *const targeted[] = {"stage", "mute", "unmute"};
	for (guint i = 0; i < G_N_ELEMENTS(targeted); i++) {
		g_autofree char *text =
		    g_strdup_printf("{\"type\":\"%s\",\"participant\":\"p3\"}", targeted[i]);
		parse_ok(text, &m);
		g_assert_cmpstr(kt_signal_msg_type_name(m.type), ==, targeted[i]);
		g_assert_cmpstr(m.participant, ==, "p3");
		kt_signal_msg_clear(&m);
	}
	parse_ok("{\"type\":\"chat\",\"text\":\"line one\\nline two\"}", &m);
	g_assert_cmpstr(m.text, ==, "line one\nline two");
	kt_signal_msg_clear(&m);

	parse_ok("{\"type\":\"audio\",\"id\":3,\"mode\":\"mix\"}", &m);
	g_assert_cmpint(m.type, ==, KT_SIGNAL_MSG_AUDIO);
	g_assert_cmpstr(m.audio, ==, "mix");
	kt_signal_msg_clear(&m);
	parse_ok("{\"type\":\"audio\",\"mode\":\"forward\"}", &m);
	g_assert_cmpstr(m.audio, ==, "forward");
	kt_signal_msg_clear(&m);
	parse_ok("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"audio\":\"mix\"}", &m);
	g_assert_cmpstr(m.audio, ==, "mix");
	kt_signal_msg_clear(&m);
	parse_ok("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"audio\":null}", &m);
	g_assert_null(m.audio);
	kt_signal_msg_clear(&m);
}

static void test_bad_frames(void)
{
	BAD("", BAD_JSON, NULL);
	BAD("not json", BAD_JSON, NULL);
	BAD("{\"type\":\"chat\",\"text\":\"x\"", BAD_JSON, NULL); /* truncated */
	BAD("[1,2]", BAD_JSON, "object");
	BAD("\"join\"", BAD_JSON, NULL);
	BAD("{\"type\":\"chat\",\"text\":\"a\",\"text\":\"b\"}", BAD_JSON, "duplicate");
	BAD("{\"type\":\"chat\",\"text\":\"a\\u0000b\"}", BAD_JSON, NULL); /* NUL in a string */
	BAD("{\"type\":\"chat\",\"text\":\"\xff\xfe\"}", BAD_JSON, NULL);  /* not UTF-8 */
	BAD("{}", BAD_MESSAGE, "type: missing");
	BAD("{\"type\":3}", BAD_MESSAGE, "type: must be a string");
	BAD("{\"type\":\"dance\"}", UNKNOWN_TYPE, NULL);
	BAD("{\"type\":\"Join\",\"token\":\"x\"}", UNKNOWN_TYPE, NULL);
	BAD("{\"type\":\"joined\"}", UNKNOWN_TYPE, NULL); /* a server message */
	BAD("{\"type\":\"unstage\",\"id\":{}}", BAD_MESSAGE, "id:");
	BAD("{\"type\":\"unstage\",\"id\":1.5}", BAD_MESSAGE, "id:");
	BAD("{\"type\":\"unstage\",\"id\":\"x\\ny\"}", BAD_MESSAGE, "id:");

	g_autofree char *long_id = g_strnfill(65, 'i');
	g_autofree char *text = g_strdup_printf("{\"type\":\"unstage\",\"id\":\"%s\"}", long_id);
	BAD(text, BAD_MESSAGE, "id:");

	/* Over 64 KiB, even if it is valid JSON. */
	g_autofree char *pad = g_strnfill(KT_SIGNAL_MSG_MAX_BYTES, 'a');
	g_autofree char *huge = g_strdup_printf("{\"type\":\"chat\",\"text\":\"%s\"}", pad);
	expect_bad(huge, strlen(huge), KT_SIGNAL_MSG_ERROR_TOO_LARGE, NULL);
}

/* The id survives a refused message so the error can carry it. */
static void test_id_kept_on_error(void)
{
	g_autoptr(GError) error = NULL;
	KtSignalMsg m;
	const char *text = "{\"type\":\"stage\",\"id\":42}";

	g_assert_false(kt_signal_msg_parse(text, strlen(text), &m, &error));
	g_assert_nonnull(m.id);
	g_assert_cmpint(json_integer_value(m.id), ==, 42);
	kt_signal_msg_clear(&m);
	g_assert_null(m.root);
}

static void test_bad_join(void)
{
	BAD("{\"type\":\"join\"}", BAD_MESSAGE, "token: missing");
	BAD("{\"type\":\"join\",\"token\":5}", BAD_MESSAGE, "token: must be a string");
	BAD("{\"type\":\"join\",\"token\":\"\"}", BAD_MESSAGE, "token: must not be empty");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"name\":7}", BAD_MESSAGE, "name:");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"name\":\"\"}", BAD_MESSAGE, "name:");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"name\":\"a\\tb\"}", BAD_MESSAGE,
	    "control");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"lesson\":\"x\"}", BAD_MESSAGE,
	    "lesson: not a field of join");

	g_autofree char *long_token = g_strnfill(513, 'A');
	g_autofree char *t1 = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", long_token);
	BAD(t1, BAD_MESSAGE, "token: longer than 512");

	/* 64 CJK characters are fine (192 bytes), 65 are not. */
	GString *name = g_string_new(NULL);
	for (int i = 0; i < 64; i++)
		g_string_append(name, "班");
	g_autofree char *t2 = g_strdup_printf(
	    "{\"type\":\"join\",\"token\":\"" TOKEN "\",\"name\":\"%s\"}", name->str);
	KtSignalMsg m;
	parse_ok(t2, &m);
	kt_signal_msg_clear(&m);
	g_string_append(name, "班");
	g_autofree char *t3 = g_strdup_printf(
	    "{\"type\":\"join\",\"token\":\"" TOKEN "\",\"name\":\"%s\"}", name->str);
	BAD(t3, BAD_MESSAGE, "name: longer than 64 characters");
	g_string_free(name, TRUE);
}

static void test_bad_publish_offer(void)
{
	BAD("{\"type\":\"publish_offer\",\"tracks\":[]}", BAD_MESSAGE, "sdp: missing");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\"}", BAD_MESSAGE, "tracks: missing");
	BAD("{\"type\":\"publish_offer\",\"sdp\":[],\"tracks\":[]}", BAD_MESSAGE, "sdp: must be");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"\",\"tracks\":[]}", BAD_MESSAGE, "sdp:");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":{}}", BAD_MESSAGE,
	    "tracks: must be an array");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[1]}", BAD_MESSAGE, "tracks[0]");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[{\"mid\":\"0\"}]}", BAD_MESSAGE,
	    "tracks[0]");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[{\"mid\":0,\"source\":"
	    "\"camera\"}"
	    "]}",
	    BAD_MESSAGE, "tracks[0].mid");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[{\"mid\":\"0\",\"source\":"
	    "\"screen\"}]}",
	    BAD_MESSAGE, "tracks[0].source: must be one of camera, courseware, audio");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[{\"mid\":\"0\",\"source\":"
	    "\"camera\",\"x\":1}]}",
	    BAD_MESSAGE, "tracks[0]");
	BAD("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[{\"mid\":\"0\",\"source\":"
	    "\"camera\"},{\"mid\":\"0\",\"source\":\"audio\"}]}",
	    BAD_MESSAGE, "tracks[1].mid: used twice");

	GString *many = g_string_new("{\"type\":\"publish_offer\",\"sdp\":\"x\",\"tracks\":[");
	for (int i = 0; i < 17; i++)
		g_string_append_printf(many, "%s{\"mid\":\"%d\",\"source\":\"camera\"}",
		                       i ? "," : "", i);
	g_string_append(many, "]}");
	BAD(many->str, BAD_MESSAGE, "tracks: more than 16");
	g_string_free(many, TRUE);

	/* 32 KiB of SDP is the limit. */
	g_autofree char *sdp = g_strnfill(KT_SIGNAL_MSG_MAX_SDP + 1, 'v');
	g_autofree char *text =
	    g_strdup_printf("{\"type\":\"publish_offer\",\"sdp\":\"%s\",\"tracks\":[]}", sdp);
	BAD(text, BAD_MESSAGE, "sdp: longer than 32768 bytes");
}

static void test_bad_subscribe_answer(void)
{
	BAD("{\"type\":\"subscribe_answer\"}", BAD_MESSAGE, "sdp: missing");
	BAD("{\"type\":\"subscribe_answer\",\"sdp\":null}", BAD_MESSAGE, "sdp: must be a string");
	BAD("{\"type\":\"subscribe_answer\",\"sdp\":\"x\",\"tracks\":[]}", BAD_MESSAGE,
	    "tracks: not a field of subscribe_answer");
	g_autofree char *sdp = g_strnfill(KT_SIGNAL_MSG_MAX_SDP + 1, 'v');
	g_autofree char *text =
	    g_strdup_printf("{\"type\":\"subscribe_answer\",\"sdp\":\"%s\"}", sdp);
	BAD(text, BAD_MESSAGE, "sdp: longer than");
}

static void test_bad_candidate(void)
{
	BAD("{\"type\":\"candidate\",\"candidate\":\"\"}", BAD_MESSAGE, "pc: missing");
	BAD("{\"type\":\"candidate\",\"pc\":\"both\",\"candidate\":\"\"}", BAD_MESSAGE,
	    "pc: must be one of publish, subscribe");
	BAD("{\"type\":\"candidate\",\"pc\":1,\"candidate\":\"\"}", BAD_MESSAGE, "pc: must be");
	BAD("{\"type\":\"candidate\",\"pc\":\"publish\"}", BAD_MESSAGE, "candidate: missing");
	BAD("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":{}}", BAD_MESSAGE,
	    "candidate: must be a string");
	BAD("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":\"a\\r\\nb\"}", BAD_MESSAGE,
	    "candidate: contains control");
	BAD("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":\"\",\"sdpMid\":0}",
	    BAD_MESSAGE, "sdpMid: must be a string");
	BAD("{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":\"\",\"sdpMLineIndex\":0}",
	    BAD_MESSAGE, "sdpMLineIndex: not a field");
	g_autofree char *cand = g_strnfill(1025, 'c');
	g_autofree char *text = g_strdup_printf(
	    "{\"type\":\"candidate\",\"pc\":\"publish\",\"candidate\":\"%s\"}", cand);
	BAD(text, BAD_MESSAGE, "candidate: longer than 1024");
}

static void test_bad_bare(void)
{
	static const char *const bare[] = {"raise_hand", "lower_hand", "unstage", "end_lesson"};
	for (guint i = 0; i < G_N_ELEMENTS(bare); i++) {
		g_autofree char *text =
		    g_strdup_printf("{\"type\":\"%s\",\"participant\":\"p1\"}", bare[i]);
		g_autofree char *needle =
		    g_strdup_printf("participant: not a field of %s", bare[i]);
		BAD(text, BAD_MESSAGE, needle);
	}
}

static void test_bad_targeted(void)
{
	static const char *const targeted[] = {"stage", "mute", "unmute"};
	g_autofree char *long_id = g_strnfill(33, 'p');

	for (guint i = 0; i < G_N_ELEMENTS(targeted); i++) {
		const char *t = targeted[i];
		g_autofree char *missing = g_strdup_printf("{\"type\":\"%s\"}", t);
		g_autofree char *typed = g_strdup_printf("{\"type\":\"%s\",\"participant\":3}", t);
		g_autofree char *empty =
		    g_strdup_printf("{\"type\":\"%s\",\"participant\":\"\"}", t);
		g_autofree char *longer =
		    g_strdup_printf("{\"type\":\"%s\",\"participant\":\"%s\"}", t, long_id);
		BAD(missing, BAD_MESSAGE, "participant: missing");
		BAD(typed, BAD_MESSAGE, "participant: must be a string");
		BAD(empty, BAD_MESSAGE, "participant: must not be empty");
		BAD(longer, BAD_MESSAGE, "participant: longer than 32");
	}
}

static void test_bad_chat(void)
{
	BAD("{\"type\":\"chat\"}", BAD_MESSAGE, "text: missing");
	BAD("{\"type\":\"chat\",\"text\":\"\"}", BAD_MESSAGE, "text: must not be empty");
	BAD("{\"type\":\"chat\",\"text\":[\"hi\"]}", BAD_MESSAGE, "text: must be a string");
	BAD("{\"type\":\"chat\",\"text\":\"bell\\u0007\"}", BAD_MESSAGE, "text: contains control");

	GString *text = g_string_new(NULL);
	for (int i = 0; i < KT_SIGNAL_MSG_MAX_CHAT; i++)
		g_string_append(text, "字");
	g_autofree char *ok = g_strdup_printf("{\"type\":\"chat\",\"text\":\"%s\"}", text->str);
	KtSignalMsg m;
	parse_ok(ok, &m);
	kt_signal_msg_clear(&m);
	g_string_append_c(text, 'x');
	g_autofree char *bad = g_strdup_printf("{\"type\":\"chat\",\"text\":\"%s\"}", text->str);
	BAD(bad, BAD_MESSAGE, "text: longer than 500 characters");
	g_string_free(text, TRUE);
}

/* The audio choice, in join and in its own message: one of two words. */
static void test_bad_audio(void)
{
	BAD("{\"type\":\"audio\"}", BAD_MESSAGE, "mode: missing");
	BAD("{\"type\":\"audio\",\"mode\":\"mixed\"}", BAD_MESSAGE,
	    "mode: must be one of mix, forward");
	BAD("{\"type\":\"audio\",\"mode\":\"\"}", BAD_MESSAGE, "mode: must be one of");
	BAD("{\"type\":\"audio\",\"mode\":true}", BAD_MESSAGE, "mode: must be a string");
	BAD("{\"type\":\"audio\",\"mode\":null}", BAD_MESSAGE, "mode: must be a string");
	BAD("{\"type\":\"audio\",\"mode\":\"mix\",\"audio\":\"mix\"}", BAD_MESSAGE,
	    "audio: not a field of audio");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"audio\":\"MIX\"}", BAD_MESSAGE,
	    "audio: must be one of mix, forward");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"audio\":1}", BAD_MESSAGE,
	    "audio: must be a string");
	BAD("{\"type\":\"join\",\"token\":\"" TOKEN "\",\"mode\":\"mix\"}", BAD_MESSAGE,
	    "mode: not a field of join");
}

static void test_view(void)
{
	KtSignalMsg m;

	parse_ok("{\"type\":\"view\",\"id\":3,\"mode\":\"wall\"}", &m);
	g_assert_cmpint(m.type, ==, KT_SIGNAL_MSG_VIEW);
	g_assert_cmpstr(m.mode, ==, "wall");
	kt_signal_msg_clear(&m);
	parse_ok("{\"type\":\"view\",\"mode\":\"individual\"}", &m);
	g_assert_cmpstr(m.mode, ==, "individual");
	kt_signal_msg_clear(&m);

	BAD("{\"type\":\"view\"}", BAD_MESSAGE, "mode: missing");
	BAD("{\"type\":\"view\",\"mode\":null}", BAD_MESSAGE, "mode: must be a string");
	BAD("{\"type\":\"view\",\"mode\":1}", BAD_MESSAGE, "mode: must be a string");
	BAD("{\"type\":\"view\",\"mode\":\"\"}", BAD_MESSAGE,
	    "mode: must be one of wall, individual");
	BAD("{\"type\":\"view\",\"mode\":\"Wall\"}", BAD_MESSAGE,
	    "mode: must be one of wall, individual");
	BAD("{\"type\":\"view\",\"mode\":\"grid-of-all-the-classrooms\"}", BAD_MESSAGE,
	    "mode: longer than 16");
	BAD("{\"type\":\"view\",\"mode\":\"wall\",\"layout\":\"3x3\"}", BAD_MESSAGE,
	    "layout: not a field of view");
	BAD("{\"type\":\"view\",\"mode\":[\"wall\"]}", BAD_MESSAGE, "mode: must be a string");
}

static void test_builders(void)
{
	json_t *id = json_integer(9);
	json_t *e = kt_signal_msg_new_error(id, "wrong-role", "role '%s' may not", "observer");
	json_t *ev = kt_signal_msg_new_event("staged", "p2", NULL);
	gsize len;
	g_autofree char *text = kt_signal_msg_dump(e, &len);

	g_assert_cmpstr(json_string_value(json_object_get(e, "type")), ==, "error");
	g_assert_cmpstr(json_string_value(json_object_get(e, "code")), ==, "wrong-role");
	g_assert_cmpstr(json_string_value(json_object_get(e, "message")), ==,
	                "role 'observer' may not");
	g_assert_cmpint(json_integer_value(json_object_get(e, "id")), ==, 9);
	g_assert_cmpuint(len, ==, strlen(text));
	g_assert_nonnull(strstr(text, "\"code\":\"wrong-role\""));
	g_assert_cmpstr(json_string_value(json_object_get(ev, "participant")), ==, "p2");
	g_assert_null(json_object_get(ev, "id"));
	g_assert_cmpstr(kt_signal_msg_type_name(KT_SIGNAL_MSG_N_TYPES), ==, "?");
	json_decref(e);
	json_decref(ev);
	json_decref(id);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signal-msg/valid-every-type", test_valid_every_type);
	g_test_add_func("/signal-msg/bad-frames", test_bad_frames);
	g_test_add_func("/signal-msg/id-kept-on-error", test_id_kept_on_error);
	g_test_add_func("/signal-msg/bad-join", test_bad_join);
	g_test_add_func("/signal-msg/bad-publish-offer", test_bad_publish_offer);
	g_test_add_func("/signal-msg/bad-subscribe-answer", test_bad_subscribe_answer);
	g_test_add_func("/signal-msg/bad-candidate", test_bad_candidate);
	g_test_add_func("/signal-msg/bad-bare", test_bad_bare);
	g_test_add_func("/signal-msg/bad-targeted", test_bad_targeted);
	g_test_add_func("/signal-msg/bad-chat", test_bad_chat);
	g_test_add_func("/signal-msg/bad-audio", test_bad_audio);
	g_test_add_func("/signal-msg/view", test_view);
	g_test_add_func("/signal-msg/builders", test_builders);
	return g_test_run();
}
