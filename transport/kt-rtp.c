/* kt-rtp.c — RTP demultiplexing, parsing and rewriting. See kt-rtp.h. */
#include "kt-rtp.h"

/* Smallest datagram of each kind worth classifying: STUN header (RFC 8489
 * §5), DTLS record header (RFC 6347 §4.1), RTP fixed header, RTCP header +
 * SSRC. */
#define KT_STUN_MIN_LEN 20
#define KT_DTLS_MIN_LEN 13
#define KT_RTCP_MIN_LEN 8

#define KT_RTP_EXT_ONE_BYTE 0xBEDE
#define KT_RTP_EXT_TWO_BYTE_MASK 0xFFF0
#define KT_RTP_EXT_TWO_BYTE 0x1000

#define KT_H264_NAL_IDR 5
#define KT_H264_NAL_SPS 7
#define KT_H264_NAL_STAP_A 24
#define KT_H264_NAL_FU_A 28

KtPacketKind kt_rtp_demux(const guint8 *buf, gsize len)
{
	if (buf == NULL || len == 0)
		return KT_PACKET_UNKNOWN;
	guint8 b = buf[0];

	/* RFC 7983 §7: 0..3 STUN, 20..63 DTLS, 128..191 RTP/RTCP; ZRTP (16..19)
	 * and TURN channels (64..79) are not expected on our sockets. */
	if (b <= 3)
		return len >= KT_STUN_MIN_LEN ? KT_PACKET_STUN : KT_PACKET_UNKNOWN;
	if (b >= 20 && b <= 63)
		return len >= KT_DTLS_MIN_LEN ? KT_PACKET_DTLS : KT_PACKET_UNKNOWN;
	if (b < 128 || b > 191 || len < 2)
		return KT_PACKET_UNKNOWN;
	/* RFC 5761 §4: RTCP packet types 192..223 never collide with the RTP
	 * payload types (with marker bit) a muxed session may use. */
	if (buf[1] >= 192 && buf[1] <= 223)
		return len >= KT_RTCP_MIN_LEN ? KT_PACKET_RTCP : KT_PACKET_UNKNOWN;
	return len >= KT_RTP_HEADER_LEN ? KT_PACKET_RTP : KT_PACKET_UNKNOWN;
}

/* Parses the extension block head at `off` (RFC 3550 §5.3.1); returns the
 * offset just past the block or a negative status. */
static int parse_extension_block(const guint8 *buf, gsize len, gsize off, KtRtpHeader *out)
{
	if (off + 4 > len)
		return KT_RTP_ETRUNCATED;
	out->ext_profile = kt_rtp_read_be16(buf + off);
	gsize body = (gsize)kt_rtp_read_be16(buf + off + 2) * 4;
	if (off + 4 + body > len)
		return KT_RTP_ETRUNCATED;
	out->ext_offset = (guint16)(off + 4);
	out->ext_len = (guint16)body;
	return (int)(off + 4 + body);
}

int kt_rtp_parse(const guint8 *buf, gsize len, KtRtpHeader *out)
{
	if (buf == NULL || len < KT_RTP_HEADER_LEN)
		return KT_RTP_ETRUNCATED;
	if (len > G_MAXUINT16)
		return KT_RTP_ETOOBIG;

	out->version = buf[0] >> 6;
	if (out->version != KT_RTP_VERSION)
		return KT_RTP_EVERSION;
	out->padding = (buf[0] & 0x20) != 0;
	out->extension = (buf[0] & 0x10) != 0;
	out->csrc_count = buf[0] & 0x0F;
	out->marker = (buf[1] & 0x80) != 0;
	out->payload_type = buf[1] & 0x7F;
	out->seq = kt_rtp_read_be16(buf + 2);
	out->timestamp = kt_rtp_read_be32(buf + 4);
	out->ssrc = kt_rtp_read_be32(buf + 8);
	out->ext_profile = 0;
	out->ext_offset = 0;
	out->ext_len = 0;

	gsize off = KT_RTP_HEADER_LEN + (gsize)out->csrc_count * 4;
	if (off > len)
		return KT_RTP_ETRUNCATED;
	if (out->extension) {
		int end = parse_extension_block(buf, len, off, out);
		if (end < 0)
			return end;
		off = (gsize)end;
	}
	out->header_len = (guint16)off;

	/* RFC 3550 §5.1: the last padding octet counts the padding, itself
	 * included, so it can be neither 0 nor reach into the header. */
	out->padding_len = 0;
	if (out->padding) {
		guint8 pad = buf[len - 1];
		if (pad == 0 || pad > len - off)
			return KT_RTP_EPADDING;
		out->padding_len = pad;
	}
	out->payload_offset = (guint16)off;
	out->payload_len = (guint16)(len - off - out->padding_len);
	return KT_RTP_OK;
}

void kt_rtp_set_payload_type(guint8 *buf, guint8 pt)
{
	buf[1] = (guint8)((buf[1] & 0x80) | (pt & 0x7F));
}

