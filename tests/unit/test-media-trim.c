/* kt-media-trim: recordings written by GStreamer the way the recorder writes them, cut at
 * many points as a crash would leave them, trimmed, then decoded by ffmpeg; and small
 * hand-made files for layouts GStreamer does not write here (largesize, size 0, BlockGroup,
 * unknown-size Clusters followed by Cues, data after the Segment). */
#include "kt-media-trim.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "tmp-dir.h"

/* 5 s of video and a tone (num-buffers), or endless live sources for a writer that gets
 * killed; keyframes twice a second; written unbuffered, as the recorder does. Arguments: video
 * source options, file, audio options. */
#define VIDEO_SRC "videotestsrc %s ! video/x-raw,width=320,height=240,framerate=30/1 ! "
#define AUDIO_SRC " audiotestsrc %s ! audioconvert ! "
#define H264_AAC_MP4                                                                               \
	VIDEO_SRC "x264enc key-int-max=15 speed-preset=ultrafast tune=zerolatency bitrate=300"     \
	          " ! h264parse ! mp4mux name=m fragment-duration=500 streamable=true"             \
	          " ! filesink buffer-mode=unbuffered location=%s" AUDIO_SRC                       \
	          "avenc_aac ! aacparse ! m."
#define VP8_OPUS_WEBM(mux)                                                                         \
	VIDEO_SRC "vp8enc deadline=1 keyframe-max-dist=15 target-bitrate=300000 ! " mux            \
	          " name=m ! filesink buffer-mode=unbuffered location=%s" AUDIO_SRC "opusenc ! m."
/* How long a killed writer runs at least, and how much it must have written
 * before it is killed: a few clusters / fragments (~120 packets). Live
 * sources write at the pace the machine allows: on two cores busy with
 * browsers, 3 s gave 36 packets once. */
#define KILL_AFTER_US (3000 * G_TIME_SPAN_MILLISECOND)
#define KILL_MIN_BYTES (80 * 1024)
#define KILL_DEADLINE_US (30 * G_TIME_SPAN_SECOND)
/* The archive's promise: a file plays up to at most this long before the crash. */
#define MAX_LOSS_S 2.0
/* Decodes run this many at a time (each is mostly ffmpeg starting up). */
#define DECODE_BATCH 4

typedef struct {
	double pts;
	guint64 pos, end; /* the packet's data in the file */
} Packet;

typedef struct {
	const char *name;
	const char *pipeline; /* gst-launch-1.0 description, see VIDEO_SRC */
	gboolean killed;      /* live sources; the writer gets SIGKILL mid-stream */
	char *path;
	GBytes *data;
	GArray *packets; /* Packet, as ffprobe lists them */
	double first_pts;
	GSubprocess *writer;
} Sample;

enum { MP4, WEBM, LIVE_WEBM, KILLED_MP4, KILLED_WEBM };

static Sample samples[] = {
    [MP4] = {.name = "fragmented.mp4", .pipeline = H264_AAC_MP4},
    [WEBM] = {.name = "seekable.webm", .pipeline = VP8_OPUS_WEBM("webmmux")},
    [LIVE_WEBM] = {.name = "streamable.webm", .pipeline = VP8_OPUS_WEBM("webmmux streamable=true")},
    [KILLED_MP4] = {.name = "killed.mp4", .pipeline = H264_AAC_MP4, .killed = TRUE},
    [KILLED_WEBM] = {.name = "killed.webm", .pipeline = VP8_OPUS_WEBM("webmmux"), .killed = TRUE},
};

static char *tmp_dir;
static guint n_cuts, n_refused, n_decodes; /* over the whole run, for the log */

/* Runs @argv to its end: returns its stdout; @err_out (may be NULL) gets its stderr. */
static char *run(const char *const *argv, char **err_out, gboolean *ok)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) p = g_subprocess_newv(
	    argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
	char *out = NULL;

	g_assert_no_error(error);
	g_subprocess_communicate_utf8(p, NULL, NULL, &out, err_out, &error);
	g_assert_no_error(error);
	if (ok)
		*ok = g_subprocess_get_successful(p);
	return out;
}

