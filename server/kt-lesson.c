/* Live lessons and sessions. */
#include "kt-lesson.h"

G_DEFINE_QUARK(kt - lesson - error - quark, kt_lesson_error)

struct _KtLessons {
	KtWorkerPool *workers;
	KtRoomConfig room_config;
	guint max_lessons, max_subscribers;
	GHashTable *by_id; /* id → KtLesson*, owned */
	KtLessonHook started, ended;
	gpointer hook_data;
};

struct _KtLesson {
	KtLessons *lessons;
	char *id;
	KtRoom *room;
	KtSession *publisher;
	GHashTable *sessions; /* id → KtSession*, owned */
	guint n_subscribers;
	guint holds;
	gint64 started_at;
	gpointer publisher_ladder; /* kt_lesson_set_publisher_ladder */
	GDestroyNotify publisher_ladder_free;
};

struct _KtSession {
	char *id;
	KtSessionKind kind;
	KtPeer *peer;
	KtLesson *lesson;
	gpointer data;
	GDestroyNotify destroy;
};

static void session_free(gpointer data)
{
	KtSession *s = data;

	if (s->destroy)
		s->destroy(s->data);
	kt_room_remove_peer(s->lesson->room, s->peer);
	kt_peer_close(s->peer);
	kt_peer_unref(s->peer);
	g_free(s->id);
	g_free(s);
}

static void lesson_free(gpointer data)
{
	KtLesson *l = data;

	/* Sessions first: they detach their peers from the room. */
	g_hash_table_unref(l->sessions);
	kt_lesson_set_publisher_ladder(l, NULL, NULL);
	kt_room_close(l->room);
	kt_room_unref(l->room);
	if (l->lessons->ended)
		l->lessons->ended(l->id, l->lessons->hook_data);
	g_message("lesson %s ended after %" G_GINT64_FORMAT " s", l->id,
	          (g_get_monotonic_time() - l->started_at) / G_USEC_PER_SEC);
	g_free(l->id);
	g_free(l);
}

KtLessons *kt_lessons_new(KtWorkerPool *workers, const KtRoomConfig *room_config, guint max_lessons,
                          guint max_subscribers)
{
	KtLessons *ls = g_new0(KtLessons, 1);

	ls->workers = workers;
	ls->room_config = *room_config;
	ls->max_lessons = max_lessons;
	ls->max_subscribers = max_subscribers;
	ls->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, lesson_free);
	return ls;
}

void kt_lessons_set_hooks(KtLessons *lessons, KtLessonHook started, KtLessonHook ended,
                          gpointer user_data)
{
	lessons->started = started;
	lessons->ended = ended;
	lessons->hook_data = user_data;
}

void kt_lessons_free(KtLessons *lessons)
{
	if (!lessons)
		return;
	g_hash_table_unref(lessons->by_id);
	g_free(lessons);
}

KtLesson *kt_lessons_lookup(KtLessons *lessons, const char *id)
{
	return g_hash_table_lookup(lessons->by_id, id);
}

KtLesson *kt_lessons_get_or_create(KtLessons *lessons, const char *id, GError **error)
{
	KtLesson *l = kt_lessons_lookup(lessons, id);
	KtWorker *worker;

	if (l)
		return l;
	if (g_hash_table_size(lessons->by_id) >= lessons->max_lessons) {
		g_set_error(error, KT_LESSON_ERROR, KT_LESSON_ERROR_TOO_MANY_LESSONS,
		            "the server already runs %u lessons (max_lessons)",
		            lessons->max_lessons);
		return NULL;
	}
	worker = kt_worker_pool_pick(lessons->workers);
	l = g_new0(KtLesson, 1);
	l->lessons = lessons;
	l->id = g_strdup(id);
	l->room = kt_room_new(worker, &lessons->room_config);
	l->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
	l->started_at = g_get_monotonic_time();
	g_hash_table_insert(lessons->by_id, l->id, l);
	g_message("lesson %s is live on media worker %u", id, kt_worker_get_index(worker));
	if (lessons->started)
		lessons->started(l->id, lessons->hook_data);
	return l;
}

