/* The lesson catalog in SQLite (opened through kt-db): schema, migrations and one prepared
 * statement per query. */
#include "kt-lesson-store.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "kt-db.h"
#include "kt-token.h"

G_DEFINE_QUARK(kt - lesson - store - error - quark, kt_lesson_store_error)

/* Schema migrations: migrations[v] takes a database from version v to v + 1. Append only;
 * never edit a released step. */
static const char *const migrations[] = {
    /* 0 -> 1: lessons, their classrooms, attendance. NULL times mean "not yet". */
    "CREATE TABLE lessons ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT NOT NULL, subject TEXT NOT NULL, grade TEXT NOT NULL, teacher TEXT NOT NULL,"
    "  starts_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'ended')),"
    "  started_at INTEGER, ended_at INTEGER);"
    "CREATE INDEX lessons_by_start ON lessons (starts_at DESC, created_at DESC, id);"
    "CREATE TABLE classrooms ("
    "  lesson_id TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL, position INTEGER NOT NULL,"
    "  PRIMARY KEY (lesson_id, name));"
    "CREATE TABLE attendance ("
    "  lesson_id TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,"
    "  participant TEXT NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL,"
    "  joined_at INTEGER NOT NULL, left_at INTEGER,"
    "  bitrate_kbps INTEGER, loss_pct REAL, rtt_ms INTEGER);"
    "CREATE INDEX attendance_by_lesson ON attendance (lesson_id, joined_at);",
    /* 1 -> 2: per-lesson recording switch (POST /api/lessons "record"); lessons scheduled
     * before it are recorded, as they were. */
    "ALTER TABLE lessons ADD COLUMN record INTEGER NOT NULL DEFAULT 1;",
    /* 2 -> 3: HLS broadcast open to anyone (POST /api/lessons "broadcast_public"). */
    "ALTER TABLE lessons ADD COLUMN broadcast_public INTEGER NOT NULL DEFAULT 0;",
    /* 3 -> 4: sources that are not browsers (POST /api/lessons "sources"). */
    "CREATE TABLE feeds ("
    "  lesson_id TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL, role TEXT NOT NULL, name TEXT NOT NULL, url TEXT NOT NULL,"
    "  PRIMARY KEY (lesson_id, position));",
};

#define KT_LESSON_COLUMNS                                                                          \
	"id, title, subject, grade, teacher, starts_at, created_at, started_at, ended_at, "        \
	"state, record, broadcast_public"

typedef enum {
	ST_INSERT_LESSON,
	ST_INSERT_CLASSROOM,
	ST_GET_LESSON,
	ST_GET_CLASSROOMS,
	ST_INSERT_FEED,
	ST_GET_FEEDS,
	ST_LIST,
	ST_COUNT,
	ST_SET_STATE,
	ST_RESET_LIVE,
	ST_CLOSE_ATTENDANCE,
	ST_ATTENDANCE_JOIN,
	ST_ATTENDANCE_LEAVE,
	ST_ATTENDANCE_LIST,
	ST_DELETE,
	ST_COUNT_ALL,
} KtStatement;

static const char *const statement_sql[ST_COUNT_ALL] = {
    [ST_INSERT_LESSON] = "INSERT INTO lessons (" KT_LESSON_COLUMNS
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11)",
    [ST_INSERT_CLASSROOM] =
        "INSERT INTO classrooms (lesson_id, name, position) VALUES (?1, ?2, ?3)",
    [ST_GET_LESSON] = "SELECT " KT_LESSON_COLUMNS " FROM lessons WHERE id = ?1",
    [ST_GET_CLASSROOMS] = "SELECT name FROM classrooms WHERE lesson_id = ?1 ORDER BY position",
    [ST_INSERT_FEED] = "INSERT INTO feeds (lesson_id, position, role, name, url)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_GET_FEEDS] = "SELECT role, name, url FROM feeds WHERE lesson_id = ?1 ORDER BY position",
    [ST_LIST] = "SELECT " KT_LESSON_COLUMNS " FROM lessons WHERE ?1 IS NULL OR state = ?1 "
                "ORDER BY starts_at DESC, created_at DESC, id LIMIT ?2 OFFSET ?3",
    [ST_COUNT] = "SELECT count(*) FROM lessons WHERE ?1 IS NULL OR state = ?1",
    [ST_SET_STATE] = "UPDATE lessons SET state = ?2,"
                     " started_at = CASE WHEN ?2 = 'live' THEN coalesce(started_at, ?3)"
                     " ELSE started_at END,"
                     " ended_at = CASE WHEN ?2 = 'ended' THEN ?3 ELSE ended_at END WHERE id = ?1",
    [ST_RESET_LIVE] = "UPDATE lessons SET state = 'scheduled' WHERE state = 'live'",
    /* Classrooms, feeds and attendance go with it (ON DELETE CASCADE, foreign_keys on). */
    [ST_DELETE] = "DELETE FROM lessons WHERE id = ?1 AND state <> 'live'",
    [ST_CLOSE_ATTENDANCE] = "UPDATE attendance SET left_at = ?1 WHERE left_at IS NULL",
    [ST_ATTENDANCE_JOIN] = "INSERT INTO attendance (lesson_id, participant, role, name, joined_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_ATTENDANCE_LEAVE] = "UPDATE attendance SET left_at = ?3, bitrate_kbps = ?4, loss_pct = ?5,"
                            " rtt_ms = ?6 WHERE lesson_id = ?1 AND participant = ?2 AND "
                            "left_at IS NULL",
    [ST_ATTENDANCE_LIST] = "SELECT participant, role, name, joined_at, left_at, bitrate_kbps,"
                           " loss_pct, rtt_ms FROM attendance WHERE lesson_id = ?1"
                           " ORDER BY joined_at, rowid",
};

