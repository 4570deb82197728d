/* SRTP unprotection of incoming RTP on OpenSSL EVP (see kt-srtp-recv.h). */
#include "kt-srtp-recv.h"

#include "kt-srtp-kdf.h"
#include "kt-srtp-replay.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define GCM_TAG_LEN 16
#define RTP_HEADER_LEN 12
#define MAX_PACKET 65535
#define SSRC_BITS 6
#define SSRC_SLOTS (1u << SSRC_BITS)
/* 1024 packets, as the libsrtp2 sessions had (RFC 3711 §3.3.2 asks for at least 64;
 * video at a few Mbit/s reorders further than that). */
#define WINDOW_WORDS 16

typedef struct {
	guint32 ssrc;
	gboolean used;
	KtSrtpReplay replay; /* top: ROC * 65536 + SEQ of the newest packet accepted */
	guint64 seen[WINDOW_WORDS];
} SsrcState;

struct _KtSrtpRecv {
	gboolean gcm;
	KtSrtpSession keys; /* AES-128-GCM decrypting, or AES-128-CTR */
	SsrcState ssrcs[SSRC_SLOTS];
	guint n_ssrcs;
};

KtSrtpRecv *kt_srtp_recv_new(const KtSrtpKeys *keys, GError **error)
{
	KtSrtpRecv *s;

	g_return_val_if_fail(keys != NULL, NULL);
	if (!kt_srtp_keys_supported(keys, "SRTP", error))
		return NULL;
	s = g_new0(KtSrtpRecv, 1);
	s->gcm = keys->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM;
	if (!kt_srtp_session_init(&s->keys, keys, TRUE, FALSE, TRUE)) {
		g_set_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_FAILED,
		            "OpenSSL could not set up the SRTP receiving keys");
		kt_srtp_recv_free(s);
		return NULL;
	}
	return s;
}

void kt_srtp_recv_free(KtSrtpRecv *s)
{
	if (s == NULL)
		return;
	kt_srtp_session_clear(&s->keys);
	OPENSSL_cleanse(s, sizeof *s);
	g_free(s);
}

/* @ssrc's slot; with @take, a free one is taken if it has none (open addressing, filled to
 * 3/4 at most). NULL when it has none and none was taken. */
static SsrcState *ssrc_state(KtSrtpRecv *s, guint32 ssrc, gboolean take)
{
	guint i = (ssrc * 2654435761u) >> (32 - SSRC_BITS);

	for (guint probes = 0; probes < SSRC_SLOTS; probes++, i = (i + 1) & (SSRC_SLOTS - 1)) {
		SsrcState *st = &s->ssrcs[i];

		if (st->used && st->ssrc == ssrc)
			return st;
		if (!st->used) {
			if (!take || s->n_ssrcs >= SSRC_SLOTS * 3 / 4)
				return NULL;
			memset(st, 0, sizeof *st);
			st->used = TRUE;
			st->ssrc = ssrc;
			s->n_ssrcs++;
			return st;
		}
	}
	return NULL;
}

/* The packet index of @seq (RFC 3711 Appendix A): its rollover counter guessed from the
 * newest packet accepted. A new SSRC starts at ROC 0, and while the newest index is below
 * 2^15 the ROC stays 0 (libsrtp2 does the same: the guess would otherwise be ROC -1). */
static gint64 estimate_index(const SsrcState *st, guint16 seq)
{
	gint64 roc, v;
	gint s_l;

	if (st == NULL || !st->replay.started || st->replay.top <= 32768)
		return seq;
	roc = st->replay.top >> 16;
	s_l = (gint)(st->replay.top & 0xffff);
	v = roc;
	if (s_l < 32768) {
		if ((gint)seq - s_l > 32768)
			v = roc - 1;
	} else if (s_l - 32768 > (gint)seq) {
		v = roc + 1;
	}
	return v * 65536 + seq;
}

