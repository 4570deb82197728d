/* A room tap into a swappable target (kt-tap-link.h). */
#include "kt-tap-link.h"

/* Shared with the room's tap: the link holds one reference, the tap another. */
typedef struct {
	gint refs;
	GMutex lock;
	KtTapPushFunc push;
	gpointer target; /* lock */
	guint input;     /* lock */
} Shared;

struct _KtTapLink {
	KtRoom *room;
	guint tap;
	Shared *shared;
};

static Shared *shared_ref(Shared *s)
{
	g_atomic_int_inc(&s->refs);
	return s;
}

static void shared_unref(gpointer data)
{
	Shared *s = data;

	if (!g_atomic_int_dec_and_test(&s->refs))
		return;
	g_mutex_clear(&s->lock);
	g_free(s);
}

/* Media worker: every packet the room forwards of the source. */
static void on_tap(const guint8 *rtp, gsize len, KtCodec codec, gpointer data)
{
	Shared *s = data;

	g_mutex_lock(&s->lock);
	if (s->target && s->input)
		s->push(s->target, s->input, rtp, len, codec);
	g_mutex_unlock(&s->lock);
}

KtTapLink *kt_tap_link_new(KtRoom *room, guint source, KtTapPushFunc push)
{
	KtTapLink *link = g_new0(KtTapLink, 1);

	link->room = room;
	link->shared = g_new0(Shared, 1);
	link->shared->refs = 1;
	link->shared->push = push;
	g_mutex_init(&link->shared->lock);
	link->tap = kt_room_add_tap(room, source, on_tap, shared_ref(link->shared), shared_unref);
	return link;
}

void kt_tap_link_set(KtTapLink *link, gpointer target, guint input)
{
	g_mutex_lock(&link->shared->lock);
	link->shared->target = target;
	link->shared->input = target ? input : 0;
	g_mutex_unlock(&link->shared->lock);
}

guint kt_tap_link_get_input(KtTapLink *link)
{
	guint input;

	g_mutex_lock(&link->shared->lock);
	input = link->shared->input;
	g_mutex_unlock(&link->shared->lock);
	return input;
}

void kt_tap_link_free(KtTapLink *link)
{
	if (!link)
		return;
	kt_tap_link_set(link, NULL, 0);
	kt_room_remove_tap(link->room, link->tap);
	shared_unref(link->shared);
	g_free(link);
}
