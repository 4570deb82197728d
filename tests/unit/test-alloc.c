/* Unit tests for transport/kt-alloc: splitting a subscriber's estimate by
 * priority, audio first, lowest layers before higher ones. */
#include "kt-alloc.h"

enum { AUDIO, COURSEWARE, CAMERA, CLASSROOM };

/* The streams a classroom receives in a lesson: teacher audio, courseware
 * (one layer), teacher camera (three simulcast layers), another classroom's
 * camera on stage (one layer). Priorities as the default config orders them. */
static void lesson_streams(KtAllocStream *s)
{
	memset(s, 0, 4 * sizeof *s);
	s[AUDIO] = (KtAllocStream){ .audio = TRUE, .layer_bps = { 40000 }, .n_layers = 1 };
	s[CAMERA] = (KtAllocStream){ .priority = 2,
		                     .layer_bps = { 150000, 500000, 1200000 },
		                     .n_layers = 3 };
	s[COURSEWARE] = (KtAllocStream){ .priority = 1, .layer_bps = { 200000 }, .n_layers = 1 };
	s[CLASSROOM] = (KtAllocStream){ .priority = 3, .layer_bps = { 300000 }, .n_layers = 1 };
}

static void test_plenty(void)
{
	KtAllocStream s[4];
	lesson_streams(s);
	guint32 left = kt_alloc_split(5000000, s, 4);
	g_assert_cmpint(s[AUDIO].layer, ==, 0);
	g_assert_cmpint(s[COURSEWARE].layer, ==, 0);
	g_assert_cmpint(s[CAMERA].layer, ==, 2);
	g_assert_cmpint(s[CLASSROOM].layer, ==, 0);
	g_assert_cmpuint(left, ==, 5000000 - 40000 - 200000 - 1200000 - 300000);
}

/* Between the extremes: every video gets its lowest layer before the camera
 * goes up, and the camera goes as high as what is left allows. */
static void test_lowest_layers_first(void)
{
	KtAllocStream s[4];
	lesson_streams(s);
	/* 40k + 200k + 150k + 300k = 690k for everyone's lowest; +350k to 500k. */
	kt_alloc_split(1100000, s, 4);
	g_assert_cmpint(s[COURSEWARE].layer, ==, 0);
	g_assert_cmpint(s[CAMERA].layer, ==, 1);
	g_assert_cmpuint(s[CAMERA].budget_bps, ==, 500000);
	g_assert_cmpint(s[CLASSROOM].layer, ==, 0);

	lesson_streams(s);
	kt_alloc_split(1000000, s, 4); /* 310k left after the lowest: not enough for 500k */
	g_assert_cmpint(s[CAMERA].layer, ==, 0);
	g_assert_cmpint(s[CLASSROOM].layer, ==, 0);
}

/* Short: the lowest priority goes first, and audio is never cut. */
static void test_short_pauses_by_priority(void)
{
	KtAllocStream s[4];
	lesson_streams(s);
	kt_alloc_split(450000, s, 4); /* audio 40k, courseware 200k, camera 150k; no room for 300k */
	g_assert_cmpint(s[CAMERA].layer, ==, 0);
	g_assert_cmpint(s[CLASSROOM].layer, ==, -1);
	g_assert_cmpuint(s[CLASSROOM].budget_bps, ==, 0);

	lesson_streams(s);
	kt_alloc_split(300000, s, 4); /* audio + courseware only */
	g_assert_cmpint(s[COURSEWARE].layer, ==, 0);
	g_assert_cmpint(s[CAMERA].layer, ==, -1);
	g_assert_cmpint(s[CLASSROOM].layer, ==, -1);

	lesson_streams(s);
	guint32 left = kt_alloc_split(20000, s, 4); /* below even the audio */
	g_assert_cmpint(s[AUDIO].layer, ==, 0);
	g_assert_cmpuint(s[AUDIO].budget_bps, ==, 40000);
	g_assert_cmpint(s[COURSEWARE].layer, ==, -1);
	g_assert_cmpint(s[CAMERA].layer, ==, -1);
	g_assert_cmpuint(left, ==, 0);
}

/* A lower priority never takes what a higher one was refused, even when it
 * alone would fit. */
static void test_no_priority_inversion(void)
{
	KtAllocStream s[4];
	lesson_streams(s);
	s[COURSEWARE].layer_bps[0] = 900000; /* a heavy courseware */
	s[CLASSROOM].layer_bps[0] = 100000;
	kt_alloc_split(500000, s, 4);
	g_assert_cmpint(s[COURSEWARE].layer, ==, -1);
	g_assert_cmpint(s[CAMERA].layer, ==, -1);
	g_assert_cmpint(s[CLASSROOM].layer, ==, -1);
}

/* The order in config decides, not the order of the array; equal priorities
 * keep the array's order. */
static void test_priority_order_from_config(void)
{
	KtAllocStream s[4];
	lesson_streams(s);
	s[CLASSROOM].priority = 0; /* an operator who puts classroom cameras first */
	kt_alloc_split(400000, s, 4);
	g_assert_cmpint(s[CLASSROOM].layer, ==, 0);
	g_assert_cmpint(s[COURSEWARE].layer, ==, -1);

	KtAllocStream two[2] = {
		{ .priority = 5, .layer_bps = { 100000 }, .n_layers = 1 },
		{ .priority = 5, .layer_bps = { 100000 }, .n_layers = 1 },
	};
	kt_alloc_split(150000, two, 2);
	g_assert_cmpint(two[0].layer, ==, 0);
	g_assert_cmpint(two[1].layer, ==, -1);
}

/* Odd input: no streams, no layers, more layers than the limit, unmeasured
 * layers (0 bit/s), a layer list that is not increasing, an estimate of 0. */
static void test_odd_input(void)
{
	g_assert_cmpuint(kt_alloc_split(1000, NULL, 0), ==, 1000);

	KtAllocStream s[3] = {
		{ .priority = 1, .n_layers = 0 },
		{ .priority = 2, .layer_bps = { 0, 0, 0 }, .n_layers = 9 },
		{ .priority = 3, .layer_bps = { 300000, 100000 }, .n_layers = 2 },
	};
	guint32 left = kt_alloc_split(400000, s, 3);
	g_assert_cmpint(s[0].layer, ==, -1); /* nothing to send */
	g_assert_cmpuint(s[1].n_layers, ==, KT_ALLOC_MAX_LAYERS);
	g_assert_cmpint(s[1].layer, ==, KT_ALLOC_MAX_LAYERS - 1); /* unmeasured: costs nothing */
	g_assert_cmpint(s[2].layer, ==, 0); /* never "up" to a cheaper layer */
	g_assert_cmpuint(left, ==, 100000);

	KtAllocStream v = { .layer_bps = { 1 }, .n_layers = 1 };
	kt_alloc_split(0, &v, 1);
	g_assert_cmpint(v.layer, ==, -1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/alloc/plenty", test_plenty);
	g_test_add_func("/alloc/lowest-layers-first", test_lowest_layers_first);
	g_test_add_func("/alloc/short-pauses-by-priority", test_short_pauses_by_priority);
	g_test_add_func("/alloc/no-priority-inversion", test_no_priority_inversion);
	g_test_add_func("/alloc/priority-order-from-config", test_priority_order_from_config);
	g_test_add_func("/alloc/odd-input", test_odd_input);
	return g_test_run();
}
