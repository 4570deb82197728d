/* Media worker threads: one GMainContext + GMainLoop per thread, one epoll
 * set per thread for the sockets of connected peers (kt_worker_watch), one
 * batch of outgoing datagrams (kt_worker_send), the ICE contexts pumped from
 * one source (kt_worker_take_ice_context) and one timer for every peer's
 * housekeeping (kt_worker_tick_add). */
#include "kt-worker.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "kt-context-pump.h"
#include "kt-send-batch.h"

#include <gio/gio.h>

/* Ready sockets taken per epoll_wait(); more wait for the next iteration. */
#define KT_WORKER_EVENTS 64
/* Datagrams per io_uring submission: one forwarded packet to this many
 * subscribers is one system call. */
#define KT_WORKER_SEND_SLOTS 256

struct _KtWorker {
	guint index;
	GMainContext *context;
	GMainContext *stun_context; /* see kt_worker_get_stun_context() */
	GMainLoop *loop;
	GThread *thread;
	guint pinned; /* lessons on this worker; control loop only */
	/* Worker thread only, after creation. */
	int epfd;
	GSource *watches;     /* the epoll set's GSource */
	gboolean reporting;   /* inside the watches' dispatch */
	GPtrArray *unwatched; /* freed once the dispatch ends */
	gint n_watches;       /* atomic: read from any thread */
	KtSendBatch *sends;   /* NULL: each datagram is sent at once */
	GSource *flusher;     /* flushes @sends before the context waits */
	KtContextPump *ice;   /* libnice agents' context */
	GSource *tick_timer;  /* runs @ticks */
	GPtrArray *ticks;     /* KtWorkerTick, unordered */
	gboolean ticking;     /* inside on_tick */
	guint ticks_gone;     /* removed during on_tick, freed at its end */
};

struct _KtWorkerTick {
	KtWorkerTickFunc func;
	gpointer data;
	KtWorker *worker;
	gboolean gone;
};

struct _KtWorkerWatch {
	KtWorker *worker;
	int fd;
	KtWorkerReadableFunc func;
	gpointer data;
	gboolean gone;
};

typedef struct {
	GSource source;
	KtWorker *worker;
} WatchSource;

/* GLib calls this only when the epoll fd polled readable. */
static gboolean watches_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	KtWorker *w = ((WatchSource *)source)->worker;
	struct epoll_event ev[KT_WORKER_EVENTS];
	int n = epoll_wait(w->epfd, ev, KT_WORKER_EVENTS, 0);

	w->reporting = TRUE;
	for (int i = 0; i < n; i++) {
		KtWorkerWatch *watch = ev[i].data.ptr;

		if (!watch->gone)
			watch->func(watch->data);
	}
	w->reporting = FALSE;
	/* An event of this batch may point at a watch unwatched meanwhile: it is
	 * freed only now. */
	g_ptr_array_set_size(w->unwatched, 0);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs watches_funcs = {.dispatch = watches_dispatch};

/* Called at the start of every iteration, before the context polls: what the
 * previous dispatches queued goes out now. Its priority is the highest, as
 * GLib prepares sources in priority order and skips lower ones once a higher
 * one is ready. Never ready itself. */
static gboolean flusher_prepare(GSource *source, gint *timeout)
{
	KtWorker *w = ((WatchSource *)source)->worker;

	*timeout = -1;
	kt_send_batch_flush(w->sends);
	return FALSE;
}

static GSourceFuncs flusher_funcs = {.prepare = flusher_prepare};

/* io_uring unless the platform refuses it or KT_SEND_BATCH=0 (for A/B runs,
 * bench/README.md); either way the worker runs. */
