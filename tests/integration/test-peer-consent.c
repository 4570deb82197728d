/* Consent freshness (RFC 7675, transport/kt-peer-consent.c) with real peers (ICE + DTLS +
 * SRTP over loopback). Two pairs connect. One client then sends the server an
 * authenticated RTCP packet every second, as a browser's reports do; the other sends
 * nothing at all (a browser gone without a word). The silent one's server side must fail
 * with consent expired 10 s after its last packet (the default; checked every second:
 * 10-11 s), or 5 s with [limits] consent_timeout = 5 (5-6 s), and the talking one's must
 * still be connected then. libnice's keepalives alone (the silent client's agent still
 * answers them) must not count as consent, and ICE selecting a pair again afterwards must
 * not bring sends back. */
#include <string.h>

#include "kt-peer-private.h"
#include "kt-rtp.h"
#include "kt-worker.h"
#include "peer-pair.h"

typedef struct {
	KtWorker *worker;
	PeerPair *pair;
} Talker;

static gboolean talk(gpointer data)
{
	Talker *t = data;

	/* Any SRTCP that authenticates will do; a NACK is the one the helper builds. */
	peer_send_nack(t->worker, t->pair->client, 0x1234, 1);
	return G_SOURCE_CONTINUE;
}

typedef struct {
	KtPeer *peer;
	int rc;
} SendCall;

static gboolean send_rtp(gpointer data)
{
	SendCall *c = data;
	guint8 pkt[256];

	kt_rtp_write_header(pkt, sizeof(pkt), 96, TRUE, 1, 1, 0x1234);
	memset(pkt + 12, 0x5a, 100);
	c->rc = kt_peer_send_rtp(c->peer, pkt, 112, sizeof(pkt));
	return G_SOURCE_REMOVE;
}

/* What kt_peer_send_rtp() returns for @peer, sent on @worker. */
static int try_send(KtWorker *worker, KtPeer *peer)
{
	SendCall c = {peer, 0};

	kt_worker_invoke_sync(worker, send_rtp, &c);
	return c.rc;
}

/* ICE selects the same pair again (as a late nomination or a network change
 * would): libnice emits new-selected-pair, which sets the direct path up. */
static gboolean reselect(gpointer data)
{
	KtPeer *peer = data;
	NiceCandidate *local = NULL, *remote = NULL;

	if (nice_agent_get_selected_pair(peer->agent, peer->stream_id, 1, &local, &remote))
		nice_agent_set_selected_pair(peer->agent, peer->stream_id, 1, local->foundation,
		                             remote->foundation);
	return G_SOURCE_REMOVE;
}

/* @data: the server side's consent timeout in seconds (0 = the default, 10). */
static void test_silent_peer_loses_consent(gconstpointer data)
{
	guint timeout_s = GPOINTER_TO_UINT(data);
	gint64 expect_us = (timeout_s ? timeout_s : 10) * G_USEC_PER_SEC;
	g_autoptr(GError) error = NULL;
	KtWorkerPool *pool = kt_worker_pool_new(2, &error);
	KtWorker *w, *cw;
	/* Neither sends peer-pair's own reports: the test decides who talks. */
	PeerPair silent = {.consent_timeout_s = timeout_s, .silent = TRUE},
	         talking = {.consent_timeout_s = timeout_s, .silent = TRUE};
	Talker t;
	gint64 start, took;
	guint timer;

	g_assert_no_error(error);
	w = kt_worker_pool_get(pool, 0);
	cw = kt_worker_pool_get(pool, 1);
	peer_pair_connect(&silent, w, cw);
	peer_pair_connect(&talking, w, cw);
	t = (Talker){cw, &talking};
	timer = g_timeout_add(1000, talk, &t);
	start = g_get_monotonic_time();
	while (silent.server_state != KT_PEER_STATE_FAILED &&
	       g_get_monotonic_time() - start < 20 * G_USEC_PER_SEC)
		g_main_context_iteration(NULL, TRUE);
	took = g_get_monotonic_time() - start;
	g_test_message("silent peer: consent expired after %.1f s; talking peer: %s", took / 1e6,
	               talking.server_state == KT_PEER_STATE_CONNECTED ? "connected" : "not");
	g_assert_cmpint(silent.server_state, ==, KT_PEER_STATE_FAILED);
	g_assert_cmpint(took, >=, expect_us - 500000);
	g_assert_cmpint(took, <=, expect_us + 3 * G_USEC_PER_SEC);
	g_assert_cmpint(talking.server_state, ==, KT_PEER_STATE_CONNECTED);
	/* RFC 7675 §5.1: not another packet to the silent one (the room may still
	 * forward to it until the control loop closes it); the talking one still
	 * gets media. */
	g_assert_cmpint(try_send(w, silent.server), <, 0);
	g_assert_cmpint(try_send(w, talking.server), >, 0);
	kt_worker_invoke_sync(w, reselect, silent.server);
	g_assert_cmpint(try_send(w, silent.server), <, 0);
	g_source_remove(timer);
	peer_pair_close(&silent);
	peer_pair_close(&talking);
	kt_worker_pool_free(pool);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/peer-consent/silent-peer-loses-consent", GUINT_TO_POINTER(0),
	                     test_silent_peer_loses_consent);
	g_test_add_data_func("/peer-consent/consent-timeout-5s", GUINT_TO_POINTER(5),
	                     test_silent_peer_loses_consent);
	return g_test_run();
}
