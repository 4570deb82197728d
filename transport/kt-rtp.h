/* kt-rtp.h — RTP demultiplexing, parsing and in-place rewriting (RFC 3550 §5.1).
 *
 * Packet-path module: every function is pure over caller-owned byte buffers,
 * allocates nothing and logs nothing. Nothing here keeps a pointer past the
 * call except where a function hands back a pointer INTO the caller's buffer
 * (kt_rtp_find_extension), which is valid as long as that buffer is.
 *
 * Threads: any thread (no shared state).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KT_RTP_HEADER_LEN 12
#define KT_RTP_VERSION 2

/* Negative statuses returned by the functions below. */
typedef enum {
	KT_RTP_OK = 0,
	KT_RTP_ETRUNCATED = -1, /* buffer shorter than the header claims */
	KT_RTP_EVERSION = -2,   /* version field is not 2 */
	KT_RTP_EPADDING = -3,   /* padding count is 0 or larger than the payload */
	KT_RTP_ETOOBIG = -4,    /* longer than any UDP datagram (> 65535 bytes) */
	KT_RTP_ENOSPACE = -5,   /* output buffer too small */
} KtRtpStatus;

typedef enum {
	KT_PACKET_UNKNOWN,
	KT_PACKET_STUN,
	KT_PACKET_DTLS,
	KT_PACKET_RTP,
	KT_PACKET_RTCP,
} KtPacketKind;

/* Classifies a datagram received on a bundled ICE socket: RFC 7983 §7
 * first-byte ranges, then RFC 5761 §4 (RTCP when the second byte, the RTCP
 * packet type, is in 192..223). Too-short datagrams are KT_PACKET_UNKNOWN. */
KtPacketKind kt_rtp_demux(const guint8 *buf, gsize len);

/* A parsed RTP header. All offsets are from the start of the packet. */
typedef struct {
	guint8 version;
	guint8 csrc_count;
	guint8 payload_type;
	guint8 padding_len; /* bytes of padding at the end, 0 when !padding */
	gboolean padding;
	gboolean extension;
	gboolean marker;
	guint16 seq;
	guint32 timestamp;
	guint32 ssrc;
	guint16 header_len;  /* fixed header + CSRC list + extension block */
	guint16 ext_profile; /* "defined by profile" field, 0 when !extension */
	guint16 ext_offset;  /* body of the extension block (after its 4-byte head) */
	guint16 ext_len;     /* body length in bytes */
	guint16 payload_offset;
	guint16 payload_len; /* excludes padding */
} KtRtpHeader;

/* Parses and validates the header of the RTP packet buf[0..len). Returns
 * KT_RTP_OK and fills *out, or a negative KtRtpStatus on malformed,
 * truncated or badly padded input (then *out is unspecified). */
int kt_rtp_parse(const guint8 *buf, gsize len, KtRtpHeader *out);

/* In-place rewriters. buf must hold at least KT_RTP_HEADER_LEN bytes, i.e.
 * it is a packet kt_rtp_parse() accepted or kt_rtp_write_header() wrote. */
void kt_rtp_set_payload_type(guint8 *buf, guint8 pt); /* keeps the marker bit */
void kt_rtp_set_seq(guint8 *buf, guint16 seq);
void kt_rtp_set_timestamp(guint8 *buf, guint32 ts);
void kt_rtp_set_ssrc(guint8 *buf, guint32 ssrc);

/* Finds header extension element `id` (RFC 8285: one-byte form, profile
 * 0xBEDE, ids 1..14; two-byte form, profile 0x100X, ids 1..255). On success
 * sets *data to the element's bytes inside buf and returns their count (which
 * may be 0 in the two-byte form); returns -1 when absent or malformed. */
int kt_rtp_find_extension(const guint8 *buf, const KtRtpHeader *h, guint8 id, const guint8 **data);

/* Adds one-byte-form element @id (1..14) with @n (1..16) bytes of @data to the packet
 * buf[0..len) (RFC 8285 §4.2): into its 0xBEDE extension block, after the elements
 * there, growing the block by whole words when its padding cannot hold it, or into a
 * new block when it had none. The payload and padding move on. Returns the new length;
 * KT_RTP_ENOSPACE when @cap cannot hold it; KT_RTP_EVERSION for CSRCs, another
 * extension profile, a malformed block, a bad id or size (then buf is untouched). */
int kt_rtp_add_extension(guint8 *buf, gsize len, gsize cap, guint8 id, const guint8 *data, guint n);

/* Writes a 12-byte header (V=2, no padding, extension or CSRCs) into buf.
 * Returns KT_RTP_HEADER_LEN, or KT_RTP_ENOSPACE when cap < 12. */
int kt_rtp_write_header(guint8 *buf, gsize cap, guint8 pt, gboolean marker, guint16 seq, guint32 ts,
                        guint32 ssrc);

/* Keyframe detection on the RTP payload (after the RTP header, before the
 * padding). VP8: RFC 7741 §4.2/§4.3 — the first packet of a frame (S=1,
 * PID=0) whose VP8 frame tag has P=0. H.264: RFC 6184 — an IDR slice (5) or
 * SPS (7) as a single NAL unit, inside a STAP-A (24), or starting an FU-A
 * (28, S=1). Malformed payloads are not keyframes. */
gboolean kt_rtp_vp8_is_keyframe(const guint8 *payload, gsize len);
gboolean kt_rtp_h264_is_keyframe(const guint8 *payload, gsize len);
/* A VP8 keyframe's first packet: the picture size from its header (RFC 6386
 * §9.2). FALSE for anything else or a packet too short to say. */
gboolean kt_rtp_vp8_keyframe_size(const guint8 *payload, gsize len, guint *width, guint *height);

/* Network byte order helpers for packet-path code (unaligned access). */
static inline guint16 kt_rtp_read_be16(const guint8 *p)
{
	return (guint16)((p[0] << 8) | p[1]);
}

static inline guint32 kt_rtp_read_be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static inline void kt_rtp_write_be16(guint8 *p, guint16 v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

static inline void kt_rtp_write_be32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v >> 24);
	p[1] = (guint8)(v >> 16);
	p[2] = (guint8)(v >> 8);
	p[3] = (guint8)v;
}

G_END_DECLS
