/* A configuration's numbers checked from a table: each setting's default
 * (for a zero) and its range, so a module states them once, as data, and its
 * error message names the setting. Used by the pipelines' configurations
 * (the wall, the program recorder).
 *
 * Threads: any; no state.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	const char *name; /* as the error message names it */
	gsize offset;     /* of the guint in the configuration struct */
	guint fallback;   /* taken for 0 */
	guint min, max;
	gboolean even; /* e.g. picture sizes, for I420 */
} KtSetting;

/* Fills in the defaults of the @n settings of @config, then checks them.
 * FALSE with @error (@domain, @code; "@what: width 961 is not even and
 * 64..4096") at the first out of range. */
gboolean kt_settings_apply(gpointer config, const KtSetting *settings, guint n, const char *what,
                           GQuark domain, gint code, GError **error);

G_END_DECLS
