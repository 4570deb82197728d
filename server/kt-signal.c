/* kt-signal.c — lesson WebSocket dispatcher: the handler table, join/leave,
 * errors, broadcasts. The in-lesson handlers (floor, chat, media) are in
 * kt-signal-handlers.c. Protocol prose is in PROTOCOL.md. */
#define G_LOG_DOMAIN "kt-signal"

#include "kt-signal-private.h"

#include <string.h>

#include "kt-token.h"

// clang-format off
G_DEFINE_QUARK(kt-signal-error-quark, kt_signal_error)
// clang-format on

#define KT_SIGNAL_ROLE(r) (1u << KT_ROLE_##r)
#define KT_SIGNAL_ANYONE                                                                           \
	(KT_SIGNAL_ROLE(TEACHER) | KT_SIGNAL_ROLE(CLASSROOM) | KT_SIGNAL_ROLE(OBSERVER))

typedef struct {
	KtSignalHandlerFunc handle;
	guint roles;       /* senders allowed, once joined */
	gboolean pre_join; /* only before join (join itself); else only after */
} KtSignalHandler;

/* ---------------------------------------------------------------- sending */

gboolean kt_signal_peer_send(KtSignalPeer *peer, json_t *msg)
{
	gsize len;
	g_autofree char *text = kt_signal_msg_dump(msg, &len);
	return kt_ws_conn_send(peer->conn, text, len);
}

/* Sends @msg to every joined peer of @l; @requester's copy carries @id. */
void kt_signal_lesson_broadcast(KtSignalLesson *l, json_t *msg, KtSignalPeer *requester, json_t *id)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->peers);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		if (value == requester && id) {
			json_object_set(msg, "id", id);
			kt_signal_peer_send(value, msg);
			json_object_del(msg, "id");
		} else {
			kt_signal_peer_send(value, msg);
		}
	}
}

/* Broadcasts {type, participant: id} (the requester's copy with its id). */
void kt_signal_event(KtSignalCall *call, const char *type, const char *participant)
{
	json_t *msg = kt_signal_msg_new_event(type, participant, NULL);
	kt_signal_lesson_broadcast(call->peer->lesson, msg, call->peer, call->msg->id);
	json_decref(msg);
}

static const char *kt_signal_error_to_code(const GError *error)
{
	static const char *const signal_codes[] = {
	    [KT_SIGNAL_ERROR_NOT_JOINED] = "not-joined",
	    [KT_SIGNAL_ERROR_ALREADY_JOINED] = "already-joined",
	    [KT_SIGNAL_ERROR_WRONG_ROLE] = "wrong-role",
	    [KT_SIGNAL_ERROR_MEDIA_UNAVAILABLE] = "media-unavailable",
	    [KT_SIGNAL_ERROR_LESSON_FULL] = "lesson-full",
	    [KT_SIGNAL_ERROR_RATE_LIMITED] = "rate-limited",
	};
	static const char *const roster_codes[] = {
	    [KT_ROSTER_ERROR_NO_SUCH_PARTICIPANT] = "no-such-participant",
	    [KT_ROSTER_ERROR_WRONG_STATE] = "wrong-state",
	    [KT_ROSTER_ERROR_ENDED] = "lesson-ended",
	};
	guint code = (guint)error->code;

	if (error->domain == KT_SIGNAL_MSG_ERROR)
		return kt_signal_msg_error_code(error->code);
	if (error->domain == KT_SIGNAL_ERROR && code < G_N_ELEMENTS(signal_codes))
		return signal_codes[code];
	if (error->domain == KT_ROSTER_ERROR && code < G_N_ELEMENTS(roster_codes))
		return roster_codes[code];
	if (error->domain == KT_TOKEN_ERROR)
		return code == KT_TOKEN_ERROR_EXPIRED ? "token-expired" : "bad-token";
	return "bad-message";
}

static void kt_signal_reply_error(KtSignalPeer *peer, json_t *id, const GError *error)
{
	json_t *msg =
	    kt_signal_msg_new_error(id, kt_signal_error_to_code(error), "%s", error->message);
	kt_signal_peer_send(peer, msg);
	json_decref(msg);
}

/* ----------------------------------------------------------------- lessons */

static void kt_signal_lesson_free(gpointer p)
{
	KtSignalLesson *l = p;
	g_hash_table_unref(l->peers);
	kt_roster_free(l->roster);
	g_free(l);
}

