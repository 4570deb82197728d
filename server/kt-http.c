/* kt-http.c — lws context and vhosts, the protocol callback, routing.
 *
 * One lws protocol ("kt-http") receives every HTTP request on every vhost.
 * Per connection, the session holds at most one KtHttpRequest (HTTP/1.1 has
 * one transaction in flight). The request is created at LWS_CALLBACK_HTTP,
 * dispatched once the body is complete, and freed after the last response
 * byte was written (kt-http-request.c) or when the connection closes.
 */
#define G_LOG_DOMAIN "kt-http"

#include "kt-http-private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

// clang-format off
G_DEFINE_QUARK(kt-http-error-quark, kt_http_error)
// clang-format on

#define KT_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
/* Bodies a little over the limit are read and discarded so that the 413 is
 * delivered on a healthy connection; beyond this much we answer at once and
 * close (the client may then see a reset instead of the 413). */
#define KT_HTTP_DRAIN_MAX (1024 * 1024)
/* A handler that never responds, or a client that stops reading, frees its
 * connection after this long (the cancel func runs). */
#define KT_HTTP_IDLE_TIMEOUT_S 120

typedef struct {
	KtHttpRequest *req;
} KtHttpSession;

static const struct {
	enum lws_token_indexes token;
	KtHttpMethod method;
	const char *name;
} kt_http_methods[] = {
    {WSI_TOKEN_GET_URI, KT_HTTP_GET, "GET"},
    {WSI_TOKEN_POST_URI, KT_HTTP_POST, "POST"},
    {WSI_TOKEN_DELETE_URI, KT_HTTP_DELETE, "DELETE"},
    {WSI_TOKEN_OPTIONS_URI, KT_HTTP_OPTIONS, "OPTIONS"},
    {WSI_TOKEN_PATCH_URI, KT_HTTP_PATCH, "PATCH"},
    {WSI_TOKEN_HEAD_URI, KT_HTTP_HEAD, "HEAD"},
    {WSI_TOKEN_PUT_URI, KT_HTTP_PUT, "PUT"},
};

const char *kt_http_method_name(KtHttpMethod m)
{
	for (guint i = 0; i < G_N_ELEMENTS(kt_http_methods); i++)
		if (kt_http_methods[i].method == m)
			return kt_http_methods[i].name;
	return "?";
}

/* "GET, POST, OPTIONS" for an Allow / Access-Control-Allow-Methods header. */
static char *kt_http_methods_string(guint mask)
{
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < G_N_ELEMENTS(kt_http_methods); i++) {
		if (!(mask & kt_http_methods[i].method))
			continue;
		if (s->len)
			g_string_append(s, ", ");
		g_string_append(s, kt_http_methods[i].name);
	}
	return g_string_free(s, FALSE);
}

static int kt_http_on_writeable(struct lws *wsi, KtHttpSession *sess)
{
	KtHttpRequest *r = sess->req;
	if (!r || !r->responded)
		return 0;

	int rc = kt_http_request_write_some(r);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, KT_HTTP_IDLE_TIMEOUT_S);
		lws_callback_on_writable(wsi);
		return 0;
	}
	gboolean close_after = r->resp.close_after;
	sess->req = NULL;
	kt_http_request_free(r);
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	if (close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---------------------------------------------------------------- dispatch */

static const KtHttpRouteEntry *kt_http_find_route(KtHttpServer *s, const char *path)
{
	const KtHttpRouteEntry *best = NULL;
	for (guint i = 0; i < s->n_routes; i++) {
		const KtHttpRouteEntry *e = &s->routes[i];
		gboolean hit =
		    e->exact ? !strcmp(path, e->prefix) : !strncmp(path, e->prefix, e->prefix_len);
		if (hit && (!best || e->prefix_len > best->prefix_len))
			best = e;
	}
	return best;
}

/* CORS preflight (Fetch standard, "CORS protocol"): answered for the route
 * without involving its handler. */
static void kt_http_respond_preflight(KtHttpRequest *r)
{
	g_autofree char *methods = kt_http_methods_string(r->route->methods | KT_HTTP_OPTIONS);
	const char *headers[] = {"Access-Control-Allow-Methods",
	                         methods,
	                         "Access-Control-Allow-Headers",
	                         "Authorization, Content-Type",
	                         "Access-Control-Max-Age",
	                         "86400",
	                         NULL};
	kt_http_request_respond(r, 204, NULL, headers, NULL, 0);
}

static void kt_http_dispatch(KtHttpRequest *r)
{
	const KtHttpRouteEntry *route = r->route;

	r->dispatched = TRUE;
	g_byte_array_append(r->body, (const guint8 *)"", 1); /* the promised NUL */
	g_byte_array_set_size(r->body, r->body->len - 1);
	if (r->body_too_large) {
		kt_http_request_respond_error(r, 413, "payload_too_large",
		                              "request body exceeds %" G_GSIZE_FORMAT " bytes",
		                              r->body_limit);
	} else if (!route) {
		kt_http_static_serve(r);
	} else if (route->cors && r->method == KT_HTTP_OPTIONS) {
		kt_http_respond_preflight(r);
	} else if (!(route->methods & r->method)) {
		guint allowed = route->methods | (route->cors ? KT_HTTP_OPTIONS : 0);
		g_autofree char *allow = kt_http_methods_string(allowed);
		const char *headers[] = {"Allow", allow, NULL};
		g_autofree char *message = g_strdup_printf("allowed: %s", allow);
		kt_http_request_respond_error_full(r, 405, headers, "method_not_allowed", message);
	} else {
		/* The handler may take its time (deferred response). */
		lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, KT_HTTP_IDLE_TIMEOUT_S);
		route->handler(r, route->user_data);
		if (!r->responded)
			kt_http_request_defer(r);
	}
}

