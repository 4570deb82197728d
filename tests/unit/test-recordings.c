/* kt-recordings: the archive catalog in a temporary data dir. */
#include "kt-recordings.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "tmp-dir.h"

typedef struct {
	char *dir;
	KtRecordings *store;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("test-recordings-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->store = kt_recordings_open(f->dir, &error);
	g_assert_no_error(error);
}

static void teardown(Fixture *f, gconstpointer data)
{
	kt_recordings_free(f->store);
	tmp_dir_remove(f->dir);
	g_free(f->dir);
}

/* Writes @content to <dir>/@file (making parents) and adds a "recording" row for it. */
static gint64 add(Fixture *f, const char *lesson, const char *title, const char *teacher,
                  const char *subject, gint64 started, const char *file, const char *content)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(f->dir, file, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	char *rooms[] = {"Room A", "Room B", NULL};
	KtRecordingInfo in = {.lesson = (char *)lesson,
	                      .title = (char *)title,
	                      .teacher = (char *)teacher,
	                      .subject = (char *)subject,
	                      .grade = "7",
	                      .classrooms = rooms,
	                      .started_at = started,
	                      .kind = "program",
	                      .stream = "program",
	                      .file = (char *)file,
	                      .mime = "video/mp4"};
	gint64 id;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
	if (content)
		g_assert_true(g_file_set_contents(path, content, -1, NULL));
	id = kt_recordings_create(f->store, &in, &error);
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

static void test_create_finish_get(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 id = add(f, "lesson1", "Fractions", "Ms Li", "Maths", 1000, "rec/a.mp4", "abc");
	g_autoptr(KtRecordingInfo) r = kt_recordings_get(f->store, id, &error);
	g_autofree char *sha = NULL;
	g_autofree char *path = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(r->state, ==, "recording");
	g_assert_cmpint(r->duration_ms, ==, -1);
	g_assert_cmpstr(r->classrooms[1], ==, "Room B");
	g_assert_cmpstr(r->sha256, ==, "");
	path = kt_recordings_path(f->store, r);
	sha = kt_recordings_sha256_file(path, &error);
	g_assert_no_error(error);
	/* SHA-256("abc"), FIPS 180-2 appendix B.1 */
	g_assert_cmpstr(sha, ==,
	                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	g_assert_true(kt_recordings_finish(f->store, id, 1060, 60000, 3, sha, &error));
	g_assert_no_error(error);
	kt_recording_info_free(r);
	r = kt_recordings_get(f->store, id, &error);
	g_assert_cmpstr(r->state, ==, "complete");
	g_assert_cmpint(r->ended_at, ==, 1060);
	g_assert_cmpint(r->duration_ms, ==, 60000);
	g_assert_cmpint(r->size_bytes, ==, 3);
	g_assert_cmpstr(r->sha256, ==, sha);
	/* finishing twice, failing a finished one, unknown ids */
	g_assert_false(kt_recordings_finish(f->store, id, 1, 1, 1, NULL, &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(kt_recordings_mark_failed(f->store, id, 1, &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_null(kt_recordings_get(f->store, 999, &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(kt_recordings_finish(f->store, 999, 1, 1, 1, NULL, &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_null(kt_recordings_sha256_file("/nonexistent/file", &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_IO);
}

static void test_bad_input(Fixture *f, gconstpointer data)
{
	static const char *const bad_files[] = {"", "/etc/passwd", "../x.mp4", "a/../../x.mp4",
	                                        "a\\b.mp4"};
	g_autoptr(GError) error = NULL;
	KtRecordingInfo in = {.kind = "program", .file = "ok.mp4"};

	for (guint i = 0; i < G_N_ELEMENTS(bad_files); i++) {
		in.file = (char *)bad_files[i];
		g_assert_cmpint(kt_recordings_create(f->store, &in, &error), ==, 0);
		g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID);
		g_clear_error(&error);
	}
	in.file = "ok.mp4";
	in.kind = "movie";
	g_assert_cmpint(kt_recordings_create(f->store, &in, &error), ==, 0);
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID);
	g_clear_error(&error);
	in.kind = "source";
	g_assert_cmpint(kt_recordings_create(f->store, &in, &error), >, 0);
	g_assert_false(kt_recordings_add_chapter(f->store, 12345, 0, "x", &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(kt_recordings_add_chapter(f->store, 1, -5, "x", &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_INVALID);
}

static guint count(Fixture *f, const KtRecordingFilter *filter)
{
	g_autoptr(GError) error = NULL;
	guint total = 0;
	g_autoptr(GPtrArray) rows = kt_recordings_list(f->store, filter, 0, 0, &total, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, total);
	return total;
}

static void test_list_filters(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) page = NULL;
	guint total = 0;

	add(f, "l1", "Fractions 分数", "Ms Li", "Maths", 1000, "a.mp4", "a");
	add(f, "l1", "Fractions 分数", "Ms Li", "Maths", 1001, "b.mp4", "b");
	add(f, "l2", "Poems", "Mr Wang", "Chinese", 2000, "c.mp4", "c");
	add(f, "l3", "100% effort_", "Mr Wang", "PE", 3000, "d.mp4", "d");

	g_assert_cmpuint(count(f, NULL), ==, 4);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.lesson = "l1"}), ==, 2);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.teacher = "Mr Wang"}), ==, 2);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.subject = "Chinese"}), ==, 1);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.grade = "7"}), ==, 4);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.grade = "8"}), ==, 0);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.kind = "source"}), ==, 0);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.from = 1001}), ==, 3);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.to = 2000}), ==, 2);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.from = 1001, .to = 3000}), ==, 2);
	/* text: substring of title, teacher or subject; case-insensitive; LIKE wildcards literal */
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "fraction"}), ==, 2);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "分数"}), ==, 2);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "wang"}), ==, 2);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "chin"}), ==, 1);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "%"}), ==, 1);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "_"}), ==, 1);
	g_assert_cmpuint(count(f, &(KtRecordingFilter){.text = "Wang", .subject = "PE"}), ==, 1);

	/* paging: latest first */
	page = kt_recordings_list(f->store, NULL, 2, 1, &total, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(total, ==, 4);
	g_assert_cmpuint(page->len, ==, 2);
	g_assert_cmpint(((KtRecordingInfo *)page->pdata[0])->started_at, ==, 2000);
	g_assert_cmpint(((KtRecordingInfo *)page->pdata[1])->started_at, ==, 1001);
	g_ptr_array_unref(page);
	page = kt_recordings_list(f->store, NULL, 10, 4, NULL, &error);
	g_assert_cmpuint(page->len, ==, 0);
}

