/* Send-side bandwidth estimator: see kt-bwe.h. This file keeps the history
 * of sent packets, matches feedback to it, measures the acknowledged bitrate,
 * runs the loss-based controller (draft-ietf-rmcat-gcc-02 §6) and combines it
 * with the delay-based one (kt-bwe-delay.c) and probing (kt-bwe-probe.c). */
#include "kt-bwe-private.h"

#define DEFAULT_START_BPS 300000
#define DEFAULT_MIN_BPS 30000
#define DEFAULT_MAX_BPS 10000000

#define MAX_AGE_US (5 * G_USEC_PER_SEC) /* statuses of older packets are stale */
/* No time from a parsed report comes near this (24-bit reference time of
 * 64 ms units plus 16-bit deltas); anything beyond is forged, and left out
 * before it can overflow a sum. */
#define MAX_ABS_TIME_US ((gint64)1 << 46)
#define DEFAULT_RTT_US 200000 /* until measured, as libwebrtc assumes */

/* gcc-02 §5.5: the received bitrate R_hat is measured over 0.5 to 1 s. */
#define ACKED_WINDOW_US 500000
#define ACKED_MIN_SPAN_US 100000 /* too little to call it a rate */
#define ACKED_CLOCK_JUMP_US (2 * G_USEC_PER_SEC)

/* gcc-02 §6 loss-based control. */
#define LOSS_MIN_PACKETS 20 /* a loss fraction is over at least this many (libwebrtc) */
#define LOSS_HIGH 0.10
#define LOSS_LOW 0.02
#define LOSS_GROWTH 1.05
#define LOSS_DECREASE_US 300000      /* one decrease per 300 ms + RTT, as libwebrtc */
#define INHERENT_ALPHA 0.1           /* per loss fraction (>= 20 packets): some seconds */
#define INHERENT_MAX 0.3             /* beyond this it all counts: no link to learn */
#define INHERENT_CALM_QUEUE_US 20000 /* a queue shorter than this is jitter */

#define PROBE_MAX_QUEUE_US 50000 /* above jitter on a busy Wi-Fi, well below a standing queue */

typedef enum { SENT_NONE, SENT_WAITING, SENT_REPORTED } SentState;

typedef struct {
	gint64 send_us;
	guint32 size;
	guint16 seq;
	guint16 cluster; /* probe cluster, 0 for none */
	guint8 state;    /* SentState */
} Sent;

typedef struct {
	gint64 arrival_us;
	guint32 size;
} Acked;

/* What one feedback said about packets it had not heard of before. */
typedef struct {
	guint expected, lost;
	gint64 newest_send_us; /* of the received ones; -1 none */
} Tally;

struct _KtBwe {
	gdouble min_bps, max_bps;
	gdouble target_bps;
	gdouble loss_bps;             /* the loss-based rate, never above the delay-based one */
	gint64 rtt_us;                /* smoothed; -1 until measured */
	gboolean loss_ever_decreased; /* loss beyond the link's own has lowered loss_bps */

	/* Packet with sequence s in slot s % KT_BWE_HISTORY. */
	Sent sent[KT_BWE_HISTORY];

	/* Packets received in the last ACKED_WINDOW_US (receiver clock), in the
	 * order reported, in a ring from acked_head. */
	Acked acked[KT_BWE_HISTORY];
	guint acked_head, acked_n;
	guint64 acked_bytes;
	gint64 acked_newest_us;
	gint64
	    acked_first_us; /* the first arrival since the receiver's clock last jumped; -1 none */
	gdouble acked_bps;
	/* The packets feedback has reported (received or lost): the newest of them,
	 * and the rate they were sent at over ACKED_WINDOW_US of send time. */
	gboolean have_reported;
	guint16 newest_reported;
	gdouble reported_sent_bps;

	/* Loss: counts toward the next fraction, the last fraction. */
	guint lost, expected;
	gdouble loss_fraction;
	gdouble inherent_loss;    /* learnt while no queue stands */
	guint inherent_n;         /* fractions it was learnt from, saturating */
	gdouble excess_loss;      /* loss_fraction beyond it: what the controller answers */
	gint64 loss_decreased_us; /* -1: never */

