/* SRTCP on OpenSSL EVP, both directions (see kt-srtcp.h). */
#include "kt-srtcp.h"

#include "kt-srtp-kdf.h"
#include "kt-srtp-replay.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define CM_SALT_LEN 14
#define GCM_TAG_LEN 16
#define HEADER_LEN 8 /* the first RTCP header: V/P/RC, PT, length, sender SSRC */
#define INDEX_LEN 4  /* E flag || 31-bit SRTCP index */
#define E_FLAG 0x80000000u
#define MAX_INDEX 0x7fffffffu
#define MAX_PACKET 65535
/* SSRCs per direction: a peer sends RTCP from one or two, and a browser reports from a few. */
#define SSRC_BITS 8
#define SSRC_SLOTS (1u << SSRC_BITS)
/* Replay window (RFC 3711 §3.3.2 asks for at least 64): two 64-bit words, as libsrtp's. */
#define WINDOW_WORDS 2

typedef struct {
	guint32 ssrc;
	gboolean used;
	guint32 index;       /* out: the last index sent */
	KtSrtpReplay replay; /* in */
	guint64 seen[WINDOW_WORDS];
} SsrcState;

typedef struct {
	KtSrtpSession keys; /* AES-128-GCM (encrypting or decrypting) or AES-128-CTR */
	SsrcState ssrcs[SSRC_SLOTS];
	guint n_ssrcs;
} Direction;

struct _KtSrtcp {
	gboolean gcm;
	Direction tx, rx;
};

KtSrtcp *kt_srtcp_new(const KtSrtpKeys *keys, GError **error)
{
	gboolean gcm;
	KtSrtcp *s;

	g_return_val_if_fail(keys != NULL, NULL);
	gcm = keys->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM;
	if (!kt_srtp_keys_supported(keys, "SRTCP", error))
		return NULL;
	s = g_new0(KtSrtcp, 1);
	s->gcm = gcm;
	if (!kt_srtp_session_init(&s->tx.keys, keys, FALSE, TRUE, FALSE) ||
	    !kt_srtp_session_init(&s->rx.keys, keys, TRUE, TRUE, TRUE)) {
		g_set_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_FAILED,
		            "OpenSSL could not set up the SRTCP keys");
		kt_srtcp_free(s);
		return NULL;
	}
	return s;
}

void kt_srtcp_free(KtSrtcp *s)
{
	if (s == NULL)
		return;
	kt_srtp_session_clear(&s->tx.keys);
	kt_srtp_session_clear(&s->rx.keys);
	OPENSSL_cleanse(s, sizeof *s);
	g_free(s);
}

/* @ssrc's slot; with @take, a free one is taken if it has none (open addressing, filled to
 * 3/4 at most). NULL when it has none and none was taken. */
static SsrcState *ssrc_state(Direction *d, guint32 ssrc, gboolean take)
{
	guint i = (ssrc * 2654435761u) >> (32 - SSRC_BITS);

	for (guint probes = 0; probes < SSRC_SLOTS; probes++, i = (i + 1) & (SSRC_SLOTS - 1)) {
		SsrcState *st = &d->ssrcs[i];

		if (st->used && st->ssrc == ssrc)
			return st;
		if (!st->used) {
			if (!take || d->n_ssrcs >= SSRC_SLOTS * 3 / 4)
				return NULL;
			memset(st, 0, sizeof *st);
			st->used = TRUE;
			st->ssrc = ssrc;
			d->n_ssrcs++;
			return st;
		}
	}
	return NULL;
}

