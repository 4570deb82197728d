/* Glue between the lesson WebSocket, the lesson media and the catalog. */
#include "kt-lesson-ws.h"

#include "kt-roster.h"
#include "kt-signal-msg.h"

struct _KtLessonWs {
	KtSignal *signal;
	KtLessonStore *store;
	KtLessonRecorder *recorder;
	KtLessonMedia *media;
};

static const char *const error_codes[] = {
    [KT_LESSON_MEDIA_ERROR_BAD_MESSAGE] = "bad-message",
    [KT_LESSON_MEDIA_ERROR_BAD_SDP] = "bad-sdp",
    [KT_LESSON_MEDIA_ERROR_WRONG_ROLE] = "wrong-role",
    [KT_LESSON_MEDIA_ERROR_WRONG_STATE] = "wrong-state",
    [KT_LESSON_MEDIA_ERROR_UNAVAILABLE] = "unavailable",
};

/* One error reply per failed request, named by the media error. */
static void reply_error(KtLessonWs *ws, const char *lesson, const char *participant,
                        json_t *request_id, const GError *error)
{
	const char *code = "unavailable";

	if (error->domain == KT_LESSON_MEDIA_ERROR &&
	    (guint)error->code < G_N_ELEMENTS(error_codes))
		code = error_codes[error->code];
	else if (g_error_matches(error, KT_PEER_ERROR, KT_PEER_ERROR_BUSY))
		code = "busy"; /* [limits] dtls_handshakes: retry in a few seconds */
	kt_signal_send_error(ws->signal, lesson, participant, request_id, code, "%s",
	                     error->message);
}

static void send_to(const char *lesson, const char *participant, json_t *msg, gpointer data)
{
	KtLessonWs *ws = data;

	kt_signal_send(ws->signal, lesson, participant, msg);
}

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static void on_joined(gpointer data, const char *lesson, const KtRosterEntry *p)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;

	if (!kt_lesson_media_join(ws->media, lesson, p->id, p->name, p->role, &error))
		g_message("lesson %s: no media for %s: %s", lesson, p->id, error->message);
	if (ws->store &&
	    !kt_lesson_store_attendance_join(ws->store, lesson, p->id, kt_role_to_string(p->role),
	                                     p->name, now_s(), &error))
		g_message("lesson %s: attendance of %s not recorded: %s", lesson, p->id,
		          error ? error->message : "?");
}

static void on_left(gpointer data, const char *lesson, const char *participant)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;
	KtLinkQuality q = {-1, -1, -1};
	json_t *all = kt_lesson_media_quality(ws->media, lesson);
	gsize i;
	json_t *row;

	/* The last quality we saw goes into the attendance record. */
	json_array_foreach(all, i, row)
	{
		if (g_strcmp0(json_string_value(json_object_get(row, "id")), participant) == 0) {
			q.bitrate_kbps = json_integer_value(json_object_get(row, "bitrate_kbps"));
			q.loss_pct = json_real_value(json_object_get(row, "loss_pct"));
			q.rtt_ms = json_integer_value(json_object_get(row, "rtt_ms"));
		}
	}
	json_decref(all);
	kt_lesson_media_leave(ws->media, lesson, participant);
	if (ws->store &&
	    !kt_lesson_store_attendance_leave(ws->store, lesson, participant, now_s(), &q, &error))
		g_message("lesson %s: leave of %s not recorded: %s", lesson, participant,
		          error->message);
}

static void on_floor(gpointer data, const char *lesson)
{
	KtLessonWs *ws = data;
	const KtRoster *r = kt_signal_get_roster(ws->signal, lesson);

	if (!r)
		return;
	for (guint i = 0; i < kt_roster_size(r); i++) {
		const KtRosterEntry *e = kt_roster_nth(r, i);

		kt_lesson_media_set_muted(ws->media, lesson, e->id, e->muted);
		kt_lesson_media_set_hand(ws->media, lesson, e->id, e->hand);
	}
	kt_lesson_media_set_stage(ws->media, lesson, kt_roster_get_stage(r));
	if (ws->recorder) {
		const char *stage = kt_roster_get_stage(r);
		const KtRosterEntry *e = stage ? kt_roster_get(r, stage) : NULL;

		kt_lesson_recorder_stage(ws->recorder, lesson, stage, e ? e->name : NULL);
	}
}