/* Legal moves: the index of the state may only grow (scheduled -> live -> ended). */
static const char *const states[] = {"scheduled", "live", "ended"};

static const KtDbSchema schema = {
    .migrations = migrations,
    .n_migrations = G_N_ELEMENTS(migrations),
    .statements = statement_sql,
    .n_statements = ST_COUNT_ALL,
    .error_domain = kt_lesson_store_error_quark,
    .error_corrupt = KT_LESSON_STORE_ERROR_CORRUPT,
    .error_io = KT_LESSON_STORE_ERROR_IO,
};

struct _KtLessonStore {
	KtDb *db;
};

/* The prepared statement @i, bound afresh by the caller; kt_db_reset() resets it. */
static sqlite3_stmt *stmt(KtLessonStore *s, KtStatement i)
{
	return kt_db_stmt(s->db, i);
}

/* ---- open, close ---- */

KtLessonStore *kt_lesson_store_open(const char *path, GError **error)
{
	g_autoptr(KtLessonStore) s = g_new0(KtLessonStore, 1);

	s->db = kt_db_open(path, &schema, error);
	return s->db ? g_steal_pointer(&s) : NULL;
}

void kt_lesson_store_free(KtLessonStore *s)
{
	if (!s)
		return;
	kt_db_free(s->db);
	g_free(s);
}

void kt_lesson_info_free(KtLessonInfo *info)
{
	if (!info)
		return;
	g_free(info->id);
	g_free(info->title);
	g_free(info->subject);
	g_free(info->grade);
	g_free(info->teacher);
	g_free(info->state);
	g_strfreev(info->classrooms);
	for (guint i = 0; info->feeds && info->feeds[i]; i++)
		kt_lesson_feed_info_free(info->feeds[i]);
	g_free(info->feeds);
	g_free(info);
}

void kt_lesson_feed_info_free(KtLessonFeedInfo *feed)
{
	if (!feed)
		return;
	g_free(feed->role);
	g_free(feed->name);
	g_free(feed->url);
	g_free(feed);
}

void kt_attendance_info_free(KtAttendanceInfo *a)
{
	if (!a)
		return;
	g_free(a->participant);
	g_free(a->role);
	g_free(a->name);
	g_free(a);
}

/* ---- lessons ---- */

/* A fresh id: 10 base32 characters (RFC 4648 section 6 alphabet, lowercase) of 50 random
 * bits: short enough to read out, too many to guess. */
static bool new_id(char out[KT_LESSON_ID_LEN + 1], GError **error)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	guint8 rnd[KT_LESSON_ID_LEN];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_IO,
		            "no random bytes for a lesson id: %s", g_strerror(errno));
		return false;
	}
	for (guint i = 0; i < KT_LESSON_ID_LEN; i++)
		out[i] = alphabet[rnd[i] & 31];
	out[KT_LESSON_ID_LEN] = '\0';
	return true;
}