/* Method and decoded path of the request line. Returns 0, or an HTTP status
 * with *problem set. */
static guint kt_http_read_target(struct lws *wsi, KtHttpRequest *r, const char **problem)
{
	for (guint i = 0; i < G_N_ELEMENTS(kt_http_methods); i++) {
		int n = lws_hdr_total_length(wsi, kt_http_methods[i].token);
		if (n <= 0)
			continue;
		r->method = kt_http_methods[i].method;
		r->path = g_malloc(n + 1);
		if (lws_hdr_copy(wsi, r->path, n + 1, kt_http_methods[i].token) != n)
			*problem = "unreadable request target";
		else if (strlen(r->path) != (gsize)n)
			*problem = "NUL in request path";
		else if (r->path[0] != '/')
			*problem = "request path must start with /";
		return *problem ? 400 : 0;
	}
	*problem = "unsupported method";
	return 501;
}

/* Content-Length of the request: 0 when absent, -1 when unusable. */
static gint64 kt_http_read_content_length(struct lws *wsi)
{
	char buf[32];
	guint64 v;
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (n <= 0)
		return 0;
	if (n >= (int)sizeof buf ||
	    lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) < 0 ||
	    !g_ascii_string_to_unsigned(buf, 10, 0, G_MAXINT64, &v, NULL))
		return -1;
	return (gint64)v;
}

/* Answers before the body was read: the connection cannot be reused. */
static void kt_http_reject_early(KtHttpRequest *r, guint status, const char *code,
                                 const char *message)
{
	r->resp.close_after = TRUE;
	r->dispatched = TRUE;
	kt_http_request_respond_error_full(r, status, NULL, code, message);
}

/* [limits] http_rate: a client address over its rate gets 429 at once. */
static gboolean kt_http_rate_ok(KtHttpServer *s, KtHttpRequest *r)
{
	char addr[64], retry_s[16];
	guint retry = 1;

	if (!s->rate)
		return TRUE;
	if (!lws_get_peer_simple(r->wsi, addr, sizeof addr))
		addr[0] = '\0';
	if (kt_rate_table_take(s->rate, addr, g_get_monotonic_time(), &retry))
		return TRUE;
	g_snprintf(retry_s, sizeof retry_s, "%u", retry);
	const char *headers[] = {"Retry-After", retry_s, NULL};
	r->resp.close_after = TRUE;
	r->dispatched = TRUE;
	kt_http_request_respond_error_full(r, 429, headers, "rate_limited",
	                                   "too many requests from this address: retry later");
	return FALSE;
}

