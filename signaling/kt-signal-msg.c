/* kt-signal-msg.c — table-driven validation of the lesson WebSocket's client
 * messages, and the server message builders. */
#include "kt-signal-msg.h"

#include <stddef.h>
#include <string.h>

// clang-format off
G_DEFINE_QUARK(kt-signal-msg-error-quark, kt_signal_msg_error)
// clang-format on

#define KT_SIGNAL_MSG_MAX_TOKEN 512 /* bytes; KT_TOKEN_MAX_LEN */
#define KT_SIGNAL_MSG_MAX_MID 32    /* characters */
#define KT_SIGNAL_MSG_MAX_PID 32    /* characters of a participant id */
#define KT_SIGNAL_MSG_MAX_CAND 1024 /* bytes of a candidate line */
#define KT_SIGNAL_MSG_MAX_FIELDS 3

typedef enum {
	KT_FIELD_STRING,
	KT_FIELD_TRACKS,
} KtFieldKind;

typedef enum {
	KT_FIELD_REQUIRED = 1 << 0,
	KT_FIELD_CHARS = 1 << 1,    /* limits count characters, not bytes */
	KT_FIELD_PLAIN = 1 << 2,    /* no control characters at all */
	KT_FIELD_TEXT = 1 << 3,     /* no control characters but \n and \t */
	KT_FIELD_NULLABLE = 1 << 4, /* null is the same as absent */
} KtFieldFlags;

typedef struct {
	const char *name;
	KtFieldKind kind;
	guint flags;
	gsize min, max;
	const char *const *one_of; /* allowed values, NULL-terminated, or NULL */
	gsize offset;              /* where the value goes in KtSignalMsg */
} KtSignalField;

typedef struct {
	const char *name;
	KtSignalField fields[KT_SIGNAL_MSG_MAX_FIELDS];
} KtSignalMsgSpec;

static const char *const kt_pc_names[] = {"publish", "subscribe", NULL};
static const char *const kt_source_names[] = {"camera", "courseware", "audio", NULL};
static const char *const kt_audio_modes[] = {"mix", "forward", NULL};
static const char *const kt_view_modes[] = {"wall", "individual", NULL};

#define STR(n, fl, lo, hi, member)                                                                 \
	{                                                                                          \
		.name = n, .kind = KT_FIELD_STRING, .flags = fl, .min = lo, .max = hi,             \
		.offset = offsetof(KtSignalMsg, member)                                            \
	}
#define PID                                                                                        \
	STR("participant", KT_FIELD_REQUIRED | KT_FIELD_CHARS | KT_FIELD_PLAIN, 1,                 \
	    KT_SIGNAL_MSG_MAX_PID, participant)
#define SDP STR("sdp", KT_FIELD_REQUIRED, 1, KT_SIGNAL_MSG_MAX_SDP, sdp)
/* A classroom's audio: one mix-minus stream or each speaker forwarded. */
#define AUDIO_MODE(n, fl)                                                                          \
	{                                                                                          \
		.name = n, .kind = KT_FIELD_STRING, .flags = fl, .max = 16,                        \
		.one_of = kt_audio_modes, .offset = offsetof(KtSignalMsg, audio)                   \
	}

