/* The classroom wall (pipelines/kt-wall.h) through a real room: classrooms of
 * distinct solid colours (live VP8 encoders, their RTP pushed as a room tap
 * would) are composited, encoded and published into a room source, and a real
 * subscriber peer (ICE + DTLS + SRTP over loopback) decodes the wall. The
 * test reads the decoded pictures' pixels: the grid follows the inputs as
 * they join and leave, markers colour a tile's border, bad input changes
 * nothing, and an input whose chain fails comes back while the others go on. */
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "kt-gst.h"
#include "kt-room.h"
#include "kt-rtp.h"
#include "kt-wall.h"
#include "peer-pair.h"
#include "vp8-decoder.h"

#define WIDTH 960
#define HEIGHT 540

/* ---- the subscriber: decodes the wall to RGB, keeps the latest picture ---- */

typedef struct {
	KtPeer *peer;
	Vp8Decoder decoder;
	GMutex lock;
	GstSample *last; /* guarded by lock */
	gint frames;     /* atomic */
} Receiver;

static void on_rtp(KtPeer *peer, guint8 *buf, gsize len, gpointer data)
{
	Receiver *r = data;

	(void)peer;
	vp8_decoder_push(&r->decoder, buf, len);
}

static GstFlowReturn on_frame(GstAppSink *sink, gpointer data)
{
	Receiver *r = data;
	GstSample *sample = gst_app_sink_pull_sample(sink);

	g_mutex_lock(&r->lock);
	if (r->last)
		gst_sample_unref(r->last);
	r->last = sample;
	g_mutex_unlock(&r->lock);
	g_atomic_int_inc(&r->frames);
	return GST_FLOW_OK;
}

static gboolean install_receiver(gpointer data)
{
	static const KtPeerMediaFuncs funcs = {.rtp = on_rtp};
	Receiver *r = data;

	kt_peer_set_media_funcs(r->peer, &funcs, r);
	return G_SOURCE_REMOVE;
}

static void receiver_start(Receiver *r)
{
	g_mutex_init(&r->lock);
	vp8_decoder_start(&r->decoder, "RGB", on_frame, r);
	kt_worker_invoke_sync(kt_peer_get_worker(r->peer), install_receiver, r);
}

static void receiver_stop(Receiver *r)
{
	vp8_decoder_stop(&r->decoder);
	if (r->last)
		gst_sample_unref(r->last);
	g_mutex_clear(&r->lock);
}

/* ---- pixels ---- */

typedef struct {
	guint8 r, g, b;
} Rgb;

static const Rgb BLACK = {0, 0, 0}, RED = {255, 0, 0}, GREEN = {0, 255, 0}, BLUE = {0, 0, 255},
                 WHITE = {255, 255, 255}, YELLOW = {255, 255, 0};

/* The mean colour of the latest picture's @w x @h pixels at @x,@y; FALSE if
 * there is none yet. Also its size. */
static gboolean mean_colour(Receiver *r, gint x, gint y, gint w, gint h, Rgb *out, gint *width,
                            gint *height)
{
	g_autoptr(GstSample) sample = NULL;
	GstStructure *st;
	GstMapInfo map;
	guint64 sum[3] = {0};
	gint stride;

	g_mutex_lock(&r->lock);
	sample = r->last ? gst_sample_ref(r->last) : NULL;
	g_mutex_unlock(&r->lock);
	if (!sample)
		return FALSE;
	st = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
	g_assert_true(gst_structure_get_int(st, "width", width));
	g_assert_true(gst_structure_get_int(st, "height", height));
	stride = GST_ROUND_UP_4(*width * 3); /* packed RGB rows */
	g_assert_true(gst_buffer_map(gst_sample_get_buffer(sample), &map, GST_MAP_READ));
	g_assert_cmpuint(map.size, >=, (gsize)(stride * *height));
	for (gint row = y; row < y + h && row < *height; row++)
		for (gint i = 0; i < w * 3; i++)
			sum[i % 3] += map.data[row * stride + x * 3 + i];
	gst_buffer_unmap(gst_sample_get_buffer(sample), &map);
	out->r = (guint8)(sum[0] / (guint64)(w * h));
	out->g = (guint8)(sum[1] / (guint64)(w * h));
	out->b = (guint8)(sum[2] / (guint64)(w * h));
	return TRUE;
}

static gboolean near(Rgb a, Rgb b)
{
	return ABS(a.r - b.r) < 70 && ABS(a.g - b.g) < 70 && ABS(a.b - b.b) < 70;
}

/* What the picture should show: a colour in a region. */
typedef struct {
	gint x, y, w, h;
	Rgb colour;
} Spot;

