/* kt-signal: the dispatcher driven through socket-less conns (kt_ws_test_*):
 * joins, state and role checks for every message type, floor control, chat,
 * end, leave, media ops. */
#include "kt-signal.h"

#include <string.h>

#include "kt-signal-msg.h"
#include "kt-token.h"
#include "kt-ws.h"

static const guint8 secret[] = "0123456789abcdef0123456789abcdef";
#define SECRET_LEN (sizeof secret - 1)
#define LESSON "maths-3a"

typedef struct {
	KtSignal *s;
	KtWs *ws;
} Fixture;

/* @data: a KtSignalConfig, or NULL. */
static void fixture_setup(Fixture *f, gconstpointer data)
{
	f->s = kt_signal_new(secret, SECRET_LEN, data);
	f->ws = kt_signal_get_ws(f->s);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	kt_signal_free(f->s);
}

static char *mint(const char *lesson, KtRole role, gint64 ttl)
{
	g_autoptr(GError) error = NULL;
	char *t = kt_token_mint(secret, SECRET_LEN, lesson, role,
	                        g_get_real_time() / G_USEC_PER_SEC + ttl, &error);
	g_assert_no_error(error);
	return t;
}

static void send_text(KtWsConn *c, const char *text)
{
	kt_ws_test_receive(c, text, strlen(text));
}

/* The next message @c was sent (asserts there is one). */
static json_t *next(KtWsConn *c)
{
	g_autofree char *text = kt_ws_test_pop_sent(c);
	if (!text)
		g_error("expected a message, got none");
	json_t *j = json_loads(text, 0, NULL);
	g_assert_nonnull(j);
	return j;
}

static void expect_nothing(KtWsConn *c)
{
	g_autofree char *text = kt_ws_test_pop_sent(c);
	if (text)
		g_error("expected nothing, got %s", text);
}

static void expect_type(KtWsConn *c, const char *type, const char *participant)
{
	json_t *j = next(c);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, type);
	if (participant)
		g_assert_cmpstr(json_string_value(json_object_get(j, "participant")), ==,
		                participant);
	json_decref(j);
}

static void expect_error(KtWsConn *c, const char *code)
{
	json_t *j = next(c);
	if (g_strcmp0(json_string_value(json_object_get(j, "type")), "error") ||
	    g_strcmp0(json_string_value(json_object_get(j, "code")), code)) {
		g_autofree char *text = json_dumps(j, 0);
		g_error("expected error %s, got %s", code, text);
	}
	g_assert_cmpuint(strlen(json_string_value(json_object_get(j, "message"))), >, 0);
	json_decref(j);
}

static void drain(KtWsConn *c)
{
	char *text;
	while ((text = kt_ws_test_pop_sent(c)))
		g_free(text);
}

/* Opens a conn and joins it; returns its participant id via @id. */
static KtWsConn *join(Fixture *f, KtRole role, const char *name, char **id)
{
	KtWsConn *c = kt_ws_test_open(f->ws);
	g_autofree char *token = mint(LESSON, role, 600);
	g_autofree char *text =
	    name ? g_strdup_printf("{\"type\":\"join\",\"id\":1,\"token\":\"%s\",\"name\":\"%s\"}",
	                           token, name)
	         : g_strdup_printf("{\"type\":\"join\",\"id\":1,\"token\":\"%s\"}", token);
	send_text(c, text);
	json_t *j = next(c);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "joined");
	g_assert_cmpint(json_integer_value(json_object_get(j, "id")), ==, 1);
	json_t *self = json_object_get(j, "participant");
	g_assert_cmpstr(json_string_value(json_object_get(self, "role")), ==,
	                kt_role_to_string(role));
	if (id)
		*id = g_strdup(json_string_value(json_object_get(self, "id")));
	json_decref(j);
	return c;
}

