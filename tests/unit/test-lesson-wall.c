/* kt-lesson-wall: the wall of a lesson against a real room (no peers): its
 * inputs follow the set it is given (order, names, participants, marks) and
 * its layout is reported once per change; a wall that fails is rebuilt with
 * the same inputs and runs again. */
#include "kt-lesson-wall.h"

#include "kt-gst.h"

typedef struct {
	guint layouts; /* layout_changed calls */
} Events;

static void on_layout(KtLessonWall *wall, gpointer data)
{
	((Events *)data)->layouts++;
}

/* Iterates the default context until @done or @ms pass. */
static gboolean wait_until(gboolean (*done)(KtLessonWall *), KtLessonWall *w, guint ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;

	while (!done(w) && g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE), g_usleep(2000);
	return done(w);
}

static gboolean failed(KtLessonWall *w)
{
	return kt_lesson_wall_get_pipeline(w) == NULL;
}

static gboolean encoding(KtLessonWall *w)
{
	KtWallStats st;

	kt_lesson_wall_get_stats(w, &st);
	return kt_lesson_wall_get_pipeline(w) && st.frames >= 3 && !st.failed;
}

static json_t *tile(json_t *layout, guint i)
{
	return json_array_get(json_object_get(layout, "tiles"), i);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void test_lesson_wall(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	g_autoptr(KtSettings) st = kt_settings_new_default();
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	guint32 ssrc, rtx;
	guint wall_source = kt_room_add_source(room, KT_MEDIA_VIDEO, &ssrc, &rtx);
	guint a = kt_room_add_source(room, KT_MEDIA_VIDEO, &ssrc, &rtx);
	guint b = kt_room_add_source(room, KT_MEDIA_VIDEO, &ssrc, &rtx);
	Events ev = {0};
	KtLessonWallConfig cfg = {.lesson = "wall-test",
	                          .room = room,
	                          .source = wall_source,
	                          .settings = st,
	                          .layout_changed = on_layout,
	                          .user_data = &ev};
	KtLessonWallInput two[] = {
	    {.source = a, .participant = "p2", .name = "双峰二小 Class 3"},
	    {.source = b, .participant = "p3", .name = "Room B", .mark = KT_WALL_MARK_HAND_RAISED},
	};
	KtLessonWall *w;
	json_t *layout;
	GLogLevelFlags fatal;

	st->wall_width = 640;
	st->wall_height = 360;
	st->wall_fps = 10;
	g_assert_no_error(error);
	w = kt_lesson_wall_new(&cfg, &error);
	g_assert_no_error(error);
	g_assert_nonnull(w);

	/* No classroom yet: an empty layout of the configured size, not reported as a change. */
	layout = kt_lesson_wall_layout(w);
	g_assert_cmpint(json_integer_value(json_object_get(layout, "width")), ==, 640);
	g_assert_cmpint(json_integer_value(json_object_get(layout, "height")), ==, 360);
	g_assert_cmpuint(json_array_size(json_object_get(layout, "tiles")), ==, 0);
	json_decref(layout);

	/* Two classrooms: 2x1, in the order given, each with its name, id and mark. */
	kt_lesson_wall_set_inputs(w, two, 2);
	g_assert_cmpuint(ev.layouts, ==, 1);
	layout = kt_lesson_wall_layout(w);
	g_assert_cmpuint(json_array_size(json_object_get(layout, "tiles")), ==, 2);
	g_assert_cmpstr(str(tile(layout, 0), "name"), ==, "双峰二小 Class 3");
	g_assert_cmpstr(str(tile(layout, 0), "participant"), ==, "p2");
	g_assert_cmpstr(str(tile(layout, 0), "mark"), ==, "none");
	g_assert_cmpint(json_integer_value(json_object_get(tile(layout, 1), "x")), ==, 320);
	g_assert_cmpint(json_integer_value(json_object_get(tile(layout, 1), "width")), ==, 320);
	g_assert_cmpstr(str(tile(layout, 1), "mark"), ==, "hand");
	json_decref(layout);

	/* The same set again: nothing to report. A rejoin (new id) and the stage: reported. */
	kt_lesson_wall_set_inputs(w, two, 2);
	g_assert_cmpuint(ev.layouts, ==, 1);
	two[0].participant = "p5";
	two[1].mark = KT_WALL_MARK_ON_STAGE;
	kt_lesson_wall_set_inputs(w, two, 2);
	g_assert_cmpuint(ev.layouts, ==, 2);
	layout = kt_lesson_wall_layout(w);
	g_assert_cmpstr(str(tile(layout, 0), "participant"), ==, "p5");
	g_assert_cmpstr(str(tile(layout, 1), "mark"), ==, "stage");
	json_decref(layout);
	g_assert_true(wait_until(encoding, w, 10000));

	/* The wall fails: it is rebuilt a second later with both classrooms, and encodes. The
	 * failure is logged as a warning: not fatal here, as it is not in the server. */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	{
		GstElement *pipeline = kt_lesson_wall_get_pipeline(w);
		GError *boom = g_error_new_literal(GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "test");

		gst_element_post_message(pipeline, gst_message_new_error(GST_OBJECT(pipeline), boom,
		                                                         "posted by the test"));
		g_error_free(boom);
	}
	g_assert_true(wait_until(failed, w, 5000));
	g_assert_true(wait_until(encoding, w, 10000));
	g_log_set_always_fatal(fatal);
	layout = kt_lesson_wall_layout(w);
	g_assert_cmpuint(json_array_size(json_object_get(layout, "tiles")), ==, 2);
	g_assert_cmpstr(str(tile(layout, 1), "name"), ==, "Room B");
	g_assert_cmpstr(str(tile(layout, 1), "mark"), ==, "stage");
	json_decref(layout);

	/* One classroom leaves: the other takes the whole picture. */
	kt_lesson_wall_set_inputs(w, &two[1], 1);
	layout = kt_lesson_wall_layout(w);
	g_assert_cmpuint(json_array_size(json_object_get(layout, "tiles")), ==, 1);
	g_assert_cmpstr(str(tile(layout, 0), "participant"), ==, "p3");
	g_assert_cmpint(json_integer_value(json_object_get(tile(layout, 0), "width")), ==, 640);
	json_decref(layout);

	kt_lesson_wall_free(w);
	kt_room_close(room);
	kt_room_unref(room);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/lesson-wall/inputs-layout-rebuild", test_lesson_wall);
	return g_test_run();
}
