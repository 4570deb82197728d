/* GMainContexts driven from another through a single GSource.
 *
 * Why: GLib walks every source of a context on every iteration (prepare
 * and check), whether or not it is due. A media worker wakes for every
 * datagram and every subscriber's RTCP, so per-peer sources on its context
 * (libnice's keepalive and check timers, two per agent) cost every wake-up
 * a walk over all of them: a quarter of a worker's time with 200
 * subscribers in bench-forward. Put on an inner context pumped from here,
 * they are walked only when one of them is due (libnice's keepalive every
 * 25 s per agent) or when one is added or moved.
 *
 * Even so, one inner context for every agent is walked whole each time any
 * one agent's timer fires: with 200 agents that was ~30 walks of ~270
 * sources a second, half of an idle worker's time. So the pump keeps
 * several inner contexts, each given to at most @per_inner users
 * (kt_context_pump_take_inner), and runs only those that are due: a timer
 * that fires walks its own context's few dozen sources. The outer context
 * still holds one source for all of them.
 *
 * Each inner context is created with G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING,
 * so that attaching a source to it, or moving a source's ready time, signals
 * its wake-up fd from any thread, this one included; the pump polls that fd
 * on the outer context and takes the inner one's next deadline as its own.
 * So whoever adds a timer to an inner context (libnice, in the middle of a
 * call or a signal) need not tell the pump.
 *
 * Only timers and idles belong there: the inner contexts' fds are polled
 * with the outer context's, so sources with fds work, but each is one more
 * fd per outer iteration.
 *
 * Ownership: kt_context_pump_new() returns a pump for the caller to free; it
 * holds a reference on the outer context and owns the inner ones. Threads:
 * the outer context's thread (the one iterating it) for everything. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KtContextPump KtContextPump;

/* A pump attached to @outer. Each inner context it hands out serves at
 * most @per_inner users (0: one inner context for all). */
KtContextPump *kt_context_pump_new(GMainContext *outer, guint per_inner);
/* Detaches the pump; the inner contexts' sources are not run any more.
 * Outer context's thread, outside the pump's own dispatch (or any thread
 * once nothing iterates the outer context). */
void kt_context_pump_free(KtContextPump *pump);
/* An inner context for one more user: attach sources to it (or create
 * GLib-using objects on it, such as a NiceAgent) to have them run on the
 * outer context's thread. The first with room, or a new one. Borrowed;
 * valid until kt_context_pump_free(). */
GMainContext *kt_context_pump_take_inner(KtContextPump *pump);
/* The user of @inner (from kt_context_pump_take_inner) is gone: its room
 * goes to the next taker. The context stays, with whatever sources are
 * still on it. */
void kt_context_pump_return_inner(KtContextPump *pump, GMainContext *inner);
/* Inner contexts made so far. */
guint kt_context_pump_get_n_inner(KtContextPump *pump);
/* Times the pump ran an inner context (each a walk over its sources), for
 * benchmarks and tests. */
guint64 kt_context_pump_get_runs(KtContextPump *pump);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtContextPump, kt_context_pump_free)

G_END_DECLS
