/* The ladder's fixed pipeline, built once at creation and run until free; the
 * input's decoding chain (kt-decode-chain.h) joins the funnel's request pad.
 *
 *   funnel -> tee -> per rung: queue -> videoscale -> videorate -> I420 WxH
 *     -> vp8enc -> rtpvp8pay -> KtRtpOut sink (layer i of n) -> the room
 */
#include "kt-ladder-private.h"

#include "kt-gst.h"
#include "kt-settings.h"

/* The default ladder (issue 6): what a 720p source is offered as. */
static const KtLadderRung kt_ladder_defaults[] = {
    {1280, 720, 1200, 30},
    {640, 360, 500, 30},
    {320, 180, 150, 30},
};

/* Each rung encodes in its own thread behind a queue of two pictures, leaky: a
 * rung that falls behind drops pictures rather than holding up the decoder and
 * the other rungs. Scaling keeps the input's aspect (borders); the frame rate is
 * capped by a probe on the queue (on_rung_picture), never raised: videorate
 * asserts on the decoder's variable frame rate (1.22: max-rate, drop-only, no
 * buffer duration), and the encoder's rate control follows the timestamps
 * anyway. VP8 for a live viewer, as the wall's:
 * realtime deadline, cpu-used=8, no frame lag (no alternate reference frames),
 * constant bit rate, error resilient, one thread. */
#define KT_LADDER_RUNG                                                                             \
	" t. ! queue name=q%u leaky=downstream max-size-buffers=2 max-size-bytes=0"                \
	" max-size-time=0 ! videoscale add-borders=true"                                           \
	" ! video/x-raw,format=I420,width=%u,height=%u,pixel-aspect-ratio=1/1"                     \
	" ! vp8enc name=enc%u deadline=1 cpu-used=8 lag-in-frames=0 threads=1 end-usage=cbr"       \
	" error-resilient=default keyframe-mode=auto keyframe-max-dist=%u target-bitrate=%u"       \
	" ! rtpvp8pay name=pay%u pt=96 mtu=1200 picture-id-mode=15-bit"

gboolean kt_ladder_config_apply(KtLadderConfig *c, GError **error)
{
	static const KtSetting keyframes[] = {
	    {"keyframe_seconds", G_STRUCT_OFFSET(KtLadderConfig, keyframe_seconds), 3, 1, 60,
	     FALSE},
	};

	if (c->n_rungs == 0) {
		memcpy(c->rungs, kt_ladder_defaults, sizeof(kt_ladder_defaults));
		c->n_rungs = G_N_ELEMENTS(kt_ladder_defaults);
	}
	if (c->n_rungs > KT_LADDER_MAX_RUNGS) {
		g_set_error(error, KT_LADDER_ERROR, KT_LADDER_ERROR_INVALID,
		            "ladder: %u rungs, at most %u", c->n_rungs, KT_LADDER_MAX_RUNGS);
		return FALSE;
	}
	for (guint i = 0; i < c->n_rungs; i++) {
		const KtLadderRung *d =
		    &kt_ladder_defaults[MIN(i, G_N_ELEMENTS(kt_ladder_defaults) - 1)];
		const KtSetting rung[] = {
		    {"width", G_STRUCT_OFFSET(KtLadderRung, width), d->width, 64, 4096, TRUE},
		    {"height", G_STRUCT_OFFSET(KtLadderRung, height), d->height, 64, 4096, TRUE},
		    {"kbps", G_STRUCT_OFFSET(KtLadderRung, kbps), d->kbps, 30, 20000, FALSE},
		    {"fps", G_STRUCT_OFFSET(KtLadderRung, fps), d->fps, 1, 60, FALSE},
		};
		g_autofree char *what = g_strdup_printf("ladder rung %u", i);

		if (!kt_settings_apply(&c->rungs[i], rung, G_N_ELEMENTS(rung), what,
		                       KT_LADDER_ERROR, KT_LADDER_ERROR_INVALID, error))
			return FALSE;
	}
	return kt_settings_apply(c, keyframes, G_N_ELEMENTS(keyframes), "ladder", KT_LADDER_ERROR,
	                         KT_LADDER_ERROR_INVALID, error);
}

/* ---- streaming threads ---- */