static void start_writer(Sample *s)
{
	const char *opts = s->killed ? "is-live=true" : "num-buffers=150";
	const char *audio_opts = s->killed ? "is-live=true" : "num-buffers=220";
	g_autofree char *desc = g_strdup_printf(s->pipeline, opts, s->path, audio_opts);
	g_autofree char *cmd = g_strconcat("gst-launch-1.0 -q ", desc, NULL);
	g_auto(GStrv) argv = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
	s->writer =
	    g_subprocess_newv((const char *const *)argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
	g_assert_no_error(error);
}

static void finish_writer(Sample *s)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL;

	if (s->killed)
		g_subprocess_send_signal(s->writer, SIGKILL);
	g_subprocess_communicate_utf8(s->writer, NULL, NULL, NULL, &err, &error);
	g_assert_no_error(error);
	if (err && *err)
		g_test_message("gst-launch-1.0 (%s): %s", s->name, err);
	if (!s->killed)
		g_assert_true(g_subprocess_get_successful(s->writer));
	g_clear_object(&s->writer);
}

static void read_packets(Sample *s)
{
	const char *argv[] = {
	    "ffprobe", "-v",    "quiet", "-show_entries", "packet=pts_time,size,pos", "-of",
	    "csv=p=0", s->path, NULL};
	g_autofree char *out = run(argv, NULL, NULL);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

	s->packets = g_array_new(FALSE, FALSE, sizeof(Packet));
	s->first_pts = G_MAXDOUBLE;
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], ",", 3);
		Packet p;

		if (g_strv_length(f) != 3 || strcmp(f[0], "N/A") == 0 || strcmp(f[2], "N/A") == 0)
			continue;
		p.pts = g_ascii_strtod(f[0], NULL);
		p.pos = g_ascii_strtoull(f[2], NULL, 10);
		p.end = p.pos + g_ascii_strtoull(f[1], NULL, 10);
		s->first_pts = MIN(s->first_pts, p.pts);
		g_array_append_val(s->packets, p);
	}
	g_assert_cmpuint(s->packets->len, >, 50);
}

/* A killed writer's file grows as it writes: polled (its size is the event
 * awaited) until it holds KILL_MIN_BYTES, and KILL_AFTER_US have passed. */
static void wait_written(const Sample *s, gint64 started)
{
	for (;;) {
		GStatBuf st;
		gint64 now = g_get_monotonic_time();

		if (now >= started + KILL_AFTER_US && g_stat(s->path, &st) == 0 &&
		    st.st_size >= KILL_MIN_BYTES)
			return;
		if (now - started > KILL_DEADLINE_US)
			g_error("%s: under %d bytes after %d s", s->name, KILL_MIN_BYTES,
			        (int)(KILL_DEADLINE_US / G_TIME_SPAN_SECOND));
		g_usleep(50 * G_TIME_SPAN_MILLISECOND);
	}
}

/* Writes every sample at once; the killed writers get SIGKILL once they have
 * written enough (wait_written). */
static void make_samples(void)
{
	gint64 started = g_get_monotonic_time();

	for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
		samples[i].path = g_build_filename(tmp_dir, samples[i].name, NULL);
		start_writer(&samples[i]);
	}
	for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
		Sample *s = &samples[i];
		gchar *contents;
		gsize len;

		if (s->killed)
			wait_written(s, started);
		finish_writer(s);
		g_assert_true(g_file_get_contents(s->path, &contents, &len, NULL));
		s->data = g_bytes_new_take(contents, len);
		read_packets(s);
		g_test_message("%s: %zu bytes, %u packets", s->name, len, s->packets->len);
	}
}

static gboolean is_webm(const Sample *s)
{
	return g_str_has_suffix(s->name, ".webm");
}

/* The latest packet a crash at byte @at left whole: what ought to stay playable. */
static double playable_until(const Sample *s, guint64 at)
{
	double t = -G_MAXDOUBLE;

	for (guint i = 0; i < s->packets->len; i++) {
		const Packet *p = &g_array_index(s->packets, Packet, i);

		if (p->end <= at)
			t = MAX(t, p->pts);
	}
	return t;
}

/* ---- reading the samples' layout (independently of the code under test) ---- */

static guint64 be(const guint8 *p, guint len)
{
	guint64 v = 0;

	for (guint i = 0; i < len; i++)
		v = (v << 8) | p[i];
	return v;
}

/* An EBML size field at @p: its width, and its value in @value. */
static guint ebml_size(const guint8 *p, guint64 *value)
{
	guint len = 1;

	while (len < 8 && !(p[0] & (0x80 >> (len - 1))))
		len++;
	*value = be(p, len) & (((guint64)1 << (7 * len)) - 1);
	return len;
}

/* A WebM sample's Segment: where its size field is and where its data starts. */
static void webm_segment(const Sample *s, guint64 *size_pos, guint *size_len, guint64 *data)
{
	const guint8 *d = g_bytes_get_data(s->data, NULL);
	guint64 v;
	guint64 seg = 4 + ebml_size(d + 4, &v);

	seg += v; /* after the EBML header */
	g_assert_cmphex(be(d + seg, 4), ==, 0x18538067);
	*size_pos = seg + 4;
	*size_len = ebml_size(d + seg + 4, &v);
	*data = *size_pos + *size_len;
}

