/* Private to the kt-mix-minus*.c files (and the tests' hook below).
 *
 *   kt-mix-minus.c        lifecycle, the packet path, control-loop wake-ups, bus, API
 *   kt-mix-minus-graph.c  the elements: an input's chain, an output's chain, the
 *                         links between them (tee pad -> audiomixer pad)
 *
 * The pipeline is flat: every element of every chain sits in the one
 * pipeline, so a tee pad links straight to a mixer pad (no ghost pads); each
 * input and output keeps the list of its own elements.
 *
 * Lock order: mm->lock, then GStreamer's own. mm->lock is never held across
 * a call that waits for a streaming thread (state changes, releasing a pad)
 * nor across on_error.
 */
#pragma once

#include <gst/app/gstappsrc.h>

#include "kt-mix-minus.h"
#include "kt-rtp-in.h"
#include "kt-rtp-out.h"

/* An input's appsrc may hold this much before its packets are dropped
 * (seconds of Opus): a slow pipeline never stalls the worker. */
#define KT_MIX_MINUS_MAX_QUEUED_BYTES (256 * 1024)
/* Held per input while the control loop builds its chain. */
#define KT_MIX_MINUS_MAX_PENDING_BYTES (64 * 1024)
/* Elements of one chain, at most. */
#define KT_MIX_MINUS_CHAIN_MAX 10

typedef struct {
	GstElement *e[KT_MIX_MINUS_CHAIN_MAX]; /* borrowed: the pipeline owns them */
	guint n;
} KtMixMinusChain;

/* One input heard by one output. */
typedef struct {
	GstPad *tee_pad;   /* request pad of the input's tee (owned) */
	GstPad *mixer_pad; /* request pad of the output's audiomixer (owned) */
} KtMixMinusLink;

typedef struct {
	KtMixMinus *mm;
	guint id;
	char *owner; /* NULL: nobody's */
	guint clock_rate;

	/* Guarded by mm->lock. */
	guint8 pt;           /* of the first packet held for the chain */
	gboolean want_chain; /* the control loop must build the chain */
	gboolean given_up;   /* its chains kept failing: packets dropped */
	KtRtpInlet inlet;    /* into the chain, or held until there is one */

	/* Control loop only. */
	gboolean audible;
	KtMixMinusChain chain; /* n == 0: no chain */
	GstElement *src, *tee; /* borrowed, in chain */
	gint64 built_us;
	guint quick_failures; /* chains in a row that failed soon after being built */
} KtMixMinusInput;

typedef struct {
	KtMixMinus *mm;
	guint id;
	char *owner; /* NULL: nobody's */
	guint source;
	KtRtpOut *out;
	KtMixMinusChain chain;
	GstElement *mixer; /* borrowed, in chain */
	GHashTable *links; /* input id -> KtMixMinusLink * (owned) */
} KtMixMinusOutput;

struct _KtMixMinus {
	KtRoom *room;
	KtMixMinusConfig config;
	GMainContext *control;

	GMutex lock;
	/* Guarded by lock; the table changes only on the control loop (under
	 * the lock), which may read it without. */
	GHashTable *inputs; /* guint id -> KtMixMinusInput * (owned) */
	gboolean failed;
	GSource *wake; /* control-loop work is scheduled */
	KtMixMinusStats stats;

	/* Control loop only. */
	GHashTable *outputs; /* guint id -> KtMixMinusOutput * (owned) */
	guint last_input, last_output;
	GstElement *pipeline;
	GSource *bus_watch;
	GError *failure;
	guint64 gone_out_packets, gone_out_dropped; /* of outputs removed */
};

/* kt-mix-minus-graph.c, control loop. */
gboolean kt_mix_minus_pipeline_start(KtMixMinus *mm, GstBusFunc on_message, GError **error);
/* Stops and drops the pipeline with every chain and link (outputs keep their
 * KtRtpOut until freed). */
void kt_mix_minus_pipeline_remove(KtMixMinus *mm);

/* Builds the input's chain (RTP payload type @pt), links it to every output
 * that hears it and starts it. */
gboolean kt_mix_minus_input_build(KtMixMinusInput *in, guint8 pt, GError **error);
/* Unlinks the chain from every output, stops and removes it. No-op without one. */
void kt_mix_minus_input_drop(KtMixMinusInput *in);
/* Mutes or unmutes its mixer pads by in->audible. */
void kt_mix_minus_input_apply_audible(KtMixMinusInput *in);

/* An output's links table: input id -> KtMixMinusLink *, freed with it. */
GHashTable *kt_mix_minus_links_new(void);
/* Builds and starts the output's chain and links every input it hears. */
gboolean kt_mix_minus_output_build(KtMixMinusOutput *out, GError **error);
/* Unlinks every input, stops and removes the chain. */
void kt_mix_minus_output_drop(KtMixMinusOutput *out);

/* Whether @object (a message's source) is one of @chain's elements. */
gboolean kt_mix_minus_chain_owns(const KtMixMinusChain *chain, GstObject *object);

/* For tests only: the decoder of @input's chain (a new reference), NULL if
 * it has none; an error posted from it exercises an input's restart. */
GstElement *kt_mix_minus_get_input_element(KtMixMinus *mm, guint input);
