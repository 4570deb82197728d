/* Side-by-side anchor for bench-forward: the same measurement for Janus.
 *
 * A running Janus (started by bench/janus-anchor.sh inside a private network
 * namespace) has a streaming-plugin RTP mountpoint fed on two local UDP ports.
 * This program attaches N subscribers to it over Janus's HTTP API; each one
 * answers Janus's JSEP offer with a real Ketang peer (libnice ICE controlled,
 * DTLS server since Janus offers a=setup:actpass, SRTP) built from
 * kt-sdp-answer in RECEIVE mode, on one media worker that counts what every
 * subscriber decrypts. It then sends the same paced 600 kbit/s VP8 + Opus
 * stream as bench-forward as plain RTP into the mountpoint and charges
 * Janus's whole-process CPU (utime + stime from /proc/PID/stat) over the run
 * to the packets Janus had to send (packets in x subscribers), checked
 * against what the subscribers received. The idle cost with everyone
 * connected and no media is measured first, as bench-forward does.
 *
 *   janus-anchor --pid PID [--http-port 8088] [--address 10.77.0.2]
 *                [--mountpoint 1] [--video-port 5004] [--audio-port 5002]
 *                [SUBSCRIBERS=200] [SECONDS=10]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <jansson.h>

#include "kt-peer.h"
#include "kt-rtp.h"
#include "kt-sdp-answer.h"
#include "kt-srtp.h"

#define VIDEO_SSRC 0x1111u
#define AUDIO_SSRC 0x2222u
#define VIDEO_PKT 1100 /* bytes of payload, as bench-forward */
#define AUDIO_PKT 90
#define HTTP_MAX (1024 * 1024)

static struct {
	gint pid;
	gint http_port;
	char *address;
	gint mountpoint;
	gint video_port, audio_port;
} opt = {0, 8088, NULL, 1, 5004, 5002};

typedef struct {
	guint64 handle;
	KtPeer *peer;
	gboolean ready;
	char *ufrag, *pwd;
	char **candidates;
	KtPeerState state;
	gint received; /* RTP packets decrypted, on the worker */
} Sub;

/* ---- a minimal HTTP client for Janus's REST API ---- */

static guint64 session_id;
static guint transaction;

/* One HTTP/1.0 request per connection: libmicrohttpd then neither chunks the
 * reply (Janus's HTTP transport streams it, so HTTP/1.1 gets chunked) nor
 * keeps the connection, so the body is whatever follows the headers up to
 * EOF. */
static json_t *http_request(const char *method, const char *path, json_t *body)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = body ? json_dumps(body, JSON_COMPACT) : g_strdup("");
	g_autofree char *req = NULL;
	g_autoptr(GByteArray) resp = g_byte_array_new();
	guint8 chunk[16384];
	gssize n;
	const char *sep;
	json_t *json;

	g_socket_client_set_timeout(client, 45); /* long polls last up to 30 s */
	conn = g_socket_client_connect_to_host(client, "127.0.0.1", opt.http_port, NULL, &error);
	if (!conn)
		g_error("janus http: %s", error->message);
	req = g_strdup_printf("%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
	                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	                      method, path, strlen(text), text);
	if (!g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), req,
	                               strlen(req), NULL, NULL, &error))
		g_error("janus http: %s", error->message);
	while ((n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(conn)), chunk,
	                                sizeof(chunk), NULL, &error)) > 0 &&
	       resp->len < HTTP_MAX)
		g_byte_array_append(resp, chunk, n);
	if (n < 0)
		g_error("janus http: %s", error->message);
	g_byte_array_append(resp, (const guint8 *)"", 1);
	sep = strstr((const char *)resp->data, "\r\n\r\n");
	if (!sep || strncmp((const char *)resp->data + 8, " 200", 4) != 0)
		g_error("janus http %s %s: %.200s", method, path, (const char *)resp->data);
	json = json_loads(sep + 4, 0, NULL);
	if (!json)
		g_error("janus http %s %s: not JSON: %.200s", method, path, sep + 4);
	return json;
}

/* POSTs a Janus request and returns its synchronous reply, which must not be
 * an error ("success" or "ack"). Steals @req. */
