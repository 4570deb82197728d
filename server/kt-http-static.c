/* kt-http-static.c — static files from the web root for paths no route
 * claims: path sanitising, clean page URLs and MIME types. The pages' CSP
 * and the other security headers are kt-http-security.c's.
 */
#define G_LOG_DOMAIN "kt-http"

#include "kt-http-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *ext;
	const char *type;
} kt_http_mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"wasm", "application/wasm"},
    {"webmanifest", "application/manifest+json"},
    {"woff2", "font/woff2"},
    {"txt", "text/plain; charset=utf-8"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"mp4", "video/mp4"},
    {"m4a", "audio/mp4"},
    {"webm", "video/webm"},
    {"m4s", "video/iso.segment"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"ts", "video/mp2t"},
};

const char *kt_http_static_mime_type(const char *file_name)
{
	const char *dot = strrchr(file_name, '.');
	const char *slash = strrchr(file_name, '/');

	if (dot && (!slash || dot > slash)) {
		for (guint i = 0; i < G_N_ELEMENTS(kt_http_mime_types); i++)
			if (!g_ascii_strcasecmp(dot + 1, kt_http_mime_types[i].ext))
				return kt_http_mime_types[i].type;
	}
	return "application/octet-stream";
}

/* Every segment must be a plain name: no "." or "..", no hidden files
 * (".git", ".env"), no backslashes. lws already folds "/../", this is the
 * second line. */
static gboolean kt_http_static_path_is_safe(const char *path)
{
	if (path[0] != '/' || strchr(path, '\\'))
		return FALSE;
	g_auto(GStrv) parts = g_strsplit(path + 1, "/", -1);
	for (guint i = 0; parts[i]; i++)
		if (parts[i][0] == '.')
			return FALSE;
	return TRUE;
}

static gboolean kt_http_static_is_file(const char *file)
{
	struct stat st;
	return stat(file, &st) == 0 && S_ISREG(st.st_mode);
}

char *kt_http_static_resolve(const char *web_root, const char *path)
{
	if (!web_root || !kt_http_static_path_is_safe(path))
		return NULL;

	g_autofree char *candidate = g_str_has_suffix(path, "/")
	                                 ? g_strconcat(web_root, path, "index.html", NULL)
	                                 : g_strconcat(web_root, path, NULL);
	if (!kt_http_static_is_file(candidate)) {
		/* Clean page URLs: "/teacher" is teacher.html. */
		char *html = g_strconcat(candidate, ".html", NULL);
		g_free(candidate);
		candidate = html;
		if (!kt_http_static_is_file(candidate))
			return NULL;
	}
	/* A symlink inside the root must not lead out of it. */
	char *real = realpath(candidate, NULL);
	gsize n = strlen(web_root);
	char *result = NULL;
	if (real && !strncmp(real, web_root, n) && real[n] == '/')
		result = g_strdup(real);
	free(real);
	return result;
}

void kt_http_static_serve(KtHttpRequest *r)
{
	g_autofree char *file = kt_http_static_resolve(r->server->web_root, r->path);
	struct stat st;
	int fd = -1;

	if (file)
		fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		kt_http_request_respond_error(r, 404, "not_found", "no such page or file");
		return;
	}
	if (r->method != KT_HTTP_GET && r->method != KT_HTTP_HEAD) {
		close(fd);
		const char *allow[] = {"Allow", "GET, HEAD", NULL};
		kt_http_request_respond_error_full(r, 405, allow, "method_not_allowed",
		                                   "static files allow GET, HEAD");
		return;
	}
	/* The security headers (CSP for pages among them) are added to every response. */
	const char *headers[] = {"Cache-Control", "no-cache", NULL};
	kt_http_request_respond_fd(r, 200, kt_http_static_mime_type(file), headers, fd,
	                           (guint64)st.st_size);
}