/* One valid message of each type but join (stage etc. target @target). */
static char *valid_message(KtSignalMsgType type, const char *target)
{
	switch (type) {
	case KT_SIGNAL_MSG_PUBLISH_OFFER:
		return g_strdup(
		    "{\"type\":\"publish_offer\",\"id\":5,\"sdp\":\"v=0\",\"tracks\":[]}");
	case KT_SIGNAL_MSG_SUBSCRIBE_ANSWER:
		return g_strdup("{\"type\":\"subscribe_answer\",\"id\":5,\"sdp\":\"v=0\"}");
	case KT_SIGNAL_MSG_CANDIDATE:
		return g_strdup(
		    "{\"type\":\"candidate\",\"id\":5,\"pc\":\"publish\",\"candidate\":\"\"}");
	case KT_SIGNAL_MSG_STAGE:
	case KT_SIGNAL_MSG_MUTE:
	case KT_SIGNAL_MSG_UNMUTE:
		return g_strdup_printf("{\"type\":\"%s\",\"id\":5,\"participant\":\"%s\"}",
		                       kt_signal_msg_type_name(type), target);
	case KT_SIGNAL_MSG_CHAT:
		return g_strdup("{\"type\":\"chat\",\"id\":5,\"text\":\"hi\"}");
	case KT_SIGNAL_MSG_AUDIO:
		return g_strdup("{\"type\":\"audio\",\"id\":5,\"mode\":\"mix\"}");
	case KT_SIGNAL_MSG_VIEW:
		return g_strdup("{\"type\":\"view\",\"id\":5,\"mode\":\"wall\"}");
	default:
		return g_strdup_printf("{\"type\":\"%s\",\"id\":5}", kt_signal_msg_type_name(type));
	}
}

static void test_join(Fixture *f, gconstpointer data)
{
	g_autofree char *tid = NULL, *cid = NULL;
	(void)data;

	KtWsConn *t = join(f, KT_ROLE_TEACHER, "Ms Li", &tid);
	KtWsConn *c = kt_ws_test_open(f->ws);
	g_autofree char *token = mint(LESSON, KT_ROLE_CLASSROOM, 600);
	g_autofree char *text =
	    g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\",\"name\":\"Room A\"}", token);
	send_text(c, text);
	json_t *j = next(c);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "joined");
	g_assert_null(json_object_get(j, "id"));
	g_assert_cmpuint(json_array_size(json_object_get(j, "participants")), ==, 2);
	g_assert_true(json_is_null(json_object_get(j, "stage")));
	json_t *lesson = json_object_get(j, "lesson");
	g_assert_cmpstr(json_string_value(json_object_get(lesson, "id")), ==, LESSON);
	g_assert_cmpstr(json_string_value(json_object_get(lesson, "state")), ==, "live");
	cid = g_strdup(json_string_value(json_object_get(json_object_get(j, "participant"), "id")));
	json_decref(j);

	j = next(t);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "participant_joined");
	json_t *p = json_object_get(j, "participant");
	g_assert_cmpstr(json_string_value(json_object_get(p, "id")), ==, cid);
	g_assert_cmpstr(json_string_value(json_object_get(p, "name")), ==, "Room A");
	json_decref(j);
	expect_nothing(c);

	/* A second join on the same socket: refused, the socket stays. */
	send_text(c, text);
	expect_error(c, "already-joined");
	g_assert_cmpuint(kt_ws_test_get_close_code(c), ==, 0);
	expect_nothing(t);

	/* A second teacher: refused and closed with 4001. */
	KtWsConn *t2 = kt_ws_test_open(f->ws);
	g_autofree char *tt = mint(LESSON, KT_ROLE_TEACHER, 600);
	g_autofree char *t2text = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", tt);
	send_text(t2, t2text);
	expect_error(t2, "wrong-state");
	g_assert_cmpuint(kt_ws_test_get_close_code(t2), ==, KT_WS_CLOSE_JOIN_FAILED);
	expect_nothing(t);
	g_assert_cmpuint(kt_roster_size(kt_signal_get_roster(f->s, LESSON)), ==, 2);
}

static void test_join_refused(Fixture *f, gconstpointer data)
{
	struct {
		KtRole role;
		const char *lesson;
		gint64 ttl;
		const char *code;
	} cases[] = {
	    {KT_ROLE_CLASSROOM, LESSON, -10, "token-expired"},
	    {KT_ROLE_ADMIN, NULL, 600, "wrong-role"},
	    {KT_ROLE_ARCHIVIST, NULL, 600, "wrong-role"},
	};
	(void)data;

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		KtWsConn *c = kt_ws_test_open(f->ws);
		g_autofree char *token = mint(cases[i].lesson, cases[i].role, cases[i].ttl);
		g_autofree char *text =
		    g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", token);
		send_text(c, text);
		expect_error(c, cases[i].code);
		g_assert_cmpuint(kt_ws_test_get_close_code(c), ==, KT_WS_CLOSE_JOIN_FAILED);
	}
	/* Forged: another secret. */
	KtWsConn *c = kt_ws_test_open(f->ws);
	g_autofree char *forged = kt_token_mint((const guint8 *)"another-secret-of-32-bytes-long!",
	                                        32, LESSON, KT_ROLE_TEACHER, G_MAXINT32, NULL);
	g_autofree char *text = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", forged);
	send_text(c, text);
	json_t *j = next(c);
	g_assert_cmpstr(json_string_value(json_object_get(j, "code")), ==, "bad-token");
	/* Never quoted back. */
	g_assert_null(strstr(json_string_value(json_object_get(j, "message")), forged));
	json_decref(j);
	g_assert_cmpuint(kt_ws_test_get_close_code(c), ==, KT_WS_CLOSE_JOIN_FAILED);

	/* A malformed join is a bad message: answered, not closed. */
	KtWsConn *d = kt_ws_test_open(f->ws);
	send_text(d, "{\"type\":\"join\"}");
	expect_error(d, "bad-message");
	g_assert_cmpuint(kt_ws_test_get_close_code(d), ==, 0);
	g_assert_null(kt_signal_get_roster(f->s, LESSON));
}

