/* Transport-wide congestion control feedback: see kt-twcc.h. Wire format:
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1. */
#include "kt-twcc.h"

/* Status symbols (§3.1.1). */
enum { SYM_LOST = 0, SYM_SMALL = 1, SYM_LARGE = 2, SYM_RESERVED = 3 };

#define TICK_US 250         /* recv delta unit */
#define REF_US 64000        /* reference time unit */
#define HEADER_LEN 20       /* common header, two SSRCs, base, count, reference, fb count */
#define MAX_RUN 0x1FFF      /* run-length chunk */
#define START_EXT (1 << 20) /* first extended sequence number: never negative when unwrapping */

struct _KtTwccReceiver {
	/* Arrival of extended sequence number e in slot e % KT_TWCC_WINDOW, valid
	 * when slot_ext says it is e's. */
	gint64 arrival_us[KT_TWCC_WINDOW];
	gint64 slot_ext[KT_TWCC_WINDOW];
	gint64 next; /* first extended sequence number not yet reported; -1 = none seen */
	gint64 max;  /* highest seen */
	guint8 fb_count;
	/* build() scratch: the symbols and deltas of one report. */
	guint8 syms[KT_TWCC_WINDOW];
	gint32 deltas[KT_TWCC_WINDOW];
};

KtTwccReceiver *kt_twcc_receiver_new(void)
{
	KtTwccReceiver *r = g_new0(KtTwccReceiver, 1);

	r->next = -1;
	for (guint i = 0; i < KT_TWCC_WINDOW; i++)
		r->slot_ext[i] = -1;
	return r;
}

void kt_twcc_receiver_free(KtTwccReceiver *r)
{
	g_free(r);
}

void kt_twcc_receiver_record(KtTwccReceiver *r, guint16 seq, gint64 arrival_us)
{
	gint64 ext;
	guint slot;

	if (r->next < 0) {
		ext = START_EXT + seq;
		r->next = r->max = ext;
	} else {
		ext = r->max + (gint16)(guint16)(seq - (guint16)r->max);
	}
	if (ext < r->next)
		return; /* already reported (as lost): too late */
	if (ext > r->max) {
		r->max = ext;
		if (r->max - r->next >= KT_TWCC_WINDOW)
			r->next = r->max - KT_TWCC_WINDOW + 1; /* older ones: lost */
	}
	slot = (guint)(ext % KT_TWCC_WINDOW);
	if (r->slot_ext[slot] == ext)
		return; /* duplicate */
	r->slot_ext[slot] = ext;
	r->arrival_us[slot] = arrival_us;
}

static gboolean arrived(const KtTwccReceiver *r, gint64 ext, gint64 *arrival_us)
{
	guint slot = (guint)(ext % KT_TWCC_WINDOW);

	if (r->slot_ext[slot] != ext)
		return FALSE;
	*arrival_us = r->arrival_us[slot];
	return TRUE;
}

static void put16(guint8 *p, guint v)
{
	p[0] = (guint8)(v >> 8);
	p[1] = (guint8)v;
}

static void put32(guint8 *p, guint32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xFFFF);
}

/* Packs syms[0..n) into chunks at @out; returns the bytes written. Long runs
 * become run-length chunks, the rest status vectors: 14 one-bit symbols when
 * none is a large delta, else 7 two-bit ones. */
static gsize write_chunks(const guint8 *syms, guint n, guint8 *out)
{
	gsize w = 0;

	for (guint i = 0; i < n;) {
		guint run = 1, take;
		guint16 chunk;
		gboolean one_bit = TRUE;

		while (i + run < n && run < MAX_RUN && syms[i + run] == syms[i])
			run++;
		if (run >= 7) {
			put16(out + w, (guint)(syms[i] << 13) | run);
			w += 2;
			i += run;
			continue;
		}
		for (guint k = i; k < MIN(n, i + 14); k++)
			one_bit = one_bit && syms[k] != SYM_LARGE;
		if (one_bit) {
			take = MIN(14u, n - i);
			chunk = 0x8000;
			for (guint k = 0; k < take; k++)
				chunk |= (guint16)(syms[i + k] << (13 - k));
		} else {
			take = MIN(7u, n - i);
			chunk = 0xC000;
			for (guint k = 0; k < take; k++)
				chunk |= (guint16)(syms[i + k] << (12 - 2 * k));
		}
		put16(out + w, chunk);
		w += 2;
		i += take;
	}
	return w;
}

