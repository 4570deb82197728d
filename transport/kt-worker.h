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

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtWorkerPool, kt_worker_pool_free)

G_END_DECLS
