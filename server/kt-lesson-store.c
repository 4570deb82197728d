/* The lesson catalog in SQLite: schema, migrations and one prepared statement per query. */
#include "kt-lesson-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/random.h>

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
};
#define KT_SCHEMA_VERSION G_N_ELEMENTS(migrations)

#define KT_LESSON_COLUMNS                                                                          \
	"id, title, subject, grade, teacher, starts_at, created_at, started_at, ended_at, "        \
	"state"

typedef enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT_LESSON,
	ST_INSERT_CLASSROOM,
	ST_GET_LESSON,
	ST_GET_CLASSROOMS,
	ST_LIST,
	ST_COUNT,
	ST_SET_STATE,
	ST_RESET_LIVE,
	ST_CLOSE_ATTENDANCE,
	ST_ATTENDANCE_JOIN,
	ST_ATTENDANCE_LEAVE,
	ST_ATTENDANCE_LIST,
	ST_COUNT_ALL,
} KtStatement;

static const char *const statement_sql[ST_COUNT_ALL] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT_LESSON] = "INSERT INTO lessons (" KT_LESSON_COLUMNS
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
    [ST_INSERT_CLASSROOM] =
        "INSERT INTO classrooms (lesson_id, name, position) VALUES (?1, ?2, ?3)",
    [ST_GET_LESSON] = "SELECT " KT_LESSON_COLUMNS " FROM lessons WHERE id = ?1",
    [ST_GET_CLASSROOMS] = "SELECT name FROM classrooms WHERE lesson_id = ?1 ORDER BY position",
    [ST_LIST] = "SELECT " KT_LESSON_COLUMNS " FROM lessons WHERE ?1 IS NULL OR state = ?1 "
                "ORDER BY starts_at DESC, created_at DESC, id LIMIT ?2 OFFSET ?3",
    [ST_COUNT] = "SELECT count(*) FROM lessons WHERE ?1 IS NULL OR state = ?1",
    [ST_SET_STATE] = "UPDATE lessons SET state = ?2,"
                     " started_at = CASE WHEN ?2 = 'live' THEN coalesce(started_at, ?3)"
                     " ELSE started_at END,"
                     " ended_at = CASE WHEN ?2 = 'ended' THEN ?3 ELSE ended_at END WHERE id = ?1",
    [ST_RESET_LIVE] = "UPDATE lessons SET state = 'scheduled' WHERE state = 'live'",
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

struct _KtLessonStore {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_COUNT_ALL];
};

/* ---- errors and statement helpers ---- */

static bool fail_sqlite(KtLessonStore *s, GError **error, const char *what)
{
	int code = sqlite3_errcode(s->db) & 0xff;
	KtLessonStoreError kind = code == SQLITE_NOTADB || code == SQLITE_CORRUPT
	                              ? KT_LESSON_STORE_ERROR_CORRUPT
	                              : KT_LESSON_STORE_ERROR_IO;

	g_set_error(error, KT_LESSON_STORE_ERROR, kind, "%s: %s: %s", s->path, what,
	            sqlite3_errmsg(s->db));
	return false;
}

/* The prepared statement @i, bound afresh by the caller; finish() resets it. */
static sqlite3_stmt *stmt(KtLessonStore *s, KtStatement i)
{
	return s->st[i];
}

static void finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *text)
{
	sqlite3_bind_text(st, i, text ? text : "", -1, SQLITE_STATIC);
}

/* Steps @st to completion (a write); resets it. */
static bool run(KtLessonStore *s, sqlite3_stmt *st, GError **error, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		fail_sqlite(s, error, what);
		finish(st);
		return false;
	}
	finish(st);
	return true;
}

static bool begin(KtLessonStore *s, GError **error)
{
	return run(s, stmt(s, ST_BEGIN), error, "begin");
}

static bool commit(KtLessonStore *s, GError **error)
{
	return run(s, stmt(s, ST_COMMIT), error, "commit");
}

static void rollback(KtLessonStore *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, stmt(s, ST_ROLLBACK), NULL, "rollback");
}

static char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return g_strdup(t ? (const char *)t : "");
}