static KtSignalLesson *kt_signal_lesson_get(KtSignal *s, const char *id)
{
	KtSignalLesson *l = g_hash_table_lookup(s->lessons, id);
	if (!l) {
		l = g_new0(KtSignalLesson, 1);
		l->roster = kt_roster_new(id);
		l->peers = g_hash_table_new(g_str_hash, g_str_equal);
		g_hash_table_insert(s->lessons, g_strdup(id), l);
	}
	return l;
}

static KtSignalPeer *kt_signal_find_peer(KtSignal *s, const char *lesson, const char *participant)
{
	KtSignalLesson *l = lesson ? g_hash_table_lookup(s->lessons, lesson) : NULL;
	return l && participant ? g_hash_table_lookup(l->peers, participant) : NULL;
}

/* -------------------------------------------------------------------- join */

/* max_participants, the teachers not counted: a full room never locks the
 * teacher out of the lesson. A join is rare; the walk is short. */
static gboolean kt_signal_lesson_has_seat(KtSignal *s, KtSignalLesson *l, GError **error)
{
	GHashTableIter it;
	gpointer value;
	guint n = 0;

	if (!s->cfg.max_participants)
		return TRUE;
	g_hash_table_iter_init(&it, l->peers);
	while (g_hash_table_iter_next(&it, NULL, &value))
		n += ((KtSignalPeer *)value)->role != KT_ROLE_TEACHER;
	if (n < s->cfg.max_participants)
		return TRUE;
	g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_LESSON_FULL,
	            "the lesson already has %u participants (max_participants)", n);
	return FALSE;
}

static json_t *kt_signal_joined_new(const KtRoster *r, const KtRosterEntry *self, json_t *id,
                                    const char *title)
{
	json_t *msg = kt_signal_msg_new("joined", id);
	json_t *all = json_array();
	json_t *hands = json_array();
	json_t *chat = json_array();
	const char *stage = kt_roster_get_stage(r);

	for (guint i = 0; i < kt_roster_size(r); i++)
		json_array_append_new(all, kt_roster_entry_to_json(kt_roster_nth(r, i)));
	for (guint i = 0; i < kt_roster_n_hands(r); i++)
		json_array_append_new(hands, json_string(kt_roster_nth_hand(r, i)));
	for (guint i = 0; i < kt_roster_n_chat(r); i++)
		json_array_append_new(chat, kt_roster_chat_to_json(kt_roster_nth_chat(r, i)));
	json_object_set_new(msg, "participant", kt_roster_entry_to_json(self));
	/* Titles come from the lesson catalog; a roster only knows live/ended. */
	json_object_set_new(msg, "lesson",
	                    json_pack("{ss ss ss}", "id", kt_roster_get_lesson(r), "title",
	                              title ? title : "", "state",
	                              kt_roster_is_ended(r) ? "ended" : "live"));
	json_object_set_new(msg, "participants", all);
	json_object_set_new(msg, "stage", stage ? json_string(stage) : json_null());
	json_object_set_new(msg, "hands", hands);
	json_object_set_new(msg, "chat", chat);
	return msg;
}

static void kt_signal_peer_leave(KtSignal *s, KtSignalPeer *peer);

/* A classroom that joins under the name of one already in the lesson takes its place, as
 * LiveKit does with a duplicate identity. It is almost always the same classroom back: its
 * page rejoined after a cut link while the server had not yet seen the old socket die (that
 * takes up to [limits] ws_idle_timeout), and the teacher would meanwhile see the room twice,
 * once frozen. A second tab on the same join link is told `replaced` and closed (4002), and
 * its page does not come back by itself, so two tabs never take turns. */
static void kt_signal_replace_namesake(KtSignal *s, KtSignalLesson *l, KtRole role,
                                       const char *name)
{
	GHashTableIter it;
	gpointer value;
	KtSignalPeer *old = NULL;

	if (role != KT_ROLE_CLASSROOM || name == NULL)
		return;
	g_hash_table_iter_init(&it, l->peers);
	while (!old && g_hash_table_iter_next(&it, NULL, &value)) {
		KtSignalPeer *p = value;
		const KtRosterEntry *e = kt_roster_get(l->roster, p->id);

		if (p->role == KT_ROLE_CLASSROOM && e && g_strcmp0(e->name, name) == 0)
			old = p;
	}
	if (!old)
		return;
	json_t *msg = kt_signal_msg_new_error(NULL, "replaced",
	                                      "'%s' joined again from another connection", name);
	kt_signal_peer_send(old, msg);
	json_decref(msg);
	g_debug("lesson %s: %s replaced by a new join as '%s'", kt_roster_get_lesson(l->roster),
	        old->id, name);
	kt_signal_peer_leave(s, old);
	old->lesson = NULL; /* left: its socket's close is not a second leave */
	kt_ws_conn_close(old->conn, KT_WS_CLOSE_REPLACED, "replaced");
}

