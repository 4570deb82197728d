/* Private to the kt-program-*.c files: the program recorder's body and its
 * inputs'.
 *
 *   kt-program-recorder.c  lifecycle, the packet path, control-loop wake-ups,
 *                          keyframe requests, bus, stop
 *   kt-program-pipeline.c  the fixed pipeline: mixers, encoders, muxer, file sink
 *   kt-program-input.c     an input's decoding chain: build, link, tear down
 *   kt-program-layout.c    the layout table -> compositor pads
 *   kt-program-file.c      the file: whole fragments only, even after a crash
 *   kt-program-hls.c       the live HLS branch off the encoders' tees
 *   kt-program-webrtc.c    the WebRTC branch: H.264 + Opus RTP into room feeds
 *
 * Lock order: r->lock, then GStreamer's own. r->lock is never held across a
 * call that waits for a streaming thread (state changes, releasing a pad)
 * nor across the owner's callbacks.
 */
#pragma once

#include <gst/app/gstappsrc.h>

#include "kt-decode-chain.h"
#include "kt-rtp-out.h"

#include "kt-program-recorder.h"

/* Jitter buffer of each input: absorbs reordering, leaves time for
 * retransmissions. */
#define KT_PROGRAM_JITTER_MS 200
/* An input's appsrc queue may hold this much before its packets are
 * dropped: seconds of video, so a slow pipeline never stalls the worker. */
#define KT_PROGRAM_MAX_QUEUED_BYTES (4 * 1024 * 1024)
/* Packets held per input while the control loop builds its chain. */
#define KT_PROGRAM_MAX_PENDING_BYTES (1024 * 1024)

typedef struct {
	KtProgramRecorder *recorder;
	guint id;
	KtMediaKind kind;
	/* Its packets, held or in its decoding chain (kt-decode-chain.h): the
	 * fields marked so guarded by recorder->lock. */
	KtDecodeChain dec;

	/* Guarded by recorder->lock. */
	gboolean shown; /* video: on the picture (hidden inputs are not fed) */

	/* Control loop only. */
	KtProgramSlot slot;
	guint64 order; /* when it took its slot: the latest in a slot is shown */
} KtProgramInput;

/* The file (kt-program-file.c); written by the muxer's streaming thread. */
typedef struct {
	int fd;               /* -1: not open */
	guint64 offset;       /* bytes written, all of them whole */
	GstBuffer *held;      /* a moof and its mdat so far */
	guint64 held_missing; /* bytes of that mdat still to come */
	gsize held_moof;      /* size of that moof */
	gboolean failed;
} KtProgramFile;

/* The HLS output (kt-program-hls.c): a tap in the program pipeline feeding
 * an output pipeline of its own, rebuilt after a failure. */
typedef struct {
	GMutex lock;        /* the fields below up to started, for the appsinks' threads */
	GstElement *out;    /* lock: the output pipeline, NULL while down */
	GstElement *src[2]; /* lock: its appsrcs, video and audio */
	gboolean started;   /* lock: the output has had its first keyframe */
	GstClockTime base;  /* lock: that keyframe's running time in the program */
	/* Control loop only. */
	GstElement *tap;     /* the bin in the program pipeline, NULL = none */
	GstPad *tee_pads[2]; /* its request pads on the tees */
	GSource *bus_watch;  /* of out */
	GSource *retry;      /* a rebuild is due */
	guint backoff_s;     /* the last wait before a rebuild; 0 after a segment */
	guint rebuilds;      /* outputs started */
	guint64 segments;    /* written, all outputs */
} KtProgramHls;

struct _KtProgramRecorder {
	char *path;        /* the file; NULL = HLS only */
	char *hls_dir;     /* NULL = no HLS */
	const char *label; /* path, else hls_dir, else "(WebRTC only)": for messages */
	KtProgramRecorderConfig config;
	GMainContext *control;

	GMutex lock;
	/* Guarded by lock; the table changes only on the control loop, which
	 * may read it without the lock. */
	GHashTable *inputs; /* guint id -> KtProgramInput * (owned) */
	gboolean stopped, failed;
	GSource *wake; /* control-loop work is scheduled */
	KtProgramRecorderStats stats;
	KtProgramFile file;
	/* The WebRTC feeds (kt-program-webrtc.c): video, audio; NULL = none.
	 * Set on the control loop; guarded by lock so the stats may read them. */
	KtRtpOut *rtp_out[KT_MEDIA_N_KINDS];
	gint webrtc_active; /* atomic: the branch lets buffers through */

