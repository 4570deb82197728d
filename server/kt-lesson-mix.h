/* kt-lesson-mix.h — a lesson's mix-minus audio (DESIGN.md media flow 3): the
 * room side of one KtMixMinus (pipelines/kt-mix-minus.h). It taps the room's
 * audio sources (the teacher's, each classroom's) into the mix and publishes
 * one output per classroom that asked for it into a room source the caller
 * made, so that classroom's subscribe connection carries that one stream
 * instead of one audio track per speaker.
 *
 * The caller says what it wants (inputs with their owner and whether they
 * are heard, outputs with their owner and source) with kt_lesson_mix_set(),
 * as often as it likes; only the differences touch the pipeline. When the
 * pipeline fails (an encoder, a mixer), the failure is logged and the mix is
 * rebuilt a second later from the last wanted state: the lesson and its
 * forwarded audio are not disturbed, the mixes go on with their room
 * sources' SSRCs and timeline after a gap.
 *
 * Ownership: the caller owns the KtLessonMix (kt_lesson_mix_free); it holds a
 * reference to the room and never removes the output sources (the caller's).
 * Strings passed in are copied.
 *
 * Threads: control loop only (the thread-default main context at creation,
 * which must be iterated). The room taps run on the media worker and hand
 * packets to the pipeline under a per-input lock. */
#pragma once

#include <glib.h>

#include "kt-room.h"

G_BEGIN_DECLS

typedef struct _KtLessonMix KtLessonMix;

typedef struct {
	guint source;      /* a room audio source (Opus); each source once */
	const char *owner; /* its publisher's participant id; NULL = nobody's (the teacher) */
	gboolean audible;  /* mixed into every output but its owner's */
} KtLessonMixInput;

typedef struct {
	const char *owner; /* the participant that hears the mix; its own input is left out */
	guint source;      /* the room audio source the mix is published into; each once */
} KtLessonMixOutput;

typedef struct {
	const char *lesson; /* for logs; copied */
	KtRoom *room;
	guint kbps; /* Opus bitrate of each output; 0 = 32 */
} KtLessonMixConfig;

/* Starts an empty mix. NULL with @error when GStreamer cannot. */
KtLessonMix *kt_lesson_mix_new(const KtLessonMixConfig *config, GError **error);

/* The wanted inputs and outputs (arrays borrowed for the call). */
void kt_lesson_mix_set(KtLessonMix *mix, const KtLessonMixInput *inputs, guint n_inputs,
                       const KtLessonMixOutput *outputs, guint n_outputs);

/* How often the pipeline was rebuilt after a failure. */
guint kt_lesson_mix_get_rebuilds(KtLessonMix *mix);

/* For tests: the running KtMixMinus (borrowed), NULL between a failure and
 * its rebuild. */
struct _KtMixMinus *kt_lesson_mix_get_mix_minus(KtLessonMix *mix);

/* Removes the taps and the outputs' feeds, stops the pipeline. NULL is fine. */
void kt_lesson_mix_free(KtLessonMix *mix);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtLessonMix, kt_lesson_mix_free)

G_END_DECLS
