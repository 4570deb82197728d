/* kt-http.h — HTTPS server on libwebsockets, driven by the control GMainLoop.
 *
 * The rest of the server registers routes (a prefix, a method mask and a
 * handler); every other path is a static file from web_root. Connections are
 * HTTP/1.1 over TLS only (ALPN offers "http/1.1"; HTTP/2 is left off to keep
 * the request lifecycle simple). Every error this module produces itself is
 * the JSON body {"error": CODE, "message": TEXT} with a fitting status.
 *
 * Ownership: kt_http_server_new copies everything in the config (strings,
 * route table) except `loop` (borrowed, must outlive the server) and
 * `extra_protocols` (borrowed, static storage expected, as lws keeps
 * pointers into it). A KtHttpRequest belongs to the server; handlers borrow
 * it. It stays valid until a response has been queued with one of the
 * kt_http_request_respond* functions (do not touch it after that call) or,
 * for deferred responses, until the cancel func ran.
 *
 * Threads: every function here is control loop only (the thread running
 * cfg->loop). lws is not thread safe; other threads must hop to the control
 * loop first (g_main_context_invoke).
 *
 * Requests: bodies need a Content-Length (chunked uploads get 411). A body
 * over the limit gets 413 without the handler being called; up to 1 MiB past
 * the limit it is read and dropped so the connection stays usable, beyond
 * that the 413 is sent at once and the connection closed.
 *
 * Security (kt-http-security.c): TLS 1.2 and 1.3 only, ECDHE key exchange with AEAD
 * ciphers only; every response carries Content-Security-Policy, X-Frame-Options: DENY,
 * X-Content-Type-Options: nosniff and Referrer-Policy: no-referrer unless its handler
 * set them, and Strict-Transport-Security with cfg->hsts.
 *
 * Logging: only the method and the path without query are ever logged (at
 * debug level), never headers (Authorization) or query strings (tokens).
 * kt_http_server_new routes libwebsockets' own ERR/WARN lines (process-wide)
 * into g_message/g_debug under the "kt-http" domain.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

struct lws_protocols;

typedef struct _KtHttpServer KtHttpServer;
typedef struct _KtHttpRequest KtHttpRequest;

#define KT_HTTP_ERROR (kt_http_error_quark())
GQuark kt_http_error_quark(void);

typedef enum {
	KT_HTTP_ERROR_CONFIG, /* bad listen entry, missing field */
	KT_HTTP_ERROR_TLS,    /* cert or key unreadable / not matching */
	KT_HTTP_ERROR_LISTEN, /* address in use, not available */
	KT_HTTP_ERROR_INIT,   /* lws context / GLib event loop plugin failed */
} KtHttpError;

typedef enum {
	KT_HTTP_GET = 1 << 0,
	KT_HTTP_POST = 1 << 1,
	KT_HTTP_DELETE = 1 << 2,
	KT_HTTP_OPTIONS = 1 << 3,
	KT_HTTP_PATCH = 1 << 4,
	KT_HTTP_HEAD = 1 << 5,
	KT_HTTP_PUT = 1 << 6,
} KtHttpMethod;

typedef void (*KtHttpHandler)(KtHttpRequest *req, gpointer user_data);

/* A route matches when the decoded path equals `prefix` (exact) or starts
 * with it; the longest matching prefix wins. Methods outside the mask get
 * 405 with an Allow header. With `cors`, every response on the route carries
 * Access-Control-Allow-Origin: * and -Expose-Headers: Location, Link, ETag,
 * and OPTIONS preflights are answered here (204) without calling handler. */
typedef struct {
	const char *prefix; /* e.g. "/whip/" or "/healthz" */
	gboolean exact;
	guint methods; /* KtHttpMethod mask */
	gboolean cors;
	gsize max_body; /* 0 = the server default */
	KtHttpHandler handler;
	gpointer user_data;
} KtHttpRoute;

typedef struct {
	/* "ADDR:PORT" entries, NULL-terminated; IPv6 as "[::]:8443". One lws
	 * vhost each. "0.0.0.0" listens on IPv4 only and "[::]" on IPv6 only
	 * (IPV6_V6ONLY), so both may share a port. Port 0 = ephemeral, see
	 * kt_http_server_get_port. */
	const char *const *listen;
	const char *cert_path; /* PEM; the server always runs TLS */
	const char *key_path;  /* PEM */
	const char *web_root;  /* static files; NULL = none (everything 404) */
	gsize max_body;        /* default request body limit; 0 = 1 MiB */
	/* Send Strict-Transport-Security on every response: only for a certificate browsers
	 * trust (an operator's), never a self-signed one they were asked to accept once. */
	gboolean hsts;
	GMainLoop *loop; /* the control loop; borrowed */
	const KtHttpRoute *routes;
	guint n_routes;
	/* Optional zero-terminated list appended after the HTTP protocol (e.g.
	 * the WebSocket protocol); borrowed. */
	const struct lws_protocols *extra_protocols;
	/* Requests per second per client address (token bucket of rate_burst,
	 * kt-rate.h); one more gets 429 with Retry-After before its body is
	 * read, and the connection is closed. 0 = no limit. */
	guint rate;
	guint rate_burst;
} KtHttpServerConfig;

