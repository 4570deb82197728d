/* The span of a media file's packet timestamps (kt-media-span.h). */
#include "kt-media-span.h"

#include <gst/gst.h>

#include "kt-gst.h"

typedef struct {
	GMutex lock; /* the demuxer may push its pads from more than one thread */
	GstClockTime first, end;
	GstElement *pipeline;
} Span;

static GstPadProbeReturn on_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	Span *s = data;
	GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
	GstClockTime t = GST_BUFFER_PTS_IS_VALID(b) ? GST_BUFFER_PTS(b) : GST_BUFFER_DTS(b);
	GstClockTime end = t;

	if (!GST_CLOCK_TIME_IS_VALID(t))
		return GST_PAD_PROBE_OK;
	if (GST_BUFFER_DURATION_IS_VALID(b))
		end += GST_BUFFER_DURATION(b);
	g_mutex_lock(&s->lock);
	if (!GST_CLOCK_TIME_IS_VALID(s->first) || t < s->first)
		s->first = t;
	if (!GST_CLOCK_TIME_IS_VALID(s->end) || end > s->end)
		s->end = end;
	g_mutex_unlock(&s->lock);
	return GST_PAD_PROBE_OK;
}

/* Each stream parsebin finds goes to its own fakesink, its buffers counted on the way. */
static void on_pad_added(GstElement *parsebin, GstPad *pad, gpointer data)
{
	Span *s = data;
	GstElement *sink = gst_element_factory_make("fakesink", NULL);
	g_autoptr(GstPad) sinkpad = NULL;

	if (!sink)
		return;
	g_object_set(sink, "sync", FALSE, NULL);
	gst_bin_add(GST_BIN(s->pipeline), sink);
	sinkpad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, s, NULL);
	if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
		g_warning("media span: cannot link a stream of parsebin");
	gst_element_sync_state_with_parent(sink);
}

/* Runs @s->pipeline to its end; FALSE with @error on an error message or the timeout. */
static gboolean run_to_eos(Span *s, guint timeout_s, GError **error)
{
	g_autoptr(GstBus) bus = gst_element_get_bus(s->pipeline);
	g_autoptr(GstMessage) msg = NULL;

	if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the file does not demux");
		return FALSE;
	}
	msg = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_s * GST_SECOND,
	                                 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	if (!msg) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "not read within %u s",
		            timeout_s);
		return FALSE;
	}
	if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
		g_autoptr(GError) err = NULL;

		gst_message_parse_error(msg, &err, NULL);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err->message);
		return FALSE;
	}
	return TRUE;
}

gint64 kt_media_span_ms(const char *path, guint timeout_s, GError **error)
{
	Span s = {.first = GST_CLOCK_TIME_NONE, .end = GST_CLOCK_TIME_NONE};
	GstElement *src, *parse;
	gboolean ok;

	kt_gst_init();
	s.pipeline = gst_pipeline_new("media-span");
	src = gst_element_factory_make("filesrc", NULL);
	parse = gst_element_factory_make("parsebin", NULL);
	if (!src || !parse) {
		g_clear_object(&src);
		g_clear_object(&parse);
		gst_object_unref(s.pipeline);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no filesrc or parsebin");
		return -1;
	}
	g_mutex_init(&s.lock);
	g_object_set(src, "location", path, NULL);
	gst_bin_add_many(GST_BIN(s.pipeline), src, parse, NULL);
	gst_element_link(src, parse);
	g_signal_connect(parse, "pad-added", G_CALLBACK(on_pad_added), &s);
	ok = run_to_eos(&s, timeout_s, error);
	gst_element_set_state(s.pipeline, GST_STATE_NULL);
	gst_object_unref(s.pipeline);
	g_mutex_clear(&s.lock);
	if (ok && (!GST_CLOCK_TIME_IS_VALID(s.first) || s.end <= s.first)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no timestamped packet");
		ok = FALSE;
	}
	return ok ? (gint64)((s.end - s.first) / GST_MSECOND) : -1;
}
