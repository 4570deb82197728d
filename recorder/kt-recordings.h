/* The recordings catalog: one row per recorded file (a lesson's program composite or one of
 * its sources), with chapters, kept in SQLite at <data_dir>/recordings.db.
 *
 * Its own file, apart from the lesson catalog (ketang.db): recordings are written by the
 * recorder while lessons run and read by the archive, and a damaged archive catalog must
 * not stop lessons. One sqlite3 connection per store, opened through kt-db.h: WAL journal
 * and a busy timeout, so `ketang serve` and `ketang recording add` can use the file at the
 * same time. The schema carries a version (table schema_version); opening migrates an older
 * file and refuses a newer one. Every statement is prepared once, at open.
 *
 * States: recording -> complete (kt_recordings_finish) or failed (kt_recordings_mark_failed);
 * a row still "recording" at start-up was cut by a crash: kt_recordings_repair makes it
 * "repaired" (or "failed" when the file is gone). Times are Unix seconds (0 = not yet);
 * durations milliseconds, -1 = unknown. Files are named relative to the data dir.
 *
 * Ownership: the store owns its connection; kt_recordings_free closes it. Every
 * KtRecordingInfo / KtRecordingChapter and array returned is the caller's
 * (kt_recording_info_free, kt_recording_chapter_free; arrays free their elements). Inputs
 * are borrowed for the duration of the call.
 * Threads: control loop only (one store is not shared between threads); the recorder, on
 * other threads, hops to the control loop to call these. Calls do blocking file I/O (a few
 * ms; kt_recordings_sha256_file and repair read whole files). */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define KT_RECORDINGS_ERROR (kt_recordings_error_quark())
GQuark kt_recordings_error_quark(void);

typedef enum {
	KT_RECORDINGS_ERROR_NOT_FOUND, /* no recording with that id */
	KT_RECORDINGS_ERROR_INVALID,   /* a bad argument: kind, file path, state change */
	KT_RECORDINGS_ERROR_CORRUPT,   /* not a Ketang database, or a newer schema */
	KT_RECORDINGS_ERROR_IO,        /* cannot open/write the file or the media file, busy */
} KtRecordingsError;

#define KT_RECORDINGS_FILE "recordings.db"

typedef struct _KtRecordings KtRecordings;

/* A recording as stored. As input to kt_recordings_create only lesson, title, subject,
 * grade, teacher, classrooms, started_at, kind, stream, file and mime are read (NULL
 * strings count as ""; NULL classrooms as none). */
typedef struct {
	gint64 id; /* > 0 */
	char *lesson;
	char *title;
	char *subject;
	char *grade;
	char *teacher;
	char **classrooms; /* NULL-terminated; never NULL on output */
	gint64 started_at;
	gint64 ended_at;    /* 0 while recording */
	gint64 duration_ms; /* -1 = unknown */
	gint64 size_bytes;  /* 0 while recording */
	char *kind;         /* "program" or "source" */
	char *stream;       /* e.g. "program", "p1-camera" */
	char *file;         /* relative to the data dir, e.g. "recordings/abc/program.mp4" */
	char *mime;         /* e.g. "video/mp4"; "" = from the file name */
	char *sha256;       /* lowercase hex; "" until finished */
	char *state;        /* "recording", "complete", "repaired" or "failed" */
} KtRecordingInfo;

typedef struct {
	gint64 at_ms; /* from the start of the recording */
	char *title;
} KtRecordingChapter;

/* Filters for kt_recordings_list; NULL / 0 fields do not filter. */
typedef struct {
	const char *lesson;  /* exact */
	const char *teacher; /* exact */
	const char *subject; /* exact */
	const char *grade;   /* exact */
	const char *kind;    /* exact */
	gint64 from;         /* started_at >= from (0 = no bound) */
	gint64 to;           /* started_at < to (0 = no bound) */
	const char *text;    /* substring of title, teacher or subject (ASCII case-insensitive) */
} KtRecordingFilter;

