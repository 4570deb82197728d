/* kt-roster.c — participants and floor state of one lesson. */
#include "kt-roster.h"

#include <string.h>

// clang-format off
G_DEFINE_QUARK(kt-roster-error-quark, kt_roster_error)
// clang-format on

struct _KtRoster {
	char *lesson;
	GPtrArray *entries; /* KtRosterEntry*, join order, owned */
	GHashTable *by_id;  /* id → entry (borrowed) */
	GQueue hands;       /* ids (borrowed from entries), first raised first */
	KtRosterEntry *stage;
	GQueue chat; /* KtRosterChat*, owned, oldest first */
	guint next_id;
	guint n_joined[KT_ROLE_ADMIN + 1]; /* per role, for default names */
	gboolean ended;
};

static void kt_roster_entry_free(gpointer p)
{
	KtRosterEntry *e = p;
	g_free(e->id);
	g_free(e->name);
	g_free(e);
}

static void kt_roster_chat_free(gpointer p)
{
	KtRosterChat *c = p;
	g_free(c->from);
	g_free(c->name);
	g_free(c->text);
	g_free(c);
}

KtRoster *kt_roster_new(const char *lesson_id)
{
	KtRoster *r = g_new0(KtRoster, 1);
	r->lesson = g_strdup(lesson_id);
	r->entries = g_ptr_array_new_with_free_func(kt_roster_entry_free);
	r->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&r->hands);
	g_queue_init(&r->chat);
	r->next_id = 1;
	return r;
}

void kt_roster_free(KtRoster *r)
{
	if (!r)
		return;
	g_queue_clear(&r->hands);
	g_queue_clear_full(&r->chat, kt_roster_chat_free);
	g_hash_table_unref(r->by_id);
	g_ptr_array_unref(r->entries);
	g_free(r->lesson);
	g_free(r);
}

const char *kt_roster_get_lesson(const KtRoster *r)
{
	return r->lesson;
}

gboolean kt_roster_is_ended(const KtRoster *r)
{
	return r->ended;
}

static gboolean kt_roster_check_open(const KtRoster *r, GError **error)
{
	if (!r->ended)
		return TRUE;
	g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_ENDED, "the lesson has ended");
	return FALSE;
}

static const KtRosterEntry *kt_roster_find_teacher(const KtRoster *r)
{
	for (guint i = 0; i < r->entries->len; i++) {
		const KtRosterEntry *e = r->entries->pdata[i];
		if (e->role == KT_ROLE_TEACHER)
			return e;
	}
	return NULL;
}

static char *kt_roster_default_name(KtRole role, guint n)
{
	switch (role) {
	case KT_ROLE_TEACHER:
		return g_strdup("Teacher");
	case KT_ROLE_CLASSROOM:
		return g_strdup_printf("Classroom %u", n);
	default:
		return g_strdup_printf("Observer %u", n);
	}
}

const KtRosterEntry *kt_roster_add(KtRoster *r, KtRole role, const char *name, gint64 now_ms,
                                   GError **error)
{
	if (!kt_roster_check_open(r, error))
		return NULL;
	if (role != KT_ROLE_TEACHER && role != KT_ROLE_CLASSROOM && role != KT_ROLE_OBSERVER) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_WRONG_STATE,
		            "role '%s' does not take part in lessons", kt_role_to_string(role));
		return NULL;
	}
	if (role == KT_ROLE_TEACHER && kt_roster_find_teacher(r)) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_WRONG_STATE,
		            "the lesson already has a teacher");
		return NULL;
	}
	KtRosterEntry *e = g_new0(KtRosterEntry, 1);
	e->id = g_strdup_printf("p%u", r->next_id++);
	e->role = role;
	r->n_joined[role]++;
	e->name = name ? g_strdup(name) : kt_roster_default_name(role, r->n_joined[role]);
	e->joined_at_ms = now_ms;
	g_ptr_array_add(r->entries, e);
	g_hash_table_insert(r->by_id, e->id, e);
	return e;
}

gboolean kt_roster_remove(KtRoster *r, const char *id, gboolean *was_staged)
{
	KtRosterEntry *e = g_hash_table_lookup(r->by_id, id);

	if (was_staged)
		*was_staged = e && e->staged;
	if (!e)
		return FALSE;
	g_queue_remove(&r->hands, e->id);
	if (r->stage == e)
		r->stage = NULL;
	g_hash_table_remove(r->by_id, e->id);
	g_ptr_array_remove(r->entries, e); /* frees e */
	return TRUE;
}

const KtRosterEntry *kt_roster_get(const KtRoster *r, const char *id)
{
	return id ? g_hash_table_lookup(r->by_id, id) : NULL;
}

guint kt_roster_size(const KtRoster *r)
{
	return r->entries->len;
}

const KtRosterEntry *kt_roster_nth(const KtRoster *r, guint i)
{
	return i < r->entries->len ? r->entries->pdata[i] : NULL;
}

guint kt_roster_n_hands(const KtRoster *r)
{
	return r->hands.length;
}

const char *kt_roster_nth_hand(const KtRoster *r, guint i)
{
	return g_queue_peek_nth((GQueue *)&r->hands, i);
}

const char *kt_roster_get_stage(const KtRoster *r)
{
	return r->stage ? r->stage->id : NULL;
}