/* Where the units start: top-level boxes (MP4) or Cluster IDs (WebM; an ID inside media
 * data would only add a cut point). */
static GArray *unit_starts(const Sample *s)
{
	gsize size;
	const guint8 *d = g_bytes_get_data(s->data, &size);
	GArray *starts = g_array_new(FALSE, FALSE, sizeof(guint64));

	for (guint64 off = 0; !is_webm(s) && off + 8 <= size;) {
		guint64 len = be(d + off, 4);

		g_array_append_val(starts, off);
		if (len < 8)
			break;
		off += len;
	}
	for (guint64 off = 0; is_webm(s) && off + 4 <= size; off++)
		if (be(d + off, 4) == 0x1F43B675)
			g_array_append_val(starts, off);
	return starts;
}

static void add_point(GArray *points, gint64 at, gsize size)
{
	if (at > 0 && (gsize)at < size)
		g_array_append_val(points, at);
}

/* Evenly spread cut points, and points inside headers, box/Cluster headers, moof, mdat,
 * blocks, and exactly on their ends. */
static GArray *cut_points(const Sample *s, guint even)
{
	static const gint unit_offsets[] = {-1, 0, 2, 7, 30};
	gsize size = g_bytes_get_size(s->data);
	g_autoptr(GArray) units = unit_starts(s);
	GArray *points = g_array_new(FALSE, FALSE, sizeof(gint64));
	guint n = units->len, p = s->packets->len;
	guint pick_units[] = {0, 1, 2, 3, n / 2, n / 2 + 1, n - 1};
	guint pick_packets[] = {p / 3, p / 2, 2 * p / 3, p - 1};

	for (guint i = 1; i < even; i++)
		add_point(points, (gint64)(size * i / even + 13), size);
	for (guint i = 0; i < G_N_ELEMENTS(pick_units); i++)
		for (guint j = 0; pick_units[i] < n && j < G_N_ELEMENTS(unit_offsets); j++)
			add_point(points,
			          (gint64)g_array_index(units, guint64, pick_units[i]) +
			              unit_offsets[j],
			          size);
	for (guint i = 0; i < G_N_ELEMENTS(pick_packets); i++) {
		const Packet *pk = &g_array_index(s->packets, Packet, pick_packets[i]);

		/* WebM: inside the block's header, its track and time; MP4: around a sample */
		add_point(points, (gint64)pk->pos - 2, size);
		add_point(points, (gint64)pk->pos + 1, size);
		add_point(points, (gint64)(pk->pos + (pk->end - pk->pos) / 2), size); /* the data */
		add_point(points, (gint64)pk->end + (is_webm(s) ? 4 : 0), size);      /* its end */
	}
	if (s->killed) /* the crashed file itself */
		g_array_append_val(points, size);
	return points;
}

/* ---- one cut ---- */

/* Asserts that the @len bytes of @got are the sample's first bytes, except for WebM size
 * fields reaching past the end: the Segment's and the cut Cluster's, which must then hold
 * exactly what is left of them. */
static void assert_prefix(const Sample *s, const guint8 *got, gsize len)
{
	const guint8 *d = g_bytes_get_data(s->data, NULL);
	guint64 seg_pos = 0, seg_data = 0, cl = 0, v;
	guint seg_len = 0, cl_len = 0;

	if (is_webm(s)) {
		webm_segment(s, &seg_pos, &seg_len, &seg_data);
		for (cl = len >= 4 ? len - 4 : 0; cl > seg_data && be(d + cl, 4) != 0x1F43B675;
		     cl--)
			;
		if (cl > seg_data)
			cl_len = ebml_size(d + cl + 4, &v);
	}
	for (gsize i = 0; i < len; i++) {
		if (got[i] == d[i])
			continue;
		if (i >= seg_pos && i < seg_pos + seg_len) {
			ebml_size(got + seg_pos, &v);
			g_assert_cmpuint(v, ==, len - seg_data);
		} else if (cl_len > 0 && i >= cl + 4 && i < cl + 4 + cl_len) {
			ebml_size(got + cl + 4, &v);
			g_assert_cmpuint(v, ==, len - (cl + 4 + cl_len));
		} else {
			g_error("%s: byte %zu changed", s->name, i);
		}
	}
}

/* A crash at byte @at, trimmed into @path. Returns the trimmed length (-1: refused); @sha
 * gets a checksum of the result. */
