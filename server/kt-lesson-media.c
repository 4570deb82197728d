/* The media side of WebSocket lessons: participants and routing. The two
 * connections are in kt-media-publish.c and kt-media-subscribe.c. */
#include "kt-lesson-media-private.h"

#include <string.h>

G_DEFINE_QUARK(kt - lesson - media - error - quark, kt_lesson_media_error)

static const struct {
	const char *name;
	KtMediaKind kind;
} source_names[KT_SRC_N] = {
    [KT_SRC_CAMERA] = {"camera", KT_MEDIA_VIDEO},
    [KT_SRC_COURSEWARE] = {"courseware", KT_MEDIA_VIDEO},
    [KT_SRC_AUDIO] = {"audio", KT_MEDIA_AUDIO},
};

const char *kt_source_name_to_string(KtSourceName n)
{
	if (n == KT_SRC_MIX)
		return "mix";
	if (n == KT_SRC_WALL)
		return "wall";
	return (guint)n < KT_SRC_N ? source_names[n].name : "unknown";
}

KtMediaKind kt_source_name_kind(KtSourceName n)
{
	return (guint)n < KT_SRC_N ? source_names[n].kind : KT_MEDIA_VIDEO;
}

static gboolean on_quality_tick(gpointer data);

/* A stats query in flight; the room answers on the control loop later. */
typedef struct {
	KtLessonMedia *media; /* NULL once cancelled */
	char *lesson;
} Query;

/* ---- participants ---- */

/* A room source kept for a participant name (see kt_lesson_media_join). */
typedef struct {
	guint source;
	guint32 ssrc, rtx_ssrc;
} KeptSource;

static void participant_free(gpointer data)
{
	Participant *p = data;

	kt_media_publish_close(p->lesson, p);
	kt_media_subscribe_close(p->lesson, p);
	/* Its sources stay in the room (l->kept, or the room's defaults for the teacher):
	 * a rejoin under the same name continues them. */
	for (guint n = 0; n < KT_SRC_N; n++)
		kt_lesson_media_source_active(p->lesson, p, n, FALSE);
	if (p->slots)
		g_array_unref(p->slots);
	g_free(p->name);
	g_free(p->id);
	g_free(p);
}

static void media_lesson_free(gpointer data)
{
	MediaLesson *l = data;

	GHashTableIter it;
	gpointer value;

	g_source_remove(l->quality_timer);
	if (l->linger_timer)
		g_source_remove(l->linger_timer);
	kt_media_feed_close(l); /* before the participants: it removes its own */
	g_hash_table_unref(l->participants);
	kt_media_mix_close(l);
	kt_media_wall_close(l);
	g_hash_table_iter_init(&it, l->kept);
	while (g_hash_table_iter_next(&it, NULL, &value))
		kt_room_remove_source(kt_lesson_get_room(l->live), ((KeptSource *)value)->source);
	g_hash_table_unref(l->kept);
	kt_lesson_release(l->live);
	g_free(l->stage);
	g_free(l->id);
	g_free(l);
}

KtLessonMedia *kt_lesson_media_new(const KtLessonMediaConfig *config)
{
	KtLessonMedia *m = g_new0(KtLessonMedia, 1);

	m->config = *config;
	m->lessons = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, media_lesson_free);
	m->queries = g_ptr_array_new();
	return m;
}

void kt_lesson_media_free(KtLessonMedia *media)
{
	if (!media)
		return;
	g_hash_table_unref(media->lessons);
	/* Answers still on their way find no media and do nothing. */
	for (guint i = 0; i < media->queries->len; i++)
		((Query *)g_ptr_array_index(media->queries, i))->media = NULL;
	g_ptr_array_unref(media->queries);
	g_free(media);
}

static MediaLesson *lesson_of(KtLessonMedia *m, const char *lesson)
{
	return g_hash_table_lookup(m->lessons, lesson);
}

static Participant *participant_of(KtLessonMedia *m, const char *lesson, const char *id,
                                   GError **error)
{
	MediaLesson *l = lesson_of(m, lesson);
	Participant *p = l ? g_hash_table_lookup(l->participants, id) : NULL;

	if (!p)
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_WRONG_STATE,
		            "participant %s has no media in lesson %s", id, lesson);
	return p;
}

