/* Transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01, "TWCC").
 *
 * A sender numbers every packet it sends on a transport with one 16-bit
 * sequence (an RTP header extension); the receiver reports, packet by packet,
 * whether and when each arrived (RTCP RTPFB FMT 15). Chrome's send-side
 * bandwidth estimator (GCC) lives on those reports: without them a publisher
 * cannot tell a weak uplink from a good one.
 *
 * KtTwccReceiver is the receive side Ketang runs for each publisher;
 * kt_twcc_parse() reads such feedback (from subscribers, for the send-side
 * estimate, and in tests).
 *
 * Packet-path module: record/build/parse allocate nothing and log nothing.
 * Threads: none of its own; one receiver is used from one thread (its
 * publisher's media worker). kt_twcc_parse is pure.
 */
#pragma once

#include <glib.h>

#include "kt-rtcp.h"

G_BEGIN_DECLS

#define KT_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

/* Arrivals kept between two reports; older ones are reported lost. At 5 Mbit/s
 * of 1200-byte packets that is ~2 s, far beyond the 100 ms report interval. */
#define KT_TWCC_WINDOW 1024

typedef struct _KtTwccReceiver KtTwccReceiver;

KtTwccReceiver *kt_twcc_receiver_new(void);
void kt_twcc_receiver_free(KtTwccReceiver *r);

/* A packet carrying transport-wide sequence @seq arrived at @arrival_us
 * (g_get_monotonic_time()). Duplicates and packets older than what was
 * already reported are ignored. */
void kt_twcc_receiver_record(KtTwccReceiver *r, guint16 seq, gint64 arrival_us);

/* Writes one feedback packet into @buf covering every sequence number from
 * the last report on (those that never arrived as lost). Returns its length;
 * 0 when nothing arrived since the last report; KT_RTCP_ENOSPACE when @cap
 * cannot hold even a minimal report. A report that would not fit in @cap, or
 * whose gaps in time do not fit the format, ends early; the next call goes on
 * from there. */
int kt_twcc_receiver_build(KtTwccReceiver *r, guint8 *buf, gsize cap, guint32 sender_ssrc,
                           guint32 media_ssrc);

/* Parsed feedback. arrival_us of a received packet is relative to
 * reference_time_us, both on the receiver's clock. */
typedef struct {
	guint16 seq;
	gboolean received;
	gint64 arrival_us;
} KtTwccStatus;

typedef struct {
	guint32 sender_ssrc, media_ssrc;
	guint16 base_seq;
	guint16 count; /* packet statuses reported */
	gint64 reference_time_us;
	guint8 fb_count;
} KtTwccFeedback;

/* Reads an RTPFB FMT 15 chunk from kt_rtcp_iter_next() (which has checked and
 * removed the padding). Fills @fb and the first @max statuses (in sequence
 * order) and returns fb->count; a negative KtRtcpStatus when the chunk is not
 * TWCC feedback (KT_RTCP_ETYPE) or is malformed: truncated header, chunks or
 * deltas (KT_RTCP_ETRUNCATED), a reserved status symbol (KT_RTCP_ELENGTH). */
int kt_twcc_parse(const KtRtcpChunk *c, KtTwccFeedback *fb, KtTwccStatus *statuses, guint max);

G_END_DECLS
