/* Benchmarks' RTP: real encoded packets generated into memory before the
 * measurement, each stamped with when it should be sent. */
#pragma once

#include <glib.h>

typedef struct {
	gint64 at_us; /* from the start of the stream: when it was captured */
	gsize len;
	guint8 data[];
} BenchPacket;

/* Runs @source (a finite GStreamer description ending in a payloader, e.g.
 * "videotestsrc num-buffers=100 ! vp8enc ! rtpvp8pay") to its end and
 * returns its packets (BenchPacket *, owned by the array); @bytes gets their
 * total size. Exits the process when it cannot run. */
GPtrArray *bench_rtp_generate(const char *name, const char *source, guint clock_rate,
                              guint64 *bytes);
