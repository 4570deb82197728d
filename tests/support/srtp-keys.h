/* For the SRTP unit tests (test-srtp-send, test-srtp-recv, test-srtcp): random master keys
 * of a profile, the other side's view of them, a libsrtp2 session for them, and RTP packets
 * of several shapes. Header-only. */
#pragma once

#include <srtp2/srtp.h>
#include <string.h>

#include "kt-srtp.h"

/* Random keys and salts of @profile's lengths for both directions. */
static inline void test_srtp_random_keys(KtSrtpKeys *k, KtSrtpProfile profile)
{
	memset(k, 0, sizeof *k);
	k->profile = profile;
	k->key_len = 16;
	k->salt_len = profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
	for (guint i = 0; i < 16; i++) {
		k->local_key[i] = (guint8)g_random_int();
		k->remote_key[i] = (guint8)g_random_int();
	}
	for (guint i = 0; i < k->salt_len; i++) {
		k->local_salt[i] = (guint8)g_random_int();
		k->remote_salt[i] = (guint8)g_random_int();
	}
}

/* The other side of @k: what it protects with, @k unprotects with, and back. */
static inline void test_srtp_peer_keys(const KtSrtpKeys *k, KtSrtpKeys *peer)
{
	*peer = *k;
	memcpy(peer->local_key, k->remote_key, sizeof peer->local_key);
	memcpy(peer->local_salt, k->remote_salt, sizeof peer->local_salt);
	memcpy(peer->remote_key, k->local_key, sizeof peer->remote_key);
	memcpy(peer->remote_salt, k->local_salt, sizeof peer->remote_salt);
}

/* A libsrtp2 session with @key/@salt of @k's profile, @direction, set up as kt-srtp.c
 * does (the reference the OpenSSL paths are checked against); @rtcp_auth_only: SRTCP
 * unencrypted (E = 0). */
static inline srtp_t test_libsrtp_session(const KtSrtpKeys *k, const guint8 *key,
                                          const guint8 *salt, srtp_ssrc_type_t direction,
                                          gboolean rtcp_auth_only)
{
	guint8 master[30];
	srtp_policy_t policy = {0};
	srtp_t session = NULL;

	if (k->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
	}
	if (rtcp_auth_only)
		policy.rtcp.sec_serv = sec_serv_auth; /* SRTCP with E = 0 */
	memcpy(master, key, 16);
	memcpy(master + 16, salt, k->salt_len);
	policy.ssrc.type = direction;
	policy.key = master;
	policy.window_size = 1024;
	policy.allow_repeat_tx = direction == ssrc_any_outbound; /* the SFU resends on NACK */
	g_assert_cmpint(srtp_create(&session, &policy), ==, srtp_err_status_ok);
	return session;
}

/* An RTP packet of @payload bytes into @buf (4-byte aligned): @shape picks CSRCs, a
 * one-byte-header extension and padding. Returns its length. */
static inline gsize test_srtp_rtp_packet(guint8 *buf, guint32 ssrc, guint16 seq, guint shape,
                                         gsize payload)
{
	gsize n = 12;
	guint cc = shape % 3 == 1 ? 2 : 0;
	gboolean ext = shape % 2 == 1, pad = shape % 5 == 4;

	buf[0] = (guint8)(0x80 | (ext ? 0x10 : 0) | (pad ? 0x20 : 0) | cc);
	buf[1] = (guint8)(96 | (shape % 7 == 0 ? 0x80 : 0));
	buf[2] = seq >> 8;
	buf[3] = (guint8)seq;
	for (guint i = 0; i < 4; i++)
		buf[4 + i] = (guint8)(seq * 3000u >> (24 - 8 * i));
	buf[8] = ssrc >> 24;
	buf[9] = ssrc >> 16;
	buf[10] = ssrc >> 8;
	buf[11] = (guint8)ssrc;
	for (guint i = 0; i < cc * 4; i++)
		buf[n++] = (guint8)(0xC0 + i);
	if (ext) {
		const guint8 block[12] = {0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAB,
		                          0x31, 0x01, 0x02, 0,    0,    0};

		memcpy(buf + n, block, sizeof block);
		n += sizeof block;
	}
	for (gsize i = 0; i < payload; i++)
		buf[n++] = (guint8)(i * 7 + seq);
	if (pad) {
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = 3;
	}
	return n;
}
