/* Simulcast layer choice for one receiver (issue 5): which of a publisher's
 * layers a subscriber's link can carry, with hysteresis so it does not flap.
 *
 * Layers are told apart by what they carry, never by the order of their rids
 * in the offer: kt_layer_order() ranks them by picture size (VP8 keyframes say
 * it) and, while any active layer's size is unknown (H.264, or no keyframe
 * yet), by measured bitrate.
 *
 * kt_layer_select_update() is a pure function of its state and inputs, called
 * on the room's 50 ms tick (never per packet):
 *  - estimate known: the highest active layer whose bitrate the estimate
 *    carries; down at once when the estimate falls below the current layer's
 *    bitrate; up only when the estimate has been >= 1.25 x the higher layer's
 *    bitrate for 2 s, and not within 5 s of a down-switch;
 *  - estimate unknown (no transport-cc from that receiver): its receiver
 *    reports decide, starting at the middle layer: >= 10 % loss in two reports
 *    in a row = one layer down, < 2 % for 8 s = one layer up;
 *  - an inactive layer (nothing for 1 s) is never chosen; a receiver on one
 *    moves away at once.
 * `below_lowest` (set when the estimate < 0.9 x the lowest layer's bitrate,
 * cleared when it carries that layer again) pauses the receiver's video.
 *
 * Pure data and functions: any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KT_LAYER_MAX 4
/* Up only when the estimate carries the higher layer's bitrate this many times. */
#define KT_LAYER_UP_MARGIN 1.25

/* What one layer carries, measured by the room. */
typedef struct {
	guint width, height; /* of its latest keyframe; 0 = not seen (H.264, or none yet) */
	guint64 bitrate_bps; /* payload bits over the last second; 0 = not measured yet */
	guint fps;           /* frames (marker bits) over the last second */
	gboolean active;     /* a packet within the last second */
} KtLayerInfo;

/* What the receiver's link says. */
typedef struct {
	gint64 estimate_bps;  /* bandwidth estimate for this stream; 0 = unknown */
	guint8 fraction_lost; /* its latest receiver report, of 256 */
	gint64 loss_at_us;    /* when that report came; 0 = none yet */
} KtLayerInput;

typedef struct {
	int current;           /* rank chosen (0 = lowest), -1 = none yet */
	gint64 last_down_us;   /* 0 = never */
	gint64 up_since_us;    /* since when a higher layer has fitted with margin; 0 = not */
	gint64 loss_report_us; /* the last receiver report counted (fallback) */
	guint lossy_reports;   /* in a row, >= 10 % */
	gint64 clean_since_us; /* reports < 2 % since; 0 = not clean */
	gboolean below_lowest;
	/* Out: the rank it waits to go up to (the estimate carries it, the hold has not
	 * passed), -1 = none. The room loads the link with padding at the difference
	 * meanwhile, so the hold tests the link with what the switch would send. */
	int up_to;
} KtLayerSelect;

void kt_layer_select_init(KtLayerSelect *sel);

/* Ranks @n (<= KT_LAYER_MAX) layers lowest first: @order[rank] = index into @layers. */
void kt_layer_order(const KtLayerInfo *layers, guint n, guint *order);

/* @ranked: the layers lowest first. Set sel->current to the rank of the layer
 * the receiver now gets (or is switching to) before calling, as ranks move when
 * sizes become known. Returns the rank it should receive, -1 when no layer is
 * active; updates sel (current = the returned rank). */
int kt_layer_select_update(KtLayerSelect *sel, const KtLayerInfo *ranked, guint n,
                           const KtLayerInput *in, gint64 now_us);

G_END_DECLS
