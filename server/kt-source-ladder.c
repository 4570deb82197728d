/* A ladder between two room sources, rebuilt after a failure (kt-source-ladder.h). */
#include "kt-source-ladder.h"

#include "kt-tap-link.h"

#define REBUILD_S 1
#define RETRY_S 5

struct _KtSourceLadder {
	KtRoom *room;
	guint input, output;
	const KtSettings *settings;
	char *label;
	KtTapLink *tap;   /* input -> the ladder; NULL for pictures */
	GMutex lock;      /* pictures: held while one goes to the ladder */
	KtLadder *ladder; /* lock (for pictures); NULL while waiting to be rebuilt */
	guint rebuild_timer;
};

/* Media worker: every packet of the input (kt-tap-link.h). */
static void push_to_ladder(gpointer ladder, guint input, const guint8 *rtp, gsize len,
                           KtCodec codec)
{
	kt_ladder_push(ladder, rtp, len, codec);
}

guint kt_source_ladder_rungs(const KtSettings *st, KtLadderRung *rungs)
{
	guint n = 0;

	/* Checked when the configuration was read. */
	for (guint i = 0;
	     st && st->ingest_ladder && st->ingest_ladder[i] && n < KT_LADDER_MAX_RUNGS; i++)
		if (kt_settings_parse_rung(st->ingest_ladder[i], &rungs[n].width, &rungs[n].height,
		                           &rungs[n].kbps, NULL))
			n++;
	return n;
}

static gboolean on_rebuild(gpointer data);

static void on_error(KtLadder *ladder, const GError *error, gpointer data)
{
	KtSourceLadder *sl = data;

	g_warning("%s: the ladder failed: %s; rebuilding it", sl->label, error->message);
	if (!sl->rebuild_timer)
		sl->rebuild_timer = g_timeout_add_seconds(REBUILD_S, on_rebuild, sl);
}

static void on_keyframe(KtLadder *ladder, gpointer data)
{
	KtSourceLadder *sl = data;

	if (sl->input)
		kt_room_request_source_keyframe(sl->room, sl->input);
}

static gboolean start(KtSourceLadder *sl, GError **error)
{
	KtLadderConfig cfg = {
	    .on_error = on_error,
	    .on_keyframe = on_keyframe,
	    .user_data = sl,
	    .raw_input = sl->input == 0,
	};
	KtLadder *ladder;

	cfg.n_rungs = kt_source_ladder_rungs(sl->settings, cfg.rungs);
	ladder = kt_ladder_new(sl->room, sl->output, &cfg, error);
	if (!ladder)
		return FALSE;
	g_mutex_lock(&sl->lock);
	sl->ladder = ladder;
	g_mutex_unlock(&sl->lock);
	if (sl->tap) {
		kt_tap_link_set(sl->tap, ladder, 1);
		kt_room_request_source_keyframe(sl->room, sl->input);
	}
	return TRUE;
}

static void stop(KtSourceLadder *sl)
{
	KtLadder *ladder;

	if (sl->tap)
		kt_tap_link_set(sl->tap, NULL, 0); /* no push in progress once it returns */
	g_mutex_lock(&sl->lock);
	ladder = g_steal_pointer(&sl->ladder); /* nor a picture once this is released */
	g_mutex_unlock(&sl->lock);
	kt_ladder_free(ladder);
}

void kt_source_ladder_push_frame(KtSourceLadder *sl, GstSample *picture)
{
	g_mutex_lock(&sl->lock);
	if (sl->ladder)
		kt_ladder_push_frame(sl->ladder, picture);
	g_mutex_unlock(&sl->lock);
}

static gboolean on_rebuild(gpointer data)
{
	KtSourceLadder *sl = data;
	g_autoptr(GError) error = NULL;

	sl->rebuild_timer = 0;
	stop(sl);
	if (!start(sl, &error)) {
		g_warning("%s: the ladder cannot start: %s; next try in %d s", sl->label,
		          error->message, RETRY_S);
		sl->rebuild_timer = g_timeout_add_seconds(RETRY_S, on_rebuild, sl);
	}
	return G_SOURCE_REMOVE;
}

KtSourceLadder *kt_source_ladder_new(KtRoom *room, guint input, guint output,
                                     const KtSettings *settings, const char *label, GError **error)
{
	KtSourceLadder *sl = g_new0(KtSourceLadder, 1);

	sl->room = room;
	sl->input = input;
	sl->output = output;
	sl->settings = settings;
	sl->label = g_strdup(label ? label : "ladder");
	g_mutex_init(&sl->lock);
	if (input)
		sl->tap = kt_tap_link_new(room, input, push_to_ladder);
	if (!start(sl, error)) {
		kt_source_ladder_free(sl);
		return NULL;
	}
	return sl;
}

guint kt_source_ladder_get_input(KtSourceLadder *sl)
{
	return sl->input;
}

gboolean kt_source_ladder_get_stats(KtSourceLadder *sl, KtLadderStats *out)
{
	gboolean ok;

	g_mutex_lock(&sl->lock);
	ok = sl->ladder != NULL;
	if (ok)
		kt_ladder_get_stats(sl->ladder, out);
	g_mutex_unlock(&sl->lock);
	return ok;
}

GstElement *kt_source_ladder_get_pipeline(KtSourceLadder *sl)
{
	return sl->ladder ? kt_ladder_get_pipeline(sl->ladder) : NULL;
}

void kt_source_ladder_free(KtSourceLadder *sl)
{
	if (!sl)
		return;
	if (sl->rebuild_timer)
		g_source_remove(sl->rebuild_timer);
	stop(sl);
	kt_tap_link_free(sl->tap);
	g_mutex_clear(&sl->lock);
	g_free(sl->label);
	g_free(sl);
}
