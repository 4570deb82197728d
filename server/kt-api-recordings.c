/* The archive API: listing, reading, streaming and deleting recordings; retention timer. */
#define G_LOG_DOMAIN "kt-api-recordings"

#include "kt-api-recordings.h"
#include "kt-api-recordings-private.h"

#include <string.h>

#include "kt-api.h"
#include "kt-api-lessons.h"
#include "kt-auth.h"

#define KT_API_RECORDINGS_PREFIX "/api/recordings/"
#define KT_RETENTION_PERIOD_S (24 * 3600)

struct _KtApiRecordings {
	KtRecordings *store;
	const guint8 *secret;
	gsize secret_len;
	const KtSettings *settings;
	KtAudit *audit; /* borrowed, may be NULL */
	GSource *retention;
	KtHttpRoute routes[2];
};

/* ---- JSON ---- */

/* Strings from the catalog may come from anywhere (the CLI): invalid UTF-8 becomes "". */
static json_t *text_json(const char *s)
{
	json_t *v = json_string(s ? s : "");

	return v ? v : json_string("");
}

static json_t *chapters_json(GPtrArray *chapters)
{
	json_t *arr = json_array();

	for (guint i = 0; i < chapters->len; i++) {
		const KtRecordingChapter *c = chapters->pdata[i];

		json_array_append_new(arr, json_pack("{s:I, s:o}", "at_ms", (json_int_t)c->at_ms,
		                                     "title", text_json(c->title)));
	}
	return arr;
}

json_t *kt_api_recordings_to_json(const KtRecordingInfo *info, GPtrArray *chapters)
{
	json_t *out = json_object();
	json_t *rooms = json_array();
	g_autofree char *media =
	    g_strdup_printf(KT_API_RECORDINGS_PREFIX "%" G_GINT64_FORMAT "/media", info->id);
	g_autofree char *name = g_path_get_basename(info->file);

	json_object_set_new(out, "id", json_integer(info->id));
	json_object_set_new(out, "lesson", text_json(info->lesson));
	json_object_set_new(out, "title", text_json(info->title));
	json_object_set_new(out, "subject", text_json(info->subject));
	json_object_set_new(out, "grade", text_json(info->grade));
	json_object_set_new(out, "teacher", text_json(info->teacher));
	for (guint i = 0; info->classrooms && info->classrooms[i]; i++)
		json_array_append_new(rooms, text_json(info->classrooms[i]));
	json_object_set_new(out, "classrooms", rooms);
	json_object_set_new(out, "started_at", kt_api_time_json(info->started_at));
	json_object_set_new(out, "ended_at", kt_api_time_json(info->ended_at));
	json_object_set_new(out, "duration_ms",
	                    info->duration_ms >= 0 ? json_integer(info->duration_ms) : json_null());
	json_object_set_new(out, "size_bytes", json_integer(info->size_bytes));
	json_object_set_new(out, "kind", text_json(info->kind));
	json_object_set_new(out, "stream", text_json(info->stream));
	json_object_set_new(out, "file_name", text_json(name));
	json_object_set_new(out, "mime", text_json(info->mime));
	json_object_set_new(
	    out, "sha256", info->sha256 && *info->sha256 ? json_string(info->sha256) : json_null());
	json_object_set_new(out, "state", text_json(info->state));
	json_object_set_new(out, "media_url", json_string(media));
	if (chapters)
		json_object_set_new(out, "chapters", chapters_json(chapters));
	return out;
}

char *kt_api_recordings_download_name(const KtRecordingInfo *info)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(MAX(info->started_at, 0));
	g_autofree char *day = t ? g_date_time_format(t, "%Y-%m-%d") : g_strdup("recording");
	const char *dot = strrchr(info->file, '.');
	const char *ext = dot && !strchr(dot, '/') ? dot : "";
	GString *name = g_string_new(day);

	g_string_append_printf(name, " %s %s", *info->title ? info->title : info->lesson,
	                       info->stream);
	if (!g_utf8_validate(name->str, -1, NULL)) {
		g_string_assign(name, day);
		g_string_append_printf(name, " %" G_GINT64_FORMAT, info->id);
	}
	/* Path separators, quotes and control characters make unsafe or ambiguous names. */
	for (gsize i = 0; i < name->len; i++)
		if (strchr("/\\\"*:<>?|%", name->str[i]) || (guchar)name->str[i] < 0x20 ||
		    name->str[i] == 0x7f)
			name->str[i] = '_';
	g_string_append(name, ext);
	return g_string_free(name, FALSE);
}

/* Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 §4.3, RFC 8187). */
static char *content_disposition(const KtRecordingInfo *info)
{
	g_autofree char *name = kt_api_recordings_download_name(info);
	g_autofree char *encoded = g_uri_escape_string(name, NULL, FALSE);
	g_autofree char *ascii = g_strdup(name);

	for (char *p = ascii; *p; p++)
		if ((guchar)*p >= 0x80)
			*p = '_';
	return g_strdup_printf("attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, encoded);
}

/* ---- authorization ---- */

/* Archivists and admins read; only admins with @admin_only. @allow_query: the media URL,
 * where "?token=" stands in for the header a player cannot send. */
static gboolean authorize(KtApiRecordings *api, KtHttpRequest *req, gboolean admin_only,
                          gboolean allow_query, KtTokenClaims *claims)
{
	static const KtRole readers[] = {KT_ROLE_ARCHIVIST, KT_ROLE_ADMIN, KT_ROLE_NONE};
	static const KtRole admin[] = {KT_ROLE_ADMIN, KT_ROLE_NONE};
	g_autofree char *auth = kt_http_request_get_header(req, "authorization");
	g_autofree char *token =
	    !auth && allow_query ? kt_http_request_get_query(req, "token") : NULL;

	if (token ? !kt_auth_check_token(req, api->secret, api->secret_len, token, claims)
	          : !kt_auth_check_bearer(req, api->secret, api->secret_len, claims))
		return FALSE;
	return kt_auth_check_role(req, claims, admin_only ? admin : readers);
}

/* "recording/ID": a recording as the audit log names it. */
static char *audit_object(gint64 id)
{
	return g_strdup_printf("recording/%" G_GINT64_FORMAT, id);
}

/* The error code respond_store_error answers @error with, for the audit log. */
static const char *store_error_code(GError *error)
{
	return g_error_matches(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND)
	           ? "not-found"
	           : "storage-error";
}

static void respond_store_error(KtHttpRequest *req, GError *error)
{
	if (g_error_matches(error, KT_RECORDINGS_ERROR, KT_RECORDINGS_ERROR_NOT_FOUND)) {
		kt_http_request_respond_error(req, 404, "not-found", "%s", error->message);
		return;
	}
	g_warning("recordings catalog: %s", error->message);
	kt_http_request_respond_error(req, 500, "storage-error", "the recordings catalog failed");
}

/* ---- GET /api/recordings ---- */

/* from= / to=: Unix seconds or ISO 8601 with a UTC offset, as starts_at in the lessons API. */
static gboolean query_time(KtHttpRequest *req, const char *name, gint64 *out)
{
	g_autofree char *v = kt_http_request_get_query(req, name);

	*out = 0;
	if (!v || !*v)
		return TRUE;
	if (kt_api_lessons_parse_time(v, out, NULL))
		return TRUE;
	kt_http_request_respond_error(req, 400, "bad-request",
	                              "%s: not Unix seconds nor ISO 8601 with an offset "
	                              "(2026-11-24T08:00+08:00)",
	                              name);
	return FALSE;
}

/* The query's filter strings, owned here for the duration of a request. */
typedef struct {
	char *values[6];
	KtRecordingFilter filter;
} ListQuery;

static void list_query_clear(ListQuery *q)
{
	for (guint i = 0; i < G_N_ELEMENTS(q->values); i++)
		g_free(q->values[i]);
}

static const char *const filter_names[] = {"lesson", "teacher", "subject", "grade", "kind", "q"};

/* "recordings?lesson=..&q=..": what was searched, for the audit log (escaped as in a URL). */
static char *list_query_describe(const ListQuery *q)
{
	GString *s = g_string_new("recordings");
	char sep = '?';

	for (guint i = 0; i < G_N_ELEMENTS(filter_names); i++) {
		if (!q->values[i] || !*q->values[i])
			continue;
		g_string_append_printf(s, "%c%s=", sep, filter_names[i]);
		g_string_append_uri_escaped(s, q->values[i], NULL, TRUE);
		sep = '&';
	}
	return g_string_free(s, FALSE);
}

static gboolean read_filter(KtHttpRequest *req, ListQuery *q)
{
	for (guint i = 0; i < G_N_ELEMENTS(filter_names); i++)
		q->values[i] = kt_http_request_get_query(req, filter_names[i]);
	q->filter = (KtRecordingFilter){.lesson = q->values[0],
	                                .teacher = q->values[1],
	                                .subject = q->values[2],
	                                .grade = q->values[3],
	                                .kind = q->values[4],
	                                .text = q->values[5]};
	if (q->filter.kind && *q->filter.kind && strcmp(q->filter.kind, "program") != 0 &&
	    strcmp(q->filter.kind, "source") != 0) {
		kt_http_request_respond_error(req, 400, "bad-request",
		                              "kind: must be program or source");
		return FALSE;
	}
	return query_time(req, "from", &q->filter.from) && query_time(req, "to", &q->filter.to);
}

static void handle_list(KtHttpRequest *req, gpointer user_data)
{
	KtApiRecordings *api = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	ListQuery q = {0};
	g_autofree char *search = NULL;
	KtApiPage page;
	guint total = 0;
	KtTokenClaims claims;
	json_t *arr;

	if (!authorize(api, req, FALSE, FALSE, &claims) || !read_filter(req, &q) ||
	    !kt_api_read_page(req, KT_RECORDINGS_LIST_LIMIT_MAX, &page)) {
		list_query_clear(&q);
		return;
	}
	rows = kt_recordings_list(api->store, &q.filter, page.limit, page.offset, &total, &error);
	search = list_query_describe(&q);
	kt_audit_request(api->audit, req, &claims, "recording.list", search,
	                 rows ? NULL : store_error_code(error));
	list_query_clear(&q);
	if (!rows) {
		respond_store_error(req, error);
		return;
	}
	arr = json_array();
	for (guint i = 0; i < rows->len; i++)
		json_array_append_new(arr, kt_api_recordings_to_json(rows->pdata[i], NULL));
	kt_api_respond_page(req, "recordings", arr, total, &page);
}

/* ---- /api/recordings/{id}[/media] ---- */

static void handle_get(KtApiRecordings *api, KtHttpRequest *req, const KtRecordingInfo *info,
                       const KtTokenClaims *claims)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) chapters = kt_recordings_chapters(api->store, info->id, &error);
	g_autofree char *object = audit_object(info->id);
	json_t *out;

	kt_audit_request(api->audit, req, claims, "recording.read", object,
	                 chapters ? NULL : store_error_code(error));
	if (!chapters) {
		respond_store_error(req, error);
		return;
	}
	out = kt_api_recordings_to_json(info, chapters);
	kt_http_request_respond_json(req, 200, out);
	json_decref(out);
}

