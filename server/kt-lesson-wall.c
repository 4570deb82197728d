/* The classroom wall of a live lesson: the KtWall, its inputs (one room tap
 * each, like kt-recorded-source.c) and its rebuilding after a failure. */
#include "kt-lesson-wall.h"

#include "kt-tap-link.h"

#include <string.h>

#define REBUILD_DELAY_S 1
#define REBUILD_RETRY_S 5

/* One classroom camera on the wall. */
typedef struct {
	KtTapLink *tap; /* its camera -> its input of the wall, while attached */
	guint input;    /* the wall's input id, 0 = none (as set on the tap) */
	guint source;
	char *participant, *name;
	KtWallMark mark;
} WallInput;

struct _KtLessonWall {
	KtLessonWallConfig config;
	char *lesson;
	KtRoom *room;      /* ref */
	KtWall *wall;      /* NULL while waiting to be rebuilt */
	GPtrArray *inputs; /* WallInput*, in the order they came */
	json_t *reported;  /* the last layout given to layout_changed */
	guint rebuild_timer;
	guint width, height;
};

static const char *const mark_names[KT_WALL_N_MARKS] = {
    [KT_WALL_MARK_NONE] = "none",
    [KT_WALL_MARK_HAND_RAISED] = "hand",
    [KT_WALL_MARK_ON_STAGE] = "stage",
};

/* ---- inputs ---- */

/* Media worker: every packet the room forwards of the classroom's camera. */
static void push_to_wall(gpointer wall, guint input, const guint8 *rtp, gsize len, KtCodec codec)
{
	kt_wall_push(wall, input, rtp, len, codec);
}

/* Puts @in on the current wall (when there is one). */
static void attach(KtLessonWall *w, WallInput *in)
{
	g_autoptr(GError) error = NULL;
	guint id;

	if (!w->wall)
		return;
	id = kt_wall_add_input(w->wall, in->name, 90000, &error);
	if (!id) {
		g_warning("lesson %s: %s not on the wall: %s", w->lesson, in->name, error->message);
		return;
	}
	if (in->mark != KT_WALL_MARK_NONE)
		kt_wall_set_mark(w->wall, id, in->mark, NULL);
	in->input = id;
	kt_tap_link_set(in->tap, w->wall, id);
	kt_room_request_source_keyframe(w->room, in->source);
}

/* Takes @in off the wall; once this returns its tap pushes nothing more. */
static void detach(KtLessonWall *w, WallInput *in)
{
	guint old = in->input;

	kt_tap_link_set(in->tap, NULL, 0);
	in->input = 0;
	if (old && w->wall)
		kt_wall_remove_input(w->wall, old, NULL);
}

static WallInput *input_new(KtLessonWall *w, const KtLessonWallInput *src)
{
	WallInput *in = g_new0(WallInput, 1);

	in->source = src->source;
	in->participant = g_strdup(src->participant);
	in->name = g_strdup(src->name ? src->name : src->participant);
	in->mark = src->mark;
	in->tap = kt_tap_link_new(w->room, in->source, push_to_wall);
	attach(w, in);
	return in;
}

static void input_free(KtLessonWall *w, WallInput *in)
{
	detach(w, in);
	kt_tap_link_free(in->tap);
	g_free(in->participant);
	g_free(in->name);
	g_free(in);
}

static WallInput *input_by_source(KtLessonWall *w, guint source, guint *index)
{
	for (guint i = 0; i < w->inputs->len; i++) {
		WallInput *in = g_ptr_array_index(w->inputs, i);

		if (in->source == source) {
			if (index)
				*index = i;
			return in;
		}
	}
	return NULL;
}

/* ---- layout ---- */

json_t *kt_lesson_wall_layout(KtLessonWall *w)
{
	g_autoptr(GArray) layout = w->wall ? kt_wall_get_layout(w->wall) : NULL;
	json_t *tiles = json_array();

	for (guint i = 0; layout && i < layout->len; i++) {
		const KtWallTile *t = &g_array_index(layout, KtWallTile, i);
		WallInput *in = NULL;

		for (guint j = 0; j < w->inputs->len && !in; j++)
			if (((WallInput *)g_ptr_array_index(w->inputs, j))->input == t->input)
				in = g_ptr_array_index(w->inputs, j);
		if (!in)
			continue;
		json_array_append_new(
		    tiles, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:s}", "participant",
		                     in->participant, "name", in->name, "x", t->x, "y", t->y,
		                     "width", t->width, "height", t->height, "mark",
		                     mark_names[t->mark < KT_WALL_N_MARKS ? t->mark : 0]));
	}
	return json_pack("{s:i, s:i, s:o}", "width", (int)w->width, "height", (int)w->height,
	                 "tiles", tiles);
}

static void report_layout(KtLessonWall *w)
{
	json_t *now = kt_lesson_wall_layout(w);

	if (w->reported && json_equal(now, w->reported)) {
		json_decref(now);
		return;
	}
	if (w->reported)
		json_decref(w->reported);
	w->reported = now;
	if (w->config.layout_changed)
		w->config.layout_changed(w, w->config.user_data);
}

/* ---- the wall and its rebuilding ---- */

static gboolean on_rebuild(gpointer data);

