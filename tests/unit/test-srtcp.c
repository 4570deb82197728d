/* kt-srtcp: SRTCP on OpenSSL must be what libsrtp2 reads and writes for the same keys, for
 * both profiles and both directions: byte for byte what libsrtp2 writes (its index also
 * counts from 1 per SSRC), what it writes unprotects here, and what is written here
 * unprotects with libsrtp2. Replays and packets older than the window are refused, a packet
 * that fails leaves no trace, unencrypted SRTCP (E = 0) is read. Bad input: short,
 * truncated, tampered anywhere, wrong key, no room, unsupported keys. */
#include <srtp2/srtp.h>
#include <string.h>

#include "srtp-keys.h"

#include "kt-srtcp.h"

#define MAX_PKT 1500

typedef struct {
	KtSrtpProfile profile;
} Case;

static const Case cm = {KT_SRTP_PROFILE_AES128_CM_SHA1_80};
static const Case gcm = {KT_SRTP_PROFILE_AEAD_AES_128_GCM};

/* A receiver report from @ssrc with one block, then an SDES CNAME: a compound packet as
 * browsers send. Returns its length. */
static gsize build_rtcp(guint8 *buf, guint32 ssrc, guint8 fill)
{
	static const guint8 rr[] = {0x81, 201, 0, 7};
	static const guint8 sdes[] = {0x81, 202, 0, 3};
	gsize n = 0;

	memcpy(buf, rr, 4);
	buf[4] = ssrc >> 24;
	buf[5] = ssrc >> 16;
	buf[6] = ssrc >> 8;
	buf[7] = ssrc;
	memset(buf + 8, fill, 24); /* the report block */
	n = 32;
	memcpy(buf + n, sdes, 4);
	memcpy(buf + n + 4, buf + 4, 4);
	buf[n + 8] = 1; /* CNAME */
	buf[n + 9] = 2;
	buf[n + 10] = 'k';
	buf[n + 11] = 't';
	n += 12;
	return n;
}

/* Ours protects, libsrtp2 protects the same packets with the same keys: the same bytes,
 * packet after packet, for two SSRCs interleaved. libsrtp2 (inbound) reads ours back. */
static void test_protect_matches_libsrtp(gconstpointer data)
{
	const Case *c = data;
	KtSrtpKeys k;
	g_autoptr(GError) error = NULL;
	KtSrtcp *ours;
	srtp_t theirs, reader;

	srtp_init();
	test_srtp_random_keys(&k, c->profile);
	ours = kt_srtcp_new(&k, &error);
	g_assert_no_error(error);
	theirs = test_libsrtp_session(&k, k.local_key, k.local_salt, ssrc_any_outbound, FALSE);
	reader = test_libsrtp_session(&k, k.local_key, k.local_salt, ssrc_any_inbound, FALSE);
	for (guint i = 0; i < 40; i++) {
		guint8 a[MAX_PKT], b[MAX_PKT], plain[MAX_PKT];
		guint32 ssrc = i % 3 ? 0x11223344 : 0xcafe0001;
		gsize len = build_rtcp(plain, ssrc, (guint8)i);
		int na, nb = (int)len;

		memcpy(a, plain, len);
		memcpy(b, plain, len);
		na = kt_srtcp_protect(ours, a, len, sizeof a);
		g_assert_cmpint(srtp_protect_rtcp(theirs, b, &nb), ==, srtp_err_status_ok);
		g_assert_cmpint(na, ==, nb);
		g_assert_cmpmem(a, na, b, nb);
		g_assert_cmpint(srtp_unprotect_rtcp(reader, a, &na), ==, srtp_err_status_ok);
		g_assert_cmpmem(a, na, plain, len);
	}
	srtp_dealloc(theirs);
	srtp_dealloc(reader);
	kt_srtcp_free(ours);
}

/* libsrtp2 protects with the peer's keys; ours unprotects to the same plaintext, and
 * refuses a replay of each. Unencrypted SRTCP (libsrtp's sec_serv auth only, E = 0) too. */
