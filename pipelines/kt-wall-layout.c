/* The wall's grid: how many columns and rows for how many classrooms (a
 * table), where each tile is, and what is drawn on it (name, marker).
 *
 * Everything a tile shows is made in its input's chain, in that input's
 * streaming thread and once per input frame: the picture is scaled down to
 * fit inside the tile's border, the name is blended onto it (textoverlay
 * renders the text once, then only blends it), and videobox adds the border
 * around it. The compositor, in the one thread that also encodes, then only
 * copies each picture into place, centred (letterboxed) in its tile.
 *
 * The marker is a videobox border rather than a second compositor pad per
 * tile: a coloured pad would be one more picture per tile for the compositor
 * to blend every output frame, fed by one more live source per tile, while
 * the border costs one copy of the (small) picture per input frame and always
 * lies exactly around the picture, wherever the letterbox puts it. The
 * border is always there, black (the background) when unmarked, so marking
 * changes only its colour: no renegotiation, no change of size. A new colour
 * shows with the input's next frame.
 */
#include "kt-wall-private.h"

/* The chain's tail after the decoder (kt-decode-chain.h): scale to fit in
 * the tile (capsfilter "size", set here), name, marker. Format and
 * colorimetry are VP8's on both sides of the compositor, so it never
 * converts (see recorder/README.md). */
const char kt_wall_chain_tail[] = "videoscale ! videoconvert ! capsfilter name=size"
                                  " ! textoverlay name=label auto-resize=false"
                                  " valignment=bottom halignment=left shaded-background=true"
                                  " draw-shadow=false wrap-mode=none"
                                  " ! videobox name=box";

/* The label's fonts, in order (Pango family list): WenQuanYi Micro Hei
 * (fonts-wqy-microhei) has the Chinese glyphs. */
#define KT_WALL_FONT "WenQuanYi Micro Hei,Noto Sans CJK SC,Sans"

typedef struct {
	guint max_inputs; /* the grid holds up to this many */
	guint columns, rows;
} KtWallGrid;

static const KtWallGrid kt_wall_grids[] = {
    {1, 1, 1}, {2, 2, 1}, {4, 2, 2}, {6, 3, 2}, {9, 3, 3}, {KT_WALL_MAX_TILES, 4, 4},
};

/* The videobox fill of each marker. */
static const char *const kt_wall_mark_fill[KT_WALL_N_MARKS] = {
    [KT_WALL_MARK_NONE] = "black",
    [KT_WALL_MARK_HAND_RAISED] = "yellow",
    [KT_WALL_MARK_ON_STAGE] = "green",
};

static const KtWallGrid *grid_for(guint inputs)
{
	for (guint i = 0; i < G_N_ELEMENTS(kt_wall_grids); i++)
		if (inputs <= kt_wall_grids[i].max_inputs)
			return &kt_wall_grids[i];
	return &kt_wall_grids[G_N_ELEMENTS(kt_wall_grids) - 1];
}

/* Tile @i of @g in the picture; even numbers for I420, the grid centred. */
static void tile_rect(const KtWall *w, const KtWallGrid *g, guint i, KtWallTile *t)
{
	gint tw = (gint)(w->config.width / g->columns) & ~1;
	gint th = (gint)(w->config.height / g->rows) & ~1;
	gint x0 = (((gint)w->config.width - tw * (gint)g->columns) / 2) & ~1;
	gint y0 = (((gint)w->config.height - th * (gint)g->rows) / 2) & ~1;

	t->tile = i;
	t->x = x0 + (gint)(i % g->columns) * tw;
	t->y = y0 + (gint)(i / g->columns) * th;
	t->width = tw;
	t->height = th;
}

/* The border's width: visible at every grid size, even for I420. */
static gint border_of(const KtWallTile *t)
{
	return MAX(2, (t->height / 45) & ~1);
}

