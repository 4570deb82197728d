/* The program as live HLS (the lesson broadcast): a branch off the tees that
 * follow the program's encoders, so the broadcast costs no second encoding.
 *
 *   vtee -> queue (leaky) -> [from a keyframe] -> h264parse config-interval=-1 -> hlssink2.video
 *   atee -> queue (leaky) -> aacparse (raw -> ADTS) --------> hlssink2.audio
 *           hlssink2: MPEG-TS segments cut at keyframes (one per segment
 *           length), a sliding playlist, old segments deleted
 *
 * Why this way:
 * - The queues are leaky: a slow disk for the broadcast drops broadcast
 *   data, it never stalls the encoders and so never the recording.
 * - h264parse repeats SPS/PPS before every keyframe: each segment starts
 *   decodable on its own, as a player joining mid-lesson needs.
 * - hlssink2 writes the playlist through g_file_replace (a new file renamed
 *   over the old): the server never serves half a playlist.
 * - Segments stay on disk a little longer than the playlist lists them
 *   (max-files = window + 4), so a player holding the previous playlist can
 *   still fetch what it lists.
 * - A failure of the branch (its files) drops just the branch: the
 *   broadcast stops, the recording goes on. It is not rebuilt in the running
 *   pipeline: a second hlssink2 linked to the tees mid-lesson (running, its
 *   video gated to a keyframe) opened its first segment and never wrote to
 *   it (GStreamer 1.22), so a rebuild would be a broadcast that looks alive
 *   and is not.
 */
#include "kt-program-private.h"

/* Broadcast data a slow disk may hold up before it is dropped. */
#define KT_PROGRAM_HLS_QUEUE_S 4
/* Segments kept on disk beyond those the playlist lists. */
#define KT_PROGRAM_HLS_SPARE_FILES 4

#define KT_PROGRAM_HLS_QUEUE                                                                       \
	"queue max-size-buffers=0 max-size-bytes=0 max-size-time=%" G_GUINT64_FORMAT               \
	" leaky=downstream"

#define KT_PROGRAM_HLS_BRANCH                                                                      \
	KT_PROGRAM_HLS_QUEUE                                                                       \
	" name=hlsv ! h264parse config-interval=-1 ! hls.video " KT_PROGRAM_HLS_QUEUE              \
	" name=hlsa ! aacparse ! hls.audio"                                                        \
	" hlssink2 name=hls target-duration=%u playlist-length=%u max-files=%u"                    \
	" send-keyframe-requests=false"

/* The tees' pads to the branch, in this order: video, audio. */
static const char *const kt_program_hls_inputs[] = {"hlsv", "hlsa"};

static GstElement *build_branch(KtProgramRecorder *r, GError **error)
{
	const KtProgramRecorderConfig *c = &r->config;
	guint64 queue = KT_PROGRAM_HLS_QUEUE_S * GST_SECOND;
	g_autofree char *desc =
	    g_strdup_printf(KT_PROGRAM_HLS_BRANCH, queue, queue, c->hls_segment_s, c->hls_window,
	                    c->hls_window + KT_PROGRAM_HLS_SPARE_FILES);
	g_autofree char *location = g_build_filename(r->hls_dir, "segment%05d.ts", NULL);
	g_autofree char *playlist = g_build_filename(r->hls_dir, "index.m3u8", NULL);
	g_autoptr(GstElement) sink = NULL;
	GError *parse_error = NULL;
	GstElement *bin = gst_parse_bin_from_description(desc, FALSE, &parse_error);

	if (!bin || parse_error) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_PIPELINE,
		            "HLS %s: %s", r->hls_dir,
		            parse_error ? parse_error->message : "no pipeline");
		g_clear_error(&parse_error);
		if (bin)
			gst_object_unref(gst_object_ref_sink(bin));
		return NULL;
	}
	gst_object_ref_sink(bin);
	sink = gst_bin_get_by_name(GST_BIN(bin), "hls");
	g_object_set(sink, "location", location, "playlist-location", playlist, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(kt_program_hls_inputs); i++) {
		g_autoptr(GstElement) queue_element =
		    gst_bin_get_by_name(GST_BIN(bin), kt_program_hls_inputs[i]);
		g_autoptr(GstPad) target = gst_element_get_static_pad(queue_element, "sink");

		gst_element_add_pad(bin, gst_ghost_pad_new(kt_program_hls_inputs[i], target));
	}
	return bin;
}

gboolean kt_program_hls_start(KtProgramRecorder *r, GError **error)
{
	GstElement *tees[] = {r->video_tee, r->audio_tee};
	GstElement *bin = build_branch(r, error);

	if (!bin)
		return FALSE;
	gst_bin_add(GST_BIN(r->pipeline), bin); /* the pipeline takes our reference */
	r->hls = bin;
	/* Running before the tees link to it, so its pads are active when the
	 * tee gives them the stream's caps and segment. */
	if (!gst_element_sync_state_with_parent(bin)) {
		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_WRITE,
		            "HLS %s: the output did not start", r->hls_dir);
		kt_program_hls_drop(r);
		return FALSE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(tees); i++) {
		g_autoptr(GstPad) in = gst_element_get_static_pad(bin, kt_program_hls_inputs[i]);

		r->hls_tee_pads[i] = gst_element_request_pad_simple(tees[i], "src_%u");
		if (gst_pad_link(r->hls_tee_pads[i], in) != GST_PAD_LINK_OK) {
			g_set_error(error, KT_PROGRAM_RECORDER_ERROR,
			            KT_PROGRAM_RECORDER_ERROR_PIPELINE, "HLS %s: cannot link %s",
			            r->hls_dir, kt_program_hls_inputs[i]);
			kt_program_hls_drop(r);
			return FALSE;
		}
	}
	return TRUE;
}

void kt_program_hls_drop(KtProgramRecorder *r)
{
	GstElement *tees[] = {r->video_tee, r->audio_tee};

	/* The tees first: nothing is pushed into the branch while it stops. */
	for (guint i = 0; i < G_N_ELEMENTS(tees); i++) {
		if (!r->hls_tee_pads[i])
			continue;
		gst_element_release_request_pad(tees[i], r->hls_tee_pads[i]);
		gst_clear_object(&r->hls_tee_pads[i]);
	}
	if (!r->hls)
		return;
	gst_element_set_state(r->hls, GST_STATE_NULL);
	gst_bin_remove(GST_BIN(r->pipeline), r->hls);
	r->hls = NULL;
}

gboolean kt_program_hls_owns(KtProgramRecorder *r, GstObject *object)
{
	return r->hls && (object == GST_OBJECT(r->hls) ||
	                  gst_object_has_as_ancestor(object, GST_OBJECT(r->hls)));
}

void kt_program_hls_failed(KtProgramRecorder *r, const GError *error)
{
	kt_program_hls_drop(r);
	g_mutex_lock(&r->lock);
	r->stats.hls_failures++;
	g_mutex_unlock(&r->lock);
	g_warning("%s: HLS output failed, the broadcast stops (the recording goes on): %s",
	          r->hls_dir, error->message);
}

/* hlssink2 rewrites its playlist on its splitmuxsink's "fragment closed"
 * and only then passes the message up: a segment counted is listed. */
void kt_program_hls_message(KtProgramRecorder *r, GstMessage *msg)
{
	if (!kt_program_hls_owns(r, GST_MESSAGE_SRC(msg)))
		return;
	if (!gst_message_has_name(msg, "splitmuxsink-fragment-closed"))
		return;
	g_mutex_lock(&r->lock);
	r->stats.hls_segments++;
	g_mutex_unlock(&r->lock);
}
