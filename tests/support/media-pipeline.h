/* Running GStreamer pipelines in the recorder and pipeline tests. Test thread only (it
 * runs the thread-default main context, where the recorders do their control-loop work). */
#pragma once

#include <gst/gst.h>

/* Runs the default main context until @pipeline (already PLAYING) posts EOS, at most 30 s;
 * asserts it was EOS, not an error. Leaves @pipeline in the NULL state. */
void media_pipeline_run_until_eos(GstElement *pipeline);

/* Builds @desc (gst_parse_launch syntax, ending in an element named "pay"), adds @sink
 * (e.g. kt_rtp_out_get_sink()) linked after "pay" and starts it; asserts on failure.
 * Returns the pipeline: set it to NULL and unref it. */
GstElement *media_pipeline_play_into(const char *desc, GstElement *sink);

/* One packet (an RTP packet from a payloader), on the pipeline's streaming thread, as a
 * media worker hands packets to a consumer. */
typedef void (*MediaPacketFunc)(const guint8 *data, gsize len, gpointer user_data);

/* Builds @desc (gst_parse_launch syntax, ending in a payloader), sends every buffer it
 * makes to @func and starts it; asserts on failure. Returns the pipeline: set it to NULL
 * and unref it. */
GstElement *media_pipeline_play_packets(const char *desc, MediaPacketFunc func, gpointer data);
