/* Recording of live lessons (DESIGN.md media flow 4): while a lesson is live, every source
 * published in it is written to its own file ("resource mode", kt-source-recorder) and the
 * lesson's program composite to one more ("movie mode", kt-program-recorder), each listed in
 * the recordings catalog from its first byte, so a crash leaves rows the next start repairs.
 *
 *   data_dir/recordings/<lesson>/<YYYYMMDD-HHMMSS>-program.mp4
 *   data_dir/recordings/<lesson>/<YYYYMMDD-HHMMSS>-<stream>.webm|.mp4
 *
 * All files of one lesson share the lesson clock (time 0 = the lesson went live). The program
 * shows the courseware (when shared) with the teacher camera and the on-stage classroom as
 * pictures in picture, and mixes the teacher's and the on-stage classroom's audio. Chapters
 * (a classroom on/off stage, courseware started/stopped) go to every running recording of the
 * lesson. When a lesson ends each file is finalised, hashed (SHA-256, off the control loop)
 * and its row completed, within a second or two. A write error or a full disk stops only the
 * recording that hit it: its row becomes "failed" (what was written stays playable), a
 * `recording` lesson event goes out, and the lesson goes on.
 *
 * Ownership: the recorder borrows the settings, catalog and lesson store (all outlive it).
 * kt_lesson_recorder_free finishes every recording (blocking until the files are final and
 * the rows complete). Inputs are borrowed for the call. The program also goes out over WebRTC
 * into two room sources of the lesson's room, made when the program starts and removed when it
 * ends (WHEP viewers of the program, kt-whip.c).
 * Threads: control loop only (its thread-default main context). Room taps run on media
 * workers and only hand packets to the recorders. */
#pragma once

#include <jansson.h>

#include "kt-config.h"
#include "kt-lesson-media.h"
#include "kt-lesson-store.h"
#include "kt-lesson.h"
#include "kt-recordings.h"

G_BEGIN_DECLS

typedef struct _KtLessonRecorder KtLessonRecorder;

/* A lesson event to send to everyone in @lesson (steal nothing: @event is borrowed). */
typedef void (*KtLessonRecorderEventFunc)(const char *lesson, json_t *event, gpointer user_data);

typedef struct {
	const KtSettings *settings; /* data_dir, [recording] */
	KtRecordings *catalog;
	KtLessonStore *lessons;          /* title, subject, ... of scheduled lessons; may be NULL */
	KtLessonRecorderEventFunc event; /* optional */
	gpointer user_data;
} KtLessonRecorderConfig;

KtLessonRecorder *kt_lesson_recorder_new(const KtLessonRecorderConfig *config);
/* NULL is allowed. */
void kt_lesson_recorder_free(KtLessonRecorder *rec);

/* @lesson went live: starts its program and taps the teacher's camera and audio (the room's
 * default sources, also fed by WHIP). Does nothing when [recording] enabled is false. */
void kt_lesson_recorder_start(KtLessonRecorder *rec, KtLesson *lesson);
/* @lesson ended: finishes its recordings. */
void kt_lesson_recorder_end(KtLessonRecorder *rec, const char *lesson);

/* A source of a WebSocket participant became (in)active (kt-lesson-media's source_changed). */
void kt_lesson_recorder_source(KtLessonRecorder *rec, const KtLessonMediaSource *source);
/* The on-stage classroom changed: @participant (NULL = nobody) called @name. */
void kt_lesson_recorder_stage(KtLessonRecorder *rec, const char *lesson, const char *participant,
                              const char *name);

/* The program of a live lesson as WebRTC: the room sources its H.264 and Opus are published
 * into (kt-program-recorder.h), and their SSRCs for an SDP answer. */
typedef struct {
	guint source[KT_MEDIA_N_KINDS];
	guint32 ssrc[KT_MEDIA_N_KINDS];
	guint32 video_rtx_ssrc;
} KtLessonProgram;

/* Fills @out and returns TRUE while @lesson's program runs (the lesson is live and recorded
 * or broadcast, and the program has not failed); else FALSE. */
gboolean kt_lesson_recorder_get_program(KtLessonRecorder *rec, const char *lesson,
                                        KtLessonProgram *out);

/* A WHEP viewer of @lesson's program arrived (@joined) or left. The program's WebRTC output
 * (its Opus encoding, its packets through the room) runs only while it has viewers. */
void kt_lesson_recorder_program_viewer(KtLessonRecorder *rec, const char *lesson, gboolean joined);

/* The catalog's repair probe (KtRecordingsProbeFunc): cuts an incomplete tail a crash left
 * (kt-media-trim), then measures the duration in ms (GStreamer's discoverer), or -1. */
gint64 kt_lesson_recorder_probe_duration(const char *path, gpointer user_data);

G_END_DECLS