typedef struct {
	Receiver *rx;
	const Spot *spots;
	guint n;
	Rgb seen[8];
} Expect;

static gboolean picture_matches(gpointer data)
{
	Expect *e = data;
	gboolean all = TRUE;

	for (guint i = 0; i < e->n; i++) {
		const Spot *s = &e->spots[i];
		gint width, height;

		if (!mean_colour(e->rx, s->x, s->y, s->w, s->h, &e->seen[i], &width, &height))
			return FALSE;
		g_assert_cmpint(width, ==, WIDTH);
		g_assert_cmpint(height, ==, HEIGHT);
		all = all && near(e->seen[i], s->colour);
	}
	return all;
}

/* Tile centres of the 2x2 grid at 960x540. */
#define TILE(col, row, colour)                                                                     \
	{                                                                                          \
		(col) * 480 + 220, (row)*270 + 115, 40, 40, colour                                 \
	}

static KtWall *the_wall; /* for the failure messages */

static void assert_picture(Receiver *rx, const Spot *spots, guint n)
{
	Expect e = {rx, spots, n, {{0}}};
	KtWallStats st;

	if (!wait_until(picture_matches, &e, 10000)) {
		kt_wall_get_stats(the_wall, &st);
		g_test_message("wall: frames %" G_GUINT64_FORMAT ", packets %" G_GUINT64_FORMAT
		               ", dropped %" G_GUINT64_FORMAT ", hidden %" G_GUINT64_FORMAT
		               ", chains %u, received %d",
		               st.frames, st.packets, st.dropped, st.hidden, st.chains,
		               g_atomic_int_get(&rx->frames));
		for (guint i = 0; i < n; i++)
			g_test_message("spot %u at %d,%d: %u,%u,%u, want %u,%u,%u", i, spots[i].x,
			               spots[i].y, e.seen[i].r, e.seen[i].g, e.seen[i].b,
			               spots[i].colour.r, spots[i].colour.g, spots[i].colour.b);
	}
	g_assert_true(picture_matches(&e));
}

/* ---- classrooms: live solid-colour VP8 encoders pushing into the wall ---- */

typedef struct {
	GstElement *pipeline;
	KtWall *wall;
	gint input; /* atomic */
} Classroom;

static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
	Classroom *c = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	GstMapInfo map;

	if (!gst_buffer_map(buf, &map, GST_MAP_READ))
		return GST_FLOW_ERROR;
	kt_wall_push(c->wall, (guint)g_atomic_int_get(&c->input), map.data, map.size, KT_CODEC_VP8);
	gst_buffer_unmap(buf, &map);
	return GST_FLOW_OK;
}

/* A 640x360 15 fps camera of one colour (0xAARRGGBB); a keyframe a second. */
static void classroom_start(Classroom *c, KtWall *wall, const char *label, guint32 argb)
{
	g_autofree char *desc = g_strdup_printf(
	    "videotestsrc is-live=true pattern=solid-color foreground-color=%u"
	    " ! video/x-raw,width=640,height=360,framerate=15/1"
	    " ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=15 ! rtpvp8pay pt=96 mtu=1200"
	    " ! appsink name=out sync=false",
	    argb);
	GstAppSinkCallbacks cbs = {.new_sample = on_sample};
	g_autoptr(GstElement) out = NULL;
	g_autoptr(GError) error = NULL;

	c->wall = wall;
	c->input = (gint)kt_wall_add_input(wall, label, 90000, &error);
	g_assert_no_error(error);
	g_assert_cmpint(c->input, >, 0);
	c->pipeline = gst_parse_launch(desc, &error);
	g_assert_no_error(error);
	out = gst_bin_get_by_name(GST_BIN(c->pipeline), "out");
	gst_app_sink_set_callbacks(GST_APP_SINK(out), &cbs, c, NULL);
	gst_element_set_state(c->pipeline, GST_STATE_PLAYING);
}

static void classroom_stop(Classroom *c)
{
	if (!c->pipeline)
		return;
	gst_element_set_state(c->pipeline, GST_STATE_NULL);
	gst_clear_object(&c->pipeline);
}

/* ---- the wall's own view ---- */

typedef struct {
	gint keyframes; /* on_keyframe calls */
	gint errors;
} Events;

static void on_keyframe(KtWall *wall, guint input, gpointer data)
{
	Events *ev = data;

	ev->keyframes++;
}

static void on_error(KtWall *wall, const GError *error, gpointer data)
{
	Events *ev = data;

	g_test_message("wall error: %s", error->message);
	ev->errors++;
}

