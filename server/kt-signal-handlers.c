/* kt-signal-handlers.c — the in-lesson messages of the lesson WebSocket:
 * floor control (hands, stage, mute), ending the lesson, chat, and the media
 * messages passed to the media side (KtSignalMediaOps). Who may send each is
 * in kt-signal.c's handler table; the protocol is in PROTOCOL.md.
 * Control loop only. */
#define G_LOG_DOMAIN "kt-signal"

#include "kt-signal-private.h"

/* ------------------------------------------------------ floor and chat */

static void kt_signal_floor_changed(KtSignalCall *call)
{
	KtSignal *s = call->s;
	if (s->media_ops && s->media_ops->floor_changed)
		s->media_ops->floor_changed(s->media,
		                            kt_roster_get_lesson(call->peer->lesson->roster));
}

gboolean kt_signal_on_raise_hand(KtSignalCall *call, GError **error)
{
	if (!kt_roster_raise_hand(call->peer->lesson->roster, call->peer->id, error))
		return FALSE;
	kt_signal_event(call, "hand_raised", call->peer->id);
	kt_signal_floor_changed(call);
	return TRUE;
}

gboolean kt_signal_on_lower_hand(KtSignalCall *call, GError **error)
{
	if (!kt_roster_lower_hand(call->peer->lesson->roster, call->peer->id, error))
		return FALSE;
	kt_signal_event(call, "hand_lowered", call->peer->id);
	kt_signal_floor_changed(call);
	return TRUE;
}

gboolean kt_signal_on_stage(KtSignalCall *call, GError **error)
{
	const char *target = call->msg->participant;
	gboolean hand_lowered = FALSE;

	if (!kt_roster_stage(call->peer->lesson->roster, target, NULL, &hand_lowered, error))
		return FALSE;
	if (hand_lowered) {
		json_t *msg = kt_signal_msg_new_event("hand_lowered", target, NULL);
		kt_signal_lesson_broadcast(call->peer->lesson, msg, NULL, NULL);
		json_decref(msg);
	}
	kt_signal_event(call, "staged", target);
	kt_signal_floor_changed(call);
	return TRUE;
}

gboolean kt_signal_on_unstage(KtSignalCall *call, GError **error)
{
	const char *who = NULL;

	if (!kt_roster_unstage(call->peer->lesson->roster, &who, error))
		return FALSE;
	kt_signal_event(call, "unstaged", who);
	kt_signal_floor_changed(call);
	return TRUE;
}

static gboolean kt_signal_set_muted(KtSignalCall *call, gboolean muted, GError **error)
{
	const char *target = call->msg->participant;

	if (!kt_roster_set_muted(call->peer->lesson->roster, target, muted, error))
		return FALSE;
	kt_signal_event(call, muted ? "muted" : "unmuted", target);
	kt_signal_floor_changed(call);
	return TRUE;
}

gboolean kt_signal_on_mute(KtSignalCall *call, GError **error)
{
	return kt_signal_set_muted(call, TRUE, error);
}

gboolean kt_signal_on_unmute(KtSignalCall *call, GError **error)
{
	return kt_signal_set_muted(call, FALSE, error);
}

gboolean kt_signal_on_end_lesson(KtSignalCall *call, GError **error)
{
	KtSignal *s = call->s;
	KtSignalLesson *l = call->peer->lesson;
	const char *lesson = kt_roster_get_lesson(l->roster);
	GHashTableIter it;
	gpointer value;

	if (!kt_roster_end(l->roster, error))
		return FALSE;
	json_t *msg = kt_signal_msg_new("lesson_ended", NULL);
	kt_signal_lesson_broadcast(l, msg, call->peer, call->msg->id);
	json_decref(msg);
	g_message("lesson %s ended by its teacher", lesson);
	if (s->media_ops && s->media_ops->lesson_ended)
		s->media_ops->lesson_ended(s->media, lesson);
	/* After the queued lesson_ended; participant_left follows per socket. */
	g_hash_table_iter_init(&it, l->peers);
	while (g_hash_table_iter_next(&it, NULL, &value))
		kt_ws_conn_close(((KtSignalPeer *)value)->conn, KT_WS_CLOSE_NORMAL, "lesson ended");
	return TRUE;
}

gboolean kt_signal_on_chat(KtSignalCall *call, GError **error)
{
	const KtRosterChat *c =
	    kt_roster_add_chat(call->peer->lesson->roster, call->peer->id, call->msg->text,
	                       g_get_real_time() / 1000, error);
	if (!c)
		return FALSE;
	json_t *msg = kt_roster_chat_to_json(c);
	json_object_set_new(msg, "type", json_string("chat"));
	kt_signal_lesson_broadcast(call->peer->lesson, msg, call->peer, call->msg->id);
	json_decref(msg);
	return TRUE;
}

/* ------------------------------------------------------------------- media */

static gboolean kt_signal_no_media(GError **error)
{
	g_set_error(error, KT_SIGNAL_ERROR, KT_SIGNAL_ERROR_MEDIA_UNAVAILABLE,
	            "media is not available on this server");
	return FALSE;
}

gboolean kt_signal_on_publish_offer(KtSignalCall *call, GError **error)
{
	const KtSignalMediaOps *ops = call->s->media_ops;
	if (!ops || !ops->publish_offer)
		return kt_signal_no_media(error);
	ops->publish_offer(call->s->media, kt_roster_get_lesson(call->peer->lesson->roster),
	                   call->peer->id, call->msg->sdp, call->msg->tracks, call->msg->id);
	return TRUE;
}

gboolean kt_signal_on_subscribe_answer(KtSignalCall *call, GError **error)
{
	const KtSignalMediaOps *ops = call->s->media_ops;
	if (!ops || !ops->subscribe_answer)
		return kt_signal_no_media(error);
	ops->subscribe_answer(call->s->media, kt_roster_get_lesson(call->peer->lesson->roster),
	                      call->peer->id, call->msg->sdp, call->msg->id);
	return TRUE;
}

gboolean kt_signal_on_candidate(KtSignalCall *call, GError **error)
{
	const KtSignalMediaOps *ops = call->s->media_ops;
	if (!ops || !ops->candidate)
		return kt_signal_no_media(error);
	ops->candidate(call->s->media, kt_roster_get_lesson(call->peer->lesson->roster),
	               call->peer->id, call->msg->pc, call->msg->candidate, call->msg->sdp_mid);
	return TRUE;
}

gboolean kt_signal_on_audio(KtSignalCall *call, GError **error)
{
	const KtSignalMediaOps *ops = call->s->media_ops;
	if (!ops || !ops->audio)
		return kt_signal_no_media(error);
	ops->audio(call->s->media, kt_roster_get_lesson(call->peer->lesson->roster), call->peer->id,
	           call->msg->audio, call->msg->id);
	return TRUE;
}

gboolean kt_signal_on_view(KtSignalCall *call, GError **error)
{
	const KtSignalMediaOps *ops = call->s->media_ops;
	if (!ops || !ops->view)
		return kt_signal_no_media(error);
	ops->view(call->s->media, kt_roster_get_lesson(call->peer->lesson->roster), call->peer->id,
	          call->msg->mode, call->msg->id);
	return TRUE;
}