static void set_caps_if_changed(GstElement *capsfilter, GstCaps *caps)
{
	g_autoptr(GstCaps) old = NULL;

	g_object_get(capsfilter, "caps", &old, NULL);
	if (!old || !gst_caps_is_equal(old, caps)) /* a change renegotiates the chain */
		g_object_set(capsfilter, "caps", caps, NULL);
}

/* Control loop. The chain's scaled size, name and border for tile @t. */
static void dress_chain(KtWallInput *in, const KtWallTile *t)
{
	g_autoptr(GstElement) label = kt_decode_chain_get(&in->dec, "label");
	g_autoptr(GstElement) box = kt_decode_chain_get(&in->dec, "box");
	gint b = border_of(t);
	g_autoptr(GstCaps) caps = gst_caps_new_simple(
	    "video/x-raw", "format", G_TYPE_STRING, "I420", "colorimetry", G_TYPE_STRING, "bt601",
	    "width", GST_TYPE_INT_RANGE, 2, t->width - 2 * b, "height", GST_TYPE_INT_RANGE, 2,
	    t->height - 2 * b, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
	g_autofree char *font = g_strdup_printf("%s %dpx", KT_WALL_FONT, MAX(10, t->height / 12));
	gint left;

	set_caps_if_changed(in->dec.size, caps);
	if (label)
		g_object_set(label, "text", in->label, "font-desc", font, "xpad", b, "ypad", b,
		             NULL);
	if (!box)
		return;
	g_object_get(box, "left", &left, NULL);
	if (left != -b)
		g_object_set(box, "left", -b, "right", -b, "top", -b, "bottom", -b, NULL);
	gst_util_set_object_arg(G_OBJECT(box), "fill", kt_wall_mark_fill[in->mark]);
}

/* Control loop. One input's compositor pad and chain; @t NULL: no tile. */
static void place_input(KtWallInput *in, const KtWallTile *t)
{
	if (!in->dec.mixer_pad)
		return;
	if (!t) {
		g_object_set(in->dec.mixer_pad, "alpha", 0.0, NULL);
		return;
	}
	g_object_set(in->dec.mixer_pad, "xpos", t->x, "ypos", t->y, "width", t->width, "height",
	             t->height, "zorder", 1u, "alpha", 1.0, NULL);
	dress_chain(in, t);
}

void kt_wall_layout_apply(KtWall *w)
{
	const KtWallGrid *g = grid_for(w->order->len);

	g_mutex_lock(&w->lock);
	w->stats.columns = g->columns;
	w->stats.rows = g->rows;
	g_mutex_unlock(&w->lock);
	for (guint i = 0; i < w->order->len; i++) {
		KtWallInput *in = g_ptr_array_index(w->order, i);
		gboolean visible = i < g->columns * g->rows;
		KtWallTile t;

		g_mutex_lock(&w->lock);
		if (visible && !in->shown) {
			/* Back on a tile after packets were skipped: decoding
			 * restarts at a keyframe. */
			in->dec.inlet.keyframe_seen = FALSE;
			in->dec.want_keyframe = TRUE;
			kt_wall_schedule_wake(w);
		}
		in->shown = visible;
		g_mutex_unlock(&w->lock);
		in->tile = visible ? (gint)i : -1;
		tile_rect(w, g, i, &t);
		place_input(in, visible ? &t : NULL);
	}
}

void kt_wall_layout_mark(KtWall *w, KtWallInput *in)
{
	KtWallTile t;

	if (in->tile < 0)
		return;
	tile_rect(w, grid_for(w->order->len), (guint)in->tile, &t);
	place_input(in, &t);
}

GArray *kt_wall_layout_get(KtWall *w)
{
	const KtWallGrid *g = grid_for(w->order->len);
	GArray *tiles = g_array_new(FALSE, TRUE, sizeof(KtWallTile));

	for (guint i = 0; i < w->order->len && i < g->columns * g->rows; i++) {
		KtWallInput *in = g_ptr_array_index(w->order, i);
		KtWallTile t;

		tile_rect(w, g, i, &t);
		t.input = in->id;
		t.mark = in->mark;
		g_array_append_val(tiles, t);
	}
	return tiles;
}