bool kt_lesson_media_join(KtLessonMedia *m, const char *lesson, const char *participant,
                          const char *name, KtRole role, GError **error)
{
	MediaLesson *l = lesson_of(m, lesson);
	Participant *p;

	if (!l) {
		KtLesson *live = kt_lessons_get_or_create(m->config.lessons, lesson, error);

		if (!live)
			return FALSE;
		kt_lesson_hold(live);
		l = g_new0(MediaLesson, 1);
		l->id = g_strdup(lesson);
		l->media = m;
		l->live = live;
		l->participants =
		    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, participant_free);
		l->kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_insert(m->lessons, l->id, l);
		l->quality_timer = g_timeout_add_seconds(2, on_quality_tick, l);
		kt_media_feed_start(l);
	}
	if (l->linger_timer) {
		g_message("lesson %s: %s is back; the lesson goes on", lesson,
		          name ? name : participant);
		g_source_remove(l->linger_timer);
		l->linger_timer = 0;
	}
	if (g_hash_table_contains(l->participants, participant))
		return TRUE;
	p = kt_lesson_media_participant_new(l, participant, name, role);
	kt_lesson_media_route(l);
	kt_media_feed_announce(l, p);
	return TRUE;
}

Participant *kt_lesson_media_participant_new(MediaLesson *l, const char *id, const char *name,
                                             KtRole role)
{
	Participant *p = g_new0(Participant, 1);

	p->id = g_strdup(id);
	p->name = g_strdup(name ? name : id);
	p->role = role;
	p->lesson = l;
	p->session_id = g_random_int();
	p->rtt_ms = -1;
	p->estimate_kbps = -1;
	p->slots = g_array_new(FALSE, TRUE, sizeof(SubSlot));
	g_hash_table_insert(l->participants, p->id, p);
	return p;
}

static gboolean on_linger_done(gpointer data)
{
	MediaLesson *l = data;

	l->linger_timer = 0;
	g_message("lesson %s: nobody came back; it ends", l->id);
	g_hash_table_remove(l->media->lessons, l->id); /* releases the live lesson */
	return G_SOURCE_REMOVE;
}

void kt_lesson_media_leave(KtLessonMedia *m, const char *lesson, const char *participant)
{
	MediaLesson *l = lesson_of(m, lesson);
	guint linger = m->config.settings ? (guint)m->config.settings->empty_timeout : 0;

	if (!l || !g_hash_table_remove(l->participants, participant))
		return;
	if (g_strcmp0(l->stage, participant) == 0)
		g_clear_pointer(&l->stage, g_free);
	kt_media_mix_update(l);  /* the last classroom on the mix left: it stops */
	kt_media_wall_update(l); /* its camera leaves the wall; no teacher, no wall */
	if (g_hash_table_size(l->participants) > kt_media_feed_count(l)) {
		kt_lesson_media_route(l);
	} else if (l->ended || linger == 0) {
		g_hash_table_remove(m->lessons, lesson); /* releases the live lesson */
	} else {
		/* Everyone gone at once is usually the school's link, not the end of the
		 * lesson: keep the room, its sources and recordings for whoever comes back. */
		g_message("lesson %s: everyone left; it stays live %u s", lesson, linger);
		l->linger_timer = g_timeout_add_seconds(linger, on_linger_done, l);
	}
}

void kt_lesson_media_end(KtLessonMedia *m, const char *lesson)
{
	MediaLesson *l = lesson_of(m, lesson);

	if (!l)
		return;
	l->ended = TRUE;
	if (g_hash_table_size(l->participants) == kt_media_feed_count(l))
		g_hash_table_remove(m->lessons, lesson);
}

void kt_lesson_media_set_stage(KtLessonMedia *m, const char *lesson, const char *stage)
{
	MediaLesson *l = lesson_of(m, lesson);

	if (!l)
		return;
	g_free(l->stage);
	l->stage = g_strdup(stage);
	kt_lesson_media_route(l);
}

void kt_lesson_media_set_hand(KtLessonMedia *m, const char *lesson, const char *participant,
                              gboolean hand)
{
	Participant *p = participant_of(m, lesson, participant, NULL);

	if (!p || p->hand == hand)
		return;
	p->hand = hand;
	kt_media_wall_update(p->lesson);
}

bool kt_lesson_media_view(KtLessonMedia *m, const char *lesson, const char *participant,
                          const char *mode, GError **error)
{
	Participant *p = participant_of(m, lesson, participant, error);

	return p && kt_media_wall_view(p->lesson, p, mode, error);
}

