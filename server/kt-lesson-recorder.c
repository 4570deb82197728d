/* Recording of live lessons: a lesson's program, its sources, its catalog rows and chapters.
 * Each recorded source is in kt-recorded-source.c. */
#include "kt-lesson-recorder-private.h"

#include <gio/gio.h>
#include <gst/pbutils/pbutils.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kt-gst.h"
#include "kt-media-span.h"
#include "kt-media-trim.h"

/* What the program shows of each source (DESIGN.md "Streams"): table by who publishes what. */
static KtProgramSlot program_slot(const LessonRec *l, const RecSource *s)
{
	gboolean on_stage = s->participant && g_strcmp0(l->stage, s->participant) == 0;

	if (!s->active)
		return KT_PROGRAM_N_SLOTS;
	if (s->kind == KT_MEDIA_AUDIO)
		return s->teacher || on_stage ? KT_PROGRAM_SLOT_AUDIO : KT_PROGRAM_N_SLOTS;
	if (g_strcmp0(s->what, "courseware") == 0)
		return KT_PROGRAM_SLOT_COURSEWARE;
	if (s->teacher)
		return KT_PROGRAM_SLOT_TEACHER;
	return on_stage ? KT_PROGRAM_SLOT_STAGE : KT_PROGRAM_N_SLOTS;
}

static void update_program(LessonRec *l)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->sources);
	while (g_hash_table_iter_next(&it, NULL, &value))
		kt_rec_source_set_program_slot(value, program_slot(l, value));
}

/* ---- catalog rows ---- */

gboolean kt_lesson_rec_open_row(LessonRec *l, RecRow *row, const char *path, const char *kind,
                                const char *stream)
{
	const char *data_dir = l->rec->config.settings->data_dir;
	gsize n = strlen(data_dir);
	KtRecordingInfo in = l->meta;
	g_autoptr(GError) error = NULL;

	g_free(row->path);
	*row = (RecRow){.path = g_strdup(path), .started_us = g_get_real_time()};
	/* The catalog stores paths inside the data dir, relative to it. */
	g_return_val_if_fail(strncmp(path, data_dir, n) == 0 && path[n] == '/', FALSE);
	in.started_at = row->started_us / G_USEC_PER_SEC;
	in.kind = (char *)kind;
	in.stream = (char *)stream;
	in.file = (char *)path + n + 1;
	in.mime = "";
	row->id = kt_recordings_create(l->rec->config.catalog, &in, &error);
	if (!row->id)
		g_message("lesson %s: %s not in the catalog: %s", l->id, stream, error->message);
	return row->id != 0;
}

typedef struct {
	KtLessonRecorder *rec;
	gint64 id, ended_at, duration_ms, size;
	char *path, *sha256;
} Closing;

static void closing_free(gpointer data)
{
	Closing *c = data;

	g_free(c->path);
	g_free(c->sha256);
	g_free(c);
}

/* A worker thread: hashing an hour of video takes seconds, the control loop cannot wait. */
static void hash_in_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
	Closing *c = data;
	GStatBuf st;
	g_autoptr(GError) error = NULL;

	c->size = g_stat(c->path, &st) == 0 ? st.st_size : 0;
	c->sha256 = kt_recordings_sha256_file(c->path, &error);
	if (!c->sha256)
		g_message("recording %s: no SHA-256: %s", c->path, error->message);
	g_task_return_boolean(task, TRUE);
}

static void on_hashed(GObject *source, GAsyncResult *result, gpointer data)
{
	Closing *c = g_task_get_task_data(G_TASK(result));
	g_autoptr(GError) error = NULL;

	if (!kt_recordings_finish(c->rec->config.catalog, c->id, c->ended_at, c->duration_ms,
	                          c->size, c->sha256, &error))
		g_message("recording %" G_GINT64_FORMAT ": not completed: %s", c->id,
		          error->message);
	c->rec->finishing--;
}

