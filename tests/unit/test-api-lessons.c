/* The lessons API's request parser and JSON view (the HTTP handlers themselves are
 * exercised end to end by tests/integration/lessons-api.sh). */
#include <string.h>

#include "kt-api-lessons.h"

static const guint8 secret[] = "0123456789abcdef0123456789abcdef";

static void expect_invalid(const char *body, gint code, const char *message_part)
{
	g_autoptr(GError) error = NULL;
	KtLessonInfo *info = kt_api_lessons_parse_create(body, strlen(body), &error);

	g_assert_null(info);
	g_assert_error(error, KT_API_LESSONS_ERROR, code);
	if (!strstr(error->message, message_part))
		g_error("\"%s\": message \"%s\" lacks \"%s\"", body, error->message, message_part);
}

static void test_parse_ok(void)
{
	const char *body = "{\"title\":\"Fractions\",\"subject\":\"maths\",\"grade\":\"3\","
	                   "\"teacher\":\"Ms Li\",\"starts_at\":\"2026-11-24T08:00+08:00\","
	                   "\"classrooms\":[\"Room A\",\"三年级 (2) 班\"]}";
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = kt_api_lessons_parse_create(body, strlen(body), &error);

	g_assert_no_error(error);
	g_assert_cmpstr(info->title, ==, "Fractions");
	g_assert_cmpstr(info->teacher, ==, "Ms Li");
	g_assert_cmpint(info->starts_at, ==, 1795478400);
	g_assert_cmpstr(info->classrooms[1], ==, "三年级 (2) 班");
	g_assert_null(info->classrooms[2]);
	g_clear_pointer(&info, kt_lesson_info_free);

	/* Optional fields default to "" and no classrooms. */
	body = "{\"title\":\"t\",\"starts_at\":5}";
	info = kt_api_lessons_parse_create(body, strlen(body), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(info->subject, ==, "");
	g_assert_cmpint(info->starts_at, ==, 5);
	g_assert_null(info->classrooms[0]);
	g_assert_false(info->no_recording); /* recorded unless told otherwise */
	g_clear_pointer(&info, kt_lesson_info_free);

	body = "{\"title\":\"t\",\"starts_at\":5,\"record\":false}";
	info = kt_api_lessons_parse_create(body, strlen(body), &error);
	g_assert_no_error(error);
	g_assert_true(info->no_recording);
	g_clear_pointer(&info, kt_lesson_info_free);
	body = "{\"title\":\"t\",\"starts_at\":5,\"record\":true}";
	info = kt_api_lessons_parse_create(body, strlen(body), &error);
	g_assert_no_error(error);
	g_assert_false(info->no_recording);
}

static void test_parse_bad(void)
{
	g_autofree char *long_title = g_strnfill(201, 'x');
	g_autofree char *ok_title = g_strnfill(200, 'x');
	g_autofree char *b1 = g_strdup_printf("{\"title\":\"%s\",\"starts_at\":1}", long_title);
	g_autofree char *b2 = g_strdup_printf("{\"title\":\"%s\",\"starts_at\":1}", ok_title);
	g_autoptr(GString) many = g_string_new("{\"title\":\"t\",\"starts_at\":1,\"classrooms\":[");
	g_autoptr(GError) error = NULL;
	KtLessonInfo *info;

	expect_invalid("", KT_API_LESSONS_ERROR_BAD_JSON, "not JSON");
	expect_invalid("{\"title\":", KT_API_LESSONS_ERROR_BAD_JSON, "not JSON");
	expect_invalid("[1]", KT_API_LESSONS_ERROR_BAD_JSON, "JSON object");
	expect_invalid("\"x\"", KT_API_LESSONS_ERROR_BAD_JSON, "not JSON");
	expect_invalid("{\"title\":\"a\",\"title\":\"b\"}", KT_API_LESSONS_ERROR_BAD_JSON,
	               "not JSON");
	expect_invalid("{}", KT_API_LESSONS_ERROR_INVALID, "title: missing");
	expect_invalid("{\"title\":null,\"starts_at\":1}", KT_API_LESSONS_ERROR_INVALID,
	               "title: must be a string");
	expect_invalid(b1, KT_API_LESSONS_ERROR_INVALID, "title: longer than 200");
	info = kt_api_lessons_parse_create(b2, strlen(b2), &error);
	g_assert_no_error(error);
	kt_lesson_info_free(info);
	expect_invalid("{\"title\":\"t\",\"grade\":[],\"starts_at\":1}",
	               KT_API_LESSONS_ERROR_INVALID, "grade: must be a string");
	expect_invalid("{\"title\":\"t\\u0007\",\"starts_at\":1}", KT_API_LESSONS_ERROR_INVALID,
	               "title: contains a control character");
	expect_invalid("{\"title\":\"t\"}", KT_API_LESSONS_ERROR_INVALID, "starts_at: missing");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1.5}", KT_API_LESSONS_ERROR_INVALID,
	               "starts_at: must be");
	expect_invalid("{\"title\":\"t\",\"starts_at\":99999999999999}",
	               KT_API_LESSONS_ERROR_INVALID, "starts_at: Unix time out of range");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1,\"classrooms\":{}}",
	               KT_API_LESSONS_ERROR_INVALID, "classrooms: must be an array");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1,\"classrooms\":[\"a\",null]}",
	               KT_API_LESSONS_ERROR_INVALID, "classrooms[1]: must be a string");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1,\"classrooms\":[\"a\",\"b\",\"a\"]}",
	               KT_API_LESSONS_ERROR_INVALID, "classrooms[2]: the same name appears twice");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1,\"record\":\"false\"}",
	               KT_API_LESSONS_ERROR_INVALID, "record: must be true or false");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1,\"record\":null}",
	               KT_API_LESSONS_ERROR_INVALID, "record: must be true or false");
	expect_invalid("{\"title\":\"t\",\"starts_at\":1,\"id\":\"mine\"}",
	               KT_API_LESSONS_ERROR_INVALID, "unknown field \"id\"");
	for (guint i = 0; i < 51; i++)
		g_string_append_printf(many, "%s\"r%u\"", i ? "," : "", i);
	g_string_append(many, "]}");
	expect_invalid(many->str, KT_API_LESSONS_ERROR_INVALID, "classrooms: more than 50");
}

