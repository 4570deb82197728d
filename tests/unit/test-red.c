/* Unit tests for kt-red: RFC 2198 RED around Opus (transport/kt-red.h). */
#include <string.h>

#include <glib.h>

#include "kt-red.h"
#include "kt-rtp.h"

#define OPUS_PT 111
#define RED_PT 63
#define FRAME_TS 960 /* 20 ms at 48 kHz */
#define SSRC 0x11223344u
#define N_FRAMES 24
#define MAX_FRAME 80
#define PKT_CAP 1500

/* Opus TOC bytes (RFC 6716 §3.1): config << 3 | code. */
#define TOC_CELT_FB_20MS (31 << 3)
#define TOC_CELT_FB_2_5MS (28 << 3)
#define TOC_SILK_NB_60MS (3 << 3)
#define TOC_HYBRID_FB_20MS (15 << 3)
#define TOC_CODE_3 3

/* How an RTP header looks around the payload under test. */
typedef struct {
	gboolean ext;
	guint csrcs;
	guint8 pad;
	gboolean marker;
} Shape;

static const Shape plain_shape = {0};
static const Shape full_shape = {.ext = TRUE, .csrcs = 2, .pad = 3, .marker = TRUE};

/* Chrome-like one-byte extension block: audio level (id 1), transport-wide
 * sequence number (id 3), padded to a word. */
static const guint8 ext_block[] = {0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAA,
                                   0x31, 0x00, 0x05, 0x00, 0x00, 0x00};

/* Synthetic 20 ms Opus frame number i: a CELT fullband TOC, then bytes
 * derived from i, of a length that varies with i. */
static gsize opus_frame(guint i, guint8 *buf)
{
	gsize len = 20 + (i * 7) % 50;

	buf[0] = TOC_CELT_FB_20MS;
	for (gsize k = 1; k < len; k++)
		buf[k] = (guint8)(i * 31 + k);
	return len;
}

static gsize write_header(guint8 *buf, const Shape *shape, guint8 pt, guint16 seq, guint32 ts)
{
	gsize off = (gsize)kt_rtp_write_header(buf, PKT_CAP, pt, shape->marker, seq, ts, SSRC);

	buf[0] |= (guint8)shape->csrcs;
	for (guint c = 0; c < shape->csrcs; c++, off += 4)
		kt_rtp_write_be32(buf + off, 0xC5000000u + c);
	if (shape->ext) {
		buf[0] |= 0x10;
		memcpy(buf + off, ext_block, sizeof(ext_block));
		off += sizeof(ext_block);
	}
	return off;
}

static gsize add_padding(guint8 *buf, gsize len, guint8 pad)
{
	if (pad == 0)
		return len;
	buf[0] |= 0x20;
	memset(buf + len, 0, pad - 1u);
	buf[len + pad - 1] = pad;
	return len + pad;
}

/* An RTP packet around `payload`. */
static gsize make_packet(guint8 *buf, const Shape *shape, guint8 pt, guint16 seq, guint32 ts,
                         const guint8 *payload, gsize payload_len)
{
	gsize off = write_header(buf, shape, pt, seq, ts);

	memcpy(buf + off, payload, payload_len);
	return add_padding(buf, off + payload_len, shape->pad);
}

/* The RED packet of frame i of a 20 ms stream (seq base + i), with
 * redundancy from frames i - 1 .. i - n_red (those that exist). */
static gsize red_packet(guint i, guint n_red, const Shape *shape, guint16 base, guint8 *buf)
{
	guint8 frames[3][MAX_FRAME];
	KtRedFrame prev[2];
	guint8 payload[PKT_CAP];
	guint n = 0;

	g_assert_cmpuint(n_red, <=, 2);
	for (; n < n_red && n < i; n++) {
		prev[n].len = opus_frame(i - 1 - n, frames[n + 1]);
		prev[n].data = frames[n + 1];
		prev[n].timestamp_offset = (n + 1) * FRAME_TS;
	}
	gsize primary_len = opus_frame(i, frames[0]);
	int len = kt_red_build(OPUS_PT, frames[0], primary_len, prev, n, payload, sizeof(payload));
	g_assert_cmpint(len, >, 0);
	return make_packet(buf, shape, RED_PT, (guint16)(base + i), 5000 + i * FRAME_TS, payload,
	                   (gsize)len);
}

/* Copies a vector into a heap buffer of exactly that size, so
 * AddressSanitizer catches any read past the end. */
static guint8 *dup_exact(const guint8 *src, gsize len)
{
	guint8 *p = g_malloc(len > 0 ? len : 1);
	memcpy(p, src, len);
	return p;
}

static void assert_frame_payload(const guint8 *pkt, const KtRtpHeader *h, guint frame)
{
	guint8 expect[MAX_FRAME];
	gsize len = opus_frame(frame, expect);

	g_assert_cmpmem(pkt + h->payload_offset, h->payload_len, expect, len);
}