/* ---- open, migrate, close ---- */

static bool exec_sql(KtLessonStore *s, const char *sql, GError **error, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail_sqlite(s, error, what);
	return true;
}

static bool read_version(KtLessonStore *s, gint64 *version, GError **error)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return fail_sqlite(s, error, "schema version");
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return fail_sqlite(s, error, "schema version");
	return true;
}

/* Brings the schema to KT_SCHEMA_VERSION in one write transaction, so a server and a CLI
 * opening a new file at the same moment do not both migrate it. */
static bool migrate(KtLessonStore *s, GError **error)
{
	gint64 version;
	g_autofree char *set = NULL;

	if (!exec_sql(s, "BEGIN IMMEDIATE", error, "begin migration") ||
	    !exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
	              error, "schema version") ||
	    !read_version(s, &version, error))
		goto fail;
	if (version < 0 || version > (gint64)KT_SCHEMA_VERSION) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_CORRUPT,
		            "%s: schema version %" G_GINT64_FORMAT
		            " is not one this Ketang knows (it knows up to %u)",
		            s->path, version, (guint)KT_SCHEMA_VERSION);
		goto fail;
	}
	for (gint64 v = version; v < (gint64)KT_SCHEMA_VERSION; v++)
		if (!exec_sql(s, migrations[v], error, "migrate"))
			goto fail;
	set = g_strdup_printf("DELETE FROM schema_version; INSERT INTO schema_version VALUES (%u)",
	                      (guint)KT_SCHEMA_VERSION);
	if (!exec_sql(s, set, error, "schema version") || !exec_sql(s, "COMMIT", error, "commit"))
		goto fail;
	return true;
fail:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

static bool prepare_all(KtLessonStore *s, GError **error)
{
	for (guint i = 0; i < ST_COUNT_ALL; i++)
		if (sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &s->st[i], NULL) != SQLITE_OK)
			return fail_sqlite(s, error, "prepare");
	return true;
}

static bool ensure_parent_dir(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int err = errno;

		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_IO,
		            "cannot create directory %s: %s", dir, g_strerror(err));
		return false;
	}
	return true;
}

KtLessonStore *kt_lesson_store_open(const char *path, GError **error)
{
	g_autoptr(KtLessonStore) s = g_new0(KtLessonStore, 1);
	int rc;

	s->path = g_strdup(path);
	if (!ensure_parent_dir(path, error))
		return NULL;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_IO,
		            "cannot open %s: %s", path,
		            s->db ? sqlite3_errmsg(s->db) : "out of memory");
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL lets `ketang lesson create` write while the server reads; NORMAL sync is
	 * durable across process crashes in WAL mode, which is what matters here. The first
	 * statement also reads the header: a file that is not SQLite fails here (NOTADB). */
	if (!exec_sql(s, "PRAGMA journal_mode = WAL", error, "not a usable database") ||
	    !exec_sql(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", error,
	              "pragmas") ||
	    !migrate(s, error) || !prepare_all(s, error))
		return NULL;
	return g_steal_pointer(&s);
}

void kt_lesson_store_free(KtLessonStore *s)
{
	if (!s)
		return;
	for (guint i = 0; i < ST_COUNT_ALL; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	g_free(s->path);
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
	g_free(info);
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

	bind_text(st, 1, id);
	bind_text(st, 2, in->title);
	bind_text(st, 3, in->subject);
	bind_text(st, 4, in->grade);
	bind_text(st, 5, in->teacher);
	sqlite3_bind_int64(st, 6, in->starts_at);
	sqlite3_bind_int64(st, 7, created);
	if (started > 0)
		sqlite3_bind_int64(st, 8, started);
	bind_text(st, 9, state);
	return sqlite3_step(st);
}

static bool insert_classrooms(KtLessonStore *s, const char *id, char **names, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_INSERT_CLASSROOM);

	for (guint i = 0; names && names[i]; i++) {
		int rc;

		bind_text(st, 1, id);
		bind_text(st, 2, names[i]);
		sqlite3_bind_int(st, 3, (int)i);
		rc = sqlite3_step(st);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID,
			            "classroom name \"%s\" appears twice", names[i]);
			finish(st);
			return false;
		}
		if (rc != SQLITE_DONE) {
			fail_sqlite(s, error, "insert classroom");
			finish(st);
			return false;
		}
		finish(st);
	}
	return true;
}

