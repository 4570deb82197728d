/* Pieces shared by the REST APIs (kt-api-lessons, kt-api-recordings): list paging and the
 * JSON form of times. Authorization is kt-auth.h.
 *
 * Each kt_api_read_* that fails has answered the request (400, naming the query argument)
 * and returns FALSE. Returned json_t are new references.
 * Threads: control loop only (as every KtHttpRequest call). */
#pragma once

#include <jansson.h>

#include "kt-http.h"

#define KT_API_LIST_LIMIT_DEFAULT 50

/* ?limit= and ?offset= of a list request. */
typedef struct {
	guint limit;
	guint offset;
} KtApiPage;

/* Reads ?limit= (1 to @max_limit, default KT_API_LIST_LIMIT_DEFAULT) and ?offset= (0 to
 * G_MAXINT32, default 0). */
gboolean kt_api_read_page(KtHttpRequest *req, guint max_limit, KtApiPage *page);

/* Answers 200 with {"@name": @items, "total": @total, "limit": ..., "offset": ...}. Takes
 * @items. */
void kt_api_respond_page(KtHttpRequest *req, const char *name, json_t *items, guint total,
                         const KtApiPage *page);

/* @unix_time as ISO 8601 UTC ("2026-11-24T00:00:00Z"); null for 0 or less ("not yet"). */
json_t *kt_api_time_json(gint64 unix_time);
