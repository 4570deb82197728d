/* kt-http.c — lws context, vhosts, request lifecycle and response writing.
 *
 * One lws protocol ("kt-http") receives every HTTP request on every vhost.
 * Per connection, the session holds at most one KtHttpRequest (HTTP/1.1 has
 * one transaction in flight). The request is created at LWS_CALLBACK_HTTP,
 * dispatched once the body is complete, and freed after the last response
 * byte was written or when the connection closes.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#define G_LOG_DOMAIN "kt-http"

#include "kt-http-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <glib-unix.h>
#include <openssl/err.h>
#include <openssl/pem.h>

G_DEFINE_QUARK(kt-http-error-quark, kt_http_error)

#define KT_HTTP_DEFAULT_MAX_BODY (1024 * 1024)
/* Bodies a little over the limit are read and discarded so that the 413 is
 * delivered on a healthy connection; beyond this much we answer at once and
 * close (the client may then see a reset instead of the 413). */
#define KT_HTTP_DRAIN_MAX (1024 * 1024)
#define KT_HTTP_CHUNK 16384
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

static const char *kt_http_method_name(KtHttpMethod m)
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

/* ---------------------------------------------------------------- requests */

static void kt_http_response_clear(KtHttpResponse *resp)
{
	g_free(resp->content_type);
	g_clear_pointer(&resp->headers, g_ptr_array_unref);
	g_clear_pointer(&resp->body, g_bytes_unref);
	if (resp->fd >= 0)
		close(resp->fd);
	resp->fd = -1;
}

static void kt_http_request_free(KtHttpRequest *r)
{
	g_clear_handle_id(&r->peer_watch, g_source_remove);
	if (r->server->requests)
		g_hash_table_remove(r->server->requests, r);
	kt_http_response_clear(&r->resp);
	g_byte_array_unref(r->body);
	g_free(r->path);
	g_free(r);
}

/* The connection is gone (or the server is going): a request still waiting
 * for its deferred response learns it through the cancel func. */
static void kt_http_request_abandon(KtHttpRequest *r)
{
	KtHttpCancelFunc cancel = r->cancel;
	r->wsi = NULL;
	r->cancel = NULL;
	if (r->dispatched && !r->responded && cancel) {
		g_debug("%s %s: client went away before the response", kt_http_method_name(r->method),
			r->path);
		cancel(r, r->cancel_data);
	}
	kt_http_request_free(r);
}

KtHttpMethod kt_http_request_get_method(KtHttpRequest *r)
{
	return r->method;
}

const char *kt_http_request_get_path(KtHttpRequest *r)
{
	return r->path;
}

static int kt_http_header_token(const char *name_colon)
{
	for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
		const char *s = (const char *)lws_token_to_string((enum lws_token_indexes)t);
		if (s && !g_ascii_strcasecmp(s, name_colon))
			return t;
	}
	return -1;
}

char *kt_http_request_get_header(KtHttpRequest *r, const char *lowercase_name)
{
	g_return_val_if_fail(r->wsi && lowercase_name, NULL);
	g_autofree char *key = g_strconcat(lowercase_name, ":", NULL);
	int token = kt_http_header_token(key);
	int n;
	char *value;

	if (token >= 0) {
		n = lws_hdr_total_length(r->wsi, (enum lws_token_indexes)token);
		if (n <= 0)
			return NULL;
		value = g_malloc(n + 1);
		if (lws_hdr_copy(r->wsi, value, n + 1, (enum lws_token_indexes)token) < 0)
			g_clear_pointer(&value, g_free);
		return value;
	}
	n = lws_hdr_custom_length(r->wsi, key, (int)strlen(key));
	if (n < 0)
		return NULL;
	value = g_malloc(n + 1);
	if (lws_hdr_custom_copy(r->wsi, value, n + 1, key, (int)strlen(key)) < 0)
		g_clear_pointer(&value, g_free);
	return value;
}

