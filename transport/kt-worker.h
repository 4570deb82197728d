/* Media worker threads.
 *
 * A worker is one thread running its own GMainContext; it drives the libnice
 * agents, sockets and timers of the lessons pinned to it (DESIGN.md "Process
 * architecture"). Everything a lesson does with packets happens on its worker,
 * so the packet path needs no locks.
 *
 * Ownership: the pool owns its workers; kt_worker_pool_pick() returns a
 * borrowed pointer valid until the pool is freed.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <sys/socket.h>

G_BEGIN_DECLS

typedef struct _KtWorkerPool KtWorkerPool;
typedef struct _KtWorker KtWorker;

/* Starts @n_workers threads (0 = one per core). Control loop. */
KtWorkerPool *kt_worker_pool_new(guint n_workers, GError **error);
/* Stops and joins every worker. Control loop; no lesson may still use them. */
void kt_worker_pool_free(KtWorkerPool *pool);
guint kt_worker_pool_get_size(KtWorkerPool *pool);
/* The worker with the fewest pinned lessons; kt_worker_pin() it. Control loop. */
KtWorker *kt_worker_pool_pick(KtWorkerPool *pool);
KtWorker *kt_worker_pool_get(KtWorkerPool *pool, guint index);

/* Pin bookkeeping for load spreading. Control loop. */
void kt_worker_pin(KtWorker *worker);
void kt_worker_unpin(KtWorker *worker);

/* The worker's context; attach sources to it to run on the worker. Any thread. */
GMainContext *kt_worker_get_context(KtWorker *worker);
guint kt_worker_get_index(KtWorker *worker);
/* Runs @func on the worker (now, if already there). Any thread. */
void kt_worker_invoke(KtWorker *worker, GSourceFunc func, gpointer data, GDestroyNotify notify);
/* Runs @func on the worker and waits for it to finish. Never from a worker. */
void kt_worker_invoke_sync(KtWorker *worker, GSourceFunc func, gpointer data);

/* Sockets the worker reads through one epoll set, which is one GSource on its
 * context however many sockets it holds. Why: GLib polls the fds of every
 * GSource on every wake-up, so with a GSource per peer socket each wake-up
 * of a worker (one subscriber's RTCP) cost every socket of the worker, and
 * a worker's wake-ups grow with its subscribers too: the cost grew with
 * their square. Through epoll a wake-up costs the sockets that are ready.
 *
 * Level-triggered: a callback that leaves data unread is called again on the
 * next iteration (so one busy socket cannot starve the others). */
typedef struct _KtWorkerWatch KtWorkerWatch;
typedef void (*KtWorkerReadableFunc)(gpointer data);

/* Calls @func(@data) on @worker's thread whenever @fd is readable, until
 * kt_worker_unwatch(). @fd stays the caller's. NULL with @error when epoll
 * refuses the fd. Worker thread. */
KtWorkerWatch *kt_worker_watch(KtWorker *worker, int fd, KtWorkerReadableFunc func, gpointer data,
                               GError **error);
/* Stops and frees @watch; no callback of it runs afterwards, even one already
 * reported ready in the same wake-up (so any callback may unwatch any watch).
 * Worker thread. */
void kt_worker_unwatch(KtWorkerWatch *watch);
/* A second context of @worker's that nothing iterates by itself: sockets
 * read through the epoll set keep libnice's sources there, and an iteration
 * on the worker's thread (when a STUN message waits) has libnice read them.
 * Any thread; iterate it on the worker only. */
GMainContext *kt_worker_get_stun_context(KtWorker *worker);
/* 16: a walk of a few dozen sources when one timer fires, and 13 contexts
 * for 200 agents, whose deadlines the pump compares on each of its runs. */
#define KT_WORKER_AGENTS_PER_ICE_CONTEXT 16
/* A context for one more of @worker's libnice agents to be created on:
 * one of several of its own, each for at most KT_WORKER_AGENTS_PER_ICE_CONTEXT
 * agents, run from one source of the worker's context (kt-context-pump.h).
 * So their timers (two per agent) are walked only when one is due, and then
 * only that context's few dozen. Borrowed; give it back with
 * kt_worker_return_ice_context() when the agent goes. Worker thread. */
GMainContext *kt_worker_take_ice_context(KtWorker *worker);
void kt_worker_return_ice_context(KtWorker *worker, GMainContext *context);
/* Times @worker ran one of its ICE contexts (each a walk over its agents'
 * timers), and how many ICE contexts it has made. Worker thread. */
guint64 kt_worker_get_ice_runs(KtWorker *worker);
guint kt_worker_get_ice_contexts(KtWorker *worker);
/* Sockets watched on @worker now. Any thread. */
guint kt_worker_get_watch_count(KtWorker *worker);

/* Sends @len bytes of @buf on @fd to @addr, in a batch with the worker's
 * other datagrams (kt-send-batch.h: io_uring, one system call for many
 * sockets); they go out before the worker next waits, or sooner when the
 * batch fills. Where io_uring is unavailable, or KT_SEND_BATCH=0, it is one
 * sendto() now. Returns @len (queued or sent), 0 for a full socket buffer
 * (dropped, as the network would), -1 on an error. @fd must stay open until
 * kt_worker_flush_sends(). Worker thread. */
int kt_worker_send(KtWorker *worker, int fd, const struct sockaddr *addr, socklen_t addr_len,
                   const guint8 *buf, gsize len);
/* Sends everything queued now; call it before closing a socket that may have
 * datagrams queued. Worker thread. */
void kt_worker_flush_sends(KtWorker *worker);
/* Datagrams the batch sent and dropped so far; FALSE when the worker sends
 * each by itself. Worker thread (or once it has stopped). */
gboolean kt_worker_get_send_stats(KtWorker *worker, guint64 *sent, guint64 *dropped);

/* Callbacks run on the worker every KT_WORKER_TICK_MS, all from one timer.
 * Why: per-peer housekeeping (consent freshness) as a timer per peer would
 * be one more GSource per peer on the worker's context, which GLib walks on
 * every wake-up. Order among callbacks is unspecified. */
#define KT_WORKER_TICK_MS 1000
typedef struct _KtWorkerTick KtWorkerTick;
typedef void (*KtWorkerTickFunc)(gpointer data);

/* Calls @func(@data) every tick until kt_worker_tick_remove(). Worker thread. */
KtWorkerTick *kt_worker_tick_add(KtWorker *worker, KtWorkerTickFunc func, gpointer data);
/* Stops and frees @tick; it is not called afterwards, even in a tick under
 * way (so a callback may remove any tick, its own too). NULL is ignored.
 * Worker thread. */
void kt_worker_tick_remove(KtWorkerTick *tick);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtWorkerPool, kt_worker_pool_free)

G_END_DECLS