/* The classroom @id, or NULL with NO_SUCH_PARTICIPANT / WRONG_STATE set. */
static KtRosterEntry *kt_roster_classroom(KtRoster *r, const char *id, GError **error)
{
	if (!kt_roster_check_open(r, error))
		return NULL;
	KtRosterEntry *e = g_hash_table_lookup(r->by_id, id);
	if (!e) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_NO_SUCH_PARTICIPANT,
		            "no participant '%s' in this lesson", id);
		return NULL;
	}
	if (e->role != KT_ROLE_CLASSROOM) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_WRONG_STATE,
		            "%s is the %s, not a classroom", e->id, kt_role_to_string(e->role));
		return NULL;
	}
	return e;
}

static gboolean kt_roster_wrong_state(GError **error, const char *id, const char *what)
{
	g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_WRONG_STATE, "%s %s", id, what);
	return FALSE;
}

gboolean kt_roster_raise_hand(KtRoster *r, const char *id, GError **error)
{
	KtRosterEntry *e = kt_roster_classroom(r, id, error);
	if (!e)
		return FALSE;
	if (e->hand)
		return kt_roster_wrong_state(error, id, "has its hand up already");
	e->hand = TRUE;
	g_queue_push_tail(&r->hands, e->id);
	return TRUE;
}

gboolean kt_roster_lower_hand(KtRoster *r, const char *id, GError **error)
{
	KtRosterEntry *e = kt_roster_classroom(r, id, error);
	if (!e)
		return FALSE;
	if (!e->hand)
		return kt_roster_wrong_state(error, id, "has no hand up");
	e->hand = FALSE;
	g_queue_remove(&r->hands, e->id);
	return TRUE;
}

gboolean kt_roster_stage(KtRoster *r, const char *id, const char **previous, gboolean *hand_lowered,
                         GError **error)
{
	KtRosterEntry *e = kt_roster_classroom(r, id, error);
	if (!e)
		return FALSE;
	if (e->staged)
		return kt_roster_wrong_state(error, id, "is on stage already");
	if (previous)
		*previous = r->stage ? r->stage->id : NULL;
	if (hand_lowered)
		*hand_lowered = e->hand;
	if (r->stage)
		r->stage->staged = FALSE;
	/* Being given the floor answers the raised hand. */
	if (e->hand) {
		e->hand = FALSE;
		g_queue_remove(&r->hands, e->id);
	}
	e->staged = TRUE;
	r->stage = e;
	return TRUE;
}

gboolean kt_roster_unstage(KtRoster *r, const char **who, GError **error)
{
	if (!kt_roster_check_open(r, error))
		return FALSE;
	if (!r->stage) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_WRONG_STATE,
		            "nobody is on stage");
		return FALSE;
	}
	if (who)
		*who = r->stage->id;
	r->stage->staged = FALSE;
	r->stage = NULL;
	return TRUE;
}

gboolean kt_roster_set_muted(KtRoster *r, const char *id, gboolean muted, GError **error)
{
	KtRosterEntry *e = kt_roster_classroom(r, id, error);
	if (!e)
		return FALSE;
	if (e->muted == muted)
		return kt_roster_wrong_state(error, id,
		                             muted ? "is muted already" : "is not muted");
	e->muted = muted;
	return TRUE;
}

const KtRosterChat *kt_roster_add_chat(KtRoster *r, const char *from, const char *text,
                                       gint64 now_ms, GError **error)
{
	if (!kt_roster_check_open(r, error))
		return NULL;
	const KtRosterEntry *e = g_hash_table_lookup(r->by_id, from);
	if (!e) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_NO_SUCH_PARTICIPANT,
		            "no participant '%s' in this lesson", from);
		return NULL;
	}
	KtRosterChat *c = g_new0(KtRosterChat, 1);
	c->from = g_strdup(e->id);
	c->name = g_strdup(e->name);
	c->text = g_strdup(text);
	c->at_ms = now_ms;
	g_queue_push_tail(&r->chat, c);
	while (r->chat.length > KT_ROSTER_CHAT_KEEP)
		kt_roster_chat_free(g_queue_pop_head(&r->chat));
	return c;
}

guint kt_roster_n_chat(const KtRoster *r)
{
	return r->chat.length;
}

const KtRosterChat *kt_roster_nth_chat(const KtRoster *r, guint i)
{
	return g_queue_peek_nth((GQueue *)&r->chat, i);
}

gboolean kt_roster_end(KtRoster *r, GError **error)
{
	if (!kt_roster_check_open(r, error))
		return FALSE;
	r->ended = TRUE;
	if (r->stage)
		r->stage->staged = FALSE;
	r->stage = NULL;
	for (GList *l = r->hands.head; l; l = l->next)
		((KtRosterEntry *)g_hash_table_lookup(r->by_id, l->data))->hand = FALSE;
	g_queue_clear(&r->hands);
	return TRUE;
}

json_t *kt_roster_entry_to_json(const KtRosterEntry *e)
{
	return json_pack("{ss ss ss sb sb sb}", "id", e->id, "role", kt_role_to_string(e->role),
	                 "name", e->name, "hand", e->hand, "muted", e->muted, "staged", e->staged);
}

json_t *kt_roster_chat_to_json(const KtRosterChat *c)
{
	return json_pack("{ss ss ss sI}", "from", c->from, "name", c->name, "text", c->text, "at",
	                 (json_int_t)c->at_ms);
}
