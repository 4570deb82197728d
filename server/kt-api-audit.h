/* GET /api/audit (admin): the audit log (kt-audit.h) over HTTP.
 *
 * ?since= (Unix seconds or ISO 8601 with an offset, as starts_at in the lessons API),
 * ?limit= (1-1000, default 50) and ?offset= page through the rows, oldest first:
 * {"entries": [{id, at, role, lesson, address, action, object, result}], "total", "limit",
 * "offset"}. 401 without a valid token, 403 for any role but admin. Each read is itself a
 * row (action "audit.read").
 *
 * Ownership: the audit log and the secret are borrowed and outlive the KtApiAudit.
 * Threads: control loop only. */
#pragma once

#include "kt-audit.h"
#include "kt-http.h"

typedef struct _KtApiAudit KtApiAudit;

KtApiAudit *kt_api_audit_new(KtAudit *audit, const guint8 *secret, gsize secret_len);
void kt_api_audit_free(KtApiAudit *api); /* NULL is allowed */

/* The route to register with the HTTP server; borrowed from @api. */
const KtHttpRoute *kt_api_audit_route(KtApiAudit *api);
