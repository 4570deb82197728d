/* Media worker threads: one GMainContext + GMainLoop per thread. */
#include "kt-worker.h"

struct _KtWorker {
	guint index;
	GMainContext *context;
	GMainLoop *loop;
	GThread *thread;
	guint pinned; /* lessons on this worker; control loop only */
};

struct _KtWorkerPool {
	KtWorker *workers;
	guint n;
};

static gpointer worker_main(gpointer data)
{
	KtWorker *w = data;

	g_main_context_push_thread_default(w->context);
	g_main_loop_run(w->loop);
	/* Let pending teardown sources (agent closes, frees) run once more. */
	while (g_main_context_iteration(w->context, FALSE))
		;
	g_main_context_pop_thread_default(w->context);
	return NULL;
}

KtWorkerPool *kt_worker_pool_new(guint n_workers, GError **error)
{
	KtWorkerPool *pool = g_new0(KtWorkerPool, 1);

	if (n_workers == 0)
		n_workers = MAX(1, g_get_num_processors());
	pool->n = n_workers;
	pool->workers = g_new0(KtWorker, n_workers);
	for (guint i = 0; i < n_workers; i++) {
		KtWorker *w = &pool->workers[i];
		char name[16];

		w->index = i;
		w->context = g_main_context_new();
		w->loop = g_main_loop_new(w->context, FALSE);
		g_snprintf(name, sizeof(name), "kt-media-%u", i);
		w->thread = g_thread_try_new(name, worker_main, w, error);
		if (!w->thread) {
			pool->n = i;
			g_main_loop_unref(w->loop);
			g_main_context_unref(w->context);
			kt_worker_pool_free(pool);
			return NULL;
		}
	}
	return pool;
}

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

void kt_worker_pool_free(KtWorkerPool *pool)
{
	if (!pool)
		return;
	for (guint i = 0; i < pool->n; i++) {
		KtWorker *w = &pool->workers[i];

		g_main_context_invoke(w->context, quit_loop, w->loop);
		g_thread_join(w->thread);
		g_main_loop_unref(w->loop);
		g_main_context_unref(w->context);
	}
	g_free(pool->workers);
	g_free(pool);
}

guint kt_worker_pool_get_size(KtWorkerPool *pool)
{
	return pool->n;
}

KtWorker *kt_worker_pool_get(KtWorkerPool *pool, guint index)
{
	g_return_val_if_fail(index < pool->n, NULL);
	return &pool->workers[index];
}

KtWorker *kt_worker_pool_pick(KtWorkerPool *pool)
{
	KtWorker *best = &pool->workers[0];

	for (guint i = 1; i < pool->n; i++)
		if (pool->workers[i].pinned < best->pinned)
			best = &pool->workers[i];
	return best;
}

void kt_worker_pin(KtWorker *worker)
{
	worker->pinned++;
}

void kt_worker_unpin(KtWorker *worker)
{
	if (worker->pinned > 0)
		worker->pinned--;
}

GMainContext *kt_worker_get_context(KtWorker *worker)
{
	return worker->context;
}

guint kt_worker_get_index(KtWorker *worker)
{
	return worker->index;
}

void kt_worker_invoke(KtWorker *worker, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
	g_main_context_invoke_full(worker->context, G_PRIORITY_DEFAULT, func, data, notify);
}

typedef struct {
	GSourceFunc func;
	gpointer data;
	GMutex lock;
	GCond cond;
	gboolean done;
} SyncCall;

static gboolean run_sync_call(gpointer data)
{
	SyncCall *call = data;

	call->func(call->data);
	g_mutex_lock(&call->lock);
	call->done = TRUE;
	g_cond_signal(&call->cond);
	g_mutex_unlock(&call->lock);
	return G_SOURCE_REMOVE;
}

void kt_worker_invoke_sync(KtWorker *worker, GSourceFunc func, gpointer data)
{
	SyncCall call = {.func = func, .data = data};

	g_mutex_init(&call.lock);
	g_cond_init(&call.cond);
	g_main_context_invoke(worker->context, run_sync_call, &call);
	g_mutex_lock(&call.lock);
	while (!call.done)
		g_cond_wait(&call.cond, &call.lock);
	g_mutex_unlock(&call.lock);
	g_mutex_clear(&call.lock);
	g_cond_clear(&call.cond);
}
