/* The server process: wires settings, secret, TLS material, media workers,
 * lessons and HTTP routes together. Control loop. */
#include "kt-server-private.h"

#include <glib/gstdio.h>

#include "kt-secret.h"

/* HTTPS identity: configured files, or a self-signed pair made on first start
 * in the data dir and reused afterwards (browsers then keep one exception). */
static gboolean ensure_tls_files(KtSettings *st, char **cert_path, char **key_path, GError **error)
{
	static const char *const names[] = {"localhost", "127.0.0.1", "::1", NULL};
	g_autoptr(KtCert) cert = NULL;

	if (st->tls_cert && *st->tls_cert) {
		*cert_path = g_strdup(st->tls_cert);
		*key_path = g_strdup(st->tls_key);
		return TRUE;
	}
	*cert_path = g_build_filename(st->data_dir, "tls-cert.pem", NULL);
	*key_path = g_build_filename(st->data_dir, "tls-key.pem", NULL);
	if (g_file_test(*cert_path, G_FILE_TEST_EXISTS) &&
	    g_file_test(*key_path, G_FILE_TEST_EXISTS))
		return TRUE;
	if (g_mkdir_with_parents(st->data_dir, 0700) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot create data dir %s: %s", st->data_dir, g_strerror(errno));
		return FALSE;
	}
	cert = kt_cert_new_ecdsa("Ketang", 825, names, error);
	if (!cert || !kt_cert_save_pem(cert, *cert_path, *key_path, error))
		return FALSE;
	g_message("generated a self-signed TLS certificate in %s", *cert_path);
	return TRUE;
}

/* The data dir holds the catalogs, the secret, the TLS key and the recordings: only the
 * server's user may enter it, also when it was made by hand or by an older build. */
static gboolean secure_data_dir(const char *dir, GError **error)
{
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot create data dir %s: %s", dir, g_strerror(err));
		return FALSE;
	}
	if (g_chmod(dir, 0700) != 0)
		g_message("data dir %s: cannot make it private (0700): %s", dir, g_strerror(errno));
	return TRUE;
}

static char *resolve_web_root(const KtSettings *st)
{
	if (st->web_root && *st->web_root)
		return g_strdup(st->web_root);
	return g_strdup(KT_SOURCE_WEB_ROOT);
}

/* The lesson catalog; lessons a crash left "live" are scheduled again (nobody is
 * connected after a restart). */
static gboolean open_lesson_store(KtServer *server, GError **error)
{
	g_autofree char *path =
	    g_build_filename(server->settings->data_dir, KT_LESSON_STORE_FILE, NULL);
	guint n = 0;

	server->lesson_store = kt_lesson_store_open(path, error);
	if (!server->lesson_store ||
	    !kt_lesson_store_mark_interrupted(server->lesson_store,
	                                      g_get_real_time() / G_USEC_PER_SEC, &n, error))
		return FALSE;
	if (n > 0)
		g_message("%u lesson(s) interrupted by the last shutdown are scheduled again", n);
	server->api_lessons =
	    kt_api_lessons_new(server->lesson_store, server->secret, server->secret_len,
	                       server->settings, server->audit);
	return TRUE;
}

/* The archive catalog. Rows a crash left "recording" are repaired first: their files
 * are final now and must be listed before anyone asks for them. */
static gboolean open_recordings(KtServer *server, GError **error)
{
	guint n = 0;

	server->recordings = kt_recordings_open(server->settings->data_dir, error);
	if (!server->recordings ||
	    !kt_recordings_repair(server->recordings, kt_lesson_recorder_probe_duration, NULL, &n,
	                          error))
		return FALSE;
	if (n > 0)
		g_message("%u recording(s) cut by the last shutdown were repaired", n);
	server->api_recordings =
	    kt_api_recordings_new(server->recordings, server->secret, server->secret_len,
	                          server->settings, server->audit);
	return TRUE;
}

/* The catalog follows live lessons. A lesson id the catalog refuses (an
 * ad-hoc id reused after it ended) still runs: teaching comes first. */
static void record_state(KtServer *server, const char *lesson, const char *state)
{
	g_autoptr(GError) error = NULL;

	if (!kt_lesson_store_set_state(server->lesson_store, lesson, state,
	                               g_get_real_time() / G_USEC_PER_SEC, &error))
		g_message("catalog: lesson %s not marked %s: %s", lesson, state, error->message);
}

