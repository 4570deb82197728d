/* kt-rtcp.c — RTCP parsing and building. See kt-rtcp.h. */
#include "kt-rtcp.h"

#include <string.h>

#include "kt-rtp.h"

#define KT_RTCP_HEADER_LEN 4
#define KT_RTCP_SR_INFO_END 28 /* header + sender SSRC + 20-byte sender info */
#define KT_RTCP_RR_HEAD_END 8  /* header + sender SSRC */
#define KT_RTCP_BLOCK_LEN 24
#define KT_RTCP_FB_HEAD_END 12 /* header + sender SSRC + media SSRC */
#define KT_RTCP_NACK_FCI_LEN 4
#define KT_RTCP_FIR_FCI_LEN 8
#define KT_RTCP_REMB_HEAD_END 20 /* feedback head + "REMB" + num/exp/mantissa */
#define KT_RTCP_REMB_MANTISSA_MAX 0x3FFFF
#define KT_RTCP_SDES_CNAME 1
#define KT_RTCP_CNAME_MAX 255

void kt_rtcp_iter_init(KtRtcpIter *it, const guint8 *buf, gsize len)
{
	it->buf = buf;
	it->len = buf != NULL ? len : 0;
	it->off = 0;
}

/* Stops the walk so a caller looping until <= 0 cannot spin on bad input. */
static int iter_fail(KtRtcpIter *it, int status)
{
	it->off = it->len;
	return status;
}

int kt_rtcp_iter_next(KtRtcpIter *it, KtRtcpChunk *out)
{
	if (it->off >= it->len)
		return 0;
	const guint8 *p = it->buf + it->off;
	gsize left = it->len - it->off;
	if (left < KT_RTCP_HEADER_LEN)
		return iter_fail(it, KT_RTCP_ETRUNCATED);
	if ((p[0] >> 6) != 2)
		return iter_fail(it, KT_RTCP_EVERSION);
	/* RFC 3550 §6.4.1: length in 32-bit words minus one, header included. */
	gsize plen = ((gsize)kt_rtp_read_be16(p + 2) + 1) * 4;
	if (plen > left)
		return iter_fail(it, KT_RTCP_ELENGTH);

	gsize body_len = plen;
	if (p[0] & 0x20) {
		/* RFC 3550 §6.4.1: the last octet counts the padding octets. */
		guint8 pad = p[plen - 1];
		if (pad == 0 || pad > plen - KT_RTCP_HEADER_LEN)
			return iter_fail(it, KT_RTCP_ELENGTH);
		body_len -= pad;
	}
	out->data = p;
	out->len = body_len;
	out->type = p[1];
	out->count = p[0] & 0x1F;
	it->off += plen;
	return 1;
}

int kt_rtcp_parse_sr(const KtRtcpChunk *c, KtRtcpSenderInfo *out)
{
	if (c->type != KT_RTCP_SR)
		return KT_RTCP_ETYPE;
	if (c->len < KT_RTCP_SR_INFO_END)
		return KT_RTCP_ETRUNCATED;
	const guint8 *p = c->data;
	out->ssrc = kt_rtp_read_be32(p + 4);
	out->ntp_sec = kt_rtp_read_be32(p + 8);
	out->ntp_frac = kt_rtp_read_be32(p + 12);
	out->rtp_ts = kt_rtp_read_be32(p + 16);
	out->packet_count = kt_rtp_read_be32(p + 20);
	out->octet_count = kt_rtp_read_be32(p + 24);
	return 0;
}

guint32 kt_rtcp_get_sender_ssrc(const KtRtcpChunk *c)
{
	gboolean has_sender = c->type == KT_RTCP_SR || c->type == KT_RTCP_RR ||
	                      c->type == KT_RTCP_RTPFB || c->type == KT_RTCP_PSFB;
	if (!has_sender || c->len < 8)
		return 0;
	return kt_rtp_read_be32(c->data + 4);
}

/* RFC 3550 §6.4.1 report block, 24 bytes. */
static void read_report_block(const guint8 *p, KtRtcpReportBlock *out)
{
	out->ssrc = kt_rtp_read_be32(p);
	out->fraction_lost = p[4];
	guint32 lost = ((guint32)p[5] << 16) | ((guint32)p[6] << 8) | p[7];
	/* Sign-extend the 24-bit two's complement field. */
	out->cumulative_lost = (lost & 0x800000) ? (gint32)lost - 0x1000000 : (gint32)lost;
	out->highest_seq = kt_rtp_read_be32(p + 8);
	out->jitter = kt_rtp_read_be32(p + 12);
	out->lsr = kt_rtp_read_be32(p + 16);
	out->dlsr = kt_rtp_read_be32(p + 20);
}

