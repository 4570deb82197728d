/* Bandwidth estimator internals shared by kt-bwe.c (sent history, feedback
 * matching, acknowledged bitrate, loss-based control, the public API),
 * kt-bwe-delay.c (the delay-based controller, gcc-02 §5) and kt-bwe-probe.c
 * (probe clusters). The delay-based controller is also the core of the
 * receive-side estimate behind REMB (kt-remb-estimate.c), fed with
 * abs-send-time instead of our own send times. Plain structs embedded in
 * KtBwe and KtRembEstimate: nothing here allocates.
 * Threads: the estimator's one thread.
 */
#pragma once

#include "kt-bwe.h"

/* ---- delay-based controller (kt-bwe-delay.c) ---- */

/* Linear-regression window of the trendline, in packet groups (libwebrtc's
 * default: ~100 ms of 5 ms groups). */
#define KT_BWE_TREND_WINDOW 20

/* Packets sent within one 5 ms burst; their last send and arrival times
 * stand for the group (gcc-02 §5.2). */
typedef struct {
	gboolean valid;
	gint64 first_send_us, send_us;
	gint64 first_arrival_us, arrival_us;
} KtBweGroup;

/* gcc-02 §5.5's states; its "decrease" lasts one update and ends in hold. */
typedef enum {
	KT_BWE_RATE_HOLD,
	KT_BWE_RATE_INCREASE,
} KtBweRateState;

typedef struct {
	/* Inter-arrival: the group being filled and the one before it. */
	KtBweGroup cur, prev;
	guint reordered; /* consecutive groups that arrived before their predecessor */

	/* Trendline: accumulated delay variation, smoothed, and the last
	 * KT_BWE_TREND_WINDOW points (arrival ms since first_arrival_us,
	 * smoothed delay ms) in a ring. */
	gint64 first_arrival_us; /* -1: no point yet */
	gdouble acc_delay_ms, smoothed_delay_ms;
	gdouble x_ms[KT_BWE_TREND_WINDOW], y_ms[KT_BWE_TREND_WINDOW];
	guint points, next_point;
	guint deltas; /* group deltas seen, saturating */
	gdouble prev_trend;

	/* Over-use detector with adaptive threshold (gcc-02 §5.4). */
	gdouble threshold_ms;
	gint64 threshold_at_us; /* arrival time of its last update; -1 none */
	gdouble overuse_ms;     /* time spent over the threshold; < 0 when not */
	guint overuse_count;
	KtBweUsage usage;

	/* Queueing delay, for probing only: one-way delay (receiver clock minus
	 * ours, offset included) against the least seen in this and the last
	 * period of 10 s. GCC itself looks only at the delay's trend, which is
	 * flat in a standing queue. */
	gboolean have_owd;
	gint64 owd_min, owd_prev_min, owd_period_us;
	gint64 group_owd_us; /* least in the current group */

	/* AIMD rate control (gcc-02 §5.5). */
	gdouble bps, min_bps, max_bps;
	KtBweRateState state;
	gboolean decreased_this_overuse; /* since usage last left KT_BWE_OVERUSING */
	gboolean ever_decreased;         /* over-use has lowered the estimate at least once */
	gint64 changed_us;               /* -1: never */
	/* Link capacity: the acknowledged bitrate at over-use, averaged, with its
	 * normalised variance (libwebrtc's LinkCapacityEstimator). Present, it
	 * means we are near convergence: increase additively. */
	gboolean have_capacity;
	gdouble capacity_bps, capacity_var;
} KtBweDelay;

void kt_bwe_delay_init(KtBweDelay *d, gdouble start_bps, gdouble min_bps, gdouble max_bps);
/* One received packet, in sequence order. */
void kt_bwe_delay_on_packet(KtBweDelay *d, gint64 send_us, gint64 arrival_us);
/* Once per feedback, after its packets: moves the estimate by the detector's
 * state. @acked_bps: what the receiver got; @sent_bps: the rate those
 * reported packets were sent at, lost ones included; 0 = unknown (a receive-
 * side estimate knows only the first). Returns the estimate. */
gdouble kt_bwe_delay_update(KtBweDelay *d, gdouble acked_bps, gdouble sent_bps, gint64 rtt_us,
                            gint64 now_us);
/* A probe measured @bps: the estimate jumps there if that is higher. */
void kt_bwe_delay_raise(KtBweDelay *d, gdouble bps, gint64 now_us);
/* How long the newest group waited in queues, as far as we can tell. */
gint64 kt_bwe_delay_queue_us(const KtBweDelay *d);

/* ---- probe clusters (kt-bwe-probe.c) ---- */

#define KT_BWE_PROBE_TRACKED 32

typedef struct {
	guint16 id;       /* current cluster; 0 = none started yet */
	gboolean pending; /* started and not yet judged */
	gint64 start_us;  /* when kt_bwe_probe_wanted() said yes */
	gdouble rate_bps; /* what it asked for */
	gint64 next_us;   /* no new cluster before this */
	gdouble demand_bps;

	/* Sent: count, bytes, the last packet's size, first and last send. */
	guint sent, reported;
	guint64 sent_bytes;
	guint last_sent_size;
	gint64 first_send_us, last_send_us;
	/* Received: count, bytes, the first arrival's size, first and last arrival. */
	guint received;
	guint64 recv_bytes;
	guint first_recv_size;
	gint64 first_arrival_us, last_arrival_us;
	/* The first KT_BWE_PROBE_TRACKED arrivals (time, size), for the rate of
	 * the cluster's later half. */
	struct {
		gint64 at_us;
		guint size;
	} arrivals[KT_BWE_PROBE_TRACKED];
	guint n_arrivals;
} KtBweProbe;

void kt_bwe_probe_init(KtBweProbe *p);
/* Whether a cluster should start now (see kt_bwe_probe_wanted in kt-bwe.h);
 * if so it has started, at *rate_bps. */
gboolean kt_bwe_probe_start(KtBweProbe *p, gint64 now_us, gdouble target_bps, gdouble max_bps,
                            gboolean path_ok, gdouble *rate_bps);
/* A packet was sent: returns the cluster it belongs to, 0 for none. */
guint16 kt_bwe_probe_on_sent(KtBweProbe *p, gint64 send_us, guint size, gboolean is_probe);
/* Feedback reported a packet sent in @cluster; counts when that is the
 * cluster being measured. */
void kt_bwe_probe_on_reported(KtBweProbe *p, guint16 cluster, gboolean received, gint64 arrival_us,
                              guint size);
/* After a feedback: when the current cluster is complete (or timed out),
 * judges it and returns the rate it measured, 0 when it measured nothing
 * usable; -1 while there is nothing to judge. */
gdouble kt_bwe_probe_result(KtBweProbe *p, gint64 now_us);
