/* Source recorder ("resource mode", DESIGN.md media flow 4): writes one room
 * source to its own file without re-encoding, crash-safe while it runs.
 *
 *   RTP (copied) -> appsrc -> rtpjitterbuffer -> depayloader [-> h264parse]
 *                -> webmmux (VP8, Opus) | fragmented mp4mux (H.264) -> filesink
 *
 * The file's extension is chosen by the codec of the first packet: ".webm"
 * for VP8 and Opus, ".mp4" for H.264. Video starts at a keyframe: packets
 * before the first keyframe are skipped. When the source's codec changes
 * (a publisher with another codec takes over) the current file is finished
 * and a new one begins with a "-2", "-3", ... suffix.
 *
 * Timestamps are on the lesson clock (kt-gst.h): a packet's time is its
 * arrival time minus the lesson epoch, so every recorder of a lesson shares
 * one time base.
 *
 * Threads: kt_source_recorder_new/stop/free and the getters run on the
 * control loop (the thread-default main context at creation, which must be
 * iterated: the recorder's bus watch and callbacks run there).
 * kt_source_recorder_push may be called from any thread (the media worker);
 * it never blocks: when the pipeline falls behind, packets are dropped and
 * counted.
 *
 * Ownership: the caller owns the recorder and frees it with
 * kt_source_recorder_free() (which stops it first if needed). Nothing may
 * push any more when it is freed: remove the room tap and wait for its
 * notify first.
 *
 * Limitation: H.264 MP4 files start at time 0 (mp4mux rebases them); their
 * place on the lesson clock is KtSourceRecorderStats.first_time, which the
 * catalog stores. WebM files carry lesson time directly.
 */
#pragma once

#include <gst/gst.h>

#include "kt-media.h"

G_BEGIN_DECLS

#define KT_SOURCE_RECORDER_ERROR (kt_source_recorder_error_quark())
GQuark kt_source_recorder_error_quark(void);

typedef enum {
	KT_SOURCE_RECORDER_ERROR_PIPELINE, /* GStreamer could not build or start it */
	KT_SOURCE_RECORDER_ERROR_WRITE,    /* writing the file failed (full disk...) */
	KT_SOURCE_RECORDER_ERROR_TIMEOUT,  /* the file was not finalised in time */
} KtSourceRecorderError;

typedef struct _KtSourceRecorder KtSourceRecorder;

/* Called on the control loop when the recording failed (write error, full
 * disk). The recording has stopped; what was written stays playable. The
 * callback is where the failure gets logged (without a callback the recorder
 * logs it). Do not free the recorder from inside it. @error is borrowed. */
typedef void (*KtSourceRecorderErrorFunc)(KtSourceRecorder *r, const GError *error,
                                          gpointer user_data);
/* Called on the control loop when the recorder needs a keyframe (it started,
 * or lost packets); e.g. call kt_room_request_source_keyframe(). */
typedef void (*KtSourceRecorderKeyframeFunc)(KtSourceRecorder *r, gpointer user_data);
/* Called on the control loop when a file begins (the first one, and a new one after a codec
 * change, when the previous file is already final), with its path (borrowed), e.g. to list
 * it in the catalog while it is being written. */
typedef void (*KtSourceRecorderFileFunc)(KtSourceRecorder *r, const char *path,
                                         gpointer user_data);

typedef struct {
	/* The lesson epoch, a g_get_monotonic_time() value; 0 = now. */
	gint64 epoch_us;
	KtSourceRecorderErrorFunc on_error;       /* optional */
	KtSourceRecorderKeyframeFunc on_keyframe; /* optional */
	KtSourceRecorderFileFunc on_file;         /* optional */
	gpointer user_data;
} KtSourceRecorderConfig;

typedef struct {
	guint64 packets;         /* accepted into the pipeline */
	guint64 dropped;         /* dropped: pipeline behind, or after a failure */
	guint64 bytes_written;   /* handed to the file sink, all files */
	guint files;             /* files begun (> 1 after codec changes) */
	GstClockTime first_time; /* lesson time of the first packet; NONE = none yet */
	GstClockTime last_time;  /* lesson time of the latest packet */
	GstClockTime duration;   /* last_time - first_time */
	gint64 first_wall_us;    /* g_get_real_time() at the first packet */
	gint64 last_wall_us;     /* g_get_real_time() at the latest packet */
	guint32 first_rtp_ts;    /* RTP timestamps of those packets */
	guint32 last_rtp_ts;
} KtSourceRecorderStats;

/* Control loop. @path_without_extension: e.g.
 * "DATA/recordings/LESSON/START-camera"; its directory must exist.
 * @kind: the source's media kind; @clock_rate: its RTP clock rate.
 * @config may be NULL (epoch = now, no callbacks); it is copied. Nothing is
 * written until the first packet arrives. */
KtSourceRecorder *kt_source_recorder_new(const char *path_without_extension, KtMediaKind kind,
                                         guint clock_rate, const KtSourceRecorderConfig *config,
                                         GError **error);

/* Any thread (the media worker). Copies @rtp (a whole RTP packet as a room
 * tap delivers it). Never blocks, never logs. */
void kt_source_recorder_push(KtSourceRecorder *r, const guint8 *rtp, gsize len, KtCodec codec);

/* Control loop. Ends the stream, waits (at most 5 s) until the file is
 * finalised, then tears the pipeline down. Returns FALSE with @error if the
 * recording had failed or could not be finalised in time (what was written
 * stays playable). Idempotent. */
gboolean kt_source_recorder_stop(KtSourceRecorder *r, GError **error);

/* Control loop. Stops if needed (errors ignored) and frees. NULL is fine. */
void kt_source_recorder_free(KtSourceRecorder *r);

/* Control loop. The path of the current (latest) file, NULL before the first
 * packet. Borrowed: valid until kt_source_recorder_free(). */
const char *kt_source_recorder_get_path(KtSourceRecorder *r);
/* Control loop. Every file begun, in order; NULL-terminated, borrowed: the
 * array is valid until the next codec change, its strings until free. */
const char *const *kt_source_recorder_get_paths(KtSourceRecorder *r);

/* Any thread. A snapshot of the counters. */
void kt_source_recorder_get_stats(KtSourceRecorder *r, KtSourceRecorderStats *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtSourceRecorder, kt_source_recorder_free)

G_END_DECLS
