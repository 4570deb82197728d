/* kt-red.c — RFC 2198 redundant audio around Opus. See kt-red.h. */
#include "kt-red.h"

#include <string.h>

#define KT_RED_HEADER_LEN 4 /* F, block PT, timestamp offset, block length */
#define KT_RED_LAST_HEADER_LEN 1
#define KT_RED_F_BIT 0x80

#define KT_RED_RTP_P_BIT 0x20
#define KT_RED_RTP_X_BIT 0x10

/* RFC 6716 §3.2.5 (R5): an Opus packet holds at most 120 ms of audio; the
 * RTP clock of Opus is always 48 kHz (RFC 7587 §4.1). */
#define KT_OPUS_MAX_SAMPLES 5760

int kt_red_parse(const guint8 *payload, gsize len, KtRedBlock *blocks, guint max)
{
	gsize off = 0, redundant_len = 0;
	guint n = 0;

	if (payload == NULL || blocks == NULL || len > G_MAXUINT16)
		return KT_RED_EINVAL;
	max = MIN(max, KT_RED_MAX_BLOCKS);
	/* RFC 2198 §3: 4-byte headers with F=1, then one 1-byte header (F=0)
	 * for the primary, then the blocks' data in the same order. */
	for (;;) {
		if (off >= len)
			return KT_RED_ENOPRIMARY;
		if (n >= max)
			return KT_RED_ETOOMANY;
		if (!(payload[off] & KT_RED_F_BIT))
			break;
		if (off + KT_RED_HEADER_LEN > len)
			return KT_RED_ETRUNCATED;
		guint32 w = kt_rtp_read_be32(payload + off);
		blocks[n] = (KtRedBlock){
		    .pt = (w >> 24) & 0x7F,
		    .timestamp_offset = (w >> 10) & KT_RED_MAX_TS_OFFSET,
		    .length = w & KT_RED_MAX_BLOCK_LEN,
		};
		redundant_len += blocks[n].length;
		off += KT_RED_HEADER_LEN;
		n++;
	}
	blocks[n] = (KtRedBlock){.pt = payload[off] & 0x7F, .primary = TRUE};
	off += KT_RED_LAST_HEADER_LEN;
	if (off + redundant_len > len)
		return KT_RED_ELENGTH;
	if (off + redundant_len == len)
		return KT_RED_EEMPTY;
	for (guint i = 0; i < n; i++) {
		blocks[i].offset = (guint16)off;
		off += blocks[i].length;
	}
	blocks[n].offset = (guint16)off;
	blocks[n].length = (guint16)(len - off);
	return (int)n + 1;
}

/* Whether h describes the whole of pkt[0..len), as kt_rtp_parse() left it. */
static gboolean header_matches(const guint8 *pkt, gsize len, const KtRtpHeader *h)
{
	return pkt != NULL && h != NULL &&
	       (gsize)h->payload_offset + h->payload_len + h->padding_len == len;
}

int kt_red_to_primary(guint8 *pkt, gsize len, const KtRtpHeader *h, guint8 primary_pt)
{
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];

	if (!header_matches(pkt, len, h))
		return KT_RED_EINVAL;
	guint8 *payload = pkt + h->payload_offset;
	int n = kt_red_parse(payload, h->payload_len, blocks, G_N_ELEMENTS(blocks));
	if (n < 0)
		return n;
	const KtRedBlock *primary = &blocks[n - 1];
	if (primary->pt != primary_pt)
		return KT_RED_EPT;
	memmove(payload, payload + primary->offset, primary->length);
	pkt[0] &= (guint8)~KT_RED_RTP_P_BIT;
	kt_rtp_set_payload_type(pkt, primary_pt);
	return h->payload_offset + primary->length;
}

/* RFC 6716 §3.1: samples at 48 kHz in one frame of the TOC's config. */
static guint opus_frame_samples(guint8 toc)
{
	static const guint silk[] = {480, 960, 1920, 2880}; /* 10, 20, 40, 60 ms */
	guint config = toc >> 3;

	if (config < 12)
		return silk[config & 3];
	if (config < 16) /* Hybrid: 10, 20 ms */
		return (config & 1) ? 960 : 480;
	return 120u << (config & 3); /* CELT: 2.5, 5, 10, 20 ms */
}

