/* TWCC feedback (transport/kt-twcc.h): what the receiver writes reads back
 * packet by packet (received or lost, arrival to 250 µs); reports continue
 * where the last ended (wrap-around, window, size and time limits); a
 * hand-made packet parses as the draft says; malformed feedback is refused. */
#include <string.h>

#include "kt-twcc.h"

#define T0 5000000 /* µs: arrivals start 5 s into the clock */

static KtRtcpChunk chunk_of(const guint8 *buf, int len)
{
	KtRtcpIter it;
	KtRtcpChunk c = {0};

	g_assert_cmpint(len, >, 0);
	kt_rtcp_iter_init(&it, buf, (gsize)len);
	g_assert_cmpint(kt_rtcp_iter_next(&it, &c), ==, 1);
	g_assert_cmpuint(c.len, <=, (gsize)len); /* without its padding */
	g_assert_cmpuint(c.len, >, (gsize)len - 4);
	return c;
}

/* Parses @buf and checks it against arrivals[] (-1 = lost) for seqs from @base. */
static void check_report(const guint8 *buf, int len, guint16 base, const gint64 *arrivals, guint n)
{
	KtRtcpChunk c = chunk_of(buf, len);
	KtTwccFeedback fb;
	KtTwccStatus st[2048];

	g_assert_cmpint(len % 4, ==, 0);
	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st)), ==, (int)n);
	g_assert_cmphex(fb.sender_ssrc, ==, 0x11111111);
	g_assert_cmphex(fb.media_ssrc, ==, 0x22222222);
	g_assert_cmpuint(fb.base_seq, ==, base);
	for (guint i = 0; i < n; i++) {
		g_assert_cmpuint(st[i].seq, ==, (guint16)(base + i));
		g_assert_cmpint(st[i].received, ==, arrivals[i] >= 0);
		if (arrivals[i] >= 0) /* to the 250 µs tick */
			g_assert_cmpint(fb.reference_time_us + st[i].arrival_us, ==,
			                arrivals[i] / 250 * 250);
	}
}

static void test_round_trip(void)
{
	g_autoptr(GArray) at = g_array_new(FALSE, FALSE, sizeof(gint64));
	KtTwccReceiver *r = kt_twcc_receiver_new();
	guint8 buf[1500];
	KtRtcpChunk c;
	KtTwccFeedback fb;
	KtTwccStatus st[4];
	gint64 t = T0;
	int len;

	/* 100 packets from seq 100: 1 ms apart, 110-111 and 150 lost, 121 before
	 * 120 (a negative delta), 100 ms before 170 (a large delta). */
	for (guint i = 0; i < 100; i++) {
		gint64 a = -1;

		t += i == 70 ? 100000 : 1000;
		if (i != 10 && i != 11 && i != 50)
			a = i == 20 ? t + 1000 : i == 21 ? t - 1000 : t;
		g_array_append_val(at, a);
	}
	for (guint i = 0; i < 100; i++) {
		guint k = i == 20 ? 21 : i == 21 ? 20 : i; /* arrival order */

		if (g_array_index(at, gint64, k) >= 0)
			kt_twcc_receiver_record(r, (guint16)(100 + k),
			                        g_array_index(at, gint64, k));
	}
	kt_twcc_receiver_record(r, 130, t); /* a duplicate changes nothing */
	len = kt_twcc_receiver_build(r, buf, sizeof(buf), 0x11111111, 0x22222222);
	check_report(buf, len, 100, (const gint64 *)at->data, 100);

	/* Nothing new: no report. The next one starts after the last. */
	g_assert_cmpint(kt_twcc_receiver_build(r, buf, sizeof(buf), 0x11111111, 0x22222222), ==, 0);
	kt_twcc_receiver_record(r, 150, t + 5000); /* reported lost already: too late */
	kt_twcc_receiver_record(r, 200, t + 1000);
	kt_twcc_receiver_record(r, 201, t + 2000);
	len = kt_twcc_receiver_build(r, buf, sizeof(buf), 0x11111111, 0x22222222);
	c = chunk_of(buf, len);
	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st)), ==, 2);
	g_assert_cmpuint(fb.base_seq, ==, 200);
	g_assert_cmpuint(fb.fb_count, ==, 1);
	kt_twcc_receiver_free(r);
}

