/* Benchmarks' RTP generated into memory, and CPU sampling (bench-rtp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <gst/app/gstappsink.h>

#include "bench-rtp.h"
#include "kt-rtp.h"

GPtrArray *bench_rtp_generate(const char *name, const char *source, guint clock_rate,
                              guint64 *bytes)
{
	g_autofree char *desc = g_strdup_printf("%s ! appsink name=out sync=false", source);
	g_autoptr(GstElement) pipeline = gst_parse_launch(desc, NULL);
	g_autoptr(GstElement) out = NULL;
	GPtrArray *packets = g_ptr_array_new_with_free_func(g_free);
	GstSample *sample;
	gboolean first = TRUE;
	guint32 first_ts = 0;

	if (!pipeline) {
		fprintf(stderr, "cannot run: %s\n", desc);
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
		if (kt_rtp_parse(p->data, len, &h) < 0) {
			fprintf(stderr, "%s: not RTP\n", name);
			exit(1);
		}
		if (first)
			first_ts = h.timestamp;
		first = FALSE;
		/* Sent when captured: the RTP timestamp says when. */
		p->at_us = (gint64)(guint32)(h.timestamp - first_ts) * G_USEC_PER_SEC / clock_rate;
		*bytes += len;
		g_ptr_array_add(packets, p);
		gst_sample_unref(sample);
	}
	gst_element_set_state(pipeline, GST_STATE_NULL);
	return packets;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

GArray *bench_cpu_measure(gint *done)
{
	GArray *samples = g_array_new(FALSE, FALSE, sizeof(double));
	gint64 t0 = g_get_monotonic_time();
	double cpu0 = cpu_seconds();

	while (!g_atomic_int_get(done)) {
		gint64 now = g_get_monotonic_time();

		g_main_context_iteration(NULL, FALSE) || (g_usleep(10000), TRUE);
		if (now - t0 >= G_USEC_PER_SEC) {
			double cpu = cpu_seconds(), pct = 100.0 * (cpu - cpu0) * 1e6 / (now - t0);

			g_array_append_val(samples, pct);
			t0 = now;
			cpu0 = cpu;
		}
	}
	return samples;
}

static gint by_value(gconstpointer a, gconstpointer b)
{
	double da = *(const double *)a, db = *(const double *)b;

	return da < db ? -1 : da > db;
}

void bench_cpu_print(GArray *samples, guint warm_up)
{
	g_array_remove_range(samples, 0, MIN(samples->len, warm_up));
	g_array_sort(samples, by_value);
	if (samples->len)
		printf("CPU (%% of one core), median of %u seconds: %.1f %% (min %.1f, max %.1f)\n",
		       samples->len, g_array_index(samples, double, samples->len / 2),
		       g_array_index(samples, double, 0),
		       g_array_index(samples, double, samples->len - 1));
}
