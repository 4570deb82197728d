/* Cuts a crashed MP4/WebM recording back to its last complete unit (kt-media-trim.h).
 *
 * Two steps: a read-only walk over the box/element headers makes a plan (how many bytes to
 * keep, which EBML size fields to rewrite), checked against what a decoder needs; only then
 * is the file opened for writing, the size fields rewritten and the file truncated. */
#define G_LOG_DOMAIN "kt-media-trim"

#include "kt-media-trim-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void kt_trim_track_set_add(TrackSet *set, guint64 id)
{
	for (guint i = 0; i < set->n; i++)
		if (set->ids[i] == id)
			return;
	if (set->n < TRIM_MAX_TRACKS)
		set->ids[set->n++] = id;
}

void kt_trim_errno_error(GError **error, int err, const char *what, const char *path)
{
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "Cannot %s %s: %s", what, path,
	            g_strerror(err));
}

/* Reads up to @len bytes at @off, fewer at the end of the file. Returns how many, or -1. */
gssize kt_trim_read_at(const TrimFile *f, guint64 off, guint8 *buf, gsize len, GError **error)
{
	gsize got = 0;

	if (off >= f->size)
		return 0;
	len = MIN(len, f->size - off);
	while (got < len) {
		ssize_t n = pread(f->fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kt_trim_errno_error(error, errno, "read", f->path);
			return -1;
		}
		if (n == 0) /* shorter than fstat said: someone else truncated it */
			break;
		got += (gsize)n;
	}
	return (gssize)got;
}

guint64 kt_trim_read_be(const guint8 *p, guint len)
{
	guint64 v = 0;

	for (guint i = 0; i < len; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- the plan, checked and applied ---- */

/* Whether the @n bytes at the start of the file match @magic at @off, as far as they go. */
static gboolean starts_like(const guint8 *b, gsize n, const char *magic, gsize off)
{
	return n <= off || memcmp(b + off, magic, MIN(strlen(magic), n - off)) == 0;
}

/* Tells the container by content (ftyp box / EBML magic), then walks it. */
static gboolean make_plan(const TrimFile *f, TrimPlan *plan, GError **error)
{
	static const char ebml_magic[] = "\x1A\x45\xDF\xA3";
	guint8 b[8];
	gssize n = kt_trim_read_at(f, 0, b, sizeof b, error);
	gboolean mp4, webm;

	if (n < 0)
		return FALSE;
	mp4 = starts_like(b, (gsize)n, "ftyp", 4);
	webm = starts_like(b, (gsize)n, ebml_magic, 0);
	if (n == sizeof b && mp4)
		return kt_trim_mp4_plan(f, plan, error);
	if (n == sizeof b && webm) {
		plan->webm = TRUE;
		return kt_trim_webm_plan(f, plan, error);
	}
	if (mp4 || webm) { /* a crash right after the file was created */
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "%s has %" G_GSSIZE_FORMAT " bytes: nothing to keep", f->path, n);
		return FALSE;
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
	            "%s is neither MP4 (ftyp) nor WebM/Matroska (EBML)", f->path);
	return FALSE;
}

/* Refuses a plan whose result would not decode: no header, no media, or a track without
 * media (ffmpeg cannot even set up a decoder for it: "Cannot determine format of input
 * stream"), as when a file is cut within its first fragment. */
static gboolean check_plan(const TrimFile *f, const TrimPlan *plan, GError **error)
{
	gboolean changes = plan->keep < f->size || plan->n_fixes > 0;
	guint need = CLAMP(plan->n_tracks, 1, TRIM_MAX_TRACKS);
	TrackSet kept = {0};

	if (plan->header_end == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "%s has no complete header (%s): nothing to keep", f->path,
		            plan->webm ? "Tracks" : "moov");
		return FALSE;
	}
	if (plan->sample_list) {
		if (!changes)
			return TRUE;
		/* Its moov indexes samples that cutting would remove. */
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
		            "%s is not a fragmented MP4 and cannot be cut", f->path);
		return FALSE;
	}
	if (!(plan->webm ? kt_trim_webm_kept_tracks : kt_trim_mp4_kept_tracks)(f, plan, need, &kept,
	                                                                       error))
		return FALSE;
	if (kept.n == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "%s has no complete %s: nothing to keep", f->path,
		            plan->webm ? "block" : "fragment");
		return FALSE;
	}
	if (kept.n < need) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
		            "%s: up to byte %" G_GUINT64_FORMAT " only %u of its %u tracks have "
		            "complete media",
		            f->path, plan->keep, kept.n, need);
		return FALSE;
	}
	return TRUE;
}