	/* How the inputs' chains are made, by kind (kt-program-input.c). */
	KtDecodeChainSpec chain_specs[KT_MEDIA_N_KINDS];

	/* Control loop only. */
	guint last_id;
	guint64 last_order;
	GstElement *pipeline;
	GstElement *compositor, *audiomixer;
	GstElement *video_bg, *audio_bg;   /* the live black / silence sources */
	GstElement *video_tee, *audio_tee; /* after the encoders: file, HLS, WebRTC video */
	KtProgramHls hls;                  /* the HLS output (kt-program-hls.c) */
	GSource *bus_watch;
	GSource *keyframe_timer; /* a rate-limited keyframe request is due */
	GError *failure;
	gboolean stop_done, stop_ok;
};

/* kt-program-recorder.c. r->lock held. */
void kt_program_schedule_wake(KtProgramRecorder *r);

/* kt-program-pipeline.c. Fills in the defaults of @c and checks its ranges. */
gboolean kt_program_config_apply(KtProgramRecorderConfig *c, GError **error);
/* Control loop. Builds and starts the fixed pipeline, its bus watched on
 * the control loop by @on_message. */
gboolean kt_program_pipeline_start(KtProgramRecorder *r, GstBusFunc on_message, GError **error);
/* Control loop. Stops and drops the pipeline with every input's chain. */
void kt_program_pipeline_remove(KtProgramRecorder *r);

/* kt-program-hls.c. Control loop. Builds the HLS tap off the tees, starts
 * it with the pipeline's state, and starts the output pipeline. */
gboolean kt_program_hls_start(KtProgramRecorder *r, GError **error);
/* Control loop, after the program pipeline's EOS: waits (at most
 * @timeout_us) for the output to close its last segment and end the playlist. */
void kt_program_hls_finish(KtProgramRecorder *r, gint64 timeout_us);
/* Control loop. Unlinks and removes the HLS branch, if any. */
void kt_program_hls_drop(KtProgramRecorder *r);
/* Control loop. Whether @object (a message's source) is in the HLS branch. */
gboolean kt_program_hls_owns(KtProgramRecorder *r, GstObject *object);
/* Control loop. The tap in the program pipeline posted @error: drop the
 * output (the broadcast stops, the recording goes on). Errors of the output
 * pipeline itself are handled in kt-program-hls.c (rebuilt). */
void kt_program_hls_failed(KtProgramRecorder *r, const GError *error);

/* kt-program-webrtc.c. The branch's part of the pipeline description
 * ("" when there is no room), appended before parsing. */
char *kt_program_webrtc_describe(KtProgramRecorder *r);
/* Control loop, before the pipeline starts: publishes the payloaders into
 * the room's sources. */
gboolean kt_program_webrtc_link(KtProgramRecorder *r, GError **error);
/* Control loop, the pipeline in NULL: frees the feeds (their counters stay
 * in the stats). */
void kt_program_webrtc_drop(KtProgramRecorder *r);
/* r->lock held: adds the feeds' counters to @stats. */
void kt_program_webrtc_read_stats(KtProgramRecorder *r, KtProgramRecorderStats *stats);

/* kt-program-input.c. */
/* Control loop, at creation: fills in r->chain_specs. */
void kt_program_input_specs_init(KtProgramRecorder *r);
KtProgramInput *kt_program_input_new(KtProgramRecorder *r, guint id, KtProgramSlot slot,
                                     guint clock_rate);
/* Control loop, once its chain is gone. */
void kt_program_input_free(gpointer input);

/* kt-program-layout.c. Control loop: places every video input by the
 * layout table (compositor pad, scaled size, shown or not). */
void kt_program_layout_apply(KtProgramRecorder *r);

/* kt-program-file.c. Control loop: opens the file and makes @appsink (the
 * muxer's sink) write it; the muxer is told it cannot seek. */
gboolean kt_program_file_open(KtProgramRecorder *r, GstElement *appsink, GError **error);
/* Control loop, the pipeline stopped: closes the file. */
void kt_program_file_close(KtProgramRecorder *r);