static void write_report_block(guint8 *p, const KtRtcpReportBlock *b)
{
	gint32 lost = CLAMP(b->cumulative_lost, -0x800000, 0x7FFFFF);
	guint32 wire = (guint32)lost & 0xFFFFFF;
	kt_rtp_write_be32(p, b->ssrc);
	p[4] = b->fraction_lost;
	p[5] = (guint8)(wire >> 16);
	p[6] = (guint8)(wire >> 8);
	p[7] = (guint8)wire;
	kt_rtp_write_be32(p + 8, b->highest_seq);
	kt_rtp_write_be32(p + 12, b->jitter);
	kt_rtp_write_be32(p + 16, b->lsr);
	kt_rtp_write_be32(p + 20, b->dlsr);
}

int kt_rtcp_get_report_block(const KtRtcpChunk *c, guint index, KtRtcpReportBlock *out)
{
	gsize start;
	if (c->type == KT_RTCP_SR)
		start = KT_RTCP_SR_INFO_END;
	else if (c->type == KT_RTCP_RR)
		start = KT_RTCP_RR_HEAD_END;
	else
		return KT_RTCP_ETYPE;
	if (index >= c->count)
		return KT_RTCP_ERANGE;
	gsize off = start + (gsize)index * KT_RTCP_BLOCK_LEN;
	if (off + KT_RTCP_BLOCK_LEN > c->len)
		return KT_RTCP_ETRUNCATED;
	read_report_block(c->data + off, out);
	return 0;
}

/* Checks a feedback chunk's type and FMT; returns its FCI length or a
 * negative status. */
static int fb_fci_len(const KtRtcpChunk *c, guint8 type, guint8 fmt)
{
	if (c->type != type || c->count != fmt)
		return KT_RTCP_ETYPE;
	if (c->len < KT_RTCP_FB_HEAD_END)
		return KT_RTCP_ETRUNCATED;
	return (int)(c->len - KT_RTCP_FB_HEAD_END);
}

guint32 kt_rtcp_fb_get_media_ssrc(const KtRtcpChunk *c)
{
	if ((c->type != KT_RTCP_RTPFB && c->type != KT_RTCP_PSFB) || c->len < KT_RTCP_FB_HEAD_END)
		return 0;
	return kt_rtp_read_be32(c->data + 8);
}

int kt_rtcp_nack_count(const KtRtcpChunk *c)
{
	int fci = fb_fci_len(c, KT_RTCP_RTPFB, KT_RTCP_FB_NACK);
	return fci < 0 ? fci : fci / KT_RTCP_NACK_FCI_LEN;
}

int kt_rtcp_nack_get(const KtRtcpChunk *c, guint index, guint16 *pid, guint16 *blp)
{
	int n = kt_rtcp_nack_count(c);
	if (n < 0)
		return n;
	if (index >= (guint)n)
		return KT_RTCP_ERANGE;
	const guint8 *p = c->data + KT_RTCP_FB_HEAD_END + (gsize)index * KT_RTCP_NACK_FCI_LEN;
	*pid = kt_rtp_read_be16(p);
	*blp = kt_rtp_read_be16(p + 2);
	return 0;
}

int kt_rtcp_fir_count(const KtRtcpChunk *c)
{
	int fci = fb_fci_len(c, KT_RTCP_PSFB, KT_RTCP_FB_FIR);
	return fci < 0 ? fci : fci / KT_RTCP_FIR_FCI_LEN;
}

int kt_rtcp_fir_get(const KtRtcpChunk *c, guint index, guint32 *ssrc, guint8 *seqnr)
{
	int n = kt_rtcp_fir_count(c);
	if (n < 0)
		return n;
	if (index >= (guint)n)
		return KT_RTCP_ERANGE;
	/* RFC 5104 §4.3.1.1: SSRC, seq nr, 24 reserved bits. */
	const guint8 *p = c->data + KT_RTCP_FB_HEAD_END + (gsize)index * KT_RTCP_FIR_FCI_LEN;
	*ssrc = kt_rtp_read_be32(p);
	*seqnr = p[4];
	return 0;
}

/* draft-alvestrand-rmcat-remb §2.2: "REMB", Num SSRC (8 bits), BR Exp (6),
 * BR Mantissa (18), then the SSRC list. */
