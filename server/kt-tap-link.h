/* A room tap whose packets go to a target that comes and goes: a pipeline
 * (the wall, the mix-minus, a ladder) that is started, rebuilt after a
 * failure, or stopped while the room keeps forwarding the source.
 *
 *   room source --tap (media worker)--> push(target, input, packet) under a lock
 *
 * kt_tap_link_set() swaps the target under that lock on the control loop, so
 * once it returns with a NULL target no packet reaches the old one: the caller
 * may free it at once. The tap's state is shared with the room through a
 * reference, so the link may be freed while the worker is still inside a
 * push; the room drops its reference after the tap's last call.
 *
 * Threads: kt_tap_link_new/set/get_input/free on the control loop; push runs
 * on the room's media worker, never blocked for long (the lock is held only
 * for the push and for the swap).
 * Ownership: the caller owns the link; it holds a room tap until freed, not
 * the room itself (the room must outlive it) nor the target.
 */
#pragma once

#include "kt-room.h"

G_BEGIN_DECLS

/* Media worker: hands one packet of the source to @target's @input. */
typedef void (*KtTapPushFunc)(gpointer target, guint input, const guint8 *rtp, gsize len,
                              KtCodec codec);

typedef struct _KtTapLink KtTapLink;

/* Control loop. A tap on @source of @room, pushing nowhere until set. */
KtTapLink *kt_tap_link_new(KtRoom *room, guint source, KtTapPushFunc push);
/* Control loop. Packets go to @target's @input from now on; NULL (or input 0)
 * stops them, and no push is in progress once this returns. */
void kt_tap_link_set(KtTapLink *link, gpointer target, guint input);
/* Control loop. The input last set (0 = none). */
guint kt_tap_link_get_input(KtTapLink *link);
/* Control loop. Stops the pushes, removes the tap. NULL is fine. */
void kt_tap_link_free(KtTapLink *link);

G_END_DECLS
