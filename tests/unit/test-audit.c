/* The audit log (server/kt-audit.c): rows kept in order with every field, --since, the file's
 * mode, reopening, and the triggers that make it append-only. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "kt-audit.h"
#include "tmp-dir.h"

static void record(KtAudit *a, gint64 at, const char *role, const char *action, const char *object)
{
	g_autoptr(GError) error = NULL;
	KtAuditEntry e = {
	    .at = at,
	    .role = (char *)role,
	    .lesson = "maths-3a",
	    .address = "192.0.2.7",
	    .action = (char *)action,
	    .object = (char *)object,
	};

	g_assert_true(kt_audit_record(a, &e, &error));
	g_assert_no_error(error);
}

/* Runs @sql on the file with a connection of its own, as an operator's sqlite3 shell would.
 * Returns SQLite's result code. */
static int exec_raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static void test_record_and_list(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("kt-audit-XXXXXX", &error);
	g_autofree char *data = g_build_filename(dir, "data", NULL);
	g_autofree char *path = g_build_filename(data, KT_AUDIT_FILE, NULL);
	g_autoptr(GPtrArray) rows = NULL;
	KtAudit *a = kt_audit_open(data, &error);
	GStatBuf st;
	KtAuditEntry *e;
	guint total = 0;

	g_assert_no_error(error);
	record(a, 1000, "admin", "lesson.create", "lesson/maths-3a");
	record(a, 2000, "archivist", "recording.media", "recording/7");
	record(a, 0, "admin", "recording.delete", "recording/7"); /* 0 = now */

	rows = kt_audit_list(a, 0, 0, 0, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	e = rows->pdata[0];
	g_assert_cmpint(e->at, ==, 1000);
	g_assert_cmpstr(e->role, ==, "admin");
	g_assert_cmpstr(e->lesson, ==, "maths-3a");
	g_assert_cmpstr(e->address, ==, "192.0.2.7");
	g_assert_cmpstr(e->action, ==, "lesson.create");
	g_assert_cmpstr(e->object, ==, "lesson/maths-3a");
	g_assert_cmpstr(e->result, ==, "ok");
	e = rows->pdata[2];
	g_assert_cmpint(e->at, >=, g_get_real_time() / G_USEC_PER_SEC - 60);
	g_assert_cmpint(e->id, >, ((KtAuditEntry *)rows->pdata[1])->id);
	g_clear_pointer(&rows, g_ptr_array_unref);

	/* --since, and a limit */
	rows = kt_audit_list(a, 1500, 0, 0, &total, &error);
	g_assert_cmpuint(rows->len, ==, 2);
	g_assert_cmpuint(total, ==, 2);
	g_assert_cmpstr(((KtAuditEntry *)rows->pdata[0])->action, ==, "recording.media");
	g_clear_pointer(&rows, g_ptr_array_unref);
	rows = kt_audit_list(a, 0, 1, 1, &total, &error);
	g_assert_cmpuint(rows->len, ==, 1);
	g_assert_cmpuint(total, ==, 3);
	g_assert_cmpstr(((KtAuditEntry *)rows->pdata[0])->action, ==, "recording.media");
	g_clear_pointer(&rows, g_ptr_array_unref);

	/* Only the server's user reads it. */
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(data, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);

	/* Append-only, whoever edits the file. */
	g_assert_cmpint(exec_raw(path, "DELETE FROM audit"), ==, SQLITE_CONSTRAINT);
	g_assert_cmpint(exec_raw(path, "UPDATE audit SET role = 'x'"), ==, SQLITE_CONSTRAINT);
	g_assert_cmpint(exec_raw(path, "INSERT INTO audit (at, role, action) VALUES (5, 'a', 'b')"),
	                ==, SQLITE_OK);

	/* Reopened: everything is still there, in order. */
	kt_audit_free(a);
	a = kt_audit_open(data, &error);
	g_assert_no_error(error);
	rows = kt_audit_list(a, 0, 0, 0, NULL, &error);
	g_assert_cmpuint(rows->len, ==, 4);
	g_assert_cmpstr(((KtAuditEntry *)rows->pdata[3])->action, ==, "b");
	kt_audit_free(a);
	tmp_dir_remove(dir);
}

/* A file made 0644 by an older build is made private when opened. */
static void test_existing_file_made_private(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("kt-audit-XXXXXX", &error);
	g_autofree char *path = g_build_filename(dir, KT_AUDIT_FILE, NULL);
	KtAudit *a;
	GStatBuf st;

	g_assert_true(g_file_set_contents(path, "", 0, &error));
	g_assert_cmpint(g_chmod(path, 0644), ==, 0);
	a = kt_audit_open(dir, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	kt_audit_free(a);
	tmp_dir_remove(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/audit/record-and-list", test_record_and_list);
	g_test_add_func("/audit/existing-file-made-private", test_existing_file_made_private);
	return g_test_run();
}
