/* The media worker's epoll set (kt_worker_watch): callbacks on the worker's
 * thread, level-triggered, and an unwatch from inside a callback stops a
 * watch already reported ready in the same wake-up. Its batched sends, and
 * its tick (kt_worker_tick_add). Real worker threads, real sockets. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "kt-worker.h"

typedef struct {
	KtWorker *worker;
	int fds[2][2]; /* two datagram socket pairs: [i][0] watched, [i][1] written */
	KtWorkerWatch *watch[2];
	gint calls[2];     /* atomic */
	gint wrong_thread; /* atomic */
	gboolean unwatch_other;
	GThread *thread;
} Fixture;

static gboolean note_thread(gpointer data)
{
	((Fixture *)data)->thread = g_thread_self();
	return G_SOURCE_REMOVE;
}

/* Reads one datagram per call: what is left must bring the callback back. */
static void on_readable(Fixture *f, guint i)
{
	char buf[64];

	if (g_thread_self() != f->thread)
		g_atomic_int_inc(&f->wrong_thread);
	g_assert_cmpint(recv(f->fds[i][0], buf, sizeof(buf), MSG_DONTWAIT), >, 0);
	g_atomic_int_inc(&f->calls[i]);
	if (f->unwatch_other && f->watch[!i]) {
		kt_worker_unwatch(f->watch[!i]);
		f->watch[!i] = NULL;
	}
}

static void on_readable_0(gpointer data)
{
	on_readable(data, 0);
}

static void on_readable_1(gpointer data)
{
	on_readable(data, 1);
}

static gboolean watch_both(gpointer data)
{
	Fixture *f = data;
	KtWorkerReadableFunc funcs[2] = {on_readable_0, on_readable_1};

	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;

		f->watch[i] = kt_worker_watch(f->worker, f->fds[i][0], funcs[i], f, &error);
		g_assert_no_error(error);
	}
	return G_SOURCE_REMOVE;
}

static gboolean unwatch_all(gpointer data)
{
	Fixture *f = data;

	for (guint i = 0; i < 2; i++) {
		kt_worker_unwatch(f->watch[i]);
		f->watch[i] = NULL;
	}
	return G_SOURCE_REMOVE;
}

static void fixture_init(Fixture *f, KtWorker *worker)
{
	memset(f, 0, sizeof(*f));
	f->worker = worker;
	for (guint i = 0; i < 2; i++)
		g_assert_cmpint(socketpair(AF_UNIX, SOCK_DGRAM, 0, f->fds[i]), ==, 0);
	kt_worker_invoke_sync(worker, note_thread, f);
}

static void fixture_clear(Fixture *f)
{
	kt_worker_invoke_sync(f->worker, unwatch_all, f);
	g_assert_cmpuint(kt_worker_get_watch_count(f->worker), ==, 0);
	for (guint i = 0; i < 2; i++) {
		close(f->fds[i][0]);
		close(f->fds[i][1]);
	}
}

/* Until the callbacks counted by @a (and @b, if given) ran @want times. */
static gboolean wait_calls(gint *a, gint *b, gint want)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

	while (g_atomic_int_get(a) + (b ? g_atomic_int_get(b) : 0) < want) {
		if (g_get_monotonic_time() > deadline)
			return FALSE;
		g_usleep(1000); /* polling a counter another thread moves */
	}
	return TRUE;
}

/* Three datagrams on one socket, one read per call: three calls, on the
 * worker's thread; the other socket, silent, is never reported. */
static void test_level_triggered(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	Fixture f;

	g_assert_no_error(error);
	fixture_init(&f, kt_worker_pool_get(pool, 0));
	kt_worker_invoke_sync(f.worker, watch_both, &f);
	g_assert_cmpuint(kt_worker_get_watch_count(f.worker), ==, 2);
	for (guint i = 0; i < 3; i++)
		g_assert_cmpint(send(f.fds[0][1], "x", 1, 0), ==, 1);
	g_assert_true(wait_calls(&f.calls[0], NULL, 3));
	g_assert_cmpint(g_atomic_int_get(&f.calls[1]), ==, 0);
	g_assert_cmpint(g_atomic_int_get(&f.wrong_thread), ==, 0);
	fixture_clear(&f);
}

