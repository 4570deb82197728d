/* kt-rtp-stats.h — receive statistics for one incoming RTP stream, so the
 * SFU can send Receiver Reports to the publisher (RFC 3550 Appendix A.1
 * sequence validation and extension, A.3 loss, A.8 interarrival jitter,
 * §6.4.1 LSR/DLSR).
 *
 * KtRtpStats is a plain value struct owned and allocated by the caller
 * (usually embedded in the incoming-stream object); it holds no pointers and
 * needs no freeing. Its fields are internal state: read it through the
 * functions below.
 *
 * Threads: media worker — the thread that owns the stream; no locking.
 * Packet path: nothing here allocates or logs.
 */
#pragma once

#include <glib.h>

#include "kt-rtcp.h"

G_BEGIN_DECLS

typedef struct {
	guint32 ssrc;
	guint32 clock_rate;
	gboolean started; /* a packet has initialised the sequence state */
	guint16 max_seq;  /* highest sequence number seen */
	guint64 cycles;   /* wrap-arounds, shifted left by 16 (A.1) */
	guint64 base_seq; /* first sequence number since (re)start */
	guint32 bad_seq;  /* last "very large jump" + 1; > 0xFFFF when none */
	guint64 received; /* packets counted since (re)start */
	guint64 expected_prior;
	guint64 received_prior;
	guint64 packets_total; /* packets counted since init, restarts included */
	gboolean have_transit;
	guint32 transit;   /* last relative transit time, RTP units */
	guint64 jitter_q4; /* interarrival jitter x 16 (A.8 integer form) */
	gboolean have_sr;
	guint32 lsr;          /* middle 32 bits of the last SR's NTP time */
	gint64 sr_arrival_us; /* local arrival time of that SR */
} KtRtpStats;

/* Resets *s for the stream `ssrc` whose RTP clock runs at clock_rate Hz
 * (0 disables jitter). */
void kt_rtp_stats_init(KtRtpStats *s, guint32 ssrc, guint32 clock_rate);

/* Accounts for one received (already authenticated) packet. Handles seq
 * wrap-around, reordering, duplicates of the newest packet, and restarts
 * after a very large jump (A.1: two consecutive packets confirm the jump).
 * arrival_us is a monotonic clock in microseconds. */
void kt_rtp_stats_update(KtRtpStats *s, guint16 seq, guint32 rtp_ts, gint64 arrival_us);

/* Remembers an SR from the stream's sender so the next report carries its
 * LSR and the delay since it (DLSR). */
void kt_rtp_stats_on_sr(KtRtpStats *s, guint32 ntp_sec, guint32 ntp_frac, gint64 arrival_us);

/* Fills one report block about this stream as of now_us (same clock as
 * arrival_us): fraction lost since the previous call, cumulative lost,
 * extended highest seq, jitter, LSR and DLSR (1/65536 s). Starts a new
 * fraction-lost interval. */
void kt_rtp_stats_fill_report(KtRtpStats *s, gint64 now_us, KtRtcpReportBlock *out);

/* Packets counted since init (restarts included; duplicates of the newest
 * packet and unconfirmed jumps excluded). */
guint64 kt_rtp_stats_get_packets(const KtRtpStats *s);

G_END_DECLS
