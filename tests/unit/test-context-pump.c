/* kt-context-pump: sources on an inner context run when only the outer one
 * is iterated (timeouts, idles added from inside a dispatch or from another
 * thread, a moved ready time, an fd), an inner context is not walked on
 * every outer iteration, which is the point of it, and with several inner
 * contexts only the one that is due is walked. Real GLib contexts. */
#include <glib-unix.h>
#include <unistd.h>

#include "kt-context-pump.h"

typedef struct {
	GMainContext *outer;
	KtContextPump *pump;
	GMainContext *inner;
	guint fired;
	GThread *fired_on;
} Fixture;

static void fixture_init(Fixture *f)
{
	f->outer = g_main_context_new();
	f->pump = kt_context_pump_new(f->outer, 0);
	f->inner = kt_context_pump_take_inner(f->pump);
	f->fired = 0;
	f->fired_on = NULL;
}

static void fixture_clear(Fixture *f)
{
	kt_context_pump_free(f->pump);
	g_main_context_unref(f->outer);
}

static gboolean on_fired(gpointer data)
{
	Fixture *f = data;

	f->fired++;
	f->fired_on = g_thread_self();
	return G_SOURCE_REMOVE;
}

static gboolean on_give_up(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Iterates the outer context (blocking) until @want inner callbacks ran;
 * fails the test after 5 s instead of hanging. */
static void run_until(Fixture *f, guint want)
{
	gboolean gave_up = FALSE;
	GSource *limit = g_timeout_source_new_seconds(5);

	g_source_set_callback(limit, on_give_up, &gave_up, NULL);
	g_source_attach(limit, f->outer);
	while (f->fired < want && !gave_up)
		g_main_context_iteration(f->outer, TRUE);
	g_source_destroy(limit);
	g_source_unref(limit);
	g_assert_false(gave_up);
	g_assert_cmpuint(f->fired, ==, want);
}

static void attach(GSource *source, Fixture *f, GSourceFunc func)
{
	g_source_set_callback(source, func, f, NULL);
	g_source_attach(source, f->inner);
	g_source_unref(source);
}

static void test_timeout(void)
{
	Fixture f;
	gint64 start;

	fixture_init(&f);
	start = g_get_monotonic_time();
	attach(g_timeout_source_new(40), &f, on_fired);
	run_until(&f, 1);
	/* Not before its time: the pump takes the inner deadline, not "now". */
	g_assert_cmpint(g_get_monotonic_time() - start, >=, 40 * 1000);
	g_assert_true(f.fired_on == g_thread_self());
	fixture_clear(&f);
}

static gboolean on_add_another(gpointer data)
{
	Fixture *f = data;

	f->fired++;
	attach(g_timeout_source_new(0), f, on_fired);
	return G_SOURCE_REMOVE;
}

/* A source added by a dispatch of the inner context (libnice scheduling a
 * check from inside one of its timers) runs without anyone telling the pump. */
static void test_added_from_dispatch(void)
{
	Fixture f;

	fixture_init(&f);
	attach(g_timeout_source_new(10), &f, on_add_another);
	run_until(&f, 2);
	fixture_clear(&f);
}

static gpointer attach_idle_thread(gpointer data)
{
	attach(g_idle_source_new(), data, on_fired);
	return NULL;
}

/* Another thread adds an idle while the outer context sleeps in poll with
 * nothing else due: the inner context's wake-up fd brings it to the pump. */
static void test_added_from_thread(void)
{
	Fixture f;
	GThread *t;

	fixture_init(&f);
	/* The first run learns the inner fds. */
	g_main_context_iteration(f.outer, FALSE);
	t = g_thread_new("attach", attach_idle_thread, &f);
	run_until(&f, 1);
	g_thread_join(t);
	g_assert_true(f.fired_on == g_thread_self());
	fixture_clear(&f);
}

static gboolean source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
	g_source_set_ready_time(source, -1);
	return callback(data);
}

static GSourceFuncs ready_time_funcs = {.dispatch = source_dispatch};

static gboolean on_fired_continue(gpointer data)
{
	on_fired(data);
	return G_SOURCE_CONTINUE;
}