/* The decoded input's size: rungs larger than it stop (the smallest never). */
static GstPadProbeReturn on_input_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtLadder *l = data;
	GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
	GstCaps *caps;
	gint w = 0, h = 0;
	guint smallest = 0;

	(void)pad;
	if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS)
		return GST_PAD_PROBE_OK;
	gst_event_parse_caps(event, &caps);
	if (!gst_structure_get_int(gst_caps_get_structure(caps, 0), "width", &w) ||
	    !gst_structure_get_int(gst_caps_get_structure(caps, 0), "height", &h))
		return GST_PAD_PROBE_OK;
	g_atomic_int_set(&l->input_width, w);
	g_atomic_int_set(&l->input_height, h);
	for (guint i = 1; i < l->n_rungs; i++)
		if (l->rungs[i].rung.width * l->rungs[i].rung.height <
		    l->rungs[smallest].rung.width * l->rungs[smallest].rung.height)
			smallest = i;
	for (guint i = 0; i < l->n_rungs; i++) {
		const KtLadderRung *r = &l->rungs[i].rung;

		g_atomic_int_set(&l->rungs[i].running,
		                 i == smallest || (r->width <= (guint)w && r->height <= (guint)h));
	}
	return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_decoded(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	(void)pad;
	(void)info;
	__atomic_fetch_add(&((KtLadder *)data)->decoded, 1, __ATOMIC_RELAXED);
	return GST_PAD_PROBE_OK;
}

/* The rung's queue thread. A skipped rung's pictures stop before its scaler
 * (its caps still pass); so do those that would exceed its frame rate: one
 * picture per 1/fps, with a tenth of slack for the input's jitter. */
static GstPadProbeReturn on_rung_picture(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtLadderRungState *r = data;
	GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
	GstClockTime spacing = GST_SECOND * 9 / (10 * r->rung.fps);

	(void)pad;
	if (!g_atomic_int_get(&r->running))
		return GST_PAD_PROBE_DROP;
	if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(r->last_pts) &&
	    pts > r->last_pts && pts - r->last_pts < spacing)
		return GST_PAD_PROBE_DROP;
	r->last_pts = pts;
	return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn on_encoded(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	(void)pad;
	(void)info;
	__atomic_fetch_add(&((KtLadderRungState *)data)->frames, 1, __ATOMIC_RELAXED);
	return GST_PAD_PROBE_OK;
}

/* ---- building (control loop) ---- */

/* raw_input: the pictures wait here, at most three (the newest are kept), timed
 * on arrival by this pipeline's clock. */
#define KT_LADDER_RAW_INPUT                                                                        \
	"appsrc name=raw format=time is-live=true do-timestamp=true max-buffers=3"                 \
	" leaky-type=downstream ! videoconvert ! in. "

static GstElement *parse_pipeline(KtLadder *l, GError **error)
{
	g_autoptr(GString) desc = g_string_new(l->config.raw_input ? KT_LADDER_RAW_INPUT : "");

	g_string_append(desc, "funnel name=in ! tee name=t allow-not-linked=true");

	for (guint i = 0; i < l->n_rungs; i++) {
		const KtLadderRung *r = &l->rungs[i].rung;

		g_string_append_printf(desc, KT_LADDER_RUNG, i, r->width, r->height, i,
		                       l->config.keyframe_seconds * r->fps, r->kbps * 1000, i);
	}
	return kt_gst_parse_launch(desc->str, KT_LADDER_ERROR, KT_LADDER_ERROR_PIPELINE, "ladder",
	                           error);
}

static void add_probe(GstElement *pipeline, const char *name, guint index, const char *pad_name,
                      GstPadProbeType type, GstPadProbeCallback func, gpointer data)
{
	g_autofree char *full = g_strdup_printf("%s%u", name, index);
	g_autoptr(GstElement) e =
	    gst_bin_get_by_name(GST_BIN(pipeline), index == G_MAXUINT ? name : full);
	g_autoptr(GstPad) pad = gst_element_get_static_pad(e, pad_name);

	gst_pad_add_probe(pad, type, func, data, NULL);
}