/* Every type but join before join: not-joined; the socket stays usable. */
static void test_before_join(Fixture *f, gconstpointer data)
{
	KtWsConn *c = kt_ws_test_open(f->ws);
	(void)data;

	for (guint t = KT_SIGNAL_MSG_JOIN + 1; t < KT_SIGNAL_MSG_N_TYPES; t++) {
		g_autofree char *text = valid_message(t, "p1");
		send_text(c, text);
		json_t *j = next(c);
		g_assert_cmpstr(json_string_value(json_object_get(j, "code")), ==, "not-joined");
		g_assert_cmpint(json_integer_value(json_object_get(j, "id")), ==, 5);
		json_decref(j);
		expect_nothing(c);
	}
	g_assert_cmpuint(kt_ws_test_get_close_code(c), ==, 0);
	send_text(c, "not json");
	expect_error(c, "bad-json");
	send_text(c, "{\"type\":\"dance\"}");
	expect_error(c, "unknown-type");
	g_autofree char *huge = g_strnfill(KT_SIGNAL_MSG_MAX_BYTES + 1, ' ');
	kt_ws_test_receive(c, huge, strlen(huge));
	expect_error(c, "too-large");
	/* Still usable: it joins. */
	g_autofree char *token = mint(LESSON, KT_ROLE_OBSERVER, 600);
	g_autofree char *jt = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", token);
	send_text(c, jt);
	expect_type(c, "joined", NULL);
}

/* Each type from each role that may not send it: wrong-role, nobody hears. */
static void test_wrong_role(Fixture *f, gconstpointer data)
{
	g_autofree char *tid = NULL, *cid = NULL, *oid = NULL;
	(void)data;
	KtWsConn *conns[3];
	conns[0] = join(f, KT_ROLE_TEACHER, NULL, &tid);
	conns[1] = join(f, KT_ROLE_CLASSROOM, NULL, &cid);
	conns[2] = join(f, KT_ROLE_OBSERVER, NULL, &oid);
	const KtRole roles[3] = {KT_ROLE_TEACHER, KT_ROLE_CLASSROOM, KT_ROLE_OBSERVER};
	/* Which roles may send each type (PROTOCOL.md). */
	static const char *const allowed[KT_SIGNAL_MSG_N_TYPES] = {
	    [KT_SIGNAL_MSG_PUBLISH_OFFER] = "teacher classroom",
	    [KT_SIGNAL_MSG_SUBSCRIBE_ANSWER] = "teacher classroom observer",
	    [KT_SIGNAL_MSG_CANDIDATE] = "teacher classroom observer",
	    [KT_SIGNAL_MSG_RAISE_HAND] = "classroom",
	    [KT_SIGNAL_MSG_LOWER_HAND] = "classroom",
	    [KT_SIGNAL_MSG_STAGE] = "teacher",
	    [KT_SIGNAL_MSG_UNSTAGE] = "teacher",
	    [KT_SIGNAL_MSG_MUTE] = "teacher",
	    [KT_SIGNAL_MSG_UNMUTE] = "teacher",
	    [KT_SIGNAL_MSG_END_LESSON] = "teacher",
	    [KT_SIGNAL_MSG_CHAT] = "teacher classroom observer",
	    [KT_SIGNAL_MSG_AUDIO] = "classroom",
	    [KT_SIGNAL_MSG_VIEW] = "teacher",
	};
	for (guint i = 0; i < 3; i++)
		drain(conns[i]); /* the join broadcasts */

	for (guint t = KT_SIGNAL_MSG_JOIN + 1; t < KT_SIGNAL_MSG_N_TYPES; t++) {
		for (guint r = 0; r < 3; r++) {
			if (strstr(allowed[t], kt_role_to_string(roles[r])))
				continue;
			g_autofree char *text = valid_message(t, cid);
			send_text(conns[r], text);
			expect_error(conns[r], "wrong-role");
			for (guint o = 0; o < 3; o++)
				expect_nothing(conns[o]);
		}
	}
	const KtRosterEntry *c = kt_roster_get(kt_signal_get_roster(f->s, LESSON), cid);
	g_assert_false(c->muted || c->staged || c->hand);
}