/* Both sockets ready in the same wake-up; whichever callback runs first
 * unwatches the other: the other's callback never runs, though its event
 * is in the batch (and ASan would see a freed watch used). */
static void test_unwatch_in_batch(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	Fixture f;

	fixture_init(&f, kt_worker_pool_get(pool, 0));
	f.unwatch_other = TRUE;
	for (guint i = 0; i < 2; i++)
		g_assert_cmpint(send(f.fds[i][1], "x", 1, 0), ==, 1);
	/* Both are readable before either is watched: one epoll_wait sees both. */
	kt_worker_invoke_sync(f.worker, watch_both, &f);
	g_assert_true(wait_calls(&f.calls[0], &f.calls[1], 1));
	/* The worker is past that wake-up's batch once it runs this. */
	kt_worker_invoke_sync(f.worker, note_thread, &f);
	g_assert_cmpint(g_atomic_int_get(&f.calls[0]) + g_atomic_int_get(&f.calls[1]), ==, 1);
	g_assert_cmpuint(kt_worker_get_watch_count(f.worker), ==, 1);
	fixture_clear(&f);
}

static gboolean watch_bad(gpointer data)
{
	KtWorker *worker = data;
	g_autoptr(GError) error = NULL;

	g_assert_null(kt_worker_watch(worker, -1, on_readable_0, NULL, &error));
	g_assert_nonnull(error);
	g_assert_true(error->domain == G_IO_ERROR);
	g_assert_nonnull(strstr(error->message, "cannot watch socket -1"));
	kt_worker_unwatch(NULL); /* a no-op */
	return G_SOURCE_REMOVE;
}

/* A bad fd: a clear error, nothing watched. */
static void test_bad_fd(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *worker = kt_worker_pool_get(pool, 0);

	kt_worker_invoke_sync(worker, watch_bad, worker);
	g_assert_cmpuint(kt_worker_get_watch_count(worker), ==, 0);
}

typedef struct {
	KtWorker *worker;
	int tx;
	struct sockaddr_storage to;
	socklen_t to_len;
	int result[3];
	gboolean batched;
	guint64 sent, dropped;
} SendCall;

static gboolean read_stats(gpointer data)
{
	SendCall *c = data;

	c->batched = kt_worker_get_send_stats(c->worker, &c->sent, &c->dropped);
	return G_SOURCE_REMOVE;
}

static gboolean send_three(gpointer data)
{
	SendCall *c = data;

	for (guint i = 0; i < 3; i++) {
		char text[2] = {(char)('0' + i), 0};

		c->result[i] = kt_worker_send(c->worker, c->tx, (struct sockaddr *)&c->to,
		                              c->to_len, (const guint8 *)text, 1);
	}
	return G_SOURCE_REMOVE;
}

/* Datagrams sent from the worker arrive, in order, with no flush asked for:
 * batched (io_uring), they go out before the worker next waits; unbatched
 * (KT_SEND_BATCH=0), at once. The receiver blocks until they come. */
static void test_send(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval timeout = {.tv_sec = 5};
	SendCall call = {.worker = kt_worker_pool_get(pool, 0), .to_len = sizeof(any)};
	int rx = socket(AF_INET, SOCK_DGRAM, 0);

	g_assert_no_error(error);
	g_assert_cmpint(bind(rx, (struct sockaddr *)&any, sizeof(any)), ==, 0);
	g_assert_cmpint(getsockname(rx, (struct sockaddr *)&call.to, &call.to_len), ==, 0);
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	call.tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	kt_worker_invoke_sync(call.worker, send_three, &call);
	for (guint i = 0; i < 3; i++) {
		char buf[8];

		g_assert_cmpint(call.result[i], ==, 1);
		g_assert_cmpint(recv(rx, buf, sizeof(buf), 0), ==, 1);
		g_assert_cmpint(buf[0], ==, '0' + (int)i);
	}
	/* The counters are the worker's, moved after the datagrams were out. */
	kt_worker_invoke_sync(call.worker, read_stats, &call);
	if (call.batched) {
		g_assert_cmpuint(call.sent, ==, 3);
		g_assert_cmpuint(call.dropped, ==, 0);
	}
	close(rx);
	close(call.tx);
}

