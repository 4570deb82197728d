/* kt-rate.c — token buckets (kt-rate.h). */
#include "kt-rate.h"

#define KT_RATE_DEFAULT_MAX_ADDRESSES 65536

void kt_token_bucket_init(KtTokenBucket *b, guint rate, guint burst, gint64 now_us)
{
	b->rate = rate;
	b->burst = MAX(1u, burst ? burst : rate);
	b->tokens = b->burst;
	b->at_us = now_us;
}

static void kt_token_bucket_refill(KtTokenBucket *b, gint64 now_us)
{
	if (now_us > b->at_us) {
		b->tokens = MIN((double)b->burst,
		                b->tokens + (double)(now_us - b->at_us) * b->rate / G_USEC_PER_SEC);
		b->at_us = now_us;
	}
}

gboolean kt_token_bucket_take(KtTokenBucket *b, gint64 now_us)
{
	if (b->rate == 0)
		return TRUE;
	kt_token_bucket_refill(b, now_us);
	if (b->tokens < 1.0)
		return FALSE;
	b->tokens -= 1.0;
	return TRUE;
}

guint kt_token_bucket_retry_after(const KtTokenBucket *b, gint64 now_us)
{
	if (b->rate == 0)
		return 1;
	KtTokenBucket copy = *b;
	kt_token_bucket_refill(&copy, now_us);
	double missing = 1.0 - copy.tokens;
	if (missing <= 0)
		return 1;
	return MAX(1u, (guint)(missing / b->rate + 0.999));
}

struct _KtRateTable {
	guint rate, burst, max_addresses;
	GHashTable *buckets; /* address (owned) → KtTokenBucket* (owned) */
	KtTokenBucket overflow;
	gboolean overflow_ready;
	gint64 pruned_at_us; /* a full table is swept at most once a second */
};

KtRateTable *kt_rate_table_new(guint rate, guint burst, guint max_addresses)
{
	KtRateTable *t = g_new0(KtRateTable, 1);
	t->rate = rate;
	t->burst = burst;
	t->max_addresses = max_addresses ? max_addresses : KT_RATE_DEFAULT_MAX_ADDRESSES;
	t->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return t;
}

void kt_rate_table_free(KtRateTable *t)
{
	if (!t)
		return;
	g_hash_table_unref(t->buckets);
	g_free(t);
}

/* Forgets the addresses whose buckets are full again. */
static void kt_rate_table_prune(KtRateTable *t, gint64 now_us)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, t->buckets);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		KtTokenBucket *b = value;
		kt_token_bucket_refill(b, now_us);
		if (b->tokens >= b->burst)
			g_hash_table_iter_remove(&it);
	}
}

static KtTokenBucket *kt_rate_table_bucket(KtRateTable *t, const char *address, gint64 now_us)
{
	KtTokenBucket *b = g_hash_table_lookup(t->buckets, address);
	if (b)
		return b;
	if (g_hash_table_size(t->buckets) >= t->max_addresses &&
	    (t->pruned_at_us == 0 || now_us - t->pruned_at_us >= G_USEC_PER_SEC)) {
		t->pruned_at_us = now_us;
		kt_rate_table_prune(t, now_us);
	}
	if (g_hash_table_size(t->buckets) >= t->max_addresses) {
		if (!t->overflow_ready) {
			kt_token_bucket_init(&t->overflow, t->rate, t->burst, now_us);
			t->overflow_ready = TRUE;
		}
		return &t->overflow;
	}
	b = g_new(KtTokenBucket, 1);
	kt_token_bucket_init(b, t->rate, t->burst, now_us);
	g_hash_table_insert(t->buckets, g_strdup(address), b);
	return b;
}

gboolean kt_rate_table_take(KtRateTable *t, const char *address, gint64 now_us,
                            guint *retry_after_s)
{
	if (t->rate == 0)
		return TRUE;
	KtTokenBucket *b = kt_rate_table_bucket(t, address ? address : "", now_us);
	if (kt_token_bucket_take(b, now_us))
		return TRUE;
	if (retry_after_s)
		*retry_after_s = kt_token_bucket_retry_after(b, now_us);
	return FALSE;
}

guint kt_rate_table_size(KtRateTable *t)
{
	return g_hash_table_size(t->buckets);
}
