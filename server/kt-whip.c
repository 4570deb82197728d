/* WHIP (RFC 9725) and WHEP endpoints: POST an offer → 201 + Location + answer
 * (non-trickle: every candidate is in the answer), DELETE the Location to end.
 * The answer waits for the peer's ICE gathering, so the HTTP response is
 * deferred until the peer reports its local description.
 *
 * WHEP has two things to watch: POST /whep/LESSON gives the room's default
 * sources (the teacher's camera and audio, forwarded as published); POST
 * /whep/LESSON/program gives the lesson program (the recorder's composite
 * and mix, kt-program-webrtc.c), whose Location is
 * /whep/LESSON/program/SESSION. */
#include "kt-server-private.h"
#include "kt-whip-private.h"

#include <string.h>

#include "kt-auth.h"
#include "kt-media-tracks.h"
#include "kt-sdp-answer.h"
#include "kt-sdp.h"
#include "kt-source-ladder.h"

typedef struct {
	KtServer *server;
	KtSessionKind kind;
	char *lesson_id;
	char *session_id;
	KtHttpRequest *pending; /* until the answer is sent */
	KtSdp *offer;
	KtSdpAnswerParams params;
	gboolean program;         /* WHEP of the lesson program */
	gboolean viewing;         /* counted as a viewer of the program */
	KtLessonProgram prog_src; /* its room sources, when program */
} WhipCtx;

/* What a path names: /PREFIX/LESSON[/program][/SESSION]. */
#define KT_WHEP_PROGRAM "program"

static const struct {
	const char *prefix;
	const char *name;
	KtRole roles[5];
} kinds[] = {
    [KT_SESSION_WHIP] = {"/whip/", "WHIP", {KT_ROLE_TEACHER, KT_ROLE_NONE}},
    [KT_SESSION_WHEP] = {"/whep/",
                         "WHEP",
                         {KT_ROLE_TEACHER, KT_ROLE_CLASSROOM, KT_ROLE_OBSERVER, KT_ROLE_NONE}},
};

#define KT_WHIP_MAX_TOMBSTONES 4096

static char *tombstone_value(KtSessionKind kind, const char *lesson_id)
{
	return g_strdup_printf("%s/%s", kinds[kind].name, lesson_id);
}

/* Bounded: past the cap the oldest memory simply goes (a late DELETE then
 * gets 404, which is still truthful). */
static void remember_closed(KtServer *server, WhipCtx *ctx)
{
	if (!ctx->session_id)
		return;
	if (g_hash_table_size(server->tombstones) >= KT_WHIP_MAX_TOMBSTONES)
		g_hash_table_remove_all(server->tombstones);
	g_hash_table_replace(server->tombstones, g_strdup(ctx->session_id),
	                     tombstone_value(ctx->kind, ctx->lesson_id));
}

static void whip_ctx_free(gpointer data)
{
	WhipCtx *ctx = data;

	remember_closed(ctx->server, ctx);
	/* No recorder: the server is shutting down, and it has finished every program. */
	if (ctx->viewing && ctx->server->recorder)
		kt_lesson_recorder_program_viewer(ctx->server->recorder, ctx->lesson_id, FALSE);
	if (ctx->pending) {
		kt_http_request_set_cancel_func(ctx->pending, NULL, NULL);
		kt_http_request_respond_error(ctx->pending, 500, "session-closed",
		                              "the session closed before it was answered");
	}
	kt_sdp_free(ctx->offer);
	g_free(ctx->lesson_id);
	g_free(ctx->session_id);
	g_free(ctx);
}

void kt_whip_path_clear(KtWhipPath *p)
{
	g_free(p->lesson);
	g_free(p->session);
}

