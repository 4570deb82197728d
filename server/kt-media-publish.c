/* A participant's publish connection: the page offers its tracks (camera,
 * courseware, audio, named in the `tracks` list by mid), Ketang answers and
 * feeds them into the lesson room. A later offer on the same connection (a
 * track added or removed) is answered with the same ICE/DTLS identity and
 * rebinds the tracks, without reconnecting. */
#include "kt-lesson-media-private.h"

#include <string.h>

#include "kt-media-tracks.h"
#include "kt-sdp-answer.h"

#define MAX_TRACKS 4

static gboolean fail(GError **error, KtLessonMediaError code, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean fail(GError **error, KtLessonMediaError code, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *message = NULL;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, KT_LESSON_MEDIA_ERROR, code, message);
	return FALSE;
}

static gboolean source_from_name(const char *s, KtSourceName *out)
{
	for (guint n = 0; n < KT_SRC_N; n++)
		if (g_strcmp0(s, kt_source_name_to_string(n)) == 0) {
			*out = n;
			return TRUE;
		}
	return FALSE;
}

/* tracks: [{mid, source}] → the source of each of the offer's m-lines. */
static gboolean map_tracks(Participant *p, const KtSdp *offer, json_t *tracks, GError **error)
{
	guint n_media = kt_sdp_get_n_media(offer);

	if (!json_is_array(tracks) || json_array_size(tracks) > MAX_TRACKS)
		return fail(error, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
		            "'tracks' must be an array of at most %d {mid, source}", MAX_TRACKS);
	for (guint i = 0; i < G_N_ELEMENTS(p->pub_mid_source); i++)
		p->pub_mid_source[i] = KT_SRC_N;
	for (gsize i = 0; i < json_array_size(tracks); i++) {
		json_t *t = json_array_get(tracks, i);
		const char *mid = json_string_value(json_object_get(t, "mid"));
		const char *src = json_string_value(json_object_get(t, "source"));
		KtSourceName name;
		guint m;

		if (!mid || !src || !source_from_name(src, &name))
			return fail(error, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
			            "tracks[%zu] needs a 'mid' and a 'source' of camera, "
			            "courseware or audio",
			            i);
		if (p->role != KT_ROLE_TEACHER && name == KT_SRC_COURSEWARE)
			return fail(error, KT_LESSON_MEDIA_ERROR_WRONG_ROLE,
			            "only the teacher shares courseware");
		for (m = 0; m < n_media; m++)
			if (g_strcmp0(kt_sdp_get_media(offer, m)->mid, mid) == 0)
				break;
		if (m == n_media || m >= G_N_ELEMENTS(p->pub_mid_source))
			return fail(error, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
			            "tracks[%zu]: the offer has no m-line with mid '%s'", i, mid);
		if (kt_sdp_get_media(offer, m)->kind != (kt_source_name_kind(name) == KT_MEDIA_AUDIO
		                                             ? KT_SDP_MEDIA_AUDIO
		                                             : KT_SDP_MEDIA_VIDEO))
			return fail(error, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
			            "tracks[%zu]: mid '%s' is not %s media", i, mid,
			            kt_media_kind_name(kt_source_name_kind(name)));
		p->pub_mid_source[m] = name;
	}
	return TRUE;
}

static KtSdpAnswerParams answer_params(MediaLesson *l, Participant *p)
{
	KtSdpAnswerParams a = {
	    .mode = KT_SDP_ANSWER_RECEIVE,
	    .fingerprint = kt_cert_get_fingerprint(l->media->config.dtls_cert),
	    .audio_codecs = "opus",
	    .video_codecs = l->media->config.video_codecs,
	    .audio_red = l->media->config.settings && l->media->config.settings->audio_red,
	    .accept_all_lines = TRUE,
	    .simulcast = l->media->config.settings && l->media->config.settings->simulcast,
	    .session_id = p->session_id,
	    .ice_ufrag = p->pub_ufrag ? p->pub_ufrag : "probe",
	    .ice_pwd = p->pub_pwd ? p->pub_pwd : "probeprobeprobeprobeprobe",
	    .candidates = (const char *const *)p->pub_candidates,
	};

	return a;
}