void kt_rtp_set_seq(guint8 *buf, guint16 seq)
{
	kt_rtp_write_be16(buf + 2, seq);
}

void kt_rtp_set_timestamp(guint8 *buf, guint32 ts)
{
	kt_rtp_write_be32(buf + 4, ts);
}

void kt_rtp_set_ssrc(guint8 *buf, guint32 ssrc)
{
	kt_rtp_write_be32(buf + 8, ssrc);
}

/* RFC 8285 §4.2: one-byte elements, 4-bit id and (length - 1). Id 0 is a
 * padding byte; id 15 ends the walk. */
static int find_one_byte(const guint8 *p, gsize len, guint8 id, const guint8 **data)
{
	gsize i = 0;
	while (i < len) {
		guint8 el_id = p[i] >> 4;
		if (el_id == 0) {
			i++;
			continue;
		}
		if (el_id == 15)
			return -1;
		gsize el_len = (gsize)(p[i] & 0x0F) + 1;
		if (i + 1 + el_len > len)
			return -1;
		if (el_id == id) {
			*data = p + i + 1;
			return (int)el_len;
		}
		i += 1 + el_len;
	}
	return -1;
}

/* RFC 8285 §4.3: two-byte elements, 8-bit id then 8-bit length. A zero
 * byte where an id would be is padding. */
static int find_two_byte(const guint8 *p, gsize len, guint8 id, const guint8 **data)
{
	gsize i = 0;
	while (i < len) {
		guint8 el_id = p[i];
		if (el_id == 0) {
			i++;
			continue;
		}
		if (i + 2 > len)
			return -1;
		gsize el_len = p[i + 1];
		if (i + 2 + el_len > len)
			return -1;
		if (el_id == id) {
			*data = p + i + 2;
			return (int)el_len;
		}
		i += 2 + el_len;
	}
	return -1;
}

int kt_rtp_find_extension(const guint8 *buf, const KtRtpHeader *h, guint8 id, const guint8 **data)
{
	if (!h->extension || id == 0)
		return -1;
	const guint8 *body = buf + h->ext_offset;
	if (h->ext_profile == KT_RTP_EXT_ONE_BYTE)
		return id < 15 ? find_one_byte(body, h->ext_len, id, data) : -1;
	if ((h->ext_profile & KT_RTP_EXT_TWO_BYTE_MASK) == KT_RTP_EXT_TWO_BYTE)
		return find_two_byte(body, h->ext_len, id, data);
	return -1;
}

/* Where the elements of a one-byte block of @area bytes end, walking it as
 * find_one_byte does: past the last element (a byte of id 0 is one byte of
 * padding, whatever its length bits), or at an id 15, which ends the walk: a receiver
 * ignores it and everything after it (RFC 8285 §4.2), so a new element goes
 * there, never behind it; -1 when an element overruns the block. */
static gssize one_byte_used(const guint8 *body, gsize area)
{
	gsize used = 0;

	for (gsize i = 0; i < area;) {
		if (body[i] >> 4 == 0) {
			i++;
			continue;
		}
		if (body[i] >> 4 == 15)
			return (gssize)i;
		i += 2 + (body[i] & 0x0F);
		if (i > area)
			return -1;
		used = i;
	}
	return (gssize)used;
}

int kt_rtp_add_extension(guint8 *buf, gsize len, gsize cap, guint8 id, const guint8 *data, guint n)
{
	gsize area = 0, grow, head = 0;
	gssize used = 0;

	if (len < KT_RTP_HEADER_LEN || (buf[0] & 0xCF) != 0x80 || id < 1 || id > 14 || n < 1 ||
	    n > 16)
		return KT_RTP_EVERSION;
	if (buf[0] & 0x10) {
		if (len < KT_RTP_HEADER_LEN + 4 ||
		    kt_rtp_read_be16(buf + 12) != KT_RTP_EXT_ONE_BYTE)
			return KT_RTP_EVERSION;
		area = (gsize)kt_rtp_read_be16(buf + 14) * 4;
		if (KT_RTP_HEADER_LEN + 4 + area > len)
			return KT_RTP_EVERSION;
		used = one_byte_used(buf + 16, area);
		if (used < 0)
			return KT_RTP_EVERSION;
	} else {
		head = 4; /* 0xBEDE and the length */
	}
	grow = (gsize)used + 1 + n > area ? ((gsize)used + 1 + n - area + 3) / 4 * 4 : 0;
	if (len + head + grow > cap)
		return KT_RTP_ENOSPACE;
	/* Everything after the block (payload, padding) moves on by what it gains. */
	memmove(buf + 16 + area + grow, buf + KT_RTP_HEADER_LEN + (head ? 0 : 4) + area,
	        len - KT_RTP_HEADER_LEN - (head ? 0 : 4) - area);
	memset(buf + 16 + area, 0, grow);
	buf[0] |= 0x10;
	buf[12] = 0xBE;
	buf[13] = 0xDE;
	kt_rtp_write_be16(buf + 14, (guint16)((area + grow) / 4));
	buf[16 + used] = (guint8)(id << 4 | (n - 1));
	memcpy(buf + 17 + used, data, n);
	/* Padding after it: zeroes already, unless it replaced an id 15 and what followed. */
	memset(buf + 17 + used + n, 0, area + grow - ((gsize)used + 1 + n));
	return (int)(len + head + grow);
}