static guint32 read_be32(const guint8 *p)
{
	return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void write_be32(guint8 *p, guint32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* RFC 3711 §4.1.1 for SRTCP: (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). */
static void cm_iv(const Direction *d, const guint8 *buf, guint32 index, guint8 iv[16])
{
	memset(iv, 0, 16);
	memcpy(iv, d->keys.salt, CM_SALT_LEN);
	for (guint i = 0; i < 4; i++)
		iv[4 + i] ^= buf[4 + i];
	iv[10] ^= index >> 24;
	iv[11] ^= index >> 16;
	iv[12] ^= index >> 8;
	iv[13] ^= index;
}

/* RFC 7714 §9.1: 00 00 || SSRC || 00 00 || 0 || index (31 bits), XOR the session salt. */
static void gcm_iv(const Direction *d, const guint8 *buf, guint32 index, guint8 iv[12])
{
	iv[0] = iv[1] = 0;
	memcpy(iv + 2, buf + 4, 4);
	iv[6] = iv[7] = 0;
	write_be32(iv + 8, index);
	for (guint i = 0; i < 12; i++)
		iv[i] ^= d->keys.salt[i];
}

int kt_srtcp_protect(KtSrtcp *s, guint8 *buf, gsize len, gsize cap)
{
	Direction *d;
	SsrcState *st;
	guint8 iv[16], tag[SHA_DIGEST_LENGTH], esrtcp[INDEX_LEN];
	int n = 0;

	if (s == NULL || buf == NULL || len < HEADER_LEN || len > MAX_PACKET || cap < len ||
	    cap - len < KT_SRTP_MAX_TRAILER)
		return KT_SRTP_ERR_PARAM;
	d = &s->tx;
	st = ssrc_state(d, read_be32(buf + 4), TRUE);
	if (st == NULL || st->index >= MAX_INDEX)
		return KT_SRTP_ERR_OTHER;
	st->index++;
	write_be32(esrtcp, E_FLAG | st->index);
	if (s->gcm) {
		/* §9.1: header || ciphertext || tag || E + index; the header and the
		 * E + index word are the additional authenticated data. */
		gcm_iv(d, buf, st->index, iv);
		if (EVP_EncryptInit_ex(d->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
		    EVP_EncryptUpdate(d->keys.cipher, NULL, &n, buf, HEADER_LEN) != 1 ||
		    EVP_EncryptUpdate(d->keys.cipher, NULL, &n, esrtcp, INDEX_LEN) != 1 ||
		    (len > HEADER_LEN &&
		     EVP_EncryptUpdate(d->keys.cipher, buf + HEADER_LEN, &n, buf + HEADER_LEN,
		                       (int)(len - HEADER_LEN)) != 1) ||
		    EVP_EncryptFinal_ex(d->keys.cipher, buf + len, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(d->keys.cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN,
		                        buf + len) != 1)
			return KT_SRTP_ERR_OTHER;
		memcpy(buf + len + GCM_TAG_LEN, esrtcp, INDEX_LEN);
		return (int)(len + GCM_TAG_LEN + INDEX_LEN);
	}
	/* §3.4: header || ciphertext || E + index || tag over all of that. */
	cm_iv(d, buf, st->index, iv);
	if (EVP_EncryptInit_ex(d->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
	    (len > HEADER_LEN && EVP_EncryptUpdate(d->keys.cipher, buf + HEADER_LEN, &n,
	                                           buf + HEADER_LEN, (int)(len - HEADER_LEN)) != 1))
		return KT_SRTP_ERR_OTHER;
	memcpy(buf + len, esrtcp, INDEX_LEN);
	kt_srtp_hmac(&d->keys.hmac, buf, len + INDEX_LEN, NULL, 0, tag);
	memcpy(buf + len + INDEX_LEN, tag, KT_SRTP_CM_TAG_LEN);
	return (int)(len + INDEX_LEN + KT_SRTP_CM_TAG_LEN);
}

/* @esrtcp: the E + index word ending the packet; decryption stops before the tag, so it
 * is read in place. */
static int unprotect_gcm(Direction *d, guint8 *buf, gsize len, guint32 esrtcp_word,
                         const guint8 *esrtcp)
{
	guint32 index = esrtcp_word & MAX_INDEX;
	gsize body = len - GCM_TAG_LEN - INDEX_LEN; /* header + payload */
	guint8 iv[12], tag[GCM_TAG_LEN];
	gboolean encrypted = (esrtcp_word & E_FLAG) != 0;
	int n = 0;

	gcm_iv(d, buf, index, iv);
	memcpy(tag, buf + body, GCM_TAG_LEN);
	/* §9.3: unencrypted, the whole packet is additional data. */
	if (EVP_DecryptInit_ex(d->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(d->keys.cipher, NULL, &n, buf, encrypted ? HEADER_LEN : (int)body) !=
	        1 ||
	    EVP_DecryptUpdate(d->keys.cipher, NULL, &n, esrtcp, INDEX_LEN) != 1 ||
	    (encrypted && body > HEADER_LEN &&
	     EVP_DecryptUpdate(d->keys.cipher, buf + HEADER_LEN, &n, buf + HEADER_LEN,
	                       (int)(body - HEADER_LEN)) != 1) ||
	    EVP_CIPHER_CTX_ctrl(d->keys.cipher, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(d->keys.cipher, buf + body, &n) != 1)
		return KT_SRTP_ERR_AUTH;
	return (int)body;
}

static int unprotect_cm(Direction *d, guint8 *buf, gsize len, guint32 esrtcp_word)
{
	guint32 index = esrtcp_word & MAX_INDEX;
	gsize body = len - KT_SRTP_CM_TAG_LEN - INDEX_LEN;
	guint8 iv[16], tag[SHA_DIGEST_LENGTH];
	int n = 0;

	kt_srtp_hmac(&d->keys.hmac, buf, body + INDEX_LEN, NULL, 0, tag);
	if (CRYPTO_memcmp(tag, buf + body + INDEX_LEN, KT_SRTP_CM_TAG_LEN) != 0)
		return KT_SRTP_ERR_AUTH;
	if ((esrtcp_word & E_FLAG) && body > HEADER_LEN) {
		cm_iv(d, buf, index, iv);
		if (EVP_EncryptInit_ex(d->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
		    EVP_EncryptUpdate(d->keys.cipher, buf + HEADER_LEN, &n, buf + HEADER_LEN,
		                      (int)(body - HEADER_LEN)) != 1)
			return KT_SRTP_ERR_OTHER;
	}
	return (int)body;
}

int kt_srtcp_unprotect(KtSrtcp *s, guint8 *buf, gsize len)
{
	gsize trailer;
	const guint8 *esrtcp;
	guint32 word;
	SsrcState *st;
	int n;

	if (s == NULL || buf == NULL || len > MAX_PACKET)
		return KT_SRTP_ERR_PARAM;
	trailer = INDEX_LEN + (s->gcm ? GCM_TAG_LEN : KT_SRTP_CM_TAG_LEN);
	if (len < HEADER_LEN + trailer)
		return KT_SRTP_ERR_PARAM;
	/* GCM: the E + index word ends the packet; AES-CM: the tag does. */
	esrtcp = s->gcm ? buf + len - INDEX_LEN : buf + len - trailer;
	word = read_be32(esrtcp);
	/* A slot is taken only for a packet that authenticates: forged SSRCs must not
	 * fill the table. */
	st = ssrc_state(&s->rx, read_be32(buf + 4), FALSE);
	if (st && !kt_srtp_replay_check(&st->replay, st->seen, WINDOW_WORDS, word & MAX_INDEX))
		return KT_SRTP_ERR_REPLAY;
	if (s->gcm)
		n = unprotect_gcm(&s->rx, buf, len, word, esrtcp);
	else
		n = unprotect_cm(&s->rx, buf, len, word);
	if (n < 0)
		return n;
	if (!st)
		st = ssrc_state(&s->rx, read_be32(buf + 4), TRUE);
	if (!st)
		return KT_SRTP_ERR_OTHER;
	kt_srtp_replay_add(&st->replay, st->seen, WINDOW_WORDS, word & MAX_INDEX);
	return n;
}