static void check_round_trip(guint n_red, const Shape *shape)
{
	guint8 pkt[PKT_CAP], before[PKT_CAP];
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	KtRtpHeader h, h2;
	const guint i = 5;
	gsize len = red_packet(i, n_red, shape, 1000, pkt);

	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	int n = kt_red_parse(pkt + h.payload_offset, h.payload_len, blocks, G_N_ELEMENTS(blocks));
	g_assert_cmpint(n, ==, (int)n_red + 1);
	for (int b = 0; b < n; b++) {
		/* Oldest first: block b is frame i - (n - 1 - b). */
		guint back = (guint)(n - 1 - b);
		guint8 expect[MAX_FRAME];
		gsize expect_len = opus_frame(i - back, expect);

		g_assert_cmpuint(blocks[b].pt, ==, OPUS_PT);
		g_assert_cmpint(blocks[b].primary, ==, back == 0);
		g_assert_cmpuint(blocks[b].timestamp_offset, ==, back * FRAME_TS);
		g_assert_cmpmem(pkt + h.payload_offset + blocks[b].offset, blocks[b].length, expect,
		                expect_len);
	}

	memcpy(before, pkt, len);
	int r = kt_red_to_primary(pkt, len, &h, OPUS_PT);
	g_assert_cmpint(r, ==, h.header_len + blocks[n - 1].length);
	g_assert_cmpint(kt_rtp_parse(pkt, (gsize)r, &h2), ==, KT_RTP_OK);
	g_assert_cmpuint(h2.payload_type, ==, OPUS_PT);
	g_assert_false(h2.padding);
	g_assert_cmpint(h2.marker, ==, shape->marker);
	g_assert_cmpuint(h2.seq, ==, h.seq);
	g_assert_cmpuint(h2.timestamp, ==, h.timestamp);
	g_assert_cmpuint(h2.ssrc, ==, SSRC);
	g_assert_cmpuint(h2.csrc_count, ==, shape->csrcs);
	g_assert_cmpint(h2.extension, ==, shape->ext);
	g_assert_cmpuint(h2.header_len, ==, h.header_len);
	/* Only the P bit and the payload type changed in the header. */
	g_assert_cmphex(pkt[0], ==, before[0] & ~0x20);
	g_assert_cmphex(pkt[1], ==, (before[1] & 0x80) | OPUS_PT);
	g_assert_cmpmem(pkt + 2, h.header_len - 2u, before + 2, h.header_len - 2u);
	assert_frame_payload(pkt, &h2, i);
}

static void test_round_trip(void)
{
	const Shape shapes[] = {
	    plain_shape, {.ext = TRUE, .csrcs = 2}, {.pad = 5}, {.pad = 1, .marker = TRUE},
	    full_shape,
	};

	for (guint n_red = 0; n_red <= 2; n_red++)
		for (guint s = 0; s < G_N_ELEMENTS(shapes); s++)
			check_round_trip(n_red, &shapes[s]);
}

static void test_build_wire_format(void)
{
	/* Offset 0x2AAA and length 0x155 give alternating bits, so a field
	 * shifted by one shows. RFC 2198 §3: F | PT, then 14 + 10 bits. */
	guint8 old[0x155], primary[] = {TOC_CELT_FB_20MS, 0x42};
	guint8 out[PKT_CAP];
	KtRedFrame prev = {old, sizeof(old), 0x2AAA};

	memset(old, 0x5A, sizeof(old));
	int len = kt_red_build(OPUS_PT, primary, sizeof(primary), &prev, 1, out, sizeof(out));
	g_assert_cmpint(len, ==, 4 + 1 + 0x155 + 2);
	g_assert_cmpmem(out, 5, ((const guint8[]){0xEF, 0xAA, 0xA9, 0x55, OPUS_PT}), 5);
	g_assert_cmpmem(out + 5, 0x155, old, sizeof(old));
	g_assert_cmpmem(out + 5 + 0x155, 2, primary, 2);
}

static void test_build_limits(void)
{
	static guint8 big[1200];
	guint8 a[MAX_FRAME], b[MAX_FRAME], out[PKT_CAP];
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	gsize a_len = opus_frame(1, a), b_len = opus_frame(2, b);
	const guint8 primary[] = {TOC_CELT_FB_20MS, 1, 2, 3};
	KtRedFrame prev[2] = {{a, a_len, FRAME_TS}, {b, b_len, 2 * FRAME_TS}};
	int len;

#define BUILD(cap) kt_red_build(OPUS_PT, primary, sizeof(primary), prev, 2, out, (cap))
#define BLOCKS(len) kt_red_parse(out, (gsize)(len), blocks, KT_RED_MAX_BLOCKS)
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 3);
	/* Room for the primary and one redundant block only: the older goes. */
	g_assert_cmpint(BLOCKS(BUILD(1 + sizeof(primary) + 4 + a_len)), ==, 2);
	/* Room for the primary only: still a RED payload, of one block. */
	g_assert_cmpint(BUILD(1 + sizeof(primary)), ==, 1 + sizeof(primary));
	/* No room for the primary. */
	g_assert_cmpint(BUILD(sizeof(primary)), ==, KT_RED_ENOSPACE);

	/* The newest previous frame cannot go: neither does the older one,
	 * which would otherwise sit where the newest belongs. */
	prev[0].len = KT_RED_MAX_BLOCK_LEN + 1;
	prev[0].data = big;
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 1);
	prev[0] = (KtRedFrame){a, a_len, 0};
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 1);
	prev[0] = (KtRedFrame){a, 0, FRAME_TS};
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 1);
	/* 14-bit offsets (DTX gaps reach 400 ms = 19200). */
	prev[0] = (KtRedFrame){a, a_len, FRAME_TS};
	prev[1].timestamp_offset = KT_RED_MAX_TS_OFFSET;
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 3);
	g_assert_cmpuint(blocks[0].timestamp_offset, ==, KT_RED_MAX_TS_OFFSET);
	prev[1].timestamp_offset = KT_RED_MAX_TS_OFFSET + 1;
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 2);
	/* Offsets must grow with age. */
	prev[1].timestamp_offset = FRAME_TS;
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 2);
	/* The largest redundant block that fits in 10 bits. */
	prev[0].len = KT_RED_MAX_BLOCK_LEN;
	prev[0].data = big;
	g_assert_cmpint(BLOCKS(BUILD(sizeof(out))), ==, 2);
	g_assert_cmpuint(blocks[0].length, ==, KT_RED_MAX_BLOCK_LEN);