gboolean kt_whip_split_path(const char *path, KtSessionKind kind, KtWhipPath *out)
{
	g_auto(GStrv) parts = g_strsplit(path + strlen(kinds[kind].prefix), "/", 4);
	guint n = g_strv_length(parts), next = 1;

	if (n < 1 || !kt_token_lesson_id_is_valid(parts[0]))
		return FALSE;
	out->program = kind == KT_SESSION_WHEP && n > 1 && strcmp(parts[1], KT_WHEP_PROGRAM) == 0;
	if (out->program)
		next++;
	if (n > next + 1 || (n == next + 1 && (!*parts[next] || strlen(parts[next]) > 64)))
		return FALSE;
	out->lesson = g_strdup(parts[0]);
	out->session = n == next + 1 ? g_strdup(parts[next]) : NULL;
	return TRUE;
}

static KtLesson *lesson_of(KtServer *server, const char *lesson_id)
{
	return kt_lessons_lookup(server->lessons, lesson_id);
}

static KtSession *session_by_id(KtServer *server, const char *lesson_id, const char *session_id)
{
	KtLesson *l = lesson_of(server, lesson_id);

	return l ? kt_lesson_find_session(l, session_id) : NULL;
}

/* ---- answering ---- */

/* The lesson frees it before its room closes (the input source goes with the room). */
static void ladder_free(gpointer data)
{
	kt_source_ladder_free(data);
}

/* A publisher whose video is one stream (OBS, a browser that does not
 * simulcast) publishes into an input source the lesson's ladder transcodes
 * into the teacher camera's layers ([ingest] whip_ladder), so each viewer gets
 * what its link carries; a simulcast publisher goes straight to the camera
 * source and the ladder stops. */
static void route_video(KtServer *server, KtLesson *lesson, KtRoomTrack *tracks, guint n)
{
	const KtSettings *st = server->settings;
	KtRoom *room = kt_lesson_get_room(lesson);
	KtSourceLadder *sl = kt_lesson_get_publisher_ladder(lesson);
	KtRoomTrack *video = NULL;

	for (guint i = 0; i < n && !video; i++)
		if (tracks[i].kind == KT_MEDIA_VIDEO)
			video = &tracks[i];
	if (!video || video->n_rids >= 2 || !st->ingest || !st->whip_ladder) {
		if (sl) {
			guint input = kt_source_ladder_get_input(sl);

			kt_lesson_set_publisher_ladder(lesson, NULL, NULL);
			kt_room_remove_source(room, input);
			g_message("lesson %s: the publisher's ladder stopped",
			          kt_lesson_get_id(lesson));
		}
		return;
	}
	if (!sl) {
		g_autoptr(GError) error = NULL;
		g_autofree char *label =
		    g_strdup_printf("lesson %s: the publisher", kt_lesson_get_id(lesson));
		guint input = kt_room_add_source(room, KT_MEDIA_VIDEO, NULL, NULL);

		sl = kt_source_ladder_new(room, input, 0, st, label, &error);
		if (!sl) {
			/* Forwarded as it comes: one size for everyone, but the lesson goes on. */
			g_warning("%s: no ladder: %s", label, error->message);
			kt_room_remove_source(room, input);
			return;
		}
		kt_lesson_set_publisher_ladder(lesson, sl, (GDestroyNotify)ladder_free);
		g_message("%s sends one video stream: transcoded into the ladder", label);
	}
	video->source = kt_source_ladder_get_input(sl);
}