static void test_floor_and_chat(Fixture *f, gconstpointer data)
{
	g_autofree char *tid = NULL, *c1 = NULL, *c2 = NULL;
	(void)data;
	KtWsConn *t = join(f, KT_ROLE_TEACHER, NULL, &tid);
	KtWsConn *a = join(f, KT_ROLE_CLASSROOM, NULL, &c1);
	KtWsConn *b = join(f, KT_ROLE_CLASSROOM, NULL, &c2);
	drain(t), drain(a), drain(b);

	send_text(a, "{\"type\":\"raise_hand\",\"id\":\"r1\"}");
	json_t *j = next(a);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "hand_raised");
	g_assert_cmpstr(json_string_value(json_object_get(j, "id")), ==, "r1");
	json_decref(j);
	j = next(t); /* others' copies carry no id */
	g_assert_null(json_object_get(j, "id"));
	g_assert_cmpstr(json_string_value(json_object_get(j, "participant")), ==, c1);
	json_decref(j);
	expect_type(b, "hand_raised", c1);
	send_text(a, "{\"type\":\"raise_hand\"}");
	expect_error(a, "wrong-state");
	expect_nothing(t);

	/* Stage answers the hand. */
	g_autofree char *stage = g_strdup_printf("{\"type\":\"stage\",\"participant\":\"%s\"}", c1);
	send_text(t, stage);
	expect_type(t, "hand_lowered", c1);
	expect_type(t, "staged", c1);
	expect_type(b, "hand_lowered", c1);
	expect_type(b, "staged", c1);
	send_text(t, stage);
	expect_error(t, "wrong-state");
	send_text(t, "{\"type\":\"stage\",\"participant\":\"p99\"}");
	expect_error(t, "no-such-participant");
	g_autofree char *stage_t =
	    g_strdup_printf("{\"type\":\"stage\",\"participant\":\"%s\"}", tid);
	send_text(t, stage_t);
	expect_error(t, "wrong-state");

	g_autofree char *mute = g_strdup_printf("{\"type\":\"mute\",\"participant\":\"%s\"}", c2);
	send_text(t, mute);
	expect_type(a, "hand_lowered", c1);
	expect_type(a, "staged", c1);
	expect_type(a, "muted", c2);
	expect_type(t, "muted", c2);
	send_text(t, mute);
	expect_error(t, "wrong-state");
	g_autofree char *unmute =
	    g_strdup_printf("{\"type\":\"unmute\",\"participant\":\"%s\"}", c2);
	send_text(t, unmute);
	send_text(t, "{\"type\":\"unstage\"}");
	send_text(t, "{\"type\":\"unstage\"}");
	drain(a);
	expect_type(t, "unmuted", c2);
	expect_type(t, "unstaged", c1);
	expect_error(t, "wrong-state");

	send_text(b, "{\"type\":\"chat\",\"id\":3,\"text\":\"你好\"}");
	j = next(a);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "chat");
	g_assert_cmpstr(json_string_value(json_object_get(j, "from")), ==, c2);
	g_assert_cmpstr(json_string_value(json_object_get(j, "name")), ==, "Classroom 2");
	g_assert_cmpstr(json_string_value(json_object_get(j, "text")), ==, "你好");
	g_assert_cmpint(json_integer_value(json_object_get(j, "at")), >, 1700000000000);
	json_decref(j);

	/* A late joiner sees hands, stage and chat in joined. */
	KtWsConn *late = kt_ws_test_open(f->ws);
	g_autofree char *token = mint(LESSON, KT_ROLE_OBSERVER, 600);
	g_autofree char *jt = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", token);
	send_text(late, jt);
	j = next(late);
	g_assert_cmpuint(json_array_size(json_object_get(j, "chat")), ==, 1);
	g_assert_cmpuint(json_array_size(json_object_get(j, "hands")), ==, 0);
	g_assert_cmpuint(json_array_size(json_object_get(j, "participants")), ==, 4);
	json_decref(j);
}

