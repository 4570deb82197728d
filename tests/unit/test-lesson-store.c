/* The SQLite lesson catalog: create/get/list, state machine, attendance, persistence,
 * migration guard and damaged files. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "kt-lesson-store.h"
#include "tmp-dir.h"

typedef struct {
	char *dir;
	char *path;
	KtLessonStore *store;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("kt-lesson-store-XXXXXX", &error);
	g_assert_no_error(error);
	/* A sub-directory that does not exist yet: open creates it. */
	f->path = g_build_filename(f->dir, "data", KT_LESSON_STORE_FILE, NULL);
	f->store = kt_lesson_store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->store);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	kt_lesson_store_free(f->store);
	tmp_dir_remove(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static char *create(KtLessonStore *s, const char *title, gint64 starts_at, const char *const *rooms)
{
	g_autoptr(GError) error = NULL;
	KtLessonInfo in = {
	    .title = (char *)title,
	    .subject = "maths",
	    .grade = "3",
	    .teacher = "Ms Li",
	    .starts_at = starts_at,
	    .classrooms = (char **)rooms,
	};
	char *id = kt_lesson_store_create(s, &in, &error);

	g_assert_no_error(error);
	g_assert_nonnull(id);
	return id;
}

static void test_create_get(Fixture *f, gconstpointer data)
{
	const char *rooms[] = {"Room B", "Room A", "Shuangfeng No.2 三年级", NULL};
	g_autofree char *id = create(f->store, "Fractions", 1795000000, rooms);
	g_autofree char *id2 = create(f->store, "Fractions", 1795000000, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	g_assert_cmpuint(strlen(id), ==, KT_LESSON_ID_LEN);
	g_assert_cmpstr(id, !=, id2);
	info = kt_lesson_store_get(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->id, ==, id);
	g_assert_cmpstr(info->title, ==, "Fractions");
	g_assert_cmpstr(info->subject, ==, "maths");
	g_assert_cmpstr(info->teacher, ==, "Ms Li");
	g_assert_cmpstr(info->state, ==, "scheduled");
	g_assert_cmpint(info->starts_at, ==, 1795000000);
	g_assert_cmpint(info->created_at, >=, now - 5);
	g_assert_cmpint(info->started_at, ==, 0);
	g_assert_cmpint(info->ended_at, ==, 0);
	/* Order as given, not sorted. */
	g_assert_true(g_strv_equal((const char *const *)info->classrooms, rooms));
	g_clear_pointer(&info, kt_lesson_info_free);

	info = kt_lesson_store_get(f->store, id2, &error);
	g_assert_no_error(error);
	g_assert_nonnull(info->classrooms);
	g_assert_null(info->classrooms[0]);
	g_clear_pointer(&info, kt_lesson_info_free);

	info = kt_lesson_store_get(f->store, "nope", &error);
	g_assert_null(info);
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND);
}

static void test_duplicate_classroom(Fixture *f, gconstpointer data)
{
	const char *rooms[] = {"A", "B", "A", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) all = NULL;
	KtLessonInfo in = {.title = "x", .classrooms = (char **)rooms};
	char *id = kt_lesson_store_create(f->store, &in, &error);

	g_assert_null(id);
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, "\"A\""));
	g_clear_error(&error);
	/* Rolled back: no half-made lesson. */
	all = kt_lesson_store_list(f->store, NULL, 0, 0, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(all->len, ==, 0);
}