/* The protocol's client messages (PROTOCOL.md, "Client → server"). */
static const KtSignalMsgSpec kt_signal_msg_specs[KT_SIGNAL_MSG_N_TYPES] = {
    [KT_SIGNAL_MSG_JOIN] = {"join",
                            {STR("token", KT_FIELD_REQUIRED | KT_FIELD_PLAIN, 1,
                                 KT_SIGNAL_MSG_MAX_TOKEN, token),
                             STR("name", KT_FIELD_CHARS | KT_FIELD_PLAIN | KT_FIELD_NULLABLE, 1,
                                 KT_SIGNAL_MSG_MAX_NAME, name),
                             AUDIO_MODE("audio", KT_FIELD_NULLABLE)}},
    [KT_SIGNAL_MSG_PUBLISH_OFFER] = {"publish_offer",
                                     {SDP,
                                      {.name = "tracks",
                                       .kind = KT_FIELD_TRACKS,
                                       .flags = KT_FIELD_REQUIRED,
                                       .max = KT_SIGNAL_MSG_MAX_TRACKS,
                                       .offset = offsetof(KtSignalMsg, tracks)}}},
    [KT_SIGNAL_MSG_SUBSCRIBE_ANSWER] = {"subscribe_answer", {SDP}},
    [KT_SIGNAL_MSG_CANDIDATE] = {"candidate",
                                 {{.name = "pc",
                                   .kind = KT_FIELD_STRING,
                                   .flags = KT_FIELD_REQUIRED,
                                   .max = 16,
                                   .one_of = kt_pc_names,
                                   .offset = offsetof(KtSignalMsg, pc)},
                                  STR("candidate", KT_FIELD_REQUIRED | KT_FIELD_PLAIN, 0,
                                      KT_SIGNAL_MSG_MAX_CAND, candidate),
                                  STR("sdpMid", KT_FIELD_CHARS | KT_FIELD_PLAIN | KT_FIELD_NULLABLE,
                                      0, KT_SIGNAL_MSG_MAX_MID, sdp_mid)}},
    [KT_SIGNAL_MSG_RAISE_HAND] = {"raise_hand", {{0}}},
    [KT_SIGNAL_MSG_LOWER_HAND] = {"lower_hand", {{0}}},
    [KT_SIGNAL_MSG_STAGE] = {"stage", {PID}},
    [KT_SIGNAL_MSG_UNSTAGE] = {"unstage", {{0}}},
    [KT_SIGNAL_MSG_MUTE] = {"mute", {PID}},
    [KT_SIGNAL_MSG_UNMUTE] = {"unmute", {PID}},
    [KT_SIGNAL_MSG_END_LESSON] = {"end_lesson", {{0}}},
    [KT_SIGNAL_MSG_CHAT] = {"chat",
                            {STR("text", KT_FIELD_REQUIRED | KT_FIELD_CHARS | KT_FIELD_TEXT, 1,
                                 KT_SIGNAL_MSG_MAX_CHAT, text)}},
    [KT_SIGNAL_MSG_AUDIO] = {"audio", {AUDIO_MODE("mode", KT_FIELD_REQUIRED)}},
    [KT_SIGNAL_MSG_VIEW] = {"view",
                            {{.name = "mode",
                              .kind = KT_FIELD_STRING,
                              .flags = KT_FIELD_REQUIRED,
                              .max = 16,
                              .one_of = kt_view_modes,
                              .offset = offsetof(KtSignalMsg, mode)}}},
};

static const char *const kt_signal_msg_error_codes[] = {
    [KT_SIGNAL_MSG_ERROR_BAD_JSON] = "bad-json",
    [KT_SIGNAL_MSG_ERROR_BAD_MESSAGE] = "bad-message",
    [KT_SIGNAL_MSG_ERROR_UNKNOWN_TYPE] = "unknown-type",
    [KT_SIGNAL_MSG_ERROR_TOO_LARGE] = "too-large",
};

const char *kt_signal_msg_type_name(KtSignalMsgType type)
{
	if ((guint)type >= KT_SIGNAL_MSG_N_TYPES)
		return "?";
	return kt_signal_msg_specs[type].name;
}

const char *kt_signal_msg_error_code(KtSignalMsgError code)
{
	if ((guint)code >= G_N_ELEMENTS(kt_signal_msg_error_codes))
		return "bad-message";
	return kt_signal_msg_error_codes[code];
}

static gboolean kt_signal_msg_bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean kt_signal_msg_bad(GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, KT_SIGNAL_MSG_ERROR, KT_SIGNAL_MSG_ERROR_BAD_MESSAGE, text);
	return FALSE;
}

static gboolean kt_string_has_control(const char *s, gboolean allow_newline)
{
	for (const guchar *p = (const guchar *)s; *p; p++) {
		if (allow_newline && (*p == '\n' || *p == '\t'))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return TRUE;
	}
	return FALSE;
}

static gboolean kt_string_in(const char *s, const char *const *set)
{
	for (guint i = 0; set[i]; i++)
		if (!strcmp(s, set[i]))
			return TRUE;
	return FALSE;
}

