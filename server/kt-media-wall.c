/* The classroom wall in a lesson's routing: a teacher's `view` switches
 * between one video per classroom and the wall (kt-lesson-wall.h), which runs
 * while a teacher watches it and shows every classroom camera that is
 * published, marked by the roster's hands and stage. */
#include "kt-lesson-media-private.h"

#include <string.h>

static gboolean wall_wanted(MediaLesson *l)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((Participant *)value)->view_wall)
			return TRUE;
	return FALSE;
}

/* Roster ids are "p<N>": join order, so tiles come in the order classrooms joined. */
static gint by_join_order(gconstpointer a, gconstpointer b)
{
	const Participant *pa = *(Participant *const *)a, *pb = *(Participant *const *)b;
	gsize la = strlen(pa->id), lb = strlen(pb->id);

	return la != lb ? (la < lb ? -1 : 1) : strcmp(pa->id, pb->id);
}

static KtWallMark mark_of(MediaLesson *l, Participant *p)
{
	if (g_strcmp0(l->stage, p->id) == 0)
		return KT_WALL_MARK_ON_STAGE;
	return p->hand ? KT_WALL_MARK_HAND_RAISED : KT_WALL_MARK_NONE;
}

static void send_layout(MediaLesson *l, Participant *p)
{
	json_t *msg = kt_lesson_wall_layout(l->wall);

	json_object_set_new(msg, "type", json_string("wall"));
	kt_lesson_media_send(l, p, msg);
}

static void on_layout(KtLessonWall *wall, gpointer data)
{
	MediaLesson *l = data;
	GHashTableIter it;
	gpointer value;

	l->wall_layouts++;
	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (((Participant *)value)->view_wall)
			send_layout(l, value);
}

static gboolean start_wall(MediaLesson *l, GError **error)
{
	KtRoom *room = kt_lesson_get_room(l->live);
	KtLessonWallConfig cfg = {
	    .lesson = l->id,
	    .room = room,
	    .settings = l->media->config.settings,
	    .layout_changed = on_layout,
	    .user_data = l,
	};

	if (!l->wall_source)
		l->wall_source =
		    kt_room_add_source(room, KT_MEDIA_VIDEO, &l->wall_ssrc, &l->wall_rtx_ssrc);
	cfg.source = l->wall_source;
	l->wall = kt_lesson_wall_new(&cfg, error);
	if (l->wall)
		g_message("lesson %s: the classroom wall started", l->id);
	return l->wall != NULL;
}

static void set_inputs(MediaLesson *l)
{
	g_autoptr(GPtrArray) cams = g_ptr_array_new();
	g_autofree KtLessonWallInput *inputs = NULL;
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, l->participants);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Participant *p = value;

		if (p->role == KT_ROLE_CLASSROOM && p->source[KT_SRC_CAMERA] &&
		    p->active[KT_SRC_CAMERA])
			g_ptr_array_add(cams, p);
	}
	g_ptr_array_sort(cams, by_join_order);
	inputs = g_new0(KtLessonWallInput, MAX(cams->len, 1));
	for (guint i = 0; i < cams->len; i++) {
		Participant *p = g_ptr_array_index(cams, i);

		inputs[i] = (KtLessonWallInput){.source = p->source[KT_SRC_CAMERA],
		                                .participant = p->id,
		                                .name = p->name,
		                                .mark = mark_of(l, p)};
	}
	kt_lesson_wall_set_inputs(l->wall, inputs, cams->len);
}

void kt_media_wall_update(MediaLesson *l)
{
	if (!wall_wanted(l)) {
		if (l->wall)
			g_message("lesson %s: the classroom wall stopped (nobody watches it)",
			          l->id);
		g_clear_pointer(&l->wall, kt_lesson_wall_free);
		return;
	}
	if (l->wall)
		set_inputs(l);
}

bool kt_media_wall_view(MediaLesson *l, Participant *p, const char *mode, GError **error)
{
	const KtSettings *st = l->media->config.settings;
	gboolean wall = g_strcmp0(mode, "wall") == 0;
	guint64 sent;

	if (p->role != KT_ROLE_TEACHER) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_WRONG_ROLE,
		            "only the teacher chooses a view");
		return FALSE;
	}
	if (!wall && g_strcmp0(mode, "individual") != 0) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_BAD_MESSAGE,
		            "mode: must be one of wall, individual");
		return FALSE;
	}
	if (wall && st && !st->wall) {
		g_set_error(error, KT_LESSON_MEDIA_ERROR, KT_LESSON_MEDIA_ERROR_UNAVAILABLE,
		            "the classroom wall is off on this server ([wall] enabled = false)");
		return FALSE;
	}
	if (wall && !l->wall && !start_wall(l, error))
		return FALSE;
	sent = l->wall_layouts;
	p->view_wall = wall;
	kt_lesson_media_route(l); /* sets the wall's inputs (a new layout goes out), or frees it */
	if (wall && l->wall_layouts == sent)
		send_layout(l, p); /* the layout did not change: this teacher still needs it */
	return TRUE;
}

gboolean kt_media_wall_want(MediaLesson *l, Participant *p, GPtrArray *wanted)
{
	SubSlot *s;

	if (!p->view_wall || !l->wall)
		return FALSE;
	s = g_new0(SubSlot, 1);
	s->kind = KT_MEDIA_VIDEO;
	s->active = TRUE;
	s->source = l->wall_source;
	s->ssrc = l->wall_ssrc;
	s->rtx_ssrc = l->wall_rtx_ssrc;
	s->name = KT_SRC_WALL;
	g_ptr_array_add(wanted, s);
	return TRUE;
}

void kt_media_wall_close(MediaLesson *l)
{
	g_clear_pointer(&l->wall, kt_lesson_wall_free);
	if (l->wall_source)
		kt_room_remove_source(kt_lesson_get_room(l->live), l->wall_source);
	l->wall_source = 0;
}