static void assert_layout(KtWall *wall, guint columns, guint rows, const guint *inputs, guint n)
{
	g_autoptr(GArray) tiles = kt_wall_get_layout(wall);
	KtWallStats st;

	kt_wall_get_stats(wall, &st);
	g_assert_cmpuint(st.columns, ==, columns);
	g_assert_cmpuint(st.rows, ==, rows);
	g_assert_cmpuint(tiles->len, ==, n);
	for (guint i = 0; i < n; i++) {
		KtWallTile *t = &g_array_index(tiles, KtWallTile, i);

		g_assert_cmpuint(t->input, ==, inputs[i]);
		g_assert_cmpuint(t->tile, ==, i);
		g_assert_cmpint(t->width, ==, WIDTH / (gint)columns);
		g_assert_cmpint(t->height, ==, HEIGHT / (gint)rows);
		g_assert_cmpint(t->x, ==, (gint)(i % columns) * t->width);
		g_assert_cmpint(t->y, ==, (gint)(i / columns) * t->height);
	}
}

typedef struct {
	KtWall *wall;
	guint64 frames, chains;
} Progress;

static gboolean frames_rose(gpointer data)
{
	Progress *p = data;
	KtWallStats st;

	kt_wall_get_stats(p->wall, &st);
	return st.frames >= p->frames && st.chains >= p->chains;
}

/* The frames counter keeps rising: @more frames from now. */
static void assert_frames_rise(KtWall *wall, guint64 more)
{
	KtWallStats st;
	Progress p = {wall, 0, 0};

	kt_wall_get_stats(wall, &st);
	p.frames = st.frames + more;
	g_assert_true(wait_until(frames_rose, &p, 5000));
}

/* The textoverlay that draws @label: inside that input's chain. */
static GstElement *find_label(GstElement *pipeline, const char *label)
{
	g_autoptr(GstIterator) it = gst_bin_iterate_recurse(GST_BIN(pipeline));
	GValue v = G_VALUE_INIT;
	GstElement *found = NULL;

	while (!found && gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
		GstElement *e = g_value_get_object(&v);
		GstElementFactory *f = gst_element_get_factory(e);
		g_autofree char *text = NULL;

		if (f && g_str_equal(GST_OBJECT_NAME(f), "textoverlay")) {
			g_object_get(e, "text", &text, NULL);
			if (g_strcmp0(text, label) == 0)
				found = gst_object_ref(e);
		}
		g_value_reset(&v);
	}
	g_value_unset(&v);
	return found;
}

/* ---- the parts of the test ---- */

static void check_bad_config(KtRoom *room)
{
	KtWallConfig odd = {.width = 961};
	g_autoptr(GError) error = NULL;

	g_assert_null(kt_wall_new(room, &odd, &error));
	g_assert_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_null(kt_wall_new(NULL, NULL, &error));
	g_assert_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID);
}

/* Garbage, unknown ids, wrong codecs and wrong calls: counted, nothing else
 * changes. */
