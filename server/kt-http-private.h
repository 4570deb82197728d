/* kt-http-private.h — shared between kt-http.c (server, requests, responses)
 * and kt-http-static.c (static files). Not for other modules.
 *
 * Threads: control loop only, like everything in kt-http.h.
 */
#pragma once

#include "kt-http.h"

#include <libwebsockets.h>

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
	void *foreign_loops[1]; /* the control GMainLoop, for lws' GLib backend */
	struct lws_protocols *protocols; /* ours first, then the extras, then zeroes */
	GPtrArray *vhosts;               /* struct lws_vhost *, one per listen entry */
	GPtrArray *strings;              /* owned strings lws keeps pointers to */
	KtHttpRouteEntry *routes;
	guint n_routes;
	char *web_root;      /* realpath of cfg->web_root, or NULL */
	gsize max_body;
	GHashTable *requests; /* KtHttpRequest * set: live requests, for free() */
	gboolean destroying;
};

/* Where the response body comes from: a copied buffer or an open file. */
typedef struct {
	guint status;
	char *content_type;
	GPtrArray *headers; /* "name:" (lowercase), value, ... */
	GBytes *body;
	int fd; /* -1 unless a file response; owned */
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
	guint peer_watch; /* while a response is deferred, see kt_http_request_defer */
	KtHttpResponse resp;
};

/* Queues a file response; takes ownership of fd (closed when done or on
 * failure). Sends `length` bytes from the current file offset. HEAD requests
 * get the headers only. kt-http.c. */
void kt_http_request_respond_fd(KtHttpRequest *r, guint status, const char *content_type,
				const char *const *headers, int fd, guint64 length);

/* kt_http_request_respond_error with extra response headers and a plain
 * message. kt-http.c. */
void kt_http_request_respond_error_full(KtHttpRequest *r, guint status, const char *const *headers,
					const char *code, const char *message);

/* Serves r's path from server->web_root (GET/HEAD), or answers 404/405.
 * kt-http-static.c. */
void kt_http_static_serve(KtHttpRequest *r);

/* Maps "/teacher" to "<root>/teacher.html" etc. Returns an absolute file path
 * inside web_root (g_free) or NULL when the path is unsafe or nothing
 * matches. Exposed for tests. kt-http-static.c. */
char *kt_http_static_resolve(const char *web_root, const char *path);

/* MIME type for a file name, from its extension. Never NULL. */
const char *kt_http_static_mime_type(const char *file_name);

G_END_DECLS
