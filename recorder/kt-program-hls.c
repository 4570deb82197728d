/* The program as live HLS (the lesson broadcast): the encoded program, taken
 * off the tees that follow the program's encoders (no second encoding), is
 * handed to an output pipeline of its own that writes the segments:
 *
 *   program pipeline:
 *     vtee -> queue (leaky) -> appsink --\
 *     atee -> queue (leaky) -> appsink ---+-- (running time, from a keyframe)
 *   output pipeline (rebuilt after a failure):
 *     appsrc -> h264parse config-interval=-1 -> hlssink2.video
 *     appsrc -> aacparse (raw -> ADTS) ------> hlssink2.audio
 *       hlssink2: MPEG-TS segments cut at keyframes (one per segment
 *       length), a sliding playlist, old segments deleted
 *
 * Why this way:
 * - A pipeline of its own, so a failing output (a full or removed disk)
 *   is torn down and built again without touching the program: rebuilding
 *   hlssink2 inside the running program pipeline (a branch relinked to the
 *   tees) opened its first segment and never wrote to it (GStreamer 1.22).
 *   It is tried again after 1 s, then 2, 4 ... at most 30 s, and starts at
 *   the next keyframe; the delay starts over once a segment is written.
 * - The queues are leaky and the appsrcs drop rather than block: a slow
 *   disk for the broadcast drops broadcast data, it never stalls the
 *   encoders and so never the recording.
 * - Timestamps go over as running time of the program, less that of the
 *   keyframe the output started at, so each output starts at 0 whatever
 *   the encoders' segments (x264enc's starts 1000 hours in).
 * - h264parse repeats SPS/PPS before every keyframe: each segment starts
 *   decodable on its own, as a player joining mid-lesson needs.
 * - hlssink2 writes the playlist through g_file_replace (a new file renamed
 *   over the old): the server never serves half a playlist.
 * - Segments stay on disk a little longer than the playlist lists them
 *   (max-files = window + 4), so a player holding the previous playlist can
 *   still fetch what it lists.
 * - A rebuilt output goes on numbering segments where the last one stopped
 *   (start-index), so players never see a number again.
 */
#include "kt-program-private.h"

#include "kt-gst.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

/* Broadcast data a slow disk may hold up before it is dropped. */
#define KT_PROGRAM_HLS_QUEUE_S 4
/* Segments kept on disk beyond those the playlist lists. */
#define KT_PROGRAM_HLS_SPARE_FILES 4
/* Waits before rebuilding a failed output: doubled each time up to this. */
#define KT_PROGRAM_HLS_RETRY_MAX_S 30

#define KT_PROGRAM_HLS_QUEUE                                                                       \
	"queue max-size-buffers=0 max-size-bytes=0 max-size-time=%" G_GUINT64_FORMAT               \
	" leaky=downstream"

/* In the program pipeline. */
#define KT_PROGRAM_HLS_TAP                                                                         \
	KT_PROGRAM_HLS_QUEUE " name=hlsv ! appsink name=hlsv_sink sync=false async=false"          \
	                     " enable-last-sample=false " KT_PROGRAM_HLS_QUEUE                     \
	                     " name=hlsa ! appsink name=hlsa_sink sync=false async=false"          \
	                     " enable-last-sample=false"

/* The output pipeline. */
#define KT_PROGRAM_HLS_OUTPUT                                                                      \
	"appsrc name=v format=time is-live=true max-bytes=%" G_GUINT64_FORMAT                      \
	" block=false ! h264parse config-interval=-1 ! hls.video"                                  \
	" appsrc name=a format=time is-live=true max-bytes=%" G_GUINT64_FORMAT                     \
	" block=false ! aacparse ! hls.audio"                                                      \
	" hlssink2 name=hls target-duration=%u playlist-length=%u max-files=%u"                    \
	" send-keyframe-requests=false"

/* Bytes an appsrc holds before it drops: seconds of a generous bitrate. */
#define KT_PROGRAM_HLS_SRC_BYTES (KT_PROGRAM_HLS_QUEUE_S * 2 * 1024 * 1024)

