/* kt-signal-msg.h — the lesson WebSocket's messages (signaling/PROTOCOL.md,
 * "The lesson WebSocket"): parse and validate what a page sends, build what
 * Ketang sends back. Pure: no sockets, no lesson state.
 *
 * Validation is driven by one table (kt-signal-msg.c): per message type, its
 * fields with their JSON type and length limits. A message that parses is
 * complete and well-typed; what it means (roles, state) is for the
 * dispatcher (server/kt-signal.h).
 *
 * Ownership: a KtSignalMsg owns its parsed JSON (root); every field pointer in
 * it is borrowed from root and lives until kt_signal_msg_clear. The builders
 * return new references (json_decref). Builders borrow their json_t
 * arguments (they take their own reference).
 *
 * Threads: every function is pure and may be called from any thread. */
#pragma once

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* Largest frame a page may send (bytes of UTF-8 JSON). */
#define KT_SIGNAL_MSG_MAX_BYTES (64 * 1024)
#define KT_SIGNAL_MSG_MAX_SDP (32 * 1024)
#define KT_SIGNAL_MSG_MAX_NAME 64   /* characters */
#define KT_SIGNAL_MSG_MAX_CHAT 500  /* characters */
#define KT_SIGNAL_MSG_MAX_ID 64     /* characters of a string request id */
#define KT_SIGNAL_MSG_MAX_TRACKS 16 /* entries of publish_offer.tracks */

#define KT_SIGNAL_MSG_ERROR (kt_signal_msg_error_quark())
GQuark kt_signal_msg_error_quark(void);

/* Each maps to one wire code (kt_signal_msg_error_code). */
typedef enum {
	KT_SIGNAL_MSG_ERROR_BAD_JSON,     /* "bad-json": not a JSON object, binary frame */
	KT_SIGNAL_MSG_ERROR_BAD_MESSAGE,  /* "bad-message": field missing/mistyped/too long */
	KT_SIGNAL_MSG_ERROR_UNKNOWN_TYPE, /* "unknown-type" */
	KT_SIGNAL_MSG_ERROR_TOO_LARGE,    /* "too-large": over KT_SIGNAL_MSG_MAX_BYTES */
} KtSignalMsgError;

/* Client → server message types. The order is the dispatch table's index
 * (server/kt-signal.c). */
typedef enum {
	KT_SIGNAL_MSG_JOIN,
	KT_SIGNAL_MSG_PUBLISH_OFFER,
	KT_SIGNAL_MSG_SUBSCRIBE_ANSWER,
	KT_SIGNAL_MSG_CANDIDATE,
	KT_SIGNAL_MSG_RAISE_HAND,
	KT_SIGNAL_MSG_LOWER_HAND,
	KT_SIGNAL_MSG_STAGE,
	KT_SIGNAL_MSG_UNSTAGE,
	KT_SIGNAL_MSG_MUTE,
	KT_SIGNAL_MSG_UNMUTE,
	KT_SIGNAL_MSG_END_LESSON,
	KT_SIGNAL_MSG_CHAT,
	KT_SIGNAL_MSG_AUDIO,
	KT_SIGNAL_MSG_VIEW,
	KT_SIGNAL_MSG_N_TYPES,
} KtSignalMsgType;

/* A parsed client message. Only the fields of its type are set; the others
 * are NULL. Strings are valid UTF-8 without NUL (jansson guarantees both). */
typedef struct {
	KtSignalMsgType type;
	json_t *root;            /* owned */
	json_t *id;              /* the request id (string or integer) or NULL; borrowed */
	const char *token;       /* join */
	const char *name;        /* join, optional */
	const char *sdp;         /* publish_offer, subscribe_answer */
	json_t *tracks;          /* publish_offer: [{mid, source}], validated */
	const char *pc;          /* candidate: "publish" or "subscribe" */
	const char *candidate;   /* candidate: may be "" (end of candidates) */
	const char *sdp_mid;     /* candidate: optional */
	const char *participant; /* stage, mute, unmute */
	const char *text;        /* chat */
	const char *audio;       /* join (optional) "audio", audio "mode": "mix" or "forward" */
	const char *mode;        /* view: "wall" or "individual" */
} KtSignalMsg;

/* Parses one text frame of @len bytes. On success fills @out and returns
 * true. On failure returns false with KT_SIGNAL_MSG_ERROR_* set whose message
 * names the problem (and the field); @out->id is still set when the frame
 * was a JSON object with a usable id, so the error reply can carry it.
 * Either way call kt_signal_msg_clear(@out) afterwards. Token values never
 * appear in error messages. */
bool kt_signal_msg_parse(const char *data, gsize len, KtSignalMsg *out, GError **error);

/* Frees what @msg owns and zeroes it; safe on a zeroed or cleared msg. */
void kt_signal_msg_clear(KtSignalMsg *msg);

/* The wire name of @type ("join", ...), or "?" if out of range. */
const char *kt_signal_msg_type_name(KtSignalMsgType type);

/* The wire code of a KT_SIGNAL_MSG_ERROR code ("bad-json", ...). */
const char *kt_signal_msg_error_code(KtSignalMsgError code);

/* --- Server → client builders (new references). --- */

/* {"type": type} plus "id" when @id is not NULL. */
json_t *kt_signal_msg_new(const char *type, json_t *id);

/* {"type":"error","id":id?,"code":code,"message":...}. */
json_t *kt_signal_msg_new_error(json_t *id, const char *code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* {"type": type, "participant": participant_id} plus "id" if @id. */
json_t *kt_signal_msg_new_event(const char *type, const char *participant_id, json_t *id);

/* Compact JSON text of @msg (g_free), for the socket. */
char *kt_signal_msg_dump(json_t *msg, gsize *len);

G_END_DECLS
