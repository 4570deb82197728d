/* The recordings catalog in SQLite (opened through kt-db): schema, migrations, one prepared
 * statement per query, and the file side (paths, deletion, repair, retention, checksums). */
#define G_LOG_DOMAIN "kt-recordings"

#include "kt-recordings.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt-db.h"

G_DEFINE_QUARK(kt - recordings - error - quark, kt_recordings_error)

/* migrations[v] takes a database from version v to v + 1. Append only. */
static const char *const migrations[] = {
    /* 0 -> 1: recordings and their chapters. NULL ended_at / duration mean unknown. */
    "CREATE TABLE recordings ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  lesson TEXT NOT NULL, title TEXT NOT NULL, subject TEXT NOT NULL,"
    "  grade TEXT NOT NULL, teacher TEXT NOT NULL, classrooms TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL, ended_at INTEGER, duration_ms INTEGER,"
    "  size_bytes INTEGER NOT NULL DEFAULT 0,"
    "  kind TEXT NOT NULL CHECK (kind IN ('program', 'source')),"
    "  stream TEXT NOT NULL, file TEXT NOT NULL, mime TEXT NOT NULL,"
    "  sha256 TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'repaired', 'failed')));"
    "CREATE INDEX recordings_by_start ON recordings (started_at DESC, id DESC);"
    "CREATE INDEX recordings_by_lesson ON recordings (lesson);"
    "CREATE TABLE chapters ("
    "  recording_id INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,"
    "  at_ms INTEGER NOT NULL, title TEXT NOT NULL);"
    "CREATE INDEX chapters_by_recording ON chapters (recording_id, at_ms);",
};

#define KT_REC_COLUMNS                                                                             \
	"id, lesson, title, subject, grade, teacher, classrooms, started_at, ended_at, "           \
	"duration_ms, size_bytes, kind, stream, file, mime, sha256, state"

/* The list filter; ?1..?8 as in KtRecordingFilter, NULL = no filter. */
#define KT_REC_WHERE                                                                               \
	" WHERE (?1 IS NULL OR lesson = ?1) AND (?2 IS NULL OR teacher = ?2)"                      \
	" AND (?3 IS NULL OR subject = ?3) AND (?4 IS NULL OR grade = ?4)"                         \
	" AND (?5 IS NULL OR kind = ?5) AND (?6 IS NULL OR started_at >= ?6)"                      \
	" AND (?7 IS NULL OR started_at < ?7) AND (?8 IS NULL OR title LIKE ?8 ESCAPE '\\'"        \
	" OR teacher LIKE ?8 ESCAPE '\\' OR subject LIKE ?8 ESCAPE '\\')"

typedef enum {
	ST_INSERT,
	ST_FINISH,
	ST_FAIL,
	ST_GET,
	ST_LIST,
	ST_COUNT,
	ST_DELETE,
	ST_ADD_CHAPTER,
	ST_CHAPTERS,
	ST_UNFINISHED,
	ST_REPAIR,
	ST_EXPIRED,
	ST_COUNT_ALL,
} KtStatement;