/* Rung @i's payloader to the room as layer @i of the source. */
static gboolean link_rung(KtLadder *l, guint i, GError **error)
{
	KtLadderRungState *r = &l->rungs[i];
	KtRtpOutConfig oc = {.source = l->source,
	                     .kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .clock_rate = 90000,
	                     .layer = l->n_rungs > 1 ? i : 0,
	                     .n_layers = l->n_rungs > 1 ? l->n_rungs : 0};
	g_autofree char *pay_name = g_strdup_printf("pay%u", i);
	g_autoptr(GstElement) pay = gst_bin_get_by_name(GST_BIN(l->pipeline), pay_name);
	KtRtpOut *out = kt_rtp_out_new(l->room, &oc);
	GstElement *sink = kt_rtp_out_get_sink(out);

	g_mutex_lock(&l->lock);
	r->out = out;
	g_mutex_unlock(&l->lock);
	gst_bin_add(GST_BIN(l->pipeline), sink);
	if (!gst_element_link(pay, sink)) {
		g_set_error(error, KT_LADDER_ERROR, KT_LADDER_ERROR_PIPELINE,
		            "ladder: cannot link rung %u to the room", i);
		return FALSE;
	}
	add_probe(l->pipeline, "q", i, "src", GST_PAD_PROBE_TYPE_BUFFER, on_rung_picture, r);
	add_probe(l->pipeline, "enc", i, "src", GST_PAD_PROBE_TYPE_BUFFER, on_encoded, r);
	return TRUE;
}

gboolean kt_ladder_pipeline_start(KtLadder *l, GstBusFunc on_message, GError **error)
{
	l->pipeline = parse_pipeline(l, error);
	if (!l->pipeline)
		return FALSE;
	l->funnel = gst_bin_get_by_name(GST_BIN(l->pipeline), "in");
	if (l->config.raw_input) {
		GstElement *raw = gst_bin_get_by_name(GST_BIN(l->pipeline), "raw");

		g_mutex_lock(&l->lock);
		l->raw = raw;
		g_mutex_unlock(&l->lock);
	}
	add_probe(l->pipeline, "t", G_MAXUINT, "sink", GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
	          on_input_event, l);
	add_probe(l->pipeline, "t", G_MAXUINT, "sink", GST_PAD_PROBE_TYPE_BUFFER, on_decoded, l);
	for (guint i = 0; i < l->n_rungs; i++)
		if (!link_rung(l, i, error)) {
			kt_ladder_pipeline_remove(l);
			return FALSE;
		}
	l->bus_watch = kt_gst_start_watched(GST_PIPELINE(l->pipeline), l->config.epoch_us,
	                                    l->control, on_message, l);
	if (!l->bus_watch) {
		g_set_error(error, KT_LADDER_ERROR, KT_LADDER_ERROR_PIPELINE,
		            "ladder: the pipeline did not start");
		kt_ladder_pipeline_remove(l);
		return FALSE;
	}
	return TRUE;
}

void kt_ladder_read_rungs(KtLadder *l, KtLadderStats *out)
{
	out->n_rungs = l->n_rungs;
	for (guint i = 0; i < l->n_rungs; i++) {
		KtLadderRungState *r = &l->rungs[i];
		KtLadderRungStats *s = &out->rungs[i];
		KtRtpOutStats os = r->last;

		if (r->out)
			kt_rtp_out_get_stats(r->out, &os);
		s->width = r->rung.width;
		s->height = r->rung.height;
		s->kbps = r->rung.kbps;
		s->fps = r->rung.fps;
		s->running = g_atomic_int_get(&r->running);
		s->frames = __atomic_load_n(&r->frames, __ATOMIC_RELAXED);
		s->sent = os.packets;
		s->bytes = os.bytes;
		s->keyframe_requests = os.keyframe_requests;
	}
}

void kt_ladder_pipeline_remove(KtLadder *l)
{
	if (l->bus_watch) {
		g_source_destroy(l->bus_watch);
		g_clear_pointer(&l->bus_watch, g_source_unref);
	}
	if (l->pipeline) {
		gst_element_set_state(l->pipeline, GST_STATE_NULL);
		kt_decode_chain_drop(&l->dec);
	}
	g_mutex_lock(&l->lock);
	gst_clear_object(&l->raw); /* kt_ladder_push_frame takes its own ref under the lock */
	g_mutex_unlock(&l->lock);
	gst_clear_object(&l->funnel);
	gst_clear_object(&l->pipeline);
	/* After NULL: no buffer reaches the sinks any more. */
	for (guint i = 0; i < l->n_rungs; i++) {
		KtLadderRungState *r = &l->rungs[i];
		KtRtpOut *out;

		g_mutex_lock(&l->lock);
		out = g_steal_pointer(&r->out);
		if (out)
			kt_rtp_out_get_stats(out, &r->last);
		g_mutex_unlock(&l->lock);
		kt_rtp_out_free(out);
	}
}