void kt_lesson_rec_close_row(LessonRec *l, RecRow *row, gint64 duration_ms)
{
	Closing *c;
	g_autoptr(GTask) task = NULL;

	if (!row->id || row->failed)
		return;
	c = g_new0(Closing, 1);
	c->rec = l->rec;
	c->id = row->id;
	c->ended_at = g_get_real_time() / G_USEC_PER_SEC;
	c->duration_ms = duration_ms;
	c->path = g_strdup(row->path);
	task = g_task_new(NULL, NULL, on_hashed, NULL);
	g_task_set_task_data(task, c, closing_free);
	l->rec->finishing++;
	g_task_run_in_thread(task, hash_in_thread);
	row->id = 0;
}

void kt_lesson_rec_fail_row(LessonRec *l, RecRow *row, const char *stream, const GError *error)
{
	json_t *event;

	g_warning("lesson %s: recording of %s stopped: %s", l->id, stream, error->message);
	row->failed = TRUE;
	row->failed_at = g_get_real_time() / G_USEC_PER_SEC;
	row->fail_unsaved = TRUE;
	kt_lesson_rec_save_failure(l, row);
	if (!l->rec->config.event)
		return;
	event = json_pack("{s:s, s:s, s:s, s:s}", "type", "recording", "state", "failed", "stream",
	                  stream, "message", error->message);
	l->rec->config.event(l->id, event, l->rec->config.user_data);
	json_decref(event);
}

void kt_lesson_rec_save_failure(LessonRec *l, RecRow *row)
{
	g_autoptr(GError) error = NULL;

	if (!row->id || !row->fail_unsaved)
		return;
	/* On a full disk the catalog may not take the change either: the row stays
	 * "recording" (repaired on the next start) unless a later try succeeds. */
	if (kt_recordings_mark_failed(l->rec->config.catalog, row->id, row->failed_at, &error))
		row->fail_unsaved = FALSE;
	else
		g_message("recording %" G_GINT64_FORMAT ": not marked failed yet: %s", row->id,
		          error->message);
}

/* A chapter mark in every running recording of the lesson, at its own time. */
static void add_chapter(LessonRec *l, const char *title)
{
	gint64 now = g_get_real_time();
	GHashTableIter it;
	gpointer value;
	RecRow *rows[1 + 256];
	guint n = 0;

	rows[n++] = &l->program_row;
	g_hash_table_iter_init(&it, l->sources);
	while (g_hash_table_iter_next(&it, NULL, &value) && n < G_N_ELEMENTS(rows))
		rows[n++] = &((RecSource *)value)->row;
	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = NULL;

		if (rows[i]->id && !rows[i]->failed &&
		    !kt_recordings_add_chapter(l->rec->config.catalog, rows[i]->id,
		                               (now - rows[i]->started_us) / 1000, title, &error))
			g_message("lesson %s: chapter not added: %s", l->id, error->message);
	}
}

/* ---- program ---- */

static void on_program_error(KtProgramRecorder *r, const GError *error, gpointer data)
{
	LessonRec *l = data;

	l->program_failed = TRUE;
	kt_lesson_rec_fail_row(l, &l->program_row, "program", error);
}

static void on_program_keyframe(KtProgramRecorder *r, guint input, gpointer data)
{
	LessonRec *l = data;
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->sources);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((RecSource *)value)->input == input)
			kt_room_request_source_keyframe(l->room, ((RecSource *)value)->source);
}

/* The program's own sources in the room: WHEP viewers of the program subscribe to them. */
static void add_webrtc_sources(LessonRec *l)
{
	KtLessonProgram *w = &l->webrtc;

	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++)
		w->source[kind] =
		    kt_room_add_source(l->room, kind, &w->ssrc[kind],
		                       kind == KT_MEDIA_VIDEO ? &w->video_rtx_ssrc : NULL);
}

static void remove_webrtc_sources(LessonRec *l)
{
	for (guint kind = 0; kind < KT_MEDIA_N_KINDS; kind++)
		if (l->webrtc.source[kind])
			kt_room_remove_source(l->room, l->webrtc.source[kind]);
	memset(&l->webrtc, 0, sizeof(l->webrtc));
}