#undef BUILD
#undef BLOCKS

	/* The primary has no length field: any size goes. */
	len = kt_red_build(OPUS_PT, big, sizeof(big), NULL, 0, out, sizeof(out));
	g_assert_cmpint(len, ==, 1 + sizeof(big));
	g_assert_cmpint(kt_red_parse(out, (gsize)len, blocks, 1), ==, 1);
	g_assert_cmpuint(blocks[0].length, ==, sizeof(big));

	g_assert_cmpint(kt_red_build(128, primary, 4, NULL, 0, out, sizeof(out)), ==,
	                KT_RED_EINVAL);
	g_assert_cmpint(kt_red_build(OPUS_PT, primary, 0, NULL, 0, out, sizeof(out)), ==,
	                KT_RED_EINVAL);
	g_assert_cmpint(kt_red_build(OPUS_PT, NULL, 4, NULL, 0, out, sizeof(out)), ==,
	                KT_RED_EINVAL);
	g_assert_cmpint(kt_red_build(OPUS_PT, primary, 4, NULL, 1, out, sizeof(out)), ==,
	                KT_RED_EINVAL);
	g_assert_cmpint(kt_red_build(OPUS_PT, primary, 4, NULL, 0, NULL, 0), ==, KT_RED_EINVAL);
}

/* Checks a recovered packet against frame `frame` of the stream. */
static void assert_recovered(const guint8 *out, int len, guint frame, guint16 base)
{
	KtRtpHeader h;

	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(kt_rtp_parse(out, (gsize)len, &h), ==, KT_RTP_OK);
	g_assert_cmpuint(h.payload_type, ==, OPUS_PT);
	g_assert_cmpuint(h.seq, ==, (guint16)(base + frame));
	g_assert_cmpuint(h.timestamp, ==, 5000 + frame * FRAME_TS);
	g_assert_cmpuint(h.ssrc, ==, SSRC);
	g_assert_false(h.marker);
	g_assert_false(h.padding);
	g_assert_false(h.extension);
	/* The carrying packet's CSRCs apply (RFC 2198 §4). */
	g_assert_cmpuint(h.csrc_count, ==, full_shape.csrcs);
	g_assert_cmphex(kt_rtp_read_be32(out + 12), ==, 0xC5000000u);
	assert_frame_payload(out, &h, frame);
}

static int recover_from(guint i, guint n_red, guint missing, guint16 base, guint8 *out)
{
	guint8 pkt[PKT_CAP];
	KtRtpHeader h;
	gsize len = red_packet(i, n_red, &full_shape, base, pkt);

	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	return kt_red_recover(pkt, len, &h, (guint16)(base + missing), OPUS_PT, out, PKT_CAP);
}

static void test_recover_distance(void)
{
	guint8 out[PKT_CAP];
	const guint16 base = 65530; /* the numbers wrap through 0 */

	/* Two redundant blocks: packet N is in N + 1 and N + 2. */
	assert_recovered(out, recover_from(9, 2, 8, base, out), 8, base);
	assert_recovered(out, recover_from(10, 2, 8, base, out), 8, base);
	g_assert_cmpint(recover_from(11, 2, 8, base, out), ==, KT_RED_ENOTFOUND);
	/* One: only in N + 1. */
	assert_recovered(out, recover_from(9, 1, 8, base, out), 8, base);
	g_assert_cmpint(recover_from(10, 1, 8, base, out), ==, KT_RED_ENOTFOUND);
	/* None, and the first packets of a stream carry less. */
	g_assert_cmpint(recover_from(9, 0, 8, base, out), ==, KT_RED_ENOTFOUND);
	assert_recovered(out, recover_from(1, 2, 0, base, out), 0, base);
	g_assert_cmpint(recover_from(1, 2, (guint)-1, base, out), ==, KT_RED_ENOTFOUND);
	/* The packet's own number, and one after it. */
	g_assert_cmpint(recover_from(9, 2, 9, base, out), ==, KT_RED_ENOTFOUND);
	g_assert_cmpint(recover_from(9, 2, 10, base, out), ==, KT_RED_ENOTFOUND);
}

