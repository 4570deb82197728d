/* Ingest: an RTSP/RTMP source decoded and published into room sources; torn
 * down and connected again with backoff when it fails. See kt-ingest.h. */
#include "kt-ingest.h"

#include <gst/app/gstappsink.h>

#include <string.h>

#include "kt-gst.h"
#include "kt-rtp-out.h"
#include "kt-settings.h"

/* clang-format off */
G_DEFINE_QUARK(kt-ingest-error-quark, kt_ingest_error)
/* clang-format on */

/* A source that has not delivered media this long after connecting, or has
 * stopped delivering it, is dropped and connected again: a camera that hangs
 * without closing its connection must not leave a frozen picture for good. */
#define KT_INGEST_START_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define KT_INGEST_STALL_US (10 * G_USEC_PER_SEC)
#define KT_INGEST_WATCH_MS 1000
/* rtspsrc's jitter buffer: absorbs a camera's network. */
#define KT_INGEST_RTSP_LATENCY_MS 200

static const KtSetting kt_ingest_settings[] = {
    {"max_width", G_STRUCT_OFFSET(KtIngestConfig, max_width), 1280, 16, 4096, TRUE},
    {"max_height", G_STRUCT_OFFSET(KtIngestConfig, max_height), 720, 16, 4096, TRUE},
    {"video_kbps", G_STRUCT_OFFSET(KtIngestConfig, video_kbps), 1200, 50, 20000, FALSE},
    {"audio_kbps", G_STRUCT_OFFSET(KtIngestConfig, audio_kbps), 32, 8, 256, FALSE},
    {"max_retry_s", G_STRUCT_OFFSET(KtIngestConfig, max_retry_s), 30, 1, 3600, FALSE},
};

static const char *const kt_ingest_schemes[] = {"rtsp", "rtsps", "rtmp", "rtmps"};

/* The fixed part: one branch per kind, waiting for uridecodebin's pads. VP8 in
 * real time (one keyframe every 3 s at most, and on request), Opus with
 * in-band FEC for lossy classrooms. */
#define KT_INGEST_VIDEO_BRANCH                                                                     \
	"videoconvert name=vin ! videoscale"                                                       \
	" ! video/x-raw,format=I420,width=[16,%u],height=[16,%u],pixel-aspect-ratio=1/1"           \
	" ! vp8enc deadline=1 cpu-used=8 end-usage=cbr target-bitrate=%u lag-in-frames=0"          \
	" keyframe-max-dist=90 error-resilient=default threads=2"                                  \
	" ! rtpvp8pay name=vpay pt=96 mtu=1200 picture-id-mode=15-bit "
/* With on_frame: the decoded picture goes to the owner (a ladder), not encoded. */
#define KT_INGEST_FRAME_BRANCH                                                                     \
	"videoconvert name=vin ! videoscale"                                                       \
	" ! video/x-raw,format=I420,width=[16,%u],height=[16,%u],pixel-aspect-ratio=1/1"           \
	" ! appsink name=vsink sync=false async=false max-buffers=2 drop=true"                     \
	" enable-last-sample=false "
/* A picture-only source still takes its sound, into a sink built with the
 * pipeline: a fakesink added from pad-added could miss the pipeline's state
 * change, and its FLUSHING stopped flvdemux's video too (the demuxer
 * combines its pads' flows): an RTMP source then never went live. */
#define KT_INGEST_NO_AUDIO_BRANCH                                                                  \
	"fakesink name=ain sync=false async=false enable-last-sample=false"
#define KT_INGEST_AUDIO_BRANCH                                                                     \
	"audioconvert name=ain ! audioresample ! audio/x-raw,rate=48000,channels=2"                \
	" ! opusenc bitrate=%u frame-size=20 inband-fec=true packet-loss-percentage=10"            \
	" ! rtpopuspay name=apay pt=111 mtu=1200 "