/* Creates the lws context and binds every listen entry. Returns NULL with
 * KT_HTTP_ERROR_* set when an entry is malformed, a port is busy, or the
 * cert/key cannot be read. Control loop. */
KtHttpServer *kt_http_server_new(const KtHttpServerConfig *cfg, GError **error);

/* The bound port of listen entry `index` (the real one for port 0), or 0 when
 * index is out of range. Control loop. */
guint16 kt_http_server_get_port(KtHttpServer *s, guint index);

/* Closes every connection; requests waiting for a deferred response get their
 * cancel func first. NULL is allowed. Do not call from inside a handler or
 * cancel func. Control loop. */
void kt_http_server_free(KtHttpServer *s);

/* --- Request accessors: valid while the request is (see above). --- */

KtHttpMethod kt_http_request_get_method(KtHttpRequest *r);

/* Percent-decoded path without the query, as lws normalised it (no "//",
 * "/./", "/../"); borrowed. */
const char *kt_http_request_get_path(KtHttpRequest *r);

/* Value of a request header (standard or custom); name in lowercase, without
 * ':'. Returns a newly allocated string (g_free) or NULL when absent. */
char *kt_http_request_get_header(KtHttpRequest *r, const char *lowercase_name);

/* Value of query argument `name` (percent-decoded), g_free; NULL if absent. */
char *kt_http_request_get_query(KtHttpRequest *r, const char *name);

/* The request body, borrowed, NUL-terminated (the NUL is not counted in
 * *len). Never NULL: an empty body is "" with *len 0. len may be NULL. */
const guint8 *kt_http_request_get_body(KtHttpRequest *r, gsize *len);

/* Peer IP address as text (g_free); "" when unknown. */
char *kt_http_request_get_peer_address(KtHttpRequest *r);

/* Queues the response. Copies everything; headers are name, value pairs
 * ending with NULL (may be NULL). content_type may be NULL (no body type).
 * Exactly one respond call per request, from the handler or later (a
 * deferred response). After the call r must not be used: it is freed once
 * the response went out or the client left. */
void kt_http_request_respond(KtHttpRequest *r, guint status, const char *content_type,
                             const char *const *headers, const void *body, gsize len);

/* Like kt_http_request_respond with the compact JSON of body (borrowed). */
void kt_http_request_respond_json(KtHttpRequest *r, guint status, json_t *body);

/* Responds {"error": code, "message": printf(fmt, ...)} as application/json. */
void kt_http_request_respond_error(KtHttpRequest *r, guint status, const char *code,
                                   const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* kt_http_request_respond_error with extra response headers (NULL-terminated
 * name, value pairs, e.g. Retry-After) and a plain message. */
void kt_http_request_respond_error_full(KtHttpRequest *r, guint status, const char *const *headers,
                                        const char *code, const char *message);

/* Answers with the regular file at @path (GET or HEAD), read from disk in chunks as the
 * client takes them (never loaded whole). HTTP Range (RFC 9110 §14) on one range:
 * "bytes=a-b", "bytes=a-", "bytes=-n" get 206 with Content-Range; a range starting past the
 * end (or "bytes=-0", or any range of an empty file) gets 416 with a Content-Range that
 * gives the size (RFC 9110 §14.4, "unsatisfied-range"). A Range this server does not serve as asked
 * -- several ranges (no multipart/byteranges here), another unit, bad syntax, or a request with
 * If-Range (we send no validators to compare) -- is ignored as §14.2 allows: 200 with the whole
 * file. Every answer carries Accept-Ranges: bytes. @content_type NULL = from the file name's
 * extension. A missing or unreadable file gets 404. Headers as in kt_http_request_respond. */
void kt_http_request_respond_file(KtHttpRequest *r, const char *path, const char *content_type,
                                  const char *const *headers);

typedef void (*KtHttpCancelFunc)(KtHttpRequest *r, gpointer user_data);

/* For deferred responses: fn runs once if the client goes away (or the server
 * is freed) after the handler returned and before a respond call. r is
 * invalid after fn returns; fn must not respond. A hang-up (FIN or RST) is
 * noticed at once; a client that pipelined another request first is only
 * noticed by the 120 s idle timeout, which also ends a deferred response
 * that never comes (fn runs then as well). */
void kt_http_request_set_cancel_func(KtHttpRequest *r, KtHttpCancelFunc fn, gpointer user_data);

G_END_DECLS
