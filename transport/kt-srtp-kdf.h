/* What the OpenSSL SRTP paths (kt-srtp-send.c for RTP out, kt-srtp-recv.c for RTP in,
 * kt-srtcp.c for RTCP both ways) share: the session keys derived from a master key
 * (RFC 3711 §4.3.1, key derivation rate 0), set up once per direction as an EVP context,
 * a session salt and HMAC-SHA1 states, and the RTP IVs both RTP sides build from them.
 *
 * Why precomputed SHA1 states: the EVP_MAC interface re-keys per call and OpenSSL 3.0's
 * EVP_MD_CTX_copy_ex allocates, both too slow for every packet.
 * Threads: any; no state of its own. */
#pragma once

#define OPENSSL_SUPPRESS_DEPRECATED
#include <glib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "kt-srtp.h"

/* RFC 3711 §4.3.1 labels. */
#define KT_SRTP_LABEL_RTP_ENCRYPTION 0x00
#define KT_SRTP_LABEL_RTP_AUTH 0x01
#define KT_SRTP_LABEL_RTP_SALT 0x02
#define KT_SRTP_LABEL_RTCP_ENCRYPTION 0x03
#define KT_SRTP_LABEL_RTCP_AUTH 0x04
#define KT_SRTP_LABEL_RTCP_SALT 0x05

/* HMAC-SHA1 key of AES128_CM_SHA1_80, and its tag (80 bits). */
#define KT_SRTP_AUTH_KEY_LEN 20
#define KT_SRTP_CM_TAG_LEN 10

/* Whether the OpenSSL paths take @keys (AES128_CM_SHA1_80 with a 14-byte salt or
 * AEAD_AES_128_GCM with a 12-byte one, 16-byte keys); FALSE with @error (KT_SRTP_ERROR_INVALID
 * naming @what) otherwise. */
gboolean kt_srtp_keys_supported(const KtSrtpKeys *keys, const char *what, GError **error);

/* @len (at most 32) bytes of the session key with @label: the AES-CM keystream of
 * @master_key for IV = (@master_salt XOR label at octet 7) || 0x0000. A GCM master salt (12
 * bytes) is the top of the 14-byte one, the rest zero. FALSE when OpenSSL fails. */
gboolean kt_srtp_derive(const guint8 *master_key, const guint8 *master_salt, guint salt_len,
                        guint8 label, guint8 *out, gsize len);

/* HMAC-SHA1 states after (key ^ ipad) and (key ^ opad) for @auth_key
 * (KT_SRTP_AUTH_KEY_LEN bytes). */
typedef struct {
	SHA_CTX inner, outer;
} KtSrtpHmac;

void kt_srtp_hmac_init(KtSrtpHmac *h, const guint8 *auth_key);
/* HMAC over @a (@a_len bytes) then @b (@b_len bytes, may be 0); the 20-byte digest into
 * @out. */
void kt_srtp_hmac(const KtSrtpHmac *h, const guint8 *a, gsize a_len, const guint8 *b, gsize b_len,
                  guint8 out[SHA_DIGEST_LENGTH]);

/* One direction's session (RTP or RTCP, in or out), set up once: the cipher keyed with the
 * session key (AES-128-GCM with 12-byte IVs, decrypting for @decrypt; else AES-128-CTR,
 * which decrypts by encrypting), the session salt (12 or 14 bytes used), and for AES-CM
 * the HMAC states of the session's authentication key. */
typedef struct {
	EVP_CIPHER_CTX *cipher;
	guint8 salt[14];
	KtSrtpHmac hmac;
} KtSrtpSession;

/* From @keys' remote half when @remote, else its local half; @rtcp picks the SRTCP labels.
 * @keys must be supported (kt_srtp_keys_supported). FALSE when OpenSSL fails; clear @s
 * either way. */
gboolean kt_srtp_session_init(KtSrtpSession *s, const KtSrtpKeys *keys, gboolean remote,
                              gboolean rtcp, gboolean decrypt);
/* Frees the cipher and wipes @s. */
void kt_srtp_session_clear(KtSrtpSession *s);

/* The IV of the RTP packet whose header starts at @rtp (its SSRC is read from it), with
 * rollover counter @roc and sequence number @seq: AEAD_AES_128_GCM's 12 bytes (RFC 7714
 * §8.1) or AES-CM's 16 (RFC 3711 §4.1.1). The same on both sides. */
void kt_srtp_rtp_iv_gcm(const KtSrtpSession *s, const guint8 *rtp, guint32 roc, guint16 seq,
                        guint8 iv[12]);
void kt_srtp_rtp_iv_cm(const KtSrtpSession *s, const guint8 *rtp, guint32 roc, guint16 seq,
                       guint8 iv[16]);
