/* kt-config: defaults, the sample file, and every kind of bad input. */
#include "kt-config.h"

#include <glib/gstdio.h>
#include <string.h>

#define SAMPLE_PATH KT_SOURCE_DIR "/configs/ketang.ini"

/* Loads @ini on top of the defaults; expects failure with @code and @needles in the message. */
static void expect_error(const char *ini, KtConfigError code, const char *needle)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;

	if (kt_settings_load_data(s, ini, strlen(ini), &error))
		g_error("\"%s\" was accepted", ini);
	g_assert_error(error, KT_CONFIG_ERROR, (int)code);
	if (strstr(error->message, needle) == NULL)
		g_error("error \"%s\" does not mention \"%s\"", error->message, needle);
}

static KtSettings *load_ok(const char *ini)
{
	KtSettings *s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;

	if (!kt_settings_load_data(s, ini, strlen(ini), &error))
		g_error("unexpected error for \"%s\": %s", ini, error->message);
	return s;
}

static void assert_defaults(const KtSettings *s)
{
	const char *listen[] = {"0.0.0.0:8443", "[::]:8443", NULL};
	const char *codecs[] = {"vp8", "h264", NULL};

	g_assert_true(g_strv_equal((const char *const *)s->listen, listen));
	g_assert_cmpstr(s->data_dir, ==, "./data");
	g_assert_cmpstr(s->tls_cert, ==, "");
	g_assert_cmpstr(s->tls_key, ==, "");
	g_assert_cmpstr(s->web_root, ==, "");
	g_assert_cmpstr(s->public_url, ==, "");
	g_assert_cmpint(s->max_body_bytes, ==, 65536);
	g_assert_cmpint(s->retention_days, ==, 0);
	g_assert_cmpstr(s->secret, ==, "");
	g_assert_cmpint(s->token_ttl, ==, 86400);
	g_assert_cmpint(s->workers, ==, 0);
	g_assert_cmpuint(g_strv_length(s->ice_addresses), ==, 0);
	g_assert_cmpint(s->ice_port_min, ==, 0);
	g_assert_cmpint(s->ice_port_max, ==, 0);
	g_assert_true(s->ice_tcp);
	g_assert_cmpstr(s->stun_server, ==, "");
	g_assert_true(g_strv_equal((const char *const *)s->video_codecs, codecs));
	g_assert_cmpint(s->keyframe_interval_ms, ==, 300);
	g_assert_cmpint(s->rtx_cache_ms, ==, 1000);
	g_assert_true(s->audio_red);
	g_assert_true(s->audio_red_add);
	g_assert_cmpint(s->publisher_max_kbps, ==, 2500);
	g_assert_cmpint(s->max_playout_delay_ms, ==, 800);
	g_assert_cmpuint(s->video_priority[KT_CONFIG_VIDEO_COURSEWARE], ==, 0);
	g_assert_cmpuint(s->video_priority[KT_CONFIG_VIDEO_TEACHER], ==, 1);
	g_assert_cmpuint(s->video_priority[KT_CONFIG_VIDEO_CLASSROOM], ==, 2);
	g_assert_cmpstr(s->teacher_publish_policy, ==, "reject");
	g_assert_cmpint(s->max_lessons, ==, 100);
	g_assert_cmpint(s->max_subscribers, ==, 500);
	g_assert_cmpint(s->empty_timeout, ==, 60);
}

static void test_defaults(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(KtSettings) copy = kt_settings_copy(s);
	g_autoptr(GError) error = NULL;

	assert_defaults(s);
	assert_defaults(copy);
	g_assert_true(kt_settings_validate(s, &error));
	g_assert_no_error(error);
}

static void test_empty_file(void)
{
	g_autoptr(KtSettings) s = load_ok("");
	g_autoptr(KtSettings) c = load_ok("# only a comment\n\n[server]\n");

	assert_defaults(s);
	assert_defaults(c);
}

static void test_sample_parses_to_defaults(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;

	g_assert_true(kt_settings_load_file(s, SAMPLE_PATH, &error));
	g_assert_no_error(error);
	assert_defaults(s);
}

/* Every key of the table (as kt_settings_describe shows it) is in the sample, with the
 * default as its value and a comment above it. */
