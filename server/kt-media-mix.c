/* Mix-minus audio in a lesson's routing: a classroom that asked for it
 * (`audio` "mix", PROTOCOL.md) receives one audio stream, the mix of every
 * audible microphone but its own (kt-lesson-mix.h), instead of one track per
 * speaker; its video is routed as before. The mix runs while at least one
 * classroom wants it. Heard in every mix: the teacher always, and every
 * classroom that is not muted (the on-stage one included) — the issue's
 * "teacher, on-stage classroom and any other unmuted classroom". */
#include "kt-lesson-media-private.h"

#include "kt-lesson-mix.h"

/* A classroom's mix source, kept by its name like its published sources: a
 * rejoin receives the same SSRC. */
typedef struct {
	guint source;
	guint32 ssrc, rtx_ssrc;
} MixSource;

struct _MediaMix {
	KtLessonMix *mix;    /* NULL while nobody wants it */
	GHashTable *sources; /* name → MixSource* */
	gboolean failed;     /* the last start failed: logged once, audio stays forwarded */
};

static MediaMix *media_mix_of(MediaLesson *l)
{
	if (!l->mix) {
		l->mix = g_new0(MediaMix, 1);
		l->mix->sources = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	}
	return l->mix;
}

static MixSource *mix_source_for(MediaLesson *l, Participant *p)
{
	MediaMix *mm = media_mix_of(l);
	MixSource *s = g_hash_table_lookup(mm->sources, p->name);

	if (!s) {
		s = g_new0(MixSource, 1);
		s->source = kt_room_add_source(kt_lesson_get_room(l->live), KT_MEDIA_AUDIO,
		                               &s->ssrc, &s->rtx_ssrc);
		g_hash_table_insert(mm->sources, g_strdup(p->name), s);
	}
	return s;
}

/* Who is heard in the mixes (see the top of this file). */
static gboolean audible(const Participant *p)
{
	return p->role == KT_ROLE_TEACHER || !p->muted;
}

static gboolean wants_mix(Participant *p)
{
	return p->role == KT_ROLE_CLASSROOM && p->audio_mix;
}

static void set_mix(MediaLesson *l, GArray *inputs, GArray *outputs)
{
	KtRoom *room = kt_lesson_get_room(l->live);
	KtLessonMixInput teacher = {
	    /* The room's default audio: the teacher's, whether published over the
	     * lesson WebSocket or WHIP. Nobody's own, so every mix hears it. */
	    .source = kt_room_get_default_source(room, KT_MEDIA_AUDIO),
	    .audible = TRUE,
	};
	GHashTableIter it;
	gpointer value;

	g_array_append_val(inputs, teacher);
	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *p = value;

		if (p->role == KT_ROLE_CLASSROOM && p->source[KT_SRC_AUDIO]) {
			KtLessonMixInput in = {p->source[KT_SRC_AUDIO], p->id, audible(p)};

			g_array_append_val(inputs, in);
		}
		if (wants_mix(p)) {
			KtLessonMixOutput out = {p->id, mix_source_for(l, p)->source};

			g_array_append_val(outputs, out);
		}
	}
}

void kt_media_mix_update(MediaLesson *l)
{
	const KtSettings *st = l->media->config.settings;
	g_autoptr(GArray) inputs = g_array_new(FALSE, TRUE, sizeof(KtLessonMixInput));
	g_autoptr(GArray) outputs = g_array_new(FALSE, TRUE, sizeof(KtLessonMixOutput));
	MediaMix *mm;

	set_mix(l, inputs, outputs);
	if (outputs->len == 0) {
		if (l->mix && l->mix->mix) {
			g_message("lesson %s: the audio mix stopped (no classroom wants it)",
			          l->id);
			g_clear_pointer(&l->mix->mix, kt_lesson_mix_free);
		}
		return;
	}
	mm = media_mix_of(l);
	if (!mm->mix) {
		g_autoptr(GError) error = NULL;
		KtLessonMixConfig cfg = {
		    .lesson = l->id,
		    .room = kt_lesson_get_room(l->live),
		    .kbps = st ? (guint)st->mix_kbps : 0,
		};

		mm->mix = kt_lesson_mix_new(&cfg, &error);
		if (!mm->mix) {
			if (!mm->failed)
				g_warning("lesson %s: no audio mix (%s); audio stays forwarded",
				          l->id, error->message);
			mm->failed = TRUE;
			return;
		}
		mm->failed = FALSE;
		g_message("lesson %s: the audio mix started", l->id);
	}
	kt_lesson_mix_set(mm->mix, (KtLessonMixInput *)inputs->data, inputs->len,
	                  (KtLessonMixOutput *)outputs->data, outputs->len);
}

