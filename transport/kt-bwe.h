/* Send-side bandwidth estimate for one subscriber: how fast Ketang may send to
 * it. Google Congestion Control (draft-ietf-rmcat-gcc-02, "GCC") driven by the
 * subscriber's transport-wide feedback (kt-twcc.h), as Chrome runs it for its
 * own uplink. The room uses the target to choose simulcast layers and to
 * pause video when even the lowest layer does not fit.
 *
 * What goes in: every packet sent to the subscriber with its transport-wide
 * sequence number (kt_bwe_on_sent), and every feedback the subscriber returns
 * (kt_bwe_on_feedback). What comes out: a target bitrate, the minimum of
 *   - a delay-based estimate (gcc-02 §5): packets grouped by 5 ms send
 *     bursts, the growth of their one-way delay fitted by a trendline
 *     (libwebrtc's TrendlineEstimator), an over-use detector with an adaptive
 *     threshold, and AIMD rate control bounded by the acknowledged bitrate;
 *   - a loss-based estimate (gcc-02 §6) from the fraction of packets lost;
 * clamped to the configured [min, max]. Probing (kt_bwe_probe_wanted) lets
 * the estimate jump up to what the sender wants instead of creeping up at
 * 8 %/s.
 *
 * Ownership: kt_bwe_new() allocates everything the estimator ever uses; the
 * caller frees it with kt_bwe_free(). Nothing else allocates or logs, so the
 * estimator sits on the packet path.
 *
 * Threads: one estimator is used from one thread, its subscriber's media
 * worker; no locking. All times are that thread's monotonic clock in µs
 * (g_get_monotonic_time()), except arrival times inside feedback, which are
 * on the receiver's clock and only ever compared with each other.
 */
#pragma once

#include <glib.h>

#include "kt-twcc.h"

G_BEGIN_DECLS

/* Sent packets remembered for matching feedback: ~4 s at 10 Mbit/s of
 * 1200-byte packets, far beyond the 100 ms feedback interval. */
#define KT_BWE_HISTORY 4096

/* A probe cluster: packets flagged is_probe_or_padding and sent within this
 * long after kt_bwe_probe_wanted() said yes, at the rate it asked for, at
 * least KT_BWE_PROBE_MIN_PACKETS of them (libwebrtc probes 15 ms and 5
 * packets at minimum; a little longer measures low rates better). */
#define KT_BWE_PROBE_DURATION_US 40000
#define KT_BWE_PROBE_MIN_PACKETS 5

typedef struct _KtBwe KtBwe;

/* Bitrates in bit/s. A zero field takes its default: start 300 kbit/s,
 * min 30 kbit/s, max 10 Mbit/s. The start is clamped into [min, max], and a
 * max below the min is raised to it. */
typedef struct {
	guint32 min_bps, max_bps, start_bps;
} KtBweConfig;

/* The over-use detector's view of the path (gcc-02 §5.4). */
typedef enum {
	KT_BWE_NORMAL,
	KT_BWE_OVERUSING,  /* one-way delay is growing: queues are filling up */
	KT_BWE_UNDERUSING, /* one-way delay is shrinking: queues are draining */
} KtBweUsage;

/* @cfg may be NULL for the defaults. Any thread; the estimator then belongs
 * to the thread that uses it. */
KtBwe *kt_bwe_new(const KtBweConfig *cfg);
void kt_bwe_free(KtBwe *bwe);

/* A packet left with transport-wide sequence @transport_seq at @send_time_us,
 * @size_bytes on the wire (RTP header and payload). @is_probe_or_padding:
 * part of a probe cluster (see kt_bwe_probe_wanted) or padding. Sequence
 * numbers go up by one per packet and wrap at 65535. Media worker. */
void kt_bwe_on_sent(KtBwe *bwe, guint16 transport_seq, gint64 send_time_us, guint size_bytes,
                    gboolean is_probe_or_padding);

/* One parsed feedback packet (kt_twcc_parse) received at @now_us: @fb and its
 * first @n statuses. Statuses for sequence numbers never sent, sent more
 * than KT_BWE_HISTORY packets or 5 s ago, or already reported by an earlier
 * feedback are ignored: duplicated or forged feedback cannot move the
 * estimate, and reordered feedback counts each packet once. Media worker. */
void kt_bwe_on_feedback(KtBwe *bwe, const KtTwccFeedback *fb, const KtTwccStatus *st, guint n,
                        gint64 now_us);

/* What the sender would like to send now (e.g. the bitrate of the next
 * simulcast layer up); 0 when it is content. Only drives probing. Media
 * worker. */
void kt_bwe_set_demand(KtBwe *bwe, guint32 bps);

/* TRUE when a probe cluster should be sent now: the target is below the
 * demand, the path is quiet (delay neither growing nor shrinking, less than
 * 50 ms queued, loss at most 10 %), no probe is in flight, and the last probe
 * was not recent (right after one that reached its rate the next may follow
 * at once, as libwebrtc's exponential probing does; after any other outcome
 * 3 s pass). Then *@probe_bps is the rate to send at (twice the target, at
 * most the demand and the max) for KT_BWE_PROBE_DURATION_US, every packet
 * flagged is_probe_or_padding. The cluster starts at @now_us. When its
 * feedback shows the packets arrived about as fast as they left, and the
 * delay is not building up, the target rises to the rate measured. Media
 * worker. */
gboolean kt_bwe_probe_wanted(KtBwe *bwe, gint64 now_us, guint32 *probe_bps);

/* The bitrate to send at, in [min, max]. */
guint32 kt_bwe_target_bps(const KtBwe *bwe);
/* Whether the path has ever pushed the estimate down: an over-use, or loss
 * beyond what the link always has. Until then the estimate is only what has
 * been shown to fit so far, still climbing from its start (300 kbit/s, a
 * probe that fell short, 8 % a second), not a sign that more does not fit;
 * a stream is not paused for being short of it (kt-room-alloc.c). */
gboolean kt_bwe_is_bounded(const KtBwe *bwe);
/* Why: the rate at which the receiver got our packets over the last 500 ms
 * (0 until known), the fraction of packets lost in the last loss interval
 * (at least 20 packets), and the over-use detector's state. */
guint32 kt_bwe_acked_bps(const KtBwe *bwe);
gdouble kt_bwe_loss_fraction(const KtBwe *bwe);
KtBweUsage kt_bwe_usage(const KtBwe *bwe);

G_END_DECLS
