/* Consent freshness (RFC 7675) for a peer whose DTLS is up: Ketang stops
 * sending to an address that has not shown, for 30 s, that it still wants
 * the session.
 *
 * libnice's own consent freshness (NICE_AGENT_OPTION_CONSENT_FRESHNESS, 0.1.21)
 * failed a classroom behind 20 % random loss after 10 s: it sends one unanswered
 * request every 4-6 s and gives up after two are lost, far short of the RFC's 30 s.
 * Here consent is what no one but the peer can produce: SRTP or SRTCP that
 * passes authentication with the session's keys (a browser sends RTCP every
 * few seconds even when it only receives), counted per packet with one
 * increment, judged every 5 s on the worker, expiring 30 s after the last one,
 * as mediasoup's ICE server expires 30 s after the last STUN check. libnice
 * still answers the browser's checks and keeps the NAT binding alive.
 *
 * Worker thread only. */
#include "kt-peer-private.h"

#define CONSENT_TICK_MS 5000
#define CONSENT_TIMEOUT_US (30 * G_USEC_PER_SEC)

static gboolean on_consent_tick(gpointer data)
{
	KtPeer *peer = data;
	gint64 now = g_get_monotonic_time();

	if (peer->auth_rx != peer->auth_rx_seen) {
		peer->auth_rx_seen = peer->auth_rx;
		peer->consent_at_us = now;
		return G_SOURCE_CONTINUE;
	}
	if (now - peer->consent_at_us < CONSENT_TIMEOUT_US)
		return G_SOURCE_CONTINUE;
	/* Stop sending at once (RFC 7675 §5.1): the direct path goes, and a
	 * failed peer sends nothing. */
	kt_peer_clear_direct_path(peer);
	kt_peer_set_state(peer, KT_PEER_STATE_FAILED,
	                  "consent expired: nothing authenticated from the peer for 30 s");
	g_clear_pointer(&peer->consent_timer, g_source_unref);
	return G_SOURCE_REMOVE;
}

void kt_peer_consent_start(KtPeer *peer)
{
	if (peer->consent_timer)
		return;
	peer->consent_at_us = g_get_monotonic_time();
	peer->auth_rx_seen = peer->auth_rx;
	peer->consent_timer = g_timeout_source_new(CONSENT_TICK_MS);
	g_source_set_callback(peer->consent_timer, on_consent_tick, peer, NULL);
	g_source_attach(peer->consent_timer, kt_worker_get_context(peer->worker));
}

void kt_peer_consent_stop(KtPeer *peer)
{
	if (!peer->consent_timer)
		return;
	g_source_destroy(peer->consent_timer);
	g_clear_pointer(&peer->consent_timer, g_source_unref);
}
