/* The lesson catalog: scheduled lessons, their classrooms and attendance, kept in SQLite
 * (<data_dir>/ketang.db) so they survive a restart.
 *
 * One sqlite3 connection per store, WAL journal and a busy timeout, so `ketang serve` and
 * `ketang lesson create` can use the same file at the same time. The schema carries a
 * version (table schema_version); opening migrates an older file, in one transaction, and
 * refuses a file written by a newer Ketang. Every statement is prepared once, at open.
 *
 * Lesson states move scheduled -> live -> ended only (DESIGN.md, "The lesson model").
 * Times are Unix seconds; 0 means "not yet" for started_at, ended_at and left_at.
 *
 * Ownership: the store owns its connection; kt_lesson_store_free closes it. Every
 * KtLessonInfo / KtAttendanceInfo and array returned is the caller's (kt_lesson_info_free,
 * kt_attendance_info_free, g_ptr_array_unref: arrays free their elements). Inputs are
 * borrowed for the duration of the call.
 * Threads: control loop only (one store is not shared between threads). Calls do blocking
 * file I/O, a few milliseconds each; they may wait up to the busy timeout (5 s) while
 * another process holds the write lock. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define KT_LESSON_STORE_ERROR (kt_lesson_store_error_quark())
GQuark kt_lesson_store_error_quark(void);

typedef enum {
	KT_LESSON_STORE_ERROR_NOT_FOUND, /* no lesson with that id */
	KT_LESSON_STORE_ERROR_STATE,     /* an illegal state change (e.g. ended -> live) */
	KT_LESSON_STORE_ERROR_INVALID,   /* a bad argument: id syntax, unknown state name */
	KT_LESSON_STORE_ERROR_CORRUPT,   /* not a Ketang database, or a newer schema */
	KT_LESSON_STORE_ERROR_IO,        /* cannot open/write the file, disk full, busy */
} KtLessonStoreError;

#define KT_LESSON_STORE_FILE "ketang.db"
#define KT_LESSON_ID_LEN 10 /* generated ids: base32 of 50 random bits */

typedef struct _KtLessonStore KtLessonStore;

/* A source of the lesson that is not a browser (issue 6 item 5): an RTSP camera or
 * an RTMP encoder, pulled by Ketang while the lesson is live (server/kt-media-feed.c). */
typedef struct {
	char *role; /* "teacher" (camera + sound), "courseware" (picture) or "classroom" */
	char *name; /* shown to participants; for a classroom, its room name */
	char *
	    url; /* rtsp://, rtsps://, rtmp:// or rtmps:// (may carry user:password: never shown) */
} KtLessonFeedInfo;

/* A lesson as stored. As input to kt_lesson_store_create only title, subject, grade,
 * teacher, starts_at, classrooms, no_recording, broadcast_public and feeds are read (NULL
 * strings count as ""). */
typedef struct {
	char *id;
	char *title;
	char *subject;
	char *grade;
	char *teacher;
	gint64 starts_at;  /* scheduled start */
	gint64 created_at; /* when it was scheduled (or first went live, for ad-hoc ids) */
	gint64 started_at; /* first went live; 0 = never */
	gint64 ended_at;   /* 0 = not ended */
	char *state;       /* "scheduled", "live" or "ended" */
	char *
	    *classrooms; /* room names in the order given; NULL-terminated, never NULL on output */
	/* Not recorded ("record": false when scheduled). Recording is the default, so a
	 * zeroed KtLessonInfo, an ad-hoc lesson and a lesson from an older catalog are
	 * recorded. */
	gboolean no_recording;
	/* Its HLS broadcast needs no token ("broadcast_public": true when scheduled). */
	gboolean broadcast_public;
	/* Its non-browser sources in the order given: NULL-terminated; NULL means none on
	 * input, never NULL on output. */
	KtLessonFeedInfo **feeds;
} KtLessonInfo;

/* One endpoint's visit to a lesson. A participant that rejoins gets a new row. */
typedef struct {
	char *participant; /* the signaling participant id */
	char *role;        /* kt_role_to_string name */
	char *name;        /* display name (the classroom's room name) */
	gint64 joined_at;
	gint64 left_at; /* 0 = still connected */
	/* Link quality summary written on leave; -1 = unknown. */
	gint64 bitrate_kbps;
	double loss_pct;
	gint64 rtt_ms;
} KtAttendanceInfo;