static void on_lesson_started(const char *lesson, gpointer data)
{
	KtServer *server = data;

	record_state(server, lesson, "live");
	kt_lesson_recorder_start(server->recorder, kt_lessons_lookup(server->lessons, lesson));
}

static void on_lesson_ended(const char *lesson, gpointer data)
{
	KtServer *server = data;

	kt_lesson_recorder_end(server->recorder, lesson);
	record_state(server, lesson, "ended");
}

/* Recording events (a recording failed) go to everyone in the lesson. */
static void on_recording_event(const char *lesson, json_t *event, gpointer data)
{
	KtServer *server = data;

	if (server->signal)
		kt_signal_broadcast(server->signal, lesson, event);
}

static void start_recorder(KtServer *server)
{
	KtLessonRecorderConfig rc = {
	    .settings = server->settings,
	    .catalog = server->recordings,
	    .lessons = server->lesson_store,
	    .event = on_recording_event,
	    .user_data = server,
	};

	server->recorder = kt_lesson_recorder_new(&rc);
}

static gboolean start_http(KtServer *server, GError **error)
{
	g_autofree char *cert_path = NULL;
	g_autofree char *key_path = NULL;
	g_autoptr(GArray) all_routes = g_array_new(FALSE, FALSE, sizeof(KtHttpRoute));
	const KtHttpRoute *api_routes;
	guint n_api_routes;
	const KtHttpRoute routes[] = {
	    {"/whip/", FALSE, KT_HTTP_POST | KT_HTTP_DELETE | KT_HTTP_PATCH, TRUE, 0,
	     kt_whip_handle, server},
	    {"/whep/", FALSE, KT_HTTP_POST | KT_HTTP_DELETE | KT_HTTP_PATCH, TRUE, 0,
	     kt_whep_handle, server},
	    {"/live/", FALSE, KT_HTTP_GET | KT_HTTP_HEAD, TRUE, 0, kt_live_handle, server},
	    {"/healthz", TRUE, KT_HTTP_GET | KT_HTTP_HEAD, FALSE, 0, kt_ops_healthz, server},
	    {"/metrics", TRUE, KT_HTTP_GET, FALSE, 0, kt_ops_metrics, server},
	};
	KtHttpServerConfig cfg = {
	    .listen = (const char *const *)server->settings->listen,
	    .web_root = server->web_root,
	    .max_body = server->settings->max_body_bytes,
	    .loop = server->loop,
	    .rate = (guint)server->settings->http_rate,
	    .rate_burst = (guint)server->settings->http_burst,
	};

	g_array_append_vals(all_routes, routes, G_N_ELEMENTS(routes));
	api_routes = kt_api_lessons_routes(server->api_lessons, &n_api_routes);
	g_array_append_vals(all_routes, api_routes, n_api_routes);
	api_routes = kt_api_recordings_routes(server->api_recordings, &n_api_routes);
	g_array_append_vals(all_routes, api_routes, n_api_routes);
	g_array_append_vals(all_routes, kt_api_audit_route(server->api_audit), 1);
	cfg.routes = (const KtHttpRoute *)all_routes->data;
	cfg.n_routes = all_routes->len;

	if (!ensure_tls_files(server->settings, &cert_path, &key_path, error))
		return FALSE;
	cfg.cert_path = cert_path;
	cfg.key_path = key_path;
	/* HSTS only for a configured certificate: a browser told to insist on HTTPS with a
	 * self-signed one would refuse the exception it was asked to make. */
	cfg.hsts = server->settings->tls_cert && *server->settings->tls_cert;
	const KtSignalConfig signal_cfg = {
	    .max_message = (gsize)server->settings->ws_max_message,
	    .message_rate = (guint)server->settings->ws_message_rate,
	    .message_burst = (guint)server->settings->ws_message_burst,
	    .idle_timeout_s = (guint)server->settings->ws_idle_timeout,
	    .max_participants = (guint)server->settings->max_participants,
	};
	server->signal = kt_signal_new(server->secret, server->secret_len, &signal_cfg);
	cfg.extra_protocols = kt_signal_get_protocols(server->signal);
	{
		KtLessonMediaConfig mc = {
		    .lessons = server->lessons,
		    .dtls_cert = server->dtls_cert,
		    .gate = server->peer_gate,
		    .settings = server->settings,
		    .video_codecs = server->video_codecs,
		};

		server->lesson_ws =
		    kt_lesson_ws_new(server->signal, server->lesson_store, server->recorder, &mc);
	}
	server->http = kt_http_server_new(&cfg, error);
	if (!server->http)
		return FALSE;
	for (guint i = 0; server->settings->listen[i]; i++) {
		g_autofree char *host = NULL;

		kt_settings_parse_listen(server->settings->listen[i], &host, NULL, NULL);
		g_printerr("ketang: listening on https://%s%s%s:%u\n", strchr(host, ':') ? "[" : "",
		           host, strchr(host, ':') ? "]" : "",
		           kt_http_server_get_port(server->http, i));
	}
	return TRUE;
}