void kt_lesson_media_set_muted(KtLessonMedia *m, const char *lesson, const char *participant,
                               gboolean muted)
{
	Participant *p = participant_of(m, lesson, participant, NULL);

	if (!p)
		return;
	p->muted = muted;
	if (p->source[KT_SRC_AUDIO])
		kt_room_set_source_muted(kt_lesson_get_room(p->lesson->live),
		                         p->source[KT_SRC_AUDIO], muted);
}

/* ---- sources ---- */

/* Which video a short link keeps first (kt-alloc.h): [media] video_priority,
 * by default the courseware, then the teacher's camera, then classroom
 * cameras (issue 5). */
guint kt_lesson_media_video_priority(const KtSettings *settings, KtRole role, KtSourceName n)
{
	KtConfigVideo kind = KT_CONFIG_VIDEO_CLASSROOM;

	if (n == KT_SRC_COURSEWARE)
		kind = KT_CONFIG_VIDEO_COURSEWARE;
	else if (role == KT_ROLE_TEACHER)
		kind = KT_CONFIG_VIDEO_TEACHER;
	return settings->video_priority[kind];
}

/* A classroom that rejoined (same name) while the server had not yet seen its previous
 * connection go (a cut link: that socket and its consent expire seconds later) takes its
 * kept source over. The previous participant gives it up, so that routing, the mix and
 * the wall follow the newcomer only, and its late leave does not report the source
 * stopped while the newcomer publishes it. */
static void take_kept_source(MediaLesson *l, Participant *taker, KtSourceName n, guint source)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *other = value;

		if (other != taker && other->source[n] == source) {
			other->source[n] = 0;
			other->active[n] = FALSE;
		}
	}
}

guint kt_lesson_media_ensure_source(MediaLesson *l, Participant *p, KtSourceName n)
{
	KtRoom *room = kt_lesson_get_room(l->live);
	KtMediaKind kind;

	g_return_val_if_fail((guint)n < KT_SRC_N, 0); /* published sources only */
	kind = kt_source_name_kind(n);
	if (p->source[n])
		return p->source[n];
	if (p->role == KT_ROLE_TEACHER && n != KT_SRC_COURSEWARE && !p->feed) {
		/* WHEP viewers watch the same teacher camera and audio. A source's
		 * camera (kt-media-feed.c) has its own: the teacher's page may
		 * publish a camera too. */
		p->source[n] = kt_room_get_default_source(room, kind);
		p->ssrc[n] = kt_room_get_ssrc(room, kind);
		p->rtx_ssrc[n] = kt_room_get_rtx_ssrc(room, kind);
	} else {
		g_autofree char *key =
		    g_strdup_printf("%s/%s", p->name, kt_source_name_to_string(n));
		KeptSource *k = g_hash_table_lookup(l->kept, key);

		if (!k) {
			k = g_new0(KeptSource, 1);
			k->source = kt_room_add_source(room, kind, &k->ssrc, &k->rtx_ssrc);
			g_hash_table_insert(l->kept, g_steal_pointer(&key), k);
		}
		take_kept_source(l, p, n, k->source);
		p->source[n] = k->source;
		p->ssrc[n] = k->ssrc;
		p->rtx_ssrc[n] = k->rtx_ssrc;
	}
	if (n == KT_SRC_AUDIO && p->muted)
		kt_room_set_source_muted(room, p->source[n], TRUE);
	if (kind == KT_MEDIA_VIDEO)
		kt_room_set_source_priority(
		    room, p->source[n],
		    kt_lesson_media_video_priority(l->media->config.settings, p->role, n));
	return p->source[n];
}

/* ---- routing ---- */

static void want_sources_of(GPtrArray *wanted, Participant *from, const KtSourceName *names,
                            guint n)
{
	for (guint i = 0; i < n; i++) {
		KtSourceName name = names[i];
		SubSlot *s;

		if (!from->source[name])
			continue; /* not published (yet) */
		s = g_new0(SubSlot, 1);
		s->kind = kt_source_name_kind(name);
		s->active = TRUE;
		s->source = from->source[name];
		s->ssrc = from->ssrc[name];
		s->rtx_ssrc = from->rtx_ssrc[name];
		s->name = name;
		g_strlcpy(s->from, from->id, sizeof(s->from));
		g_ptr_array_add(wanted, s);
	}
}

