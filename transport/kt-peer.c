/* A peer: ICE (libnice) + DTLS (OpenSSL) + SRTP (OpenSSL EVP, kt-srtp.h) on one worker. */
#include "kt-peer-private.h"

#include <errno.h>
#include <string.h>

#include "kt-rtp.h"
#include "kt-srtp.h"

G_DEFINE_QUARK(kt - peer - error - quark, kt_peer_error)

static gint next_peer_id = 1;

static const char *const state_names[] = {
    [KT_PEER_STATE_NEW] = "new",
    [KT_PEER_STATE_GATHERING] = "gathering",
    [KT_PEER_STATE_CONNECTING] = "connecting",
    [KT_PEER_STATE_CONNECTED] = "connected",
    [KT_PEER_STATE_FAILED] = "failed",
    [KT_PEER_STATE_CLOSED] = "closed",
};

const char *kt_peer_state_to_string(KtPeerState state)
{
	if ((guint)state >= G_N_ELEMENTS(state_names))
		return "unknown";
	return state_names[state];
}

KtPeer *kt_peer_ref(KtPeer *peer)
{
	g_atomic_int_inc(&peer->refcount);
	return peer;
}

/* Any thread: the peer stops counting as connecting (once). */
static void kt_peer_leave_gate(KtPeer *peer)
{
	if (peer->gate && g_atomic_int_compare_and_exchange(&peer->gate_held, 1, 0))
		kt_peer_gate_leave(peer->gate);
}

void kt_peer_unref(KtPeer *peer)
{
	if (!peer || !g_atomic_int_dec_and_test(&peer->refcount))
		return;
	kt_peer_leave_gate(peer);
	kt_peer_gate_unref(peer->gate);
	/* Worker resources are gone by now: the worker held a reference until
	 * its agent was closed (see close_on_worker). */
	kt_cert_unref(peer->cert);
	g_free(peer->remote_fingerprint);
	g_free(peer->remote_ufrag);
	g_free(peer->remote_pwd);
	g_strfreev(peer->remote_candidates);
	g_main_context_unref(peer->control);
	g_free(peer);
}

KtPeerState kt_peer_get_state(KtPeer *peer)
{
	return g_atomic_int_get(&peer->state);
}

guint kt_peer_get_id(KtPeer *peer)
{
	return peer->id;
}

KtWorker *kt_peer_get_worker(KtPeer *peer)
{
	return peer->worker;
}

gboolean kt_peer_is_connected(KtPeer *peer)
{
	return peer->srtp != NULL;
}

/* ---- events to the control loop ---- */

static void peer_event_free(gpointer data)
{
	PeerEvent *ev = data;

	kt_peer_unref(ev->peer);
	g_free(ev->reason);
	g_free(ev->ufrag);
	g_free(ev->pwd);
	g_strfreev(ev->candidates);
	g_free(ev);
}

static gboolean deliver_event(gpointer data)
{
	PeerEvent *ev = data;
	KtPeer *peer = ev->peer;

	/* After kt_peer_close() the owner no longer wants to hear from us. */
	if (peer->closing)
		return G_SOURCE_REMOVE;
	if (ev->local_ready && peer->events.local_ready)
		peer->events.local_ready(peer, ev->ufrag, ev->pwd,
		                         (const char *const *)ev->candidates, peer->user_data);
	else if (!ev->local_ready && peer->events.state_changed)
		peer->events.state_changed(peer, ev->state, ev->reason, peer->user_data);
	return G_SOURCE_REMOVE;
}

void kt_peer_post_event(KtPeer *peer, PeerEvent *ev)
{
	ev->peer = kt_peer_ref(peer);
	g_main_context_invoke_full(peer->control, G_PRIORITY_DEFAULT, deliver_event, ev,
	                           peer_event_free);
}

