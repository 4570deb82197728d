/* Pausing a single-layer video stream for one subscriber whose link cannot
 * carry it (issue 5, "priorities when short"): a classroom camera, or
 * courseware without simulcast, is the unit that is given up. Simulcast
 * sources pause through their layer choice (kt-room-simulcast.c).
 *
 * The other subscribers go on getting the source on its public sequence
 * numbers; this one's resume after a gap, so its sequence would jump by what
 * it missed and its NACKs would ask for every packet of the pause. Each
 * paused stream therefore runs on its own numbering after it resumes: out =
 * canonical - skip, where skip grows by what was held back. Its timestamps
 * run on untouched (a pause is a gap in time, as a muted camera is).
 *
 * Worker thread. Nothing allocated or logged per packet. */
#include "kt-room-private.h"

#define COUNT(room, field, n) __atomic_fetch_add(&(room)->counters.field, (n), __ATOMIC_RELAXED)

/* A paused stream resumes only when its share covers it with a margin
 * (KT_ROOM_RESUME_MARGIN), and not before it has been paused this long: the keyframe that resumes
 * it costs more than its average, and a stream that pauses and resumes every few seconds is worse
 * to watch than one that stays paused a little longer. */
#define RESUME_AFTER_US (3 * G_USEC_PER_SEC)

gboolean kt_room_pause_applies(const SubStream *ss)
{
	return ss->source->kind == KT_MEDIA_VIDEO && !kt_room_sim_layered(ss->source);
}

/* Stops pausing @ss: it starts again at the source's next keyframe
 * (kt-room-forward.c), asked for now and again until it comes. */
static void resume(KtRoom *room, SubStream *ss, gint64 now)
{
	ss->fill_bps = 0;
	ss->pause.on = FALSE;
	ss->pause.resuming = TRUE;
	ss->waiting_since_us = now;
	kt_room_request_keyframe(room, ss->source, now);
}

void kt_room_pause_update(KtRoom *room, SubStream *ss, guint32 share_bps, guint32 need_bps,
                          gint64 now)
{
	PauseOut *p = &ss->pause;

	if (!p->on) {
		if (share_bps > 0 || !kt_room_pause_applies(ss))
			return;
		p->on = TRUE;
		p->since_us = now;
		/* What it got last: the source's head on its own numbering. */
		p->last_out = (guint16)(ss->source->last_seq - p->skip);
		ss->started = FALSE;
		ss->waiting_since_us = 0; /* no keyframe requests while paused */
		COUNT(room, video_pauses, 1);
		return;
	}
	ss->fill_bps = 0;
	if ((gdouble)share_bps < KT_ROOM_RESUME_MARGIN * (gdouble)need_bps)
		return;
	if (now - p->since_us >= RESUME_AFTER_US)
		resume(room, ss, now);
	else
		ss->fill_bps = need_bps; /* padding meanwhile, as a layer going up */
}

void kt_room_pause_release(KtRoom *room, SubStream *ss, gint64 now)
{
	if (ss->pause.on)
		resume(room, ss, now);
}

void kt_room_pause_resumed(SubStream *ss, guint16 canon_seq)
{
	PauseOut *p = &ss->pause;

	if (!p->resuming)
		return;
	p->resuming = FALSE;
	p->first_out = (guint16)(p->last_out + 1);
	p->skip = (guint16)(canon_seq - p->first_out);
	p->renumbered = TRUE;
}

KtRtxCache *kt_room_pause_resend_cache(const SubStream *ss, guint16 seq, guint16 *canon)
{
	const PauseOut *p = &ss->pause;

	/* Older than the resume: numbered before the last skip, and of no use to
	 * a decoder that restarted at the keyframe after it. */
	if (p->renumbered && (gint16)(seq - p->first_out) < 0)
		return NULL;
	*canon = (guint16)(seq + p->skip);
	return ss->source->cache;
}
