/* What the SDP answer and offer builders share (not installed; see kt-sdp-answer.h and
 * kt-sdp-offer.h). */
#pragma once

#include "kt-sdp.h"

/* The one RTP header extension Ketang negotiates (RFC 9143 §15.2). */
#define KT_SDP_MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"
/* Transport-wide sequence numbers (draft-holmer-rmcat-transport-wide-cc-extensions-01). */
#define KT_SDP_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
/* The sender's clock in each packet, for a receive-side estimate behind REMB. */
/* Playout delay limits a sender asks of a video receiver (libwebrtc's experiment; one
 * byte id, 3 bytes: 12-bit minimum and maximum in 10 ms units). */
#define KT_SDP_PLAYOUT_DELAY_URI "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"
#define KT_SDP_ABS_SEND_TIME_URI "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"

/* a=<direction> as written, indexed by KtSdpDirection. */
static inline const char *kt_sdp_direction_name(KtSdpDirection dir)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	return (guint)dir < G_N_ELEMENTS(names) ? names[dir] : "inactive";
}

/* RFC 8852 §3.1-3.2: the rid of a packet's RTP stream, and of the stream an RTX packet repairs. */
#define KT_SDP_RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define KT_SDP_RRID_URI "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"

/* kt-sdp-simulcast.c: a=rid and a=simulcast values (after the colon) into @m, and the check
 * once the m= section is complete. Errors are KT_SDP_ERROR_MALFORMED or _TOO_LARGE, without a
 * line number (the caller adds it). */
gboolean kt_sdp_rid_parse(KtSdpMedia *m, const char *value, GError **error);
gboolean kt_sdp_simulcast_parse(KtSdpMedia *m, const char *value, GError **error);
gboolean kt_sdp_simulcast_check(const KtSdpMedia *m, GError **error);
/* The header extension id of @uri in @m, 0 if not offered. */
guint8 kt_sdp_media_ext_id(const KtSdpMedia *m, const char *uri);
/* Whether a receiving answer can take @m's send simulcast: it has a send list and offers
 * the rid extension Ketang needs to tell the streams apart. */
gboolean kt_sdp_simulcast_receivable(const KtSdpMedia *m);
/* The answer's lines for receiving @m's simulcast (RFC 8853 §5.3): the rid extensions, one
 * a=rid:<id> recv per offered send stream and a=simulcast:recv in the offer's order. */
void kt_sdp_simulcast_write_recv(const KtSdpMedia *m, GString *s);