static int kt_http_on_request(struct lws *wsi, KtHttpSession *sess)
{
	KtHttpServer *s = lws_context_user(lws_get_context(wsi));
	KtHttpRequest *r = kt_http_request_new(s, wsi);

	if (sess->req) /* HTTP/1.1 runs one transaction at a time */
		kt_http_request_abandon(sess->req);
	sess->req = r;

	const char *problem = NULL;
	guint status = kt_http_read_target(wsi, r, &problem);
	if (status) {
		if (!r->path)
			r->path = g_strdup("-");
		kt_http_reject_early(r, status, status == 501 ? "not_implemented" : "bad_request",
		                     problem);
		return 0;
	}
	if (!kt_http_rate_ok(s, r))
		return 0;
	r->route = kt_http_find_route(s, r->path);
	r->body_limit = r->route && r->route->max_body ? r->route->max_body : s->max_body;

	gint64 clen = kt_http_read_content_length(wsi);
	if (clen < 0) {
		kt_http_reject_early(r, 400, "bad_request", "invalid Content-Length");
	} else if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
		/* Chunked request bodies are not supported; every client we
		 * serve (fetch, WHIP) sends a Content-Length. */
		kt_http_reject_early(r, 411, "length_required", "send a Content-Length");
	} else if ((guint64)clen > r->body_limit + (guint64)KT_HTTP_DRAIN_MAX) {
		r->body_too_large = TRUE;
		r->resp.close_after = TRUE;
		kt_http_dispatch(r);
	} else if ((guint64)clen > r->body_limit) {
		r->body_too_large = TRUE; /* drain it, then answer 413 */
	} else if (clen == 0) {
		kt_http_dispatch(r);
	}
	return 0;
}

static void kt_http_on_body(KtHttpSession *sess, const void *in, size_t len)
{
	KtHttpRequest *r = sess->req;
	if (!r || r->dispatched || r->body_too_large)
		return;
	if (r->body->len + len > r->body_limit) {
		r->body_too_large = TRUE;
		g_byte_array_set_size(r->body, 0);
		return;
	}
	g_byte_array_append(r->body, in, (guint)len);
}

static void kt_http_session_drop(KtHttpSession *sess)
{
	KtHttpRequest *r = sess ? sess->req : NULL;
	if (!r)
		return;
	sess->req = NULL;
	kt_http_request_abandon(r);
}

static int kt_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
	KtHttpSession *sess = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* A WebSocket upgrade naming no protocol of ours lands here:
		 * refuse it rather than keep a silent socket. */
		return 1;
	case LWS_CALLBACK_HTTP:
		return sess ? kt_http_on_request(wsi, sess) : -1;
	case LWS_CALLBACK_HTTP_BODY:
		if (sess)
			kt_http_on_body(sess, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (sess && sess->req && !sess->req->dispatched)
			kt_http_dispatch(sess->req);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return sess ? kt_http_on_writeable(wsi, sess) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		kt_http_session_drop(sess);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ------------------------------------------------------------------ server */

static void kt_http_lws_log(int level, const char *line)
{
	gsize n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		g_message("lws: %.*s", (int)n, line);
	else
		g_debug("lws: %.*s", (int)n, line);
}

/* Opens cert and key and checks they belong together, so that a bad path
 * gives a clear error instead of an lws log line. */
static gboolean kt_http_check_tls_files(const char *cert_path, const char *key_path, GError **error)
{
	BIO *bio = BIO_new_file(cert_path, "r");
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bio = BIO_new_file(key_path, "r");
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();

	gboolean ok = FALSE;
	if (!cert)
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_TLS,
		            "cannot read a PEM certificate from %s", cert_path);
	else if (!key)
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_TLS,
		            "cannot read a PEM private key from %s", key_path);
	else if (X509_check_private_key(cert, key) != 1)
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_TLS,
		            "private key %s does not match certificate %s", key_path, cert_path);
	else
		ok = TRUE;
	ERR_clear_error();
	X509_free(cert);
	EVP_PKEY_free(key);
	return ok;
}

/* Splits "ADDR:PORT" / "[V6ADDR]:PORT"; sets *family (AF_INET/AF_INET6). */
static gboolean kt_http_parse_listen(const char *entry, char **addr, guint16 *port, int *family,
                                     GError **error)
{
	const char *colon = strrchr(entry, ':');
	g_autofree char *host = NULL;
	guint64 p;
	guint8 tmp[16];

	if (colon && entry[0] == '[' && colon > entry && colon[-1] == ']')
		host = g_strndup(entry + 1, colon - entry - 2);
	else if (colon)
		host = g_strndup(entry, colon - entry);
	if (!host || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &p, NULL)) {
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_CONFIG,
		            "listen entry \"%s\" is not ADDR:PORT", entry);
		return FALSE;
	}
	if (inet_pton(AF_INET, host, tmp) == 1 && entry[0] != '[')
		*family = AF_INET;
	else if (inet_pton(AF_INET6, host, tmp) == 1 && entry[0] == '[')
		*family = AF_INET6;
	else {
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_CONFIG,
		            "listen entry \"%s\": not a numeric address (IPv6 goes in [])", entry);
		return FALSE;
	}
	*addr = g_steal_pointer(&host);
	*port = (guint16)p;
	return TRUE;
}