/* One audit row per playback or download, not per Range request of a player seeking. */
static gboolean starts_a_read(KtHttpRequest *req)
{
	g_autofree char *range = kt_http_request_get_header(req, "range");

	return !range || g_str_has_prefix(range, "bytes=0-");
}

static void handle_media(KtApiRecordings *api, KtHttpRequest *req, const KtRecordingInfo *info,
                         const KtTokenClaims *claims)
{
	g_autofree char *path = kt_recordings_path(api->store, info);
	g_autofree char *download = kt_http_request_get_query(req, "download");
	g_autofree char *disposition =
	    download && strcmp(download, "1") == 0 ? content_disposition(info) : NULL;
	/* nosniff and no-referrer come with every response (kt-http-security.c). */
	const char *headers[] = {"Cache-Control", "private, no-cache",
	                         disposition ? "Content-Disposition" : NULL, disposition, NULL};

	if (kt_http_request_get_method(req) == KT_HTTP_GET && starts_a_read(req)) {
		g_autofree char *object = audit_object(info->id);

		kt_audit_request(api->audit, req, claims,
		                 disposition ? "recording.download" : "recording.media", object,
		                 NULL);
	}
	/* A recording still being written is served as far as it got: fragmented MP4 plays. */
	kt_http_request_respond_file(req, path, *info->mime ? info->mime : NULL, headers);
}

static void handle_delete(KtApiRecordings *api, KtHttpRequest *req, gint64 id,
                          const KtTokenClaims *claims)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *object = audit_object(id);
	gboolean ok = kt_recordings_delete(api->store, id, &error);

	kt_audit_request(api->audit, req, claims, "recording.delete", object,
	                 ok ? NULL : store_error_code(error));
	if (!ok) {
		respond_store_error(req, error);
		return;
	}
	g_message("recording %" G_GINT64_FORMAT " deleted through the API", id);
	kt_http_request_respond(req, 204, NULL, NULL, NULL, 0);
}