static void on_local_ready(KtPeer *peer, const char *ufrag, const char *pwd,
                           const char *const *candidates, gpointer user_data)
{
	WhipCtx *ctx = user_data;
	KtServer *server = ctx->server;
	KtSession *session = session_by_id(server, ctx->lesson_id, ctx->session_id);
	g_autoptr(GError) error = NULL;
	g_autofree KtSdpNegotiated *neg = NULL;
	g_autofree char *answer = NULL;
	g_autofree char *location = NULL;
	KtRoomTrack tracks[4];
	guint n_neg = 0, n_tracks;
	KtLesson *lesson;
	KtHttpRequest *req = ctx->pending;

	if (!session || !req)
		return;
	lesson = kt_session_get_lesson(session);
	ctx->params.ice_ufrag = ufrag;
	ctx->params.ice_pwd = pwd;
	ctx->params.candidates = candidates;
	answer = kt_sdp_answer_build(ctx->offer, &ctx->params, &neg, &n_neg, &error);
	ctx->pending = NULL;
	kt_http_request_set_cancel_func(req, NULL, NULL);
	if (!answer) {
		kt_http_request_respond_error(req, 400, "bad-sdp", "%s", error->message);
		kt_lesson_remove_session(lesson, session, "answer failed");
		return;
	}
	n_tracks = kt_media_tracks_from_negotiated(neg, n_neg, tracks, G_N_ELEMENTS(tracks));
	for (guint i = 0; ctx->program && i < n_tracks; i++)
		tracks[i].source = ctx->prog_src.source[tracks[i].kind];
	if (ctx->program) {
		/* Before subscribing: the keyframe the room asks for then must pass the gate. */
		kt_lesson_recorder_program_viewer(server->recorder, ctx->lesson_id, TRUE);
		ctx->viewing = TRUE;
	}
	if (ctx->kind == KT_SESSION_WHIP)
		route_video(server, lesson, tracks, n_tracks);
	if (ctx->kind == KT_SESSION_WHIP)
		kt_room_add_publisher(kt_lesson_get_room(lesson), peer, tracks, n_tracks);
	else
		kt_room_add_subscriber(kt_lesson_get_room(lesson), peer, tracks, n_tracks);

	location = g_strdup_printf("%s%s/%s%s", kinds[ctx->kind].prefix, ctx->lesson_id,
	                           ctx->program ? KT_WHEP_PROGRAM "/" : "", ctx->session_id);
	kt_http_request_respond(req, 201, "application/sdp",
	                        (const char *const[]){"Location", location, NULL}, answer,
	                        strlen(answer));
	g_message("lesson %s: %s session %s answered", ctx->lesson_id, kinds[ctx->kind].name,
	          ctx->session_id);
}

static void on_peer_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer user_data)
{
	WhipCtx *ctx = user_data;
	KtSession *session = session_by_id(ctx->server, ctx->lesson_id, ctx->session_id);

	if (!session)
		return;
	if (state == KT_PEER_STATE_CONNECTED) {
		g_message("lesson %s: %s session %s connected", ctx->lesson_id,
		          kinds[ctx->kind].name, ctx->session_id);
		return;
	}
	/* FAILED or CLOSED: the session is over. */
	kt_lesson_remove_session(kt_session_get_lesson(session), session,
	                         reason ? reason : kt_peer_state_to_string(state));
}

static void on_request_cancelled(KtHttpRequest *req, gpointer user_data)
{
	WhipCtx *ctx = user_data;
	KtSession *session = session_by_id(ctx->server, ctx->lesson_id, ctx->session_id);

	ctx->pending = NULL;
	if (session)
		kt_lesson_remove_session(kt_session_get_lesson(session), session,
		                         "client went away before the answer");
}

/* ---- POST: offer ---- */

static gboolean check_content_type(KtHttpRequest *req)
{
	g_autofree char *ct = kt_http_request_get_header(req, "content-type");
	g_autofree char *base = NULL;

	if (ct) {
		char *semi = strchr(ct, ';');

		base = g_strstrip(g_strndup(ct, semi ? (gsize)(semi - ct) : strlen(ct)));
	}
	if (!base || g_ascii_strcasecmp(base, "application/sdp") != 0) {
		kt_http_request_respond_error(
		    req, 415, "unsupported-media-type",
		    "the offer must be sent as Content-Type: application/sdp");
		return FALSE;
	}
	return TRUE;
}

/* Fills the answer parameters that do not depend on ICE gathering, and
 * dry-runs the answer so a bad offer fails before any socket is opened. */
