/* The audit log in SQLite (opened through kt-db): schema, append, list. See kt-audit.h. */
#define G_LOG_DOMAIN "kt-audit"

#include "kt-audit.h"

#include "kt-api.h"
#include "kt-db.h"

/* migrations[v] takes a database from version v to v + 1. Append only. */
static const char *const migrations[] = {
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " role TEXT NOT NULL,"
    " lesson TEXT NOT NULL DEFAULT '',"
    " address TEXT NOT NULL DEFAULT '',"
    " action TEXT NOT NULL,"
    " object TEXT NOT NULL DEFAULT '',"
    " result TEXT NOT NULL DEFAULT 'ok');"
    "CREATE INDEX audit_at ON audit (at);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
};

typedef enum {
	ST_INSERT,
	ST_LIST,
	ST_COUNT,
	ST_COUNT_ALL,
} KtAuditStatement;

static const char *const statement_sql[ST_COUNT_ALL] = {
    [ST_INSERT] = "INSERT INTO audit (at, role, lesson, address, action, object, result)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_LIST] = "SELECT id, at, role, lesson, address, action, object, result FROM audit"
                " WHERE at >= ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
    [ST_COUNT] = "SELECT count(*) FROM audit WHERE at >= ?1",
};

static const KtDbSchema schema = {
    .migrations = migrations,
    .n_migrations = G_N_ELEMENTS(migrations),
    .statements = statement_sql,
    .n_statements = ST_COUNT_ALL,
};

struct _KtAudit {
	KtDb *db;
};

KtAudit *kt_audit_open(const char *data_dir, GError **error)
{
	g_autofree char *path = g_build_filename(data_dir, KT_AUDIT_FILE, NULL);
	KtDb *db = kt_db_open(path, &schema, error);
	KtAudit *a;

	if (!db)
		return NULL;
	a = g_new0(KtAudit, 1);
	a->db = db;
	return a;
}

void kt_audit_free(KtAudit *a)
{
	if (!a)
		return;
	kt_db_free(a->db);
	g_free(a);
}

bool kt_audit_record(KtAudit *a, const KtAuditEntry *e, GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(a->db, ST_INSERT);

	sqlite3_bind_int64(st, 1, e->at ? e->at : g_get_real_time() / G_USEC_PER_SEC);
	kt_db_bind_text(st, 2, e->role);
	kt_db_bind_text(st, 3, e->lesson);
	kt_db_bind_text(st, 4, e->address);
	kt_db_bind_text(st, 5, e->action);
	kt_db_bind_text(st, 6, e->object);
	kt_db_bind_text(st, 7, e->result ? e->result : "ok");
	return kt_db_run(a->db, st, "audit append", error);
}

void kt_audit_request(KtAudit *a, KtHttpRequest *req, const KtTokenClaims *claims,
                      const char *action, const char *object, const char *result)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *address = NULL;
	KtAuditEntry e;

	if (!a)
		return;
	address = kt_http_request_get_peer_address(req);
	e = (KtAuditEntry){
	    .role = (char *)kt_role_to_string(claims->role),
	    .lesson = (char *)claims->lesson,
	    .address = address,
	    .action = (char *)action,
	    .object = (char *)object,
	    .result = (char *)result,
	};
	if (!kt_audit_record(a, &e, &error))
		g_warning("%s", error->message);
}

bool kt_audit_cli(const char *data_dir, const char *action, const char *object, const char *result)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtAudit) a = kt_audit_open(data_dir, &error);
	g_autofree char *who = g_strconcat("local:", g_get_user_name(), NULL);
	KtAuditEntry e = {
	    .role = "cli",
	    .lesson = "",
	    .address = who,
	    .action = (char *)action,
	    .object = (char *)object,
	    .result = (char *)result,
	};

	if (!a || !kt_audit_record(a, &e, &error)) {
		g_printerr("ketang: audit log: %s\n", error->message);
		return FALSE;
	}
	return TRUE;
}

static gpointer read_entry(sqlite3_stmt *st, gpointer user_data, GError **error)
{
	KtAuditEntry *e = g_new0(KtAuditEntry, 1);

	e->id = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	e->role = kt_db_column_text(st, 2);
	e->lesson = kt_db_column_text(st, 3);
	e->address = kt_db_column_text(st, 4);
	e->action = kt_db_column_text(st, 5);
	e->object = kt_db_column_text(st, 6);
	e->result = kt_db_column_text(st, 7);
	return e;
}

GPtrArray *kt_audit_list(KtAudit *a, gint64 since, guint limit, guint offset, guint *total,
                         GError **error)
{
	sqlite3_stmt *st = kt_db_stmt(a->db, ST_COUNT);
	gint64 n = 0;

	sqlite3_bind_int64(st, 1, since);
	if (!kt_db_read_int64(a->db, st, &n, "audit count", error))
		return NULL;
	if (total)
		*total = (guint)MIN(n, (gint64)G_MAXUINT);
	st = kt_db_stmt(a->db, ST_LIST);
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, limit ? (gint64)limit : -1);
	sqlite3_bind_int64(st, 3, offset);
	return kt_db_read_all(a->db, st, read_entry, NULL, (GDestroyNotify)kt_audit_entry_free,
	                      "audit list", error);
}

json_t *kt_audit_entry_to_json(const KtAuditEntry *e)
{
	return json_pack("{s:I, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "id", (json_int_t)e->id,
	                 "at", kt_api_time_json(e->at), "role", e->role, "lesson", e->lesson,
	                 "address", e->address, "action", e->action, "object", e->object, "result",
	                 e->result);
}

void kt_audit_entry_free(KtAuditEntry *e)
{
	if (!e)
		return;
	g_free(e->role);
	g_free(e->lesson);
	g_free(e->address);
	g_free(e->action);
	g_free(e->object);
	g_free(e->result);
	g_free(e);
}
