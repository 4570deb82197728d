/* The option table (kt-config-options.c) and its value checks (kt-config-check.c), shared
 * with the table's engine (kt-config.c). Read-only data and pure functions, any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "kt-config.h"

typedef enum {
	KT_OPT_STRING, /* char * */
	KT_OPT_INT,    /* gint64 within [min, max] */
	KT_OPT_BOOL,   /* gboolean */
	KT_OPT_LIST,   /* char **, comma-separated in the file */
	KT_OPT_ORDER,  /* guint[] indexed like choices, each choice's place in a comma-separated
	                * order of all of them in the file (0 = first) */
} KtOptType;

enum {
	KT_OPT_NONEMPTY = 1 << 0, /* the string, or the list, must not be empty */
};

/* Checks one string value (or one list element); sets @error saying why it is bad. */
typedef bool (*KtOptCheck)(const char *value, GError **error);

typedef struct {
	const char *group;
	const char *key;
	KtOptType type;
	size_t offset;              /* of the field in KtSettings */
	const char *def;            /* string default; list default joined by commas */
	gint64 def_int;             /* int or bool default */
	gint64 min, max;            /* int range, inclusive */
	const char *const *choices; /* NULL-terminated allowed values for strings, lists, orders */
	KtOptCheck check;           /* extra check of each non-empty string or list element */
	guint flags;
	const char *doc; /* one line, shown in the sample config */
} KtOption;

typedef struct {
	const char *name;
	const char *doc;
} KtOptionGroup;

#define KT_FIELD(s, opt, type) ((type *)((char *)(s) + (opt)->offset))
#define KT_OFF(field) offsetof(KtSettings, field)

extern const KtOptionGroup kt_config_groups[];
extern const gsize kt_config_n_groups;
extern const KtOption kt_config_options[];
extern const gsize kt_config_n_options;

/* Value checks: each sets @error saying why @value is bad, never echoing a secret. */

bool kt_config_check_listen(const char *value, GError **error);
bool kt_config_check_ip(const char *value, GError **error);
bool kt_config_check_url(const char *value, GError **error);
bool kt_config_check_secret(const char *value, GError **error);
bool kt_config_check_rung(const char *value, GError **error);