/* Checks a string value against @f; never quotes the value (it may be a token). */
static gboolean kt_signal_msg_check_string(const KtSignalField *f, const char *where, json_t *v,
                                           GError **error)
{
	if (!json_is_string(v))
		return kt_signal_msg_bad(error, "%s: must be a string", where);
	const char *s = json_string_value(v);
	gsize n = f->flags & KT_FIELD_CHARS ? (gsize)g_utf8_strlen(s, -1) : json_string_length(v);
	const char *unit = f->flags & KT_FIELD_CHARS ? "characters" : "bytes";

	if (n < f->min)
		return kt_signal_msg_bad(error, "%s: must not be empty", where);
	if (n > f->max)
		return kt_signal_msg_bad(error, "%s: longer than %" G_GSIZE_FORMAT " %s", where,
		                         f->max, unit);
	if ((f->flags & (KT_FIELD_PLAIN | KT_FIELD_TEXT)) &&
	    kt_string_has_control(s, f->flags & KT_FIELD_TEXT))
		return kt_signal_msg_bad(error, "%s: contains control characters", where);
	if (f->one_of && !kt_string_in(s, f->one_of)) {
		g_autofree char *allowed = g_strjoinv(", ", (char **)f->one_of);
		return kt_signal_msg_bad(error, "%s: must be one of %s", where, allowed);
	}
	return TRUE;
}

/* publish_offer.tracks: [{mid, source}], mids unique. */
static gboolean kt_signal_msg_check_tracks(const KtSignalField *f, json_t *v, GError **error)
{
	static const KtSignalField mid =
	    STR("mid", KT_FIELD_CHARS | KT_FIELD_PLAIN, 1, KT_SIGNAL_MSG_MAX_MID, sdp_mid);
	static const KtSignalField source = {
	    .name = "source", .kind = KT_FIELD_STRING, .max = 16, .one_of = kt_source_names};
	size_t i;
	json_t *t;

	if (!json_is_array(v))
		return kt_signal_msg_bad(error, "tracks: must be an array");
	if (json_array_size(v) > f->max)
		return kt_signal_msg_bad(error, "tracks: more than %" G_GSIZE_FORMAT " entries",
		                         f->max);
	json_array_foreach(v, i, t)
	{
		char where[48];
		if (!json_is_object(t) || json_object_size(t) != 2 || !json_object_get(t, "mid") ||
		    !json_object_get(t, "source"))
			return kt_signal_msg_bad(error,
			                         "tracks[%zu]: must be {\"mid\", \"source\"}", i);
		g_snprintf(where, sizeof where, "tracks[%zu].mid", i);
		if (!kt_signal_msg_check_string(&mid, where, json_object_get(t, "mid"), error))
			return FALSE;
		g_snprintf(where, sizeof where, "tracks[%zu].source", i);
		if (!kt_signal_msg_check_string(&source, where, json_object_get(t, "source"),
		                                error))
			return FALSE;
		for (size_t j = 0; j < i; j++) {
			if (json_equal(json_object_get(json_array_get(v, j), "mid"),
			               json_object_get(t, "mid")))
				return kt_signal_msg_bad(error, "tracks[%zu].mid: used twice", i);
		}
	}
	return TRUE;
}

static const KtSignalField *kt_signal_msg_spec_field(const KtSignalMsgSpec *spec, const char *key)
{
	for (guint i = 0; i < KT_SIGNAL_MSG_MAX_FIELDS && spec->fields[i].name; i++)
		if (!strcmp(spec->fields[i].name, key))
			return &spec->fields[i];
	return NULL;
}

/* Every key is known (a typo must not silently drop a field), every field
 * present and typed as the table says; stores the values in @out. */
static gboolean kt_signal_msg_check_fields(const KtSignalMsgSpec *spec, KtSignalMsg *out,
                                           GError **error)
{
	const char *key;
	json_t *v;

	json_object_foreach(out->root, key, v)
	{
		if (strcmp(key, "type") && strcmp(key, "id") &&
		    !kt_signal_msg_spec_field(spec, key))
			return kt_signal_msg_bad(error, "%s: not a field of %s", key, spec->name);
	}
	for (guint i = 0; i < KT_SIGNAL_MSG_MAX_FIELDS && spec->fields[i].name; i++) {
		const KtSignalField *f = &spec->fields[i];
		v = json_object_get(out->root, f->name);
		if (v && json_is_null(v) && (f->flags & KT_FIELD_NULLABLE))
			v = NULL;
		if (!v) {
			if (f->flags & KT_FIELD_REQUIRED)
				return kt_signal_msg_bad(error, "%s: missing", f->name);
			continue;
		}
		if (f->kind == KT_FIELD_TRACKS) {
			if (!kt_signal_msg_check_tracks(f, v, error))
				return FALSE;
			G_STRUCT_MEMBER(json_t *, out, f->offset) = v;
		} else {
			if (!kt_signal_msg_check_string(f, f->name, v, error))
				return FALSE;
			G_STRUCT_MEMBER(const char *, out, f->offset) = json_string_value(v);
		}
	}
	return TRUE;
}

