/* GET /live/{lesson}/index.m3u8 and /live/{lesson}/segmentNNNNN.ts: the lesson's HLS
 * broadcast (written by the program recorder into DATA/live/{lesson} while the lesson is
 * live; kt-lesson-recorder.c).
 *
 * Players cannot set an Authorization header, so the token comes as ?token= on the
 * playlist. The playlist is rewritten on the way out so that every segment URL carries the
 * same ?token=: the player fetches segments with it, and a segment is checked like the
 * playlist. Any role of the lesson may watch (as over WHEP). With [broadcast] public, or a
 * lesson scheduled with "broadcast_public": true, no token is needed.
 *
 * Control loop only, like every handler. */
#include "kt-server-private.h"

#include <string.h>

#include "kt-auth.h"
#include "kt-live-private.h"

#define KT_LIVE_PREFIX "/live/"
#define KT_LIVE_PLAYLIST "index.m3u8"
/* hlssink2's names: "segment" + 5 digits (more once past 99999) + ".ts". */
#define KT_LIVE_SEGMENT_MAX_DIGITS 9
/* A playlist of 30 segments is about 1.5 kB; anything far larger is not ours. */
#define KT_LIVE_PLAYLIST_MAX (64 * 1024)

static const KtRole kt_live_roles[] = {KT_ROLE_TEACHER, KT_ROLE_CLASSROOM, KT_ROLE_OBSERVER,
                                       KT_ROLE_NONE};

gboolean kt_live_is_segment_name(const char *name)
{
	const char *digits = name + strlen("segment");
	gsize n = 0;

	if (!g_str_has_prefix(name, "segment"))
		return FALSE;
	while (g_ascii_isdigit(digits[n]))
		n++;
	return n > 0 && n <= KT_LIVE_SEGMENT_MAX_DIGITS && strcmp(digits + n, ".ts") == 0;
}

/* The broadcast is public, by config or by its lesson. */
static gboolean is_public(KtServer *server, const char *lesson)
{
	g_autoptr(KtLessonInfo) info = NULL;

	if (server->settings->hls_public)
		return TRUE;
	info =
	    server->lesson_store ? kt_lesson_store_get(server->lesson_store, lesson, NULL) : NULL;
	return info && info->broadcast_public;
}

/* Whether @token lets its holder watch @lesson (no answer sent). */
static gboolean token_admits(KtServer *server, const char *lesson, const char *token)
{
	KtTokenClaims claims;

	if (!token ||
	    !kt_token_verify(server->secret, server->secret_len, token,
	                     g_get_real_time() / G_USEC_PER_SEC, &claims, NULL) ||
	    strcmp(claims.lesson, lesson) != 0)
		return FALSE;
	for (const KtRole *r = kt_live_roles; *r != KT_ROLE_NONE; r++)
		if (*r == claims.role)
			return TRUE;
	return FALSE;
}

/* 401/403 unless @token is a token of @lesson with a watching role; public broadcasts pass.
 * A good token is checked first: viewers of a lesson that is not public send one with every
 * playlist and segment request, and it needs no catalog lookup. */
static gboolean check_access(KtHttpRequest *req, KtServer *server, const char *lesson,
                             const char *token)
{
	KtTokenClaims claims;

	if (token_admits(server, lesson, token) || is_public(server, lesson))
		return TRUE;
	if (!token) {
		kt_http_request_respond_error(
		    req, 401, "unauthorized",
		    "this broadcast needs ?token= (a token of the lesson)");
		return FALSE;
	}
	/* Refused: the same checks again, now answering with the reason. */
	return kt_auth_check_token(req, server->secret, server->secret_len, token, &claims) &&
	       kt_auth_check_lesson(req, &claims, lesson, kt_live_roles);
}

/* The playlist with ?token= on every URI line (the lines not starting with '#'). */
static GString *rewrite_playlist(const char *text, const char *token)
{
	g_autofree char *escaped = token ? g_uri_escape_string(token, NULL, FALSE) : NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_sized_new(strlen(text) + 256);

	for (guint i = 0; lines[i]; i++) {
		const char *line = lines[i];

		if (!*line && !lines[i + 1])
			break; /* the final newline */
		g_string_append(out, line);
		if (escaped && *line && *line != '#')
			g_string_append_printf(out, "?token=%s", escaped);
		g_string_append_c(out, '\n');
	}
	return out;
}

static void serve_playlist(KtHttpRequest *req, const char *path, const char *token)
{
	static const char *const headers[] = {"Cache-Control", "no-cache", NULL};
	g_autofree char *text = NULL;
	gsize len = 0;
	g_autoptr(GString) out = NULL;

	if (!g_file_get_contents(path, &text, &len, NULL) || len > KT_LIVE_PLAYLIST_MAX ||
	    !g_str_has_prefix(text, "#EXTM3U")) {
		kt_http_request_respond_error(req, 404, "not_broadcasting",
		                              "this lesson is not being broadcast now");
		return;
	}
	out = rewrite_playlist(text, token);
	kt_http_request_respond(req, 200, "application/vnd.apple.mpegurl", headers, out->str,
	                        out->len);
}

void kt_live_handle(KtHttpRequest *req, gpointer user_data)
{
	/* A segment never changes once listed; it lives a few segments longer than that. */
	static const char *const segment_headers[] = {"Cache-Control", "private, max-age=60", NULL};
	KtServer *server = user_data;
	const char *path = kt_http_request_get_path(req);
	g_auto(GStrv) parts = g_strsplit(path + strlen(KT_LIVE_PREFIX), "/", 3);
	g_autofree char *token = kt_http_request_get_query(req, "token");
	g_autofree char *file = NULL;
	const char *lesson, *name;

	if (g_strv_length(parts) != 2 || !kt_token_lesson_id_is_valid(parts[0]) ||
	    !(strcmp(parts[1], KT_LIVE_PLAYLIST) == 0 || kt_live_is_segment_name(parts[1]))) {
		kt_http_request_respond_error(
		    req, 404, "not_found", "expected /live/LESSON/index.m3u8 or a segment of it");
		return;
	}
	lesson = parts[0];
	name = parts[1];
	if (!check_access(req, server, lesson, token))
		return;
	file = g_build_filename(server->settings->data_dir, "live", lesson, name, NULL);
	if (strcmp(name, KT_LIVE_PLAYLIST) == 0)
		serve_playlist(req, file, token);
	else
		kt_http_request_respond_file(req, file, "video/mp2t", segment_headers);
}