int kt_twcc_receiver_build(KtTwccReceiver *r, guint8 *buf, gsize cap, guint32 sender_ssrc,
                           guint32 media_ssrc)
{
	gint64 first_arrival = 0, ref, prev_ticks;
	gsize delta_bytes = 0, len, w;
	guint n = 0, total, pad;
	gint64 e;

	if (r->next < 0 || r->next > r->max)
		return 0;
	if (cap < HEADER_LEN + 4)
		return KT_RTCP_ENOSPACE;
	/* The newest packet always arrived, so there is a first received one. */
	for (e = r->next; !arrived(r, e, &first_arrival); e++)
		;
	ref = first_arrival / REF_US;
	prev_ticks = ref * (REF_US / TICK_US);
	total = (guint)(r->max - r->next + 1);
	for (; n < total; n++) {
		gint64 at, ticks, d;
		guint8 sym = SYM_LOST;
		gsize need;

		if (arrived(r, r->next + n, &at)) {
			ticks = at / TICK_US;
			d = ticks - prev_ticks;
			if (d >= 0 && d <= 255)
				sym = SYM_SMALL;
			else if (d >= G_MININT16 && d <= G_MAXINT16)
				sym = SYM_LARGE;
			else if (n > 0)
				break; /* too far apart: the next report starts here */
			else {
				/* The first one is measured from the reference time, at most
				 * 64 ms before it: only a clock jump lands here. */
				sym = SYM_LARGE;
				d = CLAMP(d, G_MININT16, G_MAXINT16);
			}
			r->deltas[n] = (gint32)d;
			prev_ticks = ticks;
		}
		/* Worst case so far: every chunk covers at least 7 symbols (see
		 * write_chunks); then the deltas and up to 3 bytes of padding. */
		need = HEADER_LEN + 2 * ((n + 1 + 6) / 7) + delta_bytes +
		       (sym == SYM_SMALL ? 1
		        : sym            ? 2
		                         : 0) +
		       3;
		if (need > cap && n > 0)
			break;
		r->syms[n] = sym;
		delta_bytes += sym == SYM_SMALL ? 1 : sym == SYM_LARGE ? 2 : 0;
	}
	if (n == 0)
		return KT_RTCP_ENOSPACE;

	w = HEADER_LEN;
	w += write_chunks(r->syms, n, buf + w);
	for (guint i = 0; i < n; i++) {
		if (r->syms[i] == SYM_SMALL) {
			buf[w++] = (guint8)r->deltas[i];
		} else if (r->syms[i] == SYM_LARGE) {
			put16(buf + w, (guint16)(gint16)r->deltas[i]);
			w += 2;
		}
	}
	/* Pad to 32 bits; the last padding byte says how many (RFC 3550 §6.4.1,
	 * P bit), as libwebrtc writes and reads it. */
	pad = (4 - w % 4) % 4;
	for (guint i = 0; i < pad; i++)
		buf[w++] = i + 1 == pad ? (guint8)pad : 0;
	len = w;
	buf[0] = 0x80 | (pad ? 0x20 : 0) | KT_RTCP_FB_TWCC;
	buf[1] = KT_RTCP_RTPFB;
	put16(buf + 2, (guint)(len / 4 - 1));
	put32(buf + 4, sender_ssrc);
	put32(buf + 8, media_ssrc);
	put16(buf + 12, (guint)(r->next & 0xFFFF));
	put16(buf + 14, n);
	buf[16] = (guint8)(ref >> 16);
	buf[17] = (guint8)(ref >> 8);
	buf[18] = (guint8)ref;
	buf[19] = r->fb_count++;
	r->next += n;
	return (int)len;
}

