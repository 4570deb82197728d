/* One input of a compositing pipeline (the program recorder, the classroom
 * wall): the room RTP of one source, held in a KtRtpInlet (kt-rtp-in.h)
 * until its decoding chain exists, and that chain, a bin built on the control
 * loop when packets of a codec arrive and linked to a request pad of a mixer
 * (compositor or audiomixer):
 *
 *   appsrc -> rtpjitterbuffer do-lost drop-on-latency -> depayloader -> decoder
 *     -> the owner's tail (video: videoscale ! videoconvert ! capsfilter name=size ...)
 *     -> mixer request pad
 *
 * The chain is rebuilt when the codec changes and after it failed (at the
 * next keyframe); after KT_DECODE_CHAIN_MAX_QUICK_FAILURES chains in a row
 * died within a second, the codec is given up and its packets are dropped.
 * Decoders run with max-errors=-1: a publisher's garbage never stops a chain.
 *
 * Threads and locking: the owner embeds a KtDecodeChain per input and guards
 * the fields marked so with its own lock (spec->lock), which it holds around
 * kt_decode_chain_push() on the media worker. Everything else runs on the
 * control loop, with that lock not held (the functions take it when they need
 * it). The lock is never held across a state change or a pad release.
 *
 * Ownership: the chain's bin belongs to the owner's pipeline while linked;
 * the KtDecodeChain holds references to the bin, its appsrc, its "size"
 * capsfilter and the mixer pad, and (through the inlet) to waiting buffers.
 */
#pragma once

#include <gst/gst.h>

#include "kt-media.h"
#include "kt-rtp-in.h"
#include "kt-rtp.h"

G_BEGIN_DECLS

#define KT_DECODE_CHAIN_ERROR (kt_decode_chain_error_quark())
GQuark kt_decode_chain_error_quark(void);

typedef enum {
	KT_DECODE_CHAIN_ERROR_BUILD, /* no decoder for the codec, or GStreamer refused */
} KtDecodeChainError;

/* At most this many chains in a row may fail within a second of being built
 * before the codec is given up. */
#define KT_DECODE_CHAIN_MAX_QUICK_FAILURES 3

/* How an owner's chains are made; the owner keeps it for as long as its
 * chains exist (one per media kind, say). */
typedef struct {
	KtMediaKind kind;
	guint jitter_ms;   /* rtpjitterbuffer latency */
	gsize max_queued;  /* bytes the appsrc may hold before packets are dropped */
	gsize max_pending; /* bytes held while there is no chain */
	/* After the decoder, for gst_parse_bin_from_description(); the last
	 * element's src pad goes to the mixer. A capsfilter named "size" is found
	 * for the owner (KtDecodeChain.size); other elements by
	 * kt_decode_chain_get(). */
	const char *tail;
	GMutex *lock; /* the owner's */
	/* Streaming thread: a depayloader or decoder asks upstream for a keyframe
	 * (the chain's want_keyframe is already set, under the lock). The owner
	 * wakes its control loop. May be NULL. */
	void (*on_keyframe_wanted)(gpointer input);
	/* Control loop: the chain is linked (mixer_pad set) and about to start;
	 * e.g. place it. May be NULL. */
	void (*on_linked)(gpointer input);
} KtDecodeChainSpec;

typedef struct {
	const KtDecodeChainSpec *spec;
	gpointer input; /* the owner's, passed to the spec's callbacks */
	guint clock_rate;

	/* Guarded by spec->lock. */
	KtCodec codec; /* of the packets arriving now; NONE before the first */
	guint8 pt;
	gboolean want_keyframe; /* a request for the control loop */
	gboolean want_chain;    /* the control loop must (re)build the chain for codec */
	KtCodec failed_codec;   /* its chains kept failing or could not be built: dropped */
	gboolean closed;        /* the owner stopped: nothing is attached any more */
	KtRtpInlet inlet;       /* inlet.keyframe_seen: video decoding can start */

	/* Control loop only. */
	gint64 keyframe_asked_us; /* when the owner last asked for one */
	GstElement *bin;          /* NULL = no chain */
	GstElement *src;          /* its appsrc */
	GstElement *size;         /* its "size" capsfilter, if the tail has one */
	GstPad *mixer_pad;
	KtCodec chain_codec;
	gint64 built_us;
	guint quick_failures;
} KtDecodeChain;

/* What the owner does after a push. */
typedef enum {
	KT_DECODE_CHAIN_ACCEPTED, /* into the chain, or held for it */
	KT_DECODE_CHAIN_DROPPED,  /* queue full, or its codec was given up */
	KT_DECODE_CHAIN_SKIPPED,  /* video before a keyframe: one is wanted */
} KtDecodeChainPush;

/* Control loop. @clock_rate: of the input's RTP; @input: the owner's, for
 * the spec's callbacks. */
void kt_decode_chain_init(KtDecodeChain *c, const KtDecodeChainSpec *spec, guint clock_rate,
                          gpointer input);
/* Control loop, the chain dropped: lets go of waiting packets. */
void kt_decode_chain_clear(KtDecodeChain *c);

/* Media worker, spec->lock held. One RTP packet (@h parsed from @rtp) of
 * @codec, arrived at @lesson_time. A codec change starts over at the new
 * codec's first keyframe. *@wake becomes TRUE when the control loop has work
 * (build a chain, ask for a keyframe). Allocates only the packet's buffer. */
KtDecodeChainPush kt_decode_chain_push(KtDecodeChain *c, const guint8 *rtp, gsize len,
                                       const KtRtpHeader *h, KtCodec codec,
                                       GstClockTime lesson_time, gboolean *wake);

/* spec->lock held. Whether the control loop must build a chain now (packets
 * wait for one); clears the request. */
gboolean kt_decode_chain_take_build(KtDecodeChain *c);
/* spec->lock held. Whether the owner should ask the publisher for a keyframe
 * now (wanted, and the last request is at least @interval_us old: then it
 * counts as asked). If wanted but too soon, *@next becomes at most the time
 * it will be due. */
gboolean kt_decode_chain_take_keyframe(KtDecodeChain *c, gint64 now, gint64 interval_us,
                                       gint64 *next);
/* spec->lock held. The owner stops: what waits is dropped and nothing is
 * attached any more. */
void kt_decode_chain_close(KtDecodeChain *c);

/* Control loop. Replaces the chain by one for the codec the packets carry,
 * linked to a new request pad of @mixer in @pipeline, playing, fed first
 * with what waited. FALSE with @error when it cannot be built: that codec is
 * then given up (its packets dropped). */
gboolean kt_decode_chain_build(KtDecodeChain *c, GstBin *pipeline, GstElement *mixer,
                               GError **error);
/* Control loop. Unlinks and removes the chain (none: no-op); nothing reaches
 * the mixer from it any more. Packets then wait for the next one. */
void kt_decode_chain_drop(KtDecodeChain *c);
/* Control loop. The chain posted an error: it is dropped and rebuilt at the
 * next keyframe (one is wanted), unless chains keep failing quickly (the
 * codec is then given up). The owner wakes its control loop afterwards. */
void kt_decode_chain_failed(KtDecodeChain *c);

/* Control loop. Whether @object (a bus message's source) is inside the chain. */
gboolean kt_decode_chain_owns(const KtDecodeChain *c, GstObject *object);
/* Control loop. Ends the chain's stream (EOS from its appsrc). */
void kt_decode_chain_end(KtDecodeChain *c);
/* Control loop. The element named @name in the chain (the owner's tail), a
 * new reference; NULL if none or no chain. */
GstElement *kt_decode_chain_get(const KtDecodeChain *c, const char *name);

G_END_DECLS
