/* Source recorder: one room source to one file, without re-encoding.
 *
 * The media worker only copies packets into GstBuffers and hands them to an
 * appsrc that never blocks; everything that can take time (building the
 * pipeline, opening the file, finishing it) happens on the control loop,
 * woken through one idle source. Lock order: r->lock, then GStreamer's own.
 */
#include "kt-source-recorder.h"

#include <gst/app/gstappsrc.h>

#include "kt-gst.h"
#include "kt-media-trim.h"
#include "kt-rtp-in.h"
#include "kt-rtp.h"

/* clang-format off */
G_DEFINE_QUARK(kt-source-recorder-error-quark, kt_source_recorder_error)
/* clang-format on */

/* The appsrc queue may hold this much before packets are dropped: seconds of
 * video, so a slow disk stalls the file, never the worker. */
#define KT_RECORDER_MAX_QUEUED_BYTES (8 * 1024 * 1024)
/* Packets held while the control loop builds the pipeline. */
#define KT_RECORDER_MAX_PENDING_BYTES (2 * 1024 * 1024)
#define KT_RECORDER_FINISH_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define KT_RECORDER_KEYFRAME_RETRY_US (G_USEC_PER_SEC)

/* How each codec is depayloaded and stored. webmmux is written seekable
 * (duration and cues are added on a clean stop), but every cluster is
 * complete as written, so a killed recording plays up to its last cluster.
 * mp4mux writes the moov first, then a self-contained fragment every 500 ms
 * (ISO/IEC 14496-12 8.8), so a killed recording loses at most the running
 * fragment plus the jitter buffer's 200 ms. VP8 cannot go into MP4 here
 * (GStreamer 1.22's mp4mux has no VP8), hence WebM for VP8 and Opus. */
typedef struct {
	const char *chain; /* depayloader ... muxer, for gst_parse_launch */
	const char *extension;
	gboolean forward_only;
} KtRecorderFormat;

static const KtRecorderFormat kt_recorder_formats[KT_CODEC_N] = {
    [KT_CODEC_OPUS] = {"rtpopusdepay name=depay ! opusparse ! webmmux", "webm"},
    [KT_CODEC_VP8] =
        {"rtpvp8depay name=depay wait-for-keyframe=true request-keyframe=true ! webmmux", "webm"},
    [KT_CODEC_H264] = {"rtph264depay name=depay wait-for-keyframe=true request-keyframe=true ! "
                       "h264parse config-interval=-1"
                       " ! mp4mux fragment-duration=500",
                       "mp4", TRUE},
};

struct _KtSourceRecorder {
	char *base_path;
	KtMediaKind kind;
	guint clock_rate;
	KtSourceRecorderConfig config;
	GMainContext *control;

	GMutex lock;
	/* Guarded by lock. */
	KtCodec codec; /* of the running or awaited file */
	guint8 pt;
	gboolean want_keyframe;
	gint64 keyframe_asked_us;
	gboolean stopped, failed;
	KtRtpInlet inlet; /* into the pipeline of codec, or held until there is one */
	GSource *wake;    /* control-loop work is scheduled */
	KtSourceRecorderStats stats;

	/* Control loop only. */
	GstElement *pipeline;
	GstClockTime last_pts; /* streaming thread of the depayloader: of the running file */
	GSource *bus_watch;
	GPtrArray *paths; /* char *, NULL-terminated */
	GError *failure;
	gboolean stop_done;
	gboolean stop_ok;
};

static gboolean on_wake(gpointer data);

/* r->lock held. */
static void schedule_wake(KtSourceRecorder *r)
{
	if (r->wake)
		return;
	r->wake = g_idle_source_new();
	g_source_set_callback(r->wake, on_wake, r, NULL);
	g_source_attach(r->wake, r->control);
}

KtSourceRecorder *kt_source_recorder_new(const char *path_without_extension, KtMediaKind kind,
                                         guint clock_rate, const KtSourceRecorderConfig *config,
                                         GError **error)
{
	KtSourceRecorder *r;

	if (!path_without_extension || !*path_without_extension || kind >= KT_MEDIA_N_KINDS ||
	    clock_rate == 0) {
		g_set_error(error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_PIPELINE,
		            "invalid recorder arguments");
		return NULL;
	}
	kt_gst_init();
	r = g_new0(KtSourceRecorder, 1);
	r->base_path = g_strdup(path_without_extension);
	r->kind = kind;
	r->clock_rate = clock_rate;
	if (config)
		r->config = *config;
	if (r->config.epoch_us == 0)
		r->config.epoch_us = g_get_monotonic_time();
	r->control = g_main_context_ref_thread_default();
	g_mutex_init(&r->lock);
	kt_rtp_inlet_init(&r->inlet, KT_RECORDER_MAX_QUEUED_BYTES, KT_RECORDER_MAX_PENDING_BYTES);
	r->stats.first_time = GST_CLOCK_TIME_NONE;
	r->stats.last_time = GST_CLOCK_TIME_NONE;
	r->paths = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(r->paths, NULL);
	return r;
}

