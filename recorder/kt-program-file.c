/* The program file: mp4mux's output, written so that a kill -9 at any
 * moment leaves a file that plays without an error.
 *
 * mp4mux writes a fragment as many buffers: the moof, the mdat header, one
 * per sample. A crash between them, or inside one write (the kernel gives
 * up between pages when SIGKILL arrives), would leave an mdat cut short,
 * which players report as an error. So a moof and its mdat are gathered
 * into one writev(), made with both box types set to "free" (players skip
 * such boxes, even cut short), then turned into an mdat and a moof by two
 * 4-byte writes, mdat first so that a moof never points past the file. The
 * file is therefore always whole fragments, then at most "free" boxes.
 *
 * The writes run in the muxer's streaming thread (appsink callback, no
 * queue). The muxer is told the file cannot seek, so it never goes back to
 * rewrite its header: the moov stays the one written first, fragments after
 * it (ISO/IEC 14496-12 section 8.8). After a write error (full disk) the
 * file is cut back to the end of its last whole fragment and the error goes
 * to the bus as the sink's.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>

#include "kt-program-private.h"

enum {
	KT_FILE_PASS,        /* not inside a fragment (or an odd one): write as it is */
	KT_FILE_MDAT_HEADER, /* holding a moof, its mdat header comes next */
	KT_FILE_MDAT_DATA,   /* holding a moof and part of its mdat */
	KT_FILE_COMPLETE,    /* a moof and its whole mdat */
};

/* Big-endian, byte by byte: box headers sit at any alignment (GStreamer's
 * GST_READ_UINT32_BE loads unaligned words, which UBSan rejects). */
static guint64 read_be(const guint8 *p, guint n)
{
	guint64 v = 0;

	for (guint i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Whether @buf begins with an ISO BMFF box of @type; its size in @size. */
static gboolean box_begins(GstBuffer *buf, const char *type, guint64 *size)
{
	guint8 h[16];
	gsize n = gst_buffer_extract(buf, 0, h, sizeof(h));

	if (n < 8 || memcmp(h + 4, type, 4) != 0)
		return FALSE;
	*size = read_be(h, 4);
	if (*size == 1) { /* 64-bit "largesize" follows the type */
		if (n < 16)
			return FALSE;
		*size = read_be(h + 8, 8);
	}
	return *size >= 8;
}

/* Where the held fragment stands once @buf is added to it. */
static guint next_state(KtProgramFile *f, guint state, GstBuffer *buf)
{
	gsize size = gst_buffer_get_size(buf);
	guint64 box;

	switch (state) {
	case KT_FILE_PASS:
		if (box_begins(buf, "moof", &box) && box == size)
			return KT_FILE_MDAT_HEADER;
		return KT_FILE_PASS;
	case KT_FILE_MDAT_HEADER:
		if (!box_begins(buf, "mdat", &box) || box < size)
			return KT_FILE_PASS; /* unexpected: write what is held as it is */
		f->held_missing = box - size;
		break;
	default:
		f->held_missing -= MIN(f->held_missing, size);
		break;
	}
	return f->held_missing > 0 ? KT_FILE_MDAT_DATA : KT_FILE_COMPLETE;
}

/* Writes all of @iov or fails with errno set. */
static gboolean write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			errno = w < 0 ? errno : ENOSPC;
			return FALSE;
		}
		for (; n > 0 && (gsize)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (guint8 *)iov->iov_base + w;
			iov->iov_len -= (gsize)w;
		}
	}
	return TRUE;
}

static gboolean set_type(int fd, guint64 offset, const char *type)
{
	ssize_t w = pwrite(fd, type, 4, (off_t)offset + 4);

	if (w >= 0 && w != 4)
		errno = ENOSPC;
	return w == 4;
}

/* A moof and its mdat (which begins at @mdat_at) in one write, as "free"
 * boxes, then retyped: mdat first. */
static gboolean write_fragment(KtProgramFile *f, const guint8 *data, gsize size, gsize mdat_at)
{
	static const char free_type[4] = {'f', 'r', 'e', 'e'};
	struct iovec iov[5] = {
	    {(void *)data, 4},
	    {(void *)free_type, 4},
	    {(void *)(data + 8), mdat_at - 4},
	    {(void *)free_type, 4},
	    {(void *)(data + mdat_at + 8), size - mdat_at - 8},
	};

	return write_all(f->fd, iov, G_N_ELEMENTS(iov)) &&
	       set_type(f->fd, f->offset + mdat_at, "mdat") && set_type(f->fd, f->offset, "moof");
}

/* Streaming thread: the write failed (errno). Cut the file back to its last
 * whole write and post the error, as filesink would. */
