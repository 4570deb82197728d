/* Unit tests for kt-rtp (parsing, rewriting, keyframes) and kt-rtp-stats. */
#include <string.h>

#include <glib.h>

#include "kt-rtp-stats.h"
#include "kt-rtp.h"

/* Chrome-like packet: PT 96, marker, one-byte extensions (id 1 audio level,
 * id 3 transport-wide seq) padded to a word, 4 payload bytes. */
static const guint8 chrome_rtp[] = {
    0x90, 0xE0, 0x12, 0x34, 0x00, 0x01, 0xE2, 0x40, 0x11, 0x22, 0x33, 0x44, 0xBE, 0xDE,
    0x00, 0x02, 0x10, 0xAA, 0x31, 0x00, 0x05, 0x00, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF,
};

/* Copies a prefix of a vector into a heap buffer of exactly that size, so
 * AddressSanitizer catches any read past the end. */
static guint8 *dup_exact(const guint8 *src, gsize len)
{
	guint8 *p = g_malloc(len > 0 ? len : 1);
	memcpy(p, src, len);
	return p;
}

static void test_demux(void)
{
	guint8 stun[20] = {0x00, 0x01};
	guint8 dtls[13] = {22, 0xFE, 0xFD};
	guint8 rtp[12] = {0x80, 0x60};
	guint8 rtp_marker_pt127[12] = {0x80, 0xFF};
	guint8 rtcp[8] = {0x80, 201};
	guint8 other[20] = {70};

	g_assert_cmpint(kt_rtp_demux(stun, sizeof(stun)), ==, KT_PACKET_STUN);
	g_assert_cmpint(kt_rtp_demux(dtls, sizeof(dtls)), ==, KT_PACKET_DTLS);
	g_assert_cmpint(kt_rtp_demux(rtp, sizeof(rtp)), ==, KT_PACKET_RTP);
	g_assert_cmpint(kt_rtp_demux(rtp_marker_pt127, 12), ==, KT_PACKET_RTP);
	g_assert_cmpint(kt_rtp_demux(rtcp, sizeof(rtcp)), ==, KT_PACKET_RTCP);
	g_assert_cmpint(kt_rtp_demux(other, sizeof(other)), ==, KT_PACKET_UNKNOWN);
	/* Too short for their kind. */
	g_assert_cmpint(kt_rtp_demux(stun, 19), ==, KT_PACKET_UNKNOWN);
	g_assert_cmpint(kt_rtp_demux(rtp, 11), ==, KT_PACKET_UNKNOWN);
	g_assert_cmpint(kt_rtp_demux(rtcp, 1), ==, KT_PACKET_UNKNOWN);
	g_assert_cmpint(kt_rtp_demux(NULL, 0), ==, KT_PACKET_UNKNOWN);
	g_assert_cmpint(kt_rtp_demux(rtp, 0), ==, KT_PACKET_UNKNOWN);
}

static void test_parse_chrome(void)
{
	KtRtpHeader h;
	g_assert_cmpint(kt_rtp_parse(chrome_rtp, sizeof(chrome_rtp), &h), ==, KT_RTP_OK);
	g_assert_cmpuint(h.version, ==, 2);
	g_assert_true(h.marker);
	g_assert_true(h.extension);
	g_assert_false(h.padding);
	g_assert_cmpuint(h.payload_type, ==, 96);
	g_assert_cmpuint(h.seq, ==, 0x1234);
	g_assert_cmpuint(h.timestamp, ==, 123456);
	g_assert_cmpuint(h.ssrc, ==, 0x11223344);
	g_assert_cmpuint(h.ext_profile, ==, 0xBEDE);
	g_assert_cmpuint(h.ext_offset, ==, 16);
	g_assert_cmpuint(h.ext_len, ==, 8);
	g_assert_cmpuint(h.header_len, ==, 24);
	g_assert_cmpuint(h.payload_offset, ==, 24);
	g_assert_cmpuint(h.payload_len, ==, 4);

	const guint8 *data = NULL;
	g_assert_cmpint(kt_rtp_find_extension(chrome_rtp, &h, 1, &data), ==, 1);
	g_assert_cmpuint(data[0], ==, 0xAA);
	g_assert_cmpint(kt_rtp_find_extension(chrome_rtp, &h, 3, &data), ==, 2);
	g_assert_cmpuint(kt_rtp_read_be16(data), ==, 5);
	g_assert_cmpint(kt_rtp_find_extension(chrome_rtp, &h, 2, &data), ==, -1);
	g_assert_cmpint(kt_rtp_find_extension(chrome_rtp, &h, 0, &data), ==, -1);
	g_assert_cmpint(kt_rtp_find_extension(chrome_rtp, &h, 15, &data), ==, -1);
}

