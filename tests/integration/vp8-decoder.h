/* Test helper: the subscriber's side of a VP8 stream, as a browser would
 * decode it. RTP (payload type 96) pushed from the peer's worker goes through
 * a jitter buffer into vp8dec; every decoded picture (in @format, or the
 * decoder's own with NULL) goes to @on_frame on a streaming thread. */
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

typedef struct {
	GstElement *pipeline;
	GstAppSrc *src;
} Vp8Decoder;

typedef GstFlowReturn (*Vp8DecoderFrameFunc)(GstAppSink *sink, gpointer data);

/* Test thread. Builds and starts the decoder. */
void vp8_decoder_start(Vp8Decoder *d, const char *format, Vp8DecoderFrameFunc on_frame,
                       gpointer data);
/* Any thread (the peer's worker). One RTP packet; copied. */
void vp8_decoder_push(Vp8Decoder *d, const guint8 *rtp, gsize len);
/* Test thread. Stops and frees the decoder. */
void vp8_decoder_stop(Vp8Decoder *d);