/* Which sources now carry media: courseware stopped by renegotiation goes inactive. */
static void report_active(MediaLesson *l, Participant *p, const KtRoomTrack *tracks, guint n)
{
	for (guint name = 0; name < KT_SRC_N; name++) {
		gboolean active = FALSE;

		for (guint t = 0; t < n; t++)
			active |= p->source[name] && tracks[t].source == p->source[name];
		kt_lesson_media_source_active(l, p, name, active);
	}
}

/* Answer the pending offer (local description known) and bind its tracks. */
static void answer_pending(MediaLesson *l, Participant *p)
{
	KtSdpAnswerParams a = answer_params(l, p);
	g_autoptr(GError) error = NULL;
	g_autofree KtSdpNegotiated *neg = NULL;
	g_autofree char *answer = NULL;
	KtRoomTrack tracks[MAX_TRACKS];
	KtRoom *room = kt_lesson_get_room(l->live);
	guint n_neg = 0, n;
	json_t *msg;

	answer = kt_sdp_answer_build(p->pub_offer, &a, &neg, &n_neg, &error);
	msg = answer ? json_pack("{s:s, s:s}", "type", "publish_answer", "sdp", answer)
	             : json_pack("{s:s, s:s, s:s}", "type", "error", "code", "bad-sdp", "message",
	                         error->message);
	if (p->pub_request_id)
		json_object_set(msg, "id", p->pub_request_id);
	g_clear_pointer(&p->pub_request_id, json_decref);
	kt_lesson_media_send(l, p, msg);
	if (!answer)
		return;
	n = kt_media_tracks_from_negotiated(neg, n_neg, tracks, MAX_TRACKS);
	for (guint i = 0, t = 0; i < n_neg && t < n; i++) {
		if (!neg[i].active || g_strcmp0(neg[i].mid, tracks[t].mid) != 0)
			continue;
		if (p->pub_mid_source[i] < KT_SRC_N)
			tracks[t].source =
			    kt_lesson_media_ensure_source(l, p, p->pub_mid_source[i]);
		else
			tracks[t].source = G_MAXUINT; /* not named in tracks: not forwarded */
		t++;
	}
	for (guint t = 0; t < n; t++)
		g_debug("lesson %s: %s publishes mid %s (%s, ssrc %u) as source %u", l->id, p->id,
		        tracks[t].mid, kt_media_codec_name(tracks[t].codec), tracks[t].remote_ssrc,
		        tracks[t].source);
	/* The first offer attaches the connection; a later one rebinds its tracks, keeping
	 * the SSRCs the room learned (kt-room.h): a browser names simulcast layers only
	 * until our receiver reports acknowledge them. */
	kt_room_add_publisher(room, p->pub_peer, tracks, n);
	report_active(l, p, tracks, n);
	kt_lesson_media_route(l);
}

static void on_local_ready(KtPeer *peer, const char *ufrag, const char *pwd,
                           const char *const *candidates, gpointer user_data)
{
	Participant *p = user_data;

	p->pub_ufrag = g_strdup(ufrag);
	p->pub_pwd = g_strdup(pwd);
	p->pub_candidates = g_strdupv((char **)candidates);
	p->pub_ready = TRUE;
	answer_pending(p->lesson, p);
}

static void on_state(KtPeer *peer, KtPeerState state, const char *reason, gpointer user_data)
{
	Participant *p = user_data;

	if (state == KT_PEER_STATE_FAILED || state == KT_PEER_STATE_CLOSED) {
		g_message("lesson %s: %s's publish connection %s (%s)", p->lesson->id, p->id,
		          kt_peer_state_to_string(state), reason ? reason : "-");
		/* The page sees its connection fail and rejoins. */
	}
}

void kt_media_publish_close(MediaLesson *l, Participant *p)
{
	if (p->pub_peer) {
		kt_room_remove_peer(kt_lesson_get_room(l->live), p->pub_peer);
		kt_peer_close(p->pub_peer);
		g_clear_pointer(&p->pub_peer, kt_peer_unref);
	}
	g_clear_pointer(&p->pub_request_id, json_decref);
	g_clear_pointer(&p->pub_offer, kt_sdp_free);
	g_clear_pointer(&p->pub_ufrag, g_free);
	g_clear_pointer(&p->pub_pwd, g_free);
	g_clear_pointer(&p->pub_candidates, g_strfreev);
	p->pub_ready = FALSE;
}

