/* GMainContexts run from one GSource of another (kt-context-pump.h): the
 * pump takes the inner contexts' earliest deadline as its timeout and
 * polls their fds (each one's wake-up fd at least) with the outer
 * context's; when it is dispatched it runs each inner context that is due
 * or whose fds fired, doing its prepare, query, check and dispatch itself,
 * as GLib's own iteration does (g_main_context_iterate), without blocking. */
#include "kt-context-pump.h"

/* Iterations of an inner context per run. A source that is always ready
 * (an idle) gets this many dispatches, then the outer context its turn. */
#define KT_PUMP_ROUNDS 8

typedef struct {
	int fd;
	gushort events;
	gpointer tag; /* g_source_add_unix_fd() on the pump's source */
} Watched;

/* One inner context and what the pump knows of it. */
typedef struct {
	GMainContext *inner;
	guint users;
	gint64 deadline; /* monotonic µs its next source is due; -1: none */
	GPollFD *fds;    /* its last query's */
	gint fds_cap;
	Watched *watched; /* the fds the outer context polls for it */
	gint n_watched, watched_cap;
} Shard;

typedef struct {
	GSource source;
	KtContextPump *pump;
} PumpSource;

struct _KtContextPump {
	GMainContext *outer;
	GSource *source;
	GPtrArray *shards; /* Shard*, owned */
	gint64 next;       /* the earliest of their deadlines; -1: none */
	guint per_inner;
	guint64 runs;
};

/* @s's fds for @priority into s->fds (grown as needed); returns how many,
 * and its timeout in ms (-1: none) in @timeout. */
static gint query(Shard *s, gint priority, gint *timeout)
{
	gint n = g_main_context_query(s->inner, priority, timeout, s->fds, s->fds_cap);

	if (n > s->fds_cap) {
		s->fds_cap = n;
		s->fds = g_renew(GPollFD, s->fds, s->fds_cap);
		n = g_main_context_query(s->inner, priority, timeout, s->fds, s->fds_cap);
	}
	return n;
}

/* Has the outer context poll the first @n of s->fds for the pump. They
 * change only when a source with fds comes or goes, so the usual case is a
 * comparison. */
static void watch_fds(KtContextPump *p, Shard *s, gint n)
{
	gboolean same = n == s->n_watched;

	for (gint i = 0; same && i < n; i++)
		same = s->watched[i].fd == s->fds[i].fd && s->watched[i].events == s->fds[i].events;
	if (same)
		return;
	for (gint i = 0; i < s->n_watched; i++)
		g_source_remove_unix_fd(p->source, s->watched[i].tag);
	if (n > s->watched_cap) {
		s->watched_cap = n;
		s->watched = g_renew(Watched, s->watched, s->watched_cap);
	}
	for (gint i = 0; i < n; i++) {
		s->watched[i].fd = s->fds[i].fd;
		s->watched[i].events = s->fds[i].events;
		s->watched[i].tag =
		    g_source_add_unix_fd(p->source, s->fds[i].fd, (GIOCondition)s->fds[i].events);
	}
	s->n_watched = n;
}

/* Whether one of @s's fds fired in the outer context's last poll. */
static gboolean fired(KtContextPump *p, Shard *s)
{
	for (gint i = 0; i < s->n_watched; i++)
		if (g_source_query_unix_fd(p->source, s->watched[i].tag))
			return TRUE;
	return FALSE;
}

static void run_shard(KtContextPump *p, Shard *s)
{
	gint timeout = 0, n = 0;

	if (!g_main_context_acquire(s->inner)) {
		/* Someone else iterates it: a misuse, and it is theirs to run. */
		g_critical("kt-context-pump: an inner context is owned by another thread");
		s->deadline = -1;
		return;
	}
	p->runs++;
	for (guint round = 0; round < KT_PUMP_ROUNDS; round++) {
		gint priority;

		g_main_context_prepare(s->inner, &priority);
		n = query(s, priority, &timeout);
		/* Never blocks: the outer context polled these already, or the
		 * deadline brought us here. Also drains the wake-up fd (in
		 * check), so a signal that led here does not fire again. */
		if (n > 0 && g_poll(s->fds, (guint)n, 0) < 0)
			for (gint i = 0; i < n; i++)
				s->fds[i].revents = 0;
		if (!g_main_context_check(s->inner, priority, s->fds, n))
			break;
		g_main_context_dispatch(s->inner);
		timeout = 0; /* dispatched in the last round: more may be due */
	}
	g_main_context_release(s->inner);
	watch_fds(p, s, n);
	s->deadline = timeout < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout * 1000;
}

