/* SQLite plumbing for the catalogs: open, migrate, prepare, errors, statement helpers. */
#include "kt-db.h"

#include <errno.h>
#include <glib/gstdio.h>

#define KT_DB_BUSY_TIMEOUT_MS 5000

G_DEFINE_QUARK(kt - db - error - quark, kt_db_error)

struct _KtDb {
	sqlite3 *db;
	char *path; /* for messages */
	const KtDbSchema *schema;
	sqlite3_stmt **st; /* schema->n_statements */
};

/* ---- errors ---- */

static void set_error(KtDb *db, GError **error, bool corrupt, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

static void set_error(KtDb *db, GError **error, bool corrupt, const char *format, ...)
{
	const KtDbSchema *s = db->schema;
	GQuark domain = s->error_domain ? s->error_domain() : KT_DB_ERROR;
	int code = s->error_domain ? (corrupt ? s->error_corrupt : s->error_io)
	                           : (corrupt ? KT_DB_ERROR_CORRUPT : KT_DB_ERROR_IO);
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, domain, code, message);
}

bool kt_db_fail(KtDb *db, const char *what, GError **error)
{
	int code = sqlite3_errcode(db->db) & 0xff;

	set_error(db, error, code == SQLITE_NOTADB || code == SQLITE_CORRUPT, "%s: %s: %s",
	          db->path, what, sqlite3_errmsg(db->db));
	return false;
}

/* ---- statements ---- */

sqlite3_stmt *kt_db_stmt(KtDb *db, guint i)
{
	g_return_val_if_fail(i < db->schema->n_statements, NULL);
	return db->st[i];
}

void kt_db_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

bool kt_db_exec(KtDb *db, const char *sql, const char *what, GError **error)
{
	if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return kt_db_fail(db, what, error);
	return true;
}

bool kt_db_run(KtDb *db, sqlite3_stmt *st, const char *what, GError **error)
{
	bool ok = sqlite3_step(st) == SQLITE_DONE;

	if (!ok)
		kt_db_fail(db, what, error);
	kt_db_reset(st);
	return ok;
}

bool kt_db_read_int64(KtDb *db, sqlite3_stmt *st, gint64 *out, const char *what, GError **error)
{
	bool ok = sqlite3_step(st) == SQLITE_ROW;

	if (ok)
		*out = sqlite3_column_int64(st, 0);
	else
		kt_db_fail(db, what, error);
	kt_db_reset(st);
	return ok;
}

GPtrArray *kt_db_read_all(KtDb *db, sqlite3_stmt *st, KtDbReadFunc read, gpointer user_data,
                          GDestroyNotify free_func, const char *what, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(free_func);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gpointer row = read(st, user_data, error);

		if (!row) {
			kt_db_reset(st);
			return NULL;
		}
		g_ptr_array_add(out, row);
	}
	if (rc != SQLITE_DONE)
		kt_db_fail(db, what, error);
	kt_db_reset(st);
	return rc == SQLITE_DONE ? g_steal_pointer(&out) : NULL;
}

bool kt_db_begin(KtDb *db, GError **error)
{
	return kt_db_exec(db, "BEGIN IMMEDIATE", "begin", error);
}

bool kt_db_commit(KtDb *db, GError **error)
{
	return kt_db_exec(db, "COMMIT", "commit", error);
}

void kt_db_rollback(KtDb *db)
{
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

gint64 kt_db_last_insert_rowid(KtDb *db)
{
	return sqlite3_last_insert_rowid(db->db);
}

gint64 kt_db_changes(KtDb *db)
{
	return sqlite3_changes(db->db);
}

void kt_db_bind_text(sqlite3_stmt *st, int i, const char *text)
{
	sqlite3_bind_text(st, i, text ? text : "", -1, SQLITE_STATIC);
}

void kt_db_bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
	if (text && *text)
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
}

char *kt_db_column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return g_strdup(t ? (const char *)t : "");
}

