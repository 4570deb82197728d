/* The lessons REST API: JSON views and the HTTP handlers (the create request's parser is
 * kt-api-lessons-parse.c). */
#include "kt-api-lessons.h"

#include "kt-ingest.h"

#include <string.h>

#include "kt-api.h"
#include "kt-auth.h"

#define KT_API_LESSONS_PREFIX "/api/lessons/"
/* Join links stay valid through the lesson day even when scheduled far ahead. */
#define KT_LINK_GRACE_SECONDS (24 * 3600)

struct _KtApiLessons {
	KtLessonStore *store;
	const guint8 *secret;
	gsize secret_len;
	const KtSettings *settings;
	KtAudit *audit; /* borrowed, may be NULL */
	KtHttpRoute routes[2];
};

/* ---- JSON views ---- */

/* "BASE/PAGE#lesson=ID&token=T[&room=NAME]", NAME percent-encoded. */
static char *join_link(const char *base, const char *page, const char *id, const char *token,
                       const char *room)
{
	g_autofree char *esc = room ? g_uri_escape_string(room, NULL, FALSE) : NULL;

	return g_strdup_printf("%s/%s#lesson=%s&token=%s%s%s", base, page, id, token,
	                       esc ? "&room=" : "", esc ? esc : "");
}

static bool add_links(json_t *out, const KtLessonInfo *info, const char *base, const guint8 *secret,
                      gsize secret_len, gint64 expires, GError **error)
{
	g_autofree char *teacher = NULL;
	g_autofree char *observer = NULL;
	g_autofree char *teacher_url = NULL;
	g_autofree char *observer_url = NULL;
	g_autofree char *broadcast_url = NULL;
	g_autofree char *program_url = NULL;
	json_t *rooms = json_array();

	json_object_set_new(out, "classroom_urls", rooms);
	teacher = kt_token_mint(secret, secret_len, info->id, KT_ROLE_TEACHER, expires, error);
	observer = kt_token_mint(secret, secret_len, info->id, KT_ROLE_OBSERVER, expires, error);
	if (!teacher || !observer)
		return false;
	teacher_url = join_link(base, "teacher", info->id, teacher, NULL);
	json_object_set_new(out, "teacher_url", json_string(teacher_url));
	for (guint i = 0; info->classrooms[i]; i++) {
		g_autofree char *token =
		    kt_token_mint(secret, secret_len, info->id, KT_ROLE_CLASSROOM, expires, error);
		g_autofree char *url = NULL;

		if (!token)
			return false;
		url = join_link(base, "classroom", info->id, token, info->classrooms[i]);
		json_array_append_new(
		    rooms, json_pack("{s:s, s:s}", "name", info->classrooms[i], "url", url));
	}
	observer_url = join_link(base, "watch", info->id, observer, NULL);
	json_object_set_new(out, "observer_url", json_string(observer_url));
	/* The same page playing the HLS broadcast: for large audiences. */
	broadcast_url = g_strconcat(observer_url, "&mode=hls", NULL);
	json_object_set_new(out, "broadcast_url", json_string(broadcast_url));
	/* The program over WebRTC: the same picture, under a second behind. */
	program_url = g_strconcat(observer_url, "&mode=program", NULL);
	json_object_set_new(out, "program_url", json_string(program_url));
	json_object_set_new(out, "links_expire_at", kt_api_time_json(expires));
	return true;
}

/* The URL without its user:password: this JSON goes to pages and logs. */
static json_t *feeds_json(const KtLessonInfo *info)
{
	json_t *out = json_array();

	for (guint i = 0; info->feeds && info->feeds[i]; i++) {
		const KtLessonFeedInfo *f = info->feeds[i];
		g_autofree char *url = kt_ingest_safe_url(f->url);

		json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "role", f->role, "name",
		                                     f->name, "url", url));
	}
	return out;
}

