/* Delay-based controller of the bandwidth estimator (draft-ietf-rmcat-gcc-02
 * §5): packet groups, the trendline of their delay variation, the over-use
 * detector and AIMD rate control. See kt-bwe-private.h. Times come in as µs;
 * the filter works in ms because GCC states its thresholds in ms. */
#include <math.h>
#include <string.h>

#include "kt-bwe-private.h"

/* Packet groups (gcc-02 §5.2; libwebrtc InterArrival). */
#define BURST_US 5000                 /* burst_time: one group per 5 ms of sending */
#define BURST_SPAN_US 100000          /* a burst of arrivals lasts at most this */
#define PAUSE_US (2 * G_USEC_PER_SEC) /* after a pause the old points say nothing */
#define CLOCK_JUMP_US (3 * G_USEC_PER_SEC)
#define MAX_REORDERED 3
#define OWD_PERIOD_US (10 * G_USEC_PER_SEC)

/* Trendline (libwebrtc TrendlineEstimator). */
#define SMOOTHING 0.9 /* exponential smoothing of the accumulated delay */
#define TREND_GAIN 4.0
#define TREND_MAX_SCALE 60 /* deltas counted into the scale, at most */
#define MAX_DELTAS 1000

/* Over-use detector (gcc-02 §5.4). */
#define THRESHOLD_START_MS 12.5
#define THRESHOLD_MIN_MS 6.0
#define THRESHOLD_MAX_MS 600.0
#define K_UP 0.0087  /* K_u: towards |m| when it is above the threshold */
#define K_DOWN 0.039 /* K_d: towards |m| when it is below (libwebrtc's) */
#define MAX_ADAPT_OFFSET_MS 15.0
#define MAX_ADAPT_STEP_US 100000
#define OVERUSE_TIME_MS 10.0 /* overuse_time_th */

/* Rate control (gcc-02 §5.5). */
#define BETA 0.85        /* decrease to beta x the acknowledged bitrate */
#define MAX_DECREASE 0.5 /* ...but to no less than this x the estimate at once */
#define COLLAPSED 1.5    /* ...unless the path delivers less than 1 / this of what it is sent */
#define ETA 1.08         /* multiplicative increase per second */
#define RESPONSE_BASE_US 100000
#define FRAME_RATE 30.0
#define PACKET_BITS (1200 * 8)
#define MIN_REDUCE_US 10000
#define MAX_REDUCE_US 200000
#define CAPACITY_ALPHA 0.05

void kt_bwe_delay_init(KtBweDelay *d, gdouble start_bps, gdouble min_bps, gdouble max_bps)
{
	memset(d, 0, sizeof(*d));
	d->first_arrival_us = -1;
	d->threshold_ms = THRESHOLD_START_MS;
	d->threshold_at_us = -1;
	d->overuse_ms = -1;
	d->usage = KT_BWE_NORMAL;
	d->bps = start_bps;
	d->min_bps = min_bps;
	d->max_bps = max_bps;
	d->state = KT_BWE_RATE_INCREASE; /* gcc-02 §5.5: "starts in the increase state" */
	d->changed_us = -1;
	d->capacity_var = 0.4;
}

/* Forgets the delay history (not the threshold, nor the rate): after a pause
 * or a receiver clock jump the old points no longer describe the queue. */
static void forget_path(KtBweDelay *d)
{
	d->reordered = 0;
	d->first_arrival_us = -1;
	d->acc_delay_ms = d->smoothed_delay_ms = 0;
	d->points = d->next_point = d->deltas = 0;
	d->prev_trend = 0;
	d->overuse_ms = -1;
	d->overuse_count = 0;
	d->usage = KT_BWE_NORMAL;
	d->have_owd = FALSE;
}

/* ---- over-use detector ---- */

