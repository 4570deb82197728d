/* Simulcast layer ranking and choice (transport/kt-layer-select.h), and the
 * VP8 keyframe size the ranking reads (kt_rtp_vp8_keyframe_size). */
#include "kt-layer-select.h"
#include "kt-rtp.h"

#include <string.h>

#define MS 1000
#define S G_USEC_PER_SEC

/* Three layers as Chrome sends them (ranked lowest first). */
static void ladder(KtLayerInfo *l)
{
	l[0] = (KtLayerInfo){320, 180, 150000, 30, TRUE};
	l[1] = (KtLayerInfo){640, 360, 500000, 30, TRUE};
	l[2] = (KtLayerInfo){1280, 720, 1200000, 30, TRUE};
}

static int run(KtLayerSelect *sel, const KtLayerInfo *l, gint64 bps, gint64 now)
{
	KtLayerInput in = {.estimate_bps = bps};

	return kt_layer_select_update(sel, l, 3, &in, now);
}

static void test_order_by_size_not_slot(void)
{
	/* Slots in the order the rids were offered ("f;q;h"). */
	KtLayerInfo l[3] = {{1280, 720, 1100000, 30, TRUE},
	                    {320, 180, 160000, 30, TRUE},
	                    {640, 360, 480000, 30, TRUE}};
	guint order[3];

	kt_layer_order(l, 3, order);
	g_assert_cmpuint(order[0], ==, 1);
	g_assert_cmpuint(order[1], ==, 2);
	g_assert_cmpuint(order[2], ==, 0);
	/* One size unknown (no keyframe yet): bitrate decides. A big but
	 * starved layer then ranks low until its keyframe says otherwise. */
	l[0].width = l[0].height = 0;
	l[0].bitrate_bps = 300000;
	kt_layer_order(l, 3, order);
	g_assert_cmpuint(order[0], ==, 1);
	g_assert_cmpuint(order[1], ==, 0);
	g_assert_cmpuint(order[2], ==, 2);
}

static void test_estimate_picks_what_fits(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;

	ladder(l);
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 3000000, 0), ==, 2);
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 200000, 0), ==, 0);
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 700000, 0), ==, 1);
	g_assert_false(sel.below_lowest);
	/* Below even the lowest: still the lowest, flagged for the pause. */
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 100000, 0), ==, 0);
	g_assert_true(sel.below_lowest);
}

static void test_down_at_once_up_after_hold(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;
	gint64 t = 0;

	ladder(l);
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 3000000, t), ==, 2);
	/* Falls below the top layer's bitrate: down at once. */
	t += 50 * MS;
	g_assert_cmpint(run(&sel, l, 900000, t), ==, 1);
	/* Recovers at once: not up within 2 s of holding, nor 5 s after the down. */
	for (t += 50 * MS; t < 5 * S; t += 50 * MS)
		g_assert_cmpint(run(&sel, l, 3000000, t), ==, 1);
	/* 5 s after the down, and held for 2 s by then: up. */
	g_assert_cmpint(run(&sel, l, 3000000, 5 * S + 100 * MS), ==, 2);
}

static void test_up_needs_margin(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;

	ladder(l);
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 200000, 0), ==, 0);
	/* 550 kbit/s carries the 500 kbit/s layer but not with 25 % to spare. */
	for (gint64 t = 50 * MS; t < 20 * S; t += 50 * MS)
		g_assert_cmpint(run(&sel, l, 550000, t), ==, 0);
	/* 640 kbit/s does: up after 2 s. */
	g_assert_cmpint(run(&sel, l, 640000, 20 * S), ==, 0);
	g_assert_cmpint(run(&sel, l, 640000, 21 * S), ==, 0);
	g_assert_cmpint(run(&sel, l, 640000, 22 * S), ==, 1);
}

/* An estimate swinging +-15 % around the top layer's bitrate every 500 ms
 * for a minute: one step down, then no flapping. */
static void test_no_flapping(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;
	int prev, switches = 0;

	ladder(l);
	kt_layer_select_init(&sel);
	prev = run(&sel, l, 1500000, 0);
	g_assert_cmpint(prev, ==, 2);
	for (gint64 t = 50 * MS; t < 60 * S; t += 50 * MS) {
		gint64 bps = (t / (500 * MS)) % 2 ? 1020000 : 1380000;
		int now = run(&sel, l, bps, t);

		switches += now != prev;
		prev = now;
	}
	g_test_message("switches in 60 s of +-15 %% around 1.2 Mbit/s: %d", switches);
	g_assert_cmpint(switches, ==, 1);
	g_assert_cmpint(prev, ==, 1);
	/* The same swing around the middle layer's up threshold (1.25 x 500k). */
	kt_layer_select_init(&sel);
	prev = run(&sel, l, 600000, 0);
	switches = 0;
	for (gint64 t = 50 * MS; t < 60 * S; t += 50 * MS) {
		gint64 bps = (t / (500 * MS)) % 2 ? 531000 : 719000;
		int now = run(&sel, l, bps, t);

		switches += now != prev;
		prev = now;
	}
	g_assert_cmpint(switches, ==, 0);
}

static void test_inactive_layer_skipped(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;

	ladder(l);
	kt_layer_select_init(&sel);
	g_assert_cmpint(run(&sel, l, 3000000, 0), ==, 2);
	/* The top layer stops (the publisher's own link): away at once. */
	l[2].active = FALSE;
	g_assert_cmpint(run(&sel, l, 3000000, 50 * MS), ==, 1);
	/* Never back onto it while inactive. */
	for (gint64 t = 100 * MS; t < 20 * S; t += 50 * MS)
		g_assert_cmpint(run(&sel, l, 3000000, t), ==, 1);
	l[0].active = l[1].active = FALSE;
	g_assert_cmpint(run(&sel, l, 3000000, 20 * S), ==, -1);
}