static void test_chapters_delete(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 id = add(f, "l1", "T", "X", "S", 10, "rec/l1/program.mp4", "data");
	gint64 other = add(f, "l1", "T", "X", "S", 10, "rec/l1/gone.mp4", NULL);
	g_autofree char *path = g_build_filename(f->dir, "rec/l1/program.mp4", NULL);
	g_autoptr(GPtrArray) chapters = NULL;

	g_assert_true(kt_recordings_add_chapter(f->store, id, 5000, "Courseware", &error));
	g_assert_true(kt_recordings_add_chapter(f->store, id, 1500, "Room A on stage", &error));
	g_assert_no_error(error);
	chapters = kt_recordings_chapters(f->store, id, &error);
	g_assert_cmpuint(chapters->len, ==, 2);
	g_assert_cmpint(((KtRecordingChapter *)chapters->pdata[0])->at_ms, ==, 1500);
	g_assert_cmpstr(((KtRecordingChapter *)chapters->pdata[0])->title, ==, "Room A on stage");

	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_true(kt_recordings_delete(f->store, id, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_null(kt_recordings_get(f->store, id, NULL));
	g_ptr_array_unref(chapters);
	chapters = kt_recordings_chapters(f->store, id, &error);
	g_assert_cmpuint(chapters->len, ==, 0); /* cascaded */
	/* a row whose file is already gone still deletes */
	g_assert_true(kt_recordings_delete(f->store, other, &error));
	g_assert_false(kt_recordings_delete(f->store, other, &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND);
}

static gint64 probe_42(const char *path, gpointer data)
{
	(*(guint *)data)++;
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	return 42000;
}

static void test_repair(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 cut = add(f, "l1", "T", "X", "S", 10, "cut.mp4", "12345");
	gint64 lost = add(f, "l1", "T", "X", "S", 10, "lost.mp4", NULL);
	gint64 done = add(f, "l1", "T", "X", "S", 10, "done.mp4", "x");
	g_autoptr(KtRecordingInfo) r = NULL;
	guint n = 0, probes = 0;

	g_assert_true(kt_recordings_finish(f->store, done, 20, 10, 1, "", &error));
	/* reopen, as after a crash */
	kt_recordings_free(f->store);
	f->store = kt_recordings_open(f->dir, &error);
	g_assert_no_error(error);
	g_assert_true(kt_recordings_repair(f->store, probe_42, &probes, &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(probes, ==, 1);
	r = kt_recordings_get(f->store, cut, &error);
	g_assert_cmpstr(r->state, ==, "repaired");
	g_assert_cmpint(r->size_bytes, ==, 5);
	g_assert_cmpint(r->duration_ms, ==, 42000);
	g_assert_cmpint(r->ended_at, >, 0);
	g_assert_cmpuint(strlen(r->sha256), ==, 64);
	kt_recording_info_free(r);
	r = kt_recordings_get(f->store, lost, &error);
	g_assert_cmpstr(r->state, ==, "failed");
	kt_recording_info_free(r);
	r = kt_recordings_get(f->store, done, &error);
	g_assert_cmpstr(r->state, ==, "complete");
	/* nothing left to repair; no prober = unknown duration */
	g_assert_true(kt_recordings_repair(f->store, NULL, NULL, &n, &error));
	g_assert_cmpuint(n, ==, 0);
}

static void test_expire(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const gint64 day = 86400, now = 100 * day;
	gint64 old = add(f, "l1", "T", "X", "S", now - 10 * day, "old.mp4", "o");
	gint64 fresh = add(f, "l1", "T", "X", "S", now - 2 * day, "fresh.mp4", "f");
	gint64 live = add(f, "l1", "T", "X", "S", now - 20 * day, "live.mp4", "l");
	g_autofree char *old_path = g_build_filename(f->dir, "old.mp4", NULL);

	g_assert_true(kt_recordings_finish(f->store, old, now - 9 * day, 1, 1, NULL, &error));
	g_assert_true(kt_recordings_finish(f->store, fresh, now - 2 * day, 1, 1, NULL, &error));
	/* 0 = keep forever */
	g_assert_true(kt_recordings_expire(f->store, now, 0, &error));
	g_assert_cmpuint(count(f, NULL), ==, 3);
	g_assert_true(kt_recordings_expire(f->store, now, 30, &error));
	g_assert_cmpuint(count(f, NULL), ==, 3);
	/* logs "retention: deleted recording 1 (lesson l1, program, old.mp4), ..." */
	g_assert_true(kt_recordings_expire(f->store, now, 7, &error));
	g_assert_no_error(error);
	g_assert_null(kt_recordings_get(f->store, old, NULL));
	g_assert_false(g_file_test(old_path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(count(f, NULL), ==, 2); /* fresh, and live (still recording) */
	kt_recording_info_free(kt_recordings_get(f->store, live, NULL));
}

static void test_corrupt(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-recordings-XXXXXX", NULL);
	g_autofree char *db = g_build_filename(dir, KT_RECORDINGS_FILE, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtRecordings) s = NULL;
	char junk[4096];

	memset(junk, 'x', sizeof junk);
	g_assert_true(g_file_set_contents(db, junk, sizeof junk, NULL));
	g_assert_null(kt_recordings_open(dir, &error));
	g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, KT_RECORDINGS_FILE));
	g_clear_error(&error);
	g_unlink(db);

	/* a newer schema is refused, not downgraded */
	s = kt_recordings_open(dir, &error);
	g_assert_no_error(error);
	g_clear_pointer(&s, kt_recordings_free);
	{
		sqlite3 *raw = NULL;
		g_assert_cmpint(sqlite3_open(db, &raw), ==, SQLITE_OK);
		g_assert_cmpint(
		    sqlite3_exec(raw, "UPDATE schema_version SET version = 99", NULL, NULL, NULL),
		    ==, SQLITE_OK);
		sqlite3_close(raw);
		g_assert_null(kt_recordings_open(dir, &error));
		g_assert_error(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_CORRUPT);
		g_assert_nonnull(strstr(error->message, "schema version 99"));
		g_clear_error(&error);
	}
	tmp_dir_remove(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/recordings/" name, Fixture, NULL, setup, fn, teardown)
	ADD("create-finish-get", test_create_finish_get);
	ADD("bad-input", test_bad_input);
	ADD("list-filters", test_list_filters);
	ADD("chapters-delete", test_chapters_delete);
	ADD("repair", test_repair);
	ADD("expire", test_expire);
#undef ADD
	g_test_add_func("/recordings/corrupt", test_corrupt);
	return g_test_run();
}