/* gcc-02 §5.4: del_var_th follows |m|, with gain K_u while |m| is above it
 * and K_d while below, so a queue built by a competing TCP flow does not
 * starve us; a sudden spike (more than 15 ms over it) moves it not at all.
 * gcc-02's K_u 0.01 and K_d 0.00018 were tuned for its Kalman filter; with
 * the trendline they let the threshold, raised while a queue drains, decay so
 * slowly that the additive climb after each over-use queued 150 to 320 ms on
 * test-bwe's 2 Mbit/s link before the next one was seen. libwebrtc pairs the
 * trendline with K_u 0.0087 and K_d 0.039 (TrendlineEstimator's defaults):
 * down ~200 times faster, and the worst queue there stays under ~40 ms
 * (issue 5). */
static void adapt_threshold(KtBweDelay *d, gdouble m, gint64 now_us)
{
	gint64 dt_us = d->threshold_at_us < 0 ? 0 : now_us - d->threshold_at_us;
	gdouble k;

	d->threshold_at_us = now_us;
	if (fabs(m) > d->threshold_ms + MAX_ADAPT_OFFSET_MS)
		return;
	k = fabs(m) < d->threshold_ms ? K_DOWN : K_UP;
	dt_us = CLAMP(dt_us, 0, MAX_ADAPT_STEP_US);
	d->threshold_ms += k * (fabs(m) - d->threshold_ms) * ((gdouble)dt_us / 1000);
	d->threshold_ms = CLAMP(d->threshold_ms, THRESHOLD_MIN_MS, THRESHOLD_MAX_MS);
}

/* gcc-02 §5.4 on the trendline's slope. libwebrtc scales the slope by the
 * number of deltas seen (up to 60) and a gain of 4 so it compares with the
 * threshold in ms, as the Kalman filter's m(i) did. Over-use needs the signal
 * above the threshold for overuse_time_th and at least twice in a row, and a
 * slope that is not already falling. */
static void detect(KtBweDelay *d, gdouble trend, gdouble send_delta_ms, gint64 now_us)
{
	gdouble m;

	if (d->deltas < 2) {
		d->usage = KT_BWE_NORMAL;
		return;
	}
	m = MIN(d->deltas, TREND_MAX_SCALE) * trend * TREND_GAIN;
	if (m > d->threshold_ms) {
		/* The first time, assume it has been over for half the gap. */
		d->overuse_ms =
		    d->overuse_ms < 0 ? send_delta_ms / 2 : d->overuse_ms + send_delta_ms;
		d->overuse_count++;
		if (d->overuse_ms > OVERUSE_TIME_MS && d->overuse_count > 1 &&
		    trend >= d->prev_trend) {
			d->overuse_ms = 0;
			d->overuse_count = 0;
			d->usage = KT_BWE_OVERUSING;
		}
	} else {
		d->overuse_ms = -1;
		d->overuse_count = 0;
		d->usage = m < -d->threshold_ms ? KT_BWE_UNDERUSING : KT_BWE_NORMAL;
	}
	d->prev_trend = trend;
	adapt_threshold(d, m, now_us);
}

/* ---- trendline ---- */

/* Least-squares slope of smoothed delay over arrival time in the window:
 * about (send rate - capacity) / capacity. Above 0 queues fill, below 0 they
 * drain. */
static gdouble fit_slope(const KtBweDelay *d, gdouble fallback)
{
	gdouble mx = 0, my = 0, num = 0, den = 0;

	for (guint i = 0; i < KT_BWE_TREND_WINDOW; i++) {
		mx += d->x_ms[i];
		my += d->y_ms[i];
	}
	mx /= KT_BWE_TREND_WINDOW;
	my /= KT_BWE_TREND_WINDOW;
	for (guint i = 0; i < KT_BWE_TREND_WINDOW; i++) {
		num += (d->x_ms[i] - mx) * (d->y_ms[i] - my);
		den += (d->x_ms[i] - mx) * (d->x_ms[i] - mx);
	}
	return den > 0 ? num / den : fallback;
}