/* Below the lowest layer (the pause): set under 0.9 x its bitrate, cleared only when
 * the estimate carries it again, so 135-150 kbit/s flips nothing. */
static void test_below_lowest_band(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;

	ladder(l);
	kt_layer_select_init(&sel);
	run(&sel, l, 140000, 0);
	g_assert_false(sel.below_lowest);
	run(&sel, l, 130000, 50 * MS);
	g_assert_true(sel.below_lowest);
	for (gint64 t = 100 * MS; t < 10 * S; t += 50 * MS) {
		run(&sel, l, (t / (500 * MS)) % 2 ? 136000 : 149000, t);
		g_assert_true(sel.below_lowest);
	}
	g_assert_cmpint(run(&sel, l, 150000, 10 * S), ==, 0);
	g_assert_false(sel.below_lowest);
	/* Unknown estimate: never paused. */
	g_assert_cmpint(kt_layer_select_update(&sel, l, 3, &(KtLayerInput){0}, 11 * S), ==, 0);
	g_assert_false(sel.below_lowest);
}

static int loss(KtLayerSelect *sel, const KtLayerInfo *l, guint8 lost, gint64 at, gint64 now)
{
	KtLayerInput in = {.fraction_lost = lost, .loss_at_us = at};

	return kt_layer_select_update(sel, l, 3, &in, now);
}

static void test_unknown_estimate_uses_loss(void)
{
	KtLayerInfo l[3];
	KtLayerSelect sel;
	gint64 t;

	ladder(l);
	kt_layer_select_init(&sel);
	/* Starts in the middle. */
	g_assert_cmpint(loss(&sel, l, 0, 0, 0), ==, 1);
	/* One lossy report is not enough; the same report seen twice counts once. */
	g_assert_cmpint(loss(&sel, l, 40, 1 * S, 1 * S), ==, 1);
	g_assert_cmpint(loss(&sel, l, 40, 1 * S, 1 * S + 50 * MS), ==, 1);
	/* The second in a row: one down. */
	g_assert_cmpint(loss(&sel, l, 40, 2 * S, 2 * S), ==, 0);
	/* Clean (< 2 %) reports every second: up one after 8 s clean (and 5 s
	 * after the down). */
	for (t = 3 * S; t < 11 * S; t += S)
		g_assert_cmpint(loss(&sel, l, 2, t, t), ==, 0);
	g_assert_cmpint(loss(&sel, l, 2, 11 * S, 11 * S), ==, 1);
	/* 5 % (between the thresholds) holds it where it is. */
	for (t = 12 * S; t < 30 * S; t += S)
		g_assert_cmpint(loss(&sel, l, 13, t, t), ==, 1);
}

/* A VP8 keyframe's first packet: descriptor, frame tag, start code, sizes. */
static void test_vp8_keyframe_size(void)
{
	/* X=1, S=1 | I=1 | 15-bit picture id | frame tag (key) | 9d 01 2a | 1280 | 720 */
	static const guint8 key[] = {0x90, 0x80, 0x81, 0x23, 0x50, 0x42, 0x00, 0x9d,
	                             0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02, 0x00};
	static const guint8 small[] = {0x10, 0x00, 0x00, 0x00, 0x9d, 0x01,
	                               0x2a, 0x40, 0x41, 0xb4, 0x80, 0x00};
	guint w = 0, h = 0;
	guint8 delta[sizeof(key)], bad[sizeof(key)];

	g_assert_true(kt_rtp_vp8_keyframe_size(key, sizeof(key), &w, &h));
	g_assert_cmpuint(w, ==, 1280);
	g_assert_cmpuint(h, ==, 720);
	/* The top two bits are the scale, not the size. */
	g_assert_true(kt_rtp_vp8_keyframe_size(small, sizeof(small), &w, &h));
	g_assert_cmpuint(w, ==, 320);
	g_assert_cmpuint(h, ==, 180);
	memcpy(delta, key, sizeof(key));
	delta[4] |= 0x01; /* interframe */
	g_assert_false(kt_rtp_vp8_keyframe_size(delta, sizeof(delta), &w, &h));
	memcpy(bad, key, sizeof(key));
	bad[7] = 0x9c; /* no start code */
	g_assert_false(kt_rtp_vp8_keyframe_size(bad, sizeof(bad), &w, &h));
	for (gsize n = 0; n < sizeof(key) - 1; n++)
		g_assert_false(kt_rtp_vp8_keyframe_size(key, n, &w, &h));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/layer-select/order-by-size-not-slot", test_order_by_size_not_slot);
	g_test_add_func("/layer-select/estimate-picks-what-fits", test_estimate_picks_what_fits);
	g_test_add_func("/layer-select/down-at-once-up-after-hold",
	                test_down_at_once_up_after_hold);
	g_test_add_func("/layer-select/up-needs-margin", test_up_needs_margin);
	g_test_add_func("/layer-select/no-flapping", test_no_flapping);
	g_test_add_func("/layer-select/inactive-layer-skipped", test_inactive_layer_skipped);
	g_test_add_func("/layer-select/unknown-estimate-uses-loss",
	                test_unknown_estimate_uses_loss);
	g_test_add_func("/layer-select/below-lowest-band", test_below_lowest_band);
	g_test_add_func("/layer-select/vp8-keyframe-size", test_vp8_keyframe_size);
	return g_test_run();
}