static gboolean write_size_fix(int fd, const SizeFix *fix, const char *path, GError **error)
{
	/* The same width as before, with the marker bit (RFC 8794 §4.1). The new size is smaller
	 * than the old one, so it fits, and is not the all-ones "unknown". */
	guint64 v = fix->value | ((guint64)1 << (7 * fix->len));
	guint8 b[8];
	ssize_t n;

	for (guint i = 0; i < fix->len; i++)
		b[i] = (guint8)(v >> (8 * (fix->len - 1 - i)));
	do
		n = pwrite(fd, b, fix->len, (off_t)fix->pos);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)fix->len)
		return TRUE;
	kt_trim_errno_error(error, n < 0 ? errno : EIO, "write", path);
	return FALSE;
}

/* Size fields first, then the cut: if this is interrupted, what follows the rewritten sizes is
 * an incomplete element that the next run cuts. */
static gboolean apply_plan(const TrimFile *f, const struct stat *before, const TrimPlan *plan,
                           GError **error)
{
	int fd = open(f->path, O_WRONLY | O_CLOEXEC);
	struct stat now;
	gboolean ok = TRUE;

	if (fd < 0) {
		kt_trim_errno_error(error, errno, "open for writing", f->path);
		return FALSE;
	}
	if (fstat(fd, &now) < 0 || now.st_dev != before->st_dev || now.st_ino != before->st_ino ||
	    now.st_size != before->st_size) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
		            "%s changed while it was being checked", f->path);
		close(fd);
		return FALSE;
	}
	for (guint i = 0; ok && i < plan->n_fixes; i++)
		ok = write_size_fix(fd, &plan->fixes[i], f->path, error);
	if (ok && ftruncate(fd, (off_t)plan->keep) < 0) {
		kt_trim_errno_error(error, errno, "truncate", f->path);
		ok = FALSE;
	}
	if (ok && fdatasync(fd) < 0) {
		kt_trim_errno_error(error, errno, "flush", f->path);
		ok = FALSE;
	}
	if (close(fd) < 0 && ok) {
		kt_trim_errno_error(error, errno, "close", f->path);
		ok = FALSE;
	}
	return ok;
}

gboolean kt_media_trim_incomplete(const char *path, guint64 *removed_out, GError **error)
{
	TrimFile f = {.path = path};
	TrimPlan plan = {0};
	struct stat st;
	gboolean ok;

	g_return_val_if_fail(path != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	if (removed_out)
		*removed_out = 0;
	f.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f.fd < 0) {
		kt_trim_errno_error(error, errno, "open", path);
		return FALSE;
	}
	if (fstat(f.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
		            "%s is not a regular file", path);
		close(f.fd);
		return FALSE;
	}
	f.size = (guint64)st.st_size;
	ok = make_plan(&f, &plan, error) && check_plan(&f, &plan, error);
	close(f.fd);
	if (!ok)
		return FALSE;
	if (plan.keep == f.size && plan.n_fixes == 0)
		return TRUE;
	if (!apply_plan(&f, &st, &plan, error))
		return FALSE;
	if (removed_out)
		*removed_out = f.size - plan.keep;
	return TRUE;
}