static gboolean prepare_answer(WhipCtx *ctx, gboolean *dtls_active, GError **error)
{
	KtServer *server = ctx->server;
	KtSdpAnswerParams *p = &ctx->params;
	g_autofree KtSdpNegotiated *neg = NULL;
	g_autofree char *answer = NULL;
	guint n = 0;

	memset(p, 0, sizeof(*p));
	p->mode = ctx->kind == KT_SESSION_WHIP ? KT_SDP_ANSWER_RECEIVE : KT_SDP_ANSWER_SEND;
	p->fingerprint = kt_cert_get_fingerprint(server->dtls_cert);
	p->audio_codecs = "opus";
	p->video_codecs = server->video_codecs;
	p->audio_red = server->settings->audio_red;
	/* The program's video is the recorder's H.264 (kt-program-webrtc.c): nothing else. */
	p->video_codec_required = ctx->program ? "h264" : NULL;
	p->simulcast = server->settings->simulcast;
	p->session_id = g_random_int();
	p->cname = "ketang";
	p->stream_id = ctx->lesson_id;
	p->ice_ufrag = "probe";
	p->ice_pwd = "probeprobeprobeprobeprobe";
	answer = kt_sdp_answer_build(ctx->offer, p, &neg, &n, error);
	*dtls_active = answer && n > 0 && neg[0].dtls_active;
	return answer != NULL;
}

static void fill_send_ssrcs(WhipCtx *ctx, KtRoom *room)
{
	if (ctx->kind != KT_SESSION_WHEP)
		return;
	if (ctx->program) {
		ctx->params.audio_ssrc = ctx->prog_src.ssrc[KT_MEDIA_AUDIO];
		ctx->params.video_ssrc = ctx->prog_src.ssrc[KT_MEDIA_VIDEO];
		ctx->params.video_rtx_ssrc = ctx->prog_src.video_rtx_ssrc;
		return;
	}
	ctx->params.audio_ssrc = kt_room_get_ssrc(room, KT_MEDIA_AUDIO);
	ctx->params.video_ssrc = kt_room_get_ssrc(room, KT_MEDIA_VIDEO);
	ctx->params.video_rtx_ssrc = kt_room_get_rtx_ssrc(room, KT_MEDIA_VIDEO);
}

/* The remote ICE description lives in the BUNDLE-tag m-line (RFC 8843 §7). */
static const KtSdpMedia *bundle_tag_media(const KtSdp *sdp)
{
	const char *tag = kt_sdp_get_bundle_tag(sdp);
	const KtSdpMedia *m = tag ? kt_sdp_find_media(sdp, tag) : NULL;

	return m ? m : kt_sdp_get_media(sdp, 0);
}

static KtPeer *start_peer(WhipCtx *ctx, gboolean dtls_active, KtLesson *lesson, GError **error)
{
	KtServer *server = ctx->server;
	const KtSettings *st = server->settings;
	const KtSdpMedia *m = bundle_tag_media(ctx->offer);
	g_autoptr(GPtrArray) cands = g_ptr_array_new();
	g_autofree char *stun_host = NULL;
	guint16 stun_port = 0;
	KtPeerConfig cfg = {
	    .worker = kt_room_get_worker(kt_lesson_get_room(lesson)),
	    .cert = server->dtls_cert,
	    .local_addresses = (const char *const *)st->ice_addresses,
	    .port_min = st->ice_port_min,
	    .port_max = st->ice_port_max,
	    .ice_tcp = st->ice_tcp,
	    .gate = server->peer_gate,
	    .consent_timeout_s = (guint)st->consent_timeout,
	    .controlling = FALSE,
	    .dtls_role = dtls_active ? KT_DTLS_ROLE_CLIENT : KT_DTLS_ROLE_SERVER,
	    .remote_ufrag = m->ice_ufrag,
	    .remote_pwd = m->ice_pwd,
	    .remote_fingerprint = m->fingerprint,
	};
	static const KtPeerEvents events = {
	    .local_ready = on_local_ready,
	    .state_changed = on_peer_state,
	};

	for (guint i = 0; m->candidates && i < m->candidates->len; i++)
		g_ptr_array_add(cands, g_ptr_array_index(m->candidates, i));
	g_ptr_array_add(cands, NULL);
	cfg.remote_candidates = (const char *const *)cands->pdata;
	if (st->stun_server && *st->stun_server &&
	    kt_settings_parse_listen(st->stun_server, &stun_host, &stun_port, NULL)) {
		cfg.stun_host = stun_host;
		cfg.stun_port = stun_port;
	}
	return kt_peer_new(&cfg, &events, ctx, error);
}

