/* test-http.c — KtHttpServer over real TLS on 127.0.0.1: routes, errors,
 * CORS, static files, deferred responses, cancellation and teardown.
 *
 * The server runs on the test's main loop; requests come from a client
 * thread speaking raw HTTP/1.1 over OpenSSL so every byte is under control.
 */
#include "kt-http-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "tmp-dir.h"

/* ------------------------------------------------------------ test setup */

static char *tmp_dir;
static char *cert_path;
static char *key_path;
static char *web_root;

/* A throwaway self-signed P-256 certificate for "localhost". */
static void make_cert(const char *cert_file, const char *key_file)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	g_assert_nonnull(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const guint8 *)"localhost", -1, -1,
	                           0);
	X509_set_issuer_name(x, name);
	g_assert_cmpint(X509_sign(x, key, EVP_sha256()), >, 0);

	FILE *f = fopen(cert_file, "w");
	g_assert_nonnull(f);
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key_file, "w");
	g_assert_nonnull(f);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void write_file(const char *dir, const char *name, const char *content)
{
	g_autofree char *p = g_build_filename(dir, name, NULL);
	g_assert_true(g_file_set_contents(p, content, -1, NULL));
}

static void setup_files(void)
{
	tmp_dir = g_dir_make_tmp("test-http-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	cert_path = g_build_filename(tmp_dir, "cert.pem", NULL);
	key_path = g_build_filename(tmp_dir, "key.pem", NULL);
	make_cert(cert_path, key_path);
	web_root = g_build_filename(tmp_dir, "web", NULL);
	g_assert_cmpint(g_mkdir(web_root, 0700), ==, 0);
	write_file(web_root, "index.html", "<h1>index</h1>");
	write_file(web_root, "teacher.html", "<h1>teacher</h1>");
	write_file(web_root, "app.js", "export const x = 1;\n");
	write_file(web_root, "style.css", "body{}");
	write_file(web_root, "site.webmanifest", "{}");
	write_file(web_root, ".hidden", "secret");
	write_file(tmp_dir, "secret.txt", "outside the web root");
	/* 100000 bytes, byte i = i % 251: any slice is recognisable, several chunks long */
	g_autofree char *big = g_malloc(100000);
	for (guint i = 0; i < 100000; i++)
		big[i] = (char)(i % 251);
	g_autofree char *big_path = g_build_filename(tmp_dir, "big.mp4", NULL);
	g_assert_true(g_file_set_contents(big_path, big, 100000, NULL));
}

/* ------------------------------------------------------------ the routes */

typedef struct {
	GMainLoop *loop;
	KtHttpServer *server;
	guint16 port;
	GThread *client;
	gint client_done;
	gint handler_entered;
	gint cancelled;
	guint pending_source;
	KtHttpRequest *pending;
} Fixture;

static void echo_handler(KtHttpRequest *r, gpointer user_data)
{
	gsize len;
	const guint8 *body = kt_http_request_get_body(r, &len);
	g_assert_cmpint(body[len], ==, 0);
	g_autofree char *name = kt_http_request_get_query(r, "name");
	g_autofree char *custom = kt_http_request_get_header(r, "x-custom");
	g_autofree char *ctype = kt_http_request_get_header(r, "content-type");
	g_autofree char *peer = kt_http_request_get_peer_address(r);
	g_autofree char *auth = kt_http_request_get_header(r, "authorization");
	g_autofree char *token = kt_http_request_get_query(r, "token");
	gboolean auth_ok = !g_strcmp0(auth, "Bearer secret") && !g_strcmp0(token, "secret");
	g_assert_null(kt_http_request_get_header(r, "x-absent"));
	g_assert_null(kt_http_request_get_query(r, "absent"));
	const char *headers[] = {"X-Path",   kt_http_request_get_path(r),
	                         "X-Query",  name ? name : "(none)",
	                         "X-Custom", custom ? custom : "(none)",
	                         "X-Ctype",  ctype ? ctype : "(none)",
	                         "X-Peer",   peer,
	                         "Location", "/echo/1",
	                         "X-Auth",   auth_ok ? "yes" : "no",
	                         NULL};
	kt_http_request_respond(r, kt_http_request_get_method(r) == KT_HTTP_POST ? 201 : 200,
	                        "text/plain", headers, body, len);
}

static void healthz_handler(KtHttpRequest *r, gpointer user_data)
{
	json_t *j = json_pack("{s:s}", "status", "ok");
	kt_http_request_respond_json(r, 200, j);
	json_decref(j);
}

static gboolean slow_respond(gpointer data)
{
	Fixture *f = data;
	KtHttpRequest *r = g_steal_pointer(&f->pending);
	f->pending_source = 0;
	kt_http_request_respond(r, 200, "text/plain", NULL, "late", 4);
	return G_SOURCE_REMOVE;
}

static void on_cancel(KtHttpRequest *r, gpointer data)
{
	Fixture *f = data;
	g_assert_true(r == f->pending);
	f->pending = NULL;
	g_clear_handle_id(&f->pending_source, g_source_remove);
	g_atomic_int_inc(&f->cancelled);
}

/* Responds after `delay` ms, unless the client leaves first. */
static void deferred_handler(KtHttpRequest *r, gpointer user_data)
{
	Fixture *f = user_data;
	guint delay = g_str_equal(kt_http_request_get_path(r), "/slow") ? 50 : 30000;
	g_assert_null(f->pending);
	f->pending = r;
	kt_http_request_set_cancel_func(r, on_cancel, f);
	f->pending_source = g_timeout_add(delay, slow_respond, f);
	g_atomic_int_set(&f->handler_entered, 1);
}

/* /file: tmp_dir/big.mp4 with Range; /file-missing: a path that is not there. */
static void file_handler(KtHttpRequest *r, gpointer user_data)
{
	gboolean missing = g_str_equal(kt_http_request_get_path(r), "/file-missing");
	g_autofree char *path = g_build_filename(tmp_dir, missing ? "nope.mp4" : "big.mp4", NULL);
	const char *headers[] = {"X-Extra", "1", NULL};
	kt_http_request_respond_file(r, path, NULL, headers);
}

static gboolean fail_timeout(gpointer data)
{
	g_error("test timed out");
	return G_SOURCE_REMOVE;
}

static KtHttpServer *start_server(Fixture *f, const char *const *listen, GError **error)
{
	const KtHttpRoute routes[] = {
	    {"/echo", FALSE, KT_HTTP_GET | KT_HTTP_POST | KT_HTTP_DELETE, TRUE, 1024, echo_handler,
	     f},
	    {"/healthz", TRUE, KT_HTTP_GET, FALSE, 0, healthz_handler, f},
	    {"/slow", TRUE, KT_HTTP_GET, FALSE, 0, deferred_handler, f},
	    {"/hang", TRUE, KT_HTTP_GET, FALSE, 0, deferred_handler, f},
	    {"/file", FALSE, KT_HTTP_GET | KT_HTTP_HEAD, FALSE, 0, file_handler, f},
	};
	KtHttpServerConfig cfg = {
	    .listen = listen,
	    .cert_path = cert_path,
	    .key_path = key_path,
	    .web_root = web_root,
	    .max_body = 4096,
	    .loop = f->loop,
	    .routes = routes,
	    .n_routes = G_N_ELEMENTS(routes),
	};
	return kt_http_server_new(&cfg, error);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
	const char *listen[] = {"127.0.0.1:0", NULL};
	g_autoptr(GError) error = NULL;

	f->loop = g_main_loop_new(NULL, FALSE);
	f->server = start_server(f, listen, &error);
	g_assert_no_error(error);
	f->port = kt_http_server_get_port(f->server, 0);
	g_assert_cmpuint(f->port, !=, 0);
	g_assert_cmpuint(kt_http_server_get_port(f->server, 1), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	kt_http_server_free(f->server);
	g_clear_handle_id(&f->pending_source, g_source_remove);
	/* let lws' GLib sources finish detaching */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_main_loop_unref(f->loop);
}

/* Runs the loop until the client thread finished. */
static void run_client(Fixture *f, GThreadFunc fn)
{
	guint guard = g_timeout_add_seconds(30, fail_timeout, NULL);
	f->client = g_thread_new("client", fn, f);
	while (!g_atomic_int_get(&f->client_done))
		g_main_context_iteration(NULL, TRUE);
	g_thread_join(f->client);
	g_source_remove(guard);
}

static void client_finished(Fixture *f)
{
	g_atomic_int_set(&f->client_done, 1);
	g_main_context_wakeup(NULL);
}

/* ----------------------------------------------------------- the client */

typedef struct {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	GByteArray *in;
} Conn;

typedef struct {
	guint status;
	GHashTable *headers; /* lowercase name -> value */
	GString *body;
} Resp;

static Conn *conn_open(guint16 port)
{
	Conn *c = g_new0(Conn, 1);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	g_assert_cmpint(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), ==, 0);
	c->ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL); /* self-signed */
	c->ssl = SSL_new(c->ctx);
	/* Offer h2 first: the server must still pick HTTP/1.1. */
	static const guint8 alpn[] = "\x02h2\x08http/1.1";
	SSL_set_alpn_protos(c->ssl, alpn, sizeof alpn - 1);
	SSL_set_fd(c->ssl, c->fd);
	g_assert_cmpint(SSL_connect(c->ssl), ==, 1);
	const guint8 *sel;
	unsigned int sel_len;
	SSL_get0_alpn_selected(c->ssl, &sel, &sel_len);
	g_assert_cmpmem(sel, sel_len, "http/1.1", 8);
	c->in = g_byte_array_new();
	return c;
}