/* Worker: move to a new state and tell the control loop. Terminal states stick. */
void kt_peer_set_state(KtPeer *peer, KtPeerState state, const char *reason)
{
	KtPeerState old = g_atomic_int_get(&peer->state);

	if (old == state || old == KT_PEER_STATE_FAILED || old == KT_PEER_STATE_CLOSED)
		return;
	g_atomic_int_set(&peer->state, state);
	if (state == KT_PEER_STATE_CONNECTED || state == KT_PEER_STATE_FAILED ||
	    state == KT_PEER_STATE_CLOSED) {
		kt_peer_leave_gate(peer);
		PeerEvent *ev = g_new0(PeerEvent, 1);

		ev->state = state;
		ev->reason = g_strdup(reason);
		kt_peer_post_event(peer, ev);
	}
}

/* ---- worker side: DTLS ---- */

/* The browser's ClientHello can arrive before our side of ICE has selected a
 * pair; libnice then cannot send our reply, and the browser would wait a full
 * DTLS retransmission timeout (1 s). Keep the flight and send it as soon as a
 * pair is selected. Handshake only: a few datagrams per peer. */
#define KT_PEER_MAX_BACKLOG 16

void kt_peer_dtls_send(const guint8 *data, gsize len, gpointer user_data)
{
	KtPeer *peer = user_data;

	if (!peer->agent)
		return;
	if (nice_agent_send(peer->agent, peer->stream_id, 1, len, (const gchar *)data) >= 0)
		return;
	if (!peer->dtls_backlog)
		peer->dtls_backlog = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	if (peer->dtls_backlog->len < KT_PEER_MAX_BACKLOG)
		g_ptr_array_add(peer->dtls_backlog, g_bytes_new(data, len));
}

void kt_peer_flush_dtls_backlog(KtPeer *peer)
{
	if (!peer->dtls_backlog)
		return;
	for (guint i = 0; i < peer->dtls_backlog->len; i++) {
		gsize len;
		const gchar *data =
		    g_bytes_get_data(g_ptr_array_index(peer->dtls_backlog, i), &len);

		nice_agent_send(peer->agent, peer->stream_id, 1, len, data);
	}
	g_clear_pointer(&peer->dtls_backlog, g_ptr_array_unref);
}

void kt_peer_dtls_state_changed(KtDtlsState state, const GError *error, gpointer user_data)
{
	KtPeer *peer = user_data;
	KtSrtpKeys keys;
	g_autoptr(GError) srtp_error = NULL;

	switch (state) {
	case KT_DTLS_STATE_CONNECTED:
		if (!kt_dtls_get_srtp_keys(peer->dtls, &keys)) {
			kt_peer_set_state(peer, KT_PEER_STATE_FAILED,
			                  "DTLS negotiated no SRTP profile");
			return;
		}
		peer->srtp = kt_srtp_new(&keys, &srtp_error);
		memset(&keys, 0, sizeof(keys));
		if (!peer->srtp) {
			kt_peer_set_state(peer, KT_PEER_STATE_FAILED, srtp_error->message);
			return;
		}
		kt_peer_set_state(peer, KT_PEER_STATE_CONNECTED, NULL);
		kt_peer_consent_start(peer);
		if (peer->media_set && peer->media.connected)
			peer->media.connected(peer, peer->media_data);
		break;
	case KT_DTLS_STATE_FAILED:
		kt_peer_set_state(peer, KT_PEER_STATE_FAILED,
		                  error ? error->message : "DTLS failed");
		break;
	case KT_DTLS_STATE_CLOSED:
		kt_peer_set_state(peer, KT_PEER_STATE_CLOSED, "DTLS closed by the remote side");
		break;
	default:
		break;
	}
}

/* ---- worker side: receive path ---- */

void kt_peer_on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                     gpointer user_data)
{
	kt_peer_handle_datagram(user_data, (const guint8 *)buf, len);
}

