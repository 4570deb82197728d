/* Shared by the benchmarks: encoded RTP generated into memory before measuring. */
#pragma once

#include <glib.h>

typedef struct {
	gint64 at_us; /* from the start of the stream, by RTP timestamp */
	guint tag;    /* the caller's (which stream) */
	gsize len;
	guint8 data[];
} BenchPacket;

/* Runs @desc (a source ... payloader, ending with EOS) as fast as it goes and
 * appends its RTP packets, tagged @tag, to @packets (BenchPacket *, g_free);
 * returns their bytes. Exits the process when it cannot run or makes no RTP. */
guint64 bench_rtp_generate(GPtrArray *packets, const char *desc, guint clock_rate, guint tag);

/* GCompareFunc for a GPtrArray of BenchPacket *: by time. */
gint bench_rtp_by_time(gconstpointer a, gconstpointer b);
