/* `ketang audit`: the audit log as JSON lines. See kt-cli-audit.h. */
#include "kt-cli-audit.h"

#include <jansson.h>
#include <stdio.h>

#include "kt-api-lessons.h"
#include "kt-audit.h"

int kt_cli_audit_run(const char *since, const KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtAudit) audit = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint64 from = 0;

	if (since && !kt_api_lessons_parse_time(since, &from, &error)) {
		g_printerr("ketang audit: --since: %s\n", error->message);
		return 2;
	}
	audit = kt_audit_open(settings->data_dir, &error);
	rows = audit ? kt_audit_list(audit, from, 0, 0, NULL, &error) : NULL;
	if (!rows) {
		g_printerr("ketang audit: %s\n", error->message);
		return 1;
	}
	for (guint i = 0; i < rows->len; i++) {
		json_t *obj = kt_audit_entry_to_json(rows->pdata[i]);
		char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		/* Text from the catalog is ours, but a hand-made row may not be UTF-8. */
		printf("%s\n", text ? text : "{\"error\":\"unencodable row\"}");
		free(text);
		json_decref(obj);
	}
	kt_audit_cli(settings->data_dir, "audit.read", since ? since : "", NULL);
	return 0;
}