static void conn_close(Conn *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
	g_byte_array_unref(c->in);
	g_free(c);
}

static void conn_send(Conn *c, const char *data, gsize len)
{
	while (len) {
		int n = SSL_write(c->ssl, data, (int)MIN(len, 65536));
		g_assert_cmpint(n, >, 0);
		data += n;
		len -= n;
	}
}

static void conn_sendf(Conn *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void conn_sendf(Conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *s = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	conn_send(c, s, strlen(s));
}

/* Reads more bytes into c->in; FALSE at EOF or error. */
static gboolean conn_fill(Conn *c)
{
	guint8 buf[16384];
	int n = SSL_read(c->ssl, buf, sizeof buf);
	if (n <= 0)
		return FALSE;
	g_byte_array_append(c->in, buf, n);
	return TRUE;
}

static void resp_free(Resp *r)
{
	g_hash_table_unref(r->headers);
	g_string_free(r->body, TRUE);
	g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Resp, resp_free)

static Resp *resp_parse_head(const char *head)
{
	Resp *r = g_new0(Resp, 1);
	g_auto(GStrv) lines = g_strsplit(head, "\r\n", -1);
	r->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	r->body = g_string_new(NULL);
	g_assert_true(g_str_has_prefix(lines[0], "HTTP/1.1 "));
	r->status = (guint)g_ascii_strtoull(lines[0] + 9, NULL, 10);
	for (guint i = 1; lines[i] && lines[i][0]; i++) {
		char *colon = strchr(lines[i], ':');
		g_assert_nonnull(colon);
		char *name = g_ascii_strdown(lines[i], colon - lines[i]);
		g_hash_table_insert(r->headers, name, g_strdup(g_strstrip(colon + 1)));
	}
	return r;
}

/* Reads one response; NULL if the connection closed first. */
static Resp *conn_read(Conn *c, gboolean head_request)
{
	const char *end = NULL;
	while (!c->in->len ||
	       !(end = g_strstr_len((const char *)c->in->data, c->in->len, "\r\n\r\n")))
		if (!conn_fill(c))
			return NULL;
	gsize head_len = end + 4 - (const char *)c->in->data;
	g_autofree char *head = g_strndup((const char *)c->in->data, head_len);
	Resp *r = resp_parse_head(head);
	g_byte_array_remove_range(c->in, 0, head_len);

	const char *cl = g_hash_table_lookup(r->headers, "content-length");
	gsize want = cl && !head_request ? g_ascii_strtoull(cl, NULL, 10) : 0;
	while (c->in->len < want)
		g_assert_true(conn_fill(c));
	g_string_append_len(r->body, (const char *)c->in->data, want);
	g_byte_array_remove_range(c->in, 0, want);
	return r;
}

static const char *hdr(Resp *r, const char *name)
{
	return g_hash_table_lookup(r->headers, name);
}

static void assert_json_error(Resp *r, guint status, const char *code)
{
	g_assert_cmpuint(r->status, ==, status);
	g_assert_cmpstr(hdr(r, "content-type"), ==, "application/json");
	json_t *j = json_loadb(r->body->str, r->body->len, 0, NULL);
	g_assert_nonnull(j);
	g_assert_cmpstr(json_string_value(json_object_get(j, "error")), ==, code);
	g_assert_true(json_is_string(json_object_get(j, "message")));
	json_decref(j);
}

/* One request on a fresh connection. */
static Resp *request(Fixture *f, const char *raw)
{
	Conn *c = conn_open(f->port);
	conn_send(c, raw, strlen(raw));
	Resp *r = conn_read(c, g_str_has_prefix(raw, "HEAD "));
	conn_close(c);
	g_assert_nonnull(r);
	return r;
}

/* ------------------------------------------------------------ the tests */

static gpointer client_routes(gpointer data)
{
	Fixture *f = data;
	Conn *c = conn_open(f->port);

	/* body echo, query, custom header, Location + CORS exposure */
	conn_sendf(c, "POST /echo/x?name=a%%20b&token=secret HTTP/1.1\r\nHost: t\r\n"
	              "Content-Type: text/plain\r\nX-Custom: hello\r\n"
	              "Authorization: Bearer secret\r\nContent-Length: 5\r\n\r\nhello");
	g_autoptr(Resp) r = conn_read(c, FALSE);
	g_assert_cmpuint(r->status, ==, 201);
	g_assert_cmpstr(r->body->str, ==, "hello");
	g_assert_cmpstr(hdr(r, "x-path"), ==, "/echo/x");
	g_assert_cmpstr(hdr(r, "x-query"), ==, "a b");
	g_assert_cmpstr(hdr(r, "x-custom"), ==, "hello");
	g_assert_cmpstr(hdr(r, "x-ctype"), ==, "text/plain");
	g_assert_cmpstr(hdr(r, "x-peer"), ==, "127.0.0.1");
	g_assert_cmpstr(hdr(r, "location"), ==, "/echo/1");
	g_assert_cmpstr(hdr(r, "x-auth"), ==, "yes");
	g_assert_cmpstr(hdr(r, "access-control-allow-origin"), ==, "*");
	g_assert_nonnull(strstr(hdr(r, "access-control-expose-headers"), "Location"));

	/* keep-alive: a bodiless request on the same connection */
	conn_sendf(c, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) r2 = conn_read(c, FALSE);
	g_assert_cmpuint(r2->status, ==, 200);
	g_assert_cmpstr(hdr(r2, "x-query"), ==, "(none)");
	g_assert_cmpstr(hdr(r2, "x-custom"), ==, "(none)");
	g_assert_cmpstr(r2->body->str, ==, "");

	/* a method outside the route's mask */
	conn_sendf(c, "PATCH /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
	g_autoptr(Resp) r3 = conn_read(c, FALSE);
	assert_json_error(r3, 405, "method_not_allowed");
	g_assert_cmpstr(hdr(r3, "allow"), ==, "GET, POST, DELETE, OPTIONS");

	/* CORS preflight, answered without the handler */
	conn_sendf(c, "OPTIONS /echo/x HTTP/1.1\r\nHost: t\r\nOrigin: https://other\r\n"
	              "Access-Control-Request-Method: POST\r\n\r\n");
	g_autoptr(Resp) r4 = conn_read(c, FALSE);
	g_assert_cmpuint(r4->status, ==, 204);
	g_assert_null(hdr(r4, "x-path"));
	g_assert_cmpstr(hdr(r4, "access-control-allow-origin"), ==, "*");
	g_assert_cmpstr(hdr(r4, "access-control-allow-methods"), ==, "GET, POST, DELETE, OPTIONS");
	g_assert_cmpstr(hdr(r4, "access-control-allow-headers"), ==, "Authorization, Content-Type");
	g_assert_nonnull(hdr(r4, "access-control-max-age"));

	/* an exact route with a JSON body; no CORS headers there */
	conn_sendf(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) r5 = conn_read(c, FALSE);
	g_assert_cmpuint(r5->status, ==, 200);
	g_assert_cmpstr(r5->body->str, ==, "{\"status\":\"ok\"}");
	g_assert_null(hdr(r5, "access-control-allow-origin"));
	/* the security headers of every answer; a route's CSP allows nothing */
	g_assert_cmpstr(hdr(r5, "content-security-policy"), ==,
	                "default-src 'none'; frame-ancestors 'none'");
	g_assert_cmpstr(hdr(r5, "x-frame-options"), ==, "DENY");
	g_assert_cmpstr(hdr(r5, "x-content-type-options"), ==, "nosniff");
	g_assert_cmpstr(hdr(r5, "referrer-policy"), ==, "no-referrer");
	g_assert_null(hdr(r5, "strict-transport-security")); /* cfg.hsts is off */

	/* an exact route does not match longer paths: static lookup, 404 */
	conn_sendf(c, "GET /healthz/x HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) r6 = conn_read(c, FALSE);
	assert_json_error(r6, 404, "not_found");

	conn_close(c);
	client_finished(f);
	return NULL;
}

static void test_routes(Fixture *f, gconstpointer data)
{
	run_client(f, client_routes);
}

static gpointer client_body_limits(gpointer data)
{
	Fixture *f = data;
	Conn *c = conn_open(f->port);
	g_autofree char *big = g_strnfill(2000, 'x');

	/* Over the route's 1024-byte limit: drained, 413, connection reused. */
	conn_sendf(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n\r\n");
	conn_send(c, big, 2000);
	g_autoptr(Resp) r = conn_read(c, FALSE);
	assert_json_error(r, 413, "payload_too_large");
	conn_sendf(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1024\r\n\r\n");
	conn_send(c, big, 1024);
	g_autoptr(Resp) r2 = conn_read(c, FALSE);
	g_assert_cmpuint(r2->status, ==, 201);
	g_assert_cmpuint(r2->body->len, ==, 1024);
	conn_close(c);

	/* Far over: answered at once, then the connection is closed. */
	c = conn_open(f->port);
	conn_sendf(c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n");
	g_autoptr(Resp) r3 = conn_read(c, FALSE);
	assert_json_error(r3, 413, "payload_too_large");
	g_assert_cmpstr(hdr(r3, "connection"), ==, "close");
	g_assert_null(conn_read(c, FALSE));
	conn_close(c);

	/* Garbage Content-Length */
	g_autoptr(Resp) r4 =
	    request(f, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 12abc\r\n\r\n");
	g_assert_cmpuint(r4->status, >=, 400);
	g_assert_cmpuint(r4->status, <, 500);
	client_finished(f);
	return NULL;
}

static void test_body_limits(Fixture *f, gconstpointer data)
{
	run_client(f, client_body_limits);
}

static void assert_static_headers(Resp *r)
{
	g_assert_nonnull(strstr(hdr(r, "content-security-policy"), "default-src 'self'"));
	g_assert_nonnull(strstr(hdr(r, "content-security-policy"), "frame-ancestors 'none'"));
	g_assert_nonnull(strstr(hdr(r, "content-security-policy"), "script-src 'self'"));
	g_assert_cmpstr(hdr(r, "x-frame-options"), ==, "DENY");
	g_assert_cmpstr(hdr(r, "x-content-type-options"), ==, "nosniff");
	g_assert_cmpstr(hdr(r, "referrer-policy"), ==, "no-referrer");
	g_assert_cmpstr(hdr(r, "cache-control"), ==, "no-cache");
}

static gpointer client_static(gpointer data)
{
	Fixture *f = data;
	static const struct {
		const char *path, *type, *body;
	} ok[] = {
	    {"/", "text/html; charset=utf-8", "<h1>index</h1>"},
	    {"/teacher", "text/html; charset=utf-8", "<h1>teacher</h1>"},
	    {"/teacher.html", "text/html; charset=utf-8", "<h1>teacher</h1>"},
	    {"/app.js", "text/javascript; charset=utf-8", "export const x = 1;\n"},
	    {"/style.css?v=2", "text/css; charset=utf-8", "body{}"},
	    {"/site.webmanifest", "application/manifest+json", "{}"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autofree char *raw =
		    g_strdup_printf("GET %s HTTP/1.1\r\nHost: t\r\n\r\n", ok[i].path);
		g_autoptr(Resp) r = request(f, raw);
		g_assert_cmpuint(r->status, ==, 200);
		g_assert_cmpstr(hdr(r, "content-type"), ==, ok[i].type);
		g_assert_cmpstr(r->body->str, ==, ok[i].body);
		assert_static_headers(r);
	}
	static const char *const missing[] = {
	    "/nope",
	    "/.hidden",
	    "/../secret.txt",
	    "/../../etc/passwd",
	    "/%2e%2e/secret.txt",
	    "/a/..%2f..%2fsecret.txt",
	    "/x/",
	};
	for (guint i = 0; i < G_N_ELEMENTS(missing); i++) {
		g_autofree char *raw =
		    g_strdup_printf("GET %s HTTP/1.1\r\nHost: t\r\n\r\n", missing[i]);
		g_autoptr(Resp) r = request(f, raw);
		g_test_message("%s -> %u", missing[i], r->status);
		g_assert_true(r->status == 404 || r->status == 400);
		g_assert_cmpstr(hdr(r, "content-type"), ==, "application/json");
		g_assert_null(strstr(r->body->str, "outside"));
	}

	/* An encoded NUL: lws itself drops the connection. */
	Conn *z = conn_open(f->port);
	conn_sendf(z, "GET /app.js%%00.html HTTP/1.1\r\nHost: t\r\n\r\n");
	Resp *zr = conn_read(z, FALSE);
	g_assert_true(!zr || zr->status == 400 || zr->status == 404);
	g_clear_pointer(&zr, resp_free);
	conn_close(z);

	/* HEAD: the length of the file, no body (the next response parses). */
	Conn *c = conn_open(f->port);
	conn_sendf(c, "HEAD /app.js HTTP/1.1\r\nHost: t\r\n\r\nGET /style.css HTTP/1.1\r\n"
	              "Host: t\r\n\r\n");
	g_autoptr(Resp) h = conn_read(c, TRUE);
	g_assert_cmpuint(h->status, ==, 200);
	g_assert_cmpstr(hdr(h, "content-length"), ==, "20");
	g_autoptr(Resp) g = conn_read(c, FALSE);
	g_assert_cmpstr(g->body->str, ==, "body{}");
	conn_close(c);

	/* Files are not POST targets. */
	g_autoptr(Resp) p =
	    request(f, "POST /app.js HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx");
	assert_json_error(p, 405, "method_not_allowed");
	g_assert_cmpstr(hdr(p, "allow"), ==, "GET, HEAD");
	client_finished(f);
	return NULL;
}

static void test_static(Fixture *f, gconstpointer data)
{
	run_client(f, client_static);
}

static void test_static_resolve(void)
{
	g_autofree char *root = realpath(web_root, NULL);
	g_autofree char *index = kt_http_static_resolve(root, "/");
	g_autofree char *expect = g_build_filename(root, "index.html", NULL);
	g_assert_cmpstr(index, ==, expect);
	g_autofree char *teacher = kt_http_static_resolve(root, "/teacher");
	g_assert_true(g_str_has_suffix(teacher, "/teacher.html"));
	g_assert_null(kt_http_static_resolve(root, "/../secret.txt"));
	g_assert_null(kt_http_static_resolve(root, "/./index.html"));
	g_assert_null(kt_http_static_resolve(root, "/.hidden"));
	g_assert_null(kt_http_static_resolve(root, "/a\\b"));
	g_assert_null(kt_http_static_resolve(root, "index.html"));
	g_assert_null(kt_http_static_resolve(root, ""));
	g_assert_null(kt_http_static_resolve(NULL, "/"));

	g_assert_cmpstr(kt_http_static_mime_type("a.mjs"), ==, "text/javascript; charset=utf-8");
	g_assert_cmpstr(kt_http_static_mime_type("a.WASM"), ==, "application/wasm");
	g_assert_cmpstr(kt_http_static_mime_type("a.svg"), ==, "image/svg+xml");
	g_assert_cmpstr(kt_http_static_mime_type("a.woff2"), ==, "font/woff2");
	g_assert_cmpstr(kt_http_static_mime_type("live.m3u8"), ==, "application/vnd.apple.mpegurl");
	g_assert_cmpstr(kt_http_static_mime_type("seg1.ts"), ==, "video/mp2t");
	g_assert_cmpstr(kt_http_static_mime_type("v.mp4"), ==, "video/mp4");
	g_assert_cmpstr(kt_http_static_mime_type("favicon.ico"), ==, "image/x-icon");
	g_assert_cmpstr(kt_http_static_mime_type("dir.d/noext"), ==, "application/octet-stream");
}

static gpointer client_deferred(gpointer data)
{
	Fixture *f = data;
	Conn *c = conn_open(f->port);
	conn_sendf(c, "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) r = conn_read(c, FALSE);
	g_assert_cmpuint(r->status, ==, 200);
	g_assert_cmpstr(r->body->str, ==, "late");
	/* the connection is reusable after a deferred response */
	conn_sendf(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) r2 = conn_read(c, FALSE);
	g_assert_cmpuint(r2->status, ==, 200);
	/* pipelined behind a deferred response: answered in order */
	conn_sendf(c,
	           "GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) r3 = conn_read(c, FALSE);
	g_assert_cmpstr(r3->body->str, ==, "late");
	g_autoptr(Resp) r4 = conn_read(c, FALSE);
	g_assert_cmpstr(r4->body->str, ==, "{\"status\":\"ok\"}");
	conn_close(c);
	client_finished(f);
	return NULL;
}

static void test_deferred(Fixture *f, gconstpointer data)
{
	run_client(f, client_deferred);
	g_assert_cmpint(f->cancelled, ==, 0);
	g_assert_null(f->pending);
}

static gpointer client_disconnect(gpointer data)
{
	Fixture *f = data;
	Conn *c = conn_open(f->port);
	conn_sendf(c, "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n");
	while (!g_atomic_int_get(&f->handler_entered))
		g_usleep(1000);
	conn_close(c); /* before the deferred response */
	client_finished(f);
	return NULL;
}

static void test_cancel_on_disconnect(Fixture *f, gconstpointer data)
{
	run_client(f, client_disconnect);
	gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!g_atomic_int_get(&f->cancelled) && g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(f->cancelled, ==, 1);
	g_assert_null(f->pending);
	g_assert_cmpuint(f->pending_source, ==, 0);
}

static gint free_done;

static gpointer client_during_free(gpointer data)
{
	Fixture *f = data;
	Conn *c = conn_open(f->port);
	Conn *idle = conn_open(f->port); /* a second, idle connection */
	conn_sendf(c, "GET /hang HTTP/1.1\r\nHost: t\r\n\r\n");
	while (!g_atomic_int_get(&free_done))
		g_usleep(1000);
	g_assert_null(conn_read(c, FALSE)); /* closed without a response */
	conn_close(c);
	conn_close(idle);
	client_finished(f);
	return NULL;
}

static void test_free_with_open_connection(Fixture *f, gconstpointer data)
{
	guint guard = g_timeout_add_seconds(30, fail_timeout, NULL);
	f->client = g_thread_new("client", client_during_free, f);
	while (!g_atomic_int_get(&f->handler_entered))
		g_main_context_iteration(NULL, TRUE);
	kt_http_server_free(g_steal_pointer(&f->server));
	g_assert_cmpint(f->cancelled, ==, 1);
	g_atomic_int_set(&free_done, 1);
	g_thread_join(f->client);
	g_source_remove(guard);
}

static void test_range_parse(void)
{
	static const struct {
		const char *value;
		guint64 size;
		KtHttpRangeResult result;
		guint64 start, length;
	} cases[] = {
	    {NULL, 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=0-0", 10, KT_HTTP_RANGE_PARTIAL, 0, 1},
	    {"bytes=0-99", 1000, KT_HTTP_RANGE_PARTIAL, 0, 100},
	    {"BYTES=2-", 10, KT_HTTP_RANGE_PARTIAL, 2, 8},
	    {"bytes=-3", 10, KT_HTTP_RANGE_PARTIAL, 7, 3},
	    {"bytes=-30", 10, KT_HTTP_RANGE_PARTIAL, 0, 10},  /* longer suffix: all of it */
	    {"bytes=5-500", 10, KT_HTTP_RANGE_PARTIAL, 5, 5}, /* last-pos clamped */
	    {"bytes= 1-2 ", 10, KT_HTTP_RANGE_PARTIAL, 1, 2},
	    {"bytes=9-99999999999999999999999", 10, KT_HTTP_RANGE_PARTIAL, 9, 1},
	    {"bytes=10-", 10, KT_HTTP_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=99999999999999999999999-", 10, KT_HTTP_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=-0", 10, KT_HTTP_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=0-", 0, KT_HTTP_RANGE_UNSATISFIABLE, 0, 0},
	    {"bytes=-5", 0, KT_HTTP_RANGE_UNSATISFIABLE, 0, 0},
	    /* ignored: whole file */
	    {"bytes=0-1,3-4", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=5-2", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"items=0-1", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=-", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=a-b", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=1-2x", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=1", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=+1-2", 10, KT_HTTP_RANGE_NONE, 0, 0},
	    {"bytes=--1", 10, KT_HTTP_RANGE_NONE, 0, 0},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint64 start = 0, length = 0;
		KtHttpRangeResult got =
		    kt_http_range_parse(cases[i].value, cases[i].size, &start, &length);
		g_test_message("%s", cases[i].value ? cases[i].value : "(null)");
		g_assert_cmpint(got, ==, cases[i].result);
		if (got == KT_HTTP_RANGE_PARTIAL) {
			g_assert_cmpuint(start, ==, cases[i].start);
			g_assert_cmpuint(length, ==, cases[i].length);
		}
	}
}

/* Checks that @r's body is bytes [start, start + len) of big.mp4. */
static void assert_slice(Resp *r, guint start, guint len)
{
	g_assert_cmpuint(r->body->len, ==, len);
	for (guint i = 0; i < len; i++)
		if ((guchar)r->body->str[i] != (start + i) % 251)
			g_error("byte %u of the slice at %u is wrong", i, start);
}

static gpointer client_file(gpointer data)
{
	Fixture *f = data;
	Conn *c = conn_open(f->port);

	/* whole file, many chunks; then ranges on the same connection */
	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) all = conn_read(c, FALSE);
	g_assert_cmpuint(all->status, ==, 200);
	g_assert_cmpstr(hdr(all, "content-type"), ==, "video/mp4");
	g_assert_cmpstr(hdr(all, "accept-ranges"), ==, "bytes");
	g_assert_cmpstr(hdr(all, "x-extra"), ==, "1");
	g_assert_null(hdr(all, "content-range"));
	assert_slice(all, 0, 100000);

	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=0-99\r\n\r\n");
	g_autoptr(Resp) first = conn_read(c, FALSE);
	g_assert_cmpuint(first->status, ==, 206);
	g_assert_cmpstr(hdr(first, "content-range"), ==, "bytes 0-99/100000");
	g_assert_cmpstr(hdr(first, "content-length"), ==, "100");
	assert_slice(first, 0, 100);

	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=40000-79999\r\n\r\n");
	g_autoptr(Resp) mid = conn_read(c, FALSE);
	g_assert_cmpuint(mid->status, ==, 206);
	g_assert_cmpstr(hdr(mid, "content-range"), ==, "bytes 40000-79999/100000");
	assert_slice(mid, 40000, 40000);

	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=-10\r\n\r\n");
	g_autoptr(Resp) suffix = conn_read(c, FALSE);
	g_assert_cmpuint(suffix->status, ==, 206);
	g_assert_cmpstr(hdr(suffix, "content-range"), ==, "bytes 99990-99999/100000");
	assert_slice(suffix, 99990, 10);

	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=100000-\r\n\r\n");
	g_autoptr(Resp) bad = conn_read(c, FALSE);
	assert_json_error(bad, 416, "range_not_satisfiable");
	g_assert_cmpstr(hdr(bad, "content-range"), ==, "bytes */100000");

	/* several ranges: the whole file (RFC 9110 §14.2); If-Range: the whole file */
	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1,4-5\r\n\r\n");
	g_autoptr(Resp) multi = conn_read(c, FALSE);
	g_assert_cmpuint(multi->status, ==, 200);
	g_assert_cmpuint(multi->body->len, ==, 100000);
	conn_sendf(c, "GET /file HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1\r\n"
	              "If-Range: \"x\"\r\n\r\n");
	g_autoptr(Resp) ifr = conn_read(c, FALSE);
	g_assert_cmpuint(ifr->status, ==, 200);
	g_assert_cmpuint(ifr->body->len, ==, 100000);

	/* HEAD with a range: the headers only, then the next response parses */
	conn_sendf(c, "HEAD /file HTTP/1.1\r\nHost: t\r\nRange: bytes=10-19\r\n\r\n");
	g_autoptr(Resp) head = conn_read(c, TRUE);
	g_assert_cmpuint(head->status, ==, 206);
	g_assert_cmpstr(hdr(head, "content-length"), ==, "10");
	g_assert_cmpuint(head->body->len, ==, 0);
	conn_sendf(c, "GET /file-missing HTTP/1.1\r\nHost: t\r\n\r\n");
	g_autoptr(Resp) missing = conn_read(c, FALSE);
	assert_json_error(missing, 404, "not_found");
	conn_close(c);
	client_finished(f);
	return NULL;
}

static void test_file(Fixture *f, gconstpointer data)
{
	run_client(f, client_file);
}

static void test_config_errors(void)
{
	Fixture f = {.loop = g_main_loop_new(NULL, FALSE)};
	GError *error = NULL;

	static const char *const bad_entries[][2] = {
	    {"127.0.0.1", NULL}, {"127.0.0.1:99999", NULL}, {"localhost:80", NULL},
	    {"::1:8443", NULL},  {"[127.0.0.1]:1", NULL},   {"[::1:1", NULL},
	};
	for (guint i = 0; i < G_N_ELEMENTS(bad_entries); i++) {
		g_assert_null(start_server(&f, bad_entries[i], &error));
		g_assert_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_CONFIG);
		g_clear_error(&error);
	}

	/* Busy port: a second server on the first one's port. */
	const char *listen[] = {"127.0.0.1:0", NULL};
	KtHttpServer *s = start_server(&f, listen, &error);
	g_assert_no_error(error);
	g_autofree char *taken = g_strdup_printf("127.0.0.1:%u", kt_http_server_get_port(s, 0));
	const char *listen2[] = {taken, NULL};
	g_assert_null(start_server(&f, listen2, &error));
	g_assert_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_LISTEN);
	g_clear_error(&error);
	/* Two servers at once (a second lws context coming and going). */
	KtHttpServer *s2 = start_server(&f, listen, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(kt_http_server_get_port(s2, 0), !=, kt_http_server_get_port(s, 0));
	kt_http_server_free(s2);
	kt_http_server_free(s);

	/* Unreadable certificate. */
	g_autofree char *saved = cert_path;
	cert_path = g_build_filename(tmp_dir, "missing.pem", NULL);
	g_assert_null(start_server(&f, listen, &error));
	g_assert_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_TLS);
	g_clear_error(&error);
	g_free(cert_path);
	cert_path = key_path; /* a key is not a certificate */
	g_assert_null(start_server(&f, listen, &error));
	g_assert_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_TLS);
	g_clear_error(&error);
	cert_path = g_steal_pointer(&saved);

	while (g_main_context_iteration(NULL, FALSE))
		;
	g_main_loop_unref(f.loop);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	setup_files();

#define ADD(name, fn) g_test_add("/http/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("routes", test_routes);
	ADD("body-limits", test_body_limits);
	ADD("static", test_static);
	ADD("deferred", test_deferred);
	ADD("cancel-on-disconnect", test_cancel_on_disconnect);
	ADD("free-with-open-connection", test_free_with_open_connection);
	ADD("file-range", test_file);
#undef ADD
	g_test_add_func("/http/static-resolve", test_static_resolve);
	g_test_add_func("/http/config-errors", test_config_errors);
	g_test_add_func("/http/range-parse", test_range_parse);

	int ret = g_test_run();
	tmp_dir_remove(tmp_dir);
	g_free(tmp_dir);
	g_free(cert_path);
	g_free(key_path);
	g_free(web_root);
	return ret;
}
