/* Internals of kt-lesson-recorder: a lesson's recordings (kt-lesson-recorder.c) and each
 * recorded source (kt-recorded-source.c). Control loop unless a field says otherwise. */
#pragma once

#include "kt-lesson-recorder.h"
#include "kt-program-recorder.h"
#include "kt-source-recorder.h"

typedef struct _LessonRec LessonRec;

struct _KtLessonRecorder {
	KtLessonRecorderConfig config;
	GHashTable *lessons; /* id → LessonRec* */
	guint finishing;     /* rows being hashed off the loop; free waits for them */
};

/* One file's row in the catalog while it is written. */
typedef struct {
	gint64 id;         /* 0 = none */
	char *path;        /* absolute */
	gint64 started_us; /* g_get_real_time() at its first byte */
	gboolean failed;
	gint64 failed_at;      /* Unix s; with fail_unsaved: to write once the disk has room */
	gboolean fail_unsaved; /* the catalog could not take "failed" (a full disk) yet */
} RecRow;

struct _LessonRec {
	KtLessonRecorder *rec;
	char *id;
	KtRoom *room;         /* ref */
	gint64 epoch_us;      /* monotonic: the lesson clock's 0 */
	char *base;           /* "DATA/recordings/<lesson>/<stamp>-" */
	KtRecordingInfo meta; /* title, subject, grade, teacher, classrooms of every row */
	gboolean files;       /* recorded into files (else only broadcast) */
	char *live_dir;       /* "DATA/live/<lesson>" while broadcast as HLS, else NULL */
	KtProgramRecorder *program;
	gboolean program_failed; /* it stopped with an error: nothing to watch */
	KtLessonProgram webrtc;  /* the program's room sources (WHEP viewers); 0s = none */
	guint program_viewers;   /* WHEP viewers of the program now */
	RecRow program_row;
	GHashTable *sources; /* room source id → RecSource* */
	char *stage;         /* participant id on stage, or NULL */
};

/* A room source being recorded. Shared with the room tap (media worker): the tap holds a
 * reference, and lock guards what it reads. */
typedef struct {
	gint refs;
	GMutex lock;
	KtSourceRecorder *push_to;  /* lock: NULL once closed */
	KtProgramRecorder *program; /* lock */
	guint input;                /* lock: program input, 0 = not in the program */

	LessonRec *lesson;
	guint source, tap;
	KtMediaKind kind;
	char *what;        /* "camera", "courseware", "audio" */
	char *stream;      /* catalog stream name, e.g. "teacher-camera", "Room A-audio" */
	char *participant; /* latest publisher's id */
	gboolean teacher, active;
	KtProgramSlot slot; /* while input != 0 */
	KtSourceRecorder *recorder;
	RecRow row;
} RecSource;

/* kt-recorded-source.c */
RecSource *kt_rec_source_new(LessonRec *l, guint source, KtMediaKind kind, const char *what,
                             const char *stream, gboolean teacher);
/* Stops the tap and the recorder, completes the row; then drops the lesson's reference. */
void kt_rec_source_finish(RecSource *s);
/* Puts the source into the program in @slot, or takes it out (KT_PROGRAM_N_SLOTS). */
void kt_rec_source_set_program_slot(RecSource *s, KtProgramSlot slot);

/* kt-lesson-recorder.c */
/* A catalog row for a file that has begun; FALSE when the catalog refused it (logged). */
gboolean kt_lesson_rec_open_row(LessonRec *l, RecRow *row, const char *path, const char *kind,
                                const char *stream);
/* Completes the row: size and SHA-256 off the control loop, then the catalog. */
void kt_lesson_rec_close_row(LessonRec *l, RecRow *row, gint64 duration_ms);
/* The recording of @row failed: catalog, log, lesson event. */
void kt_lesson_rec_fail_row(LessonRec *l, RecRow *row, const char *stream, const GError *error);
/* At the end of a recording whose failure the catalog could not take then: try again. */
void kt_lesson_rec_save_failure(LessonRec *l, RecRow *row);