/* Duration of the Opus packet p[0..len) (len >= 1) in 48 kHz samples, from
 * its TOC byte and, for code 3, its frame count byte (RFC 6716 §3.2);
 * 0 when it is not a valid length. */
static guint opus_packet_samples(const guint8 *p, gsize len)
{
	guint code = p[0] & 0x03;
	guint frames = code == 0 ? 1 : 2;

	if (code == 3) {
		if (len < 2)
			return 0;
		frames = p[1] & 0x3F;
	}
	guint samples = frames * opus_frame_samples(p[0]);
	return samples <= KT_OPUS_MAX_SAMPLES ? samples : 0;
}

/* Checks that the redundant blocks 1..distance before the primary (blocks
 * [n-1-distance .. n-2]) are Opus frames that follow each other with no gap:
 * block j's offset is the summed durations of blocks 1..j. */
static int check_redundant_run(const guint8 *payload, const KtRedBlock *blocks, int n,
                               guint distance, guint8 primary_pt)
{
	guint32 elapsed = 0;

	for (guint j = 1; j <= distance; j++) {
		const KtRedBlock *b = &blocks[n - 1 - (int)j];

		if (b->pt != primary_pt)
			return KT_RED_EPT;
		if (b->length == 0)
			return KT_RED_EEMPTY;
		guint samples = opus_packet_samples(payload + b->offset, b->length);
		elapsed += samples;
		if (samples == 0 || b->timestamp_offset != elapsed)
			return KT_RED_EOFFSET;
	}
	return KT_RED_OK;
}

int kt_red_recover(const guint8 *pkt, gsize len, const KtRtpHeader *h, guint16 missing_seq,
                   guint8 primary_pt, guint8 *out, gsize cap)
{
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];

	if (!header_matches(pkt, len, h) || out == NULL)
		return KT_RED_EINVAL;
	const guint8 *payload = pkt + h->payload_offset;
	int n = kt_red_parse(payload, h->payload_len, blocks, G_N_ELEMENTS(blocks));
	if (n < 0)
		return n;
	guint16 distance = (guint16)(h->seq - missing_seq);
	if (distance == 0 || distance > n - 1)
		return KT_RED_ENOTFOUND;
	int status = check_redundant_run(payload, blocks, n, distance, primary_pt);
	if (status < 0)
		return status;

	const KtRedBlock *b = &blocks[n - 1 - distance];
	gsize header_len = KT_RTP_HEADER_LEN + (gsize)h->csrc_count * 4;
	if (header_len + b->length > cap)
		return KT_RED_ENOSPACE;
	memcpy(out, pkt, header_len);
	out[0] &= (guint8) ~(KT_RED_RTP_P_BIT | KT_RED_RTP_X_BIT);
	out[1] = primary_pt & 0x7F; /* marker clear */
	kt_rtp_set_seq(out, missing_seq);
	kt_rtp_set_timestamp(out, h->timestamp - b->timestamp_offset);
	memcpy(out + header_len, payload + b->offset, b->length);
	return (int)(header_len + b->length);
}

int kt_red_map_pt(guint8 *payload, gsize len, guint8 from, guint8 to)
{
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	int n;

	if (to > 0x7F)
		return KT_RED_EINVAL;
	n = kt_red_parse(payload, len, blocks, G_N_ELEMENTS(blocks));
	if (n < 0)
		return n;
	/* RFC 2198 §3: the headers come first, 4 bytes each, then the 1-byte
	 * header of the primary; the payload type sits in the low 7 bits of
	 * each header's first byte, beside the F bit. */
	for (int i = 0; i < n; i++) {
		guint8 *header = payload + (gsize)i * KT_RED_HEADER_LEN;

		if (blocks[i].pt == from)
			*header = (guint8)((*header & KT_RED_F_BIT) | to);
	}
	return n;
}

