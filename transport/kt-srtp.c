/* One peer's SRTP (RFC 3711, RFC 7714): incoming RTP through a libsrtp2 inbound session;
 * outgoing RTP through kt-srtp-send.c and RTCP both ways through kt-srtcp.c (OpenSSL EVP,
 * no allocation per packet; libsrtp2 as Debian builds it allocates in NSS on every call). */
#include "kt-srtp.h"

#include "kt-srtcp.h"
#include "kt-srtp-send.h"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

/* Largest packet we accept: a UDP datagram. libsrtp takes lengths as int. */
#define KT_SRTP_MAX_PACKET 65535
/* RFC 3711 §3.3.2 suggests at least 64; video at a few Mbit/s reorders far more than that. */
#define KT_SRTP_REPLAY_WINDOW 1024
#define RTP_HEADER_LEN 12
#define RTCP_HEADER_LEN 8

struct _KtSrtp {
	srtp_t rx; /* RTP in */
	KtSrtpSend *rtp_tx;
	KtSrtcp *rtcp;
};

G_DEFINE_QUARK(kt - srtp - error - quark, kt_srtp_error)

void kt_srtp_init(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		srtp_err_status_t st = srtp_init();

		if (st != srtp_err_status_ok)
			g_critical("srtp_init failed (status %d)", st);
		g_once_init_leave(&once, 1);
	}
}

static bool check_keys(const KtSrtpKeys *k, GError **error)
{
	guint salt_len;

	switch (k->profile) {
	case KT_SRTP_PROFILE_AES128_CM_SHA1_80:
		salt_len = SRTP_SALT_LEN;
		break;
	case KT_SRTP_PROFILE_AEAD_AES_128_GCM:
		salt_len = SRTP_AEAD_SALT_LEN;
		break;
	default:
		g_set_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID,
		            "unsupported SRTP protection profile 0x%04x", k->profile);
		return false;
	}
	if (k->key_len != SRTP_AES_128_KEY_LEN || k->salt_len != salt_len) {
		g_set_error(
		    error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID,
		    "SRTP profile 0x%04x needs a %d-byte key and a %u-byte salt, got %u and %u",
		    k->profile, SRTP_AES_128_KEY_LEN, salt_len, k->key_len, k->salt_len);
		return false;
	}
	return true;
}

/* Creates one session. libsrtp wants the master key and salt back to back (RFC 5764 §4.2
 * keeps them apart) and copies what it derives, so the joined buffer is wiped at once. */
static srtp_t create_session(const KtSrtpKeys *k, const guint8 *key, const guint8 *salt,
                             srtp_ssrc_type_t direction, GError **error)
{
	guint8 master[SRTP_AES_ICM_128_KEY_LEN_WSALT];
	srtp_policy_t policy = {0};
	srtp_t session = NULL;
	srtp_err_status_t st;

	if (k->profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
	}
	memcpy(master, key, k->key_len);
	memcpy(master + k->key_len, salt, k->salt_len);
	policy.ssrc.type = direction;
	policy.key = master;
	policy.window_size = KT_SRTP_REPLAY_WINDOW;
	/* The SFU resends the very packet a receiver NACKed (RFC 4585 §6.2.1); let libsrtp
	 * protect the same index twice. Only meaningful outbound. */
	policy.allow_repeat_tx = direction == ssrc_any_outbound;
	st = srtp_create(&session, &policy);
	OPENSSL_cleanse(master, sizeof master);
	if (st != srtp_err_status_ok) {
		g_set_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_FAILED,
		            "libsrtp refused the %s keys (status %d)",
		            direction == ssrc_any_outbound ? "outbound" : "inbound", st);
		return NULL;
	}
	return session;
}

KtSrtp *kt_srtp_new(const KtSrtpKeys *keys, GError **error)
{
	KtSrtp *s;

	g_return_val_if_fail(keys != NULL, NULL);
	kt_srtp_init();
	if (!check_keys(keys, error))
		return NULL;
	s = g_new0(KtSrtp, 1);
	s->rtp_tx = kt_srtp_send_new(keys, error);
	if (s->rtp_tx != NULL)
		s->rtcp = kt_srtcp_new(keys, error);
	if (s->rtcp != NULL)
		s->rx = create_session(keys, keys->remote_key, keys->remote_salt, ssrc_any_inbound,
		                       error);
	if (s->rx == NULL) {
		kt_srtp_free(s);
		return NULL;
	}
	return s;
}

void kt_srtp_free(KtSrtp *s)
{
	if (s == NULL)
		return;
	if (s->rx != NULL)
		srtp_dealloc(s->rx);
	kt_srtp_send_free(s->rtp_tx);
	kt_srtcp_free(s->rtcp);
	g_free(s);
}

/* Called after libsrtp returns, as @len is the length it wrote back. */
static int map_status(srtp_err_status_t st, int len)
{
	switch (st) {
	case srtp_err_status_ok:
		return len;
	case srtp_err_status_auth_fail:
		return KT_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return KT_SRTP_ERR_REPLAY;
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
		return KT_SRTP_ERR_PARAM;
	default:
		return KT_SRTP_ERR_OTHER;
	}
}

/* Shared bounds checks: libsrtp trusts the caller about both the header and the room after
 * the packet, and the input comes from the network. */
static bool len_ok(gsize len, gsize min)
{
	return len >= min && len <= KT_SRTP_MAX_PACKET;
}

static bool room_ok(gsize len, gsize cap)
{
	return cap >= len && cap - len >= KT_SRTP_MAX_TRAILER;
}

int kt_srtp_protect_rtp(KtSrtp *s, guint8 *buf, gsize len, gsize cap)
{
	if (s == NULL || buf == NULL || !len_ok(len, RTP_HEADER_LEN) || !room_ok(len, cap))
		return KT_SRTP_ERR_PARAM;
	return kt_srtp_send_rtp(s->rtp_tx, buf, len, cap);
}

int kt_srtp_unprotect_rtp(KtSrtp *s, guint8 *buf, gsize len)
{
	int n = (int)len;
	srtp_err_status_t st;

	if (s == NULL || buf == NULL || !len_ok(len, RTP_HEADER_LEN))
		return KT_SRTP_ERR_PARAM;
	st = srtp_unprotect(s->rx, buf, &n);
	return map_status(st, n);
}

int kt_srtp_protect_rtcp(KtSrtp *s, guint8 *buf, gsize len, gsize cap)
{
	if (s == NULL || buf == NULL || !len_ok(len, RTCP_HEADER_LEN) || !room_ok(len, cap))
		return KT_SRTP_ERR_PARAM;
	return kt_srtcp_protect(s->rtcp, buf, len, cap);
}

int kt_srtp_unprotect_rtcp(KtSrtp *s, guint8 *buf, gsize len)
{
	if (s == NULL || buf == NULL || !len_ok(len, RTCP_HEADER_LEN))
		return KT_SRTP_ERR_PARAM;
	return kt_srtcp_unprotect(s->rtcp, buf, len);
}
