/* Table-driven defaults and ranges of a configuration (kt-settings.h). */
#include "kt-settings.h"

gboolean kt_settings_apply(gpointer config, const KtSetting *settings, guint n, const char *what,
                           GQuark domain, gint code, GError **error)
{
	for (guint i = 0; i < n; i++) {
		const KtSetting *s = &settings[i];
		guint *v = G_STRUCT_MEMBER_P(config, s->offset);

		if (*v == 0)
			*v = s->fallback;
		if (*v < s->min || *v > s->max || (s->even && *v % 2)) {
			g_set_error(error, domain, code, "%s: %s %u is not %s%u..%u", what, s->name,
			            *v, s->even ? "even and " : "", s->min, s->max);
			return FALSE;
		}
	}
	return TRUE;
}
