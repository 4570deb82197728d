/* A peer: ICE (libnice) + DTLS (OpenSSL) + SRTP (libsrtp2) on one worker. */
#include "kt-peer.h"

#include <agent.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "kt-rtp.h"
#include "kt-srtp.h"

G_DEFINE_QUARK(kt - peer - error - quark, kt_peer_error)

#define KT_PEER_RX_CAP 2048

struct _KtPeer {
	gint refcount;
	guint id;
	gint state; /* KtPeerState, atomic */

	/* Set at creation, read-only afterwards. */
	KtWorker *worker;
	GMainContext *control;
	KtCert *cert;
	/* The remote description: from the config (answerer) or, for an
	 * offerer, from kt_peer_set_remote() later; worker-owned once set up. */
	gboolean remote_set;
	KtDtlsRole dtls_role;
	char *remote_fingerprint;
	char *remote_ufrag, *remote_pwd;
	char **remote_candidates;
	KtPeerEvents events;
	gpointer user_data;

	/* Control loop only. */
	gboolean closing;

	/* Worker only. */
	NiceAgent *agent;
	guint stream_id;
	KtDtls *dtls;
	KtSrtp *srtp;
	GPtrArray *dtls_backlog; /* GBytes the agent could not send yet */
	GPtrArray *dtls_early;   /* GBytes received before the remote description */
	gboolean gathered;
	GPtrArray *pending_candidates; /* trickled before gathering finished */
	/* Media fast path: the selected pair's own UDP socket and remote
	 * address, so a forwarded packet costs one sendto() instead of a trip
	 * through libnice's agent lock (see update_direct_path). */
	GSocket *direct_socket;
	int direct_fd;
	struct sockaddr_storage direct_addr;
	socklen_t direct_addr_len;
	KtPeerMediaFuncs media;
	gpointer media_data;
	gboolean media_set;
	guint8 rx[KT_PEER_RX_CAP];
};

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