json_t *kt_api_lessons_to_json(const KtLessonInfo *info, const char *base, const guint8 *secret,
                               gsize secret_len, gint64 token_ttl, GError **error)
{
	json_t *out = json_object();
	json_t *rooms = json_array();
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	json_object_set_new(out, "id", json_string(info->id));
	json_object_set_new(out, "title", json_string(info->title));
	json_object_set_new(out, "subject", json_string(info->subject));
	json_object_set_new(out, "grade", json_string(info->grade));
	json_object_set_new(out, "teacher", json_string(info->teacher));
	json_object_set_new(out, "starts_at", kt_api_time_json(info->starts_at));
	json_object_set_new(out, "state", json_string(info->state));
	json_object_set_new(out, "created_at", kt_api_time_json(info->created_at));
	json_object_set_new(out, "started_at", kt_api_time_json(info->started_at));
	json_object_set_new(out, "ended_at", kt_api_time_json(info->ended_at));
	for (guint i = 0; info->classrooms && info->classrooms[i]; i++)
		json_array_append_new(rooms, json_string(info->classrooms[i]));
	json_object_set_new(out, "classrooms", rooms);
	json_object_set_new(out, "record", json_boolean(!info->no_recording));
	json_object_set_new(out, "broadcast_public", json_boolean(info->broadcast_public));
	json_object_set_new(out, "sources", feeds_json(info));
	if (base &&
	    !add_links(out, info, base, secret, secret_len,
	               MAX(info->starts_at + KT_LINK_GRACE_SECONDS, now + token_ttl), error)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *kt_api_lessons_attendance_json(GPtrArray *rows)
{
	json_t *arr = json_array();

	for (guint i = 0; i < rows->len; i++) {
		const KtAttendanceInfo *a = rows->pdata[i];
		json_t *row =
		    json_pack("{s:s, s:s, s:s, s:o, s:o}", "participant", a->participant, "role",
		              a->role, "name", a->name, "joined_at", kt_api_time_json(a->joined_at),
		              "left_at", kt_api_time_json(a->left_at));

		json_object_set_new(row, "bitrate_kbps",
		                    a->bitrate_kbps >= 0 ? json_integer(a->bitrate_kbps)
		                                         : json_null());
		json_object_set_new(row, "loss_pct",
		                    a->loss_pct >= 0 ? json_real(a->loss_pct) : json_null());
		json_object_set_new(row, "rtt_ms",
		                    a->rtt_ms >= 0 ? json_integer(a->rtt_ms) : json_null());
		json_array_append_new(arr, row);
	}
	return arr;
}

/* ---- handlers ---- */

/* The base of join links: [server] public_url, else https:// + Host. NULL (after a 400)
 * when the Host header is missing or not a plain host[:port]. */
static char *link_base(KtApiLessons *api, KtHttpRequest *req)
{
	const char *pub = api->settings->public_url;
	g_autofree char *host = NULL;
	gsize len;

	if (pub && *pub) {
		len = strlen(pub);
		while (len > 0 && pub[len - 1] == '/')
			len--;
		return g_strndup(pub, len);
	}
	host = kt_http_request_get_header(req, "host");
	if (!host || !host[0] || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
	        strlen(host)) {
		kt_http_request_respond_error(req, 400, "bad-host",
		                              "no usable Host header to build join links from (set "
		                              "[server] public_url)");
		return NULL;
	}
	return g_strconcat("https://", host, NULL);
}

static gboolean require_admin(KtApiLessons *api, KtHttpRequest *req, KtTokenClaims *claims)
{
	static const KtRole admin[] = {KT_ROLE_ADMIN, KT_ROLE_NONE};

	return kt_auth_check_bearer(req, api->secret, api->secret_len, claims) &&
	       kt_auth_check_role(req, claims, admin);
}

/* The audit code of a store failure, as respond_store_error answers it. */
static const char *store_error_code(GError *error)
{
	if (g_error_matches(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND))
		return "not-found";
	if (g_error_matches(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID))
		return "bad-request";
	if (g_error_matches(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE))
		return "wrong-state";
	return "storage-error";
}

static void respond_store_error(KtHttpRequest *req, const char *id, GError *error)
{
	if (g_error_matches(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_NOT_FOUND)) {
		kt_http_request_respond_error(req, 404, "not-found", "no lesson \"%s\"", id);
		return;
	}
	if (g_error_matches(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_STATE)) {
		kt_http_request_respond_error(req, 409, "wrong-state", "%s", error->message);
		return;
	}
	if (g_error_matches(error, KT_LESSON_STORE_ERROR, KT_LESSON_STORE_ERROR_INVALID)) {
		kt_http_request_respond_error(req, 400, "bad-request", "%s", error->message);
		return;
	}
	g_warning("lesson store: %s", error->message);
	kt_http_request_respond_error(req, 500, "storage-error", "the lesson catalog failed");
}

static void handle_create(KtApiLessons *api, KtHttpRequest *req)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) in = NULL;
	g_autoptr(KtLessonInfo) stored = NULL;
	g_autofree char *base = NULL;
	g_autofree char *id = NULL;
	g_autofree char *location = NULL;
	g_autofree char *object = NULL;
	gsize len;
	const guint8 *body = kt_http_request_get_body(req, &len);
	g_autofree char *text = NULL;
	KtTokenClaims claims;
	json_t *out;

	if (!require_admin(api, req, &claims))
		return;
	in = kt_api_lessons_parse_create((const char *)body, len, &error);
	if (!in) {
		kt_audit_request(api->audit, req, &claims, "lesson.create", "",
		                 error->code == KT_API_LESSONS_ERROR_BAD_JSON ? "bad-json"
		                                                              : "bad-request");
		kt_http_request_respond_error(
		    req, 400,
		    error->code == KT_API_LESSONS_ERROR_BAD_JSON ? "bad-json" : "bad-request", "%s",
		    error->message);
		return;
	}
	base = link_base(api, req);
	if (!base)
		return;
	id = kt_lesson_store_create(api->store, in, &error);
	stored = id ? kt_lesson_store_get(api->store, id, &error) : NULL;
	if (!stored) {
		kt_audit_request(api->audit, req, &claims, "lesson.create", "",
		                 store_error_code(error));
		respond_store_error(req, "", error);
		return;
	}
	out = kt_api_lessons_to_json(stored, base, api->secret, api->secret_len,
	                             api->settings->token_ttl, &error);
	if (!out) {
		kt_http_request_respond_error(req, 500, "internal", "%s", error->message);
		return;
	}
	location = g_strconcat(KT_API_LESSONS_PREFIX, id, NULL);
	object = g_strconcat("lesson/", id, NULL);
	kt_audit_request(api->audit, req, &claims, "lesson.create", object, NULL);
	g_message("lesson %s scheduled (%u classrooms)", id, g_strv_length(stored->classrooms));
	text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	kt_http_request_respond(req, 201, "application/json",
	                        (const char *const[]){"Location", location, NULL}, text,
	                        strlen(text));
}

