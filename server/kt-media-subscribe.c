/* A participant's subscribe connection: Ketang offers the streams the
 * participant should receive (one m-line each, mids stable for the life of
 * the connection; a stream that goes away leaves its m-line inactive, to be
 * reused by the next stream of its kind), the page answers. Whenever the set
 * changes Ketang offers again; one offer is out at a time. */
#include "kt-lesson-media-private.h"

#include <string.h>

#include "kt-sdp-offer.h"

static void send_offer(MediaLesson *l, Participant *p);

/* Audio lines offer RED (RFC 2198) too, per [media] audio_red: the room then
 * forwards a RED publisher's packets as they are. */
static gboolean audio_red(const MediaLesson *l, const SubSlot *s)
{
	return s->kind == KT_MEDIA_AUDIO && l->media->config.settings &&
	       l->media->config.settings->audio_red;
}

static gboolean same_stream(const SubSlot *a, const SubSlot *b)
{
	return a->source == b->source;
}

/* Diff @wanted against the current slots; TRUE if anything changed. */
static gboolean apply_wanted(Participant *p, GPtrArray *wanted)
{
	gboolean changed = FALSE;

	for (guint i = 0; i < p->slots->len; i++) {
		SubSlot *s = &g_array_index(p->slots, SubSlot, i);
		gboolean keep = FALSE;

		for (guint j = 0; j < wanted->len && !keep; j++)
			keep = s->active && same_stream(s, g_ptr_array_index(wanted, j));
		if (s->active && !keep) {
			s->active = FALSE;
			changed = TRUE;
		}
	}
	for (guint j = 0; j < wanted->len; j++) {
		SubSlot *w = g_ptr_array_index(wanted, j);
		SubSlot *slot = NULL;

		for (guint i = 0; i < p->slots->len && !slot; i++) {
			SubSlot *s = &g_array_index(p->slots, SubSlot, i);

			if (s->active && same_stream(s, w))
				slot = s;
		}
		if (slot && strcmp(slot->from, w->from) != 0) {
			/* A kept source now published by someone else (a classroom that
			 * rejoined): same m-line, new label, so the page shows it under
			 * the participant that sends it. */
			g_strlcpy(slot->from, w->from, sizeof(slot->from));
			changed = TRUE;
		}
		if (slot)
			continue;
		/* Reuse an idle m-line of the same kind that is no longer subscribed. */
		for (guint i = 0; i < p->slots->len && !slot; i++) {
			SubSlot *s = &g_array_index(p->slots, SubSlot, i);

			if (!s->active && !s->subscribed && !s->rejected && s->kind == w->kind)
				slot = s;
		}
		if (!slot) {
			SubSlot fresh = {0};

			g_snprintf(fresh.mid, sizeof(fresh.mid), "%u", p->next_mid++);
			g_array_append_val(p->slots, fresh);
			slot = &g_array_index(p->slots, SubSlot, p->slots->len - 1);
		}
		{
			char mid[8];

			memcpy(mid, slot->mid, sizeof(mid));
			*slot = *w;
			memcpy(slot->mid, mid, sizeof(mid));
			slot->subscribed = FALSE;
		}
		changed = TRUE;
	}
	return changed;
}

static void on_local_ready(KtPeer *peer, const char *ufrag, const char *pwd,
                           const char *const *candidates, gpointer user_data)
{
	Participant *p = user_data;

	p->sub_ufrag = g_strdup(ufrag);
	p->sub_pwd = g_strdup(pwd);
	p->sub_candidates = g_strdupv((char **)candidates);
	p->sub_ready = TRUE;
	send_offer(p->lesson, p);
}

static void on_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer user_data)
{
	Participant *p = user_data;

	if (state == KT_PEER_STATE_FAILED || state == KT_PEER_STATE_CLOSED)
		g_message("lesson %s: %s's subscribe connection %s (%s)", p->lesson->id, p->id,
		          kt_peer_state_to_string(state), reason ? reason : "-");
}