/* One group delta: the inter-group delay variation d(i) of gcc-02 §5.2
 * (arrival delta minus send delta) is summed into the queueing delay since
 * the first group, smoothed, and fitted over the last groups. */
static void trendline_update(KtBweDelay *d, gint64 arrival_delta_us, gint64 send_delta_us,
                             gint64 arrival_us)
{
	guint i = d->next_point;
	gdouble trend = d->prev_trend;

	d->deltas = MIN(d->deltas + 1, MAX_DELTAS);
	if (d->first_arrival_us < 0)
		d->first_arrival_us = arrival_us;
	d->acc_delay_ms += (gdouble)(arrival_delta_us - send_delta_us) / 1000;
	d->smoothed_delay_ms = SMOOTHING * d->smoothed_delay_ms + (1 - SMOOTHING) * d->acc_delay_ms;
	d->x_ms[i] = (gdouble)(arrival_us - d->first_arrival_us) / 1000;
	d->y_ms[i] = d->smoothed_delay_ms;
	d->next_point = (i + 1) % KT_BWE_TREND_WINDOW;
	d->points = MIN(d->points + 1, KT_BWE_TREND_WINDOW);
	if (d->points == KT_BWE_TREND_WINDOW)
		trend = fit_slope(d, trend);
	detect(d, trend, (gdouble)send_delta_us / 1000, arrival_us);
}

/* ---- packet groups ---- */

static void group_start(KtBweGroup *g, gint64 send_us, gint64 arrival_us)
{
	*g = (KtBweGroup){.valid = TRUE,
	                  .first_send_us = send_us,
	                  .send_us = send_us,
	                  .first_arrival_us = arrival_us,
	                  .arrival_us = arrival_us};
}

/* A packet joins the group when it was sent within burst_time of the group's
 * first packet, or (gcc-02 §5.2) when it arrived within burst_time of the
 * group's last one with less delay: a queue or a radio link releasing packets
 * back to back, which says nothing about the path's trend. */
static gboolean joins_group(const KtBweGroup *g, gint64 send_us, gint64 arrival_us)
{
	gint64 arrival_delta = arrival_us - g->arrival_us;

	if (send_us - g->first_send_us <= BURST_US)
		return TRUE;
	return arrival_delta <= BURST_US && arrival_delta - (send_us - g->send_us) < 0 &&
	       arrival_us - g->first_arrival_us < BURST_SPAN_US;
}

/* The current group is complete: compare it with the one before. */
static void group_done(KtBweDelay *d)
{
	gint64 send_delta = d->cur.send_us - d->prev.send_us;
	gint64 arrival_delta = d->cur.arrival_us - d->prev.arrival_us;

	if (send_delta > PAUSE_US || ABS(arrival_delta - send_delta) > CLOCK_JUMP_US) {
		forget_path(d);
		return;
	}
	if (arrival_delta < 0) {
		/* Reordered in the network; several in a row: the clock jumped. */
		if (++d->reordered >= MAX_REORDERED)
			forget_path(d);
		return;
	}
	d->reordered = 0;
	trendline_update(d, arrival_delta, send_delta, d->cur.arrival_us);
}

/* The least one-way delay of the last 10 to 20 s stands for the empty path:
 * a windowed minimum in two periods, so a new route or clock drift is
 * followed. The offset between the clocks cancels out of the difference. */
static void track_owd(KtBweDelay *d, gint64 send_us, gint64 arrival_us, gboolean new_group)
{
	gint64 owd = arrival_us - send_us;

	if (!d->have_owd) {
		d->have_owd = TRUE;
		d->owd_min = d->owd_prev_min = owd;
		d->owd_period_us = arrival_us;
	} else if (arrival_us - d->owd_period_us >= OWD_PERIOD_US) {
		d->owd_prev_min = d->owd_min;
		d->owd_min = owd;
		d->owd_period_us = arrival_us;
	}
	d->owd_min = MIN(d->owd_min, owd);
	d->group_owd_us = new_group ? owd : MIN(d->group_owd_us, owd);
}