typedef enum { KT_INGEST_VIDEO, KT_INGEST_AUDIO, KT_INGEST_N_KINDS } KtIngestKind;

struct _KtIngest {
	KtRoom *room; /* ref */
	char *url, *safe_url;
	KtIngestConfig config;
	GMainContext *control;

	GMutex lock;
	KtIngestStats stats; /* lock */

	/* Control loop only. */
	GstElement *pipeline;
	GSource *bus_watch, *retry, *watch;
	KtRtpOut *out[KT_INGEST_N_KINDS];
	gboolean linked[KT_INGEST_N_KINDS]; /* streaming threads, under lock */
	gsize packets[KT_INGEST_N_KINDS];   /* atomic: RTP into the room, all attempts */
	guint backoff_s;
	gint64 started_us;    /* this attempt */
	guint64 seen_packets; /* at the last watch tick */
	gint64 last_media_us; /* when seen_packets last changed */
	gboolean live;
};

static void connect_now(KtIngest *in);

gboolean kt_ingest_check_url(const char *url, GError **error)
{
	const char *scheme = url ? g_uri_peek_scheme(url) : NULL;
	g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;

	for (guint i = 0; scheme && uri && g_uri_get_host(uri) && *g_uri_get_host(uri) &&
	                  i < G_N_ELEMENTS(kt_ingest_schemes);
	     i++)
		if (strcmp(scheme, kt_ingest_schemes[i]) == 0)
			return TRUE;
	g_set_error(error, KT_INGEST_ERROR, KT_INGEST_ERROR_INVALID,
	            "ingest: not an rtsp://, rtsps://, rtmp:// or rtmps:// URL with a host");
	return FALSE;
}

char *kt_ingest_safe_url(const char *url)
{
	g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NONE, NULL) : NULL;

	return uri ? g_uri_to_string_partial(uri, G_URI_HIDE_USERINFO) : g_strdup("(invalid)");
}

static void set_state(KtIngest *in, KtIngestState state, const char *reason, guint retry_s)
{
	g_mutex_lock(&in->lock);
	in->stats.state = state;
	g_mutex_unlock(&in->lock);
	if (in->config.on_state)
		in->config.on_state(in, state, reason, retry_s, in->config.user_data);
}

/* ---- streaming threads ---- */

/* Counts what reaches the room. */
static GstPadProbeReturn count_packet(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	/* rtpvp8pay pushes a frame's packets as one list. */
	guint n = info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST
	              ? gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info))
	              : 1;

	g_atomic_pointer_add((gsize *)data, n);
	return GST_PAD_PROBE_OK;
}

static guint64 packets_of(KtIngest *in, KtIngestKind kind)
{
	return g_atomic_pointer_get(&in->packets[kind]);
}

static KtIngestKind kind_of_caps(GstCaps *caps)
{
	const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));

	if (g_str_has_prefix(name, "video/"))
		return KT_INGEST_VIDEO;
	if (g_str_has_prefix(name, "audio/"))
		return KT_INGEST_AUDIO;
	return KT_INGEST_N_KINDS;
}

/* uridecodebin found a decoded stream: the first of each kind goes to its
 * branch, anything else (a second audio track, subtitles) into a fakesink, so
 * it never makes "not linked" errors. */
