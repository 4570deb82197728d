/* Waiting for a test pipeline's EOS while the control loop runs; test sources whose
 * packets go into a sink or a callback. */
#include "media-pipeline.h"

#include <gst/app/gstappsink.h>

void media_pipeline_run_until_eos(GstElement *pipeline)
{
	g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	GstMessage *msg = NULL;

	while (!msg && g_get_monotonic_time() < deadline) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		msg = gst_bus_timed_pop_filtered(bus, 10 * GST_MSECOND,
		                                 GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	}
	g_assert_nonnull(msg);
	g_assert_cmpint(GST_MESSAGE_TYPE(msg), ==, GST_MESSAGE_EOS);
	gst_message_unref(msg);
	gst_element_set_state(pipeline, GST_STATE_NULL);
}

GstElement *media_pipeline_play_into(const char *desc, GstElement *sink)
{
	GError *error = NULL;
	GstElement *p = gst_parse_launch(desc, &error);
	g_autoptr(GstElement) pay = NULL;

	g_assert_no_error(error);
	pay = gst_bin_get_by_name(GST_BIN(p), "pay");
	gst_bin_add(GST_BIN(p), sink);
	g_assert_true(gst_element_link(pay, sink));
	gst_element_set_state(p, GST_STATE_PLAYING);
	return p;
}

typedef struct {
	MediaPacketFunc func;
	gpointer data;
} PacketSink;

static GstFlowReturn on_packet(GstAppSink *sink, gpointer data)
{
	PacketSink *ps = data;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = gst_sample_get_buffer(sample);
	GstMapInfo map;

	if (!gst_buffer_map(buf, &map, GST_MAP_READ))
		return GST_FLOW_ERROR;
	ps->func(map.data, map.size, ps->data);
	gst_buffer_unmap(buf, &map);
	return GST_FLOW_OK;
}

GstElement *media_pipeline_play_packets(const char *desc, MediaPacketFunc func, gpointer data)
{
	g_autofree char *full = g_strdup_printf("%s ! appsink name=packets sync=false", desc);
	GstAppSinkCallbacks cbs = {.new_sample = on_packet};
	PacketSink *ps = g_new(PacketSink, 1);
	GError *error = NULL;
	GstElement *p = gst_parse_launch(full, &error);
	g_autoptr(GstElement) sink = NULL;

	g_assert_no_error(error);
	*ps = (PacketSink){func, data};
	sink = gst_bin_get_by_name(GST_BIN(p), "packets");
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, ps, g_free);
	g_assert_cmpint(gst_element_set_state(p, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
	return p;
}
