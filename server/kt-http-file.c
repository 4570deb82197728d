/* kt-http-file.c — file responses with byte ranges (RFC 9110 §14), for recordings and other
 * large media: a player seeks by asking for the part of the file it needs.
 */
#define G_LOG_DOMAIN "kt-http"

#include "kt-http-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads a run of decimal digits at *p (advancing it), saturating at G_MAXUINT64 so that an
 * absurd position still reads as "past the end". FALSE when there is no digit. */
static gboolean kt_http_file_read_number(const char **p, guint64 *out)
{
	guint64 n = 0;
	const char *s = *p;

	if (!g_ascii_isdigit(*s))
		return FALSE;
	for (; g_ascii_isdigit(*s); s++) {
		guint d = (guint)(*s - '0');
		n = n > (G_MAXUINT64 - d) / 10 ? G_MAXUINT64 : n * 10 + d;
	}
	*p = s;
	*out = n;
	return TRUE;
}

static const char *kt_http_file_skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

KtHttpRangeResult kt_http_range_parse(const char *value, guint64 size, guint64 *start,
                                      guint64 *length)
{
	guint64 first = 0, last = G_MAXUINT64;
	gboolean suffix;
	const char *p;

	/* §14.1: the unit is case-insensitive; another unit is ignored (§14.2). */
	if (!value || g_ascii_strncasecmp(value, "bytes=", 6) != 0)
		return KT_HTTP_RANGE_NONE;
	p = kt_http_file_skip_ows(value + 6);
	/* Several ranges would need multipart/byteranges; §14.2 lets a server ignore them. */
	if (strchr(p, ','))
		return KT_HTTP_RANGE_NONE;
	suffix = *p == '-';
	if (suffix) {
		p++;
		if (!kt_http_file_read_number(&p, &last))
			return KT_HTTP_RANGE_NONE;
	} else {
		if (!kt_http_file_read_number(&p, &first) || *p++ != '-')
			return KT_HTTP_RANGE_NONE;
		if (g_ascii_isdigit(*p) && !kt_http_file_read_number(&p, &last))
			return KT_HTTP_RANGE_NONE;
	}
	if (*kt_http_file_skip_ows(p) != '\0')
		return KT_HTTP_RANGE_NONE;
	if (suffix) {
		/* §14.1.1: a suffix longer than the file means all of it; "-0" is unsatisfiable. */
		if (last == 0 || size == 0)
			return KT_HTTP_RANGE_UNSATISFIABLE;
		*length = MIN(last, size);
		*start = size - *length;
		return KT_HTTP_RANGE_PARTIAL;
	}
	if (last < first) /* §14.1.1: an invalid range-spec; the whole header is ignored */
		return KT_HTTP_RANGE_NONE;
	if (first >= size)
		return KT_HTTP_RANGE_UNSATISFIABLE;
	*start = first;
	*length = MIN(last, size - 1) - first + 1;
	return KT_HTTP_RANGE_PARTIAL;
}

/* @headers followed by @extra (both name, value, ..., NULL); the strings stay borrowed. */
static GPtrArray *kt_http_file_headers(const char *const *headers, const char *const *extra)
{
	GPtrArray *all = g_ptr_array_new();

	for (guint i = 0; headers && headers[i] && headers[i + 1]; i += 2) {
		g_ptr_array_add(all, (gpointer)headers[i]);
		g_ptr_array_add(all, (gpointer)headers[i + 1]);
	}
	for (guint i = 0; extra[i] && extra[i + 1]; i += 2) {
		g_ptr_array_add(all, (gpointer)extra[i]);
		g_ptr_array_add(all, (gpointer)extra[i + 1]);
	}
	g_ptr_array_add(all, NULL);
	return all;
}

static void kt_http_file_unsatisfiable(KtHttpRequest *r, const char *const *headers, guint64 size)
{
	g_autofree char *range = g_strdup_printf("bytes */%" G_GUINT64_FORMAT, size);
	const char *extra[] = {"Content-Range", range, "Accept-Ranges", "bytes", NULL};
	g_autoptr(GPtrArray) all = kt_http_file_headers(headers, extra);

	kt_http_request_respond_error_full(r, 416, (const char *const *)all->pdata,
	                                   "range_not_satisfiable",
	                                   "the requested range is outside the file");
}

void kt_http_request_respond_file(KtHttpRequest *r, const char *path, const char *content_type,
                                  const char *const *headers)
{
	g_autofree char *range = NULL;
	g_autofree char *if_range = NULL;
	g_autofree char *content_range = NULL;
	g_autoptr(GPtrArray) all = NULL;
	guint64 start = 0, length = 0, size;
	KtHttpRangeResult result;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	g_return_if_fail(r != NULL && !r->responded && r->wsi);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		kt_http_request_respond_error(r, 404, "not_found", "the file is not there");
		return;
	}
	size = (guint64)st.st_size;
	range = kt_http_request_get_header(r, "range");
	/* §13.1.5: If-Range needs a validator we do not send; the whole file is always right. */
	if_range = kt_http_request_get_header(r, "if-range");
	result = if_range ? KT_HTTP_RANGE_NONE : kt_http_range_parse(range, size, &start, &length);
	if (result == KT_HTTP_RANGE_UNSATISFIABLE) {
		close(fd);
		kt_http_file_unsatisfiable(r, headers, size);
		return;
	}
	if (result == KT_HTTP_RANGE_PARTIAL) {
		content_range = g_strdup_printf("bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT
		                                "/%" G_GUINT64_FORMAT,
		                                start, start + length - 1, size);
		if (lseek(fd, (off_t)start, SEEK_SET) < 0) {
			close(fd);
			kt_http_request_respond_error(r, 500, "internal",
			                              "cannot seek in the file");
			return;
		}
	} else {
		length = size;
	}
	const char *extra[] = {"Accept-Ranges", "bytes", content_range ? "Content-Range" : NULL,
	                       content_range, NULL};
	all = kt_http_file_headers(headers, extra);
	kt_http_request_respond_fd(r, content_range ? 206 : 200,
	                           content_type ? content_type : kt_http_static_mime_type(path),
	                           (const char *const *)all->pdata, fd, length);
}
