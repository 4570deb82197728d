/* kt-rtp-stats.c — RTP receive statistics. See kt-rtp-stats.h. */
#include "kt-rtp-stats.h"

#include <string.h>

/* RFC 3550 Appendix A.1 constants. */
#define KT_RTP_SEQ_MOD (1u << 16)
#define KT_MAX_DROPOUT 3000
#define KT_MAX_MISORDER 100

#define KT_USEC_PER_SEC G_GINT64_CONSTANT(1000000)

typedef enum {
	KT_SEQ_DROP,    /* not counted: duplicate or unconfirmed large jump */
	KT_SEQ_NEW_MAX, /* counted, advanced the highest sequence number */
	KT_SEQ_OLD,     /* counted, late or reordered */
} KtSeqVerdict;

void kt_rtp_stats_init(KtRtpStats *s, guint32 ssrc, guint32 clock_rate)
{
	memset(s, 0, sizeof(*s));
	s->ssrc = ssrc;
	s->clock_rate = clock_rate;
	s->bad_seq = KT_RTP_SEQ_MOD + 1;
}

/* A.1 init_seq(): a (re)start of the sequence space. Jitter survives, but
 * its transit baseline does not: a restarted sender has a new timeline. */
static void init_seq(KtRtpStats *s, guint16 seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = KT_RTP_SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
	s->have_transit = FALSE;
}

/* A.1 update_seq() without the probation period: SRTP has already
 * authenticated the packet, so the first one starts the stream. Exact
 * duplicates of the newest packet are not counted, so a retransmitted
 * newest packet does not make the loss negative. */
static KtSeqVerdict update_seq(KtRtpStats *s, guint16 seq)
{
	if (!s->started) {
		s->started = TRUE;
		init_seq(s, seq);
		s->received++;
		return KT_SEQ_NEW_MAX;
	}
	guint16 udelta = (guint16)(seq - s->max_seq);
	if (udelta == 0)
		return KT_SEQ_DROP;
	if (udelta < KT_MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += KT_RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= KT_RTP_SEQ_MOD - KT_MAX_MISORDER) {
		/* A very large jump: believe it only if the next packet
		 * continues from it (the sender restarted). */
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1) & (KT_RTP_SEQ_MOD - 1);
			return KT_SEQ_DROP;
		}
		init_seq(s, seq);
	} else {
		s->received++;
		return KT_SEQ_OLD;
	}
	s->received++;
	return KT_SEQ_NEW_MAX;
}

/* Converts a local time to RTP clock units without overflowing for any
 * realistic clock (split into whole seconds and the remainder). */
static guint32 usec_to_rtp_units(gint64 us, guint32 clock_rate)
{
	gint64 sec = us / KT_USEC_PER_SEC;
	gint64 rem = us % KT_USEC_PER_SEC;
	gint64 units = sec * clock_rate + rem * clock_rate / KT_USEC_PER_SEC;
	return (guint32)units;
}

/* A.8: J += (|D| - J) / 16, kept scaled by 16 to stay in integers. Only
 * in-order packets feed it, so retransmissions do not look like jitter. */
static void update_jitter(KtRtpStats *s, guint32 rtp_ts, gint64 arrival_us)
{
	if (s->clock_rate == 0)
		return;
	guint32 transit = usec_to_rtp_units(arrival_us, s->clock_rate) - rtp_ts;
	if (s->have_transit) {
		gint64 d = (gint32)(transit - s->transit);
		if (d < 0)
			d = -d;
		s->jitter_q4 = s->jitter_q4 + (guint64)d - ((s->jitter_q4 + 8) >> 4);
	}
	s->transit = transit;
	s->have_transit = TRUE;
}

void kt_rtp_stats_update(KtRtpStats *s, guint16 seq, guint32 rtp_ts, gint64 arrival_us)
{
	KtSeqVerdict verdict = update_seq(s, seq);
	if (verdict == KT_SEQ_DROP)
		return;
	s->packets_total++;
	if (verdict == KT_SEQ_NEW_MAX)
		update_jitter(s, rtp_ts, arrival_us);
}

void kt_rtp_stats_on_sr(KtRtpStats *s, guint32 ntp_sec, guint32 ntp_frac, gint64 arrival_us)
{
	/* RFC 3550 §6.4.1: LSR is the middle 32 bits of the 64-bit NTP time. */
	s->lsr = ((ntp_sec & 0xFFFF) << 16) | (ntp_frac >> 16);
	s->sr_arrival_us = arrival_us;
	s->have_sr = TRUE;
}

/* DLSR in units of 1/65536 s, 0 when no SR has been received (§6.4.1). */
static guint32 compute_dlsr(const KtRtpStats *s, gint64 now_us)
{
	if (!s->have_sr || now_us <= s->sr_arrival_us)
		return 0;
	gint64 delay = now_us - s->sr_arrival_us;
	gint64 sec = delay / KT_USEC_PER_SEC;
	gint64 units = (sec << 16) + ((delay % KT_USEC_PER_SEC) << 16) / KT_USEC_PER_SEC;
	return units > G_MAXUINT32 ? G_MAXUINT32 : (guint32)units;
}

/* A.3: cumulative loss and the fraction lost over the last interval. */
static void fill_loss(KtRtpStats *s, KtRtcpReportBlock *out)
{
	guint64 extended_max = s->cycles + s->max_seq;
	gint64 expected = (gint64)(extended_max - s->base_seq + 1);
	gint64 lost = expected - (gint64)s->received;
	out->cumulative_lost = (gint32)CLAMP(lost, -0x800000, 0x7FFFFF);
	out->highest_seq = (guint32)extended_max;

	gint64 expected_interval = expected - (gint64)s->expected_prior;
	gint64 received_interval = (gint64)s->received - (gint64)s->received_prior;
	gint64 lost_interval = expected_interval - received_interval;
	s->expected_prior = (guint64)expected;
	s->received_prior = s->received;
	if (expected_interval <= 0 || lost_interval <= 0)
		out->fraction_lost = 0;
	else
		out->fraction_lost = (guint8)MIN((lost_interval << 8) / expected_interval, 255);
}

void kt_rtp_stats_fill_report(KtRtpStats *s, gint64 now_us, KtRtcpReportBlock *out)
{
	memset(out, 0, sizeof(*out));
	out->ssrc = s->ssrc;
	if (s->started) {
		fill_loss(s, out);
		guint64 jitter = s->jitter_q4 >> 4;
		out->jitter = jitter > G_MAXUINT32 ? G_MAXUINT32 : (guint32)jitter;
	}
	if (s->have_sr) {
		out->lsr = s->lsr;
		out->dlsr = compute_dlsr(s, now_us);
	}
}

guint64 kt_rtp_stats_get_packets(const KtRtpStats *s)
{
	return s->packets_total;
}