/* r->lock held. Still waiting for a keyframe: the request (or the keyframe)
 * may have been lost, so ask again, at most once per interval. */
static void ask_keyframe_again(KtSourceRecorder *r)
{
	gint64 now = g_get_monotonic_time();

	if (now - r->keyframe_asked_us < KT_RECORDER_KEYFRAME_RETRY_US)
		return;
	r->keyframe_asked_us = now;
	r->want_keyframe = TRUE;
	schedule_wake(r);
}

/* r->lock held. A packet of another codec than the file's: that file ends,
 * the next one starts at this codec's first keyframe. */
static void switch_codec(KtSourceRecorder *r, KtCodec codec, guint8 pt)
{
	r->codec = codec;
	r->pt = pt;
	r->want_keyframe = TRUE;
	r->keyframe_asked_us = g_get_monotonic_time();
	kt_rtp_inlet_reset(&r->inlet);
	schedule_wake(r);
}

/* r->lock held. */
static void count_packet(KtSourceRecorder *r, GstClockTime t, guint32 rtp_ts)
{
	KtSourceRecorderStats *s = &r->stats;
	gint64 wall = g_get_real_time();

	if (s->first_time == GST_CLOCK_TIME_NONE) {
		s->first_time = t;
		s->first_wall_us = wall;
		s->first_rtp_ts = rtp_ts;
	}
	s->last_time = t;
	s->last_wall_us = wall;
	s->last_rtp_ts = rtp_ts;
	s->packets++;
}

void kt_source_recorder_push(KtSourceRecorder *r, const guint8 *rtp, gsize len, KtCodec codec)
{
	KtRtpHeader h;
	GstClockTime t;

	if (kt_rtp_parse(rtp, len, &h) < 0 || codec <= KT_CODEC_NONE || codec >= KT_CODEC_N ||
	    kt_media_codec_kind(codec) != r->kind)
		return;
	g_mutex_lock(&r->lock);
	if (r->stopped || r->failed) {
		r->stats.dropped++;
		goto out;
	}
	if (codec != r->codec)
		switch_codec(r, codec, h.payload_type);
	t = kt_gst_lesson_time(r->config.epoch_us);
	switch (kt_rtp_inlet_push(&r->inlet, rtp, len, &h, codec, t)) {
	case KT_RTP_INLET_AWAIT_KEYFRAME:
		ask_keyframe_again(r);
		break;
	case KT_RTP_INLET_DROPPED:
		r->stats.dropped++;
		break;
	case KT_RTP_INLET_HELD:
		schedule_wake(r); /* the control loop builds the pipeline */
		count_packet(r, t, h.timestamp);
		break;
	case KT_RTP_INLET_PUSHED:
		count_packet(r, t, h.timestamp);
		break;
	}
out:
	g_mutex_unlock(&r->lock);
}

/* Streaming thread of the file sink: what reaches the disk. */
static GstPadProbeReturn on_sink_data(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtSourceRecorder *r = data;
	gsize size = 0;

	if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
		size = gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
	else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
		size = gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
	g_mutex_lock(&r->lock);
	r->stats.bytes_written += size;
	g_mutex_unlock(&r->lock);
	return GST_PAD_PROBE_OK;
}

/* Streaming thread: a depayloader lost data and asks upstream for a keyframe;
 * the publisher is the only one who can make one. */
static void on_keyframe_request(gpointer data)
{
	KtSourceRecorder *r = data;

	g_mutex_lock(&r->lock);
	if (!r->stopped && !r->failed) {
		r->want_keyframe = TRUE;
		schedule_wake(r);
	}
	g_mutex_unlock(&r->lock);
}

static void remove_pipeline(KtSourceRecorder *r)
{
	if (r->bus_watch) {
		g_source_destroy(r->bus_watch);
		g_clear_pointer(&r->bus_watch, g_source_unref);
	}
	if (r->pipeline) {
		gst_element_set_state(r->pipeline, GST_STATE_NULL);
		gst_clear_object(&r->pipeline);
	}
}

