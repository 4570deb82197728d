/* kt-http-request.c — one HTTP transaction: request accessors, queuing a
 * response and writing it out, and the watch that notices a client leaving
 * while its response is deferred.
 */
#define _GNU_SOURCE /* POLLRDHUP */
#define G_LOG_DOMAIN "kt-http"

#include "kt-http-private.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <glib-unix.h>

#define KT_HTTP_CHUNK 16384

static void kt_http_request_clear_response(KtHttpResponse *resp)
{
	g_free(resp->content_type);
	g_clear_pointer(&resp->headers, g_ptr_array_unref);
	g_clear_pointer(&resp->body, g_bytes_unref);
	if (resp->fd >= 0)
		close(resp->fd);
	resp->fd = -1;
}

static void kt_http_request_drop_watch(KtHttpRequest *r)
{
	if (!r->peer_watch)
		return;
	g_source_destroy(r->peer_watch);
	g_clear_pointer(&r->peer_watch, g_source_unref);
}

void kt_http_request_free(KtHttpRequest *r)
{
	kt_http_request_drop_watch(r);
	if (r->server->requests)
		g_hash_table_remove(r->server->requests, r);
	kt_http_request_clear_response(&r->resp);
	g_byte_array_unref(r->body);
	g_free(r->path);
	g_free(r);
}

/* The connection is gone (or the server is going): a request still waiting
 * for its deferred response learns it through the cancel func. */
void kt_http_request_abandon(KtHttpRequest *r)
{
	KtHttpCancelFunc cancel = r->cancel;
	r->wsi = NULL;
	r->cancel = NULL;
	if (r->dispatched && !r->responded && cancel) {
		g_debug("%s %s: client went away before the response",
		        kt_http_method_name(r->method), r->path);
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

static int kt_http_request_header_token(const char *name_colon)
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
	int token = kt_http_request_header_token(key);
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
static gboolean kt_http_request_on_peer_event(gint fd, GIOCondition cond, gpointer data)
{
	KtHttpRequest *r = data;

	g_clear_pointer(&r->peer_watch, g_source_unref); /* the loop holds its own ref */
	if (!(cond & (G_IO_HUP | G_IO_ERR))) {
		struct pollfd p = {.fd = fd, .events = POLLRDHUP};
		if (poll(&p, 1, 0) != 1 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return G_SOURCE_REMOVE; /* pipelined bytes: the client is still there */
	}
	/* Closes now: CLOSED_HTTP runs the cancel func and frees r. */
	lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	return G_SOURCE_REMOVE;
}

void kt_http_request_defer(KtHttpRequest *r)
{
	r->rx_paused = TRUE;
	lws_rx_flow_control(r->wsi, 0);
	/* on the control loop's context, which need not be the default one */
	r->peer_watch =
	    g_unix_fd_source_new(lws_get_socket_fd(r->wsi), G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(r->peer_watch, G_SOURCE_FUNC(kt_http_request_on_peer_event), r, NULL);
	g_source_attach(r->peer_watch, g_main_loop_get_context(r->server->loop));
}

static void kt_http_request_undefer(KtHttpRequest *r)
{
	kt_http_request_drop_watch(r);
	if (r->rx_paused)
		lws_rx_flow_control(r->wsi, 1);
	r->rx_paused = FALSE;
}

/* --------------------------------------------------------------- responses */

static void kt_http_request_add_header(KtHttpResponse *resp, const char *name, const char *value)
{
	char *lower = g_ascii_strdown(name, -1);
	g_ptr_array_add(resp->headers, g_strconcat(lower, ":", NULL));
	g_ptr_array_add(resp->headers, g_strdup(value));
	g_free(lower);
}

/* RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no content. */
static gboolean kt_http_request_status_has_body(guint status)
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
	resp->length = kt_http_request_status_has_body(status) ? length : 0;
	for (guint i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		kt_http_request_add_header(resp, headers[i], headers[i + 1]);
	if (r->route && r->route->cors) {
		/* Fetch from another origin (WHIP/WHEP players, RFC 9725 §4.6)
		 * must be able to read these. */
		kt_http_request_add_header(resp, "Access-Control-Allow-Origin", "*");
		kt_http_request_add_header(resp, "Access-Control-Expose-Headers",
		                           "Location, Link, ETag");
	}
	kt_http_security_add_headers(r);
	if (resp->close_after)
		kt_http_request_add_header(resp, "Connection", "close");
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
static int kt_http_request_write_headers(KtHttpRequest *r)
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
	if (kt_http_request_status_has_body(resp->status)) {
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

static int kt_http_request_write_body_chunk(KtHttpRequest *r)
{
	KtHttpResponse *resp = &r->resp;
	unsigned char buf[LWS_PRE + KT_HTTP_CHUNK];
	gsize n = MIN(resp->length - resp->sent, (guint64)KT_HTTP_CHUNK);

	if (resp->body) {
		memcpy(buf + LWS_PRE,
		       (const guint8 *)g_bytes_get_data(resp->body, NULL) + resp->sent, n);
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

/* Writes the next piece of the queued response: the head first, then one
 * chunk of body per call (lws wants one write per WRITEABLE callback).
 * Returns -1 on a write error, 0 when more remains, 1 when done. */
int kt_http_request_write_some(KtHttpRequest *r)
{
	KtHttpResponse *resp = &r->resp;
	guint64 length = r->method == KT_HTTP_HEAD ? 0 : resp->length;

	if (!resp->headers_sent) {
		if (kt_http_request_write_headers(r) < 0)
			return -1;
		resp->headers_sent = TRUE;
	} else if (kt_http_request_write_body_chunk(r) < 0) {
		return -1;
	}
	return resp->sent < length ? 0 : 1;
}

KtHttpRequest *kt_http_request_new(KtHttpServer *s, struct lws *wsi)
{
	KtHttpRequest *r = g_new0(KtHttpRequest, 1);
	r->server = s;
	r->wsi = wsi;
	r->body = g_byte_array_new();
	r->resp.fd = -1;
	g_hash_table_add(s->requests, r);
	return r;
}
