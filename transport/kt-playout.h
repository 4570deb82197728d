/* The playout delay Ketang asks of one video receiver (issue 5, loss recovery).
 *
 * A browser's jitter buffer sizes itself on the jitter of frames that arrived
 * whole; frames completed by a retransmission are left out of that estimate
 * (libwebrtc), so on a lossy link each recovered frame comes too late for its
 * slot and the picture freezes for a moment, dozens of times a minute at 20 %
 * loss. The playout-delay header extension (libwebrtc's experiment; 12-bit
 * minimum and maximum in 10 ms units) lets the sender ask for a minimum delay:
 * long enough for the retransmission rounds the loss calls for, no longer.
 *
 * Policy (kt_playout_update, once a second):
 *  - the receiver's loss, smoothed (a third per second), decides how many
 *    retransmission rounds a lost packet may need: none below 0.5 %, one
 *    below 3 %, two below 8 %, three below 15 %, six above;
 *  - the first round takes a round trip, each further one the browser's NACK
 *    retry interval (its round trip, at least 100 ms); plus 20 % and 20 ms;
 *  - capped at @max_ms (the operator's limit: delay is latency for the
 *    classroom talking back); 0 = never ask;
 *  - up at once when the need is 20 ms above what was asked; down only after
 *    10 s with the need below 70 % of it (a lossy link comes and goes; a
 *    playout delay that flaps makes the picture speed up and slow down).
 * Once anything was asked, every video packet keeps carrying the current ask
 * (0 included): the browser keeps the last value it saw.
 *
 * Pure data and functions: any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KT_PLAYOUT_DEFAULT_MAX_MS 800
/* The maximum Ketang sends with its minimum: libwebrtc's default (10 s), so a
 * receiver keeps its ordinary behaviour above the minimum. */
#define KT_PLAYOUT_MAX_DELAY_MS 10000

typedef struct {
	guint max_ms;        /* cap; 0 = off */
	guint min_ms;        /* the current ask; 0 = none */
	gboolean asked;      /* anything was ever asked: keep stamping */
	gdouble loss;        /* smoothed loss fraction, 0..1 */
	gboolean have_loss;  /* loss holds a sample */
	gint64 low_since_us; /* the need has been well below min_ms since; 0 = not */
} KtPlayout;

void kt_playout_init(KtPlayout *p, guint max_ms);

/* Once a second: @loss (0..1, < 0 unknown) the receiver's latest loss
 * fraction, @rtt_ms its round trip (< 0 unknown: 200 ms assumed). Returns
 * TRUE when min_ms changed. */
gboolean kt_playout_update(KtPlayout *p, gdouble loss, gint rtt_ms, gint64 now_us);

/* The 3-byte extension element for the current ask (RFC-less wire format of
 * libwebrtc: MIN and MAX, 12 bits each, in 10 ms units). */
void kt_playout_element(const KtPlayout *p, guint8 out[3]);

G_END_DECLS