/* The program: into a file when recorded, as HLS when broadcast, or both from one encoding. */
static void start_program(LessonRec *l, gboolean file)
{
	const KtSettings *st = l->rec->config.settings;
	g_autofree char *path = file ? g_strdup_printf("%sprogram.mp4", l->base) : NULL;
	g_autoptr(GError) error = NULL;
	KtProgramRecorderConfig cfg = {
	    .width = st->program_width,
	    .height = st->program_height,
	    .fps = st->program_fps,
	    .video_kbps = st->program_kbps,
	    .epoch_us = l->epoch_us,
	    .hls_dir = l->live_dir,
	    .hls_segment_s = st->hls_segment_s,
	    .hls_window = st->hls_window,
	    .on_error = on_program_error,
	    .on_keyframe = on_program_keyframe,
	    .user_data = l,
	};

	add_webrtc_sources(l);
	cfg.room = l->room;
	cfg.video_source = l->webrtc.source[KT_MEDIA_VIDEO];
	cfg.audio_source = l->webrtc.source[KT_MEDIA_AUDIO];
	l->program = kt_program_recorder_new(path, &cfg, &error);
	if (!l->program) {
		g_warning("lesson %s: no program: %s", l->id, error->message);
		remove_webrtc_sources(l);
		return;
	}
	if (path)
		kt_lesson_rec_open_row(l, &l->program_row, path, "program", "program");
}

static void finish_program(LessonRec *l)
{
	g_autoptr(GError) error = NULL;

	if (!l->program)
		return;
	if (kt_program_recorder_stop(l->program, &error)) {
		kt_lesson_rec_close_row(l, &l->program_row,
		                        (g_get_real_time() - l->program_row.started_us) / 1000);
	} else if (!l->program_row.failed) {
		kt_lesson_rec_fail_row(l, &l->program_row, "program", error);
	}
	kt_lesson_rec_save_failure(l, &l->program_row);
	g_clear_pointer(&l->program, kt_program_recorder_free);
	remove_webrtc_sources(l); /* after the feeds are gone */
}

/* ---- the broadcast's directory ---- */

/* Removes @dir and the files in it (a live HLS directory has nothing else). */
static void remove_flat_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_remove(path);
	}
	g_rmdir(dir);
}

/* DATA/live/<lesson>, empty: what an earlier run of the same lesson (or a crash) left goes. */
static char *make_live_dir(const KtSettings *st, const char *id)
{
	char *dir = g_build_filename(st->data_dir, "live", id, NULL);

	remove_flat_dir(dir);
	if (g_mkdir_with_parents(dir, 0700) == 0)
		return dir;
	g_warning("lesson %s: not broadcast: cannot create %s: %s", id, dir, g_strerror(errno));
	g_free(dir);
	return NULL;
}

/* ---- lessons ---- */

/* @info: the lesson as scheduled, NULL for one the catalog does not know. */
static void fill_meta(LessonRec *l, const KtLessonInfo *info)
{
	l->meta.lesson = g_strdup(l->id);
	l->meta.title = g_strdup(info && *info->title ? info->title : l->id);
	l->meta.subject = g_strdup(info ? info->subject : "");
	l->meta.grade = g_strdup(info ? info->grade : "");
	l->meta.teacher = g_strdup(info ? info->teacher : "");
	l->meta.classrooms = info ? g_strdupv(info->classrooms) : g_new0(char *, 1);
}

static void lesson_rec_free(gpointer data)
{
	LessonRec *l = data;
	GHashTableIter it;
	gpointer value;

	/* Sources first: they push into the program. */
	g_hash_table_iter_init(&it, l->sources);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		kt_rec_source_finish(value);
		g_hash_table_iter_remove(&it);
	}
	g_hash_table_unref(l->sources);
	finish_program(l);
	/* The broadcast is over; its segments are not a recording. */
	if (l->live_dir)
		remove_flat_dir(l->live_dir);
	g_free(l->live_dir);
	g_free(l->program_row.path);
	kt_room_unref(l->room);
	g_free(l->meta.lesson);
	g_free(l->meta.title);
	g_free(l->meta.subject);
	g_free(l->meta.grade);
	g_free(l->meta.teacher);
	g_strfreev(l->meta.classrooms);
	g_free(l->base);
	g_free(l->stage);
	g_free(l->id);
	g_free(l);
}

