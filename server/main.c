/* ketang: command-line entry point. Subcommands map to handlers through a
 * table (STYLE.md): serve, token. */
#include <glib-unix.h>
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kt-audit.h"
#include "kt-cli-audit.h"
#include "kt-cli-lesson.h"
#include "kt-cli-recording.h"
#include "kt-config.h"
#include "kt-secret.h"
#include "kt-server.h"
#include "kt-token.h"

typedef struct {
	char *config;
	char *data_dir;
	char *listen;
	char *lesson;
	char *role;
	gint64 ttl;
	char *since;
	gboolean version;
	KtCliLessonOptions lesson_cmd;
	KtCliRecordingOptions recording_cmd;
} CliOptions;

/* Loads the config file (if any) over the defaults and applies CLI overrides. */
static KtSettings *load_settings(const CliOptions *o, GError **error)
{
	g_autoptr(KtSettings) s = kt_settings_new_default();

	if (o->config && !kt_settings_load_file(s, o->config, error))
		return NULL;
	if (o->data_dir) {
		g_free(s->data_dir);
		s->data_dir = g_strdup(o->data_dir);
	}
	if (o->listen) {
		g_strfreev(s->listen);
		s->listen = g_strsplit(o->listen, ",", -1);
	}
	if (!kt_settings_validate(s, error))
		return NULL;
	return g_steal_pointer(&s);
}

static gboolean on_signal(gpointer data)
{
	g_message("signal received, shutting down");
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

static int cmd_serve(const CliOptions *o, KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	KtServer *server;
	guint sigint, sigterm;

	server = kt_server_new(settings, loop, &error);
	if (!server) {
		g_printerr("ketang: %s\n", error->message);
		return 1;
	}
	sigint = g_unix_signal_add(SIGINT, on_signal, loop);
	sigterm = g_unix_signal_add(SIGTERM, on_signal, loop);
	g_main_loop_run(loop);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	kt_server_free(server);
	g_message("stopped");
	return 0;
}

static int cmd_token(const CliOptions *o, KtSettings *owned)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtSettings) settings = owned;
	guint8 *secret = NULL;
	gsize secret_len = 0;
	KtRole role = kt_role_from_string(o->role);
	g_autofree char *token = NULL;
	g_autofree char *object = NULL;
	gint64 ttl;

	if (role == KT_ROLE_NONE) {
		g_printerr(
		    "ketang token: --role must be teacher, classroom, observer, archivist or "
		    "admin\n");
		return 2;
	}
	ttl = o->ttl > 0 ? o->ttl : settings->token_ttl;
	if (!kt_secret_load(settings, &secret, &secret_len, &error)) {
		g_printerr("ketang: %s\n", error->message);
		return 1;
	}
	token = kt_token_mint(secret, secret_len, o->lesson, role,
	                      g_get_real_time() / G_USEC_PER_SEC + ttl, &error);
	kt_secret_free(secret, secret_len);
	if (!token) {
		g_printerr("ketang token: %s\n", error->message);
		return 2;
	}
	/* What was minted, never the token itself. */
	object = g_strdup_printf("role=%s lesson=%s ttl=%" G_GINT64_FORMAT, o->role,
	                         o->lesson ? o->lesson : "", ttl);
	kt_audit_cli(settings->data_dir, "token.mint", object, NULL);
	printf("%s\n", token);
	return 0;
}

static int cmd_lesson(const CliOptions *o, KtSettings *owned)
{
	g_autoptr(KtSettings) settings = owned;
	KtCliLessonOptions lo = o->lesson_cmd; /* borrowed fields only: no clear */

	lo.id = o->lesson;
	return kt_cli_lesson_run(&lo, settings);
}

static int cmd_audit(const CliOptions *o, KtSettings *owned)
{
	g_autoptr(KtSettings) settings = owned;

	return kt_cli_audit_run(o->since, settings);
}

static int cmd_recording(const CliOptions *o, KtSettings *owned)
{
	g_autoptr(KtSettings) settings = owned;

	return kt_cli_recording_run(&o->recording_cmd, o->lesson, &o->lesson_cmd, settings);
}

typedef struct {
	const char *name;
	const char *summary;
	int (*run)(const CliOptions *o, KtSettings *settings); /* takes the loaded @settings */
} Command;

static const Command commands[] = {
    {"serve", "run the server", cmd_serve},
    {"token", "print a signed token for a lesson and role", cmd_token},
    {"lesson", "schedule (create), list or delete lessons", cmd_lesson},
    {"recording", "add (import) a media file to the recordings catalog", cmd_recording},
    {"audit", "print the audit log of admin actions and archive access", cmd_audit},
};

/* Loads the settings every command needs (exit status 2 when they are bad), then runs @c. */
static int run_command(const Command *c, const CliOptions *o)
{
	g_autoptr(GError) error = NULL;
	KtSettings *settings = load_settings(o, &error);

	if (!settings) {
		g_printerr("ketang: %s\n", error->message);
		return 2;
	}
	return c->run(o, settings);
}

static void print_usage(void)
{
	g_printerr("usage: ketang COMMAND [OPTIONS]\n\ncommands:\n");
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		g_printerr("  %-8s %s\n", commands[i].name, commands[i].summary);
	g_printerr("\nketang serve [--config FILE] [--listen ADDR:PORT] [--data-dir DIR]\n"
	           "ketang token [--lesson ID] --role ROLE [--ttl SECONDS] [--config FILE] "
	           "[--data-dir DIR]\nketang lesson create --title T --starts-at ISO8601 "
	           "[--subject S] [--grade G] [--teacher NAME] [--classroom ROOM]... [--source "
	           "ROLE[/NAME]=URL]... [--url URL] "
	           "[--no-record]\n"
	           "ketang lesson list\nketang recording add --lesson ID --file PATH [--kind "
	           "program|source] "
	           "[--stream NAME] [--started-at T] [--ended-at T] [--chapter MS:TITLE]...\n"
	           "ketang audit [--since TIME] [--config FILE] [--data-dir DIR]\n"
	           "ketang --version\n");
}

