/* Encoded RTP into memory for the benchmarks: see bench-rtp.h. */
#include "bench-rtp.h"

#include <stdio.h>
#include <stdlib.h>

#include <gst/app/gstappsink.h>

#include "kt-rtp.h"

guint64 bench_rtp_generate(GPtrArray *packets, const char *desc, guint clock_rate, guint tag)
{
	g_autofree char *full = g_strdup_printf("%s ! appsink name=out sync=false", desc);
	g_autoptr(GstElement) pipeline = gst_parse_launch(full, NULL);
	g_autoptr(GstElement) out = NULL;
	GstSample *sample;
	gboolean first = TRUE;
	guint32 first_ts = 0;
	guint64 bytes = 0;

	if (!pipeline) {
		fprintf(stderr, "cannot run: %s\n", full);
		exit(1);
	}
	out = gst_bin_get_by_name(GST_BIN(pipeline), "out");
	gst_element_set_state(pipeline, GST_STATE_PLAYING);
	while ((sample = gst_app_sink_pull_sample(GST_APP_SINK(out)))) {
		GstBuffer *buf = gst_sample_get_buffer(sample);
		gsize len = gst_buffer_get_size(buf);
		BenchPacket *p = g_malloc(sizeof(BenchPacket) + len);
		KtRtpHeader h;

		gst_buffer_extract(buf, 0, p->data, len);
		p->len = len;
		p->tag = tag;
		if (kt_rtp_parse(p->data, len, &h) < 0) {
			fprintf(stderr, "not RTP: %s\n", desc);
			exit(1);
		}
		if (first)
			first_ts = h.timestamp;
		first = FALSE;
		/* Sent when captured: the RTP timestamp says when. */
		p->at_us = (gint64)(guint32)(h.timestamp - first_ts) * G_USEC_PER_SEC / clock_rate;
		bytes += len;
		g_ptr_array_add(packets, p);
		gst_sample_unref(sample);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	return bytes;
}

gint bench_rtp_by_time(gconstpointer a, gconstpointer b)
{
	gint64 ta = (*(BenchPacket *const *)a)->at_us, tb = (*(BenchPacket *const *)b)->at_us;

	return ta < tb ? -1 : ta > tb;
}
