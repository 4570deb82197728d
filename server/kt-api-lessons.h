/* The lessons REST API (signaling/PROTOCOL.md, "Lessons API"):
 *
 *   POST /api/lessons        admin            schedule a lesson, get its join links
 *   GET  /api/lessons        admin            list (?state=, ?limit=, ?offset=)
 *   GET  /api/lessons/{id}   admin, or a teacher/classroom/observer token of that lesson
 *
 * Join links carry their token in the URL fragment, so it never reaches a server log:
 *   BASE/teacher#lesson=ID&token=T, BASE/classroom#lesson=ID&token=T&room=NAME,
 *   BASE/watch#lesson=ID&token=T (observer)
 * BASE is [server] public_url, else "https://" + the request's Host header.
 *
 * The request parser and the JSON builder are public so that `ketang lesson create` (which
 * writes the same database) validates the same way and prints the same JSON.
 *
 * Ownership: KtApiLessons borrows the store, the secret and the settings (all must outlive
 * it); kt_api_lessons_free frees only itself. The route table is owned by the API object and
 * valid until it is freed (kt_http_server_new copies it). Returned json_t are new references.
 * Threads: control loop only. */
#pragma once

#include <jansson.h>

#include "kt-audit.h"
#include "kt-config.h"
#include "kt-http.h"
#include "kt-lesson-store.h"

#define KT_API_LESSONS_ERROR (kt_api_lessons_error_quark())
GQuark kt_api_lessons_error_quark(void);

typedef enum {
	KT_API_LESSONS_ERROR_BAD_JSON, /* not a JSON object */
	KT_API_LESSONS_ERROR_INVALID,  /* a field missing, of the wrong type, too long, ... */
} KtApiLessonsError;

/* Limits, in characters (UTF-8 code points). */
#define KT_LESSON_TITLE_MAX 200
#define KT_LESSON_NAME_MAX 64 /* subject, grade, teacher, each classroom name */
#define KT_LESSON_CLASSROOMS_MAX 50
#define KT_LESSON_FEEDS_MAX 8 /* "sources" per lesson: each is decoded and encoded again */
#define KT_LESSON_FEED_URL_MAX 1024
#define KT_LESSON_LIST_LIMIT_MAX 500 /* GET /api/lessons?limit= */

typedef struct _KtApiLessons KtApiLessons;

/* @audit (borrowed, may be NULL) gets a row per create, per list and per admin read (which
 * mints join links). */
KtApiLessons *kt_api_lessons_new(KtLessonStore *store, const guint8 *secret, gsize secret_len,
                                 const KtSettings *settings, KtAudit *audit);
void kt_api_lessons_free(KtApiLessons *api); /* NULL is allowed */

/* The routes to add to the server's table; *n_out gets their number. */
const KtHttpRoute *kt_api_lessons_routes(KtApiLessons *api, guint *n_out);

/* Validates a POST /api/lessons body (untrusted) and returns the lesson to create (state,
 * id and times other than starts_at unset). On error the message names the field, e.g.
 * "title: longer than 200 characters". */
KtLessonInfo *kt_api_lessons_parse_create(const char *body, gsize len, GError **error);

/* Parses starts_at: Unix seconds, or ISO 8601 with a UTC offset ("2026-11-24T08:00+08:00",
 * "...Z"). A local time without an offset is refused: the server's time zone is not the
 * school's. */
bool kt_api_lessons_parse_time(const char *text, gint64 *out, GError **error);

/* The lesson as JSON: id, title, subject, grade, teacher, starts_at (ISO 8601 UTC),
 * state, times, classrooms. With @base (no trailing '/') the join links are added, with
 * tokens valid until max(starts_at + 1 day, now + @token_ttl); NULL on a mint failure. */
json_t *kt_api_lessons_to_json(const KtLessonInfo *info, const char *base, const guint8 *secret,
                               gsize secret_len, gint64 token_ttl, GError **error);

/* Attendance rows (KtAttendanceInfo *) as a JSON array. */
json_t *kt_api_lessons_attendance_json(GPtrArray *rows);
