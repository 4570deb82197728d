/* KtPeer internals shared by kt-peer.c (lifecycle, events, DTLS/SRTP, the
 * packet path) and kt-peer-ice.c (libnice: gathering, candidates, the remote
 * description, the selected pair). Worker-only state unless noted. */
#pragma once

#include "kt-peer.h"

#include <agent.h>
#include <sys/socket.h>

#include "kt-srtp.h"

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
	KtPeerGate *gate; /* ref'd, or NULL */
	gint gate_held;   /* atomic: 1 while this peer counts in gate */
	gint64 consent_timeout_us;

	/* Control loop only. */
	gboolean closing;

	/* Worker only. */
	NiceAgent *agent;
	GMainContext *ice_context; /* the agent's (kt_worker_take_ice_context), borrowed */
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
	/* The direct path's socket as read through the worker's epoll set
	 * (kt-peer-rx.c): the watch, its fd, STUN left unread in a row, and the
	 * idle that switches reading between libnice and the watch. */
	KtWorkerWatch *rx_watch;
	int rx_fd;
	guint rx_stuck;
	GSource *rx_sync;
	KtPeerMediaFuncs media;
	gpointer media_data;
	gboolean media_set;
	/* Consent (kt-peer-consent.c): authenticated packets received, as last
	 * seen by the timer, and when they last moved. */
	guint64 auth_rx, auth_rx_seen;
	gint64 consent_at_us;
	gboolean consent_lost; /* expired: nothing is sent any more */
	KtWorkerTick *consent_tick;
	guint8 rx[KT_PEER_RX_CAP];
};

typedef struct {
	KtPeer *peer;
	KtPeerState state;
	char *reason;
	char *ufrag, *pwd;
	char **candidates;
	gboolean local_ready;
} PeerEvent;

typedef struct {
	KtPeer *peer;
	KtPeerConfig config; /* borrowed from kt_peer_new()'s caller: sync call */
	GError *error;
	gboolean ok;
} SetupCall;

/* kt-peer.c */
void kt_peer_post_event(KtPeer *peer, PeerEvent *ev); /* worker → control loop */
void kt_peer_set_state(KtPeer *peer, KtPeerState state, const char *reason);
void kt_peer_dtls_send(const guint8 *data, gsize len, gpointer user_data);
void kt_peer_dtls_state_changed(KtDtlsState state, const GError *error, gpointer user_data);
void kt_peer_flush_dtls_backlog(KtPeer *peer);
void kt_peer_on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                     gpointer user_data);
/* One datagram from the peer's selected remote: DTLS, SRTP or SRTCP (@buf may
 * be peer->rx itself, then it is decrypted in place). */
void kt_peer_handle_datagram(KtPeer *peer, const guint8 *buf, gsize len);

/* kt-peer-rx.c: read the direct path's socket through the worker's epoll
 * set once it is set, through libnice otherwise; the switch runs from an
 * idle (call after any change of the direct path). _stop at teardown. */
void kt_peer_rx_sync_later(KtPeer *peer);
void kt_peer_rx_stop(KtPeer *peer);

/* kt-peer-ice.c */
gboolean kt_peer_setup_on_worker(gpointer data); /* SetupCall* */
void kt_peer_clear_direct_path(KtPeer *peer);

/* kt-peer-consent.c, worker: RFC 7675 consent from authenticated SRTP/SRTCP;
 * started once DTLS is up, stopped at teardown. */
void kt_peer_consent_start(KtPeer *peer);
void kt_peer_consent_stop(KtPeer *peer);
