/* Settings: one option table drives defaults, parsing, validation and the documented sample,
 * in the manner of Redis's config.c. Adding a key means adding a KtSettings field and one row
 * to kt_config_options (kt-config-options.c); nothing else. */
#include "kt-config.h"
#include "kt-config-private.h"

#include <string.h>

G_DEFINE_QUARK(kt - config - error - quark, kt_config_error)

/* Sets @error to "[group] key: <why>". */
static bool G_GNUC_PRINTF(3, 4)
    kt_option_fail(const KtOption *opt, GError **error, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	g_autofree char *why = g_strdup_vprintf(fmt, args);
	va_end(args);
	g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE, "[%s] %s: %s",
	            opt->group, opt->key, why);
	return false;
}

static const KtOption *kt_option_find(const char *group, const char *key)
{
	for (gsize i = 0; i < kt_config_n_options; i++) {
		const KtOption *opt = &kt_config_options[i];
		if (strcmp(opt->group, group) == 0 && strcmp(opt->key, key) == 0)
			return opt;
	}
	return NULL;
}

static bool kt_config_group_known(const char *group)
{
	for (gsize i = 0; i < kt_config_n_groups; i++) {
		if (strcmp(kt_config_groups[i].name, group) == 0)
			return true;
	}
	return false;
}

static bool kt_option_check_string(const KtOption *opt, const char *value, GError **error)
{
	if (value == NULL)
		return kt_option_fail(opt, error, "no value");
	if (value[0] == '\0') {
		if (opt->flags & KT_OPT_NONEMPTY)
			return kt_option_fail(opt, error, "must not be empty");
		return true;
	}
	if (opt->choices != NULL && !g_strv_contains(opt->choices, value)) {
		g_autofree char *allowed = g_strjoinv(", ", (char **)opt->choices);
		return kt_option_fail(opt, error, "\"%s\" is not one of: %s", value, allowed);
	}
	if (opt->check != NULL && !opt->check(value, error)) {
		g_prefix_error(error, "[%s] %s: ", opt->group, opt->key);
		return false;
	}
	return true;
}

static bool kt_option_check_list(const KtOption *opt, char *const *list, GError **error)
{
	if (list == NULL)
		return kt_option_fail(opt, error, "no value");
	if (list[0] == NULL && (opt->flags & KT_OPT_NONEMPTY))
		return kt_option_fail(opt, error, "the list must not be empty");
	if (opt->max > 0 && g_strv_length((char **)list) > (guint)opt->max)
		return kt_option_fail(opt, error, "at most %d entries", (int)opt->max);
	for (gsize i = 0; list[i] != NULL; i++) {
		if (list[i][0] == '\0')
			return kt_option_fail(opt, error, "empty list element (stray comma?)");
		if (!kt_option_check_string(opt, list[i], error))
			return false;
		for (gsize j = 0; j < i; j++) {
			if (strcmp(list[j], list[i]) == 0)
				return kt_option_fail(opt, error, "\"%s\" is listed twice",
				                      list[i]);
		}
	}
	return true;
}

/* The longest order read: the names with room for spaces. Anything longer is pasted text,
 * not an order, and only its start is echoed back. */
#define KT_CONFIG_ORDER_MAX 128
/* Orders track the names seen in a bit mask. */
#define KT_CONFIG_ORDER_MAX_NAMES 32
G_STATIC_ASSERT(KT_CONFIG_VIDEO_N <= KT_CONFIG_ORDER_MAX_NAMES);

static gint kt_option_choice_index(const KtOption *opt, const char *name)
{
	for (gint i = 0; opt->choices[i] != NULL; i++) {
		if (strcmp(opt->choices[i], name) == 0)
			return i;
	}
	return -1;
}

/* Parses @value, every choice of @opt once in a comma-separated order (spaces around names
 * allowed), into @place: place[index of a choice] = its position, 0 first. @place is only
 * written on success. */