static void check_bad_input(KtWall *wall, Receiver *rx, const Classroom *rooms, const Spot *spots,
                            guint n_spots)
{
	g_autoptr(GArray) before = kt_wall_get_layout(wall);
	g_autoptr(GArray) after = NULL;
	g_autoptr(GError) error = NULL;
	guint8 pkt[300] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9};
	guint input = (guint)rooms[0].input;
	KtWallStats st0, st;

	kt_wall_get_stats(wall, &st0);
	kt_wall_push(wall, input, pkt, 5, KT_CODEC_VP8);            /* truncated */
	kt_wall_push(wall, input, NULL, 0, KT_CODEC_VP8);           /* nothing */
	kt_wall_push(wall, input, pkt, sizeof(pkt), KT_CODEC_OPUS); /* audio */
	kt_wall_push(wall, input, pkt, sizeof(pkt), KT_CODEC_NONE); /* no codec */
	kt_wall_push(wall, input, pkt, sizeof(pkt), KT_CODEC_N);    /* past the end */
	kt_wall_push(wall, 9999, pkt, sizeof(pkt), KT_CODEC_VP8);   /* no such input */
	kt_wall_push(wall, 0, pkt, sizeof(pkt), KT_CODEC_VP8);      /* id 0 */
	pkt[0] = 0x40;                                              /* RTP version 1 */
	kt_wall_push(wall, input, pkt, sizeof(pkt), KT_CODEC_VP8);
	g_assert_false(kt_wall_remove_input(wall, 9999, &error));
	g_assert_error(error, KT_WALL_ERROR, KT_WALL_ERROR_NO_INPUT);
	g_clear_error(&error);
	g_assert_false(kt_wall_set_mark(wall, 9999, KT_WALL_MARK_ON_STAGE, &error));
	g_assert_error(error, KT_WALL_ERROR, KT_WALL_ERROR_NO_INPUT);
	g_clear_error(&error);
	g_assert_false(kt_wall_set_mark(wall, input, KT_WALL_N_MARKS, &error));
	g_assert_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpuint(kt_wall_add_input(wall, "\xff\xfe", 90000, &error), ==, 0);
	g_assert_error(error, KT_WALL_ERROR, KT_WALL_ERROR_INVALID);
	g_clear_error(&error);
	kt_wall_get_stats(wall, &st);
	g_assert_cmpuint(st.rejected - st0.rejected, ==, 6);
	g_assert_cmpuint(st.unknown - st0.unknown, ==, 2);
	g_assert_cmpuint(st.inputs, ==, st0.inputs);
	after = kt_wall_get_layout(wall);
	g_assert_cmpuint(after->len, ==, before->len);
	g_assert_cmpmem(after->data, after->len * sizeof(KtWallTile), before->data,
	                before->len * sizeof(KtWallTile));

	/* Noise that claims to be VP8 keyframes, into a live input: its decoder
	 * shrugs it off, the picture stays. */
	for (guint16 seq = 0; seq < 50; seq++) {
		pkt[0] = 0x80;
		pkt[2] = 0xf0 | (seq >> 8);
		pkt[3] = seq & 0xff;
		pkt[12] = 0x10; /* VP8 descriptor: start of partition */
		pkt[13] = 0x00; /* keyframe */
		for (guint i = 14; i < sizeof(pkt); i++)
			pkt[i] = (guint8)g_random_int();
		kt_wall_push(wall, input, pkt, sizeof(pkt), KT_CODEC_VP8);
	}
	assert_frames_rise(wall, 15);
	assert_picture(rx, spots, n_spots);
}

/* Chain failure: an error posted inside one input's chain rebuilds that
 * input; the others keep flowing. */
static void check_chain_failure(KtWall *wall, Receiver *rx, const char *label, const Spot *spots,
                                guint n_spots)
{
	g_autoptr(GstElement) overlay = find_label(kt_wall_get_pipeline(wall), label);
	KtWallStats st;
	Progress p = {wall, 0, 0};

	g_assert_nonnull(overlay);
	kt_wall_get_stats(wall, &st);
	p.frames = st.frames + 15;
	p.chains = st.chains + 1;
	gst_element_post_message(
	    overlay,
	    gst_message_new_error(GST_OBJECT(overlay),
	                          g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
	                                              "injected by the test"),
	                          "test-wall"));
	g_assert_true(wait_until(frames_rose, &p, 10000));
	assert_picture(rx, spots, n_spots);
	kt_wall_get_stats(wall, &st);
	g_assert_false(st.failed);
}

