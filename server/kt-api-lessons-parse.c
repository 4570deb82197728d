/* The lessons API's create request (kt-api-lessons.h): the JSON body and its times parsed
 * and validated, each error naming its field. Also used by `ketang lesson create`. */
#include "kt-api-lessons.h"

#include <string.h>

#include "kt-ingest.h"

G_DEFINE_QUARK(kt - api - lessons - error - quark, kt_api_lessons_error)

/* 9999-12-31T23:59:59Z: beyond it ISO 8601 needs more than four year digits. */
#define KT_TIME_MAX G_GINT64_CONSTANT(253402300799)

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
