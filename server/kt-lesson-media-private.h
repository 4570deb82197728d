/* Internals of kt-lesson-media (control loop): participants, their two
 * connections, and the routing table. */
#pragma once

#include "kt-lesson-media.h"
#include "kt-lesson-wall.h"
#include "kt-peer.h"
#include "kt-room.h"
#include "kt-sdp-offer.h"
#include "kt-sdp.h"

/* What a participant publishes; the table maps names to kinds and to who may
 * publish them. */
typedef enum {
	KT_SRC_CAMERA,
	KT_SRC_COURSEWARE,
	KT_SRC_AUDIO,
	KT_SRC_N,
	/* Server-made, never published by a participant: the classroom wall
	 * (kt-media-wall.c). Past KT_SRC_N so per-participant tables skip it. */
	KT_SRC_WALL = KT_SRC_N + 1,
} KtSourceName;

typedef struct _MediaLesson MediaLesson;
typedef struct _Participant Participant;
typedef struct _MediaMix MediaMix;
typedef struct _MediaFeed MediaFeed;

/* One m-line of the subscribe connection; mids are stable for its life. */
typedef struct {
	char mid[8];
	KtMediaKind kind;
	gboolean active;
	guint source;           /* room source id */
	guint32 ssrc, rtx_ssrc; /* Ketang's SSRCs of that source */
	char from[16];          /* publishing participant id */
	KtSourceName name;
	gboolean subscribed; /* attached in the room (after an answer) */
	gboolean rejected;   /* the page answered port 0: never reused */
} SubSlot;

struct _Participant {
	char *id;
	char *name;
	KtRole role;
	MediaLesson *lesson;
	gboolean muted;
	gboolean hand;          /* raised (the wall marks it) */
	gboolean view_wall;     /* a teacher watching the wall instead of each classroom */
	guint source[KT_SRC_N]; /* room source ids, 0 = none */
	guint32 ssrc[KT_SRC_N], rtx_ssrc[KT_SRC_N];
	gboolean active[KT_SRC_N]; /* as last reported to source_changed */

	/* Publish connection (the page offers). */
	KtPeer *pub_peer;
	json_t *pub_request_id;          /* the pending offer's request id */
	KtSdp *pub_offer;                /* the pending offer */
	KtSourceName pub_mid_source[16]; /* by m-line index of the offer */
	char *pub_ufrag, *pub_pwd;
	char **pub_candidates;
	gboolean pub_ready;

	/* Subscribe connection (Ketang offers). */
	KtPeer *sub_peer;
	GArray *slots; /* SubSlot */
	char *sub_ufrag, *sub_pwd;
	char **sub_candidates;
	gboolean sub_ready;     /* local description known */
	gboolean offer_pending; /* an offer is out, awaiting the answer */
	/* What that offer said, line by line: the answer is read against it, since routing
	 * may change the slots (add lines) before the answer comes back. */
	KtSdpOfferStream *offered;
	guint n_offered;
	gboolean dirty; /* the wanted set changed since that offer */
	gboolean remote_set;
	guint64 sub_version;
	guint64 session_id;
	guint next_mid;

	/* Link quality, refreshed every 2 s from RTCP. */
	guint64 last_bytes_in;
	gint64 last_bytes_at_us;
	gint bitrate_kbps, rtt_ms;
	gint estimate_kbps; /* subscribe connection's bandwidth estimate; -1 = none */
	guint video_height; /* the simulcast layer it receives (height), 0 = none */
	double loss_pct;

	gboolean audio_mix; /* a classroom that receives the mix-minus (kt-media-mix.c) */
	/* A lesson source that is not a browser (kt-media-feed.c): no connections,
	 * only published sources; routing skips its subscription. */
	MediaFeed *feed;
};

struct _MediaLesson {
	char *id;
	KtLessonMedia *media;
	KtLesson *live;           /* held while participants are in */
	GHashTable *participants; /* id → Participant* */
	GHashTable *kept;         /* "name/what" → KeptSource*: sources outlive their publisher */
	char *stage;
	MediaMix *mix; /* mix-minus audio and its sources (kt-media-mix.c), or NULL */
	guint quality_timer;
	guint linger_timer; /* everyone left: the lesson stays live until it fires */
	gboolean ended;     /* the teacher ended it: the last to leave ends it at once */
	/* The classroom wall, while a teacher watches it (kt-media-wall.c), and its room
	 * source: made at the first request, kept for the lesson (stable SSRCs). */
	KtLessonWall *wall;
	guint64 wall_layouts; /* layout changes sent */
	guint wall_source;
	guint32 wall_ssrc, wall_rtx_ssrc;
	GPtrArray *feeds; /* MediaFeed*: the lesson's RTSP/RTMP sources (kt-media-feed.c) */
};