static void test_parse_csrc_padding(void)
{
	/* CC=2, padding of 3 bytes after a 2-byte payload. */
	const guint8 pkt[] = {0xA2, 0x08, 0x00, 0x01, 0, 0, 0, 1,    0,    0,    0,    2,   0,
	                      0,    0,    3,    0,    0, 0, 4, 0x55, 0x66, 0x00, 0x00, 0x03};
	KtRtpHeader h;
	g_assert_cmpint(kt_rtp_parse(pkt, sizeof(pkt), &h), ==, KT_RTP_OK);
	g_assert_cmpuint(h.csrc_count, ==, 2);
	g_assert_false(h.marker);
	g_assert_cmpuint(h.payload_type, ==, 8);
	g_assert_cmpuint(h.header_len, ==, 20);
	g_assert_cmpuint(h.padding_len, ==, 3);
	g_assert_cmpuint(h.payload_len, ==, 2);
	g_assert_cmpuint(pkt[h.payload_offset], ==, 0x55);

	const guint8 *data;
	g_assert_cmpint(kt_rtp_find_extension(pkt, &h, 1, &data), ==, -1);
}

static void test_parse_bad(void)
{
	KtRtpHeader h;
	/* Every truncation of a valid packet that cuts the header is rejected. */
	for (gsize n = 0; n < 24; n++) {
		guint8 *p = dup_exact(chrome_rtp, n);
		g_assert_cmpint(kt_rtp_parse(p, n, &h), ==, KT_RTP_ETRUNCATED);
		g_free(p);
	}
	guint8 v1[12] = {0x40, 0x60};
	g_assert_cmpint(kt_rtp_parse(v1, sizeof(v1), &h), ==, KT_RTP_EVERSION);
	/* CSRC count 15 but only 12 bytes. */
	guint8 cc[16] = {0x8F, 0x60};
	g_assert_cmpint(kt_rtp_parse(cc, sizeof(cc), &h), ==, KT_RTP_ETRUNCATED);
	/* Extension length 0xFFFF words. */
	guint8 ext[20] = {0x90, 0x60, [12] = 0xBE, 0xDE, 0xFF, 0xFF};
	g_assert_cmpint(kt_rtp_parse(ext, sizeof(ext), &h), ==, KT_RTP_ETRUNCATED);
	/* Padding count 0, and padding reaching into the header. */
	guint8 pad0[14] = {0xA0, 0x60, [13] = 0};
	g_assert_cmpint(kt_rtp_parse(pad0, sizeof(pad0), &h), ==, KT_RTP_EPADDING);
	guint8 pad_big[14] = {0xA0, 0x60, [13] = 3};
	g_assert_cmpint(kt_rtp_parse(pad_big, sizeof(pad_big), &h), ==, KT_RTP_EPADDING);
	guint8 pad_all[14] = {0xA0, 0x60, [13] = 2};
	g_assert_cmpint(kt_rtp_parse(pad_all, sizeof(pad_all), &h), ==, KT_RTP_OK);
	g_assert_cmpuint(h.payload_len, ==, 0);
	/* Longer than a UDP datagram. */
	guint8 *huge = g_malloc0(70000);
	huge[0] = 0x80;
	g_assert_cmpint(kt_rtp_parse(huge, 70000, &h), ==, KT_RTP_ETOOBIG);
	g_free(huge);
}

