/* The program's fixed pipeline: background sources, mixers, encoders, muxer
 * and file, built once at creation and run until stop; the inputs' chains
 * (kt-program-input.c) join the mixers' request pads.
 *
 *   videotestsrc (live, black) -> compositor -> I420 WxH@fps -> x264enc -> tee --\
 *   audiotestsrc (live, silence) -> audiomixer -> tee -> AAC -> tee ---------> mp4mux -> file
 *                                                          \-- both tees --> HLS (kt-program-hls.c)
 *                               H.264 tee + raw mix tee ---------------------> WebRTC
 * (kt-program-webrtc.c)
 */
#include "kt-program-private.h"

#include "kt-gst.h"
#include "kt-settings.h"

/* Mp4 fragments: at most this long, so a crash loses little (<= 2 s). */
#define KT_PROGRAM_FRAGMENT_MS 1000
/* The mixers produce time T at T + this on the clock: inputs join at any
 * time, so the latency is fixed rather than queried (the jitter buffer's
 * 200 ms plus decoding and scaling). Audio and video use the same. */
#define KT_PROGRAM_MIXER_LATENCY_MS 250
#define KT_PROGRAM_MIXER_EXTRA_MS 100

/* The configuration's numbers: default, range. Even sizes for I420. */
static const KtSetting kt_program_settings[] = {
    {"width", G_STRUCT_OFFSET(KtProgramRecorderConfig, width), 1280, 64, 4096, TRUE},
    {"height", G_STRUCT_OFFSET(KtProgramRecorderConfig, height), 720, 64, 4096, TRUE},
    {"fps", G_STRUCT_OFFSET(KtProgramRecorderConfig, fps), 25, 1, 60, FALSE},
    {"video_kbps", G_STRUCT_OFFSET(KtProgramRecorderConfig, video_kbps), 1500, 100, 50000, FALSE},
    {"audio_kbps", G_STRUCT_OFFSET(KtProgramRecorderConfig, audio_kbps), 96, 16, 320, FALSE},
    {"hls_segment_s", G_STRUCT_OFFSET(KtProgramRecorderConfig, hls_segment_s), 2, 1, 10, FALSE},
    {"hls_window", G_STRUCT_OFFSET(KtProgramRecorderConfig, hls_window), 6, 3, 30, FALSE},
};

/* AAC encoders in order of preference, with the sample format each takes. */
typedef struct {
	const char *factory;
	const char *format;
} KtProgramAacEncoder;

static const KtProgramAacEncoder kt_program_aac_encoders[] = {
    {"voaacenc", "S16LE"},  /* VisualOn: the cheaper */
    {"avenc_aac", "F32LE"}, /* FFmpeg's native encoder */
};

/* The fixed part. The background sources keep both mixers live and running
 * from the first moment with nothing else linked: the video one is tiny and
 * drawn with alpha 0 (the compositor's own black background shows), the
 * audio one is silence. x264: zerolatency (no B-frames, no lookahead),
 * ultrafast, one thread (it encodes in the compositor's thread; sliced
 * threads only add wake-ups here), a keyframe every 2 s, constrained
 * baseline (what these settings make anyway; pinned for the WebRTC viewers,
 * kt-program-webrtc.c). Audio moves in 40 ms buffers, again for fewer
 * wake-ups; the raw mix is teed for the WebRTC branch's Opus (a tee with
 * one pad pushes straight through). Costs: bench/README.md. */
#define KT_PROGRAM_PIPELINE                                                                        \
	"videotestsrc name=vbg is-live=true pattern=black"                                         \
	" ! video/x-raw,format=I420,width=16,height=16,framerate=%u/1"                             \
	" ! compositor name=vmix background=black %s"                                              \
	" ! video/x-raw,format=I420,colorimetry=bt601,width=%u,height=%u,framerate=%u/1"           \
	",pixel-aspect-ratio=1/1"                                                                  \
	" ! x264enc name=venc tune=zerolatency speed-preset=ultrafast threads=1"                   \
	" key-int-max=%u bitrate=%u ! video/x-h264,profile=constrained-baseline"                   \
	" ! tee name=vtee allow-not-linked=true"                                                   \
	" audiotestsrc name=abg is-live=true wave=silence samplesperbuffer=1920"                   \
	" ! audio/x-raw,rate=48000,channels=2"                                                     \
	" ! audiomixer name=amix output-buffer-duration=40000000 %s"                               \
	" ! audio/x-raw,format=%s,rate=48000,channels=2 ! tee name=araw allow-not-linked=true"     \
	" ! audioconvert"                                                                          \
	" ! %s bitrate=%u ! tee name=atee allow-not-linked=true"