static void handle_list(KtApiLessons *api, KtHttpRequest *req)
{
	static const char *const states[] = {"scheduled", "live", "ended", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) lessons = NULL;
	g_autofree char *state = NULL;
	KtApiPage page;
	guint total = 0;
	KtTokenClaims claims;
	json_t *arr;

	if (!require_admin(api, req, &claims))
		return;
	state = kt_http_request_get_query(req, "state");
	if (state && !g_strv_contains(states, state)) {
		kt_http_request_respond_error(req, 400, "bad-request",
		                              "state: must be scheduled, live or ended");
		return;
	}
	if (!kt_api_read_page(req, KT_LESSON_LIST_LIMIT_MAX, &page))
		return;
	lessons = kt_lesson_store_list(api->store, state, page.limit, page.offset, &total, &error);
	kt_audit_request(api->audit, req, &claims, "lesson.list", state ? state : "",
	                 lessons ? NULL : store_error_code(error));
	if (!lessons) {
		respond_store_error(req, "", error);
		return;
	}
	arr = json_array();
	for (guint i = 0; i < lessons->len; i++)
		json_array_append_new(
		    arr, kt_api_lessons_to_json(lessons->pdata[i], NULL, NULL, 0, 0, NULL));
	kt_api_respond_page(req, "lessons", arr, total, &page);
}

static void handle_collection(KtHttpRequest *req, gpointer user_data)
{
	if (kt_http_request_get_method(req) == KT_HTTP_POST)
		handle_create(user_data, req);
	else
		handle_list(user_data, req);
}