static void test_sample_documents_every_key(void)
{
	g_autofree char *described = kt_settings_describe();
	g_autoptr(GKeyFile) table = g_key_file_new();
	g_autoptr(GKeyFile) sample = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) groups = NULL;
	gsize n_keys = 0;

	g_assert_true(
	    g_key_file_load_from_data(table, described, -1, G_KEY_FILE_KEEP_COMMENTS, &error));
	g_assert_true(
	    g_key_file_load_from_file(sample, SAMPLE_PATH, G_KEY_FILE_KEEP_COMMENTS, &error));
	g_assert_no_error(error);
	groups = g_key_file_get_groups(table, NULL);
	g_assert_cmpuint(g_strv_length(groups), ==, 10);
	for (gsize g = 0; groups[g] != NULL; g++) {
		g_auto(GStrv) keys = g_key_file_get_keys(table, groups[g], NULL, NULL);
		for (gsize k = 0; keys[k] != NULL; k++, n_keys++) {
			g_autofree char *want =
			    g_key_file_get_value(table, groups[g], keys[k], NULL);
			g_autofree char *got =
			    g_key_file_get_value(sample, groups[g], keys[k], NULL);
			g_autofree char *comment =
			    g_key_file_get_comment(sample, groups[g], keys[k], NULL);
			if (got == NULL)
				g_error("configs/ketang.ini lacks [%s] %s", groups[g], keys[k]);
			g_assert_cmpstr(got, ==, want);
			g_assert_nonnull(comment);
			g_assert_cmpuint(strlen(comment), >, 10);
		}
	}
	g_assert_cmpuint(n_keys, ==, 58);
}

static void test_describe_parses_to_defaults(void)
{
	g_autofree char *described = kt_settings_describe();
	g_autoptr(KtSettings) s = load_ok(described);

	assert_defaults(s);
}

static void test_values_applied(void)
{
	g_autoptr(KtSettings) s = load_ok("[server]\n"
	                                  "listen = 127.0.0.1:9000 , [::1]:9001,localhost:9002\n"
	                                  "data_dir = /var/lib/ketang\n"
	                                  "public_url = https://class.example.cn/ketang\n"
	                                  "tls_cert = /etc/cert.pem\ntls_key = /etc/key.pem\n"
	                                  "[auth]\nsecret = 0123456789abcdef\ntoken_ttl = 60\n"
	                                  "[media]\nworkers = 4\nice_addresses = 10.0.0.1,fe80::1\n"
	                                  "ice_port_min = 40000\nice_port_max = 40100\n"
	                                  "stun_server = stun.l.google.com:19302\n"
	                                  "video_codecs = h264\n"
	                                  "[lesson]\nteacher_publish_policy = replace\n");
	const char *listen[] = {"127.0.0.1:9000", "[::1]:9001", "localhost:9002", NULL};

	g_assert_true(g_strv_equal((const char *const *)s->listen, listen));
	g_assert_cmpstr(s->data_dir, ==, "/var/lib/ketang");
	g_assert_cmpstr(s->secret, ==, "0123456789abcdef");
	g_assert_cmpint(s->token_ttl, ==, 60);
	g_assert_cmpint(s->workers, ==, 4);
	g_assert_cmpuint(g_strv_length(s->ice_addresses), ==, 2);
	g_assert_cmpint(s->ice_port_max, ==, 40100);
	g_assert_cmpstr(s->video_codecs[0], ==, "h264");
	g_assert_null(s->video_codecs[1]);
	g_assert_cmpstr(s->teacher_publish_policy, ==, "replace");
	g_assert_cmpint(s->max_lessons, ==, 100); /* untouched keys keep defaults */
}

static void test_unknown_names(void)
{
	expect_error("[server]\nlisen = 0.0.0.0:1\n", KT_CONFIG_ERROR_UNKNOWN_KEY,
	             "[server] lisen");
	expect_error("[servr]\nlisten = 0.0.0.0:1\n", KT_CONFIG_ERROR_UNKNOWN_GROUP, "[servr]");
	expect_error("[media]\nlisten = 0.0.0.0:1\n", KT_CONFIG_ERROR_UNKNOWN_KEY,
	             "[media] listen");
	expect_error("[lesson]\nmax_lessons[zh_CN] = 5\n", KT_CONFIG_ERROR_UNKNOWN_KEY,
	             "max_lessons[zh_CN]");
}

static void test_syntax_errors(void)
{
	expect_error("listen = 0.0.0.0:1\n", KT_CONFIG_ERROR_PARSE, "INI");
	expect_error("[server\n", KT_CONFIG_ERROR_PARSE, "INI");
	expect_error("[server]\njust words\n", KT_CONFIG_ERROR_PARSE, "INI");
	expect_error("[server]\ndata_dir = bad\\qescape\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] data_dir: invalid escape");
	expect_error("[server]\nlisten = 0.0.0.0:1,bad\\\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] listen: invalid escape");
}

