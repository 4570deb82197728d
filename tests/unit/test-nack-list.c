/* Missing sequence numbers for NACKs to publishers (transport/kt-nack-list.h). */
#include "kt-nack-list.h"

#define MS 1000

static guint due(KtNackList *l, gint64 now, guint16 *out)
{
	return kt_nack_list_due(l, now, 100 * MS, out, KT_NACK_MAX);
}

static void test_gap_asked_until_it_arrives(void)
{
	KtNackList l;
	guint16 out[KT_NACK_MAX];

	kt_nack_list_init(&l);
	kt_nack_list_on_packet(&l, 10, 0);
	kt_nack_list_on_packet(&l, 11, 0);
	g_assert_cmpuint(due(&l, 0, out), ==, 0);
	kt_nack_list_on_packet(&l, 15, 1 * MS); /* 12, 13, 14 lost */
	g_assert_cmpuint(due(&l, 2 * MS, out), ==, 3);
	g_assert_cmpuint(out[0], ==, 12);
	g_assert_cmpuint(out[2], ==, 14);
	/* Not again before the retry interval. */
	g_assert_cmpuint(due(&l, 50 * MS, out), ==, 0);
	/* 13 comes (retransmitted or late); the others are asked for again. */
	kt_nack_list_on_packet(&l, 13, 60 * MS);
	g_assert_cmpuint(due(&l, 110 * MS, out), ==, 2);
	g_assert_cmpuint(out[0], ==, 12);
	g_assert_cmpuint(out[1], ==, 14);
	/* A duplicate of the newest changes nothing. */
	kt_nack_list_on_packet(&l, 15, 120 * MS);
	g_assert_cmpuint(l.n, ==, 2);
}

static void test_gives_up(void)
{
	KtNackList l;
	guint16 out[KT_NACK_MAX];
	guint asked = 0;

	kt_nack_list_init(&l);
	kt_nack_list_on_packet(&l, 1, 0);
	kt_nack_list_on_packet(&l, 3, 0);
	for (gint64 t = 0; t < 2 * G_USEC_PER_SEC; t += 50 * MS)
		asked += due(&l, t, out);
	g_assert_cmpuint(asked, ==, KT_NACK_MAX_TRIES);
	g_assert_cmpuint(l.n, ==, 0);

	/* Old entries go by age even when retries remain. */
	kt_nack_list_on_packet(&l, 5, 0);
	g_assert_cmpuint(l.n, ==, 1);
	g_assert_cmpuint(due(&l, KT_NACK_MAX_AGE_US + 1, out), ==, 0);
	g_assert_cmpuint(l.n, ==, 0);
}

static void test_wrap_and_bounds(void)
{
	KtNackList l;
	guint16 out[KT_NACK_MAX];

	kt_nack_list_init(&l);
	kt_nack_list_on_packet(&l, 65534, 0);
	kt_nack_list_on_packet(&l, 2, 0); /* 65535, 0, 1 lost across the wrap */
	g_assert_cmpuint(due(&l, 0, out), ==, 3);
	g_assert_cmpuint(out[0], ==, 65535);
	g_assert_cmpuint(out[1], ==, 0);
	g_assert_cmpuint(out[2], ==, 1);

	/* A gap wider than the list is not asked for: a keyframe is needed. */
	kt_nack_list_on_packet(&l, 2 + KT_NACK_MAX + 2, 0);
	g_assert_cmpuint(l.n, ==, 0);

	/* Gaps that add up past the list keep the newest. */
	kt_nack_list_init(&l);
	kt_nack_list_on_packet(&l, 0, 0);
	for (guint16 s = 2; s < 2 * (KT_NACK_MAX + 10); s += 2)
		kt_nack_list_on_packet(&l, s, 0);
	g_assert_cmpuint(l.n, ==, KT_NACK_MAX);
	g_assert_cmpuint(l.e[KT_NACK_MAX - 1].seq, ==, 2 * (KT_NACK_MAX + 10) - 3);
	/* @max bounds what one call returns. */
	g_assert_cmpuint(kt_nack_list_due(&l, 0, 100 * MS, out, 16), ==, 16);
	g_assert_cmpuint(out[0], ==, l.e[0].seq);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/nack-list/gap-asked-until-it-arrives", test_gap_asked_until_it_arrives);
	g_test_add_func("/nack-list/gives-up", test_gives_up);
	g_test_add_func("/nack-list/wrap-and-bounds", test_wrap_and_bounds);
	return g_test_run();
}
