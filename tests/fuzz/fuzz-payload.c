/* The codec payloads the room looks into, of one RTP packet whose first input byte is the
 * Opus payload type RED is checked against (the rest is the packet):
 *   VP8  payload descriptor (RFC 7741 §4.2), keyframe and picture size; the simulcast
 *        munger rewrites PictureID/TL0PICIDX in place and must leave every other byte and
 *        the descriptor's shape alone;
 *   H.264  keyframe detection (single NAL, STAP-A, FU-A);
 *   RED  (RFC 2198) parsing, stripping to the primary, recovering the lost packets before
 *        it, renumbering, and building it again from a history of frames; every packet
 *        written must parse as RTP (aborts otherwise). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kt-red.h"
#include "kt-rtp.h"
#include "kt-vp8-munge.h"

static guint8 copy[65536 + 16], out[65536 + 16];

static void vp8(const guint8 *payload, gsize len)
{
	KtVp8Munge m = {0};
	KtVp8Desc d, d2;
	guint w, h;

	kt_rtp_vp8_is_keyframe(payload, len);
	kt_rtp_vp8_keyframe_size(payload, len, &w, &h);
	if (!kt_vp8_desc_parse(payload, len, &d))
		return;
	if ((d.pid_pos >= 0 && (gsize)d.pid_pos + (d.pid15 ? 2 : 1) > len) ||
	    (d.tl0_pos >= 0 && (gsize)d.tl0_pos >= len))
		abort();
	memcpy(copy, payload, len);
	kt_vp8_munge_switch(&m, copy, len);
	kt_vp8_munge_packet(&m, copy, len, TRUE);
	m.pid_off = 12345; /* a switch that moved the numbers on */
	m.tl0_off = 77;
	kt_vp8_munge_packet(&m, copy, len, FALSE);
	if (!kt_vp8_desc_parse(copy, len, &d2) || d2.pid_pos != d.pid_pos || d2.pid15 != d.pid15 ||
	    d2.tl0_pos != d.tl0_pos)
		abort();
	for (gsize i = 0; i < len; i++) {
		gboolean numbers = (d.pid_pos >= 0 && i >= (gsize)d.pid_pos &&
		                    i < (gsize)d.pid_pos + (d.pid15 ? 2 : 1)) ||
		                   (d.tl0_pos >= 0 && i == (gsize)d.tl0_pos);

		/* The PictureID's first byte keeps its M bit. */
		if ((!numbers && copy[i] != payload[i]) ||
		    (d.pid_pos >= 0 && i == (gsize)d.pid_pos &&
		     (copy[i] & 0x80) != (payload[i] & 0x80)))
			abort();
	}
}

static void must_parse(const guint8 *pkt, int n)
{
	KtRtpHeader h;

	if (n >= 0 && kt_rtp_parse(pkt, (gsize)n, &h) != KT_RTP_OK)
		abort();
}

static void red(const guint8 *pkt, gsize len, const KtRtpHeader *h, guint8 opus_pt)
{
	const guint8 *payload = pkt + h->payload_offset;
	KtRedBlock blocks[KT_RED_MAX_BLOCKS];
	KtRedHistory hist;
	int n = kt_red_parse(payload, h->payload_len, blocks, G_N_ELEMENTS(blocks));

	for (int i = 0; i < n; i++)
		if (blocks[i].offset + blocks[i].length > h->payload_len)
			abort();
	for (guint16 d = 1; d <= 3; d++)
		must_parse(out, kt_red_recover(pkt, len, h, (guint16)(h->seq - d), opus_pt, out,
		                               sizeof out));
	memcpy(copy, pkt, len);
	must_parse(copy, kt_red_to_primary(copy, len, h, opus_pt));
	memcpy(copy, pkt, len);
	kt_red_map_pt(copy + h->payload_offset, h->payload_len, opus_pt, 111);
	/* The packet's payload as a plain Opus frame, behind two earlier frames of its own. */
	kt_red_history_init(&hist);
	kt_red_history_push(&hist, (guint16)(h->seq - 2), h->timestamp - 1920, payload,
	                    h->payload_len / 3);
	kt_red_history_push(&hist, (guint16)(h->seq - 1), h->timestamp - 960, payload,
	                    h->payload_len / 2);
	n = kt_red_history_build(&hist, h->seq, h->timestamp, 63, payload, h->payload_len, 2, out,
	                         sizeof out);
	if (n > 0 && kt_red_parse(out, (gsize)n, blocks, G_N_ELEMENTS(blocks)) < 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KtRtpHeader h;

	if (size < 1 || kt_rtp_parse(data + 1, size - 1, &h) != KT_RTP_OK)
		return 0;
	vp8(data + 1 + h.payload_offset, h.payload_len);
	kt_rtp_h264_is_keyframe(data + 1 + h.payload_offset, h.payload_len);
	red(data + 1, size - 1, &h, data[0] & 0x7f);
	return 0;
}