char *kt_http_request_get_query(KtHttpRequest *r, const char *name)
{
	g_return_val_if_fail(r->wsi && name, NULL);
	int total = lws_hdr_total_length(r->wsi, WSI_TOKEN_HTTP_URI_ARGS);
	if (total <= 0)
		return NULL;
	/* lws_get_urlarg_by_name stops at the first fragment that does not fit,
	 * so the buffer must hold the longest one: the total is enough. */
	g_autofree char *key = g_strconcat(name, "=", NULL);
	g_autofree char *buf = g_malloc(total + strlen(key) + 2);
	const char *v = lws_get_urlarg_by_name(r->wsi, key, buf, total + (int)strlen(key) + 2);
	return v ? g_strdup(v) : NULL;
}

const guint8 *kt_http_request_get_body(KtHttpRequest *r, gsize *len)
{
	if (len)
		*len = r->body->len;
	return r->body->data ? r->body->data : (const guint8 *)"";
}

char *kt_http_request_get_peer_address(KtHttpRequest *r)
{
	char buf[128];
	const char *s = r->wsi ? lws_get_peer_simple(r->wsi, buf, sizeof buf) : NULL;
	return g_strdup(s ? s : "");
}

void kt_http_request_set_cancel_func(KtHttpRequest *r, KtHttpCancelFunc fn, gpointer user_data)
{
	r->cancel = fn;
	r->cancel_data = user_data;
}

/* ------------------------------------------------------- deferred answers */

/* lws 4.1 does not read an HTTP/1.1 connection while its transaction is
 * open, and with POLLIN armed a peer that hangs up makes its GLib source
 * fire without end. So while a response is deferred, rx is paused (lws then
 * still sees an RST through its error watch) and this watch notices an
 * orderly close (FIN, usually after a TLS close_notify). */
static gboolean kt_http_on_peer_event(gint fd, GIOCondition cond, gpointer data)
{
	KtHttpRequest *r = data;

	r->peer_watch = 0;
	if (!(cond & (G_IO_HUP | G_IO_ERR))) {
		struct pollfd p = {.fd = fd, .events = POLLRDHUP};
		if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return G_SOURCE_REMOVE; /* pipelined bytes: the client is still there */
	}
	/* Closes now: CLOSED_HTTP runs the cancel func and frees r. */
	lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	return G_SOURCE_REMOVE;
}

static void kt_http_request_defer(KtHttpRequest *r)
{
	lws_rx_flow_control(r->wsi, 0);
	r->peer_watch = g_unix_fd_add(lws_get_socket_fd(r->wsi), G_IO_IN | G_IO_HUP | G_IO_ERR,
				      kt_http_on_peer_event, r);
}

static void kt_http_request_undefer(KtHttpRequest *r)
{
	if (!r->peer_watch)
		return;
	g_clear_handle_id(&r->peer_watch, g_source_remove);
	lws_rx_flow_control(r->wsi, 1);
}

/* --------------------------------------------------------------- responses */

static void kt_http_response_add_header(KtHttpResponse *resp, const char *name, const char *value)
{
	char *lower = g_ascii_strdown(name, -1);
	g_ptr_array_add(resp->headers, g_strconcat(lower, ":", NULL));
	g_ptr_array_add(resp->headers, g_strdup(value));
	g_free(lower);
}

/* RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no content. */
static gboolean kt_http_status_has_body(guint status)
{
	return status >= 200 && status != 204 && status != 304;
}