/* "sources": RTSP and RTMP sources with a role; names default for the teacher's. */
static void test_parse_feeds(void)
{
	const char *body =
	    "{\"title\":\"t\",\"starts_at\":1,\"sources\":["
	    "{\"role\":\"teacher\",\"url\":\"rtsp://admin:pw@10.0.0.5:554/s1\"},"
	    "{\"role\":\"courseware\",\"url\":\"rtmp://10.0.0.6/live/obs\",\"name\":\"OBS\"},"
	    "{\"role\":\"classroom\",\"url\":\"rtsps://cam.school/x\",\"name\":\"三年级 (2) "
	    "班\"}]}";
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonInfo) info = kt_api_lessons_parse_create(body, strlen(body), &error);
	json_t *out, *list;

	g_assert_no_error(error);
	g_assert_cmpstr(info->feeds[0]->role, ==, "teacher");
	g_assert_cmpstr(info->feeds[0]->name, ==, "讲台摄像机 Teacher camera");
	g_assert_cmpstr(info->feeds[1]->name, ==, "OBS");
	g_assert_cmpstr(info->feeds[2]->name, ==, "三年级 (2) 班");
	g_assert_null(info->feeds[3]);
	/* The JSON view hides the password. */
	info->id = g_strdup("abcdefghij");
	info->state = g_strdup("scheduled");
	out = kt_api_lessons_to_json(info, NULL, NULL, 0, 0, &error);
	g_assert_no_error(error);
	list = json_object_get(out, "sources");
	g_assert_cmpuint(json_array_size(list), ==, 3);
	g_assert_cmpstr(json_string_value(json_object_get(json_array_get(list, 0), "url")), ==,
	                "rtsp://10.0.0.5:554/s1");
	json_decref(out);
}