static const char *const statement_sql[ST_COUNT_ALL] = {
    [ST_INSERT] = "INSERT INTO recordings (lesson, title, subject, grade, teacher, classrooms,"
                  " started_at, kind, stream, file, mime, state) VALUES"
                  " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'recording')",
    [ST_FINISH] = "UPDATE recordings SET state = 'complete', ended_at = ?2, duration_ms = ?3,"
                  " size_bytes = ?4, sha256 = ?5 WHERE id = ?1 AND state = 'recording'",
    [ST_FAIL] = "UPDATE recordings SET state = 'failed', ended_at = ?2"
                " WHERE id = ?1 AND state = 'recording'",
    [ST_GET] = "SELECT " KT_REC_COLUMNS " FROM recordings WHERE id = ?1",
    [ST_LIST] = "SELECT " KT_REC_COLUMNS " FROM recordings" KT_REC_WHERE
                " ORDER BY started_at DESC, id DESC LIMIT ?9 OFFSET ?10",
    [ST_COUNT] = "SELECT count(*) FROM recordings" KT_REC_WHERE,
    [ST_DELETE] = "DELETE FROM recordings WHERE id = ?1",
    [ST_ADD_CHAPTER] = "INSERT INTO chapters (recording_id, at_ms, title) VALUES (?1, ?2, ?3)",
    [ST_CHAPTERS] = "SELECT at_ms, title FROM chapters WHERE recording_id = ?1"
                    " ORDER BY at_ms, rowid",
    [ST_UNFINISHED] = "SELECT " KT_REC_COLUMNS " FROM recordings WHERE state = 'recording'",
    [ST_REPAIR] = "UPDATE recordings SET state = ?2, ended_at = ?3, duration_ms = ?4,"
                  " size_bytes = ?5, sha256 = ?6 WHERE id = ?1",
    [ST_EXPIRED] = "SELECT " KT_REC_COLUMNS " FROM recordings WHERE state != 'recording'"
                   " AND coalesce(ended_at, started_at) < ?1",
};

static const KtDbSchema schema = {
    .migrations = migrations,
    .n_migrations = G_N_ELEMENTS(migrations),
    .statements = statement_sql,
    .n_statements = ST_COUNT_ALL,
    .error_domain = kt_recordings_error_quark,
    .error_corrupt = KT_RECORDINGS_ERROR_CORRUPT,
    .error_io = KT_RECORDINGS_ERROR_IO,
};

struct _KtRecordings {
	KtDb *db;
	char *data_dir; /* files are relative to it */
};

/* ---- open, close ---- */

KtRecordings *kt_recordings_open(const char *data_dir, GError **error)
{
	g_autoptr(KtRecordings) s = g_new0(KtRecordings, 1);
	g_autofree char *path = g_build_filename(data_dir, KT_RECORDINGS_FILE, NULL);

	s->data_dir = g_strdup(data_dir);
	s->db = kt_db_open(path, &schema, error);
	return s->db ? g_steal_pointer(&s) : NULL;
}

void kt_recordings_free(KtRecordings *s)
{
	if (!s)
		return;
	kt_db_free(s->db);
	g_free(s->data_dir);
	g_free(s);
}

void kt_recording_info_free(KtRecordingInfo *info)
{
	if (!info)
		return;
	g_free(info->lesson);
	g_free(info->title);
	g_free(info->subject);
	g_free(info->grade);
	g_free(info->teacher);
	g_strfreev(info->classrooms);
	g_free(info->kind);
	g_free(info->stream);
	g_free(info->file);
	g_free(info->mime);
	g_free(info->sha256);
	g_free(info->state);
	g_free(info);
}

void kt_recording_chapter_free(KtRecordingChapter *c)
{
	if (!c)
		return;
	g_free(c->title);
	g_free(c);
}

char *kt_recordings_path(KtRecordings *s, const KtRecordingInfo *info)
{
	return g_build_filename(s->data_dir, info->file, NULL);
}

/* ---- rows ---- */

static char *classrooms_to_json(char **names)
{
	json_t *arr = json_array();
	char *text;

	for (guint i = 0; names && names[i]; i++)
		json_array_append_new(arr, json_string(names[i]));
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

/* Tolerant: a column that is not a JSON array of strings reads as no classrooms. */
static char **classrooms_from_json(const char *text)
{
	json_t *arr = json_loads(text, 0, NULL);
	GPtrArray *names = g_ptr_array_new();
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) if (json_is_string(v))
	    g_ptr_array_add(names, g_strdup(json_string_value(v)));
	g_ptr_array_add(names, NULL);
	json_decref(arr);
	return (char **)g_ptr_array_free(names, FALSE);
}