/* Broadcasts a crash left behind: no lesson is live when the server starts. */
static void remove_stale_broadcasts(const KtSettings *st)
{
	g_autofree char *live = g_build_filename(st->data_dir, "live", NULL);
	g_autoptr(GDir) d = g_dir_open(live, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *dir = g_build_filename(live, name, NULL);

		remove_flat_dir(dir);
	}
}

KtLessonRecorder *kt_lesson_recorder_new(const KtLessonRecorderConfig *config)
{
	KtLessonRecorder *rec = g_new0(KtLessonRecorder, 1);

	rec->config = *config;
	rec->lessons = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, lesson_rec_free);
	kt_gst_init();
	remove_stale_broadcasts(config->settings);
	return rec;
}

void kt_lesson_recorder_free(KtLessonRecorder *rec)
{
	if (!rec)
		return;
	g_hash_table_unref(rec->lessons);
	/* The rows being completed must reach the catalog before it closes. */
	while (rec->finishing)
		g_main_context_iteration(NULL, TRUE);
	g_free(rec);
}

static RecSource *add_source(LessonRec *l, guint source, KtMediaKind kind, const char *what,
                             const char *stream, gboolean teacher)
{
	RecSource *s = kt_rec_source_new(l, source, kind, what, stream, teacher);

	g_hash_table_insert(l->sources, GUINT_TO_POINTER(source), s);
	return s;
}

void kt_lesson_recorder_start(KtLessonRecorder *rec, KtLesson *lesson)
{
	const KtSettings *st = rec->config.settings;
	const char *id = kt_lesson_get_id(lesson);
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
	g_autofree char *dir = g_build_filename(st->data_dir, "recordings", id, NULL);
	KtLessonStore *store = rec->config.lessons;
	g_autoptr(KtLessonInfo) info = NULL;
	gboolean files;
	LessonRec *l;
	RecSource *s;

	if (!(st->record || st->hls) || g_hash_table_contains(rec->lessons, id))
		return;
	info = store ? kt_lesson_store_get(store, id, NULL) : NULL;
	files = st->record && !(info && info->no_recording);
	if (st->record && !files)
		g_message("lesson %s: not recorded (scheduled with \"record\": false)", id);
	if (files && g_mkdir_with_parents(dir, 0700) != 0) {
		g_warning("lesson %s: not recorded: cannot create %s: %s", id, dir,
		          g_strerror(errno));
		files = FALSE;
	}
	l = g_new0(LessonRec, 1);
	l->rec = rec;
	l->id = g_strdup(id);
	l->files = files;
	l->live_dir = st->hls ? make_live_dir(st, id) : NULL;
	if (!files && !l->live_dir) {
		g_free(l->id);
		g_free(l);
		return;
	}
	l->room = kt_room_ref(kt_lesson_get_room(lesson));
	l->epoch_us = g_get_monotonic_time();
	l->base = g_strdup_printf("%s/%s-", dir, stamp);
	l->sources = g_hash_table_new(NULL, NULL);
	fill_meta(l, info);
	g_hash_table_insert(rec->lessons, l->id, l);
	if ((files && st->record_program) || l->live_dir)
		start_program(l, files && st->record_program);
	/* The teacher's camera and audio are the room's defaults, fed by WHIP or the teacher
	 * page alike: recorded from the start. */
	s = add_source(l, kt_room_get_default_source(l->room, KT_MEDIA_VIDEO), KT_MEDIA_VIDEO,
	               "camera", "teacher-camera", TRUE);
	s->active = TRUE;
	s = add_source(l, kt_room_get_default_source(l->room, KT_MEDIA_AUDIO), KT_MEDIA_AUDIO,
	               "audio", "teacher-audio", TRUE);
	s->active = TRUE;
	update_program(l);
	if (files)
		g_message("lesson %s: recording into %s", id, dir);
	if (l->live_dir)
		g_message("lesson %s: broadcast as HLS from %s", id, l->live_dir);
}

