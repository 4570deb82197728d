/* One recorded room source: a tap on the room (media worker) feeding its own file and, while
 * the layout wants it, an input of the lesson's program. */
#include "kt-lesson-recorder-private.h"

static RecSource *rec_source_ref(RecSource *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

static void rec_source_unref(gpointer data)
{
	RecSource *s = data;

	if (!g_atomic_int_dec_and_test(&s->refs))
		return;
	g_mutex_clear(&s->lock);
	g_free(s->what);
	g_free(s->stream);
	g_free(s->participant);
	g_free(s->row.path);
	g_free(s);
}

/* Media worker: every packet the room forwards for the source (what the lesson heard). */
static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	RecSource *s = data;

	g_mutex_lock(&s->lock);
	if (s->push_to)
		kt_source_recorder_push(s->push_to, rtp, len, codec);
	if (s->input)
		kt_program_recorder_push(s->program, s->input, rtp, len, codec);
	g_mutex_unlock(&s->lock);
}

static void on_keyframe(KtSourceRecorder *r, gpointer data)
{
	RecSource *s = data;

	kt_room_request_source_keyframe(s->lesson->room, s->source);
}

/* Duration of the file being closed: from its first byte (or the recorder's first packet)
 * to the recorder's last packet. */
static gint64 file_duration_ms(RecSource *s)
{
	KtSourceRecorderStats st;
	gint64 from;

	kt_source_recorder_get_stats(s->recorder, &st);
	if (!st.packets)
		return -1;
	from = MAX(st.first_wall_us, s->row.started_us);
	return st.last_wall_us > from ? (st.last_wall_us - from) / 1000 : 0;
}

/* A file began: the first, or the next one after a codec change (the previous is final). */
static void on_file(KtSourceRecorder *r, const char *path, gpointer data)
{
	RecSource *s = data;

	if (s->row.id)
		kt_lesson_rec_close_row(s->lesson, &s->row, file_duration_ms(s));
	kt_lesson_rec_open_row(s->lesson, &s->row, path, "source", s->stream);
}

static void on_error(KtSourceRecorder *r, const GError *error, gpointer data)
{
	RecSource *s = data;

	kt_lesson_rec_fail_row(s->lesson, &s->row, s->stream, error);
}

/* File names keep letters of any script (classroom names are Chinese) and replace what a
 * file system or a shell would trip on. */
static char *file_safe(const char *name)
{
	GString *out = g_string_new(NULL);

	for (const char *c = name; *c; c = g_utf8_next_char(c)) {
		gunichar u = g_utf8_get_char_validated(c, -1);

		if (u == (gunichar)-1 || u == (gunichar)-2)
			break;
		if (g_unichar_isalnum(u) || u == '-' || u == '_')
			g_string_append_unichar(out, u);
		else
			g_string_append_c(out, '_');
	}
	return g_string_free(out, FALSE);
}

RecSource *kt_rec_source_new(LessonRec *l, guint source, KtMediaKind kind, const char *what,
                             const char *stream, gboolean teacher)
{
	RecSource *s = g_new0(RecSource, 1);
	g_autofree char *safe = file_safe(stream);
	g_autofree char *base = g_strdup_printf("%s%s-%u", l->base, safe, source);
	g_autoptr(GError) error = NULL;
	KtSourceRecorderConfig cfg = {
	    .epoch_us = l->epoch_us,
	    .on_error = on_error,
	    .on_keyframe = on_keyframe,
	    .on_file = on_file,
	    .user_data = s,
	};

	s->refs = 1;
	g_mutex_init(&s->lock);
	s->lesson = l;
	s->source = source;
	s->kind = kind;
	s->what = g_strdup(what);
	s->stream = g_strdup(stream);
	s->teacher = teacher;
	s->slot = KT_PROGRAM_N_SLOTS;
	s->program = l->program;
	s->recorder =
	    l->files ? kt_source_recorder_new(base, kind, kind == KT_MEDIA_AUDIO ? 48000 : 90000,
	                                      &cfg, &error)
	             : NULL;
	if (!s->recorder && l->files)
		g_message("lesson %s: %s not recorded: %s", l->id, stream, error->message);
	s->push_to = s->recorder;
	s->tap = kt_room_add_tap(l->room, source, on_tap, rec_source_ref(s), rec_source_unref);
	return s;
}

void kt_rec_source_set_program_slot(RecSource *s, KtProgramSlot slot)
{
	KtProgramRecorder *program = s->lesson->program;
	guint old = s->input, input = 0;

	if (!program || (slot == s->slot && (old || slot == KT_PROGRAM_N_SLOTS)))
		return;
	if (slot != KT_PROGRAM_N_SLOTS)
		input = kt_program_recorder_add_input(program, slot,
		                                      s->kind == KT_MEDIA_AUDIO ? 48000 : 90000);
	g_mutex_lock(&s->lock);
	s->input = input;
	g_mutex_unlock(&s->lock);
	/* After the swap: the worker no longer pushes to the old input. */
	if (old)
		kt_program_recorder_remove_input(program, old);
	s->slot = slot;
	if (input && s->kind == KT_MEDIA_VIDEO)
		kt_room_request_source_keyframe(s->lesson->room, s->source);
}

void kt_rec_source_finish(RecSource *s)
{
	g_autoptr(GError) error = NULL;

	kt_rec_source_set_program_slot(s, KT_PROGRAM_N_SLOTS);
	g_mutex_lock(&s->lock);
	s->push_to = NULL;
	g_mutex_unlock(&s->lock);
	kt_room_remove_tap(s->lesson->room, s->tap);
	if (s->recorder) {
		gint64 duration;

		/* Failed recordings were reported when they failed. */
		if (kt_source_recorder_stop(s->recorder, &error) && s->row.id && !s->row.failed) {
			duration = file_duration_ms(s);
			kt_lesson_rec_close_row(s->lesson, &s->row, duration);
		} else if (error && !s->row.failed) {
			kt_lesson_rec_fail_row(s->lesson, &s->row, s->stream, error);
		}
		kt_lesson_rec_save_failure(s->lesson, &s->row);
		kt_source_recorder_free(s->recorder);
		s->recorder = NULL;
	}
	rec_source_unref(s);
}
