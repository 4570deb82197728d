/* The lessons REST API: request validation, JSON views and the HTTP handlers. */
#include "kt-api-lessons.h"

#include "kt-ingest.h"

#include <string.h>

#include "kt-api.h"
#include "kt-auth.h"

G_DEFINE_QUARK(kt - api - lessons - error - quark, kt_api_lessons_error)

#define KT_API_LESSONS_PREFIX "/api/lessons/"
/* Join links stay valid through the lesson day even when scheduled far ahead. */
#define KT_LINK_GRACE_SECONDS (24 * 3600)
/* 9999-12-31T23:59:59Z: beyond it ISO 8601 needs more than four year digits. */
#define KT_TIME_MAX G_GINT64_CONSTANT(253402300799)

struct _KtApiLessons {
	KtLessonStore *store;
	const guint8 *secret;
	gsize secret_len;
	const KtSettings *settings;
	KtAudit *audit; /* borrowed, may be NULL */
	KtHttpRoute routes[2];
};

/* ---- parsing the create request ---- */

static bool invalid(GError **error, const char *field, const char *why)
{
	g_set_error(error, KT_API_LESSONS_ERROR, KT_API_LESSONS_ERROR_INVALID, "%s: %s", field,
	            why);
	return false;
}

/* GLib wants seconds; ISO 8601 (section 4.2.2.3) lets people leave them out: "T08:00". */
static char *with_seconds(const char *text)
{
	const char *t = strchr(text, 'T');

	if (t && strlen(t) >= 6 && g_ascii_isdigit(t[1]) && g_ascii_isdigit(t[2]) && t[3] == ':' &&
	    g_ascii_isdigit(t[4]) && g_ascii_isdigit(t[5]) && strchr("Zz+-", t[6]))
		return g_strdup_printf("%.*s:00%s", (int)(t + 6 - text), text, t + 6);
	return g_strdup(text);
}

bool kt_api_lessons_parse_time(const char *text, gint64 *out, GError **error)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GTimeZone) other = g_time_zone_new_offset(5 * 3600);
	g_autoptr(GDateTime) a = NULL;
	g_autoptr(GDateTime) b = NULL;
	g_autofree char *full = NULL;
	gint64 n;

	if (text[0] != '\0' && strspn(text, "0123456789") == strlen(text)) {
		if (!g_ascii_string_to_signed(text, 10, 0, KT_TIME_MAX, &n, NULL))
			return invalid(error, "starts_at", "Unix time out of range");
		*out = n;
		return true;
	}
	full = with_seconds(text);
	a = g_date_time_new_from_iso8601(full, utc);
	b = g_date_time_new_from_iso8601(full, other);
	if (!a || !b)
		return invalid(
		    error, "starts_at",
		    "not an ISO 8601 time like 2026-11-24T08:00+08:00, nor Unix seconds");
	/* The same instant under two default zones only if the text named its own offset. */
	if (g_date_time_to_unix(a) != g_date_time_to_unix(b))
		return invalid(error, "starts_at",
		               "needs a UTC offset (e.g. +08:00 or Z): the server's time zone may "
		               "not be the school's");
	n = g_date_time_to_unix(a);
	if (n < 0 || n > KT_TIME_MAX)
		return invalid(error, "starts_at", "before 1970");
	*out = n;
	return true;
}

/* A display string: no control characters (names end up in pages and links). */
static bool check_text(const char *field, const char *s, glong max, bool required, GError **error)
{
	g_autofree char *why = NULL;

	if (required && s[0] == '\0')
		return invalid(error, field, "must not be empty");
	if (g_utf8_strlen(s, -1) > max) {
		why = g_strdup_printf("longer than %ld characters", max);
		return invalid(error, field, why);
	}
	for (const char *p = s; *p; p = g_utf8_next_char(p))
		if (g_unichar_iscntrl(g_utf8_get_char(p)))
			return invalid(error, field, "contains a control character");
	return true;
}