static int insert_lesson_row(KtLessonStore *s, const KtLessonInfo *in, const char *id,
                             const char *state, gint64 created, gint64 started)
{
	sqlite3_stmt *st = stmt(s, ST_INSERT_LESSON);

	kt_db_bind_text(st, 1, id);
	kt_db_bind_text(st, 2, in->title);
	kt_db_bind_text(st, 3, in->subject);
	kt_db_bind_text(st, 4, in->grade);
	kt_db_bind_text(st, 5, in->teacher);
	sqlite3_bind_int64(st, 6, in->starts_at);
	sqlite3_bind_int64(st, 7, created);
	if (started > 0)
		sqlite3_bind_int64(st, 8, started);
	kt_db_bind_text(st, 9, state);
	sqlite3_bind_int(st, 10, in->no_recording ? 0 : 1);
	sqlite3_bind_int(st, 11, in->broadcast_public ? 1 : 0);
	return sqlite3_step(st);
}

static bool insert_classrooms(KtLessonStore *s, const char *id, char **names, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_INSERT_CLASSROOM);

	for (guint i = 0; names && names[i]; i++) {
		int rc;

		kt_db_bind_text(st, 1, id);
		kt_db_bind_text(st, 2, names[i]);
		sqlite3_bind_int(st, 3, (int)i);
		rc = sqlite3_step(st);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID,
			            "classroom name \"%s\" appears twice", names[i]);
			kt_db_reset(st);
			return false;
		}
		if (rc != SQLITE_DONE) {
			kt_db_fail(s->db, "insert classroom", error);
			kt_db_reset(st);
			return false;
		}
		kt_db_reset(st);
	}
	return true;
}

static bool insert_feeds(KtLessonStore *s, const char *id, KtLessonFeedInfo **feeds, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_INSERT_FEED);

	for (guint i = 0; feeds && feeds[i]; i++) {
		kt_db_bind_text(st, 1, id);
		sqlite3_bind_int(st, 2, (int)i);
		kt_db_bind_text(st, 3, feeds[i]->role);
		kt_db_bind_text(st, 4, feeds[i]->name);
		kt_db_bind_text(st, 5, feeds[i]->url);
		if (!kt_db_run(s->db, st, "insert source", error))
			return false;
	}
	return true;
}

char *kt_lesson_store_create(KtLessonStore *s, const KtLessonInfo *in, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	char id[KT_LESSON_ID_LEN + 1];
	int rc = SQLITE_CONSTRAINT_PRIMARYKEY;

	if (!kt_db_begin(s->db, error))
		return NULL;
	/* A clash among 2^50 ids is very unlikely; retrying covers it anyway. */
	for (guint attempt = 0; attempt < 4 && rc == SQLITE_CONSTRAINT_PRIMARYKEY; attempt++) {
		if (!new_id(id, error))
			goto fail;
		rc = insert_lesson_row(s, in, id, "scheduled", now, 0);
		if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_PRIMARYKEY)
			kt_db_fail(s->db, "insert lesson", error);
		kt_db_reset(stmt(s, ST_INSERT_LESSON));
	}
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_IO,
			            "no free lesson id found");
		goto fail;
	}
	if (!insert_classrooms(s, id, in->classrooms, error) ||
	    !insert_feeds(s, id, in->feeds, error) || !kt_db_commit(s->db, error))
		goto fail;
	return g_strdup(id);
fail:
	kt_db_rollback(s->db);
	return NULL;
}

static bool load_classrooms(KtLessonStore *s, KtLessonInfo *info, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_GET_CLASSROOMS);
	GPtrArray *names = g_ptr_array_new();
	int rc;

	kt_db_bind_text(st, 1, info->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(names, kt_db_column_text(st, 0));
	g_ptr_array_add(names, NULL);
	info->classrooms = (char **)g_ptr_array_free(names, FALSE);
	if (rc != SQLITE_DONE)
		kt_db_fail(s->db, "read classrooms", error);
	kt_db_reset(st);
	return rc == SQLITE_DONE;
}

static bool load_feeds(KtLessonStore *s, KtLessonInfo *info, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_GET_FEEDS);
	GPtrArray *feeds = g_ptr_array_new();
	int rc;

	kt_db_bind_text(st, 1, info->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		KtLessonFeedInfo *f = g_new0(KtLessonFeedInfo, 1);

		f->role = kt_db_column_text(st, 0);
		f->name = kt_db_column_text(st, 1);
		f->url = kt_db_column_text(st, 2);
		g_ptr_array_add(feeds, f);
	}
	g_ptr_array_add(feeds, NULL);
	info->feeds = (KtLessonFeedInfo **)g_ptr_array_free(feeds, FALSE);
	if (rc != SQLITE_DONE)
		kt_db_fail(s->db, "read sources", error);
	kt_db_reset(st);
	return rc == SQLITE_DONE;
}

