/* `ketang recording add`: imports a media file into the recordings catalog
 * (<data_dir>/recordings.db, WAL: safe while `ketang serve` runs), for operators bringing in
 * files recorded elsewhere, and for tests. Prints the new row as GET /api/recordings/{id}
 * shows it.
 *
 *   ketang recording add --lesson ID --file PATH [--kind program|source] [--stream NAME]
 *       [--title T] [--subject S] [--grade G] [--teacher NAME] [--classroom ROOM]...
 *       [--started-at TIME] [--ended-at TIME] [--duration-ms N] [--mime TYPE]
 *       [--chapter MS:TITLE]...
 *
 * A file inside the data dir is catalogued where it is; one outside is copied to
 * <data_dir>/recordings/import/ (a hard link when on the same file system). Title, subject,
 * grade, teacher and classrooms default to the lesson's entry in ketang.db, if any. TIME is
 * Unix seconds or ISO 8601 with an offset; started_at defaults to ended_at - duration,
 * ended_at to the file's modification time. The row is stored "complete" with size and
 * SHA-256.
 *
 * Ownership: the options belong to the caller (main.c's GOptionEntry table fills them);
 * kt_cli_recording_options_clear frees every field except `action` (borrowed from argv).
 * The lesson id and the descriptive fields come from main.c's --lesson and lesson options.
 * Threads: main thread of the CLI process; blocking file I/O. */
#pragma once

#include "kt-cli-lesson.h"
#include "kt-config.h"

typedef struct {
	const char *action; /* "add"; borrowed */
	char *file;
	char *kind;   /* default "program" */
	char *stream; /* default = kind */
	char *mime;   /* default from the file name */
	char *started_at;
	char *ended_at;
	gint64 duration_ms; /* 0 = unknown */
	char **chapters;    /* "MS:TITLE", repeatable */
} KtCliRecordingOptions;

/* Runs the subcommand; JSON to stdout, errors to stderr. @lesson is --lesson; @meta gives
 * --title, --subject, --grade, --teacher and --classroom. Returns the exit status: 0 ok,
 * 1 failure (storage, copying), 2 usage or invalid input. */
int kt_cli_recording_run(const KtCliRecordingOptions *o, const char *lesson,
                         const KtCliLessonOptions *meta, const KtSettings *settings);

void kt_cli_recording_options_clear(KtCliRecordingOptions *o);
