/* Test helper: two real Ketang peers (libnice ICE + DTLS + SRTP) connected
 * back to back over 127.0.0.1 on one media worker. The "client" side plays the
 * browser (controlling ICE agent, DTLS client); the "server" side is what
 * Ketang runs for a WHIP/WHEP session. Control loop = the test's main thread. */
#pragma once

#include "kt-peer.h"

typedef struct {
	const char *address;     /* host candidate address; NULL = 127.0.0.1 */
	guint client_port;       /* the client's UDP port (e.g. to shape its downlink); 0 = any */
	guint consent_timeout_s; /* the server side's ([limits] consent_timeout); 0 = default */
	/* The client end sends nothing by itself. Otherwise it sends an empty RTCP receiver
	 * report once a second, as a browser does, which keeps its consent fresh on the server
	 * side (kt-peer-consent.c: a peer silent for consent_timeout_s is failed and sent
	 * nothing more). */
	gboolean silent;
	KtWorker *client_worker;
	GSource *reports; /* the client's report timer, on client_worker */
	KtPeer *client, *server;
	KtCert *client_cert, *server_cert;
	gboolean server_ready;
	char **server_candidates;
	char *server_ufrag, *server_pwd;
	KtPeerState client_state, server_state;
} PeerPair;

/* Creates both peers and iterates the default context until both are
 * CONNECTED (g_assert on failure or after 10 s). */
void peer_pair_connect(PeerPair *pair, KtWorker *server_worker, KtWorker *client_worker);
void peer_pair_close(PeerPair *pair);
/* Iterate the default main context until *flag becomes TRUE or @timeout_ms. */
gboolean wait_for(volatile gint *flag, guint timeout_ms);
/* The same for values set on other threads (a media worker): waits, waking every 20 ms,
 * until *counter >= @target, or *value == @want; TRUE when it got there in time. */
gboolean wait_count(gint *counter, gint target, guint timeout_ms);
gboolean wait_value(gint *value, gint want, guint timeout_ms);
/* Iterates the default context (e.g. a pipeline's control loop) until @cond(@data) is
 * TRUE or @timeout_ms passed, checking every 20 ms (other threads change what it reads). */
gboolean wait_until(GSourceFunc cond, gpointer data, guint timeout_ms);
/* Sends, on @worker (the one @peer runs on), a generic NACK (RFC 4585 §6.2.1) from
 * @peer for @media_ssrc's packet @seq; g_assert when it cannot be sent. */
void peer_send_nack(KtWorker *worker, KtPeer *peer, guint32 media_ssrc, guint16 seq);