void kt_peer_unref(KtPeer *peer)
{
	if (!peer || !g_atomic_int_dec_and_test(&peer->refcount))
		return;
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

typedef struct {
	KtPeer *peer;
	KtPeerState state;
	char *reason;
	char *ufrag, *pwd;
	char **candidates;
	gboolean local_ready;
} PeerEvent;

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

static void post_event(KtPeer *peer, PeerEvent *ev)
{
	ev->peer = kt_peer_ref(peer);
	g_main_context_invoke_full(peer->control, G_PRIORITY_DEFAULT, deliver_event, ev,
	                           peer_event_free);
}

/* Worker: move to a new state and tell the control loop. Terminal states stick. */
static void set_state(KtPeer *peer, KtPeerState state, const char *reason)
{
	KtPeerState old = g_atomic_int_get(&peer->state);

	if (old == state || old == KT_PEER_STATE_FAILED || old == KT_PEER_STATE_CLOSED)
		return;
	g_atomic_int_set(&peer->state, state);
	if (state == KT_PEER_STATE_CONNECTED || state == KT_PEER_STATE_FAILED ||
	    state == KT_PEER_STATE_CLOSED) {
		PeerEvent *ev = g_new0(PeerEvent, 1);

		ev->state = state;
		ev->reason = g_strdup(reason);
		post_event(peer, ev);
	}
}

/* ---- worker side: DTLS ---- */

/* The browser's ClientHello can arrive before our side of ICE has selected a
 * pair; libnice then cannot send our reply, and the browser would wait a full
 * DTLS retransmission timeout (1 s). Keep the flight and send it as soon as a
 * pair is selected. Handshake only: a few datagrams per peer. */
#define KT_PEER_MAX_BACKLOG 16

static void dtls_send(const guint8 *data, gsize len, gpointer user_data)
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

static void flush_dtls_backlog(KtPeer *peer)
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

static void dtls_state_changed(KtDtlsState state, const GError *error, gpointer user_data)
{
	KtPeer *peer = user_data;
	KtSrtpKeys keys;
	g_autoptr(GError) srtp_error = NULL;

	switch (state) {
	case KT_DTLS_STATE_CONNECTED:
		if (!kt_dtls_get_srtp_keys(peer->dtls, &keys)) {
			set_state(peer, KT_PEER_STATE_FAILED, "DTLS negotiated no SRTP profile");
			return;
		}
		peer->srtp = kt_srtp_new(&keys, &srtp_error);
		memset(&keys, 0, sizeof(keys));
		if (!peer->srtp) {
			set_state(peer, KT_PEER_STATE_FAILED, srtp_error->message);
			return;
		}
		set_state(peer, KT_PEER_STATE_CONNECTED, NULL);
		if (peer->media_set && peer->media.connected)
			peer->media.connected(peer, peer->media_data);
		break;
	case KT_DTLS_STATE_FAILED:
		set_state(peer, KT_PEER_STATE_FAILED, error ? error->message : "DTLS failed");
		break;
	case KT_DTLS_STATE_CLOSED:
		set_state(peer, KT_PEER_STATE_CLOSED, "DTLS closed by the remote side");
		break;
	default:
		break;
	}
}

/* ---- worker side: receive path ---- */

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer user_data)
{
	KtPeer *peer = user_data;
	int n;

	if (len == 0 || len > KT_PEER_RX_CAP)
		return;
	switch (kt_rtp_demux((const guint8 *)buf, len)) {
	case KT_PACKET_DTLS:
		if (peer->dtls) {
			kt_dtls_handle_datagram(peer->dtls, (const guint8 *)buf, len);
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
		if (!peer->srtp || !peer->media_set)
			return;
		memcpy(peer->rx, buf, len);
		n = kt_srtp_unprotect_rtp(peer->srtp, peer->rx, len);
		if (n > 0 && peer->media.rtp)
			peer->media.rtp(peer, peer->rx, n, peer->media_data);
		break;
	case KT_PACKET_RTCP:
		if (!peer->srtp || !peer->media_set)
			return;
		memcpy(peer->rx, buf, len);
		n = kt_srtp_unprotect_rtcp(peer->srtp, peer->rx, len);
		if (n > 0 && peer->media.rtcp)
			peer->media.rtcp(peer, peer->rx, n, peer->media_data);
		break;
	default:
		break; /* STUN is consumed by libnice; anything else is noise */
	}
}

static int send_datagram(KtPeer *peer, const guint8 *buf, int len)
{
	if (peer->direct_fd >= 0) {
		ssize_t n = sendto(peer->direct_fd, buf, len, MSG_DONTWAIT,
		                   (struct sockaddr *)&peer->direct_addr, peer->direct_addr_len);

		/* A full socket buffer drops this packet, as the network would. */
		return n >= 0 ? (int)n : (errno == EAGAIN ? 0 : -1);
	}
	return nice_agent_send(peer->agent, peer->stream_id, 1, len, (const gchar *)buf);
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

/* ---- worker side: ICE ---- */

/* "candidate:..." lines (with or without "a="); mDNS (.local) and
 * unparsable ones are skipped: the remote side's checks still reach us and
 * become peer-reflexive candidates (RFC 8445 §7.3.1.3). */
static void add_remote_candidates(KtPeer *peer, const char *const *lines)
{
	GSList *remote = NULL;

	for (guint i = 0; lines && lines[i]; i++) {
		const char *c = lines[i];
		g_autofree char *line =
		    g_str_has_prefix(c, "a=") ? g_strdup(c) : g_strconcat("a=", c, NULL);
		NiceCandidate *nc =
		    nice_agent_parse_remote_candidate_sdp(peer->agent, peer->stream_id, line);

		if (nc)
			remote = g_slist_prepend(remote, nc);
	}
	if (remote)
		nice_agent_set_remote_candidates(peer->agent, peer->stream_id, 1, remote);
	g_slist_free_full(remote, (GDestroyNotify)nice_candidate_free);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer user_data)
{
	KtPeer *peer = user_data;
	PeerEvent *ev = g_new0(PeerEvent, 1);
	GSList *cands = nice_agent_get_local_candidates(agent, stream_id, 1);
	GPtrArray *lines = g_ptr_array_new();

	for (GSList *l = cands; l; l = l->next) {
		char *sdp = nice_agent_generate_local_candidate_sdp(agent, l->data);

		/* libnice writes "a=candidate:..."; the SDP layer wants the value. */
		if (g_str_has_prefix(sdp, "a="))
			g_ptr_array_add(lines, g_strdup(sdp + 2));
		g_free(sdp);
	}
	g_ptr_array_add(lines, NULL);
	g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);

	/* Remote candidates are added after gathering, as libnice expects. */
	peer->gathered = TRUE;
	add_remote_candidates(peer, (const char *const *)peer->remote_candidates);
	if (peer->pending_candidates) {
		g_ptr_array_add(peer->pending_candidates, NULL);
		add_remote_candidates(peer, (const char *const *)peer->pending_candidates->pdata);
		g_clear_pointer(&peer->pending_candidates, g_ptr_array_unref);
	}

	nice_agent_get_local_credentials(agent, stream_id, &ev->ufrag, &ev->pwd);
	ev->candidates = (char **)g_ptr_array_free(lines, FALSE);
	ev->local_ready = TRUE;
	g_atomic_int_set(&peer->state, KT_PEER_STATE_CONNECTING);
	post_event(peer, ev);
}

static void clear_direct_path(KtPeer *peer)
{
	peer->direct_fd = -1;
	g_clear_object(&peer->direct_socket);
}

/* Only a plain UDP pair qualifies: TCP needs RFC 4571 framing and a relay
 * needs TURN encapsulation, both of which libnice does for us. */
static void update_direct_path(KtPeer *peer)
{
	NiceCandidate *local = NULL, *remote = NULL;
	GSocket *socket;

	clear_direct_path(peer);
	if (!nice_agent_get_selected_pair(peer->agent, peer->stream_id, 1, &local, &remote) ||
	    local->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
	    local->type == NICE_CANDIDATE_TYPE_RELAYED)
		return;
	socket = nice_agent_get_selected_socket(peer->agent, peer->stream_id, 1);
	if (!socket)
		return;
	memset(&peer->direct_addr, 0, sizeof(peer->direct_addr));
	nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&peer->direct_addr);
	peer->direct_addr_len = nice_address_ip_version(&remote->addr) == 6
	                            ? sizeof(struct sockaddr_in6)
	                            : sizeof(struct sockaddr_in);
	peer->direct_socket = socket;
	peer->direct_fd = g_socket_get_fd(socket);
}