/* lws only logs "ERROR on binding" and leaves a half-built vhost behind: try
 * the bind here first (same socket options as lws) so that a busy port is a
 * clear GError before lws sees it. Port 0 always binds. */
static gboolean kt_http_probe_bind(const char *entry, int family, const char *addr, guint16 port,
                                   GError **error)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int one = 1, rc, err;

	if (port == 0)
		return TRUE;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return TRUE; /* let lws report it */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET) {
		inet_pton(AF_INET, addr, &sin.sin_addr);
		rc = bind(fd, (struct sockaddr *)&sin, sizeof sin);
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		inet_pton(AF_INET6, addr, &sin6.sin6_addr);
		rc = bind(fd, (struct sockaddr *)&sin6, sizeof sin6);
	}
	err = errno;
	close(fd);
	if (rc < 0) {
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_LISTEN, "cannot listen on %s: %s",
		            entry, g_strerror(err));
		return FALSE;
	}
	return TRUE;
}

static gboolean kt_http_add_vhost(KtHttpServer *s, const KtHttpServerConfig *cfg, const char *entry,
                                  guint index, GError **error)
{
	struct lws_context_creation_info vi = {0};
	char *addr = NULL;
	guint16 port;
	int family;

	if (!kt_http_parse_listen(entry, &addr, &port, &family, error))
		return FALSE;
	g_ptr_array_add(s->strings, addr);
	if (!kt_http_probe_bind(entry, family, addr, port, error))
		return FALSE;
	vi.port = port;
	/* Always a numeric iface, wildcards too: lws lets a vhost share the
	 * listen socket of another with the same port and iface, and two NULL
	 * ifaces would put "[::]" on the IPv4 socket of "0.0.0.0". */
	vi.iface = addr;
	vi.protocols = s->protocols;
	char *name = g_strdup_printf("kt-%u", index);
	g_ptr_array_add(s->strings, name);
	vi.vhost_name = name;
	vi.ssl_cert_filepath = cfg->cert_path;
	vi.ssl_private_key_filepath = cfg->key_path;
	vi.alpn = "http/1.1";
	kt_http_security_set_tls(&vi);
	/* The server makes no client connections; a minimal client context
	 * of ours stops lws loading the OS CA store for each vhost (and
	 * leaking it, in 4.1, when another lws context is destroyed). */
	vi.provided_client_ssl_ctx = s->client_ssl_ctx;
	/* lws only sets up TLS on a vhost whose own options ask for it. */
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_GLIB |
	             LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (family == AF_INET)
		vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	else
		vi.options |=
		    LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;

	struct lws_vhost *vh = lws_create_vhost(s->context, &vi);
	if (!vh) {
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_LISTEN,
		            "cannot listen on %s (address in use or not available)", entry);
		return FALSE;
	}
	g_ptr_array_add(s->vhosts, vh);
	return TRUE;
}

static void kt_http_copy_config(KtHttpServer *s, const KtHttpServerConfig *cfg)
{
	guint n_extra = 0;

	s->max_body = cfg->max_body ? cfg->max_body : KT_HTTP_DEFAULT_MAX_BODY;
	if (cfg->rate)
		s->rate = kt_rate_table_new(cfg->rate, cfg->rate_burst, 0);
	s->hsts = cfg->hsts;
	s->n_routes = cfg->n_routes;
	s->routes = g_new0(KtHttpRouteEntry, cfg->n_routes);
	for (guint i = 0; i < cfg->n_routes; i++) {
		const KtHttpRoute *in = &cfg->routes[i];
		s->routes[i] = (KtHttpRouteEntry){
		    .prefix = g_strdup(in->prefix),
		    .prefix_len = strlen(in->prefix),
		    .exact = in->exact,
		    .methods = in->methods,
		    .cors = in->cors,
		    .max_body = in->max_body,
		    .handler = in->handler,
		    .user_data = in->user_data,
		};
	}
	while (cfg->extra_protocols && cfg->extra_protocols[n_extra].callback)
		n_extra++;
	/* ours, the extras, and the zeroed terminator */
	s->protocols = g_new0(struct lws_protocols, n_extra + 2);
	s->protocols[0] = (struct lws_protocols){
	    .name = "kt-http",
	    .callback = kt_http_callback,
	    .per_session_data_size = sizeof(KtHttpSession),
	};
	if (n_extra)
		memcpy(&s->protocols[1], cfg->extra_protocols, n_extra * sizeof *s->protocols);
}