void kt_peer_handle_datagram(KtPeer *peer, const guint8 *buf, gsize len)
{
	int n;

	if (len == 0 || len > KT_PEER_RX_CAP)
		return;
	switch (kt_rtp_demux(buf, len)) {
	case KT_PACKET_DTLS:
		if (peer->dtls) {
			kt_dtls_handle_datagram(peer->dtls, buf, len);
		} else {
			/* The browser answered and started DTLS before its answer
			 * reached us over the WebSocket: keep its first flight. */
			if (!peer->dtls_early)
				peer->dtls_early =
				    g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
			if (peer->dtls_early->len < 8)
				g_ptr_array_add(peer->dtls_early, g_bytes_new(buf, len));
		}
		break;
	case KT_PACKET_RTP:
		/* Unprotected even with no media callbacks yet (a session not in
		 * its room yet, a test's sending end): authenticated packets are
		 * what keeps consent fresh (kt-peer-consent.c). */
		if (!peer->srtp)
			return;
		if (buf != peer->rx)
			memcpy(peer->rx, buf, len);
		n = kt_srtp_unprotect_rtp(peer->srtp, peer->rx, len);
		peer->auth_rx += n > 0;
		if (n > 0 && peer->media_set && peer->media.rtp)
			peer->media.rtp(peer, peer->rx, n, peer->media_data);
		break;
	case KT_PACKET_RTCP:
		if (!peer->srtp)
			return;
		if (buf != peer->rx)
			memcpy(peer->rx, buf, len);
		n = kt_srtp_unprotect_rtcp(peer->srtp, peer->rx, len);
		peer->auth_rx += n > 0;
		if (n > 0 && peer->media_set && peer->media.rtcp)
			peer->media.rtcp(peer, peer->rx, n, peer->media_data);
		break;
	default:
		break; /* STUN is consumed by libnice; anything else is noise */
	}
}

static int send_datagram(KtPeer *peer, const guint8 *buf, int len)
{
	if (peer->direct_fd >= 0)
		return kt_worker_send(peer->worker, peer->direct_fd,
		                      (struct sockaddr *)&peer->direct_addr, peer->direct_addr_len,
		                      buf, len);
	if (peer->consent_lost)
		return -1; /* RFC 7675 §5.1: not another packet */
	return nice_agent_send(peer->agent, peer->stream_id, 1, len, (const gchar *)buf);
}

void kt_peer_prefetch_send(KtPeer *peer, guint step, guint32 ssrc)
{
	if (step == 0) {
		__builtin_prefetch(&peer->worker);
		__builtin_prefetch(&peer->srtp);
		__builtin_prefetch(&peer->direct_fd);
		__builtin_prefetch(&peer->direct_addr_len);
	} else if (peer->srtp) {
		kt_srtp_prefetch_rtp(peer->srtp, step - 1, ssrc);
	}
}

int kt_peer_send_rtp(KtPeer *peer, guint8 *buf, gsize len, gsize cap)
{
	int n;

	if (!peer->srtp)
		return -1;
	n = kt_srtp_protect_rtp(peer->srtp, buf, len, cap);
	if (n < 0)
		return n;
	return send_datagram(peer, buf, n);
}

int kt_peer_send_rtcp(KtPeer *peer, guint8 *buf, gsize len, gsize cap)
{
	int n;

	if (!peer->srtp)
		return -1;
	n = kt_srtp_protect_rtcp(peer->srtp, buf, len, cap);
	if (n < 0)
		return n;
	return send_datagram(peer, buf, n);
}

void kt_peer_set_media_funcs(KtPeer *peer, const KtPeerMediaFuncs *funcs, gpointer user_data)
{
	if (funcs) {
		peer->media = *funcs;
		peer->media_data = user_data;
		peer->media_set = TRUE;
	} else {
		memset(&peer->media, 0, sizeof(peer->media));
		peer->media_data = NULL;
		peer->media_set = FALSE;
	}
}

static gboolean close_on_worker(gpointer data);

