/* RTP and RTCP from the network: the RTP header and its extensions, the
 * keyframe checks, and every RTCP packet of a compound datagram with each
 * reader Ketang applies (SR, report blocks, NACK, FIR, REMB). */
#include "fuzz.h"
#include "kt-rtcp.h"
#include "kt-rtp.h"

static void rtcp(const uint8_t *data, size_t size)
{
	KtRtcpIter it;
	KtRtcpChunk c;

	kt_rtcp_iter_init(&it, data, size);
	while (kt_rtcp_iter_next(&it, &c) == 1) {
		KtRtcpSenderInfo si;
		KtRtcpReportBlock rb;
		guint64 bps;
		guint16 pid, blp;
		guint32 ssrc;
		guint8 seqnr;
		int n;

		kt_rtcp_parse_sr(&c, &si);
		kt_rtcp_get_sender_ssrc(&c);
		for (guint i = 0; i < 32 && kt_rtcp_get_report_block(&c, i, &rb) == 0; i++)
			;
		kt_rtcp_fb_get_media_ssrc(&c);
		n = kt_rtcp_nack_count(&c);
		for (int i = 0; i < n; i++)
			kt_rtcp_nack_get(&c, (guint)i, &pid, &blp);
		n = kt_rtcp_fir_count(&c);
		for (int i = 0; i < n; i++)
			kt_rtcp_fir_get(&c, (guint)i, &ssrc, &seqnr);
		n = kt_rtcp_remb_parse(&c, &bps);
		for (int i = 0; i < n; i++)
			kt_rtcp_remb_get_ssrc(&c, (guint)i, &ssrc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KtRtpHeader h;

	rtcp(data, size);
	if (kt_rtp_parse(data, size, &h) >= 0) {
		const guint8 *ext;

		for (guint8 id = 1; id < 15; id++)
			kt_rtp_find_extension(data, &h, id, &ext);
		if (h.payload_len > 0) {
			kt_rtp_vp8_is_keyframe(data + h.header_len, h.payload_len);
			kt_rtp_h264_is_keyframe(data + h.header_len, h.payload_len);
		}
	}
	return 0;
}
