/* Temporary directories for the C tests. */
#include "tmp-dir.h"

#include <glib/gstdio.h>

void tmp_dir_remove(const char *dir)
{
	g_autoptr(GDir) d = dir ? g_dir_open(dir, 0, NULL) : NULL;
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(dir, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			tmp_dir_remove(p);
		else
			g_unlink(p);
	}
	if (dir)
		g_rmdir(dir);
}
