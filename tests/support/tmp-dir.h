/* Temporary directories for the C tests. Test thread only. */
#pragma once

#include <glib.h>

/* Removes @dir and everything below it (best effort: a test's cleanup; NULL is allowed). */
void tmp_dir_remove(const char *dir);