/* The lesson in the current row of @st (KT_LESSON_COLUMNS order), with its classrooms (a
 * KtDbReadFunc; @store is the KtLessonStore). */
static gpointer read_lesson(sqlite3_stmt *st, gpointer store, GError **error)
{
	g_autoptr(KtLessonInfo) info = g_new0(KtLessonInfo, 1);

	info->id = kt_db_column_text(st, 0);
	info->title = kt_db_column_text(st, 1);
	info->subject = kt_db_column_text(st, 2);
	info->grade = kt_db_column_text(st, 3);
	info->teacher = kt_db_column_text(st, 4);
	info->starts_at = sqlite3_column_int64(st, 5);
	info->created_at = sqlite3_column_int64(st, 6);
	info->started_at = sqlite3_column_int64(st, 7); /* NULL reads as 0 */
	info->ended_at = sqlite3_column_int64(st, 8);
	info->state = kt_db_column_text(st, 9);
	info->no_recording = sqlite3_column_int(st, 10) == 0;
	info->broadcast_public = sqlite3_column_int(st, 11) != 0;
	if (!load_classrooms(store, info, error) || !load_feeds(store, info, error))
		return NULL;
	return g_steal_pointer(&info);
}

KtLessonInfo *kt_lesson_store_get(KtLessonStore *s, const char *id, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_GET_LESSON);
	KtLessonInfo *info = NULL;
	int rc;

	kt_db_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		info = read_lesson(st, s, error);
	else if (rc == SQLITE_DONE)
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND,
		            "no lesson \"%s\"", id);
	else
		kt_db_fail(s->db, "read lesson", error);
	kt_db_reset(st);
	return info;
}

static bool count_lessons(KtLessonStore *s, const char *state, guint *total, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_COUNT);
	gint64 n;

	if (state)
		kt_db_bind_text(st, 1, state);
	if (!kt_db_read_int64(s->db, st, &n, "count lessons", error))
		return false;
	*total = (guint)n;
	return true;
}

GPtrArray *kt_lesson_store_list(KtLessonStore *s, const char *state_or_null, guint limit,
                                guint offset, guint *total_out, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_LIST);

	if (total_out && !count_lessons(s, state_or_null, total_out, error))
		return NULL;
	if (state_or_null)
		kt_db_bind_text(st, 1, state_or_null);
	sqlite3_bind_int64(st, 2, limit ? (gint64)limit : -1);
	sqlite3_bind_int64(st, 3, offset);
	return kt_db_read_all(s->db, st, read_lesson, s, (GDestroyNotify)kt_lesson_info_free,
	                      "list lessons", error);
}

static int state_index(const char *state)
{
	for (guint i = 0; state && i < G_N_ELEMENTS(states); i++)
		if (strcmp(states[i], state) == 0)
			return (int)i;
	return -1;
}

/* An ad-hoc lesson: a teacher started an id nobody scheduled. */
static bool insert_adhoc(KtLessonStore *s, const char *id, gint64 at, GError **error)
{
	KtLessonInfo blank = {.starts_at = at};
	int rc = insert_lesson_row(s, &blank, id, "live", at, at);

	kt_db_reset(stmt(s, ST_INSERT_LESSON));
	if (rc != SQLITE_DONE)
		return kt_db_fail(s->db, "insert ad-hoc lesson", error);
	return true;
}

bool kt_lesson_store_set_state(KtLessonStore *s, const char *id, const char *state, gint64 at,
                               GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(KtLessonInfo) cur = NULL;
	sqlite3_stmt *st = stmt(s, ST_SET_STATE);
	int to = state_index(state), from;

	if (to < 0 || !id || !kt_token_lesson_id_is_valid(id)) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID,
		            "bad lesson id or state");
		return false;
	}
	cur = kt_lesson_store_get(s, id, &local);
	if (!cur &&
	    g_error_matches(local, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND) &&
	    strcmp(state, "live") == 0)
		return insert_adhoc(s, id, at, error);
	if (!cur) {
		g_propagate_error(error, g_steal_pointer(&local));
		return false;
	}
	from = state_index(cur->state);
	if (from == to)
		return true;
	if (to != from + 1) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE,
		            "lesson \"%s\" cannot go from %s to %s", id, cur->state, state);
		return false;
	}
	kt_db_bind_text(st, 1, id);
	kt_db_bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, at);
	return kt_db_run(s->db, st, "set lesson state", error);
}