static gboolean kt_signal_on_join(KtSignalCall *call, GError **error)
{
	KtSignal *s = call->s;
	KtSignalPeer *peer = call->peer;
	gint64 now_ms = g_get_real_time() / 1000;
	KtTokenClaims claims;

	if (!kt_token_verify(s->secret, s->secret_len, call->msg->token, now_ms / 1000, &claims,
	                     error))
		return FALSE;
	if (!kt_role_needs_lesson(claims.role)) {
		g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_WRONG_ROLE,
		            "role '%s' does not take part in lessons",
		            kt_role_to_string(claims.role));
		return FALSE;
	}
	if (call->msg->audio && claims.role != KT_ROLE_CLASSROOM) {
		g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_WRONG_ROLE,
		            "audio: only a classroom chooses its audio");
		return FALSE;
	}
	KtSignalLesson *l = kt_signal_lesson_get(s, claims.lesson);
	if (!kt_roster_is_ended(l->roster))
		kt_signal_replace_namesake(s, l, claims.role, call->msg->name);
	if (claims.role != KT_ROLE_TEACHER && !kt_signal_lesson_has_seat(s, l, error))
		return FALSE;
	const KtRosterEntry *e =
	    kt_roster_add(l->roster, claims.role, call->msg->name, now_ms, error);
	if (!e)
		return FALSE;

	g_autofree char *title =
	    call->s->media_ops && call->s->media_ops->lesson_title
	        ? call->s->media_ops->lesson_title(call->s->media, claims.lesson)
	        : NULL;
	json_t *joined = kt_signal_joined_new(l->roster, e, call->msg->id, title);
	json_t *event = kt_signal_msg_new("participant_joined", NULL);
	json_object_set_new(event, "participant", kt_roster_entry_to_json(e));
	kt_signal_lesson_broadcast(l, event, NULL, NULL);
	json_decref(event);

	peer->lesson = l;
	peer->id = g_strdup(e->id);
	peer->role = e->role;
	g_hash_table_insert(l->peers, peer->id, peer);
	kt_signal_peer_send(peer, joined);
	json_decref(joined);
	g_debug("lesson %s: %s (%s) joined", claims.lesson, e->id, kt_role_to_string(e->role));
	if (s->media_ops && s->media_ops->participant_joined)
		s->media_ops->participant_joined(s->media, claims.lesson, e);
	if (call->msg->audio && s->media_ops && s->media_ops->audio)
		s->media_ops->audio(s->media, claims.lesson, peer->id, call->msg->audio, NULL);
	return TRUE;
}

/* The socket went away: the participant leaves, the others hear of it. */
static void kt_signal_peer_leave(KtSignal *s, KtSignalPeer *peer)
{
	KtSignalLesson *l = peer->lesson;
	const char *lesson = kt_roster_get_lesson(l->roster);
	gboolean was_staged = FALSE;

	g_hash_table_remove(l->peers, peer->id);
	kt_roster_remove(l->roster, peer->id, &was_staged);
	if (was_staged) {
		json_t *unstaged = kt_signal_msg_new_event("unstaged", peer->id, NULL);
		kt_signal_lesson_broadcast(l, unstaged, NULL, NULL);
		json_decref(unstaged);
	}
	json_t *left = kt_signal_msg_new_event("participant_left", peer->id, NULL);
	kt_signal_lesson_broadcast(l, left, NULL, NULL);
	json_decref(left);
	g_debug("lesson %s: %s left", lesson, peer->id);
	if (s->media_ops && s->media_ops->participant_left)
		s->media_ops->participant_left(s->media, lesson, peer->id);
	if (was_staged && s->media_ops && s->media_ops->floor_changed)
		s->media_ops->floor_changed(s->media, lesson);
}

/* --------------------------------------------------------------- dispatch */

