/* `ketang lesson create|list`: schedules and lists lessons from the command line, in the
 * same SQLite file as the server (<data_dir>/ketang.db, WAL: safe while `ketang serve`
 * runs). `create` validates exactly as POST /api/lessons and prints the same JSON, join
 * links included; `list` prints what GET /api/lessons returns, without paging.
 *
 * Ownership: the options belong to the caller (main.c's GOptionEntry table fills them);
 * kt_cli_lesson_options_clear frees every field except `action`, which is borrowed from
 * argv.
 * Threads: main thread of the CLI process; blocking file I/O. */
#pragma once

#include "kt-config.h"

typedef struct {
	const char *action; /* "create", "list" or "delete"; borrowed */
	const char *id;     /* --lesson: the lesson "delete" removes; borrowed */
	char *title;
	char *subject;
	char *grade;
	char *teacher;
	char *starts_at;    /* ISO 8601 with offset, or Unix seconds */
	char **classrooms;  /* --classroom, repeatable */
	char *url;          /* base of join links; default [server] public_url, else listen[0] */
	gboolean no_record; /* --no-record: the lesson is not recorded */
	char **sources;     /* --source ROLE[/NAME]=URL, repeatable: "sources" of the API */
} KtCliLessonOptions;

/* Runs the subcommand; JSON goes to stdout, errors to stderr. Returns the exit status:
 * 0 ok, 1 failure (storage, secret), 2 usage or invalid input. */
int kt_cli_lesson_run(const KtCliLessonOptions *o, const KtSettings *settings);

void kt_cli_lesson_options_clear(KtCliLessonOptions *o);