enum { HLS_VIDEO, HLS_AUDIO };

/* The tees' pads to the tap, in this order: video, audio. */
static const char *const kt_program_hls_inputs[] = {"hlsv", "hlsa"};
static const char *const kt_program_hls_sinks[] = {"hlsv_sink", "hlsa_sink"};
static const char *const kt_program_hls_srcs[] = {"v", "a"};

static void start_output(KtProgramRecorder *r);

/* ---- the output pipeline ---- */

/* Control loop. Takes the output away from the appsinks, then stops it. */
static void stop_output(KtProgramRecorder *r)
{
	KtProgramHls *h = &r->hls;
	GstElement *out;

	g_mutex_lock(&h->lock);
	out = g_steal_pointer(&h->out);
	for (guint i = 0; i < G_N_ELEMENTS(h->src); i++)
		gst_clear_object(&h->src[i]);
	h->started = FALSE;
	g_mutex_unlock(&h->lock);
	if (h->bus_watch) {
		g_source_destroy(h->bus_watch);
		g_clear_pointer(&h->bus_watch, g_source_unref);
	}
	if (out) {
		kt_gst_stop(out); /* a failed hlssink2 does not stop by itself */
		gst_object_unref(out);
	}
}

static gboolean on_retry(gpointer data)
{
	KtProgramRecorder *r = data;

	g_clear_pointer(&r->hls.retry, g_source_unref);
	start_output(r);
	return G_SOURCE_REMOVE;
}

/* Control loop. The output failed: stop it, count it, try again later. */
static void output_failed(KtProgramRecorder *r, const char *why)
{
	KtProgramHls *h = &r->hls;

	stop_output(r);
	g_mutex_lock(&r->lock);
	r->stats.hls_failures++;
	g_mutex_unlock(&r->lock);
	h->backoff_s = h->backoff_s ? MIN(h->backoff_s * 2, KT_PROGRAM_HLS_RETRY_MAX_S) : 1;
	g_warning("%s: HLS output failed (the recording goes on): %s; trying again in %u s",
	          r->hls_dir, why, h->backoff_s);
	if (!h->retry) {
		h->retry = g_timeout_source_new_seconds(h->backoff_s);
		g_source_set_callback(h->retry, on_retry, r, NULL);
		g_source_attach(h->retry, r->control);
	}
}

/* Control loop: the output's bus. hlssink2 rewrites its playlist on its
 * splitmuxsink's "fragment closed" and only then passes the message up: a
 * segment counted is listed. */
static gboolean on_output_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtProgramRecorder *r = data;
	g_autoptr(GError) error = NULL;

	if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT &&
	    gst_message_has_name(msg, "splitmuxsink-fragment-closed")) {
		g_mutex_lock(&r->lock);
		r->stats.hls_segments++;
		g_mutex_unlock(&r->lock);
		r->hls.segments++;
		r->hls.backoff_s = 0; /* it works again */
		return G_SOURCE_CONTINUE;
	}
	if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
		return G_SOURCE_CONTINUE;
	gst_message_parse_error(msg, &error, NULL);
	output_failed(r, error->message); /* destroys this watch, which GLib allows */
	return G_SOURCE_REMOVE;
}