/* 409 or replace, per [lesson] teacher_publish_policy. */
static gboolean resolve_publisher_conflict(KtServer *server, KtHttpRequest *req, KtLesson *lesson,
                                           KtSession **replaced)
{
	KtSession *current = lesson ? kt_lesson_get_publisher(lesson) : NULL;

	*replaced = NULL;
	if (!current)
		return TRUE;
	if (g_strcmp0(server->settings->teacher_publish_policy, "replace") == 0) {
		*replaced = current;
		return TRUE;
	}
	kt_http_request_respond_error(req, 409, "already-publishing",
	                              "lesson %s already has a teacher publisher; DELETE that "
	                              "session first",
	                              kt_lesson_get_id(lesson));
	return FALSE;
}

/* The program's sources, or 404: the program runs only while the lesson is live and
 * recorded or broadcast (kt-lesson-recorder.c), and a viewer never starts a lesson. */
static gboolean find_program(KtServer *server, KtHttpRequest *req, const char *lesson_id,
                             KtLessonProgram *out)
{
	if (kt_lessons_lookup(server->lessons, lesson_id) &&
	    kt_lesson_recorder_get_program(server->recorder, lesson_id, out))
		return TRUE;
	kt_http_request_respond_error(req, 404, "no-program",
	                              "lesson %s has no program now: it is not live, or it is "
	                              "neither recorded nor broadcast",
	                              lesson_id);
	return FALSE;
}

static void handle_offer(KtServer *server, KtHttpRequest *req, KtSessionKind kind,
                         const char *lesson_id, gboolean program)
{
	KtLessonProgram prog_src = {0};
	KtTokenClaims claims;
	gsize body_len = 0;
	const guint8 *body;
	g_autoptr(GError) error = NULL;
	WhipCtx *ctx;
	KtLesson *lesson;
	KtSession *session, *replaced = NULL;
	KtPeer *peer;
	gboolean dtls_active = FALSE;

	if (!check_content_type(req) ||
	    !kt_auth_check_bearer(req, server->secret, server->secret_len, &claims) ||
	    !kt_auth_check_lesson(req, &claims, lesson_id, kinds[kind].roles) ||
	    (program && !find_program(server, req, lesson_id, &prog_src)))
		return;
	body = kt_http_request_get_body(req, &body_len);
	ctx = g_new0(WhipCtx, 1);
	ctx->server = server;
	ctx->kind = kind;
	ctx->program = program;
	ctx->prog_src = prog_src;
	ctx->lesson_id = g_strdup(lesson_id);
	ctx->offer = kt_sdp_parse((const char *)body, body_len, &error);
	lesson = kt_lessons_lookup(server->lessons, lesson_id);
	if (!ctx->offer || !prepare_answer(ctx, &dtls_active, &error)) {
		kt_http_request_respond_error(req, 400, "bad-sdp", "%s", error->message);
		whip_ctx_free(ctx);
		return;
	}
	if (kind == KT_SESSION_WHIP &&
	    !resolve_publisher_conflict(server, req, lesson, &replaced)) {
		whip_ctx_free(ctx);
		return;
	}
	lesson = kt_lessons_get_or_create(server->lessons, lesson_id, &error);
	peer = lesson ? start_peer(ctx, dtls_active, lesson, &error) : NULL;
	session = peer ? kt_lesson_add_session(lesson, kind, peer, &error) : NULL;
	if (!session && g_error_matches(error, KT_PEER_ERROR, KT_PEER_ERROR_BUSY)) {
		static const char *const retry[] = {"Retry-After", "2", NULL};
		kt_http_request_respond_error_full(req, 503, retry, "busy", error->message);
	} else if (!session) {
		kt_http_request_respond_error(req, 503, "unavailable", "%s", error->message);
	}
	if (!session) {
		if (peer) {
			kt_peer_close(peer);
			kt_peer_unref(peer);
		}
		if (lesson && !kt_lesson_get_publisher(lesson) &&
		    !kt_lesson_count_subscribers(lesson))
			kt_lessons_remove_if_empty(server->lessons, lesson);
		whip_ctx_free(ctx);
		return;
	}
	kt_peer_unref(peer); /* the session holds it */
	if (replaced)
		kt_lesson_remove_session(lesson, replaced, "replaced by a new teacher publisher");
	fill_send_ssrcs(ctx, kt_lesson_get_room(lesson));
	ctx->session_id = g_strdup(kt_session_get_id(session));
	ctx->pending = req;
	kt_session_set_data(session, ctx, whip_ctx_free);
	kt_http_request_set_cancel_func(req, on_request_cancelled, ctx);
}