static void test_list_paging(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) page = NULL;
	char *ids[5];
	guint total = 0;

	for (guint i = 0; i < 5; i++)
		ids[i] = create(f->store, "L", 1795000000 + i * 3600, NULL);
	g_assert_true(kt_lesson_store_set_state(f->store, ids[1], "live", 1795003600, &error));
	g_assert_no_error(error);

	page = kt_lesson_store_list(f->store, NULL, 2, 0, &total, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(total, ==, 5);
	g_assert_cmpuint(page->len, ==, 2);
	/* Latest start first. */
	g_assert_cmpstr(((KtLessonInfo *)page->pdata[0])->id, ==, ids[4]);
	g_assert_cmpstr(((KtLessonInfo *)page->pdata[1])->id, ==, ids[3]);
	g_clear_pointer(&page, g_ptr_array_unref);

	page = kt_lesson_store_list(f->store, NULL, 2, 4, &total, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(page->len, ==, 1);
	g_assert_cmpstr(((KtLessonInfo *)page->pdata[0])->id, ==, ids[0]);
	g_clear_pointer(&page, g_ptr_array_unref);

	page = kt_lesson_store_list(f->store, NULL, 10, 50, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(page->len, ==, 0);
	g_clear_pointer(&page, g_ptr_array_unref);

	page = kt_lesson_store_list(f->store, "live", 0, 0, &total, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(total, ==, 1);
	g_assert_cmpuint(page->len, ==, 1);
	g_assert_cmpstr(((KtLessonInfo *)page->pdata[0])->id, ==, ids[1]);
	for (guint i = 0; i < 5; i++)
		g_free(ids[i]);
}

static void expect_state_error(KtLessonStore *s, const char *id, const char *state, gint code)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(kt_lesson_store_set_state(s, id, state, 1, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, code);
}

static void test_states(Fixture *f, gconstpointer data)
{
	g_autofree char *id = create(f->store, "S", 1795000000, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = NULL;

	expect_state_error(f->store, id, "ended", KT_LESSON_STORE_ERROR_STATE);
	expect_state_error(f->store, id, "paused", KT_LESSON_STORE_ERROR_INVALID);
	expect_state_error(f->store, id, NULL, KT_LESSON_STORE_ERROR_INVALID);
	expect_state_error(f->store, "bad id!", "live", KT_LESSON_STORE_ERROR_INVALID);
	g_assert_true(kt_lesson_store_set_state(f->store, id, "scheduled", 5, &error));
	g_assert_true(kt_lesson_store_set_state(f->store, id, "live", 100, &error));
	/* Idempotent: the second "live" keeps the first started_at. */
	g_assert_true(kt_lesson_store_set_state(f->store, id, "live", 150, &error));
	expect_state_error(f->store, id, "scheduled", KT_LESSON_STORE_ERROR_STATE);
	g_assert_true(kt_lesson_store_set_state(f->store, id, "ended", 200, &error));
	g_assert_no_error(error);
	expect_state_error(f->store, id, "live", KT_LESSON_STORE_ERROR_STATE);
	expect_state_error(f->store, id, "scheduled", KT_LESSON_STORE_ERROR_STATE);
	info = kt_lesson_store_get(f->store, id, &error);
	g_assert_cmpstr(info->state, ==, "ended");
	g_assert_cmpint(info->started_at, ==, 100);
	g_assert_cmpint(info->ended_at, ==, 200);
}

static void test_adhoc(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = NULL;

	expect_state_error(f->store, "adhoc-1", "ended", KT_LESSON_STORE_ERROR_NOT_FOUND);
	g_assert_true(kt_lesson_store_set_state(f->store, "adhoc-1", "live", 1000, &error));
	g_assert_no_error(error);
	info = kt_lesson_store_get(f->store, "adhoc-1", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->state, ==, "live");
	g_assert_cmpstr(info->title, ==, "");
	g_assert_cmpint(info->started_at, ==, 1000);
	g_assert_cmpint(info->created_at, ==, 1000);
	g_assert_true(kt_lesson_store_set_state(f->store, "adhoc-1", "ended", 2000, &error));
	g_assert_no_error(error);
}

static void test_attendance(Fixture *f, gconstpointer data)
{
	g_autofree char *id = create(f->store, "A", 1795000000, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	KtLinkQuality q = {.bitrate_kbps = 1200, .loss_pct = 0.5, .rtt_ms = 42};
	KtAttendanceInfo *a;

	g_assert_true(kt_lesson_store_set_state(f->store, id, "live", 10, &error));
	g_assert_true(
	    kt_lesson_store_attendance_join(f->store, id, "p1", "teacher", "Ms Li", 10, &error));
	g_assert_true(
	    kt_lesson_store_attendance_join(f->store, id, "p2", "classroom", "Room A", 11, &error));
	g_assert_true(kt_lesson_store_attendance_leave(f->store, id, "p2", 20, &q, &error));
	/* Rejoin after a reload: a new row. */
	g_assert_true(
	    kt_lesson_store_attendance_join(f->store, id, "p2", "classroom", "Room A", 21, &error));
	g_assert_no_error(error);

	g_assert_false(kt_lesson_store_attendance_leave(f->store, id, "p9", 30, NULL, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(
	    kt_lesson_store_attendance_join(f->store, "nolesson", "p1", "teacher", "", 1, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);

	rows = kt_lesson_store_attendance(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	a = rows->pdata[0];
	g_assert_cmpstr(a->participant, ==, "p1");
	g_assert_cmpstr(a->role, ==, "teacher");
	g_assert_cmpint(a->left_at, ==, 0);
	g_assert_cmpint(a->bitrate_kbps, ==, -1);
	g_assert_cmpfloat(a->loss_pct, <, 0);
	a = rows->pdata[1];
	g_assert_cmpstr(a->name, ==, "Room A");
	g_assert_cmpint(a->joined_at, ==, 11);
	g_assert_cmpint(a->left_at, ==, 20);
	g_assert_cmpint(a->bitrate_kbps, ==, 1200);
	g_assert_cmpfloat_with_epsilon(a->loss_pct, 0.5, 1e-9);
	g_assert_cmpint(a->rtt_ms, ==, 42);
	a = rows->pdata[2];
	g_assert_cmpint(a->joined_at, ==, 21);
	g_assert_cmpint(a->left_at, ==, 0);
	g_clear_pointer(&rows, g_ptr_array_unref);

	rows = kt_lesson_store_attendance(f->store, "other", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 0);
}

/* Delete: a live lesson is refused and kept whole; an ended one goes with its classrooms
 * and attendance; the other lesson is untouched; unknown and bad ids are errors. */
static void test_delete(Fixture *f, gconstpointer data)
{
	const char *const rooms[] = {"Room A", "Room B", NULL};
	g_autofree char *id = create(f->store, "D", 1795000000, rooms);
	g_autofree char *keep = create(f->store, "K", 1795000100, rooms);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(KtLessonInfo) kept = NULL;

	g_assert_true(kt_lesson_store_set_state(f->store, id, "live", 10, &error));
	g_assert_true(
	    kt_lesson_store_attendance_join(f->store, id, "p1", "classroom", "Room A", 11, &error));
	g_assert_true(kt_lesson_store_attendance_join(f->store, keep, "p1", "classroom", "Room A",
	                                              11, &error));
	g_assert_false(kt_lesson_store_delete(f->store, id, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE);
	g_clear_error(&error);
	rows = kt_lesson_store_attendance(f->store, id, &error);
	g_assert_cmpuint(rows->len, ==, 1);
	g_clear_pointer(&rows, g_ptr_array_unref);

	g_assert_true(kt_lesson_store_set_state(f->store, id, "ended", 20, &error));
	g_assert_true(kt_lesson_store_delete(f->store, id, &error));
	g_assert_no_error(error);
	g_assert_null(kt_lesson_store_get(f->store, id, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	rows = kt_lesson_store_attendance(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 0); /* cascaded */
	g_clear_pointer(&rows, g_ptr_array_unref);

	kept = kt_lesson_store_get(f->store, keep, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(kept->classrooms), ==, 2);
	rows = kt_lesson_store_attendance(f->store, keep, &error);
	g_assert_cmpuint(rows->len, ==, 1);

	g_assert_false(kt_lesson_store_delete(f->store, id, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(kt_lesson_store_delete(f->store, "bad id!", &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(kt_lesson_store_delete(f->store, NULL, &error));
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID);
	g_clear_error(&error);
	/* Live by the time the DELETE ran (the server, while the CLI deleted): the
	 * statement spares it, and that is an error, not a success. A trigger on
	 * another connection stands in for the race: it makes the DELETE skip the row. */
	{
		sqlite3 *db = NULL;

		g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
		g_assert_cmpint(sqlite3_exec(db,
		                             "CREATE TRIGGER spare BEFORE DELETE ON lessons"
		                             " BEGIN SELECT RAISE(IGNORE); END",
		                             NULL, NULL, NULL),
		                ==, SQLITE_OK);
		g_assert_false(kt_lesson_store_delete(f->store, keep, &error));
		g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE);
		g_clear_error(&error);
		g_clear_pointer(&kept, kt_lesson_info_free);
		kept = kt_lesson_store_get(f->store, keep, &error);
		g_assert_no_error(error);
		g_assert_cmpint(sqlite3_exec(db, "DROP TRIGGER spare", NULL, NULL, NULL), ==,
		                SQLITE_OK);
		sqlite3_close(db);
	}
	/* A scheduled lesson (never live) may go too. */
	g_assert_true(kt_lesson_store_delete(f->store, keep, NULL));
}

/* Close, reopen: everything is still there; a crash-left "live" lesson is reset. */
static void test_persistence(Fixture *f, gconstpointer data)
{
	const char *rooms[] = {"Room A", NULL};
	g_autofree char *id = create(f->store, "P", 1795000000, rooms);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	guint n = 99;

	g_assert_true(kt_lesson_store_set_state(f->store, id, "live", 10, &error));
	g_assert_true(
	    kt_lesson_store_attendance_join(f->store, id, "p1", "classroom", "Room A", 10, &error));
	kt_lesson_store_free(f->store);

	f->store = kt_lesson_store_open(f->path, &error);
	g_assert_no_error(error);
	info = kt_lesson_store_get(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->title, ==, "P");
	g_assert_cmpstr(info->state, ==, "live");
	g_assert_cmpstr(info->classrooms[0], ==, "Room A");
	g_clear_pointer(&info, kt_lesson_info_free);

	g_assert_true(kt_lesson_store_mark_interrupted(f->store, 50, &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 1);
	info = kt_lesson_store_get(f->store, id, &error);
	g_assert_cmpstr(info->state, ==, "scheduled");
	g_assert_cmpint(info->started_at, ==, 10);
	rows = kt_lesson_store_attendance(f->store, id, &error);
	g_assert_cmpint(((KtAttendanceInfo *)rows->pdata[0])->left_at, ==, 50);
	/* The same links start it again. */
	g_assert_true(kt_lesson_store_set_state(f->store, id, "live", 60, &error));
	g_assert_true(kt_lesson_store_mark_interrupted(f->store, 70, &n, &error));
	g_assert_cmpuint(n, ==, 1);
	g_assert_true(kt_lesson_store_mark_interrupted(f->store, 80, &n, &error));
	g_assert_cmpuint(n, ==, 0);
	g_assert_no_error(error);
}

/* Two connections on one file, as `ketang serve` + `ketang lesson create`. */
static void test_two_connections(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonStore) other = kt_lesson_store_open(f->path, &error);
	g_autofree char *id = NULL;
	g_autoptr(KtLessonInfo) info = NULL;

	g_assert_no_error(error);
	id = create(other, "From the CLI", 1, NULL);
	info = kt_lesson_store_get(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->title, ==, "From the CLI");
}

static char *write_temp(const char *dir, const char *contents, gsize len)
{
	char *path = g_build_filename(dir, KT_LESSON_STORE_FILE, NULL);

	g_assert_true(g_file_set_contents(path, contents, (gssize)len, NULL));
	return path;
}

static void test_corrupt_file(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-lesson-store-XXXXXX", NULL);
	g_autofree char *garbage = g_strnfill(8192, 'x');
	g_autofree char *path = write_temp(dir, garbage, 8192);
	g_autoptr(GError) error = NULL;
	KtLessonStore *s = kt_lesson_store_open(path, &error);

	g_assert_null(s);
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, path));
	g_test_message("corrupt: %s", error->message);
	tmp_dir_remove(dir);
}

static void test_newer_schema(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-lesson-store-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, KT_LESSON_STORE_FILE, NULL);
	g_autoptr(GError) error = NULL;
	KtLessonStore *s = kt_lesson_store_open(path, &error);
	sqlite3 *db = NULL;

	g_assert_no_error(error);
	kt_lesson_store_free(s);
	/* Pretend a newer Ketang wrote the file. */
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(
	    sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL), ==,
	    SQLITE_OK);
	sqlite3_close(db);
	s = kt_lesson_store_open(path, &error);
	g_assert_null(s);
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, "schema version 99"));
	tmp_dir_remove(dir);
}

/* "record": false is kept; the default (a zeroed field) is recorded. */
static void test_no_recording(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *recorded = create(f->store, "Recorded", 1795000000, NULL);
	KtLessonInfo in = {
	    .title = "Private tutoring", .starts_at = 1795000000, .no_recording = TRUE};
	g_autofree char *id = kt_lesson_store_create(f->store, &in, &error);
	g_autoptr(KtLessonInfo) a = NULL;
	g_autoptr(KtLessonInfo) b = NULL;

	g_assert_no_error(error);
	a = kt_lesson_store_get(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_true(a->no_recording);
	b = kt_lesson_store_get(f->store, recorded, &error);
	g_assert_no_error(error);
	g_assert_false(b->no_recording);
}

/* Sources (RTSP, RTMP) are kept in order with their lesson; a lesson without them
 * reads back an empty list. */
static void test_feeds(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	KtLessonFeedInfo cam = {.role = "teacher", .name = "讲台", .url = "rtsp://u:p@10.0.0.5/s1"};
	KtLessonFeedInfo obs = {
	    .role = "courseware", .name = "OBS", .url = "rtmp://10.0.0.6/live/x"};
	KtLessonFeedInfo *feeds[] = {&cam, &obs, NULL};
	KtLessonInfo in = {.title = "With sources", .starts_at = 1795000000, .feeds = feeds};
	g_autofree char *id = kt_lesson_store_create(f->store, &in, &error);
	g_autofree char *plain = create(f->store, "Plain", 1795000000, NULL);
	g_autoptr(KtLessonInfo) a = NULL;
	g_autoptr(KtLessonInfo) b = NULL;

	g_assert_no_error(error);
	a = kt_lesson_store_get(f->store, id, &error);
	g_assert_no_error(error);
	g_assert_nonnull(a->feeds);
	g_assert_cmpstr(a->feeds[0]->role, ==, "teacher");
	g_assert_cmpstr(a->feeds[0]->name, ==, "讲台");
	g_assert_cmpstr(a->feeds[0]->url, ==,
	                "rtsp://u:p@10.0.0.5/s1"); /* whole: Ketang pulls it */
	g_assert_cmpstr(a->feeds[1]->role, ==, "courseware");
	g_assert_null(a->feeds[2]);
	b = kt_lesson_store_get(f->store, plain, &error);
	g_assert_no_error(error);
	g_assert_nonnull(b->feeds);
	g_assert_null(b->feeds[0]);
}

/* A catalog written by the first release (schema 1, no record column) opens, migrates, and
 * its lessons stay recorded. */
static void test_migrate_v1(void)
{
	g_autofree char *dir = g_dir_make_tmp("kt-lesson-store-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, KT_LESSON_STORE_FILE, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = NULL;
	KtLessonStore *s;
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(
	    sqlite3_exec(
	        db,
	        "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	        "INSERT INTO schema_version VALUES (1);"
	        "CREATE TABLE lessons (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL,"
	        " subject TEXT NOT NULL, grade TEXT NOT NULL, teacher TEXT NOT NULL,"
	        " starts_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	        " state TEXT NOT NULL, started_at INTEGER, ended_at INTEGER);"
	        "CREATE TABLE classrooms (lesson_id TEXT NOT NULL, name TEXT NOT NULL,"
	        " position INTEGER NOT NULL, PRIMARY KEY (lesson_id, name));"
	        "CREATE TABLE attendance (lesson_id TEXT NOT NULL, participant TEXT NOT NULL,"
	        " role TEXT NOT NULL, name TEXT NOT NULL, joined_at INTEGER NOT NULL,"
	        " left_at INTEGER, bitrate_kbps INTEGER, loss_pct REAL, rtt_ms INTEGER);"
	        "INSERT INTO lessons VALUES ('oldlesson1', 'Old', '', '', '', 1, 1,"
	        " 'ended', 1, 2);",
	        NULL, NULL, NULL),
	    ==, SQLITE_OK);
	sqlite3_close(db);
	s = kt_lesson_store_open(path, &error);
	g_assert_no_error(error);
	info = kt_lesson_store_get(s, "oldlesson1", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->title, ==, "Old");
	g_assert_cmpstr(info->state, ==, "ended");
	g_assert_false(info->no_recording);
	g_assert_null(info->feeds[0]); /* migrated to schema 4: no sources */
	kt_lesson_store_free(s);
	tmp_dir_remove(dir);
}

static void test_unwritable_dir(void)
{
	g_autoptr(GError) error = NULL;
	KtLessonStore *s = kt_lesson_store_open("/proc/self/nonexistent/ketang.db", &error);

	g_assert_null(s);
	g_assert_error(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_IO);
}

#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/lesson-store/create-get", test_create_get);
	ADD("/lesson-store/duplicate-classroom", test_duplicate_classroom);
	ADD("/lesson-store/list-paging", test_list_paging);
	ADD("/lesson-store/states", test_states);
	ADD("/lesson-store/adhoc", test_adhoc);
	ADD("/lesson-store/attendance", test_attendance);
	ADD("/lesson-store/delete", test_delete);
	ADD("/lesson-store/persistence", test_persistence);
	ADD("/lesson-store/two-connections", test_two_connections);
	g_test_add_func("/lesson-store/corrupt-file", test_corrupt_file);
	ADD("/lesson-store/no-recording", test_no_recording);
	ADD("/lesson-store/feeds", test_feeds);
	g_test_add_func("/lesson-store/newer-schema", test_newer_schema);
	g_test_add_func("/lesson-store/migrate-v1", test_migrate_v1);
	g_test_add_func("/lesson-store/unwritable-dir", test_unwritable_dir);
	return g_test_run();
}
