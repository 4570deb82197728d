/* Test helper: two Ketang peers back to back. */
#include "peer-pair.h"

#include "kt-rtcp.h"

static void on_server_ready(KtPeer *peer, const char *ufrag, const char *pwd,
                            const char *const *candidates, gpointer user_data)
{
	PeerPair *pair = user_data;

	pair->server_ufrag = g_strdup(ufrag);
	pair->server_pwd = g_strdup(pwd);
	pair->server_candidates = g_strdupv((char **)candidates);
	pair->server_ready = TRUE;
}

static void on_server_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer data)
{
	((PeerPair *)data)->server_state = state;
}

static void on_client_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer data)
{
	((PeerPair *)data)->client_state = state;
}

static gboolean on_timeout(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

static gboolean keep_going(gpointer data)
{
	return G_SOURCE_CONTINUE; /* wakes the loop so deadlines are checked */
}

gboolean wait_for(volatile gint *flag, guint timeout_ms)
{
	gboolean expired = FALSE;
	guint id = g_timeout_add(timeout_ms, on_timeout, &expired);

	while (!g_atomic_int_get(flag) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(id);
	return g_atomic_int_get(flag);
}

/* Iterates the default context, waking every 20 ms (other threads set the value),
 * until *value is @want (exact) or at least @want, or @timeout_ms passed. */
static gboolean wait_int(gint *value, gint want, gboolean exact, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	guint tick = g_timeout_add(20, keep_going, NULL);
	gint v;

	while ((v = g_atomic_int_get(value)),
	       (exact ? v != want : v < want) && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	v = g_atomic_int_get(value);
	return exact ? v == want : v >= want;
}

gboolean wait_until(GSourceFunc cond, gpointer data, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	guint tick = g_timeout_add(20, keep_going, NULL);
	gboolean ok;

	while (!(ok = cond(data)) && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	return ok;
}

gboolean wait_count(gint *counter, gint target, guint timeout_ms)
{
	return wait_int(counter, target, FALSE, timeout_ms);
}

gboolean wait_value(gint *value, gint want, guint timeout_ms)
{
	return wait_int(value, want, TRUE, timeout_ms);
}

/* On the client's worker. */
static gboolean report_tick(gpointer data)
{
	PeerPair *pair = data;
	guint8 rr[64];
	int n = kt_rtcp_build_rr(rr, sizeof(rr), 0x5c5c5c5c, NULL, 0);

	if (n > 0)
		kt_peer_send_rtcp(pair->client, rr, (gsize)n, sizeof(rr));
	return G_SOURCE_CONTINUE;
}

static gboolean stop_reports(gpointer data)
{
	PeerPair *pair = data;

	if (pair->reports) {
		g_source_destroy(pair->reports);
		g_clear_pointer(&pair->reports, g_source_unref);
	}
	return G_SOURCE_REMOVE;
}

void peer_pair_connect(PeerPair *pair, KtWorker *server_worker, KtWorker *client_worker)
{
	const char *loopback[] = {pair->address ? pair->address : "127.0.0.1", NULL};
	static const KtPeerEvents server_events = {on_server_ready, on_server_state};
	static const KtPeerEvents client_events = {NULL, on_client_state};
	GError *error = NULL;
	KtPeerConfig scfg = {
	    .worker = server_worker,
	    .local_addresses = loopback,
	    .controlling = FALSE,
	    .dtls_role = KT_DTLS_ROLE_SERVER,
	    .consent_timeout_s = pair->consent_timeout_s,
	    .remote_ufrag = "clientufrag",
	    .remote_pwd = "clientpasswordclientpassword",
	};
	KtPeerConfig ccfg = {
	    .worker = client_worker,
	    .local_addresses = loopback,
	    .controlling = TRUE,
	    .dtls_role = KT_DTLS_ROLE_CLIENT,
	    .local_ufrag = "clientufrag",
	    .local_pwd = "clientpasswordclientpassword",
	};
	gint connected = 0;
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	ccfg.port_min = ccfg.port_max = pair->client_port;
	pair->client_cert = kt_cert_new_ecdsa("client", 1, NULL, &error);
	g_assert_no_error(error);
	pair->server_cert = kt_cert_new_ecdsa("server", 1, NULL, &error);
	g_assert_no_error(error);
	scfg.cert = pair->server_cert;
	scfg.remote_fingerprint = kt_cert_get_fingerprint(pair->client_cert);
	pair->server = kt_peer_new(&scfg, &server_events, pair, &error);
	g_assert_no_error(error);
	g_assert_true(wait_for((gint *)&pair->server_ready, 5000));
	g_assert_nonnull(pair->server_candidates[0]);

	ccfg.cert = pair->client_cert;
	ccfg.remote_fingerprint = kt_cert_get_fingerprint(pair->server_cert);
	ccfg.remote_ufrag = pair->server_ufrag;
	ccfg.remote_pwd = pair->server_pwd;
	ccfg.remote_candidates = (const char *const *)pair->server_candidates;
	pair->client = kt_peer_new(&ccfg, &client_events, pair, &error);
	g_assert_no_error(error);

	guint tick;

	tick = g_timeout_add(100, keep_going, NULL);
	while (!connected && g_get_monotonic_time() < deadline) {
		g_main_context_iteration(NULL, TRUE);
		connected = pair->client_state == KT_PEER_STATE_CONNECTED &&
		            pair->server_state == KT_PEER_STATE_CONNECTED;
		g_assert_cmpint(pair->client_state, !=, KT_PEER_STATE_FAILED);
		g_assert_cmpint(pair->server_state, !=, KT_PEER_STATE_FAILED);
	}
	g_source_remove(tick);
	g_assert_true(connected);
	pair->client_worker = client_worker;
	if (!pair->silent) {
		pair->reports = g_timeout_source_new(1000);
		g_source_set_callback(pair->reports, report_tick, pair, NULL);
		g_source_attach(pair->reports, kt_worker_get_context(client_worker));
	}
}

void peer_pair_close(PeerPair *pair)
{
	/* Synchronously: no report may go out on a closed peer. */
	kt_worker_invoke_sync(pair->client_worker, stop_reports, pair);
	kt_peer_close(pair->client);
	kt_peer_close(pair->server);
	kt_peer_unref(pair->client);
	kt_peer_unref(pair->server);
	kt_cert_unref(pair->client_cert);
	kt_cert_unref(pair->server_cert);
	g_strfreev(pair->server_candidates);
	g_free(pair->server_ufrag);
	g_free(pair->server_pwd);
}

typedef struct {
	KtPeer *peer;
	guint32 media_ssrc;
	guint16 seq;
} Nack;

static gboolean send_nack(gpointer data)
{
	Nack *n = data;
	guint8 buf[64];
	int len = kt_rtcp_build_nack(buf, sizeof(buf), 0x5b5b5b5b, n->media_ssrc, &n->seq, 1);

	g_assert_cmpint(len, >, 0);
	g_assert_cmpint(kt_peer_send_rtcp(n->peer, buf, len, sizeof(buf)), >, 0);
	return G_SOURCE_REMOVE;
}

void peer_send_nack(KtWorker *worker, KtPeer *peer, guint32 media_ssrc, guint16 seq)
{
	Nack n = {peer, media_ssrc, seq};

	kt_worker_invoke_sync(worker, send_nack, &n);
}
