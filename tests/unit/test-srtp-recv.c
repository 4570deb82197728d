/* kt-srtp-recv: incoming SRTP unprotected on OpenSSL must read what libsrtp2 writes, for
 * both profiles, across the sequence number's wrap (the rollover counter), with CSRCs,
 * header extensions and padding; and it must take or refuse each packet of a reordered,
 * duplicated stream exactly as a libsrtp2 inbound session does (replay window of 1024).
 * A packet that fails leaves no trace. Bad input: short, not RTP, an extension or a tag
 * past the end, tampered anywhere, other keys, forged SSRCs, a full SSRC table,
 * unsupported keys. And the replay window (kt-srtp-replay) by itself. */
#include <srtp2/srtp.h>
#include <string.h>

#include "srtp-keys.h"

#include "kt-srtp-recv.h"
#include "kt-srtp-replay.h"

#define MAX_PKT 1500

typedef struct {
	guint32 words[MAX_PKT / 4]; /* 4-byte aligned, as libsrtp wants */
	int len;
} Packet;

/* Keys whose remote half is @sender's local one: what @sender protects, we unprotect. */
static KtSrtpRecv *receiver_for(const KtSrtpKeys *sender)
{
	KtSrtpKeys r;
	g_autoptr(GError) error = NULL;
	KtSrtpRecv *s;

	test_srtp_peer_keys(sender, &r);
	s = kt_srtp_recv_new(&r, &error);
	g_assert_no_error(error);
	return s;
}

/* @n packets of @ssrcs (interleaved) protected by libsrtp2; sequence numbers start at
 * @first[i] so that some cross the wrap; @plain keeps the clear packets. */
static void protect_stream(const KtSrtpKeys *k, Packet *out, Packet *plain, guint n,
                           const guint32 *ssrcs, guint16 *next_seq, guint n_ssrcs)
{
	srtp_t tx = test_libsrtp_session(k, k->local_key, k->local_salt, ssrc_any_outbound, FALSE);

	for (guint i = 0; i < n; i++) {
		guint which = i % n_ssrcs;
		guint8 *p = (guint8 *)plain[i].words;

		plain[i].len = (int)test_srtp_rtp_packet(p, ssrcs[which], next_seq[which]++, i,
		                                         (i * 37) % 1100);
		out[i] = plain[i];
		g_assert_cmpint(srtp_protect(tx, out[i].words, &out[i].len), ==,
		                srtp_err_status_ok);
	}
	srtp_dealloc(tx);
}

/* In order, across the wrap: every packet comes back as it was. */
static void test_reads_libsrtp(gconstpointer data)
{
	KtSrtpProfile profile = GPOINTER_TO_UINT(data);
	const guint32 ssrcs[3] = {0x11223344, 0xCAFEBABE, 0x00000001};
	guint16 seq[3] = {65000, 7, 40000};
	const guint n = 3000;
	g_autofree Packet *wire = g_new(Packet, n), *plain = g_new(Packet, n);
	KtSrtpKeys k;
	KtSrtpRecv *rx;

	srtp_init();
	test_srtp_random_keys(&k, profile);
	protect_stream(&k, wire, plain, n, ssrcs, seq, 3);
	rx = receiver_for(&k);
	for (guint i = 0; i < n; i++) {
		int got = kt_srtp_recv_rtp(rx, (guint8 *)wire[i].words, (gsize)wire[i].len);

		if (got != plain[i].len)
			g_error("packet %u: %d, expected %d", i, got, plain[i].len);
		g_assert_cmpmem(wire[i].words, got, plain[i].words, plain[i].len);
	}
	kt_srtp_recv_free(rx);
}

/* What a libsrtp2 session says of a packet, in KtSrtpStatus terms. */
static int libsrtp_verdict(srtp_t rx, const Packet *p)
{
	Packet copy = *p;

	switch (srtp_unprotect(rx, copy.words, &copy.len)) {
	case srtp_err_status_ok:
		return copy.len;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return KT_SRTP_ERR_REPLAY;
	case srtp_err_status_auth_fail:
		return KT_SRTP_ERR_AUTH;
	default:
		return KT_SRTP_ERR_PARAM;
	}
}

/* A network's worth of disorder: packets delivered out of order, some twice, some
 * hundreds or thousands late, across the wrap. Ours and libsrtp2's inbound session must
 * agree on every one. */