static void set_failure(KtSourceRecorder *r, const GError *gst_error)
{
	gint code = gst_error->domain == GST_RESOURCE_ERROR ? KT_SOURCE_RECORDER_ERROR_WRITE
	                                                    : KT_SOURCE_RECORDER_ERROR_PIPELINE;

	if (!r->failure)
		r->failure = g_error_new(KT_SOURCE_RECORDER_ERROR, code, "recording %s: %s",
		                         kt_source_recorder_get_path(r), gst_error->message);
}

/* Control loop. The owner's callback logs the failure; without one the
 * recorder does. */
static void report_failure(KtSourceRecorder *r)
{
	if (r->config.on_error)
		r->config.on_error(r, r->failure, r->config.user_data);
	else
		g_warning("%s", r->failure->message);
}

/* Control loop: the pipeline failed (typically a write error or a full
 * disk). Stop taking packets, drop the pipeline; the file keeps every
 * complete cluster or fragment written so far. */
static gboolean on_bus_message(GstBus *bus, GstMessage *msg, gpointer data)
{
	KtSourceRecorder *r = data;
	g_autoptr(GError) gst_error = NULL;

	if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
		return G_SOURCE_CONTINUE;
	gst_message_parse_error(msg, &gst_error, NULL);
	g_mutex_lock(&r->lock);
	r->failed = TRUE;
	kt_rtp_inlet_detach(&r->inlet);
	g_mutex_unlock(&r->lock);
	set_failure(r, gst_error);
	remove_pipeline(r); /* also destroys this watch, which GLib allows */
	/* The failed write may have left half a cluster or fragment: cut back to the last
	 * complete one so the file decodes cleanly (a full disk has room for a truncate). */
	if (kt_source_recorder_get_path(r))
		kt_media_trim_incomplete(kt_source_recorder_get_path(r), NULL, NULL);
	report_failure(r);
	return G_SOURCE_REMOVE;
}

/* Control loop. Ends the stream and waits until the muxer has finished the
 * file (duration, index), then removes the pipeline. */
static gboolean finish_pipeline(KtSourceRecorder *r, GError **error)
{
	g_autoptr(GstElement) src = NULL;
	g_autoptr(GstBus) bus = NULL;
	g_autoptr(GstMessage) msg = NULL;
	g_autoptr(GError) gst_error = NULL;
	gboolean ok = TRUE;

	if (!r->pipeline)
		return TRUE;
	src = gst_bin_get_by_name(GST_BIN(r->pipeline), "src");
	bus = gst_element_get_bus(r->pipeline);
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	msg = kt_gst_wait_eos(bus, KT_RECORDER_FINISH_TIMEOUT_US);
	if (!msg) {
		g_set_error(error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_TIMEOUT,
		            "recording %s: not finalised within %d s",
		            kt_source_recorder_get_path(r),
		            (int)(KT_RECORDER_FINISH_TIMEOUT_US / G_USEC_PER_SEC));
		ok = FALSE;
	} else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
		gst_message_parse_error(msg, &gst_error, NULL);
		set_failure(r, gst_error);
		g_propagate_error(error, g_error_copy(r->failure));
		ok = FALSE;
	}
	remove_pipeline(r);
	return ok;
}

static char *next_path(KtSourceRecorder *r, const KtRecorderFormat *f)
{
	guint n = r->paths->len; /* files so far + the NULL terminator */

	if (n == 1)
		return g_strdup_printf("%s.%s", r->base_path, f->extension);
	return g_strdup_printf("%s-%u.%s", r->base_path, n, f->extension);
}

static void add_probes(KtSourceRecorder *r, GstElement *sink)
{
	g_autoptr(GstPad) sink_pad = gst_element_get_static_pad(sink, "sink");

	gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
	                  on_sink_data, r, NULL);
}

/* Streaming thread: tells the muxer the file cannot seek (see
 * KtRecorderFormat.forward_only). */
static GstPadProbeReturn on_sink_query(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstQuery *q = GST_PAD_PROBE_INFO_QUERY(info);
	GstFormat format;

	if (GST_QUERY_TYPE(q) != GST_QUERY_SEEKING)
		return GST_PAD_PROBE_OK;
	gst_query_parse_seeking(q, &format, NULL, NULL, NULL);
	gst_query_set_seeking(q, format, FALSE, 0, -1);
	return GST_PAD_PROBE_HANDLED;
}

/* Streaming thread: frames leave the depayloader with strictly increasing timestamps, at
 * least 1 ms apart (WebM's resolution). Arrival-time stamps can tie when a publisher sends
 * two frames in one burst (a courseware share starting), and a file with tied timestamps
 * makes players and ffmpeg complain ("non monotonically increasing dts"). */
