/* Unit tests for kt-rtcp: hand-built browser-like vectors, builder round
 * trips through the parser, and malformed input. */
#include <string.h>

#include <glib.h>

#include "kt-rtcp.h"

/* Chrome-like compound receiver feedback: RR with one report block, then
 * REMB of 1,000,000 bps (mantissa 250000, exp 2) for one SSRC. */
static const guint8 rr_remb[] = {
    /* RR, RC=1, length 7 */
    0x81,
    0xC9,
    0x00,
    0x07,
    0x00,
    0x00,
    0x00,
    0x01,
    0x11,
    0x22,
    0x33,
    0x44,
    0x19,
    0x00,
    0x00,
    0x2A,
    0x00,
    0x01,
    0x30,
    0x39,
    0x00,
    0x00,
    0x00,
    0x20,
    0x12,
    0x34,
    0x56,
    0x78,
    0x00,
    0x01,
    0x00,
    0x00,
    /* PSFB FMT=15, length 5 */
    0x8F,
    0xCE,
    0x00,
    0x05,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0x00,
    'R',
    'E',
    'M',
    'B',
    0x01,
    0x0B,
    0xD0,
    0x90,
    0x11,
    0x22,
    0x33,
    0x44,
};

/* SR without report blocks, then SDES with CNAME "abcdefghijklmnop". */
static const guint8 sr_sdes[] = {
    0x80, 0xC8, 0x00, 0x06, 0xCA, 0xFE, 0xBA, 0xBE, 0xE8, 0x00, 0x00, 0x01, 0x80, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x5F, 0x90, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x27, 0x10,
    0x81, 0xCA, 0x00, 0x06, 0xCA, 0xFE, 0xBA, 0xBE, 0x01, 0x10, 'a',  'b',  'c',  'd',
    'e',  'f',  'g',  'h',  'i',  'j',  'k',  'l',  'm',  'n',  'o',  'p',  0x00, 0x00,
};

/* Generic NACK for 1000 with BLP 0b101: 1000, 1001 and 1003 lost. */
static const guint8 nack[] = {
    0x81, 0xCD, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44, 0x03, 0xE8, 0x00, 0x05,
};

/* FIR for 0x11223344, seq nr 7; header media SSRC is 0 (RFC 5104). */
static const guint8 fir[] = {
    0x84, 0xCE, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x07, 0x00, 0x00, 0x00,
};

static const guint8 pli[] = {
    0x81, 0xCE, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
};

/* Parses a single-packet buffer into *c; asserts it is well formed. */
static void one_chunk(const guint8 *buf, gsize len, KtRtcpChunk *c)
{
	KtRtcpIter it;
	kt_rtcp_iter_init(&it, buf, len);
	g_assert_cmpint(kt_rtcp_iter_next(&it, c), ==, 1);
	g_assert_cmpint(kt_rtcp_iter_next(&it, c + 1), ==, 0);
}