/* ---- parsing ---- */

/* Walks the status symbols of the packet chunks. */
typedef struct {
	const guint8 *p;
	gsize off, end;
	guint16 chunk;
	guint left; /* symbols left in the current chunk */
	guint pos;  /* symbols taken from it */
} ChunkReader;

/* The next symbol, or -1 when the chunks end before it. */
static int next_symbol(ChunkReader *cr)
{
	int sym;

	while (cr->left == 0) { /* an empty run is skipped */
		if (cr->off + 2 > cr->end)
			return -1;
		cr->chunk = (guint16)((cr->p[cr->off] << 8) | cr->p[cr->off + 1]);
		cr->off += 2;
		cr->pos = 0;
		if (!(cr->chunk & 0x8000))
			cr->left = cr->chunk & MAX_RUN;
		else
			cr->left = cr->chunk & 0x4000 ? 7 : 14;
	}
	if (!(cr->chunk & 0x8000))
		sym = (cr->chunk >> 13) & 3;
	else if (cr->chunk & 0x4000)
		sym = (cr->chunk >> (12 - 2 * cr->pos)) & 3;
	else
		sym = (cr->chunk >> (13 - cr->pos)) & 1;
	cr->pos++;
	cr->left--;
	return sym;
}

int kt_twcc_parse(const KtRtcpChunk *c, KtTwccFeedback *fb, KtTwccStatus *statuses, guint max)
{
	const guint8 *p = c->data;
	gsize len = c->len, deltas;
	ChunkReader cr;
	gint64 at = 0;
	guint32 ref;

	if (c->type != KT_RTCP_RTPFB || c->count != KT_RTCP_FB_TWCC)
		return KT_RTCP_ETYPE;
	if (len < HEADER_LEN)
		return KT_RTCP_ETRUNCATED;
	fb->sender_ssrc = (guint32)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
	fb->media_ssrc = (guint32)p[8] << 24 | p[9] << 16 | p[10] << 8 | p[11];
	fb->base_seq = (guint16)(p[12] << 8 | p[13]);
	fb->count = (guint16)(p[14] << 8 | p[15]);
	ref = (guint32)p[16] << 16 | p[17] << 8 | p[18];
	fb->reference_time_us = (gint64)((gint32)(ref << 8) >> 8) * REF_US; /* 24-bit signed */
	fb->fb_count = p[19];

	/* First pass: the chunks must cover every status; the deltas follow them. */
	cr = (ChunkReader){.p = p, .off = HEADER_LEN, .end = len};
	for (guint i = 0; i < fb->count; i++) {
		int sym = next_symbol(&cr);

		if (sym < 0)
			return KT_RTCP_ETRUNCATED;
		if (sym == SYM_RESERVED)
			return KT_RTCP_ELENGTH;
	}
	deltas = cr.off;
	/* Second pass: the deltas, in order, for every received packet. */
	cr = (ChunkReader){.p = p, .off = HEADER_LEN, .end = deltas};
	for (guint i = 0; i < fb->count; i++) {
		int sym = next_symbol(&cr);
		gint64 d = 0;

		if (sym == SYM_SMALL) {
			if (deltas + 1 > len)
				return KT_RTCP_ETRUNCATED;
			d = p[deltas];
			deltas += 1;
		} else if (sym == SYM_LARGE) {
			if (deltas + 2 > len)
				return KT_RTCP_ETRUNCATED;
			d = (gint16)(guint16)(p[deltas] << 8 | p[deltas + 1]);
			deltas += 2;
		}
		at += d * TICK_US;
		if (i < max) {
			statuses[i].seq = (guint16)(fb->base_seq + i);
			statuses[i].received = sym != SYM_LOST;
			statuses[i].arrival_us = sym != SYM_LOST ? at : 0;
		}
	}
	return fb->count;
}