/* The row in @st, in KT_REC_COLUMNS order (a KtDbReadFunc). */
static gpointer read_row(sqlite3_stmt *st, gpointer unused, GError **error)
{
	KtRecordingInfo *r = g_new0(KtRecordingInfo, 1);
	g_autofree char *rooms = kt_db_column_text(st, 6);

	r->id = sqlite3_column_int64(st, 0);
	r->lesson = kt_db_column_text(st, 1);
	r->title = kt_db_column_text(st, 2);
	r->subject = kt_db_column_text(st, 3);
	r->grade = kt_db_column_text(st, 4);
	r->teacher = kt_db_column_text(st, 5);
	r->classrooms = classrooms_from_json(rooms);
	r->started_at = sqlite3_column_int64(st, 7);
	r->ended_at = kt_db_column_int64_or(st, 8, 0);
	r->duration_ms = kt_db_column_int64_or(st, 9, -1);
	r->size_bytes = sqlite3_column_int64(st, 10);
	r->kind = kt_db_column_text(st, 11);
	r->stream = kt_db_column_text(st, 12);
	r->file = kt_db_column_text(st, 13);
	r->mime = kt_db_column_text(st, 14);
	r->sha256 = kt_db_column_text(st, 15);
	r->state = kt_db_column_text(st, 16);
	return r;
}

/* Every recording @st yields (KtRecordingInfo *); NULL on error. Resets @st. */
static GPtrArray *read_rows(KtRecordings *s, sqlite3_stmt *st, GError **error, const char *what)
{
	return kt_db_read_all(s->db, st, read_row, NULL, (GDestroyNotify)kt_recording_info_free,
	                      what, error);
}

static bool file_is_safe(const char *file)
{
	g_auto(GStrv) parts = NULL;

	if (!file || !*file || g_path_is_absolute(file) || strchr(file, '\\'))
		return false;
	parts = g_strsplit(file, "/", -1);
	for (guint i = 0; parts[i]; i++)
		if (strcmp(parts[i], "..") == 0)
			return false;
	return true;
}

gint64 kt_recordings_create(KtRecordings *s, const KtRecordingInfo *in, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_INSERT);
	g_autofree char *rooms = classrooms_to_json(in->classrooms);

	if (g_strcmp0(in->kind, "program") != 0 && g_strcmp0(in->kind, "source") != 0) {
		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID,
		            "kind must be \"program\" or \"source\"");
		return 0;
	}
	if (!file_is_safe(in->file)) {
		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID,
		            "file must be a path inside the data dir, relative, without \"..\"");
		return 0;
	}
	kt_db_bind_text(st, 1, in->lesson);
	kt_db_bind_text(st, 2, in->title);
	kt_db_bind_text(st, 3, in->subject);
	kt_db_bind_text(st, 4, in->grade);
	kt_db_bind_text(st, 5, in->teacher);
	kt_db_bind_text(st, 6, rooms ? rooms : "[]");
	sqlite3_bind_int64(st, 7, in->started_at);
	kt_db_bind_text(st, 8, in->kind);
	kt_db_bind_text(st, 9, in->stream);
	kt_db_bind_text(st, 10, in->file);
	kt_db_bind_text(st, 11, in->mime);
	if (!kt_db_run(s->db, st, "insert recording", error))
		return 0;
	return kt_db_last_insert_rowid(s->db);
}

/* After an UPDATE ... WHERE id AND state = 'recording' changed nothing: why. */
static bool explain_no_change(KtRecordings *s, gint64 id, GError **error)
{
	g_autoptr(KtRecordingInfo) info = kt_recordings_get(s, id, error);

	if (info)
		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID,
		            "recording %" G_GINT64_FORMAT " is %s, not recording", id, info->state);
	return false;
}

bool kt_recordings_finish(KtRecordings *s, gint64 id, gint64 ended_at, gint64 duration_ms,
                          gint64 size_bytes, const char *sha256_hex, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_FINISH);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, ended_at);
	if (duration_ms >= 0)
		sqlite3_bind_int64(st, 3, duration_ms);
	sqlite3_bind_int64(st, 4, size_bytes);
	kt_db_bind_text(st, 5, sha256_hex);
	if (!kt_db_run(s->db, st, "finish recording", error))
		return false;
	return kt_db_changes(s->db) > 0 || explain_no_change(s, id, error);
}

