/* kt-rate: token buckets and the per-address table, on a clock the test drives. */
#include <glib.h>

#include "kt-rate.h"

#define SEC G_USEC_PER_SEC

static void test_bucket_burst_then_rate(void)
{
	KtTokenBucket b;
	kt_token_bucket_init(&b, 10, 30, 0);

	for (int i = 0; i < 30; i++)
		g_assert_true(kt_token_bucket_take(&b, 0));
	g_assert_false(kt_token_bucket_take(&b, 0));
	g_assert_cmpuint(kt_token_bucket_retry_after(&b, 0), ==, 1);
	/* 10 per second: one more after 100 ms, not before. */
	g_assert_false(kt_token_bucket_take(&b, SEC / 10 - 1000));
	g_assert_true(kt_token_bucket_take(&b, SEC / 10));
	g_assert_false(kt_token_bucket_take(&b, SEC / 10));
	/* A long pause refills to the burst, not beyond. */
	int n = 0;
	while (kt_token_bucket_take(&b, 100 * SEC))
		n++;
	g_assert_cmpint(n, ==, 30);
}

static void test_bucket_slow_rate_retry_after(void)
{
	KtTokenBucket b;
	kt_token_bucket_init(&b, 1, 1, 0);
	g_assert_true(kt_token_bucket_take(&b, 0));
	g_assert_false(kt_token_bucket_take(&b, 0));
	g_assert_cmpuint(kt_token_bucket_retry_after(&b, 0), ==, 1);

	kt_token_bucket_init(&b, 0, 0, 0); /* no limit */
	for (int i = 0; i < 1000; i++)
		g_assert_true(kt_token_bucket_take(&b, 0));
}

static void test_bucket_burst_defaults_to_rate(void)
{
	KtTokenBucket b;
	kt_token_bucket_init(&b, 5, 0, 0);
	int n = 0;
	while (kt_token_bucket_take(&b, 0))
		n++;
	g_assert_cmpint(n, ==, 5);
}

static void test_table_per_address(void)
{
	KtRateTable *t = kt_rate_table_new(2, 4, 0);
	guint retry = 0;

	for (int i = 0; i < 4; i++)
		g_assert_true(kt_rate_table_take(t, "10.0.0.1", 0, NULL));
	g_assert_false(kt_rate_table_take(t, "10.0.0.1", 0, &retry));
	g_assert_cmpuint(retry, ==, 1);
	/* Another address has its own bucket. */
	g_assert_true(kt_rate_table_take(t, "2001:db8::1", 0, NULL));
	g_assert_cmpuint(kt_rate_table_size(t), ==, 2);
	/* Half a second later one token is back (2/s). */
	g_assert_true(kt_rate_table_take(t, "10.0.0.1", SEC / 2, NULL));
	g_assert_false(kt_rate_table_take(t, "10.0.0.1", SEC / 2, NULL));
	kt_rate_table_free(t);
}

/* A full table forgets refilled buckets; when none has refilled, new
 * addresses share one bucket instead of growing the table. */
static void test_table_bounded(void)
{
	KtRateTable *t = kt_rate_table_new(1, 2, 3);
	char addr[32];

	for (int i = 0; i < 3; i++) {
		g_snprintf(addr, sizeof addr, "10.0.0.%d", i);
		g_assert_true(kt_rate_table_take(t, addr, 0, NULL));
	}
	g_assert_cmpuint(kt_rate_table_size(t), ==, 3);
	/* Full, nothing refilled: the overflow bucket (burst 2) serves everyone new. */
	g_assert_true(kt_rate_table_take(t, "10.0.1.1", 0, NULL));
	g_assert_true(kt_rate_table_take(t, "10.0.1.2", 0, NULL));
	g_assert_false(kt_rate_table_take(t, "10.0.1.3", 0, NULL));
	g_assert_cmpuint(kt_rate_table_size(t), ==, 3);
	/* Two seconds on, the first three have refilled and are forgotten. */
	g_assert_true(kt_rate_table_take(t, "10.0.2.1", 2 * SEC, NULL));
	g_assert_cmpuint(kt_rate_table_size(t), ==, 1);
	kt_rate_table_free(t);

	t = kt_rate_table_new(0, 0, 0); /* no limit: nothing tracked */
	for (int i = 0; i < 100; i++)
		g_assert_true(kt_rate_table_take(t, "10.0.0.1", 0, NULL));
	g_assert_cmpuint(kt_rate_table_size(t), ==, 0);
	kt_rate_table_free(t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rate/bucket/burst-then-rate", test_bucket_burst_then_rate);
	g_test_add_func("/rate/bucket/slow-rate", test_bucket_slow_rate_retry_after);
	g_test_add_func("/rate/bucket/burst-defaults-to-rate", test_bucket_burst_defaults_to_rate);
	g_test_add_func("/rate/table/per-address", test_table_per_address);
	g_test_add_func("/rate/table/bounded", test_table_bounded);
	return g_test_run();
}