static void test_parse_feeds_bad(void)
{
	g_autoptr(GString) many = g_string_new("{\"title\":\"t\",\"starts_at\":1,\"sources\":[");
	g_autofree char *long_url = g_strnfill(1100, 'a');
	g_autofree char *b_long =
	    g_strdup_printf("{\"title\":\"t\",\"starts_at\":1,\"sources\":[{\"role\":"
	                    "\"teacher\",\"url\":\"rtsp://h/%s\"}]}",
	                    long_url);

#define FEEDS(x) "{\"title\":\"t\",\"starts_at\":1,\"sources\":" x "}"
	expect_invalid(FEEDS("{}"), KT_API_LESSONS_ERROR_INVALID, "sources: must be an array");
	expect_invalid(FEEDS("[1]"), KT_API_LESSONS_ERROR_INVALID, "sources[0]: must be an object");
	expect_invalid(FEEDS("[{\"url\":\"rtsp://h/x\"}]"), KT_API_LESSONS_ERROR_INVALID,
	               "sources[0].role: missing");
	expect_invalid(FEEDS("[{\"role\":\"teacher\"}]"), KT_API_LESSONS_ERROR_INVALID,
	               "sources[0].url: missing");
	expect_invalid(FEEDS("[{\"role\":\"admin\",\"url\":\"rtsp://h/x\"}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[0].role: must be one of");
	expect_invalid(FEEDS("[{\"role\":\"teacher\",\"url\":\"http://h/x\"}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[0].url: must be an rtsp://");
	expect_invalid(FEEDS("[{\"role\":\"teacher\",\"url\":\"rtsp:///x\"}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[0].url: must be");
	expect_invalid(FEEDS("[{\"role\":\"teacher\",\"url\":7}]"), KT_API_LESSONS_ERROR_INVALID,
	               "sources[0].url: must be a string");
	expect_invalid(FEEDS("[{\"role\":\"classroom\",\"url\":\"rtsp://h/x\"}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[0].name: a classroom source needs");
	expect_invalid(FEEDS("[{\"role\":\"teacher\",\"url\":\"rtsp://h/x\",\"fps\":5}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[0]: unknown field \"fps\"");
	expect_invalid(FEEDS("[{\"role\":\"teacher\",\"url\":\"rtsp://h/x\"},"
	                     "{\"role\":\"teacher\",\"url\":\"rtsp://h/y\"}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[1].name: two sources have this name");
	expect_invalid(FEEDS("[{\"role\":\"teacher\",\"url\":\"rtsp://h/x\\u0001\"}]"),
	               KT_API_LESSONS_ERROR_INVALID, "sources[0].url: contains a control");
#undef FEEDS
	expect_invalid(b_long, KT_API_LESSONS_ERROR_INVALID, "sources[0].url: longer than 1024");
	for (guint i = 0; i < 9; i++)
		g_string_append_printf(many,
		                       "%s{\"role\":\"classroom\",\"url\":\"rtsp://h/%u\","
		                       "\"name\":\"r%u\"}",
		                       i ? "," : "", i, i);
	g_string_append(many, "]}");
	expect_invalid(many->str, KT_API_LESSONS_ERROR_INVALID, "sources: more than 8");
}

static void expect_time(const char *text, gint64 want)
{
	g_autoptr(GError) error = NULL;
	gint64 t = -1;

	g_assert_true(kt_api_lessons_parse_time(text, &t, &error));
	g_assert_no_error(error);
	g_assert_cmpint(t, ==, want);
}

static void expect_bad_time(const char *text, const char *message_part)
{
	g_autoptr(GError) error = NULL;
	gint64 t = 7;

	g_assert_false(kt_api_lessons_parse_time(text, &t, &error));
	g_assert_error(error, KT_API_LESSONS_ERROR, KT_API_LESSONS_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, message_part));
	g_assert_cmpint(t, ==, 7);
}

static void test_parse_time(void)
{
	expect_time("2026-11-24T08:00+08:00", 1795478400);
	expect_time("2026-11-24T00:00Z", 1795478400);
	expect_time("2026-11-24T00:00:00Z", 1795478400);
	expect_time("2026-11-24T01:30:00+01:30", 1795478400);
	expect_time("1795478400", 1795478400);
	expect_time("0", 0);
	expect_bad_time("", "not an ISO 8601");
	expect_bad_time("tomorrow", "not an ISO 8601");
	expect_bad_time("2026-11-24", "not an ISO 8601");
	expect_bad_time("2026-11-24T08:00", "needs a UTC offset");
	expect_bad_time("2026-11-24T08:00:00", "needs a UTC offset");
	expect_bad_time("2026-13-24T08:00Z", "not an ISO 8601");
	expect_bad_time("99999999999999999999", "out of range");
	expect_bad_time("1969-12-31T00:00Z", "before 1970");
}

static void test_json_links(void)
{
	char *rooms[] = {"Room A", "a&b=c#d", NULL};
	KtLessonInfo info = {.id = "abc123",
	                     .title = "T",
	                     .subject = "",
	                     .grade = "",
	                     .teacher = "",
	                     .state = "scheduled",
	                     .starts_at = 2082758400, /* far ahead: not today-dependent */
	                     .classrooms = rooms};
	g_autoptr(GError) error = NULL;
	json_t *out = kt_api_lessons_to_json(&info, "https://h:1", secret, 32, 60, &error);
	json_t *urls;
	const char *url;

	g_assert_no_error(error);
	g_assert_cmpstr(json_string_value(json_object_get(out, "starts_at")), ==,
	                "2036-01-01T00:00:00Z");
	g_assert_true(json_is_null(json_object_get(out, "started_at")));
	url = json_string_value(json_object_get(out, "teacher_url"));
	g_assert_true(
	    g_str_has_prefix(url, "https://h:1/teacher#lesson=abc123&token=v1.abc123.teacher."));
	/* Valid for a day past the start when that is later than now + ttl. */
	g_assert_nonnull(strstr(url, ".2082844800."));
	urls = json_object_get(out, "classroom_urls");
	g_assert_cmpuint(json_array_size(urls), ==, 2);
	url = json_string_value(json_object_get(json_array_get(urls, 1), "url"));
	g_assert_true(g_str_has_suffix(url, "&room=a%26b%3Dc%23d"));
	g_assert_cmpstr(json_string_value(json_object_get(json_array_get(urls, 1), "name")), ==,
	                "a&b=c#d");
	g_assert_true(g_str_has_prefix(json_string_value(json_object_get(out, "observer_url")),
	                               "https://h:1/watch#"));
	json_decref(out);

	/* Without a base: no links. A start in the past: links last now + ttl. */
	out = kt_api_lessons_to_json(&info, NULL, NULL, 0, 0, &error);
	g_assert_null(json_object_get(out, "teacher_url"));
	json_decref(out);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/api-lessons/parse-ok", test_parse_ok);
	g_test_add_func("/api-lessons/parse-bad", test_parse_bad);
	g_test_add_func("/api-lessons/parse-time", test_parse_time);
	g_test_add_func("/api-lessons/parse-sources", test_parse_feeds);
	g_test_add_func("/api-lessons/parse-sources-bad", test_parse_feeds_bad);
	g_test_add_func("/api-lessons/json-links", test_json_links);
	return g_test_run();
}