static GstFlowReturn write_failed(KtProgramRecorder *r, GstAppSink *sink)
{
	int err = errno;
	KtProgramFile *f = &r->file;
	GError *error =
	    g_error_new(GST_RESOURCE_ERROR,
	                err == ENOSPC ? GST_RESOURCE_ERROR_NO_SPACE_LEFT : GST_RESOURCE_ERROR_WRITE,
	                "could not write: %s", g_strerror(err));

	f->failed = TRUE;
	if (ftruncate(f->fd, (off_t)f->offset) != 0)
		g_debug("%s: could not cut back to %" G_GUINT64_FORMAT " bytes", r->path,
		        f->offset);
	gst_element_post_message(GST_ELEMENT(sink),
	                         gst_message_new_error(GST_OBJECT(sink), error, NULL));
	g_error_free(error);
	return GST_FLOW_ERROR;
}

/* Streaming thread of the muxer. */
static GstFlowReturn on_file_sample(GstAppSink *sink, gpointer data)
{
	KtProgramRecorder *r = data;
	KtProgramFile *f = &r->file;
	g_autoptr(GstSample) sample = gst_app_sink_pull_sample(sink);
	GstBuffer *buf = sample ? gst_sample_get_buffer(sample) : NULL;
	guint state =
	    f->held ? (f->held_missing ? KT_FILE_MDAT_DATA : KT_FILE_MDAT_HEADER) : KT_FILE_PASS;
	g_autoptr(GstBuffer) whole = NULL;
	GstMapInfo map;
	gboolean ok;

	if (f->failed)
		return GST_FLOW_ERROR;
	if (!buf)
		return GST_FLOW_OK;
	state = next_state(f, state, buf);
	if (state == KT_FILE_MDAT_HEADER)
		f->held_moof = gst_buffer_get_size(buf);
	if (state == KT_FILE_MDAT_HEADER || state == KT_FILE_MDAT_DATA) { /* hold it */
		f->held =
		    f->held ? gst_buffer_append(f->held, gst_buffer_ref(buf)) : gst_buffer_ref(buf);
		return GST_FLOW_OK;
	}
	whole = f->held ? gst_buffer_append(f->held, gst_buffer_ref(buf)) : gst_buffer_ref(buf);
	f->held = NULL;
	f->held_missing = 0;
	if (!gst_buffer_map(whole, &map, GST_MAP_READ))
		return GST_FLOW_ERROR;
	if (state == KT_FILE_COMPLETE && map.size >= f->held_moof + 8)
		ok = write_fragment(f, map.data, map.size, f->held_moof);
	else
		ok = write_all(f->fd, &(struct iovec){map.data, map.size}, 1);
	gst_buffer_unmap(whole, &map);
	f->held_moof = 0;
	if (!ok)
		return write_failed(r, sink);
	f->offset += map.size;
	g_mutex_lock(&r->lock);
	r->stats.bytes_written = f->offset;
	g_mutex_unlock(&r->lock);
	return GST_FLOW_OK;
}

/* Streaming thread: the file "cannot seek", so mp4mux never rewrites its
 * header. (1.22's mp4mux otherwise rewrites a larger moov over the first
 * fragment at the end when the caps changed mid-stream.) */
static GstPadProbeReturn on_file_query(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstQuery *q = GST_PAD_PROBE_INFO_QUERY(info);
	GstFormat format;

	if (GST_QUERY_TYPE(q) != GST_QUERY_SEEKING)
		return GST_PAD_PROBE_OK;
	gst_query_parse_seeking(q, &format, NULL, NULL, NULL);
	gst_query_set_seeking(q, format, FALSE, 0, -1);
	return GST_PAD_PROBE_HANDLED;
}

gboolean kt_program_file_open(KtProgramRecorder *r, GstElement *appsink, GError **error)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(appsink, "sink");
	GstAppSinkCallbacks callbacks = {.new_sample = on_file_sample};

	r->file.fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (r->file.fd < 0) {
		int err = errno;

		g_set_error(error, KT_PROGRAM_RECORDER_ERROR, KT_PROGRAM_RECORDER_ERROR_WRITE,
		            "recording %s: %s", r->path, g_strerror(err));
		return FALSE;
	}
	/* Every buffer as it comes, in the muxer's thread: nothing is queued. */
	g_object_set(appsink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, NULL);
	gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &callbacks, r, NULL);
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, on_file_query, NULL, NULL);
	return TRUE;
}

void kt_program_file_close(KtProgramRecorder *r)
{
	gst_clear_buffer(&r->file.held);
	r->file.held_missing = 0;
	r->file.held_moof = 0;
	if (r->file.fd >= 0)
		close(r->file.fd);
	r->file.fd = -1;
}
