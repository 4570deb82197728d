/* Test helper: the subscriber's side of a VP8 stream, as a browser would
 * decode it. RTP (payload type 96) pushed from the peer's worker goes through
 * a jitter buffer into vp8dec; every decoded picture (in @format, or the
 * decoder's own with NULL) goes to @on_frame on a streaming thread.
 * Vp8Receiver puts one on a peer and counts what arrives. */
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "kt-peer.h"

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

/* The client side of a subscriber peer receiving one VP8 stream: what arrives
 * is counted and decoded. Fields marked "client worker" are written there;
 * the counters and sizes are read with atomics. */
typedef struct {
	KtPeer *peer;
	Vp8Decoder decoder;
	gint packets, keyframes, frames, srs;
	gint width, height;   /* of the latest decoded picture (height written first) */
	guint32 ssrc;         /* client worker: of the latest packet */
	gint ssrc_changes;    /* client worker */
	guint16 last_seq;     /* client worker */
	gint max_seq_gap;     /* client worker */
	guint32 last_ts;      /* client worker */
	gint32 sr_minus_last; /* the latest SR for ssrc: its RTP time - last_ts */
} Vp8Receiver;

/* Test thread. Starts the decoder and takes @peer's media (on its worker). */
void vp8_receiver_start(Vp8Receiver *r, KtPeer *peer);
/* Test thread. Stops the decoder (the peer's media functions stay). */
void vp8_receiver_stop(Vp8Receiver *r);
