/* ffprobe / ffmpeg checks of recorded files. */
#include "media-probe.h"

#include <string.h>

char *media_probe_run(const char *const *argv, int *status)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;
	char *out = NULL;
	int ignored;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
	                           &err, status ? status : &ignored, &error));
	g_assert_no_error(error);
	if (err && *err)
		g_test_message("%s: %s", argv[0], err);
	return out;
}

static void read_streams(const char *path, MediaProbe *p)
{
	const char *argv[] = {"ffprobe",
	                      "-v",
	                      "error",
	                      "-show_entries",
	                      "stream=codec_name:format=duration",
	                      "-of",
	                      "default=nw=1",
	                      path,
	                      NULL};
	int status;
	g_autofree char *info = media_probe_run(argv, &status);
	g_auto(GStrv) lines = g_strsplit(info, "\n", -1);

	g_assert_true(g_spawn_check_wait_status(status, NULL));
	for (guint i = 0; lines[i]; i++) {
		if (g_str_has_prefix(lines[i], "codec_name="))
			g_strlcpy(p->codec, lines[i] + 11, sizeof(p->codec));
		if (g_str_has_prefix(lines[i], "duration=") && strcmp(lines[i] + 9, "N/A") != 0)
			p->format_duration = g_ascii_strtod(lines[i] + 9, NULL);
	}
}

static void read_packets(const char *path, MediaProbe *p)
{
	const char *argv[] = {
	    "ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time", "-of",
	    "csv=p=0", path, NULL};
	g_autofree char *pkts = media_probe_run(argv, NULL);
	g_auto(GStrv) lines = g_strsplit(pkts, "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		double pts, dur = 0;
		char *end;

		if (!*lines[i])
			continue;
		pts = g_ascii_strtod(lines[i], &end);
		if (*end == ',')
			dur = g_ascii_strtod(end + 1, NULL);
		p->start = MIN(p->start, pts);
		p->end = MAX(p->end, pts + dur);
	}
}

void media_probe(const char *path, MediaProbe *p)
{
	memset(p, 0, sizeof(*p));
	p->start = G_MAXDOUBLE;
	p->format_duration = -1;
	read_streams(path, p);
	read_packets(path, p);
	g_test_message("%s: %s, %.3f..%.3f s, format duration %.3f", path, p->codec, p->start,
	               p->end, p->format_duration);
}

void media_probe_assert_decodes(const char *path)
{
	/* -enc_time_base -1: the null output keeps the file's own time base. By
	 * default it re-times video to the stream's nominal rate (1/30 s), and
	 * two pictures of a live source 29 ms apart (a starved test machine
	 * bunches them) then "collide" there: an error about ffmpeg's output,
	 * not about the file, which every player takes. Decoding is unchanged. */
	const char *argv[] = {"ffmpeg", "-v", "error", "-i", path, "-enc_time_base",
	                      "-1",     "-f", "null",  "-",  NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
	                           &err, &status, &error));
	g_assert_no_error(error);
	if (*err)
		g_printerr("ffmpeg on %s: %.600s\n", path, err);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	g_assert_true(*err == '\0');
}