static void test_rr_remb(void)
{
	KtRtcpIter it;
	KtRtcpChunk c;
	KtRtcpReportBlock b;
	guint64 bitrate = 0;
	guint32 ssrc = 0;

	kt_rtcp_iter_init(&it, rr_remb, sizeof(rr_remb));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpuint(c.type, ==, KT_RTCP_RR);
	g_assert_cmpuint(c.count, ==, 1);
	g_assert_cmpuint(c.len, ==, 32);
	g_assert_cmpuint(kt_rtcp_get_sender_ssrc(&c), ==, 1);
	g_assert_cmpint(kt_rtcp_get_report_block(&c, 0, &b), ==, 0);
	g_assert_cmpuint(b.ssrc, ==, 0x11223344);
	g_assert_cmpuint(b.fraction_lost, ==, 0x19);
	g_assert_cmpint(b.cumulative_lost, ==, 42);
	g_assert_cmpuint(b.highest_seq, ==, 65536 + 12345);
	g_assert_cmpuint(b.jitter, ==, 32);
	g_assert_cmpuint(b.lsr, ==, 0x12345678);
	g_assert_cmpuint(b.dlsr, ==, 65536);
	g_assert_cmpint(kt_rtcp_get_report_block(&c, 1, &b), ==, KT_RTCP_ERANGE);
	g_assert_cmpint(kt_rtcp_remb_parse(&c, &bitrate), ==, KT_RTCP_ETYPE);

	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpuint(c.type, ==, KT_RTCP_PSFB);
	g_assert_cmpuint(c.count, ==, KT_RTCP_FB_AFB);
	g_assert_cmpint(kt_rtcp_remb_parse(&c, &bitrate), ==, 1);
	g_assert_cmpuint(bitrate, ==, 1000000);
	g_assert_cmpint(kt_rtcp_remb_get_ssrc(&c, 0, &ssrc), ==, 0);
	g_assert_cmpuint(ssrc, ==, 0x11223344);
	g_assert_cmpint(kt_rtcp_remb_get_ssrc(&c, 1, &ssrc), ==, KT_RTCP_ERANGE);
	g_assert_cmpint(kt_rtcp_fir_count(&c), ==, KT_RTCP_ETYPE);
	g_assert_cmpint(kt_rtcp_nack_count(&c), ==, KT_RTCP_ETYPE);
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 0);

	/* The builders reproduce the REMB exactly. */
	guint8 out[64];
	const guint32 ssrcs[] = {0x11223344};
	g_assert_cmpint(kt_rtcp_build_remb(out, sizeof(out), 1, 1000000, ssrcs, 1), ==, 24);
	g_assert_cmpmem(out, 24, rr_remb + 32, 24);
}

static void test_sr_sdes(void)
{
	KtRtcpIter it;
	KtRtcpChunk c;
	KtRtcpSenderInfo si;
	KtRtcpReportBlock b;

	kt_rtcp_iter_init(&it, sr_sdes, sizeof(sr_sdes));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpint(kt_rtcp_parse_sr(&c, &si), ==, 0);
	g_assert_cmpuint(si.ssrc, ==, 0xCAFEBABE);
	g_assert_cmpuint(si.ntp_sec, ==, 0xE8000001);
	g_assert_cmpuint(si.ntp_frac, ==, 0x80000000);
	g_assert_cmpuint(si.rtp_ts, ==, 90000);
	g_assert_cmpuint(si.packet_count, ==, 100);
	g_assert_cmpuint(si.octet_count, ==, 10000);
	g_assert_cmpint(kt_rtcp_get_report_block(&c, 0, &b), ==, KT_RTCP_ERANGE);
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpuint(c.type, ==, KT_RTCP_SDES);
	g_assert_cmpint(kt_rtcp_parse_sr(&c, &si), ==, KT_RTCP_ETYPE);
	g_assert_cmpuint(kt_rtcp_get_sender_ssrc(&c), ==, 0);
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 0);

	/* Built from parts, the compound is byte-identical. */
	guint8 out[128];
	int n = kt_rtcp_build_sr(out, sizeof(out), &si, NULL, 0);
	g_assert_cmpint(n, ==, 28);
	int m = kt_rtcp_build_sdes_cname(out + n, sizeof(out) - n, 0xCAFEBABE, "abcdefghijklmnop");
	g_assert_cmpint(m, ==, 28);
	g_assert_cmpmem(out, n + m, sr_sdes, sizeof(sr_sdes));
}

