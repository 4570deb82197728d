/* `ketang recording add`. */
#include "kt-cli-recording.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt-api-lessons.h"
#include "kt-api-recordings.h"
#include "kt-audit.h"
#include "kt-lesson-store.h"
#include "kt-recordings.h"
#include "kt-token.h"

#define KT_CLI "ketang recording add"

/* The MIME type of the containers recorders write, from the file name. */
static const char *mime_type(const char *file)
{
	static const char *const types[][2] = {
	    {".mp4", "video/mp4"},        {".webm", "video/webm"}, {".m4a", "audio/mp4"},
	    {".mkv", "video/x-matroska"}, {".ogg", "audio/ogg"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(types); i++)
		if (g_str_has_suffix(file, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

/* Copies @from to @to (a new file), in blocks. */
static gboolean copy_file(const char *from, const char *to, GError **error)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = in >= 0 ? open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	char buf[65536];
	ssize_t n = 0;
	int err = 0;

	while (out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			break;
	err = in < 0 || out < 0 || n != 0 ? errno : 0;
	if (out >= 0 && close(out) != 0 && !err)
		err = errno;
	if (in >= 0)
		close(in);
	if (err || n != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot copy %s to %s: %s", from, to, g_strerror(err ? err : EIO));
		if (out >= 0)
			g_unlink(to);
		return FALSE;
	}
	return TRUE;
}

/* TRUE if @path is a file that only its owner may read or write. */
static gboolean is_private(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & 077) == 0;
}

/* The file's path relative to the data dir, bringing it inside first if needed. */
static char *place_file(const char *file, const char *lesson, const char *data_dir, GError **error)
{
	g_autofree char *real = realpath(file, NULL);
	g_autofree char *root = realpath(data_dir, NULL);
	g_autofree char *dir = NULL;
	g_autofree char *base = NULL;
	g_autofree char *name = NULL;
	g_autofree char *target = NULL;
	gsize n = root ? strlen(root) : 0;

	if (!real || !root) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: %s",
		            real ? data_dir : file, g_strerror(errno));
		return NULL;
	}
	if (strncmp(real, root, n) == 0 && real[n] == '/')
		return g_strdup(real + n + 1);
	dir = g_build_filename(root, "recordings", "import", NULL);
	base = g_path_get_basename(real);
	name = g_strdup_printf("%s-%" G_GINT64_FORMAT "-%s", lesson, g_get_real_time(), base);
	target = g_build_filename(dir, name, NULL);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s",
		            dir);
		return NULL;
	}
	/* A hard link shares the file's mode: only a file already private to its owner is
	 * linked, anything else is copied into a 0600 file (docs/security.md). */
	if ((!is_private(real) || link(real, target) != 0) && !copy_file(real, target, error))
		return NULL;
	return g_build_filename("recordings", "import", name, NULL);
}

static gboolean parse_time_opt(const char *name, const char *text, gint64 *out)
{
	if (!text)
		return TRUE;
	if (kt_api_lessons_parse_time(text, out, NULL))
		return TRUE;
	g_printerr(KT_CLI ": --%s: not Unix seconds nor ISO 8601 with an offset\n", name);
	return FALSE;
}

/* Fills title etc. from the options, else from the lesson catalog (if the lesson is in it). */
static void fill_metadata(KtRecordingInfo *in, const KtCliLessonOptions *meta,
                          const KtSettings *settings)
{
	g_autofree char *path = g_build_filename(settings->data_dir, KT_LESSON_STORE_FILE, NULL);
	g_autoptr(KtLessonStore) store =
	    g_file_test(path, G_FILE_TEST_EXISTS) ? kt_lesson_store_open(path, NULL) : NULL;
	g_autoptr(KtLessonInfo) lesson =
	    store ? kt_lesson_store_get(store, in->lesson, NULL) : NULL;

	in->title = g_strdup(meta->title ? meta->title : lesson ? lesson->title : "");
	in->subject = g_strdup(meta->subject ? meta->subject : lesson ? lesson->subject : "");
	in->grade = g_strdup(meta->grade ? meta->grade : lesson ? lesson->grade : "");
	in->teacher = g_strdup(meta->teacher ? meta->teacher : lesson ? lesson->teacher : "");
	in->classrooms = g_strdupv(meta->classrooms ? meta->classrooms
	                           : lesson         ? lesson->classrooms
	                                            : NULL);
}

static gboolean parse_chapter(const char *spec, gint64 *at_ms, const char **title)
{
	const char *colon = strchr(spec, ':');
	g_autofree char *num = colon ? g_strndup(spec, colon - spec) : NULL;
	guint64 v;

	if (!num || !g_ascii_string_to_unsigned(num, 10, 0, G_MAXINT64, &v, NULL)) {
		g_printerr(KT_CLI ": --chapter wants MS:TITLE, e.g. 1500:\"Room A on stage\"\n");
		return FALSE;
	}
	*at_ms = (gint64)v;
	*title = colon + 1;
	return TRUE;
}

