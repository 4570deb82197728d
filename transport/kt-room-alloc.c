/* A subscriber's estimate, split between the streams it receives by priority
 * (issue 5, "priorities when short"): audio first, then video in the order of
 * Source.priority (courseware, teacher camera, classroom cameras by default;
 * [media] video_priority). Worker thread, every room tick, before the
 * simulcast layer choice (kt-room-simulcast.c), which spends each stream's
 * budget with its own hysteresis and pauses a stream given none. */
#include "kt-alloc.h"
#include "kt-room-private.h"

#define MAX_SPLIT 64

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

static void split(Subscriber *sub)
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
		if (a[n].n_layers > 0)
			demand += a[n].layer_bps[a[n].n_layers - 1];
		of[n++] = ss;
	}
	/* Probe until the estimate would carry everything at its top layer. */
	kt_room_sub_set_demand(sub, (guint32)MIN(demand, G_MAXUINT32));
	if (sub->estimate_bps <= 0)
		return;
	guint32 left = kt_alloc_split((guint32)MIN(sub->estimate_bps, G_MAXUINT32), a, n);
	for (guint i = 0; i < n; i++)
		/* A stream that fits may also use what nobody else took; the layer
		 * choice's margins decide whether it goes up for it. */
		of[i]->budget_bps = a[i].layer >= 0 ? a[i].budget_bps + left : 0;
}

void kt_room_alloc_tick(KtRoom *room)
{
	for (guint i = 0; i < room->subscribers->len; i++) {
		Subscriber *sub = g_ptr_array_index(room->subscribers, i);
		guint32 e = kt_room_sub_get_estimate(sub);

		/* Without TWCC feedback there is no estimate here; one set for tests
		 * (kt_room_set_subscriber_estimate) then stays. */
		if (e > 0)
			sub->estimate_bps = e;
		split(sub);
	}
}
