/* kt-media-span: the length of a recording from its packets, for files whose headers do not
 * say (a fragmented MP4 or a WebM cut by a crash). Files are written by gst-launch-1.0:
 * 3 s of video and audio, as the recorder writes them. */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <unistd.h>

#include "kt-media-span.h"
#include "kt-media-trim.h"

#define LENGTH_MS 3000
#define MP4_3S                                                                                     \
	"videotestsrc num-buffers=90 ! video/x-raw,width=160,height=120,framerate=30/1 ! "         \
	"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! h264parse ! "            \
	"mp4mux fragment-duration=500 name=m ! filesink location=%s "                              \
	"audiotestsrc num-buffers=141 samplesperbuffer=1024 ! audio/x-raw,rate=48000 ! "           \
	"audioconvert ! avenc_aac ! m."
#define WEBM_3S                                                                                    \
	"videotestsrc num-buffers=90 ! video/x-raw,width=160,height=120,framerate=30/1 ! "         \
	"vp8enc deadline=1 ! webmmux streamable=true name=m ! filesink location=%s "               \
	"audiotestsrc num-buffers=150 samplesperbuffer=960 ! audio/x-raw,rate=48000 ! "            \
	"audioconvert ! opusenc ! m."

typedef struct {
	const char *name;
	const char *pipeline;
} Sample;

static const Sample mp4 = {"a.mp4", MP4_3S};
static const Sample webm = {"a.webm", WEBM_3S};
static char *tmp_dir;

static char *write_file(const char *name, const char *pipeline)
{
	char *path = g_build_filename(tmp_dir, name, NULL);
	g_autofree char *desc = g_strdup_printf(pipeline, path);
	g_autofree char *cmd = g_strconcat("gst-launch-1.0 -q ", desc, NULL);
	g_autoptr(GError) error = NULL;
	int status = 0;

	g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, &status, &error));
	g_assert_no_error(error);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	return path;
}

/* Cuts the file at @path to half its size, as a kill mid-write leaves it, and trims it. */
static void cut_in_half(const char *path)
{
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(truncate(path, st.st_size / 2), ==, 0);
	g_assert_true(kt_media_trim_incomplete(path, NULL, NULL));
}

static void check(gconstpointer data)
{
	const Sample *sample = data;
	const char *name = sample->name;
	g_autofree char *path = write_file(name, sample->pipeline);
	g_autoptr(GError) error = NULL;
	gint64 whole = kt_media_span_ms(path, 30, &error);
	gint64 half;

	g_assert_no_error(error);
	g_test_message("%s: %" G_GINT64_FORMAT " ms whole", name, whole);
	g_assert_cmpint(whole, >=, LENGTH_MS - 100);
	g_assert_cmpint(whole, <=, LENGTH_MS + 100);
	cut_in_half(path);
	half = kt_media_span_ms(path, 30, &error);
	g_assert_no_error(error);
	g_test_message("%s: %" G_GINT64_FORMAT " ms after a cut in the middle", name, half);
	/* More than one 500 ms fragment / first cluster (what the headers said before), less
	 * than the whole. */
	g_assert_cmpint(half, >, 700);
	g_assert_cmpint(half, <, whole - 300);
	g_unlink(path);
}

static void test_not_media(void)
{
	g_autofree char *path = g_build_filename(tmp_dir, "not-media.mp4", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, "hello, not a video", -1, NULL));
	g_assert_cmpint(kt_media_span_ms(path, 10, &error), ==, -1);
	g_assert_nonnull(error);
	g_unlink(path);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	gst_init(&argc, &argv);
	tmp_dir = g_dir_make_tmp("kt-media-span-XXXXXX", NULL);
	g_test_add_data_func("/media-span/fragmented-mp4", &mp4, check);
	g_test_add_data_func("/media-span/webm", &webm, check);
	g_test_add_func("/media-span/not-media", test_not_media);
	ret = g_test_run();
	g_rmdir(tmp_dir);
	return ret;
}