static void on_pad_added(GstElement *src, GstPad *pad, gpointer data)
{
	static const char *const branch[] = {"vin", "ain"};
	KtIngest *in = data;
	g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
	KtIngestKind kind = caps ? kind_of_caps(caps) : KT_INGEST_N_KINDS;
	GstElement *pipeline = GST_ELEMENT(gst_element_get_parent(src));
	gboolean take = FALSE;

	if (!pipeline)
		return;
	g_mutex_lock(&in->lock);
	if (kind < KT_INGEST_N_KINDS && !in->linked[kind])
		take = in->linked[kind] = TRUE;
	g_mutex_unlock(&in->lock);
	if (take) {
		g_autoptr(GstElement) head = gst_bin_get_by_name(GST_BIN(pipeline), branch[kind]);
		g_autoptr(GstPad) sink = gst_element_get_static_pad(head, "sink");

		gst_pad_link(pad, sink);
	} else {
		GstElement *fake = gst_element_factory_make("fakesink", NULL);
		g_autoptr(GstPad) sink = gst_element_get_static_pad(fake, "sink");

		g_object_set(fake, "sync", FALSE, "async", FALSE, NULL);
		gst_bin_add(GST_BIN(pipeline), fake);
		gst_element_sync_state_with_parent(fake);
		gst_pad_link(pad, sink);
	}
	gst_object_unref(pipeline);
}

/* rtspsrc's jitter buffer and transport; nothing to set for RTMP. */
static void on_source_setup(GstElement *bin, GstElement *source, gpointer data)
{
	if (g_object_class_find_property(G_OBJECT_GET_CLASS(source), "latency"))
		g_object_set(source, "latency", KT_INGEST_RTSP_LATENCY_MS, NULL);
}

/* ---- the control loop ---- */

static void teardown(KtIngest *in)
{
	if (in->watch) {
		g_source_destroy(in->watch);
		g_clear_pointer(&in->watch, g_source_unref);
	}
	if (in->bus_watch) {
		g_source_destroy(in->bus_watch);
		g_clear_pointer(&in->bus_watch, g_source_unref);
	}
	if (in->pipeline) {
		gst_element_set_state(in->pipeline, GST_STATE_NULL);
		gst_clear_object(&in->pipeline);
	}
	/* After NULL: no buffer reaches the outs any more. */
	for (guint k = 0; k < KT_INGEST_N_KINDS; k++) {
		g_clear_pointer(&in->out[k], kt_rtp_out_free);
		in->linked[k] = FALSE;
	}
	in->live = FALSE;
}

static gboolean on_retry(gpointer data)
{
	KtIngest *in = data;

	g_clear_pointer(&in->retry, g_source_unref);
	connect_now(in);
	return G_SOURCE_REMOVE;
}

/* The attempt failed or the source dropped: tear down, try again later. */
static void fail(KtIngest *in, const char *reason)
{
	teardown(in);
	g_mutex_lock(&in->lock);
	in->stats.failures++;
	g_mutex_unlock(&in->lock);
	in->backoff_s = in->backoff_s ? MIN(2 * in->backoff_s, in->config.max_retry_s) : 1;
	g_message("ingest %s: %s; connecting again in %u s", in->safe_url, reason, in->backoff_s);
	in->retry = g_timeout_source_new_seconds(in->backoff_s);
	g_source_set_callback(in->retry, on_retry, in, NULL);
	g_source_attach(in->retry, in->control);
	set_state(in, KT_INGEST_RECONNECTING, reason, in->backoff_s);
}

static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtIngest *in = data;
	g_autoptr(GError) error = NULL;
	g_autofree char *reason = NULL;

	switch (GST_MESSAGE_TYPE(msg)) {
	case GST_MESSAGE_ERROR:
		gst_message_parse_error(msg, &error, NULL);
		reason = g_strdup_printf("failed: %s", error->message);
		break;
	case GST_MESSAGE_EOS:
		reason = g_strdup("the source ended");
		break;
	default:
		return G_SOURCE_CONTINUE;
	}
	/* fail() destroys this watch, which GLib allows from its own callback. */
	fail(in, reason);
	return G_SOURCE_REMOVE;
}

/* Once a second: LIVE when media flows; dropped when it never started or
 * stopped. */
