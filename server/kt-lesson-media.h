/* The media side of a lesson joined over the WebSocket: for each participant
 * a publish connection (the page offers its camera/courseware/audio, Ketang
 * answers) and a subscribe connection (Ketang offers what the participant
 * should receive, the page answers), and the routing rules that decide who
 * receives what:
 *
 *   teacher    ← every classroom's camera and audio; in wall view, the
 *                classroom wall (one video of every classroom camera,
 *                kt-lesson-wall.h) and every classroom's audio
 *   classroom  ← the teacher's camera, courseware and audio, and the on-stage
 *                classroom's camera and audio (unless it is that classroom)
 *   observer   ← what a classroom receives
 *
 * A classroom that asked for the mix (kt_lesson_media_set_audio) receives one
 * mix-minus audio stream in place of the teacher's and the on-stage
 * classroom's audio.
 *
 * A lesson's RTSP/RTMP sources (feeds_for, kt-media-feed.c) join as
 * participants without connections, ids "s1", "s2" ..., routed like a
 * browser of their role, and announced by the `sources` message.
 *
 * A muted classroom's audio reaches nobody. The teacher's camera and audio are
 * the lesson room's default sources, so WHEP viewers see the same teacher.
 *
 * Threads: control loop only. Messages for a participant go out through the
 * send callback as JSON objects (borrowed for the call).
 */
#pragma once

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "kt-cert.h"
#include "kt-config.h"
#include "kt-lesson-store.h"
#include "kt-lesson.h"
#include "kt-role.h"

G_BEGIN_DECLS

#define KT_LESSON_MEDIA_ERROR (kt_lesson_media_error_quark())
GQuark kt_lesson_media_error_quark(void);
typedef enum {
	KT_LESSON_MEDIA_ERROR_BAD_MESSAGE, /* tracks/pc/candidate fields invalid */
	KT_LESSON_MEDIA_ERROR_BAD_SDP,
	KT_LESSON_MEDIA_ERROR_WRONG_ROLE,  /* e.g. an observer publishing */
	KT_LESSON_MEDIA_ERROR_WRONG_STATE, /* an answer nobody asked for */
	KT_LESSON_MEDIA_ERROR_UNAVAILABLE, /* limits, ICE */
} KtLessonMediaError;

typedef struct _KtLessonMedia KtLessonMedia;

/* Sends @msg to @participant of @lesson (over its WebSocket). */
typedef void (*KtLessonMediaSendFunc)(const char *lesson, const char *participant, json_t *msg,
                                      gpointer user_data);

/* A published source became active (its m-line negotiated with media flowing) or inactive
 * (the line went inactive, the participant left). @name is the participant's display name,
 * @what "camera", "courseware" or "audio"; @source the room source id, stable across a
 * participant's leave and rejoin under the same name. For the recorder. */
typedef struct {
	const char *lesson;
	const char *participant;
	const char *name;
	KtRole role;
	const char *what;
	guint source;
	KtMediaKind kind;
	gboolean active;
} KtLessonMediaSource;
typedef void (*KtLessonMediaSourceFunc)(const KtLessonMediaSource *source, gpointer user_data);
/* The non-browser sources of @lesson (RTSP, RTMP), asked once as it goes live: a
 * NULL-terminated array the lesson media frees (kt_lesson_feed_info_free, g_free), or
 * NULL for none. */
typedef KtLessonFeedInfo **(*KtLessonMediaFeedsFunc)(const char *lesson, gpointer user_data);

typedef struct {
	KtLessons *lessons;
	KtCert *dtls_cert;
	KtPeerGate *gate; /* [limits] dtls_handshakes, for publish offers; borrowed */
	const KtSettings *settings;
	const char *video_codecs; /* "vp8,h264" */
	KtLessonMediaSendFunc send;
	KtLessonMediaSourceFunc source_changed; /* optional */
	KtLessonMediaFeedsFunc feeds_for;       /* optional */
	gpointer user_data;                     /* of all three */
} KtLessonMediaConfig;

KtLessonMedia *kt_lesson_media_new(const KtLessonMediaConfig *config);
void kt_lesson_media_free(KtLessonMedia *media);

/* Roster changes. @stage is the on-stage participant id or NULL. A classroom's sources are
 * kept by @name when it leaves: rejoining under the same name publishes into the same room
 * sources (same SSRCs for receivers, one recording file). */
bool kt_lesson_media_join(KtLessonMedia *media, const char *lesson, const char *participant,
                          const char *name, KtRole role, GError **error);
/* The last participant to leave starts [lesson] empty_timeout: the lesson (room, sources,
 * recordings) stays live for whoever comes back, then ends. */
void kt_lesson_media_leave(KtLessonMedia *media, const char *lesson, const char *participant);
/* The teacher ended @lesson: it ends once its participants are gone, without waiting. */
void kt_lesson_media_end(KtLessonMedia *media, const char *lesson);
void kt_lesson_media_set_stage(KtLessonMedia *media, const char *lesson, const char *stage);
void kt_lesson_media_set_muted(KtLessonMedia *media, const char *lesson, const char *participant,
                               gboolean muted);
/* A classroom's `audio`: @mode "mix" (one mix-minus stream instead of a track
 * per speaker, kt-media-mix.c) or "forward" (the default). The subscribe
 * connection is offered again. WRONG_ROLE for anyone but a classroom,
 * UNAVAILABLE when [mix] enabled is false or the mix cannot start. */
bool kt_lesson_media_set_audio(KtLessonMedia *media, const char *lesson, const char *participant,
                               const char *mode, GError **error);
/* A classroom's hand went up or down (the wall marks it). */
void kt_lesson_media_set_hand(KtLessonMedia *media, const char *lesson, const char *participant,
                              gboolean hand);
/* The teacher's `view`: @mode "wall" (the wall starts if nobody watched it; the
 * teacher's `wall` layout message follows through send) or "individual" (the wall
 * stops once nobody watches it). The subscribe connection is offered again.
 * UNAVAILABLE when [wall] enabled is false or the wall cannot start. */
bool kt_lesson_media_view(KtLessonMedia *media, const char *lesson, const char *participant,
                          const char *mode, GError **error);

/* Negotiation messages from the page. Errors are the caller's to report; on
 * success the reply (publish_answer with @request_id) follows through send. */
bool kt_lesson_media_publish_offer(KtLessonMedia *media, const char *lesson,
                                   const char *participant, const char *sdp, json_t *tracks,
                                   json_t *request_id, GError **error);
bool kt_lesson_media_subscribe_answer(KtLessonMedia *media, const char *lesson,
                                      const char *participant, const char *sdp, GError **error);
bool kt_lesson_media_candidate(KtLessonMedia *media, const char *lesson, const char *participant,
                               const char *pc, const char *candidate, GError **error);

/* Link quality of every participant that publishes, for the teacher:
 * [{id, bitrate_kbps, loss_pct, rtt_ms, estimate_kbps}] (new reference;
 * estimate_kbps is null while unknown). */
json_t *kt_lesson_media_quality(KtLessonMedia *media, const char *lesson);

G_END_DECLS