/* Who may send what, in which state (PROTOCOL.md, "Client → server"). */
static const KtSignalHandler kt_signal_handlers[KT_SIGNAL_MSG_N_TYPES] = {
    [KT_SIGNAL_MSG_JOIN] = {kt_signal_on_join, 0, TRUE},
    [KT_SIGNAL_MSG_PUBLISH_OFFER] = {kt_signal_on_publish_offer,
                                     KT_SIGNAL_ROLE(TEACHER) | KT_SIGNAL_ROLE(CLASSROOM)},
    [KT_SIGNAL_MSG_SUBSCRIBE_ANSWER] = {kt_signal_on_subscribe_answer, KT_SIGNAL_ANYONE},
    [KT_SIGNAL_MSG_CANDIDATE] = {kt_signal_on_candidate, KT_SIGNAL_ANYONE},
    [KT_SIGNAL_MSG_RAISE_HAND] = {kt_signal_on_raise_hand, KT_SIGNAL_ROLE(CLASSROOM)},
    [KT_SIGNAL_MSG_LOWER_HAND] = {kt_signal_on_lower_hand, KT_SIGNAL_ROLE(CLASSROOM)},
    [KT_SIGNAL_MSG_STAGE] = {kt_signal_on_stage, KT_SIGNAL_ROLE(TEACHER)},
    [KT_SIGNAL_MSG_UNSTAGE] = {kt_signal_on_unstage, KT_SIGNAL_ROLE(TEACHER)},
    [KT_SIGNAL_MSG_MUTE] = {kt_signal_on_mute, KT_SIGNAL_ROLE(TEACHER)},
    [KT_SIGNAL_MSG_UNMUTE] = {kt_signal_on_unmute, KT_SIGNAL_ROLE(TEACHER)},
    [KT_SIGNAL_MSG_END_LESSON] = {kt_signal_on_end_lesson, KT_SIGNAL_ROLE(TEACHER)},
    [KT_SIGNAL_MSG_CHAT] = {kt_signal_on_chat, KT_SIGNAL_ANYONE},
    [KT_SIGNAL_MSG_AUDIO] = {kt_signal_on_audio, KT_SIGNAL_ROLE(CLASSROOM)},
    [KT_SIGNAL_MSG_VIEW] = {kt_signal_on_view, KT_SIGNAL_ROLE(TEACHER)},
};

/* State and role checks of the table. */
static gboolean kt_signal_check(KtSignalPeer *peer, const KtSignalMsg *msg,
                                const KtSignalHandler *h, GError **error)
{
	const char *type = kt_signal_msg_type_name(msg->type);

	if (h->pre_join && peer->lesson) {
		g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_ALREADY_JOINED,
		            "this socket already joined as %s", peer->id);
		return FALSE;
	}
	if (h->pre_join)
		return TRUE;
	if (!peer->lesson) {
		g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_NOT_JOINED,
		            "send join before %s", type);
		return FALSE;
	}
	if (kt_roster_is_ended(peer->lesson->roster)) {
		g_set_error(error, KT_ROSTER_ERROR, KT_ROSTER_ERROR_ENDED, "the lesson has ended");
		return FALSE;
	}
	if (!(h->roles & (1u << peer->role))) {
		g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_WRONG_ROLE,
		            "role '%s' may not send %s", kt_role_to_string(peer->role), type);
		return FALSE;
	}
	return TRUE;
}

static void kt_signal_on_message(KtWsConn *c, const char *data, gsize len, gpointer user_data)
{
	KtSignalPeer *peer = kt_ws_conn_get_data(c);
	g_autoptr(GError) error = NULL;
	KtSignalMsg msg;

	if (kt_signal_msg_parse(data, len, &msg, &error)) {
		const KtSignalHandler *h = &kt_signal_handlers[msg.type];
		KtSignalCall call = {.s = user_data, .peer = peer, .msg = &msg};
		gboolean was_joined = peer->lesson != NULL;

		if (!kt_signal_check(peer, &msg, h, &error) || !h->handle(&call, &error)) {
			kt_signal_reply_error(peer, msg.id, error);
			/* A socket that cannot join has nothing left to do. */
			if (msg.type == KT_SIGNAL_MSG_JOIN && !was_joined)
				kt_ws_conn_close(c, KT_WS_CLOSE_JOIN_FAILED, "join failed");
		}
	} else {
		kt_signal_reply_error(peer, msg.id, error);
	}
	kt_signal_msg_clear(&msg);
}

