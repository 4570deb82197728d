/* kt-ws.c — the "ketang.v1" lws protocol: connections, reassembly, the
 * outgoing queue, ping and idle timeout, close. */
#define G_LOG_DOMAIN "kt-ws"

#include "kt-ws.h"

#include "kt-rate.h"

#include <libwebsockets.h>
#include <string.h>

#define KT_WS_DEFAULT_MAX_MESSAGE (64 * 1024)
#define KT_WS_DEFAULT_MAX_QUEUE (4 * 1024 * 1024)
#define KT_WS_DEFAULT_PING_S 20
#define KT_WS_DEFAULT_IDLE_S 60
#define KT_WS_MAX_PATH 256
/* A closing conn whose peer stops reading is dropped after this long. */
#define KT_WS_CLOSE_TIMEOUT_S 5

struct _KtWs {
	KtWsConfig cfg;
	char *path;
	KtWsCallbacks cb;
	gpointer user_data;
	GHashTable *conns; /* set of KtWsConn* (owned) */
	GSource *timer;
	struct lws_protocols protocols[2]; /* ours + the zeroed terminator */
};

/* One queued message, stored with LWS_PRE bytes of headroom for lws. */
typedef struct {
	gsize len;
	guint8 buf[];
} KtWsOut;

struct _KtWsConn {
	KtWs *ws;
	struct lws *wsi;
	gpointer data;
	GByteArray *rx;
	gboolean rx_binary;
	gboolean rx_dropping; /* the message is over max_message */
	GQueue out;           /* KtWsOut* */
	gsize out_bytes;
	gint64 last_rx_us;
	KtTokenBucket bucket; /* message_rate */
	guint refused_in_row; /* messages dropped by the rate limit since one passed */
	gboolean ping_due;
	gboolean closing;
	guint16 close_code;
	char *close_reason;
};

typedef struct {
	KtWsConn *conn;
} KtWsSession;

static void kt_ws_conn_free(KtWsConn *c)
{
	g_byte_array_unref(c->rx);
	g_queue_clear_full(&c->out, g_free);
	g_free(c->close_reason);
	g_free(c);
}

static void kt_ws_conn_closed(KtWs *ws, KtWsConn *c)
{
	if (!g_hash_table_remove(ws->conns, c))
		return;
	ws->cb.closed(c, ws->user_data);
	kt_ws_conn_free(c);
}

/* ------------------------------------------------------------------ receive */

/* The rate limit of one whole message; FALSE = drop it. */
static gboolean kt_ws_rate_ok(KtWsConn *c)
{
	KtWs *ws = c->ws;

	if (kt_token_bucket_take(&c->bucket, g_get_monotonic_time())) {
		c->refused_in_row = 0;
		return TRUE;
	}
	if (c->refused_in_row++ == 0)
		ws->cb.refused(c, KT_WS_REFUSED_RATE, ws->user_data);
	else if (c->refused_in_row > c->bucket.burst)
		kt_ws_conn_close(c, KT_WS_CLOSE_POLICY, "too many messages");
	return FALSE;
}

/* Whole messages only: lws hands over a message in pieces (fragments, and
 * parts of a frame larger than its rx buffer). */
static void kt_ws_on_receive(KtWsConn *c, const void *in, size_t len)
{
	KtWs *ws = c->ws;
	struct lws *wsi = c->wsi;

	c->last_rx_us = g_get_monotonic_time();
	if (lws_is_first_fragment(wsi) && c->rx->len == 0 && !c->rx_dropping)
		c->rx_binary = lws_frame_is_binary(wsi);
	if (!c->rx_dropping && c->rx->len + len > ws->cfg.max_message) {
		c->rx_dropping = TRUE;
		g_byte_array_set_size(c->rx, 0);
	}
	if (!c->rx_dropping)
		g_byte_array_append(c->rx, in, (guint)len);
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
		return;

	if (c->closing || !kt_ws_rate_ok(c)) {
		/* Nothing more is answered once we close. */
	} else if (c->rx_dropping) {
		ws->cb.refused(c, KT_WS_REFUSED_TOO_LARGE, ws->user_data);
	} else if (c->rx_binary) {
		ws->cb.refused(c, KT_WS_REFUSED_BINARY, ws->user_data);
	} else {
		gsize n = c->rx->len;
		g_byte_array_append(c->rx, (const guint8 *)"", 1);
		ws->cb.message(c, (const char *)c->rx->data, n, ws->user_data);
	}
	g_byte_array_set_size(c->rx, 0);
	c->rx_dropping = FALSE;
	c->rx_binary = FALSE;
}

/* -------------------------------------------------------------------- write */

static int kt_ws_write_close(KtWsConn *c)
{
	gsize n = c->close_reason ? strlen(c->close_reason) : 0;
	lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
	                 (unsigned char *)c->close_reason, n);
	return -1; /* lws sends the close frame and closes */
}

