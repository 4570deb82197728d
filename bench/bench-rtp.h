/* Benchmarks' RTP: real encoded packets generated into memory before the
 * measurement, each stamped with when it should be sent; and the process's
 * CPU measured while they are replayed. */
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

/* Iterates the thread-default main context until *@done becomes non-zero
 * (atomic), sampling the process's CPU time (user + sys, getrusage) every
 * whole second. Returns the samples as % of one core (double), in order. */
GArray *bench_cpu_measure(gint *done);
/* Prints the median, min and max of @samples after the first @warm_up
 * (sorts them) as "CPU (% of one core), median of N seconds: ...". */
void bench_cpu_print(GArray *samples, guint warm_up);
