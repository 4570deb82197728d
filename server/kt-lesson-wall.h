/* The classroom wall of one live lesson (DESIGN.md media flow 2): a KtWall
 * (pipelines/kt-wall.h) fed by the lesson's classroom cameras and publishing
 * into a room source the lesson media gives it, so the teacher receives every
 * classroom as one video track.
 *
 *   room tap per classroom camera (media worker) -> kt_wall_push -> the wall
 *     -> the wall source <- the teacher's subscribe connection
 *
 * The caller says which classroom cameras the wall shows, with their names
 * and marks, by handing the whole set to kt_lesson_wall_set_inputs() whenever
 * it may have changed; the wall adds and removes inputs (and their taps) to
 * match, in the order they first appear. Keyframe requests from the wall go to
 * the publisher of that input's source. When the wall fails (kt_wall's
 * on_error) it is logged and rebuilt a second later with the same inputs and
 * the same source, so subscribers keep their m-line; the lesson goes on.
 *
 * Layout: kt_lesson_wall_layout() is {width, height, tiles: [{participant,
 * name, x, y, width, height}]} (PROTOCOL.md `wall`); layout_changed is
 * called whenever it differs from the last one reported.
 *
 * Threads: control loop only (the thread-default main context at creation);
 * the taps run on the room's media worker and only push packets to the wall
 * under a per-input lock, so freeing never races a push.
 * Ownership: the caller owns the KtLessonWall; it holds a room reference and
 * taps on the room until freed. It does not own the source. Never free it
 * from inside layout_changed.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "kt-config.h"
#include "kt-room.h"
#include "kt-wall.h"

G_BEGIN_DECLS

typedef struct _KtLessonWall KtLessonWall;

/* One classroom camera on the wall; strings are borrowed for the call. */
typedef struct {
	guint source;            /* its room source */
	const char *participant; /* the classroom's id now (it changes when it rejoins) */
	const char *name;        /* its display name: the tile's label */
	KtWallMark mark;
} KtLessonWallInput;

/* Control loop: kt_lesson_wall_layout() changed (@wall is borrowed). */
typedef void (*KtLessonWallLayoutFunc)(KtLessonWall *wall, gpointer user_data);

typedef struct {
	const char *lesson; /* for logs; copied */
	KtRoom *room;
	guint source;               /* the room video source to publish into */
	const KtSettings *settings; /* [wall] width, height, fps, kbps; borrowed, outlives it */
	gint64 epoch_us;            /* the lesson clock's 0 (g_get_monotonic_time); 0 = now */
	KtLessonWallLayoutFunc layout_changed; /* optional */
	gpointer user_data;
} KtLessonWallConfig;

/* Control loop. Starts the wall (no input yet: a black picture). NULL with
 * @error (KT_WALL_ERROR) when GStreamer cannot build it. */
KtLessonWall *kt_lesson_wall_new(const KtLessonWallConfig *config, GError **error);

/* Control loop. The classroom cameras the wall shows now (@n may be 0). */
void kt_lesson_wall_set_inputs(KtLessonWall *wall, const KtLessonWallInput *inputs, guint n);

/* Control loop. The layout as PROTOCOL.md's `wall` message carries it, without
 * "type" (new reference). */
json_t *kt_lesson_wall_layout(KtLessonWall *wall);

/* Control loop. The wall's counters (kt_wall_get_stats), zeros while rebuilding. */
void kt_lesson_wall_get_stats(KtLessonWall *wall, KtWallStats *out);

/* Control loop. The running wall's pipeline (borrowed; NULL while it waits to
 * be rebuilt), for diagnostics and tests. Do not change its state. */
GstElement *kt_lesson_wall_get_pipeline(KtLessonWall *wall);

/* Control loop. Removes the taps, stops the wall. NULL is fine. */
void kt_lesson_wall_free(KtLessonWall *wall);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtLessonWall, kt_lesson_wall_free)

G_END_DECLS