	KtBweDelay delay;
	KtBweProbe probe;
	gboolean probe_path_ok; /* as last judged, for the log */
};

KtBwe *kt_bwe_new(const KtBweConfig *cfg)
{
	KtBweConfig c = cfg ? *cfg : (KtBweConfig){0};
	KtBwe *bwe = g_new0(KtBwe, 1);

	c.min_bps = c.min_bps ? c.min_bps : DEFAULT_MIN_BPS;
	c.max_bps = MAX(c.max_bps ? c.max_bps : DEFAULT_MAX_BPS, c.min_bps);
	c.start_bps = CLAMP(c.start_bps ? c.start_bps : DEFAULT_START_BPS, c.min_bps, c.max_bps);
	bwe->min_bps = c.min_bps;
	bwe->max_bps = c.max_bps;
	bwe->target_bps = bwe->loss_bps = c.start_bps;
	bwe->rtt_us = -1;
	bwe->loss_decreased_us = -1;
	bwe->acked_first_us = -1;
	kt_bwe_delay_init(&bwe->delay, c.start_bps, c.min_bps, c.max_bps);
	kt_bwe_probe_init(&bwe->probe);
	return bwe;
}

void kt_bwe_free(KtBwe *bwe)
{
	g_free(bwe);
}

void kt_bwe_on_sent(KtBwe *bwe, guint16 transport_seq, gint64 send_time_us, guint size_bytes,
                    gboolean is_probe_or_padding)
{
	Sent *s = &bwe->sent[transport_seq % KT_BWE_HISTORY];

	*s = (Sent){.send_us = send_time_us,
	            .size = size_bytes,
	            .seq = transport_seq,
	            .cluster = kt_bwe_probe_on_sent(&bwe->probe, send_time_us, size_bytes,
	                                            is_probe_or_padding),
	            .state = SENT_WAITING};
}

/* ---- acknowledged bitrate ---- */

static void acked_pop(KtBwe *bwe)
{
	bwe->acked_bytes -= bwe->acked[bwe->acked_head].size;
	bwe->acked_head = (bwe->acked_head + 1) % KT_BWE_HISTORY;
	bwe->acked_n--;
}

/* A received packet joins the window. Reports come in sequence order, which
 * is nearly arrival order; one arriving well before the window is a late
 * one, skipped, unless it is so far back that the receiver's clock jumped. */
static void acked_add(KtBwe *bwe, gint64 arrival_us, guint size)
{
	if (bwe->acked_n > 0 && arrival_us < bwe->acked_newest_us - ACKED_CLOCK_JUMP_US) {
		while (bwe->acked_n > 0)
			acked_pop(bwe);
		bwe->acked_first_us = -1;
	}
	if (bwe->acked_first_us < 0)
		bwe->acked_first_us = arrival_us;
	if (bwe->acked_n == 0) {
		bwe->acked_newest_us = arrival_us;
	} else if (arrival_us <= bwe->acked_newest_us - ACKED_WINDOW_US) {
		return;
	}
	if (bwe->acked_n == KT_BWE_HISTORY)
		acked_pop(bwe);
	bwe->acked[(bwe->acked_head + bwe->acked_n) % KT_BWE_HISTORY] =
	    (Acked){.arrival_us = arrival_us, .size = size};
	bwe->acked_n++;
	bwe->acked_bytes += size;
	bwe->acked_newest_us = MAX(bwe->acked_newest_us, arrival_us);
	while (bwe->acked_n > 0 &&
	       bwe->acked[bwe->acked_head].arrival_us <= bwe->acked_newest_us - ACKED_WINDOW_US)
		acked_pop(bwe);
}

/* Bytes received in the window over the time they took to arrive. The
 * oldest packet's bytes arrived before its arrival time, so they are left out;
 * counting them would add a packet per window, 15 % at 50 kbit/s. Until two
 * packets span ACKED_MIN_SPAN_US, the last rate stands (0: unknown). */