static gint64 trim_cut(const Sample *s, gint64 at, const char *path, char **sha)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *got = NULL;
	g_autofree char *again = NULL;
	gsize len, len2;
	guint64 removed = G_MAXUINT64;

	g_assert_true(g_file_set_contents(path, g_bytes_get_data(s->data, NULL), at, NULL));
	n_cuts++;
	if (!kt_media_trim_incomplete(path, &removed, &error)) {
		/* Refused: only when nothing worth keeping was there (the header, the first
		 * fragment), and the file is as it was. */
		g_test_message("%s cut at %" G_GINT64_FORMAT ": %s", s->name, at, error->message);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		g_assert_cmpfloat(playable_until(s, at), <=, s->first_pts + MAX_LOSS_S);
		g_assert_true(g_file_get_contents(path, &got, &len, NULL));
		g_assert_cmpuint(len, ==, at);
		n_refused++;
		return -1;
	}
	g_assert_cmpuint(removed, <=, at);
	if (at == (gint64)g_bytes_get_size(s->data))
		g_test_message("%s: trimming removed %" G_GUINT64_FORMAT " bytes", s->name,
		               removed);
	g_assert_true(g_file_get_contents(path, &got, &len, NULL));
	g_assert_cmpuint(len, ==, at - removed);
	assert_prefix(s, (const guint8 *)got, len);
	/* Trimming is idempotent: a trimmed file is complete. */
	g_assert_true(kt_media_trim_incomplete(path, &removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed, ==, 0);
	g_assert_true(g_file_get_contents(path, &again, &len2, NULL));
	g_assert_true(len2 == len && memcmp(got, again, len) == 0);
	*sha = g_compute_checksum_for_data(G_CHECKSUM_SHA1, (const guint8 *)got, len);
	return (gint64)len;
}

static GSubprocess *decode_start(const char *path)
{
	const char *argv[] = {"ffmpeg",    "-nostdin", "-v",      "error", "-nostats",
	                      "-progress", "pipe:1",   "-copyts", "-i",    path,
	                      "-f",        "null",     "-",       NULL};
	g_autoptr(GError) error = NULL;
	GSubprocess *p = g_subprocess_newv(
	    argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);

	g_assert_no_error(error);
	n_decodes++;
	return p;
}

/* Waits for ffmpeg; asserts it printed no error. Returns the time it decoded up to. */
static double decode_finish(GSubprocess *p, const char *what)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_auto(GStrv) lines = NULL;
	double until = -G_MAXDOUBLE;

	g_subprocess_communicate_utf8(p, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	/* Lines of ffmpeg's own null output muxer ("[null @ ...] non monotonically increasing
	 * dts", two frames of a live file in one millisecond) are about its output, not the
	 * file: every other line counts. */
	{
		g_auto(GStrv) err_lines = g_strsplit(err, "\n", -1);

		for (guint i = 0; err_lines[i]; i++)
			if (*err_lines[i] && !g_str_has_prefix(err_lines[i], "[null @"))
				g_error("ffmpeg on %s: %s", what, err);
	}
	g_assert_true(g_subprocess_get_successful(p));
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i]; i++)
		if (g_str_has_prefix(lines[i], "out_time_us=") &&
		    g_ascii_isdigit(lines[i][strlen("out_time_us=")]))
			until = g_ascii_strtoll(lines[i] + strlen("out_time_us="), NULL, 10) / 1e6;
	return until;
}

typedef struct {
	gint64 at;
	char *sha;
} Kept;

typedef struct {
	GSubprocess *proc;
	char *sha;
	char *what;
} Decode;

static void finish_decodes(GPtrArray *running, GHashTable *decoded)
{
	for (guint i = 0; i < running->len; i++) {
		Decode *d = running->pdata[i];
		double *until = g_new(double, 1);

		*until = decode_finish(d->proc, d->what);
		g_hash_table_replace(decoded, d->sha, until);
		g_object_unref(d->proc);
		g_free(d->what);
		g_free(d);
	}
	g_ptr_array_set_size(running, 0);
}