static GstElement *build_output(KtProgramRecorder *r, GError **error)
{
	const KtProgramRecorderConfig *c = &r->config;
	g_autofree char *desc =
	    g_strdup_printf(KT_PROGRAM_HLS_OUTPUT, (guint64)KT_PROGRAM_HLS_SRC_BYTES,
	                    (guint64)KT_PROGRAM_HLS_SRC_BYTES, c->hls_segment_s, c->hls_window,
	                    c->hls_window + KT_PROGRAM_HLS_SPARE_FILES);
	/* A rebuilt output names its segments apart from the last one's (which
	 * are still listed in players' playlists): segment100000.ts ... after the
	 * first rebuild, segment200000.ts ... after the second (kt-live.c takes
	 * up to 9 digits). */
	g_autofree char *name = r->hls.rebuilds
	                            ? g_strdup_printf("segment%u%%05d.ts", r->hls.rebuilds)
	                            : g_strdup("segment%05d.ts");
	g_autofree char *location = g_build_filename(r->hls_dir, name, NULL);
	g_autofree char *playlist = g_build_filename(r->hls_dir, "index.m3u8", NULL);
	g_autoptr(GstElement) sink = NULL;
	GError *parse_error = NULL;
	GstElement *out = gst_parse_launch(desc, &parse_error);

	if (!out || parse_error) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "HLS %s: %s", r->hls_dir,
		            parse_error ? parse_error->message : "no pipeline");
		g_clear_error(&parse_error);
		if (out)
			gst_object_unref(gst_object_ref_sink(out));
		return NULL;
	}
	gst_object_ref_sink(out);
	sink = gst_bin_get_by_name(GST_BIN(out), "hls");
	g_object_set(sink, "location", location, "playlist-location", playlist, NULL);
	return out;
}

/* Control loop. Builds and starts the output; the appsinks feed it from the
 * next keyframe. A failure to start counts as a failure (retried). */
static void start_output(KtProgramRecorder *r)
{
	KtProgramHls *h = &r->hls;
	g_autoptr(GError) error = NULL;
	g_autoptr(GstBus) bus = NULL;
	GstElement *out = build_output(r, &error);

	if (!out) {
		output_failed(r, error->message);
		return;
	}
	bus = gst_element_get_bus(out);
	h->bus_watch = gst_bus_create_watch(bus);
	g_source_set_callback(h->bus_watch, (GSourceFunc)(void (*)(void))on_output_message, r,
	                      NULL);
	g_source_attach(h->bus_watch, r->control);
	if (gst_element_set_state(out, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		kt_gst_stop(out);
		gst_object_unref(out);
		output_failed(r, "the output did not start");
		return;
	}
	g_mutex_lock(&h->lock);
	h->out = out;
	for (guint i = 0; i < G_N_ELEMENTS(h->src); i++)
		h->src[i] = gst_bin_get_by_name(GST_BIN(out), kt_program_hls_srcs[i]);
	h->started = FALSE;
	g_mutex_unlock(&h->lock);
	/* A rebuilt output starts at a keyframe: ask the encoder for one rather
	 * than wait up to a segment for it. */
	if (h->rebuilds++ > 0 && h->tap) {
		g_autoptr(GstPad) pad =
		    gst_element_get_static_pad(h->tap, kt_program_hls_inputs[0]);

		/* Pushed from the tap's sink pad: it travels upstream through the
		 * tee to the encoder (sent *to* a sink pad it would go nowhere). */
		gst_pad_push_event(pad, gst_video_event_new_upstream_force_key_unit(
		                            GST_CLOCK_TIME_NONE, TRUE, h->rebuilds));
	}
}

/* ---- the tap: appsinks in the program pipeline ---- */

/* Streaming thread of an appsink: one encoded buffer of the program, handed
 * to the output in running time from its first keyframe. */
static GstFlowReturn on_sample(GstAppSink *appsink, gpointer data, guint kind)
{
	KtProgramRecorder *r = data;
	KtProgramHls *h = &r->hls;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(appsink);
	GstBuffer *in = sample ? gst_sample_get_buffer(sample) : NULL;
	const GstSegment *seg = sample ? gst_sample_get_segment(sample) : NULL;
	GstClockTime pts, dts, base = 0;
	GstAppSrc *src = NULL;
	GstBuffer *out;

	if (!in || !seg || seg->format != GST_FORMAT_TIME)
		return GST_FLOW_OK;
	pts = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(in));
	dts = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_DTS(in));
	if (!GST_CLOCK_TIME_IS_VALID(pts))
		return GST_FLOW_OK;
	g_mutex_lock(&h->lock);
	if (h->out && kind == HLS_VIDEO && !h->started &&
	    !GST_BUFFER_FLAG_IS_SET(in, GST_BUFFER_FLAG_DELTA_UNIT)) {
		h->started = TRUE;
		h->base = GST_CLOCK_TIME_IS_VALID(dts) ? MIN(dts, pts) : pts;
	}
	if (h->out && h->started && pts >= h->base) {
		GstCaps *have = gst_app_src_get_caps(GST_APP_SRC(h->src[kind]));

		src = GST_APP_SRC(gst_object_ref(h->src[kind]));
		base = h->base;
		if (have)
			gst_caps_unref(have);
		else
			gst_app_src_set_caps(src, gst_sample_get_caps(sample));
	}
	g_mutex_unlock(&h->lock);
	if (!src)
		return GST_FLOW_OK;
	out = gst_buffer_copy(in); /* metadata only: the memory is shared */
	GST_BUFFER_PTS(out) = pts - base;
	GST_BUFFER_DTS(out) =
	    GST_CLOCK_TIME_IS_VALID(dts) && dts >= base ? dts - base : GST_CLOCK_TIME_NONE;
	/* Full (a slow disk): appsrc drops it, the program goes on. */
	gst_app_src_push_buffer(src, out);
	gst_object_unref(src);
	return GST_FLOW_OK;
}

