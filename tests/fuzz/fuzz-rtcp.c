/* A compound RTCP datagram from a publisher or subscriber, read the way the room reads it
 * (kt-room-forward.c: kt_room_on_*_rtcp): SR and RR report blocks, generic NACK, PLI
 * (its media SSRC), FIR, REMB and transport-wide feedback (kt_twcc_parse). What parses is
 * also built again with Ketang's own builders and read back: NACK, FIR, REMB and PLI must
 * survive the round trip (aborts otherwise). fuzz-rtp reads the same bytes as RTP too. */
#include <stdlib.h>

#include "fuzz.h"
#include "kt-rtcp.h"
#include "kt-twcc.h"

static void check_chunk(const guint8 *buf, int n, guint8 type, guint8 count, KtRtcpChunk *out)
{
	KtRtcpIter it;

	if (n <= 0)
		abort();
	kt_rtcp_iter_init(&it, buf, (gsize)n);
	if (kt_rtcp_iter_next(&it, out) != 1 || out->type != type || out->count != count ||
	    kt_rtcp_iter_next(&it, out) != 0)
		abort();
	kt_rtcp_iter_init(&it, buf, (gsize)n);
	kt_rtcp_iter_next(&it, out);
}

/* One NACK item, as the room's resend path reads it: every lost sequence number rebuilt. */
static void nack_round_trip(const KtRtcpChunk *c, guint16 pid, guint16 blp)
{
	guint16 seqs[17], pid2, blp2;
	guint8 buf[64];
	KtRtcpChunk back;
	guint n = 0;

	seqs[n++] = pid;
	for (guint b = 0; b < 16; b++)
		if (blp & (1u << b))
			seqs[n++] = (guint16)(pid + b + 1);
	check_chunk(buf,
	            kt_rtcp_build_nack(buf, sizeof buf, kt_rtcp_get_sender_ssrc(c),
	                               kt_rtcp_fb_get_media_ssrc(c), seqs, n),
	            KT_RTCP_RTPFB, KT_RTCP_FB_NACK, &back);
	if (kt_rtcp_nack_count(&back) != 1 || kt_rtcp_nack_get(&back, 0, &pid2, &blp2) != 0 ||
	    pid2 != pid || blp2 != blp)
		abort();
}

static void nack(const KtRtcpChunk *c)
{
	int n = kt_rtcp_nack_count(c);
	guint16 pid, blp;

	for (int i = 0; i < n; i++) {
		if (kt_rtcp_nack_get(c, (guint)i, &pid, &blp) != 0)
			abort();
		nack_round_trip(c, pid, blp);
	}
	if (n >= 0 && kt_rtcp_nack_get(c, (guint)n, &pid, &blp) >= 0)
		abort();
}

static void fir(const KtRtcpChunk *c)
{
	int n = kt_rtcp_fir_count(c);
	guint32 ssrc, ssrc2;
	guint8 seqnr, seqnr2, buf[32];
	KtRtcpChunk back;

	for (int i = 0; i < n; i++) {
		if (kt_rtcp_fir_get(c, (guint)i, &ssrc, &seqnr) < 0)
			abort();
		check_chunk(
		    buf,
		    kt_rtcp_build_fir(buf, sizeof buf, kt_rtcp_get_sender_ssrc(c), ssrc, seqnr),
		    KT_RTCP_PSFB, KT_RTCP_FB_FIR, &back);
		if (kt_rtcp_fir_count(&back) != 1 ||
		    kt_rtcp_fir_get(&back, 0, &ssrc2, &seqnr2) < 0 || ssrc2 != ssrc ||
		    seqnr2 != seqnr)
			abort();
	}
}

static void pli(const KtRtcpChunk *c)
{
	guint8 buf[16];
	KtRtcpChunk back;
	guint32 media = kt_rtcp_fb_get_media_ssrc(c);

	if (c->type != KT_RTCP_PSFB || c->count != KT_RTCP_FB_PLI)
		return;
	check_chunk(buf, kt_rtcp_build_pli(buf, sizeof buf, kt_rtcp_get_sender_ssrc(c), media),
	            KT_RTCP_PSFB, KT_RTCP_FB_PLI, &back);
	if (kt_rtcp_fb_get_media_ssrc(&back) != media)
		abort();
}

static void remb(const KtRtcpChunk *c)
{
	guint32 ssrcs[255];
	guint64 bps, bps2;
	guint8 buf[16 + 8 + 4 * 255];
	KtRtcpChunk back;
	int n = kt_rtcp_remb_parse(c, &bps);

	if (n < 0)
		return;
	if (n > 255)
		abort();
	for (int i = 0; i < n; i++)
		if (kt_rtcp_remb_get_ssrc(c, (guint)i, &ssrcs[i]) < 0)
			abort();
	if (bps == G_MAXUINT64)
		return; /* saturated: the builder cannot say it */
	check_chunk(
	    buf,
	    kt_rtcp_build_remb(buf, sizeof buf, kt_rtcp_get_sender_ssrc(c), bps, ssrcs, (guint)n),
	    KT_RTCP_PSFB, KT_RTCP_FB_AFB, &back);
	if (kt_rtcp_remb_parse(&back, &bps2) != n || bps2 != bps)
		abort();
}

static void twcc(const KtRtcpChunk *c)
{
	static KtTwccStatus statuses[KT_TWCC_WINDOW];
	KtTwccFeedback fb, fb0;
	int n = kt_twcc_parse(c, &fb, statuses, G_N_ELEMENTS(statuses));

	/* The room reads into a fixed array; fewer slots must not change the verdict. */
	if (kt_twcc_parse(c, &fb0, statuses, 3) != n || (n >= 0 && n != fb.count))
		abort();
}

static void reports(const KtRtcpChunk *c)
{
	KtRtcpSenderInfo si;
	KtRtcpReportBlock rb;
	guint i = 0;

	kt_rtcp_parse_sr(c, &si);
	while (kt_rtcp_get_report_block(c, i, &rb) == 0)
		i++;
	if ((c->type == KT_RTCP_SR || c->type == KT_RTCP_RR) && i > c->count)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	KtRtcpIter it;
	KtRtcpChunk c;

	kt_rtcp_iter_init(&it, data, size);
	while (kt_rtcp_iter_next(&it, &c) == 1) {
		if (c.data < data || c.data + c.len > data + size)
			abort();
		kt_rtcp_get_sender_ssrc(&c);
		reports(&c);
		nack(&c);
		pli(&c);
		fir(&c);
		remb(&c);
		twcc(&c);
	}
	return 0;
}