/* What @p should receive now (DESIGN.md "Floor control"). */
static GPtrArray *wanted_for(MediaLesson *l, Participant *p)
{
	static const KtSourceName teacher_out[] = {KT_SRC_CAMERA, KT_SRC_COURSEWARE, KT_SRC_AUDIO};
	static const KtSourceName class_out[] = {KT_SRC_CAMERA, KT_SRC_AUDIO};
	static const KtSourceName class_audio[] = {KT_SRC_AUDIO};
	GPtrArray *wanted = g_ptr_array_new_with_free_func(g_free);
	gboolean wall = kt_media_wall_want(l, p, wanted);
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *from = value;

		if (from == p)
			continue;
		if (p->role == KT_ROLE_TEACHER && from->role == KT_ROLE_CLASSROOM && wall)
			want_sources_of(wanted, from, class_audio, G_N_ELEMENTS(class_audio));
		else if (p->role == KT_ROLE_TEACHER && from->role == KT_ROLE_CLASSROOM)
			want_sources_of(wanted, from, class_out, G_N_ELEMENTS(class_out));
		else if (p->role != KT_ROLE_TEACHER && from->role == KT_ROLE_TEACHER)
			want_sources_of(wanted, from, teacher_out, G_N_ELEMENTS(teacher_out));
		else if (p->role != KT_ROLE_TEACHER && from->role == KT_ROLE_CLASSROOM &&
		         g_strcmp0(l->stage, from->id) == 0)
			want_sources_of(wanted, from, class_out, G_N_ELEMENTS(class_out));
	}
	kt_media_mix_want(l, p, wanted);
	return wanted;
}

void kt_lesson_media_route(MediaLesson *l)
{
	GHashTableIter it;
	gpointer value;

	kt_media_mix_update(l);
	kt_media_wall_update(l);
	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *p = value;
		g_autoptr(GPtrArray) wanted = NULL;

		if (p->feed)
			continue; /* publishes only */
		wanted = wanted_for(l, p);
		kt_media_subscribe_update(l, p, wanted);
	}
}

/* ---- helpers for the connection files ---- */

void kt_lesson_media_source_active(MediaLesson *l, Participant *p, KtSourceName n, gboolean active)
{
	KtLessonMediaConfig *c = &l->media->config;
	KtLessonMediaSource src = {
	    .lesson = l->id,
	    .participant = p->id,
	    .name = p->name,
	    .role = p->role,
	    .what = kt_source_name_to_string(n),
	    .kind = kt_source_name_kind(n),
	    .active = active,
	};

	if ((guint)n >= KT_SRC_N || !p->source[n] || p->active[n] == active)
		return;
	src.source = p->source[n];
	p->active[n] = active;
	if (c->source_changed)
		c->source_changed(&src, c->user_data);
}

void kt_lesson_media_send(MediaLesson *l, Participant *p, json_t *msg)
{
	KtLessonMediaConfig *c = &l->media->config;

	if (c->send && !p->feed) /* a source has no WebSocket */
		c->send(l->id, p->id, msg, c->user_data);
	json_decref(msg);
}

KtPeerConfig kt_lesson_media_peer_config(KtLessonMedia *m, MediaLesson *l)
{
	const KtSettings *st = m->config.settings;
	KtPeerConfig cfg = {
	    .worker = kt_room_get_worker(kt_lesson_get_room(l->live)),
	    .cert = m->config.dtls_cert,
	    .local_addresses = (const char *const *)st->ice_addresses,
	    .port_min = st->ice_port_min,
	    .port_max = st->ice_port_max,
	    .ice_tcp = st->ice_tcp,
	    .gate = m->config.gate,
	    .consent_timeout_s = (guint)st->consent_timeout,
	};

	return cfg;
}

/* ---- negotiation entry points ---- */

bool kt_lesson_media_publish_offer(KtLessonMedia *m, const char *lesson, const char *participant,
                                   const char *sdp, json_t *tracks, json_t *request_id,
                                   GError **error)
{
	Participant *p = participant_of(m, lesson, participant, error);

	return p && kt_media_publish_offer(p->lesson, p, sdp, tracks, request_id, error);
}