/* Streaming thread: the program ended (a clean stop): the output ends too,
 * so hlssink2 closes its last segment and ends the playlist. */
static void on_eos(KtProgramRecorder *r, guint kind)
{
	KtProgramHls *h = &r->hls;
	GstAppSrc *src = NULL;

	g_mutex_lock(&h->lock);
	if (h->out)
		src = GST_APP_SRC(gst_object_ref(h->src[kind]));
	g_mutex_unlock(&h->lock);
	if (src) {
		gst_app_src_end_of_stream(src);
		gst_object_unref(src);
	}
}

static void on_video_eos(GstAppSink *appsink, gpointer data)
{
	on_eos(data, HLS_VIDEO);
}

static void on_audio_eos(GstAppSink *appsink, gpointer data)
{
	on_eos(data, HLS_AUDIO);
}

static GstFlowReturn on_video_sample(GstAppSink *appsink, gpointer data)
{
	return on_sample(appsink, data, HLS_VIDEO);
}

static GstFlowReturn on_audio_sample(GstAppSink *appsink, gpointer data)
{
	return on_sample(appsink, data, HLS_AUDIO);
}

static GstElement *build_tap(KtProgramRecorder *r, GError **error)
{
	static GstAppSinkCallbacks callbacks[] = {
	    {.eos = on_video_eos, .new_sample = on_video_sample},
	    {.eos = on_audio_eos, .new_sample = on_audio_sample},
	};
	guint64 queue = KT_PROGRAM_HLS_QUEUE_S * GST_SECOND;
	g_autofree char *desc = g_strdup_printf(KT_PROGRAM_HLS_TAP, queue, queue);
	GError *parse_error = NULL;
	GstElement *bin = gst_parse_bin_from_description(desc, FALSE, &parse_error);

	if (!bin || parse_error) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "HLS %s: %s", r->hls_dir,
		            parse_error ? parse_error->message : "no pipeline");
		g_clear_error(&parse_error);
		if (bin)
			gst_object_unref(gst_object_ref_sink(bin));
		return NULL;
	}
	gst_object_ref_sink(bin);
	for (guint i = 0; i < G_N_ELEMENTS(kt_program_hls_inputs); i++) {
		g_autoptr(GstElement) queue_element =
		    gst_bin_get_by_name(GST_BIN(bin), kt_program_hls_inputs[i]);
		g_autoptr(GstElement) sink =
		    gst_bin_get_by_name(GST_BIN(bin), kt_program_hls_sinks[i]);
		g_autoptr(GstPad) target = gst_element_get_static_pad(queue_element, "sink");

		gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks[i], r, NULL);
		gst_element_add_pad(bin, gst_ghost_pad_new(kt_program_hls_inputs[i], target));
	}
	return bin;
}