static void test_int_values(void)
{
	expect_error("[media]\nworkers = 65\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] workers: 65 is out of range 0..64");
	expect_error("[media]\nworkers = -1\n", KT_CONFIG_ERROR_INVALID_VALUE, "[media] workers");
	expect_error("[media]\nmax_playout_delay_ms = 5001\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] max_playout_delay_ms: 5001 is out of range 0..5000");
	expect_error("[media]\nmax_playout_delay_ms = -5\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] max_playout_delay_ms");
	expect_error("[media]\npublisher_max_kbps = 100001\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] publisher_max_kbps: 100001 is out of range 0..100000");
	expect_error("[media]\npublisher_max_kbps = -1\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] publisher_max_kbps");
	expect_error("[media]\npublisher_max_kbps = 2.5M\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] publisher_max_kbps: expected an integer");
	g_autoptr(KtSettings) uncapped = load_ok("[media]\npublisher_max_kbps = 0\n");
	g_assert_cmpint(uncapped->publisher_max_kbps, ==, 0);
	expect_error("[server]\nmax_body_bytes = 1023\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] max_body_bytes: 1023 is out of range 1024..1048576");
	expect_error("[auth]\ntoken_ttl = 1d\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[auth] token_ttl: expected an integer");
	expect_error("[auth]\ntoken_ttl =\n", KT_CONFIG_ERROR_INVALID_VALUE, "[auth] token_ttl");
	expect_error("[auth]\ntoken_ttl = 99999999999999999999999\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[auth] token_ttl");
	expect_error("[lesson]\nmax_subscribers = 0\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[lesson] max_subscribers");
	expect_error("[lesson]\nempty_timeout = 3601\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[lesson] empty_timeout");
	expect_error("[lesson]\nempty_timeout = -1\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[lesson] empty_timeout");
}

static void test_bool_values(void)
{
	g_autoptr(KtSettings) off = load_ok("[media]\nice_tcp = false\n");
	g_autoptr(KtSettings) on = load_ok("[media]\nice_tcp = true\n");

	g_assert_false(off->ice_tcp);
	g_assert_true(on->ice_tcp);
	g_autoptr(KtSettings) plain = load_ok("[media]\naudio_red = false\n");
	g_assert_false(plain->audio_red);
	g_assert_true(plain->audio_red_add);
	expect_error("[media]\nice_tcp = yes\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] ice_tcp: expected true or false");
	expect_error("[media]\nice_tcp = 1\n", KT_CONFIG_ERROR_INVALID_VALUE, "[media] ice_tcp");
}

static void test_listen_values(void)
{
	expect_error("[server]\nlisten = 8443\n", KT_CONFIG_ERROR_INVALID_VALUE, "[server] listen");
	expect_error("[server]\nlisten = ::1:8443\n", KT_CONFIG_ERROR_INVALID_VALUE, "brackets");
	expect_error("[server]\nlisten = 0.0.0.0:0\n", KT_CONFIG_ERROR_INVALID_VALUE, "1 to 65535");
	expect_error("[server]\nlisten =\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] listen: the list must not be empty");
	expect_error("[server]\nlisten = 0.0.0.0:1,,0.0.0.0:2\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "empty list element");
	expect_error("[server]\nlisten = 0.0.0.0:1,0.0.0.0:1\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "listed twice");
	expect_error("[media]\nstun_server = stun.example.org\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] stun_server");
}

static void test_parse_listen(void)
{
	const char *bad[] = {
	    "",           "8443",        ":8443",        "0.0.0.0:",  "0.0.0.0:0", "0.0.0.0:65536",
	    "0.0.0.0:x1", "0.0.0.0:+80", "::1:8443",     "[::1]8443", "[::1:8443", "[1.2.3.4]:80",
	    "[zz]:80",    "a b:80",      "999.1.1.1:80", "-host:80",  "host..x:80"};
	g_autofree char *host = NULL;
	g_autofree char *host6 = NULL;
	guint16 port = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		if (kt_settings_parse_listen(bad[i], NULL, NULL, &error))
			g_error("\"%s\" was accepted", bad[i]);
		g_assert_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE);
	}
	g_assert_false(kt_settings_parse_listen(NULL, NULL, NULL, NULL));
	char *long_spec = g_strnfill(400, 'a');
	g_assert_false(kt_settings_parse_listen(long_spec, NULL, NULL, NULL));
	g_free(long_spec);

	g_assert_true(kt_settings_parse_listen("0.0.0.0:8443", &host, &port, NULL));
	g_assert_cmpstr(host, ==, "0.0.0.0");
	g_assert_cmpuint(port, ==, 8443);
	g_assert_true(kt_settings_parse_listen("[::]:65535", &host6, &port, NULL));
	g_assert_cmpstr(host6, ==, "::");
	g_assert_cmpuint(port, ==, 65535);
	g_assert_true(kt_settings_parse_listen("localhost:1", NULL, NULL, NULL));
}