static int unprotect_gcm(KtSrtpRecv *s, guint8 *buf, gsize hlen, gsize len, guint32 roc,
                         guint16 seq)
{
	gsize body = len - GCM_TAG_LEN;
	guint8 iv[12], tag[GCM_TAG_LEN];
	int n = 0;

	kt_srtp_rtp_iv_gcm(&s->keys, buf, roc, seq, iv);
	memcpy(tag, buf + body, GCM_TAG_LEN);
	/* §8.2: the header is the additional data. Decryption writes in place; a packet
	 * whose tag fails is dropped whole, so the garbled payload goes nowhere. */
	if (EVP_DecryptInit_ex(s->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
	    EVP_DecryptUpdate(s->keys.cipher, NULL, &n, buf, (int)hlen) != 1 ||
	    (body > hlen && EVP_DecryptUpdate(s->keys.cipher, buf + hlen, &n, buf + hlen,
	                                      (int)(body - hlen)) != 1) ||
	    EVP_CIPHER_CTX_ctrl(s->keys.cipher, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(s->keys.cipher, buf + body, &n) != 1)
		return KT_SRTP_ERR_AUTH;
	return (int)body;
}

static int unprotect_cm(KtSrtpRecv *s, guint8 *buf, gsize hlen, gsize len, guint32 roc, guint16 seq)
{
	gsize body = len - KT_SRTP_CM_TAG_LEN;
	guint8 iv[16], r[4], tag[SHA_DIGEST_LENGTH];
	int n = 0;

	/* §4.2: HMAC-SHA1 over the packet and the ROC; checked before anything is
	 * decrypted. */
	r[0] = roc >> 24;
	r[1] = roc >> 16;
	r[2] = roc >> 8;
	r[3] = roc;
	kt_srtp_hmac(&s->keys.hmac, buf, body, r, sizeof r, tag);
	if (CRYPTO_memcmp(tag, buf + body, KT_SRTP_CM_TAG_LEN) != 0)
		return KT_SRTP_ERR_AUTH;
	kt_srtp_rtp_iv_cm(&s->keys, buf, roc, seq, iv);
	if (body > hlen && (EVP_EncryptInit_ex(s->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
	                    EVP_EncryptUpdate(s->keys.cipher, buf + hlen, &n, buf + hlen,
	                                      (int)(body - hlen)) != 1))
		return KT_SRTP_ERR_OTHER;
	return (int)body;
}

int kt_srtp_recv_rtp(KtSrtpRecv *s, guint8 *buf, gsize len)
{
	gsize hlen, tag_len;
	guint32 ssrc;
	guint16 seq;
	SsrcState *st;
	gint64 index;
	int n;

	if (s == NULL || buf == NULL || len < RTP_HEADER_LEN || len > MAX_PACKET ||
	    (buf[0] >> 6) != 2)
		return KT_SRTP_ERR_PARAM;
	tag_len = s->gcm ? GCM_TAG_LEN : KT_SRTP_CM_TAG_LEN;
	/* The header as libsrtp counts it (fixed part, CSRCs, extension block), and the tag
	 * after it. */
	hlen = RTP_HEADER_LEN + 4u * (buf[0] & 0x0f);
	if (buf[0] & 0x10) {
		if (hlen + 4 > len)
			return KT_SRTP_ERR_PARAM;
		hlen += 4 + 4u * (((guint)buf[hlen + 2] << 8) | buf[hlen + 3]);
	}
	if (hlen + tag_len > len)
		return KT_SRTP_ERR_PARAM;
	ssrc = (guint32)buf[8] << 24 | (guint32)buf[9] << 16 | (guint32)buf[10] << 8 | buf[11];
	seq = (guint16)(buf[2] << 8 | buf[3]);
	st = ssrc_state(s, ssrc, FALSE);
	index = estimate_index(st, seq);
	if (st && !kt_srtp_replay_check(&st->replay, st->seen, WINDOW_WORDS, index))
		return KT_SRTP_ERR_REPLAY;
	if (s->gcm)
		n = unprotect_gcm(s, buf, hlen, len, (guint32)(index >> 16), seq);
	else
		n = unprotect_cm(s, buf, hlen, len, (guint32)(index >> 16), seq);
	if (n < 0)
		return n;
	/* A slot only for a packet that authenticates: forged SSRCs must not fill it. */
	if (!st)
		st = ssrc_state(s, ssrc, TRUE);
	if (!st)
		return KT_SRTP_ERR_OTHER;
	kt_srtp_replay_add(&st->replay, st->seen, WINDOW_WORDS, index);
	return n;
}
