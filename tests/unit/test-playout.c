/* The playout delay asked of a lossy video receiver (transport/kt-playout.h):
 * nothing on a clean link; enough retransmission rounds for the loss, sized by
 * the round trip; capped; up at once, down only after a calm 10 s; off with a
 * cap of 0; and the 3-byte element libwebrtc reads. */
#include "kt-playout.h"

#define SEC ((gint64)G_USEC_PER_SEC)

/* @seconds of updates, one a second from *t, at @loss and @rtt_ms. */
static void feed(KtPlayout *p, gint64 *t, guint seconds, gdouble loss, gint rtt_ms)
{
	for (guint i = 0; i < seconds; i++, *t += SEC)
		kt_playout_update(p, loss, rtt_ms, *t);
}

static void test_by_loss(void)
{
	struct {
		gdouble loss;
		gint rtt_ms;
		guint want_ms;
	} cases[] = {
	    {0.0, 50, 0},     /* clean: the browser's own choice */
	    {0.004, 600, 0},  /* below 0.5 %: nothing either */
	    {0.02, 80, 116},  /* one round: 1.2 x 80 + 20 */
	    {0.03, 80, 236},  /* two: 1.2 x (80 + 100) + 20 */
	    {0.05, 150, 380}, /* weak: two rounds of 150 */
	    {0.12, 50, 320},  /* 50 + two retries of 100 */
	    {0.2, 50, 680},   /* lossy-20: 50 + five retries of 100 */
	    {0.2, -1, 800},   /* round trip unknown: 200 ms assumed; capped */
	    {0.01, 600, 740}, /* satellite, one round */
	    {0.3, 600, 800},  /* capped at the default */
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		KtPlayout p;
		gint64 t = 10 * SEC;

		kt_playout_init(&p, KT_PLAYOUT_DEFAULT_MAX_MS);
		feed(&p, &t, 20, cases[i].loss, cases[i].rtt_ms);
		g_test_message("loss %.3f rtt %d: %u ms", cases[i].loss, cases[i].rtt_ms, p.min_ms);
		g_assert_cmpuint(p.min_ms, ==, cases[i].want_ms);
		g_assert_cmpint(p.asked, ==, cases[i].want_ms > 0);
	}
}

/* Up at once (within the smoothing's first seconds), down only after 10 s
 * well below, and the ask is kept (as 0) once made. A spike of loss lasting
 * one second does not lower the ask the next. */
static void test_hysteresis(void)
{
	KtPlayout p;
	gint64 t = 10 * SEC, down_at;

	kt_playout_init(&p, KT_PLAYOUT_DEFAULT_MAX_MS);
	g_assert_true(kt_playout_update(&p, 0.2, 50, t));
	g_assert_cmpuint(p.min_ms, ==, 680); /* the first sample is taken whole */
	t += SEC;
	feed(&p, &t, 3, 0.2, 50);
	g_assert_cmpuint(p.min_ms, ==, 680);
	/* Clean again: the smoothed loss falls, the ask holds 10 s more. */
	down_at = 0;
	for (guint i = 0; i < 30 && !down_at; i++, t += SEC)
		if (kt_playout_update(&p, 0, 50, t))
			down_at = t;
	g_assert_cmpint(down_at, >, 0);
	g_test_message("lowered to %u ms", p.min_ms);
	g_assert_cmpuint(p.min_ms, <, 680);
	feed(&p, &t, 60, 0, 50);
	g_assert_cmpuint(p.min_ms, ==, 0);
	g_assert_true(p.asked); /* 0 is still said: the browser keeps the last value */

	/* Steady loss with one clean second: no change that second. */
	kt_playout_init(&p, KT_PLAYOUT_DEFAULT_MAX_MS);
	feed(&p, &t, 10, 0.06, 100);
	guint before = p.min_ms;
	g_assert_false(kt_playout_update(&p, 0, 100, t));
	g_assert_cmpuint(p.min_ms, ==, before);
}

static void test_off_and_bounds(void)
{
	KtPlayout p;
	gint64 t = 10 * SEC;
	guint8 el[3];

	kt_playout_init(&p, 0);
	feed(&p, &t, 10, 0.5, 100);
	g_assert_cmpuint(p.min_ms, ==, 0);
	g_assert_false(p.asked);

	/* Nonsense in: loss above 1 is 1, below 0 is unknown (smoothing holds). */
	kt_playout_init(&p, 300);
	feed(&p, &t, 5, 7.0, 100);
	g_assert_cmpuint(p.min_ms, ==, 300);
	feed(&p, &t, 30, -1, 100);
	g_assert_cmpuint(p.min_ms, ==, 300);

	/* MIN and MAX, 12 bits each, in 10 ms units: 300 ms = 30, 10 s = 1000. */
	kt_playout_element(&p, el);
	g_assert_cmphex(el[0], ==, 30 >> 4);
	g_assert_cmphex(el[1], ==, (30 & 0xF) << 4 | 1000 >> 8);
	g_assert_cmphex(el[2], ==, 1000 & 0xFF);
	kt_playout_init(&p, 100000); /* beyond 12 bits of 10 ms: clamped */
	g_assert_cmpuint(p.max_ms, ==, 40950);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/playout/by-loss", test_by_loss);
	g_test_add_func("/playout/hysteresis", test_hysteresis);
	g_test_add_func("/playout/off-and-bounds", test_off_and_bounds);
	return g_test_run();
}
