/* The WHIP/WHEP resource path parser, exposed for its fuzz target (tests/fuzz/fuzz-http.c);
 * not for other modules.
 * Threads: any (pure). */
#pragma once

#include <glib.h>

#include "kt-lesson.h"

typedef struct {
	char *lesson;
	gboolean program;
	char *session; /* NULL: none */
} KtWhipPath;

/* Splits the request path (untrusted after its prefix, which the route guarantees:
 * "/whip/" or "/whep/" by @kind) of "/whip/LESSON[/SESSION]" or
 * "/whep/LESSON[/program][/SESSION]" into @out (cleared with kt_whip_path_clear). FALSE,
 * with @out untouched, when the shape is wrong. Session ids are UUIDs, so "program" is
 * never one. */
gboolean kt_whip_split_path(const char *path, KtSessionKind kind, KtWhipPath *out);
void kt_whip_path_clear(KtWhipPath *p);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(KtWhipPath, kt_whip_path_clear)