static void sends_init(KtWorker *w)
{
	g_autoptr(GError) error = NULL;
	const char *env = g_getenv("KT_SEND_BATCH");

	if (env && strcmp(env, "0") == 0)
		return;
	w->sends = kt_send_batch_new(KT_WORKER_SEND_SLOTS, &error);
	if (!w->sends) {
		if (w->index == 0)
			g_message("media workers send each datagram by itself (%s)",
			          error->message);
		return;
	}
	w->flusher = g_source_new(&flusher_funcs, sizeof(WatchSource));
	((WatchSource *)w->flusher)->worker = w;
	g_source_set_priority(w->flusher, G_PRIORITY_HIGH - 1000);
	g_source_attach(w->flusher, w->context);
}

static gboolean on_tick(gpointer data)
{
	KtWorker *w = data;
	guint n = w->ticks->len; /* ticks added meanwhile wait for the next one */

	w->ticking = TRUE;
	for (guint i = 0; i < n; i++) {
		KtWorkerTick *t = g_ptr_array_index(w->ticks, i);

		if (!t->gone)
			t->func(t->data);
	}
	w->ticking = FALSE;
	for (guint i = 0; w->ticks_gone > 0 && i < w->ticks->len;) {
		KtWorkerTick *t = g_ptr_array_index(w->ticks, i);

		if (t->gone) {
			g_ptr_array_remove_index_fast(w->ticks, i); /* frees it */
			w->ticks_gone--;
		} else {
			i++;
		}
	}
	return G_SOURCE_CONTINUE;
}

KtWorkerTick *kt_worker_tick_add(KtWorker *worker, KtWorkerTickFunc func, gpointer data)
{
	KtWorkerTick *t = g_new0(KtWorkerTick, 1);

	t->func = func;
	t->data = data;
	t->worker = worker;
	g_ptr_array_add(worker->ticks, t);
	return t;
}

void kt_worker_tick_remove(KtWorkerTick *tick)
{
	KtWorker *w;

	if (!tick)
		return;
	w = tick->worker;
	if (w->ticking) {
		tick->gone = TRUE;
		w->ticks_gone++;
		return;
	}
	g_ptr_array_remove_fast(w->ticks, tick); /* frees it */
}

static gboolean sources_init(KtWorker *w, GError **error)
{
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "media worker %u: epoll: %s", w->index, g_strerror(errno));
		return FALSE;
	}
	w->unwatched = g_ptr_array_new_with_free_func(g_free);
	w->stun_context = g_main_context_new();
	w->watches = g_source_new(&watches_funcs, sizeof(WatchSource));
	((WatchSource *)w->watches)->worker = w;
	g_source_add_unix_fd(w->watches, w->epfd, G_IO_IN);
	/* GLib blocks a source without this while it is dispatched: it takes
	 * the source's fds out of the context's poll set and puts them back
	 * after, and each one put back writes the context's wake-up eventfd,
	 * so the next poll returns at once for nothing. For the epoll set
	 * that was two system calls and an idle round of the loop for every
	 * datagram received. Nothing iterates a worker's context from inside
	 * one of its callbacks, so the dispatch never recurses. */
	g_source_set_can_recurse(w->watches, TRUE);
	g_source_attach(w->watches, w->context);
	sends_init(w);
	w->ice = kt_context_pump_new(w->context, KT_WORKER_AGENTS_PER_ICE_CONTEXT);
	w->ticks = g_ptr_array_new_with_free_func(g_free);
	w->tick_timer = g_timeout_source_new(KT_WORKER_TICK_MS);
	g_source_set_callback(w->tick_timer, on_tick, w, NULL);
	g_source_attach(w->tick_timer, w->context);
	return TRUE;
}

