/* SRTP protection of outgoing RTP on OpenSSL EVP (see kt-srtp-send.h). */
#include "kt-srtp-send.h"

/* The HMAC of AES128_CM_SHA1_80 runs on SHA1 states computed once per key
 * (kt-srtp-kdf.h). */
#include "kt-srtp-kdf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define CM_TAG_LEN KT_SRTP_CM_TAG_LEN
#define GCM_TAG_LEN 16
#define RTP_HEADER_LEN 12
#define MAX_PACKET 65535
/* SSRCs whose rollover counters are kept: a subscriber gets at most a few hundred (64
 * lines, each with media and RTX); a power of two for the probe mask. */
#define SSRC_BITS 10
#define SSRC_SLOTS (1u << SSRC_BITS)

typedef struct {
	guint32 ssrc;
	guint32 roc;
	guint16 last_seq; /* the highest sequence number sent (s_l of RFC 3711 §3.3.1) */
	gboolean used;    /* the slot holds @ssrc */
	gboolean started; /* a packet of it was protected: last_seq means something */
} SsrcState;

struct _KtSrtpSend {
	KtSrtpProfile profile;
	KtSrtpSession keys;
	SsrcState ssrcs[SSRC_SLOTS];
	guint n_ssrcs;
};

KtSrtpSend *kt_srtp_send_new(const KtSrtpKeys *keys, GError **error)
{
	KtSrtpSend *s;

	g_return_val_if_fail(keys != NULL, NULL);
	if (!kt_srtp_keys_supported(keys, "SRTP", error))
		return NULL;
	s = g_new0(KtSrtpSend, 1);
	s->profile = keys->profile;
	if (!kt_srtp_session_init(&s->keys, keys, FALSE, FALSE, FALSE)) {
		g_set_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_FAILED,
		            "OpenSSL could not set up the SRTP sending keys");
		kt_srtp_send_free(s);
		return NULL;
	}
	return s;
}

void kt_srtp_send_free(KtSrtpSend *s)
{
	if (s == NULL)
		return;
	kt_srtp_session_clear(&s->keys);
	OPENSSL_cleanse(s, sizeof *s);
	g_free(s);
}

/* Where @ssrc's slot search starts: Fibonacci hashing, the top bits. */
static guint home_slot(guint32 ssrc)
{
	return (ssrc * 2654435761u) >> (32 - SSRC_BITS);
}

/* @ssrc's slot, taken if it has none (open addressing, filled to 3/4 at most); NULL when
 * the table is full. */
static SsrcState *ssrc_state(KtSrtpSend *s, guint32 ssrc)
{
	guint i = home_slot(ssrc);

	for (guint probes = 0; probes < SSRC_SLOTS; probes++, i = (i + 1) & (SSRC_SLOTS - 1)) {
		SsrcState *st = &s->ssrcs[i];

		if (st->used && st->ssrc == ssrc)
			return st;
		if (!st->used) {
			if (s->n_ssrcs >= SSRC_SLOTS * 3 / 4)
				return NULL;
			st->used = TRUE;
			st->ssrc = ssrc;
			st->roc = 0;
			st->last_seq = 0;
			st->started = FALSE;
			s->n_ssrcs++;
			return st;
		}
	}
	return NULL;
}

void kt_srtp_send_prefetch(KtSrtpSend *s, guint step, guint32 ssrc)
{
	if (step == 0) {
		__builtin_prefetch(s);
		__builtin_prefetch((const char *)s + 64);
		return;
	}
	/* Where its slot is, unless a collision moved it one on. */
	__builtin_prefetch(&s->ssrcs[home_slot(ssrc)], 1);
	/* EVP_CIPHER_CTX is opaque; its first lines hold what EVP reads first. */
	__builtin_prefetch(s->keys.cipher);
	__builtin_prefetch((const char *)s->keys.cipher + 64);
	__builtin_prefetch((const char *)s->keys.cipher + 128);
}

/* The rollover counter for @seq (RFC 3711 §3.3.1 and Appendix A, as a receiver guesses
 * it), the state moved on when @seq is the newest. */