/* Copies the string member @field of @obj into *out ("" when absent and optional). */
static bool take_string(json_t *obj, const char *field, glong max, bool required, char **out,
                        GError **error)
{
	json_t *v = json_object_get(obj, field);

	if (!v) {
		if (required)
			return invalid(error, field, "missing");
		*out = g_strdup("");
		return true;
	}
	if (!json_is_string(v))
		return invalid(error, field, "must be a string");
	if (!check_text(field, json_string_value(v), max, required, error))
		return false;
	*out = g_strdup(json_string_value(v));
	return true;
}

static bool take_starts_at(json_t *obj, gint64 *out, GError **error)
{
	json_t *v = json_object_get(obj, "starts_at");

	if (!v)
		return invalid(error, "starts_at", "missing");
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > KT_TIME_MAX)
			return invalid(error, "starts_at", "Unix time out of range");
		*out = json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return invalid(error, "starts_at", "must be an ISO 8601 string or Unix seconds");
	return kt_api_lessons_parse_time(json_string_value(v), out, error);
}

static bool take_classrooms(json_t *obj, char ***out, GError **error)
{
	json_t *arr = json_object_get(obj, "classrooms");
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	size_t i;
	json_t *v;

	if (arr && !json_is_array(arr))
		return invalid(error, "classrooms", "must be an array of room names");
	if (json_array_size(arr) > KT_LESSON_CLASSROOMS_MAX)
		return invalid(error, "classrooms", "more than 50 classrooms");
	json_array_foreach(arr, i, v)
	{
		g_autofree char *field = g_strdup_printf("classrooms[%zu]", i);

		if (!json_is_string(v))
			return invalid(error, field, "must be a string");
		if (!check_text(field, json_string_value(v), KT_LESSON_NAME_MAX, true, error))
			return false;
		if (!g_hash_table_add(seen, (gpointer)json_string_value(v)))
			return invalid(error, field, "the same name appears twice");
		g_ptr_array_add(names, g_strdup(json_string_value(v)));
	}
	g_ptr_array_add(names, NULL);
	*out = (char **)g_ptr_array_steal(names, NULL);
	return true;
}

/* "sources": [{"role", "url", "name"}] (issue 6 item 5). The scheme is checked
 * here (a typo fails at scheduling, not at the start of the lesson); the
 * ingest checks the rest when it connects. A classroom needs its name; a
 * teacher camera or courseware gets a default one. */
static const struct {
	const char *role;
	const char *default_name;
} feed_roles[] = {
    {"teacher", "讲台摄像机 Teacher camera"},
    {"courseware", "课件 Courseware"},
    {"classroom", NULL},
};

static const char *const feed_fields[] = {"role", "url", "name", NULL};

static bool take_feed(json_t *v, const char *field, KtLessonFeedInfo *f, GError **error)
{
	g_autofree char *role_field = g_strdup_printf("%s.role", field);
	g_autofree char *url_field = g_strdup_printf("%s.url", field);
	g_autofree char *name_field = g_strdup_printf("%s.name", field);
	const char *key;
	json_t *member;
	guint r;

	if (!json_is_object(v))
		return invalid(error, field, "must be an object {role, url, name}");
	json_object_foreach(v, key, member)
	{
		if (!g_strv_contains(feed_fields, key)) {
			g_autofree char *why = g_strdup_printf("unknown field \"%.64s\"", key);
			return invalid(error, field, why);
		}
	}
	if (!take_string(v, "role", KT_LESSON_NAME_MAX, true, &f->role, error) ||
	    !take_string(v, "url", KT_LESSON_FEED_URL_MAX, true, &f->url, error) ||
	    !take_string(v, "name", KT_LESSON_NAME_MAX, false, &f->name, error)) {
		g_prefix_error(error, "%s.", field);
		return false;
	}
	for (r = 0; r < G_N_ELEMENTS(feed_roles); r++)
		if (strcmp(feed_roles[r].role, f->role) == 0)
			break;
	if (r == G_N_ELEMENTS(feed_roles))
		return invalid(error, role_field, "must be one of teacher, courseware, classroom");
	if (!kt_ingest_check_url(f->url, NULL))
		return invalid(error, url_field,
		               "must be an rtsp://, rtsps://, rtmp:// or rtmps:// URL with a host");
	if (!*f->name && !feed_roles[r].default_name)
		return invalid(error, name_field, "a classroom source needs its room name");
	if (!*f->name) {
		g_free(f->name);
		f->name = g_strdup(feed_roles[r].default_name);
	}
	return true;
}