static void test_wrap_and_window(void)
{
	KtTwccReceiver *r = kt_twcc_receiver_new();
	gint64 at[12];
	guint8 buf[1500];
	KtRtcpChunk c;
	KtTwccFeedback fb;
	KtTwccStatus st[KT_TWCC_WINDOW];
	int len;

	for (guint i = 0; i < 12; i++) {
		at[i] = T0 + i * 2000;
		kt_twcc_receiver_record(r, (guint16)(65530 + i), at[i]);
	}
	len = kt_twcc_receiver_build(r, buf, sizeof(buf), 0x11111111, 0x22222222);
	check_report(buf, len, 65530, at, 12);

	/* A jump of 3000: only the last window is reported (the rest counts as lost). */
	kt_twcc_receiver_record(r, 3005, T0 + 100000);
	len = kt_twcc_receiver_build(r, buf, sizeof(buf), 0x11111111, 0x22222222);
	c = chunk_of(buf, len);
	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st)), ==, KT_TWCC_WINDOW);
	g_assert_cmpuint(fb.base_seq, ==, (guint16)(3005 - KT_TWCC_WINDOW + 1));
	g_assert_true(st[KT_TWCC_WINDOW - 1].received);
	g_assert_false(st[0].received);
	kt_twcc_receiver_free(r);
}

/* Reports that cannot hold everything end early and the next goes on. */
static void test_limits(void)
{
	KtTwccReceiver *r = kt_twcc_receiver_new();
	guint8 buf[1500];
	KtRtcpChunk c;
	KtTwccFeedback fb;
	KtTwccStatus st[600];
	guint covered = 0;
	int len, n;

	g_assert_cmpint(kt_twcc_receiver_build(r, buf, sizeof(buf), 1, 2), ==, 0); /* nothing yet */
	for (guint i = 0; i < 500; i++)
		kt_twcc_receiver_record(r, (guint16)i, T0 + i * 100000); /* 100 ms apart: large */
	g_assert_cmpint(kt_twcc_receiver_build(r, buf, 23, 1, 2), ==, KT_RTCP_ENOSPACE);
	while ((len = kt_twcc_receiver_build(r, buf, 200, 1, 2)) > 0) {
		g_assert_cmpint(len, <=, 200);
		c = chunk_of(buf, len);
		n = kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st));
		g_assert_cmpint(n, >, 0);
		g_assert_cmpuint(fb.base_seq, ==, covered);
		covered += (guint)n;
	}
	g_assert_cmpuint(covered, ==, 500);

	/* 10 s between two packets does not fit a 16-bit delta: two reports. */
	kt_twcc_receiver_record(r, 500, T0 + 60000000);
	kt_twcc_receiver_record(r, 501, T0 + 70000000);
	len = kt_twcc_receiver_build(r, buf, sizeof(buf), 1, 2);
	c = chunk_of(buf, len);
	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st)), ==, 1);
	len = kt_twcc_receiver_build(r, buf, sizeof(buf), 1, 2);
	c = chunk_of(buf, len);
	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st)), ==, 1);
	g_assert_cmpuint(fb.base_seq, ==, 501);
	kt_twcc_receiver_free(r);
}

/* A report written by hand from the draft: base 1, three packets received 1, 2
 * and 3 ms after reference time 1 (64 ms), as one run-length chunk. */
static const guint8 hand_made[] = {
    0xAF, 205,  0x00, 0x06,                         /* V=2 P FMT=15, RTPFB, 7 words */
    0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, /* SSRCs */
    0x00, 0x01, 0x00, 0x03,                         /* base 1, count 3 */
    0x00, 0x00, 0x01, 0x07,                         /* reference 1, fb count 7 */
    0x20, 0x03,                                     /* run: 3 x "small delta" */
    4,    4,    4,                                  /* 1 ms each */
    0x00, 0x00, 0x03,                               /* padding, its count last */
};