/* The file's branch, when there is a file. A tee with one pad pushes in the
 * encoder's own thread, so the muxer runs there as it always has. */
#define KT_PROGRAM_FILE_BRANCH                                                                     \
	" mp4mux name=mux fragment-duration=%u ! appsink name=sink"                                \
	" vtee. ! mux.video_0 atee. ! mux.audio_0"

/* Defaults for zeros, then ranges, from kt_program_settings. */
gboolean kt_program_config_apply(KtProgramRecorderConfig *c, GError **error)
{
	return kt_settings_apply(c, kt_program_settings, G_N_ELEMENTS(kt_program_settings),
	                         "program recorder", KT_PROGRAM_RECORDER_ERROR,
	                         KT_PROGRAM_RECORDER_ERROR_PIPELINE, error);
}

/* Streaming thread of the encoder: frames and duration for the stats. */
static GstPadProbeReturn on_video_encoded(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtProgramRecorder *r = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime end = GST_BUFFER_PTS(buf);

	if (GST_BUFFER_PTS_IS_VALID(buf) && GST_BUFFER_DURATION_IS_VALID(buf))
		end += GST_BUFFER_DURATION(buf);
	g_mutex_lock(&r->lock);
	if (r->stats.video_frames++ == 0 && GST_BUFFER_PTS_IS_VALID(buf)) {
		/* The file's time 0: the first frame's lesson time. */
		GstClockTime now = kt_gst_lesson_time(r->config.epoch_us);

		r->stats.first_time = GST_BUFFER_PTS(buf);
		r->stats.first_wall_us =
		    g_get_real_time() - (gint64)(now - MIN(now, r->stats.first_time)) / 1000;
	}
	if (GST_CLOCK_TIME_IS_VALID(end) && end > r->stats.first_time)
		r->stats.duration = MAX(r->stats.duration, end - r->stats.first_time);
	g_mutex_unlock(&r->lock);
	return GST_PAD_PROBE_OK;
}

static gboolean hide_pad(GstElement *element, GstPad *pad, gpointer data)
{
	g_object_set(pad, "alpha", 0.0, NULL);
	return TRUE;
}

static const KtProgramAacEncoder *find_aac_encoder(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(kt_program_aac_encoders); i++) {
		g_autoptr(GstElementFactory) f =
		    gst_element_factory_find(kt_program_aac_encoders[i].factory);

		if (f)
			return &kt_program_aac_encoders[i];
	}
	return NULL;
}

/* The fixed part of the pipeline, from KT_PROGRAM_PIPELINE. */
static GstElement *parse_pipeline(KtProgramRecorder *r, GError **error)
{
	const KtProgramRecorderConfig *c = &r->config;
	const KtProgramAacEncoder *aac = find_aac_encoder();
	g_autofree char *mixing = NULL, *desc = NULL, *what = NULL;

	if (!aac) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "recording %s: no AAC encoder (voaacenc, avenc_aac)", r->label);
		return NULL;
	}
	/* Both mixers start at their first buffer, which is their background
	 * source's first (both start now, within milliseconds; "set" would
	 * let a mixer time out before that and begin at 0), and have the same
	 * latency: audio and video stay aligned as their inputs' arrival times
	 * are. */
	mixing = g_strdup_printf(
	    "start-time-selection=first min-upstream-latency=%" G_GUINT64_FORMAT
	    " latency=%" G_GUINT64_FORMAT,
	    KT_PROGRAM_MIXER_LATENCY_MS * GST_MSECOND, KT_PROGRAM_MIXER_EXTRA_MS * GST_MSECOND);
	/* A keyframe every HLS segment (2 s by default; the file only needs
	 * one every few seconds, for seeking), so hlssink2 can cut there. */
	desc = g_strdup_printf(KT_PROGRAM_PIPELINE, c->fps, mixing, c->width, c->height, c->fps,
	                       c->hls_segment_s * c->fps, c->video_kbps, mixing, aac->format,
	                       aac->factory, c->audio_kbps * 1000);
	{
		g_autofree char *file =
		    r->path ? g_strdup_printf(KT_PROGRAM_FILE_BRANCH, KT_PROGRAM_FRAGMENT_MS)
		            : g_strdup("");
		g_autofree char *webrtc = kt_program_webrtc_describe(r);
		char *all = g_strconcat(desc, file, webrtc, NULL);

		g_free(desc);
		desc = all;
	}
	what = g_strdup_printf("recording %s", r->label);
	return kt_gst_parse_launch(desc, KT_PROGRAM_RECORDER_ERROR,
	                           KT_PROGRAM_RECORDER_ERROR_PIPELINE, what, error);
}