/* After the thread is joined. */
static void sources_clear(KtWorker *w)
{
	if (w->tick_timer) {
		g_source_destroy(w->tick_timer);
		g_clear_pointer(&w->tick_timer, g_source_unref);
	}
	g_clear_pointer(&w->ticks, g_ptr_array_unref);
	g_clear_pointer(&w->ice, kt_context_pump_free);
	if (w->flusher) {
		g_source_destroy(w->flusher);
		g_clear_pointer(&w->flusher, g_source_unref);
	}
	g_clear_pointer(&w->sends, kt_send_batch_free);
	if (w->watches) {
		g_source_destroy(w->watches);
		g_clear_pointer(&w->watches, g_source_unref);
	}
	g_clear_pointer(&w->unwatched, g_ptr_array_unref);
	g_clear_pointer(&w->stun_context, g_main_context_unref);
	if (w->epfd >= 0)
		close(w->epfd);
	w->epfd = -1;
}

KtWorkerWatch *kt_worker_watch(KtWorker *worker, int fd, KtWorkerReadableFunc func, gpointer data,
                               GError **error)
{
	KtWorkerWatch *watch = g_new0(KtWorkerWatch, 1);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = watch};

	if (epoll_ctl(worker->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		            "media worker %u: cannot watch socket %d: %s", worker->index, fd,
		            g_strerror(errno));
		g_free(watch);
		return NULL;
	}
	watch->worker = worker;
	watch->fd = fd;
	watch->func = func;
	watch->data = data;
	g_atomic_int_inc(&worker->n_watches);
	return watch;
}

void kt_worker_unwatch(KtWorkerWatch *watch)
{
	KtWorker *w;

	if (!watch)
		return;
	w = watch->worker;
	/* The fd may be closed already (then epoll dropped it by itself). */
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, watch->fd, NULL);
	watch->gone = TRUE;
	g_atomic_int_add(&w->n_watches, -1);
	if (w->reporting)
		g_ptr_array_add(w->unwatched, watch);
	else
		g_free(watch);
}

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
	kt_worker_flush_sends(w);
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
		w->epfd = -1;
		w->context = g_main_context_new();
		w->loop = g_main_loop_new(w->context, FALSE);
		g_snprintf(name, sizeof(name), "kt-media-%u", i);
		w->thread =
		    sources_init(w, error) ? g_thread_try_new(name, worker_main, w, error) : NULL;
		if (!w->thread) {
			pool->n = i;
			sources_clear(w);
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
		sources_clear(w);
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

guint kt_worker_get_watch_count(KtWorker *worker)
{
	return (guint)g_atomic_int_get(&worker->n_watches);
}

GMainContext *kt_worker_take_ice_context(KtWorker *worker)
{
	return kt_context_pump_take_inner(worker->ice);
}

void kt_worker_return_ice_context(KtWorker *worker, GMainContext *context)
{
	kt_context_pump_return_inner(worker->ice, context);
}

guint kt_worker_get_ice_contexts(KtWorker *worker)
{
	return kt_context_pump_get_n_inner(worker->ice);
}

guint64 kt_worker_get_ice_runs(KtWorker *worker)
{
	return kt_context_pump_get_runs(worker->ice);
}

GMainContext *kt_worker_get_stun_context(KtWorker *worker)
{
	return worker->stun_context;
}

int kt_worker_send(KtWorker *worker, int fd, const struct sockaddr *addr, socklen_t addr_len,
                   const guint8 *buf, gsize len)
{
	ssize_t n;

	if (worker->sends && len <= KT_SEND_BATCH_MTU)
		return kt_send_batch_add(worker->sends, fd, addr, addr_len, buf, len);
	n = sendto(fd, buf, len, MSG_DONTWAIT, addr, addr_len);
	/* A full socket buffer drops this packet, as the network would. */
	return n >= 0 ? (int)n : (errno == EAGAIN ? 0 : -1);
}

void kt_worker_flush_sends(KtWorker *worker)
{
	if (worker->sends)
		kt_send_batch_flush(worker->sends);
}

gboolean kt_worker_get_send_stats(KtWorker *worker, guint64 *sent, guint64 *dropped)
{
	if (!worker->sends)
		return FALSE;
	*sent = kt_send_batch_get_sent(worker->sends);
	*dropped = kt_send_batch_get_dropped(worker->sends);
	return TRUE;
}
