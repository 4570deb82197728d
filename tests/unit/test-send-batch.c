/* kt-send-batch: datagrams queued for several sockets go out through io_uring
 * in order and intact, a full batch flushes by itself, bad input is refused
 * and a failed send is counted without losing the others. Real UDP sockets
 * on loopback. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "kt-send-batch.h"

typedef struct {
	int rx[2]; /* two receivers */
	struct sockaddr_in to[2];
	int tx; /* one sender */
} Sockets;

static void sockets_open(Sockets *s)
{
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval timeout = {.tv_sec = 5};

	for (guint i = 0; i < 2; i++) {
		socklen_t len = sizeof(s->to[i]);

		s->rx[i] = socket(AF_INET, SOCK_DGRAM, 0);
		g_assert_cmpint(s->rx[i], >=, 0);
		g_assert_cmpint(bind(s->rx[i], (struct sockaddr *)&any, sizeof(any)), ==, 0);
		g_assert_cmpint(getsockname(s->rx[i], (struct sockaddr *)&s->to[i], &len), ==, 0);
		/* A lost datagram fails the test instead of hanging it. */
		setsockopt(s->rx[i], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	}
	s->tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	g_assert_cmpint(s->tx, >=, 0);
}

static void sockets_close(Sockets *s)
{
	for (guint i = 0; i < 2; i++)
		close(s->rx[i]);
	close(s->tx);
}

/* Each case runs twice: as the batch chose (IORING_OP_SEND with the address
 * where the kernel takes it) and through IORING_OP_SENDMSG, older kernels'
 * way. */
static gboolean use_sendmsg;

/* NULL (and the test skipped) where this kernel or its seccomp profile
 * refuses io_uring: the workers then send each datagram by themselves. */
static KtSendBatch *batch_or_skip(guint slots)
{
	g_autoptr(GError) error = NULL;
	KtSendBatch *batch = kt_send_batch_new(slots, &error);

	if (!batch) {
		g_test_skip(error->message);
		return NULL;
	}
	if (use_sendmsg)
		kt_send_batch_use_sendmsg(batch);
	g_test_message("sending through %s", kt_send_batch_get_send_with_addr(batch)
	                                         ? "IORING_OP_SEND + address"
	                                         : "IORING_OP_SENDMSG");
	return batch;
}

static void expect(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	g_assert_cmpint(n, ==, (ssize_t)strlen(want));
	g_assert_cmpmem(buf, n, want, strlen(want));
}

static int add(KtSendBatch *b, Sockets *s, guint to, const char *text)
{
	return kt_send_batch_add(b, s->tx, (struct sockaddr *)&s->to[to], sizeof(s->to[to]),
	                         (const guint8 *)text, strlen(text));
}

/* Six datagrams to two receivers through four slots: the fifth add flushes
 * the first four by itself, the explicit flush the rest; each receiver gets
 * its own, in order, byte for byte. */
static void test_order(void)
{
	g_autoptr(KtSendBatch) b = batch_or_skip(4);
	const char *texts[] = {"a0", "b0", "a1", "b1", "a2", "b2"};
	Sockets s;

	if (!b)
		return;
	sockets_open(&s);
	for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_assert_cmpint(add(b, &s, i % 2, texts[i]), ==, 2);
		g_assert_cmpuint(kt_send_batch_get_pending(b), ==, i < 4 ? i + 1 : i - 3);
	}
	g_assert_cmpuint(kt_send_batch_get_sent(b), ==, 4);
	g_assert_cmpuint(kt_send_batch_flush(b), ==, 2);
	g_assert_cmpuint(kt_send_batch_flush(b), ==, 0); /* nothing queued */
	for (guint i = 0; i < G_N_ELEMENTS(texts); i++)
		expect(s.rx[i % 2], texts[i]);
	g_assert_cmpuint(kt_send_batch_get_sent(b), ==, 6);
	g_assert_cmpuint(kt_send_batch_get_dropped(b), ==, 0);
	sockets_close(&s);
}

/* The slot is the caller's buffer's copy: overwriting the buffer after the
 * add changes nothing sent. */
static void test_copied(void)
{
	g_autoptr(KtSendBatch) b = batch_or_skip(2);
	char text[] = "first";
	Sockets s;

	if (!b)
		return;
	sockets_open(&s);
	g_assert_cmpint(add(b, &s, 0, text), ==, 5);
	memcpy(text, "other", 5);
	kt_send_batch_flush(b);
	expect(s.rx[0], "first");
	sockets_close(&s);
}

/* Oversized datagram or address: refused with EMSGSIZE, nothing queued. A
 * send that fails at the flush (a closed socket) is counted as dropped and
 * the datagrams around it still arrive. */
static void test_bad_input(void)
{
	g_autoptr(KtSendBatch) b = batch_or_skip(8);
	static guint8 big[KT_SEND_BATCH_MTU + 1];
	struct sockaddr_storage huge[2] = {0};
	int closed;
	Sockets s;

	if (!b)
		return;
	sockets_open(&s);
	errno = 0;
	g_assert_cmpint(kt_send_batch_add(b, s.tx, (struct sockaddr *)&s.to[0], sizeof(s.to[0]),
	                                  big, sizeof(big)),
	                ==, -1);
	g_assert_cmpint(errno, ==, EMSGSIZE);
	g_assert_cmpint(kt_send_batch_add(b, s.tx, (struct sockaddr *)huge, sizeof(huge),
	                                  (const guint8 *)"x", 1),
	                ==, -1);
	g_assert_cmpuint(kt_send_batch_get_pending(b), ==, 0);

	closed = socket(AF_INET, SOCK_DGRAM, 0);
	close(closed);
	g_assert_cmpint(add(b, &s, 0, "before"), ==, 6);
	g_assert_cmpint(kt_send_batch_add(b, closed, (struct sockaddr *)&s.to[0], sizeof(s.to[0]),
	                                  (const guint8 *)"lost", 4),
	                ==, 4);
	g_assert_cmpint(add(b, &s, 0, "after"), ==, 5);
	g_assert_cmpuint(kt_send_batch_flush(b), ==, 2);
	g_assert_cmpuint(kt_send_batch_get_dropped(b), ==, 1);
	expect(s.rx[0], "before");
	expect(s.rx[0], "after");
	sockets_close(&s);
}

/* What the kernel is asked: on Linux 6.0 and later (this platform's is
 * newer) the address goes with IORING_OP_SEND; once told, SENDMSG. */
static void test_mode(void)
{
	g_autoptr(KtSendBatch) b = batch_or_skip(2);

	if (!b)
		return;
	if (!use_sendmsg && !kt_send_batch_get_send_with_addr(b))
		g_test_message("this kernel's IORING_OP_SEND takes no address: SENDMSG");
	g_assert_true(!use_sendmsg || !kt_send_batch_get_send_with_addr(b));
}

typedef struct {
	const char *name;
	void (*func)(void);
} Case;

static const Case cases[] = {
    {"order", test_order},
    {"copied", test_copied},
    {"bad-input", test_bad_input},
    {"mode", test_mode},
};

static void run_with_sendmsg(gconstpointer data)
{
	use_sendmsg = TRUE;
	((const Case *)data)->func();
	use_sendmsg = FALSE;
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *as_chosen = g_strdup_printf("/send-batch/%s", cases[i].name);
		g_autofree char *sendmsg = g_strdup_printf("/send-batch/sendmsg/%s", cases[i].name);

		g_test_add_func(as_chosen, cases[i].func);
		g_test_add_data_func(sendmsg, &cases[i], run_with_sendmsg);
	}
	return g_test_run();
}