static void test_choice_values(void)
{
	expect_error("[media]\nvideo_codecs = vp8,av1\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_codecs: \"av1\" is not one of: vp8, h264");
	expect_error("[media]\nvideo_codecs = VP8\n", KT_CONFIG_ERROR_INVALID_VALUE, "VP8");
	expect_error("[media]\nvideo_codecs =\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_codecs");
	expect_error("[media]\nvideo_codecs = h264,h264\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "listed twice");
	expect_error("[lesson]\nteacher_publish_policy = kick\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[lesson] teacher_publish_policy");
}

static void test_video_priority(void)
{
	g_autoptr(KtSettings) s =
	    load_ok("[media]\nvideo_priority = classroom,courseware,teacher\n");
	g_autoptr(KtSettings) spaced =
	    load_ok("[media]\nvideo_priority =  teacher ,\tclassroom,  courseware \n");
	g_autofree char *long_ini = NULL;
	g_autofree char *pad = g_strnfill(200, ' ');

	g_assert_cmpuint(s->video_priority[KT_CONFIG_VIDEO_CLASSROOM], ==, 0);
	g_assert_cmpuint(s->video_priority[KT_CONFIG_VIDEO_COURSEWARE], ==, 1);
	g_assert_cmpuint(s->video_priority[KT_CONFIG_VIDEO_TEACHER], ==, 2);
	g_assert_cmpuint(spaced->video_priority[KT_CONFIG_VIDEO_TEACHER], ==, 0);
	g_assert_cmpuint(spaced->video_priority[KT_CONFIG_VIDEO_CLASSROOM], ==, 1);
	g_assert_cmpuint(spaced->video_priority[KT_CONFIG_VIDEO_COURSEWARE], ==, 2);

	expect_error("[media]\nvideo_priority = courseware,teacher,students\n",
	             KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"students\" is not one of: courseware, teacher, "
	             "classroom");
	expect_error("[media]\nvideo_priority = Teacher,courseware,classroom\n",
	             KT_CONFIG_ERROR_INVALID_VALUE, "[media] video_priority: \"Teacher\"");
	expect_error("[media]\nvideo_priority = teacher,courseware,teacher\n",
	             KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"teacher\" is listed twice");
	expect_error("[media]\nvideo_priority = teacher,courseware\n",
	             KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"teacher,courseware\" lacks classroom");
	expect_error("[media]\nvideo_priority =\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: must not be empty");
	expect_error("[media]\nvideo_priority = courseware,teacher,classroom,\n",
	             KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"courseware,teacher,classroom,\" has an empty name");
	expect_error("[media]\nvideo_priority = courseware,,teacher,classroom\n",
	             KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"courseware,,teacher");
	expect_error("[media]\nvideo_priority = courseware,teacher,classroom,courseware\n",
	             KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"courseware\" is listed twice");
	long_ini =
	    g_strdup_printf("[media]\nvideo_priority = courseware,%steacher,classroom\n", pad);
	expect_error(long_ini, KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] video_priority: \"courseware,     ");
	expect_error(long_ini, KT_CONFIG_ERROR_INVALID_VALUE, "is over-long (228 characters)");
}

static void test_other_values(void)
{
	expect_error("[media]\nice_addresses = 10.0.0.1,eth0\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] ice_addresses: \"eth0\" is not an IP address");
	expect_error("[server]\npublic_url = class.example.cn\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] public_url");
	expect_error("[server]\npublic_url = ftp://x.cn\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] public_url");
	expect_error("[server]\ndata_dir =\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] data_dir: must not be empty");
	expect_error("[auth]\nsecret = short\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[auth] secret: must be at least 16");
	/* [ingest] ladder: WxH@KBPS rungs, at most 4. */
	expect_error("[ingest]\nladder = 640x360\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[ingest] ladder: \"640x360\" is not a rung");
	expect_error("[ingest]\nladder = 641x360@500\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[ingest] ladder: \"641x360@500\"");
	expect_error("[ingest]\nladder = 640x360@5\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[ingest] ladder");
	expect_error("[ingest]\nladder = 640x360@500x\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[ingest] ladder");
	expect_error("[ingest]\nladder =\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[ingest] ladder: the list must not be empty");
	expect_error("[ingest]\nladder = 64x64@30,128x72@40,256x144@50,512x288@60,1024x576@70\n",
	             KT_CONFIG_ERROR_INVALID_VALUE, "[ingest] ladder: at most 4 entries");
	{
		guint w = 0, h = 0, k = 0;

		g_assert_true(kt_settings_parse_rung("320x180@150", &w, &h, &k, NULL));
		g_assert_cmpuint(w, ==, 320);
		g_assert_cmpuint(h, ==, 180);
		g_assert_cmpuint(k, ==, 150);
	}
}