static gboolean kt_http_create_context(KtHttpServer *s, GMainLoop *loop, GError **error)
{
	struct lws_context_creation_info info = {0};

	lws_set_log_level(LLL_ERR | LLL_WARN, kt_http_lws_log);
	s->loop = loop;
	s->foreign_loops[0] = loop;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_GLIB |
	               LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = s->foreign_loops;
	info.user = s;
	info.port = CONTEXT_PORT_NO_LISTEN;
	s->client_ssl_ctx = SSL_CTX_new(TLS_client_method());
	s->context = lws_create_context(&info);
	if (!s->context) {
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_INIT,
		            "cannot create the lws context (is libwebsockets-evlib-glib "
		            "installed?)");
		return FALSE;
	}
	return TRUE;
}

KtHttpServer *kt_http_server_new(const KtHttpServerConfig *cfg, GError **error)
{
	g_return_val_if_fail(cfg && cfg->loop && cfg->listen, NULL);
	g_return_val_if_fail(cfg->cert_path && cfg->key_path, NULL);
	g_return_val_if_fail(cfg->n_routes == 0 || cfg->routes, NULL);

	if (!cfg->listen[0]) {
		g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_CONFIG, "no listen address");
		return NULL;
	}
	if (!kt_http_check_tls_files(cfg->cert_path, cfg->key_path, error))
		return NULL;

	KtHttpServer *s = g_new0(KtHttpServer, 1);
	s->vhosts = g_ptr_array_new();
	s->strings = g_ptr_array_new_with_free_func(g_free);
	s->requests = g_hash_table_new(NULL, NULL);
	if (cfg->web_root) {
		s->web_root = realpath(cfg->web_root, NULL);
		if (!s->web_root) {
			g_set_error(error, KT_HTTP_ERROR, KT_HTTP_ERROR_CONFIG, "web root %s: %s",
			            cfg->web_root, g_strerror(errno));
			kt_http_server_free(s);
			return NULL;
		}
	}
	kt_http_copy_config(s, cfg);
	if (!kt_http_create_context(s, cfg->loop, error)) {
		kt_http_server_free(s);
		return NULL;
	}
	for (guint i = 0; cfg->listen[i]; i++) {
		if (!kt_http_add_vhost(s, cfg, cfg->listen[i], i, error)) {
			kt_http_server_free(s);
			return NULL;
		}
	}
	return s;
}

guint16 kt_http_server_get_port(KtHttpServer *s, guint index)
{
	if (index >= s->vhosts->len)
		return 0;
	return (guint16)lws_get_vhost_listen_port(s->vhosts->pdata[index]);
}

void kt_http_server_free(KtHttpServer *s)
{
	if (!s)
		return;
	/* Closing the connections runs CLOSED_HTTP for each, which abandons
	 * (and cancels) their requests. */
	if (s->context)
		lws_context_destroy(s->context);
	s->context = NULL;
	SSL_CTX_free(s->client_ssl_ctx);

	GHashTable *left = g_steal_pointer(&s->requests);
	GHashTableIter it;
	gpointer r;
	g_hash_table_iter_init(&it, left);
	while (g_hash_table_iter_next(&it, &r, NULL)) {
		g_hash_table_iter_remove(&it);
		kt_http_request_abandon(r);
	}
	g_hash_table_unref(left);

	for (guint i = 0; i < s->n_routes; i++)
		g_free(s->routes[i].prefix);
	g_free(s->routes);
	g_free(s->protocols);
	g_ptr_array_unref(s->vhosts);
	g_ptr_array_unref(s->strings);
	kt_rate_table_free(s->rate);
	free(s->web_root);
	g_free(s);
}
