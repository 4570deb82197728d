/* SRTP session key derivation and keyed HMAC-SHA1 states (see kt-srtp-kdf.h). */
#include "kt-srtp-kdf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

gboolean kt_srtp_keys_supported(const KtSrtpKeys *keys, const char *what, GError **error)
{
	gboolean gcm = keys->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM;

	if ((gcm || keys->profile == KT_SRTP_PROFILE_AES128_CM_SHA1_80) && keys->key_len == 16 &&
	    keys->salt_len == (gcm ? 12u : 14u))
		return TRUE;
	g_set_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID,
	            "%s profile 0x%04x with a %u-byte key and a %u-byte salt is not supported",
	            what, keys->profile, keys->key_len, keys->salt_len);
	return FALSE;
}

gboolean kt_srtp_derive(const guint8 *master_key, const guint8 *master_salt, guint salt_len,
                        guint8 label, guint8 *out, gsize len)
{
	guint8 iv[16] = {0}, zero[32] = {0};
	EVP_CIPHER_CTX *ctx;
	int n = 0;
	gboolean ok;

	if (len > sizeof zero || salt_len > 14)
		return FALSE;
	ctx = EVP_CIPHER_CTX_new();
	memcpy(iv, master_salt, salt_len);
	iv[7] ^= label;
	ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, master_key, iv) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &n, zero, (int)len) == 1 && n == (int)len;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(iv, sizeof iv);
	return ok;
}

void kt_srtp_hmac_init(KtSrtpHmac *h, const guint8 *auth_key)
{
	guint8 pad[64];

	memset(pad, 0x36, sizeof pad);
	for (guint i = 0; i < KT_SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= auth_key[i];
	SHA1_Init(&h->inner);
	SHA1_Update(&h->inner, pad, sizeof pad);
	memset(pad, 0x5c, sizeof pad);
	for (guint i = 0; i < KT_SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= auth_key[i];
	SHA1_Init(&h->outer);
	SHA1_Update(&h->outer, pad, sizeof pad);
	OPENSSL_cleanse(pad, sizeof pad);
}

void kt_srtp_hmac(const KtSrtpHmac *h, const guint8 *a, gsize a_len, const guint8 *b, gsize b_len,
                  guint8 out[SHA_DIGEST_LENGTH])
{
	guint8 inner[SHA_DIGEST_LENGTH];
	SHA_CTX sha = h->inner;

	SHA1_Update(&sha, a, a_len);
	if (b_len)
		SHA1_Update(&sha, b, b_len);
	SHA1_Final(inner, &sha);
	sha = h->outer;
	SHA1_Update(&sha, inner, sizeof inner);
	SHA1_Final(out, &sha);
}

gboolean kt_srtp_session_init(KtSrtpSession *s, const KtSrtpKeys *keys, gboolean remote,
                              gboolean rtcp, gboolean decrypt)
{
	gboolean gcm = keys->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM;
	const guint8 *master = remote ? keys->remote_key : keys->local_key;
	const guint8 *master_salt = remote ? keys->remote_salt : keys->local_salt;
	guint8 key[16], auth[KT_SRTP_AUTH_KEY_LEN];
	gboolean ok;

	memset(s, 0, sizeof *s);
	s->cipher = EVP_CIPHER_CTX_new();
	ok = s->cipher &&
	     kt_srtp_derive(master, master_salt, keys->salt_len,
	                    rtcp ? KT_SRTP_LABEL_RTCP_ENCRYPTION : KT_SRTP_LABEL_RTP_ENCRYPTION,
	                    key, sizeof key) &&
	     kt_srtp_derive(master, master_salt, keys->salt_len,
	                    rtcp ? KT_SRTP_LABEL_RTCP_SALT : KT_SRTP_LABEL_RTP_SALT, s->salt,
	                    keys->salt_len) &&
	     (gcm || kt_srtp_derive(master, master_salt, keys->salt_len,
	                            rtcp ? KT_SRTP_LABEL_RTCP_AUTH : KT_SRTP_LABEL_RTP_AUTH, auth,
	                            sizeof auth));
	/* GCM checks its tag only on the decrypting side. */
	if (ok)
		ok =
		    gcm && decrypt
		        ? EVP_DecryptInit_ex(s->cipher, EVP_aes_128_gcm(), NULL, key, NULL) == 1
		        : EVP_EncryptInit_ex(s->cipher, gcm ? EVP_aes_128_gcm() : EVP_aes_128_ctr(),
		                             NULL, key, NULL) == 1;
	if (ok && gcm)
		ok = EVP_CIPHER_CTX_ctrl(s->cipher, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1;
	if (ok && !gcm)
		kt_srtp_hmac_init(&s->hmac, auth);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(auth, sizeof auth);
	return ok;
}

void kt_srtp_session_clear(KtSrtpSession *s)
{
	EVP_CIPHER_CTX_free(s->cipher);
	OPENSSL_cleanse(s, sizeof *s);
}

void kt_srtp_rtp_iv_gcm(const KtSrtpSession *s, const guint8 *rtp, guint32 roc, guint16 seq,
                        guint8 iv[12])
{
	/* 00 00 || SSRC || ROC || SEQ, XOR the session salt. */
	iv[0] = iv[1] = 0;
	memcpy(iv + 2, rtp + 8, 4);
	iv[6] = roc >> 24;
	iv[7] = roc >> 16;
	iv[8] = roc >> 8;
	iv[9] = roc;
	iv[10] = seq >> 8;
	iv[11] = seq;
	for (guint i = 0; i < 12; i++)
		iv[i] ^= s->salt[i];
}

void kt_srtp_rtp_iv_cm(const KtSrtpSession *s, const guint8 *rtp, guint32 roc, guint16 seq,
                       guint8 iv[16])
{
	/* (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). */
	memcpy(iv, s->salt, 14);
	iv[14] = iv[15] = 0;
	for (guint i = 0; i < 4; i++)
		iv[4 + i] ^= rtp[8 + i];
	iv[8] ^= roc >> 24;
	iv[9] ^= roc >> 16;
	iv[10] ^= roc >> 8;
	iv[11] ^= roc;
	iv[12] ^= seq >> 8;
	iv[13] ^= seq;
}
