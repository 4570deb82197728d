/* kt-roster.h — who is in one lesson and who has the floor: participants,
 * the raised-hand queue, the stage, mutes, recent chat, ended or not.
 *
 * Pure state: no sockets, no clock (callers pass the time), no logging. Every
 * change either succeeds completely or fails with a KT_ROSTER_ERROR and
 * changes nothing, so the WebSocket dispatcher (kt-signal.h) can answer an
 * error and be sure the lesson is as it was.
 *
 * Rules (PROTOCOL.md, "The lesson WebSocket"):
 * - one teacher per lesson: a second teacher is refused (WRONG_STATE), the
 *   first keeps the lesson;
 * - only classrooms raise hands, go on stage and are muted; at most one
 *   classroom is on stage, staging another replaces it, staging lowers the
 *   staged classroom's hand;
 * - once ended, every change fails with ENDED.
 *
 * Ownership: a KtRoster owns its entries; `const KtRosterEntry *` and
 * `const char *` results are borrowed and stay valid until that participant
 * is removed or the roster is freed. kt_roster_entry_to_json returns a new
 * reference.
 *
 * Threads: none of its own; one thread at a time (the control loop). */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "kt-role.h"

G_BEGIN_DECLS

#define KT_ROSTER_CHAT_KEEP 50 /* chat messages kept for late joiners */

#define KT_ROSTER_ERROR (kt_roster_error_quark())
GQuark kt_roster_error_quark(void);

typedef enum {
	KT_ROSTER_ERROR_NO_SUCH_PARTICIPANT, /* wire code "no-such-participant" */
	KT_ROSTER_ERROR_WRONG_STATE,         /* "wrong-state" */
	KT_ROSTER_ERROR_ENDED,               /* "lesson-ended" */
} KtRosterError;

typedef struct _KtRoster KtRoster;

/* A plain value; read it, never change it (only through kt_roster_*). */
typedef struct {
	char *id; /* "p1", "p2", ...: unique within the roster's lifetime */
	KtRole role;
	char *name;
	gboolean hand;   /* raised */
	gboolean muted;  /* its audio is not forwarded */
	gboolean staged; /* on stage */
	gint64 joined_at_ms;
} KtRosterEntry;

typedef struct {
	char *from; /* participant id (it may have left since) */
	char *name; /* its name when it wrote */
	char *text;
	gint64 at_ms;
} KtRosterChat;

/* A new empty roster for lesson @lesson_id (copied). */
KtRoster *kt_roster_new(const char *lesson_id);
void kt_roster_free(KtRoster *r); /* NULL allowed */

const char *kt_roster_get_lesson(const KtRoster *r);
gboolean kt_roster_is_ended(const KtRoster *r);

/* Adds a participant with a fresh id. @name NULL → "Teacher", "Classroom N",
 * "Observer N" (N counts that role's joins). Fails with WRONG_STATE for a
 * second teacher or a role that is not teacher/classroom/observer, ENDED
 * after kt_roster_end. */
const KtRosterEntry *kt_roster_add(KtRoster *r, KtRole role, const char *name, gint64 now_ms,
                                   GError **error);

/* Removes @id (its hand and its stage go with it). Returns FALSE if unknown.
 * @was_staged (may be NULL) tells whether it was on stage. Works after the
 * lesson ended too. */
gboolean kt_roster_remove(KtRoster *r, const char *id, gboolean *was_staged);

const KtRosterEntry *kt_roster_get(const KtRoster *r, const char *id); /* NULL if absent */
guint kt_roster_size(const KtRoster *r);
const KtRosterEntry *kt_roster_nth(const KtRoster *r, guint i); /* join order */

/* The raised hands, first raised first. */
guint kt_roster_n_hands(const KtRoster *r);
const char *kt_roster_nth_hand(const KtRoster *r, guint i);

/* The staged classroom's id, or NULL. */
const char *kt_roster_get_stage(const KtRoster *r);

/* @id raises / lowers its hand: WRONG_STATE if it is already up / down or @id
 * is not a classroom. */
gboolean kt_roster_raise_hand(KtRoster *r, const char *id, GError **error);
gboolean kt_roster_lower_hand(KtRoster *r, const char *id, GError **error);

/* Puts classroom @id on stage. *@previous (may be NULL) gets the id that left
 * the stage (borrowed) or NULL; *@hand_lowered (may be NULL) whether @id's
 * hand was up and is now down. WRONG_STATE if @id is not a classroom or is
 * already on stage. */
gboolean kt_roster_stage(KtRoster *r, const char *id, const char **previous, gboolean *hand_lowered,
                         GError **error);

/* Takes the staged classroom off stage; *@who (may be NULL) gets its id.
 * WRONG_STATE when nobody is on stage. */
gboolean kt_roster_unstage(KtRoster *r, const char **who, GError **error);

/* Mutes / unmutes classroom @id. WRONG_STATE if it is not a classroom or
 * already in that state. */
gboolean kt_roster_set_muted(KtRoster *r, const char *id, gboolean muted, GError **error);

/* Records a chat line from @from (must be present); keeps the last
 * KT_ROSTER_CHAT_KEEP. Returns the stored line (borrowed, valid until the
 * next kt_roster_add_chat). */
const KtRosterChat *kt_roster_add_chat(KtRoster *r, const char *from, const char *text,
                                       gint64 now_ms, GError **error);
guint kt_roster_n_chat(const KtRoster *r);
const KtRosterChat *kt_roster_nth_chat(const KtRoster *r, guint i); /* oldest first */

/* Ends the lesson: clears stage and hands. ENDED if it already ended. */
gboolean kt_roster_end(KtRoster *r, GError **error);

/* {id, role, name, hand, muted, staged} as in PROTOCOL.md's `joined`. */
json_t *kt_roster_entry_to_json(const KtRosterEntry *e);
/* {from, name, text, at} as in PROTOCOL.md's `chat` (without "type"). */
json_t *kt_roster_chat_to_json(const KtRosterChat *c);

G_END_DECLS
