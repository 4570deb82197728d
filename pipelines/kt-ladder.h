/* The transcoding ladder (issue 6 item 3): a video source that cannot send
 * simulcast (OBS over WHIP, an RTSP camera, an RTMP encoder) is decoded once
 * and encoded again as up to four VP8 layers ("rungs"), each published into
 * one room source as a layered feed (kt-room.h "Layered feeds"), so the
 * source's subscribers get the same per-subscriber layer choice as a
 * browser's simulcast: bandwidth estimate -> layer, switches at keyframes,
 * pause below the lowest rung.
 *
 *   RTP of the source (copied) -> appsrc -> rtpjitterbuffer -> depay -> decoder
 *     -> funnel -> tee -> per rung: queue (leaky) -> videoscale -> videorate (cap)
 *     -> I420 WxH -> vp8enc (realtime, CBR, error resilient) -> rtpvp8pay
 *     -> KtRtpOut (layer i of n) -> the room source
 *
 * Rungs: by default 1280x720 at 1200 kbit/s, 640x360 at 500, 320x180 at 150,
 * at most 30 frames/s each; each keeps the input's aspect (borders added).
 * A rung larger than the input (in width or height) is skipped: it sends
 * nothing and the room treats its layer as inactive; the smallest rung always
 * runs. Encoders are tuned for latency: no lag (so no alternate reference
 * frames, VP8's B-frames), a keyframe every 3 s unasked and whenever the room
 * asks for that rung (a subscriber's PLI, a switch up to it, a new tap).
 *
 * Failures: an error inside the input's decoding chain rebuilds it at the
 * next keyframe (asked for through on_keyframe; after 3 quick failures in a
 * row that codec is given up). Any other pipeline error stops the ladder,
 * which calls on_error once; it then only counts packets as dropped until
 * freed. Nothing aborts the process.
 *
 * Threads: everything but kt_ladder_push() and kt_ladder_get_stats() runs on
 * the control loop: the thread-default main context at creation, which must
 * be iterated (bus watch, wake-ups and callbacks run there). kt_ladder_push()
 * may be called from any thread (the media worker, from a room tap) and never
 * blocks nor logs; what cannot be taken is dropped and counted.
 *
 * Ownership: the caller owns the ladder and frees it with kt_ladder_free().
 * It holds a reference to the room and publishes its rungs' feeds into the
 * source until freed. Nothing may push any more when it is freed (remove the
 * room tap and wait for its notify first). Never free it from inside its
 * callbacks.
 */
#pragma once

#include <gst/gst.h>

#include "kt-media.h"
#include "kt-room.h"

G_BEGIN_DECLS

#define KT_LADDER_ERROR (kt_ladder_error_quark())
GQuark kt_ladder_error_quark(void);

typedef enum {
	KT_LADDER_ERROR_INVALID,  /* a bad configuration */
	KT_LADDER_ERROR_PIPELINE, /* GStreamer could not build or run it */
} KtLadderError;

/* The most rungs: the room's simulcast layers per source. */
#define KT_LADDER_MAX_RUNGS KT_ROOM_MAX_LAYERS

typedef struct _KtLadder KtLadder;

/* One layer of the output. Zeros are defaults (those of the rung at its index
 * in the default ladder; fps: 30). */
typedef struct {
	guint width, height; /* even, 64..4096 */
	guint kbps;          /* VP8 target bit rate, 30..20000 */
	guint fps; /* at most this many frames/s (fewer when the input has fewer), 1..60 */
} KtLadderRung;

/* Control loop, once, when the ladder failed (see above). @error is borrowed.
 * Without a callback the ladder logs it. */
typedef void (*KtLadderErrorFunc)(KtLadder *ladder, const GError *error, gpointer user_data);
/* Control loop: the input needs a keyframe (it started, lost packets, its
 * chain was rebuilt); at most once per second. E.g. call
 * kt_room_request_source_keyframe() for the input's source. */