static void test_nack(void)
{
	KtRtcpChunk c[2];
	guint16 pid, blp;
	one_chunk(nack, sizeof(nack), c);
	g_assert_cmpuint(kt_rtcp_get_sender_ssrc(c), ==, 1);
	g_assert_cmpuint(kt_rtcp_fb_get_media_ssrc(c), ==, 0x11223344);
	g_assert_cmpint(kt_rtcp_nack_count(c), ==, 1);
	g_assert_cmpint(kt_rtcp_nack_get(c, 0, &pid, &blp), ==, 0);
	g_assert_cmpuint(pid, ==, 1000);
	g_assert_cmpuint(blp, ==, 0x0005);
	g_assert_cmpint(kt_rtcp_nack_get(c, 1, &pid, &blp), ==, KT_RTCP_ERANGE);

	guint8 out[64];
	const guint16 lost[] = {1000, 1001, 1003};
	g_assert_cmpint(kt_rtcp_build_nack(out, sizeof(out), 1, 0x11223344, lost, 3), ==, 16);
	g_assert_cmpmem(out, 16, nack, sizeof(nack));

	/* Across the wrap, with a duplicate and a gap past 16. */
	const guint16 wrap[] = {65534, 65535, 65535, 0, 14, 16};
	int n = kt_rtcp_build_nack(out, sizeof(out), 1, 2, wrap, G_N_ELEMENTS(wrap));
	g_assert_cmpint(n, ==, 20);
	one_chunk(out, n, c);
	g_assert_cmpint(kt_rtcp_nack_count(c), ==, 2);
	g_assert_cmpint(kt_rtcp_nack_get(c, 0, &pid, &blp), ==, 0);
	g_assert_cmpuint(pid, ==, 65534);
	g_assert_cmpuint(blp, ==, 0x8003); /* 65535, 0, 14 */
	g_assert_cmpint(kt_rtcp_nack_get(c, 1, &pid, &blp), ==, 0);
	g_assert_cmpuint(pid, ==, 16);
	g_assert_cmpuint(blp, ==, 0);

	g_assert_cmpint(kt_rtcp_build_nack(out, 16, 1, 2, wrap, G_N_ELEMENTS(wrap)), ==,
	                KT_RTCP_ENOSPACE);
	g_assert_cmpint(kt_rtcp_build_nack(out, sizeof(out), 1, 2, wrap, 0), ==, KT_RTCP_EINVAL);
}

static void test_fir_pli(void)
{
	KtRtcpChunk c[2];
	guint32 ssrc;
	guint8 seqnr;
	one_chunk(fir, sizeof(fir), c);
	g_assert_cmpint(kt_rtcp_fir_count(c), ==, 1);
	g_assert_cmpint(kt_rtcp_fir_get(c, 0, &ssrc, &seqnr), ==, 0);
	g_assert_cmpuint(ssrc, ==, 0x11223344);
	g_assert_cmpuint(seqnr, ==, 7);
	g_assert_cmpint(kt_rtcp_fir_get(c, 1, &ssrc, &seqnr), ==, KT_RTCP_ERANGE);
	g_assert_cmpuint(kt_rtcp_fb_get_media_ssrc(c), ==, 0);

	guint8 out[32];
	g_assert_cmpint(kt_rtcp_build_fir(out, sizeof(out), 1, 0x11223344, 7), ==, 20);
	g_assert_cmpmem(out, 20, fir, sizeof(fir));
	g_assert_cmpint(kt_rtcp_build_fir(out, 19, 1, 0x11223344, 7), ==, KT_RTCP_ENOSPACE);

	g_assert_cmpint(kt_rtcp_build_pli(out, sizeof(out), 1, 0x11223344), ==, 12);
	g_assert_cmpmem(out, 12, pli, sizeof(pli));
	one_chunk(out, 12, c);
	g_assert_cmpuint(c[0].type, ==, KT_RTCP_PSFB);
	g_assert_cmpuint(c[0].count, ==, KT_RTCP_FB_PLI);
	g_assert_cmpuint(kt_rtcp_fb_get_media_ssrc(c), ==, 0x11223344);
	g_assert_cmpint(kt_rtcp_fir_count(c), ==, KT_RTCP_ETYPE);
	g_assert_cmpint(kt_rtcp_build_pli(out, 11, 1, 2), ==, KT_RTCP_ENOSPACE);
}

static void assert_block_eq(const KtRtcpReportBlock *a, const KtRtcpReportBlock *b)
{
	g_assert_cmpuint(a->ssrc, ==, b->ssrc);
	g_assert_cmpuint(a->fraction_lost, ==, b->fraction_lost);
	g_assert_cmpint(a->cumulative_lost, ==, b->cumulative_lost);
	g_assert_cmpuint(a->highest_seq, ==, b->highest_seq);
	g_assert_cmpuint(a->jitter, ==, b->jitter);
	g_assert_cmpuint(a->lsr, ==, b->lsr);
	g_assert_cmpuint(a->dlsr, ==, b->dlsr);
}

