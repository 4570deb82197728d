/* `ketang lesson create|list|delete`. */
#include "kt-cli-lesson.h"

#include <stdio.h>
#include <string.h>

#include "kt-api-lessons.h"
#include "kt-audit.h"
#include "kt-lesson-store.h"
#include "kt-secret.h"

static KtLessonStore *open_store(const KtSettings *settings)
{
	g_autofree char *path = g_build_filename(settings->data_dir, KT_LESSON_STORE_FILE, NULL);
	g_autoptr(GError) error = NULL;
	KtLessonStore *store = kt_lesson_store_open(path, &error);

	if (!store)
		g_printerr("ketang lesson: %s\n", error->message);
	return store;
}

static void print_json(json_t *value)
{
	g_autofree char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	printf("%s\n", text);
}

/* --source ROLE[/NAME]=URL, repeatable, as "sources" objects: the first '=' ends the
 * role (URLs may hold more of them), a '/' before it starts the name. A spec without '='
 * gives an object without "url", which the API's check names. */
static json_t *sources_json(char **specs)
{
	json_t *list = json_array();

	for (guint i = 0; specs[i]; i++) {
		const char *eq = strchr(specs[i], '=');
		g_autofree char *head =
		    eq ? g_strndup(specs[i], eq - specs[i]) : g_strdup(specs[i]);
		char *slash = strchr(head, '/');
		json_t *src = json_object();

		if (slash) {
			*slash = '\0';
			json_object_set_new(src, "name", json_string(slash + 1));
		}
		json_object_set_new(src, "role", json_string(head));
		if (eq)
			json_object_set_new(src, "url", json_string(eq + 1));
		json_array_append_new(list, src);
	}
	return list;
}

/* The options as the JSON body POST /api/lessons takes, so both validate the same way. */
static char *request_body(const KtCliLessonOptions *o)
{
	json_t *body = json_object();
	json_t *rooms = json_array();
	const struct {
		const char *field;
		const char *value;
	} fields[] = {
	    {"title", o->title},     {"subject", o->subject},     {"grade", o->grade},
	    {"teacher", o->teacher}, {"starts_at", o->starts_at},
	};
	char *text;

	for (guint i = 0; i < G_N_ELEMENTS(fields); i++)
		if (fields[i].value)
			json_object_set_new(body, fields[i].field, json_string(fields[i].value));
	for (guint i = 0; o->classrooms && o->classrooms[i]; i++)
		json_array_append_new(rooms, json_string(o->classrooms[i]));
	json_object_set_new(body, "classrooms", rooms);
	if (o->no_record)
		json_object_set_new(body, "record", json_false());
	if (o->sources)
		json_object_set_new(body, "sources", sources_json(o->sources));
	/* Command-line text may not be UTF-8; json_string then returned NULL and the field is
	 * absent, which the parser reports as missing. */
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

/* --url, else [server] public_url, else the first listen address (a wildcard address
 * becomes localhost, with a hint to pass --url). */
static char *link_base(const KtCliLessonOptions *o, const KtSettings *settings)
{
	const char *given = o->url && *o->url ? o->url : settings->public_url;
	g_autofree char *host = NULL;
	guint16 port = 0;
	gsize len;

	if (given && *given) {
		if (!g_str_has_prefix(given, "https://") && !g_str_has_prefix(given, "http://")) {
			g_printerr("ketang lesson: --url must start with https:// or http://\n");
			return NULL;
		}
		len = strlen(given);
		while (len > 0 && given[len - 1] == '/')
			len--;
		return g_strndup(given, len);
	}
	if (!kt_settings_parse_listen(settings->listen[0], &host, &port, NULL))
		return NULL;
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
		g_printerr("ketang lesson: links use https://localhost:%u; pass --url (or set "
		           "[server] public_url) for the address classrooms reach\n",
		           port);
		return g_strdup_printf("https://localhost:%u", port);
	}
	return g_strdup_printf(strchr(host, ':') ? "https://[%s]:%u" : "https://%s:%u", host, port);
}