static gboolean start_peer(MediaLesson *l, Participant *p, gboolean dtls_active, GError **error)
{
	static const KtPeerEvents events = {on_local_ready, on_state};
	const char *tag = kt_sdp_get_bundle_tag(p->pub_offer);
	const KtSdpMedia *m = tag ? kt_sdp_find_media(p->pub_offer, tag) : NULL;
	KtPeerConfig cfg = kt_lesson_media_peer_config(l->media, l);
	g_autoptr(GPtrArray) cands = g_ptr_array_new();

	m = m ? m : kt_sdp_get_media(p->pub_offer, 0);
	for (guint i = 0; m->candidates && i < m->candidates->len; i++)
		g_ptr_array_add(cands, g_ptr_array_index(m->candidates, i));
	g_ptr_array_add(cands, NULL);
	cfg.controlling = FALSE;
	cfg.dtls_role = dtls_active ? KT_DTLS_ROLE_CLIENT : KT_DTLS_ROLE_SERVER;
	cfg.remote_ufrag = m->ice_ufrag;
	cfg.remote_pwd = m->ice_pwd;
	cfg.remote_fingerprint = m->fingerprint;
	cfg.remote_candidates = (const char *const *)cands->pdata;
	p->pub_peer = kt_peer_new(&cfg, &events, p, error);
	return p->pub_peer != NULL;
}

bool kt_media_publish_offer(MediaLesson *l, Participant *p, const char *sdp, json_t *tracks,
                            json_t *request_id, GError **error)
{
	g_autoptr(KtSdp) offer = NULL;
	g_autoptr(GError) sdp_error = NULL;
	g_autofree KtSdpNegotiated *neg = NULL;
	g_autofree char *probe = NULL;
	KtSdpAnswerParams a;
	guint n_neg = 0;
	gboolean restart;

	if (p->role == KT_ROLE_OBSERVER)
		return fail(error, KT_LESSON_MEDIA_ERROR_WRONG_ROLE, "observers do not publish");
	if (p->pub_request_id)
		return fail(error, KT_LESSON_MEDIA_ERROR_WRONG_STATE,
		            "the previous publish_offer is still being answered");
	offer = kt_sdp_parse(sdp, strlen(sdp), &sdp_error);
	if (offer && map_tracks(p, offer, tracks, error)) {
		a = answer_params(l, p);
		probe = kt_sdp_answer_build(offer, &a, &neg, &n_neg, &sdp_error);
	} else if (offer) {
		return FALSE; /* map_tracks set @error */
	}
	if (!probe)
		return fail(error, KT_LESSON_MEDIA_ERROR_BAD_SDP, "%s", sdp_error->message);

	/* Same ICE credentials: a renegotiation on the live connection. */
	restart =
	    !p->pub_peer ||
	    g_strcmp0(kt_sdp_get_media(offer, 0)->ice_ufrag,
	              p->pub_offer ? kt_sdp_get_media(p->pub_offer, 0)->ice_ufrag : NULL) != 0;
	g_clear_pointer(&p->pub_offer, kt_sdp_free);
	p->pub_offer = g_steal_pointer(&offer);
	p->pub_request_id = json_incref(request_id ? request_id : json_null());
	if (!restart) {
		answer_pending(l, p);
		return TRUE;
	}
	if (p->pub_peer) {
		KtSdp *keep = g_steal_pointer(&p->pub_offer);
		json_t *id = g_steal_pointer(&p->pub_request_id);

		kt_media_publish_close(l, p);
		p->pub_offer = keep;
		p->pub_request_id = id;
	}
	if (!start_peer(l, p, n_neg > 0 && neg[0].dtls_active, error)) {
		g_clear_pointer(&p->pub_request_id, json_decref);
		return FALSE;
	}
	return TRUE;
}
