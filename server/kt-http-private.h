/* kt-http-private.h — shared between kt-http.c (server, requests, responses)
 * and kt-http-static.c (static files). Not for other modules.
 *
 * Threads: control loop only, like everything in kt-http.h.
 */
#pragma once

#include "kt-http.h"

#include <libwebsockets.h>

#include "kt-rate.h"

G_BEGIN_DECLS

/* The server's own copy of a KtHttpRoute. */
typedef struct {
	char *prefix;
	gsize prefix_len;
	gboolean exact;
	guint methods;
	gboolean cors;
	gsize max_body;
	KtHttpHandler handler;
	gpointer user_data;
} KtHttpRouteEntry;

struct _KtHttpServer {
	struct lws_context *context;
	GMainLoop *loop;                 /* borrowed */
	void *foreign_loops[1];          /* the control GMainLoop, for lws' GLib backend */
	SSL_CTX *client_ssl_ctx;         /* unused by us; see kt_http_add_vhost */
	struct lws_protocols *protocols; /* ours first, then the extras, then zeroes */
	GPtrArray *vhosts;               /* struct lws_vhost *, one per listen entry */
	GPtrArray *strings;              /* owned strings lws keeps pointers to */
	KtHttpRouteEntry *routes;
	guint n_routes;
	char *web_root; /* realpath of cfg->web_root, or NULL */
	gsize max_body;
	gboolean hsts;        /* send Strict-Transport-Security (cfg->hsts) */
	GHashTable *requests; /* KtHttpRequest * set: live requests, for free() */
	KtRateTable *rate;    /* requests per client address; NULL = no limit */
};

/* Where the response body comes from: a copied buffer or an open file. */
typedef struct {
	guint status;
	char *content_type;
	GPtrArray *headers; /* "name:" (lowercase), value, ... */
	GBytes *body;
	int fd;         /* -1 unless a file response; owned */
	guint64 length; /* bytes of body (sent in Content-Length) */
	guint64 sent;
	gboolean headers_sent;
	gboolean close_after; /* Connection: close, then drop the connection */
} KtHttpResponse;

struct _KtHttpRequest {
	KtHttpServer *server;
	struct lws *wsi;
	KtHttpMethod method;
	char *path;
	const KtHttpRouteEntry *route; /* NULL: static file */
	GByteArray *body;
	gsize body_limit;
	gboolean body_too_large;
	gboolean dispatched; /* handler called (or a built-in answer chosen) */
	gboolean responded;  /* a response is queued */
	KtHttpCancelFunc cancel;
	gpointer cancel_data;
	gboolean rx_paused;  /* lws rx off while the response is deferred */
	GSource *peer_watch; /* while a response is deferred, see kt_http_request_defer */
	KtHttpResponse resp;
};

/* --- kt-http.c --- */

/* "GET", "POST", ... for logs. */
const char *kt_http_method_name(KtHttpMethod m);

/* --- kt-http-request.c --- */

/* A request on wsi, registered in s->requests. */
KtHttpRequest *kt_http_request_new(KtHttpServer *s, struct lws *wsi);

/* Frees r (no cancel func); unregisters it from the server. */
void kt_http_request_free(KtHttpRequest *r);

/* The connection is gone or the server is going: runs the cancel func if a
 * deferred response is still owed, then frees r. */
void kt_http_request_abandon(KtHttpRequest *r);

/* Called when the handler returned without responding. */
void kt_http_request_defer(KtHttpRequest *r);

/* See kt-http-request.c: -1 error, 0 more to write, 1 done. */
int kt_http_request_write_some(KtHttpRequest *r);

/* Queues a file response; takes ownership of fd (closed when done or on
 * failure). Sends `length` bytes from the current file offset. HEAD requests
 * get the headers only. */
void kt_http_request_respond_fd(KtHttpRequest *r, guint status, const char *content_type,
                                const char *const *headers, int fd, guint64 length);

/* --- kt-http-security.c --- */

/* Sets a vhost's TLS versions (1.2, 1.3), cipher suites (ECDHE + AEAD) and options. */
void kt_http_security_set_tls(struct lws_context_creation_info *vi);

/* Adds the security headers (CSP, X-Frame-Options, X-Content-Type-Options,
 * Referrer-Policy, and HSTS when the server sends it) that r's queued response does not
 * set itself. A static file gets the pages' CSP, anything else one that allows nothing. */
void kt_http_security_add_headers(KtHttpRequest *r);

/* --- kt-http-file.c --- */

typedef enum {
	KT_HTTP_RANGE_NONE,          /* no Range, or one to ignore: send the whole file */
	KT_HTTP_RANGE_PARTIAL,       /* one satisfiable range: 206 */
	KT_HTTP_RANGE_UNSATISFIABLE, /* 416 */
} KtHttpRangeResult;

/* Parses a Range header value (untrusted; NULL = absent) against a file of @size bytes.
 * On _PARTIAL, *start and *length (>= 1) give the bytes to send. See
 * kt_http_request_respond_file for the rules. */
KtHttpRangeResult kt_http_range_parse(const char *value, guint64 size, guint64 *start,
                                      guint64 *length);

/* --- kt-http-static.c --- */

/* Serves r's path from server->web_root (GET/HEAD), or answers 404/405. */
void kt_http_static_serve(KtHttpRequest *r);

/* Maps "/teacher" to "<root>/teacher.html" etc. Returns an absolute file path
 * inside web_root (g_free) or NULL when the path is unsafe or nothing
 * matches. Exposed for tests. */
char *kt_http_static_resolve(const char *web_root, const char *path);

/* MIME type for a file name, from its extension. Never NULL. */
const char *kt_http_static_mime_type(const char *file_name);

G_END_DECLS