static bool take_feeds(json_t *obj, KtLessonFeedInfo ***out, GError **error)
{
	json_t *arr = json_object_get(obj, "sources");
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) feeds =
	    g_ptr_array_new_with_free_func((GDestroyNotify)kt_lesson_feed_info_free);
	size_t i;
	json_t *v;

	if (arr && !json_is_array(arr))
		return invalid(error, "sources", "must be an array of {role, url, name}");
	if (json_array_size(arr) > KT_LESSON_FEEDS_MAX)
		return invalid(error, "sources", "more than 8 sources");
	json_array_foreach(arr, i, v)
	{
		g_autofree char *field = g_strdup_printf("sources[%zu]", i);
		KtLessonFeedInfo *f = g_new0(KtLessonFeedInfo, 1);

		g_ptr_array_add(feeds, f);
		if (!take_feed(v, field, f, error))
			return false;
		/* Participants tell sources apart by name. */
		if (!g_hash_table_add(names, f->name)) {
			g_autofree char *name_field = g_strdup_printf("%s.name", field);

			return invalid(error, name_field, "two sources have this name");
		}
	}
	g_ptr_array_add(feeds, NULL);
	*out = (KtLessonFeedInfo **)g_ptr_array_steal(feeds, NULL);
	return true;
}

/* An optional boolean member @name: *out = it is there and has the value @when.
 * "record": false schedules a lesson that is not recorded (default true);
 * "broadcast_public": true opens its HLS broadcast to anyone (default false). */
static bool take_flag(json_t *obj, const char *name, gboolean when, gboolean *out, GError **error)
{
	json_t *v = json_object_get(obj, name);

	if (v && !json_is_boolean(v))
		return invalid(error, name, "must be true or false");
	*out = v && json_is_true(v) == when;
	return true;
}

static const char *const create_fields[] = {"title",     "subject",    "grade",  "teacher",
                                            "starts_at", "classrooms", "record", "broadcast_public",
                                            "sources",   NULL};

static bool check_known_fields(json_t *obj, GError **error)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		if (!g_strv_contains(create_fields, key)) {
			g_set_error(error, KT_API_LESSONS_ERROR, KT_API_LESSONS_ERROR_INVALID,
			            "unknown field \"%.64s\"", key);
			return false;
		}
	}
	return true;
}

KtLessonInfo *kt_api_lessons_parse_create(const char *body, gsize len, GError **error)
{
	json_error_t jerr;
	json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	g_autoptr(KtLessonInfo) info = g_new0(KtLessonInfo, 1);
	bool ok;

	if (!json_is_object(obj)) {
		g_set_error(error, KT_API_LESSONS_ERROR, KT_API_LESSONS_ERROR_BAD_JSON, "%s%s",
		            obj ? "the body must be a JSON object" : "the body is not JSON: ",
		            obj ? "" : jerr.text);
		json_decref(obj);
		return NULL;
	}
	ok = check_known_fields(obj, error) &&
	     take_string(obj, "title", KT_LESSON_TITLE_MAX, true, &info->title, error) &&
	     take_string(obj, "subject", KT_LESSON_NAME_MAX, false, &info->subject, error) &&
	     take_string(obj, "grade", KT_LESSON_NAME_MAX, false, &info->grade, error) &&
	     take_string(obj, "teacher", KT_LESSON_NAME_MAX, false, &info->teacher, error) &&
	     take_starts_at(obj, &info->starts_at, error) &&
	     take_classrooms(obj, &info->classrooms, error) &&
	     take_flag(obj, "record", FALSE, &info->no_recording, error) &&
	     take_flag(obj, "broadcast_public", TRUE, &info->broadcast_public, error) &&
	     take_feeds(obj, &info->feeds, error);
	json_decref(obj);
	return ok ? g_steal_pointer(&info) : NULL;
}

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
