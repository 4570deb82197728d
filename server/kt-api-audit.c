/* GET /api/audit: the audit log for admins. See kt-api-audit.h. */
#define G_LOG_DOMAIN "kt-api-audit"

#include "kt-api-audit.h"

#include "kt-api-lessons.h"
#include "kt-api.h"
#include "kt-auth.h"

#define KT_API_AUDIT_LIMIT_MAX 1000

struct _KtApiAudit {
	KtAudit *audit;
	const guint8 *secret;
	gsize secret_len;
	KtHttpRoute route;
};

static gboolean read_since(KtHttpRequest *req, gint64 *since)
{
	g_autofree char *v = kt_http_request_get_query(req, "since");

	*since = 0;
	if (!v || !*v || kt_api_lessons_parse_time(v, since, NULL))
		return TRUE;
	kt_http_request_respond_error(req, 400, "bad-request",
	                              "since: not Unix seconds nor ISO 8601 with an offset");
	return FALSE;
}

static void handle_list(KtHttpRequest *req, gpointer user_data)
{
	static const KtRole admin[] = {KT_ROLE_ADMIN, KT_ROLE_NONE};
	KtApiAudit *api = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autofree char *object = NULL;
	KtTokenClaims claims;
	KtApiPage page;
	gint64 since;
	guint total = 0;
	json_t *arr;

	if (!kt_auth_check_bearer(req, api->secret, api->secret_len, &claims) ||
	    !kt_auth_check_role(req, &claims, admin) || !read_since(req, &since) ||
	    !kt_api_read_page(req, KT_API_AUDIT_LIMIT_MAX, &page))
		return;
	rows = kt_audit_list(api->audit, since, page.limit, page.offset, &total, &error);
	object = g_strdup_printf("since=%" G_GINT64_FORMAT, since);
	kt_audit_request(api->audit, req, &claims, "audit.read", object,
	                 rows ? NULL : "storage-error");
	if (!rows) {
		g_warning("%s", error->message);
		kt_http_request_respond_error(req, 500, "storage-error", "the audit log failed");
		return;
	}
	arr = json_array();
	for (guint i = 0; i < rows->len; i++) {
		json_t *e = kt_audit_entry_to_json(rows->pdata[i]);

		json_array_append_new(arr, e ? e : json_null());
	}
	kt_api_respond_page(req, "entries", arr, total, &page);
}

KtApiAudit *kt_api_audit_new(KtAudit *audit, const guint8 *secret, gsize secret_len)
{
	KtApiAudit *api = g_new0(KtApiAudit, 1);

	api->audit = audit;
	api->secret = secret;
	api->secret_len = secret_len;
	api->route = (KtHttpRoute){"/api/audit", TRUE, KT_HTTP_GET, FALSE, 0, handle_list, api};
	return api;
}

void kt_api_audit_free(KtApiAudit *api)
{
	g_free(api);
}

const KtHttpRoute *kt_api_audit_route(KtApiAudit *api)
{
	return &api->route;
}
