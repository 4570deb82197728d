/* SRTP and SRTCP as Ketang reads them off the network (kt-srtp.c on OpenSSL: kt-srtp-recv.c
 * for RTP, kt-srtcp.c for RTCP), for both profiles. The first byte picks the profile (bit
 * 0) and RTP or RTCP (bit 1); the rest is a datagram.
 *
 * It is unprotected as it came (a forgery: refused, never read past its end). Then it is
 * taken as a clear packet: protected by one side and unprotected by the other, it must
 * come back byte for byte, and a second time it must be refused as a replay (aborts
 * otherwise). Fresh sessions per input, so nothing carries over between inputs. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kt-srtp.h"

#define MAX_PKT 2048

static void keys_for(KtSrtpKeys *a, KtSrtpKeys *b, gboolean gcm)
{
	memset(a, 0, sizeof *a);
	a->profile = gcm ? KT_SRTP_PROFILE_AEAD_AES_128_GCM : KT_SRTP_PROFILE_AES128_CM_SHA1_80;
	a->key_len = 16;
	a->salt_len = gcm ? 12 : 14;
	for (guint i = 0; i < 16; i++) {
		a->local_key[i] = (guint8)(i * 7 + 1);
		a->remote_key[i] = (guint8)(i * 13 + 5);
	}
	for (guint i = 0; i < a->salt_len; i++) {
		a->local_salt[i] = (guint8)(i * 3 + 2);
		a->remote_salt[i] = (guint8)(i * 11 + 9);
	}
	*b = *a;
	memcpy(b->local_key, a->remote_key, 16);
	memcpy(b->local_salt, a->remote_salt, sizeof b->local_salt);
	memcpy(b->remote_key, a->local_key, 16);
	memcpy(b->remote_salt, a->local_salt, sizeof b->remote_salt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static guint32 words[MAX_PKT / 4], clear[MAX_PKT / 4], wire[MAX_PKT / 4];
	guint8 *buf = (guint8 *)words;
	KtSrtpKeys ka, kb;
	KtSrtp *a, *b;
	gboolean rtcp;
	gsize len;
	int n, back;

	if (size < 1 || size - 1 > MAX_PKT - KT_SRTP_MAX_TRAILER)
		return 0;
	rtcp = (data[0] & 2) != 0;
	keys_for(&ka, &kb, data[0] & 1);
	a = kt_srtp_new(&ka, NULL);
	b = kt_srtp_new(&kb, NULL);
	if (!a || !b)
		abort();
	len = size - 1;
	memcpy(buf, data + 1, len);
	n = rtcp ? kt_srtp_unprotect_rtcp(b, buf, len) : kt_srtp_unprotect_rtp(b, buf, len);
	if (n > (int)len)
		abort();
	/* The round trip. */
	memcpy(buf, data + 1, len);
	memcpy(clear, data + 1, len);
	n = rtcp ? kt_srtp_protect_rtcp(a, buf, len, sizeof words)
	         : kt_srtp_protect_rtp(a, buf, len, sizeof words);
	if (n > 0) {
		memcpy(wire, buf, (gsize)n); /* the protected copy, for the replay */
		back = rtcp ? kt_srtp_unprotect_rtcp(b, buf, (gsize)n)
		            : kt_srtp_unprotect_rtp(b, buf, (gsize)n);
		if (back != (int)len || memcmp(buf, clear, len) != 0)
			abort();
		memcpy(buf, wire, (gsize)n);
		back = rtcp ? kt_srtp_unprotect_rtcp(b, buf, (gsize)n)
		            : kt_srtp_unprotect_rtp(b, buf, (gsize)n);
		if (back != KT_SRTP_ERR_REPLAY)
			abort();
	}
	kt_srtp_free(a);
	kt_srtp_free(b);
	return 0;
}
