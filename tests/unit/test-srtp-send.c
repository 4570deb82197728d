/* kt-srtp-send: outgoing RTP protected on OpenSSL must be byte for byte what libsrtp2 writes
 * for the same keys, for both profiles, across the sequence number's wrap (the rollover
 * counter), retransmissions of older packets, several SSRCs, CSRCs, header extensions and
 * padding; and what it writes must unprotect with KtSrtp (libsrtp) on the other side.
 * Bad input: short, not RTP, a truncated extension, no room for the tag, unsupported keys. */
#include <srtp2/srtp.h>
#include <string.h>

#include "srtp-keys.h"

#include "kt-srtp-send.h"
#include "kt-srtp.h"

#define MAX_PKT 1500

/* The receiving side of @k: its local and remote halves swapped. */
static KtSrtp *receiver_for(const KtSrtpKeys *k)
{
	KtSrtpKeys r = *k;
	g_autoptr(GError) error = NULL;
	KtSrtp *s;

	memcpy(r.remote_key, k->local_key, 16);
	memcpy(r.remote_salt, k->local_salt, sizeof r.remote_salt);
	memcpy(r.local_key, k->remote_key, 16);
	memcpy(r.local_salt, k->remote_salt, sizeof r.local_salt);
	s = kt_srtp_new(&r, &error);
	g_assert_no_error(error);
	return s;
}

static void check_profile(KtSrtpProfile profile)
{
	KtSrtpKeys k;
	g_autoptr(GError) error = NULL;
	KtSrtpSend *ours;
	srtp_t theirs;
	KtSrtp *rx;
	guint32 words_a[MAX_PKT / 4], words_b[MAX_PKT / 4];
	guint8 *a = (guint8 *)words_a, *b = (guint8 *)words_b;
	/* Three SSRCs; the first and third cross the wrap. */
	const guint32 ssrcs[3] = {0x11223344, 0xCAFEBABE, 0x00000001};
	guint16 seq[3] = {65500, 7, 40000};
	guint compared = 0;

	test_srtp_random_keys(&k, profile);
	ours = kt_srtp_send_new(&k, &error);
	g_assert_no_error(error);
	theirs = test_libsrtp_session(&k, k.local_key, k.local_salt, ssrc_any_outbound, FALSE);
	rx = receiver_for(&k);
	for (guint i = 0; i < 66000 + 300; i++) {
		guint which = i % 3 == 0 ? 0 : (i % 3);
		guint16 sq = seq[which]++;
		gsize payload = (i * 37) % 1100, len;
		int n_ours, n_theirs = 0;

		/* Every 50th packet a retransmission of one sent 20 packets ago. */
		if (i % 50 == 49 && i > 100)
			sq = (guint16)(seq[which] - 21);
		len = test_srtp_rtp_packet(a, ssrcs[which], sq, i, payload);
		memcpy(b, a, len);
		n_ours = kt_srtp_send_rtp(ours, a, len, sizeof words_a);
		n_theirs = (int)len;
		g_assert_cmpint(srtp_protect(theirs, b, &n_theirs), ==, srtp_err_status_ok);
		g_assert_cmpint(n_ours, ==, n_theirs);
		if (memcmp(a, b, (gsize)n_ours) != 0)
			g_error("packet %u (ssrc %08x seq %u, %zu bytes) differs from libsrtp's", i,
			        ssrcs[which], sq, len);
		compared++;
		/* The receiver's replay window takes each index once: unprotect the new ones. */
		if (!(i % 50 == 49 && i > 100) && i % 97 == 0) {
			int plain = kt_srtp_unprotect_rtp(rx, a, (gsize)n_ours);

			g_assert_cmpint(plain, ==, (int)len);
		}
	}
	g_test_message("profile 0x%04x: %u packets identical to libsrtp's", profile, compared);
	kt_srtp_send_free(ours);
	srtp_dealloc(theirs);
	kt_srtp_free(rx);
}

