/* Outgoing datagrams batched through io_uring (see kt-send-batch.h). */
#include "kt-send-batch.h"

#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gio/gio.h>

#define KT_SEND_BATCH_MAX_SLOTS 1024

typedef struct {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_storage addr;
	guint8 data[KT_SEND_BATCH_MTU];
} Slot;

struct _KtSendBatch {
	struct io_uring ring;
	Slot *slots;
	guint n_slots;
	/* IORING_OP_SEND takes the address itself (Linux 6.0): no msghdr for
	 * the kernel to copy in and check per datagram. Else sendmsg. */
	gboolean send_with_addr;
	guint pending; /* slots [0, pending) are queued in the ring */
	guint64 sent, dropped;
};

/* Whether this kernel's IORING_OP_SEND takes a destination address: one
 * datagram from a loopback socket to itself (older kernels refuse the
 * address with EINVAL). */
static gboolean probe_send_with_addr(KtSendBatch *batch)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
	                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	guint8 byte = 0;
	gboolean ok = FALSE;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return FALSE;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
		sqe = io_uring_get_sqe(&batch->ring);
		io_uring_prep_send(sqe, fd, &byte, 1, MSG_DONTWAIT);
		io_uring_prep_send_set_addr(sqe, (struct sockaddr *)&addr, (__u16)len);
		if (io_uring_submit_and_wait(&batch->ring, 1) == 1 &&
		    io_uring_wait_cqe(&batch->ring, &cqe) == 0) {
			ok = cqe->res == 1;
			io_uring_cqe_seen(&batch->ring, cqe);
		}
	}
	close(fd);
	return ok;
}

KtSendBatch *kt_send_batch_new(guint slots, GError **error)
{
	KtSendBatch *batch;
	int rc;

	g_return_val_if_fail(slots > 0 && slots <= KT_SEND_BATCH_MAX_SLOTS, NULL);
	batch = g_new0(KtSendBatch, 1);
	rc = io_uring_queue_init(slots, &batch->ring, 0);
	if (rc < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-rc), "io_uring: %s",
		            g_strerror(-rc));
		g_free(batch);
		return NULL;
	}
	batch->send_with_addr = probe_send_with_addr(batch);
	batch->n_slots = slots;
	batch->slots = g_new0(Slot, slots);
	for (guint i = 0; i < slots; i++) {
		Slot *s = &batch->slots[i];

		s->iov.iov_base = s->data;
		s->msg.msg_name = &s->addr;
		s->msg.msg_iov = &s->iov;
		s->msg.msg_iovlen = 1;
	}
	return batch;
}

void kt_send_batch_free(KtSendBatch *batch)
{
	if (!batch)
		return;
	/* Whatever is still queued was never submitted: it is dropped with the
	 * ring. */
	io_uring_queue_exit(&batch->ring);
	g_free(batch->slots);
	g_free(batch);
}

int kt_send_batch_add(KtSendBatch *batch, int fd, const struct sockaddr *addr, socklen_t addr_len,
                      const guint8 *buf, gsize len)
{
	struct io_uring_sqe *sqe;
	Slot *s;

	if (len > KT_SEND_BATCH_MTU || addr_len > sizeof(struct sockaddr_storage)) {
		errno = EMSGSIZE;
		return -1;
	}
	if (batch->pending == batch->n_slots)
		kt_send_batch_flush(batch);
	/* The ring has as many entries as there are slots, all free after a
	 * flush. */
	sqe = io_uring_get_sqe(&batch->ring);
	g_assert(sqe);
	s = &batch->slots[batch->pending++];
	memcpy(s->data, buf, len);
	memcpy(&s->addr, addr, addr_len);
	s->iov.iov_len = len;
	s->msg.msg_namelen = addr_len;
	/* MSG_DONTWAIT: a full socket buffer fails the send at once instead of
	 * io_uring waiting for room, so the flush never waits. */
	if (batch->send_with_addr) {
		io_uring_prep_send(sqe, fd, s->data, len, MSG_DONTWAIT);
		io_uring_prep_send_set_addr(sqe, (struct sockaddr *)&s->addr, (__u16)addr_len);
	} else {
		io_uring_prep_sendmsg(sqe, fd, &s->msg, MSG_DONTWAIT);
	}
	return (int)len;
}

guint kt_send_batch_flush(KtSendBatch *batch)
{
	struct io_uring_cqe *cqe;
	guint head, seen = 0, sent = 0;
	int rc;

	if (batch->pending == 0)
		return 0;
	/* The slots are reused once every send has completed: wait for all of
	 * them (they complete inline; EINTR just retries the wait). */
	do
		rc = io_uring_submit_and_wait(&batch->ring, batch->pending);
	while (rc == -EINTR);
	if (rc < 0) {
		/* Not submitted at all (the ring is broken): those are lost. */
		batch->dropped += batch->pending;
		batch->pending = 0;
		return 0;
	}
	while (seen < batch->pending) {
		guint n = 0;

		io_uring_for_each_cqe(&batch->ring, head, cqe)
		{
			sent += cqe->res >= 0;
			n++;
		}
		io_uring_cq_advance(&batch->ring, n);
		seen += n;
		if (seen < batch->pending &&
		    io_uring_wait_cqe_nr(&batch->ring, &cqe, batch->pending - seen) < 0)
			break; /* cannot happen after the wait above; never spin on it */
	}
	batch->sent += sent;
	batch->dropped += batch->pending - sent;
	batch->pending = 0;
	return sent;
}

gboolean kt_send_batch_get_send_with_addr(KtSendBatch *batch)
{
	return batch->send_with_addr;
}

void kt_send_batch_use_sendmsg(KtSendBatch *batch)
{
	g_return_if_fail(batch->pending == 0);
	batch->send_with_addr = FALSE;
}

guint kt_send_batch_get_pending(KtSendBatch *batch)
{
	return batch->pending;
}

guint64 kt_send_batch_get_sent(KtSendBatch *batch)
{
	return batch->sent;
}

guint64 kt_send_batch_get_dropped(KtSendBatch *batch)
{
	return batch->dropped;
}
