/* Missing sequence numbers for NACKs: see kt-nack-list.h. */
#include "kt-nack-list.h"

#include <string.h>

void kt_nack_list_init(KtNackList *l)
{
	memset(l, 0, sizeof(*l));
}

static void remove_at(KtNackList *l, guint i)
{
	memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(l->e[0]));
	l->n--;
}

void kt_nack_list_on_packet(KtNackList *l, guint16 seq, gint64 now)
{
	gint16 d;

	if (!l->started) {
		l->started = TRUE;
		l->highest = seq;
		return;
	}
	d = (gint16)(guint16)(seq - l->highest);
	if (d < 0) {
		/* Late or retransmitted: no longer missing. */
		for (guint i = 0; i < l->n; i++)
			if (l->e[i].seq == seq) {
				remove_at(l, i);
				break;
			}
		return;
	}
	if (d == 0)
		return;
	if (d - 1 > KT_NACK_MAX) {
		/* Too much is gone for retransmission to help: forget it all. */
		l->n = 0;
	} else {
		for (guint16 s = l->highest + 1; s != seq; s++) {
			if (l->n == KT_NACK_MAX)
				remove_at(l, 0); /* the oldest has waited longest anyway */
			l->e[l->n++] = (KtNackEntry){.seq = s, .first_us = now, .next_us = now};
		}
	}
	l->highest = seq;
}

guint kt_nack_list_due(KtNackList *l, gint64 now, gint64 retry_us, guint16 *out, guint max)
{
	guint k = 0;

	for (guint i = 0; i < l->n;) {
		KtNackEntry *e = &l->e[i];

		if (e->tries >= KT_NACK_MAX_TRIES || now - e->first_us > KT_NACK_MAX_AGE_US) {
			remove_at(l, i);
			continue;
		}
		if (now >= e->next_us && k < max) {
			out[k++] = e->seq;
			e->tries++;
			e->next_us = now + retry_us;
		}
		i++;
	}
	return k;
}