/* The pump's timing is its own prepare and check, not a ready time:
 * g_source_set_ready_time() on a source the outer context is dispatching
 * writes the outer context's wake-up fd (the source is not blocked: see
 * kt_context_pump_new), two system calls and an empty round of the loop
 * for every run. */
static gboolean pump_prepare(GSource *source, gint *timeout)
{
	KtContextPump *p = ((PumpSource *)source)->pump;
	gint64 now;

	*timeout = -1;
	if (p->next < 0)
		return FALSE;
	now = g_source_get_time(source);
	if (p->next <= now) {
		*timeout = 0;
		return TRUE;
	}
	/* Rounded up: a poll that wakes a little early would run nothing. */
	*timeout = (gint)MIN((p->next - now + 999) / 1000, G_MAXINT);
	return FALSE;
}

static gboolean pump_check(GSource *source)
{
	KtContextPump *p = ((PumpSource *)source)->pump;

	if (p->next >= 0 && p->next <= g_source_get_time(source))
		return TRUE;
	for (guint i = 0; i < p->shards->len; i++)
		if (fired(p, g_ptr_array_index(p->shards, i)))
			return TRUE;
	return FALSE;
}

static gboolean pump_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	KtContextPump *p = ((PumpSource *)source)->pump;
	gint64 now = g_get_monotonic_time();

	p->next = -1;
	/* By index, and len read each time: a dispatch may take a new inner
	 * context (appended, then run in this same pass). */
	for (guint i = 0; i < p->shards->len; i++) {
		Shard *s = g_ptr_array_index(p->shards, i);

		if ((s->deadline >= 0 && s->deadline <= now) || fired(p, s))
			run_shard(p, s);
		if (s->deadline >= 0 && (p->next < 0 || s->deadline < p->next))
			p->next = s->deadline;
	}
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs pump_funcs = {
    .prepare = pump_prepare, .check = pump_check, .dispatch = pump_dispatch};

static void shard_free(gpointer data)
{
	Shard *s = data;

	g_main_context_unref(s->inner);
	g_free(s->fds);
	g_free(s->watched);
	g_free(s);
}

KtContextPump *kt_context_pump_new(GMainContext *outer, guint per_inner)
{
	KtContextPump *p = g_new0(KtContextPump, 1);

	p->outer = g_main_context_ref(outer);
	p->per_inner = per_inner;
	p->next = -1;
	p->shards = g_ptr_array_new_with_free_func(shard_free);
	p->source = g_source_new(&pump_funcs, sizeof(PumpSource));
	((PumpSource *)p->source)->pump = p;
	g_source_set_name(p->source, "kt-context-pump");
	/* Not blocked while dispatched: GLib would take its fds out of the
	 * outer context's poll set and put each back with a write to the outer
	 * context's wake-up fd, and the next poll would return at once for
	 * nothing. A run does not iterate the outer context, so it does not
	 * recurse. */
	g_source_set_can_recurse(p->source, TRUE);
	g_source_attach(p->source, outer);
	return p;
}

void kt_context_pump_free(KtContextPump *pump)
{
	if (!pump)
		return;
	/* Destroying the source drops its fd tags with it. */
	g_source_destroy(pump->source);
	g_source_unref(pump->source);
	g_ptr_array_unref(pump->shards);
	g_main_context_unref(pump->outer);
	g_free(pump);
}

GMainContext *kt_context_pump_take_inner(KtContextPump *pump)
{
	Shard *s;

	for (guint i = 0; i < pump->shards->len; i++) {
		s = g_ptr_array_index(pump->shards, i);
		if (!pump->per_inner || s->users < pump->per_inner) {
			s->users++;
			return s->inner;
		}
	}
	s = g_new0(Shard, 1);
	s->inner = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
	s->users = 1;
	/* Its first run, on the outer context's thread, learns its fds. */
	s->deadline = 0;
	g_ptr_array_add(pump->shards, s);
	pump->next = 0;
	return s->inner;
}

void kt_context_pump_return_inner(KtContextPump *pump, GMainContext *inner)
{
	Shard *s = NULL;

	for (guint i = 0; !s && i < pump->shards->len; i++)
		if (((Shard *)g_ptr_array_index(pump->shards, i))->inner == inner)
			s = g_ptr_array_index(pump->shards, i);
	/* Not one of ours, or returned more often than taken. */
	g_return_if_fail(s != NULL && s->users > 0);
	s->users--;
}

guint kt_context_pump_get_n_inner(KtContextPump *pump)
{
	return pump->shards->len;
}

guint64 kt_context_pump_get_runs(KtContextPump *pump)
{
	return pump->runs;
}