static void test_same_verdicts(gconstpointer data)
{
	KtSrtpProfile profile = GPOINTER_TO_UINT(data);
	const guint32 ssrcs[2] = {0xA1A2A3A4, 0x0BADF00D};
	guint16 seq[2] = {64000, 100};
	const guint n = 6000;
	g_autofree Packet *wire = g_new(Packet, n), *plain = g_new(Packet, n);
	g_autoptr(GRand) rand = g_rand_new_with_seed(7);
	KtSrtpKeys k;
	KtSrtpRecv *ours;
	srtp_t theirs;
	guint taken = 0, refused = 0;

	srtp_init();
	test_srtp_random_keys(&k, profile);
	protect_stream(&k, wire, plain, n, ssrcs, seq, 2);
	ours = receiver_for(&k);
	theirs = test_libsrtp_session(&k, k.local_key, k.local_salt, ssrc_any_inbound, FALSE);
	for (guint step = 0; step < 2 * n; step++) {
		/* Mostly the next packet; sometimes one a little or a lot older, or a
		 * duplicate. */
		guint i = MIN(step / 2 + (guint)g_rand_int_range(rand, 0, 4), n - 1);
		guint r = (guint)g_rand_int_range(rand, 0, 100);
		Packet p;
		int want, got;

		if (r < 5)
			i = i > 1500 ? i - (guint)g_rand_int_range(rand, 1000, 1500) : i;
		else if (r < 15)
			i = i > 64 ? i - (guint)g_rand_int_range(rand, 1, 64) : i;
		p = wire[i];
		want = libsrtp_verdict(theirs, &p);
		got = kt_srtp_recv_rtp(ours, (guint8 *)p.words, (gsize)p.len);
		if (got != want)
			g_error("step %u, packet %u: ours %d, libsrtp2 %d", step, i, got, want);
		if (got > 0) {
			g_assert_cmpmem(p.words, got, plain[i].words, plain[i].len);
			taken++;
		} else {
			refused++;
		}
	}
	g_test_message("%u taken, %u refused as replays, as libsrtp2 did", taken, refused);
	g_assert_cmpuint(refused, >, 100);
	kt_srtp_recv_free(ours);
	srtp_dealloc(theirs);
}

/* One byte changed anywhere, or the packet cut anywhere: refused, and the genuine packet
 * is taken afterwards (nothing of the bad ones stayed). */
static void test_tampered_and_truncated(gconstpointer data)
{
	KtSrtpProfile profile = GPOINTER_TO_UINT(data);
	const guint32 ssrc = 0x12345678;
	guint16 seq = 500;
	Packet wire[2], plain[2], p;
	KtSrtpKeys k;
	KtSrtpRecv *rx;

	srtp_init();
	test_srtp_random_keys(&k, profile);
	protect_stream(&k, wire, plain, 2, &ssrc, &seq, 1);
	rx = receiver_for(&k);
	/* The first one makes the SSRC known; the second is the one abused. */
	g_assert_cmpint(kt_srtp_recv_rtp(rx, (guint8 *)wire[0].words, (gsize)wire[0].len), ==,
	                plain[0].len);
	for (int at = 0; at < wire[1].len; at++) {
		int got;

		p = wire[1];
		((guint8 *)p.words)[at] ^= 0x01;
		got = kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)p.len);
		if (got >= 0)
			g_error("byte %d flipped: taken (%d)", at, got);
	}
	for (int len = 0; len < wire[1].len; len++) {
		p = wire[1];
		g_assert_cmpint(kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)len), <, 0);
	}
	p = wire[1];
	g_assert_cmpint(kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)p.len), ==, plain[1].len);
	g_assert_cmpmem(p.words, plain[1].len, plain[1].words, plain[1].len);
	/* And once only. */
	p = wire[1];
	g_assert_cmpint(kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)p.len), ==,
	                KT_SRTP_ERR_REPLAY);
	kt_srtp_recv_free(rx);
}

/* Packets of other keys, from any number of SSRCs, take no slot: the genuine SSRCs that
 * come after still get theirs. 48 SSRCs fit; the 49th is refused clearly, the others
 * unharmed. */
static void test_ssrc_slots(void)
{
	KtSrtpKeys k, other;
	KtSrtpRecv *rx;
	srtp_t tx, forger;
	Packet p;
	guint kept = 0;
	int last = 0;

	srtp_init();
	test_srtp_random_keys(&k, KT_SRTP_PROFILE_AES128_CM_SHA1_80);
	test_srtp_random_keys(&other, KT_SRTP_PROFILE_AES128_CM_SHA1_80);
	rx = receiver_for(&k);
	tx = test_libsrtp_session(&k, k.local_key, k.local_salt, ssrc_any_outbound, FALSE);
	forger = test_libsrtp_session(&other, other.local_key, other.local_salt, ssrc_any_outbound,
	                              FALSE);
	for (guint32 ssrc = 1000; ssrc < 1500; ssrc++) {
		p.len = (int)test_srtp_rtp_packet((guint8 *)p.words, ssrc, 1, 0, 40);
		g_assert_cmpint(srtp_protect(forger, p.words, &p.len), ==, srtp_err_status_ok);
		g_assert_cmpint(kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)p.len), ==,
		                KT_SRTP_ERR_AUTH);
	}
	for (guint32 ssrc = 1; ssrc <= 100; ssrc++) {
		p.len = (int)test_srtp_rtp_packet((guint8 *)p.words, ssrc, 1, 0, 40);
		g_assert_cmpint(srtp_protect(tx, p.words, &p.len), ==, srtp_err_status_ok);
		last = kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)p.len);
		if (last < 0)
			break;
		kept++;
	}
	g_assert_cmpuint(kept, ==, 48);
	g_assert_cmpint(last, ==, KT_SRTP_ERR_OTHER);
	/* The first SSRC still flows. */
	p.len = (int)test_srtp_rtp_packet((guint8 *)p.words, 1, 2, 0, 40);
	g_assert_cmpint(srtp_protect(tx, p.words, &p.len), ==, srtp_err_status_ok);
	g_assert_cmpint(kt_srtp_recv_rtp(rx, (guint8 *)p.words, (gsize)p.len), >, 0);
	srtp_dealloc(tx);
	srtp_dealloc(forger);
	kt_srtp_recv_free(rx);
}