static void test_extension_two_byte(void)
{
	/* Profile 0x1000: padding byte, id 5 with 0 bytes, id 200 with 3 bytes. */
	const guint8 pkt[] = {0x90, 0x60, 0,    1,   0,    0,    0,    0,
	                      0,    0,    0,    1,   0x10, 0x00, 0x00, 0x02,
	                      0x00, 0x05, 0x00, 200, 0x03, 0xA1, 0xA2, 0xA3};
	KtRtpHeader h;
	const guint8 *data = NULL;
	g_assert_cmpint(kt_rtp_parse(pkt, sizeof(pkt), &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(pkt, &h, 5, &data), ==, 0);
	g_assert_cmpint(kt_rtp_find_extension(pkt, &h, 200, &data), ==, 3);
	g_assert_cmpmem(data, 3, ((const guint8[]){0xA1, 0xA2, 0xA3}), 3);
	g_assert_cmpint(kt_rtp_find_extension(pkt, &h, 6, &data), ==, -1);

	/* An element whose length overruns the block is malformed. */
	const guint8 bad[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
	                      0,    1,    0x10, 0x00, 0x00, 0x01, 0x07, 0x09, 0xA1, 0xA2};
	g_assert_cmpint(kt_rtp_parse(bad, sizeof(bad), &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(bad, &h, 7, &data), ==, -1);
	/* Same for the one-byte form (id 2, 16 bytes in a 4-byte block). */
	const guint8 bad1[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
	                       0,    1,    0xBE, 0xDE, 0x00, 0x01, 0x2F, 0x00, 0x00, 0x00};
	g_assert_cmpint(kt_rtp_parse(bad1, sizeof(bad1), &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(bad1, &h, 2, &data), ==, -1);
	/* Unknown profile. */
	const guint8 other[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
	                        0,    1,    0x12, 0x34, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00};
	g_assert_cmpint(kt_rtp_parse(other, sizeof(other), &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(other, &h, 1, &data), ==, -1);
}

/* A packet in Ketang's form (12-byte header) with @payload bytes and 4 bytes
 * of RTP padding. */
static gsize plain_packet(guint8 *buf, gsize payload)
{
	kt_rtp_write_header(buf, 64, 96, TRUE, 7, 1234, 0xCAFE);
	for (gsize i = 0; i < payload; i++)
		buf[KT_RTP_HEADER_LEN + i] = (guint8)(i + 1);
	buf[0] |= 0x20;
	memset(buf + KT_RTP_HEADER_LEN + payload, 0, 3);
	buf[KT_RTP_HEADER_LEN + payload + 3] = 4;
	return KT_RTP_HEADER_LEN + payload + 4;
}

static void check_element(const guint8 *buf, gsize len, guint8 id, const guint8 *want, guint n)
{
	KtRtpHeader h;
	const guint8 *data = NULL;

	g_assert_cmpint(kt_rtp_parse(buf, len, &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(buf, &h, id, &data), ==, (int)n);
	g_assert_cmpmem(data, n, want, n);
	g_assert_cmpuint(h.payload_len, ==, 10);
	g_assert_cmpuint(h.padding_len, ==, 4);
	for (guint i = 0; i < 10; i++)
		g_assert_cmpuint(buf[h.header_len + i], ==, i + 1);
}

/* Elements go into a new one-byte block, then after what is there: into its
 * padding when they fit, else the block grows by whole words; payload and
 * padding move on intact. */
static void test_add_extension(void)
{
	const guint8 seq[2] = {0xAB, 0xCD}, delay[3] = {0x01, 0x23, 0xE8};
	guint8 buf[128], orig[128];
	gsize len = plain_packet(buf, 10);
	int n;

	memcpy(orig, buf, len);
	n = kt_rtp_add_extension(buf, len, sizeof(buf), 3, seq, 2);
	g_assert_cmpint(n, ==, (int)len + 8); /* 0xBEDE + one word: 3 bytes and a pad */
	check_element(buf, (gsize)n, 3, seq, 2);
	n = kt_rtp_add_extension(buf, (gsize)n, sizeof(buf), 5, delay, 3);
	g_assert_cmpint(n, ==, (int)len + 12); /* 3 + 4 bytes: a second word */
	check_element(buf, (gsize)n, 3, seq, 2);
	check_element(buf, (gsize)n, 5, delay, 3);
	g_assert_cmpuint(kt_rtp_read_be16(buf + 14), ==, 2);

	/* The other order: 4 bytes fill the first word, 3 more take a second. */
	memcpy(buf, orig, len);
	n = kt_rtp_add_extension(buf, len, sizeof(buf), 5, delay, 3);
	g_assert_cmpint(n, ==, (int)len + 8);
	n = kt_rtp_add_extension(buf, (gsize)n, sizeof(buf), 3, seq, 2);
	g_assert_cmpint(n, ==, (int)len + 12);
	check_element(buf, (gsize)n, 3, seq, 2);
	check_element(buf, (gsize)n, 5, delay, 3);

	/* Two 1-byte elements (2 bytes each) share one word: the second goes into
	 * the padding the first left. */
	memcpy(buf, orig, len);
	n = kt_rtp_add_extension(buf, len, sizeof(buf), 3, seq, 1);
	n = kt_rtp_add_extension(buf, (gsize)n, sizeof(buf), 9, delay, 1);
	g_assert_cmpint(n, ==, (int)len + 8);
	check_element(buf, (gsize)n, 3, seq, 1);
	check_element(buf, (gsize)n, 9, delay, 1);

	/* Exactly enough room; one byte short changes nothing. */
	memcpy(buf, orig, len);
	g_assert_cmpint(kt_rtp_add_extension(buf, len, len + 7, 3, seq, 2), ==, KT_RTP_ENOSPACE);
	g_assert_cmpmem(buf, len, orig, len);
	g_assert_cmpint(kt_rtp_add_extension(buf, len, len + 8, 3, seq, 2), ==, (int)len + 8);
}

/* A block whose walk an id 15 ends (RFC 8285 §4.2: the receiver ignores it and all after
 * it): the new element replaces it instead of going behind it, where no receiver would
 * see it, and what followed becomes padding. Found by tests/fuzz/fuzz-rtpext.c. */
static void test_add_extension_after_id15(void)
{
	const guint8 delay[3] = {0x01, 0x40, 0x3E}, asend[3] = {0x6F, 0x88, 0x01};
	guint8 buf[128];
	gsize len = plain_packet(buf, 10);
	const guint8 *data;
	KtRtpHeader h;
	int n;

	/* abs-send-time (id 2), then an id 15 and junk: two words. */
	n = kt_rtp_add_extension(buf, len, sizeof(buf), 2, asend, 3);
	g_assert_cmpint(kt_rtp_parse(buf, (gsize)n, &h), ==, KT_RTP_OK);
	memmove(buf + 24, buf + 20, (gsize)n - 20);
	memcpy(buf + 20, (const guint8[]){0xFB, 0xFB, 0x21, 0xAA}, 4);
	kt_rtp_write_be16(buf + 14, 2);
	n += 4;
	g_assert_cmpint(kt_rtp_parse(buf, (gsize)n, &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(buf, &h, 2, &data), ==, 3);
	g_assert_cmpint(kt_rtp_find_extension(buf, &h, 5, &data), ==, -1);

	n = kt_rtp_add_extension(buf, (gsize)n, sizeof(buf), 5, delay, 3);
	g_assert_cmpint(n, ==, (int)len + 12); /* it fits where the id 15 was */
	check_element(buf, (gsize)n, 2, asend, 3);
	check_element(buf, (gsize)n, 5, delay, 3);
	g_assert_cmpint(kt_rtp_parse(buf, (gsize)n, &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(buf, &h, 2, &data), ==, 3); /* the junk is gone */
}

/* A byte of id 0 is one byte of padding whatever its length bits, for the adder as for
 * kt_rtp_find_extension: an element added after one is found there. Found by
 * tests/fuzz/fuzz-rtpext.c. */
static void test_add_extension_after_id0(void)
{
	const guint8 delay[3] = {0x01, 0x40, 0x3E}, asend[3] = {0x6F, 0x88, 0x01};
	guint8 buf[128];
	gsize len = plain_packet(buf, 10);
	const guint8 *data;
	KtRtpHeader h;
	int n;

	/* abs-send-time (id 2), then a padding byte with length bits set, then zeroes. */
	n = kt_rtp_add_extension(buf, len, sizeof(buf), 2, asend, 3);
	memmove(buf + 24, buf + 20, (gsize)n - 20);
	memcpy(buf + 20, (const guint8[]){0x05, 0x00, 0x00, 0x00}, 4);
	kt_rtp_write_be16(buf + 14, 2);
	n += 4;
	n = kt_rtp_add_extension(buf, (gsize)n, sizeof(buf), 5, delay, 3);
	g_assert_cmpint(n, ==, (int)len + 12);
	check_element(buf, (gsize)n, 2, asend, 3);
	check_element(buf, (gsize)n, 5, delay, 3);
	g_assert_cmpint(kt_rtp_parse(buf, (gsize)n, &h), ==, KT_RTP_OK);
	g_assert_cmpint(kt_rtp_find_extension(buf, &h, 2, &data), ==, 3);
}

/* What it refuses, leaving the packet as it was: ids outside 1..14, sizes
 * outside 1..16, CSRCs, another version, a two-byte or unknown profile, a
 * block that overruns the packet or whose element overruns the block. */
static void test_add_extension_bad(void)
{
	const guint8 v[17] = {0};
	const guint8 two_byte[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
	                           0,    1,    0x10, 0x00, 0x00, 0x01, 0x05, 0x01, 0xA1, 0x00};
	const guint8 overrun[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
	                          0,    1,    0xBE, 0xDE, 0x00, 0x01, 0x2F, 0x00, 0x00, 0x00};
	const guint8 long_block[] = {0x90, 0x60, 0,    1,    0,    0,    0,    0,    0,    0,
	                             0,    1,    0xBE, 0xDE, 0x00, 0x09, 0x10, 0x00, 0x00, 0x00};
	guint8 buf[128], orig[128];
	gsize len = plain_packet(buf, 10);

	memcpy(orig, buf, len);
	g_assert_cmpint(kt_rtp_add_extension(buf, len, sizeof(buf), 0, v, 2), ==, KT_RTP_EVERSION);
	g_assert_cmpint(kt_rtp_add_extension(buf, len, sizeof(buf), 15, v, 2), ==, KT_RTP_EVERSION);
	g_assert_cmpint(kt_rtp_add_extension(buf, len, sizeof(buf), 3, v, 0), ==, KT_RTP_EVERSION);
	g_assert_cmpint(kt_rtp_add_extension(buf, len, sizeof(buf), 3, v, 17), ==, KT_RTP_EVERSION);
	g_assert_cmpint(kt_rtp_add_extension(buf, 11, sizeof(buf), 3, v, 2), ==, KT_RTP_EVERSION);
	buf[0] = 0x81; /* a CSRC */
	g_assert_cmpint(kt_rtp_add_extension(buf, len, sizeof(buf), 3, v, 2), ==, KT_RTP_EVERSION);
	buf[0] = 0x40; /* version 1 */
	g_assert_cmpint(kt_rtp_add_extension(buf, len, sizeof(buf), 3, v, 2), ==, KT_RTP_EVERSION);
	buf[0] = orig[0];
	g_assert_cmpmem(buf, len, orig, len);

	const guint8 *bad[] = {two_byte, overrun, long_block};
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		memcpy(buf, bad[i], sizeof(two_byte));
		g_assert_cmpint(kt_rtp_add_extension(buf, sizeof(two_byte), sizeof(buf), 3, v, 2),
		                ==, KT_RTP_EVERSION);
		g_assert_cmpmem(buf, sizeof(two_byte), bad[i], sizeof(two_byte));
	}
}

static void test_write_and_rewrite(void)
{
	guint8 buf[16] = {0};
	KtRtpHeader h;
	g_assert_cmpint(kt_rtp_write_header(buf, 11, 96, TRUE, 1, 2, 3), ==, KT_RTP_ENOSPACE);
	g_assert_cmpint(
	    kt_rtp_write_header(buf, sizeof(buf), 96, TRUE, 65535, 0xFFFFFFFF, 0xCAFEBABE), ==,
	    KT_RTP_HEADER_LEN);
	g_assert_cmpint(kt_rtp_parse(buf, sizeof(buf), &h), ==, KT_RTP_OK);
	g_assert_true(h.marker);
	g_assert_cmpuint(h.payload_type, ==, 96);
	g_assert_cmpuint(h.seq, ==, 65535);
	g_assert_cmpuint(h.timestamp, ==, 0xFFFFFFFF);
	g_assert_cmpuint(h.ssrc, ==, 0xCAFEBABE);
	g_assert_cmpuint(h.payload_len, ==, 4);

	kt_rtp_set_payload_type(buf, 111);
	kt_rtp_set_seq(buf, 7);
	kt_rtp_set_timestamp(buf, 90000);
	kt_rtp_set_ssrc(buf, 42);
	g_assert_cmpint(kt_rtp_parse(buf, sizeof(buf), &h), ==, KT_RTP_OK);
	g_assert_true(h.marker);
	g_assert_cmpuint(h.payload_type, ==, 111);
	g_assert_cmpuint(h.seq, ==, 7);
	g_assert_cmpuint(h.timestamp, ==, 90000);
	g_assert_cmpuint(h.ssrc, ==, 42);
}

static void test_vp8_keyframe(void)
{
	/* X, S, PID 0; I with 15-bit picture id; frame tag P=0, start code. */
	const guint8 key[] = {0x90, 0x80, 0x81, 0x23, 0x50, 0x0B, 0x00,
	                      0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01};
	const guint8 inter[] = {0x90, 0x80, 0x81, 0x24, 0x31, 0x07, 0x00, 0x11};
	/* I (7-bit id), L, T: three descriptor bytes before the tag. */
	const guint8 key_ilt[] = {0x90, 0xE0, 0x05, 0x01, 0x40, 0x50, 0x0B, 0x00};
	const guint8 no_ext_key[] = {0x10, 0x50, 0x0B, 0x00};
	const guint8 continuation[] = {0x80, 0x80, 0x81, 0x23, 0x50};
	const guint8 other_partition[] = {0x11, 0x50};

	g_assert_true(kt_rtp_vp8_is_keyframe(key, sizeof(key)));
	g_assert_false(kt_rtp_vp8_is_keyframe(inter, sizeof(inter)));
	g_assert_true(kt_rtp_vp8_is_keyframe(key_ilt, sizeof(key_ilt)));
	g_assert_true(kt_rtp_vp8_is_keyframe(no_ext_key, sizeof(no_ext_key)));
	g_assert_false(kt_rtp_vp8_is_keyframe(continuation, sizeof(continuation)));
	g_assert_false(kt_rtp_vp8_is_keyframe(other_partition, sizeof(other_partition)));
	/* Every truncation before the frame tag is not a keyframe. */
	for (gsize n = 0; n <= 4; n++) {
		guint8 *p = dup_exact(key, n);
		g_assert_false(kt_rtp_vp8_is_keyframe(p, n));
		g_free(p);
	}
	g_assert_false(kt_rtp_vp8_is_keyframe(NULL, 0));
}

static void test_h264_keyframe(void)
{
	/* STAP-A: SPS (10 bytes), PPS (4), IDR (5). */
	const guint8 stap_sps[] = {0x78, 0x00, 0x0A, 0x67, 0x42, 0xC0, 0x1F, 0xDA, 0x01,
	                           0x40, 0x16, 0xEC, 0x04, 0x00, 0x04, 0x68, 0xCE, 0x3C,
	                           0x80, 0x00, 0x05, 0x65, 0x88, 0x84, 0x00, 0x33};
	/* STAP-A: SEI (6) then PPS only. */
	const guint8 stap_nokey[] = {0x78, 0x00, 0x02, 0x06, 0x05, 0x00,
	                             0x04, 0x68, 0xCE, 0x3C, 0x80};
	/* STAP-A whose second size overruns, hiding an IDR byte after it. */
	const guint8 stap_bad[] = {0x78, 0x00, 0x01, 0x06, 0x00, 0x30, 0x65};
	const guint8 fu_a_idr_start[] = {0x7C, 0x85, 0x88, 0x84};
	const guint8 fu_a_idr_middle[] = {0x7C, 0x05, 0x88};
	const guint8 fu_a_p_start[] = {0x5C, 0x81, 0x9A};
	const guint8 idr[] = {0x65, 0x88};
	const guint8 sps[] = {0x67, 0x42};
	const guint8 p_slice[] = {0x41, 0x9A};

	g_assert_true(kt_rtp_h264_is_keyframe(stap_sps, sizeof(stap_sps)));
	g_assert_false(kt_rtp_h264_is_keyframe(stap_nokey, sizeof(stap_nokey)));
	g_assert_false(kt_rtp_h264_is_keyframe(stap_bad, sizeof(stap_bad)));
	g_assert_true(kt_rtp_h264_is_keyframe(fu_a_idr_start, sizeof(fu_a_idr_start)));
	g_assert_false(kt_rtp_h264_is_keyframe(fu_a_idr_middle, sizeof(fu_a_idr_middle)));
	g_assert_false(kt_rtp_h264_is_keyframe(fu_a_p_start, sizeof(fu_a_p_start)));
	g_assert_false(kt_rtp_h264_is_keyframe(fu_a_idr_start, 1));
	g_assert_true(kt_rtp_h264_is_keyframe(idr, sizeof(idr)));
	g_assert_true(kt_rtp_h264_is_keyframe(sps, sizeof(sps)));
	g_assert_false(kt_rtp_h264_is_keyframe(p_slice, sizeof(p_slice)));
	g_assert_false(kt_rtp_h264_is_keyframe(NULL, 0));
	for (gsize n = 0; n < sizeof(stap_sps); n++) {
		guint8 *p = dup_exact(stap_sps, n);
		/* The SPS is complete from 13 bytes on. */
		g_assert_cmpint(kt_rtp_h264_is_keyframe(p, n), ==, n >= 13);
		g_free(p);
	}
}

/* Random garbage of every length never crashes or overreads. */
static void test_garbage(void)
{
	GRand *rand = g_rand_new_with_seed(1234);
	for (guint i = 0; i < 20000; i++) {
		gsize n = g_rand_int_range(rand, 0, 64);
		guint8 *p = g_malloc(n > 0 ? n : 1);
		for (gsize j = 0; j < n; j++)
			p[j] = (guint8)g_rand_int(rand);
		if (n > 0 && (i & 1))
			p[0] = (guint8)((p[0] & 0x3F) | 0x80); /* mostly valid version */
		KtRtpHeader h;
		kt_rtp_demux(p, n);
		if (kt_rtp_parse(p, n, &h) == KT_RTP_OK) {
			g_assert_cmpuint((gsize)h.payload_offset + h.payload_len + h.padding_len,
			                 ==, n);
			const guint8 *data;
			for (guint id = 1; id < 256; id += 7)
				kt_rtp_find_extension(p, &h, (guint8)id, &data);
		}
		kt_rtp_vp8_is_keyframe(p, n);
		kt_rtp_h264_is_keyframe(p, n);
		g_free(p);
	}
	g_rand_free(rand);
}

/* --- kt-rtp-stats ------------------------------------------------------ */

static void test_stats_empty(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	kt_rtp_stats_init(&s, 0xABCD, 90000);
	kt_rtp_stats_fill_report(&s, 1000, &b);
	g_assert_cmpuint(b.ssrc, ==, 0xABCD);
	g_assert_cmpint(b.cumulative_lost, ==, 0);
	g_assert_cmpuint(b.fraction_lost, ==, 0);
	g_assert_cmpuint(b.highest_seq, ==, 0);
	g_assert_cmpuint(b.lsr, ==, 0);
	g_assert_cmpuint(b.dlsr, ==, 0);
	g_assert_cmpuint(kt_rtp_stats_get_packets(&s), ==, 0);
}

static void test_stats_wrap_steady(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	/* Opus: 20 ms frames at 48 kHz, arriving exactly on time. */
	kt_rtp_stats_init(&s, 1, 48000);
	guint16 seq = 65500;
	guint32 ts = 0xFFFFF000;
	for (guint i = 0; i < 200; i++)
		kt_rtp_stats_update(&s, (guint16)(seq + i), ts + i * 960, 5000000 + i * 20000);
	kt_rtp_stats_fill_report(&s, 9000000, &b);
	g_assert_cmpuint(b.highest_seq, ==, 65500 + 199);
	g_assert_cmpint(b.cumulative_lost, ==, 0);
	g_assert_cmpuint(b.fraction_lost, ==, 0);
	g_assert_cmpuint(b.jitter, ==, 0);
	g_assert_cmpuint(kt_rtp_stats_get_packets(&s), ==, 200);

	/* 30 fps video at 90 kHz: arrival rounding gives at most 1 unit. */
	kt_rtp_stats_init(&s, 2, 90000);
	for (guint i = 0; i < 300; i++)
		kt_rtp_stats_update(&s, (guint16)i, i * 3000, (gint64)i * 1000000 / 30);
	kt_rtp_stats_fill_report(&s, 20000000, &b);
	g_assert_cmpuint(b.jitter, <=, 1);
}

static void test_stats_loss(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	kt_rtp_stats_init(&s, 1, 90000);
	/* 100 packets, every tenth lost. */
	for (guint i = 0; i < 100; i++)
		if (i % 10 != 5)
			kt_rtp_stats_update(&s, (guint16)i, i * 3000, i * 33333);
	kt_rtp_stats_fill_report(&s, 4000000, &b);
	g_assert_cmpint(b.cumulative_lost, ==, 10);
	g_assert_cmpuint(b.fraction_lost, ==, 10 * 256 / 100);
	g_assert_cmpuint(b.highest_seq, ==, 99);

	/* Next interval: no loss, cumulative stays. */
	for (guint i = 100; i < 200; i++)
		kt_rtp_stats_update(&s, (guint16)i, i * 3000, i * 33333);
	kt_rtp_stats_fill_report(&s, 8000000, &b);
	g_assert_cmpint(b.cumulative_lost, ==, 10);
	g_assert_cmpuint(b.fraction_lost, ==, 0);

	/* A whole interval lost except its last packet. */
	kt_rtp_stats_update(&s, 299, 299 * 3000, 299 * 33333);
	kt_rtp_stats_fill_report(&s, 12000000, &b);
	g_assert_cmpint(b.cumulative_lost, ==, 109);
	g_assert_cmpuint(b.fraction_lost, ==, 99 * 256 / 100);
}

static void test_stats_reorder_duplicate(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	/* Reordered 12/13, then a duplicate of the newest packet. */
	const guint16 seqs[] = {10, 11, 13, 12, 14, 14, 15};
	kt_rtp_stats_init(&s, 1, 8000);
	for (guint i = 0; i < G_N_ELEMENTS(seqs); i++)
		kt_rtp_stats_update(&s, seqs[i], seqs[i] * 160u, seqs[i] * 20000);
	kt_rtp_stats_fill_report(&s, 1000000, &b);
	g_assert_cmpint(b.cumulative_lost, ==, 0);
	g_assert_cmpuint(b.highest_seq, ==, 15);
	g_assert_cmpuint(kt_rtp_stats_get_packets(&s), ==, 6);
}

static void test_stats_jump(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	kt_rtp_stats_init(&s, 1, 90000);
	for (guint16 i = 0; i < 10; i++)
		kt_rtp_stats_update(&s, i, i * 3000u, i * 33333);
	/* A stray far-away packet is not believed... */
	kt_rtp_stats_update(&s, 40000, 0, 400000);
	kt_rtp_stats_update(&s, 10, 30000, 433333);
	kt_rtp_stats_fill_report(&s, 500000, &b);
	g_assert_cmpuint(b.highest_seq, ==, 10);
	g_assert_cmpint(b.cumulative_lost, ==, 0);
	g_assert_cmpuint(kt_rtp_stats_get_packets(&s), ==, 11);

	/* ...but two in a row mean the sender restarted. */
	kt_rtp_stats_update(&s, 30000, 7, 466666);
	kt_rtp_stats_update(&s, 30001, 3007, 500000);
	kt_rtp_stats_update(&s, 30002, 6007, 533333);
	kt_rtp_stats_fill_report(&s, 600000, &b);
	g_assert_cmpuint(b.highest_seq, ==, 30002);
	g_assert_cmpint(b.cumulative_lost, ==, 0);
	g_assert_cmpuint(b.fraction_lost, ==, 0);
	g_assert_cmpuint(kt_rtp_stats_get_packets(&s), ==, 13);
}

static void test_stats_jitter(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	/* Every other packet 10 ms late: |D| = 900 units at 90 kHz each time. */
	kt_rtp_stats_init(&s, 1, 90000);
	for (guint i = 0; i < 500; i++) {
		gint64 arrival = (gint64)i * 40000 + ((i & 1) ? 10000 : 0);
		kt_rtp_stats_update(&s, (guint16)i, i * 3600u, arrival);
	}
	kt_rtp_stats_fill_report(&s, 30000000, &b);
	g_assert_cmpuint(b.jitter, >=, 890);
	g_assert_cmpuint(b.jitter, <=, 900);
}

static void test_stats_dlsr(void)
{
	KtRtpStats s;
	KtRtcpReportBlock b;
	kt_rtp_stats_init(&s, 1, 90000);
	kt_rtp_stats_update(&s, 1, 0, 900000);
	kt_rtp_stats_on_sr(&s, 0x12345678, 0x9ABCDEF0, 1000000);
	kt_rtp_stats_fill_report(&s, 1500000, &b);
	g_assert_cmpuint(b.lsr, ==, 0x56789ABC);
	g_assert_cmpuint(b.dlsr, ==, 32768);
	kt_rtp_stats_fill_report(&s, 3250000, &b);
	g_assert_cmpuint(b.dlsr, ==, 65536 * 2 + 65536 / 4);
	/* A clock that went backwards gives 0, not garbage. */
	kt_rtp_stats_fill_report(&s, 10, &b);
	g_assert_cmpuint(b.dlsr, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtp/demux", test_demux);
	g_test_add_func("/rtp/parse/chrome", test_parse_chrome);
	g_test_add_func("/rtp/parse/csrc-padding", test_parse_csrc_padding);
	g_test_add_func("/rtp/parse/bad", test_parse_bad);
	g_test_add_func("/rtp/extension/two-byte", test_extension_two_byte);
	g_test_add_func("/rtp/extension/add", test_add_extension);
	g_test_add_func("/rtp/extension/add-after-id15", test_add_extension_after_id15);
	g_test_add_func("/rtp/extension/add-after-id0", test_add_extension_after_id0);
	g_test_add_func("/rtp/extension/add-bad", test_add_extension_bad);
	g_test_add_func("/rtp/write-rewrite", test_write_and_rewrite);
	g_test_add_func("/rtp/keyframe/vp8", test_vp8_keyframe);
	g_test_add_func("/rtp/keyframe/h264", test_h264_keyframe);
	g_test_add_func("/rtp/garbage", test_garbage);
	g_test_add_func("/rtp-stats/empty", test_stats_empty);
	g_test_add_func("/rtp-stats/wrap-steady", test_stats_wrap_steady);
	g_test_add_func("/rtp-stats/loss", test_stats_loss);
	g_test_add_func("/rtp-stats/reorder-duplicate", test_stats_reorder_duplicate);
	g_test_add_func("/rtp-stats/jump", test_stats_jump);
	g_test_add_func("/rtp-stats/jitter", test_stats_jitter);
	g_test_add_func("/rtp-stats/dlsr", test_stats_dlsr);
	return g_test_run();
}