static void test_leave_and_end(Fixture *f, gconstpointer data)
{
	g_autofree char *tid = NULL, *c1 = NULL, *c2 = NULL;
	(void)data;
	KtWsConn *t = join(f, KT_ROLE_TEACHER, NULL, &tid);
	KtWsConn *a = join(f, KT_ROLE_CLASSROOM, NULL, &c1);
	KtWsConn *b = join(f, KT_ROLE_CLASSROOM, NULL, &c2);
	g_autofree char *stage = g_strdup_printf("{\"type\":\"stage\",\"participant\":\"%s\"}", c1);
	send_text(t, stage);
	drain(t), drain(a), drain(b);

	/* The staged classroom leaves: the stage empties. */
	kt_ws_test_close(a);
	expect_type(t, "unstaged", c1);
	expect_type(t, "participant_left", c1);
	expect_type(b, "unstaged", c1);
	expect_type(b, "participant_left", c1);
	g_assert_null(kt_roster_get_stage(kt_signal_get_roster(f->s, LESSON)));

	send_text(t, "{\"type\":\"end_lesson\",\"id\":9}");
	json_t *j = next(t);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "lesson_ended");
	g_assert_cmpint(json_integer_value(json_object_get(j, "id")), ==, 9);
	json_decref(j);
	expect_type(b, "lesson_ended", NULL);
	g_assert_cmpuint(kt_ws_test_get_close_code(t), ==, KT_WS_CLOSE_NORMAL);
	g_assert_cmpuint(kt_ws_test_get_close_code(b), ==, KT_WS_CLOSE_NORMAL);
	/* Closing sockets answer nothing more. */
	send_text(b, "{\"type\":\"chat\",\"text\":\"x\"}");
	expect_nothing(b);

	/* A join after the end: lesson-ended, closed. */
	KtWsConn *late = kt_ws_test_open(f->ws);
	g_autofree char *token = mint(LESSON, KT_ROLE_CLASSROOM, 600);
	g_autofree char *jt = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", token);
	send_text(late, jt);
	expect_error(late, "lesson-ended");
	g_assert_cmpuint(kt_ws_test_get_close_code(late), ==, KT_WS_CLOSE_JOIN_FAILED);

	kt_ws_test_close(t);
	kt_ws_test_close(b);
	g_assert_cmpuint(kt_roster_size(kt_signal_get_roster(f->s, LESSON)), ==, 0);
}

/* A classroom joining under the name of one in the lesson replaces it: the old socket is
 * told `replaced` and closed with 4002, the others hear it leave (and leave the stage)
 * before the newcomer joins, and the old socket's close is not a second leave. Other
 * names, and classrooms without a name, are untouched. */
static void test_replaced(Fixture *f, gconstpointer data)
{
	g_autofree char *tid = NULL, *a1 = NULL, *a2 = NULL, *bid = NULL;
	(void)data;
	KtWsConn *t = join(f, KT_ROLE_TEACHER, NULL, &tid);
	KtWsConn *a = join(f, KT_ROLE_CLASSROOM, "Room A", &a1);
	KtWsConn *b = join(f, KT_ROLE_CLASSROOM, "Room B", &bid);
	KtWsConn *anon = join(f, KT_ROLE_CLASSROOM, NULL, NULL);
	g_autofree char *stage = g_strdup_printf("{\"type\":\"stage\",\"participant\":\"%s\"}", a1);
	send_text(t, stage);
	drain(t), drain(a), drain(b), drain(anon);

	KtWsConn *again = join(f, KT_ROLE_CLASSROOM, "Room A", &a2);
	g_assert_cmpstr(a1, !=, a2);
	expect_error(a, "replaced");
	g_assert_cmpuint(kt_ws_test_get_close_code(a), ==, KT_WS_CLOSE_REPLACED);
	for (guint i = 0; i < 2; i++) {
		KtWsConn *other = i == 0 ? t : b;

		expect_type(other, "unstaged", a1);
		expect_type(other, "participant_left", a1);
		expect_type(other, "participant_joined", NULL);
		expect_nothing(other);
	}
	g_assert_cmpuint(kt_roster_size(kt_signal_get_roster(f->s, LESSON)), ==, 4);
	g_assert_null(kt_roster_get(kt_signal_get_roster(f->s, LESSON), a1));
	g_assert_nonnull(kt_roster_get(kt_signal_get_roster(f->s, LESSON), a2));

	/* The old socket going away now is nobody's leave. */
	kt_ws_test_close(a);
	expect_nothing(t);
	expect_nothing(b);
	/* A second nameless classroom is a new participant, not a replacement. */
	join(f, KT_ROLE_CLASSROOM, NULL, NULL);
	expect_type(t, "participant_joined", NULL);
	expect_nothing(t);
	g_assert_cmpuint(kt_ws_test_get_close_code(anon), ==, 0);
	g_assert_cmpuint(kt_roster_size(kt_signal_get_roster(f->s, LESSON)), ==, 5);
	(void)again;
}