static void kt_http_request_queue(KtHttpRequest *r, guint status, const char *content_type,
				  const char *const *headers, GBytes *body, int fd, guint64 length)
{
	KtHttpResponse *resp = &r->resp;

	resp->status = status;
	resp->content_type = g_strdup(content_type);
	resp->headers = g_ptr_array_new_with_free_func(g_free);
	resp->body = body;
	resp->fd = fd;
	resp->length = kt_http_status_has_body(status) ? length : 0;
	for (guint i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		kt_http_response_add_header(resp, headers[i], headers[i + 1]);
	if (r->route && r->route->cors) {
		/* Fetch from another origin (WHIP/WHEP players, RFC 9725 §4.6)
		 * must be able to read these. */
		kt_http_response_add_header(resp, "Access-Control-Allow-Origin", "*");
		kt_http_response_add_header(resp, "Access-Control-Expose-Headers",
					    "Location, Link, ETag");
	}
	if (resp->close_after)
		kt_http_response_add_header(resp, "Connection", "close");
	r->responded = TRUE;
	r->dispatched = TRUE;
	kt_http_request_undefer(r);
	g_debug("%s %s -> %u", kt_http_method_name(r->method), r->path, status);
	lws_callback_on_writable(r->wsi);
}

void kt_http_request_respond(KtHttpRequest *r, guint status, const char *content_type,
			     const char *const *headers, const void *body, gsize len)
{
	g_return_if_fail(r != NULL && !r->responded && r->wsi);
	kt_http_request_queue(r, status, content_type, headers, g_bytes_new(body, len), -1, len);
}

void kt_http_request_respond_fd(KtHttpRequest *r, guint status, const char *content_type,
				const char *const *headers, int fd, guint64 length)
{
	g_return_if_fail(r != NULL && !r->responded && r->wsi);
	kt_http_request_queue(r, status, content_type, headers, NULL, fd, length);
}

void kt_http_request_respond_json(KtHttpRequest *r, guint status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	if (!text) {
		kt_http_request_respond_error(r, 500, "internal", "response could not be encoded");
		return;
	}
	kt_http_request_respond(r, status, "application/json", NULL, text, strlen(text));
	free(text);
}

void kt_http_request_respond_error_full(KtHttpRequest *r, guint status, const char *const *headers,
				       const char *code, const char *message)
{
	json_t *obj = json_pack("{s:s, s:s}", "error", code, "message", message);
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text) /* only on allocation failure or invalid UTF-8 in message */
		text = strdup("{\"error\":\"internal\",\"message\":\"unencodable error\"}");
	kt_http_request_respond(r, status, "application/json", headers, text, strlen(text));
	free(text);
}

void kt_http_request_respond_error(KtHttpRequest *r, guint status, const char *code,
				   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	kt_http_request_respond_error_full(r, status, NULL, code, message);
}

/* Status line and headers in one write. */
static int kt_http_write_headers(KtHttpRequest *r)
{
	KtHttpResponse *resp = &r->resp;
	gsize size = LWS_PRE + 512 + (resp->content_type ? strlen(resp->content_type) : 0);
	for (guint i = 0; i < resp->headers->len; i++)
		size += strlen(resp->headers->pdata[i]) + 4;
	g_autofree unsigned char *buf = g_malloc(size);
	unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + size - 1;
	char clen[24];

	if (lws_add_http_header_status(r->wsi, resp->status | LWSAHH_FLAG_NO_SERVER_NAME, &p, end))
		return -1;
	if (resp->content_type &&
	    lws_add_http_header_by_token(r->wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)resp->content_type,
					 (int)strlen(resp->content_type), &p, end))
		return -1;
	if (kt_http_status_has_body(resp->status)) {
		g_snprintf(clen, sizeof clen, "%" G_GUINT64_FORMAT, resp->length);
		if (lws_add_http_header_by_token(r->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
						 (const unsigned char *)clen, (int)strlen(clen), &p,
						 end))
			return -1;
	}
	for (guint i = 0; i + 1 < resp->headers->len; i += 2) {
		const char *v = resp->headers->pdata[i + 1];
		if (lws_add_http_header_by_name(r->wsi, resp->headers->pdata[i],
						(const unsigned char *)v, (int)strlen(v), &p, end))
			return -1;
	}
	return lws_finalize_write_http_header(r->wsi, start, &p, end) ? -1 : 0;
}