/* Opens (creating @data_dir, mode 0700, and the file if needed) and migrates
 * <data_dir>/recordings.db. NULL with _CORRUPT when the file is not a Ketang recordings
 * database, _IO when it cannot be opened. */
KtRecordings *kt_recordings_open(const char *data_dir, GError **error);
/* NULL is allowed. */
void kt_recordings_free(KtRecordings *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtRecordings, kt_recordings_free)

void kt_recording_info_free(KtRecordingInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtRecordingInfo, kt_recording_info_free)
void kt_recording_chapter_free(KtRecordingChapter *c);

/* The absolute path of @info's file (g_free). */
char *kt_recordings_path(KtRecordings *s, const KtRecordingInfo *info);

/* Adds a row in state "recording" and returns its id, or 0 on error. _INVALID when kind is
 * not program/source, or file is empty, absolute or contains a ".." segment (the file must
 * stay inside the data dir). */
gint64 kt_recordings_create(KtRecordings *s, const KtRecordingInfo *in, GError **error);

/* recording -> complete, with the final facts. @sha256_hex may be NULL (left empty).
 * _NOT_FOUND for an unknown id, _INVALID when the row is not "recording". */
bool kt_recordings_finish(KtRecordings *s, gint64 id, gint64 ended_at, gint64 duration_ms,
                          gint64 size_bytes, const char *sha256_hex, GError **error);

/* recording -> failed (a write error, a full disk); what was written stays listed. */
bool kt_recordings_mark_failed(KtRecordings *s, gint64 id, gint64 ended_at, GError **error);

/* The recording @id, or NULL with _NOT_FOUND. */
KtRecordingInfo *kt_recordings_get(KtRecordings *s, gint64 id, GError **error);

/* Recordings (KtRecordingInfo *) matching @filter (may be NULL), latest started_at first;
 * at most @limit (0 = no limit) after skipping @offset. @total_out (may be NULL) gets the
 * number of matches without paging. */
GPtrArray *kt_recordings_list(KtRecordings *s, const KtRecordingFilter *filter, guint limit,
                              guint offset, guint *total_out, GError **error);

/* Adds a chapter mark at @at_ms (>= 0). _NOT_FOUND for an unknown id. */
bool kt_recordings_add_chapter(KtRecordings *s, gint64 id, gint64 at_ms, const char *title,
                               GError **error);

/* Chapters (KtRecordingChapter *) of @id by time; empty if none. */
GPtrArray *kt_recordings_chapters(KtRecordings *s, gint64 id, GError **error);

/* Deletes the file, then the row and its chapters. A file already gone is not an error;
 * a file that cannot be removed is (_IO, the row stays so the file is not orphaned). */
bool kt_recordings_delete(KtRecordings *s, gint64 id, GError **error);

/* Measures a media file's duration in ms, or returns -1 when it cannot. It may first repair
 * the file (cut an incomplete tail): repair stats and hashes the file after it. */
typedef gint64 (*KtRecordingsProbeFunc)(const char *path, gpointer user_data);

/* Start-up repair: every row still "recording" was cut by a crash. Its file is final now:
 * the row becomes "repaired" with size from stat, sha256 of the file, ended_at = the file's
 * mtime and duration from @probe (NULL = -1, unknown, until a prober exists). A row whose
 * file is missing becomes "failed". @n_out (may be NULL) gets the number of rows fixed. */
bool kt_recordings_repair(KtRecordings *s, KtRecordingsProbeFunc probe, gpointer user_data,
                          guint *n_out, GError **error);

/* Retention: deletes (file and row, each logged) every finished recording whose end (or
 * start, for one without an end) is more than @retention_days days before @now. Rows still
 * "recording" are kept. @retention_days 0 keeps everything. */
bool kt_recordings_expire(KtRecordings *s, gint64 now, gint64 retention_days, GError **error);

/* SHA-256 of the file at @path as 64 lowercase hex digits (g_free), read in blocks; NULL
 * with _IO when it cannot be read. */
char *kt_recordings_sha256_file(const char *path, GError **error);