static void unprotect_reads_libsrtp(const Case *c, gboolean auth_only)
{
	KtSrtpKeys k;
	g_autoptr(GError) error = NULL;
	KtSrtcp *ours;
	srtp_t theirs;

	srtp_init();
	test_srtp_random_keys(&k, c->profile);
	ours = kt_srtcp_new(&k, &error);
	g_assert_no_error(error);
	theirs =
	    test_libsrtp_session(&k, k.remote_key, k.remote_salt, ssrc_any_outbound, auth_only);
	for (guint i = 0; i < 40; i++) {
		guint8 pkt[MAX_PKT], copy[MAX_PKT], plain[MAX_PKT];
		gsize len = build_rtcp(plain, 0x5000 + i % 2, (guint8)(i * 7));
		int n = (int)len;

		memcpy(pkt, plain, len);
		g_assert_cmpint(srtp_protect_rtcp(theirs, pkt, &n), ==, srtp_err_status_ok);
		/* The E flag: set when encrypted (AES-CM: before the tag; GCM: the last word). */
		g_assert_cmpint(
		    pkt[c->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM ? n - 4 : n - 14] >> 7, ==,
		    auth_only ? 0 : 1);
		memcpy(copy, pkt, n);
		g_assert_cmpint(kt_srtcp_unprotect(ours, pkt, n), ==, (int)len);
		g_assert_cmpmem(pkt, len, plain, len);
		g_assert_cmpint(kt_srtcp_unprotect(ours, copy, n), ==, KT_SRTP_ERR_REPLAY);
	}
	srtp_dealloc(theirs);
	kt_srtcp_free(ours);
}

static void test_unprotect_reads_libsrtp(gconstpointer data)
{
	unprotect_reads_libsrtp(data, FALSE);
}

static void test_unprotect_reads_unencrypted(gconstpointer data)
{
	unprotect_reads_libsrtp(data, TRUE);
}

/* The E flag is authenticated: cleared on an encrypted packet, the packet fails; set back,
 * it reads. */
static void test_e_flag_authenticated(void)
{
	KtSrtpKeys k, peer;
	g_autoptr(GError) error = NULL;
	KtSrtcp *ours, *sender;
	guint8 pkt[MAX_PKT], plain[MAX_PKT];
	gsize len;
	int n;

	test_srtp_random_keys(&k, KT_SRTP_PROFILE_AES128_CM_SHA1_80);
	test_srtp_peer_keys(&k, &peer);
	ours = kt_srtcp_new(&k, &error);
	sender = kt_srtcp_new(&peer, &error);
	g_assert_no_error(error);
	len = build_rtcp(plain, 0x77, 3);
	memcpy(pkt, plain, len);
	n = kt_srtcp_protect(sender, pkt, len, sizeof pkt);
	g_assert_cmpint(n, ==, (int)len + 14);
	pkt[len] &= 0x7f;
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkt, n), ==, KT_SRTP_ERR_AUTH);
	pkt[len] |= 0x80;
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkt, n), ==, (int)len);
	g_assert_cmpmem(pkt, len, plain, len);
	kt_srtcp_free(ours);
	kt_srtcp_free(sender);
}

/* Replay window: an index far ahead moves it, one older than 128 behind is refused, one
 * inside it not seen yet is taken once. A tampered packet is refused and leaves no trace:
 * the genuine one after it is taken. */
static void test_replay_window(gconstpointer data)
{
	const Case *c = data;
	KtSrtpKeys k, peer;
	g_autoptr(GError) error = NULL;
	KtSrtcp *ours, *sender;
	guint8 pkts[300][128];
	int lens[300];

	test_srtp_random_keys(&k, c->profile);
	test_srtp_peer_keys(&k, &peer);
	ours = kt_srtcp_new(&k, &error);
	sender = kt_srtcp_new(&peer, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 300; i++) {
		gsize len = build_rtcp(pkts[i], 0x99, (guint8)i);

		lens[i] = kt_srtcp_protect(sender, pkts[i], len, sizeof pkts[i]);
		g_assert_cmpint(lens[i], >, 0);
	}
	/* Index 200 first (packet 199), then 60 (too old: 140 behind), 100 (inside). */
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[199], lens[199]), >, 0);
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[59], lens[59]), ==, KT_SRTP_ERR_REPLAY);
	{
		guint8 tampered[128];

		memcpy(tampered, pkts[99], lens[99]);
		tampered[20] ^= 1;
		g_assert_cmpint(kt_srtcp_unprotect(ours, tampered, lens[99]), ==, KT_SRTP_ERR_AUTH);
		memcpy(tampered, pkts[99], lens[99]);
		tampered[lens[99] - 1] ^= 0x40; /* the tag, or the index under GCM */
		g_assert_cmpint(kt_srtcp_unprotect(ours, tampered, lens[99]), <, 0);
	}
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[99], lens[99]), >, 0);
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[99], lens[99]), ==, KT_SRTP_ERR_REPLAY);
	/* Far ahead, then just behind the new top. */
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[299], lens[299]), >, 0);
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[298], lens[298]), >, 0);
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkts[199], lens[199]), ==, KT_SRTP_ERR_REPLAY);
	kt_srtcp_free(ours);
	kt_srtcp_free(sender);
}