static json_t *janus_post(const char *path, json_t *req)
{
	g_autofree char *tr = g_strdup_printf("t%u", ++transaction);
	json_t *reply;
	const char *kind;

	json_object_set_new(req, "transaction", json_string(tr));
	reply = http_request("POST", path, req);
	json_decref(req);
	kind = json_string_value(json_object_get(reply, "janus"));
	if (!kind || (strcmp(kind, "success") != 0 && strcmp(kind, "ack") != 0))
		g_error("janus %s: %s", path, json_dumps(reply, JSON_COMPACT));
	return reply;
}

static guint64 janus_create(const char *path, json_t *req)
{
	json_t *reply = janus_post(path, req);
	guint64 id = json_integer_value(json_object_get(json_object_get(reply, "data"), "id"));

	json_decref(reply);
	return id;
}

static void janus_message(guint64 handle, json_t *body, json_t *jsep)
{
	g_autofree char *path =
	    g_strdup_printf("/janus/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, session_id, handle);
	json_t *req = json_pack("{s:s, s:o}", "janus", "message", "body", body);

	if (jsep)
		json_object_set_new(req, "jsep", jsep);
	json_decref(janus_post(path, req));
}

/* Long-polls the session until @handle's JSEP offer arrives; other events
 * (webrtcup, media, "starting") are only informational here. */
static char *janus_wait_offer(guint64 handle)
{
	g_autofree char *path =
	    g_strdup_printf("/janus/%" G_GUINT64_FORMAT "?maxev=16", session_id);
	gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < deadline) {
		json_t *events = http_request("GET", path, NULL), *ev;
		char *offer = NULL;
		gsize i;

		json_array_foreach(events, i, ev)
		{
			json_t *jsep = json_object_get(ev, "jsep");
			const char *type = json_string_value(json_object_get(jsep, "type"));

			if ((guint64)json_integer_value(json_object_get(ev, "sender")) == handle &&
			    type && strcmp(type, "offer") == 0)
				offer = g_strdup(json_string_value(json_object_get(jsep, "sdp")));
		}
		json_decref(events);
		if (offer)
			return offer;
	}
	g_error("no offer from Janus for handle %" G_GUINT64_FORMAT, handle);
}

/* ---- subscribers: Ketang peers answering Janus ---- */

static gboolean iterate_until(volatile gboolean *flag, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

	while (!*flag && g_get_monotonic_time() < deadline)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	return *flag;
}

static void on_local_ready(KtPeer *peer, const char *ufrag, const char *pwd,
                           const char *const *candidates, gpointer user_data)
{
	Sub *s = user_data;

	s->ufrag = g_strdup(ufrag);
	s->pwd = g_strdup(pwd);
	s->candidates = g_strdupv((char **)candidates);
	s->ready = TRUE;
}

static void on_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer user_data)
{
	Sub *s = user_data;

	s->state = state;
	if (state == KT_PEER_STATE_FAILED)
		g_printerr("janus-anchor: subscriber %" G_GUINT64_FORMAT " failed: %s\n", s->handle,
		           reason ? reason : "?");
}

/* Creates @s's peer from the offer's BUNDLE-tag transport (RFC 9143 §7.2)
 * and waits for its local ICE description. */
static void sub_make_peer(Sub *s, const KtSdp *offer, KtWorker *worker, KtCert *cert)
{
	static const KtPeerEvents events = {on_local_ready, on_state};
	const KtSdpMedia *tag = kt_sdp_find_media(offer, kt_sdp_get_bundle_tag(offer));
	const char *local[] = {opt.address, NULL};
	g_autoptr(GPtrArray) remote = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	KtPeerConfig cfg = {
	    .worker = worker,
	    .cert = cert,
	    .local_addresses = local,
	    .controlling = FALSE, /* Janus offers with full ICE: it controls */
	    /* RFC 5763 §5: an actpass offer is answered passive. */
	    .dtls_role =
	        strcmp(tag->setup, "passive") == 0 ? KT_DTLS_ROLE_CLIENT : KT_DTLS_ROLE_SERVER,
	    .remote_ufrag = tag->ice_ufrag,
	    .remote_pwd = tag->ice_pwd,
	    .remote_fingerprint = tag->fingerprint,
	};

	for (guint i = 0; tag->candidates && i < tag->candidates->len; i++)
		g_ptr_array_add(remote, g_ptr_array_index(tag->candidates, i));
	g_ptr_array_add(remote, NULL);
	cfg.remote_candidates = (const char *const *)remote->pdata;
	s->peer = kt_peer_new(&cfg, &events, s, &error);
	if (!s->peer)
		g_error("kt_peer_new: %s", error->message);
	if (!iterate_until(&s->ready, 5000))
		g_error("subscriber %" G_GUINT64_FORMAT ": no local candidates", s->handle);
}

