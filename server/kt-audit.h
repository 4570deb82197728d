/* The audit log: who did what, when, to lessons and the archive (docs/security.md).
 *
 * One row per admin action (lesson create, recording delete or import, a token minted by the
 * CLI, an admin reading a lesson with fresh join links) and per archive access (a listing or
 * search, a recording's details, a download or replay of its media). Each row holds when
 * (Unix seconds, shown in UTC), who (the token's role and lesson and the client address; for
 * the CLI, "cli" and the local user name), what (an action name and its object) and how it
 * ended ("ok" or the error code answered). Never a token, never a header.
 *
 * Stored in SQLite (data_dir/audit.db through kt-db: its own file, so that the catalogs can be
 * restored or deleted without touching it, mode 0600). Append-only: triggers refuse UPDATE and
 * DELETE, so neither a bug here nor a hand-edit through the sqlite3 shell rewrites history
 * without dropping them first. The server never prunes it.
 *
 * Ownership: KtAudit owns its connection; entries from kt_audit_list are the caller's.
 * Threads: one KtAudit per thread (in the server: the control loop). The server and a CLI
 * command may write the same file at once (WAL, busy timeout). */
#pragma once

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "kt-http.h"
#include "kt-token.h"

#define KT_AUDIT_FILE "audit.db"

typedef struct _KtAudit KtAudit;

typedef struct {
	gint64 id;     /* ascending in insertion order; 0 when recording */
	gint64 at;     /* Unix seconds; 0 when recording = now */
	char *role;    /* "admin", "archivist", ... or "cli" */
	char *lesson;  /* the token's lesson, "" for none */
	char *address; /* client IP address, or "local:USER" for the CLI */
	char *action;  /* "lesson.create", "recording.delete", "recording.media", ... */
	char *object;  /* "lesson/ID", "recording/ID", "recordings?q=..." */
	char *result;  /* "ok" or the error code */
} KtAuditEntry;

/* Opens (creating) DATA_DIR/audit.db. */
KtAudit *kt_audit_open(const char *data_dir, GError **error);
/* NULL is allowed. */
void kt_audit_free(KtAudit *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtAudit, kt_audit_free)

/* Appends @e (its id is ignored; at 0 = now). */
bool kt_audit_record(KtAudit *a, const KtAuditEntry *e, GError **error);

/* Appends a row for an HTTP request made with @claims: the role, lesson and client address
 * come from them; result NULL = "ok". A failure to write is logged, not returned: the
 * request it describes has already been answered. @a NULL does nothing. */
void kt_audit_request(KtAudit *a, KtHttpRequest *req, const KtTokenClaims *claims,
                      const char *action, const char *object, const char *result);

/* Appends a row for a CLI command run by the local user. Logged on failure, like
 * kt_audit_request; returns FALSE then. */
bool kt_audit_cli(const char *data_dir, const char *action, const char *object, const char *result);

/* Rows with at >= @since, oldest first, skipping @offset, at most @limit (0 = all); *@total
 * (may be NULL) = how many rows have at >= @since. Elements: KtAuditEntry, freed with the
 * array. */
GPtrArray *kt_audit_list(KtAudit *a, gint64 since, guint limit, guint offset, guint *total,
                         GError **error);

/* {"id", "at" (ISO 8601 UTC), "role", "lesson", "address", "action", "object", "result"};
 * NULL if a text is not UTF-8 (a hand-made row). */
json_t *kt_audit_entry_to_json(const KtAuditEntry *e);

void kt_audit_entry_free(KtAuditEntry *e);