/* The request id: a string (≤ KT_SIGNAL_MSG_MAX_ID characters, no control
 * characters) or an integer. */
static gboolean kt_signal_msg_check_id(KtSignalMsg *out, GError **error)
{
	static const KtSignalField id = {.name = "id",
	                                 .kind = KT_FIELD_STRING,
	                                 .flags = KT_FIELD_CHARS | KT_FIELD_PLAIN,
	                                 .max = KT_SIGNAL_MSG_MAX_ID};
	json_t *v = json_object_get(out->root, "id");

	if (!v)
		return TRUE;
	if (!json_is_integer(v) &&
	    (!json_is_string(v) || !kt_signal_msg_check_string(&id, "id", v, NULL)))
		return kt_signal_msg_bad(error,
		                         "id: must be an integer or a string of at most %d "
		                         "characters",
		                         KT_SIGNAL_MSG_MAX_ID);
	out->id = v;
	return TRUE;
}

static gboolean kt_signal_msg_find_type(KtSignalMsg *out, GError **error)
{
	json_t *v = json_object_get(out->root, "type");

	if (!v)
		return kt_signal_msg_bad(error, "type: missing");
	if (!json_is_string(v))
		return kt_signal_msg_bad(error, "type: must be a string");
	for (guint i = 0; i < KT_SIGNAL_MSG_N_TYPES; i++) {
		if (!strcmp(json_string_value(v), kt_signal_msg_specs[i].name)) {
			out->type = i;
			return TRUE;
		}
	}
	g_set_error(error, KT_SIGNAL_MSG_ERROR, KT_SIGNAL_MSG_ERROR_UNKNOWN_TYPE,
	            "unknown message type (see PROTOCOL.md)");
	return FALSE;
}

bool kt_signal_msg_parse(const char *data, gsize len, KtSignalMsg *out, GError **error)
{
	json_error_t jerr;

	memset(out, 0, sizeof *out);
	if (len > KT_SIGNAL_MSG_MAX_BYTES) {
		g_set_error(error, KT_SIGNAL_MSG_ERROR, KT_SIGNAL_MSG_ERROR_TOO_LARGE,
		            "message over %d bytes", KT_SIGNAL_MSG_MAX_BYTES);
		return false;
	}
	/* Duplicate keys are refused: which one wins would be a guess. */
	out->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!out->root || !json_is_object(out->root)) {
		g_set_error(
		    error, KT_SIGNAL_MSG_ERROR, KT_SIGNAL_MSG_ERROR_BAD_JSON, "%s%s",
		    out->root ? "not a JSON object" : "not JSON: ", out->root ? "" : jerr.text);
		return false;
	}
	if (!kt_signal_msg_check_id(out, error) || !kt_signal_msg_find_type(out, error))
		return false;
	return kt_signal_msg_check_fields(&kt_signal_msg_specs[out->type], out, error);
}

void kt_signal_msg_clear(KtSignalMsg *msg)
{
	if (msg->root)
		json_decref(msg->root);
	memset(msg, 0, sizeof *msg);
}

/* ------------------------------------------------------------- builders */

json_t *kt_signal_msg_new(const char *type, json_t *id)
{
	json_t *msg = json_pack("{ss}", "type", type);
	if (id)
		json_object_set(msg, "id", id);
	return msg;
}

json_t *kt_signal_msg_new_error(json_t *id, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);

	json_t *msg = kt_signal_msg_new("error", id);
	json_object_set_new(msg, "code", json_string(code));
	/* jansson refuses invalid UTF-8; the message may quote a client value. */
	json_t *message = json_string(text);
	json_object_set_new(msg, "message", message ? message : json_string("(unprintable)"));
	return msg;
}

json_t *kt_signal_msg_new_event(const char *type, const char *participant_id, json_t *id)
{
	json_t *msg = kt_signal_msg_new(type, id);
	json_object_set_new(msg, "participant", json_string(participant_id));
	return msg;
}

char *kt_signal_msg_dump(json_t *msg, gsize *len)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	char *copy = g_strdup(text ? text : "{}");
	free(text);
	if (len)
		*len = strlen(copy);
	return copy;
}