static json_t *sub_answer(Sub *s, const KtSdp *offer, KtCert *cert)
{
	g_autoptr(GError) error = NULL;
	g_autofree KtSdpNegotiated *neg = NULL;
	guint n_neg = 0;
	KtSdpAnswerParams p = {
	    .mode = KT_SDP_ANSWER_RECEIVE,
	    .ice_ufrag = s->ufrag,
	    .ice_pwd = s->pwd,
	    .fingerprint = kt_cert_get_fingerprint(cert),
	    .candidates = (const char *const *)s->candidates,
	    .audio_codecs = "opus",
	    .video_codecs = "vp8",
	    .session_id = s->handle,
	};
	g_autofree char *answer = kt_sdp_answer_build(offer, &p, &neg, &n_neg, &error);

	if (!answer)
		g_error("answering Janus's offer: %s", error->message);
	return json_pack("{s:s, s:s}", "type", "answer", "sdp", answer);
}

/* attach -> watch -> Janus's offer -> our answer in "start". */
static void sub_connect(Sub *s, KtWorker *worker, KtCert *cert)
{
	g_autofree char *path = g_strdup_printf("/janus/%" G_GUINT64_FORMAT, session_id);
	g_autofree char *offer_text = NULL;
	g_autoptr(KtSdp) offer = NULL;
	g_autoptr(GError) error = NULL;

	s->handle = janus_create(
	    path, json_pack("{s:s, s:s}", "janus", "attach", "plugin", "janus.plugin.streaming"));
	janus_message(s->handle, json_pack("{s:s, s:i}", "request", "watch", "id", opt.mountpoint),
	              NULL);
	offer_text = janus_wait_offer(s->handle);
	offer = kt_sdp_parse(offer_text, strlen(offer_text), &error);
	if (!offer)
		g_error("Janus's offer: %s", error->message);
	sub_make_peer(s, offer, worker, cert);
	janus_message(s->handle, json_pack("{s:s}", "request", "start"),
	              sub_answer(s, offer, cert));
}

static void count_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer user_data)
{
	g_atomic_int_inc(&((Sub *)user_data)->received);
}

static gboolean install_counter(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {count_rtp, NULL, NULL};
	Sub *s = data;

	kt_peer_set_media_funcs(s->peer, &funcs, s);
	return G_SOURCE_REMOVE;
}

static gboolean clear_media(gpointer data)
{
	kt_peer_set_media_funcs(((Sub *)data)->peer, NULL, NULL);
	return G_SOURCE_REMOVE;
}

/* Waits until every subscriber is CONNECTED; returns how many are. */
static guint subs_wait_connected(Sub *subs, guint n, guint timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;
	guint up = 0;

	while (g_get_monotonic_time() < deadline) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		up = 0;
		for (guint i = 0; i < n; i++)
			up += subs[i].state == KT_PEER_STATE_CONNECTED;
		if (up == n)
			break;
		g_usleep(5000);
	}
	return up;
}

/* ---- the publisher: plain RTP into the mountpoint, paced like bench-forward ---- */

typedef struct {
	guint seconds;
	double video_pps, audio_pps;
	guint64 video_sent, audio_sent;
	guint16 vseq, aseq;
} Feed;