/* ---- the worker's tick (kt_worker_tick_add) ---- */

typedef struct {
	KtWorker *worker;
	KtWorkerTick *a, *b, *c;
	guint calls_a, calls_b, calls_c, b_when_removed;
	gboolean wrong_thread;
	GThread *thread;
	GMutex lock;
	GCond cond;
} TickFixture;

static void tick_check_thread(TickFixture *t)
{
	if (g_thread_self() != t->thread)
		t->wrong_thread = TRUE;
}

/* A removes B on its first call (B may have run before it in the same
 * tick, or be due after it: either way B never runs again), and itself on
 * its second. */
static void on_tick_a(gpointer data)
{
	TickFixture *t = data;

	tick_check_thread(t);
	if (++t->calls_a == 1) {
		kt_worker_tick_remove(g_steal_pointer(&t->b));
		t->b_when_removed = t->calls_b;
	} else {
		kt_worker_tick_remove(g_steal_pointer(&t->a));
	}
}

static void on_tick_b(gpointer data)
{
	TickFixture *t = data;

	tick_check_thread(t);
	t->calls_b++;
}

static void on_tick_c(gpointer data)
{
	TickFixture *t = data;

	tick_check_thread(t);
	g_mutex_lock(&t->lock);
	t->calls_c++;
	g_cond_signal(&t->cond);
	g_mutex_unlock(&t->lock);
}

static gboolean add_ticks(gpointer data)
{
	TickFixture *t = data;

	t->thread = g_thread_self();
	t->a = kt_worker_tick_add(t->worker, on_tick_a, t);
	t->b = kt_worker_tick_add(t->worker, on_tick_b, t);
	t->c = kt_worker_tick_add(t->worker, on_tick_c, t);
	return G_SOURCE_REMOVE;
}

static gboolean remove_c(gpointer data)
{
	TickFixture *t = data;

	kt_worker_tick_remove(g_steal_pointer(&t->c));
	kt_worker_tick_remove(NULL);
	return G_SOURCE_REMOVE;
}

/* Every tick's callback runs on the worker once per tick; a callback may
 * remove another tick or its own. Three ticks of about a second each. */
static void test_tick(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	TickFixture t = {.worker = kt_worker_pool_get(pool, 0)};
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	g_assert_no_error(error);
	g_mutex_init(&t.lock);
	g_cond_init(&t.cond);
	kt_worker_invoke_sync(t.worker, add_ticks, &t);
	g_mutex_lock(&t.lock);
	while (t.calls_c < 3)
		g_assert_true(g_cond_wait_until(&t.cond, &t.lock, deadline));
	g_mutex_unlock(&t.lock);
	kt_worker_invoke_sync(t.worker, remove_c, &t);
	g_assert_false(t.wrong_thread);
	g_assert_cmpuint(t.calls_a, ==, 2);
	g_assert_null(t.a);
	g_assert_cmpuint(t.calls_b, ==, t.b_when_removed);
	g_assert_cmpuint(t.calls_b, <=, 1);
	g_mutex_clear(&t.lock);
	g_cond_clear(&t.cond);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/worker/level-triggered", test_level_triggered);
	g_test_add_func("/worker/unwatch-in-batch", test_unwatch_in_batch);
	g_test_add_func("/worker/bad-fd", test_bad_fd);
	g_test_add_func("/worker/send", test_send);
	g_test_add_func("/worker/tick", test_tick);
	return g_test_run();
}
