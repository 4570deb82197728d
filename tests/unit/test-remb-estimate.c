/* Receive-side estimate behind REMB (transport/kt-remb-estimate.h) on a
 * synthetic clock: a sender stamping abs-send-time on 1200-byte packets every
 * 5 ms (1.92 Mbit/s), arrivals after a constant delay (a path with room to
 * spare) or spaced wider than they were sent (a bottleneck queue filling up),
 * across the 64 s wrap of the extension, and malformed extensions. */
#include <string.h>

#include "kt-remb-estimate.h"

#define MS ((gint64)1000)
#define SEC ((gint64)G_USEC_PER_SEC)
#define T0 (10 * SEC) /* our clock starts here */
#define PACKET 1200
#define GAP_US (5 * MS)
#define RATE_BPS (PACKET * 8 * SEC / GAP_US) /* 1.92 Mbit/s */
#define UPDATE_US (50 * MS)                  /* the room's tick */

typedef struct {
	KtRembEstimate *e;
	gint64 send_us;    /* the sender's clock */
	gint64 arrival_us; /* ours */
	gint64 next_update_us;
	guint32 estimate;
	/* Every packet also comes with a twin without a usable extension:
	 * 0 = no twin, else the twin's element length (-1: none at all). */
	gboolean twin;
	int twin_len;
} Sim;

static void sim_init(Sim *s, gint64 send_start_us)
{
	memset(s, 0, sizeof(*s));
	s->e = kt_remb_estimate_new(0, 0);
	s->send_us = send_start_us;
	s->arrival_us = T0;
	s->next_update_us = T0 + UPDATE_US;
}

/* abs-send-time (6.18 fixed point seconds, 24 bits) of @send_us. */
static void abs_send_time(guint8 *ext, gint64 send_us)
{
	guint32 v = (guint32)(((send_us << 18) / SEC) & 0xFFFFFF);

	ext[0] = v >> 16;
	ext[1] = v >> 8;
	ext[2] = v;
}

/* @duration_us of sending, one packet per 5 ms arriving @arrival_gap_us apart. */
static void sim_run(Sim *s, gint64 duration_us, gint64 arrival_gap_us)
{
	for (gint64 t = 0; t < duration_us; t += GAP_US) {
		guint8 ext[4];

		s->send_us += GAP_US;
		s->arrival_us += arrival_gap_us;
		abs_send_time(ext, s->send_us);
		g_assert_true(kt_remb_estimate_on_packet(s->e, s->arrival_us, PACKET, ext, 3));
		if (s->twin) {
			/* Bytes that look like a send time far in the past. */
			static const guint8 junk[4] = {0x80, 0x00, 0x00, 0x00};

			g_assert_false(kt_remb_estimate_on_packet(
			    s->e, s->arrival_us, PACKET, s->twin_len < 0 ? NULL : junk, s->twin_len));
		}
		while (s->next_update_us <= s->arrival_us) {
			s->estimate = kt_remb_estimate_update(s->e, s->next_update_us);
			s->next_update_us += UPDATE_US;
		}
	}
}

static void test_unknown_at_first(void)
{
	Sim s;

	sim_init(&s, 0);
	sim_run(&s, 900 * MS, GAP_US);
	g_assert_cmpuint(s.estimate, ==, 0);
	sim_run(&s, 200 * MS, GAP_US);
	/* Known after a second: at least the incoming rate. */
	g_assert_cmpuint(s.estimate, >=, RATE_BPS * 95 / 100);
	kt_remb_estimate_free(s.e);
}

/* A path with room to spare: the estimate grows (8 %/s) to its bound, 1.5 x
 * what arrives, and stays there: the publisher may send more, not any more. */
static void test_steady_rises_to_bound(void)
{
	Sim s;
	guint32 incoming, at_2s;

	sim_init(&s, 0);
	sim_run(&s, 2 * SEC, GAP_US);
	at_2s = s.estimate;
	sim_run(&s, 10 * SEC, GAP_US);
	incoming = kt_remb_estimate_incoming_bps(s.e, s.arrival_us);
	g_test_message("incoming %u, estimate %u after 2 s, %u after 12 s", incoming, at_2s,
	               s.estimate);
	g_assert_cmpuint(incoming, >=, RATE_BPS * 98 / 100);
	g_assert_cmpuint(incoming, <=, RATE_BPS * 102 / 100);
	g_assert_cmpuint(s.estimate, >, at_2s);
	g_assert_cmpuint(s.estimate, >=, incoming * 14 / 10);
	g_assert_cmpuint(s.estimate, <=, incoming * 15 / 10 + 10000);
	kt_remb_estimate_free(s.e);
}

/* A bottleneck below the sending rate: packets leave 5 ms apart and arrive 6
 * ms apart, so the queue grows by 1 ms per packet. The estimate falls to
 * 0.85 x what arrives (gcc-02 §5.5), below what the sender sends. */
