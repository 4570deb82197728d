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

static char *resolve_web_root(const KtSettings *st)
{
	if (st->web_root && *st->web_root)
		return g_strdup(st->web_root);
	return g_strdup(KT_SOURCE_WEB_ROOT);
}

static gboolean start_http(KtServer *server, GError **error)
{
	g_autofree char *cert_path = NULL;
	g_autofree char *key_path = NULL;
	const KtHttpRoute routes[] = {
	    {"/whip/", FALSE, KT_HTTP_POST | KT_HTTP_DELETE | KT_HTTP_PATCH, TRUE, 0,
	     kt_whip_handle, server},
	    {"/whep/", FALSE, KT_HTTP_POST | KT_HTTP_DELETE | KT_HTTP_PATCH, TRUE, 0,
	     kt_whep_handle, server},
	    {"/healthz", TRUE, KT_HTTP_GET | KT_HTTP_HEAD, FALSE, 0, kt_ops_healthz, server},
	    {"/metrics", TRUE, KT_HTTP_GET, FALSE, 0, kt_ops_metrics, server},
	};
	KtHttpServerConfig cfg = {
	    .listen = (const char *const *)server->settings->listen,
	    .web_root = server->web_root,
	    .max_body = server->settings->max_body_bytes,
	    .loop = server->loop,
	    .routes = routes,
	    .n_routes = G_N_ELEMENTS(routes),
	};

	if (!ensure_tls_files(server->settings, &cert_path, &key_path, error))
		return FALSE;
	cfg.cert_path = cert_path;
	cfg.key_path = key_path;
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
	if (!kt_secret_load(settings, &server->secret, &server->secret_len, error))
		goto fail;
	server->dtls_cert = kt_cert_new_ecdsa("ketang-dtls", 30, NULL, error);
	if (!server->dtls_cert)
		goto fail;
	server->workers = kt_worker_pool_new(settings->workers, error);
	if (!server->workers)
		goto fail;
	server->lessons = kt_lessons_new(server->workers, &room_config, settings->max_lessons,
	                                 settings->max_subscribers);
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
	kt_lessons_free(server->lessons);
	kt_worker_pool_free(server->workers);
	if (server->dtls_cert)
		kt_cert_unref(server->dtls_cert);
	kt_secret_free(server->secret, server->secret_len);
	g_free(server->web_root);
	g_free(server->video_codecs);
	g_hash_table_unref(server->tombstones);
	kt_settings_free(server->settings);
	g_main_loop_unref(server->loop);
	g_free(server);
}
