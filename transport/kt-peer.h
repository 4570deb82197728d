/* A peer: one WebRTC transport = ICE (libnice, full ICE) + DTLS (OpenSSL) +
 * SRTP (OpenSSL EVP, kt-srtp.h), with BUNDLE and rtcp-mux, so exactly one ICE component.
 *
 * Threads: a peer lives on one media worker (its libnice agent, sockets and
 * DTLS timer run on that worker's GMainContext). kt_peer_new(), kt_peer_close()
 * and the KtPeerEvents callbacks belong to the control loop (the thread-default
 * context of the thread that called kt_peer_new()). kt_peer_send_*() and the
 * KtPeerMediaFuncs callbacks belong to the worker.
 *
 * Ownership: refcounted. kt_peer_new() returns a reference for the caller; the
 * worker side holds its own until the agent is closed. kt_peer_close() stops
 * everything and guarantees no further event or media callback.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "kt-cert.h"
#include "kt-dtls.h"
#include "kt-peer-gate.h"
#include "kt-worker.h"

G_BEGIN_DECLS

#define KT_PEER_ERROR (kt_peer_error_quark())
GQuark kt_peer_error_quark(void);
typedef enum {
	KT_PEER_ERROR_ICE,
	KT_PEER_ERROR_ADDRESS,
	KT_PEER_ERROR_BUSY, /* the gate is full: retry in a few seconds */
} KtPeerError;

typedef enum {
	KT_PEER_STATE_NEW,
	KT_PEER_STATE_GATHERING,
	KT_PEER_STATE_CONNECTING, /* local description ready, ICE/DTLS under way */
	KT_PEER_STATE_CONNECTED,  /* DTLS done, SRTP keys installed */
	KT_PEER_STATE_FAILED,
	KT_PEER_STATE_CLOSED,
} KtPeerState;

typedef struct _KtPeer KtPeer;

typedef struct {
	KtWorker *worker;
	KtCert *cert;
	/* Host candidate addresses (IPv4/IPv6 literals); NULL or empty = every
	 * non-loopback interface, as libnice finds them. */
	const char *const *local_addresses;
	guint port_min, port_max; /* 0 = any */
	gboolean ice_tcp;         /* also gather ICE-TCP candidates (RFC 6544) */
	const char *stun_host;    /* NULL = none */
	guint stun_port;
	gboolean controlling;                /* the SDP offerer controls (RFC 8445 §6.1.1) */
	const char *local_ufrag, *local_pwd; /* NULL = generated */
	/* The remote description when already known (we answer an offer); an
	 * offerer leaves remote_ufrag NULL and calls kt_peer_set_remote(). */
	KtDtlsRole dtls_role;
	const char *remote_ufrag, *remote_pwd;
	const char *remote_fingerprint;       /* sha-256, "AB:CD:..." */
	const char *const *remote_candidates; /* "candidate:..." lines, may be NULL */
	KtPeerGate *gate;                     /* counts this peer while it connects; NULL = none */
	guint consent_timeout_s;              /* RFC 7675 consent expiry; 10 when 0 (at most 30) */
} KtPeerConfig;

/* Control-loop callbacks. */
typedef struct {
	/* The local ICE description is complete (non-trickle answer). */
	void (*local_ready)(KtPeer *peer, const char *ufrag, const char *pwd,
	                    const char *const *candidates, gpointer user_data);
	/* CONNECTED, FAILED or CLOSED; @reason is set for FAILED. */
	void (*state_changed)(KtPeer *peer, KtPeerState state, const char *reason,
	                      gpointer user_data);
} KtPeerEvents;

/* Worker callbacks. @buf is the peer's receive buffer, already decrypted; the
 * callee may rewrite it in place but must not keep it. */
typedef struct {
	void (*rtp)(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
	void (*rtcp)(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data);
	void (*connected)(KtPeer *peer, gpointer user_data);
} KtPeerMediaFuncs;

/* Control loop. Starts gathering on the worker; events follow. NULL with
 * KT_PEER_ERROR_BUSY when config->gate has no place left. */
KtPeer *kt_peer_new(const KtPeerConfig *config, const KtPeerEvents *events, gpointer user_data,
                    GError **error);
KtPeer *kt_peer_ref(KtPeer *peer);
void kt_peer_unref(KtPeer *peer);
/* Control loop. The remote description from the answer to our offer
 * (once; later calls are ignored). */
void kt_peer_set_remote(KtPeer *peer, KtDtlsRole dtls_role, const char *ufrag, const char *pwd,
                        const char *fingerprint, const char *const *candidates);
/* Control loop. A trickled remote candidate ("candidate:..."), RFC 8838. */
void kt_peer_add_remote_candidate(KtPeer *peer, const char *candidate);
/* Control loop. Idempotent. */
void kt_peer_close(KtPeer *peer);
/* Any thread: a snapshot. */
KtPeerState kt_peer_get_state(KtPeer *peer);
const char *kt_peer_state_to_string(KtPeerState state);
guint kt_peer_get_id(KtPeer *peer);
KtWorker *kt_peer_get_worker(KtPeer *peer);

/* Worker. Install (or clear, with NULL) the media callbacks. */
void kt_peer_set_media_funcs(KtPeer *peer, const KtPeerMediaFuncs *funcs, gpointer user_data);
/* Worker. Encrypt @buf in place (needs KT_SRTP_MAX_TRAILER spare bytes up to
 * @cap) and send. Returns bytes sent or a negative status; before CONNECTED,
 * -1. Allocates nothing. */
int kt_peer_send_rtp(KtPeer *peer, guint8 *buf, gsize len, gsize cap);
int kt_peer_send_rtcp(KtPeer *peer, guint8 *buf, gsize len, gsize cap);
gboolean kt_peer_is_connected(KtPeer *peer);
/* Has the CPU fetch what kt_peer_send_rtp() of an @ssrc packet to @peer will
 * read, in four steps (0 to 3), each reading only what the one before
 * fetched, for a caller sending to many peers in a row (kt-room-forward.c)
 * that runs each step a send or so before the next. Worker thread. */
void kt_peer_prefetch_send(KtPeer *peer, guint step, guint32 ssrc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtPeer, kt_peer_unref)

G_END_DECLS