/* One write per writeable callback (lws rule); asks for the next. */
static int kt_ws_on_writeable(KtWsConn *c)
{
	if (c->ping_due) {
		/* A payload: lws 4.1 runs no RECEIVE_PONG for an empty pong,
		 * and a browser's pong echoes the ping's payload. */
		guint8 buf[LWS_PRE + 2] = {[LWS_PRE] = 'k', [LWS_PRE + 1] = 't'};
		c->ping_due = FALSE;
		if (lws_write(c->wsi, buf + LWS_PRE, 2, LWS_WRITE_PING) < 0)
			return -1;
	} else if (c->out.length) {
		KtWsOut *m = g_queue_pop_head(&c->out);
		int rc = lws_write(c->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
		c->out_bytes -= m->len;
		g_free(m);
		if (rc < 0)
			return -1;
	} else if (c->closing) {
		return kt_ws_write_close(c);
	}
	if (c->out.length || c->closing || c->ping_due)
		lws_callback_on_writable(c->wsi);
	return 0;
}

bool kt_ws_conn_send(KtWsConn *c, const char *data, gsize len)
{
	if (c->closing)
		return false;
	if (c->out_bytes + len > c->ws->cfg.max_queue) {
		g_message("a WebSocket peer does not read its messages; disconnecting it");
		g_queue_clear_full(&c->out, g_free);
		c->out_bytes = 0;
		kt_ws_conn_close(c, KT_WS_CLOSE_POLICY, "send queue overflow");
		return false;
	}
	KtWsOut *m = g_malloc(sizeof *m + LWS_PRE + len);
	m->len = len;
	memcpy(m->buf + LWS_PRE, data, len);
	g_queue_push_tail(&c->out, m);
	c->out_bytes += len;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
	return true;
}

void kt_ws_conn_close(KtWsConn *c, guint16 code, const char *reason)
{
	if (c->closing)
		return;
	c->closing = TRUE;
	c->close_code = code;
	/* RFC 6455 section 5.5: control frames carry at most 125 bytes. */
	c->close_reason = g_strndup(reason ? reason : "", 123);
	if (!c->wsi)
		return;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, KT_WS_CLOSE_TIMEOUT_S);
	lws_callback_on_writable(c->wsi);
}

gboolean kt_ws_conn_is_closing(KtWsConn *c)
{
	return c->closing;
}

void kt_ws_conn_set_data(KtWsConn *c, gpointer data)
{
	c->data = data;
}

gpointer kt_ws_conn_get_data(KtWsConn *c)
{
	return c->data;
}

/* ----------------------------------------------------------- ping and idle */

static gboolean kt_ws_on_timer(gpointer data)
{
	KtWs *ws = data;
	gint64 now = g_get_monotonic_time();
	g_autoptr(GPtrArray) dead = g_ptr_array_new();
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, ws->conns);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		KtWsConn *c = key;
		if (!c->wsi)
			continue;
		gint64 silent_s = (now - c->last_rx_us) / G_USEC_PER_SEC;
		if (silent_s >= ws->cfg.idle_timeout_s + KT_WS_CLOSE_TIMEOUT_S) {
			/* Not even the close frame went out (a peer that does
			 * not read). */
			g_ptr_array_add(dead, c->wsi);
		} else if (silent_s >= ws->cfg.idle_timeout_s) {
			/* Through the writeable callback: lws_set_timeout()
			 * from outside lws' own callbacks is only acted on at
			 * its next service (seen 18 s late with lws 4.1's
			 * GLib loop). */
			kt_ws_conn_close(c, KT_WS_CLOSE_GOING_AWAY, "idle timeout");
		} else if (silent_s >= ws->cfg.ping_interval_s && !c->closing) {
			c->ping_due = TRUE;
			lws_callback_on_writable(c->wsi);
		}
	}
	/* Not inside any callback of theirs, so a synchronous kill is safe;
	 * CLOSED runs (and frees the conn) from here, after the walk. */
	for (guint i = 0; i < dead->len; i++)
		lws_set_timeout(dead->pdata[i], PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ the protocol */

/* Upgrades only on our path; the rest of the site is plain HTTPS. */
static gboolean kt_ws_path_ok(KtWs *ws, struct lws *wsi)
{
	char path[KT_WS_MAX_PATH];
	int n = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI);

	if (n <= 0 || n >= (int)sizeof path ||
	    lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) != n)
		return FALSE;
	return strcmp(path, ws->path) == 0;
}

static KtWsConn *kt_ws_conn_open(KtWs *ws, struct lws *wsi)
{
	KtWsConn *c = g_new0(KtWsConn, 1);
	c->ws = ws;
	c->wsi = wsi;
	c->rx = g_byte_array_new();
	g_queue_init(&c->out);
	c->last_rx_us = g_get_monotonic_time();
	kt_token_bucket_init(&c->bucket, ws->cfg.message_rate, ws->cfg.message_burst,
	                     c->last_rx_us);
	g_hash_table_add(ws->conns, c);
	if (ws->cb.opened)
		ws->cb.opened(c, ws->user_data);
	return c;
}