static gdouble acked_rate(const KtBwe *bwe)
{
	const Acked *oldest = &bwe->acked[bwe->acked_head];
	gint64 span = bwe->acked_newest_us - oldest->arrival_us;

	/* Not before a whole window has been seen: the first tenths of a second
	 * of a new subscriber (its audio, the start of a keyframe) say little of
	 * its rate, and a decrease to beta x that would pause its video. Unknown
	 * (0), a decrease halves, as libwebrtc does before its acknowledged
	 * bitrate estimate has settled. */
	if (bwe->acked_first_us < 0 || bwe->acked_newest_us - bwe->acked_first_us < ACKED_WINDOW_US)
		return 0;
	if (bwe->acked_n < 2 || span < ACKED_MIN_SPAN_US)
		return bwe->acked_bps;
	return (gdouble)(bwe->acked_bytes - oldest->size) * 8 * 1e6 / (gdouble)span;
}

/* The rate at which the reported packets, lost ones included, were sent: over
 * the last ACKED_WINDOW_US of their send times, back from the newest reported
 * one (transport sequence is send order). Set beside the acknowledged rate it
 * tells a path that carries less than it is given (a bottleneck: sent well
 * above acknowledged) from a sender that gives it little (both alike). */
static gdouble reported_sent_rate(const KtBwe *bwe)
{
	const Sent *newest = &bwe->sent[bwe->newest_reported % KT_BWE_HISTORY];
	guint64 bytes = 0;
	gint64 oldest_us = newest->send_us;
	guint16 seq = bwe->newest_reported;

	if (!bwe->have_reported || newest->seq != seq || newest->state != SENT_REPORTED)
		return 0;
	for (guint i = 1; i < KT_BWE_HISTORY; i++) {
		const Sent *s = &bwe->sent[(guint16)(seq - i) % KT_BWE_HISTORY];

		if (s->seq != (guint16)(seq - i) || s->state != SENT_REPORTED ||
		    s->send_us < newest->send_us - ACKED_WINDOW_US)
			break;
		/* The newest packet's bytes are left out: n - 1 packets over the
		 * span between n send times, as acked_rate counts. */
		bytes += s->size;
		oldest_us = s->send_us;
	}
	if (newest->send_us - oldest_us < ACKED_MIN_SPAN_US)
		return 0;
	return (gdouble)bytes * 8 * 1e6 / (gdouble)(newest->send_us - oldest_us);
}

/* ---- feedback ---- */

static Sent *lookup(KtBwe *bwe, guint16 seq, gint64 now_us)
{
	Sent *s = &bwe->sent[seq % KT_BWE_HISTORY];

	if (s->state != SENT_WAITING || s->seq != seq || now_us - s->send_us > MAX_AGE_US)
		return NULL;
	return s;
}

static gboolean sane_time(gint64 us)
{
	return us > -MAX_ABS_TIME_US && us < MAX_ABS_TIME_US;
}

static void take_status(KtBwe *bwe, const KtTwccFeedback *fb, const KtTwccStatus *st, gint64 now_us,
                        Tally *t)
{
	Sent *s = lookup(bwe, st->seq, now_us);
	gint64 arrival_us;

	if (!s)
		return; /* never sent, too old, or already reported */
	if (st->received && (!sane_time(fb->reference_time_us) || !sane_time(st->arrival_us)))
		return;
	s->state = SENT_REPORTED;
	if (!bwe->have_reported || (gint16)(st->seq - bwe->newest_reported) > 0) {
		bwe->have_reported = TRUE;
		bwe->newest_reported = st->seq;
	}
	t->expected++;
	if (!st->received) {
		t->lost++;
		kt_bwe_probe_on_reported(&bwe->probe, s->cluster, FALSE, 0, 0);
		return;
	}
	arrival_us = fb->reference_time_us + st->arrival_us;
	t->newest_send_us = MAX(t->newest_send_us, s->send_us);
	acked_add(bwe, arrival_us, s->size);
	kt_bwe_delay_on_packet(&bwe->delay, s->send_us, arrival_us);
	kt_bwe_probe_on_reported(&bwe->probe, s->cluster, TRUE, arrival_us, s->size);
}

/* From feedback we only know when the newest packet it acknowledges left and
 * when the feedback came back: an upper bound of the round trip (it includes
 * the receiver's wait before reporting), which is what libwebrtc uses too. */