int kt_rtcp_remb_parse(const KtRtcpChunk *c, guint64 *bitrate_bps)
{
	int fci = fb_fci_len(c, KT_RTCP_PSFB, KT_RTCP_FB_AFB);
	if (fci < 0)
		return fci;
	if (fci < 8 || memcmp(c->data + KT_RTCP_FB_HEAD_END, "REMB", 4) != 0)
		return KT_RTCP_ETYPE;
	const guint8 *p = c->data + KT_RTCP_FB_HEAD_END + 4;
	guint n_ssrc = p[0];
	if ((gsize)fci < 8 + (gsize)n_ssrc * 4)
		return KT_RTCP_ETRUNCATED;
	guint exp = p[1] >> 2;
	guint64 mantissa = ((guint64)(p[1] & 0x03) << 16) | ((guint64)p[2] << 8) | p[3];
	/* An 18-bit mantissa shifted by more than 46 may not fit in 64 bits. */
	if (mantissa != 0 && exp > 46 && (mantissa >> (64 - exp)) != 0)
		*bitrate_bps = G_MAXUINT64;
	else
		*bitrate_bps = mantissa << exp;
	return (int)n_ssrc;
}

int kt_rtcp_remb_get_ssrc(const KtRtcpChunk *c, guint index, guint32 *ssrc)
{
	guint64 bitrate;
	int n = kt_rtcp_remb_parse(c, &bitrate);
	if (n < 0)
		return n;
	if (index >= (guint)n)
		return KT_RTCP_ERANGE;
	*ssrc = kt_rtp_read_be32(c->data + KT_RTCP_REMB_HEAD_END + (gsize)index * 4);
	return 0;
}

/* Writes the common header; len is the whole packet, a multiple of 4. */
static void write_header(guint8 *buf, guint8 count, guint8 type, gsize len)
{
	buf[0] = (guint8)(0x80 | (count & 0x1F));
	buf[1] = type;
	kt_rtp_write_be16(buf + 2, (guint16)(len / 4 - 1));
}

int kt_rtcp_build_sr(guint8 *buf, gsize cap, const KtRtcpSenderInfo *si,
                     const KtRtcpReportBlock *blocks, guint n)
{
	if (n > KT_RTCP_MAX_REPORT_BLOCKS)
		return KT_RTCP_EINVAL;
	gsize len = KT_RTCP_SR_INFO_END + (gsize)n * KT_RTCP_BLOCK_LEN;
	if (buf == NULL || cap < len)
		return KT_RTCP_ENOSPACE;
	write_header(buf, (guint8)n, KT_RTCP_SR, len);
	kt_rtp_write_be32(buf + 4, si->ssrc);
	kt_rtp_write_be32(buf + 8, si->ntp_sec);
	kt_rtp_write_be32(buf + 12, si->ntp_frac);
	kt_rtp_write_be32(buf + 16, si->rtp_ts);
	kt_rtp_write_be32(buf + 20, si->packet_count);
	kt_rtp_write_be32(buf + 24, si->octet_count);
	for (guint i = 0; i < n; i++)
		write_report_block(buf + KT_RTCP_SR_INFO_END + i * KT_RTCP_BLOCK_LEN, &blocks[i]);
	return (int)len;
}

int kt_rtcp_build_rr(guint8 *buf, gsize cap, guint32 sender_ssrc, const KtRtcpReportBlock *blocks,
                     guint n)
{
	if (n > KT_RTCP_MAX_REPORT_BLOCKS)
		return KT_RTCP_EINVAL;
	gsize len = KT_RTCP_RR_HEAD_END + (gsize)n * KT_RTCP_BLOCK_LEN;
	if (buf == NULL || cap < len)
		return KT_RTCP_ENOSPACE;
	write_header(buf, (guint8)n, KT_RTCP_RR, len);
	kt_rtp_write_be32(buf + 4, sender_ssrc);
	for (guint i = 0; i < n; i++)
		write_report_block(buf + KT_RTCP_RR_HEAD_END + i * KT_RTCP_BLOCK_LEN, &blocks[i]);
	return (int)len;
}

int kt_rtcp_build_sdes_cname(guint8 *buf, gsize cap, guint32 ssrc, const char *cname)
{
	if (cname == NULL)
		return KT_RTCP_EINVAL;
	gsize name_len = strlen(cname);
	if (name_len > KT_RTCP_CNAME_MAX)
		return KT_RTCP_EINVAL;
	/* RFC 3550 §6.5: the item list ends with at least one null octet and
	 * the chunk is padded with nulls to a 32-bit boundary. */
	gsize items = 2 + name_len;
	gsize items_padded = (items + 4) & ~(gsize)3;
	gsize len = KT_RTCP_HEADER_LEN + 4 + items_padded;
	if (buf == NULL || cap < len)
		return KT_RTCP_ENOSPACE;
	write_header(buf, 1, KT_RTCP_SDES, len);
	kt_rtp_write_be32(buf + 4, ssrc);
	buf[8] = KT_RTCP_SDES_CNAME;
	buf[9] = (guint8)name_len;
	memcpy(buf + 10, cname, name_len);
	memset(buf + 10 + name_len, 0, items_padded - items);
	return (int)len;
}