char *kt_lesson_store_create(KtLessonStore *s, const KtLessonInfo *in, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	char id[KT_LESSON_ID_LEN + 1];
	int rc = SQLITE_CONSTRAINT_PRIMARYKEY;

	if (!begin(s, error))
		return NULL;
	/* A clash among 2^50 ids is very unlikely; retrying covers it anyway. */
	for (guint attempt = 0; attempt < 4 && rc == SQLITE_CONSTRAINT_PRIMARYKEY; attempt++) {
		if (!new_id(id, error))
			goto fail;
		rc = insert_lesson_row(s, in, id, "scheduled", now, 0);
		if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_PRIMARYKEY)
			fail_sqlite(s, error, "insert lesson");
		finish(stmt(s, ST_INSERT_LESSON));
	}
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_IO,
			            "no free lesson id found");
		goto fail;
	}
	if (!insert_classrooms(s, id, in->classrooms, error) || !commit(s, error))
		goto fail;
	return g_strdup(id);
fail:
	rollback(s);
	return NULL;
}

static bool load_classrooms(KtLessonStore *s, KtLessonInfo *info, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_GET_CLASSROOMS);
	GPtrArray *names = g_ptr_array_new();
	int rc;

	bind_text(st, 1, info->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		g_ptr_array_add(names, column_text(st, 0));
	g_ptr_array_add(names, NULL);
	info->classrooms = (char **)g_ptr_array_free(names, FALSE);
	if (rc != SQLITE_DONE)
		fail_sqlite(s, error, "read classrooms");
	finish(st);
	return rc == SQLITE_DONE;
}

/* The lesson in the current row of @st (KT_LESSON_COLUMNS order), with its classrooms. */
static KtLessonInfo *read_lesson(KtLessonStore *s, sqlite3_stmt *st, GError **error)
{
	g_autoptr(KtLessonInfo) info = g_new0(KtLessonInfo, 1);

	info->id = column_text(st, 0);
	info->title = column_text(st, 1);
	info->subject = column_text(st, 2);
	info->grade = column_text(st, 3);
	info->teacher = column_text(st, 4);
	info->starts_at = sqlite3_column_int64(st, 5);
	info->created_at = sqlite3_column_int64(st, 6);
	info->started_at = sqlite3_column_int64(st, 7); /* NULL reads as 0 */
	info->ended_at = sqlite3_column_int64(st, 8);
	info->state = column_text(st, 9);
	if (!load_classrooms(s, info, error))
		return NULL;
	return g_steal_pointer(&info);
}

KtLessonInfo *kt_lesson_store_get(KtLessonStore *s, const char *id, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_GET_LESSON);
	KtLessonInfo *info = NULL;
	int rc;

	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		info = read_lesson(s, st, error);
	else if (rc == SQLITE_DONE)
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND,
		            "no lesson \"%s\"", id);
	else
		fail_sqlite(s, error, "read lesson");
	finish(st);
	return info;
}

static bool count_lessons(KtLessonStore *s, const char *state, guint *total, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_COUNT);
	int rc;

	if (state)
		bind_text(st, 1, state);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*total = (guint)sqlite3_column_int64(st, 0);
	else
		fail_sqlite(s, error, "count lessons");
	finish(st);
	return rc == SQLITE_ROW;
}