void kt_lesson_recorder_end(KtLessonRecorder *rec, const char *lesson)
{
	g_hash_table_remove(rec->lessons, lesson);
}

void kt_lesson_recorder_source(KtLessonRecorder *rec, const KtLessonMediaSource *src)
{
	LessonRec *l = g_hash_table_lookup(rec->lessons, src->lesson);
	RecSource *s;
	gboolean was_active;

	if (!l)
		return;
	s = g_hash_table_lookup(l->sources, GUINT_TO_POINTER(src->source));
	if (!s && !src->active)
		return;
	if (!s) {
		gboolean teacher = src->role == KT_ROLE_TEACHER;
		g_autofree char *stream =
		    teacher && g_strcmp0(src->what, "courseware") == 0
		        ? g_strdup("courseware")
		        : g_strdup_printf("%s-%s", teacher ? "teacher" : src->name, src->what);

		s = add_source(l, src->source, src->kind, src->what, stream, teacher);
	}
	was_active = s->active;
	s->active = src->active;
	g_free(s->participant);
	s->participant = g_strdup(src->participant);
	update_program(l);
	if (g_strcmp0(s->what, "courseware") == 0 && was_active != s->active)
		add_chapter(l, s->active ? "课件开始 Courseware started"
		                         : "课件结束 Courseware stopped");
}

void kt_lesson_recorder_stage(KtLessonRecorder *rec, const char *lesson, const char *participant,
                              const char *name)
{
	LessonRec *l = g_hash_table_lookup(rec->lessons, lesson);
	g_autofree char *title = NULL;

	if (!l || g_strcmp0(l->stage, participant) == 0)
		return;
	g_free(l->stage);
	l->stage = g_strdup(participant);
	update_program(l);
	title = participant ? g_strdup_printf("上台 On stage: %s", name ? name : participant)
	                    : g_strdup("下台 Off stage");
	add_chapter(l, title);
}

gboolean kt_lesson_recorder_get_program(KtLessonRecorder *rec, const char *lesson,
                                        KtLessonProgram *out)
{
	LessonRec *l = g_hash_table_lookup(rec->lessons, lesson);

	if (!l || !l->program || l->program_failed)
		return FALSE;
	*out = l->webrtc;
	return TRUE;
}

void kt_lesson_recorder_program_viewer(KtLessonRecorder *rec, const char *lesson, gboolean joined)
{
	LessonRec *l = g_hash_table_lookup(rec->lessons, lesson);

	if (!l)
		return;
	g_return_if_fail(joined || l->program_viewers > 0);
	l->program_viewers += joined ? 1 : -1;
	if (l->program)
		kt_program_recorder_set_webrtc_active(l->program, l->program_viewers > 0);
}

gint64 kt_lesson_recorder_probe_duration(const char *path, gpointer user_data)
{
	g_autoptr(GstDiscoverer) d = NULL;
	g_autoptr(GstDiscovererInfo) info = NULL;
	g_autofree char *uri = gst_filename_to_uri(path, NULL);
	GstClockTime duration;
	gint64 span_ms;

	/* A crash can leave half a fragment or cluster at the end: cut it first, so the file
	 * decodes cleanly (a file that is already complete is left as it is). */
	kt_media_trim_incomplete(path, NULL, NULL);
	kt_gst_init();
	d = gst_discoverer_new(5 * GST_SECOND, NULL);
	info = d && uri ? gst_discoverer_discover_uri(d, uri, NULL) : NULL;
	if (!info || gst_discoverer_info_get_result(info) != GST_DISCOVERER_OK)
		return -1;
	/* The headers of a file the crash cut do not know its length (kt-media-span.h):
	 * the packets do. */
	span_ms = kt_media_span_ms(path, 60, NULL);
	if (span_ms > 0)
		return span_ms;
	duration = gst_discoverer_info_get_duration(info);
	return GST_CLOCK_TIME_IS_VALID(duration) && duration > 0 ? (gint64)(duration / GST_MSECOND)
	                                                         : -1;
}