bool kt_recordings_mark_failed(KtRecordings *s, gint64 id, gint64 ended_at, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_FAIL);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, ended_at);
	if (!kt_db_run(s->db, st, "mark recording failed", error))
		return false;
	return kt_db_changes(s->db) > 0 || explain_no_change(s, id, error);
}

KtRecordingInfo *kt_recordings_get(KtRecordings *s, gint64 id, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_GET);
	KtRecordingInfo *info = NULL;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		info = read_row(st, NULL, NULL);
	else if (rc == SQLITE_DONE)
		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND,
		            "no recording %" G_GINT64_FORMAT, id);
	else
		kt_db_fail(s->db, "read recording", error);
	kt_db_reset(st);
	return info;
}

/* "%text%" for LIKE, with LIKE's own wildcards escaped. */
static char *like_pattern(const char *text)
{
	GString *p = g_string_new("%");

	for (const char *c = text; *c; c++) {
		if (*c == '%' || *c == '_' || *c == '\\')
			g_string_append_c(p, '\\');
		g_string_append_c(p, *c);
	}
	g_string_append_c(p, '%');
	return g_string_free(p, FALSE);
}

static void bind_filter(sqlite3_stmt *st, const KtRecordingFilter *f, const char *like)
{
	if (!f)
		return;
	kt_db_bind_text_or_null(st, 1, f->lesson);
	kt_db_bind_text_or_null(st, 2, f->teacher);
	kt_db_bind_text_or_null(st, 3, f->subject);
	kt_db_bind_text_or_null(st, 4, f->grade);
	kt_db_bind_text_or_null(st, 5, f->kind);
	if (f->from > 0)
		sqlite3_bind_int64(st, 6, f->from);
	if (f->to > 0)
		sqlite3_bind_int64(st, 7, f->to);
	kt_db_bind_text_or_null(st, 8, like);
}

GPtrArray *kt_recordings_list(KtRecordings *s, const KtRecordingFilter *filter, guint limit,
                              guint offset, guint *total_out, GError **error)
{
	g_autofree char *like =
	    filter && filter->text && *filter->text ? like_pattern(filter->text) : NULL;
	sqlite3_stmt *count = kt_db_stmt(s->db, ST_COUNT);
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_LIST);
	gint64 total;

	if (total_out) {
		bind_filter(count, filter, like);
		if (!kt_db_read_int64(s->db, count, &total, "count recordings", error))
			return NULL;
		*total_out = (guint)total;
	}
	bind_filter(st, filter, like);
	sqlite3_bind_int64(st, 9, limit ? (gint64)limit : -1);
	sqlite3_bind_int64(st, 10, offset);
	return read_rows(s, st, error, "list recordings");
}

bool kt_recordings_add_chapter(KtRecordings *s, gint64 id, gint64 at_ms, const char *title,
                               GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_ADD_CHAPTER);
	int rc;

	if (at_ms < 0) {
		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID,
		            "a chapter cannot start before the recording");
		return false;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, at_ms);
	kt_db_bind_text(st, 3, title);
	rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND,
		            "no recording %" G_GINT64_FORMAT, id);
	else if (rc != SQLITE_DONE)
		kt_db_fail(s->db, "add chapter", error);
	kt_db_reset(st);
	return rc == SQLITE_DONE;
}

static gpointer read_chapter(sqlite3_stmt *st, gpointer unused, GError **error)
{
	KtRecordingChapter *c = g_new0(KtRecordingChapter, 1);

	c->at_ms = sqlite3_column_int64(st, 0);
	c->title = kt_db_column_text(st, 1);
	return c;
}

GPtrArray *kt_recordings_chapters(KtRecordings *s, gint64 id, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_CHAPTERS);

	sqlite3_bind_int64(st, 1, id);
	return kt_db_read_all(s->db, st, read_chapter, NULL,
	                      (GDestroyNotify)kt_recording_chapter_free, "read chapters", error);
}

/* ---- files: delete, repair, retention ---- */

