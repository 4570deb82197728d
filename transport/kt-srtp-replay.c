/* SRTP/SRTCP replay window (see kt-srtp-replay.h). */
#include "kt-srtp-replay.h"

#include <string.h>

gboolean kt_srtp_replay_check(const KtSrtpReplay *r, const guint64 *seen, guint words, gint64 index)
{
	gint64 age;

	if (!r->started || index > r->top)
		return TRUE;
	age = r->top - index;
	if (age >= (gint64)words * 64)
		return FALSE;
	return !(seen[age / 64] >> (age % 64) & 1);
}

/* Moves every bit @shift places up (older); what passes the top word is gone. */
static void slide(guint64 *seen, guint words, guint64 shift)
{
	guint ws, bs;

	if (shift >= (guint64)words * 64) {
		memset(seen, 0, words * sizeof *seen);
		return;
	}
	ws = (guint)(shift / 64);
	bs = (guint)(shift % 64);
	for (guint i = words; i-- > 0;) {
		guint64 v = 0;

		if (i >= ws) {
			v = seen[i - ws] << bs;
			if (bs && i > ws)
				v |= seen[i - ws - 1] >> (64 - bs);
		}
		seen[i] = v;
	}
}

void kt_srtp_replay_add(KtSrtpReplay *r, guint64 *seen, guint words, gint64 index)
{
	gint64 age;

	if (!r->started || index > r->top) {
		slide(seen, words, r->started ? (guint64)(index - r->top) : (guint64)words * 64);
		r->top = index;
		r->started = TRUE;
	}
	age = r->top - index;
	if (age < (gint64)words * 64)
		seen[age / 64] |= G_GUINT64_CONSTANT(1) << (age % 64);
}