void kt_media_mix_want(MediaLesson *l, Participant *p, GPtrArray *wanted)
{
	MixSource *ms;
	SubSlot *s;

	if (!wants_mix(p) || !l->mix || !l->mix->mix)
		return; /* no mix running: the speakers' tracks are forwarded */
	ms = g_hash_table_lookup(l->mix->sources, p->name);
	if (!ms)
		return;
	for (guint i = wanted->len; i-- > 0;)
		if (((SubSlot *)g_ptr_array_index(wanted, i))->kind == KT_MEDIA_AUDIO)
			g_ptr_array_remove_index(wanted, i);
	s = g_new0(SubSlot, 1);
	s->kind = KT_MEDIA_AUDIO;
	s->active = TRUE;
	s->source = ms->source;
	s->ssrc = ms->ssrc;
	s->rtx_ssrc = ms->rtx_ssrc;
	s->name = KT_SRC_MIX;
	/* Made for @p: its streams entry names it ({participant: p, source: "mix"}). */
	g_strlcpy(s->from, p->id, sizeof(s->from));
	g_ptr_array_add(wanted, s);
}

void kt_media_mix_close(MediaLesson *l)
{
	GHashTableIter it;
	gpointer value;

	if (!l->mix)
		return;
	kt_lesson_mix_free(l->mix->mix);
	g_hash_table_iter_init(&it, l->mix->sources);
	while (g_hash_table_iter_next(&it, NULL, &value))
		kt_room_remove_source(kt_lesson_get_room(l->live), ((MixSource *)value)->source);
	g_hash_table_unref(l->mix->sources);
	g_clear_pointer(&l->mix, g_free);
}

bool kt_lesson_media_set_audio(KtLessonMedia *m, const char *lesson, const char *participant,
                               const char *mode, GError **error)
{
	MediaLesson *l = g_hash_table_lookup(m->lessons, lesson);
	Participant *p = l ? g_hash_table_lookup(l->participants, participant) : NULL;
	gboolean mix = g_strcmp0(mode, "mix") == 0;

	if (!p) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_WRONG_STATE,
		            "participant %s has no media in lesson %s", participant, lesson);
		return FALSE;
	}
	if (p->role != KT_ROLE_CLASSROOM) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_WRONG_ROLE,
		            "only a classroom chooses its audio");
		return FALSE;
	}
	if (!mix && g_strcmp0(mode, "forward") != 0) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
		            "mode: must be one of mix, forward");
		return FALSE;
	}
	if (mix && m->config.settings && !m->config.settings->mix) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_UNAVAILABLE,
		            "the audio mix is off on this server ([mix] enabled = false)");
		return FALSE;
	}
	if (p->audio_mix == mix)
		return TRUE;
	p->audio_mix = mix;
	kt_lesson_media_route(l); /* starts or stops the mix, offers the subscription again */
	if (mix && (!l->mix || !l->mix->mix)) {
		p->audio_mix = FALSE;
		kt_lesson_media_route(l);
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_UNAVAILABLE,
		            "the audio mix cannot start on this server; audio stays forwarded");
		return FALSE;
	}
	return TRUE;
}