static gboolean on_watch(gpointer data)
{
	KtIngest *in = data;
	gint64 now = g_get_monotonic_time();
	guint64 packets;

	packets = packets_of(in, KT_INGEST_VIDEO) + packets_of(in, KT_INGEST_AUDIO);
	if (packets != in->seen_packets) {
		in->seen_packets = packets;
		in->last_media_us = now;
		if (!in->live) {
			in->live = TRUE;
			in->backoff_s = 0;
			g_message("ingest %s: live", in->safe_url);
			set_state(in, KT_INGEST_LIVE, NULL, 0);
		}
		return G_SOURCE_CONTINUE;
	}
	if (!in->live && now - in->started_us > KT_INGEST_START_TIMEOUT_US) {
		in->watch = NULL; /* fail() must not destroy the source running this */
		fail(in, "no media within 20 s");
		return G_SOURCE_REMOVE;
	}
	if (in->live && now - in->last_media_us > KT_INGEST_STALL_US) {
		in->watch = NULL;
		fail(in, "no media for 10 s");
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* An output branch's end: a KtRtpOut into @source after the payloader named
 * @payloader, counting what passes. */
static void add_out(KtIngest *in, GstElement *pipeline, KtIngestKind kind, guint source,
                    const char *payloader)
{
	KtRtpOutConfig oc = {
	    .source = source,
	    .kind = kind == KT_INGEST_VIDEO ? KT_MEDIA_VIDEO : KT_MEDIA_AUDIO,
	    .codec = kind == KT_INGEST_VIDEO ? KT_CODEC_VP8 : KT_CODEC_OPUS,
	    .clock_rate = kind == KT_INGEST_VIDEO ? 90000 : 48000,
	};
	g_autoptr(GstElement) pay = gst_bin_get_by_name(GST_BIN(pipeline), payloader);
	GstElement *sink;
	g_autoptr(GstPad) pad = NULL;

	in->out[kind] = kt_rtp_out_new(in->room, &oc);
	sink = kt_rtp_out_get_sink(in->out[kind]);
	gst_bin_add(GST_BIN(pipeline), sink);
	gst_element_link(pay, sink);
	/* On the payloader's side: KtRtpOut's own probe on its sink takes the
	 * buffers, later probes there would see none. */
	pad = gst_element_get_static_pad(pay, "src");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
	                  count_packet, &in->packets[kind], NULL);
}

/* Streaming thread: one decoded picture for on_frame; it counts as the
 * source's media (LIVE, the stall watch). */
static GstFlowReturn on_picture(GstAppSink *sink, gpointer data)
{
	KtIngest *in = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);

	if (!sample)
		return GST_FLOW_OK;
	g_atomic_pointer_add(&in->packets[KT_INGEST_VIDEO], 1);
	in->config.on_frame(in, sample, in->config.user_data);
	return GST_FLOW_OK;
}

static GstElement *build(KtIngest *in, GError **error)
{
	static GstAppSinkCallbacks picture = {.new_sample = on_picture};
	const KtIngestConfig *c = &in->config;
	g_autofree char *video =
	    c->on_frame ? g_strdup_printf(KT_INGEST_FRAME_BRANCH, c->max_width, c->max_height)
	                : g_strdup_printf(KT_INGEST_VIDEO_BRANCH, c->max_width, c->max_height,
	                                  c->video_kbps * 1000);
	g_autofree char *audio =
	    c->no_audio ? g_strdup(KT_INGEST_NO_AUDIO_BRANCH)
	                : g_strdup_printf(KT_INGEST_AUDIO_BRANCH, c->audio_kbps * 1000);
	g_autofree char *desc = g_strdup_printf("uridecodebin name=src %s %s", video, audio);
	GError *parse_error = NULL;
	GstElement *pipeline = gst_parse_launch(desc, &parse_error);

	if (!pipeline || parse_error) {
		g_set_error(error, KT_INGEST_ERROR, KT_INGEST_ERROR_INVALID, "ingest: %s",
		            parse_error ? parse_error->message : "no pipeline");
		g_clear_error(&parse_error);
		if (pipeline)
			gst_object_unref(gst_object_ref_sink(pipeline));
		return NULL;
	}
	gst_object_ref_sink(pipeline);
	if (c->on_frame) {
		g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "vsink");

		gst_app_sink_set_callbacks(GST_APP_SINK(sink), &picture, in, NULL);
	} else {
		add_out(in, pipeline, KT_INGEST_VIDEO, c->video_source, "vpay");
	}
	if (!c->no_audio)
		add_out(in, pipeline, KT_INGEST_AUDIO, c->audio_source, "apay");
	return pipeline;
}

