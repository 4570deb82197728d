/* Running GStreamer pipelines in the recorder tests. Test thread only (it runs the
 * thread-default main context, where the recorders do their control-loop work). */
#pragma once

#include <gst/gst.h>

/* Runs the default main context until @pipeline (already PLAYING) posts EOS, at most 30 s;
 * asserts it was EOS, not an error. Leaves @pipeline in the NULL state. */
void media_pipeline_run_until_eos(GstElement *pipeline);
