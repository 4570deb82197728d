/* A media worker's outgoing datagrams, sent many to one system call.
 *
 * Why: forwarding one packet to N subscribers is N sends on N sockets (each
 * peer's libnice socket, the one its selected ICE pair uses), and on this
 * platform (a VM with page-table isolation) each sendto() costs ~4 us, about
 * half of it entering and leaving the kernel. sendmmsg() batches one socket
 * only; io_uring batches sends on any sockets. Queued datagrams are copied
 * into the batch's own slots and go out with one io_uring_enter() when the
 * slots are full or at kt_send_batch_flush(), which the worker calls before
 * it next waits (kt-worker.c), so a packet waits no longer than the rest of
 * the current dispatch. bench-forward prints the two floors side by side.
 *
 * Where io_uring is missing or refused (an old kernel, a seccomp profile
 * that forbids it, kernel.io_uring_disabled) kt_send_batch_new() says why
 * and the caller sends each datagram itself.
 *
 * A queued datagram names its socket by fd, so whoever closes a socket that
 * may have datagrams queued flushes first (kt_peer_clear_direct_path): a
 * reused fd number must not carry another peer's packet.
 *
 * Ownership: kt_send_batch_new() returns a batch for the caller to free.
 * Threads: one thread at a time (the worker's); new/free from any thread
 * while no other uses it. No allocation after creation, nothing logged per
 * datagram. */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

typedef struct _KtSendBatch KtSendBatch;

/* Largest datagram kt_send_batch_add() takes (an RTP packet with its SRTP
 * trailer fits with room to spare). */
#define KT_SEND_BATCH_MTU 1500

/* A batch of @slots datagrams (1..1024). NULL with @error when io_uring
 * cannot be set up here. */
KtSendBatch *kt_send_batch_new(guint slots, GError **error);
void kt_send_batch_free(KtSendBatch *batch);

/* Queues @len bytes of @buf for @fd to @addr (@addr_len bytes; copied).
 * Flushes first when every slot is taken. Returns @len, or -1 (errno
 * EMSGSIZE) for a datagram over KT_SEND_BATCH_MTU or an address over
 * sizeof(struct sockaddr_storage). The send itself is reported at the flush:
 * a full socket buffer drops the datagram, as the network would. */
int kt_send_batch_add(KtSendBatch *batch, int fd, const struct sockaddr *addr, socklen_t addr_len,
                      const guint8 *buf, gsize len);

/* Sends everything queued (one system call) and waits for the results,
 * which are immediate: every send is non-blocking. Nothing queued: nothing
 * done. Returns how many were sent. */
guint kt_send_batch_flush(KtSendBatch *batch);

/* Whether datagrams go out as IORING_OP_SEND with their address (Linux 6.0
 * and later; probed at creation), else as IORING_OP_SENDMSG, whose msghdr
 * the kernel copies in and checks for each one. */
gboolean kt_send_batch_get_send_with_addr(KtSendBatch *batch);
/* From now on through IORING_OP_SENDMSG even where IORING_OP_SEND would do:
 * so the tests cover the older kernels' way too. Nothing may be queued. */
void kt_send_batch_use_sendmsg(KtSendBatch *batch);

/* Datagrams queued and not yet flushed. */
guint kt_send_batch_get_pending(KtSendBatch *batch);

/* Totals since creation: datagrams sent, and dropped at the flush (a full
 * socket buffer, a closed socket, any error). */
guint64 kt_send_batch_get_sent(KtSendBatch *batch);
guint64 kt_send_batch_get_dropped(KtSendBatch *batch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtSendBatch, kt_send_batch_free)

G_END_DECLS
