/* The archive API (signaling/PROTOCOL.md, "Archive API"):
 *
 *   GET    /api/recordings             archivist, admin   list (filters, paging)
 *   GET    /api/recordings/{id}        archivist, admin   one recording with its chapters
 *   GET    /api/recordings/{id}/media  archivist, admin   the file, with HTTP Range
 *   HEAD   /api/recordings/{id}/media  archivist, admin
 *   DELETE /api/recordings/{id}        admin              file and row
 *
 * Tokens come as "Authorization: Bearer T". The media URL alone also takes "?token=T":
 * a <video> element or a download link cannot send headers. The HTTP module never logs
 * query strings, so the token stays out of logs; responses carry Referrer-Policy:
 * no-referrer so it does not leak onwards either.
 *
 * Retention: with [server] retention_days > 0, kt_api_recordings_new deletes expired
 * recordings at once and then every 24 hours (kt_recordings_expire), on the thread-default
 * main context of the caller (the control loop).
 *
 * Ownership: KtApiRecordings borrows the store, the secret and the settings (all must
 * outlive it); kt_api_recordings_free frees only itself (and stops the retention timer).
 * The route table is owned by the API object (kt_http_server_new copies it). Returned
 * json_t and strings are new (json_decref, g_free).
 * Threads: control loop only. */
#pragma once

#include <jansson.h>

#include "kt-audit.h"
#include "kt-config.h"
#include "kt-http.h"
#include "kt-recordings.h"

#define KT_RECORDINGS_LIST_LIMIT_MAX 500 /* GET /api/recordings?limit= */

typedef struct _KtApiRecordings KtApiRecordings;

/* @audit (borrowed, may be NULL) gets a row per listing, read, delete and media access (once
 * per playback: requests without Range or whose Range starts at byte 0). */
KtApiRecordings *kt_api_recordings_new(KtRecordings *store, const guint8 *secret, gsize secret_len,
                                       const KtSettings *settings, KtAudit *audit);
void kt_api_recordings_free(KtApiRecordings *api); /* NULL is allowed */

/* The routes to add to the server's table; *n_out gets their number. */
const KtHttpRoute *kt_api_recordings_routes(KtApiRecordings *api, guint *n_out);

/* The recording as JSON (times ISO 8601 UTC, duration_ms null when unknown, media_url),
 * with a "chapters" array when @chapters (KtRecordingChapter *) is not NULL. */
json_t *kt_api_recordings_to_json(const KtRecordingInfo *info, GPtrArray *chapters);

/* The file name offered for download: "YYYY-MM-DD title stream.ext" with characters that
 * are unsafe in file names replaced by '_' (UTF-8 kept). */
char *kt_api_recordings_download_name(const KtRecordingInfo *info);
