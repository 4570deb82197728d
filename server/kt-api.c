/* Paging and time JSON shared by the REST APIs. */
#include "kt-api.h"

/* Reads query argument @name as an integer in [min, max] (default @def when absent). */
static gboolean read_uint(KtHttpRequest *req, const char *name, guint64 min, guint64 max, guint def,
                          guint *out)
{
	g_autofree char *v = kt_http_request_get_query(req, name);
	guint64 n;

	if (!v) {
		*out = def;
		return TRUE;
	}
	if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL)) {
		kt_http_request_respond_error(req, 400, "bad-request",
		                              "%s: must be an integer from %" G_GUINT64_FORMAT
		                              " to %" G_GUINT64_FORMAT,
		                              name, min, max);
		return FALSE;
	}
	*out = (guint)n;
	return TRUE;
}

gboolean kt_api_read_page(KtHttpRequest *req, guint max_limit, KtApiPage *page)
{
	return read_uint(req, "limit", 1, max_limit, KT_API_LIST_LIMIT_DEFAULT, &page->limit) &&
	       read_uint(req, "offset", 0, G_MAXINT32, 0, &page->offset);
}

void kt_api_respond_page(KtHttpRequest *req, const char *name, json_t *items, guint total,
                         const KtApiPage *page)
{
	json_t *out =
	    json_pack("{s:o, s:I, s:I, s:I}", name, items, "total", (json_int_t)total, "limit",
	              (json_int_t)page->limit, "offset", (json_int_t)page->offset);

	kt_http_request_respond_json(req, 200, out);
	json_decref(out);
}

json_t *kt_api_time_json(gint64 unix_time)
{
	g_autoptr(GDateTime) t = NULL;
	g_autofree char *text = NULL;

	if (unix_time <= 0)
		return json_null();
	t = g_date_time_new_from_unix_utc(unix_time);
	text = t ? g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ") : NULL;
	return text ? json_string(text) : json_null();
}