struct _KtLessonMedia {
	KtLessonMediaConfig config;
	GHashTable *lessons; /* id → MediaLesson* */
	GPtrArray *queries;  /* stats queries in flight; cancelled on free */
};

const char *kt_source_name_to_string(KtSourceName n);
KtMediaKind kt_source_name_kind(KtSourceName n);

/* kt-lesson-media.c */
void kt_lesson_media_send(MediaLesson *l, Participant *p, json_t *msg); /* steals msg */
/* Reports @p's source @n (in)active to source_changed, when that changed. */
void kt_lesson_media_source_active(MediaLesson *l, Participant *p, KtSourceName n, gboolean active);
void kt_lesson_media_route(MediaLesson *l);
KtPeerConfig kt_lesson_media_peer_config(KtLessonMedia *m, MediaLesson *l);
/* A participant added to @l (no connections yet); owned by l->participants. */
Participant *kt_lesson_media_participant_new(MediaLesson *l, const char *id, const char *name,
                                             KtRole role);
guint kt_lesson_media_ensure_source(MediaLesson *l, Participant *p, KtSourceName n);
/* The room priority of video @n published by a @role (0 served first when a
 * link is short), from @settings' [media] video_priority. */
guint kt_lesson_media_video_priority(const KtSettings *settings, KtRole role, KtSourceName n);

/* kt-media-publish.c */
bool kt_media_publish_offer(MediaLesson *l, Participant *p, const char *sdp, json_t *tracks,
                            json_t *request_id, GError **error);
void kt_media_publish_close(MediaLesson *l, Participant *p);

/* kt-media-mix.c */
/* A subscription's slot carrying a classroom's mix-minus (never published). */
#define KT_SRC_MIX ((KtSourceName)(KT_SRC_N + 2))
/* Starts, feeds or stops the lesson's mix as its classrooms want it and the
 * floor (mutes) says. Called by kt_lesson_media_route before wanted_for. */
void kt_media_mix_update(MediaLesson *l);
/* When @p receives a mix: its wanted audio is replaced by the mix. */
void kt_media_mix_want(MediaLesson *l, Participant *p, GPtrArray *wanted);
/* The lesson ends: frees the mix and removes its sources. */
void kt_media_mix_close(MediaLesson *l);
/* kt-media-wall.c */
/* Makes or frees the wall as teachers want it, and gives it the classroom cameras
 * with their marks. Called by kt_lesson_media_route and on hand changes. */
void kt_media_wall_update(MediaLesson *l);
/* @p (a teacher) switches to @mode ("wall", "individual"); routes again. */
bool kt_media_wall_view(MediaLesson *l, Participant *p, const char *mode, GError **error);
/* Adds the wall to @wanted when @p watches it; TRUE then (its classrooms' cameras
 * are then not wanted one by one). */
gboolean kt_media_wall_want(MediaLesson *l, Participant *p, GPtrArray *wanted);
/* The lesson ends: frees the wall and removes its source. */
void kt_media_wall_close(MediaLesson *l);

/* kt-media-feed.c */
/* The lesson went live: starts its non-browser sources (config feeds_for). */
void kt_media_feed_start(MediaLesson *l);
/* Sends the `sources` message to @to, or to every participant when NULL
 * (nothing when the lesson has no source). */
void kt_media_feed_announce(MediaLesson *l, Participant *to);
/* The lesson ends: stops every source, removes their participants. */
void kt_media_feed_close(MediaLesson *l);
/* How many sources run (participants that are not browsers). */
guint kt_media_feed_count(MediaLesson *l);

/* kt-media-subscribe.c */
void kt_media_subscribe_update(MediaLesson *l, Participant *p, GPtrArray *wanted /* SubSlot* */);
bool kt_media_subscribe_answer(MediaLesson *l, Participant *p, const char *sdp, GError **error);
void kt_media_subscribe_close(MediaLesson *l, Participant *p);