static gboolean arm(gpointer data)
{
	g_source_set_ready_time(data, g_get_monotonic_time() + 20 * 1000);
	return G_SOURCE_REMOVE;
}

/* A source whose ready time moves from "never" to soon (the DTLS timer's
 * way, libnice's too): the pump notices the move. */
static void test_ready_time_moved(void)
{
	Fixture f;
	GSource *s = g_source_new(&ready_time_funcs, sizeof(GSource));
	GSource *later = g_timeout_source_new(30);

	fixture_init(&f);
	g_source_set_callback(s, on_fired_continue, &f, NULL);
	g_source_attach(s, f.inner);
	g_main_context_iteration(f.outer, FALSE);
	g_assert_cmpuint(f.fired, ==, 0);
	/* Armed from the outer context, the way a peer's code would. */
	g_source_set_callback(later, arm, s, NULL);
	g_source_attach(later, f.outer);
	run_until(&f, 1);
	g_source_destroy(later);
	g_source_unref(later);
	g_source_destroy(s);
	g_source_unref(s);
	fixture_clear(&f);
}

static gboolean on_fd(gint fd, GIOCondition condition, gpointer data)
{
	char c;

	g_assert_cmpint(read(fd, &c, 1), ==, 1);
	return on_fired(data);
}

static gpointer write_thread(gpointer data)
{
	g_assert_cmpint(write(GPOINTER_TO_INT(data), "x", 1), ==, 1);
	return NULL;
}

/* A source with an fd on the inner context is polled with the outer one. */
static void test_fd(void)
{
	Fixture f;
	int p[2];
	GSource *s;
	GThread *t;

	fixture_init(&f);
	g_assert_true(g_unix_open_pipe(p, FD_CLOEXEC, NULL));
	s = g_unix_fd_source_new(p[0], G_IO_IN);
	g_source_set_callback(s, (GSourceFunc)(void (*)(void))on_fd, &f, NULL);
	g_source_attach(s, f.inner);
	g_source_unref(s);
	g_main_context_iteration(f.outer, FALSE);
	t = g_thread_new("write", write_thread, GINT_TO_POINTER(p[1]));
	run_until(&f, 1);
	g_thread_join(t);
	fixture_clear(&f);
	close(p[0]);
	close(p[1]);
}

static gboolean count_outer(gpointer data)
{
	(*(guint *)data)++;
	return G_SOURCE_CONTINUE;
}

/* What it is for: with many sources on the inner context and none due, a
 * busy outer context (an idle, one dispatch per iteration) does not run the
 * inner one. */
static void test_not_walked_when_idle(void)
{
	Fixture f;
	guint outer = 0;
	GSource *busy = g_idle_source_new();
	guint64 runs;

	fixture_init(&f);
	for (guint i = 0; i < 200; i++)
		attach(g_timeout_source_new_seconds(60), &f, on_fired);
	g_main_context_iteration(f.outer, FALSE);
	runs = kt_context_pump_get_runs(f.pump);
	g_source_set_callback(busy, count_outer, &outer, NULL);
	g_source_attach(busy, f.outer);
	for (guint i = 0; i < 1000; i++)
		g_main_context_iteration(f.outer, TRUE);
	g_assert_cmpuint(outer, ==, 1000);
	/* At most one more run: the wake-up from the attaches above. */
	g_assert_cmpuint(kt_context_pump_get_runs(f.pump) - runs, <=, 1);
	g_assert_cmpuint(f.fired, ==, 0);
	g_source_destroy(busy);
	g_source_unref(busy);
	fixture_clear(&f);
}

/* Freed with sources still on the inner context: none of them runs. */
static void test_free_stops(void)
{
	Fixture f;
	GMainContext *outer;

	fixture_init(&f);
	outer = g_main_context_ref(f.outer);
	attach(g_idle_source_new(), &f, on_fired);
	fixture_clear(&f);
	while (g_main_context_iteration(outer, FALSE))
		;
	g_assert_cmpuint(f.fired, ==, 0);
	g_main_context_unref(outer);
}

/* Users fill an inner context up to per_inner, then get a new one; a
 * returned place is taken again before a new context is made. */
