/* Program recorder ("movie mode", DESIGN.md media flow 4): the whole lesson
 * as one picture and one sound, in one crash-safe MP4 file.
 *
 *   RTP of each input (copied) -> appsrc -> rtpjitterbuffer -> depay -> decoder
 *       -> videoscale/videoconvert -> compositor --> x264enc --> mp4mux -> file
 *       -> audioconvert/audioresample -> audiomixer --> AAC ----^  (fragmented)
 *
 * The same encoding can also go out as live HLS (config hls_dir): the
 * lesson broadcast; and over WebRTC (config room): the same H.264 and the
 * mix as Opus, published into two room sources (kt-program-webrtc.c), which
 * WHEP viewers of the program subscribe to.
 *
 * Layout: with courseware, the courseware fills the frame (aspect kept,
 * letterboxed), the teacher camera is a picture-in-picture bottom-right and
 * the classroom on stage one bottom-left; without courseware the teacher
 * camera fills the frame and the stage is bottom-right; with nothing the
 * frame is black. Every audio input is mixed. The file runs from
 * kt_program_recorder_new() to kt_program_recorder_stop() even with no
 * input at all (black, silence), so its length is the recording's.
 *
 * Inputs join, leave and change slot at any time; the file goes on. When
 * several video inputs share a slot, the one put there last is shown and
 * the others are not decoded.
 *
 * Timestamps are on the lesson clock (kt-gst.h): a packet's time is its
 * arrival time minus the lesson epoch. The file's time 0 is lesson time
 * KtProgramRecorderStats.first_time (mp4mux starts files at 0).
 *
 * Crash safety: moov first, then self-contained fragments (moof + mdat,
 * ISO/IEC 14496-12 section 8.8) of at most 1 s, each written whole before
 * players can see it; after a kill -9 at any moment the file plays, without
 * an error, up to 1-1.5 s before the kill.
 *
 * Threads: everything but kt_program_recorder_push(), _get_path() and
 * _get_stats() runs on the control loop: the thread-default main context
 * at creation, which must be iterated (the recorder's bus watch, wake-ups
 * and callbacks run there).
 * kt_program_recorder_push() may be called from any thread (the media
 * worker) and never blocks: when an input's pipeline falls behind, its
 * packets are dropped and counted.
 *
 * Ownership: the caller owns the recorder and frees it with
 * kt_program_recorder_free() (which stops it first if needed). Nothing may
 * push any more when it is freed: remove the room taps and wait for their
 * notify first. Never free the recorder from inside one of its callbacks.
 */
#pragma once

#include <gst/gst.h>

#include "kt-media.h"
#include "kt-room.h"

G_BEGIN_DECLS

#define KT_PROGRAM_RECORDER_ERROR (kt_program_recorder_error_quark())
GQuark kt_program_recorder_error_quark(void);

typedef enum {
	KT_PROGRAM_RECORDER_ERROR_PIPELINE, /* invalid arguments, GStreamer could not build it */
	KT_PROGRAM_RECORDER_ERROR_WRITE,    /* writing the file failed (full disk...) */
	KT_PROGRAM_RECORDER_ERROR_TIMEOUT,  /* the file was not finalised in time */
} KtProgramRecorderError;

/* Where an input goes. The three video slots are places in the picture
 * (see the layout above); KT_PROGRAM_SLOT_AUDIO makes an audio input. */
typedef enum {
	KT_PROGRAM_SLOT_COURSEWARE,
	KT_PROGRAM_SLOT_TEACHER,
	KT_PROGRAM_SLOT_STAGE,
	KT_PROGRAM_SLOT_AUDIO,
	KT_PROGRAM_N_SLOTS,
} KtProgramSlot;

typedef struct _KtProgramRecorder KtProgramRecorder;

/* Called on the control loop, once, when the recording failed (write
 * error, full disk) while it ran; a failure while stopping is returned by
 * kt_program_recorder_stop() instead. The recording has stopped; what was
 * written stays playable. The callback is where the failure gets logged
 * (without a callback the recorder logs it). @error is borrowed. */
typedef void (*KtProgramErrorFunc)(KtProgramRecorder *r, const GError *error, gpointer user_data);
/* Called on the control loop when video input @input needs a keyframe (it
 * started, lost packets, its decoder failed, or it came back on screen); at
 * most once per second per input. E.g. call
 * kt_room_request_source_keyframe() for the input's source. */
typedef void (*KtProgramKeyframeFunc)(KtProgramRecorder *r, guint input, gpointer user_data);

