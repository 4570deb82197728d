/* The room's fan-out loops fetch each sink's state a few sends ahead
 * (kt_room_prefetch_sinks in kt-room-private.h): kt-room-forward.c for a
 * single-layer source, kt-room-simulcast.c for a simulcast one. Media
 * worker. */
#include "kt-room-private.h"

void kt_room_prefetch_sinks(GPtrArray *sinks, gint i, guint32 ssrc, gboolean simulcast)
{
	/* Step k works on the sink STEPS - k ahead, reading what step k - 1
	 * fetched for it one sink ago. */
	for (gint step = 0; step < KT_ROOM_PREFETCH_STEPS; step++) {
		gint j = i + KT_ROOM_PREFETCH_STEPS - step;
		SubStream *ss;

		if (j < 0 || j >= (gint)sinks->len)
			continue;
		ss = g_ptr_array_index(sinks, j);
		if (step == 0) {
			/* Its first 64 bytes, wherever malloc put them. */
			__builtin_prefetch(ss, 1);
			__builtin_prefetch((const char *)ss + 63, 1);
			if (simulcast) {
				__builtin_prefetch(&ss->sim, 1);
				__builtin_prefetch((const char *)&ss->sim + 64, 1);
			}
		} else if (step == 1) {
			__builtin_prefetch(ss->sub);
		} else {
			kt_peer_prefetch_send(ss->sub->peer, (guint)step - 2, ssrc);
		}
	}
}