/* --- media ops --- */

typedef struct {
	GString *log;
} FakeMedia;

static void fake_joined(gpointer m, const char *lesson, const KtRosterEntry *p)
{
	g_string_append_printf(((FakeMedia *)m)->log, "joined %s %s;", lesson, p->id);
}

static void fake_left(gpointer m, const char *lesson, const char *p)
{
	g_string_append_printf(((FakeMedia *)m)->log, "left %s %s;", lesson, p);
}

static void fake_floor(gpointer m, const char *lesson)
{
	g_string_append_printf(((FakeMedia *)m)->log, "floor %s;", lesson);
}

static void fake_publish(gpointer m, const char *lesson, const char *p, const char *sdp,
                         json_t *tracks, json_t *id)
{
	g_string_append_printf(((FakeMedia *)m)->log, "publish %s %s %s %zu %lld;", lesson, p, sdp,
	                       json_array_size(tracks), (long long)json_integer_value(id));
}

static void fake_candidate(gpointer m, const char *lesson, const char *p, const char *pc,
                           const char *cand, const char *mid)
{
	g_string_append_printf(((FakeMedia *)m)->log, "candidate %s %s %s '%s' %s;", lesson, p, pc,
	                       cand, mid ? mid : "-");
}

static void fake_view(gpointer m, const char *lesson, const char *p, const char *mode, json_t *id)
{
	g_string_append_printf(((FakeMedia *)m)->log, "view %s %s %s %lld;", lesson, p, mode,
	                       (long long)json_integer_value(id));
}

static void test_media(Fixture *f, gconstpointer data)
{
	static const KtSignalMediaOps ops = {
	    .participant_joined = fake_joined,
	    .participant_left = fake_left,
	    .floor_changed = fake_floor,
	    .publish_offer = fake_publish,
	    .candidate = fake_candidate,
	    .view = fake_view,
	};
	FakeMedia media = {g_string_new(NULL)};
	g_autofree char *tid = NULL, *cid = NULL;
	(void)data;

	/* Without media: media-unavailable. */
	KtWsConn *t = join(f, KT_ROLE_TEACHER, NULL, &tid);
	for (guint type = KT_SIGNAL_MSG_PUBLISH_OFFER; type <= KT_SIGNAL_MSG_CANDIDATE; type++) {
		g_autofree char *text = valid_message(type, "p1");
		send_text(t, text);
		expect_error(t, "media-unavailable");
	}
	{
		g_autofree char *text = valid_message(KT_SIGNAL_MSG_VIEW, NULL);
		send_text(t, text);
		expect_error(t, "media-unavailable");
	}

	kt_signal_set_media(f->s, &ops, &media);
	KtWsConn *c = join(f, KT_ROLE_CLASSROOM, NULL, &cid);
	send_text(c, "{\"type\":\"publish_offer\",\"id\":4,\"sdp\":\"v=0\",\"tracks\":[{\"mid\":"
	             "\"0\",\"source\":\"camera\"}]}");
	send_text(c, "{\"type\":\"candidate\",\"pc\":\"subscribe\",\"candidate\":\"\"}");
	send_text(c, "{\"type\":\"subscribe_answer\",\"sdp\":\"v=0\"}"); /* op not set */
	expect_error(c, "media-unavailable");
	/* view: the teacher's only; a bad mode never reaches the media side. */
	send_text(c, "{\"type\":\"view\",\"id\":7,\"mode\":\"wall\"}");
	expect_error(c, "wrong-role");
	drain(t); /* c's join */
	send_text(t, "{\"type\":\"view\",\"id\":8,\"mode\":\"mosaic\"}");
	expect_error(t, "bad-message");
	send_text(t, "{\"type\":\"view\",\"id\":9}");
	expect_error(t, "bad-message");
	send_text(t, "{\"type\":\"view\",\"id\":6,\"mode\":\"wall\"}");
	/* A raised hand is a floor change too (the wall marks it). */
	send_text(c, "{\"type\":\"raise_hand\"}");
	drain(t);
	drain(c);
	g_autofree char *mute = g_strdup_printf("{\"type\":\"mute\",\"participant\":\"%s\"}", cid);
	send_text(t, mute);
	drain(c); /* muted */
	g_assert_true(kt_signal_send_error(f->s, LESSON, cid, NULL, "bad-sdp", "no %s", "BUNDLE"));
	json_t *j = next(c);
	g_assert_cmpstr(json_string_value(json_object_get(j, "code")), ==, "bad-sdp");
	g_assert_false(kt_signal_send(f->s, LESSON, "p99", j));
	json_decref(j);
	kt_ws_test_close(c);
	g_assert_cmpstr(media.log->str, ==,
	                "joined maths-3a p2;publish maths-3a p2 v=0 1 4;"
	                "candidate maths-3a p2 subscribe '' -;view maths-3a p1 wall 6;"
	                "floor maths-3a;floor maths-3a;left maths-3a p2;");
	g_string_free(media.log, TRUE);
}

