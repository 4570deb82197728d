/* Simulcast layer ranking and per-receiver choice; policy in kt-layer-select.h. */
#include "kt-layer-select.h"

#define UP_HOLD_US (2 * G_USEC_PER_SEC)
#define AFTER_DOWN_US (5 * G_USEC_PER_SEC)
#define BELOW_LOWEST 0.9
#define LOSSY 26 /* 10 % of 256 */
#define LOSSY_REPORTS 2
#define CLEAN 5 /* 2 % of 256 */
#define CLEAN_HOLD_US (8 * G_USEC_PER_SEC)

void kt_layer_select_init(KtLayerSelect *sel)
{
	*sel = (KtLayerSelect){.current = -1, .up_to = -1};
}

static gboolean sized(const KtLayerInfo *l)
{
	return l->width > 0 && l->height > 0;
}

/* Whether a ranks below b. */
static gboolean lower(const KtLayerInfo *a, const KtLayerInfo *b, gboolean by_size)
{
	if (by_size) {
		guint64 pa = (guint64)a->width * a->height, pb = (guint64)b->width * b->height;

		if (pa != pb)
			return pa < pb;
	}
	return a->bitrate_bps < b->bitrate_bps;
}

void kt_layer_order(const KtLayerInfo *layers, guint n, guint *order)
{
	gboolean by_size = TRUE;

	n = MIN(n, KT_LAYER_MAX);
	for (guint i = 0; i < n; i++) {
		order[i] = i;
		if (layers[i].active && !sized(&layers[i]))
			by_size = FALSE;
	}
	/* Insertion sort of at most four; stable, so equal layers keep their slots. */
	for (guint i = 1; i < n; i++)
		for (guint j = i; j > 0 && lower(&layers[order[j]], &layers[order[j - 1]], by_size);
		     j--) {
			guint t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
}

static int lowest_active(const KtLayerInfo *l, guint n)
{
	for (guint i = 0; i < n; i++)
		if (l[i].active)
			return i;
	return -1;
}

/* The middle of the active layers (of three, the second; of two, the lower). */
static int middle_active(const KtLayerInfo *l, guint n)
{
	int idx[KT_LAYER_MAX], k = 0;

	for (guint i = 0; i < n; i++)
		if (l[i].active)
			idx[k++] = i;
	return k ? idx[(k - 1) / 2] : -1;
}

/* The nearest active layer @dir (+1/-1) of @from, or -1. */
static int step(const KtLayerInfo *l, guint n, int from, int dir)
{
	for (int i = from + dir; i >= 0 && i < (int)n; i += dir)
		if (l[i].active)
			return i;
	return -1;
}

/* The highest active layer at rank <= @top whose bitrate @bps carries (x @margin). */
static int best_fit(const KtLayerInfo *l, int top, gint64 bps, double margin)
{
	for (int i = top; i >= 0; i--)
		if (l[i].active && l[i].bitrate_bps > 0 && (double)bps >= margin * l[i].bitrate_bps)
			return i;
	return -1;
}

static gboolean any_unmeasured(const KtLayerInfo *l, guint n)
{
	for (guint i = 0; i < n; i++)
		if (l[i].active && l[i].bitrate_bps == 0)
			return TRUE;
	return FALSE;
}

static int choose(KtLayerSelect *sel, int rank, gint64 now, gboolean down)
{
	if (down)
		sel->last_down_us = now;
	sel->up_since_us = 0;
	sel->current = rank;
	return rank;
}

static int by_estimate(KtLayerSelect *sel, const KtLayerInfo *l, guint n, gint64 bps, gint64 now)
{
	int low = lowest_active(l, n), cur = sel->current, up;

	/* Below the lowest layer until the estimate carries it again: a 10 % band, so
	 * an estimate hovering at the edge does not pause and resume over and over. */
	if (l[low].bitrate_bps > 0) {
		if ((double)bps < BELOW_LOWEST * l[low].bitrate_bps)
			sel->below_lowest = TRUE;
		else if (bps >= (gint64)l[low].bitrate_bps)
			sel->below_lowest = FALSE;
	}
	if (cur < 0 || cur >= (int)n || !l[cur].active) {
		int pick =
		    any_unmeasured(l, n) ? middle_active(l, n) : best_fit(l, n - 1, bps, 1.0);

		if (pick < 0)
			pick = low;
		return choose(sel, pick, now, cur >= 0 && pick < cur);
	}
	if (l[cur].bitrate_bps > 0 && bps < (gint64)l[cur].bitrate_bps) {
		int pick = best_fit(l, cur - 1, bps, 1.0);

		return choose(sel, pick >= 0 ? pick : MIN(low, cur), now, TRUE);
	}
	up = best_fit(l, n - 1, bps, KT_LAYER_UP_MARGIN);
	if (up <= cur) {
		sel->up_since_us = 0;
		return cur;
	}
	if (!sel->up_since_us)
		sel->up_since_us = now;
	if (now - sel->up_since_us < UP_HOLD_US ||
	    (sel->last_down_us && now - sel->last_down_us < AFTER_DOWN_US)) {
		sel->up_to = up;
		return cur;
	}
	return choose(sel, up, now, FALSE);
}

static int by_loss(KtLayerSelect *sel, const KtLayerInfo *l, guint n, const KtLayerInput *in,
                   gint64 now)
{
	int cur = sel->current, next;

	sel->below_lowest = FALSE;
	if (cur < 0 || cur >= (int)n || !l[cur].active) {
		next = cur >= 0 && cur < (int)n ? step(l, n, cur, -1) : -1;
		return choose(sel, next >= 0 ? next : middle_active(l, n), now, next >= 0);
	}
	if (in->loss_at_us && in->loss_at_us != sel->loss_report_us) {
		sel->loss_report_us = in->loss_at_us;
		if (in->fraction_lost >= LOSSY) {
			sel->clean_since_us = 0;
			if (++sel->lossy_reports >= LOSSY_REPORTS) {
				sel->lossy_reports = 0;
				next = step(l, n, cur, -1);
				if (next >= 0)
					return choose(sel, next, now, TRUE);
			}
		} else {
			sel->lossy_reports = 0;
			if (in->fraction_lost >= CLEAN)
				sel->clean_since_us = 0;
			else if (!sel->clean_since_us)
				sel->clean_since_us = now;
		}
	}
	if (sel->clean_since_us && now - sel->clean_since_us >= CLEAN_HOLD_US &&
	    (!sel->last_down_us || now - sel->last_down_us >= AFTER_DOWN_US)) {
		next = step(l, n, cur, +1);
		sel->clean_since_us = now; /* another 8 s before the next step */
		if (next >= 0)
			return choose(sel, next, now, FALSE);
	}
	return cur;
}

int kt_layer_select_update(KtLayerSelect *sel, const KtLayerInfo *ranked, guint n,
                           const KtLayerInput *in, gint64 now_us)
{
	n = MIN(n, KT_LAYER_MAX);
	sel->up_to = -1;
	if (lowest_active(ranked, n) < 0) {
		sel->below_lowest = FALSE;
		sel->current = -1;
		return -1;
	}
	if (in->estimate_bps > 0)
		return by_estimate(sel, ranked, n, in->estimate_bps, now_us);
	return by_loss(sel, ranked, n, in, now_us);
}