static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component_id,
                             NiceCandidate *lcand, NiceCandidate *rcand, gpointer user_data)
{
	KtPeer *peer = user_data;

	if (nice_agent_get_component_state(agent, stream_id, 1) == NICE_COMPONENT_STATE_READY)
		update_direct_path(peer);
}

static void on_component_state(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                               gpointer user_data)
{
	KtPeer *peer = user_data;

	/* RFC 7675: without consent, stop sending at once. */
	if (state == NICE_COMPONENT_STATE_READY)
		update_direct_path(peer);
	else
		clear_direct_path(peer);

	if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY)
		flush_dtls_backlog(peer);
	if (state == NICE_COMPONENT_STATE_FAILED) {
		/* Also the RFC 7675 consent-freshness expiry after 30 s. */
		set_state(peer, KT_PEER_STATE_FAILED, "ICE failed or consent expired");
	} else if (state == NICE_COMPONENT_STATE_READY && peer->dtls_role == KT_DTLS_ROLE_CLIENT &&
	           peer->dtls && kt_dtls_get_state(peer->dtls) == KT_DTLS_STATE_NEW) {
		kt_dtls_start(peer->dtls);
	}
}

static gboolean add_local_addresses(NiceAgent *agent, const char *const *addrs, GError **error)
{
	for (guint i = 0; addrs && addrs[i]; i++) {
		NiceAddress a;

		if (!nice_address_set_from_string(&a, addrs[i])) {
			g_set_error(error, KT_PEER_ERROR, KT_PEER_ERROR_ADDRESS,
			            "'%s' is not an IP address", addrs[i]);
			return FALSE;
		}
		nice_agent_add_local_address(agent, &a);
	}
	return TRUE;
}

