/* Consent freshness (RFC 7675) for a peer whose DTLS is up: Ketang stops
 * sending to an address that has not shown, for consent_timeout_s (10 s by
 * default, [limits] consent_timeout), that it still wants the session.
 *
 * libnice's own consent freshness (NICE_AGENT_OPTION_CONSENT_FRESHNESS, 0.1.21)
 * failed a classroom behind 20 % random loss: it sends one request every 4-6 s
 * and gave up when two in a row were lost ("Last consent received: 10.174s
 * ago"). Here consent is what no one but the peer can produce: SRTP or SRTCP
 * that passes authentication with the session's keys (a browser sends RTCP at
 * least every second or so even when it only receives, so 20 % loss leaves
 * plenty), counted per packet with one increment and judged every second
 * on the worker (its one tick for all peers, kt_worker_tick_add). It
 * expires after 10 s of silence by default: sooner than RFC 7675's 30 s (to
 * stop sooner is always allowed), as libnice did in practice, because a
 * lesson's pages that lost their network rejoin as new sessions and the old
 * ones must be gone by then (e2e/lesson's network drop). libnice still answers
 * the browser's checks and keeps the NAT binding alive.
 *
 * Worker thread only. */
#include "kt-peer-private.h"

static void on_consent_tick(gpointer data)
{
	KtPeer *peer = data;
	gint64 now = g_get_monotonic_time();

	if (peer->auth_rx != peer->auth_rx_seen) {
		peer->auth_rx_seen = peer->auth_rx;
		peer->consent_at_us = now;
		return;
	}
	if (now - peer->consent_at_us < peer->consent_timeout_us)
		return;
	/* Stop sending at once (RFC 7675 §5.1): the direct path goes, and
	 * nothing goes through libnice's path instead (kt-peer.c send_datagram):
	 * the room may still forward to the peer until the control loop has
	 * closed it. */
	peer->consent_lost = TRUE;
	kt_peer_consent_stop(peer);
	kt_peer_clear_direct_path(peer);
	g_autofree char *why = g_strdup_printf(
	    "consent expired: nothing authenticated from the peer for %" G_GINT64_FORMAT " s",
	    peer->consent_timeout_us / G_USEC_PER_SEC);
	kt_peer_set_state(peer, KT_PEER_STATE_FAILED, why);
}

void kt_peer_consent_start(KtPeer *peer)
{
	if (peer->consent_tick)
		return;
	peer->consent_at_us = g_get_monotonic_time();
	peer->auth_rx_seen = peer->auth_rx;
	peer->consent_tick = kt_worker_tick_add(peer->worker, on_consent_tick, peer);
}

void kt_peer_consent_stop(KtPeer *peer)
{
	kt_worker_tick_remove(g_steal_pointer(&peer->consent_tick));
}