/* The quality summary handed to kt_lesson_store_attendance_leave; -1 = unknown. */
typedef struct {
	gint64 bitrate_kbps;
	double loss_pct;
	gint64 rtt_ms;
} KtLinkQuality;

/* Opens (creating it and its directory, mode 0700, if needed) and migrates the database at
 * @path. NULL with KT_LESSON_STORE_ERROR_CORRUPT when the file is not a Ketang database,
 * _IO when it cannot be opened. */
KtLessonStore *kt_lesson_store_open(const char *path, GError **error);
/* NULL is allowed. */
void kt_lesson_store_free(KtLessonStore *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtLessonStore, kt_lesson_store_free)

void kt_lesson_info_free(KtLessonInfo *info);
void kt_lesson_feed_info_free(KtLessonFeedInfo *feed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtLessonInfo, kt_lesson_info_free)
void kt_attendance_info_free(KtAttendanceInfo *a);

/* Schedules a lesson (state "scheduled", created_at now) under a new random id and returns
 * that id (g_free). The caller validates field lengths (kt-api-lessons.h does); the store
 * only refuses duplicate classroom names (_INVALID). */
char *kt_lesson_store_create(KtLessonStore *s, const KtLessonInfo *in, GError **error);

/* The lesson @id, or NULL with _NOT_FOUND. */
KtLessonInfo *kt_lesson_store_get(KtLessonStore *s, const char *id, GError **error);

/* Lessons (KtLessonInfo *), latest starts_at first, optionally only those in
 * @state_or_null; at most @limit (0 = none) after skipping @offset. @total_out (may be
 * NULL) gets the number of matching lessons without paging. */
GPtrArray *kt_lesson_store_list(KtLessonStore *s, const char *state_or_null, guint limit,
                                guint offset, guint *total_out, GError **error);

/* Moves @id to @state at time @at: scheduled -> live (sets started_at the first time),
 * live -> ended (sets ended_at). Setting the current state again is a no-op (TRUE). Any
 * other change fails with _STATE. An id never scheduled is an ad-hoc lesson: going "live"
 * inserts it (title "", starts_at = created_at = @at); anything else gives _NOT_FOUND. */
bool kt_lesson_store_set_state(KtLessonStore *s, const char *id, const char *state, gint64 at,
                               GError **error);

/* Deletes @id with its classrooms, sources and attendance (children's data: docs/security.md).
 * A live lesson is refused (_STATE: end it first); an unknown id gives _NOT_FOUND. Its
 * recordings are the archive's (kt-recordings.h) and stay. */
bool kt_lesson_store_delete(KtLessonStore *s, const char *id, GError **error);

/* Start-up repair: lessons left "live" by a crash or kill have nobody connected any more.
 * They go back to "scheduled" (keeping started_at), so the same join links start them
 * again, and their open attendance rows are closed at @now. Returns the number of lessons
 * reset in @n_out (may be NULL). Resuming a crashed lesson in place is a later issue. */
bool kt_lesson_store_mark_interrupted(KtLessonStore *s, gint64 now, guint *n_out, GError **error);

/* Records that @participant (@role, @name) joined lesson @lesson_id at @at. _NOT_FOUND if
 * the lesson is not in the store (make it live first). */
bool kt_lesson_store_attendance_join(KtLessonStore *s, const char *lesson_id,
                                     const char *participant, const char *role, const char *name,
                                     gint64 at, GError **error);

/* Closes @participant's open attendance row at @at with the link-quality summary (may be
 * NULL = unknown). _NOT_FOUND when there is no open row for it. */
bool kt_lesson_store_attendance_leave(KtLessonStore *s, const char *lesson_id,
                                      const char *participant, gint64 at,
                                      const KtLinkQuality *quality, GError **error);

/* Attendance rows (KtAttendanceInfo *) of @lesson_id, by join time; empty if none. */
GPtrArray *kt_lesson_store_attendance(KtLessonStore *s, const char *lesson_id, GError **error);