/* Worker: the remote ICE credentials and DTLS identity are known. Creates the
 * DTLS side and replays a DTLS flight that arrived before it. */
static gboolean apply_remote(KtPeer *peer, GError **error)
{
	KtDtlsConfig dcfg = {
	    .cert = peer->cert,
	    .role = peer->dtls_role,
	    .remote_fingerprint = peer->remote_fingerprint,
	    .context = kt_worker_get_context(peer->worker),
	    .send = dtls_send,
	    .state_changed = dtls_state_changed,
	    .user_data = peer,
	};

	nice_agent_set_remote_credentials(peer->agent, peer->stream_id, peer->remote_ufrag,
	                                  peer->remote_pwd);
	peer->dtls = kt_dtls_new(&dcfg, error);
	if (!peer->dtls)
		return FALSE;
	if (peer->dtls_early) {
		for (guint i = 0; i < peer->dtls_early->len && peer->dtls; i++) {
			gsize len;
			const guint8 *d =
			    g_bytes_get_data(g_ptr_array_index(peer->dtls_early, i), &len);

			kt_dtls_handle_datagram(peer->dtls, d, len);
		}
		g_clear_pointer(&peer->dtls_early, g_ptr_array_unref);
	}
	if (peer->dtls_role == KT_DTLS_ROLE_CLIENT &&
	    nice_agent_get_component_state(peer->agent, peer->stream_id, 1) ==
	        NICE_COMPONENT_STATE_READY)
		kt_dtls_start(peer->dtls);
	return TRUE;
}

typedef struct {
	KtPeer *peer;
	KtPeerConfig config; /* borrowed from kt_peer_new()'s caller: sync call */
	GError *error;
	gboolean ok;
} SetupCall;

static gboolean setup_on_worker(gpointer data)
{
	SetupCall *call = data;
	KtPeer *peer = call->peer;
	const KtPeerConfig *cfg = &call->config;
	NiceAgent *agent;

	agent = nice_agent_new_full(kt_worker_get_context(cfg->worker), NICE_COMPATIBILITY_RFC5245,
	                            NICE_AGENT_OPTION_CONSENT_FRESHNESS);
	/* No UPnP: it would talk to routers on its own. */
	g_object_set(agent, "controlling-mode", cfg->controlling, "upnp", FALSE, "ice-tcp",
	             cfg->ice_tcp, NULL);
	if (cfg->stun_host && *cfg->stun_host)
		g_object_set(agent, "stun-server", cfg->stun_host, "stun-server-port",
		             cfg->stun_port ? cfg->stun_port : 3478, NULL);
	peer->agent = agent;
	if (!add_local_addresses(agent, cfg->local_addresses, &call->error))
		return G_SOURCE_REMOVE;
	peer->stream_id = nice_agent_add_stream(agent, 1);
	if (cfg->port_min || cfg->port_max)
		nice_agent_set_port_range(agent, peer->stream_id, 1, cfg->port_min,
		                          cfg->port_max ? cfg->port_max : 65535);
	if (cfg->local_ufrag && cfg->local_pwd)
		nice_agent_set_local_credentials(agent, peer->stream_id, cfg->local_ufrag,
		                                 cfg->local_pwd);
	g_signal_connect(agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), peer);
	g_signal_connect(agent, "component-state-changed", G_CALLBACK(on_component_state), peer);
	g_signal_connect(agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), peer);
	nice_agent_attach_recv(agent, peer->stream_id, 1, kt_worker_get_context(cfg->worker),
	                       on_recv, peer);
	g_atomic_int_set(&peer->state, KT_PEER_STATE_GATHERING);
	if (!nice_agent_gather_candidates(agent, peer->stream_id)) {
		g_set_error(&call->error, KT_PEER_ERROR, KT_PEER_ERROR_ICE,
		            "ICE gathering failed (no usable local address or port)");
		return G_SOURCE_REMOVE;
	}
	if (peer->remote_set && !apply_remote(peer, &call->error))
		return G_SOURCE_REMOVE;
	call->ok = TRUE;
	return G_SOURCE_REMOVE;
}