int main(int argc, char **argv)
{
	CliOptions o = {0};
	GOptionEntry entries[] = {
	    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config, "INI config file", "FILE"},
	    {"data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &o.data_dir, "data directory", "DIR"},
	    {"listen", 'l', 0, G_OPTION_ARG_STRING, &o.listen, "listen address (serve)",
	     "ADDR:PORT"},
	    {"lesson", 0, 0, G_OPTION_ARG_STRING, &o.lesson, "lesson id (token)", "ID"},
	    {"role", 0, 0, G_OPTION_ARG_STRING, &o.role, "role (token)", "ROLE"},
	    {"ttl", 0, 0, G_OPTION_ARG_INT64, &o.ttl, "token lifetime (token)", "SECONDS"},
	    {"title", 0, 0, G_OPTION_ARG_STRING, &o.lesson_cmd.title, "title (lesson)", "TEXT"},
	    {"subject", 0, 0, G_OPTION_ARG_STRING, &o.lesson_cmd.subject, "subject (lesson)",
	     "TEXT"},
	    {"grade", 0, 0, G_OPTION_ARG_STRING, &o.lesson_cmd.grade, "grade (lesson)", "TEXT"},
	    {"teacher", 0, 0, G_OPTION_ARG_STRING, &o.lesson_cmd.teacher, "teacher (lesson)",
	     "NAME"},
	    {"starts-at", 0, 0, G_OPTION_ARG_STRING, &o.lesson_cmd.starts_at, "start time (lesson)",
	     "ISO8601"},
	    {"classroom", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.lesson_cmd.classrooms,
	     "classroom room name, repeatable (lesson)", "NAME"},
	    {"url", 0, 0, G_OPTION_ARG_STRING, &o.lesson_cmd.url, "base of join links (lesson)",
	     "URL"},
	    {"source", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.lesson_cmd.sources,
	     "an RTSP/RTMP source, repeatable: teacher=URL, courseware=URL, classroom/NAME=URL "
	     "(lesson)",
	     "ROLE[/NAME]=URL"},
	    {"no-record", 0, 0, G_OPTION_ARG_NONE, &o.lesson_cmd.no_record,
	     "do not record the lesson (lesson)", NULL},
	    {"file", 0, 0, G_OPTION_ARG_FILENAME, &o.recording_cmd.file, "media file (recording)",
	     "PATH"},
	    {"kind", 0, 0, G_OPTION_ARG_STRING, &o.recording_cmd.kind,
	     "program or source (recording)", "KIND"},
	    {"stream", 0, 0, G_OPTION_ARG_STRING, &o.recording_cmd.stream,
	     "stream name (recording)", "NAME"},
	    {"mime", 0, 0, G_OPTION_ARG_STRING, &o.recording_cmd.mime, "media type (recording)",
	     "TYPE"},
	    {"started-at", 0, 0, G_OPTION_ARG_STRING, &o.recording_cmd.started_at,
	     "start time (recording)", "TIME"},
	    {"ended-at", 0, 0, G_OPTION_ARG_STRING, &o.recording_cmd.ended_at,
	     "end time (recording)", "TIME"},
	    {"duration-ms", 0, 0, G_OPTION_ARG_INT64, &o.recording_cmd.duration_ms,
	     "duration (recording)", "MS"},
	    {"chapter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.recording_cmd.chapters,
	     "chapter mark, repeatable (recording)", "MS:TITLE"},
	    {"since", 0, 0, G_OPTION_ARG_STRING, &o.since, "entries from this time on (audit)",
	     "TIME"},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &o.version, "print the version", NULL},
	    {NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("COMMAND");
	g_autoptr(GError) error = NULL;
	int rc = 2;

	/* Everything Ketang writes (catalogs, secret, TLS key, recordings, audit log, and the
	 * directories holding them) is for the server's user only (docs/security.md). */
	umask(077);
	setlocale(LC_ALL, "");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		g_printerr("ketang: %s\n", error->message);
		return 2;
	}
	if (o.version) {
		printf("ketang %s\n", KT_VERSION);
		rc = 0;
		goto out;
	}
	if (argc == 3 && strcmp(argv[1], "lesson") == 0)
		o.lesson_cmd.action = argv[--argc]; /* "lesson create|list|delete" */
	else if (argc == 3 && strcmp(argv[1], "recording") == 0)
		o.recording_cmd.action = argv[--argc]; /* "recording add" */
	for (guint i = 0; argc >= 2 && i < G_N_ELEMENTS(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			rc = argc == 2 ? run_command(&commands[i], &o) : 2;
			if (argc != 2)
				g_printerr("ketang: unexpected argument '%s'\n", argv[2]);
			goto out;
		}
	print_usage();
out:
	g_free(o.config);
	g_free(o.data_dir);
	g_free(o.listen);
	g_free(o.lesson);
	g_free(o.role);
	g_free(o.since);
	kt_cli_lesson_options_clear(&o.lesson_cmd);
	kt_cli_recording_options_clear(&o.recording_cmd);
	return rc;
}
