/* Ingest: a lesson source that is not a browser — a classroom's IP camera or a
 * recording host over RTSP (pulled), an encoder over RTMP (pulled from the RTMP
 * server it pushes to) — decoded and published into room sources as feeds
 * (kt-rtp-out.h), so subscribers receive it like any browser's camera and
 * microphone:
 *
 *   uridecodebin (rtspsrc latency=200 / rtmp2src ...) -- video --> videoconvert,
 *       videoscale (at most WxH, aspect kept) -> vp8enc (realtime, keyframe on
 *       request) -> rtpvp8pay -> KtRtpOut (video source)
 *                                               \-- audio --> audioconvert,
 *       audioresample -> opusenc (FEC) -> rtpopuspay -> KtRtpOut (audio source)
 *
 * VP8 because every browser decodes it; a camera's H.264 profile (often High
 * with B-frames) is not something every classroom browser can take.
 *
 * A source that fails — cannot connect, drops, ends — is torn down and
 * connected again after 1 s, then 2, 4, ... at most 30 s (the delay starts over
 * once media flows again), and reported through on_state: CONNECTING, LIVE
 * (media reaches the room), RECONNECTING (with the reason and the delay). The
 * room sources keep their SSRCs across reconnections, so subscribers see one
 * stream that pauses, not a new one. Nothing a source does stops the server.
 *
 * Threads: control loop only (the thread-default main context at creation,
 * which must be iterated: bus watch, timers and callbacks run there).
 * GStreamer's streaming threads hand packets to the room through KtRtpOut.
 * Ownership: the caller owns the KtIngest and frees it (the room must
 * outlive it). Never free it from inside its own callback.
 */
#pragma once

#include <gst/gst.h>

#include "kt-room.h"

G_BEGIN_DECLS

#define KT_INGEST_ERROR (kt_ingest_error_quark())
GQuark kt_ingest_error_quark(void);

typedef enum {
	KT_INGEST_ERROR_INVALID, /* bad URL or settings */
} KtIngestError;

typedef enum {
	KT_INGEST_CONNECTING,   /* first connection */
	KT_INGEST_LIVE,         /* media reaches the room */
	KT_INGEST_RECONNECTING, /* failed or dropped; trying again after a delay */
} KtIngestState;

typedef struct _KtIngest KtIngest;

/* Control loop. @reason: why (RECONNECTING), else NULL; @retry_s: the delay
 * before the next attempt (RECONNECTING), else 0. Borrowed. */
typedef void (*KtIngestStateFunc)(KtIngest *in, KtIngestState state, const char *reason,
                                  guint retry_s, gpointer user_data);

/* A streaming thread of the ingest: one decoded picture (I420, at most
 * max_width x max_height), borrowed for the call (take a reference to keep
 * it). Not called once kt_ingest_free returned. */
typedef void (*KtIngestFrameFunc)(KtIngest *in, GstSample *picture, gpointer user_data);

/* Zeros are defaults. */
typedef struct {
	const char *url;            /* rtsp://, rtsps:// or rtmp:// (copied) */
	guint video_source;         /* room source for the picture; 0 = the room's default video */
	guint audio_source;         /* room source for the sound; 0 = the room's default audio */
	gboolean no_audio;          /* publish the picture only */
	guint max_width;            /* 1280; the picture is scaled down to fit, never up */
	guint max_height;           /* 720 */
	guint video_kbps;           /* VP8: 1200 */
	guint audio_kbps;           /* Opus: 32 */
	guint max_retry_s;          /* longest delay between attempts: 30 */
	KtIngestStateFunc on_state; /* optional */
	/* Optional: the picture goes here decoded (e.g. into a raw_input ladder,
	 * kt_ladder_push_frame) instead of into video_source as VP8: the ladder
	 * then encodes once per size, with no encode and decode in between.
	 * video_kbps is unused then; video_packets counts pictures. */
	KtIngestFrameFunc on_frame;
	gpointer user_data;
} KtIngestConfig;

typedef struct {
	guint attempts;        /* connections tried */
	guint failures;        /* attempts that failed or dropped */
	guint64 video_packets; /* RTP into the room */
	guint64 audio_packets;
	KtIngestState state;
} KtIngestStats;

/* Control loop. Starts connecting at once. NULL with @error for a bad URL or
 * settings. */
KtIngest *kt_ingest_new(KtRoom *room, const KtIngestConfig *config, GError **error);
/* Control loop. Disconnects and frees; NULL is fine. */
void kt_ingest_free(KtIngest *in);
/* Any thread. A snapshot. */
void kt_ingest_get_stats(KtIngest *in, KtIngestStats *out);
/* Any thread. TRUE when kt_ingest_new would take @url (its scheme and host),
 * else FALSE with @error (KT_INGEST_ERROR_INVALID). Nothing is connected. */
gboolean kt_ingest_check_url(const char *url, GError **error);
/* The URL without its user:password part, for logs and pages (g_free). */
char *kt_ingest_safe_url(const char *url);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtIngest, kt_ingest_free)

G_END_DECLS
