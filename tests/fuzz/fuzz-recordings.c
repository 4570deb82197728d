/* The archive API's list query (GET /api/recordings?lesson=&teacher=&subject=&grade=&kind=
 * &from=&to=&q=&limit=&offset=) and the strings it answers with. Input: those ten values,
 * one a line, as kt-api-recordings.c hands them on after lws has split the query. They
 * run against a scratch catalog of a few recordings whose titles and names hold LIKE's
 * special characters (%, _, \) and UTF-8: the total must be what the filter says, the page
 * what limit and offset say, and every row must match. The same strings, as a recording's
 * title, lesson and stream, go through the JSON and the download file name (no path
 * separator, quote or control character). Aborts when a property fails. */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "fuzz.h"
#include "kt-api-lessons.h"
#include "kt-api-recordings.h"
#include "kt-recordings.h"

typedef struct {
	const char *lesson, *title, *subject, *grade, *teacher, *kind;
	gint64 started_at;
} Row;

static const Row rows[] = {
    {"l1", "Maths 100% sure", "math", "g1", "Wang_Li", "program", 1700000000},
    {"l2", "数学 Review", "数学", "初一", "张老师", "source", 1700003600},
    {"l1", "back\\slash", "phys", "g2", "Li", "source", 1700007200},
    {"lesson-x", "", "", "", "", "program", 1600000000},
    {"l3", "Under_score %", "chem", "g3", "Wang%Li", "program", 1800000000},
};

static KtRecordings *store;
static char *data_dir;

static void remove_store(void)
{
	g_autofree char *db = g_build_filename(data_dir, KT_RECORDINGS_FILE, NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	kt_recordings_free(store);
	g_remove(db);
	g_remove(wal);
	g_remove(shm);
	g_rmdir(data_dir);
	g_free(data_dir);
}

static void open_store(void)
{
	data_dir = g_dir_make_tmp("kt-fuzz-rec-XXXXXX", NULL);
	store = data_dir ? kt_recordings_open(data_dir, NULL) : NULL;
	if (!store)
		abort();
	atexit(remove_store);
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autofree char *file = g_strdup_printf("recordings/r%u/program.mp4", i);
		KtRecordingInfo in = {.lesson = (char *)rows[i].lesson,
		                      .title = (char *)rows[i].title,
		                      .subject = (char *)rows[i].subject,
		                      .grade = (char *)rows[i].grade,
		                      .teacher = (char *)rows[i].teacher,
		                      .started_at = rows[i].started_at,
		                      .kind = (char *)rows[i].kind,
		                      .stream = "program",
		                      .file = file,
		                      .mime = "video/mp4"};

		if (kt_recordings_create(store, &in, NULL) <= 0)
			abort();
	}
}

static gboolean ascii_contains(const char *hay, const char *needle)
{
	g_autofree char *h = g_ascii_strdown(hay, -1);
	g_autofree char *n = g_ascii_strdown(needle, -1);

	return strstr(h, n) != NULL;
}

static gboolean exact(const char *want, const char *have)
{
	return !want || !*want || strcmp(want, have) == 0;
}

static gboolean row_matches(const KtRecordingFilter *f, const char *lesson, const char *title,
                            const char *subject, const char *grade, const char *teacher,
                            const char *kind, gint64 started_at)
{
	return exact(f->lesson, lesson) && exact(f->teacher, teacher) &&
	       exact(f->subject, subject) && exact(f->grade, grade) && exact(f->kind, kind) &&
	       (f->from <= 0 || started_at >= f->from) && (f->to <= 0 || started_at < f->to) &&
	       (!f->text || !*f->text || ascii_contains(title, f->text) ||
	        ascii_contains(teacher, f->text) || ascii_contains(subject, f->text));
}

static gboolean read_time(const char *v, gint64 *out)
{
	*out = 0;
	return !v || !*v || kt_api_lessons_parse_time(v, out, NULL);
}

static void list(char **v, guint n)
{
	const char *arg[10] = {0};
	KtRecordingFilter f;
	guint64 limit = 50, offset = 0;
	guint total = 0, want = 0;
	g_autoptr(GPtrArray) got = NULL;

	for (guint i = 0; i < MIN(n, 10); i++)
		arg[i] = v[i];
	f = (KtRecordingFilter){.lesson = arg[0],
	                        .teacher = arg[1],
	                        .subject = arg[2],
	                        .grade = arg[3],
	                        .kind = arg[4],
	                        .text = arg[7]};
	/* What the API refuses with 400 never reaches the catalog. */
	if ((f.kind && *f.kind && strcmp(f.kind, "program") != 0 &&
	     strcmp(f.kind, "source") != 0) ||
	    !read_time(arg[5], &f.from) || !read_time(arg[6], &f.to) ||
	    (arg[8] && !g_ascii_string_to_unsigned(arg[8], 10, 1, 500, &limit, NULL)) ||
	    (arg[9] && !g_ascii_string_to_unsigned(arg[9], 10, 0, G_MAXINT32, &offset, NULL)))
		return;
	got = kt_recordings_list(store, &f, (guint)limit, (guint)offset, &total, NULL);
	if (!got)
		abort();
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
		want +=
		    row_matches(&f, rows[i].lesson, rows[i].title, rows[i].subject, rows[i].grade,
		                rows[i].teacher, rows[i].kind, rows[i].started_at);
	/* SQLite's LIKE reads characters: byte substrings agree with it on valid UTF-8. */
	if (f.text && !g_utf8_validate(f.text, -1, NULL))
		return;
	if (total != want || got->len != MIN(limit, want > offset ? want - offset : 0))
		abort();
	for (guint i = 0; i < got->len; i++) {
		const KtRecordingInfo *r = got->pdata[i];

		if (!row_matches(&f, r->lesson, r->title, r->subject, r->grade, r->teacher, r->kind,
		                 r->started_at))
			abort();
	}
}

/* The fuzzed strings as a stored recording's, into the answers built from them. */
static void answer(char **v, guint n)
{
	KtRecordingInfo info = {.id = 7,
	                        .lesson = v[0],
	                        .title = n > 1 ? v[1] : "",
	                        .subject = n > 2 ? v[2] : "",
	                        .grade = "",
	                        .teacher = "",
	                        .started_at = 1700000000,
	                        .duration_ms = -1,
	                        .kind = "program",
	                        .stream = n > 3 ? v[3] : "program",
	                        .file = "recordings/x/program.mp4",
	                        .mime = "video/mp4",
	                        .sha256 = "",
	                        .state = "complete"};
	g_autofree char *name = kt_api_recordings_download_name(&info);
	json_t *j = kt_api_recordings_to_json(&info, NULL);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	if (!text || !g_str_has_suffix(name, ".mp4"))
		abort();
	for (const char *p = name; *p; p++)
		if (strchr("/\\\"", *p) || (guchar)*p < 0x20 || *p == 0x7f)
			abort();
	free(text);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) v = NULL;
	guint n;

	if (size > 4096)
		return 0;
	if (!store)
		open_store();
	text = g_strndup((const char *)data, size);
	v = g_strsplit(text, "\n", 10);
	n = g_strv_length(v);
	if (n == 0)
		return 0;
	list(v, n);
	answer(v, n);
	return 0;
}