/* A subscriber without RED behind a lossy publisher uplink: every gap is
 * filled from the next packet's redundancy where it can be. Returns how
 * many packets it got back; `lost` lists the dropped frames. */
static guint strip_stream(guint n_red, const guint *lost, guint n_lost)
{
	const guint16 base = 65520;
	guint16 expected = base;
	guint recovered = 0;

	for (guint i = 0; i < N_FRAMES; i++) {
		guint8 pkt[PKT_CAP], out[PKT_CAP];
		KtRtpHeader h;
		gboolean dropped = FALSE;

		for (guint k = 0; k < n_lost; k++)
			dropped |= lost[k] == i;
		if (dropped)
			continue;
		gsize len = red_packet(i, n_red, &full_shape, base, pkt);
		g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
		for (guint16 m = expected; m != h.seq; m++) {
			int r = kt_red_recover(pkt, len, &h, m, OPUS_PT, out, sizeof(out));
			if (r == KT_RED_ENOTFOUND)
				continue;
			assert_recovered(out, r, (guint16)(m - base), base);
			recovered++;
		}
		int r = kt_red_to_primary(pkt, len, &h, OPUS_PT);
		g_assert_cmpint(r, >, 0);
		g_assert_cmpint(kt_rtp_parse(pkt, (gsize)r, &h), ==, KT_RTP_OK);
		assert_frame_payload(pkt, &h, i);
		expected = h.seq + 1;
	}
	return recovered;
}

static void test_recover_stream(void)
{
	const guint single[] = {3}, burst[] = {10, 11}, long_burst[] = {15, 16, 17};

	g_assert_cmpuint(strip_stream(0, single, 1), ==, 0);
	g_assert_cmpuint(strip_stream(1, single, 1), ==, 1);
	g_assert_cmpuint(strip_stream(2, single, 1), ==, 1);
	/* A burst of two: one block gets the second back, two blocks both. */
	g_assert_cmpuint(strip_stream(1, burst, 2), ==, 1);
	g_assert_cmpuint(strip_stream(2, burst, 2), ==, 2);
	g_assert_cmpuint(strip_stream(2, long_burst, 3), ==, 2);
}

/* A RED packet (full_shape header, seq 100, ts 100000) whose redundant
 * frames and offsets are given oldest first, as they go on the wire. */
static gsize custom_red(const guint8 *const *frames, const gsize *lens, const guint32 *offsets,
                        guint n, guint8 *pkt)
{
	guint8 payload[PKT_CAP], primary[MAX_FRAME];
	gsize primary_len = opus_frame(7, primary);
	gsize off = 0;

	for (guint i = 0; i < n; i++, off += 4)
		kt_rtp_write_be32(payload + off,
		                  (0x80u | OPUS_PT) << 24 | offsets[i] << 10 | (guint32)lens[i]);
	payload[off++] = OPUS_PT;
	for (guint i = 0; i < n; i++) {
		memcpy(payload + off, frames[i], lens[i]);
		off += lens[i];
	}
	memcpy(payload + off, primary, primary_len);
	return make_packet(pkt, &full_shape, RED_PT, 100, 100000, payload, off + primary_len);
}

static int recover_custom(const guint8 *const *frames, const gsize *lens, const guint32 *offsets,
                          guint n, guint16 missing)
{
	guint8 pkt[PKT_CAP], out[PKT_CAP];
	KtRtpHeader h;
	gsize len = custom_red(frames, lens, offsets, n, pkt);

	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	return kt_red_recover(pkt, len, &h, missing, OPUS_PT, out, sizeof(out));
}