static gboolean start_peer(MediaLesson *l, Participant *p)
{
	static const KtPeerEvents events = {on_local_ready, on_state};
	KtPeerConfig cfg = kt_lesson_media_peer_config(l->media, l);
	g_autoptr(GError) error = NULL;

	/* Ketang offers, so it controls ICE (RFC 8445 §6.1.1); the DTLS role
	 * comes with the answer (we offer actpass). */
	cfg.controlling = TRUE;
	/* Ketang's own offer to a participant it already let in: not gated
	 * (dtls_handshakes bounds what clients start). */
	cfg.gate = NULL;
	p->sub_peer = kt_peer_new(&cfg, &events, p, &error);
	if (!p->sub_peer)
		g_warning("lesson %s: no subscribe connection for %s: %s", l->id, p->id,
		          error->message);
	return p->sub_peer != NULL;
}

static void send_offer(MediaLesson *l, Participant *p)
{
	g_autofree KtSdpOfferStream *streams = g_new0(KtSdpOfferStream, MAX(p->slots->len, 1));
	KtSdpOfferParams params = {
	    .ice_ufrag = p->sub_ufrag,
	    .ice_pwd = p->sub_pwd,
	    .fingerprint = kt_cert_get_fingerprint(l->media->config.dtls_cert),
	    .candidates = (const char *const *)p->sub_candidates,
	    .video_codecs = l->media->config.video_codecs,
	    .cname = "ketang",
	    .session_id = p->session_id,
	    .version = ++p->sub_version,
	};
	g_autoptr(GError) error = NULL;
	g_autofree char *sdp = NULL;
	json_t *list = json_array();

	for (guint i = 0; i < p->slots->len; i++) {
		SubSlot *s = &g_array_index(p->slots, SubSlot, i);
		KtSdpOfferStream *o = &streams[i];

		o->kind = s->kind == KT_MEDIA_AUDIO ? KT_SDP_MEDIA_AUDIO : KT_SDP_MEDIA_VIDEO;
		g_strlcpy(o->mid, s->mid, sizeof(o->mid));
		o->active = s->active;
		o->rejected = s->rejected;
		o->red = audio_red(l, s);
		o->ssrc = s->ssrc;
		o->rtx_ssrc = s->kind == KT_MEDIA_VIDEO ? s->rtx_ssrc : 0;
		/* Server-made streams (the wall) have no participant. */
		g_strlcpy(o->stream_id, s->from[0] ? s->from : "ketang", sizeof(o->stream_id));
		g_snprintf(o->track_id, sizeof(o->track_id), "%s-%s", o->stream_id,
		           kt_source_name_to_string(s->name));
		if (s->active)
			json_array_append_new(
			    list, json_pack("{s:s, s:o, s:s}", "mid", s->mid, "participant",
			                    s->from[0] ? json_string(s->from) : json_null(),
			                    "source", kt_source_name_to_string(s->name)));
	}
	sdp = kt_sdp_offer_build(&params, streams, p->slots->len, &error);
	if (!sdp) {
		g_warning("lesson %s: cannot offer to %s: %s", l->id, p->id, error->message);
		json_decref(list);
		return;
	}
	g_free(p->offered);
	p->offered = g_steal_pointer(&streams);
	p->n_offered = p->slots->len;
	p->offer_pending = TRUE;
	p->dirty = FALSE;
	kt_lesson_media_send(
	    l, p,
	    json_pack("{s:s, s:s, s:o}", "type", "subscribe_offer", "sdp", sdp, "streams", list));
}

void kt_media_subscribe_update(MediaLesson *l, Participant *p, GPtrArray *wanted)
{
	if (!apply_wanted(p, wanted))
		return;
	if (!p->sub_peer) {
		if (wanted->len > 0)
			start_peer(l, p); /* the offer follows when gathering is done */
		return;
	}
	if (!p->sub_ready || p->offer_pending)
		p->dirty = TRUE; /* offered again when the answer arrives */
	else
		send_offer(l, p);
}