static void test_sr_rr_roundtrip(void)
{
	KtRtcpSenderInfo si = {0xAABBCCDD, 0xE1234567, 0x89ABCDEF, 123456, 777, 888888};
	KtRtcpReportBlock blocks[3] = {
	    {1, 255, -5, 0x00020010, 12, 0xDEADBEEF, 99},
	    {2, 0, 0x7FFFFF, 1, 0, 0, 0},
	    {3, 1, 10000000 /* clamps to 0x7FFFFF */, 2, 3, 4, 5},
	};
	guint8 out[256];
	KtRtcpChunk c[2];
	KtRtcpSenderInfo si2;
	KtRtcpReportBlock b;

	int n = kt_rtcp_build_sr(out, sizeof(out), &si, blocks, 3);
	g_assert_cmpint(n, ==, 28 + 3 * 24);
	g_assert_cmpint(kt_rtcp_build_sr(out, n - 1, &si, blocks, 3), ==, KT_RTCP_ENOSPACE);
	one_chunk(out, n, c);
	g_assert_cmpuint(c[0].count, ==, 3);
	g_assert_cmpint(kt_rtcp_parse_sr(c, &si2), ==, 0);
	g_assert_cmpmem(&si, sizeof(si), &si2, sizeof(si2));
	g_assert_cmpuint(kt_rtcp_get_sender_ssrc(c), ==, 0xAABBCCDD);
	for (guint i = 0; i < 2; i++) {
		g_assert_cmpint(kt_rtcp_get_report_block(c, i, &b), ==, 0);
		assert_block_eq(&b, &blocks[i]);
	}
	g_assert_cmpint(kt_rtcp_get_report_block(c, 2, &b), ==, 0);
	g_assert_cmpint(b.cumulative_lost, ==, 0x7FFFFF);
	g_assert_cmpint(kt_rtcp_get_report_block(c, 3, &b), ==, KT_RTCP_ERANGE);

	n = kt_rtcp_build_rr(out, sizeof(out), 0x01020304, blocks, 2);
	g_assert_cmpint(n, ==, 8 + 2 * 24);
	one_chunk(out, n, c);
	g_assert_cmpuint(c[0].type, ==, KT_RTCP_RR);
	g_assert_cmpuint(kt_rtcp_get_sender_ssrc(c), ==, 0x01020304);
	g_assert_cmpint(kt_rtcp_parse_sr(c, &si2), ==, KT_RTCP_ETYPE);
	g_assert_cmpint(kt_rtcp_get_report_block(c, 0, &b), ==, 0);
	g_assert_cmpint(b.cumulative_lost, ==, -5);
	g_assert_cmpint(kt_rtcp_build_rr(out, 7, 1, NULL, 0), ==, KT_RTCP_ENOSPACE);
	g_assert_cmpint(kt_rtcp_build_rr(out, 8, 1, NULL, 0), ==, 8);
	g_assert_cmpint(kt_rtcp_build_rr(out, sizeof(out), 1, blocks, 32), ==, KT_RTCP_EINVAL);
}