static void fake_audio(gpointer m, const char *lesson, const char *p, const char *mode, json_t *id)
{
	g_string_append_printf(((FakeMedia *)m)->log, "audio %s %s %s %lld;", lesson, p, mode,
	                       id ? (long long)json_integer_value(id) : -1LL);
}

/* A classroom's audio choice: in join or alone; anyone else asking is
 * wrong-role (a join then fails); without media, media-unavailable. */
static void test_audio(Fixture *f, gconstpointer data)
{
	static const KtSignalMediaOps ops = {.participant_joined = fake_joined,
	                                     .audio = fake_audio};
	static const KtRole others[] = {KT_ROLE_TEACHER, KT_ROLE_OBSERVER};
	FakeMedia media = {g_string_new(NULL)};
	g_autofree char *cid = NULL;
	(void)data;

	/* Without media: the message is refused, a join with it still joins. */
	KtWsConn *c0 = join(f, KT_ROLE_CLASSROOM, NULL, NULL);
	send_text(c0, "{\"type\":\"audio\",\"id\":2,\"mode\":\"mix\"}");
	expect_error(c0, "media-unavailable");

	kt_signal_set_media(f->s, &ops, &media);
	for (guint i = 0; i < G_N_ELEMENTS(others); i++) {
		KtWsConn *c = kt_ws_test_open(f->ws);
		g_autofree char *token = mint(LESSON, others[i], 600);
		g_autofree char *text = g_strdup_printf(
		    "{\"type\":\"join\",\"id\":1,\"token\":\"%s\",\"audio\":\"mix\"}", token);

		send_text(c, text);
		expect_error(c, "wrong-role");
		g_assert_cmpuint(kt_ws_test_get_close_code(c), ==, KT_WS_CLOSE_JOIN_FAILED);
	}
	g_assert_cmpuint(kt_roster_size(kt_signal_get_roster(f->s, LESSON)), ==, 1);

	KtWsConn *c = kt_ws_test_open(f->ws);
	g_autofree char *token = mint(LESSON, KT_ROLE_CLASSROOM, 600);
	g_autofree char *text = g_strdup_printf(
	    "{\"type\":\"join\",\"id\":1,\"token\":\"%s\",\"audio\":\"mix\"}", token);
	send_text(c, text);
	json_t *j = next(c);
	g_assert_cmpstr(json_string_value(json_object_get(j, "type")), ==, "joined");
	cid = g_strdup(json_string_value(json_object_get(json_object_get(j, "participant"), "id")));
	json_decref(j);
	send_text(c, "{\"type\":\"audio\",\"id\":9,\"mode\":\"forward\"}");
	send_text(c, "{\"type\":\"audio\",\"id\":10,\"mode\":\"both\"}");
	expect_error(c, "bad-message");
	g_autofree char *want = g_strdup_printf(
	    "joined maths-3a %s;audio maths-3a %s mix -1;audio maths-3a %s forward 9;", cid, cid,
	    cid);
	g_assert_cmpstr(media.log->str, ==, want);
	g_string_free(media.log, TRUE);
}

/* [limits] max_participants: one more is refused and closed; the teacher is
 * always let in; a seat that frees up can be taken. */