KtPeer *kt_peer_new(const KtPeerConfig *config, const KtPeerEvents *events, gpointer user_data,
                    GError **error)
{
	if (config->gate && !kt_peer_gate_enter(config->gate)) {
		g_set_error(error, KT_PEER_ERROR, KT_PEER_ERROR_BUSY,
		            "%u media sessions are connecting already (dtls_handshakes): retry "
		            "in a few seconds",
		            kt_peer_gate_get_max(config->gate));
		return NULL;
	}
	KtPeer *peer = g_new0(KtPeer, 1);
	SetupCall call = {.peer = peer, .config = *config};

	if (config->gate) {
		peer->gate = kt_peer_gate_ref(config->gate);
		peer->gate_held = 1;
	}
	peer->consent_timeout_us =
	    (gint64)CLAMP(config->consent_timeout_s ? config->consent_timeout_s : 10, 1, 30) *
	    G_USEC_PER_SEC;
	peer->refcount = 1;
	peer->direct_fd = -1;
	peer->rx_fd = -1;
	peer->id = g_atomic_int_add(&next_peer_id, 1);
	peer->worker = config->worker;
	peer->control = g_main_context_ref_thread_default();
	peer->cert = kt_cert_ref(config->cert);
	peer->dtls_role = config->dtls_role;
	peer->remote_fingerprint = g_strdup(config->remote_fingerprint);
	peer->remote_ufrag = g_strdup(config->remote_ufrag);
	peer->remote_pwd = g_strdup(config->remote_pwd);
	peer->remote_candidates = g_strdupv((char **)config->remote_candidates);
	peer->remote_set = config->remote_ufrag != NULL;
	if (events)
		peer->events = *events;
	peer->user_data = user_data;

	/* The worker side holds a reference until its agent is closed. */
	kt_peer_ref(peer);
	kt_worker_invoke_sync(peer->worker, kt_peer_setup_on_worker, &call);
	if (!call.ok) {
		g_propagate_error(error, call.error);
		peer->closing = TRUE;
		kt_worker_invoke_sync(peer->worker, close_on_worker, peer);
		kt_peer_unref(peer);
		return NULL;
	}
	return peer;
}

/* ---- teardown ---- */

static void agent_closed(GObject *source, GAsyncResult *res, gpointer user_data)
{
	KtPeer *peer = user_data;

	g_object_unref(source);
	kt_peer_unref(peer); /* the worker side's reference */
}

/* Worker: stop media, say goodbye (close_notify), release the agent. */
static void teardown_worker_side(KtPeer *peer)
{
	kt_peer_set_media_funcs(peer, NULL, NULL);
	kt_peer_consent_stop(peer);
	if (peer->dtls) {
		if (kt_dtls_get_state(peer->dtls) == KT_DTLS_STATE_CONNECTED)
			kt_dtls_close(peer->dtls);
		kt_dtls_free(peer->dtls);
		peer->dtls = NULL;
	}
	if (peer->srtp) {
		kt_srtp_free(peer->srtp);
		peer->srtp = NULL;
	}
	g_clear_pointer(&peer->dtls_backlog, g_ptr_array_unref);
	g_clear_pointer(&peer->dtls_early, g_ptr_array_unref);
	g_clear_pointer(&peer->pending_candidates, g_ptr_array_unref);
	kt_peer_clear_direct_path(peer);
	g_atomic_int_set(&peer->state, KT_PEER_STATE_CLOSED);
	kt_peer_leave_gate(peer);
	if (peer->agent) {
		NiceAgent *agent = peer->agent;

		kt_peer_rx_stop(peer);
		nice_agent_attach_recv(agent, peer->stream_id, 1, NULL, NULL, NULL);
		g_signal_handlers_disconnect_by_data(agent, peer);
		peer->agent = NULL;
		nice_agent_close_async(agent, agent_closed, peer);
		/* Its room goes to the next agent; what it still has there
		 * (the close above) runs on. */
		kt_worker_return_ice_context(peer->worker, peer->ice_context);
		peer->ice_context = NULL;
	} else {
		kt_peer_unref(peer);
	}
}

static gboolean close_on_worker(gpointer data)
{
	teardown_worker_side(data);
	return G_SOURCE_REMOVE;
}

void kt_peer_close(KtPeer *peer)
{
	if (peer->closing)
		return;
	peer->closing = TRUE;
	kt_worker_invoke(peer->worker, close_on_worker, peer, NULL);
}