/* Cuts @s at every point; each distinct result is decoded once, DECODE_BATCH at a time. */
static void check_cuts(Sample *s, guint even)
{
	const char *ext = is_webm(s) ? "webm" : "mp4";
	g_autoptr(GArray) points = cut_points(s, even);
	g_autoptr(GHashTable) decoded =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GPtrArray) running = g_ptr_array_new();
	g_autoptr(GArray) kept = g_array_new(FALSE, FALSE, sizeof(Kept));
	g_autofree char *scratch = g_strdup_printf("%s/cut.%s", tmp_dir, ext);

	for (guint i = 0; i < points->len; i++) {
		gint64 at = g_array_index(points, gint64, i);
		Kept k = {at, NULL};
		g_autofree char *path = NULL;
		Decode *d;

		if (trim_cut(s, at, scratch, &k.sha) < 0)
			continue;
		g_array_append_val(kept, k);
		if (g_hash_table_contains(decoded, k.sha))
			continue;
		path = g_strdup_printf("%s/decode-%u.%s", tmp_dir, running->len, ext);
		g_assert_cmpint(g_rename(scratch, path), ==, 0);
		d = g_new0(Decode, 1);
		d->sha = g_strdup(k.sha);
		d->what = g_strdup_printf("%s cut at %" G_GINT64_FORMAT, s->name, at);
		d->proc = decode_start(path);
		g_hash_table_replace(decoded, g_strdup(k.sha), NULL);
		g_ptr_array_add(running, d);
		if (running->len == DECODE_BATCH)
			finish_decodes(running, decoded);
	}
	finish_decodes(running, decoded);
	/* What stayed plays up to at most MAX_LOSS_S before the crash. */
	for (guint i = 0; i < kept->len; i++) {
		Kept *k = &g_array_index(kept, Kept, i);
		const double *until = g_hash_table_lookup(decoded, k->sha);

		g_assert_nonnull(until);
		if (*until < playable_until(s, k->at) - MAX_LOSS_S)
			g_error("%s cut at %" G_GINT64_FORMAT ": plays to %.3f s of %.3f s",
			        s->name, k->at, *until, playable_until(s, k->at));
		g_free(k->sha);
	}
	g_test_message("%s: %u cut points, %u kept, %u distinct results decoded", s->name,
	               points->len, kept->len, g_hash_table_size(decoded));
}

static void test_cuts(gconstpointer data)
{
	Sample *s = &samples[GPOINTER_TO_UINT(data)];

	check_cuts(s, s->killed ? 16 : 32);
}

