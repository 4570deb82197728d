/* Mix-minus audio (DESIGN.md media flow 3): one GStreamer pipeline per lesson
 * that decodes every microphone (the teacher's, each classroom's) once and
 * makes, per output, one Opus stream = the mix of every audible input except
 * the output owner's own (a broadcast "N-1" mix: a classroom never hears its
 * own voice come back delayed). Each output is published into its own room
 * source as a feed (kt-rtp-out.h), so a subscriber of that source receives it
 * like a browser's track.
 *
 *   RTP of each input (copied) -> appsrc -> rtpjitterbuffer -> rtpopusdepay
 *       -> opusdec plc -> 48 kHz mono -> tee --+--> audiomixer (output X) -> opusenc
 *                                              |        -> rtpopuspay -> room source X
 *                                              +--> every other output but its owner's
 *
 * Every output runs on the lesson clock (kt-gst.h) from the moment it is
 * added, even with nothing to mix (silence, continuous timestamps). Inputs
 * and outputs join and leave at any time without a gap in the others.
 *
 * Threads: everything but kt_mix_minus_push() runs on the control loop: the
 * thread-default main context at creation, which must be iterated (the
 * pipeline's bus watch, wake-ups and on_error run there).
 * kt_mix_minus_push() may be called from any thread (the media worker, a
 * room tap) and never blocks: when an input's chain falls behind its packets
 * are dropped and counted.
 *
 * Errors: an error inside one input's chain rebuilds that input (after three
 * quick failures in a row its packets are dropped); any other error stops the
 * mix and is reported once to on_error on the control loop. Nothing aborts.
 *
 * Ownership: the caller owns the KtMixMinus and frees it with
 * kt_mix_minus_free(); it holds a reference to the room. Nothing may push any
 * more when it is freed: remove the room taps and wait for their notify
 * first. Never free it from inside its own callback.
 */
#pragma once

#include <gst/gst.h>

#include "kt-room.h"

G_BEGIN_DECLS

#define KT_MIX_MINUS_ERROR (kt_mix_minus_error_quark())
GQuark kt_mix_minus_error_quark(void);

typedef enum {
	KT_MIX_MINUS_ERROR_INVALID,  /* an argument is out of range or unknown */
	KT_MIX_MINUS_ERROR_PIPELINE, /* GStreamer could not build or run it */
} KtMixMinusError;

typedef struct _KtMixMinus KtMixMinus;

/* Control loop, once: the mix failed outside any input (an encoder, a
 * mixer) and has stopped; @error is borrowed. Without a callback the error
 * is logged. */
typedef void (*KtMixMinusErrorFunc)(KtMixMinus *mm, const GError *error, gpointer user_data);

/* Zeros are defaults. */
typedef struct {
	gint64 epoch_us; /* the lesson epoch, a g_get_monotonic_time() value; 0 = now */
	guint kbps;      /* Opus bit rate of each output: 32; 8..256 */
	guint jitter_ms; /* each input's jitter buffer: 80; 20..500 */
	KtMixMinusErrorFunc on_error; /* optional */
	gpointer user_data;
} KtMixMinusConfig;

typedef struct {
	guint64 packets;     /* RTP packets accepted, all inputs */
	guint64 dropped;     /* an input's queue was full, its chain gave up, or the mix failed */
	guint64 rejected;    /* not RTP, or not Opus */
	guint64 unknown;     /* pushed for an input id that does not (or no longer) exist */
	guint64 out_packets; /* RTP packets handed to the room, all outputs ever */
	guint64 out_dropped; /* the room's worker queue was full */
	guint inputs, outputs;
	guint links;    /* input -> output mixer pads now */
	guint chains;   /* input chains built (more than inputs after restarts) */
	guint restarts; /* input chains rebuilt after an error */
} KtMixMinusStats;

/* Control loop. Starts the (empty) pipeline on the lesson clock. @config
 * may be NULL (defaults); it is copied. */
KtMixMinus *kt_mix_minus_new(KtRoom *room, const KtMixMinusConfig *config, GError **error);

/* Control loop. Adds a microphone owned by @owner (a participant id, copied;
 * NULL = nobody's: every output hears it) whose RTP has @clock_rate (48000
 * for Opus). Returns its id (> 0, never reused), 0 with @error. It is
 * audible. Packets may be pushed as soon as this returns. */
guint kt_mix_minus_add_input(KtMixMinus *mm, const char *owner, guint clock_rate, GError **error);

/* Control loop. A muted input (or one not on stage: the caller decides) is
 * still decoded but mixed into no output; the change is heard at once.
 * FALSE if there is no such input. */
gboolean kt_mix_minus_set_input_audible(KtMixMinus *mm, guint input, gboolean audible);

/* Control loop. Removes @input from every mix. Packets pushed for it after
 * this returns are ignored (counted in stats.unknown). */
void kt_mix_minus_remove_input(KtMixMinus *mm, guint input);

/* Control loop. Adds an output for @owner (NULL = nobody: it hears every
 * input) published into the room source @source (an audio source of the
 * room, e.g. from kt_room_add_source()). Returns its id (> 0, never reused),
 * 0 with @error. It runs at once, silent until an input is heard. */
guint kt_mix_minus_add_output(KtMixMinus *mm, const char *owner, guint source, GError **error);

/* Control loop. Stops the output and takes its feed out of the room source. */
void kt_mix_minus_remove_output(KtMixMinus *mm, guint output);

/* Any thread (the media worker). @rtp: a whole RTP packet of @input as a
 * room tap delivers it; copied. Only Opus is mixed. Never blocks, never
 * logs; bad packets and unknown ids are counted and ignored. */
void kt_mix_minus_push(KtMixMinus *mm, guint input, const guint8 *rtp, gsize len, KtCodec codec);

/* Control loop. A snapshot of the counters. */
void kt_mix_minus_get_stats(KtMixMinus *mm, KtMixMinusStats *out);

/* Control loop. Stops the pipeline, removes every feed and frees. NULL is
 * fine. */
void kt_mix_minus_free(KtMixMinus *mm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtMixMinus, kt_mix_minus_free)

G_END_DECLS
