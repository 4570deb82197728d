/* A GMainContext run from one GSource of another (kt-context-pump.h): the
 * pump takes the inner context's earliest deadline as its ready time and
 * polls the inner context's fds (its wake-up fd at least) with the outer
 * context's; when either fires it runs the inner context's prepare, query,
 * check and dispatch itself, as GLib's own iteration does
 * (g_main_context_iterate), without blocking. */
#include "kt-context-pump.h"

/* Iterations of the inner context per run. A source that is always ready
 * (an idle) gets this many dispatches, then the outer context its turn. */
#define KT_PUMP_ROUNDS 8

typedef struct {
	int fd;
	gushort events;
	gpointer tag; /* g_source_add_unix_fd() on the pump's source */
} Watched;

typedef struct {
	GSource source;
	KtContextPump *pump;
} PumpSource;

struct _KtContextPump {
	GMainContext *outer, *inner;
	GSource *source;
	GPollFD *fds; /* the last query's */
	gint fds_cap;
	Watched *watched; /* the fds the outer context polls for the pump */
	gint n_watched, watched_cap;
	guint64 runs;
};

/* The inner context's fds for @priority into pump->fds (grown as needed);
 * returns how many, and its timeout in ms (-1: none) in @timeout. */
static gint query(KtContextPump *p, gint priority, gint *timeout)
{
	gint n = g_main_context_query(p->inner, priority, timeout, p->fds, p->fds_cap);

	if (n > p->fds_cap) {
		p->fds_cap = n;
		p->fds = g_renew(GPollFD, p->fds, p->fds_cap);
		n = g_main_context_query(p->inner, priority, timeout, p->fds, p->fds_cap);
	}
	return n;
}

/* Has the outer context poll the first @n of pump->fds for the pump. They
 * change only when a source with fds comes or goes, so the usual case is a
 * comparison. */
static void watch_fds(KtContextPump *p, gint n)
{
	gboolean same = n == p->n_watched;

	for (gint i = 0; same && i < n; i++)
		same = p->watched[i].fd == p->fds[i].fd && p->watched[i].events == p->fds[i].events;
	if (same)
		return;
	for (gint i = 0; i < p->n_watched; i++)
		g_source_remove_unix_fd(p->source, p->watched[i].tag);
	if (n > p->watched_cap) {
		p->watched_cap = n;
		p->watched = g_renew(Watched, p->watched, p->watched_cap);
	}
	for (gint i = 0; i < n; i++) {
		p->watched[i].fd = p->fds[i].fd;
		p->watched[i].events = p->fds[i].events;
		p->watched[i].tag =
		    g_source_add_unix_fd(p->source, p->fds[i].fd, (GIOCondition)p->fds[i].events);
	}
	p->n_watched = n;
}

static void run(KtContextPump *p)
{
	gint timeout = 0, n = 0;

	if (!g_main_context_acquire(p->inner)) {
		/* Someone else iterates it: a misuse, and it is theirs to run. */
		g_critical("kt-context-pump: the inner context is owned by another thread");
		g_source_set_ready_time(p->source, -1);
		return;
	}
	p->runs++;
	for (guint round = 0; round < KT_PUMP_ROUNDS; round++) {
		gint priority;

		g_main_context_prepare(p->inner, &priority);
		n = query(p, priority, &timeout);
		/* Never blocks: the outer context polled these already, or the
		 * deadline brought us here. Also drains the wake-up fd (in
		 * check), so a signal that led here does not fire again. */
		if (n > 0 && g_poll(p->fds, (guint)n, 0) < 0)
			for (gint i = 0; i < n; i++)
				p->fds[i].revents = 0;
		if (!g_main_context_check(p->inner, priority, p->fds, n))
			break;
		g_main_context_dispatch(p->inner);
		timeout = 0; /* dispatched in the last round: more may be due */
	}
	g_main_context_release(p->inner);
	watch_fds(p, n);
	g_source_set_ready_time(p->source,
	                        timeout < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout * 1000);
}

static gboolean pump_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	run(((PumpSource *)source)->pump);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs pump_funcs = {.dispatch = pump_dispatch};

KtContextPump *kt_context_pump_new(GMainContext *outer)
{
	KtContextPump *p = g_new0(KtContextPump, 1);

	p->outer = g_main_context_ref(outer);
	p->inner = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
	p->source = g_source_new(&pump_funcs, sizeof(PumpSource));
	((PumpSource *)p->source)->pump = p;
	g_source_set_name(p->source, "kt-context-pump");
	/* The first run, on the outer context's thread, learns the inner fds. */
	g_source_set_ready_time(p->source, 0);
	g_source_attach(p->source, outer);
	return p;
}

void kt_context_pump_free(KtContextPump *pump)
{
	if (!pump)
		return;
	g_source_destroy(pump->source);
	g_source_unref(pump->source);
	g_free(pump->fds);
	g_free(pump->watched);
	g_main_context_unref(pump->inner);
	g_main_context_unref(pump->outer);
	g_free(pump);
}

GMainContext *kt_context_pump_get_inner(KtContextPump *pump)
{
	return pump->inner;
}

guint64 kt_context_pump_get_runs(KtContextPump *pump)
{
	return pump->runs;
}
