/* Lesson sources that are not browsers (issue 6 item 5): an RTSP camera or an
 * RTMP encoder scheduled with the lesson ("sources" in POST /api/lessons) runs
 * while the lesson is live, as a participant without connections of its own:
 *
 *   KtIngest (pull, decode, scale to the top rung at most) -> decoded
 *     pictures -> KtLadder (one VP8 encode per rung) -> the participant's
 *     camera or courseware source, layered like simulcast
 *   KtIngest's sound (Opus) -> the participant's audio source
 *
 * Routing treats it like a browser of its role ("teacher": camera and sound
 * to every classroom; "courseware": the teacher's courseware; "classroom":
 * to the teacher and the wall), so each subscriber gets the rung its link
 * carries. The roster does not list it (no hand, no stage, no mute yet):
 * pages learn of it from the `sources` message, sent at join and whenever a
 * source changes state (CONNECTING, LIVE, RECONNECTING with the reason).
 *
 * Failures: the ingest retries on its own with backoff (kt-ingest.h); the
 * ladder is rebuilt by kt-source-ladder.h. Neither stops the lesson.
 *
 * Threads: control loop. */
#include "kt-lesson-media-private.h"

#include "kt-ingest.h"
#include "kt-source-ladder.h"

static const struct {
	const char *role;
	KtRole as;
	KtSourceName video;
	gboolean audio;
} feed_roles[] = {
    {"teacher", KT_ROLE_TEACHER, KT_SRC_CAMERA, TRUE},
    {"courseware", KT_ROLE_TEACHER, KT_SRC_COURSEWARE, FALSE},
    {"classroom", KT_ROLE_CLASSROOM, KT_SRC_CAMERA, TRUE},
};

static const char *const state_names[] = {
    [KT_INGEST_CONNECTING] = "connecting",
    [KT_INGEST_LIVE] = "live",
    [KT_INGEST_RECONNECTING] = "reconnecting",
};

struct _MediaFeed {
	MediaLesson *lesson;
	Participant *p; /* owned by lesson->participants */
	guint role;     /* index in feed_roles */
	char *url;
	KtIngest *ingest;
	KtSourceLadder *ladder; /* its pictures -> the participant's camera or courseware */
	KtIngestState state;
	char *reason;
	guint retry_s;
	gboolean was_live;
};

static KtRoom *room_of(MediaFeed *f)
{
	return kt_lesson_get_room(f->lesson->live);
}

/* ---- the sources message ---- */

static json_t *feed_json(MediaFeed *f)
{
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:o, s:i}", "id", f->p->id, "role", feed_roles[f->role].role,
	    "source", kt_source_name_to_string(feed_roles[f->role].video), "name", f->p->name,
	    "state", state_names[f->state], "reason",
	    f->reason ? json_string(f->reason) : json_null(), "retry_s", (int)f->retry_s);
}

static json_t *sources_msg(MediaLesson *l)
{
	json_t *list = json_array();

	for (guint i = 0; i < l->feeds->len; i++)
		json_array_append_new(list, feed_json(g_ptr_array_index(l->feeds, i)));
	return json_pack("{s:s, s:o}", "type", "sources", "sources", list);
}

void kt_media_feed_announce(MediaLesson *l, Participant *to)
{
	GHashTableIter it;
	gpointer value;

	if (!l->feeds || l->feeds->len == 0)
		return;
	if (to) {
		kt_lesson_media_send(l, to, sources_msg(l));
		return;
	}
	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (!((Participant *)value)->feed)
			kt_lesson_media_send(l, value, sources_msg(l));
}

/* ---- the ingest ---- */

static void on_ingest_state(KtIngest *in, KtIngestState state, const char *reason, guint retry_s,
                            gpointer data)
{
	MediaFeed *f = data;
	MediaLesson *l = f->lesson;

	f->state = state;
	f->retry_s = retry_s;
	g_free(f->reason);
	f->reason = g_strdup(reason);
	if (state == KT_INGEST_LIVE && !f->was_live) {
		/* First media: the recorder and the wall take it from here on. */
		f->was_live = TRUE;
		kt_lesson_media_source_active(l, f->p, feed_roles[f->role].video, TRUE);
		if (feed_roles[f->role].audio)
			kt_lesson_media_source_active(l, f->p, KT_SRC_AUDIO, TRUE);
		kt_media_wall_update(l);
	}
	kt_media_feed_announce(l, NULL);
}

/* The ingest's streaming thread: a decoded picture for the ladder. */
static void on_picture(KtIngest *in, GstSample *picture, gpointer data)
{
	kt_source_ladder_push_frame(((MediaFeed *)data)->ladder, picture);
}