static bool kt_option_parse_order(const KtOption *opt, const char *value, guint *place,
                                  GError **error)
{
	g_autofree char *allowed = g_strjoinv(", ", (char **)opt->choices);
	guint n = g_strv_length((char **)opt->choices);
	guint got[KT_CONFIG_ORDER_MAX_NAMES];
	g_auto(GStrv) names = NULL;
	guint32 seen = 0;

	if (strlen(value) > KT_CONFIG_ORDER_MAX)
		return kt_option_fail(opt, error,
		                      "\"%.32s...\" is over-long (%zu characters); expected each "
		                      "of %s once",
		                      value, strlen(value), allowed);
	if (value[strspn(value, " \t")] == '\0')
		return kt_option_fail(opt, error, "must not be empty; expected each of %s once",
		                      allowed);
	names = g_strsplit(value, ",", -1);
	for (guint i = 0; names[i] != NULL; i++) {
		const char *name = g_strstrip(names[i]);
		gint k = kt_option_choice_index(opt, name);

		if (name[0] == '\0')
			return kt_option_fail(opt, error,
			                      "\"%s\" has an empty name (stray comma?); "
			                      "expected each of %s once",
			                      value, allowed);
		if (k < 0)
			return kt_option_fail(opt, error, "\"%s\" is not one of: %s", name,
			                      allowed);
		if (seen & (1u << k))
			return kt_option_fail(opt, error, "\"%s\" is listed twice", name);
		seen |= 1u << k;
		got[k] = i;
	}
	for (guint k = 0; k < n; k++) {
		if (!(seen & (1u << k)))
			return kt_option_fail(opt, error,
			                      "\"%s\" lacks %s; expected each of %s once", value,
			                      opt->choices[k], allowed);
	}
	memcpy(place, got, n * sizeof *place);
	return true;
}

/* Fields set by hand (not read from a file) must still give each choice its own place. */
static bool kt_option_check_order(const KtOption *opt, const guint *place, GError **error)
{
	guint n = g_strv_length((char **)opt->choices);
	guint32 taken = 0;

	for (guint k = 0; k < n; k++) {
		if (place[k] >= n || (taken & (1u << place[k])))
			return kt_option_fail(
			    opt, error, "%s has place %u; each name needs its own place 0..%u",
			    opt->choices[k], place[k], n - 1);
		taken |= 1u << place[k];
	}
	return true;
}

static bool kt_option_validate(const KtOption *opt, const KtSettings *s, GError **error)
{
	switch (opt->type) {
	case KT_OPT_STRING:
		return kt_option_check_string(opt, *KT_FIELD(s, opt, char *), error);
	case KT_OPT_LIST:
		return kt_option_check_list(opt, *KT_FIELD(s, opt, char **), error);
	case KT_OPT_INT: {
		gint64 v = *KT_FIELD(s, opt, gint64);
		if (v < opt->min || v > opt->max)
			return kt_option_fail(opt, error,
			                      "%" G_GINT64_FORMAT
			                      " is out of range %" G_GINT64_FORMAT
			                      "..%" G_GINT64_FORMAT,
			                      v, opt->min, opt->max);
		return true;
	}
	case KT_OPT_BOOL:
		return true;
	case KT_OPT_ORDER:
		return kt_option_check_order(opt, KT_FIELD(s, opt, guint), error);
	}
	return true;
}

/* Rules that tie two keys together. */
static bool kt_settings_validate_pairs(const KtSettings *s, GError **error)
{
	const KtOption *min = kt_option_find("media", "ice_port_min");
	const KtOption *key = kt_option_find("server", "tls_key");

	if ((s->ice_port_min == 0) != (s->ice_port_max == 0))
		return kt_option_fail(min, error,
		                      "set ice_port_min and ice_port_max together (both 0 = any)");
	if (s->ice_port_min > s->ice_port_max)
		return kt_option_fail(
		    min, error, "%" G_GINT64_FORMAT " is above ice_port_max %" G_GINT64_FORMAT,
		    s->ice_port_min, s->ice_port_max);
	if ((s->tls_cert[0] == '\0') != (s->tls_key[0] == '\0'))
		return kt_option_fail(key, error, "set tls_cert and tls_key together, or neither");
	/* 4:2:0 video needs even dimensions. */
	if (s->program_width % 2 || s->program_height % 2)
		return kt_option_fail(kt_option_find("recording", "program_width"), error,
		                      "program_width and program_height must be even");
	if (s->wall_width % 2 || s->wall_height % 2)
		return kt_option_fail(kt_option_find("wall", "width"), error,
		                      "width and height must be even");
	return true;
}

bool kt_settings_validate(const KtSettings *s, GError **error)
{
	for (gsize i = 0; i < kt_config_n_options; i++) {
		if (!kt_option_validate(&kt_config_options[i], s, error))
			return false;
	}
	return kt_settings_validate_pairs(s, error);
}

/* ---- defaults, copy, free ---- */

static void kt_option_set_default(const KtOption *opt, KtSettings *s)
{
	switch (opt->type) {
	case KT_OPT_STRING:
		*KT_FIELD(s, opt, char *) = g_strdup(opt->def);
		break;
	case KT_OPT_LIST:
		*KT_FIELD(s, opt, char **) = g_strsplit(opt->def, ",", -1);
		break;
	case KT_OPT_INT:
		*KT_FIELD(s, opt, gint64) = opt->def_int;
		break;
	case KT_OPT_BOOL:
		*KT_FIELD(s, opt, gboolean) = opt->def_int != 0;
		break;
	case KT_OPT_ORDER:
		if (!kt_option_parse_order(opt, opt->def, KT_FIELD(s, opt, guint), NULL))
			g_error("[%s] %s: bad built-in default", opt->group, opt->key);
		break;
	}
}