gboolean kt_program_hls_start(KtProgramRecorder *r, GError **error)
{
	GstElement *tees[] = {r->video_tee, r->audio_tee};
	GstElement *bin = build_tap(r, error);

	if (!bin)
		return FALSE;
	gst_bin_add(GST_BIN(r->pipeline), bin); /* the pipeline takes our reference */
	r->hls.tap = bin;
	/* Running before the tees link to it, so its pads are active when the
	 * tee gives them the stream's caps and segment. */
	if (!gst_element_sync_state_with_parent(bin)) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_WRITE,
		            "HLS %s: the output did not start", r->hls_dir);
		kt_program_hls_drop(r);
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(tees); i++) {
		g_autoptr(GstPad) in = gst_element_get_static_pad(bin, kt_program_hls_inputs[i]);

		r->hls.tee_pads[i] = gst_element_request_pad_simple(tees[i], "src_%u");
		if (gst_pad_link(r->hls.tee_pads[i], in) != GST_PAD_LINK_OK) {
			g_set_error(error, KT_PROGRAM_RECORDER_ERROR,
			            KT_PROGRAM_RECORDER_ERROR_PIPELINE, "HLS %s: cannot link %s",
			            r->hls_dir, kt_program_hls_inputs[i]);
			kt_program_hls_drop(r);
			return FALSE;
		}
	}
	start_output(r);
	return TRUE;
}

void kt_program_hls_finish(KtProgramRecorder *r, gint64 timeout_us)
{
	KtProgramHls *h = &r->hls;
	g_autoptr(GstBus) bus = NULL;
	g_autoptr(GstMessage) msg = NULL;

	if (!h->out || !h->started)
		return;
	/* Its watch would not run while this waits; the output goes away next. */
	if (h->bus_watch) {
		g_source_destroy(h->bus_watch);
		g_clear_pointer(&h->bus_watch, g_source_unref);
	}
	bus = gst_element_get_bus(h->out);
	msg = kt_gst_wait_eos(bus, timeout_us);
	if (!msg || GST_MESSAGE_TYPE(msg) != GST_MESSAGE_EOS)
		g_message("%s: the broadcast ended without its last segment", r->hls_dir);
}

void kt_program_hls_drop(KtProgramRecorder *r)
{
	GstElement *tees[] = {r->video_tee, r->audio_tee};

	if (r->hls.retry) {
		g_source_destroy(r->hls.retry);
		g_clear_pointer(&r->hls.retry, g_source_unref);
	}
	stop_output(r);
	/* The tees first: nothing is pushed into the tap while it stops. */
	for (guint i = 0; i < G_N_ELEMENTS(tees); i++) {
		if (!r->hls.tee_pads[i])
			continue;
		gst_element_release_request_pad(tees[i], r->hls.tee_pads[i]);
		gst_clear_object(&r->hls.tee_pads[i]);
	}
	if (!r->hls.tap)
		return;
	gst_element_set_state(r->hls.tap, GST_STATE_NULL);
	gst_bin_remove(GST_BIN(r->pipeline), r->hls.tap);
	r->hls.tap = NULL;
}

gboolean kt_program_hls_owns(KtProgramRecorder *r, GstObject *object)
{
	return r->hls.tap && (object == GST_OBJECT(r->hls.tap) ||
	                      gst_object_has_as_ancestor(object, GST_OBJECT(r->hls.tap)));
}

void kt_program_hls_failed(KtProgramRecorder *r, const GError *error)
{
	/* The tap itself (queues, appsinks) failed: nothing left to feed an output. */
	kt_program_hls_drop(r);
	g_mutex_lock(&r->lock);
	r->stats.hls_failures++;
	g_mutex_unlock(&r->lock);
	g_warning("%s: HLS tap failed, the broadcast stops (the recording goes on): %s", r->hls_dir,
	          error->message);
}