/* ---- DELETE: end a session ---- */

static void handle_delete(KtServer *server, KtHttpRequest *req, KtSessionKind kind,
                          const char *lesson_id, const char *session_id)
{
	KtTokenClaims claims;
	KtSession *session;

	if (!kt_auth_check_bearer(req, server->secret, server->secret_len, &claims) ||
	    !kt_auth_check_lesson(req, &claims, lesson_id, kinds[kind].roles))
		return;
	session = session_by_id(server, lesson_id, session_id);
	if (!session) {
		g_autofree char *want = tombstone_value(kind, lesson_id);

		if (g_strcmp0(g_hash_table_lookup(server->tombstones, session_id), want) == 0) {
			/* Already over (the browser closed first): DELETE is idempotent. */
			kt_http_request_respond(req, 200, NULL, NULL, NULL, 0);
			return;
		}
	}
	if (!session || kt_session_get_kind(session) != kind) {
		kt_http_request_respond_error(req, 404, "no-such-session",
		                              "no %s session %s in lesson %s", kinds[kind].name,
		                              session_id, lesson_id);
		return;
	}
	kt_lesson_remove_session(kt_session_get_lesson(session), session, "DELETE");
	kt_http_request_respond(req, 200, NULL, NULL, NULL, 0);
}

static void handle(KtHttpRequest *req, KtServer *server, KtSessionKind kind)
{
	g_auto(KtWhipPath) path = {0};
	KtHttpMethod method = kt_http_request_get_method(req);

	if (!kt_whip_split_path(kt_http_request_get_path(req), kind, &path)) {
		kt_http_request_respond_error(
		    req, 404, "not-found", "expected %sLESSON or %sLESSON/SESSION%s",
		    kinds[kind].prefix, kinds[kind].prefix,
		    kind == KT_SESSION_WHEP ? " (or LESSON/program[/SESSION])" : "");
		return;
	}
	if (method == KT_HTTP_POST && !path.session) {
		handle_offer(server, req, kind, path.lesson, path.program);
	} else if (method == KT_HTTP_DELETE && path.session) {
		handle_delete(server, req, kind, path.lesson, path.session);
	} else if (method == KT_HTTP_PATCH && path.session) {
		/* RFC 9725 §4.3.1: trickle and ICE restart are optional. */
		kt_http_request_respond_error(req, 405, "method-not-allowed",
		                              "trickle ICE is not supported; send complete offers");
	} else {
		kt_http_request_respond_error(req, 405, "method-not-allowed",
		                              "POST %sLESSON to start, DELETE its Location to stop",
		                              kinds[kind].prefix);
	}
}

void kt_whip_handle(KtHttpRequest *req, gpointer user_data)
{
	handle(req, user_data, KT_SESSION_WHIP);
}

void kt_whep_handle(KtHttpRequest *req, gpointer user_data)
{
	handle(req, user_data, KT_SESSION_WHEP);
}
