/* Shared GStreamer plumbing for Ketang's pipelines: one-time initialisation
 * and the lesson clock.
 *
 * The lesson clock: every pipeline of a lesson runs on GStreamer's system
 * clock (CLOCK_MONOTONIC, the same clock as g_get_monotonic_time()) with its
 * base time fixed at the lesson's epoch, so running time 0 is the start of
 * the lesson in every pipeline. Buffers stamped with kt_gst_lesson_time()
 * therefore share one time base across recorders and can be aligned later.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Initialises GStreamer once (gst_init without arguments). Any thread; safe
 * to call repeatedly and concurrently. */
void kt_gst_init(void);

/* The lesson time now: nanoseconds since @epoch_us (a g_get_monotonic_time()
 * value). Any thread. */
GstClockTime kt_gst_lesson_time(gint64 epoch_us);

/* Makes @pipeline run on the lesson clock of @epoch_us: system clock, fixed
 * base time, no start-time reset on PLAYING. Call before the first state
 * change. Control loop. */
void kt_gst_use_lesson_clock(GstPipeline *pipeline, gint64 epoch_us);

/* A pipeline from @desc (gst_parse_launch syntax), floating reference sunk:
 * the caller owns it. NULL with @error (@domain, @code, "@what: <why>") when
 * it cannot be parsed or an element is missing. Control loop. */
GstElement *kt_gst_parse_launch(const char *desc, GQuark domain, gint code, const char *what,
                                GError **error);

/* Runs @pipeline on the lesson clock of @epoch_us, its bus watched on
 * @context by @on_message (with @data), and sets it PLAYING. Returns the bus
 * watch (attached; the caller destroys and unrefs it), or NULL when the
 * pipeline did not start (then nothing watches its bus). Control loop. */
GSource *kt_gst_start_watched(GstPipeline *pipeline, gint64 epoch_us, GMainContext *context,
                              GstBusFunc on_message, gpointer data);

/* Stops @element (state NULL: every streaming thread inside joined) so the
 * caller may drop it. A bin whose own state change fails (splitmuxsink after
 * it could not open a file: its unlocked sink refuses to go back up to
 * READY, and the bin stops halfway, sources still running) has every element
 * inside locked and stopped one by one instead. Control loop. */
void kt_gst_stop(GstElement *element);

/* The first ERROR or EOS message on @bus within @timeout_us, or NULL.
 * Returns a message the caller unrefs. Control loop. */
GstMessage *kt_gst_wait_eos(GstBus *bus, gint64 timeout_us);

G_END_DECLS