static void test_take_return(void)
{
	GMainContext *outer = g_main_context_new();
	KtContextPump *pump = kt_context_pump_new(outer, 2);
	GMainContext *a = kt_context_pump_take_inner(pump);
	GMainContext *b = kt_context_pump_take_inner(pump);
	GMainContext *c = kt_context_pump_take_inner(pump);
	GMainContext *d;

	g_assert_true(a == b);
	g_assert_true(c != a);
	g_assert_true(c != outer);
	g_assert_cmpuint(kt_context_pump_get_n_inner(pump), ==, 2);
	kt_context_pump_return_inner(pump, a);
	g_assert_true(kt_context_pump_take_inner(pump) == a);
	g_assert_true(kt_context_pump_take_inner(pump) == c);
	d = kt_context_pump_take_inner(pump);
	g_assert_true(d != a && d != c);
	g_assert_cmpuint(kt_context_pump_get_n_inner(pump), ==, 3);
	/* One it never gave out: said, and nothing changes. */
	g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
	kt_context_pump_return_inner(pump, outer);
	g_test_assert_expected_messages();
	g_assert_true(kt_context_pump_take_inner(pump) == d);
	g_assert_cmpuint(kt_context_pump_get_n_inner(pump), ==, 3);
	/* Full again: a fourth. */
	g_assert_true(kt_context_pump_take_inner(pump) != d);
	g_assert_cmpuint(kt_context_pump_get_n_inner(pump), ==, 4);
	kt_context_pump_free(pump);
	g_main_context_unref(outer);
}

/* With one user per inner context: a timer due on one of them runs that
 * context alone, and each context's timers fire at their own time, on the
 * outer context's thread. */
static void test_only_due_runs(void)
{
	Fixture f;
	GMainContext *inner[4];
	guint64 runs;

	f.outer = g_main_context_new();
	f.pump = kt_context_pump_new(f.outer, 1);
	f.fired = 0;
	f.fired_on = NULL;
	for (guint i = 0; i < G_N_ELEMENTS(inner); i++)
		inner[i] = kt_context_pump_take_inner(f.pump);
	g_assert_cmpuint(kt_context_pump_get_n_inner(f.pump), ==, 4);
	for (guint i = 1; i < G_N_ELEMENTS(inner); i++)
		for (guint j = 0; j < 50; j++) {
			f.inner = inner[i];
			attach(g_timeout_source_new_seconds(60), &f, on_fired);
		}
	/* The first runs learn every context's fds and deadline. */
	while (g_main_context_iteration(f.outer, FALSE))
		;
	runs = kt_context_pump_get_runs(f.pump);
	f.inner = inner[0];
	attach(g_timeout_source_new(20), &f, on_fired);
	run_until(&f, 1);
	/* Context 0 only: once for the attach's wake-up, once when due (or
	 * both at once). */
	g_assert_cmpuint(kt_context_pump_get_runs(f.pump) - runs, >=, 1);
	g_assert_cmpuint(kt_context_pump_get_runs(f.pump) - runs, <=, 2);
	/* And the others' own timers still come, each at its time. */
	f.inner = inner[3];
	attach(g_timeout_source_new(30), &f, on_fired);
	f.inner = inner[2];
	attach(g_timeout_source_new(10), &f, on_fired);
	run_until(&f, 3);
	g_assert_true(f.fired_on == g_thread_self());
	kt_context_pump_free(f.pump);
	g_main_context_unref(f.outer);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/context-pump/timeout", test_timeout);
	g_test_add_func("/context-pump/added-from-dispatch", test_added_from_dispatch);
	g_test_add_func("/context-pump/added-from-thread", test_added_from_thread);
	g_test_add_func("/context-pump/ready-time-moved", test_ready_time_moved);
	g_test_add_func("/context-pump/fd", test_fd);
	g_test_add_func("/context-pump/not-walked-when-idle", test_not_walked_when_idle);
	g_test_add_func("/context-pump/free-stops", test_free_stops);
	g_test_add_func("/context-pump/take-return", test_take_return);
	g_test_add_func("/context-pump/only-due-runs", test_only_due_runs);
	return g_test_run();
}
