/* Playout delay asked of a lossy video receiver; policy in kt-playout.h. */
#include "kt-playout.h"

#define LOSS_ALPHA (1.0 / 3)
#define DEFAULT_RTT_MS 200
#define MIN_RETRY_MS 100 /* libwebrtc's NACK retry interval before it knows an RTT */
#define RAISE_STEP_MS 20
#define LOWER_RATIO 0.7
#define LOWER_AFTER_US (10 * G_USEC_PER_SEC)

void kt_playout_init(KtPlayout *p, guint max_ms)
{
	*p = (KtPlayout){.max_ms = MIN(max_ms, 4095 * 10)};
}

/* A round fails when the NACK or the retransmission is lost: at 20 % each
 * way, 36 % of rounds. Four rounds left 1.7 % of lost packets late: at
 * 360p that is a short freeze every few seconds (lossy-20 froze 5-9 % of
 * its runs); six leave 0.2 %. The steps sit below the round figures links
 * are quoted at (5 %, 20 %), so a link hovering at one does not flip
 * between two asks. */
static guint rounds_for(gdouble loss)
{
	static const gdouble from[] = {0.005, 0.03, 0.08};

	if (loss >= 0.15)
		return 6;
	for (guint i = G_N_ELEMENTS(from); i > 0; i--)
		if (loss >= from[i - 1])
			return i;
	return 0;
}

/* What @loss on a path of @rtt_ms needs, before the cap. */
static guint need_ms(gdouble loss, gint rtt_ms)
{
	guint rounds = rounds_for(loss);
	guint rtt = rtt_ms < 0 ? DEFAULT_RTT_MS : (guint)rtt_ms;

	if (rounds == 0)
		return 0;
	return (guint)(1.2 * (rtt + (rounds - 1) * MAX(rtt, MIN_RETRY_MS))) + 20;
}

gboolean kt_playout_update(KtPlayout *p, gdouble loss, gint rtt_ms, gint64 now_us)
{
	guint need, old = p->min_ms;

	if (p->max_ms == 0)
		return FALSE;
	if (loss >= 0) {
		loss = MIN(loss, 1.0);
		p->loss = p->have_loss ? p->loss + LOSS_ALPHA * (loss - p->loss) : loss;
		p->have_loss = TRUE;
	}
	need = MIN(need_ms(p->loss, rtt_ms), p->max_ms);
	if (need >= p->min_ms + RAISE_STEP_MS) {
		p->min_ms = need;
		p->low_since_us = 0;
	} else if (need < LOWER_RATIO * p->min_ms) {
		if (!p->low_since_us)
			p->low_since_us = now_us;
		else if (now_us - p->low_since_us >= LOWER_AFTER_US) {
			p->min_ms = need;
			p->low_since_us = 0;
		}
	} else {
		p->low_since_us = 0;
	}
	p->asked = p->asked || p->min_ms > 0;
	return p->min_ms != old;
}

void kt_playout_element(const KtPlayout *p, guint8 out[3])
{
	guint min = MIN(p->min_ms / 10, 4095), max = KT_PLAYOUT_MAX_DELAY_MS / 10;

	out[0] = (guint8)(min >> 4);
	out[1] = (guint8)((min & 0x0F) << 4 | max >> 8);
	out[2] = (guint8)(max & 0xFF);
}
