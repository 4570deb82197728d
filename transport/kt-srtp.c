/* One peer's SRTP (RFC 3711, RFC 7714): RTP out through kt-srtp-send.c, RTP in through
 * kt-srtp-recv.c, RTCP both ways through kt-srtcp.c, all on OpenSSL EVP with no allocation
 * per packet (libsrtp2 as Debian builds it allocates in NSS on every call; it stays the
 * reference the unit tests check these against). */
#include "kt-srtp.h"

#include "kt-srtcp.h"
#include "kt-srtp-kdf.h"
#include "kt-srtp-recv.h"
#include "kt-srtp-send.h"

/* Largest packet we accept: a UDP datagram. */
#define KT_SRTP_MAX_PACKET 65535
#define RTP_HEADER_LEN 12
#define RTCP_HEADER_LEN 8

struct _KtSrtp {
	KtSrtpRecv *rtp_rx;
	KtSrtpSend *rtp_tx;
	KtSrtcp *rtcp;
};

G_DEFINE_QUARK(kt - srtp - error - quark, kt_srtp_error)

KtSrtp *kt_srtp_new(const KtSrtpKeys *keys, GError **error)
{
	KtSrtp *s;

	g_return_val_if_fail(keys != NULL, NULL);
	if (!kt_srtp_keys_supported(keys, "SRTP", error))
		return NULL;
	s = g_new0(KtSrtp, 1);
	s->rtp_tx = kt_srtp_send_new(keys, error);
	if (s->rtp_tx != NULL)
		s->rtcp = kt_srtcp_new(keys, error);
	if (s->rtcp != NULL)
		s->rtp_rx = kt_srtp_recv_new(keys, error);
	if (s->rtp_rx == NULL) {
		kt_srtp_free(s);
		return NULL;
	}
	return s;
}

void kt_srtp_free(KtSrtp *s)
{
	if (s == NULL)
		return;
	kt_srtp_recv_free(s->rtp_rx);
	kt_srtp_send_free(s->rtp_tx);
	kt_srtcp_free(s->rtcp);
	g_free(s);
}

/* Shared bounds checks: the input comes from the network. */
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

void kt_srtp_prefetch_rtp(KtSrtp *s, guint step, guint32 ssrc)
{
	if (step == 0)
		__builtin_prefetch(s);
	else
		kt_srtp_send_prefetch(s->rtp_tx, step - 1, ssrc);
}

int kt_srtp_unprotect_rtp(KtSrtp *s, guint8 *buf, gsize len)
{
	if (s == NULL || buf == NULL || !len_ok(len, RTP_HEADER_LEN))
		return KT_SRTP_ERR_PARAM;
	return kt_srtp_recv_rtp(s->rtp_rx, buf, len);
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
