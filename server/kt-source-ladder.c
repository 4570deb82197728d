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
	KtTapLink *tap;   /* input -> the ladder */
	KtLadder *ladder; /* NULL while waiting to be rebuilt */
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

	kt_room_request_source_keyframe(sl->room, sl->input);
}

static gboolean start(KtSourceLadder *sl, GError **error)
{
	KtLadderConfig cfg = {
	    .on_error = on_error,
	    .on_keyframe = on_keyframe,
	    .user_data = sl,
	};

	cfg.n_rungs = kt_source_ladder_rungs(sl->settings, cfg.rungs);
	sl->ladder = kt_ladder_new(sl->room, sl->output, &cfg, error);
	if (!sl->ladder)
		return FALSE;
	kt_tap_link_set(sl->tap, sl->ladder, 1);
	kt_room_request_source_keyframe(sl->room, sl->input);
	return TRUE;
}

static void stop(KtSourceLadder *sl)
{
	kt_tap_link_set(sl->tap, NULL, 0); /* no push in progress once it returns */
	g_clear_pointer(&sl->ladder, kt_ladder_free);
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
	if (!sl->ladder)
		return FALSE;
	kt_ladder_get_stats(sl->ladder, out);
	return TRUE;
}

void kt_source_ladder_free(KtSourceLadder *sl)
{
	if (!sl)
		return;
	if (sl->rebuild_timer)
		g_source_remove(sl->rebuild_timer);
	stop(sl);
	kt_tap_link_free(sl->tap);
	g_free(sl->label);
	g_free(sl);
}