static gsize make_packet(guint8 *buf, gsize cap, Feed *f, gboolean video)
{
	guint16 seq = video ? f->vseq++ : f->aseq++;

	kt_rtp_write_header(buf, cap, video ? 96 : 111, TRUE, seq, seq * (video ? 3000 : 960),
	                    video ? VIDEO_SSRC : AUDIO_SSRC);
	memset(buf + 12, 0x5a, video ? VIDEO_PKT : AUDIO_PKT);
	/* VP8 descriptor: S=1; a keyframe every 2 s (60 packets/s ≈ 120). */
	buf[12] = 0x10;
	buf[13] = (video && seq % 120 == 0) ? 0x00 : 0x01;
	return 12 + (video ? VIDEO_PKT : AUDIO_PKT);
}

static void send_to(int fd, guint8 *buf, gsize len, gint port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
}

/* Every 5 ms, sends what is due; returns when @f->seconds have passed. */
static void feed_run(Feed *f)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	guint8 buf[1600];
	gint64 start = g_get_monotonic_time(), end = start + (gint64)f->seconds * G_USEC_PER_SEC;

	for (gint64 now = start; now < end; now = g_get_monotonic_time()) {
		double elapsed = (now - start) / 1e6;

		while (f->video_sent < elapsed * f->video_pps) {
			send_to(fd, buf, make_packet(buf, sizeof(buf), f, TRUE), opt.video_port);
			f->video_sent++;
		}
		while (f->audio_sent < elapsed * f->audio_pps) {
			send_to(fd, buf, make_packet(buf, sizeof(buf), f, FALSE), opt.audio_port);
			f->audio_sent++;
		}
		g_usleep(5000);
	}
	close(fd);
}

/* ---- Janus's CPU ---- */

/* utime + stime of the whole process (every thread, live or gone), seconds;
 * fields 14 and 15 of /proc/PID/stat (proc(5)), after the ")" of comm. */
static double janus_cpu_seconds(guint *threads)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", opt.pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) f = NULL;
	const char *rest;

	if (!g_file_get_contents(path, &text, NULL, NULL) || !(rest = strrchr(text, ')')))
		g_error("cannot read %s: is Janus running?", path);
	f = g_strsplit(rest + 2, " ", 0); /* f[0] is field 3 (state) */
	if (g_strv_length(f) < 18)
		g_error("short %s", path);
	if (threads)
		*threads = atoi(f[17]); /* field 20: num_threads */
	return (g_ascii_strtod(f[11], NULL) + g_ascii_strtod(f[12], NULL)) / sysconf(_SC_CLK_TCK);
}

static void print_figures(guint n, Feed *f, double cpu, double idle_per_s, guint threads,
                          guint64 received)
{
	guint64 in = f->video_sent + f->audio_sent, sends = in * n;
	double per_packet_us = sends ? cpu * 1e6 / sends : 0;
	double marginal_us = sends ? (cpu - idle_per_s * f->seconds) * 1e6 / sends : 0;

	printf("janus-anchor: %u subscribers, %u s, 600 kbit/s VP8 + Opus 20 ms (Janus streaming "
	       "plugin)\n",
	       n, f->seconds);
	printf("  publisher packets in      %" G_GUINT64_FORMAT " (video %" G_GUINT64_FORMAT
	       ", audio %" G_GUINT64_FORMAT ")\n",
	       in, f->video_sent, f->audio_sent);
	printf("  packets forwarded         %" G_GUINT64_FORMAT " (packets in x subscribers)\n",
	       sends);
	printf("  packets received by subs  %" G_GUINT64_FORMAT " (%.1f%%)\n", received,
	       sends ? 100.0 * received / sends : 0);
	printf("  Janus CPU                 %.3f s of %u s (%.1f%% of a core), %u threads\n", cpu,
	       f->seconds, 100 * cpu / f->seconds, threads);
	printf("  idle Janus CPU, all connected, no media  %.1f%% of a core (%.1f us/s per "
	       "subscriber)\n",
	       100 * idle_per_s, idle_per_s * 1e6 / n);
	printf("  cost per forwarded packet per subscriber  %.3f us (all Janus CPU / packets)\n",
	       per_packet_us);
	printf("    of which forwarding (minus idle cost)   %.3f us\n", marginal_us);
	printf("  subscriber streams per core (this stream)  %.0f\n",
	       per_packet_us > 0 ? 1e6 / (per_packet_us * (f->video_pps + f->audio_pps)) : 0);
	if (sends && received < sends * 0.98)
		printf("  WARNING: subscribers received under 98%% of the packets: Janus fell "
		       "behind or dropped; the per-packet cost is not comparable\n");
}