KtSettings *kt_settings_new_default(void)
{
	KtSettings *s = g_new0(KtSettings, 1);
	for (gsize i = 0; i < kt_config_n_options; i++)
		kt_option_set_default(&kt_config_options[i], s);
	return s;
}

KtSettings *kt_settings_copy(const KtSettings *s)
{
	KtSettings *copy = g_new(KtSettings, 1);
	*copy = *s;
	for (gsize i = 0; i < kt_config_n_options; i++) {
		const KtOption *opt = &kt_config_options[i];
		if (opt->type == KT_OPT_STRING)
			*KT_FIELD(copy, opt, char *) = g_strdup(*KT_FIELD(s, opt, char *));
		else if (opt->type == KT_OPT_LIST)
			*KT_FIELD(copy, opt, char **) = g_strdupv(*KT_FIELD(s, opt, char **));
	}
	return copy;
}

void kt_settings_free(KtSettings *s)
{
	if (s == NULL)
		return;
	for (gsize i = 0; i < kt_config_n_options; i++) {
		const KtOption *opt = &kt_config_options[i];
		if (opt->type == KT_OPT_STRING)
			g_free(*KT_FIELD(s, opt, char *));
		else if (opt->type == KT_OPT_LIST)
			g_strfreev(*KT_FIELD(s, opt, char **));
	}
	g_free(s);
}

/* ---- reading a key file ---- */

#define KT_CONFIG_BAD_ESCAPE "invalid escape sequence (write a backslash as \\\\)"

/* Converts the file's text for @opt into the field's type; ranges and choices are checked
 * afterwards by kt_settings_validate, the same way for file values and CLI overrides. */
static bool kt_option_read(const KtOption *opt, GKeyFile *kf, KtSettings *s, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *raw = g_key_file_get_value(kf, opt->group, opt->key, NULL);
	gint64 n = 0;

	switch (opt->type) {
	case KT_OPT_STRING: {
		/* GKeyFile may return a value and an error together (bad escape). */
		char *v = g_key_file_get_string(kf, opt->group, opt->key, &local);
		if (local != NULL) {
			g_free(v);
			return kt_option_fail(opt, error, KT_CONFIG_BAD_ESCAPE);
		}
		g_free(*KT_FIELD(s, opt, char *));
		*KT_FIELD(s, opt, char *) = v;
		return true;
	}
	case KT_OPT_LIST: {
		char **v = g_key_file_get_string_list(kf, opt->group, opt->key, NULL, &local);
		if (local != NULL) {
			g_strfreev(v);
			return kt_option_fail(opt, error, KT_CONFIG_BAD_ESCAPE);
		}
		for (gsize i = 0; v[i] != NULL; i++)
			g_strstrip(v[i]);
		g_strfreev(*KT_FIELD(s, opt, char **));
		*KT_FIELD(s, opt, char **) = v;
		return true;
	}
	case KT_OPT_INT:
		if (!g_ascii_string_to_signed(raw, 10, G_MININT64, G_MAXINT64, &n, NULL))
			return kt_option_fail(opt, error, "expected an integer, got \"%.40s\"",
			                      raw);
		*KT_FIELD(s, opt, gint64) = n;
		return true;
	case KT_OPT_BOOL:
		if (strcmp(raw, "true") != 0 && strcmp(raw, "false") != 0)
			return kt_option_fail(opt, error, "expected true or false, got \"%.40s\"",
			                      raw);
		*KT_FIELD(s, opt, gboolean) = strcmp(raw, "true") == 0;
		return true;
	case KT_OPT_ORDER:
		return kt_option_parse_order(opt, raw, KT_FIELD(s, opt, guint), error);
	}
	return true;
}

/* Every group and key in the file must be in the table: a typo must not silently leave a
 * setting at its default. */
static bool kt_config_check_names(GKeyFile *kf, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	for (gsize g = 0; groups[g] != NULL; g++) {
		g_auto(GStrv) keys = NULL;
		if (!kt_config_group_known(groups[g])) {
			g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_UNKNOWN_GROUP,
			            "unknown group [%s]", groups[g]);
			return false;
		}
		keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
		for (gsize k = 0; keys != NULL && keys[k] != NULL; k++) {
			if (kt_option_find(groups[g], keys[k]) == NULL) {
				g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_UNKNOWN_KEY,
				            "[%s] %s: unknown key", groups[g], keys[k]);
				return false;
			}
		}
	}
	return true;
}

