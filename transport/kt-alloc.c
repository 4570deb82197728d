#include "kt-alloc.h"

#define MAX_STREAMS 64

static guint32 need(const KtAllocStream *s, gint layer)
{
	return s->layer_bps[layer];
}

/* Video stream indexes in priority order (stable: equal priorities keep their
 * order, so a lesson's streams do not swap places from one split to the
 * next). Returns how many. */
static guint video_order(const KtAllocStream *streams, guint n, guint8 *order)
{
	guint k = 0;
	for (guint i = 0; i < n; i++) {
		if (streams[i].audio || streams[i].n_layers == 0)
			continue;
		guint j = k++;
		while (j > 0 && streams[order[j - 1]].priority > streams[i].priority) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = (guint8)i;
	}
	return k;
}

guint32 kt_alloc_split(guint32 estimate_bps, KtAllocStream *streams, guint n)
{
	guint8 order[MAX_STREAMS];
	guint64 left = estimate_bps;

	n = MIN(n, MAX_STREAMS);
	for (guint i = 0; i < n; i++) {
		KtAllocStream *s = &streams[i];
		s->n_layers = MIN(s->n_layers, KT_ALLOC_MAX_LAYERS);
		s->budget_bps = 0;
		s->layer = -1;
		if (s->audio) {
			/* Audio first, always: it costs little and is what a lesson
			 * cannot do without. */
			s->layer = 0;
			s->budget_bps = s->n_layers ? need(s, 0) : 0;
			left -= MIN(left, (guint64)s->budget_bps);
		}
	}

	guint k = video_order(streams, n, order);
	/* Pass 1: everyone's lowest layer, by priority, while it fits. A stream
	 * that does not fit stays paused, and so do those after it: a lower
	 * priority never takes what a higher one was refused. */
	for (guint i = 0; i < k; i++) {
		KtAllocStream *s = &streams[order[i]];
		guint64 want = need(s, 0);
		if (want > left)
			break;
		s->layer = 0;
		s->budget_bps = (guint32)want;
		left -= want;
	}
	/* Pass 2: what is left raises streams, by priority, as far as it goes. */
	for (guint i = 0; i < k; i++) {
		KtAllocStream *s = &streams[order[i]];
		if (s->layer < 0)
			break;
		while (s->layer + 1 < (gint)s->n_layers) {
			guint64 step = (guint64)need(s, s->layer + 1) - s->budget_bps;
			if (need(s, s->layer + 1) < s->budget_bps || step > left)
				break;
			s->layer++;
			s->budget_bps = need(s, s->layer);
			left -= step;
		}
	}
	return (guint32)MIN(left, (guint64)G_MAXUINT32);
}