int kt_rtp_write_header(guint8 *buf, gsize cap, guint8 pt, gboolean marker, guint16 seq, guint32 ts,
                        guint32 ssrc)
{
	if (buf == NULL || cap < KT_RTP_HEADER_LEN)
		return KT_RTP_ENOSPACE;
	buf[0] = KT_RTP_VERSION << 6;
	buf[1] = (guint8)((marker ? 0x80 : 0) | (pt & 0x7F));
	kt_rtp_set_seq(buf, seq);
	kt_rtp_set_timestamp(buf, ts);
	kt_rtp_set_ssrc(buf, ssrc);
	return KT_RTP_HEADER_LEN;
}

/* RFC 7741 §4.2: skips the VP8 payload descriptor; returns the offset of
 * the VP8 payload header or -1. */
static int vp8_descriptor_len(const guint8 *p, gsize len)
{
	if (!(p[0] & 0x80)) /* X: no extension byte */
		return 1;
	if (len < 2)
		return -1;
	guint8 ext = p[1];
	gsize off = 2;
	if (ext & 0x80) { /* I: PictureID, 15 bits when its M bit is set */
		if (off >= len)
			return -1;
		off += (p[off] & 0x80) ? 2 : 1;
	}
	if (ext & 0x40) /* L: TL0PICIDX */
		off++;
	if (ext & 0x30) /* T or K: TID/Y/KEYIDX byte */
		off++;
	return off <= len ? (int)off : -1;
}

gboolean kt_rtp_vp8_is_keyframe(const guint8 *payload, gsize len)
{
	if (payload == NULL || len < 1)
		return FALSE;
	/* Only the start of partition 0 carries the frame tag (§4.3). */
	gboolean start = (payload[0] & 0x10) != 0;
	guint8 pid = payload[0] & 0x07;
	if (!start || pid != 0)
		return FALSE;
	int off = vp8_descriptor_len(payload, len);
	if (off < 0 || (gsize)off >= len)
		return FALSE;
	/* RFC 6386 §9.1 frame tag: P (inverse key frame flag) is bit 0. */
	return (payload[off] & 0x01) == 0;
}

/* RFC 6386 §9.1-9.2: a keyframe's 3-byte frame tag is followed by the start
 * code 9d 01 2a and two little-endian 16-bit fields, 14 bits of size each. */
gboolean kt_rtp_vp8_keyframe_size(const guint8 *payload, gsize len, guint *width, guint *height)
{
	if (!kt_rtp_vp8_is_keyframe(payload, len))
		return FALSE;
	int off = vp8_descriptor_len(payload, len);
	if (off < 0 || (gsize)off + 10 > len)
		return FALSE;
	const guint8 *f = payload + off;
	if (f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a)
		return FALSE;
	*width = (f[6] | f[7] << 8) & 0x3fff;
	*height = (f[8] | f[9] << 8) & 0x3fff;
	return *width > 0 && *height > 0;
}

static gboolean h264_nal_is_key(guint8 nal_header)
{
	guint8 type = nal_header & 0x1F;
	return type == KT_H264_NAL_IDR || type == KT_H264_NAL_SPS;
}

/* RFC 6184 §5.7.1: STAP-A is the NAL header followed by (16-bit size, NAL
 * unit) pairs. A pair that overruns the payload ends the walk. */
static gboolean h264_stap_a_has_key(const guint8 *p, gsize len)
{
	gsize off = 1;
	while (off + 2 < len) {
		gsize size = kt_rtp_read_be16(p + off);
		off += 2;
		if (size == 0 || off + size > len)
			return FALSE;
		if (h264_nal_is_key(p[off]))
			return TRUE;
		off += size;
	}
	return FALSE;
}

gboolean kt_rtp_h264_is_keyframe(const guint8 *payload, gsize len)
{
	if (payload == NULL || len < 1)
		return FALSE;
	guint8 type = payload[0] & 0x1F;
	if (type >= 1 && type <= 23)
		return h264_nal_is_key(payload[0]);
	if (type == KT_H264_NAL_STAP_A)
		return h264_stap_a_has_key(payload, len);
	if (type == KT_H264_NAL_FU_A) {
		/* RFC 6184 §5.8: FU header S bit, then the fragmented NAL type. */
		if (len < 2)
			return FALSE;
		return (payload[1] & 0x80) && h264_nal_is_key(payload[1]);
	}
	return FALSE;
}
