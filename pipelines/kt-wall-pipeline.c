/* The wall's fixed pipeline, built once at creation and run until free; the
 * inputs' chains (kt-decode-chain.h) join the compositor's request pads.
 *
 *   videotestsrc (live, black) -> compositor -> I420 WxH@fps -> vp8enc
 *     -> rtpvp8pay -> KtRtpOut sink -> the room's feed
 */
#include "kt-wall-private.h"

#include "kt-gst.h"
#include "kt-settings.h"

/* The compositor produces time T at T + this on the clock: inputs join at
 * any time, so the latency is fixed rather than queried (the jitter buffer's
 * 200 ms plus decoding and scaling), as in the program recorder. */
#define KT_WALL_MIXER_LATENCY_MS 250
#define KT_WALL_MIXER_EXTRA_MS 100
/* Keyframes unasked for: few, since the room asks for one for every new
 * subscriber and every PLI; enough that a receiver that lost one without
 * asking recovers. */
#define KT_WALL_KEYFRAME_SECONDS 4

/* The configuration's numbers: default, range. Even sizes for I420. */
static const KtSetting kt_wall_settings[] = {
    {"width", G_STRUCT_OFFSET(KtWallConfig, width), 960, 64, 4096, TRUE},
    {"height", G_STRUCT_OFFSET(KtWallConfig, height), 540, 64, 4096, TRUE},
    {"fps", G_STRUCT_OFFSET(KtWallConfig, fps), 15, 1, 60, FALSE},
    {"kbps", G_STRUCT_OFFSET(KtWallConfig, kbps), 800, 50, 20000, FALSE},
};

/* The background keeps the compositor live and running with no input: tiny,
 * drawn with alpha 0 (the compositor's own black shows). VP8 for a live
 * viewer: realtime deadline, the fastest speed that still looks right at
 * these sizes (cpu-used=8), no frame lag, constant bit rate, error resilient
 * (a receiver decodes on after a lost frame), one thread (it encodes in the
 * compositor's thread; the machine's other core decodes the inputs). */
#define KT_WALL_PIPELINE                                                                           \
	"videotestsrc name=bg is-live=true pattern=black"                                          \
	" ! video/x-raw,format=I420,width=16,height=16,framerate=%u/1"                             \
	" ! compositor name=mix background=black start-time-selection=first"                       \
	" min-upstream-latency=%" G_GUINT64_FORMAT " latency=%" G_GUINT64_FORMAT                   \
	" ! video/x-raw,format=I420,colorimetry=bt601,width=%u,height=%u,framerate=%u/1"           \
	",pixel-aspect-ratio=1/1"                                                                  \
	" ! vp8enc name=enc deadline=1 cpu-used=8 lag-in-frames=0 threads=1 end-usage=cbr"         \
	" error-resilient=default keyframe-mode=auto keyframe-max-dist=%u target-bitrate=%u"       \
	" ! rtpvp8pay name=pay pt=96 mtu=1200 picture-id-mode=15-bit"

gboolean kt_wall_config_apply(KtWallConfig *c, GError **error)
{
	return kt_settings_apply(c, kt_wall_settings, G_N_ELEMENTS(kt_wall_settings), "wall",
	                         KT_WALL_ERROR, KT_WALL_ERROR_INVALID, error);
}

/* Streaming thread of the encoder: pictures encoded. */
static GstPadProbeReturn on_encoded(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtWall *w = data;

	g_mutex_lock(&w->lock);
	w->stats.frames++;
	g_mutex_unlock(&w->lock);
	return GST_PAD_PROBE_OK;
}

static gboolean hide_pad(GstElement *element, GstPad *pad, gpointer data)
{
	g_object_set(pad, "alpha", 0.0, NULL);
	return TRUE;
}

