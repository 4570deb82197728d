/* kt-lesson-mix: a lesson's mix-minus on a real room. Its outputs reach
 * their room sources (a tap on each counts the packets); kt_lesson_mix_set()
 * changes only what differs (inputs removed, an owner changed, outputs
 * added and removed); a failure of the mix (an error posted on its pipeline,
 * as an encoder's would be) is rebuilt a second later from the wanted
 * state, and the outputs flow again into the same sources. */
#include <gst/gst.h>

#include "kt-gst.h"
#include "kt-lesson-mix.h"
#include "kt-mix-minus-private.h"
#include "kt-mix-minus.h"
#include "kt-room.h"

static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	(void)rtp;
	(void)len;
	(void)codec;
	g_atomic_int_inc((gint *)data);
}

static gboolean keep_going(gpointer data)
{
	(void)data;
	return G_SOURCE_CONTINUE;
}

/* Iterates the control loop until *@counter grew by @by or 10 s passed. */
static gboolean wait_growth(gint *counter, gint by)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	gint from = g_atomic_int_get(counter);
	guint tick = g_timeout_add(20, keep_going, NULL);

	while (g_atomic_int_get(counter) - from < by && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	return g_atomic_int_get(counter) - from >= by;
}

static void expect_counts(KtLessonMix *mix, guint inputs, guint outputs)
{
	KtMixMinusStats st;

	kt_mix_minus_get_stats(kt_lesson_mix_get_mix_minus(mix), &st);
	g_assert_cmpuint(st.inputs, ==, inputs);
	g_assert_cmpuint(st.outputs, ==, outputs);
}

static void test_lesson_mix(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoom *room = kt_room_new(kt_worker_pool_get(pool, 0), &rc);
	KtLessonMixConfig cfg = {.lesson = "mix-test", .room = room};
	guint32 ssrc, rtx;
	guint teacher = kt_room_get_default_source(room, KT_MEDIA_AUDIO);
	guint mic_a = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	guint mic_b = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	guint mix_a = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	guint mix_b = kt_room_add_source(room, KT_MEDIA_AUDIO, &ssrc, &rtx);
	static gint got_a, got_b; /* taps run on the worker until their removal lands */
	guint tap_a = kt_room_add_tap(room, mix_a, on_tap, &got_a, NULL);
	guint tap_b = kt_room_add_tap(room, mix_b, on_tap, &got_b, NULL);
	KtLessonMixInput in[] = {{teacher, NULL, TRUE}, {mic_a, "p2", TRUE}, {mic_b, "p3", FALSE}};
	KtLessonMixOutput out[] = {{"p2", mix_a}, {"p3", mix_b}};
	KtLessonMix *mix;
	GstElement *pipeline;
	g_autoptr(GError) broke = NULL;
	GLogLevelFlags fatal;
	gint64 deadline;

	g_assert_no_error(error);
	mix = kt_lesson_mix_new(&cfg, &error);
	g_assert_no_error(error);

	/* A's mix runs at once (silence is a stream too: 50 packets a second). */
	kt_lesson_mix_set(mix, in, 3, out, 1);
	expect_counts(mix, 3, 1);
	g_assert_true(wait_growth(&got_a, 25));
	g_assert_cmpint(g_atomic_int_get(&got_b), ==, 0);

	/* B rejoined (a new id, the same source) and takes the mix; A's mic goes. */
	in[2].owner = "p4";
	out[1].owner = "p4";
	kt_lesson_mix_set(mix, (KtLessonMixInput[]){in[0], in[2]}, 2, out, 2);
	expect_counts(mix, 2, 2);
	g_assert_true(wait_growth(&got_b, 25));

	/* The mix fails: logged (a warning, not fatal here as in the server), rebuilt
	 * from the wanted state, both flow again. */
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
	pipeline = kt_lesson_mix_get_mix_minus(mix)->pipeline;
	broke = g_error_new_literal(GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "an encoder broke");
	gst_element_post_message(pipeline,
	                         gst_message_new_error(GST_OBJECT(pipeline), broke, "test"));
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (kt_lesson_mix_get_rebuilds(mix) == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE); /* the rebuild timer wakes it */
	g_log_set_always_fatal(fatal);
	g_assert_cmpuint(kt_lesson_mix_get_rebuilds(mix), ==, 1);
	expect_counts(mix, 2, 2);
	g_assert_true(wait_growth(&got_a, 25));
	g_assert_true(wait_growth(&got_b, 25));

	/* Nobody wants B's mix any more. */
	kt_lesson_mix_set(mix, in, 1, out, 1);
	expect_counts(mix, 1, 1);

	kt_lesson_mix_free(mix);
	kt_room_remove_tap(room, tap_a);
	kt_room_remove_tap(room, tap_b);
	kt_room_close(room);
	kt_room_unref(room);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/lesson-mix/rebuild", test_lesson_mix);
	return g_test_run();
}