static GstPadProbeReturn on_depay_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	KtSourceRecorder *r = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime pts = GST_BUFFER_PTS(buf);

	if (!GST_CLOCK_TIME_IS_VALID(pts))
		return GST_PAD_PROBE_OK;
	if (GST_CLOCK_TIME_IS_VALID(r->last_pts) &&
	    pts / GST_MSECOND <= r->last_pts / GST_MSECOND) {
		buf = gst_buffer_make_writable(buf);
		pts = (r->last_pts / GST_MSECOND + 1) * GST_MSECOND;
		GST_BUFFER_PTS(buf) = pts;
		GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
		GST_PAD_PROBE_INFO_DATA(info) = buf;
	}
	r->last_pts = pts;
	return GST_PAD_PROBE_OK;
}

/* Control loop. Sets up appsrc, file sink, clock and bus of a parsed
 * pipeline and starts it. */
static gboolean start_pipeline(KtSourceRecorder *r, GstElement *pipeline, KtCodec codec, guint8 pt,
                               const char *path, GError **error)
{
	const KtRecorderFormat *f = &kt_recorder_formats[codec];
	g_autoptr(GstElement) src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
	g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
	g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);

	kt_rtp_inlet_configure_src(src, r->kind, codec, pt, r->clock_rate,
	                           KT_RECORDER_MAX_QUEUED_BYTES, on_keyframe_request, r);
	g_object_set(sink, "location", path, "async", FALSE, NULL);
	/* Unbuffered: what the muxer wrote is on disk if the process dies. */
	gst_util_set_object_arg(G_OBJECT(sink), "buffer-mode", "unbuffered");
	add_probes(r, sink);
	{
		g_autoptr(GstElement) depay = gst_bin_get_by_name(GST_BIN(pipeline), "depay");
		g_autoptr(GstPad) out = gst_element_get_static_pad(depay, "src");

		r->last_pts = GST_CLOCK_TIME_NONE;
		gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, on_depay_buffer, r, NULL);
	}
	if (f->forward_only) {
		g_autoptr(GstPad) sink_pad = gst_element_get_static_pad(sink, "sink");

		gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, on_sink_query,
		                  NULL, NULL);
	}
	kt_gst_use_lesson_clock(GST_PIPELINE(pipeline), r->config.epoch_us);
	r->bus_watch = gst_bus_create_watch(bus);
	g_source_set_callback(r->bus_watch, G_SOURCE_FUNC(on_bus_message), r, NULL);
	g_source_attach(r->bus_watch, r->control);
	r->pipeline = gst_object_ref(pipeline);
	if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
		g_autoptr(GError) gst_error = NULL;

		if (msg)
			gst_message_parse_error(msg, &gst_error, NULL);
		g_set_error(error, KT_SOURCE_RECORDER_ERROR,
		            gst_error && gst_error->domain == GST_RESOURCE_ERROR
		                ? KT_SOURCE_RECORDER_ERROR_WRITE
		                : KT_SOURCE_RECORDER_ERROR_PIPELINE,
		            "recording %s: %s", path,
		            gst_error ? gst_error->message : "the pipeline did not start");
		remove_pipeline(r);
		return FALSE;
	}
	return TRUE;
}

/* Control loop. A new pipeline and file for @codec. */
static gboolean build_pipeline(KtSourceRecorder *r, KtCodec codec, guint8 pt, GError **error)
{
	const KtRecorderFormat *f = &kt_recorder_formats[codec];
	g_autofree char *desc = NULL;
	g_autoptr(GstElement) pipeline = NULL;
	GError *parse_error = NULL;
	char *path;

	if (!f->chain) {
		g_set_error(error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_PIPELINE,
		            "recording %s: codec %s cannot be recorded", r->base_path,
		            kt_media_codec_name(codec));
		return FALSE;
	}
	/* 200 ms absorbs reordering and leaves time for retransmissions the
	 * room has already asked for; lost packets become gaps (do-lost). */
	desc = g_strdup_printf("appsrc name=src ! rtpjitterbuffer latency=200 do-lost=true"
	                       " ! %s ! filesink name=sink",
	                       f->chain);
	pipeline = gst_parse_launch(desc, &parse_error);
	if (!pipeline || parse_error) {
		g_set_error(error, KT_SOURCE_RECORDER_ERROR, KT_SOURCE_RECORDER_ERROR_PIPELINE,
		            "recording %s: %s", r->base_path,
		            parse_error ? parse_error->message : "no pipeline");
		g_clear_error(&parse_error);
		return FALSE;
	}
	gst_object_ref_sink(pipeline);
	path = next_path(r, f);
	g_ptr_array_insert(r->paths, r->paths->len - 1, path);
	g_mutex_lock(&r->lock);
	r->stats.files++;
	g_mutex_unlock(&r->lock);
	return start_pipeline(r, pipeline, codec, pt, path, error);
}

