/* kt-roster: joins, the hand queue, stage, mute, chat, end; every refused
 * change leaves the roster as it was. */
#include "kt-roster.h"

#include <string.h>

#define NOW 1700000000000

static const KtRosterEntry *add(KtRoster *r, KtRole role, const char *name)
{
	g_autoptr(GError) error = NULL;
	const KtRosterEntry *e = kt_roster_add(r, role, name, NOW, &error);
	g_assert_no_error(error);
	g_assert_nonnull(e);
	return e;
}

/* A compact picture of the roster, to show a refused change changed nothing. */
static char *snapshot(const KtRoster *r)
{
	GString *s = g_string_new(kt_roster_is_ended(r) ? "ended;" : "open;");
	for (guint i = 0; i < kt_roster_size(r); i++) {
		const KtRosterEntry *e = kt_roster_nth(r, i);
		g_string_append_printf(s, "%s/%s/%s/%d%d%d;", e->id, kt_role_to_string(e->role),
		                       e->name, e->hand, e->muted, e->staged);
	}
	g_string_append_printf(s, "stage=%s;hands=", kt_roster_get_stage(r));
	for (guint i = 0; i < kt_roster_n_hands(r); i++)
		g_string_append_printf(s, "%s,", kt_roster_nth_hand(r, i));
	g_string_append_printf(s, ";chat=%u", kt_roster_n_chat(r));
	return g_string_free(s, FALSE);
}