static void kt_signal_on_refused(KtWsConn *c, KtWsRefusal why, gpointer user_data)
{
	static const struct {
		const char *code;
		const char *message;
	} refusals[] = {
	    [KT_WS_REFUSED_TOO_LARGE] = {"too-large", "message over %u bytes"},
	    [KT_WS_REFUSED_BINARY] = {"bad-json", "binary frames are not used: send JSON text"},
	    [KT_WS_REFUSED_RATE] = {"rate-limited",
	                            "more than %u messages a second: messages are dropped until "
	                            "the rate falls (ws_message_rate)"},
	};
	KtSignalPeer *peer = kt_ws_conn_get_data(c);
	KtSignal *s = user_data;
	guint n = why == KT_WS_REFUSED_RATE ? s->cfg.message_rate : (guint)s->cfg.max_message;
	json_t *msg = kt_signal_msg_new_error(NULL, refusals[why].code, refusals[why].message, n);

	kt_signal_peer_send(peer, msg);
	json_decref(msg);
}

static void kt_signal_on_opened(KtWsConn *c, gpointer user_data)
{
	KtSignalPeer *peer = g_new0(KtSignalPeer, 1);
	peer->s = user_data;
	peer->conn = c;
	kt_ws_conn_set_data(c, peer);
}

static void kt_signal_on_closed(KtWsConn *c, gpointer user_data)
{
	KtSignalPeer *peer = kt_ws_conn_get_data(c);

	if (peer->lesson)
		kt_signal_peer_leave(user_data, peer);
	g_free(peer->id);
	g_free(peer);
}

/* ------------------------------------------------------------------ public */

KtSignal *kt_signal_new(const guint8 *secret, gsize secret_len, const KtSignalConfig *cfg)
{
	static const KtWsCallbacks callbacks = {
	    .opened = kt_signal_on_opened,
	    .message = kt_signal_on_message,
	    .refused = kt_signal_on_refused,
	    .closed = kt_signal_on_closed,
	};
	KtSignal *s = g_new0(KtSignal, 1);

	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.max_message || s->cfg.max_message > KT_SIGNAL_MSG_MAX_BYTES)
		s->cfg.max_message = KT_SIGNAL_MSG_MAX_BYTES;
	const KtWsConfig ws_cfg = {
	    .path = "/ws",
	    .max_message = s->cfg.max_message,
	    .idle_timeout_s = s->cfg.idle_timeout_s,
	    .message_rate = s->cfg.message_rate,
	    .message_burst = s->cfg.message_burst,
	};

	for (guint i = 0; i < KT_SIGNAL_MSG_N_TYPES; i++)
		g_assert(kt_signal_handlers[i].handle); /* the table covers every type */
	s->secret = g_memdup2(secret, secret_len);
	s->secret_len = secret_len;
	s->lessons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, kt_signal_lesson_free);
	s->ws = kt_ws_new(&ws_cfg, &callbacks, s);
	return s;
}

void kt_signal_free(KtSignal *s)
{
	if (!s)
		return;
	s->media_ops = NULL; /* conns left are dropped without telling media */
	kt_ws_free(s->ws);
	g_hash_table_unref(s->lessons);
	memset(s->secret, 0, s->secret_len);
	g_free(s->secret);
	g_free(s);
}

const struct lws_protocols *kt_signal_get_protocols(KtSignal *s)
{
	return kt_ws_get_protocols(s->ws);
}

void kt_signal_set_media(KtSignal *s, const KtSignalMediaOps *ops, gpointer media)
{
	s->media_ops = ops;
	s->media = media;
}

bool kt_signal_send(KtSignal *s, const char *lesson, const char *participant, json_t *msg)
{
	KtSignalPeer *peer = kt_signal_find_peer(s, lesson, participant);
	return peer && kt_signal_peer_send(peer, msg);
}

bool kt_signal_send_error(KtSignal *s, const char *lesson, const char *participant,
                          json_t *request_id, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	json_t *msg = kt_signal_msg_new_error(request_id, code, "%s", text);
	bool sent = kt_signal_send(s, lesson, participant, msg);
	json_decref(msg);
	return sent;
}

void kt_signal_broadcast(KtSignal *s, const char *lesson, json_t *msg)
{
	KtSignalLesson *l = g_hash_table_lookup(s->lessons, lesson);
	if (l)
		kt_signal_lesson_broadcast(l, msg, NULL, NULL);
}

const KtRoster *kt_signal_get_roster(KtSignal *s, const char *lesson)
{
	KtSignalLesson *l = g_hash_table_lookup(s->lessons, lesson);
	return l ? l->roster : NULL;
}

guint kt_signal_get_n_connections(KtSignal *s)
{
	return kt_ws_get_n_conns(s->ws);
}

KtWs *kt_signal_get_ws(KtSignal *s)
{
	return s->ws;
}
