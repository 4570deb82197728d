/* The program's layout: where each video slot goes in the picture, as a
 * table indexed by layout and slot. The layout is chosen by what is there:
 * courseware if any, else the cameras. Of several inputs in one slot the one
 * put there last is shown; the others are hidden (alpha 0, not fed).
 */
#include <string.h>

#include "kt-program-private.h"

typedef enum {
	KT_PLACE_HIDDEN,
	KT_PLACE_FULL,         /* the whole frame, aspect kept (letterboxed) */
	KT_PLACE_BOTTOM_LEFT,  /* picture-in-picture, a quarter of the width */
	KT_PLACE_BOTTOM_RIGHT, /* the same, on the right */
} KtProgramPlace;

typedef enum {
	KT_LAYOUT_COURSEWARE, /* courseware full, teacher and stage inset */
	KT_LAYOUT_CAMERAS,    /* teacher full, stage inset */
	KT_N_LAYOUTS,
} KtProgramLayout;

#define KT_N_VIDEO_SLOTS KT_PROGRAM_SLOT_AUDIO

typedef struct {
	KtProgramPlace place;
	guint zorder; /* above the background (0) */
} KtProgramSlotPlace;

static const KtProgramSlotPlace kt_program_layouts[KT_N_LAYOUTS][KT_N_VIDEO_SLOTS] = {
    [KT_LAYOUT_COURSEWARE] =
        {
            [KT_PROGRAM_SLOT_COURSEWARE] = {KT_PLACE_FULL, 1},
            [KT_PROGRAM_SLOT_TEACHER] = {KT_PLACE_BOTTOM_RIGHT, 3},
            [KT_PROGRAM_SLOT_STAGE] = {KT_PLACE_BOTTOM_LEFT, 2},
        },
    [KT_LAYOUT_CAMERAS] =
        {
            [KT_PROGRAM_SLOT_COURSEWARE] = {KT_PLACE_HIDDEN, 0},
            [KT_PROGRAM_SLOT_TEACHER] = {KT_PLACE_FULL, 1},
            [KT_PROGRAM_SLOT_STAGE] = {KT_PLACE_BOTTOM_RIGHT, 2},
        },
};

typedef struct {
	gint x, y, width, height;
} KtProgramRect;

/* Picture-in-picture: a quarter of the frame's width, the frame's aspect,
 * a margin of 1/40 of its height; even numbers for I420. */
static KtProgramRect place_rect(KtProgramPlace place, gint width, gint height)
{
	gint w = (width / 4) & ~1, h = (height / 4) & ~1, m = (height / 40) & ~1;

	switch (place) {
	case KT_PLACE_FULL:
		return (KtProgramRect){0, 0, width, height};
	case KT_PLACE_BOTTOM_LEFT:
		return (KtProgramRect){m, height - h - m, w, h};
	case KT_PLACE_BOTTOM_RIGHT:
		return (KtProgramRect){width - w - m, height - h - m, w, h};
	default:
		return (KtProgramRect){0, 0, 0, 0};
	}
}

/* The input shown in each video slot (the latest there), NULL = none. */
static void find_shown(KtProgramRecorder *r, KtProgramInput *shown[KT_N_VIDEO_SLOTS])
{
	GHashTableIter iter;
	gpointer value;

	memset(shown, 0, sizeof(KtProgramInput *) * KT_N_VIDEO_SLOTS);
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtProgramInput *in = value;

		if (in->kind != KT_MEDIA_VIDEO)
			continue;
		if (!shown[in->slot] || shown[in->slot]->order < in->order)
			shown[in->slot] = in;
	}
}

/* Control loop. The compositor pad and the scaled size of one input. The
 * chain scales down to fit its place keeping the aspect (in its own thread,
 * once per input frame); the compositor centres it there, and scales up
 * pictures smaller than their place. */
static void place_input(KtProgramRecorder *r, KtProgramInput *in, const KtProgramSlotPlace *p)
{
	KtProgramRect rect = place_rect(p->place, r->config.width, r->config.height);
	g_autoptr(GstCaps) caps = NULL, old = NULL;

	if (!in->dec.mixer_pad)
		return;
	if (p->place == KT_PLACE_HIDDEN) {
		g_object_set(in->dec.mixer_pad, "alpha", 0.0, NULL);
		return;
	}
	g_object_set(in->dec.mixer_pad, "xpos", rect.x, "ypos", rect.y, "width", rect.width,
	             "height", rect.height, "zorder", p->zorder, "alpha", 1.0, NULL);
	/* The output's format and colorimetry (VP8's): then the compositor only
	 * copies the picture into place. Without it the compositor converts a
	 * 720p picture (whose default colorimetry is bt709) every output frame. */
	caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "I420", "colorimetry",
	                           G_TYPE_STRING, "bt601", "width", GST_TYPE_INT_RANGE, 2,
	                           rect.width, "height", GST_TYPE_INT_RANGE, 2, rect.height,
	                           "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
	g_object_get(in->dec.size, "caps", &old, NULL);
	if (!old || !gst_caps_is_equal(old, caps)) /* a change renegotiates the chain */
		g_object_set(in->dec.size, "caps", caps, NULL);
}

void kt_program_layout_apply(KtProgramRecorder *r)
{
	KtProgramInput *shown[KT_N_VIDEO_SLOTS];
	KtProgramLayout layout;
	GHashTableIter iter;
	gpointer value;

	find_shown(r, shown);
	layout = shown[KT_PROGRAM_SLOT_COURSEWARE] ? KT_LAYOUT_COURSEWARE : KT_LAYOUT_CAMERAS;
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		KtProgramInput *in = value;
		const KtProgramSlotPlace *p;
		KtProgramSlotPlace hidden = {KT_PLACE_HIDDEN, 0};
		gboolean visible;

		if (in->kind != KT_MEDIA_VIDEO)
			continue;
		p = shown[in->slot] == in ? &kt_program_layouts[layout][in->slot] : &hidden;
		visible = p->place != KT_PLACE_HIDDEN;
		g_mutex_lock(&r->lock);
		if (visible && !in->shown) {
			/* Back on the picture after packets were skipped: decoding
			 * restarts at a keyframe. */
			in->dec.inlet.keyframe_seen = FALSE;
			in->dec.want_keyframe = TRUE;
			kt_program_schedule_wake(r);
		}
		in->shown = visible;
		g_mutex_unlock(&r->lock);
		place_input(r, in, p);
	}
}