static void end_if_unused(KtLesson *lesson)
{
	if (g_hash_table_size(lesson->sessions) == 0 && lesson->holds == 0)
		g_hash_table_remove(lesson->lessons->by_id, lesson->id);
}

void kt_lessons_remove_if_empty(KtLessons *lessons, KtLesson *lesson)
{
	end_if_unused(lesson);
}

void kt_lesson_hold(KtLesson *lesson)
{
	lesson->holds++;
}

void kt_lesson_release(KtLesson *lesson)
{
	g_return_if_fail(lesson->holds > 0);
	lesson->holds--;
	end_if_unused(lesson);
}

guint kt_lessons_count(KtLessons *lessons)
{
	return g_hash_table_size(lessons->by_id);
}

void kt_lessons_foreach(KtLessons *lessons, void (*func)(KtLesson *lesson, gpointer data),
                        gpointer data)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, lessons->by_id);
	while (g_hash_table_iter_next(&it, NULL, &value))
		func(value, data);
}

const char *kt_lesson_get_id(KtLesson *lesson)
{
	return lesson->id;
}

KtRoom *kt_lesson_get_room(KtLesson *lesson)
{
	return lesson->room;
}

KtSession *kt_lesson_get_publisher(KtLesson *lesson)
{
	return lesson->publisher;
}

guint kt_lesson_count_subscribers(KtLesson *lesson)
{
	return lesson->n_subscribers;
}

KtSession *kt_lesson_find_session(KtLesson *lesson, const char *session_id)
{
	return g_hash_table_lookup(lesson->sessions, session_id);
}

KtSession *kt_lesson_add_session(KtLesson *lesson, KtSessionKind kind, KtPeer *peer, GError **error)
{
	KtSession *s;

	if (kind == KT_SESSION_WHEP && lesson->n_subscribers >= lesson->lessons->max_subscribers) {
		g_set_error(error, KT_LESSON_ERROR, KT_LESSON_ERROR_TOO_MANY_SUBSCRIBERS,
		            "lesson %s already has %u viewers (max_subscribers)", lesson->id,
		            lesson->n_subscribers);
		return NULL;
	}
	s = g_new0(KtSession, 1);
	s->id = g_uuid_string_random();
	s->kind = kind;
	s->peer = kt_peer_ref(peer);
	s->lesson = lesson;
	g_hash_table_insert(lesson->sessions, s->id, s);
	if (kind == KT_SESSION_WHIP)
		lesson->publisher = s;
	else
		lesson->n_subscribers++;
	return s;
}

void kt_lesson_remove_session(KtLesson *lesson, KtSession *session, const char *why)
{
	g_message("lesson %s: %s session %s closed (%s)", lesson->id,
	          session->kind == KT_SESSION_WHIP ? "WHIP" : "WHEP", session->id, why);
	if (lesson->publisher == session)
		lesson->publisher = NULL;
	if (session->kind == KT_SESSION_WHEP)
		lesson->n_subscribers--;
	g_hash_table_remove(lesson->sessions, session->id);
	end_if_unused(lesson);
}

const char *kt_session_get_id(KtSession *session)
{
	return session->id;
}

KtSessionKind kt_session_get_kind(KtSession *session)
{
	return session->kind;
}

KtPeer *kt_session_get_peer(KtSession *session)
{
	return session->peer;
}

KtLesson *kt_session_get_lesson(KtSession *session)
{
	return session->lesson;
}

void kt_session_set_data(KtSession *session, gpointer data, GDestroyNotify destroy)
{
	session->data = data;
	session->destroy = destroy;
}

gpointer kt_session_get_data(KtSession *session)
{
	return session->data;
}

void kt_lesson_set_publisher_ladder(KtLesson *lesson, gpointer ladder, GDestroyNotify destroy)
{
	gpointer old = lesson->publisher_ladder;
	GDestroyNotify old_free = lesson->publisher_ladder_free;

	lesson->publisher_ladder = ladder;
	lesson->publisher_ladder_free = destroy;
	if (old && old_free)
		old_free(old);
}

gpointer kt_lesson_get_publisher_ladder(KtLesson *lesson)
{
	return lesson->publisher_ladder;
}