/* Writes a feedback header (RFC 4585 §6.1) for a packet of `len` bytes. */
static void write_fb_header(guint8 *buf, guint8 type, guint8 fmt, gsize len, guint32 sender_ssrc,
                            guint32 media_ssrc)
{
	write_header(buf, fmt, type, len);
	kt_rtp_write_be32(buf + 4, sender_ssrc);
	kt_rtp_write_be32(buf + 8, media_ssrc);
}

int kt_rtcp_build_pli(guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc)
{
	if (buf == NULL || cap < KT_RTCP_FB_HEAD_END)
		return KT_RTCP_ENOSPACE;
	write_fb_header(buf, KT_RTCP_PSFB, KT_RTCP_FB_PLI, KT_RTCP_FB_HEAD_END, sender_ssrc,
	                media_ssrc);
	return KT_RTCP_FB_HEAD_END;
}

int kt_rtcp_build_fir(guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc, guint8 seqnr)
{
	gsize len = KT_RTCP_FB_HEAD_END + KT_RTCP_FIR_FCI_LEN;
	if (buf == NULL || cap < len)
		return KT_RTCP_ENOSPACE;
	/* RFC 5104 §4.3.1.2: the header's media SSRC is unused and set to 0;
	 * the target SSRC travels in the FCI. */
	write_fb_header(buf, KT_RTCP_PSFB, KT_RTCP_FB_FIR, len, sender_ssrc, 0);
	guint8 *fci = buf + KT_RTCP_FB_HEAD_END;
	kt_rtp_write_be32(fci, media_ssrc);
	fci[4] = seqnr;
	fci[5] = fci[6] = fci[7] = 0;
	return (int)len;
}

int kt_rtcp_build_nack(guint8 *buf, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                       const guint16 *seqs, guint n)
{
	if (seqs == NULL || n == 0)
		return KT_RTCP_EINVAL;
	if (buf == NULL)
		return KT_RTCP_ENOSPACE;
	gsize len = KT_RTCP_FB_HEAD_END;
	guint i = 0;
	while (i < n) {
		/* RFC 4585 §6.2.1: PID, then bit k of BLP flags PID + k + 1. */
		guint16 pid = seqs[i++];
		guint16 blp = 0;
		while (i < n) {
			guint16 diff = (guint16)(seqs[i] - pid);
			if (diff > 16)
				break;
			if (diff > 0)
				blp |= (guint16)(1u << (diff - 1));
			i++;
		}
		if (len + KT_RTCP_NACK_FCI_LEN > cap || len + KT_RTCP_NACK_FCI_LEN > 4 * 65536)
			return KT_RTCP_ENOSPACE;
		kt_rtp_write_be16(buf + len, pid);
		kt_rtp_write_be16(buf + len + 2, blp);
		len += KT_RTCP_NACK_FCI_LEN;
	}
	write_fb_header(buf, KT_RTCP_RTPFB, KT_RTCP_FB_NACK, len, sender_ssrc, media_ssrc);
	return (int)len;
}

int kt_rtcp_build_remb(guint8 *buf, gsize cap, guint32 sender_ssrc, guint64 bitrate_bps,
                       const guint32 *ssrcs, guint n)
{
	if (n > 255 || (n > 0 && ssrcs == NULL))
		return KT_RTCP_EINVAL;
	gsize len = KT_RTCP_REMB_HEAD_END + (gsize)n * 4;
	if (buf == NULL || cap < len)
		return KT_RTCP_ENOSPACE;
	guint exp = 0;
	guint64 mantissa = bitrate_bps;
	while (mantissa > KT_RTCP_REMB_MANTISSA_MAX) {
		mantissa >>= 1;
		exp++;
	}
	/* draft-alvestrand-rmcat-remb §2.2: media SSRC in the header is 0. */
	write_fb_header(buf, KT_RTCP_PSFB, KT_RTCP_FB_AFB, len, sender_ssrc, 0);
	guint8 *fci = buf + KT_RTCP_FB_HEAD_END;
	memcpy(fci, "REMB", 4);
	fci[4] = (guint8)n;
	fci[5] = (guint8)((exp << 2) | (guint)(mantissa >> 16));
	fci[6] = (guint8)(mantissa >> 8);
	fci[7] = (guint8)mantissa;
	for (guint i = 0; i < n; i++)
		kt_rtp_write_be32(fci + 8 + i * 4, ssrcs[i]);
	return (int)len;
}