static void test_gcm_matches_libsrtp(void)
{
	check_profile(KT_SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_cm_matches_libsrtp(void)
{
	check_profile(KT_SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void test_bad_input(void)
{
	KtSrtpKeys k;
	g_autoptr(GError) error = NULL;
	KtSrtpSend *s;
	guint32 words[MAX_PKT / 4];
	guint8 *p = (guint8 *)words;
	gsize len;

	test_srtp_random_keys(&k, KT_SRTP_PROFILE_AEAD_AES_128_GCM);
	s = kt_srtp_send_new(&k, &error);
	g_assert_no_error(error);
	len = test_srtp_rtp_packet(p, 1, 1, 1, 100);
	g_assert_cmpint(kt_srtp_send_rtp(s, p, 11, sizeof words), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtp_send_rtp(s, p, len, len + 4), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtp_send_rtp(s, NULL, len, sizeof words), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtp_send_rtp(NULL, p, len, sizeof words), ==, KT_SRTP_ERR_PARAM);
	p[0] = 0x40; /* version 1 */
	g_assert_cmpint(kt_srtp_send_rtp(s, p, len, sizeof words), ==, KT_SRTP_ERR_PARAM);
	/* An extension block whose length runs past the packet. */
	len = test_srtp_rtp_packet(p, 1, 2, 1, 0);
	p[12 + 8 + 2] = 0x40;
	g_assert_cmpint(kt_srtp_send_rtp(s, p, len, sizeof words), ==, KT_SRTP_ERR_PARAM);
	/* The extension bit with no room for the block's head. */
	test_srtp_rtp_packet(p, 1, 3, 0, 0);
	p[0] |= 0x10;
	g_assert_cmpint(kt_srtp_send_rtp(s, p, 12, sizeof words), ==, KT_SRTP_ERR_PARAM);
	/* Still works after all that. */
	len = test_srtp_rtp_packet(p, 1, 4, 2, 50);
	g_assert_cmpint(kt_srtp_send_rtp(s, p, len, sizeof words), ==, (int)len + 16);
	kt_srtp_send_free(s);
	kt_srtp_send_free(NULL);

	k.salt_len = 14; /* GCM with a 14-byte salt */
	g_assert_null(kt_srtp_send_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
	g_clear_error(&error);
	k.profile = 0x0002;
	g_assert_null(kt_srtp_send_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
}

/* More SSRCs than the table keeps: a clear error for the newest, the others unharmed. */
static void test_ssrc_table_full(void)
{
	KtSrtpKeys k;
	KtSrtpSend *s;
	guint32 words[MAX_PKT / 4];
	guint8 *p = (guint8 *)words;
	guint ok = 0;
	int last = 0;
	gsize len;

	test_srtp_random_keys(&k, KT_SRTP_PROFILE_AES128_CM_SHA1_80);
	s = kt_srtp_send_new(&k, NULL);
	g_assert_nonnull(s);
	for (guint32 ssrc = 1; ssrc <= 2000; ssrc++) {
		len = test_srtp_rtp_packet(p, ssrc, 1, 0, 20);
		last = kt_srtp_send_rtp(s, p, len, sizeof words);
		if (last > 0)
			ok++;
		else
			break;
	}
	g_test_message("%u SSRCs kept before the table was full", ok);
	g_assert_cmpuint(ok, >=, 512);
	g_assert_cmpint(last, ==, KT_SRTP_ERR_OTHER);
	len = test_srtp_rtp_packet(p, 1, 2, 0, 20);
	g_assert_cmpint(kt_srtp_send_rtp(s, p, len, sizeof words), ==, (int)len + 10);
	kt_srtp_send_free(s);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	srtp_init(); /* the libsrtp2 reference */
	g_test_add_func("/srtp-send/gcm-matches-libsrtp", test_gcm_matches_libsrtp);
	g_test_add_func("/srtp-send/cm-matches-libsrtp", test_cm_matches_libsrtp);
	g_test_add_func("/srtp-send/bad-input", test_bad_input);
	g_test_add_func("/srtp-send/ssrc-table-full", test_ssrc_table_full);
	return g_test_run();
}
