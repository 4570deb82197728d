/* Roles an endpoint can hold; a role is carried by a signed token (kt-token.h).
 *
 * Ownership: strings returned here are static; never free them.
 * Threads: every function is pure and may be called from any thread. */
#pragma once

#include <glib.h>

typedef enum {
	KT_ROLE_NONE,      /* not a role: the result of parsing an unknown name */
	KT_ROLE_TEACHER,   /* the lesson's main teacher: publishes, controls the floor */
	KT_ROLE_CLASSROOM, /* a remote classroom: publishes its room, receives the lesson */
	KT_ROLE_OBSERVER,  /* watches a lesson, publishes nothing */
	KT_ROLE_ARCHIVIST, /* reads the recording archive; not tied to a lesson */
	KT_ROLE_ADMIN,     /* creates lessons, deletes recordings; not tied to a lesson */
} KtRole;

/* The role named by @s ("teacher", "classroom", ...), or KT_ROLE_NONE if @s is NULL or
 * names no role. Matching is exact (case-sensitive): names travel inside signed tokens. */
KtRole kt_role_from_string(const char *s);

/* The wire name of @r; "none" for KT_ROLE_NONE or an out-of-range value. */
const char *kt_role_to_string(KtRole r);

/* TRUE if a token for @r must name a lesson (teacher, classroom, observer). */
gboolean kt_role_needs_lesson(KtRole r);