static gboolean start_ingest(MediaFeed *f, GError **error)
{
	KtLadderRung top[KT_LADDER_MAX_RUNGS] = {0};
	guint n = kt_source_ladder_rungs(f->lesson->media->config.settings, top);
	KtIngestConfig cfg = {
	    .url = f->url,
	    .no_audio = !feed_roles[f->role].audio,
	    .on_state = on_ingest_state,
	    .on_frame = on_picture,
	    .user_data = f,
	};

	/* The ingest scales the decoded picture down to the largest rung at most
	 * and hands it to the ladder, which encodes each rung from it. */
	for (guint i = 0; i < n; i++) {
		cfg.max_width = MAX(cfg.max_width, top[i].width);
		cfg.max_height = MAX(cfg.max_height, top[i].height);
	}
	if (feed_roles[f->role].audio)
		cfg.audio_source = f->p->source[KT_SRC_AUDIO];
	f->ingest = kt_ingest_new(room_of(f), &cfg, error);
	return f->ingest != NULL;
}

/* ---- lifecycle ---- */

static void feed_free(MediaFeed *f)
{

	kt_ingest_free(f->ingest);
	kt_source_ladder_free(f->ladder);
	/* Its participant reports its sources inactive as it goes. */
	g_hash_table_remove(f->lesson->participants, f->p->id);
	g_free(f->reason);
	g_free(f->url);
	g_free(f);
}

static guint role_index(const char *role)
{
	for (guint i = 0; i < G_N_ELEMENTS(feed_roles); i++)
		if (g_strcmp0(feed_roles[i].role, role) == 0)
			return i;
	return G_N_ELEMENTS(feed_roles);
}

static MediaFeed *feed_start(MediaLesson *l, const KtLessonFeedInfo *info, guint index,
                             GError **error)
{
	guint role = role_index(info->role);
	g_autofree char *id = g_strdup_printf("s%u", index + 1);
	g_autofree char *label = NULL;
	MediaFeed *f;
	Participant *p;

	if (role == G_N_ELEMENTS(feed_roles)) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
		            "unknown role \"%s\"", info->role);
		return NULL;
	}
	f = g_new0(MediaFeed, 1);
	f->lesson = l;
	f->role = role;
	f->url = g_strdup(info->url);
	p = kt_lesson_media_participant_new(l, id, info->name, feed_roles[role].as);
	p->feed = f;
	f->p = p;
	kt_lesson_media_ensure_source(l, p, feed_roles[role].video);
	if (feed_roles[role].audio)
		kt_lesson_media_ensure_source(l, p, KT_SRC_AUDIO);
	label = g_strdup_printf("lesson %s: source %s", l->id, info->name);
	f->ladder = kt_source_ladder_new(room_of(f), 0, p->source[feed_roles[role].video],
	                                 l->media->config.settings, label, error);
	if (!f->ladder || !start_ingest(f, error)) {
		feed_free(f);
		return NULL;
	}
	return f;
}

static void start_all(MediaLesson *l, KtLessonFeedInfo **infos)
{
	const KtSettings *st = l->media->config.settings;

	if (!infos || !infos[0])
		return;
	if (st && !st->ingest) {
		g_message("lesson %s: its sources are not pulled ([ingest] enabled = false)",
		          l->id);
		return;
	}
	for (guint i = 0; infos[i]; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *safe = kt_ingest_safe_url(infos[i]->url);
		MediaFeed *f = feed_start(l, infos[i], i, &error);

		if (!f) {
			g_warning("lesson %s: source %s (%s) cannot start: %s", l->id,
			          infos[i]->name, safe, error->message);
			continue;
		}
		g_message("lesson %s: source %s (%s, %s) started", l->id, infos[i]->name,
		          infos[i]->role, safe);
		g_ptr_array_add(l->feeds, f);
	}
}

static void infos_free(KtLessonFeedInfo **infos)
{
	for (guint i = 0; infos && infos[i]; i++)
		kt_lesson_feed_info_free(infos[i]);
	g_free(infos);
}

void kt_media_feed_start(MediaLesson *l)
{
	const KtLessonMediaConfig *c = &l->media->config;
	KtLessonFeedInfo **infos = c->feeds_for ? c->feeds_for(l->id, c->user_data) : NULL;

	l->feeds = g_ptr_array_new();
	start_all(l, infos);
	infos_free(infos);
	if (l->feeds->len)
		kt_lesson_media_route(l);
}

void kt_media_feed_close(MediaLesson *l)
{
	if (!l->feeds)
		return;
	for (guint i = 0; i < l->feeds->len; i++)
		feed_free(g_ptr_array_index(l->feeds, i));
	g_clear_pointer(&l->feeds, g_ptr_array_unref);
}

guint kt_media_feed_count(MediaLesson *l)
{
	return l->feeds ? l->feeds->len : 0;
}
