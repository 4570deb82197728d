/* RTP header extensions of a publisher's packets, read the way the room reads them, over a
 * run of packets so that the stateful readers see a stream. Input: records of
 *   1 byte  arrival gap in ms,  2 bytes  length (big-endian),  the RTP packet
 * (the last record takes what is left). Extension ids are Chromium's defaults:
 *   2  abs-send-time  -> the receive-side estimate behind REMB (kt-remb-estimate.c)
 *   3  transport-wide sequence number -> the TWCC receiver, whose feedback is parsed back
 *   4  mid, 10 rid, 11 repaired rid -> compared as the simulcast layer learner does
 * and every packet gets the 3-byte playout-delay element added as the room adds it to
 * forwarded video (kt_rtp_add_extension): the result must parse, carry the element, and
 * keep the payload (aborts otherwise). The one- and two-byte forms are both searched. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kt-remb-estimate.h"
#include "kt-rtp.h"
#include "kt-twcc.h"

enum { EXT_ABS_SEND_TIME = 2, EXT_TWCC = 3, EXT_MID = 4, EXT_RID = 10, EXT_RRID = 11 };

static void find_all(const guint8 *pkt, const KtRtpHeader *h)
{
	const guint8 *d;
	guint last = h->ext_profile == 0xBEDE ? 14 : 255;

	for (guint id = 1; id <= last; id++) {
		int n = kt_rtp_find_extension(pkt, h, (guint8)id, &d);

		if (n > 0 && (d < pkt + h->ext_offset || d + n > pkt + h->ext_offset + h->ext_len))
			abort();
	}
}

static void add_playout(const guint8 *pkt, gsize len, const KtRtpHeader *h)
{
	static guint8 buf[65536 + 64];
	static const guint8 element[3] = {0x01, 0x40, 0x3e};
	guint8 id = (guint8)(h->seq % 14 + 1);
	const guint8 *d;
	KtRtpHeader h2;
	int n;

	if (kt_rtp_find_extension(pkt, h, id, &d) >= 0)
		return; /* the room's id is its own: never already there */
	memcpy(buf, pkt, len);
	n = kt_rtp_add_extension(buf, len, len + 64, id, element, sizeof element);
	if (n < 0)
		return;
	if (kt_rtp_parse(buf, (gsize)n, &h2) != KT_RTP_OK ||
	    kt_rtp_find_extension(buf, &h2, id, &d) != 3 || memcmp(d, element, 3) != 0 ||
	    h2.payload_len != h->payload_len || h2.seq != h->seq || h2.ssrc != h->ssrc ||
	    memcmp(buf + h2.payload_offset, pkt + h->payload_offset, h->payload_len) != 0)
		abort();
}

static void rid_like(const guint8 *pkt, const KtRtpHeader *h)
{
	static const char *const names[] = {"0", "1", "q", "h", "f"};
	const guint8 *d;

	for (guint8 id = EXT_MID; id <= EXT_RRID; id++) {
		int n = kt_rtp_find_extension(pkt, h, id, &d);

		for (guint i = 0; n > 0 && i < G_N_ELEMENTS(names); i++)
			(void)((gsize)n == strlen(names[i]) && memcmp(d, names[i], n) == 0);
	}
}

static void twcc_feedback(KtTwccReceiver *r)
{
	static KtTwccStatus st[KT_TWCC_WINDOW];
	guint8 buf[1500];
	KtRtcpIter it;
	KtRtcpChunk c;
	KtTwccFeedback fb;
	int n;

	/* A report that does not fit ends early; the next one goes on from there. */
	for (guint i = 0; i < 8 && (n = kt_twcc_receiver_build(r, buf, sizeof buf, 1, 2)) > 0;
	     i++) {
		kt_rtcp_iter_init(&it, buf, (gsize)n);
		if (kt_rtcp_iter_next(&it, &c) != 1 ||
		    kt_twcc_parse(&c, &fb, st, KT_TWCC_WINDOW) < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KtRembEstimate *remb = kt_remb_estimate_new(0, 0);
	KtTwccReceiver *twcc = kt_twcc_receiver_new();
	gint64 now = 1000000;

	while (size >= 3) {
		gsize len = MIN((gsize)(data[1] << 8 | data[2]), size - 3);
		const guint8 *pkt = data + 3, *ext;
		guint8 gap = data[0];
		KtRtpHeader h;
		int n;

		now += gap * 1000;
		data += 3 + len;
		size -= 3 + len;
		if (kt_rtp_parse(pkt, len, &h) != KT_RTP_OK)
			continue;
		find_all(pkt, &h);
		n = kt_rtp_find_extension(pkt, &h, EXT_ABS_SEND_TIME, &ext);
		kt_remb_estimate_on_packet(remb, now, (guint)len, n >= 0 ? ext : NULL, n);
		kt_remb_estimate_update(remb, now);
		if (kt_rtp_find_extension(pkt, &h, EXT_TWCC, &ext) == 2)
			kt_twcc_receiver_record(twcc, kt_rtp_read_be16(ext), now);
		rid_like(pkt, &h);
		add_playout(pkt, len, &h);
		if (gap >= 100)
			twcc_feedback(twcc);
	}
	twcc_feedback(twcc);
	kt_twcc_receiver_free(twcc);
	kt_remb_estimate_free(remb);
	return 0;
}