gint64 kt_bwe_delay_queue_us(const KtBweDelay *d)
{
	if (!d->have_owd)
		return 0;
	return d->group_owd_us - MIN(d->owd_min, d->owd_prev_min);
}

void kt_bwe_delay_on_packet(KtBweDelay *d, gint64 send_us, gint64 arrival_us)
{
	if (!d->cur.valid) {
		group_start(&d->cur, send_us, arrival_us);
		track_owd(d, send_us, arrival_us, TRUE);
		return;
	}
	if (send_us < d->cur.first_send_us)
		return; /* sent before the current group (reordered feedback): too late */
	if (joins_group(&d->cur, send_us, arrival_us)) {
		d->cur.send_us = MAX(d->cur.send_us, send_us);
		d->cur.arrival_us = MAX(d->cur.arrival_us, arrival_us);
		track_owd(d, send_us, arrival_us, FALSE);
		return;
	}
	if (d->prev.valid)
		group_done(d);
	d->prev = d->cur;
	group_start(&d->cur, send_us, arrival_us);
	track_owd(d, send_us, arrival_us, TRUE);
}

/* ---- AIMD rate control ---- */

/* The link capacity estimate's 3-sigma band, in bit/s (libwebrtc keeps the
 * variance normalised by the estimate in kbit/s). */
static gdouble capacity_sigma(const KtBweDelay *d)
{
	return 1000 * sqrt(d->capacity_var * d->capacity_bps / 1000);
}

static void capacity_update(KtBweDelay *d, gdouble sample_bps)
{
	gdouble err;

	if (!d->have_capacity)
		d->capacity_bps = sample_bps;
	else
		d->capacity_bps =
		    (1 - CAPACITY_ALPHA) * d->capacity_bps + CAPACITY_ALPHA * sample_bps;
	d->have_capacity = TRUE;
	err = (d->capacity_bps - sample_bps) / 1000;
	d->capacity_var = (1 - CAPACITY_ALPHA) * d->capacity_var +
	                  CAPACITY_ALPHA * err * err / MAX(d->capacity_bps / 1000, 1.0);
	d->capacity_var = CLAMP(d->capacity_var, 0.4, 2.5);
}

/* gcc-02 §5.5: far from the last known capacity, grow 8 % per second; near
 * it, by half an expected packet (a 30 fps frame split into 1200-byte
 * packets) per response time (RTT + 100 ms). Never beyond 1.5 x what the
 * receiver acknowledged: the estimate must stay tied to what we really send. */
static void increase(KtBweDelay *d, gdouble acked_bps, gint64 rtt_us, gint64 now_us)
{
	gdouble dt_s = d->changed_us < 0 ? 0 : MIN((gdouble)(now_us - d->changed_us) / 1e6, 1.0);
	gdouble limit = acked_bps > 0 ? 1.5 * acked_bps + 10000 : d->max_bps;
	gdouble step;

	dt_s = MAX(dt_s, 0);
	if (d->have_capacity && acked_bps > d->capacity_bps + 3 * capacity_sigma(d))
		d->have_capacity = FALSE; /* the path got faster: search again */
	if (d->bps < limit) {
		if (d->have_capacity) {
			gdouble frame = d->bps / FRAME_RATE;
			gdouble packet = frame / ceil(frame / PACKET_BITS);
			gdouble response_s = (gdouble)(rtt_us + RESPONSE_BASE_US) / 1e6;

			step = MAX(1000, 0.5 * MIN(dt_s / response_s, 1.0) * packet);
		} else {
			step = MAX(d->bps * (pow(ETA, dt_s) - 1), 1000);
		}
		d->bps = MIN(MIN(d->bps + step, limit), d->max_bps);
	}
	d->changed_us = now_us;
}