gboolean kt_api_recordings_parse_item_path(const char *rest, gint64 *id, gboolean *media)
{
	gsize n = strspn(rest, "0123456789");
	guint64 v;
	g_autofree char *digits = g_strndup(rest, n);

	*media = strcmp(rest + n, "/media") == 0;
	if (n == 0 || n > 18 || (rest[n] != '\0' && !*media))
		return FALSE;
	if (!g_ascii_string_to_unsigned(digits, 10, 1, G_MAXINT64, &v, NULL))
		return FALSE;
	*id = (gint64)v;
	return TRUE;
}

static void handle_item(KtHttpRequest *req, gpointer user_data)
{
	KtApiRecordings *api = user_data;
	KtHttpMethod method = kt_http_request_get_method(req);
	const char *rest = kt_http_request_get_path(req) + strlen(KT_API_RECORDINGS_PREFIX);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtRecordingInfo) info = NULL;
	gboolean media = FALSE;
	KtTokenClaims claims;
	gint64 id = 0;

	if (!kt_api_recordings_parse_item_path(rest, &id, &media)) {
		kt_http_request_respond_error(req, 404, "not-found", "not a recording path");
		return;
	}
	if ((method == KT_HTTP_DELETE && media) || (method == KT_HTTP_HEAD && !media)) {
		static const char body[] =
		    "{\"error\":\"method_not_allowed\",\"message\":\"not allowed on this path\"}";
		const char *allow[] = {"Allow", media ? "GET, HEAD" : "GET, DELETE", NULL};
		kt_http_request_respond(req, 405, "application/json", allow, body, strlen(body));
		return;
	}
	if (!authorize(api, req, method == KT_HTTP_DELETE, media, &claims))
		return;
	if (method == KT_HTTP_DELETE) {
		handle_delete(api, req, id, &claims);
		return;
	}
	info = kt_recordings_get(api->store, id, &error);
	if (!info) {
		g_autofree char *object = audit_object(id);

		kt_audit_request(api->audit, req, &claims,
		                 media ? "recording.media" : "recording.read", object,
		                 store_error_code(error));
		respond_store_error(req, error);
	} else if (media) {
		handle_media(api, req, info, &claims);
	} else {
		handle_get(api, req, info, &claims);
	}
}

/* ---- retention and lifecycle ---- */

static gboolean on_retention(gpointer data)
{
	KtApiRecordings *api = data;
	g_autoptr(GError) error = NULL;

	if (!kt_recordings_expire(api->store, g_get_real_time() / G_USEC_PER_SEC,
	                          api->settings->retention_days, &error))
		g_warning("retention: %s", error->message);
	return G_SOURCE_CONTINUE;
}

KtApiRecordings *kt_api_recordings_new(KtRecordings *store, const guint8 *secret, gsize secret_len,
                                       const KtSettings *settings, KtAudit *audit)
{
	KtApiRecordings *api = g_new0(KtApiRecordings, 1);

	api->audit = audit;
	api->store = store;
	api->secret = secret;
	api->secret_len = secret_len;
	api->settings = settings;
	api->routes[0] =
	    (KtHttpRoute){"/api/recordings", TRUE, KT_HTTP_GET, FALSE, 0, handle_list, api};
	api->routes[1] = (KtHttpRoute){KT_API_RECORDINGS_PREFIX,
	                               FALSE,
	                               KT_HTTP_GET | KT_HTTP_HEAD | KT_HTTP_DELETE,
	                               FALSE,
	                               0,
	                               handle_item,
	                               api};
	if (settings->retention_days > 0) {
		on_retention(api);
		api->retention = g_timeout_source_new_seconds(KT_RETENTION_PERIOD_S);
		g_source_set_callback(api->retention, on_retention, api, NULL);
		g_source_attach(api->retention, g_main_context_get_thread_default());
	}
	return api;
}

void kt_api_recordings_free(KtApiRecordings *api)
{
	if (!api)
		return;
	if (api->retention) {
		g_source_destroy(api->retention);
		g_source_unref(api->retention);
	}
	g_free(api);
}

const KtHttpRoute *kt_api_recordings_routes(KtApiRecordings *api, guint *n_out)
{
	*n_out = G_N_ELEMENTS(api->routes);
	return api->routes;
}