bool kt_lesson_store_delete(KtLessonStore *s, const char *id, GError **error)
{
	g_autoptr(KtLessonInfo) cur = NULL;
	sqlite3_stmt *st = stmt(s, ST_DELETE);

	if (!id || !kt_token_lesson_id_is_valid(id)) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID,
		            "bad lesson id");
		return false;
	}
	cur = kt_lesson_store_get(s, id, error);
	if (!cur)
		return false;
	if (strcmp(cur->state, "live") == 0) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE,
		            "lesson \"%s\" is live: end it first", id);
		return false;
	}
	kt_db_bind_text(st, 1, id);
	if (!kt_db_run(s->db, st, "delete lesson", error))
		return false;
	/* The DELETE spares a live lesson: one that went live since the check
	 * above (the server, while `ketang lesson delete` ran) is still there. */
	if (kt_db_changes(s->db) == 0) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE,
		            "lesson \"%s\" went live: end it first", id);
		return false;
	}
	return true;
}

bool kt_lesson_store_mark_interrupted(KtLessonStore *s, gint64 now, guint *n_out, GError **error)
{
	sqlite3_stmt *close = stmt(s, ST_CLOSE_ATTENDANCE);
	guint n;

	if (!kt_db_begin(s->db, error))
		return false;
	sqlite3_bind_int64(close, 1, now);
	if (!kt_db_run(s->db, close, "close attendance", error) ||
	    !kt_db_run(s->db, stmt(s, ST_RESET_LIVE), "reset live lessons", error)) {
		kt_db_rollback(s->db);
		return false;
	}
	n = (guint)kt_db_changes(s->db);
	if (!kt_db_commit(s->db, error)) {
		kt_db_rollback(s->db);
		return false;
	}
	if (n_out)
		*n_out = n;
	return true;
}

/* ---- attendance ---- */

bool kt_lesson_store_attendance_join(KtLessonStore *s, const char *lesson_id,
                                     const char *participant, const char *role, const char *name,
                                     gint64 at, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_ATTENDANCE_JOIN);
	int rc;

	kt_db_bind_text(st, 1, lesson_id);
	kt_db_bind_text(st, 2, participant);
	kt_db_bind_text(st, 3, role);
	kt_db_bind_text(st, 4, name);
	sqlite3_bind_int64(st, 5, at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND,
		            "no lesson \"%s\" for attendance", lesson_id);
	else if (rc != SQLITE_DONE)
		kt_db_fail(s->db, "record join", error);
	kt_db_reset(st);
	return rc == SQLITE_DONE;
}

bool kt_lesson_store_attendance_leave(KtLessonStore *s, const char *lesson_id,
                                      const char *participant, gint64 at,
                                      const KtLinkQuality *quality, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_ATTENDANCE_LEAVE);

	kt_db_bind_text(st, 1, lesson_id);
	kt_db_bind_text(st, 2, participant);
	sqlite3_bind_int64(st, 3, at);
	/* Unknown values stay NULL (unbound). */
	if (quality && quality->bitrate_kbps >= 0)
		sqlite3_bind_int64(st, 4, quality->bitrate_kbps);
	if (quality && quality->loss_pct >= 0)
		sqlite3_bind_double(st, 5, quality->loss_pct);
	if (quality && quality->rtt_ms >= 0)
		sqlite3_bind_int64(st, 6, quality->rtt_ms);
	if (!kt_db_run(s->db, st, "record leave", error))
		return false;
	if (kt_db_changes(s->db) == 0) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND,
		            "participant \"%s\" is not in lesson \"%s\"", participant, lesson_id);
		return false;
	}
	return true;
}

static gpointer read_attendance(sqlite3_stmt *st, gpointer unused, GError **error)
{
	KtAttendanceInfo *a = g_new0(KtAttendanceInfo, 1);

	a->participant = kt_db_column_text(st, 0);
	a->role = kt_db_column_text(st, 1);
	a->name = kt_db_column_text(st, 2);
	a->joined_at = sqlite3_column_int64(st, 3);
	a->left_at = kt_db_column_int64_or(st, 4, 0);
	a->bitrate_kbps = kt_db_column_int64_or(st, 5, -1);
	a->loss_pct = sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 6);
	a->rtt_ms = kt_db_column_int64_or(st, 7, -1);
	return a;
}

GPtrArray *kt_lesson_store_attendance(KtLessonStore *s, const char *lesson_id, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_ATTENDANCE_LIST);

	kt_db_bind_text(st, 1, lesson_id);
	return kt_db_read_all(s->db, st, read_attendance, NULL,
	                      (GDestroyNotify)kt_attendance_info_free, "read attendance", error);
}