/* gcc-02 §5.5: on over-use, beta x the acknowledged bitrate, then hold. Once
 * per round trip (clamped 10..200 ms, libwebrtc's TimeToReduceFurther), so
 * feedback can show the effect of one decrease before the next. */
static void decrease(KtBweDelay *d, gdouble acked_bps, gdouble sent_bps, gint64 rtt_us,
                     gint64 now_us)
{
	gint64 wait_us = CLAMP(rtt_us, MIN_REDUCE_US, MAX_REDUCE_US);
	/* The path delivered far less than it was given: a bottleneck at work
	 * (a link that fell from 2 Mbit/s to 250 kbit/s under 1 Mbit/s of
	 * video). What it acknowledged is its capacity now, and every round trip
	 * above it fills the queue the audio waits in. */
	gboolean collapsed = acked_bps > 0 && sent_bps > COLLAPSED * acked_bps;
	gboolean app_limited = acked_bps > 0 && acked_bps < 0.5 * d->bps && !collapsed;
	gdouble target;

	if (d->changed_us >= 0 && now_us - d->changed_us < wait_us)
		return;
	/* Sending far below the estimate, one decrease per over-use: what over-used
	 * the path was a burst (a probe, a keyframe), not the rate, and the
	 * trendline stays up for as long as its window holds the burst. */
	if (app_limited && d->decreased_this_overuse)
		return;
	d->decreased_this_overuse = TRUE;
	if (acked_bps <= 0) {
		target = d->bps / 2; /* nothing acknowledged yet: libwebrtc halves */
	} else {
		target = BETA * acked_bps;
		if (target > d->bps && d->have_capacity)
			target = BETA * d->capacity_bps;
		if (d->have_capacity && acked_bps < d->capacity_bps - 3 * capacity_sigma(d))
			d->have_capacity = FALSE; /* the path got slower: a new average */
		capacity_update(d, acked_bps);
	}
	/* Otherwise at most half per round trip. An SFU's subscriber is often
	 * sending far below its estimate (one small layer, or audio alone while
	 * its video is paused): beta x that is not the path's capacity, and a
	 * keyframe burst over-using the path for a moment would otherwise drop
	 * the estimate to the audio's rate and keep the video paused for seconds. */
	if (!collapsed)
		target = MAX(target, MAX_DECREASE * d->bps);
	if (target < d->bps) {
		d->bps = MAX(target, d->min_bps);
		d->ever_decreased = TRUE;
	}
	d->state = KT_BWE_RATE_HOLD;
	d->changed_us = now_us;
}

/* The state machine of gcc-02 §5.5, Figure 2: over-use decreases (then
 * holds), under-use holds while queues drain, normal moves hold to increase
 * and keeps increasing. */
gdouble kt_bwe_delay_update(KtBweDelay *d, gdouble acked_bps, gdouble sent_bps, gint64 rtt_us,
                            gint64 now_us)
{
	if (d->usage != KT_BWE_OVERUSING)
		d->decreased_this_overuse = FALSE;
	switch (d->usage) {
	case KT_BWE_OVERUSING:
		decrease(d, acked_bps, sent_bps, rtt_us, now_us);
		break;
	case KT_BWE_UNDERUSING:
		d->state = KT_BWE_RATE_HOLD;
		break;
	case KT_BWE_NORMAL:
		if (d->state == KT_BWE_RATE_INCREASE) {
			increase(d, acked_bps, rtt_us, now_us);
		} else {
			d->state = KT_BWE_RATE_INCREASE;
			d->changed_us = now_us;
		}
		break;
	}
	return d->bps;
}

void kt_bwe_delay_raise(KtBweDelay *d, gdouble bps, gint64 now_us)
{
	bps = MIN(bps, d->max_bps);
	if (bps <= d->bps)
		return;
	if (d->have_capacity && bps > d->capacity_bps + 3 * capacity_sigma(d))
		d->have_capacity = FALSE;
	d->bps = bps;
	d->changed_us = now_us;
}