static bool kt_settings_apply(KtSettings *s, GKeyFile *kf, GError **error)
{
	g_autoptr(KtSettings) next = NULL;
	KtSettings swap;

	if (!kt_config_check_names(kf, error))
		return false;
	next = kt_settings_copy(s);
	for (gsize i = 0; i < kt_config_n_options; i++) {
		const KtOption *opt = &kt_config_options[i];
		if (!g_key_file_has_key(kf, opt->group, opt->key, NULL))
			continue;
		if (!kt_option_read(opt, kf, next, error))
			return false;
	}
	if (!kt_settings_validate(next, error))
		return false;
	/* All or nothing: @s only changes once the whole file is known to be good. */
	swap = *s;
	*s = *next;
	*next = swap;
	return true;
}

bool kt_settings_load_data(KtSettings *s, const char *data, gsize len, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;

	g_key_file_set_list_separator(kf, ',');
	/* Keep "key[locale]" entries so they are reported as unknown keys instead of being
	 * dropped silently or applied depending on the server's locale. */
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_KEEP_TRANSLATIONS, &local)) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_PARSE,
		            "not a valid INI file: %s", local->message);
		return false;
	}
	return kt_settings_apply(s, kf, error);
}

bool kt_settings_load_file(KtSettings *s, const char *path, GError **error)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) local = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &local)) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_PARSE, "%s", local->message);
		return false;
	}
	if (!kt_settings_load_data(s, data, len, error)) {
		g_prefix_error(error, "%s: ", path);
		return false;
	}
	return true;
}

/* ---- the documented sample ---- */

/* "key = value", or "key =" for an empty value (no trailing blank). */
static void kt_describe_assign(GString *out, const char *key, const char *value)
{
	g_string_append_printf(out, "%s =%s%s\n", key, value[0] ? " " : "", value);
}

static void kt_option_describe(const KtOption *opt, GString *out)
{
	g_autofree char *choices = opt->choices ? g_strjoinv(", ", (char **)opt->choices) : NULL;
	g_autofree char *value = NULL;

	g_string_append_printf(out, "\n# %s\n# ", opt->doc);
	switch (opt->type) {
	case KT_OPT_STRING:
	case KT_OPT_LIST:
		if (opt->type == KT_OPT_LIST && opt->max > 0)
			g_string_append_printf(out, "Comma-separated list of at most %d",
			                       (int)opt->max);
		else if (opt->type == KT_OPT_LIST)
			g_string_append(out, "Comma-separated list");
		else
			g_string_append(out, choices != NULL ? "One" : "Text");
		if (choices != NULL)
			g_string_append_printf(out, " of: %s", choices);
		g_string_append_printf(out, ". Default: %s\n", opt->def[0] ? opt->def : "empty");
		value = g_strdup(opt->def);
		break;
	case KT_OPT_INT:
		g_string_append_printf(out,
		                       "Integer, %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT
		                       ". Default: %" G_GINT64_FORMAT "\n",
		                       opt->min, opt->max, opt->def_int);
		value = g_strdup_printf("%" G_GINT64_FORMAT, opt->def_int);
		break;
	case KT_OPT_BOOL:
		value = g_strdup(opt->def_int ? "true" : "false");
		g_string_append_printf(out, "true or false. Default: %s\n", value);
		break;
	case KT_OPT_ORDER:
		g_string_append_printf(out,
		                       "Comma-separated order of: %s, each once. Default: %s\n",
		                       choices, opt->def);
		value = g_strdup(opt->def);
		break;
	}
	kt_describe_assign(out, opt->key, value);
}

char *kt_settings_describe(void)
{
	GString *out = g_string_new(
	    "# Ketang configuration: `ketang serve --config FILE`.\n"
	    "#\n"
	    "# Every key is optional; a key left out keeps the default shown here, and the\n"
	    "# values below are those defaults. Lists are comma-separated. Unknown groups and\n"
	    "# keys are errors, so a typo never goes unnoticed.\n");

	for (gsize g = 0; g < kt_config_n_groups; g++) {
		const KtOptionGroup *group = &kt_config_groups[g];
		g_string_append_printf(out, "\n# %s\n[%s]\n", group->doc, group->name);
		for (gsize i = 0; i < kt_config_n_options; i++) {
			if (strcmp(kt_config_options[i].group, group->name) == 0)
				kt_option_describe(&kt_config_options[i], out);
		}
	}
	return g_string_free(out, FALSE);
}
