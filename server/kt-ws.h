/* kt-ws.h — the lws WebSocket protocol "ketang.v1" on path /ws: one KtWsConn
 * per socket, whole text messages in, a queue of text messages out.
 *
 * What this layer does, so the layer above (kt-signal.h) only sees messages:
 * - accepts the upgrade only on the configured path (other paths: refused);
 * - reassembles fragmented frames (RFC 6455 section 5.4) up to max_message
 *   bytes; a bigger message is read to its end and dropped, and reported as
 *   KT_WS_REFUSED_TOO_LARGE; a binary message as KT_WS_REFUSED_BINARY. The
 *   socket stays open either way;
 * - spends one token of the connection's bucket (message_rate per second,
 *   message_burst at once) per message: a message that finds the bucket empty
 *   is dropped, the first of a run of such reported as KT_WS_REFUSED_RATE
 *   (one report, not one per message, so a flood is not answered in kind),
 *   and a peer that sends another message_burst while refused is closed
 *   (1008);
 * - queues outgoing messages per connection and writes one per
 *   LWS_CALLBACK_SERVER_WRITEABLE (lws allows one write per writeable
 *   callback); a peer that lets more than max_queue bytes pile up is
 *   disconnected (1008);
 * - pings a connection that was silent for ping_interval seconds (browsers
 *   answer pings themselves, RFC 6455 section 5.5.2) and closes one silent for
 *   idle_timeout seconds (1001), dropping it if even that cannot be sent;
 * - closes with a code and reason after the queued messages went out.
 *
 * Ownership: KtWs is created by kt_ws_new and freed by kt_ws_free. It must
 * outlive the lws context that uses its protocols (free the HTTP server
 * first). KtWsConn belongs to KtWs: it is valid from `opened` until `closed`
 * returns; callers drop their pointers in `closed`. Message data passed to
 * callbacks is borrowed for the call. kt_ws_conn_send copies.
 *
 * Threads: control loop only (the thread of the GMainContext that was the
 * thread-default when kt_ws_new ran, which runs the lws context). */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

struct lws_protocols;

typedef struct _KtWs KtWs;
typedef struct _KtWsConn KtWsConn;

#define KT_WS_PROTOCOL "ketang.v1"

/* Close codes (RFC 6455 section 7.4; 4000-4999 are ours, PROTOCOL.md). */
#define KT_WS_CLOSE_NORMAL 1000
#define KT_WS_CLOSE_GOING_AWAY 1001
#define KT_WS_CLOSE_POLICY 1008
#define KT_WS_CLOSE_JOIN_FAILED 4001
#define KT_WS_CLOSE_REPLACED 4002 /* the same classroom joined again from another socket */

typedef enum {
	KT_WS_REFUSED_TOO_LARGE, /* over max_message bytes */
	KT_WS_REFUSED_BINARY,    /* a binary message */
	KT_WS_REFUSED_RATE,      /* over message_rate: this and later messages dropped */
} KtWsRefusal;

typedef struct {
	/* A socket finished its handshake. Optional. */
	void (*opened)(KtWsConn *c, gpointer user_data);
	/* One whole text message; data is NUL-terminated (the NUL is not
	 * counted in len) but may contain NULs of its own. */
	void (*message)(KtWsConn *c, const char *data, gsize len, gpointer user_data);
	/* A message this layer dropped (see above). */
	void (*refused)(KtWsConn *c, KtWsRefusal why, gpointer user_data);
	/* The socket is gone (either side closed, timeout, server shutdown).
	 * The conn is freed when this returns. */
	void (*closed)(KtWsConn *c, gpointer user_data);
} KtWsCallbacks;

typedef struct {
	const char *path;      /* "/ws" when NULL */
	gsize max_message;     /* bytes; 64 KiB when 0 */
	gsize max_queue;       /* bytes queued per conn; 4 MiB when 0 */
	guint ping_interval_s; /* 20 (at most idle_timeout / 2) when 0 */
	guint idle_timeout_s;  /* 60 when 0 */
	guint message_rate;    /* messages per second per conn; 0 = no limit */
	guint message_burst;   /* messages at once; message_rate when 0 */
} KtWsConfig;

/* @cb is copied; @cfg may be NULL (defaults) and is copied. */
KtWs *kt_ws_new(const KtWsConfig *cfg, const KtWsCallbacks *cb, gpointer user_data);

/* Closes nothing (the lws context does that); frees conns that are left
 * after running `closed` for each. NULL allowed. */
void kt_ws_free(KtWs *ws);

/* The zero-terminated protocol list to pass as
 * KtHttpServerConfig.extra_protocols; owned by @ws. */
const struct lws_protocols *kt_ws_get_protocols(KtWs *ws);

/* Queues one text message (copied). FALSE (nothing queued) when the conn is
 * closing or would exceed max_queue (it is then closed with 1008). */
bool kt_ws_conn_send(KtWsConn *c, const char *data, gsize len);

/* Closes after the queued messages went out, with @code and @reason
 * (≤ 123 bytes, RFC 6455 section 5.5). Later sends are dropped. A second
 * call is ignored. */
void kt_ws_conn_close(KtWsConn *c, guint16 code, const char *reason);

gboolean kt_ws_conn_is_closing(KtWsConn *c);

/* One pointer of the caller's per conn (NULL at first). */
void kt_ws_conn_set_data(KtWsConn *c, gpointer data);
gpointer kt_ws_conn_get_data(KtWsConn *c);

/* Number of open conns (tests, metrics). */
guint kt_ws_get_n_conns(KtWs *ws);

/* --- Tests only: conns without a socket, to drive the layer above. --- */

KtWsConn *kt_ws_test_open(KtWs *ws); /* runs `opened` */
/* As if a whole text message (or one over max_message) arrived; the rate
 * limit applies. */
void kt_ws_test_receive(KtWsConn *c, const char *data, gsize len);
/* The oldest queued outgoing message (g_free), or NULL. */
char *kt_ws_test_pop_sent(KtWsConn *c);
/* The close code asked for with kt_ws_conn_close, or 0. */
guint16 kt_ws_test_get_close_code(KtWsConn *c);
/* As if the socket closed: runs `closed`, frees @c. */
void kt_ws_test_close(KtWsConn *c);

G_END_DECLS