static void on_keyframe(KtWall *wall, guint input, gpointer data)
{
	KtLessonWall *w = data;

	for (guint i = 0; i < w->inputs->len; i++) {
		WallInput *in = g_ptr_array_index(w->inputs, i);

		if (in->input == input)
			kt_room_request_source_keyframe(w->room, in->source);
	}
}

/* Once per wall; freed from a timer, never from inside its own callback. */
static void on_error(KtWall *wall, const GError *error, gpointer data)
{
	KtLessonWall *w = data;

	g_warning("lesson %s: the classroom wall failed: %s; rebuilding it", w->lesson,
	          error->message);
	if (!w->rebuild_timer)
		w->rebuild_timer = g_timeout_add_seconds(REBUILD_DELAY_S, on_rebuild, w);
}

static gboolean start_wall(KtLessonWall *w, GError **error)
{
	const KtSettings *st = w->config.settings;
	KtWallConfig cfg = {
	    .width = st ? (guint)st->wall_width : 0,
	    .height = st ? (guint)st->wall_height : 0,
	    .fps = st ? (guint)st->wall_fps : 0,
	    .kbps = st ? (guint)st->wall_kbps : 0,
	    .source = w->config.source,
	    .epoch_us = w->config.epoch_us,
	    .on_error = on_error,
	    .on_keyframe = on_keyframe,
	    .user_data = w,
	};

	w->wall = kt_wall_new(w->room, &cfg, error);
	if (!w->wall)
		return FALSE;
	for (guint i = 0; i < w->inputs->len; i++)
		attach(w, g_ptr_array_index(w->inputs, i));
	return TRUE;
}

static void stop_wall(KtLessonWall *w)
{
	for (guint i = 0; i < w->inputs->len; i++)
		detach(w, g_ptr_array_index(w->inputs, i));
	g_clear_pointer(&w->wall, kt_wall_free);
}

static gboolean on_rebuild(gpointer data)
{
	KtLessonWall *w = data;
	g_autoptr(GError) error = NULL;

	w->rebuild_timer = 0;
	stop_wall(w);
	if (!start_wall(w, &error)) {
		g_warning("lesson %s: the classroom wall cannot start again: %s; next try in %d s",
		          w->lesson, error->message, REBUILD_RETRY_S);
		w->rebuild_timer = g_timeout_add_seconds(REBUILD_RETRY_S, on_rebuild, w);
	} else {
		g_message("lesson %s: the classroom wall runs again (%u classrooms)", w->lesson,
		          w->inputs->len);
	}
	report_layout(w);
	return G_SOURCE_REMOVE;
}

/* ---- public ---- */

KtLessonWall *kt_lesson_wall_new(const KtLessonWallConfig *config, GError **error)
{
	KtLessonWall *w = g_new0(KtLessonWall, 1);

	w->config = *config;
	w->lesson = g_strdup(config->lesson ? config->lesson : "?");
	w->config.lesson = w->lesson;
	w->room = kt_room_ref(config->room);
	w->inputs = g_ptr_array_new();
	w->width = config->settings ? (guint)config->settings->wall_width : 960;
	w->height = config->settings ? (guint)config->settings->wall_height : 540;
	if (!start_wall(w, error)) {
		kt_lesson_wall_free(w);
		return NULL;
	}
	w->reported = kt_lesson_wall_layout(w);
	return w;
}

void kt_lesson_wall_set_inputs(KtLessonWall *w, const KtLessonWallInput *inputs, guint n)
{
	for (guint i = w->inputs->len; i-- > 0;) {
		WallInput *in = g_ptr_array_index(w->inputs, i);
		gboolean keep = FALSE;

		for (guint j = 0; j < n && !keep; j++)
			keep = inputs[j].source == in->source;
		if (!keep) {
			input_free(w, in);
			g_ptr_array_remove_index(w->inputs, i);
		}
	}
	for (guint j = 0; j < n; j++) {
		const KtLessonWallInput *src = &inputs[j];
		WallInput *in = input_by_source(w, src->source, NULL);

		if (!in) {
			g_ptr_array_add(w->inputs, input_new(w, src));
			continue;
		}
		if (g_strcmp0(in->participant, src->participant) != 0) {
			g_free(in->participant);
			in->participant = g_strdup(src->participant);
		}
		if (in->mark != src->mark) {
			in->mark = src->mark;
			if (w->wall && in->input)
				kt_wall_set_mark(w->wall, in->input, in->mark, NULL);
		}
	}
	report_layout(w);
}

void kt_lesson_wall_get_stats(KtLessonWall *w, KtWallStats *out)
{
	if (w->wall)
		kt_wall_get_stats(w->wall, out);
	else
		memset(out, 0, sizeof(*out));
}

GstElement *kt_lesson_wall_get_pipeline(KtLessonWall *w)
{
	return w->wall ? kt_wall_get_pipeline(w->wall) : NULL;
}

void kt_lesson_wall_free(KtLessonWall *w)
{
	if (!w)
		return;
	if (w->rebuild_timer)
		g_source_remove(w->rebuild_timer);
	stop_wall(w);
	for (guint i = 0; i < w->inputs->len; i++)
		input_free(w, g_ptr_array_index(w->inputs, i));
	g_ptr_array_unref(w->inputs);
	if (w->reported)
		json_decref(w->reported);
	kt_room_unref(w->room);
	g_free(w->lesson);
	g_free(w);
}