/* The answer's view of each slot → room subscriptions. */
static void apply_answer(MediaLesson *l, Participant *p, const KtSdpOfferResult *r)
{
	KtRoom *room = kt_lesson_get_room(l->live);

	for (guint i = 0; i < p->slots->len; i++) {
		SubSlot *s = &g_array_index(p->slots, SubSlot, i);
		const KtSdpAnswerStream *a = NULL;
		KtRoomTrack t = {0};

		for (guint j = 0; j < r->n_streams && !a; j++)
			if (strcmp(r->streams[j].mid, s->mid) == 0)
				a = &r->streams[j];
		if (a && a->rejected)
			s->rejected = TRUE;
		if (!s->active || !a || !a->accepted) {
			if (s->subscribed)
				kt_room_unsubscribe(room, p->sub_peer, s->source);
			s->subscribed = FALSE;
			continue;
		}
		t.source = s->source;
		t.kind = s->kind;
		t.codec = s->kind == KT_MEDIA_AUDIO ? KT_CODEC_OPUS : KT_CODEC_VP8;
		t.pt_for[KT_CODEC_OPUS] = a->pt_opus;
		t.pt_for[KT_CODEC_RED] = a->pt_red;
		t.pt_for[KT_CODEC_VP8] = a->pt_for_vp8;
		t.rtx_pt_for[KT_CODEC_VP8] = a->rtx_for_vp8;
		t.pt_for[KT_CODEC_H264] = a->pt_for_h264;
		t.rtx_pt_for[KT_CODEC_H264] = a->rtx_for_h264;
		t.pt = t.pt_for[t.codec];
		t.rtx_pt = t.rtx_pt_for[t.codec];
		t.nack = a->nack;
		t.pli = a->pli;
		t.fir = a->fir;
		t.twcc_ext_id = a->transport_cc ? a->twcc_ext_id : 0;
		t.playout_delay_ext_id = a->playout_delay_ext_id;
		kt_room_add_subscriber(room, p->sub_peer, &t, 1);
		s->subscribed = TRUE;
	}
}

bool kt_media_subscribe_answer(MediaLesson *l, Participant *p, const char *sdp, GError **error)
{
	KtSdpOfferResult *r;

	if (!p->offer_pending) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_WRONG_STATE,
		            "no subscribe_offer is waiting for an answer");
		return FALSE;
	}
	/* Against the offer as sent: the slots may have grown since (a classroom joined
	 * while it was out); reading it against them failed every such answer and left
	 * the connection waiting for an answer forever. Slots the offer did not have are
	 * left unanswered here and go out in the next offer (p->dirty). */
	r = kt_sdp_offer_read_answer(sdp, strlen(sdp), p->offered, p->n_offered, error);
	if (!r)
		return FALSE;
	p->offer_pending = FALSE;
	if (!p->remote_set) {
		g_ptr_array_add(r->candidates, NULL);
		kt_peer_set_remote(p->sub_peer,
		                   r->dtls_active ? KT_DTLS_ROLE_SERVER : KT_DTLS_ROLE_CLIENT,
		                   r->ice_ufrag, r->ice_pwd, r->fingerprint,
		                   (const char *const *)r->candidates->pdata);
		g_ptr_array_remove_index(r->candidates, r->candidates->len - 1);
		p->remote_set = TRUE;
	}
	apply_answer(l, p, r);
	kt_sdp_offer_result_free(r);
	if (p->dirty)
		send_offer(l, p);
	return TRUE;
}

void kt_media_subscribe_close(MediaLesson *l, Participant *p)
{
	if (p->sub_peer) {
		kt_room_remove_peer(kt_lesson_get_room(l->live), p->sub_peer);
		kt_peer_close(p->sub_peer);
		g_clear_pointer(&p->sub_peer, kt_peer_unref);
	}
	g_clear_pointer(&p->sub_ufrag, g_free);
	g_clear_pointer(&p->sub_pwd, g_free);
	g_clear_pointer(&p->sub_candidates, g_strfreev);
	g_clear_pointer(&p->offered, g_free);
	p->n_offered = 0;
	p->sub_ready = p->offer_pending = p->dirty = p->remote_set = FALSE;
}