#define EXPECT_REFUSED(r, call, code)                                                              \
	do {                                                                                       \
		g_autoptr(GError) e_ = NULL;                                                       \
		g_autofree char *before_ = snapshot(r);                                            \
		GError **err_out = &e_;                                                            \
		g_assert_false(call);                                                              \
		g_assert_error(e_, KT_ROSTER_ERROR, KT_ROSTER_ERROR_##code);                       \
		g_autofree char *after_ = snapshot(r);                                             \
		g_assert_cmpstr(before_, ==, after_);                                              \
	} while (0)

static void test_join_and_names(void)
{
	KtRoster *r = kt_roster_new("maths");
	g_autoptr(GError) error = NULL;

	const KtRosterEntry *t = add(r, KT_ROLE_TEACHER, NULL);
	const KtRosterEntry *c1 = add(r, KT_ROLE_CLASSROOM, NULL);
	const KtRosterEntry *c2 = add(r, KT_ROLE_CLASSROOM, "Room B");
	const KtRosterEntry *c3 = add(r, KT_ROLE_CLASSROOM, NULL);
	const KtRosterEntry *o = add(r, KT_ROLE_OBSERVER, NULL);

	g_assert_cmpstr(kt_roster_get_lesson(r), ==, "maths");
	g_assert_cmpstr(t->id, ==, "p1");
	g_assert_cmpstr(t->name, ==, "Teacher");
	g_assert_cmpstr(c1->name, ==, "Classroom 1");
	g_assert_cmpstr(c2->name, ==, "Room B");
	g_assert_cmpstr(c3->name, ==, "Classroom 3");
	g_assert_cmpstr(o->name, ==, "Observer 1");
	g_assert_cmpstr(o->id, ==, "p5");
	g_assert_cmpint(c1->joined_at_ms, ==, NOW);
	g_assert_cmpuint(kt_roster_size(r), ==, 5);
	g_assert_true(kt_roster_get(r, "p3") == c2);
	g_assert_null(kt_roster_get(r, "p9"));

	/* One teacher per lesson: the second is refused. */
	EXPECT_REFUSED(r, kt_roster_add(r, KT_ROLE_TEACHER, NULL, NOW, err_out) != NULL,
	               WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_add(r, KT_ROLE_ADMIN, NULL, NOW, err_out) != NULL, WRONG_STATE);

	/* Ids are never reused, even after a leave. */
	g_assert_true(kt_roster_remove(r, "p2", NULL));
	g_assert_false(kt_roster_remove(r, "p2", NULL));
	const KtRosterEntry *c4 = add(r, KT_ROLE_CLASSROOM, NULL);
	g_assert_cmpstr(c4->id, ==, "p6");
	g_assert_cmpstr(c4->name, ==, "Classroom 4");

	/* The teacher can come back after leaving. */
	g_assert_true(kt_roster_remove(r, "p1", NULL));
	add(r, KT_ROLE_TEACHER, "Ms Li");

	json_t *j = kt_roster_entry_to_json(c2);
	g_assert_cmpstr(json_string_value(json_object_get(j, "role")), ==, "classroom");
	g_assert_true(json_is_false(json_object_get(j, "hand")));
	json_decref(j);
	kt_roster_free(r);
}

static void test_hands(void)
{
	KtRoster *r = kt_roster_new("l");
	g_autoptr(GError) error = NULL;

	add(r, KT_ROLE_TEACHER, NULL);
	add(r, KT_ROLE_CLASSROOM, NULL); /* p2 */
	add(r, KT_ROLE_CLASSROOM, NULL); /* p3 */
	add(r, KT_ROLE_OBSERVER, NULL);  /* p4 */

	g_assert_true(kt_roster_raise_hand(r, "p3", &error));
	g_assert_true(kt_roster_raise_hand(r, "p2", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(kt_roster_n_hands(r), ==, 2);
	g_assert_cmpstr(kt_roster_nth_hand(r, 0), ==, "p3");
	g_assert_cmpstr(kt_roster_nth_hand(r, 1), ==, "p2");
	g_assert_true(kt_roster_get(r, "p3")->hand);

	EXPECT_REFUSED(r, kt_roster_raise_hand(r, "p3", err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_raise_hand(r, "p1", err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_raise_hand(r, "p4", err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_raise_hand(r, "p9", err_out), NO_SUCH_PARTICIPANT);

	g_assert_true(kt_roster_lower_hand(r, "p3", &error));
	g_assert_cmpuint(kt_roster_n_hands(r), ==, 1);
	g_assert_cmpstr(kt_roster_nth_hand(r, 0), ==, "p2");
	EXPECT_REFUSED(r, kt_roster_lower_hand(r, "p3", err_out), WRONG_STATE);

	/* Leaving takes the hand out of the queue. */
	kt_roster_remove(r, "p2", NULL);
	g_assert_cmpuint(kt_roster_n_hands(r), ==, 0);
	kt_roster_free(r);
}

static void test_stage(void)
{
	KtRoster *r = kt_roster_new("l");
	g_autoptr(GError) error = NULL;
	const char *previous = "x";
	gboolean lowered = TRUE;
	const char *who = NULL;
	gboolean was_staged = FALSE;

	add(r, KT_ROLE_TEACHER, NULL);
	add(r, KT_ROLE_CLASSROOM, NULL); /* p2 */
	add(r, KT_ROLE_CLASSROOM, NULL); /* p3 */
	add(r, KT_ROLE_OBSERVER, NULL);  /* p4 */

	EXPECT_REFUSED(r, kt_roster_unstage(r, NULL, err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_stage(r, "p1", NULL, NULL, err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_stage(r, "p4", NULL, NULL, err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_stage(r, "nobody", NULL, NULL, err_out), NO_SUCH_PARTICIPANT);

	g_assert_true(kt_roster_stage(r, "p2", &previous, &lowered, &error));
	g_assert_null(previous);
	g_assert_false(lowered);
	g_assert_cmpstr(kt_roster_get_stage(r), ==, "p2");
	g_assert_true(kt_roster_get(r, "p2")->staged);
	EXPECT_REFUSED(r, kt_roster_stage(r, "p2", NULL, NULL, err_out), WRONG_STATE);

	/* Staging another replaces the first and answers its raised hand. */
	g_assert_true(kt_roster_raise_hand(r, "p3", &error));
	g_assert_true(kt_roster_stage(r, "p3", &previous, &lowered, &error));
	g_assert_cmpstr(previous, ==, "p2");
	g_assert_true(lowered);
	g_assert_false(kt_roster_get(r, "p2")->staged);
	g_assert_false(kt_roster_get(r, "p3")->hand);
	g_assert_cmpuint(kt_roster_n_hands(r), ==, 0);

	g_assert_true(kt_roster_unstage(r, &who, &error));
	g_assert_cmpstr(who, ==, "p3");
	g_assert_null(kt_roster_get_stage(r));
	g_assert_false(kt_roster_get(r, "p3")->staged);

	/* The staged classroom leaving clears the stage. */
	g_assert_true(kt_roster_stage(r, "p2", NULL, NULL, &error));
	g_assert_true(kt_roster_remove(r, "p2", &was_staged));
	g_assert_true(was_staged);
	g_assert_null(kt_roster_get_stage(r));
	g_assert_no_error(error);
	kt_roster_free(r);
}

static void test_mute(void)
{
	KtRoster *r = kt_roster_new("l");
	g_autoptr(GError) error = NULL;

	add(r, KT_ROLE_TEACHER, NULL);
	add(r, KT_ROLE_CLASSROOM, NULL); /* p2 */

	EXPECT_REFUSED(r, kt_roster_set_muted(r, "p2", FALSE, err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_set_muted(r, "p1", TRUE, err_out), WRONG_STATE);
	EXPECT_REFUSED(r, kt_roster_set_muted(r, "p7", TRUE, err_out), NO_SUCH_PARTICIPANT);
	g_assert_true(kt_roster_set_muted(r, "p2", TRUE, &error));
	g_assert_true(kt_roster_get(r, "p2")->muted);
	EXPECT_REFUSED(r, kt_roster_set_muted(r, "p2", TRUE, err_out), WRONG_STATE);
	g_assert_true(kt_roster_set_muted(r, "p2", FALSE, &error));
	g_assert_false(kt_roster_get(r, "p2")->muted);
	g_assert_no_error(error);
	kt_roster_free(r);
}

static void test_chat(void)
{
	KtRoster *r = kt_roster_new("l");
	g_autoptr(GError) error = NULL;

	add(r, KT_ROLE_TEACHER, "Ms Li");
	const KtRosterChat *c = kt_roster_add_chat(r, "p1", "hello", NOW + 5, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(c->from, ==, "p1");
	g_assert_cmpstr(c->name, ==, "Ms Li");
	g_assert_cmpint(c->at_ms, ==, NOW + 5);
	EXPECT_REFUSED(r, kt_roster_add_chat(r, "p9", "x", NOW, err_out) != NULL,
	               NO_SUCH_PARTICIPANT);

	for (int i = 0; i < KT_ROSTER_CHAT_KEEP + 10; i++) {
		g_autofree char *text = g_strdup_printf("line %d", i);
		g_assert_nonnull(kt_roster_add_chat(r, "p1", text, NOW, &error));
	}
	g_assert_cmpuint(kt_roster_n_chat(r), ==, KT_ROSTER_CHAT_KEEP);
	g_assert_cmpstr(kt_roster_nth_chat(r, 0)->text, ==, "line 10");
	json_t *j = kt_roster_chat_to_json(kt_roster_nth_chat(r, 0));
	g_assert_cmpint(json_integer_value(json_object_get(j, "at")), ==, NOW);
	json_decref(j);

	/* A line stays in the history after its writer left. */
	kt_roster_remove(r, "p1", NULL);
	g_assert_cmpstr(kt_roster_nth_chat(r, 0)->from, ==, "p1");
	kt_roster_free(r);
}

static void test_end(void)
{
	KtRoster *r = kt_roster_new("l");
	g_autoptr(GError) error = NULL;

	add(r, KT_ROLE_TEACHER, NULL);
	add(r, KT_ROLE_CLASSROOM, NULL); /* p2 */
	add(r, KT_ROLE_CLASSROOM, NULL); /* p3 */
	g_assert_true(kt_roster_raise_hand(r, "p3", &error));
	g_assert_true(kt_roster_stage(r, "p2", NULL, NULL, &error));
	g_assert_true(kt_roster_end(r, &error));
	g_assert_no_error(error);
	g_assert_true(kt_roster_is_ended(r));
	g_assert_null(kt_roster_get_stage(r));
	g_assert_cmpuint(kt_roster_n_hands(r), ==, 0);
	g_assert_false(kt_roster_get(r, "p3")->hand);

	/* After the end every change is refused ... */
	EXPECT_REFUSED(r, kt_roster_end(r, err_out), ENDED);
	EXPECT_REFUSED(r, kt_roster_add(r, KT_ROLE_CLASSROOM, NULL, NOW, err_out) != NULL, ENDED);
	EXPECT_REFUSED(r, kt_roster_raise_hand(r, "p3", err_out), ENDED);
	EXPECT_REFUSED(r, kt_roster_lower_hand(r, "p3", err_out), ENDED);
	EXPECT_REFUSED(r, kt_roster_stage(r, "p3", NULL, NULL, err_out), ENDED);
	EXPECT_REFUSED(r, kt_roster_unstage(r, NULL, err_out), ENDED);
	EXPECT_REFUSED(r, kt_roster_set_muted(r, "p3", TRUE, err_out), ENDED);
	EXPECT_REFUSED(r, kt_roster_add_chat(r, "p1", "x", NOW, err_out) != NULL, ENDED);
	/* ... but the sockets still leave. */
	g_assert_true(kt_roster_remove(r, "p1", NULL));
	g_assert_cmpuint(kt_roster_size(r), ==, 2);
	kt_roster_free(r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/roster/join-and-names", test_join_and_names);
	g_test_add_func("/roster/hands", test_hands);
	g_test_add_func("/roster/stage", test_stage);
	g_test_add_func("/roster/mute", test_mute);
	g_test_add_func("/roster/chat", test_chat);
	g_test_add_func("/roster/end", test_end);
	return g_test_run();
}
