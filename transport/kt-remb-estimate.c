/* Receive-side estimate from abs-send-time (see kt-remb-estimate.h): the
 * extension's clock unwrapped, the incoming rate over a sliding second, and
 * kt-bwe-delay.c for everything GCC. */
#include "kt-remb-estimate.h"

#include "kt-bwe-private.h"

#define DEFAULT_MIN_BPS 30000
#define DEFAULT_MAX_BPS 100000000
/* A browser's own estimator starts here (libwebrtc's default start bitrate). */
#define START_BPS 300000
/* We send the publisher nothing it could measure a round trip from (no sender
 * reports); libwebrtc's AIMD assumes 200 ms until it knows better. */
#define DEFAULT_RTT_US (200 * 1000)

/* abs-send-time: 24 bits of 2^-18 s; half the range (32 s) either way tells
 * a wrap from a reordered packet. */
#define ABS_RANGE (1 << 24)
#define ABS_HALF (1 << 23)

/* The incoming rate: 20 buckets of 50 ms, a second in all. */
#define RATE_BUCKETS 20
#define RATE_BUCKET_US (G_USEC_PER_SEC / RATE_BUCKETS)

struct _KtRembEstimate {
	KtBweDelay delay;
	gboolean valid; /* the estimate is known */

	/* The sender's clock: the last raw value, and the unwrapped one in
	 * 2^-18 s since an arbitrary origin. */
	gboolean have_send_time;
	guint32 last_raw;
	gint64 send_ticks;

	/* What arrived: bytes per bucket, the bucket number (arrival / bucket
	 * length) each slot holds (-1: none), and the first arrival (-1: none). */
	guint64 bytes[RATE_BUCKETS];
	gint64 slot[RATE_BUCKETS];
	gint64 first_arrival_us;
};

KtRembEstimate *kt_remb_estimate_new(guint32 min_bps, guint32 max_bps)
{
	KtRembEstimate *e = g_new0(KtRembEstimate, 1);

	min_bps = min_bps ? min_bps : DEFAULT_MIN_BPS;
	max_bps = MAX(max_bps ? max_bps : DEFAULT_MAX_BPS, min_bps);
	kt_bwe_delay_init(&e->delay, CLAMP(START_BPS, min_bps, max_bps), min_bps, max_bps);
	for (guint i = 0; i < RATE_BUCKETS; i++)
		e->slot[i] = -1;
	e->first_arrival_us = -1;
	return e;
}

void kt_remb_estimate_free(KtRembEstimate *e)
{
	g_free(e);
}

static void count_bytes(KtRembEstimate *e, gint64 arrival_us, guint size)
{
	gint64 n = arrival_us / RATE_BUCKET_US;
	guint i = (guint)(n % RATE_BUCKETS);

	if (e->first_arrival_us < 0)
		e->first_arrival_us = arrival_us;
	if (e->slot[i] != n) {
		e->slot[i] = n;
		e->bytes[i] = 0;
	}
	e->bytes[i] += size;
}

guint32 kt_remb_estimate_incoming_bps(const KtRembEstimate *e, gint64 now_us)
{
	gint64 cur = now_us / RATE_BUCKET_US, oldest = cur - RATE_BUCKETS + 1;
	/* The buckets in the window cover from the oldest one's start to now,
	 * or from the first packet when that is later. */
	gint64 span_us = now_us - MAX(oldest * RATE_BUCKET_US, e->first_arrival_us);
	guint64 bytes = 0;

	if (e->first_arrival_us < 0 || span_us <= 0)
		return 0;
	for (guint i = 0; i < RATE_BUCKETS; i++)
		if (e->slot[i] >= oldest && e->slot[i] <= cur)
			bytes += e->bytes[i];
	return (guint32)MIN(bytes * 8 * G_USEC_PER_SEC / (guint64)span_us, G_MAXUINT32);
}

/* The sender's clock in µs: each raw value is taken as the nearest one to the
 * last, so the clock runs on across the 64 s wrap, and a packet reordered in
 * the network counts as sent before its predecessor. */
static gint64 unwrap_send_us(KtRembEstimate *e, const guint8 *ext)
{
	guint32 raw = (guint32)ext[0] << 16 | (guint32)ext[1] << 8 | ext[2];

	if (!e->have_send_time) {
		e->have_send_time = TRUE;
		e->send_ticks = raw;
	} else {
		gint64 delta = (gint64)((raw - e->last_raw) & (ABS_RANGE - 1));

		if (delta >= ABS_HALF)
			delta -= ABS_RANGE;
		e->send_ticks += delta;
	}
	e->last_raw = raw;
	/* 2^-18 s = 10^6 / 2^18 µs = 15625 / 4096 µs. */
	return e->send_ticks * 15625 / 4096;
}

gboolean kt_remb_estimate_on_packet(KtRembEstimate *e, gint64 arrival_us, guint size,
                                    const guint8 *ext, int ext_len)
{
	count_bytes(e, arrival_us, size);
	if (!ext || ext_len != KT_REMB_ABS_SEND_TIME_LEN)
		return FALSE;
	kt_bwe_delay_on_packet(&e->delay, unwrap_send_us(e, ext), arrival_us);
	return TRUE;
}

guint32 kt_remb_estimate_update(KtRembEstimate *e, gint64 now_us)
{
	guint32 incoming = kt_remb_estimate_incoming_bps(e, now_us);

	if (!e->valid) {
		if (!e->have_send_time || incoming == 0 ||
		    now_us - e->first_arrival_us < KT_REMB_ESTIMATE_INIT_US)
			return 0;
		e->valid = TRUE;
		kt_bwe_delay_raise(&e->delay, incoming, now_us);
	}
	/* Nothing arrived for a second (a paused camera): nothing to judge the
	 * path by, and no bound for an increase. Hold. */
	if (incoming == 0)
		return (guint32)e->delay.bps;
	return (guint32)kt_bwe_delay_update(&e->delay, incoming, 0, DEFAULT_RTT_US, now_us);
}
