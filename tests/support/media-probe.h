/* Checks of recorded media files with ffprobe and ffmpeg, for the recorder tests. Each call
 * runs the tool synchronously and asserts (g_assert) that it could be run. Test thread only. */
#pragma once

#include <glib.h>

/* What ffprobe sees in a file. */
typedef struct {
	char codec[32];         /* codec_name of the (last) stream */
	double start, end;      /* first packet pts, last packet pts + duration, seconds */
	double format_duration; /* seconds; -1 = not in the file */
} MediaProbe;

/* Runs @argv (found on PATH) and returns its stdout (g_free); its stderr goes to the test
 * log. @status (may be NULL) gets the wait status. */
char *media_probe_run(const char *const *argv, int *status);

/* Fills @p from ffprobe's view of @path; asserts ffprobe succeeded. */
void media_probe(const char *path, MediaProbe *p);

/* Asserts that ffmpeg decodes the whole of @path without a single error. */
void media_probe_assert_decodes(const char *path);
