/* kt-signal.h — the lesson WebSocket's dispatcher (signaling/PROTOCOL.md,
 * "The lesson WebSocket"): joins sockets to lessons, checks every message
 * against a table (type → handler, allowed roles, required state), runs the
 * floor-control and chat handlers on the lesson's KtRoster and broadcasts
 * the resulting events. Media messages go to a KtSignalMediaOps the media
 * side provides.
 *
 * Check order for each message: parse (bad-json, too-large, unknown-type,
 * bad-message) → state (not-joined, already-joined, lesson-ended) → role
 * (wrong-role) → the handler (no-such-participant, wrong-state, ...). Any
 * failure answers one `error` and changes nothing. Only a failed `join`
 * closes the socket (code 4001).
 *
 * Lessons: for now KtSignal keeps its own registry of rosters keyed by lesson
 * id, created by the first join; a roster lives until kt_signal_free (an
 * ended lesson then answers lesson-ended to new joins).
 *
 * Ownership: kt_signal_new copies the secret. The protocol list of
 * kt_signal_get_protocols belongs to the KtSignal, which must outlive the
 * HTTP server using it: free the KtHttpServer first, then the KtSignal.
 * json_t arguments are borrowed.
 *
 * Threads: control loop only (the loop running the HTTP server); media ops
 * are called on it, and kt_signal_send & co. must be called on it. */
#pragma once

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "kt-roster.h"

G_BEGIN_DECLS

struct lws_protocols;

typedef struct _KtSignal KtSignal;

#define KT_SIGNAL_ERROR (kt_signal_error_quark())
GQuark kt_signal_error_quark(void);

/* Dispatcher errors; each maps to a wire code. */
typedef enum {
	KT_SIGNAL_ERROR_NOT_JOINED,        /* "not-joined" */
	KT_SIGNAL_ERROR_ALREADY_JOINED,    /* "already-joined" */
	KT_SIGNAL_ERROR_WRONG_ROLE,        /* "wrong-role" */
	KT_SIGNAL_ERROR_MEDIA_UNAVAILABLE, /* "media-unavailable" */
	KT_SIGNAL_ERROR_LESSON_FULL,       /* "lesson-full": max_participants */
	KT_SIGNAL_ERROR_RATE_LIMITED,      /* "rate-limited": message_rate */
} KtSignalError;

/* Limits ([limits] in configs/ketang.ini); zeros take the defaults. */
typedef struct {
	gsize max_message;      /* bytes; KT_SIGNAL_MSG_MAX_BYTES when 0, never more */
	guint message_rate;     /* messages/s per socket (kt-ws.h); 0 = no limit */
	guint message_burst;    /* message_rate when 0 */
	guint idle_timeout_s;   /* 60 when 0 */
	guint max_participants; /* joined sockets per lesson, teachers not counted
	                         * against it; 0 = no limit */
} KtSignalConfig;

/* Implemented by the media side; every member may be NULL. All run on the
 * control loop, after the roster changed. Participant ids are the roster's
 * ("p1", ...), stable for the participant's stay. */
typedef struct {
	void (*participant_joined)(gpointer media, const char *lesson, const KtRosterEntry *p);
	/* The socket closed (also after end_lesson). */
	void (*participant_left)(gpointer media, const char *lesson, const char *participant);
	/* Stage, mute or a raised hand changed (kt_signal_get_roster has the new
	 * state): re-evaluate who receives what (and the wall's marks). */
	void (*floor_changed)(gpointer media, const char *lesson);
	/* end_lesson was accepted; participant_left follows for each socket. */
	void (*lesson_ended)(gpointer media, const char *lesson);
	/* The lesson's title for `joined` (newly allocated, or NULL = none). */
	char *(*lesson_title)(gpointer media, const char *lesson);
	/* Media messages, validated (PROTOCOL.md) and role-checked. Answer with
	 * kt_signal_send (publish_answer, subscribe_offer, candidate, ok) or
	 * kt_signal_send_error, echoing @request_id (may be NULL). When the op is
	 * NULL the page gets error "media-unavailable". @tracks is the validated
	 * [{mid, source}] array (borrowed for the call: json_incref to keep). */
	void (*publish_offer)(gpointer media, const char *lesson, const char *participant,
	                      const char *sdp, json_t *tracks, json_t *request_id);
	void (*subscribe_answer)(gpointer media, const char *lesson, const char *participant,
	                         const char *sdp, json_t *request_id);
	/* @pc is "publish" or "subscribe"; @candidate "" means end of
	 * candidates (RFC 8838); @mid may be NULL. */
	void (*candidate)(gpointer media, const char *lesson, const char *participant,
	                  const char *pc, const char *candidate, const char *mid);
	/* A classroom's audio: @mode "mix" (one mix-minus stream) or "forward"
	 * (each speaker's track). From an `audio` message (answer `ok` or an
	 * error, echoing @request_id) or a `join` with "audio" (@request_id NULL,
	 * right after participant_joined: a failure can only be reported). */
	void (*audio)(gpointer media, const char *lesson, const char *participant, const char *mode,
	              json_t *request_id);
	/* The teacher's view of the classrooms: @mode "wall" or "individual".
	 * Answer with `ok` or an error, echoing @request_id (may be NULL). */
	void (*view)(gpointer media, const char *lesson, const char *participant, const char *mode,
	             json_t *request_id);
} KtSignalMediaOps;

/* @secret (≥ 16 bytes) verifies join tokens; copied. @cfg may be NULL (no
 * limits but the message size); copied. Control loop. */
KtSignal *kt_signal_new(const guint8 *secret, gsize secret_len, const KtSignalConfig *cfg);

/* Frees the rosters and any conns left (the HTTP server must be freed
 * first). NULL allowed. */
void kt_signal_free(KtSignal *s);

/* Pass as KtHttpServerConfig.extra_protocols. */
const struct lws_protocols *kt_signal_get_protocols(KtSignal *s);

/* @ops (static storage expected, borrowed) and @media, or NULL to unset. */
void kt_signal_set_media(KtSignal *s, const KtSignalMediaOps *ops, gpointer media);

/* Sends @msg (borrowed) to one participant. FALSE if it is not connected
 * (or its socket is closing). */
bool kt_signal_send(KtSignal *s, const char *lesson, const char *participant, json_t *msg);

/* Sends {"type":"error","id":request_id?,"code":code,"message":...}. */
bool kt_signal_send_error(KtSignal *s, const char *lesson, const char *participant,
                          json_t *request_id, const char *code, const char *fmt, ...)
    G_GNUC_PRINTF(6, 7);

/* Sends @msg (borrowed) to every participant of @lesson. */
void kt_signal_broadcast(KtSignal *s, const char *lesson, json_t *msg);

/* The lesson's roster (borrowed, valid until kt_signal_free), or NULL if
 * nobody ever joined it. */
const KtRoster *kt_signal_get_roster(KtSignal *s, const char *lesson);

/* The WebSocket layer, for tests (kt_ws_test_*). */
struct _KtWs *kt_signal_get_ws(KtSignal *s);

/* Open sockets, joined or not. */
guint kt_signal_get_n_connections(KtSignal *s);

G_END_DECLS