GPtrArray *kt_lesson_store_list(KtLessonStore *s, const char *state_or_null, guint limit,
                                guint offset, guint *total_out, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_LIST);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)kt_lesson_info_free);
	int rc;

	if (total_out && !count_lessons(s, state_or_null, total_out, error))
		return NULL;
	if (state_or_null)
		bind_text(st, 1, state_or_null);
	sqlite3_bind_int64(st, 2, limit ? (gint64)limit : -1);
	sqlite3_bind_int64(st, 3, offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		KtLessonInfo *info = read_lesson(s, st, error);

		if (!info) {
			finish(st);
			return NULL;
		}
		g_ptr_array_add(out, info);
	}
	if (rc != SQLITE_DONE) {
		fail_sqlite(s, error, "list lessons");
		finish(st);
		return NULL;
	}
	finish(st);
	return g_steal_pointer(&out);
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

	finish(stmt(s, ST_INSERT_LESSON));
	if (rc != SQLITE_DONE)
		return fail_sqlite(s, error, "insert ad-hoc lesson");
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
	bind_text(st, 1, id);
	bind_text(st, 2, state);
	sqlite3_bind_int64(st, 3, at);
	return run(s, st, error, "set lesson state");
}

bool kt_lesson_store_mark_interrupted(KtLessonStore *s, gint64 now, guint *n_out, GError **error)
{
	sqlite3_stmt *close = stmt(s, ST_CLOSE_ATTENDANCE);
	guint n;

	if (!begin(s, error))
		return false;
	sqlite3_bind_int64(close, 1, now);
	if (!run(s, close, error, "close attendance") ||
	    !run(s, stmt(s, ST_RESET_LIVE), error, "reset live lessons")) {
		rollback(s);
		return false;
	}
	n = (guint)sqlite3_changes(s->db);
	if (!commit(s, error)) {
		rollback(s);
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

	bind_text(st, 1, lesson_id);
	bind_text(st, 2, participant);
	bind_text(st, 3, role);
	bind_text(st, 4, name);
	sqlite3_bind_int64(st, 5, at);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND,
		            "no lesson \"%s\" for attendance", lesson_id);
	else if (rc != SQLITE_DONE)
		fail_sqlite(s, error, "record join");
	finish(st);
	return rc == SQLITE_DONE;
}

bool kt_lesson_store_attendance_leave(KtLessonStore *s, const char *lesson_id,
                                      const char *participant, gint64 at,
                                      const KtLinkQuality *quality, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_ATTENDANCE_LEAVE);

	bind_text(st, 1, lesson_id);
	bind_text(st, 2, participant);
	sqlite3_bind_int64(st, 3, at);
	/* Unknown values stay NULL (unbound). */
	if (quality && quality->bitrate_kbps >= 0)
		sqlite3_bind_int64(st, 4, quality->bitrate_kbps);
	if (quality && quality->loss_pct >= 0)
		sqlite3_bind_double(st, 5, quality->loss_pct);
	if (quality && quality->rtt_ms >= 0)
		sqlite3_bind_int64(st, 6, quality->rtt_ms);
	if (!run(s, st, error, "record leave"))
		return false;
	if (sqlite3_changes(s->db) == 0) {
		g_set_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND,
		            "participant \"%s\" is not in lesson \"%s\"", participant, lesson_id);
		return false;
	}
	return true;
}

static gint64 column_int_or(sqlite3_stmt *st, int i, gint64 unknown)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? unknown : sqlite3_column_int64(st, i);
}

GPtrArray *kt_lesson_store_attendance(KtLessonStore *s, const char *lesson_id, GError **error)
{
	sqlite3_stmt *st = stmt(s, ST_ATTENDANCE_LIST);
	g_autoptr(GPtrArray) out =
	    g_ptr_array_new_with_free_func((GDestroyNotify)kt_attendance_info_free);
	int rc;

	bind_text(st, 1, lesson_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		KtAttendanceInfo *a = g_new0(KtAttendanceInfo, 1);

		a->participant = column_text(st, 0);
		a->role = column_text(st, 1);
		a->name = column_text(st, 2);
		a->joined_at = sqlite3_column_int64(st, 3);
		a->left_at = column_int_or(st, 4, 0);
		a->bitrate_kbps = column_int_or(st, 5, -1);
		a->loss_pct =
		    sqlite3_column_type(st, 6) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 6);
		a->rtt_ms = column_int_or(st, 7, -1);
		g_ptr_array_add(out, a);
	}
	if (rc != SQLITE_DONE) {
		fail_sqlite(s, error, "read attendance");
		finish(st);
		return NULL;
	}
	finish(st);
	return g_steal_pointer(&out);
}