bool kt_lesson_media_subscribe_answer(KtLessonMedia *m, const char *lesson, const char *participant,
                                      const char *sdp, GError **error)
{
	Participant *p = participant_of(m, lesson, participant, error);

	return p && kt_media_subscribe_answer(p->lesson, p, sdp, error);
}

bool kt_lesson_media_candidate(KtLessonMedia *m, const char *lesson, const char *participant,
                               const char *pc, const char *candidate, GError **error)
{
	Participant *p = participant_of(m, lesson, participant, error);
	KtPeer *peer;

	if (!p)
		return FALSE;
	peer = g_strcmp0(pc, "publish") == 0     ? p->pub_peer
	       : g_strcmp0(pc, "subscribe") == 0 ? p->sub_peer
	                                         : NULL;
	if (!peer) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_WRONG_STATE,
		            "no %s connection to add a candidate to", pc);
		return FALSE;
	}
	/* An empty candidate is end-of-candidates: nothing to do (full ICE). */
	if (candidate && *candidate)
		kt_peer_add_remote_candidate(peer, candidate);
	return TRUE;
}

json_t *kt_lesson_media_quality(KtLessonMedia *m, const char *lesson)
{
	MediaLesson *l = lesson_of(m, lesson);
	json_t *out = json_array();
	GHashTableIter it;
	gpointer value;

	if (!l)
		return out;
	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *p = value;

		if (p->role == KT_ROLE_OBSERVER || p->feed)
			continue;
		json_array_append_new(
		    out,
		    json_pack("{s:s, s:i, s:f, s:i, s:o, s:i}", "id", p->id, "bitrate_kbps",
		              p->bitrate_kbps, "loss_pct", p->loss_pct, "rtt_ms", p->rtt_ms,
		              "estimate_kbps",
		              p->estimate_kbps >= 0 ? json_integer(p->estimate_kbps) : json_null(),
		              "video_height", (int)p->video_height));
	}
	return out;
}

/* ---- link quality, every 2 s, to the teacher ---- */

static void query_free(gpointer data)
{
	Query *q = data;

	if (q->media)
		g_ptr_array_remove_fast(q->media->queries, q);
	g_free(q->lesson);
	g_free(q);
}

static Participant *participant_by_peer(MediaLesson *l, KtPeer *peer, gboolean *publish)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *p = value;

		if (p->pub_peer == peer || p->sub_peer == peer) {
			*publish = p->pub_peer == peer;
			return p;
		}
	}
	return NULL;
}

static void on_stats(const KtRoomPeerStats *st, guint n, gpointer data)
{
	Query *q = data;
	MediaLesson *l = q->media ? lesson_of(q->media, q->lesson) : NULL;
	gint64 now = g_get_monotonic_time();
	GHashTableIter it;
	gpointer value;

	if (!l)
		return;
	for (guint i = 0; i < n; i++) {
		gboolean publish = FALSE;
		Participant *p = participant_by_peer(l, st[i].peer, &publish);

		if (!p)
			continue;
		if (publish) {
			if (p->last_bytes_at_us && now > p->last_bytes_at_us)
				p->bitrate_kbps = (st[i].bytes_in - p->last_bytes_in) * 8 * 1000 /
				                  (now - p->last_bytes_at_us);
			p->last_bytes_in = st[i].bytes_in;
			p->last_bytes_at_us = now;
			p->loss_pct = st[i].loss_pct;
		} else {
			if (st[i].rtt_ms >= 0)
				p->rtt_ms = st[i].rtt_ms;
			p->estimate_kbps =
			    st[i].estimate_bps ? (gint)(st[i].estimate_bps / 1000) : -1;
			p->video_height = st[i].video_height;
		}
	}
	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *p = value;

		if (p->role == KT_ROLE_TEACHER)
			kt_lesson_media_send(l, p,
			                     json_pack("{s:s, s:o}", "type", "quality",
			                               "participants",
			                               kt_lesson_media_quality(l->media, l->id)));
	}
}

static gboolean on_quality_tick(gpointer data)
{
	MediaLesson *l = data;
	Query *q = g_new0(Query, 1);

	q->media = l->media;
	q->lesson = g_strdup(l->id);
	g_ptr_array_add(l->media->queries, q);
	kt_room_query_stats(kt_lesson_get_room(l->live), on_stats, q, query_free);
	return G_SOURCE_CONTINUE;
}
