/* The corpus replayer: runs a fuzz target's LLVMFuzzerTestOneInput over every
 * file given, or every file in each directory given, so the committed corpora
 * (and crash inputs, once fixed) run in ctest under the sanitizers of the build.
 *
 *   fuzz-NAME FILE|DIR...
 *
 * Prints how many inputs ran; exits non-zero when none could be read. */
#include <glib.h>
#include <stdio.h>

#include "fuzz.h"

static guint run_file(const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, NULL)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return 0;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	return 1;
}

int main(int argc, char **argv)
{
	guint n = 0;

	for (int i = 1; i < argc; i++) {
		g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
		const char *name;

		if (!dir) {
			n += run_file(argv[i]);
			continue;
		}
		while ((name = g_dir_read_name(dir))) {
			g_autofree char *path = g_build_filename(argv[i], name, NULL);

			n += run_file(path);
		}
	}
	printf("replay: %u inputs\n", n);
	return n > 0 ? 0 : 1;
}
