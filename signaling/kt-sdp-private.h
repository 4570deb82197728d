/* What the SDP answer and offer builders share (not installed; see kt-sdp-answer.h and
 * kt-sdp-offer.h). */
#pragma once

#include "kt-sdp.h"

/* The one RTP header extension Ketang negotiates (RFC 9143 §15.2). */
#define KT_SDP_MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"
/* Transport-wide sequence numbers (draft-holmer-rmcat-transport-wide-cc-extensions-01). */
#define KT_SDP_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

/* a=<direction> as written, indexed by KtSdpDirection. */
static inline const char *kt_sdp_direction_name(KtSdpDirection dir)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	return (guint)dir < G_N_ELEMENTS(names) ? names[dir] : "inactive";
}