static GstElement *parse_pipeline(const KtWallConfig *c, GError **error)
{
	g_autofree char *desc =
	    g_strdup_printf(KT_WALL_PIPELINE, c->fps, KT_WALL_MIXER_LATENCY_MS * GST_MSECOND,
	                    KT_WALL_MIXER_EXTRA_MS * GST_MSECOND, c->width, c->height, c->fps,
	                    KT_WALL_KEYFRAME_SECONDS * c->fps, c->kbps * 1000);

	return kt_gst_parse_launch(desc, KT_WALL_ERROR, KT_WALL_ERROR_PIPELINE, "wall", error);
}

/* The payloader's packets go to the room as a feed of the configured source. */
static gboolean link_feed(KtWall *w, GError **error)
{
	KtRtpOutConfig oc = {.source = w->config.source,
	                     .kind = KT_MEDIA_VIDEO,
	                     .codec = KT_CODEC_VP8,
	                     .clock_rate = 90000};
	g_autoptr(GstElement) pay = gst_bin_get_by_name(GST_BIN(w->pipeline), "pay");
	g_autoptr(GstElement) enc = gst_bin_get_by_name(GST_BIN(w->pipeline), "enc");
	g_autoptr(GstPad) encoded = gst_element_get_static_pad(enc, "src");
	GstElement *sink;

	g_mutex_lock(&w->lock);
	w->out = kt_rtp_out_new(w->room, &oc);
	g_mutex_unlock(&w->lock);
	sink = kt_rtp_out_get_sink(w->out);
	gst_bin_add(GST_BIN(w->pipeline), sink);
	if (!gst_element_link(pay, sink)) {
		g_set_error(error, KT_WALL_ERROR, KT_WALL_ERROR_PIPELINE,
		            "wall: cannot link the payloader to the room");
		return FALSE;
	}
	gst_pad_add_probe(encoded, GST_PAD_PROBE_TYPE_BUFFER, on_encoded, w, NULL);
	return TRUE;
}

gboolean kt_wall_pipeline_start(KtWall *w, GstBusFunc on_message, GError **error)
{
	g_autoptr(GstBus) bus = NULL;

	w->pipeline = parse_pipeline(&w->config, error);
	if (!w->pipeline)
		return FALSE;
	w->compositor = gst_bin_get_by_name(GST_BIN(w->pipeline), "mix");
	gst_element_foreach_sink_pad(w->compositor, hide_pad, NULL); /* the background */
	if (!link_feed(w, error)) {
		kt_wall_pipeline_remove(w);
		return FALSE;
	}
	kt_gst_use_lesson_clock(GST_PIPELINE(w->pipeline), w->config.epoch_us);
	bus = gst_element_get_bus(w->pipeline);
	w->bus_watch = gst_bus_create_watch(bus);
	g_source_set_callback(w->bus_watch, G_SOURCE_FUNC(on_message), w, NULL);
	g_source_attach(w->bus_watch, w->control);
	if (gst_element_set_state(w->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_set_error(error, KT_WALL_ERROR, KT_WALL_ERROR_PIPELINE,
		            "wall: the pipeline did not start");
		kt_wall_pipeline_remove(w);
		return FALSE;
	}
	return TRUE;
}

void kt_wall_pipeline_remove(KtWall *w)
{
	if (w->bus_watch) {
		g_source_destroy(w->bus_watch);
		g_clear_pointer(&w->bus_watch, g_source_unref);
	}
	if (w->pipeline) {
		gst_element_set_state(w->pipeline, GST_STATE_NULL);
		for (guint i = 0; i < w->order->len; i++)
			kt_decode_chain_drop(&((KtWallInput *)g_ptr_array_index(w->order, i))->dec);
	}
	gst_clear_object(&w->compositor);
	gst_clear_object(&w->pipeline);
	/* After NULL: no buffer reaches its sink any more. Its counters stay in
	 * the stats. */
	if (w->out) {
		KtRtpOut *out;

		g_mutex_lock(&w->lock);
		out = g_steal_pointer(&w->out);
		kt_wall_read_feed_stats(out, &w->stats);
		g_mutex_unlock(&w->lock);
		kt_rtp_out_free(out);
	}
}