static void update_rtt(KtBwe *bwe, gint64 sample_us)
{
	if (sample_us < 0 || sample_us > MAX_AGE_US)
		return;
	bwe->rtt_us = bwe->rtt_us < 0 ? sample_us : (7 * bwe->rtt_us + sample_us) / 8;
}

static gint64 rtt(const KtBwe *bwe)
{
	return bwe->rtt_us < 0 ? DEFAULT_RTT_US : bwe->rtt_us;
}

/* gcc-02 §6, once per loss fraction, each over at least LOSS_MIN_PACKETS
 * packets (a report of gcc-02's): above 10 % decrease by half the loss (at
 * most once per 300 ms + RTT, as libwebrtc); below 2 % grow 5 %; between,
 * hold: some loss is the link's nature, not our doing. Acting on a fraction
 * once, not on every feedback until the next one, keeps a lucky interval
 * on a lossy link from counting many times. While loss stays in the hold
 * band the target cannot rise past the held rate, as in gcc-02 and
 * libwebrtc's classic loss controller. */
static void loss_update(KtBwe *bwe, const Tally *t, gint64 now_us)
{
	bwe->lost += t->lost;
	bwe->expected += t->expected;
	if (bwe->expected < LOSS_MIN_PACKETS)
		return;
	bwe->loss_fraction = (gdouble)bwe->lost / bwe->expected;
	bwe->lost = bwe->expected = 0;
	/* Loss the link has while no queue stands (radio, a lossy last mile)
	 * is not congestion: sending less does not lower it. It is learnt while
	 * the delay is calm, and only what comes on top of it counts below (the
	 * idea of libwebrtc's LossBasedBweV2 "inherent loss", in one average).
	 * A queue that overflows is never calm, so its drops always count. */
	if (bwe->delay.usage != KT_BWE_OVERUSING &&
	    kt_bwe_delay_queue_us(&bwe->delay) < INHERENT_CALM_QUEUE_US) {
		/* The plain mean of the first fractions, then a moving average: a
		 * subscriber of 200 kbit/s reports a fraction about once a second,
		 * and learning at 0.1 from zero would cut it for ten seconds on a
		 * link that was lossy from the start (a 4G classroom). */
		gdouble alpha = MAX(1.0 / ++bwe->inherent_n, INHERENT_ALPHA);

		bwe->inherent_n = MIN(bwe->inherent_n, 1000);
		bwe->inherent_loss +=
		    alpha * (MIN(bwe->loss_fraction, INHERENT_MAX) - bwe->inherent_loss);
	}
	bwe->excess_loss = MAX(bwe->loss_fraction - bwe->inherent_loss, 0);
	if (bwe->excess_loss > LOSS_HIGH) {
		if (bwe->loss_decreased_us < 0 ||
		    now_us - bwe->loss_decreased_us >= LOSS_DECREASE_US + rtt(bwe)) {
			bwe->loss_bps *= 1 - 0.5 * bwe->excess_loss;
			bwe->loss_decreased_us = now_us;
			bwe->loss_ever_decreased = TRUE;
		}
	} else if (bwe->excess_loss < LOSS_LOW) {
		bwe->loss_bps *= LOSS_GROWTH;
	}
}

/* The target is the lower of the two controllers (gcc-02 §6). The loss-based
 * rate is kept no higher than the delay-based one, as libwebrtc does: grown
 * freely while loss is low, it would sit far above what the path carries the
 * moment loss appeared. */
static void update_target(KtBwe *bwe)
{
	bwe->target_bps = CLAMP(MIN(bwe->loss_bps, bwe->delay.bps), bwe->min_bps, bwe->max_bps);
	bwe->loss_bps = bwe->target_bps;
}

/* A finished probe cluster raises both controllers to what it measured,
 * unless the delay is building up right now. */