/* Zeros are defaults. */
typedef struct {
	guint width, height; /* of the picture: 1280x720; even, 64..4096 */
	guint fps;           /* 25; 1..60 */
	guint video_kbps;    /* H.264 bit rate: 1500 */
	guint audio_kbps;    /* AAC bit rate: 96 */
	gint64 epoch_us;     /* the lesson epoch, a g_get_monotonic_time() value; 0 = now */
	/* Live HLS of the same encoding (one encoder for the file and the
	 * broadcast): index.m3u8 and its MPEG-TS segments, written into this
	 * existing directory (copied); NULL = no HLS. */
	const char *hls_dir;
	guint hls_segment_s; /* segment length, also the keyframe interval: 2; 1..10 */
	guint hls_window;    /* segments in the playlist: 6; 3..30 */
	/* WebRTC of the same program: the H.264 (constrained baseline, which
	 * every browser decodes) and the mix encoded to Opus, published as
	 * feeds into these sources of @room (kt_room_add_source(); the caller
	 * keeps them). Keyframe requests for the video source reach the H.264
	 * encoder. NULL = none. Borrowed for kt_program_recorder_new() (the
	 * feeds hold their own references until the recorder stops). Nothing
	 * goes to the room until kt_program_recorder_set_webrtc_active(). */
	KtRoom *room;
	guint video_source, audio_source;
	KtProgramErrorFunc on_error;       /* optional */
	KtProgramKeyframeFunc on_keyframe; /* optional */
	gpointer user_data;
} KtProgramRecorderConfig;

typedef struct {
	guint64 packets;         /* RTP packets accepted, all inputs */
	guint64 dropped;         /* dropped: queue full, codec given up, or stopped/failed */
	guint64 rejected;        /* not RTP, or a codec of the other media kind */
	guint64 unknown;         /* pushed for an input id that does not (or no longer) exist */
	guint64 hidden;          /* skipped: video input not on the picture */
	guint64 bytes_written;   /* written to the file (whole boxes only) */
	guint64 video_frames;    /* composite frames encoded */
	guint inputs;            /* inputs now */
	guint chains;            /* decoding chains built, all inputs (> inputs after restarts) */
	GstClockTime first_time; /* lesson time of the file's time 0 (its first frame;
	                          * estimated as the creation time until then) */
	GstClockTime duration;   /* of the video encoded so far */
	gint64 first_wall_us;    /* g_get_real_time() at the file's time 0 */
	guint64 hls_segments;    /* HLS segments completed (listed in the playlist) */
	guint hls_failures;      /* times the HLS output failed (each is rebuilt) */
	guint64 rtp_packets;     /* WebRTC: packets handed to the room, video and audio */
	guint64 rtp_keyframe_requests; /* WebRTC: the room's requests sent to the encoder */
} KtProgramRecorderStats;

/* Control loop. @path: the file to write, e.g.
 * "DATA/recordings/LESSON/START-program.mp4"; its directory must exist.
 * NULL when the program is only broadcast (then config->hls_dir or
 * config->room is required). @config may be NULL (defaults); it is copied. Starts writing
 * at once.
 *
 * An error in the HLS output (its directory or disk) never ends the file:
 * the HLS output is rebuilt by itself after 1, 2, 4 ... 30 s, and the
 * recording goes on (kt-program-hls.c). */
KtProgramRecorder *kt_program_recorder_new(const char *path, const KtProgramRecorderConfig *config,
                                           GError **error);

/* Control loop. Adds an input in @slot whose RTP has @clock_rate (90000 for
 * video, 48000 for Opus). Returns its id (> 0), never reused by this
 * recorder. Its packets may be pushed as soon as this returns; decoding
 * starts at the first keyframe. */
guint kt_program_recorder_add_input(KtProgramRecorder *r, KtProgramSlot slot, guint clock_rate);

/* Control loop. Moves video input @input to another video @slot (e.g. a
 * classroom goes on stage). The picture changes at once. */
void kt_program_recorder_set_slot(KtProgramRecorder *r, guint input, KtProgramSlot slot);

/* Control loop. Removes @input; the picture changes at once. Packets pushed
 * for it after this returns are ignored (counted in stats.unknown). */
void kt_program_recorder_remove_input(KtProgramRecorder *r, guint input);

/* Any thread (the media worker). @rtp: a whole RTP packet of @input as a
 * room tap delivers it; copied. @codec: how to read its payload (a change
 * rebuilds the input's decoder). Never blocks, never logs; bad packets and
 * unknown ids are counted and ignored. */
void kt_program_recorder_push(KtProgramRecorder *r, guint input, const guint8 *rtp, gsize len,
                              KtCodec codec);

/* Any thread. Whether the WebRTC branch (config room) runs: while FALSE, the
 * default, no Opus is encoded and no packet goes to the room (no per-packet
 * work on the room's worker for a program nobody watches). Set it while the
 * program's sources have viewers; the room asks for a keyframe for each new
 * one. */
void kt_program_recorder_set_webrtc_active(KtProgramRecorder *r, gboolean active);

/* Control loop. Ends the file: flushes every input, waits (at most 5 s)
 * until the file is final, then tears the pipeline down. Returns FALSE with
 * @error if the recording had failed or could not be finished in time (what
 * was written stays playable). Idempotent. */
gboolean kt_program_recorder_stop(KtProgramRecorder *r, GError **error);

/* Control loop. Stops if needed (errors ignored) and frees. NULL is fine. */
void kt_program_recorder_free(KtProgramRecorder *r);

/* Any thread. The file's path (NULL: none); borrowed, valid until free. */
const char *kt_program_recorder_get_path(KtProgramRecorder *r);

/* Any thread. A snapshot of the counters. */
void kt_program_recorder_get_stats(KtProgramRecorder *r, KtProgramRecorderStats *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtProgramRecorder, kt_program_recorder_free)

G_END_DECLS
