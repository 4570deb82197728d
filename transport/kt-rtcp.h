/* kt-rtcp.h — RTCP parsing and building (RFC 3550 §6, RFC 4585 feedback,
 * RFC 5104 FIR, draft-alvestrand-rmcat-remb REMB).
 *
 * Packet-path module: every function is pure over caller-owned byte buffers,
 * allocates nothing and logs nothing. A KtRtcpChunk points into the buffer
 * given to kt_rtcp_iter_init() and is valid as long as that buffer is.
 * Builders write into the caller's buffer and return the bytes written.
 *
 * Threads: any thread (no shared state).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

enum {
	KT_RTCP_SR = 200,
	KT_RTCP_RR = 201,
	KT_RTCP_SDES = 202,
	KT_RTCP_BYE = 203,
	KT_RTCP_APP = 204,
	KT_RTCP_RTPFB = 205, /* RFC 4585 §6.2 transport-layer feedback */
	KT_RTCP_PSFB = 206,  /* RFC 4585 §6.3 payload-specific feedback */
	KT_RTCP_XR = 207,
};

/* Feedback message types (the FMT field, carried in KtRtcpChunk.count). */
enum {
	KT_RTCP_FB_NACK = 1,  /* RTPFB: generic NACK, RFC 4585 §6.2.1 */
	KT_RTCP_FB_TWCC = 15, /* RTPFB: transport-wide congestion control */
	KT_RTCP_FB_PLI = 1,   /* PSFB: picture loss indication, RFC 4585 §6.3.1 */
	KT_RTCP_FB_FIR = 4,   /* PSFB: full intra request, RFC 5104 §4.3.1 */
	KT_RTCP_FB_AFB = 15,  /* PSFB: application layer feedback (REMB) */
};

/* Negative statuses returned by the functions below. */
typedef enum {
	KT_RTCP_ETRUNCATED = -1, /* shorter than a header or than the fields read */
	KT_RTCP_EVERSION = -2,   /* version field is not 2 */
	KT_RTCP_ELENGTH = -3,    /* length field overruns the datagram */
	KT_RTCP_ETYPE = -4,      /* chunk is not of the type/FMT this accessor reads */
	KT_RTCP_ERANGE = -5,     /* index past the last item */
	KT_RTCP_ENOSPACE = -6,   /* builder output buffer too small */
	KT_RTCP_EINVAL = -7,     /* builder argument out of range (count, string length) */
} KtRtcpStatus;

#define KT_RTCP_MAX_REPORT_BLOCKS 31 /* 5-bit RC field */

/* One RTCP packet of a compound datagram: data/len span the whole packet,
 * header included; count is the RC or FMT field. */
typedef struct {
	const guint8 *data;
	gsize len;
	guint8 type;
	guint8 count;
} KtRtcpChunk;

/* Walks a compound RTCP datagram (RFC 3550 §6.1). Caller-allocated. */
typedef struct {
	const guint8 *buf;
	gsize len, off;
} KtRtcpIter;

void kt_rtcp_iter_init(KtRtcpIter *it, const guint8 *buf, gsize len);
/* Returns 1 and fills *out for the next packet, 0 at the end, or a negative
 * KtRtcpStatus (truncated header, version != 2, length field overrunning the
 * datagram); after an error the iterator is at its end. */
int kt_rtcp_iter_next(KtRtcpIter *it, KtRtcpChunk *out);

typedef struct {
	guint32 ssrc;
	guint32 ntp_sec, ntp_frac;
	guint32 rtp_ts;
	guint32 packet_count, octet_count;
} KtRtcpSenderInfo;

typedef struct {
	guint32 ssrc;
	guint8 fraction_lost;
	gint32 cumulative_lost; /* 24-bit signed on the wire */
	guint32 highest_seq;    /* extended highest sequence number received */
	guint32 jitter;         /* RTP timestamp units */
	guint32 lsr;            /* middle 32 bits of the last SR's NTP time */
	guint32 dlsr;           /* 1/65536 s since that SR */
} KtRtcpReportBlock;

/* SR sender info (RFC 3550 §6.4.1). 0 or negative KtRtcpStatus. */
int kt_rtcp_parse_sr(const KtRtcpChunk *c, KtRtcpSenderInfo *out);
/* Packet sender SSRC of an SR, RR, RTPFB or PSFB; 0 for other or short chunks. */
guint32 kt_rtcp_get_sender_ssrc(const KtRtcpChunk *c);
/* Report block `index` of an SR or RR. 0 or negative KtRtcpStatus. */
int kt_rtcp_get_report_block(const KtRtcpChunk *c, guint index, KtRtcpReportBlock *out);

/* Media source SSRC of an RTPFB or PSFB (RFC 4585 §6.1); 0 otherwise. */
guint32 kt_rtcp_fb_get_media_ssrc(const KtRtcpChunk *c);

/* Generic NACK (RTPFB FMT 1): number of PID/BLP pairs, or negative. */
int kt_rtcp_nack_count(const KtRtcpChunk *c);
int kt_rtcp_nack_get(const KtRtcpChunk *c, guint index, guint16 *pid, guint16 *blp);

/* FIR (PSFB FMT 4): number of FCI entries, or negative. */
int kt_rtcp_fir_count(const KtRtcpChunk *c);
int kt_rtcp_fir_get(const KtRtcpChunk *c, guint index, guint32 *ssrc, guint8 *seqnr);

/* REMB (PSFB FMT 15 with "REMB" identifier): sets *bitrate_bps (saturating
 * at G_MAXUINT64) and returns the number of SSRCs listed (>= 0); negative
 * when the chunk is not a well-formed REMB. */
int kt_rtcp_remb_parse(const KtRtcpChunk *c, guint64 *bitrate_bps);
int kt_rtcp_remb_get_ssrc(const KtRtcpChunk *c, guint index, guint32 *ssrc);

/* Builders: write one RTCP packet into buf, return its length, or
 * KT_RTCP_ENOSPACE when cap is too small / KT_RTCP_EINVAL for bad counts.
 * Concatenate their outputs to make a compound packet. */
int kt_rtcp_build_sr(guint8 *buf, gsize cap, const KtRtcpSenderInfo *si,
                     const KtRtcpReportBlock *blocks, guint n);
int kt_rtcp_build_rr(guint8 *buf, gsize cap, guint32 sender_ssrc, const KtRtcpReportBlock *blocks,
                     guint n);
/* One chunk with one CNAME item; cname is at most 255 bytes. */
int kt_rtcp_build_sdes_cname(guint8 *buf, gsize cap, guint32 ssrc, const char *cname);
int kt_rtcp_build_pli(guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc);
int kt_rtcp_build_fir(guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                      guint8 seqnr);
/* Packs seqs (sorted ascending in wrap-around order, duplicates allowed)
 * into as few PID/BLP pairs as possible; n must be >= 1. */
int kt_rtcp_build_nack(guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                       const guint16 *seqs, guint n);
/* bitrate is rounded down to the 18-bit mantissa; n <= 255 SSRCs. */
int kt_rtcp_build_remb(guint8 *buf, gsize cap, guint32 sender_ssrc, guint64 bitrate_bps,
                       const guint32 *ssrcs, guint n);

G_END_DECLS
