/* Shared GStreamer plumbing: init once, the lesson clock, parsing, starting
 * a watched pipeline and stopping one whatever state it is stuck in. */
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

static void stop_locked(const GValue *item, gpointer data)
{
	GstElement *element = g_value_get_object(item);

	/* Locked: the outer bin's last state change below leaves it alone. */
	gst_element_set_locked_state(element, TRUE);
	gst_element_set_state(element, GST_STATE_NULL);
}

void kt_gst_stop(GstElement *element)
{
	GstIterator *it;

	if (gst_element_set_state(element, GST_STATE_NULL) != GST_STATE_CHANGE_FAILURE ||
	    !GST_IS_BIN(element))
		return;
	it = gst_bin_iterate_recurse(GST_BIN(element));
	while (gst_iterator_foreach(it, stop_locked, NULL) == GST_ITERATOR_RESYNC)
		gst_iterator_resync(it);
	gst_iterator_free(it);
	gst_element_set_state(element, GST_STATE_NULL);
}

GstMessage *kt_gst_wait_eos(GstBus *bus, gint64 timeout_us)
{
	return gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_us * GST_USECOND,
	                                  GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
}

GstElement *kt_gst_parse_launch(const char *desc, GQuark domain, gint code, const char *what,
                                GError **error)
{
	GError *parse_error = NULL;
	GstElement *pipeline = gst_parse_launch(desc, &parse_error);

	/* A missing element is a "recoverable" error: a pipeline comes back too. */
	if (!pipeline || parse_error) {
		g_set_error(error, domain, code, "%s: %s", what,
		            parse_error ? parse_error->message : "no pipeline");
		g_clear_error(&parse_error);
		if (pipeline)
			gst_object_unref(gst_object_ref_sink(pipeline));
		return NULL;
	}
	return gst_object_ref_sink(pipeline);
}

GSource *kt_gst_start_watched(GstPipeline *pipeline, gint64 epoch_us, GMainContext *context,
                              GstBusFunc on_message, gpointer data)
{
	g_autoptr(GstBus) bus = gst_pipeline_get_bus(pipeline);
	GSource *watch;

	kt_gst_use_lesson_clock(pipeline, epoch_us);
	watch = gst_bus_create_watch(bus);
	g_source_set_callback(watch, G_SOURCE_FUNC(on_message), data, NULL);
	g_source_attach(watch, context);
	if (gst_element_set_state(GST_ELEMENT(pipeline), GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE) {
		g_source_destroy(watch);
		g_source_unref(watch);
		return NULL;
	}
	return watch;
}
