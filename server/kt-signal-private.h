/* kt-signal-private.h — what kt-signal.c (the dispatcher) and
 * kt-signal-handlers.c (the in-lesson handlers) share. Not for other files.
 *
 * Thread: everything here runs on the control loop (libwebsockets' service
 * thread), as the rest of KtSignal. */
#pragma once

#include "kt-signal.h"

#include "kt-signal-msg.h"
#include "kt-ws.h"

G_BEGIN_DECLS

typedef struct {
	KtRoster *roster;
	GHashTable *peers; /* roster id → KtSignalPeer* (borrowed) */
} KtSignalLesson;

/* One socket. Joined once lesson is set. */
typedef struct {
	KtSignal *s;
	KtWsConn *conn;
	KtSignalLesson *lesson;
	char *id; /* roster id once joined */
	KtRole role;
} KtSignalPeer;

struct _KtSignal {
	guint8 *secret;
	gsize secret_len;
	KtSignalConfig cfg;
	KtWs *ws;
	GHashTable *lessons; /* lesson id → KtSignalLesson* (owned) */
	const KtSignalMediaOps *media_ops;
	gpointer media;
};

/* What a handler gets: the sender and its validated message. */
typedef struct {
	KtSignal *s;
	KtSignalPeer *peer;
	const KtSignalMsg *msg;
} KtSignalCall;

typedef gboolean (*KtSignalHandlerFunc)(KtSignalCall *call, GError **error);

/* Sends @msg to @peer (a copy; @msg stays the caller's). */
gboolean kt_signal_peer_send(KtSignalPeer *peer, json_t *msg);
/* Sends @msg to every joined peer of @l; @requester's copy carries @id. */
void kt_signal_lesson_broadcast(KtSignalLesson *l, json_t *msg, KtSignalPeer *requester,
                                json_t *id);
/* Broadcasts {type, participant} (the requester's copy with its id). */
void kt_signal_event(KtSignalCall *call, const char *type, const char *participant);

/* kt-signal-handlers.c: one per message type, for the handler table. Each
 * runs after kt-signal.c checked the sender's role and state; on FALSE the
 * sender gets @error as an error reply and nothing else happened. */
gboolean kt_signal_on_raise_hand(KtSignalCall *call, GError **error);
gboolean kt_signal_on_lower_hand(KtSignalCall *call, GError **error);
gboolean kt_signal_on_stage(KtSignalCall *call, GError **error);
gboolean kt_signal_on_unstage(KtSignalCall *call, GError **error);
gboolean kt_signal_on_mute(KtSignalCall *call, GError **error);
gboolean kt_signal_on_unmute(KtSignalCall *call, GError **error);
gboolean kt_signal_on_end_lesson(KtSignalCall *call, GError **error);
gboolean kt_signal_on_chat(KtSignalCall *call, GError **error);
gboolean kt_signal_on_publish_offer(KtSignalCall *call, GError **error);
gboolean kt_signal_on_subscribe_answer(KtSignalCall *call, GError **error);
gboolean kt_signal_on_candidate(KtSignalCall *call, GError **error);
gboolean kt_signal_on_audio(KtSignalCall *call, GError **error);
gboolean kt_signal_on_view(KtSignalCall *call, GError **error);

G_END_DECLS