/* Bad input: clear errors, nothing else disturbed (a good packet still reads after). */
static void test_bad_input(gconstpointer data)
{
	const Case *c = data;
	KtSrtpKeys k, peer, bad;
	g_autoptr(GError) error = NULL;
	KtSrtcp *ours, *sender, *stranger;
	guint8 pkt[MAX_PKT], plain[MAX_PKT], other[MAX_PKT];
	gsize len = build_rtcp(plain, 0x1234, 9);
	int n;

	test_srtp_random_keys(&k, c->profile);
	test_srtp_peer_keys(&k, &peer);
	ours = kt_srtcp_new(&k, &error);
	sender = kt_srtcp_new(&peer, &error);
	g_assert_no_error(error);
	test_srtp_random_keys(&bad, c->profile);
	stranger = kt_srtcp_new(&bad, &error);
	g_assert_no_error(error);

	memcpy(pkt, plain, len);
	g_assert_cmpint(kt_srtcp_protect(sender, pkt, 7, sizeof pkt), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtcp_protect(sender, pkt, len, len + 19), ==, KT_SRTP_ERR_PARAM);
	g_assert_cmpint(kt_srtcp_protect(NULL, pkt, len, sizeof pkt), ==, KT_SRTP_ERR_PARAM);
	n = kt_srtcp_protect(sender, pkt, len, sizeof pkt);
	g_assert_cmpint(n, >, (int)len);
	/* Truncated at every length short of whole, and a wrong key. */
	for (int cut = 0; cut < n; cut++) {
		memcpy(other, pkt, n);
		g_assert_cmpint(kt_srtcp_unprotect(ours, other, cut), <, 0);
	}
	memcpy(other, pkt, n);
	g_assert_cmpint(kt_srtcp_unprotect(stranger, other, n), ==, KT_SRTP_ERR_AUTH);
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkt, 70000), ==, KT_SRTP_ERR_PARAM);
	/* All that changed nothing: the genuine packet reads. */
	g_assert_cmpint(kt_srtcp_unprotect(ours, pkt, n), ==, (int)len);
	g_assert_cmpmem(pkt, len, plain, len);

	bad.salt_len = 5;
	g_clear_error(&error);
	g_assert_null(kt_srtcp_new(&bad, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
	kt_srtcp_free(ours);
	kt_srtcp_free(sender);
	kt_srtcp_free(stranger);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/srtcp/cm/protect-matches-libsrtp", &cm,
	                     test_protect_matches_libsrtp);
	g_test_add_data_func("/srtcp/gcm/protect-matches-libsrtp", &gcm,
	                     test_protect_matches_libsrtp);
	g_test_add_data_func("/srtcp/cm/unprotect-reads-libsrtp", &cm,
	                     test_unprotect_reads_libsrtp);
	g_test_add_data_func("/srtcp/gcm/unprotect-reads-libsrtp", &gcm,
	                     test_unprotect_reads_libsrtp);
	g_test_add_data_func("/srtcp/cm/unprotect-reads-unencrypted", &cm,
	                     test_unprotect_reads_unencrypted);
	g_test_add_data_func("/srtcp/gcm/unprotect-reads-unencrypted", &gcm,
	                     test_unprotect_reads_unencrypted);
	g_test_add_func("/srtcp/cm/e-flag-authenticated", test_e_flag_authenticated);
	g_test_add_data_func("/srtcp/cm/replay-window", &cm, test_replay_window);
	g_test_add_data_func("/srtcp/gcm/replay-window", &gcm, test_replay_window);
	g_test_add_data_func("/srtcp/cm/bad-input", &cm, test_bad_input);
	g_test_add_data_func("/srtcp/gcm/bad-input", &gcm, test_bad_input);
	return g_test_run();
}
