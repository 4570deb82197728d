/* kt-db: open and migrate, a newer schema and a damaged file refused, errors in the store's
 * own domain, the statement helpers, transactions. */
#include "kt-db.h"

#include <string.h>

#include "tmp-dir.h"

enum { ST_INSERT, ST_COUNT, ST_LIST, ST_N };

static const char *const migrations[] = {
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT, size INTEGER);",
    "ALTER TABLE notes ADD COLUMN tag TEXT;",
};

static const char *const statements[ST_N] = {
    [ST_INSERT] = "INSERT INTO notes (text, size, tag) VALUES (?1, ?2, ?3)",
    [ST_COUNT] = "SELECT count(*) FROM notes",
    [ST_LIST] = "SELECT text, size, tag FROM notes ORDER BY id",
};

/* Version 2; version1 is the same database before its second migration. */
static const KtDbSchema schema = {migrations, 2, statements, ST_N, NULL, 0, 0};
static const KtDbSchema version1 = {migrations, 1, NULL, 0, NULL, 0, 0};

/* A store's own error domain, to check that errors are reported in it. */
static GQuark test_store_error_quark(void);
G_DEFINE_QUARK(test - store - error - quark, test_store_error)
enum { TEST_STORE_NOT_FOUND, TEST_STORE_CORRUPT, TEST_STORE_IO };
static const KtDbSchema mapped = {
    migrations, 2, statements, ST_N, test_store_error_quark, TEST_STORE_CORRUPT, TEST_STORE_IO};

typedef struct {
	char *dir;
	char *path;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
	f->dir = g_dir_make_tmp("kt-db-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	/* A sub-directory that does not exist yet: open creates it. */
	f->path = g_build_filename(f->dir, "sub", "test.db", NULL);
}

static void teardown(Fixture *f, gconstpointer data)
{
	tmp_dir_remove(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static bool insert(KtDb *db, const char *text, gint64 size, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(db, ST_INSERT);

	kt_db_bind_text_or_null(st, 1, text);
	if (size >= 0)
		sqlite3_bind_int64(st, 2, size);
	kt_db_bind_text(st, 3, NULL);
	return kt_db_run(db, st, "insert note", error);
}

static gint64 count(KtDb *db)
{
	g_autoptr(GError) error = NULL;
	gint64 n = -1;

	g_assert_true(kt_db_read_int64(db, kt_db_stmt(db, ST_COUNT), &n, "count", &error));
	g_assert_no_error(error);
	return n;
}

static gpointer read_note(sqlite3_stmt *st, gpointer user_data, GError **error)
{
	g_autofree char *text = kt_db_column_text(st, 0);
	g_autofree char *tag = kt_db_column_text(st, 2);

	(*(guint *)user_data)++;
	return g_strdup_printf("%s/%" G_GINT64_FORMAT "/%s", text, kt_db_column_int64_or(st, 1, -1),
	                       tag);
}

static void test_migrate_and_read(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtDb) db = kt_db_open(f->path, &version1, &error);
	g_autoptr(GPtrArray) rows = NULL;
	guint calls = 0;

	g_assert_no_error(error);
	g_assert_true(
	    kt_db_exec(db, "INSERT INTO notes (text, size) VALUES ('old', 1)", "seed", &error));
	g_clear_pointer(&db, kt_db_free);

	/* Reopening with one more migration keeps the data and adds the column. */
	db = kt_db_open(f->path, &schema, &error);
	g_assert_no_error(error);
	g_assert_true(insert(db, "new", -1, &error));
	g_assert_cmpint(kt_db_last_insert_rowid(db), ==, 2);
	g_assert_cmpint(kt_db_changes(db), ==, 1);
	g_assert_true(insert(db, "", 3, &error));
	g_assert_no_error(error);
	g_assert_cmpint(count(db), ==, 3);
	rows =
	    kt_db_read_all(db, kt_db_stmt(db, ST_LIST), read_note, &calls, g_free, "list", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(calls, ==, 3);
	g_assert_cmpuint(rows->len, ==, 3);
	/* NULL text and tag read as "", a NULL size as the fallback; "" binds as NULL */
	g_assert_cmpstr(rows->pdata[0], ==, "old/1/");
	g_assert_cmpstr(rows->pdata[1], ==, "new/-1/");
	g_assert_cmpstr(rows->pdata[2], ==, "/3/");
	/* The statements were reset: they run again. */
	g_assert_cmpint(count(db), ==, 3);
}

static void test_transactions(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtDb) db = kt_db_open(f->path, &schema, &error);

	g_assert_no_error(error);
	kt_db_rollback(db); /* outside a transaction: nothing to do */
	g_assert_true(kt_db_begin(db, &error));
	g_assert_true(insert(db, "a", 1, &error));
	kt_db_rollback(db);
	g_assert_cmpint(count(db), ==, 0);
	g_assert_true(kt_db_begin(db, &error));
	g_assert_true(insert(db, "b", 2, &error));
	g_assert_true(kt_db_commit(db, &error));
	g_assert_no_error(error);
	g_assert_cmpint(count(db), ==, 1);
	/* A failed statement reports the path and what was being done. */
	g_assert_false(kt_db_exec(db, "INSERT INTO nowhere VALUES (1)", "insert nowhere", &error));
	g_assert_error(error, KT_DB_ERROR, KT_DB_ERROR_IO);
	g_assert_nonnull(strstr(error->message, f->path));
	g_assert_nonnull(strstr(error->message, "insert nowhere"));
}

static void test_newer_schema(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	KtDb *db = kt_db_open(f->path, &schema, &error);

	g_assert_no_error(error);
	kt_db_free(db);
	/* This build knows only version 1; the file is version 2. */
	g_assert_null(kt_db_open(f->path, &version1, &error));
	g_assert_error(error, KT_DB_ERROR, KT_DB_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, "schema version 2"));
}

static void test_errors_in_store_domain(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *garbage = g_strnfill(8192, 'x');
	g_autofree char *parent = g_path_get_dirname(f->path);

	g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
	g_assert_true(g_file_set_contents(f->path, garbage, 8192, NULL));
	g_assert_null(kt_db_open(f->path, &mapped, &error));
	g_assert_error(error, test_store_error_quark(), TEST_STORE_CORRUPT);
	g_assert_nonnull(strstr(error->message, f->path));
	g_clear_error(&error);
	g_assert_null(kt_db_open("/proc/self/nonexistent/test.db", &mapped, &error));
	g_assert_error(error, test_store_error_quark(), TEST_STORE_IO);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/db/" name, Fixture, NULL, setup, fn, teardown)
	ADD("migrate-and-read", test_migrate_and_read);
	ADD("transactions", test_transactions);
	ADD("newer-schema", test_newer_schema);
	ADD("errors-in-store-domain", test_errors_in_store_domain);
#undef ADD
	return g_test_run();
}
