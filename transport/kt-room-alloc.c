/* A subscriber's estimate, split between the streams it receives by priority
 * (issue 5, "priorities when short"): audio first, then video in the order of
 * Source.priority (courseware, teacher camera, classroom cameras). Worker
 * thread, every room tick, before the simulcast layer choice
 * (kt-room-simulcast.c), which spends each simulcast stream's budget with its
 * own hysteresis and pauses one given none; a single-layer video stream given
 * none is paused here (kt-room-pause.c). */
#include "kt-alloc.h"
#include "kt-layer-select.h"
#include "kt-room-private.h"

#define MAX_SPLIT 64
/* A stream is paused only when its share has stayed below its lowest layer
 * this long: a keyframe burst of another stream, or one low sample of the
 * estimate, must not blank a classroom's picture. */
#define PAUSE_AFTER_US (2 * G_USEC_PER_SEC)

/* What @ss's source needs per layer, lowest first, into @a. */
static void describe(SubStream *ss, KtAllocStream *a)
{
	Source *s = ss->source;

	*a = (KtAllocStream){.audio = s->kind == KT_MEDIA_AUDIO, .priority = s->priority};
	if (kt_room_sim_layered(s)) {
		a->n_layers = kt_room_sim_ladder_bps(s, a->layer_bps, KT_ALLOC_MAX_LAYERS);
	} else {
		a->layer_bps[0] = s->bitrate_bps;
		a->n_layers = 1;
	}
}

/* What a stream short of its lowest layer is given while it has not been so
 * for PAUSE_AFTER_US: its lowest layer with room to spare, for the layer
 * choice (kt-layer-select.c) measures the layers again after this split, and
 * a keyframe window can lift the lowest layer's rate by more than the 10 %
 * under which it pauses at once. Never as much as the next layer: holding
 * on is not going up. */
static guint32 hold_budget(const KtAllocStream *a)
{
	guint32 hold = a->layer_bps[0] + a->layer_bps[0] / 2;

	if (a->n_layers > 1 && a->layer_bps[1] > a->layer_bps[0])
		hold = MIN(hold, a->layer_bps[1] - 1);
	return MAX(hold, a->layer_bps[0]);
}

/* @ss's share: what kt_alloc_split gave it, or, while it has not fitted for
 * less than PAUSE_AFTER_US, its lowest layer (hold_budget).
 *
 * The time short starts only once the subscriber's path has bounded its
 * estimate (kt_room_sub_estimate_bounded). A new subscriber's estimate starts
 * at 300 kbit/s and climbs by probes and 8 % a second; a 1.5 Mbit/s stream
 * without simulcast (the lesson program, a classroom camera) is short of it
 * from the first tick, and a probe that a busy receiver's clock made look
 * slow holds the climb for 3 s. Paused after 2 s, such a stream went dark on
 * loopback (e2e/program-whep under load). Meanwhile it is sent whole, which
 * tests the path: a link that cannot carry it over-uses or loses within a
 * second, and from then on the 2 s count. */
static guint32 share(SubStream *ss, const KtAllocStream *a, guint32 left, gint64 now)
{
	if (a->layer >= 0) {
		ss->short_since_us = 0;
		/* It may also use what nobody else took; the layer choice's
		 * margins decide whether it goes up for it. */
		return a->budget_bps + left;
	}
	if (!ss->short_since_us && !kt_room_sub_estimate_bounded(ss->sub) && a->n_layers > 0)
		return hold_budget(a);
	if (!ss->short_since_us)
		ss->short_since_us = now;
	if (now - ss->short_since_us < PAUSE_AFTER_US && a->n_layers > 0)
		return hold_budget(a);
	return 0;
}

static void split(Subscriber *sub, gint64 now)
{
	KtAllocStream a[MAX_SPLIT];
	SubStream *of[MAX_SPLIT];
	guint n = 0;
	guint64 demand = 0;

	for (guint i = 0; i < sub->streams->len && n < MAX_SPLIT; i++) {
		SubStream *ss = g_ptr_array_index(sub->streams, i);

		if (ss->source->muted)
			continue;
		describe(ss, &a[n]);
		/* A simulcast stream goes up only when the estimate carries its
		 * next layer with a margin: probe as far as that. */
		if (a[n].n_layers > 1)
			demand += (guint64)(KT_LAYER_UP_MARGIN * a[n].layer_bps[a[n].n_layers - 1]);
		else if (a[n].n_layers > 0 && ss->pause.on)
			/* A paused one resumes only with a margin: probe that far. */
			demand += (guint64)(KT_ROOM_RESUME_MARGIN * a[n].layer_bps[0]);
		else if (a[n].n_layers > 0)
			demand += a[n].layer_bps[0];
		of[n++] = ss;
	}
	/* Probe until the estimate would carry everything at its top layer. */
	kt_room_sub_set_demand(sub, (guint32)MIN(demand, G_MAXUINT32));
	if (sub->estimate_bps <= 0) {
		/* Nothing to split: single-layer video goes back to flowing. */
		for (guint i = 0; i < n; i++)
			kt_room_pause_release(sub->room, of[i], now);
		return;
	}
	guint32 left = kt_alloc_split((guint32)MIN(sub->estimate_bps, G_MAXUINT32), a, n);
	for (guint i = 0; i < n; i++) {
		of[i]->budget_bps = share(of[i], &a[i], left, now);
		if (kt_room_pause_applies(of[i]))
			kt_room_pause_update(sub->room, of[i], of[i]->budget_bps, a[i].layer_bps[0],
			                     now);
	}
}

void kt_room_alloc_tick(KtRoom *room, gint64 now)
{
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);

		/* A subscriber without transport-cc has no estimate (0): its
		 * layer choice runs on the loss it reports. */
		if (!sub->estimate_pinned)
			sub->estimate_bps = kt_room_sub_get_estimate(sub);
		split(sub, now);
	}
}