static void congest(gint64 send_start_us)
{
	Sim s;
	guint32 before, incoming;

	sim_init(&s, send_start_us);
	sim_run(&s, 3 * SEC, GAP_US);
	before = s.estimate;
	sim_run(&s, 1500 * MS, 6 * MS);
	incoming = kt_remb_estimate_incoming_bps(s.e, s.arrival_us);
	g_test_message("before %u, after %u (incoming %u)", before, s.estimate, incoming);
	g_assert_cmpuint(before, >=, RATE_BPS);
	g_assert_cmpuint(s.estimate, <, RATE_BPS * 85 / 100 + 10000);
	g_assert_cmpuint(s.estimate, <=, incoming);
	kt_remb_estimate_free(s.e);
}

static void test_growing_delay_decreases(void)
{
	congest(0);
}

/* The same with the sender's clock crossing the extension's 64 s wrap while
 * the queue builds (60 s + 3 s steady, then the congestion): the wrap is
 * neither a 64 s jump back (packets dropped as reordered, the detector blind)
 * nor forward (the path forgotten). */
static void test_wraparound(void)
{
	Sim a, b;

	congest(60 * SEC + 500 * MS);
	/* And step for step the same estimate as without the wrap. */
	sim_init(&a, 0);
	sim_init(&b, 62 * SEC);
	for (guint i = 0; i < 80; i++) {
		sim_run(&a, 100 * MS, i >= 40 ? 6 * MS : GAP_US);
		sim_run(&b, 100 * MS, i >= 40 ? 6 * MS : GAP_US);
		g_assert_cmpuint(b.estimate, <=, a.estimate + a.estimate / 100);
		g_assert_cmpuint(b.estimate + b.estimate / 100, >=, a.estimate);
	}
	kt_remb_estimate_free(a.e);
	kt_remb_estimate_free(b.e);
}

/* Packets with a short, long or empty abs-send-time element feed only the
 * incoming rate: the estimate is step for step that of the same packets
 * without the extension, even with congestion. */
static void test_malformed_extension_ignored(void)
{
	static const int lens[] = {0, 1, 2, 4};

	for (guint l = 0; l < G_N_ELEMENTS(lens); l++) {
		Sim a, b;

		sim_init(&a, 0);
		sim_init(&b, 0);
		a.twin = b.twin = TRUE;
		a.twin_len = -1;
		b.twin_len = lens[l];
		for (guint i = 0; i < 50; i++) {
			sim_run(&a, 100 * MS, i >= 30 ? 6 * MS : GAP_US);
			sim_run(&b, 100 * MS, i >= 30 ? 6 * MS : GAP_US);
			g_assert_cmpuint(a.estimate, ==, b.estimate);
		}
		g_assert_cmpuint(a.estimate, >, 0);
		kt_remb_estimate_free(a.e);
		kt_remb_estimate_free(b.e);
	}
}

/* Without one well-formed extension the estimate stays unknown. */
static void test_no_extension_no_estimate(void)
{
	static const guint8 ext[3] = {1, 2, 3};
	KtRembEstimate *e = kt_remb_estimate_new(0, 0);

	for (gint64 t = 0; t < 3 * SEC; t += GAP_US) {
		g_assert_false(kt_remb_estimate_on_packet(e, T0 + t, PACKET, NULL, -1));
		g_assert_false(kt_remb_estimate_on_packet(e, T0 + t, PACKET, ext, 2));
		g_assert_false(kt_remb_estimate_on_packet(e, T0 + t, PACKET, NULL, 3));
		g_assert_cmpuint(kt_remb_estimate_update(e, T0 + t), ==, 0);
	}
	g_assert_cmpuint(kt_remb_estimate_incoming_bps(e, T0 + 3 * SEC), >, 3 * RATE_BPS * 9 / 10);
	kt_remb_estimate_free(e);
}

/* The estimate stays within the bounds it was made with. */
static void test_bounds(void)
{
	Sim s;

	sim_init(&s, 0);
	kt_remb_estimate_free(s.e);
	s.e = kt_remb_estimate_new(50000, 1000000);
	sim_run(&s, 5 * SEC, GAP_US);
	g_assert_cmpuint(s.estimate, ==, 1000000);
	kt_remb_estimate_free(s.e);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/remb-estimate/unknown-at-first", test_unknown_at_first);
	g_test_add_func("/remb-estimate/steady-rises-to-bound", test_steady_rises_to_bound);
	g_test_add_func("/remb-estimate/growing-delay-decreases", test_growing_delay_decreases);
	g_test_add_func("/remb-estimate/wraparound", test_wraparound);
	g_test_add_func("/remb-estimate/malformed-extension-ignored",
	                test_malformed_extension_ignored);
	g_test_add_func("/remb-estimate/no-extension-no-estimate", test_no_extension_no_estimate);
	g_test_add_func("/remb-estimate/bounds", test_bounds);
	return g_test_run();
}
