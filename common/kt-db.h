/* SQLite plumbing shared by Ketang's catalogs (the lesson store, the recordings catalog):
 * opening a file the way every catalog wants it, versioned migrations, statements prepared
 * once, and SQLite failures turned into GErrors.
 *
 * kt_db_open creates the file's directory (mode 0700) and the file (mode 0600, also set on
 * an existing file and its -wal/-shm: the server's user alone reads a catalog), then sets up the
 * connection: extended result codes, a 5 s busy timeout, WAL journal with synchronous =
 * NORMAL (a CLI writes while the server reads; durable across process crashes, which is what
 * matters here) and foreign keys. The schema carries a version (table schema_version):
 * migrations[v] takes a file from version v to v + 1, all of them in one BEGIN IMMEDIATE
 * transaction so that two processes opening a new file together do not both migrate it; a
 * file of a newer version is refused. Then every statement is prepared, once.
 *
 * Errors: every failure is reported in the domain the KtDbSchema names, with its "corrupt"
 * code (not an SQLite file, a damaged one, or a newer schema) or its "io" code (anything
 * else: cannot create, open or write, busy, disk full), so each store keeps its own error
 * domain. Messages begin with the database path.
 *
 * Ownership: KtDb owns the connection and the prepared statements; kt_db_free finalizes and
 * closes them. The schema (and the SQL it points to) is borrowed and must outlive the KtDb
 * (stores keep theirs in static storage). kt_db_stmt returns a borrowed statement: bind it,
 * step it, then kt_db_reset it. Strings returned are the caller's (g_free).
 * Threads: one KtDb is used by one thread at a time (in Ketang: the control loop). Calls do
 * blocking file I/O and may wait up to the busy timeout for another process's write lock. */
#pragma once

#include <glib.h>
#include <sqlite3.h>
#include <stdbool.h>

#define KT_DB_ERROR (kt_db_error_quark())
GQuark kt_db_error_quark(void);

/* The default codes, for a schema that names no domain of its own. */
typedef enum {
	KT_DB_ERROR_CORRUPT, /* not a database, damaged, or a newer schema */
	KT_DB_ERROR_IO,      /* cannot create/open/write the file, busy, disk full */
} KtDbError;

typedef struct {
	const char *const *migrations; /* migrations[v]: version v -> v + 1; append only */
	guint n_migrations;            /* = the schema version this build writes */
	const char *const *statements; /* prepared at open; kt_db_stmt(db, i) runs statements[i] */
	guint n_statements;
	GQuark (*error_domain)(void); /* NULL: KT_DB_ERROR and the KtDbError codes */
	int error_corrupt;
	int error_io;
} KtDbSchema;

typedef struct _KtDb KtDb;

/* Opens (creating it and its directory if needed), migrates and prepares the database at
 * @path. NULL with the schema's corrupt code when the file is not a database of this schema
 * or has a newer version, its io code when it cannot be opened. */
KtDb *kt_db_open(const char *path, const KtDbSchema *schema, GError **error);
/* NULL is allowed. */
void kt_db_free(KtDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtDb, kt_db_free)

/* The prepared statement statements[@i], borrowed; reset after use (kt_db_reset). */
sqlite3_stmt *kt_db_stmt(KtDb *db, guint i);

/* Sets @error from the connection's last failure: "PATH: @what: SQLite's message". Returns
 * false, so that callers can `return kt_db_fail(...)`. */
bool kt_db_fail(KtDb *db, const char *what, GError **error);

/* Runs @sql (one or more statements, nothing to read back). */
bool kt_db_exec(KtDb *db, const char *sql, const char *what, GError **error);

/* Steps @st to completion (a write) and resets it. */
bool kt_db_run(KtDb *db, sqlite3_stmt *st, const char *what, GError **error);

/* Steps @st to its one row, stores column 0 in *@out (a count) and resets it. */
bool kt_db_read_int64(KtDb *db, sqlite3_stmt *st, gint64 *out, const char *what, GError **error);

/* Reads the current row of @st into a new object; NULL with @error set on failure. */
typedef gpointer (*KtDbReadFunc)(sqlite3_stmt *st, gpointer user_data, GError **error);

/* Steps @st through all its rows, reading each with @read into a new array that frees its
 * elements with @free_func; resets @st. NULL on error. */
GPtrArray *kt_db_read_all(KtDb *db, sqlite3_stmt *st, KtDbReadFunc read, gpointer user_data,
                          GDestroyNotify free_func, const char *what, GError **error);

/* A write transaction (BEGIN IMMEDIATE: takes the write lock now, or fails after the busy
 * timeout). kt_db_rollback does nothing outside a transaction. */
bool kt_db_begin(KtDb *db, GError **error);
bool kt_db_commit(KtDb *db, GError **error);
void kt_db_rollback(KtDb *db);

/* What the last INSERT / UPDATE / DELETE on @db did. */
gint64 kt_db_last_insert_rowid(KtDb *db);
gint64 kt_db_changes(KtDb *db);

/* Resets @st and clears its bindings, ready for the next use. */
void kt_db_reset(sqlite3_stmt *st);

/* Binds @text (NULL binds ""). The text must stay valid until the statement is reset. */
void kt_db_bind_text(sqlite3_stmt *st, int i, const char *text);
/* Binds @text, or leaves parameter @i NULL when @text is NULL or "". */
void kt_db_bind_text_or_null(sqlite3_stmt *st, int i, const char *text);

/* Column @i as a new string; NULL reads as "". */
char *kt_db_column_text(sqlite3_stmt *st, int i);
/* Column @i, or @if_null when it is NULL. */
gint64 kt_db_column_int64_or(sqlite3_stmt *st, int i, gint64 if_null);
