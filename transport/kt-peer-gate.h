/* kt-peer-gate.h — how many peers may be connecting at once, server-wide
 * ([limits] dtls_handshakes).
 *
 * A peer is "connecting" from kt_peer_new() until it is connected (DTLS done),
 * failed or closed. That span is what a flood of offers costs: a libnice
 * agent with its sockets and checks, then the DTLS handshake's ECDSA work on
 * a media worker. A peer that would pass the limit is not created
 * (KT_PEER_ERROR_BUSY), so the lesson's connected peers keep their workers.
 *
 * Ownership: refcounted; each peer given the gate (KtPeerConfig.gate) holds a
 * reference until it is freed. Threads: any (atomic). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KtPeerGate KtPeerGate;

/* @max_connecting 0 = no limit (the count is still kept). */
KtPeerGate *kt_peer_gate_new(guint max_connecting);
KtPeerGate *kt_peer_gate_ref(KtPeerGate *gate);
void kt_peer_gate_unref(KtPeerGate *gate);

/* Peers connecting now. */
guint kt_peer_gate_get_connecting(KtPeerGate *gate);
guint kt_peer_gate_get_max(KtPeerGate *gate);

/* For kt-peer.c: takes a place (FALSE when none is free) / gives it back. */
gboolean kt_peer_gate_enter(KtPeerGate *gate);
void kt_peer_gate_leave(KtPeerGate *gate);

G_END_DECLS