static void test_sdes_remb_builders(void)
{
	guint8 out[512];
	KtRtcpChunk c[2];
	char name[257];

	/* CNAME lengths around the word boundary all parse and end in a null. */
	for (guint len = 0; len <= 8; len++) {
		memset(name, 'x', len);
		name[len] = '\0';
		int n = kt_rtcp_build_sdes_cname(out, sizeof(out), 5, name);
		g_assert_cmpint(n % 4, ==, 0);
		g_assert_cmpint(n, >=, (int)(8 + 2 + len + 1));
		one_chunk(out, n, c);
		g_assert_cmpuint(out[9], ==, len);
		g_assert_cmpuint(out[n - 1], ==, 0);
		g_assert_cmpint(kt_rtcp_build_sdes_cname(out, n - 1, 5, name), ==,
		                KT_RTCP_ENOSPACE);
	}
	memset(name, 'x', 256);
	name[256] = '\0';
	g_assert_cmpint(kt_rtcp_build_sdes_cname(out, sizeof(out), 5, name), ==, KT_RTCP_EINVAL);
	name[255] = '\0';
	g_assert_cmpint(kt_rtcp_build_sdes_cname(out, sizeof(out), 5, name), ==, 268);

	/* REMB: exact for small rates, rounded down to 18 bits for large. */
	const guint64 rates[] = {0, 1, 262143, 262144, 2500000, 1ull << 40, G_MAXUINT64};
	const guint32 ssrcs[] = {7, 8, 9};
	for (guint i = 0; i < G_N_ELEMENTS(rates); i++) {
		guint64 got = 0;
		guint32 s;
		int n = kt_rtcp_build_remb(out, sizeof(out), 1, rates[i], ssrcs, 3);
		g_assert_cmpint(n, ==, 32);
		one_chunk(out, n, c);
		g_assert_cmpint(kt_rtcp_remb_parse(c, &got), ==, 3);
		g_assert_cmpuint(got, <=, rates[i]);
		g_assert_cmpuint(got, >=, rates[i] - rates[i] / 131072);
		g_assert_cmpint(kt_rtcp_remb_get_ssrc(c, 2, &s), ==, 0);
		g_assert_cmpuint(s, ==, 9);
	}
	g_assert_cmpint(kt_rtcp_build_remb(out, 31, 1, 1, ssrcs, 3), ==, KT_RTCP_ENOSPACE);
	g_assert_cmpint(kt_rtcp_build_remb(out, sizeof(out), 1, 1, ssrcs, 256), ==, KT_RTCP_EINVAL);
}

static void test_remb_bad(void)
{
	KtRtcpChunk c[2];
	guint64 bitrate;
	/* "REMX" identifier, then a REMB promising 5 SSRCs with room for 1. */
	guint8 remx[sizeof(rr_remb) - 32];
	memcpy(remx, rr_remb + 32, sizeof(remx));
	remx[15] = 'X';
	one_chunk(remx, sizeof(remx), c);
	g_assert_cmpint(kt_rtcp_remb_parse(c, &bitrate), ==, KT_RTCP_ETYPE);
	remx[15] = 'B';
	remx[16] = 5;
	one_chunk(remx, sizeof(remx), c);
	g_assert_cmpint(kt_rtcp_remb_parse(c, &bitrate), ==, KT_RTCP_ETRUNCATED);
	/* Exponent 63 with a full mantissa saturates instead of wrapping. */
	remx[16] = 1;
	remx[17] = 0xFF;
	remx[18] = 0xFF;
	remx[19] = 0xFF;
	one_chunk(remx, sizeof(remx), c);
	g_assert_cmpint(kt_rtcp_remb_parse(c, &bitrate), ==, 1);
	g_assert_cmpuint(bitrate, ==, G_MAXUINT64);
	/* AFB too short for the REMB header. */
	const guint8 afb[] = {0x8F, 0xCE, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B'};
	one_chunk(afb, sizeof(afb), c);
	g_assert_cmpint(kt_rtcp_remb_parse(c, &bitrate), ==, KT_RTCP_ETYPE);
}

static void test_iter_bad(void)
{
	KtRtcpIter it;
	KtRtcpChunk c;

	/* Every truncation of the compound fails, except at a packet boundary. */
	for (gsize n = 1; n < sizeof(rr_remb); n++) {
		guint8 *p = g_memdup2(rr_remb, n);
		int r;
		kt_rtcp_iter_init(&it, p, n);
		while ((r = kt_rtcp_iter_next(&it, &c)) > 0)
			;
		if (n == 32)
			g_assert_cmpint(r, ==, 0);
		else
			g_assert_cmpint(r, <, 0);
		g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 0);
		g_free(p);
	}
	const guint8 v1[] = {0x41, 0xC9, 0x00, 0x01, 0, 0, 0, 1};
	kt_rtcp_iter_init(&it, v1, sizeof(v1));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, KT_RTCP_EVERSION);
	const guint8 overrun[] = {0x80, 0xC9, 0xFF, 0xFF, 0, 0, 0, 1};
	kt_rtcp_iter_init(&it, overrun, sizeof(overrun));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, KT_RTCP_ELENGTH);
	const guint8 pad0[] = {0xA0, 0xC9, 0x00, 0x01, 0, 0, 0, 0};
	kt_rtcp_iter_init(&it, pad0, sizeof(pad0));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, KT_RTCP_ELENGTH);
	/* Valid padding is stripped from the chunk. */
	const guint8 padded[] = {0xA0, 0xC9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4};
	kt_rtcp_iter_init(&it, padded, sizeof(padded));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpuint(c.len, ==, 8);
	kt_rtcp_iter_init(&it, NULL, 10);
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 0);

	/* RR claiming two blocks but carrying one. */
	guint8 rr2[32];
	memcpy(rr2, rr_remb, 32);
	rr2[0] = 0x82;
	KtRtcpReportBlock b;
	kt_rtcp_iter_init(&it, rr2, sizeof(rr2));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpint(kt_rtcp_get_report_block(&c, 0, &b), ==, 0);
	g_assert_cmpint(kt_rtcp_get_report_block(&c, 1, &b), ==, KT_RTCP_ETRUNCATED);
	/* SR too short for its sender info; feedback too short for its head. */
	const guint8 short_sr[] = {0x80, 0xC8, 0x00, 0x01, 0, 0, 0, 1};
	KtRtcpSenderInfo si;
	kt_rtcp_iter_init(&it, short_sr, sizeof(short_sr));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpint(kt_rtcp_parse_sr(&c, &si), ==, KT_RTCP_ETRUNCATED);
	const guint8 short_fb[] = {0x81, 0xCD, 0x00, 0x01, 0, 0, 0, 1};
	kt_rtcp_iter_init(&it, short_fb, sizeof(short_fb));
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpint(kt_rtcp_nack_count(&c), ==, KT_RTCP_ETRUNCATED);
	g_assert_cmpuint(kt_rtcp_fb_get_media_ssrc(&c), ==, 0);
}

