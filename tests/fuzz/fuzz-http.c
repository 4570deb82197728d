/* What the HTTP API reads from a request line and its headers, parser by parser (the lws
 * socket and its query-string splitting are libwebsockets', not fuzzed here). The first
 * byte picks the parser, the rest (up to a NUL) is the untrusted text:
 *   0  Range header against files of a few sizes (kt_http_range_parse): a partial answer
 *      must lie inside the file;
 *   1  a static page path (kt_http_static_resolve) under a scratch web root holding
 *      symlinks that lead out of it: a result must stay inside the root;
 *   2  a time query (?from=, ?to=, starts_at): kt_api_lessons_parse_time;
 *   3  /api/recordings/{id}[/media];
 *   4  /whip/... and /whep/... resource paths;
 *   5  a /live/LESSON/NAME segment name, an /api/lessons/{id} id, a MIME lookup.
 * Aborts when a property above fails. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fuzz.h"
#include "kt-api-lessons.h"
#include "kt-api-recordings-private.h"
#include "kt-http-private.h"
#include "kt-live-private.h"
#include "kt-token.h"
#include "kt-whip-private.h"

static char *web_root;

static void remove_root(void)
{
	static const char *const entries[] = {"index.html", "teacher.html", "app.js", "css/a.css",
	                                      "css",        "leak.html",    "up"};

	for (guint i = 0; i < G_N_ELEMENTS(entries); i++) {
		g_autofree char *f = g_build_filename(web_root, entries[i], NULL);

		g_remove(f);
	}
	g_rmdir(web_root);
	free(web_root);
}

/* A root with pages, a directory, and links out of it (to a file and to a directory). */
static void make_root(void)
{
	static const char *const files[] = {"index.html", "teacher.html", "app.js", "css/a.css"};
	g_autofree char *tmp = g_dir_make_tmp("kt-fuzz-web-XXXXXX", NULL);
	g_autofree char *css = NULL, *out_file = NULL, *out_dir = NULL, *parent = NULL;

	if (!tmp)
		abort();
	web_root = realpath(tmp, NULL);
	atexit(remove_root);
	css = g_build_filename(web_root, "css", NULL);
	g_mkdir(css, 0700);
	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *f = g_build_filename(web_root, files[i], NULL);

		g_file_set_contents(f, "x", 1, NULL);
	}
	parent = g_path_get_dirname(web_root);
	out_file = g_build_filename(web_root, "leak.html", NULL);
	out_dir = g_build_filename(web_root, "up", NULL);
	if (symlink("/etc/hostname", out_file) != 0 || symlink(parent, out_dir) != 0)
		abort();
}

static void range(const char *value)
{
	static const guint64 sizes[] = {0, 1, 1000, G_MAXINT64, G_MAXUINT64};

	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
		guint64 start = 0, length = 0;

		if (kt_http_range_parse(value, sizes[i], &start, &length) ==
		        KT_HTTP_RANGE_PARTIAL &&
		    (length == 0 || start >= sizes[i] || length > sizes[i] - start))
			abort();
	}
}

static void resolve(const char *path)
{
	g_autofree char *file = NULL;
	gsize n;

	if (!web_root)
		make_root();
	n = strlen(web_root);
	file = kt_http_static_resolve(web_root, path);
	if (file && (strncmp(file, web_root, n) != 0 || file[n] != '/'))
		abort();
}

static void whip(const char *rest)
{
	static const char *const prefix[] = {
	    [KT_SESSION_WHIP] = "/whip/", [KT_SESSION_WHEP] = "/whep/"};

	for (guint k = KT_SESSION_WHIP; k <= KT_SESSION_WHEP; k++) {
		g_autofree char *path = g_strconcat(prefix[k], rest, NULL);
		g_auto(KtWhipPath) p = {0};

		if (kt_whip_split_path(path, k, &p) &&
		    (!kt_token_lesson_id_is_valid(p.lesson) ||
		     (p.session && (!*p.session || strchr(p.session, '/')))))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = NULL;
	gint64 t, id;
	gboolean media;

	if (size == 0 || size > 8192)
		return 0;
	text = g_strndup((const char *)data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		range(text);
		break;
	case 1:
		resolve(text);
		break;
	case 2:
		kt_api_lessons_parse_time(text, &t, NULL);
		break;
	case 3:
		if (kt_api_recordings_parse_item_path(text, &id, &media) && id <= 0)
			abort();
		break;
	case 4:
		whip(text);
		break;
	default:
		kt_live_is_segment_name(text);
		kt_token_lesson_id_is_valid(text);
		kt_http_static_mime_type(text);
		break;
	}
	return 0;
}