static void connect_now(KtIngest *in)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GstElement) src = NULL;
	g_autoptr(GstBus) bus = NULL;

	g_mutex_lock(&in->lock);
	in->stats.attempts++;
	g_mutex_unlock(&in->lock);
	in->pipeline = build(in, &error);
	if (!in->pipeline) {
		fail(in, error->message);
		return;
	}
	src = gst_bin_get_by_name(GST_BIN(in->pipeline), "src");
	g_object_set(src, "uri", in->url, NULL);
	g_signal_connect(src, "pad-added", G_CALLBACK(on_pad_added), in);
	g_signal_connect(src, "source-setup", G_CALLBACK(on_source_setup), in);
	bus = gst_element_get_bus(in->pipeline);
	in->bus_watch = gst_bus_create_watch(bus);
	g_source_set_callback(in->bus_watch, G_SOURCE_FUNC(on_bus_message), in, NULL);
	g_source_attach(in->bus_watch, in->control);
	in->started_us = g_get_monotonic_time();
	in->watch = g_timeout_source_new(KT_INGEST_WATCH_MS);
	g_source_set_callback(in->watch, on_watch, in, NULL);
	g_source_attach(in->watch, in->control);
	if (gst_element_set_state(in->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
		g_autoptr(GError) gst_error = NULL;
		g_autofree char *reason = NULL;

		if (msg)
			gst_message_parse_error(msg, &gst_error, NULL);
		reason = g_strdup_printf("failed: %s", gst_error ? gst_error->message
		                                                 : "the source did not start");
		fail(in, reason);
	}
}

KtIngest *kt_ingest_new(KtRoom *room, const KtIngestConfig *config, GError **error)
{
	KtIngestConfig c = *config;
	KtIngest *in;

	if (!kt_ingest_check_url(c.url, error) ||
	    !kt_settings_apply(&c, kt_ingest_settings, G_N_ELEMENTS(kt_ingest_settings), "ingest",
	                       KT_INGEST_ERROR, KT_INGEST_ERROR_INVALID, error))
		return NULL;
	kt_gst_init();
	in = g_new0(KtIngest, 1);
	in->room = kt_room_ref(room);
	in->url = g_strdup(c.url);
	in->safe_url = kt_ingest_safe_url(c.url);
	in->config = c;
	in->config.url = in->url;
	in->control = g_main_context_ref_thread_default();
	g_mutex_init(&in->lock);
	in->stats.state = KT_INGEST_CONNECTING;
	g_message("ingest %s: connecting", in->safe_url);
	connect_now(in);
	return in;
}

void kt_ingest_free(KtIngest *in)
{
	if (!in)
		return;
	if (in->retry) {
		g_source_destroy(in->retry);
		g_clear_pointer(&in->retry, g_source_unref);
	}
	teardown(in);
	g_main_context_unref(in->control);
	kt_room_unref(in->room);
	g_mutex_clear(&in->lock);
	g_free(in->url);
	g_free(in->safe_url);
	g_free(in);
}

void kt_ingest_get_stats(KtIngest *in, KtIngestStats *out)
{
	g_mutex_lock(&in->lock);
	*out = in->stats;
	g_mutex_unlock(&in->lock);
	out->video_packets = packets_of(in, KT_INGEST_VIDEO);
	out->audio_packets = packets_of(in, KT_INGEST_AUDIO);
}