/* ---- the remote description (offerer side: after the answer) ---- */

typedef struct {
	KtPeer *peer;
	KtDtlsRole role;
	char *ufrag, *pwd, *fingerprint;
	char **candidates;
	char *candidate; /* kt_peer_add_remote_candidate() */
} RemoteCall;

static void remote_call_free(gpointer data)
{
	RemoteCall *call = data;

	kt_peer_unref(call->peer);
	g_free(call->ufrag);
	g_free(call->pwd);
	g_free(call->fingerprint);
	g_strfreev(call->candidates);
	g_free(call->candidate);
	g_free(call);
}

static gboolean set_remote_on_worker(gpointer data)
{
	RemoteCall *call = data;
	KtPeer *peer = call->peer;
	g_autoptr(GError) error = NULL;

	if (!peer->agent || peer->remote_set)
		return G_SOURCE_REMOVE;
	peer->remote_set = TRUE;
	peer->dtls_role = call->role;
	peer->remote_ufrag = g_steal_pointer(&call->ufrag);
	peer->remote_pwd = g_steal_pointer(&call->pwd);
	peer->remote_fingerprint = g_steal_pointer(&call->fingerprint);
	peer->remote_candidates = g_steal_pointer(&call->candidates);
	if (!apply_remote(peer, &error))
		set_state(peer, KT_PEER_STATE_FAILED, error->message);
	else if (peer->gathered)
		add_remote_candidates(peer, (const char *const *)peer->remote_candidates);
	return G_SOURCE_REMOVE;
}

void kt_peer_set_remote(KtPeer *peer, KtDtlsRole dtls_role, const char *ufrag, const char *pwd,
                        const char *fingerprint, const char *const *candidates)
{
	RemoteCall *call = g_new0(RemoteCall, 1);

	call->peer = kt_peer_ref(peer);
	call->role = dtls_role;
	call->ufrag = g_strdup(ufrag);
	call->pwd = g_strdup(pwd);
	call->fingerprint = g_strdup(fingerprint);
	call->candidates = g_strdupv((char **)candidates);
	kt_worker_invoke(peer->worker, set_remote_on_worker, call, remote_call_free);
}

static gboolean add_candidate_on_worker(gpointer data)
{
	RemoteCall *call = data;
	KtPeer *peer = call->peer;
	const char *lines[] = {call->candidate, NULL};

	if (!peer->agent)
		return G_SOURCE_REMOVE;
	if (peer->gathered) {
		add_remote_candidates(peer, lines);
	} else {
		if (!peer->pending_candidates)
			peer->pending_candidates = g_ptr_array_new_with_free_func(g_free);
		if (peer->pending_candidates->len < 64)
			g_ptr_array_add(peer->pending_candidates,
			                g_steal_pointer(&call->candidate));
	}
	return G_SOURCE_REMOVE;
}

void kt_peer_add_remote_candidate(KtPeer *peer, const char *candidate)
{
	RemoteCall *call = g_new0(RemoteCall, 1);

	call->peer = kt_peer_ref(peer);
	call->candidate = g_strdup(candidate);
	kt_worker_invoke(peer->worker, add_candidate_on_worker, call, remote_call_free);
}

static gboolean close_on_worker(gpointer data);

KtPeer *kt_peer_new(const KtPeerConfig *config, const KtPeerEvents *events, gpointer user_data,
                    GError **error)
{
	KtPeer *peer = g_new0(KtPeer, 1);
	SetupCall call = {.peer = peer, .config = *config};

	kt_srtp_init();
	peer->refcount = 1;
	peer->direct_fd = -1;
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
	kt_worker_invoke_sync(peer->worker, setup_on_worker, &call);
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
	clear_direct_path(peer);
	g_atomic_int_set(&peer->state, KT_PEER_STATE_CLOSED);
	if (peer->agent) {
		NiceAgent *agent = peer->agent;

		nice_agent_attach_recv(agent, peer->stream_id, 1, NULL, NULL, NULL);
		g_signal_handlers_disconnect_by_data(agent, peer);
		peer->agent = NULL;
		nice_agent_close_async(agent, agent_closed, peer);
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
