/* One GMainContext driven from another through a single GSource.
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
 * The inner context is created with G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING,
 * so that attaching a source to it, or moving a source's ready time, signals
 * its wake-up fd from any thread, this one included; the pump polls that fd
 * on the outer context and takes the inner one's next deadline as its own
 * ready time. So whoever adds a timer to the inner context (libnice, in the
 * middle of a call or a signal) need not tell the pump.
 *
 * Only the inner context's timers and idles belong there: its fds are
 * polled with the outer context's, so sources with fds work, but each is
 * one more fd per outer iteration.
 *
 * Ownership: kt_context_pump_new() returns a pump for the caller to free; it
 * holds a reference on both contexts. Threads: the outer context's thread
 * (the one iterating it), for everything but kt_context_pump_get_inner(). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KtContextPump KtContextPump;

/* A new inner context pumped by a source attached to @outer. */
KtContextPump *kt_context_pump_new(GMainContext *outer);
/* Detaches the pump; the inner context's sources are not run any more.
 * Outer context's thread, outside the pump's own dispatch (or any thread
 * once nothing iterates the outer context). */
void kt_context_pump_free(KtContextPump *pump);
/* The inner context: attach sources to it (or create GLib-using objects on
 * it, such as a NiceAgent) to have them run on the outer context's thread.
 * Borrowed; valid until kt_context_pump_free(). Any thread. */
GMainContext *kt_context_pump_get_inner(KtContextPump *pump);
/* Times the pump ran the inner context (each a walk over its sources), for
 * benchmarks and tests. Outer context's thread. */
guint64 kt_context_pump_get_runs(KtContextPump *pump);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtContextPump, kt_context_pump_free)

G_END_DECLS