typedef void (*KtLadderKeyframeFunc)(KtLadder *ladder, gpointer user_data);

typedef struct {
	/* n_rungs 0 = the default three; else 1..KT_LADDER_MAX_RUNGS, in any order
	 * (the room ranks layers by what they carry). One rung is a plain feed. */
	KtLadderRung rungs[KT_LADDER_MAX_RUNGS];
	guint n_rungs;
	guint keyframe_seconds; /* keyframes unasked for: every 3 s; 1..60 */
	gint64 epoch_us;        /* the lesson epoch, a g_get_monotonic_time() value; 0 = now */
	/* The input comes as decoded pictures through kt_ladder_push_frame (from an
	 * ingest that decoded its source already: no encode and decode in between),
	 * not as RTP through kt_ladder_push. */
	gboolean raw_input;
	KtLadderErrorFunc on_error;       /* optional */
	KtLadderKeyframeFunc on_keyframe; /* optional */
	gpointer user_data;
} KtLadderConfig;

typedef struct {
	guint width, height, kbps, fps; /* as configured (defaults filled in) */
	gboolean running;               /* FALSE: larger than the input, skipped */
	guint64 frames;                 /* pictures encoded */
	guint64 sent;                   /* RTP packets handed to the room */
	guint64 bytes;                  /* of those packets */
	guint64 keyframe_requests;      /* from the room, passed to its encoder */
} KtLadderRungStats;

typedef struct {
	guint64 packets;                 /* RTP packets accepted */
	guint64 dropped;                 /* queue full, codec given up, or the ladder failed */
	guint64 rejected;                /* not RTP, not a video codec */
	guint64 decoded;                 /* input pictures decoded */
	guint input_width, input_height; /* of the decoded input; 0 = none yet */
	guint chains;                    /* decoding chains built (> 1 after restarts) */
	gboolean failed;
	guint n_rungs;
	KtLadderRungStats rungs[KT_LADDER_MAX_RUNGS];
} KtLadderStats;

/* Control loop. Starts the ladder at once, publishing its rungs as the layers
 * of room source @source (0 = the default video source; a reference to @room
 * is taken). The source must not be the input's own (its tap would get the
 * ladder's top rung back). @config may be NULL (defaults); it is copied. NULL
 * with @error on a bad configuration or when GStreamer cannot build the
 * pipeline. */
KtLadder *kt_ladder_new(KtRoom *room, guint source, const KtLadderConfig *config, GError **error);

/* Any thread (the media worker). @rtp: a whole RTP packet of the input as a
 * room tap delivers it; copied. @codec: VP8 or H.264 (a change rebuilds the
 * decoder, starting at the new codec's first keyframe). Never blocks, never
 * logs; bad packets and other codecs are counted and ignored, as is any
 * packet to a raw_input ladder. */
void kt_ladder_push(KtLadder *ladder, const guint8 *rtp, gsize len, KtCodec codec);

/* Any thread (a streaming thread of the producer), for a raw_input ladder.
 * @sample: one decoded picture (video/x-raw, any size; its caps say which);
 * its buffer is referenced, not copied, and timed by the ladder's clock on
 * arrival. Never blocks: at most a few pictures wait, older ones are
 * dropped and counted. */
void kt_ladder_push_frame(KtLadder *ladder, GstSample *sample);

/* Any thread. A snapshot of the counters. */
void kt_ladder_get_stats(KtLadder *ladder, KtLadderStats *out);

/* Control loop. The pipeline (borrowed; NULL once failed), for diagnostics
 * and tests. Do not change its state. */
GstElement *kt_ladder_get_pipeline(KtLadder *ladder);

/* Control loop. Stops the pipeline, removes the feeds from the room, frees
 * everything. NULL is fine. */
void kt_ladder_free(KtLadder *ladder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtLadder, kt_ladder_free)

G_END_DECLS
