/* The role table: one row per role, indexed by KtRole. */
#include "kt-role.h"

#include <string.h>

typedef struct {
	const char *name;
	gboolean needs_lesson;
} KtRoleInfo;

static const KtRoleInfo kt_role_table[] = {
    [KT_ROLE_NONE] = {"none", FALSE},           [KT_ROLE_TEACHER] = {"teacher", TRUE},
    [KT_ROLE_CLASSROOM] = {"classroom", TRUE},  [KT_ROLE_OBSERVER] = {"observer", TRUE},
    [KT_ROLE_ARCHIVIST] = {"archivist", FALSE}, [KT_ROLE_ADMIN] = {"admin", FALSE},
};

static const KtRoleInfo *kt_role_info(KtRole r)
{
	if ((guint)r >= G_N_ELEMENTS(kt_role_table))
		return &kt_role_table[KT_ROLE_NONE];
	return &kt_role_table[r];
}

KtRole kt_role_from_string(const char *s)
{
	if (s == NULL)
		return KT_ROLE_NONE;
	/* Start after KT_ROLE_NONE: "none" is not a role anyone can hold. */
	for (guint i = KT_ROLE_NONE + 1; i < G_N_ELEMENTS(kt_role_table); i++) {
		if (strcmp(s, kt_role_table[i].name) == 0)
			return (KtRole)i;
	}
	return KT_ROLE_NONE;
}

const char *kt_role_to_string(KtRole r)
{
	return kt_role_info(r)->name;
}

gboolean kt_role_needs_lesson(KtRole r)
{
	return kt_role_info(r)->needs_lesson;
}