gint64 kt_db_column_int64_or(sqlite3_stmt *st, int i, gint64 if_null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? if_null : sqlite3_column_int64(st, i);
}

/* ---- open, migrate, close ---- */

static bool read_version(KtDb *db, gint64 *version, GError **error)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->db, "SELECT max(version) FROM schema_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return kt_db_fail(db, "schema version", error);
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return kt_db_fail(db, "schema version", error);
	return true;
}

/* Brings the schema to n_migrations in one write transaction, so a server and a CLI opening
 * a new file at the same moment do not both migrate it. */
static bool migrate(KtDb *db, GError **error)
{
	gint64 latest = db->schema->n_migrations;
	gint64 version;
	g_autofree char *set = NULL;

	if (!kt_db_exec(db, "BEGIN IMMEDIATE", "begin migration", error) ||
	    !kt_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
	                "schema version", error) ||
	    !read_version(db, &version, error))
		goto fail;
	if (version < 0 || version > latest) {
		set_error(db, error, true,
		          "%s: schema version %" G_GINT64_FORMAT
		          " is not one this Ketang knows (it knows up to %" G_GINT64_FORMAT ")",
		          db->path, version, latest);
		goto fail;
	}
	for (gint64 v = version; v < latest; v++)
		if (!kt_db_exec(db, db->schema->migrations[v], "migrate", error))
			goto fail;
	set = g_strdup_printf("DELETE FROM schema_version; INSERT INTO schema_version VALUES "
	                      "(%" G_GINT64_FORMAT ")",
	                      latest);
	if (!kt_db_exec(db, set, "schema version", error) || !kt_db_commit(db, error))
		goto fail;
	return true;
fail:
	kt_db_rollback(db);
	return false;
}

static bool prepare_all(KtDb *db, GError **error)
{
	for (guint i = 0; i < db->schema->n_statements; i++)
		if (sqlite3_prepare_v3(db->db, db->schema->statements[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &db->st[i], NULL) != SQLITE_OK)
			return kt_db_fail(db, "prepare", error);
	return true;
}

static bool ensure_parent_dir(KtDb *db, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(db->path);

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int err = errno;

		set_error(db, error, false, "cannot create directory %s: %s", dir, g_strerror(err));
		return false;
	}
	return true;
}

/* The catalogs hold who attended which lesson: readable by the server's user only, also
 * when an older build (or another umask) made them 0644. SQLite gives the -wal and -shm
 * files it creates the main file's mode. */
static void restrict_mode(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *p = g_strconcat(path, suffixes[i], NULL);

		if (g_chmod(p, 0600) != 0 && errno != ENOENT)
			g_message("%s: cannot make it private (0600): %s", p, g_strerror(errno));
	}
}

KtDb *kt_db_open(const char *path, const KtDbSchema *schema, GError **error)
{
	g_autoptr(KtDb) db = g_new0(KtDb, 1);

	db->path = g_strdup(path);
	db->schema = schema;
	db->st = g_new0(sqlite3_stmt *, schema->n_statements);
	if (!ensure_parent_dir(db, error))
		return NULL;
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		set_error(db, error, false, "cannot open %s: %s", path,
		          db->db ? sqlite3_errmsg(db->db) : "out of memory");
		return NULL;
	}
	restrict_mode(path);
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, KT_DB_BUSY_TIMEOUT_MS);
	/* The first statement also reads the header: a file that is not SQLite fails here
	 * (NOTADB, reported as corrupt). */
	if (!kt_db_exec(db, "PRAGMA journal_mode = WAL", "not a usable database", error) ||
	    !kt_db_exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", "pragmas",
	                error) ||
	    !migrate(db, error) || !prepare_all(db, error))
		return NULL;
	return g_steal_pointer(&db);
}

void kt_db_free(KtDb *db)
{
	if (!db)
		return;
	for (guint i = 0; db->st && i < db->schema->n_statements; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->db);
	g_free(db->st);
	g_free(db->path);
	g_free(db);
}
