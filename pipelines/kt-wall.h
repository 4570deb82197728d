/* The classroom wall (DESIGN.md media flow 2): the camera video of N
 * classrooms composited into one grid picture for the teacher, encoded as VP8
 * and published into a room source as a feed (kt-rtp-out.h), so subscribers
 * receive it like any track.
 *
 *   RTP of each classroom (copied) -> appsrc -> rtpjitterbuffer -> depay -> decoder
 *     -> videoscale (to its tile) -> textoverlay (its name) -> videobox (its marker)
 *     -> compositor -> I420 WxH@fps -> vp8enc (realtime) -> rtpvp8pay -> room feed
 *
 * The grid follows the number of inputs (1: whole frame, 2: 2x1, 3-4: 2x2,
 * 5-6: 3x2, 7-9: 3x3, more: 4x4, in the order they were added; inputs past
 * the 16th are not shown and not decoded until a tile frees up). Each picture
 * keeps its aspect in its tile (letterboxed), labelled bottom-left with its
 * name; a yellow border marks a raised hand, a green one a classroom on stage.
 * With no input the picture is black; it runs from kt_wall_new() to
 * kt_wall_free() regardless.
 *
 * Keyframes: the encoder makes one every 4 s and whenever the room asks for
 * one (a subscriber's PLI/FIR, a new subscriber); inputs ask their publishers
 * through on_keyframe.
 *
 * Failures: an input whose decoding chain fails is rebuilt at its next
 * keyframe (one is asked for; after 3 quick failures in a row that codec is
 * given up for the input); the other inputs go on. Any other pipeline error
 * stops the wall, which calls on_error once; it then only counts packets as
 * dropped until freed. Nothing aborts the process.
 *
 * Threads: everything but kt_wall_push() and kt_wall_get_stats() runs on the
 * control loop: the thread-default main context at creation, which must be
 * iterated (bus watch, wake-ups and callbacks run there).
 * kt_wall_push() may be called from any thread (the media worker) and never
 * blocks nor logs: a late input's packets are dropped and counted.
 *
 * Ownership: the caller owns the wall and frees it with kt_wall_free(). The
 * wall holds a reference to the room and publishes a feed into it until
 * freed. Nothing may push any more when it is freed (remove the room taps
 * and wait for their notify first). Never free it from inside its callbacks.
 */
#pragma once

#include <gst/gst.h>

#include "kt-media.h"
#include "kt-room.h"

G_BEGIN_DECLS

#define KT_WALL_ERROR (kt_wall_error_quark())
GQuark kt_wall_error_quark(void);

typedef enum {
	KT_WALL_ERROR_INVALID,  /* a bad argument: configuration, label, clock rate */
	KT_WALL_ERROR_NO_INPUT, /* no such input */
	KT_WALL_ERROR_PIPELINE, /* GStreamer could not build or run it */
} KtWallError;

/* The marker drawn around a classroom's tile. */
typedef enum {
	KT_WALL_MARK_NONE,
	KT_WALL_MARK_HAND_RAISED, /* yellow border */
	KT_WALL_MARK_ON_STAGE,    /* green border */
	KT_WALL_N_MARKS,
} KtWallMark;

/* The most tiles of the grid (4x4). */
#define KT_WALL_MAX_TILES 16

typedef struct _KtWall KtWall;

/* Control loop, once, when the wall failed (see above). @error is borrowed.
 * Without a callback the wall logs it. */
typedef void (*KtWallErrorFunc)(KtWall *wall, const GError *error, gpointer user_data);
/* Control loop: @input needs a keyframe (it started, lost packets, its chain
 * was rebuilt, or it is back on a tile); at most once per second per input.
 * E.g. call kt_room_request_source_keyframe() for the classroom's source. */
typedef void (*KtWallKeyframeFunc)(KtWall *wall, guint input, gpointer user_data);

/* Zeros are defaults. */
typedef struct {
	guint width, height;      /* of the picture: 960x540; even, 64..4096 */
	guint fps;                /* 15; 1..60 */
	guint kbps;               /* VP8 target bit rate: 800; 50..20000 */
	guint source;             /* the room source to publish into; 0 = the default video one */
	gint64 epoch_us;          /* the lesson epoch, a g_get_monotonic_time() value; 0 = now */
	KtWallErrorFunc on_error; /* optional */
	KtWallKeyframeFunc on_keyframe; /* optional */
	gpointer user_data;
} KtWallConfig;

typedef struct {
	guint64 packets;           /* RTP packets accepted, all inputs */
	guint64 dropped;           /* queue full, codec given up, or the wall failed */
	guint64 rejected;          /* not RTP, not a video codec */
	guint64 unknown;           /* for an input id that does not (or no longer) exist */
	guint64 hidden;            /* skipped: the input has no tile */
	guint64 frames;            /* wall pictures encoded */
	guint64 sent;              /* RTP packets handed to the room */
	guint64 keyframe_requests; /* from the room, passed to the encoder */
	guint inputs;
	guint columns, rows; /* the grid now */
	guint chains;        /* decoding chains built (> inputs after restarts) */
	gboolean failed;
} KtWallStats;

/* One tile of the grid, in pixels of the picture. */
typedef struct {
	guint input; /* its id */
	guint tile;  /* its index, row by row from the top left */
	gint x, y, width, height;
	KtWallMark mark;
} KtWallTile;

/* Control loop. Starts the wall at once, publishing into @room (a reference
 * is taken). @config may be NULL (defaults); it is copied. NULL with @error
 * on a bad configuration or when GStreamer cannot build the pipeline. */
KtWall *kt_wall_new(KtRoom *room, const KtWallConfig *config, GError **error);

/* Control loop. Adds a classroom labelled @label (UTF-8, e.g. "第一小学 3班";
 * shown as plain text) whose RTP has @clock_rate (90000). Returns its id
 * (> 0, never reused by this wall), or 0 with @error. The grid changes at
 * once; its packets may be pushed as soon as this returns, decoding starts at
 * its first keyframe. */
guint kt_wall_add_input(KtWall *wall, const char *label, guint clock_rate, GError **error);

/* Control loop. Removes @input; the grid changes at once. Packets pushed for
 * it afterwards are counted in stats.unknown. */
gboolean kt_wall_remove_input(KtWall *wall, guint input, GError **error);

/* Control loop. Sets the marker around @input's tile. */
gboolean kt_wall_set_mark(KtWall *wall, guint input, KtWallMark mark, GError **error);

/* Any thread (the media worker). @rtp: a whole RTP packet of @input as a room
 * tap delivers it; copied. @codec: VP8 or H.264 (a change rebuilds the
 * input's decoder). Never blocks, never logs; bad packets, other codecs and
 * unknown ids are counted and ignored. */
void kt_wall_push(KtWall *wall, guint input, const guint8 *rtp, gsize len, KtCodec codec);

/* Any thread. A snapshot of the counters. */
void kt_wall_get_stats(KtWall *wall, KtWallStats *out);

/* Control loop. The tiles in use, by tile index: a new array of KtWallTile
 * the caller frees (g_array_unref). Inputs without a tile are not in it. */
GArray *kt_wall_get_layout(KtWall *wall);

/* Control loop. The pipeline (borrowed; NULL once failed), for diagnostics
 * (dot graphs) and tests. Do not change its state. */
GstElement *kt_wall_get_pipeline(KtWall *wall);

/* Control loop. Stops the pipeline, removes the feed from the room, frees
 * everything. NULL is fine. */
void kt_wall_free(KtWall *wall);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtWall, kt_wall_free)

G_END_DECLS