/* A file that is complete stays as it is. */
static void test_complete_untouched(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
		Sample *s = &samples[i];
		g_autoptr(GError) error = NULL;
		g_autofree char *path = g_build_filename(tmp_dir, "complete", NULL);
		g_autofree char *got = NULL;
		guint64 removed = 1;
		gsize len;

		if (s->killed)
			continue;
		g_assert_true(g_file_set_contents(path, g_bytes_get_data(s->data, NULL),
		                                  g_bytes_get_size(s->data), NULL));
		g_assert_true(kt_media_trim_incomplete(path, &removed, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(removed, ==, 0);
		g_assert_true(g_file_get_contents(path, &got, &len, NULL));
		g_assert_true(len == g_bytes_get_size(s->data) &&
		              memcmp(got, g_bytes_get_data(s->data, NULL), len) == 0);
	}
}

/* ---- hand-made files ---- */

static void put_be(GByteArray *b, guint64 v, guint len)
{
	for (guint i = 0; i < len; i++) {
		guint8 c = (guint8)(v >> (8 * (len - 1 - i)));

		g_byte_array_append(b, &c, 1);
	}
}

static void put_bytes(GByteArray *b, const char *s, gsize len)
{
	g_byte_array_append(b, (const guint8 *)s, (guint)len);
}

/* Appends a box around @body (consumed; NULL = empty): 32-bit size, or a largesize. */
static void box(GByteArray *out, const char *type, GByteArray *body, gboolean large)
{
	guint len = body ? body->len : 0;

	put_be(out, large ? 1 : 8 + len, 4);
	put_bytes(out, type, 4);
	if (large)
		put_be(out, 16 + len, 8);
	if (body) {
		g_byte_array_append(out, body->data, body->len);
		g_byte_array_unref(body);
	}
}

static GByteArray *bytes(const char *s, gsize len)
{
	GByteArray *b = g_byte_array_new();

	put_bytes(b, s, len);
	return b;
}

/* A moof for @track followed by an mdat of @len bytes. */
static void fragment(GByteArray *out, guint32 track, guint len, gboolean large)
{
	GByteArray *tfhd = bytes("\0\0\0\0", 4), *traf = g_byte_array_new();
	GByteArray *moof = g_byte_array_new(), *mdat = g_byte_array_new();

	put_be(tfhd, track, 4);
	box(traf, "tfhd", tfhd, FALSE);
	box(moof, "mfhd", bytes("\0\0\0\0\0\0\0\1", 8), FALSE);
	box(moof, "traf", traf, FALSE);
	box(out, "moof", moof, FALSE);
	g_byte_array_set_size(mdat, len);
	memset(mdat->data, 0x55, len);
	box(out, "mdat", mdat, large);
}

static GByteArray *mp4_header(guint tracks, gboolean fragmented)
{
	GByteArray *f = g_byte_array_new(), *moov = g_byte_array_new();

	box(f, "ftyp", bytes("isom\0\0\0\0isomiso6", 16), FALSE);
	for (guint i = 0; i < tracks; i++)
		box(moov, "trak", NULL, FALSE);
	if (fragmented)
		box(moov, "mvex", NULL, FALSE);
	box(f, "moov", moov, FALSE);
	return f;
}

/* Writes @content, trims it; returns the result (g_byte_array_unref) or NULL when refused
 * with @code (the file then unchanged). */
static GByteArray *trim_bytes(const GByteArray *content, guint64 *removed, gint code)
{
	g_autofree char *path = g_build_filename(tmp_dir, "made", NULL);
	g_autoptr(GError) error = NULL;
	gchar *got;
	gsize len;
	gboolean ok;

	g_assert_true(g_file_set_contents(path, (const char *)content->data, content->len, NULL));
	ok = kt_media_trim_incomplete(path, removed, &error);
	g_assert_true(g_file_get_contents(path, &got, &len, NULL));
	if (code >= 0) {
		g_assert_false(ok);
		g_assert_error(error, G_IO_ERROR, code);
		g_assert_true(len == content->len && memcmp(got, content->data, len) == 0);
		g_free(got);
		return NULL;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpuint(len, ==, content->len - *removed);
	return g_byte_array_new_take((guint8 *)got, len);
}

/* Asserts that trimming @content keeps exactly its first @keep bytes. */
static void assert_trims_to(const GByteArray *content, guint keep)
{
	guint64 removed;
	g_autoptr(GByteArray) got = trim_bytes(content, &removed, -1);

	g_assert_cmpuint(got->len, ==, keep);
	g_assert_cmpmem(got->data, got->len, content->data, keep);
}

static void test_mp4_layouts(void)
{
	g_autoptr(GByteArray) f = mp4_header(2, TRUE);
	g_autoptr(GByteArray) plain = mp4_header(1, FALSE);
	guint complete, mdat;
	guint64 removed;

	fragment(f, 1, 100, TRUE); /* mdat with a 64-bit largesize */
	fragment(f, 2, 50, FALSE);
	complete = f->len;
	assert_trims_to(f, complete);
	fragment(f, 1, 100, FALSE);
	mdat = f->len - 108;
	g_byte_array_set_size(f, f->len - 40); /* the last mdat cut short */
	assert_trims_to(f, complete);
	g_byte_array_set_size(f, mdat + 4); /* inside the mdat header */
	assert_trims_to(f, complete);
	g_byte_array_set_size(f, mdat); /* a moof without its mdat goes too */
	assert_trims_to(f, complete);
	g_byte_array_set_size(f, complete + 20); /* inside the moof */
	assert_trims_to(f, complete);
	g_byte_array_set_size(f, complete + 5000); /* zeros a filesystem left: not a box */
	memset(f->data + complete, 0, 5000);
	assert_trims_to(f, complete);
	g_byte_array_set_size(f, complete); /* an mdat of size 0 reaches to the end: whole */
	fragment(f, 2, 30, FALSE);
	memset(f->data + f->len - 38, 0, 4);
	assert_trims_to(f, f->len);

	/* Only track 1 has a fragment before the cut: track 2 could not be decoded. */
	g_byte_array_unref(f);
	f = mp4_header(2, TRUE);
	fragment(f, 1, 100, FALSE);
	fragment(f, 2, 100, FALSE);
	g_byte_array_set_size(f, f->len - 1);
	g_assert_null(trim_bytes(f, &removed, G_IO_ERROR_INVALID_DATA));
	/* moov cut: no header. */
	g_byte_array_set_size(f, 40);
	g_assert_null(trim_bytes(f, &removed, G_IO_ERROR_INVALID_DATA));

	/* A plain MP4 (moov indexes the samples): fine when whole, not cut. */
	box(plain, "mdat", bytes("xxxxxxxxxx", 10), FALSE);
	assert_trims_to(plain, plain->len);
	g_byte_array_set_size(plain, plain->len - 3);
	g_assert_null(trim_bytes(plain, &removed, G_IO_ERROR_NOT_SUPPORTED));
}

/* Appends an EBML element: @id as written, a @size_len-byte size (a known one, or unknown
 * when @body is NULL: its children follow), then @body (consumed). */
static void element(GByteArray *out, guint32 id, guint size_len, GByteArray *body)
{
	guint id_len = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
	guint64 marker = (guint64)1 << (7 * size_len);

	put_be(out, id, id_len);
	put_be(out, body ? marker | body->len : (marker << 1) - 1, size_len);
	if (body) {
		g_byte_array_append(out, body->data, body->len);
		g_byte_array_unref(body);
	}
}

/* A SimpleBlock (or, @group, a BlockGroup holding a Block) of @track with @len bytes. */
static void block(GByteArray *out, guint track, guint len, gboolean group)
{
	GByteArray *b = g_byte_array_new();

	put_be(b, 0x80 | track, 1);
	put_be(b, 0x000080, 3); /* timecode 0, keyframe */
	for (guint i = 0; i < len; i++)
		put_be(b, 0x42, 1);
	if (group) {
		GByteArray *g = g_byte_array_new();

		element(g, 0xA1, 2, b);
		element(out, 0xA0, 2, g);
	} else {
		element(out, 0xA3, 2, b);
	}
}

/* EBML header, then the Segment's Info and Tracks (@tracks TrackEntries) in @segment. */
static GByteArray *webm_header(GByteArray *segment, guint tracks)
{
	GByteArray *f = g_byte_array_new(), *t = g_byte_array_new();

	element(f, 0x1A45DFA3, 1, bytes("\x42\x82\x84webm", 7));
	element(segment, 0x1549A966, 1, bytes("\x2A\xD7\xB1\x83\x0F\x42\x40", 7));
	for (guint i = 1; i <= tracks; i++) {
		GByteArray *e = g_byte_array_new();

		put_be(e, 0xD781, 2); /* TrackNumber, 1 byte */
		put_be(e, i, 1);
		element(t, 0xAE, 1, e);
	}
	element(segment, 0x1654AE6B, 1, t);
	return f;
}

/* Known sizes (Segment, Cluster), as matroskamux finishes them. */
static void test_webm_known_sizes(void)
{
	g_autoptr(GByteArray) seg = g_byte_array_new();
	g_autoptr(GByteArray) f = webm_header(seg, 1);
	g_autoptr(GByteArray) cluster = g_byte_array_new();
	g_autoptr(GByteArray) got = NULL;
	g_autoptr(GByteArray) same = NULL;
	guint seg_data, cl, cl_data, keep;
	guint64 removed, v;

	put_be(cluster, 0xE78100, 3); /* Timecode 0 */
	block(cluster, 1, 200, TRUE);
	keep = cluster->len;
	block(cluster, 1, 300, FALSE);
	cl = seg->len;
	element(seg, 0x1F43B675, 8, g_byte_array_ref(cluster));
	seg_data = f->len + 12;
	element(f, 0x18538067, 8, g_byte_array_ref(seg));
	assert_trims_to(f, f->len); /* whole */
	cl += seg_data;
	cl_data = cl + 12;
	keep += cl_data;

	/* Cut in the SimpleBlock: the BlockGroup stays; the Cluster and Segment sizes become
	 * what is left of them, in the same width; everything else as it was. */
	g_byte_array_set_size(f, f->len - 100);
	got = trim_bytes(f, &removed, -1);
	g_assert_cmpuint(got->len, ==, keep);
	ebml_size(got->data + seg_data - 8, &v);
	g_assert_cmpuint(v, ==, keep - seg_data);
	ebml_size(got->data + cl + 4, &v);
	g_assert_cmpuint(v, ==, keep - cl_data);
	g_assert_cmpuint(got->data[seg_data - 8], ==, 0x01);
	g_assert_cmpmem(got->data + cl + 12, keep - cl - 12, f->data + cl + 12, keep - cl - 12);
	g_assert_cmpmem(got->data, seg_data - 8, f->data, seg_data - 8);

	/* Cut just after a block: nothing to remove, but the sizes still reach past the end. */
	g_byte_array_set_size(f, keep);
	same = trim_bytes(f, &removed, -1);
	g_assert_cmpuint(removed, ==, 0);
	g_assert_cmpmem(same->data, same->len, got->data, got->len);

	/* Cut inside the Cluster header: the Cluster goes; Tracks is all that is left, so no
	 * media: refused. */
	g_byte_array_set_size(f, cl + 6);
	g_assert_null(trim_bytes(f, &removed, G_IO_ERROR_INVALID_DATA));
}

/* Unknown sizes (a live muxer): a Cluster ends where Cues begin; the next one is cut back to
 * nothing; no size to fix. */
static void test_webm_unknown_sizes(void)
{
	g_autoptr(GByteArray) seg = g_byte_array_new();
	g_autoptr(GByteArray) f = webm_header(seg, 1);
	guint keep;

	put_be(f, 0x18538067, 4);
	put_be(f, 0x01FFFFFFFFFFFFFF, 8);
	g_byte_array_append(f, seg->data, seg->len);
	element(f, 0x1F43B675, 8, NULL);
	put_be(f, 0xE78100, 3);
	block(f, 1, 100, FALSE);
	element(f, 0x1C53BB6B, 1, bytes("\xBB\x80", 2)); /* Cues */
	keep = f->len;
	assert_trims_to(f, keep);
	element(f, 0x1F43B675, 8, NULL);
	put_be(f, 0xE78110, 3);
	block(f, 1, 100, FALSE);
	g_byte_array_set_size(f, f->len - 1);
	assert_trims_to(f, keep);
}

static void test_webm_tracks_and_tail(void)
{
	g_autoptr(GByteArray) seg = g_byte_array_new();
	g_autoptr(GByteArray) f = webm_header(seg, 2);
	g_autoptr(GByteArray) cluster = g_byte_array_new();
	guint64 removed;
	guint keep;

	/* Two tracks declared, only one with media: refused even though nothing is cut. */
	block(cluster, 1, 50, FALSE);
	element(seg, 0x1F43B675, 2, g_byte_array_ref(cluster));
	element(f, 0x18538067, 8, g_byte_array_ref(seg));
	g_assert_null(trim_bytes(f, &removed, G_IO_ERROR_INVALID_DATA));

	/* One track: whole; then a partial element after the Segment goes. */
	g_byte_array_set_size(seg, 0);
	g_byte_array_unref(f);
	f = webm_header(seg, 1);
	element(seg, 0x1F43B675, 2, g_byte_array_ref(cluster));
	element(f, 0x18538067, 8, g_byte_array_ref(seg));
	keep = f->len;
	assert_trims_to(f, keep);
	put_be(f, 0xEC8A0000, 4); /* a Void of 10 bytes, 2 there */
	assert_trims_to(f, keep);
}

static void test_bad_files(void)
{
	g_autofree char *path = g_build_filename(tmp_dir, "bad", NULL);
	g_autofree char *missing = g_build_filename(tmp_dir, "missing.webm", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *got = NULL;
	const char *text = "lesson notes, not a video\n";
	guint64 removed = 7;

	g_assert_true(g_file_set_contents(path, "", 0, NULL));
	g_assert_false(kt_media_trim_incomplete(path, &removed, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_nonnull(strstr(error->message, "0 bytes"));
	g_assert_cmpuint(removed, ==, 0);
	g_clear_error(&error);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_false(kt_media_trim_incomplete(path, NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
	g_assert_cmpstr(got, ==, text);
	g_clear_error(&error);

	g_assert_false(kt_media_trim_incomplete(missing, NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, missing));
	g_clear_error(&error);

	g_assert_false(kt_media_trim_incomplete(tmp_dir, NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
	g_clear_error(&error);

	/* Only the header of a real recording: nothing to play. */
	g_assert_true(
	    g_file_set_contents(path, g_bytes_get_data(samples[WEBM].data, NULL), 300, NULL));
	g_assert_false(kt_media_trim_incomplete(path, NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("test-media-trim-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	make_samples();

	g_test_add_func("/media-trim/complete-untouched", test_complete_untouched);
	g_test_add_data_func("/media-trim/cuts/fragmented-mp4", GUINT_TO_POINTER(MP4), test_cuts);
	g_test_add_data_func("/media-trim/cuts/webm", GUINT_TO_POINTER(WEBM), test_cuts);
	g_test_add_data_func("/media-trim/cuts/streamable-webm", GUINT_TO_POINTER(LIVE_WEBM),
	                     test_cuts);
	g_test_add_data_func("/media-trim/cuts/killed-mp4", GUINT_TO_POINTER(KILLED_MP4),
	                     test_cuts);
	g_test_add_data_func("/media-trim/cuts/killed-webm", GUINT_TO_POINTER(KILLED_WEBM),
	                     test_cuts);
	g_test_add_func("/media-trim/mp4-layouts", test_mp4_layouts);
	g_test_add_func("/media-trim/webm-known-sizes", test_webm_known_sizes);
	g_test_add_func("/media-trim/webm-unknown-sizes", test_webm_unknown_sizes);
	g_test_add_func("/media-trim/webm-tracks-and-tail", test_webm_tracks_and_tail);
	g_test_add_func("/media-trim/bad-files", test_bad_files);
	ret = g_test_run();

	g_test_message("%u cut points, %u refused, %u decodes", n_cuts, n_refused, n_decodes);
	for (guint i = 0; i < G_N_ELEMENTS(samples); i++) {
		g_free(samples[i].path);
		g_bytes_unref(samples[i].data);
		g_array_unref(samples[i].packets);
	}
	tmp_dir_remove(tmp_dir);
	g_free(tmp_dir);
	return ret;
}
