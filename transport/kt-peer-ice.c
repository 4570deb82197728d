/* A peer's ICE side (libnice, on its worker): gathering, remote candidates
 * (from the SDP or trickled), the remote description, consent, and the
 * selected pair that media is sent on. */
#include "kt-peer-private.h"

#include <string.h>

#include "kt-rtp.h"

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
	kt_peer_post_event(peer, ev);
}

void kt_peer_clear_direct_path(KtPeer *peer)
{
	/* Datagrams queued for the socket go before our reference to it does: a
	 * closed fd's number may come back as another peer's socket. */
	if (peer->direct_fd >= 0)
		kt_worker_flush_sends(peer->worker);
	peer->direct_fd = -1;
	g_clear_object(&peer->direct_socket);
	kt_peer_rx_sync_later(peer);
}

/* Only a plain UDP pair qualifies: TCP needs RFC 4571 framing and a relay
 * needs TURN encapsulation, both of which libnice does for us. */
static void update_direct_path(KtPeer *peer)
{
	NiceCandidate *local = NULL, *remote = NULL;
	GSocket *socket;

	kt_peer_clear_direct_path(peer);
	/* Consent expired (kt-peer-consent.c): a pair selected since does not bring sends back
	 * (RFC 7675 §5.1); the control loop closes the session. */
	if (peer->consent_lost)
		return;
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
	kt_peer_rx_sync_later(peer);
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

	/* Not ready (ICE failed): stop sending at once. */
	if (state == NICE_COMPONENT_STATE_READY)
		update_direct_path(peer);
	else
		kt_peer_clear_direct_path(peer);

	if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY)
		kt_peer_flush_dtls_backlog(peer);
	if (state == NICE_COMPONENT_STATE_FAILED) {
		kt_peer_set_state(peer, KT_PEER_STATE_FAILED, "ICE failed");
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
	    .send = kt_peer_dtls_send,
	    .state_changed = kt_peer_dtls_state_changed,
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

gboolean kt_peer_setup_on_worker(gpointer data)
{
	SetupCall *call = data;
	KtPeer *peer = call->peer;
	const KtPeerConfig *cfg = &call->config;
	NiceAgent *agent;

	/* The agent's own timers go to one of the worker's ICE contexts,
	 * walked only when one of its timers is due (kt-worker.h); its sockets
	 * are read on the worker's context (below) until the peer's epoll watch
	 * takes them. Consent freshness is Ketang's own (kt-peer-consent.c):
	 * libnice's gave up on a lossy link when two of its requests were lost. */
	peer->ice_context = kt_worker_take_ice_context(cfg->worker);
	agent = nice_agent_new_full(peer->ice_context, NICE_COMPATIBILITY_RFC5245,
	                            NICE_AGENT_OPTION_NONE);
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
	                       kt_peer_on_recv, peer);
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
		kt_peer_set_state(peer, KT_PEER_STATE_FAILED, error->message);
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