KtServer *kt_server_new(KtSettings *settings, GMainLoop *loop, GError **error)
{
	KtServer *server = g_new0(KtServer, 1);
	KtRoomConfig room_config;

	server->settings = settings;
	server->loop = g_main_loop_ref(loop);
	server->started_at = g_get_monotonic_time();
	server->web_root = resolve_web_root(settings);
	server->video_codecs = g_strjoinv(",", settings->video_codecs);
	server->tombstones = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	room_config.keyframe_interval_ms = settings->keyframe_interval_ms;
	room_config.rtx_cache_ms = settings->rtx_cache_ms;
	room_config.red_add = settings->audio_red && settings->audio_red_add;
	room_config.publisher_max_kbps = settings->publisher_max_kbps;
	room_config.max_playout_delay_ms = settings->max_playout_delay_ms;
	if (!secure_data_dir(settings->data_dir, error) ||
	    !kt_secret_load(settings, &server->secret, &server->secret_len, error))
		goto fail;
	server->peer_gate = kt_peer_gate_new((guint)settings->dtls_handshakes);
	server->dtls_cert = kt_cert_new_ecdsa("ketang-dtls", 30, NULL, error);
	if (!server->dtls_cert)
		goto fail;
	server->workers = kt_worker_pool_new(settings->workers, error);
	if (!server->workers)
		goto fail;
	server->lessons = kt_lessons_new(server->workers, &room_config, settings->max_lessons,
	                                 settings->max_subscribers);
	server->audit = kt_audit_open(settings->data_dir, error);
	if (!server->audit || !open_lesson_store(server, error) || !open_recordings(server, error))
		goto fail;
	server->api_audit = kt_api_audit_new(server->audit, server->secret, server->secret_len);
	start_recorder(server);
	kt_lessons_set_hooks(server->lessons, on_lesson_started, on_lesson_ended, server);
	if (!start_http(server, error))
		goto fail;
	g_message("ketang %s: %u media worker(s), web root %s", KT_VERSION,
	          kt_worker_pool_get_size(server->workers), server->web_root);
	return server;
fail:
	kt_server_free(server);
	return NULL;
}

guint16 kt_server_get_port(KtServer *server, guint index)
{
	return kt_http_server_get_port(server->http, index);
}

void kt_server_free(KtServer *server)
{
	if (!server)
		return;
	/* Order: stop taking requests, end lessons (closing peers on their
	 * workers), then stop the workers once the closes have run. */
	if (server->http)
		kt_http_server_free(server->http);
	/* After http: closing the sockets calls into it (participants leave,
	 * which closes their media before the lessons go). */
	if (server->signal)
		kt_signal_free(server->signal);
	kt_lesson_ws_free(server->lesson_ws);
	/* A shutdown interrupts lessons rather than ending them: the next start
	 * schedules them again (kt_lesson_store_mark_interrupted). */
	if (server->lessons)
		kt_lessons_set_hooks(server->lessons, NULL, NULL, NULL);
	/* Lessons still live (WHIP) have their files finished now and their rows completed. */
	kt_lesson_recorder_free(server->recorder);
	server->recorder = NULL; /* the lessons' WHEP sessions below check it */
	kt_lessons_free(server->lessons);
	kt_api_lessons_free(server->api_lessons);
	kt_lesson_store_free(server->lesson_store);
	kt_api_recordings_free(server->api_recordings);
	kt_recordings_free(server->recordings);
	kt_api_audit_free(server->api_audit);
	kt_audit_free(server->audit);
	kt_worker_pool_free(server->workers);
	if (server->dtls_cert)
		kt_cert_unref(server->dtls_cert);
	kt_peer_gate_unref(server->peer_gate);
	kt_secret_free(server->secret, server->secret_len);
	g_free(server->web_root);
	g_free(server->video_codecs);
	g_hash_table_unref(server->tombstones);
	kt_settings_free(server->settings);
	g_main_loop_unref(server->loop);
	g_free(server);
}