static int kt_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                          size_t len)
{
	const struct lws_protocols *proto = lws_get_protocol(wsi);
	KtWs *ws = proto ? proto->user : NULL;
	KtWsSession *sess = user;

	if (!ws)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return kt_ws_path_ok(ws, wsi) ? 0 : 1;
	case LWS_CALLBACK_ESTABLISHED:
		if (sess)
			sess->conn = kt_ws_conn_open(ws, wsi);
		return sess ? 0 : -1;
	case LWS_CALLBACK_RECEIVE:
		if (sess && sess->conn)
			kt_ws_on_receive(sess->conn, in, len);
		return 0;
	case LWS_CALLBACK_RECEIVE_PONG:
		if (sess && sess->conn)
			sess->conn->last_rx_us = g_get_monotonic_time();
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return sess && sess->conn ? kt_ws_on_writeable(sess->conn) : 0;
	case LWS_CALLBACK_CLOSED:
		if (sess && sess->conn) {
			KtWsConn *c = g_steal_pointer(&sess->conn);
			kt_ws_conn_closed(ws, c);
		}
		return 0;
	default:
		return 0;
	}
}

KtWs *kt_ws_new(const KtWsConfig *cfg, const KtWsCallbacks *cb, gpointer user_data)
{
	g_return_val_if_fail(cb && cb->message && cb->refused && cb->closed, NULL);
	KtWs *ws = g_new0(KtWs, 1);

	if (cfg)
		ws->cfg = *cfg;
	ws->path = g_strdup(ws->cfg.path ? ws->cfg.path : "/ws");
	ws->cfg.path = ws->path;
	if (!ws->cfg.max_message)
		ws->cfg.max_message = KT_WS_DEFAULT_MAX_MESSAGE;
	if (!ws->cfg.max_queue)
		ws->cfg.max_queue = KT_WS_DEFAULT_MAX_QUEUE;
	if (!ws->cfg.idle_timeout_s)
		ws->cfg.idle_timeout_s = KT_WS_DEFAULT_IDLE_S;
	/* A short idle timeout pings sooner, so a live browser is never dropped. */
	if (!ws->cfg.ping_interval_s)
		ws->cfg.ping_interval_s =
		    MAX(1u, MIN(KT_WS_DEFAULT_PING_S, ws->cfg.idle_timeout_s / 2));
	ws->cb = *cb;
	ws->user_data = user_data;
	ws->conns = g_hash_table_new(NULL, NULL);
	ws->protocols[0] = (struct lws_protocols){
	    .name = KT_WS_PROTOCOL,
	    .callback = kt_ws_callback,
	    .per_session_data_size = sizeof(KtWsSession),
	    .user = ws,
	};
	/* Check often enough that ping and timeout are within a second or two
	 * of their settings. */
	guint tick = MAX(1, MIN(ws->cfg.ping_interval_s, ws->cfg.idle_timeout_s) / 4);
	ws->timer = g_timeout_source_new_seconds(tick);
	g_source_set_callback(ws->timer, kt_ws_on_timer, ws, NULL);
	g_source_attach(ws->timer, g_main_context_get_thread_default());
	return ws;
}

void kt_ws_free(KtWs *ws)
{
	if (!ws)
		return;
	g_source_destroy(ws->timer);
	g_source_unref(ws->timer);
	/* Normally none: destroying the lws context closed them. Their wsi
	 * may be gone, so nothing more is written to them. */
	GList *left = g_hash_table_get_keys(ws->conns);
	for (GList *l = left; l; l = l->next)
		((KtWsConn *)l->data)->closing = TRUE;
	for (GList *l = left; l; l = l->next)
		kt_ws_conn_closed(ws, l->data);
	g_list_free(left);
	g_hash_table_unref(ws->conns);
	g_free(ws->path);
	g_free(ws);
}

const struct lws_protocols *kt_ws_get_protocols(KtWs *ws)
{
	return ws->protocols;
}

guint kt_ws_get_n_conns(KtWs *ws)
{
	return g_hash_table_size(ws->conns);
}

/* ------------------------------------------------------------------- tests */

KtWsConn *kt_ws_test_open(KtWs *ws)
{
	return kt_ws_conn_open(ws, NULL);
}

void kt_ws_test_receive(KtWsConn *c, const char *data, gsize len)
{
	KtWs *ws = c->ws;
	g_autofree char *copy = g_strndup(data, len);

	if (c->closing || !kt_ws_rate_ok(c))
		return;
	if (len > ws->cfg.max_message)
		ws->cb.refused(c, KT_WS_REFUSED_TOO_LARGE, ws->user_data);
	else
		ws->cb.message(c, copy, len, ws->user_data);
}

char *kt_ws_test_pop_sent(KtWsConn *c)
{
	KtWsOut *m = g_queue_pop_head(&c->out);
	if (!m)
		return NULL;
	c->out_bytes -= m->len;
	char *text = g_strndup((const char *)m->buf + LWS_PRE, m->len);
	g_free(m);
	return text;
}

guint16 kt_ws_test_get_close_code(KtWsConn *c)
{
	return c->closing ? c->close_code : 0;
}

void kt_ws_test_close(KtWsConn *c)
{
	kt_ws_conn_closed(c->ws, c);
}
