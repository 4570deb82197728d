/* `ketang audit [--since TIME] [--data-dir DIR]`: prints the audit log (kt-audit.h), one JSON
 * object per line, oldest first: {"id", "at" (ISO 8601, UTC), "role", "lesson", "address",
 * "action", "object", "result"}. TIME is Unix seconds or ISO 8601 with an offset, as
 * starts_at in the lessons API. Reading the log is itself logged (action "audit.read").
 *
 * Threads: main thread of the CLI process; blocking file I/O. */
#pragma once

#include "kt-config.h"

/* Returns the exit status: 0 ok, 1 the log cannot be read, 2 a bad --since. */
int kt_cli_audit_run(const char *since, const KtSettings *settings);