static void test_recover_offsets(void)
{
	guint8 f20[MAX_FRAME], f20b[MAX_FRAME];
	const guint8 dtx[] = {TOC_CELT_FB_20MS};
	const guint8 f60[] = {TOC_CELT_FB_20MS | TOC_CODE_3, 3, 0x11, 0x22};
	const guint8 silk60[] = {TOC_SILK_NB_60MS, 0x33};
	const guint8 celt2_5[] = {TOC_CELT_FB_2_5MS, 0x44};
	const guint8 hybrid20x2[] = {TOC_HYBRID_FB_20MS | 1, 0x55, 0x66};
	const guint8 bad_code3[] = {TOC_CELT_FB_20MS | TOC_CODE_3, 7, 0x11}; /* 140 ms */
	gsize f20_len = opus_frame(5, f20), f20b_len = opus_frame(6, f20b);
	const guint8 *two[] = {f20, f20b};
	const gsize two_lens[] = {f20_len, f20b_len};

#define ONE(frame, len, offset)                                                                    \
	recover_custom((const guint8 *const[]){frame}, (const gsize[]){len},                       \
	               (const guint32[]){offset}, 1, 99)
	g_assert_cmpint(ONE(f20, f20_len, FRAME_TS), >, 0);
	/* A 20 ms frame 40 ms back is not the packet just before. */
	g_assert_cmpint(ONE(f20, f20_len, 2 * FRAME_TS), ==, KT_RED_EOFFSET);
	g_assert_cmpint(ONE(f20, f20_len, 0), ==, KT_RED_EOFFSET);
	/* Leaving DTX: the 1-byte frame before is 200 ms back. */
	g_assert_cmpint(ONE(dtx, sizeof(dtx), 10 * FRAME_TS), ==, KT_RED_EOFFSET);
	/* Durations come from each frame's TOC. */
	g_assert_cmpint(ONE(f60, sizeof(f60), 3 * FRAME_TS), >, 0);
	g_assert_cmpint(ONE(f60, sizeof(f60), FRAME_TS), ==, KT_RED_EOFFSET);
	g_assert_cmpint(ONE(silk60, sizeof(silk60), 3 * FRAME_TS), >, 0);
	g_assert_cmpint(ONE(celt2_5, sizeof(celt2_5), 120), >, 0);
	g_assert_cmpint(ONE(hybrid20x2, sizeof(hybrid20x2), 2 * FRAME_TS), >, 0);
	g_assert_cmpint(ONE(bad_code3, sizeof(bad_code3), 7 * FRAME_TS), ==, KT_RED_EOFFSET);
	g_assert_cmpint(ONE(bad_code3, 1, 7 * FRAME_TS), ==, KT_RED_EOFFSET);
	/* A 0-byte redundant block has nothing to give back. */
	g_assert_cmpint(ONE(f20, 0, FRAME_TS), ==, KT_RED_EEMPTY);
#undef ONE

	/* Two blocks, the older one 20 ms further back than it should be:
	 * the newer one is fine, the older one refused. */
	const guint32 gap[] = {3 * FRAME_TS, FRAME_TS};
	g_assert_cmpint(recover_custom(two, two_lens, gap, 2, 99), >, 0);
	g_assert_cmpint(recover_custom(two, two_lens, gap, 2, 98), ==, KT_RED_EOFFSET);
	const guint32 good[] = {2 * FRAME_TS, FRAME_TS};
	g_assert_cmpint(recover_custom(two, two_lens, good, 2, 98), >, 0);
	/* Reaching the older block checks the newer one on the way. */
	const guint32 bad_newer[] = {2 * FRAME_TS, 2 * FRAME_TS};
	g_assert_cmpint(recover_custom(two, two_lens, bad_newer, 2, 98), ==, KT_RED_EOFFSET);
}

static void test_recover_block_pt(void)
{
	guint8 pkt[PKT_CAP], out[PKT_CAP];
	KtRtpHeader h;
	gsize len = red_packet(5, 1, &full_shape, 0, pkt);

	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	/* The redundant block is of another codec (PT 0). */
	pkt[h.payload_offset] = 0x80;
	g_assert_cmpint(kt_red_recover(pkt, len, &h, 4, OPUS_PT, out, sizeof(out)), ==, KT_RED_EPT);
	/* ...which stripping to the Opus primary does not mind. */
	g_assert_cmpint(kt_red_to_primary(pkt, len, &h, OPUS_PT), >, 0);
}

static void test_recover_no_space(void)
{
	guint8 pkt[PKT_CAP], out[PKT_CAP], frame[MAX_FRAME];
	KtRtpHeader h;
	gsize len = red_packet(5, 1, &full_shape, 0, pkt);
	gsize need = 12 + 4 * full_shape.csrcs + opus_frame(4, frame);

	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	memset(out, 0xA5, sizeof(out));
	g_assert_cmpint(kt_red_recover(pkt, len, &h, 4, OPUS_PT, out, need - 1), ==,
	                KT_RED_ENOSPACE);
	for (gsize k = 0; k < sizeof(out); k++)
		g_assert_cmphex(out[k], ==, 0xA5);
	g_assert_cmpint(kt_red_recover(pkt, len, &h, 4, OPUS_PT, out, need), ==, (int)need);
	g_assert_cmphex(out[need], ==, 0xA5);
	g_assert_cmpint(kt_red_recover(pkt, len, &h, 4, OPUS_PT, NULL, need), ==, KT_RED_EINVAL);
	g_assert_cmpint(kt_red_recover(pkt, len - 1, &h, 4, OPUS_PT, out, need), ==, KT_RED_EINVAL);
}

typedef struct {
	const char *what;
	const guint8 *payload;
	gsize len;
	guint max;
	int status;
} BadCase;

/* Parsing fails with the status, and neither stripping nor recovering
 * touches the packet around the payload. */
static void check_bad(const BadCase *c)
{
	KtRedBlock blocks[KT_RED_MAX_BLOCKS + 4];
	guint8 *exact = dup_exact(c->payload, c->len);
	guint8 pkt[PKT_CAP], before[PKT_CAP], out[PKT_CAP];
	KtRtpHeader h;

	g_test_message("%s", c->what);
	g_assert_cmpint(kt_red_parse(exact, c->len, blocks, c->max), ==, c->status);
	g_free(exact);
	if (c->max < KT_RED_MAX_BLOCKS)
		return; /* the packet functions take up to KT_RED_MAX_BLOCKS */
	gsize len = make_packet(pkt, &full_shape, RED_PT, 7, 7000, c->payload, c->len);
	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	memcpy(before, pkt, len);
	g_assert_cmpint(kt_red_to_primary(pkt, len, &h, OPUS_PT), ==, c->status);
	g_assert_cmpmem(pkt, len, before, len);
	g_assert_cmpint(kt_red_recover(pkt, len, &h, 6, OPUS_PT, out, sizeof(out)), ==, c->status);
}