static int kt_http_write_body_chunk(KtHttpRequest *r)
{
	KtHttpResponse *resp = &r->resp;
	unsigned char buf[LWS_PRE + KT_HTTP_CHUNK];
	gsize n = MIN(resp->length - resp->sent, (guint64)KT_HTTP_CHUNK);

	if (resp->body) {
		memcpy(buf + LWS_PRE, (const guint8 *)g_bytes_get_data(resp->body, NULL) + resp->sent,
		       n);
	} else {
		ssize_t got;
		do
			got = read(resp->fd, buf + LWS_PRE, n);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			g_message("%s: read failed mid-response, closing", r->path);
			return -1;
		}
		n = (gsize)got;
	}
	resp->sent += n;
	enum lws_write_protocol wp =
		resp->sent == resp->length ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;
	return lws_write(r->wsi, buf + LWS_PRE, n, wp) < (int)n ? -1 : 0;
}

static int kt_http_on_writeable(struct lws *wsi, KtHttpSession *sess)
{
	KtHttpRequest *r = sess->req;
	if (!r || !r->responded)
		return 0;
	KtHttpResponse *resp = &r->resp;
	guint64 length = r->method == KT_HTTP_HEAD ? 0 : resp->length;

	if (!resp->headers_sent) {
		if (kt_http_write_headers(r) < 0)
			return -1;
		resp->headers_sent = TRUE;
	} else if (kt_http_write_body_chunk(r) < 0) {
		return -1;
	}
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, KT_HTTP_IDLE_TIMEOUT_S);
	if (resp->sent < length) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	gboolean close_after = resp->close_after;
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
		gboolean hit = e->exact ? !strcmp(path, e->prefix)
					: !strncmp(path, e->prefix, e->prefix_len);
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

static int kt_http_on_request(struct lws *wsi, KtHttpSession *sess)
{
	KtHttpServer *s = lws_context_user(lws_get_context(wsi));
	KtHttpRequest *r = g_new0(KtHttpRequest, 1);

	r->server = s;
	r->wsi = wsi;
	r->body = g_byte_array_new();
	r->resp.fd = -1;
	g_hash_table_add(s->requests, r);
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

static int kt_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			    void *in, size_t len)
{
	KtHttpSession *sess = user;

	switch (reason) {
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
static gboolean kt_http_check_tls_files(const char *cert_path, const char *key_path,
					GError **error)
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

static gboolean kt_http_add_vhost(KtHttpServer *s, const KtHttpServerConfig *cfg,
				  const char *entry, guint index, GError **error)
{
	struct lws_context_creation_info vi = {0};
	char *addr = NULL;
	guint16 port;
	int family;

	if (!kt_http_parse_listen(entry, &addr, &port, &family, error))
		return FALSE;
	g_ptr_array_add(s->strings, addr);
	vi.port = port;
	/* A wildcard is "no iface"; the family alone then picks the socket. */
	gboolean any = !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::");
	vi.iface = any ? NULL : addr;
	vi.protocols = s->protocols;
	char *name = g_strdup_printf("kt-%u", index);
	g_ptr_array_add(s->strings, name);
	vi.vhost_name = name;
	vi.ssl_cert_filepath = cfg->cert_path;
	vi.ssl_private_key_filepath = cfg->key_path;
	vi.alpn = "http/1.1";
	/* lws only sets up TLS on a vhost whose own options ask for it. */
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_GLIB |
		     LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (family == AF_INET)
		vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	else
		vi.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY |
			      LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;

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
	s->foreign_loops[0] = loop;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_GLIB |
		       LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = s->foreign_loops;
	info.user = s;
	info.port = CONTEXT_PORT_NO_LISTEN;
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
	s->destroying = TRUE;
	/* Closing the connections runs CLOSED_HTTP for each, which abandons
	 * (and cancels) their requests. */
	if (s->context)
		lws_context_destroy(s->context);
	s->context = NULL;

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
	free(s->web_root);
	g_free(s);
}