/* Admin sees every lesson (with fresh join links); a lesson's own endpoints see theirs. */
static gboolean may_read(KtApiLessons *api, KtHttpRequest *req, const char *id,
                         KtTokenClaims *claims)
{
	static const KtRole roles[] = {KT_ROLE_TEACHER, KT_ROLE_CLASSROOM, KT_ROLE_OBSERVER,
	                               KT_ROLE_NONE};

	if (!kt_auth_check_bearer(req, api->secret, api->secret_len, claims))
		return FALSE;
	if (claims->role != KT_ROLE_ADMIN && !kt_role_needs_lesson(claims->role)) {
		kt_http_request_respond_error(req, 403, "wrong-role",
		                              "role '%s' may not do this here",
		                              kt_role_to_string(claims->role));
		return FALSE;
	}
	return claims->role == KT_ROLE_ADMIN || kt_auth_check_lesson(req, claims, id, roles);
}

/* DELETE /api/lessons/{id} (admin): the lesson's row, classrooms, sources and attendance.
 * Join links already handed out stay valid tokens until they expire; a teacher link then
 * starts an ad-hoc lesson of that id, as any teacher token of an unknown id does. */
static void handle_delete(KtApiLessons *api, KtHttpRequest *req, const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *object = g_strconcat("lesson/", id, NULL);
	KtTokenClaims claims;

	if (!require_admin(api, req, &claims))
		return;
	if (!kt_lesson_store_delete(api->store, id, &error)) {
		kt_audit_request(api->audit, req, &claims, "lesson.delete", object,
		                 store_error_code(error));
		respond_store_error(req, id, error);
		return;
	}
	kt_audit_request(api->audit, req, &claims, "lesson.delete", object, NULL);
	g_message("lesson %s deleted from the catalog", id);
	kt_http_request_respond(req, 204, NULL, NULL, NULL, 0);
}

static void handle_one(KtHttpRequest *req, gpointer user_data)
{
	KtApiLessons *api = user_data;
	const char *id = kt_http_request_get_path(req) + strlen(KT_API_LESSONS_PREFIX);
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree char *base = NULL;
	g_autofree char *object = NULL;
	KtTokenClaims claims;
	gboolean is_admin;
	json_t *out;

	if (!kt_token_lesson_id_is_valid(id)) {
		kt_http_request_respond_error(req, 404, "not-found", "not a lesson path");
		return;
	}
	if (kt_http_request_get_method(req) == KT_HTTP_DELETE) {
		handle_delete(api, req, id);
		return;
	}
	if (!may_read(api, req, id, &claims))
		return;
	is_admin = claims.role == KT_ROLE_ADMIN;
	if (is_admin && !(base = link_base(api, req)))
		return;
	info = kt_lesson_store_get(api->store, id, &error);
	rows = info ? kt_lesson_store_attendance(api->store, id, &error) : NULL;
	if (is_admin) { /* the answer holds fresh join links: tokens minted for the caller */
		object = g_strconcat("lesson/", id, NULL);
		kt_audit_request(api->audit, req, &claims, "lesson.read", object,
		                 rows ? NULL : store_error_code(error));
	}
	if (!rows) {
		respond_store_error(req, id, error);
		return;
	}
	out = kt_api_lessons_to_json(info, base, api->secret, api->secret_len,
	                             api->settings->token_ttl, &error);
	if (!out) {
		kt_http_request_respond_error(req, 500, "internal", "%s", error->message);
		return;
	}
	json_object_set_new(out, "attendance", kt_api_lessons_attendance_json(rows));
	kt_http_request_respond_json(req, 200, out);
	json_decref(out);
}

/* ---- lifecycle ---- */

KtApiLessons *kt_api_lessons_new(KtLessonStore *store, const guint8 *secret, gsize secret_len,
                                 const KtSettings *settings, KtAudit *audit)
{
	KtApiLessons *api = g_new0(KtApiLessons, 1);

	api->audit = audit;
	api->store = store;
	api->secret = secret;
	api->secret_len = secret_len;
	api->settings = settings;
	api->routes[0] = (KtHttpRoute){
	    "/api/lessons", TRUE, KT_HTTP_GET | KT_HTTP_POST, FALSE, 0, handle_collection, api};
	api->routes[1] = (KtHttpRoute){
	    KT_API_LESSONS_PREFIX, FALSE, KT_HTTP_GET | KT_HTTP_DELETE, FALSE, 0, handle_one, api};
	return api;
}

void kt_api_lessons_free(KtApiLessons *api)
{
	g_free(api);
}

const KtHttpRoute *kt_api_lessons_routes(KtApiLessons *api, guint *n_out)
{
	*n_out = G_N_ELEMENTS(api->routes);
	return api->routes;
}
