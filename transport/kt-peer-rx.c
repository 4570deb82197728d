/* A connected peer's receive path. Once ICE has selected a plain UDP pair
 * (the direct path kt-peer-ice.c sends on), that pair's socket is read here,
 * through the worker's epoll set (kt_worker_watch), instead of through
 * libnice's GSource for it on the worker's context.
 *
 * Why: GLib polls the fds of every GSource on every wake-up of the worker.
 * With libnice's socket source per peer, each wake-up (one subscriber's TWCC
 * feedback, 10 a second each) cost every socket of the worker, about a third
 * of worker 0 in bench-forward with 200 subscribers.
 *
 * STUN stays libnice's (the browser's checks and consent requests need its
 * answers, its nominations move the selected pair). libnice's sources for
 * the peer's sockets move to the worker's STUN context
 * (kt_worker_get_stun_context), which nothing iterates by itself. The head
 * of each datagram is peeked; a STUN one (first byte 0-3, RFC 7983) is left
 * in the socket, and one iteration of the STUN context lets libnice read and
 * answer it (data it reads along the way still reaches kt_peer_on_recv, on
 * this thread). Everything else is read here straight into the peer's
 * receive buffer, and taken only from the selected remote address, as
 * libnice would. (Detaching libnice's receive callback instead is no good:
 * libnice 0.1.21 then moves the sources to the global default context, the
 * server's control loop.)
 *
 * The switch either way happens from an idle callback, never inside a
 * libnice signal (moving the sources there would pull them from under the
 * dispatch that emitted it).
 *
 * Worker thread only. */
#include "kt-peer-private.h"

#include <errno.h>
#include <string.h>
#include <netinet/in.h>

/* Datagrams read per wake-up before the other sockets get their turn. */
#define KT_PEER_RX_BURST 32
/* A STUN message libnice left unread this many times in a row: its socket
 * goes back to libnice (see stun_to_libnice). */
#define KT_PEER_RX_STUCK_MAX 3

/* STUN header: type, length, magic cookie, transaction ID. */
#define KT_STUN_HEADER 20

static gboolean same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return FALSE;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return FALSE;
}

static void release(KtPeer *peer)
{
	kt_worker_unwatch(g_steal_pointer(&peer->rx_watch));
	peer->rx_fd = -1;
	peer->rx_stuck = 0;
	nice_agent_attach_recv(peer->agent, peer->stream_id, 1, kt_worker_get_context(peer->worker),
	                       kt_peer_on_recv, peer);
}

/* A STUN datagram heads the socket's queue (@head, @len bytes of it): one
 * iteration of the STUN context has libnice read it. FALSE when the socket
 * went back to libnice meanwhile. */
static gboolean stun_to_libnice(KtPeer *peer, const guint8 *head, gssize len)
{
	guint8 after[KT_STUN_HEADER];
	gssize n;

	g_main_context_iteration(kt_worker_get_stun_context(peer->worker), FALSE);
	if (!peer->rx_watch)
		return FALSE; /* released meanwhile (a libnice signal, a close) */
	/* Should libnice ever leave it there, the same message would head the
	 * queue again and again. The same bytes once can be a retransmission;
	 * three times in a row, it is stuck. */
	n = recv(peer->rx_fd, after, sizeof(after), MSG_PEEK | MSG_DONTWAIT);
	if (n == len && memcmp(after, head, len) == 0) {
		if (++peer->rx_stuck >= KT_PEER_RX_STUCK_MAX) {
			g_warning("peer %u: libnice left a STUN message unread; its socket "
			          "goes back to libnice",
			          peer->id);
			release(peer);
			return FALSE;
		}
	} else {
		peer->rx_stuck = 0;
	}
	return TRUE;
}

static void on_readable(gpointer data)
{
	KtPeer *peer = data;

	for (guint i = 0; i < KT_PEER_RX_BURST && peer->rx_watch; i++) {
		guint8 head[KT_STUN_HEADER];
		struct sockaddr_storage from;
		socklen_t from_len = sizeof(from);
		gssize n = recv(peer->rx_fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);

		if (n < 0)
			return; /* drained (EAGAIN), or an error libnice would ignore too */
		if (n > 0 && head[0] < 4) {
			if (!stun_to_libnice(peer, head, n))
				return;
			continue;
		}
		/* MSG_TRUNC: the datagram's real length, so an oversized one is
		 * dropped whole rather than handled cut. */
		n = recvfrom(peer->rx_fd, peer->rx, KT_PEER_RX_CAP, MSG_DONTWAIT | MSG_TRUNC,
		             (struct sockaddr *)&from, &from_len);
		if (n <= 0 || n > KT_PEER_RX_CAP || !same_address(&from, &peer->direct_addr))
			continue;
		kt_peer_handle_datagram(peer, peer->rx, (gsize)n);
	}
}

static void take(KtPeer *peer)
{
	g_autoptr(GError) error = NULL;

	/* libnice's sources go to the STUN context. Nothing is pending: the
	 * worker owns its context, so libnice delivered everything it read
	 * straight to kt_peer_on_recv. */
	nice_agent_attach_recv(peer->agent, peer->stream_id, 1,
	                       kt_worker_get_stun_context(peer->worker), kt_peer_on_recv, peer);
	peer->rx_fd = peer->direct_fd;
	peer->rx_watch = kt_worker_watch(peer->worker, peer->rx_fd, on_readable, peer, &error);
	if (!peer->rx_watch) {
		g_warning("peer %u: %s; libnice keeps reading it", peer->id, error->message);
		release(peer);
		return;
	}
	/* Anything that arrived between libnice's last read and the watch. */
	on_readable(peer);
}

static gboolean on_sync(gpointer data)
{
	KtPeer *peer = data;

	g_clear_pointer(&peer->rx_sync, g_source_unref);
	if (!peer->agent)
		return G_SOURCE_REMOVE;
	if (peer->rx_watch && peer->rx_fd != peer->direct_fd)
		release(peer);
	if (!peer->rx_watch && peer->direct_fd >= 0)
		take(peer);
	return G_SOURCE_REMOVE;
}

void kt_peer_rx_sync_later(KtPeer *peer)
{
	if (peer->rx_sync || !peer->agent)
		return;
	peer->rx_sync = g_idle_source_new();
	g_source_set_callback(peer->rx_sync, on_sync, peer, NULL);
	g_source_attach(peer->rx_sync, kt_worker_get_context(peer->worker));
}

void kt_peer_rx_stop(KtPeer *peer)
{
	if (peer->rx_sync) {
		g_source_destroy(peer->rx_sync);
		g_clear_pointer(&peer->rx_sync, g_source_unref);
	}
	kt_worker_unwatch(g_steal_pointer(&peer->rx_watch));
	peer->rx_fd = -1;
}