static void test_pair_rules(void)
{
	expect_error("[media]\nice_port_min = 5000\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[media] ice_port_min");
	expect_error("[media]\nice_port_min = 5000\nice_port_max = 4000\n",
	             KT_CONFIG_ERROR_INVALID_VALUE, "above ice_port_max");
	expect_error("[server]\ntls_cert = /a.pem\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[server] tls_key");
	expect_error("[recording]\nprogram_width = 641\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "must be even");
	expect_error("[recording]\nprogram_fps = 0\n", KT_CONFIG_ERROR_INVALID_VALUE,
	             "[recording] program_fps");
	expect_error("[wall]\nwidth = 641\n", KT_CONFIG_ERROR_INVALID_VALUE, "[wall] width");
	expect_error("[wall]\nfps = 0\n", KT_CONFIG_ERROR_INVALID_VALUE, "[wall] fps");
	expect_error("[wall]\nkbps = 20001\n", KT_CONFIG_ERROR_INVALID_VALUE, "[wall] kbps");
}

static void test_failed_load_changes_nothing(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	const char *ini = "[media]\nworkers = 8\nvideo_priority = classroom,teacher,courseware\n"
	                  "video_codecs = av1\n";

	g_assert_false(kt_settings_load_data(s, ini, strlen(ini), NULL));
	assert_defaults(s);
}

static void test_file_errors(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("kt-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "bad.ini", NULL);

	g_assert_false(kt_settings_load_file(s, "/nonexistent/ketang.ini", &error));
	g_assert_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_PARSE);
	g_clear_error(&error);

	g_assert_true(g_file_set_contents(path, "[media]\nworkers = 100\n", -1, NULL));
	g_assert_false(kt_settings_load_file(s, path, &error));
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "[media] workers"));
	g_unlink(path);
	g_rmdir(dir);
}

static void test_validate_overrides(void)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();
	g_autoptr(GError) error = NULL;

	g_strfreev(s->listen);
	s->listen = g_strsplit("127.0.0.1:99999", ",", -1);
	g_assert_false(kt_settings_validate(s, &error));
	g_assert_nonnull(strstr(error->message, "[server] listen"));
	g_clear_error(&error);

	g_strfreev(s->listen);
	s->listen = g_strsplit("127.0.0.1:9000", ",", -1);
	s->video_priority[KT_CONFIG_VIDEO_TEACHER] = 0; /* the same place as courseware */
	g_assert_false(kt_settings_validate(s, &error));
	g_assert_nonnull(strstr(error->message, "[media] video_priority: teacher has place 0"));
	g_clear_error(&error);
	s->video_priority[KT_CONFIG_VIDEO_TEACHER] = 3;
	g_assert_false(kt_settings_validate(s, &error));
	g_assert_nonnull(strstr(error->message, "[media] video_priority"));
	g_clear_error(&error);
	s->video_priority[KT_CONFIG_VIDEO_TEACHER] = 1;
	g_assert_true(kt_settings_validate(s, &error));
	g_assert_no_error(error);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/empty-file", test_empty_file);
	g_test_add_func("/config/sample-parses-to-defaults", test_sample_parses_to_defaults);
	g_test_add_func("/config/sample-documents-every-key", test_sample_documents_every_key);
	g_test_add_func("/config/describe-parses-to-defaults", test_describe_parses_to_defaults);
	g_test_add_func("/config/values-applied", test_values_applied);
	g_test_add_func("/config/unknown-names", test_unknown_names);
	g_test_add_func("/config/syntax-errors", test_syntax_errors);
	g_test_add_func("/config/int-values", test_int_values);
	g_test_add_func("/config/bool-values", test_bool_values);
	g_test_add_func("/config/listen-values", test_listen_values);
	g_test_add_func("/config/parse-listen", test_parse_listen);
	g_test_add_func("/config/choice-values", test_choice_values);
	g_test_add_func("/config/video-priority", test_video_priority);
	g_test_add_func("/config/other-values", test_other_values);
	g_test_add_func("/config/pair-rules", test_pair_rules);
	g_test_add_func("/config/failed-load-changes-nothing", test_failed_load_changes_nothing);
	g_test_add_func("/config/file-errors", test_file_errors);
	g_test_add_func("/config/validate-overrides", test_validate_overrides);
	return g_test_run();
}