static void test_wall(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(KtWorkerPool) pool = kt_worker_pool_new(2, &error);
	KtWorker *w = kt_worker_pool_get(pool, 0);
	KtRoomConfig rc = {.keyframe_interval_ms = 300, .rtx_cache_ms = 1000};
	KtRoomTrack track = {.kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .pt = 96,
	                     .clock_rate = 90000,
	                     .pli = TRUE,
	                     .nack = TRUE};
	Events ev = {0};
	KtWallConfig wc = {.on_keyframe = on_keyframe, .on_error = on_error, .user_data = &ev};
	PeerPair pair = {0};
	Receiver rx = {0};
	KtRoom *room = kt_room_new(w, &rc);
	Classroom rooms[4] = {{0}};
	KtWall *wall;
	KtWallStats st;

	g_assert_no_error(error);
	check_bad_config(room);
	peer_pair_connect(&pair, w, kt_worker_pool_get(pool, 1));
	kt_room_add_subscriber(room, pair.server, &track, 1);
	rx.peer = pair.client;
	receiver_start(&rx);

	wall = the_wall = kt_wall_new(room, &wc, &error);
	g_assert_no_error(error);
	kt_wall_get_stats(wall, &st);
	g_assert_cmpuint(st.columns, ==, 1);

	/* Three classrooms: a 2x2 grid, the fourth tile black. */
	classroom_start(&rooms[0], wall, "第一小学 3班", 0xffff0000);
	classroom_start(&rooms[1], wall, "第二小学 1班", 0xff00ff00);
	classroom_start(&rooms[2], wall, "Hope & <Light> 5班", 0xff0000ff);
	{
		const guint ids[] = {rooms[0].input, rooms[1].input, rooms[2].input};
		const Spot spots[] = {TILE(0, 0, RED), TILE(1, 0, GREEN), TILE(0, 1, BLUE),
		                      TILE(1, 1, BLACK)};

		assert_layout(wall, 2, 2, ids, 3);
		assert_picture(&rx, spots, G_N_ELEMENTS(spots));
		check_bad_input(wall, &rx, rooms, spots, G_N_ELEMENTS(spots));
		check_chain_failure(wall, &rx, "Hope &amp; &lt;Light&gt; 5班", spots,
		                    G_N_ELEMENTS(spots));
	}

	/* A fourth: it takes the fourth tile. */
	classroom_start(&rooms[3], wall, "第四中学 2班", 0xffffffff);
	{
		const guint ids[] = {rooms[0].input, rooms[1].input, rooms[2].input,
		                     rooms[3].input};
		const Spot spots[] = {TILE(0, 0, RED), TILE(1, 0, GREEN), TILE(0, 1, BLUE),
		                      TILE(1, 1, WHITE)};

		assert_layout(wall, 2, 2, ids, 4);
		assert_picture(&rx, spots, G_N_ELEMENTS(spots));
	}

	/* Markers: the border around the first tile's picture (6 px, above the
	 * letterboxed 16:9 picture at the top of its 480x270 tile). */
	{
		const Spot hand[] = {{200, 1, 80, 3, YELLOW}, TILE(0, 0, RED)};
		const Spot stage[] = {{200, 1, 80, 3, GREEN}, TILE(0, 0, RED)};
		const Spot none[] = {{200, 1, 80, 3, BLACK}, TILE(0, 0, RED)};

		g_assert_true(
		    kt_wall_set_mark(wall, rooms[0].input, KT_WALL_MARK_HAND_RAISED, &error));
		assert_picture(&rx, hand, G_N_ELEMENTS(hand));
		g_assert_true(
		    kt_wall_set_mark(wall, rooms[0].input, KT_WALL_MARK_ON_STAGE, &error));
		assert_picture(&rx, stage, G_N_ELEMENTS(stage));
		g_assert_true(kt_wall_set_mark(wall, rooms[0].input, KT_WALL_MARK_NONE, &error));
		assert_picture(&rx, none, G_N_ELEMENTS(none));
	}

	/* The second leaves: the others move up a tile, the fourth is black. */
	classroom_stop(&rooms[1]);
	g_assert_true(kt_wall_remove_input(wall, rooms[1].input, &error));
	{
		const guint ids[] = {rooms[0].input, rooms[2].input, rooms[3].input};
		const Spot spots[] = {TILE(0, 0, RED), TILE(1, 0, BLUE), TILE(0, 1, WHITE),
		                      TILE(1, 1, BLACK)};

		assert_layout(wall, 2, 2, ids, 3);
		assert_picture(&rx, spots, G_N_ELEMENTS(spots));
	}

	/* Two left: 2x1, each a letterboxed 480x270 picture in a 480x540 tile. */
	classroom_stop(&rooms[3]);
	g_assert_true(kt_wall_remove_input(wall, rooms[3].input, &error));
	{
		const guint ids[] = {rooms[0].input, rooms[2].input};
		const Spot spots[] = {
		    {220, 250, 40, 40, RED}, {700, 250, 40, 40, BLUE}, {220, 40, 40, 40, BLACK}};

		assert_layout(wall, 2, 1, ids, 2);
		assert_picture(&rx, spots, G_N_ELEMENTS(spots));
	}

	kt_wall_get_stats(wall, &st);
	g_test_message("frames %" G_GUINT64_FORMAT ", packets %" G_GUINT64_FORMAT
	               ", sent %" G_GUINT64_FORMAT ", chains %u, keyframe requests %d",
	               st.frames, st.packets, st.sent, st.chains, ev.keyframes);
	g_assert_cmpint(ev.errors, ==, 0);
	g_assert_cmpint(ev.keyframes, >=, 1);
	g_assert_cmpuint(st.sent, >, 0);
	g_assert_cmpuint(st.keyframe_requests, >=, 1); /* the subscriber's first */
	g_assert_cmpuint(st.chains, >=, 5);

	for (guint i = 0; i < G_N_ELEMENTS(rooms); i++)
		classroom_stop(&rooms[i]);
	kt_wall_free(wall);
	kt_wall_free(NULL);
	receiver_stop(&rx);
	kt_room_close(room);
	kt_room_unref(room);
	peer_pair_close(&pair);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	kt_gst_init();
	g_test_add_func("/wall/grid-to-subscriber", test_wall);
	return g_test_run();
}