static void judge_probe(KtBwe *bwe, gint64 now_us)
{
	gboolean pending = bwe->probe.pending;
	gdouble bps = kt_bwe_probe_result(&bwe->probe, now_us);

	if (pending && !bwe->probe.pending)
		g_debug("bwe %p: probe at %.0f kbit/s measured %.0f kbit/s (%u sent, %u reported, "
		        "%u received; target %.0f kbit/s)",
		        (void *)bwe, bwe->probe.rate_bps / 1000, MAX(bps, 0) / 1000,
		        bwe->probe.sent, bwe->probe.reported, bwe->probe.received,
		        bwe->target_bps / 1000);
	if (bps <= 0 || bwe->delay.usage == KT_BWE_OVERUSING)
		return;
	kt_bwe_delay_raise(&bwe->delay, bps, now_us);
	if (bwe->excess_loss <= LOSS_HIGH)
		bwe->loss_bps = MAX(bwe->loss_bps, bps);
	update_target(bwe);
}

void kt_bwe_on_feedback(KtBwe *bwe, const KtTwccFeedback *fb, const KtTwccStatus *st, guint n,
                        gint64 now_us)
{
	Tally t = {.newest_send_us = -1};

	for (guint i = 0; i < n; i++)
		take_status(bwe, fb, &st[i], now_us, &t);
	if (t.expected == 0)
		return; /* nothing new: a duplicate, or not about our packets */
	if (t.newest_send_us >= 0)
		update_rtt(bwe, now_us - t.newest_send_us);
	bwe->acked_bps = acked_rate(bwe);
	bwe->reported_sent_bps = reported_sent_rate(bwe);
	kt_bwe_delay_update(&bwe->delay, bwe->acked_bps, bwe->reported_sent_bps, rtt(bwe), now_us);
	loss_update(bwe, &t, now_us);
	update_target(bwe);
	judge_probe(bwe, now_us);
}

/* ---- probing ---- */

void kt_bwe_set_demand(KtBwe *bwe, guint32 bps)
{
	bwe->probe.demand_bps = bps;
}

/* A probe looks for spare capacity, so only on a quiet path: delay neither
 * growing nor shrinking, loss low, and no queue standing. A standing queue
 * leaves GCC's trendline flat while the bottleneck is busy; a probe there
 * measures only the bottleneck's rate, and raising the estimate to it would
 * keep the queue from draining. */
gboolean kt_bwe_probe_wanted(KtBwe *bwe, gint64 now_us, guint32 *probe_bps)
{
	gboolean path_ok = bwe->delay.usage == KT_BWE_NORMAL && bwe->excess_loss <= LOSS_HIGH &&
	                   kt_bwe_delay_queue_us(&bwe->delay) < PROBE_MAX_QUEUE_US;
	gdouble rate;

	if (path_ok != bwe->probe_path_ok) {
		/* Only when it changes: why the estimate is (not) probing upwards is
		 * the first question when a classroom stays on a low layer. */
		bwe->probe_path_ok = path_ok;
		g_debug("bwe %p: probing %s (delay %s, loss %.3f, queue %" G_GINT64_FORMAT " ms)",
		        (void *)bwe, path_ok ? "allowed" : "held back",
		        bwe->delay.usage == KT_BWE_NORMAL      ? "normal"
		        : bwe->delay.usage == KT_BWE_OVERUSING ? "overuse"
		                                               : "underuse",
		        bwe->loss_fraction, kt_bwe_delay_queue_us(&bwe->delay) / 1000);
	}
	judge_probe(bwe, now_us); /* one whose feedback never came times out here */
	if (!kt_bwe_probe_start(&bwe->probe, now_us, bwe->target_bps, bwe->max_bps, path_ok, &rate))
		return FALSE;
	if (probe_bps)
		*probe_bps = (guint32)rate;
	return TRUE;
}

/* ---- getters ---- */

guint32 kt_bwe_target_bps(const KtBwe *bwe)
{
	return (guint32)bwe->target_bps;
}

gboolean kt_bwe_is_bounded(const KtBwe *bwe)
{
	return bwe->delay.ever_decreased || bwe->loss_ever_decreased;
}

guint32 kt_bwe_acked_bps(const KtBwe *bwe)
{
	return (guint32)MIN(bwe->acked_bps, (gdouble)G_MAXUINT32);
}

gdouble kt_bwe_loss_fraction(const KtBwe *bwe)
{
	return bwe->loss_fraction;
}

KtBweUsage kt_bwe_usage(const KtBwe *bwe)
{
	return bwe->delay.usage;
}