static void on_source_changed(const KtLessonMediaSource *source, gpointer data)
{
	KtLessonWs *ws = data;

	if (ws->recorder)
		kt_lesson_recorder_source(ws->recorder, source);
}

static void on_publish_offer(gpointer data, const char *lesson, const char *participant,
                             const char *sdp, json_t *tracks, json_t *request_id)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;

	if (!kt_lesson_media_publish_offer(ws->media, lesson, participant, sdp, tracks, request_id,
	                                   &error))
		reply_error(ws, lesson, participant, request_id, error);
}

static void on_subscribe_answer(gpointer data, const char *lesson, const char *participant,
                                const char *sdp, json_t *request_id)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;

	if (!kt_lesson_media_subscribe_answer(ws->media, lesson, participant, sdp, &error)) {
		reply_error(ws, lesson, participant, request_id, error);
	} else if (request_id) {
		json_t *ok = kt_signal_msg_new("ok", request_id);

		kt_signal_send(ws->signal, lesson, participant, ok);
		json_decref(ok);
	}
}

static void on_candidate(gpointer data, const char *lesson, const char *participant, const char *pc,
                         const char *candidate, const char *mid)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;

	if (!kt_lesson_media_candidate(ws->media, lesson, participant, pc, candidate, &error))
		reply_error(ws, lesson, participant, NULL, error);
}

static void on_audio(gpointer data, const char *lesson, const char *participant, const char *mode,
                     json_t *request_id)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;

	if (!kt_lesson_media_set_audio(ws->media, lesson, participant, mode, &error)) {
		reply_error(ws, lesson, participant, request_id, error);
	} else if (request_id) {
		json_t *ok = kt_signal_msg_new("ok", request_id);

		kt_signal_send(ws->signal, lesson, participant, ok);
		json_decref(ok);
	}
}

static void on_view(gpointer data, const char *lesson, const char *participant, const char *mode,
                    json_t *request_id)
{
	KtLessonWs *ws = data;
	g_autoptr(GError) error = NULL;
	json_t *ok;

	if (!kt_lesson_media_view(ws->media, lesson, participant, mode, &error)) {
		reply_error(ws, lesson, participant, request_id, error);
		return;
	}
	ok = kt_signal_msg_new("ok", request_id);
	kt_signal_send(ws->signal, lesson, participant, ok);
	json_decref(ok);
}

static char *on_lesson_title(gpointer data, const char *lesson)
{
	KtLessonWs *ws = data;
	KtLessonInfo *info = ws->store ? kt_lesson_store_get(ws->store, lesson, NULL) : NULL;
	char *title = info ? g_strdup(info->title) : NULL;

	if (info)
		kt_lesson_info_free(info);
	return title;
}

static void on_lesson_ended(gpointer data, const char *lesson)
{
	KtLessonWs *ws = data;

	kt_lesson_media_end(ws->media, lesson);
}

static KtLessonFeedInfo **on_feeds_for(const char *lesson, gpointer data)
{
	KtLessonWs *ws = data;
	g_autoptr(KtLessonInfo) info =
	    ws->store ? kt_lesson_store_get(ws->store, lesson, NULL) : NULL;

	return info ? g_steal_pointer(&info->feeds) : NULL;
}

static const KtSignalMediaOps ops = {
    .participant_joined = on_joined,
    .participant_left = on_left,
    .floor_changed = on_floor,
    .publish_offer = on_publish_offer,
    .subscribe_answer = on_subscribe_answer,
    .candidate = on_candidate,
    .audio = on_audio,
    .view = on_view,
    .lesson_title = on_lesson_title,
    .lesson_ended = on_lesson_ended,
};

KtLessonWs *kt_lesson_ws_new(KtSignal *signal, KtLessonStore *store, KtLessonRecorder *recorder,
                             const KtLessonMediaConfig *media_config)
{
	KtLessonWs *ws = g_new0(KtLessonWs, 1);
	KtLessonMediaConfig mc = *media_config;

	ws->signal = signal;
	ws->store = store;
	ws->recorder = recorder;
	mc.send = send_to;
	mc.source_changed = on_source_changed;
	mc.feeds_for = on_feeds_for;
	mc.user_data = ws;
	ws->media = kt_lesson_media_new(&mc);
	kt_signal_set_media(signal, &ops, ws);
	return ws;
}

void kt_lesson_ws_free(KtLessonWs *ws)
{
	if (!ws)
		return;
	kt_lesson_media_free(ws->media);
	g_free(ws);
}