#define RH(len) (0x80 | OPUS_PT), 0x0F, 0x00 | ((len) >> 8), (len)&0xFF /* offset 960 */

static void test_bad_input(void)
{
	static const guint8 truncated[] = {RH(2), 0x80 | OPUS_PT, 0x0F};
	static const guint8 all_f[] = {RH(0), RH(0)};
	static const guint8 all_f_data[] = {RH(1), RH(1), 0x91, 0xA2};
	static const guint8 past_end[] = {RH(10), OPUS_PT, 1, 2, 3};
	static const guint8 past_end_by_one[] = {RH(3), OPUS_PT, 1, 2};
	static const guint8 empty_primary[] = {RH(3), OPUS_PT, 1, 2, 3};
	static const guint8 header_only[] = {OPUS_PT};
	static const guint8 three[] = {RH(1), RH(1), OPUS_PT, 0xA1, 0xA2, 0xA3};
	guint8 many[(KT_RED_MAX_BLOCKS + 1) * 4 + 2];
	gsize n_many = 0;

	for (guint i = 0; i < KT_RED_MAX_BLOCKS; i++, n_many += 4)
		memcpy(many + n_many, (const guint8[]){RH(0)}, 4);
	many[n_many++] = OPUS_PT;
	many[n_many++] = 0xA1;

	const BadCase cases[] = {
	    {"empty", truncated, 0, KT_RED_MAX_BLOCKS, KT_RED_ENOPRIMARY},
	    {"truncated block header", truncated, sizeof(truncated), KT_RED_MAX_BLOCKS,
	     KT_RED_ETRUNCATED},
	    {"F bit on every header", all_f, sizeof(all_f), KT_RED_MAX_BLOCKS, KT_RED_ENOPRIMARY},
	    {"F bit on every header, data read as a cut header", all_f_data, sizeof(all_f_data),
	     KT_RED_MAX_BLOCKS, KT_RED_ETRUNCATED},
	    {"length past the end", past_end, sizeof(past_end), KT_RED_MAX_BLOCKS, KT_RED_ELENGTH},
	    {"length one past the end", past_end_by_one, sizeof(past_end_by_one), KT_RED_MAX_BLOCKS,
	     KT_RED_ELENGTH},
	    {"0-byte primary", empty_primary, sizeof(empty_primary), KT_RED_MAX_BLOCKS,
	     KT_RED_EEMPTY},
	    {"primary header only", header_only, sizeof(header_only), KT_RED_MAX_BLOCKS,
	     KT_RED_EEMPTY},
	    {"more blocks than the array", three, sizeof(three), 2, KT_RED_ETOOMANY},
	    {"no array", three, sizeof(three), 0, KT_RED_ETOOMANY},
	    {"more than KT_RED_MAX_BLOCKS", many, n_many, KT_RED_MAX_BLOCKS + 4, KT_RED_ETOOMANY},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		check_bad(&cases[i]);

	/* Exactly KT_RED_MAX_BLOCKS blocks, and exactly enough room. */
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	g_assert_cmpint(kt_red_parse(many + 4, n_many - 4, blocks, KT_RED_MAX_BLOCKS), ==,
	                KT_RED_MAX_BLOCKS);
	g_assert_cmpint(kt_red_parse(three, sizeof(three), blocks, 3), ==, 3);
	g_assert_cmpuint(blocks[2].offset, ==, 11);
	g_assert_cmpuint(blocks[2].length, ==, 1);

	/* Every cut of it is refused (its primary is 1 byte). */
	for (gsize n = 0; n < sizeof(three); n++) {
		guint8 *p = dup_exact(three, n);
		g_assert_cmpint(kt_red_parse(p, n, blocks, KT_RED_MAX_BLOCKS), <, 0);
		g_free(p);
	}
	g_assert_cmpint(kt_red_parse(NULL, 0, blocks, KT_RED_MAX_BLOCKS), ==, KT_RED_EINVAL);
	g_assert_cmpint(kt_red_parse(three, sizeof(three), NULL, 3), ==, KT_RED_EINVAL);
}

static void test_offset_zero_block(void)
{
	/* RFC 2198 allows it in the syntax; only recovery cares. */
	static const guint8 payload[] = {
	    0x80 | OPUS_PT, 0x00, 0x00, 0x01, OPUS_PT, TOC_CELT_FB_20MS, TOC_CELT_FB_20MS, 0x77};
	guint8 pkt[PKT_CAP], out[PKT_CAP];
	KtRedBlock blocks[2];
	KtRtpHeader h;
	gsize len = make_packet(pkt, &plain_shape, RED_PT, 50, 48000, payload, sizeof(payload));

	g_assert_cmpint(kt_red_parse(payload, sizeof(payload), blocks, 2), ==, 2);
	g_assert_cmpuint(blocks[0].timestamp_offset, ==, 0);
	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_red_recover(pkt, len, &h, 49, OPUS_PT, out, sizeof(out)), ==,
	                KT_RED_EOFFSET);
	g_assert_cmpint(kt_red_to_primary(pkt, len, &h, OPUS_PT), ==, h.header_len + 2);
}

