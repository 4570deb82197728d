/* The per-stream sequence state a publisher's packets and subscribers' NACKs drive, run
 * over a stream whose numbers, times and sizes the input chooses: the NACK list
 * (kt-nack-list.c), the retransmission cache (kt-rtx-cache.c) and the receive
 * statistics behind Receiver Reports (kt-rtp-stats.c). Input: records of 6 bytes
 *   op, sequence step (2 bytes, signed, big-endian), time step, size, timestamp step
 * op % 5: 0 a packet arrives (all three see it; its bytes go into the cache),
 *         1 the NACKs due now, 2 a NACK from a subscriber (a cache lookup),
 *         3 a Sender Report arrives, 4 a Receiver Report is made.
 * A time step of 250 or more is a jump of (step - 249) seconds.
 * Checked (abort otherwise): the NACK list never holds a number just received, nor one
 * twice, nor more than KT_NACK_MAX; what is due was in it; the cache answers a number
 * with that number's packet, whole, or nothing; a report's cumulative loss fits its 24
 * bits and the packet count never goes back. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kt-nack-list.h"
#include "kt-rtp-stats.h"
#include "kt-rtx-cache.h"

#define RECORD 6
#define CACHE_SLOTS 64 /* small, so that slots are reused often */
#define CACHE_AGE_US (G_USEC_PER_SEC)
#define RETRY_US 20000

static void check_list(const KtNackList *l, gboolean have_seq, guint16 seq)
{
	if (l->n > KT_NACK_MAX)
		abort();
	for (guint i = 0; i < l->n; i++) {
		if (have_seq && l->e[i].seq == seq)
			abort(); /* just received: not missing */
		for (guint j = i + 1; j < l->n; j++)
			if (l->e[i].seq == l->e[j].seq)
				abort();
	}
}

static gboolean listed(const KtNackList *l, guint16 seq)
{
	for (guint i = 0; i < l->n; i++)
		if (l->e[i].seq == seq)
			return TRUE;
	return FALSE;
}

/* A packet whose bytes say which sequence number and length it was stored under. */
static gsize make_packet(guint8 *pkt, guint16 seq, guint size)
{
	gsize len = 12 + (gsize)size * 6; /* up to 1542: past the cache's largest */

	memset(pkt, (int)(seq & 0xff), len);
	pkt[0] = 0x80;
	pkt[2] = (guint8)(seq >> 8);
	pkt[3] = (guint8)seq;
	pkt[4] = (guint8)(len >> 8);
	pkt[5] = (guint8)len;
	return len;
}

static void check_lookup(KtRtxCache *c, guint16 seq, gint64 now)
{
	gsize len = 0;
	const guint8 *p = kt_rtx_cache_lookup(c, seq, now, &len);

	if (!p)
		return;
	if (len < 12 || len > KT_RTX_CACHE_MAX_PACKET || p[2] != (guint8)(seq >> 8) ||
	    p[3] != (guint8)seq || ((gsize)p[4] << 8 | p[5]) != len ||
	    p[len - 1] != (guint8)(seq & 0xff))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static guint8 pkt[1600];
	g_autoptr(KtRtxCache) cache = kt_rtx_cache_new(CACHE_SLOTS, CACHE_AGE_US);
	KtNackList nack;
	KtRtpStats stats;
	guint16 seq = 0, out[KT_NACK_MAX];
	guint32 ts = 0;
	gint64 now = 1000000;
	guint64 packets = 0;

	kt_nack_list_init(&nack);
	kt_rtp_stats_init(&stats, 0x1234, 90000);
	for (gsize at = 0; at + RECORD <= size; at += RECORD) {
		const guint8 *r = data + at;
		guint16 step = (guint16)(r[1] << 8 | r[2]);
		KtRtcpReportBlock rb;
		gsize len;
		guint n;

		now += r[3] >= 250 ? (gint64)(r[3] - 249) * G_USEC_PER_SEC : (gint64)r[3] * 1000;
		switch (r[0] % 5) {
		case 0:
			seq = (guint16)(seq + step);
			ts += (guint32)r[5] * 300;
			len = make_packet(pkt, seq, r[4]);
			kt_nack_list_on_packet(&nack, seq, now);
			check_list(&nack, TRUE, seq);
			kt_rtx_cache_store(cache, seq, pkt, len, now);
			if (len <= KT_RTX_CACHE_MAX_PACKET) {
				gsize got = 0;
				const guint8 *p = kt_rtx_cache_lookup(cache, seq, now, &got);

				if (!p || got != len || memcmp(p, pkt, len) != 0)
					abort(); /* just stored: there, whole */
			}
			check_lookup(cache, seq, now);
			kt_rtp_stats_update(&stats, seq, ts, now);
			if (kt_rtp_stats_get_packets(&stats) < packets)
				abort();
			packets = kt_rtp_stats_get_packets(&stats);
			break;
		case 1: {
			KtNackList before = nack;

			n = kt_nack_list_due(&nack, now, RETRY_US, out, r[4] % (KT_NACK_MAX + 1));
			if (n > r[4] % (KT_NACK_MAX + 1))
				abort();
			for (guint i = 0; i < n; i++)
				if (!listed(&before, out[i]))
					abort();
			check_list(&nack, FALSE, 0);
			break;
		}
		case 2:
			check_lookup(cache, (guint16)(seq - step), now);
			(void)kt_rtx_cache_expired(cache, (guint16)(seq - step), now);
			break;
		case 3:
			kt_rtp_stats_on_sr(&stats, (guint32)step << 16 | r[4], (guint32)r[5] << 24,
			                   now);
			break;
		default:
			kt_rtp_stats_fill_report(&stats, now, &rb);
			if (rb.cumulative_lost > 0x7FFFFF || rb.cumulative_lost < -0x800000 ||
			    rb.ssrc != 0x1234)
				abort();
			break;
		}
	}
	return 0;
}
