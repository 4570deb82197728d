/* Live lessons and their sessions (one WHIP/WHEP peer each).
 *
 * A lesson exists while it has sessions: the first valid publish or watch
 * makes it live (ad-hoc lessons); the last session leaving ends it and closes
 * its room. Each lesson owns a KtRoom pinned to one media worker.
 *
 * Threads: control loop only. Ownership: KtLessons owns every lesson, a lesson
 * owns its sessions; pointers returned by lookups are borrowed and stay valid
 * until the session is removed or the lesson ends.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "kt-media.h"
#include "kt-peer.h"
#include "kt-room.h"
#include "kt-worker.h"

G_BEGIN_DECLS

#define KT_LESSON_ERROR (kt_lesson_error_quark())
GQuark kt_lesson_error_quark(void);
typedef enum {
	KT_LESSON_ERROR_TOO_MANY_LESSONS,
	KT_LESSON_ERROR_TOO_MANY_SUBSCRIBERS,
} KtLessonError;

typedef struct _KtLessons KtLessons;
typedef struct _KtLesson KtLesson;
typedef struct _KtSession KtSession;

typedef enum {
	KT_SESSION_WHIP, /* publishes the teacher streams */
	KT_SESSION_WHEP, /* watches them */
} KtSessionKind;

KtLessons *kt_lessons_new(KtWorkerPool *workers, const KtRoomConfig *room_config, guint max_lessons,
                          guint max_subscribers);
void kt_lessons_free(KtLessons *lessons);
/* Called when a lesson goes live and when it ends (for the catalog). */
typedef void (*KtLessonHook)(const char *lesson, gpointer user_data);
void kt_lessons_set_hooks(KtLessons *lessons, KtLessonHook started, KtLessonHook ended,
                          gpointer user_data);
KtLesson *kt_lessons_lookup(KtLessons *lessons, const char *id);
KtLesson *kt_lessons_get_or_create(KtLessons *lessons, const char *id, GError **error);
guint kt_lessons_count(KtLessons *lessons);
/* Ends @lesson if it has no session (a failed first publish). */
void kt_lessons_remove_if_empty(KtLessons *lessons, KtLesson *lesson);
/* Iteration for metrics. */
void kt_lessons_foreach(KtLessons *lessons, void (*func)(KtLesson *lesson, gpointer data),
                        gpointer data);

/* Keeps @lesson live while someone other than a WHIP/WHEP session uses it (a
 * participant of the lesson WebSocket); release ends it when nothing else
 * holds it and it has no session (freeing @lesson!). */
void kt_lesson_hold(KtLesson *lesson);
void kt_lesson_release(KtLesson *lesson);

const char *kt_lesson_get_id(KtLesson *lesson);
KtRoom *kt_lesson_get_room(KtLesson *lesson);
KtSession *kt_lesson_get_publisher(KtLesson *lesson);
guint kt_lesson_count_subscribers(KtLesson *lesson);
KtSession *kt_lesson_find_session(KtLesson *lesson, const char *session_id);

/* Creates a session in @lesson for @peer (takes a reference) with a fresh
 * unguessable id. @max_subscribers is checked for WHEP. */
KtSession *kt_lesson_add_session(KtLesson *lesson, KtSessionKind kind, KtPeer *peer,
                                 GError **error);
/* Closes the peer, detaches it from the room, frees the session; ends the
 * lesson (freeing @lesson!) when it was the last one. */
void kt_lesson_remove_session(KtLesson *lesson, KtSession *session, const char *why);

/* The ladder a WHIP publisher without simulcast publishes through
 * (kt-source-ladder.h, kt-whip.c): the lesson owns it, frees the previous one
 * (@destroy) when replaced, and frees it before its room closes. NULL removes it. */
void kt_lesson_set_publisher_ladder(KtLesson *lesson, gpointer ladder, GDestroyNotify destroy);
gpointer kt_lesson_get_publisher_ladder(KtLesson *lesson);

const char *kt_session_get_id(KtSession *session);
KtSessionKind kt_session_get_kind(KtSession *session);
KtPeer *kt_session_get_peer(KtSession *session);
KtLesson *kt_session_get_lesson(KtSession *session);
/* Owner data (e.g. a pending HTTP request); @destroy runs when the session goes. */
void kt_session_set_data(KtSession *session, gpointer data, GDestroyNotify destroy);
gpointer kt_session_get_data(KtSession *session);

G_END_DECLS