static bool delete_row(KtRecordings *s, const KtRecordingInfo *info, GError **error)
{
	g_autofree char *path = kt_recordings_path(s, info);
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_DELETE);

	/* File first: a row without a file is visible and can be deleted again; a file
	 * without a row would be an orphan nobody sees. */
	if (g_unlink(path) != 0 && errno != ENOENT) {
		int err = errno;

		g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_IO,
		            "cannot remove %s: %s", path, g_strerror(err));
		return false;
	}
	sqlite3_bind_int64(st, 1, info->id);
	return kt_db_run(s->db, st, "delete recording", error);
}

bool kt_recordings_delete(KtRecordings *s, gint64 id, GError **error)
{
	g_autoptr(KtRecordingInfo) info = kt_recordings_get(s, id, error);

	return info && delete_row(s, info, error);
}

char *kt_recordings_sha256_file(const char *path, GError **error)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint8 buf[65536];
	ssize_t n;
	int err = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err = errno;
		goto fail;
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			close(fd);
			goto fail;
		}
		g_checksum_update(sum, buf, n);
	}
	close(fd);
	return g_strdup(g_checksum_get_string(sum));
fail:
	g_set_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_IO, "cannot read %s: %s", path,
	            g_strerror(err));
	return NULL;
}

/* One row a crash left "recording": its file is as complete as it will get. */
static bool repair_row(KtRecordings *s, const KtRecordingInfo *info, KtRecordingsProbeFunc probe,
                       gpointer user_data, GError **error)
{
	g_autofree char *path = kt_recordings_path(s, info);
	g_autofree char *sha = NULL;
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_REPAIR);
	gint64 duration = -1;
	struct stat sb;
	bool found;

	/* The probe may repair the file (cut a half-written tail): size and hash after it. */
	if (probe && g_file_test(path, G_FILE_TEST_IS_REGULAR))
		duration = probe(path, user_data);
	found = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	if (found)
		sha = kt_recordings_sha256_file(path, NULL);
	sqlite3_bind_int64(st, 1, info->id);
	kt_db_bind_text(st, 2, found ? "repaired" : "failed");
	sqlite3_bind_int64(st, 3, found ? (gint64)sb.st_mtime : info->started_at);
	if (duration >= 0)
		sqlite3_bind_int64(st, 4, duration);
	sqlite3_bind_int64(st, 5, found ? (gint64)sb.st_size : 0);
	kt_db_bind_text(st, 6, sha);
	g_message("recording %" G_GINT64_FORMAT " (%s) was cut by a restart: %s", info->id,
	          info->file, found ? "repaired" : "file missing, marked failed");
	return kt_db_run(s->db, st, "repair recording", error);
}

bool kt_recordings_repair(KtRecordings *s, KtRecordingsProbeFunc probe, gpointer user_data,
                          guint *n_out, GError **error)
{
	g_autoptr(GPtrArray) rows =
	    read_rows(s, kt_db_stmt(s->db, ST_UNFINISHED), error, "find unfinished recordings");

	if (!rows)
		return false;
	for (guint i = 0; i < rows->len; i++)
		if (!repair_row(s, rows->pdata[i], probe, user_data, error))
			return false;
	if (n_out)
		*n_out = rows->len;
	return true;
}

bool kt_recordings_expire(KtRecordings *s, gint64 now, gint64 retention_days, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(s->db, ST_EXPIRED);
	g_autoptr(GPtrArray) rows = NULL;

	if (retention_days <= 0)
		return true;
	sqlite3_bind_int64(st, 1, now - retention_days * 86400);
	rows = read_rows(s, st, error, "find expired recordings");
	if (!rows)
		return false;
	for (guint i = 0; i < rows->len; i++) {
		const KtRecordingInfo *r = rows->pdata[i];

		if (!delete_row(s, r, error))
			return false;
		g_message("retention: deleted recording %" G_GINT64_FORMAT
		          " (lesson %s, %s, %s), older than %" G_GINT64_FORMAT " days",
		          r->id, r->lesson, r->stream, r->file, retention_days);
	}
	return true;
}