static void test_hand_made(void)
{
	KtRtcpChunk c = chunk_of(hand_made, sizeof(hand_made));
	KtTwccFeedback fb;
	KtTwccStatus st[3];

	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, 3), ==, 3);
	g_assert_cmpuint(fb.base_seq, ==, 1);
	g_assert_cmpint(fb.reference_time_us, ==, 64000);
	g_assert_cmpuint(fb.fb_count, ==, 7);
	for (guint i = 0; i < 3; i++) {
		g_assert_true(st[i].received);
		g_assert_cmpint(st[i].arrival_us, ==, 1000 * (i + 1));
	}
	/* Fewer statuses asked for than reported: still the count. */
	g_assert_cmpint(kt_twcc_parse(&c, &fb, st, 1), ==, 3);
}

/* Parses hand_made after @mutate, through the RTCP iterator as the room
 * would: the iterator's status when it refuses the packet, else the parser's. */
static int parse_mutated(void (*mutate)(guint8 *buf, gsize *len))
{
	guint8 buf[sizeof(hand_made)];
	gsize len = sizeof(buf);
	KtRtcpIter it;
	KtRtcpChunk c;
	KtTwccFeedback fb;
	KtTwccStatus st[8];
	int ok;

	memcpy(buf, hand_made, sizeof(buf));
	mutate(buf, &len);
	buf[3] = (guint8)(len / 4 - 1 + (len % 4 != 0)); /* the length field follows the cut */
	kt_rtcp_iter_init(&it, buf, len);
	ok = kt_rtcp_iter_next(&it, &c);
	if (ok <= 0)
		return ok;
	return kt_twcc_parse(&c, &fb, st, G_N_ELEMENTS(st));
}

static void not_twcc(guint8 *b, gsize *len)
{
	b[0] = (b[0] & ~0x1F) | 1; /* a NACK */
}

static void short_header(guint8 *b, gsize *len)
{
	b[0] &= ~0x20;
	*len = 16;
}

static void more_statuses_than_chunks(guint8 *b, gsize *len)
{
	b[0] &= ~0x20;
	b[15] = 200;
	memset(b + 22, 0, *len - 22); /* after the run of 3: empty runs to the end */
}

static void deltas_missing(guint8 *b, gsize *len)
{
	b[0] &= ~0x20; /* no padding: the run claims 3 deltas, 2 bytes follow */
	*len = 24;
}

static void reserved_symbol(guint8 *b, gsize *len)
{
	b[20] = 0x60; /* run-length of symbol 3 */
}

static void zero_padding_count(guint8 *b, gsize *len)
{
	b[*len - 1] = 0;
}

static void padding_past_header(guint8 *b, gsize *len)
{
	b[*len - 1] = 40;
}

static void empty_runs_only(guint8 *b, gsize *len)
{
	b[0] &= ~0x20;
	memset(b + 20, 0, *len - 20); /* run-length chunks of length 0, no statuses */
}

static void test_bad_input(void)
{
	g_assert_cmpint(parse_mutated(not_twcc), ==, KT_RTCP_ETYPE);
	g_assert_cmpint(parse_mutated(short_header), ==, KT_RTCP_ETRUNCATED);
	g_assert_cmpint(parse_mutated(more_statuses_than_chunks), ==, KT_RTCP_ETRUNCATED);
	g_assert_cmpint(parse_mutated(deltas_missing), ==, KT_RTCP_ETRUNCATED);
	g_assert_cmpint(parse_mutated(reserved_symbol), ==, KT_RTCP_ELENGTH);
	/* Bad padding: the RTCP iterator refuses it before TWCC parsing. */
	g_assert_cmpint(parse_mutated(zero_padding_count), <, 0);
	g_assert_cmpint(parse_mutated(padding_past_header), <, 0);
	g_assert_cmpint(parse_mutated(empty_runs_only), ==, KT_RTCP_ETRUNCATED);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/twcc/round-trip", test_round_trip);
	g_test_add_func("/twcc/wrap-and-window", test_wrap_and_window);
	g_test_add_func("/twcc/limits", test_limits);
	g_test_add_func("/twcc/hand-made", test_hand_made);
	g_test_add_func("/twcc/bad-input", test_bad_input);
	return g_test_run();
}