static guint32 estimate_roc(SsrcState *st, guint16 seq)
{
	guint32 v = st->roc;

	if (!st->started) {
		st->started = TRUE;
		st->last_seq = seq;
		return v;
	}
	if (st->last_seq < 32768) {
		if ((gint)seq - (gint)st->last_seq > 32768)
			v = st->roc - 1;
	} else if ((gint)st->last_seq - 32768 > (gint)seq) {
		v = st->roc + 1;
	}
	if (v == st->roc + 1) {
		st->roc = v;
		st->last_seq = seq;
	} else if (v == st->roc && seq > st->last_seq) {
		st->last_seq = seq;
	}
	return v;
}

static int protect_gcm(KtSrtpSend *s, guint8 *buf, gsize hlen, gsize len, guint32 roc, guint16 seq)
{
	guint8 iv[12];
	int n = 0;

	kt_srtp_rtp_iv_gcm(&s->keys, buf, roc, seq, iv);
	if (EVP_EncryptInit_ex(s->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(s->keys.cipher, NULL, &n, buf, (int)hlen) != 1 ||
	    (len > hlen && EVP_EncryptUpdate(s->keys.cipher, buf + hlen, &n, buf + hlen,
	                                     (int)(len - hlen)) != 1) ||
	    EVP_EncryptFinal_ex(s->keys.cipher, buf + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->keys.cipher, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, buf + len) != 1)
		return KT_SRTP_ERR_OTHER;
	return (int)len + GCM_TAG_LEN;
}

static int protect_cm(KtSrtpSend *s, guint8 *buf, gsize hlen, gsize len, guint32 roc, guint16 seq)
{
	guint8 iv[16], r[4], tag[SHA_DIGEST_LENGTH];
	int n = 0;

	kt_srtp_rtp_iv_cm(&s->keys, buf, roc, seq, iv);
	if (EVP_EncryptInit_ex(s->keys.cipher, NULL, NULL, NULL, iv) != 1 ||
	    (len > hlen &&
	     EVP_EncryptUpdate(s->keys.cipher, buf + hlen, &n, buf + hlen, (int)(len - hlen)) != 1))
		return KT_SRTP_ERR_OTHER;
	/* §4.2: HMAC-SHA1 over the packet and the ROC, 80 bits of it appended. */
	r[0] = roc >> 24;
	r[1] = roc >> 16;
	r[2] = roc >> 8;
	r[3] = roc;
	kt_srtp_hmac(&s->keys.hmac, buf, len, r, sizeof r, tag);
	memcpy(buf + len, tag, CM_TAG_LEN);
	return (int)len + CM_TAG_LEN;
}

int kt_srtp_send_rtp(KtSrtpSend *s, guint8 *buf, gsize len, gsize cap)
{
	gsize hlen;
	SsrcState *st;
	guint32 ssrc, roc;
	guint16 seq;

	if (s == NULL || buf == NULL || len < RTP_HEADER_LEN || len > MAX_PACKET || cap < len ||
	    cap - len < KT_SRTP_MAX_TRAILER || (buf[0] >> 6) != 2)
		return KT_SRTP_ERR_PARAM;
	/* The header as libsrtp counts it: fixed part, CSRCs, extension block. */
	hlen = RTP_HEADER_LEN + 4u * (buf[0] & 0x0f);
	if ((buf[0] & 0x10) && hlen + 4 <= len)
		hlen += 4 + 4u * (((guint)buf[hlen + 2] << 8) | buf[hlen + 3]);
	else if (buf[0] & 0x10)
		return KT_SRTP_ERR_PARAM;
	if (hlen > len)
		return KT_SRTP_ERR_PARAM;
	ssrc = (guint32)buf[8] << 24 | (guint32)buf[9] << 16 | (guint32)buf[10] << 8 | buf[11];
	seq = (guint16)(buf[2] << 8 | buf[3]);
	st = ssrc_state(s, ssrc);
	if (st == NULL)
		return KT_SRTP_ERR_OTHER;
	roc = estimate_roc(st, seq);
	if (s->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM)
		return protect_gcm(s, buf, hlen, len, roc, seq);
	return protect_cm(s, buf, hlen, len, roc, seq);
}