static void parse_args(int *argc, char ***argv)
{
	GOptionEntry entries[] = {
	    {"pid", 0, 0, G_OPTION_ARG_INT, &opt.pid, "Janus's process id", "PID"},
	    {"http-port", 0, 0, G_OPTION_ARG_INT, &opt.http_port, "Janus HTTP API port", "PORT"},
	    {"address", 0, 0, G_OPTION_ARG_STRING, &opt.address, "subscribers' host address", "IP"},
	    {"mountpoint", 0, 0, G_OPTION_ARG_INT, &opt.mountpoint, "streaming mountpoint id",
	     "ID"},
	    {"video-port", 0, 0, G_OPTION_ARG_INT, &opt.video_port, "mountpoint video port", "P"},
	    {"audio-port", 0, 0, G_OPTION_ARG_INT, &opt.audio_port, "mountpoint audio port", "P"},
	    {NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("[SUBSCRIBERS] [SECONDS]");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &error) || opt.pid <= 0) {
		g_printerr("janus-anchor: %s\n", error ? error->message : "--pid is required");
		exit(2);
	}
	if (!opt.address)
		opt.address = g_strdup("10.77.0.2");
}

static void subs_close(Sub *subs, guint n, KtWorker *worker)
{
	for (guint i = 0; i < n; i++) {
		if (!subs[i].peer)
			continue;
		kt_worker_invoke_sync(worker, clear_media, &subs[i]);
		kt_peer_close(subs[i].peer);
		kt_peer_unref(subs[i].peer);
		g_free(subs[i].ufrag);
		g_free(subs[i].pwd);
		g_strfreev(subs[i].candidates);
	}
}

int main(int argc, char **argv)
{
	parse_args(&argc, &argv);
	guint n = argc > 1 ? (guint)atoi(argv[1]) : 200;
	guint seconds = argc > 2 ? (guint)atoi(argv[2]) : 10;
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(1, &error);
	KtWorker *worker = kt_worker_pool_get(pool, 0);
	g_autoptr(KtCert) cert = kt_cert_new_ecdsa("janus-anchor", 1, NULL, &error);
	Sub *subs = g_new0(Sub, n);
	Feed feed = {
	    .seconds = seconds, .video_pps = 600000.0 / 8 / (VIDEO_PKT + 12), .audio_pps = 50};
	double c0, c1, idle_per_s, cpu;
	guint threads = 0, up;
	guint64 received = 0;

	g_assert_no_error(error);
	session_id = janus_create("/janus", json_pack("{s:s}", "janus", "create"));
	for (guint i = 0; i < n; i++)
		sub_connect(&subs[i], worker, cert);
	up = subs_wait_connected(subs, n, 20000 + 100 * n);
	if (up < n)
		g_error("only %u of %u subscribers connected to Janus", up, n);
	for (guint i = 0; i < n; i++)
		kt_worker_invoke_sync(worker, install_counter, &subs[i]);
	g_usleep(500 * 1000); /* let the last handshakes' aftermath settle */

	c0 = janus_cpu_seconds(NULL);
	g_usleep(2 * G_USEC_PER_SEC);
	idle_per_s = (janus_cpu_seconds(NULL) - c0) / 2.0;

	c0 = janus_cpu_seconds(NULL);
	feed_run(&feed);
	c1 = janus_cpu_seconds(&threads);
	cpu = c1 - c0;
	g_usleep(G_USEC_PER_SEC); /* what is still in flight reaches the counters */
	for (guint i = 0; i < n; i++)
		received += g_atomic_int_get(&subs[i].received);
	print_figures(n, &feed, cpu, idle_per_s, threads, received);

	subs_close(subs, n, worker);
	g_free(subs);
	g_free(opt.address);
	return 0;
}
