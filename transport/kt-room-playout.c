/* Playout delay for lossy subscribers (issue 5; policy in kt-playout.h): once
 * a second each subscriber's loss and round trip update the delay its video
 * is asked for; every video packet to it then carries the ask, in the same
 * one-byte extension block as its transport-wide number. Worker thread;
 * nothing here allocates, and only a change of the ask is logged. */
#include "kt-room-private.h"

#define TICK_US G_USEC_PER_SEC

static gboolean takes_playout(const Subscriber *sub)
{
	for (guint i = 0; i < sub->streams->len; i++)
		if (((const SubStream *)g_ptr_array_index(sub->streams, i))->playout_ext_id)
			return TRUE;
	return FALSE;
}

/* What it loses: its transport-wide feedback sees every packet sent to it;
 * without it, its latest receiver report. */
static gdouble loss_of(const Subscriber *sub)
{
	gdouble loss = kt_room_sub_get_loss(sub);

	return loss >= 0 ? loss : sub->fraction_lost / 256.0;
}

void kt_room_playout_tick(KtRoom *room, gint64 now)
{
	if (now - room->last_playout_us < TICK_US)
		return;
	room->last_playout_us = now;
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);

		if (!takes_playout(sub) || !kt_peer_is_connected(sub->peer))
			continue;
		if (kt_playout_update(&sub->playout, loss_of(sub), sub->rtt_ms, now))
			g_debug(
			    "room %p: subscriber %p asked for a playout delay of %u ms (loss %.3f, "
			    "rtt %d ms)",
			    (void *)room, (void *)sub, sub->playout.min_ms, sub->playout.loss,
			    sub->rtt_ms);
	}
}

int kt_room_playout_prepare(const SubStream *ss, guint8 *buf, gsize len, gsize cap)
{
	guint8 element[3];

	if (!ss->playout_ext_id || !ss->sub->playout.asked)
		return (int)len;
	kt_playout_element(&ss->sub->playout, element);
	return kt_rtp_add_extension(buf, len, cap, ss->playout_ext_id, element, sizeof(element));
}
