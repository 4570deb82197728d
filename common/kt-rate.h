/* kt-rate.h — token buckets: a rate with a burst, for one stream of events
 * (KtTokenBucket, embedded by value) and per client address (KtRateTable).
 *
 * A bucket holds up to `burst` tokens and gains `rate` tokens per second; an
 * event spends one, and is refused when none is left. This is what bounds
 * what one hostile client can cost: WebSocket messages per connection
 * (kt-ws.c) and HTTP requests per client address (kt-http.c).
 *
 * Time is passed in (monotonic microseconds), so tests drive it.
 *
 * Ownership: KtTokenBucket is a plain value; KtRateTable is created by
 * kt_rate_table_new and freed by kt_rate_table_free, and copies the address
 * strings it is given.
 * Threads: neither is locked; use each from one thread (the control loop). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	double tokens;
	gint64 at_us; /* when tokens was last brought up to date */
	guint rate;   /* tokens per second; 0 = no limit */
	guint burst;  /* most tokens held */
} KtTokenBucket;

/* A full bucket as of @now_us. @rate 0 = every kt_token_bucket_take succeeds.
 * @burst 0 is taken as @rate (one second's worth), and at least 1. */
void kt_token_bucket_init(KtTokenBucket *b, guint rate, guint burst, gint64 now_us);

/* Spends one token; FALSE (nothing spent) when the bucket is empty. */
gboolean kt_token_bucket_take(KtTokenBucket *b, gint64 now_us);

/* Whole seconds until the next token, at least 1 (for Retry-After). */
guint kt_token_bucket_retry_after(const KtTokenBucket *b, gint64 now_us);

typedef struct _KtRateTable KtRateTable;

/* One bucket per address, each @rate/@burst as above. At most @max_addresses
 * are tracked (0 = 65536): when the table is full, buckets that have refilled
 * are dropped (an address that is refilled costs nothing to forget); if none
 * has, new addresses share one overflow bucket, so a spray of spoofed or
 * rotating addresses cannot grow memory without bound. */
KtRateTable *kt_rate_table_new(guint rate, guint burst, guint max_addresses);
void kt_rate_table_free(KtRateTable *t);

/* Spends one of @address's tokens; FALSE when it has none. With a rate of 0
 * always TRUE (and nothing is tracked). When refused and @retry_after_s is
 * not NULL, it is set to the whole seconds until the next token. */
gboolean kt_rate_table_take(KtRateTable *t, const char *address, gint64 now_us,
                            guint *retry_after_s);

/* Addresses tracked (tests). */
guint kt_rate_table_size(KtRateTable *t);

G_END_DECLS