/* Whether prev can follow a block of offset `newer_offset` into a payload
 * that already needs `need` bytes of cap. */
static gboolean frame_fits(const KtRedFrame *prev, guint32 newer_offset, gsize need, gsize cap)
{
	return prev->data != NULL && prev->len > 0 && prev->len <= KT_RED_MAX_BLOCK_LEN &&
	       prev->timestamp_offset > newer_offset &&
	       prev->timestamp_offset <= KT_RED_MAX_TS_OFFSET &&
	       need + KT_RED_HEADER_LEN + prev->len <= cap;
}

int kt_red_build(guint8 pt, const guint8 *primary, gsize primary_len, const KtRedFrame *prev,
                 guint n_prev, guint8 *out, gsize cap)
{
	gsize need = KT_RED_LAST_HEADER_LEN + primary_len;
	guint32 newer_offset = 0;
	guint k = 0;

	if (pt > 0x7F || primary == NULL || primary_len == 0 || primary_len > G_MAXUINT16 ||
	    out == NULL || (n_prev > 0 && prev == NULL))
		return KT_RED_EINVAL;
	if (need > cap)
		return KT_RED_ENOSPACE;
	/* Newest first; the first frame that cannot go ends the run, so block
	 * d before the primary is always the frame d packets back. */
	while (k < n_prev && k < KT_RED_MAX_BLOCKS - 1 &&
	       frame_fits(&prev[k], newer_offset, need, cap)) {
		need += KT_RED_HEADER_LEN + prev[k].len;
		newer_offset = prev[k].timestamp_offset;
		k++;
	}

	/* RFC 2198 §3: headers then data, both oldest first, primary last. */
	gsize head = 0, data = (gsize)k * KT_RED_HEADER_LEN + KT_RED_LAST_HEADER_LEN;
	for (guint i = k; i-- > 0;) {
		const KtRedFrame *f = &prev[i];

		kt_rtp_write_be32(out + head, (guint32)(KT_RED_F_BIT | pt) << 24 |
		                                  f->timestamp_offset << 10 | (guint32)f->len);
		memcpy(out + data, f->data, f->len);
		head += KT_RED_HEADER_LEN;
		data += f->len;
	}
	out[head] = pt;
	memcpy(out + data, primary, primary_len);
	return (int)(data + primary_len);
}

void kt_red_history_init(KtRedHistory *hist)
{
	memset(hist, 0, sizeof(*hist));
}

void kt_red_history_push(KtRedHistory *hist, guint16 seq, guint32 ts, const guint8 *frame,
                         gsize len)
{
	if (hist->n > 0 && (gint16)(guint16)(seq - hist->seq[hist->head]) <= 0)
		return;
	guint slot = hist->n > 0 ? (hist->head + 1) % KT_RED_HISTORY_LEN : 0;
	gboolean usable = frame != NULL && len > 0 && len <= KT_RED_MAX_BLOCK_LEN;

	hist->len[slot] = usable ? (guint16)len : 0;
	if (usable)
		memcpy(hist->data[slot], frame, len);
	hist->seq[slot] = seq;
	hist->ts[slot] = ts;
	hist->head = slot;
	hist->n = MIN(hist->n + 1, KT_RED_HISTORY_LEN);
}

int kt_red_history_build(const KtRedHistory *hist, guint16 seq, guint32 ts, guint8 pt,
                         const guint8 *primary, gsize len, guint max_redundant, guint8 *out,
                         gsize cap)
{
	KtRedFrame prev[KT_RED_HISTORY_LEN];
	guint k = 0;

	while (k < hist->n && k < max_redundant) {
		guint slot = (hist->head + KT_RED_HISTORY_LEN - k) % KT_RED_HISTORY_LEN;

		if (hist->seq[slot] != (guint16)(seq - 1 - k))
			break; /* lost on the way in, or not yet pushed */
		prev[k] = (KtRedFrame){
		    .data = hist->data[slot],
		    .len = hist->len[slot],
		    .timestamp_offset = ts - hist->ts[slot],
		};
		k++;
	}
	return kt_red_build(pt, primary, len, prev, k, out, cap);
}