/* Checks the options and builds the row to insert; NULL (after a message) when invalid. */
static KtRecordingInfo *build_row(const KtCliRecordingOptions *o, const char *lesson,
                                  const KtCliLessonOptions *meta, const KtSettings *settings)
{
	g_autoptr(KtRecordingInfo) in = g_new0(KtRecordingInfo, 1);
	gint64 at;
	const char *title;

	if (!lesson || !kt_token_lesson_id_is_valid(lesson) || !o->file) {
		g_printerr(KT_CLI ": needs --lesson ID and --file PATH\n");
		return NULL;
	}
	for (guint i = 0; o->chapters && o->chapters[i]; i++)
		if (!parse_chapter(o->chapters[i], &at, &title))
			return NULL;
	in->lesson = g_strdup(lesson);
	in->kind = g_strdup(o->kind ? o->kind : "program");
	in->stream = g_strdup(o->stream ? o->stream : in->kind);
	in->mime = g_strdup(o->mime ? o->mime : mime_type(o->file));
	in->duration_ms = o->duration_ms > 0 ? o->duration_ms : -1;
	if (!parse_time_opt("started-at", o->started_at, &in->started_at) ||
	    !parse_time_opt("ended-at", o->ended_at, &in->ended_at))
		return NULL;
	fill_metadata(in, meta, settings);
	return g_steal_pointer(&in);
}

/* Default times from the file: it ended when last written, began a duration before. */
static void default_times(KtRecordingInfo *in, const struct stat *st)
{
	gint64 dur_s = in->duration_ms > 0 ? in->duration_ms / 1000 : 0;

	if (!in->ended_at)
		in->ended_at = in->started_at ? in->started_at + dur_s : (gint64)st->st_mtime;
	if (!in->started_at)
		in->started_at = in->ended_at - dur_s;
}

static int store_row(KtRecordings *store, KtRecordingInfo *in, const KtCliRecordingOptions *o,
                     const char *data_dir)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *sha = NULL;
	g_autoptr(KtRecordingInfo) stored = NULL;
	g_autoptr(GPtrArray) chapters = NULL;
	struct stat st;
	gint64 id;
	json_t *out;
	g_autofree char *text = NULL;

	path = kt_recordings_path(store, in);
	if (stat(path, &st) != 0 || !(sha = kt_recordings_sha256_file(path, &error))) {
		g_printerr(KT_CLI ": cannot read %s\n", path);
		return 1;
	}
	default_times(in, &st);
	id = kt_recordings_create(store, in, &error);
	for (guint i = 0; id && o->chapters && o->chapters[i]; i++) {
		gint64 at = 0;
		const char *title = "";

		parse_chapter(o->chapters[i], &at, &title);
		if (!kt_recordings_add_chapter(store, id, at, title, &error))
			id = 0;
	}
	if (!id ||
	    !kt_recordings_finish(store, id, in->ended_at, in->duration_ms, st.st_size, sha,
	                          &error) ||
	    !(stored = kt_recordings_get(store, id, &error)) ||
	    !(chapters = kt_recordings_chapters(store, id, &error))) {
		g_printerr(KT_CLI ": %s\n", error->message);
		return error->domain == KT_RECORDINGS_ERROR &&
		               error->code == KT_RECORDINGS_ERROR_INVALID
		           ? 2
		           : 1;
	}
	{
		g_autofree char *object = g_strdup_printf("recording/%" G_GINT64_FORMAT, id);

		kt_audit_cli(data_dir, "recording.add", object, NULL);
	}
	out = kt_api_recordings_to_json(stored, chapters);
	text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(out);
	printf("%s\n", text);
	return 0;
}

static int recording_add(const KtCliRecordingOptions *o, const char *lesson,
                         const KtCliLessonOptions *meta, const KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtRecordingInfo) in = build_row(o, lesson, meta, settings);
	g_autoptr(KtRecordings) store = NULL;

	if (!in)
		return 2;
	store = kt_recordings_open(settings->data_dir, &error);
	if (!store) {
		g_printerr(KT_CLI ": %s\n", error->message);
		return 1;
	}
	in->file = place_file(o->file, lesson, settings->data_dir, &error);
	if (!in->file) {
		g_printerr(KT_CLI ": %s\n", error->message);
		return 1;
	}
	return store_row(store, in, o, settings->data_dir);
}

int kt_cli_recording_run(const KtCliRecordingOptions *o, const char *lesson,
                         const KtCliLessonOptions *meta, const KtSettings *settings)
{
	if (o->action && strcmp(o->action, "add") == 0)
		return recording_add(o, lesson, meta, settings);
	g_printerr("usage: ketang recording add --lesson ID --file PATH [--kind program|source] "
	           "[--stream NAME] [--title T] [--subject S] [--grade G] [--teacher NAME] "
	           "[--classroom ROOM]... [--started-at TIME] [--ended-at TIME] "
	           "[--duration-ms N] [--mime TYPE] [--chapter MS:TITLE]...\n");
	return 2;
}

void kt_cli_recording_options_clear(KtCliRecordingOptions *o)
{
	g_free(o->file);
	g_free(o->kind);
	g_free(o->stream);
	g_free(o->mime);
	g_free(o->started_at);
	g_free(o->ended_at);
	g_strfreev(o->chapters);
}