static void test_not_red(void)
{
	/* A plain Opus packet: the caller sees PT 111, not the RED PT 63, and
	 * leaves it alone. Fed to kt-red anyway, its hybrid TOC byte (F=0)
	 * reads as the primary header of a block of PT 120, which is not Opus:
	 * refused, packet untouched. A check on the RTP payload type is the
	 * only safe test. */
	const guint8 opus[] = {TOC_HYBRID_FB_20MS, 0x01, 0x02, 0x03};
	guint8 pkt[PKT_CAP], before[PKT_CAP];
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	KtRtpHeader h;
	gsize len = make_packet(pkt, &plain_shape, OPUS_PT, 1, 960, opus, sizeof(opus));

	g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
	g_assert_cmpuint(h.payload_type, !=, RED_PT);
	g_assert_cmpint(kt_red_parse(opus, sizeof(opus), blocks, KT_RED_MAX_BLOCKS), ==, 1);
	g_assert_cmpuint(blocks[0].pt, ==, TOC_HYBRID_FB_20MS);
	memcpy(before, pkt, len);
	g_assert_cmpint(kt_red_to_primary(pkt, len, &h, OPUS_PT), ==, KT_RED_EPT);
	g_assert_cmpmem(pkt, len, before, len);
}

static int history_blocks(const KtRedHistory *hist, guint16 seq, guint32 ts, guint max_red,
                          KtRedBlock *blocks)
{
	guint8 primary[MAX_FRAME], out[PKT_CAP];
	gsize primary_len = opus_frame(seq, primary);
	int len = kt_red_history_build(hist, seq, ts, OPUS_PT, primary, primary_len, max_red, out,
	                               sizeof(out));

	g_assert_cmpint(len, >, 0);
	return kt_red_parse(out, (gsize)len, blocks, KT_RED_MAX_BLOCKS);
}

static void push(KtRedHistory *hist, guint16 seq, guint32 ts)
{
	guint8 frame[MAX_FRAME];
	gsize len = opus_frame(seq, frame);

	kt_red_history_push(hist, seq, ts, frame, len);
}

static void test_history(void)
{
	KtRedHistory hist;
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	static guint8 big[KT_RED_MAX_BLOCK_LEN + 1];

	kt_red_history_init(&hist);
	g_assert_cmpint(history_blocks(&hist, 10, 9600, 2, blocks), ==, 1);
	push(&hist, 10, 9600);
	push(&hist, 11, 10560);
	g_assert_cmpint(history_blocks(&hist, 12, 11520, 2, blocks), ==, 3);
	g_assert_cmpuint(blocks[0].timestamp_offset, ==, 2 * FRAME_TS);
	g_assert_cmpuint(blocks[1].timestamp_offset, ==, FRAME_TS);
	g_assert_cmpint(history_blocks(&hist, 12, 11520, 1, blocks), ==, 2);
	g_assert_cmpint(history_blocks(&hist, 12, 11520, 0, blocks), ==, 1);
	/* A retransmission or a late packet does not go in. */
	push(&hist, 11, 10560);
	push(&hist, 9, 8640);
	g_assert_cmpint(history_blocks(&hist, 12, 11520, 2, blocks), ==, 3);
	/* 12 lost on the way in: 13 carries nothing, since 11 is not 12. */
	g_assert_cmpint(history_blocks(&hist, 13, 12480, 2, blocks), ==, 1);
	/* A frame too long to carry ends the run, but keeps its place. */
	push(&hist, 12, 11520);
	push(&hist, 13, 12480);
	kt_red_history_push(&hist, 14, 13440, big, sizeof(big));
	g_assert_cmpint(history_blocks(&hist, 15, 14400, 2, blocks), ==, 1);
	push(&hist, 15, 14400);
	g_assert_cmpint(history_blocks(&hist, 16, 15360, 2, blocks), ==, 2);
	/* Wrapping sequence numbers and timestamps. */
	kt_red_history_init(&hist);
	push(&hist, 65534, 0xFFFFFFFFu - 2 * FRAME_TS + 1);
	push(&hist, 65535, 0xFFFFFFFFu - FRAME_TS + 1);
	g_assert_cmpint(history_blocks(&hist, 0, 0, 2, blocks), ==, 3);
	g_assert_cmpuint(blocks[0].timestamp_offset, ==, 2 * FRAME_TS);
}

/* The packetizer's output is what the stripper recovers from: a plain
 * Opus stream, RED added by the room, one packet lost downstream. */
