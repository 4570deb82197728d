/* Probe clusters of the bandwidth estimator: see kt_bwe_probe_wanted in
 * kt-bwe.h. AIMD alone climbs 8 % per second, half a minute from 300 kbit/s
 * to 3 Mbit/s; a probe sends a short burst at the rate we would like and, if
 * the receiver got it at that rate, that rate is known to fit. The measurement
 * follows libwebrtc's ProbeBitrateEstimator. */
#include <string.h>

#include "kt-bwe-private.h"

#define BACKOFF_US (3 * G_USEC_PER_SEC) /* after a probe that fell short */
#define TIMEOUT_US G_USEC_PER_SEC       /* judge with what was reported by then */
#define MIN_RECEIVED_RATIO 0.8          /* most of the cluster must arrive... */
#define MAX_INTERVAL_US G_USEC_PER_SEC  /* ...spread over a sane time */
#define MAX_VALID_RATIO 2.0  /* arrivals faster than this x the sending: bunched, not a rate */
#define SATURATED_RATIO 0.9  /* received slower than this x sent: the link is full */
#define SATURATED_SHARE 0.95 /* then aim a little under what it carried */

void kt_bwe_probe_init(KtBweProbe *p)
{
	memset(p, 0, sizeof(*p));
}

gboolean kt_bwe_probe_start(KtBweProbe *p, gint64 now_us, gdouble target_bps, gdouble max_bps,
                            gboolean path_ok, gdouble *rate_bps)
{
	gdouble demand = p->demand_bps;

	if (p->pending || !path_ok || now_us < p->next_us || demand <= target_bps ||
	    target_bps >= max_bps)
		return FALSE;
	*rate_bps = MIN(MIN(2 * target_bps, demand), max_bps);
	p->id = p->id == G_MAXUINT16 ? 1 : p->id + 1; /* 0 means "no cluster" */
	p->pending = TRUE;
	p->start_us = now_us;
	p->rate_bps = *rate_bps;
	p->sent = p->reported = p->received = 0;
	p->sent_bytes = p->recv_bytes = 0;
	p->n_arrivals = 0;
	return TRUE;
}

guint16 kt_bwe_probe_on_sent(KtBweProbe *p, gint64 send_us, guint size, gboolean is_probe)
{
	if (!is_probe || !p->pending || send_us < p->start_us ||
	    send_us >= p->start_us + KT_BWE_PROBE_DURATION_US)
		return 0;
	if (p->sent == 0)
		p->first_send_us = send_us;
	p->sent++;
	p->sent_bytes += size;
	p->last_sent_size = size;
	p->last_send_us = send_us;
	return p->id;
}

void kt_bwe_probe_on_reported(KtBweProbe *p, guint16 cluster, gboolean received, gint64 arrival_us,
                              guint size)
{
	if (!p->pending || cluster != p->id)
		return;
	p->reported++;
	if (!received)
		return;
	if (p->received == 0 || arrival_us < p->first_arrival_us) {
		p->first_arrival_us = arrival_us;
		p->first_recv_size = size;
	}
	if (p->received == 0 || arrival_us > p->last_arrival_us)
		p->last_arrival_us = arrival_us;
	p->received++;
	p->recv_bytes += size;
	if (p->n_arrivals < KT_BWE_PROBE_TRACKED) {
		p->arrivals[p->n_arrivals].at_us = arrival_us;
		p->arrivals[p->n_arrivals].size = size;
		p->n_arrivals++;
	}
}

/* The receiving rate of the later half of the cluster's arrivals; 0 when
 * too few. A token-bucket shaper lets its burst (a few kB) through at line
 * rate and the rest at its rate: a cluster that starts inside the burst
 * arrives fast at first, and over the whole cluster looks faster than the
 * link is (on a 300 kbit/s link with a 3 kB burst, a 600 kbit/s probe of
 * 3 kB arrived whole at once and lifted the estimate to 600). Its tail has
 * left the burst behind. */
static gdouble tail_rate(KtBweProbe *p)
{
	guint n = p->n_arrivals, from;
	guint64 bytes = 0;
	gint64 span;

	if (n < 4)
		return 0;
	/* Insertion sort by arrival: at most KT_BWE_PROBE_TRACKED, once per cluster. */
	for (guint i = 1; i < n; i++)
		for (guint j = i; j > 0 && p->arrivals[j].at_us < p->arrivals[j - 1].at_us; j--) {
			gint64 at = p->arrivals[j].at_us;
			guint size = p->arrivals[j].size;

			p->arrivals[j] = p->arrivals[j - 1];
			p->arrivals[j - 1].at_us = at;
			p->arrivals[j - 1].size = size;
		}
	from = n / 2 - 1; /* its bytes arrived before its time, as in measure() */
	for (guint i = from + 1; i < n; i++)
		bytes += p->arrivals[i].size;
	span = p->arrivals[n - 1].at_us - p->arrivals[from].at_us;
	return span > 0 ? (gdouble)bytes * 8 * 1e6 / (gdouble)span : 0;
}

/* The rate the cluster measured, 0 when it measured nothing usable. The
 * last packet sent is not part of the sending interval (it left at its end),
 * nor the first received of the receiving one. Sending rate and receiving
 * rate are both lower bounds of what the path can do; the smaller one counts,
 * and when the receiver got clearly less than we sent, what it got is the
 * path's capacity. */
static gdouble measure(KtBweProbe *p)
{
	gint64 send_us = p->last_send_us - p->first_send_us;
	gint64 recv_us = p->last_arrival_us - p->first_arrival_us;
	gdouble send_bps, recv_bps, tail_bps;

	if (p->sent < KT_BWE_PROBE_MIN_PACKETS || p->received < MIN_RECEIVED_RATIO * p->sent)
		return 0;
	if (send_us <= 0 || recv_us <= 0 || send_us > MAX_INTERVAL_US || recv_us > MAX_INTERVAL_US)
		return 0;
	send_bps = (gdouble)(p->sent_bytes - p->last_sent_size) * 8 * 1e6 / (gdouble)send_us;
	recv_bps = (gdouble)(p->recv_bytes - p->first_recv_size) * 8 * 1e6 / (gdouble)recv_us;
	tail_bps = tail_rate(p);
	if (tail_bps > 0)
		recv_bps = MIN(recv_bps, tail_bps);
	if (recv_bps > MAX_VALID_RATIO * send_bps)
		return 0;
	if (recv_bps < SATURATED_RATIO * send_bps)
		return SATURATED_SHARE * recv_bps;
	return MIN(send_bps, recv_bps);
}

gdouble kt_bwe_probe_result(KtBweProbe *p, gint64 now_us)
{
	gint64 end_us = p->start_us + KT_BWE_PROBE_DURATION_US;
	gdouble bps;

	if (!p->pending || now_us < end_us)
		return -1;
	if (p->reported < p->sent && now_us < end_us + TIMEOUT_US)
		return -1;
	p->pending = FALSE;
	bps = measure(p);
	/* Carried at (nearly) its full rate: the next probe, twice as high, may
	 * follow at once (libwebrtc's exponential probing). Otherwise the path
	 * said where it stands; ask again only after a while. */
	p->next_us = bps >= SATURATED_RATIO * p->rate_bps ? now_us : now_us + BACKOFF_US;
	return bps;
}