/* Stores the validated lesson and prints it with its links. */
static int store_and_print(const KtLessonInfo *in, const char *base, const KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonStore) store = open_store(settings);
	g_autoptr(KtLessonInfo) stored = NULL;
	g_autofree char *id = NULL;
	guint8 *secret = NULL;
	gsize secret_len = 0;
	json_t *out;

	if (!store)
		return 1;
	if (!kt_secret_load(settings, &secret, &secret_len, &error)) {
		g_printerr("ketang lesson: %s\n", error->message);
		return 1;
	}
	id = kt_lesson_store_create(store, in, &error);
	stored = id ? kt_lesson_store_get(store, id, &error) : NULL;
	out = stored ? kt_api_lessons_to_json(stored, base, secret, secret_len, settings->token_ttl,
	                                      &error)
	             : NULL;
	kt_secret_free(secret, secret_len);
	if (!out) {
		g_printerr("ketang lesson create: %s\n", error->message);
		return 1;
	}
	{
		g_autofree char *object = g_strconcat("lesson/", id, NULL);

		kt_audit_cli(settings->data_dir, "lesson.create", object, NULL);
	}
	print_json(out);
	json_decref(out);
	return 0;
}

static int lesson_create(const KtCliLessonOptions *o, const KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *body = request_body(o);
	g_autoptr(KtLessonInfo) in = kt_api_lessons_parse_create(body, strlen(body), &error);
	g_autofree char *base = NULL;

	if (!in) {
		g_printerr("ketang lesson create: %s (options --title, --subject, --grade, "
		           "--teacher, --starts-at, --classroom)\n",
		           error->message);
		return 2;
	}
	base = link_base(o, settings);
	if (!base)
		return 2;
	return store_and_print(in, base, settings);
}

static int lesson_list(const KtCliLessonOptions *o, const KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonStore) store = open_store(settings);
	g_autoptr(GPtrArray) lessons = NULL;
	guint total = 0;
	json_t *arr, *out;

	if (!store)
		return 1;
	lessons = kt_lesson_store_list(store, NULL, 0, 0, &total, &error);
	if (!lessons) {
		g_printerr("ketang lesson list: %s\n", error->message);
		return 1;
	}
	arr = json_array();
	for (guint i = 0; i < lessons->len; i++)
		json_array_append_new(
		    arr, kt_api_lessons_to_json(lessons->pdata[i], NULL, NULL, 0, 0, NULL));
	out = json_pack("{s:o, s:I}", "lessons", arr, "total", (json_int_t)total);
	print_json(out);
	json_decref(out);
	return 0;
}

/* `ketang lesson delete --lesson ID`: the lesson's row, classrooms, sources and attendance
 * (its recordings stay: `ketang recording` and the archive API). Audited. */
static int lesson_delete(const KtCliLessonOptions *o, const KtSettings *settings)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtLessonStore) store = NULL;
	g_autofree char *object = NULL;

	if (!o->id) {
		g_printerr("ketang lesson delete: --lesson ID is required\n");
		return 2;
	}
	store = open_store(settings);
	if (!store)
		return 1;
	object = g_strconcat("lesson/", o->id, NULL);
	if (!kt_lesson_store_delete(store, o->id, &error)) {
		g_printerr("ketang lesson delete: %s\n", error->message);
		kt_audit_cli(settings->data_dir, "lesson.delete", object, "failed");
		return error->code == KT_LESSON_STORE_ERROR_IO ||
		               error->code == KT_LESSON_STORE_ERROR_CORRUPT
		           ? 1
		           : 2;
	}
	kt_audit_cli(settings->data_dir, "lesson.delete", object, NULL);
	printf("deleted lesson %s\n", o->id);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(const KtCliLessonOptions *o, const KtSettings *settings);
} actions[] = {
    {"create", lesson_create},
    {"list", lesson_list},
    {"delete", lesson_delete},
};

int kt_cli_lesson_run(const KtCliLessonOptions *o, const KtSettings *settings)
{
	for (guint i = 0; o->action && i < G_N_ELEMENTS(actions); i++)
		if (strcmp(o->action, actions[i].name) == 0)
			return actions[i].run(o, settings);
	g_printerr("usage: ketang lesson create --title T --starts-at 2026-11-24T08:00+08:00 "
	           "[--subject S] [--grade G] [--teacher NAME] [--classroom ROOM]... [--url "
	           "https://HOST:PORT]\n       ketang lesson list\n       ketang lesson delete "
	           "--lesson ID\n");
	return 2;
}

void kt_cli_lesson_options_clear(KtCliLessonOptions *o)
{
	g_free(o->title);
	g_free(o->subject);
	g_free(o->grade);
	g_free(o->teacher);
	g_free(o->starts_at);
	g_strfreev(o->classrooms);
	g_strfreev(o->sources);
	g_free(o->url);
}
