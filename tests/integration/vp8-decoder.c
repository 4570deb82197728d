/* The test subscriber's VP8 decoder (vp8-decoder.h). */
#include "vp8-decoder.h"

void vp8_decoder_start(Vp8Decoder *d, const char *format, Vp8DecoderFrameFunc on_frame,
                       gpointer data)
{
	g_autofree char *convert =
	    format ? g_strdup_printf(" ! videoconvert ! video/x-raw,format=%s", format) : NULL;
	g_autofree char *desc = g_strdup_printf(
	    "appsrc name=src is-live=true format=time do-timestamp=true"
	    " caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96"
	    " ! rtpjitterbuffer latency=100 ! rtpvp8depay ! vp8dec%s"
	    " ! appsink name=frames sync=false",
	    convert ? convert : "");
	GstAppSinkCallbacks cbs = {.new_sample = on_frame};
	g_autoptr(GstElement) sink = NULL;
	GError *error = NULL;

	d->pipeline = gst_parse_launch(desc, &error);
	g_assert_no_error(error);
	d->src = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(d->pipeline), "src"));
	sink = gst_bin_get_by_name(GST_BIN(d->pipeline), "frames");
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cbs, data, NULL);
	gst_element_set_state(d->pipeline, GST_STATE_PLAYING);
}

void vp8_decoder_push(Vp8Decoder *d, const guint8 *rtp, gsize len)
{
	gst_app_src_push_buffer(d->src, gst_buffer_new_memdup(rtp, len));
}

void vp8_decoder_stop(Vp8Decoder *d)
{
	gst_element_set_state(d->pipeline, GST_STATE_NULL);
	gst_clear_object(&d->src);
	gst_clear_object(&d->pipeline);
}