static void test_lesson_full(Fixture *f, gconstpointer data)
{
	(void)data;
	KtWsConn *a = join(f, KT_ROLE_CLASSROOM, "A", NULL);
	join(f, KT_ROLE_OBSERVER, NULL, NULL);
	drain(a);

	KtWsConn *c = kt_ws_test_open(f->ws);
	g_autofree char *token = mint(LESSON, KT_ROLE_CLASSROOM, 600);
	g_autofree char *text = g_strdup_printf("{\"type\":\"join\",\"token\":\"%s\"}", token);
	send_text(c, text);
	expect_error(c, "lesson-full");
	g_assert_cmpuint(kt_ws_test_get_close_code(c), ==, KT_WS_CLOSE_JOIN_FAILED);
	expect_nothing(a); /* nobody heard of it */
	kt_ws_test_close(c);

	join(f, KT_ROLE_TEACHER, NULL, NULL);
	drain(a);
	kt_ws_test_close(a);
	c = kt_ws_test_open(f->ws);
	send_text(c, text);
	expect_type(c, "joined", NULL);
}

/* [limits] ws_message_rate: a burst passes, the next message gets one
 * rate-limited error, the ones after it nothing, and another burst's worth
 * closes the socket (1008). The others only heard the burst. */
static void test_rate_limited(Fixture *f, gconstpointer data)
{
	const KtSignalConfig *cfg = data;
	KtWsConn *listener = join(f, KT_ROLE_TEACHER, NULL, NULL);
	KtWsConn *flood = join(f, KT_ROLE_CLASSROOM, NULL, NULL);
	const char *chat = "{\"type\":\"chat\",\"id\":3,\"text\":\"spam\"}";

	drain(listener);
	/* The join took one token. */
	for (guint i = 1; i < cfg->message_burst; i++)
		send_text(flood, chat);
	for (guint i = 1; i < cfg->message_burst; i++)
		expect_type(listener, "chat", NULL);
	expect_nothing(listener);
	drain(flood);

	send_text(flood, chat);
	expect_error(flood, "rate-limited");
	for (guint i = 1; i < cfg->message_burst; i++)
		send_text(flood, chat);
	expect_nothing(flood);
	g_assert_cmpuint(kt_ws_test_get_close_code(flood), ==, 0);
	send_text(flood, chat);
	g_assert_cmpuint(kt_ws_test_get_close_code(flood), ==, KT_WS_CLOSE_POLICY);
	expect_nothing(listener);
	/* The listener's own socket is untouched. */
	send_text(listener, chat);
	expect_type(listener, "chat", NULL);
}

/* [limits] ws_max_message below the parser's own cap. */
static void test_max_message(Fixture *f, gconstpointer data)
{
	const KtSignalConfig *cfg = data;
	KtWsConn *c = join(f, KT_ROLE_TEACHER, NULL, NULL);
	GString *chat = g_string_new("{\"type\":\"chat\",\"text\":\"");

	while (chat->len < cfg->max_message)
		g_string_append_c(chat, 'a');
	g_string_append(chat, "\"}");
	kt_ws_test_receive(c, chat->str, chat->len);
	expect_error(c, "too-large");
	g_string_free(chat, TRUE);
	send_text(c, "{\"type\":\"chat\",\"text\":\"short\"}");
	expect_type(c, "chat", NULL);
}

int main(int argc, char **argv)
{
	/* A rate of 1/s: the test sends its messages well within a second. */
	static const KtSignalConfig full = {.max_participants = 2};
	static const KtSignalConfig rate = {.message_rate = 1, .message_burst = 5};
	static const KtSignalConfig small = {.max_message = 4096};

	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/signal/join", test_join);
	ADD("/signal/join-refused", test_join_refused);
	ADD("/signal/before-join", test_before_join);
	ADD("/signal/wrong-role", test_wrong_role);
	ADD("/signal/floor-and-chat", test_floor_and_chat);
	ADD("/signal/leave-and-end", test_leave_and_end);
	ADD("/signal/replaced", test_replaced);
	ADD("/signal/media", test_media);
	ADD("/signal/audio", test_audio);
#define ADD_CFG(path, cfg, fn) g_test_add(path, Fixture, cfg, fixture_setup, fn, fixture_teardown)
	ADD_CFG("/signal/limits/lesson-full", &full, test_lesson_full);
	ADD_CFG("/signal/limits/rate", &rate, test_rate_limited);
	ADD_CFG("/signal/limits/max-message", &small, test_max_message);
	return g_test_run();
}
