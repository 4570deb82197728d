/* Shared GStreamer plumbing: init once, the lesson clock. */
#include "kt-gst.h"

void kt_gst_init(void)
{
	static gsize done = 0;

	if (g_once_init_enter(&done)) {
		gst_init(NULL, NULL);
		g_once_init_leave(&done, 1);
	}
}

GstClockTime kt_gst_lesson_time(gint64 epoch_us)
{
	gint64 now = g_get_monotonic_time();

	return now > epoch_us ? (GstClockTime)(now - epoch_us) * GST_USECOND : 0;
}

void kt_gst_use_lesson_clock(GstPipeline *pipeline, gint64 epoch_us)
{
	GstClock *clock = gst_system_clock_obtain();

	/* The system clock's default type is GST_CLOCK_TYPE_MONOTONIC, the clock
	 * of g_get_monotonic_time() on Linux, so base time = epoch makes running
	 * time = lesson time. */
	gst_pipeline_use_clock(pipeline, clock);
	gst_element_set_start_time(GST_ELEMENT(pipeline), GST_CLOCK_TIME_NONE);
	gst_element_set_base_time(GST_ELEMENT(pipeline), (GstClockTime)epoch_us * GST_USECOND);
	gst_object_unref(clock);
}

GstMessage *kt_gst_wait_eos(GstBus *bus, gint64 timeout_us)
{
	return gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_us * GST_USECOND,
	                                  GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
}