static void test_history_then_recover(void)
{
	KtRedHistory hist;
	guint8 lost[PKT_CAP];
	gsize lost_len = 0;

	kt_red_history_init(&hist);
	for (guint16 seq = 100; seq < 110; seq++) {
		guint8 frame[MAX_FRAME], payload[PKT_CAP], pkt[PKT_CAP], out[PKT_CAP];
		guint32 ts = 777u + seq * FRAME_TS;
		gsize frame_len = opus_frame(seq, frame);
		int plen = kt_red_history_build(&hist, seq, ts, OPUS_PT, frame, frame_len, 2,
		                                payload, sizeof(payload));
		KtRtpHeader h;

		g_assert_cmpint(plen, >, 0);
		kt_red_history_push(&hist, seq, ts, frame, frame_len);
		gsize len = make_packet(pkt, &plain_shape, RED_PT, seq, ts, payload, (gsize)plen);
		if (seq == 104) {
			lost_len =
			    make_packet(lost, &plain_shape, OPUS_PT, seq, ts, frame, frame_len);
			continue;
		}
		if (seq != 105 && seq != 106)
			continue;
		g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
		int r = kt_red_recover(pkt, len, &h, 104, OPUS_PT, out, sizeof(out));
		g_assert_cmpint(r, >, 0);
		g_assert_cmpmem(out, r, lost, lost_len);
	}
}

/* A receiver numbering Opus 109: every block's payload type follows, the F
 * bits, offsets, lengths and data stay; a payload that does not parse is
 * left alone. */
static void test_map_pt(void)
{
	guint8 pkt[PKT_CAP], before[PKT_CAP];
	KtRedBlock blocks[KT_RED_MAX_BLOCKS], after[KT_RED_MAX_BLOCKS];
	KtRtpHeader h;

	for (guint n_red = 0; n_red <= 2; n_red++) {
		gsize len = red_packet(5, n_red, &full_shape, 10, pkt);

		g_assert_cmpint(kt_rtp_parse(pkt, len, &h), ==, KT_RTP_OK);
		guint8 *payload = pkt + h.payload_offset;
		int n = kt_red_parse(payload, h.payload_len, blocks, G_N_ELEMENTS(blocks));
		memcpy(before, pkt, len);
		g_assert_cmpint(kt_red_map_pt(payload, h.payload_len, OPUS_PT, 109), ==, n);
		g_assert_cmpint(kt_red_parse(payload, h.payload_len, after, G_N_ELEMENTS(after)),
		                ==, n);
		for (int b = 0; b < n; b++) {
			g_assert_cmpuint(after[b].pt, ==, 109);
			g_assert_cmpint(after[b].primary, ==, blocks[b].primary);
			g_assert_cmpuint(after[b].timestamp_offset, ==, blocks[b].timestamp_offset);
			g_assert_cmpuint(after[b].offset, ==, blocks[b].offset);
			g_assert_cmpuint(after[b].length, ==, blocks[b].length);
		}
		/* Data untouched; back to 111 gives the packet as it was. */
		g_assert_cmpmem(payload + n * 4 - 3, len - h.payload_offset - (n * 4 - 3),
		                before + h.payload_offset + n * 4 - 3,
		                len - h.payload_offset - (n * 4 - 3));
		g_assert_cmpint(kt_red_map_pt(payload, h.payload_len, 109, OPUS_PT), ==, n);
		g_assert_cmpmem(pkt, len, before, len);
		/* Another type is not touched. */
		g_assert_cmpint(kt_red_map_pt(payload, h.payload_len, 100, 109), ==, n);
		g_assert_cmpmem(pkt, len, before, len);
	}
	/* Truncated block header: an error, nothing written. */
	guint8 bad[] = {0x80 | OPUS_PT, 0x00, 0x03};
	guint8 bad_before[sizeof(bad)];
	memcpy(bad_before, bad, sizeof(bad));
	g_assert_cmpint(kt_red_map_pt(bad, sizeof(bad), OPUS_PT, 109), ==, KT_RED_ETRUNCATED);
	g_assert_cmpmem(bad, sizeof(bad), bad_before, sizeof(bad));
	g_assert_cmpint(kt_red_map_pt(pkt, 10, OPUS_PT, 200), ==, KT_RED_EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/red/round-trip", test_round_trip);
	g_test_add_func("/red/build/wire-format", test_build_wire_format);
	g_test_add_func("/red/build/limits", test_build_limits);
	g_test_add_func("/red/recover/distance", test_recover_distance);
	g_test_add_func("/red/recover/stream", test_recover_stream);
	g_test_add_func("/red/recover/offsets", test_recover_offsets);
	g_test_add_func("/red/recover/block-pt", test_recover_block_pt);
	g_test_add_func("/red/recover/no-space", test_recover_no_space);
	g_test_add_func("/red/bad-input", test_bad_input);
	g_test_add_func("/red/offset-zero-block", test_offset_zero_block);
	g_test_add_func("/red/not-red", test_not_red);
	g_test_add_func("/red/history", test_history);
	g_test_add_func("/red/history-then-recover", test_history_then_recover);
	g_test_add_func("/red/map-pt", test_map_pt);
	return g_test_run();
}