static void test_bad_input(void)
{
	KtSrtpKeys k;
	g_autoptr(GError) error = NULL;
	KtSrtpRecv *rx;
	Packet p;
	guint8 *b = (guint8 *)p.words;
	gsize len;

	test_srtp_random_keys(&k, KT_SRTP_PROFILE_AEAD_AES_128_GCM);
	rx = receiver_for(&k);
	len = test_srtp_rtp_packet(b, 1, 1, 0, 100) + 16;
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, 11), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtp_recv_rtp(rx, NULL, len), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtp_recv_rtp(NULL, b, len), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, 65536), ==, KT_SRTP_ERR_PARAM);
	/* A header alone, no room for the tag. */
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, 12 + 15), ==, KT_SRTP_ERR_PARAM);
	/* Version 1. */
	b[0] = 0x40;
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, len), ==, KT_SRTP_ERR_PARAM);
	/* An extension block whose length runs past the packet. */
	len = test_srtp_rtp_packet(b, 1, 2, 1, 0);
	b[12 + 8 + 2] = 0x40; /* shape 1: two CSRCs, then the extension */
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, len + 16), ==, KT_SRTP_ERR_PARAM);
	/* The extension bit with no room for the block's head. */
	test_srtp_rtp_packet(b, 1, 3, 0, 0);
	b[0] |= 0x10;
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, 14), ==, KT_SRTP_ERR_PARAM);
	/* Fifteen CSRCs announced in a short packet. */
	test_srtp_rtp_packet(b, 1, 4, 0, 10);
	b[0] |= 0x0f;
	g_assert_cmpint(kt_srtp_recv_rtp(rx, b, 12 + 10 + 16), ==, KT_SRTP_ERR_PARAM);
	kt_srtp_recv_free(rx);
	kt_srtp_recv_free(NULL);

	k.salt_len = 14; /* GCM with a 14-byte salt */
	g_assert_null(kt_srtp_recv_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
	g_clear_error(&error);
	k.profile = 0x0002;
	g_assert_null(kt_srtp_recv_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
}

/* The window by itself, with 2 words (128 indices): slides of less than a word, of more
 * than a word, and of more than the window. */
static void test_replay_window(void)
{
	KtSrtpReplay r = {0};
	guint64 seen[2] = {0};

	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 5));
	kt_srtp_replay_add(&r, seen, 2, 5);
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 5));
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 4));
	kt_srtp_replay_add(&r, seen, 2, 70); /* slides 65: 5 moves to the second word */
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 5));
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 70));
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 6));
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 69));
	kt_srtp_replay_add(&r, seen, 2, 69);
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 69));
	kt_srtp_replay_add(&r, seen, 2, 132); /* slides 62: 5 is now 127 old */
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 5));
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 69));
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 70));
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 100));
	kt_srtp_replay_add(&r, seen, 2, 133); /* 5 falls out: too old now */
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 5));
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 6));
	kt_srtp_replay_add(&r, seen, 2, 1000); /* past the window: everything forgotten */
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 900));
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 872));
	g_assert_false(kt_srtp_replay_check(&r, seen, 2, 1000));
	g_assert_true(kt_srtp_replay_check(&r, seen, 2, 873));
}

int main(int argc, char **argv)
{
	const KtSrtpProfile cm = KT_SRTP_PROFILE_AES128_CM_SHA1_80;
	const KtSrtpProfile gcm = KT_SRTP_PROFILE_AEAD_AES_128_GCM;

	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/srtp-recv/cm/reads-libsrtp", GUINT_TO_POINTER(cm),
	                     test_reads_libsrtp);
	g_test_add_data_func("/srtp-recv/gcm/reads-libsrtp", GUINT_TO_POINTER(gcm),
	                     test_reads_libsrtp);
	g_test_add_data_func("/srtp-recv/cm/same-verdicts-as-libsrtp", GUINT_TO_POINTER(cm),
	                     test_same_verdicts);
	g_test_add_data_func("/srtp-recv/gcm/same-verdicts-as-libsrtp", GUINT_TO_POINTER(gcm),
	                     test_same_verdicts);
	g_test_add_data_func("/srtp-recv/cm/tampered-and-truncated", GUINT_TO_POINTER(cm),
	                     test_tampered_and_truncated);
	g_test_add_data_func("/srtp-recv/gcm/tampered-and-truncated", GUINT_TO_POINTER(gcm),
	                     test_tampered_and_truncated);
	g_test_add_func("/srtp-recv/ssrc-slots", test_ssrc_slots);
	g_test_add_func("/srtp-recv/bad-input", test_bad_input);
	g_test_add_func("/srtp-replay/window", test_replay_window);
	return g_test_run();
}
