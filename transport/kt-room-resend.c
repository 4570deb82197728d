/* What a subscriber's NACK asks for (kt-room-private.h, "resend"): the cache and
 * number behind its sequence number, whichever way its stream is numbered
 * (simulcast, paused or plain), the resent copy put back on its numbering, and
 * what is done when the packet is gone. Worker thread; nothing here allocates. */
#include "kt-room-private.h"

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

static KtRtxCache *resend_cache(const SubStream *ss, guint16 seq, guint16 *canon)
{
	if (kt_room_sim_layered(ss->source))
		return kt_room_sim_resend_cache(ss, seq, canon);
	return kt_room_pause_resend_cache(ss, seq, canon);
}

const guint8 *kt_room_resend_lookup(SubStream *ss, guint16 seq, gint64 now, gsize *len)
{
	guint16 canon;
	KtRtxCache *cache = resend_cache(ss, seq, &canon);

	return cache ? kt_rtx_cache_lookup(cache, canon, now, len) : NULL;
}

/* A NACK for video the cache no longer holds: the frame it belongs to can
 * never be completed, and every frame after it waits on it. The receiver
 * would ask for a keyframe itself only after its own timeout (Chrome: 3 s
 * without a decodable frame), and on a lossy link that request can be lost
 * too: ask now (coalesced with everyone else's, kt_room_request_keyframe). */
void kt_room_resend_missed(KtRoom *room, SubStream *ss, guint16 seq, gint64 now)
{
	guint16 canon;
	KtRtxCache *cache = resend_cache(ss, seq, &canon);

	COUNT(room, retransmissions_missed, 1);
	if (cache && ss->source->kind == KT_MEDIA_VIDEO &&
	    kt_rtx_cache_expired(cache, canon, now)) {
		COUNT(room, keyframes_for_missed, 1);
		kt_room_request_keyframe(room, kt_room_sim_keyframe_source(ss), now);
	}
}

void kt_room_resend_fix(SubStream *ss, guint8 *pkt, gsize len, guint16 seq, gboolean rtx)
{
	if (ss->sim.layer)
		kt_room_sim_fix_resent(ss, pkt, len, seq, rtx);
	else if (!rtx)
		kt_rtp_set_seq(pkt, seq); /* the subscriber's own numbering after a pause */
}
