/* The REMB a room sends a publisher (transport/kt-room-remb.c) without peers:
 * its value from [media] publisher_max_kbps (subscribers' estimates do not
 * cap it), and when one is due. The room, publisher, sources and subscribers are made by hand
 * (kt-room-private.h); the integration test test-room-remb sends real ones. */
#include <string.h>

#include "kt-room-private.h"

#define MS ((gint64)1000)
#define NOW (100 * G_USEC_PER_SEC)
/* The send-side estimate before any feedback (kt-bwe.h's start). */
#define SUB_START_BPS 300000

typedef struct {
	KtRoom *room;
	Source video;
	Publisher pub;
	Subscriber sub;
	SubStream *ss;
} Fixture;

/* A publisher of @video that took goog-remb (no abs-send-time), and a
 * subscriber of it, with TWCC when @sub_twcc. */
static void fixture_init(Fixture *f, guint cap_kbps, gboolean sub_twcc)
{
	memset(f, 0, sizeof(*f));
	f->room = g_new0(KtRoom, 1);
	f->room->config.publisher_max_kbps = cap_kbps;
	f->video = (Source){.id = 1, .room = f->room, .kind = KT_MEDIA_VIDEO, .codec = KT_CODEC_VP8};
	f->video.sinks = g_ptr_array_new();
	f->pub.room = f->room;
	f->pub.n_tracks = 1;
	f->pub.tracks[0] = (PubTrack){.source = &f->video, .publisher = &f->pub, .ssrc = 1234};
	f->pub.tracks[0].spec.remb = TRUE;
	f->video.track = &f->pub.tracks[0];
	kt_room_remb_attach(&f->pub);
	g_assert_nonnull(f->pub.remb);
	f->sub.room = f->room;
	f->sub.streams = g_ptr_array_new_with_free_func(g_free);
	f->ss = g_new0(SubStream, 1);
	*f->ss = (SubStream){.sub = &f->sub, .source = &f->video};
	g_ptr_array_add(f->sub.streams, f->ss);
	kt_room_bwe_on_subscribe(f->ss, sub_twcc ? 5 : 0);
}

static void fixture_clear(Fixture *f)
{
	kt_room_remb_free(&f->pub);
	g_assert_null(f->pub.remb);
	kt_room_bwe_free(&f->sub);
	g_ptr_array_unref(f->sub.streams);
	g_ptr_array_unref(f->video.sinks);
	g_free(f->room);
}

static guint32 value(Fixture *f)
{
	return kt_room_remb_value(f->room, &f->pub, NOW);
}

static void test_not_negotiated(void)
{
	Publisher pub = {.n_tracks = 1};

	kt_room_remb_attach(&pub);
	g_assert_null(pub.remb);
	kt_room_remb_free(&pub);
}

/* The config cap alone; a subscriber's estimate does not lower it, with or
 * without simulcast (kt-room-remb.c says why). */
static void test_caps(void)
{
	Fixture f;

	fixture_init(&f, 2500, TRUE);
	g_assert_cmpuint(value(&f), ==, 2500000);
	g_ptr_array_add(f.video.sinks, f.ss);
	g_assert_cmpuint(kt_room_sub_get_estimate(&f.sub), ==, SUB_START_BPS);
	g_assert_cmpuint(value(&f), ==, 2500000);
	f.room->config.publisher_max_kbps = 200;
	g_assert_cmpuint(value(&f), ==, 200000);
	f.pub.tracks[0].spec.n_rids = 2;
	g_assert_cmpuint(value(&f), ==, 200000);
	f.room->config.publisher_max_kbps = 0;
	g_assert_cmpuint(value(&f), ==, 0); /* nothing to say */
	fixture_clear(&f);
}

/* Once a second; at once on a fall of more than 3 %; a rise waits. */
static void test_due(void)
{
	g_assert_true(kt_room_remb_due(0, 0, 500000, NOW));
	g_assert_false(kt_room_remb_due(NOW, 500000, 500000, NOW + 999 * MS));
	g_assert_true(kt_room_remb_due(NOW, 500000, 500000, NOW + 1000 * MS));
	g_assert_false(kt_room_remb_due(NOW, 500000, 900000, NOW + 50 * MS));
	g_assert_false(kt_room_remb_due(NOW, 500000, 490000, NOW + 50 * MS));
	g_assert_false(kt_room_remb_due(NOW, 500000, 485000, NOW + 50 * MS));
	g_assert_true(kt_room_remb_due(NOW, 500000, 484999, NOW + 50 * MS));
	g_assert_true(kt_room_remb_due(NOW, 500000, 100000, NOW));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/room-remb-value/not-negotiated", test_not_negotiated);
	g_test_add_func("/room-remb-value/caps", test_caps);
	g_test_add_func("/room-remb-value/due", test_due);
	return g_test_run();
}