gboolean kt_program_pipeline_start(KtProgramRecorder *r, GstBusFunc on_message, GError **error)
{
	GstBin *bin;
	g_autoptr(GstElement) sink = NULL, venc = NULL;
	g_autoptr(GstPad) encoded = NULL;
	g_autoptr(GstBus) bus = NULL;

	r->pipeline = parse_pipeline(r, error);
	if (!r->pipeline)
		return FALSE;
	bin = GST_BIN(r->pipeline);
	r->compositor = gst_bin_get_by_name(bin, "vmix");
	r->audiomixer = gst_bin_get_by_name(bin, "amix");
	r->video_bg = gst_bin_get_by_name(bin, "vbg");
	r->audio_bg = gst_bin_get_by_name(bin, "abg");
	r->video_tee = gst_bin_get_by_name(bin, "vtee");
	r->audio_tee = gst_bin_get_by_name(bin, "atee");
	sink = gst_bin_get_by_name(bin, "sink");
	venc = gst_bin_get_by_name(bin, "venc");
	gst_element_foreach_sink_pad(r->compositor, hide_pad, NULL); /* the background */
	if ((sink && !kt_program_file_open(r, sink, error)) ||
	    (r->config.hls_dir && !kt_program_hls_start(r, error)) ||
	    !kt_program_webrtc_link(r, error)) {
		kt_program_pipeline_remove(r);
		return FALSE;
	}
	encoded = gst_element_get_static_pad(venc, "src");
	gst_pad_add_probe(encoded, GST_PAD_PROBE_TYPE_BUFFER, on_video_encoded, r, NULL);
	kt_gst_use_lesson_clock(GST_PIPELINE(r->pipeline), r->config.epoch_us);
	bus = gst_element_get_bus(r->pipeline);
	r->bus_watch = gst_bus_create_watch(bus);
	g_source_set_callback(r->bus_watch, G_SOURCE_FUNC(on_message), r, NULL);
	g_source_attach(r->bus_watch, r->control);
	if (gst_element_set_state(r->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
		g_autoptr(GError) gst_error = NULL;

		if (msg)
			gst_message_parse_error(msg, &gst_error, NULL);
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR,
		            gst_error && gst_error->domain == GST_RESOURCE_ERROR
		                ? KT_PROGRAM_RECORDER_ERROR_WRITE
		                : KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "recording %s: %s", r->label,
		            gst_error ? gst_error->message : "the pipeline did not start");
		kt_program_pipeline_remove(r);
		return FALSE;
	}
	return TRUE;
}

void kt_program_pipeline_remove(KtProgramRecorder *r)
{
	GHashTableIter iter;
	gpointer value;

	if (r->bus_watch) {
		g_source_destroy(r->bus_watch);
		g_clear_pointer(&r->bus_watch, g_source_unref);
	}
	if (!r->pipeline)
		return;
	gst_element_set_state(r->pipeline, GST_STATE_NULL);
	kt_program_hls_drop(r);
	g_hash_table_iter_init(&iter, r->inputs);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		kt_decode_chain_drop(&((KtProgramInput *)value)->dec);
	gst_clear_object(&r->compositor);
	gst_clear_object(&r->audiomixer);
	gst_clear_object(&r->video_bg);
	gst_clear_object(&r->audio_bg);
	gst_clear_object(&r->video_tee);
	gst_clear_object(&r->audio_tee);
	gst_clear_object(&r->pipeline);
	kt_program_file_close(r);
	kt_program_webrtc_drop(r);
}