/* Control loop: finish the previous file if any, start one for the codec
 * the packets now carry, and feed it what was held meanwhile. */
static void rebuild(KtSourceRecorder *r, KtCodec codec, guint8 pt)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GstElement) src = NULL;

	if (!finish_pipeline(r, &error)) {
		/* That file is over (what it holds stays playable); the next goes on. */
		g_message("%s", error->message);
		g_clear_error(&error);
		g_clear_error(&r->failure);
	}
	if (!build_pipeline(r, codec, pt, &error)) {
		g_mutex_lock(&r->lock);
		r->failed = TRUE;
		kt_rtp_inlet_detach(&r->inlet);
		g_mutex_unlock(&r->lock);
		r->failure = g_steal_pointer(&error);
		report_failure(r);
		return;
	}
	if (r->config.on_file)
		r->config.on_file(r, kt_source_recorder_get_path(r), r->config.user_data);
	src = gst_bin_get_by_name(GST_BIN(r->pipeline), "src");
	g_mutex_lock(&r->lock);
	/* The codec may have changed again meanwhile: then the next wake-up
	 * replaces this pipeline. */
	if (r->codec == codec && !r->stopped && !r->failed)
		kt_rtp_inlet_attach(&r->inlet, GST_APP_SRC(src));
	g_mutex_unlock(&r->lock);
}

static gboolean on_wake(gpointer data)
{
	KtSourceRecorder *r = data;
	gboolean keyframe, build;
	KtCodec codec;
	guint8 pt;

	g_mutex_lock(&r->lock);
	g_clear_pointer(&r->wake, g_source_unref);
	keyframe = r->want_keyframe && !r->stopped && !r->failed;
	r->want_keyframe = FALSE;
	build =
	    !r->inlet.appsrc && !g_queue_is_empty(&r->inlet.pending) && !r->stopped && !r->failed;
	codec = r->codec;
	pt = r->pt;
	g_mutex_unlock(&r->lock);
	if (keyframe && r->config.on_keyframe)
		r->config.on_keyframe(r, r->config.user_data);
	if (build)
		rebuild(r, codec, pt);
	return G_SOURCE_REMOVE;
}

gboolean kt_source_recorder_stop(KtSourceRecorder *r, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (r->stop_done) {
		if (!r->stop_ok && r->failure)
			g_propagate_error(error, g_error_copy(r->failure));
		return r->stop_ok;
	}
	g_mutex_lock(&r->lock);
	r->stopped = TRUE;
	kt_rtp_inlet_detach(&r->inlet);
	if (r->wake) {
		g_source_destroy(r->wake);
		g_clear_pointer(&r->wake, g_source_unref);
	}
	g_mutex_unlock(&r->lock);
	r->stop_done = TRUE;
	r->stop_ok = finish_pipeline(r, &local) && !r->failure;
	if (!r->failure && local)
		r->failure = g_error_copy(local);
	if (!r->stop_ok)
		g_propagate_error(error, g_error_copy(r->failure));
	return r->stop_ok;
}

void kt_source_recorder_free(KtSourceRecorder *r)
{
	if (!r)
		return;
	kt_source_recorder_stop(r, NULL);
	g_ptr_array_unref(r->paths);
	g_clear_error(&r->failure);
	g_main_context_unref(r->control);
	g_mutex_clear(&r->lock);
	g_free(r->base_path);
	g_free(r);
}

const char *kt_source_recorder_get_path(KtSourceRecorder *r)
{
	guint n = r->paths->len;

	return n > 1 ? g_ptr_array_index(r->paths, n - 2) : NULL;
}

const char *const *kt_source_recorder_get_paths(KtSourceRecorder *r)
{
	return (const char *const *)r->paths->pdata;
}

void kt_source_recorder_get_stats(KtSourceRecorder *r, KtSourceRecorderStats *out)
{
	g_mutex_lock(&r->lock);
	*out = r->stats;
	g_mutex_unlock(&r->lock);
	out->duration =
	    out->first_time == GST_CLOCK_TIME_NONE ? 0 : out->last_time - out->first_time;
}