/* Random compound-ish garbage through every accessor: no crash, no
 * overread (the buffer is heap-allocated at its exact size). */
static void test_garbage(void)
{
	GRand *rand = g_rand_new_with_seed(42);
	for (guint i = 0; i < 20000; i++) {
		gsize n = g_rand_int_range(rand, 0, 80);
		guint8 *p = g_malloc(n > 0 ? n : 1);
		for (gsize j = 0; j < n; j++)
			p[j] = (guint8)g_rand_int(rand);
		/* Bias towards plausible headers so the accessors get exercised. */
		if (n >= 4) {
			p[0] = (guint8)(0x80 | (p[0] & 0x3F));
			p[1] = (guint8)(200 + g_rand_int_range(rand, 0, 8));
			p[2] = 0;
			p[3] = (guint8)(p[3] % 20);
		}
		KtRtcpIter it;
		KtRtcpChunk c;
		kt_rtcp_iter_init(&it, p, n);
		while (kt_rtcp_iter_next(&it, &c) > 0) {
			KtRtcpSenderInfo si;
			KtRtcpReportBlock b;
			guint16 pid, blp;
			guint32 ssrc;
			guint8 seqnr;
			guint64 br;
			kt_rtcp_parse_sr(&c, &si);
			kt_rtcp_get_sender_ssrc(&c);
			kt_rtcp_fb_get_media_ssrc(&c);
			for (guint k = 0; k < 32; k++) {
				kt_rtcp_get_report_block(&c, k, &b);
				kt_rtcp_nack_get(&c, k, &pid, &blp);
				kt_rtcp_fir_get(&c, k, &ssrc, &seqnr);
				kt_rtcp_remb_get_ssrc(&c, k, &ssrc);
			}
			kt_rtcp_remb_parse(&c, &br);
		}
		g_free(p);
	}
	g_rand_free(rand);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtcp/rr-remb", test_rr_remb);
	g_test_add_func("/rtcp/sr-sdes", test_sr_sdes);
	g_test_add_func("/rtcp/nack", test_nack);
	g_test_add_func("/rtcp/fir-pli", test_fir_pli);
	g_test_add_func("/rtcp/sr-rr-roundtrip", test_sr_rr_roundtrip);
	g_test_add_func("/rtcp/sdes-remb-builders", test_sdes_remb_builders);
	g_test_add_func("/rtcp/remb-bad", test_remb_bad);
	g_test_add_func("/rtcp/iter-bad", test_iter_bad);
	g_test_add_func("/rtcp/garbage", test_garbage);
	return g_test_run();
}
