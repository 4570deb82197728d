/* Unit tests for kt-rtx-cache. */
#include <string.h>

#include <glib.h>

#include "kt-rtx-cache.h"

#define SEC G_GINT64_CONSTANT(1000000)

/* Fills a packet whose bytes identify its seq. */
static void make_packet(guint8 *p, gsize len, guint16 seq)
{
	for (gsize i = 0; i < len; i++)
		p[i] = (guint8)(seq + i);
}

static void test_store_lookup(void)
{
	g_autoptr(KtRtxCache) c = kt_rtx_cache_new(512, SEC);
	guint8 pkt[1200], want[1200];
	gsize len = 0;

	for (guint16 seq = 100; seq < 110; seq++) {
		make_packet(pkt, sizeof(pkt) - seq, seq);
		kt_rtx_cache_store(c, seq, pkt, sizeof(pkt) - seq, 10 * SEC);
	}
	/* The caller's buffer may be reused at once: the cache copied it. */
	memset(pkt, 0, sizeof(pkt));
	for (guint16 seq = 100; seq < 110; seq++) {
		const guint8 *got = kt_rtx_cache_lookup(c, seq, 10 * SEC, &len);
		g_assert_nonnull(got);
		make_packet(want, sizeof(want) - seq, seq);
		g_assert_cmpmem(got, len, want, sizeof(want) - seq);
	}
	g_assert_null(kt_rtx_cache_lookup(c, 99, 10 * SEC, &len));
	g_assert_null(kt_rtx_cache_lookup(c, 110, 10 * SEC, &len));
	/* A slot that once held seq 100 does not answer for 100 + 512. */
	g_assert_null(kt_rtx_cache_lookup(c, 100 + 512, 10 * SEC, &len));
}

static void test_eviction_and_wrap(void)
{
	g_autoptr(KtRtxCache) c = kt_rtx_cache_new(16, SEC);
	guint8 pkt[100];
	gsize len = 0;

	make_packet(pkt, sizeof(pkt), 1);
	kt_rtx_cache_store(c, 1, pkt, sizeof(pkt), 0);
	make_packet(pkt, sizeof(pkt), 17);
	kt_rtx_cache_store(c, 17, pkt, 50, 0);
	g_assert_null(kt_rtx_cache_lookup(c, 1, 0, &len));
	g_assert_nonnull(kt_rtx_cache_lookup(c, 17, 0, &len));
	g_assert_cmpuint(len, ==, 50);
	/* 1 was pushed out by a later packet: gone. 33 (same slot, later) and 2
	 * (an empty slot) never came: not gone, they may yet. 17 is there. */
	g_assert_true(kt_rtx_cache_expired(c, 1, 0));
	g_assert_false(kt_rtx_cache_expired(c, 33, 0));
	g_assert_false(kt_rtx_cache_expired(c, 2, 0));
	g_assert_false(kt_rtx_cache_expired(c, 17, 0));

	/* Sequence numbers across the 16-bit wrap land in distinct slots. */
	for (guint i = 0; i < 16; i++) {
		guint16 seq = (guint16)(65528 + i);
		make_packet(pkt, sizeof(pkt), seq);
		kt_rtx_cache_store(c, seq, pkt, sizeof(pkt), 0);
	}
	for (guint i = 0; i < 16; i++) {
		guint16 seq = (guint16)(65528 + i);
		const guint8 *got = kt_rtx_cache_lookup(c, seq, 0, &len);
		g_assert_nonnull(got);
		g_assert_cmpuint(got[0], ==, (guint8)seq);
	}
	g_assert_null(kt_rtx_cache_lookup(c, 17, 0, &len));
}

static void test_age_expiry(void)
{
	g_autoptr(KtRtxCache) c = kt_rtx_cache_new(64, SEC);
	guint8 pkt[20] = {1, 2, 3};
	gsize len = 0;

	kt_rtx_cache_store(c, 5, pkt, sizeof(pkt), 100 * SEC);
	g_assert_nonnull(kt_rtx_cache_lookup(c, 5, 100 * SEC + SEC, &len));
	g_assert_null(kt_rtx_cache_lookup(c, 5, 100 * SEC + SEC + 1, &len));
	g_assert_false(kt_rtx_cache_expired(c, 5, 100 * SEC + SEC));
	g_assert_true(kt_rtx_cache_expired(c, 5, 100 * SEC + SEC + 1));
	/* Storing again refreshes the age. */
	kt_rtx_cache_store(c, 5, pkt, sizeof(pkt), 200 * SEC);
	g_assert_nonnull(kt_rtx_cache_lookup(c, 5, 200 * SEC + SEC / 2, &len));
}

static void test_oversized_and_reset(void)
{
	g_autoptr(KtRtxCache) c = kt_rtx_cache_new(1024, SEC);
	guint8 *big = g_malloc0(KT_RTX_CACHE_MAX_PACKET + 1);
	gsize len = 0;

	kt_rtx_cache_store(c, 7, big, KT_RTX_CACHE_MAX_PACKET + 1, 0);
	g_assert_null(kt_rtx_cache_lookup(c, 7, 0, &len));
	kt_rtx_cache_store(c, 7, big, 0, 0);
	g_assert_null(kt_rtx_cache_lookup(c, 7, 0, &len));
	kt_rtx_cache_store(c, 7, big, KT_RTX_CACHE_MAX_PACKET, 0);
	g_assert_nonnull(kt_rtx_cache_lookup(c, 7, 0, &len));
	g_assert_cmpuint(len, ==, KT_RTX_CACHE_MAX_PACKET);

	/* An oversized packet leaves the slot's previous occupant alone, but
	 * lookups for the oversized seq still miss. */
	kt_rtx_cache_store(c, 7 + 1024, big, KT_RTX_CACHE_MAX_PACKET + 1, 0);
	g_assert_null(kt_rtx_cache_lookup(c, 7 + 1024, 0, &len));
	g_assert_nonnull(kt_rtx_cache_lookup(c, 7, 0, &len));

	kt_rtx_cache_reset(c);
	g_assert_null(kt_rtx_cache_lookup(c, 7, 0, &len));
	g_free(big);
}

static void test_bad_capacity(void)
{
	g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
	g_assert_null(kt_rtx_cache_new(500, SEC));
	g_test_assert_expected_messages();
	g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
	g_assert_null(kt_rtx_cache_new(65536, SEC));
	g_test_assert_expected_messages();
	g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
	g_assert_null(kt_rtx_cache_new(0, SEC));
	g_test_assert_expected_messages();
	kt_rtx_cache_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtx-cache/store-lookup", test_store_lookup);
	g_test_add_func("/rtx-cache/eviction-wrap", test_eviction_and_wrap);
	g_test_add_func("/rtx-cache/age-expiry", test_age_expiry);
	g_test_add_func("/rtx-cache/oversized-reset", test_oversized_and_reset);
	g_test_add_func("/rtx-cache/bad-capacity", test_bad_capacity);
	return g_test_run();
}
