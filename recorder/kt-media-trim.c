/* Cuts a crashed MP4/WebM recording back to its last complete unit (kt-media-trim.h).
 *
 * Two steps: a read-only walk over the box/element headers makes a plan (how many bytes to
 * keep, which EBML size fields to rewrite), checked against what a decoder needs; only then
 * is the file opened for writing, the size fields rewritten and the file truncated. */
#define G_LOG_DOMAIN "kt-media-trim"

#include "kt-media-trim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Tracks told apart when checking that each keeps some media: a lesson recording has one
 * to three; past this many only the first ones are checked. */
#define TRIM_MAX_TRACKS 16

#define FOURCC(a, b, c, d) (((guint32)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* Matroska element IDs (RFC 9559 §5.1), marker bits included. */
enum {
	EBML_ID_HEADER = 0x1A45DFA3,
	MKV_ID_SEGMENT = 0x18538067,
	MKV_ID_SEEK_HEAD = 0x114D9B74,
	MKV_ID_INFO = 0x1549A966,
	MKV_ID_TRACKS = 0x1654AE6B,
	MKV_ID_TRACK_ENTRY = 0xAE,
	MKV_ID_CLUSTER = 0x1F43B675,
	MKV_ID_SIMPLE_BLOCK = 0xA3,
	MKV_ID_BLOCK_GROUP = 0xA0,
	MKV_ID_BLOCK = 0xA1,
	MKV_ID_CUES = 0x1C53BB6B,
	MKV_ID_CHAPTERS = 0x1043A770,
	MKV_ID_TAGS = 0x1254C367,
	MKV_ID_ATTACHMENTS = 0x1941A469,
};

typedef struct {
	int fd;
	guint64 size;
	const char *path;
} TrimFile;

/* How a box or element at some offset looks against the end of its parent. */
typedef enum {
	PIECE_ERROR = -1, /* reading failed; the GError is set */
	PIECE_COMPLETE,   /* header and body within the parent */
	PIECE_BODY_CUT,   /* the header is whole, the body runs past the parent's end */
	PIECE_HEADER_CUT, /* not even the header is whole */
	PIECE_INVALID,    /* not a box / element: garbage, e.g. zeros left by the filesystem */
} PieceStatus;

/* An ISO BMFF box (ISO/IEC 14496-12 §4.2). */
typedef struct {
	guint64 start, end; /* end = start + size, also when past the parent's end */
	guint hdr;          /* 8, or 16 with a largesize */
	guint32 type;
} Box;

/* An EBML element (RFC 8794 §4, §6). */
typedef struct {
	guint64 start, data, end; /* end = G_MAXUINT64 when the size is unknown */
	guint32 id;               /* with its marker bits, as IDs are written in the specs */
	guint id_len, size_len;
	gboolean unknown; /* the size field is all ones: "unknown size" */
} Element;

/* An EBML size field to rewrite: the @len bytes at @pos get @value. */
typedef struct {
	guint64 pos;
	guint len;
	guint64 value;
} SizeFix;

/* What the walk found and what to do. */
typedef struct {
	guint64 keep;         /* bytes to keep */
	SizeFix fixes[2];     /* WebM: the cut Cluster's and the Segment's sizes */
	guint n_fixes;        /* 0..2 */
	guint64 header_end;   /* end of moov / Tracks; 0 = not seen complete */
	guint64 media_from;   /* where the walk for media starts: 0 / the Segment's data */
	guint n_tracks;       /* tracks the header declares */
	gboolean sample_list; /* MP4 without mvex: moov lists every sample, nothing to check */
	gboolean webm;        /* else MP4 */
} TrimPlan;

typedef struct {
	guint64 ids[TRIM_MAX_TRACKS];
	guint n;
} TrackSet;

static void track_set_add(TrackSet *set, guint64 id)
{
	for (guint i = 0; i < set->n; i++)
		if (set->ids[i] == id)
			return;
	if (set->n < TRIM_MAX_TRACKS)
		set->ids[set->n++] = id;
}

static void set_errno_error(GError **error, int err, const char *what, const char *path)
{
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "Cannot %s %s: %s", what, path,
	            g_strerror(err));
}

/* Reads up to @len bytes at @off, fewer at the end of the file. Returns how many, or -1. */
static gssize read_at(const TrimFile *f, guint64 off, guint8 *buf, gsize len, GError **error)
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
			set_errno_error(error, errno, "read", f->path);
			return -1;
		}
		if (n == 0) /* shorter than fstat said: someone else truncated it */
			break;
		got += (gsize)n;
	}
	return (gssize)got;
}

static guint64 read_be(const guint8 *p, guint len)
{
	guint64 v = 0;

	for (guint i = 0; i < len; i++)
		v = (v << 8) | p[i];
	return v;
}

/* ---- MP4 ---- */

/* Box types are four characters; a tail of zeros or noise is not a box. */
static gboolean fourcc_is_printable(guint32 type)
{
	for (guint i = 0; i < 4; i++) {
		guint8 c = (guint8)(type >> (8 * i));

		if (c < 0x20 || c > 0x7e)
			return FALSE;
	}
	return TRUE;
}

/* The box at @off, its parent ending at @limit. */
static PieceStatus mp4_box_at(const TrimFile *f, guint64 off, guint64 limit, Box *box,
                              GError **error)
{
	guint8 b[16];
	gssize n = read_at(f, off, b, MIN(sizeof b, limit - off), error);
	guint64 size;

	if (n < 0)
		return PIECE_ERROR;
	if (n < 8)
		return PIECE_HEADER_CUT;
	box->start = off;
	box->type = (guint32)read_be(b + 4, 4);
	box->hdr = 8;
	size = read_be(b, 4);
	if (!fourcc_is_printable(box->type))
		return PIECE_INVALID;
	if (size == 1) { /* a 64-bit largesize follows the type */
		if (n < 16)
			return PIECE_HEADER_CUT;
		box->hdr = 16;
		size = read_be(b + 8, 8);
	} else if (size == 0) { /* the box extends to the end of its container */
		size = limit - off;
	}
	if (size < box->hdr || size > G_MAXUINT64 - off)
		return PIECE_INVALID;
	box->end = off + size;
	return box->end <= limit ? PIECE_COMPLETE : PIECE_BODY_CUT;
}

/* Counts moov's tracks and tells a fragmented file (with mvex) from a plain one. */
static gboolean mp4_read_moov(const TrimFile *f, const Box *moov, TrimPlan *plan, GError **error)
{
	gboolean fragmented = FALSE;
	Box c;

	for (guint64 off = moov->start + moov->hdr; off < moov->end; off = c.end) {
		PieceStatus st = mp4_box_at(f, off, moov->end, &c, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if (st != PIECE_COMPLETE)
			break;
		if (c.type == FOURCC('t', 'r', 'a', 'k'))
			plan->n_tracks++;
		else if (c.type == FOURCC('m', 'v', 'e', 'x'))
			fragmented = TRUE;
	}
	plan->header_end = moov->end;
	plan->sample_list = !fragmented;
	return TRUE;
}

/* Keeps every complete top-level box, except a moof whose mdat is not complete. */
static gboolean mp4_plan(const TrimFile *f, TrimPlan *plan, GError **error)
{
	gboolean moof_waiting = FALSE;
	Box b;

	for (guint64 off = 0; off < f->size; off = b.end) {
		PieceStatus st = mp4_box_at(f, off, f->size, &b, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if (st != PIECE_COMPLETE)
			break;
		if (b.type == FOURCC('m', 'o', 'o', 'v') && !mp4_read_moov(f, &b, plan, error))
			return FALSE;
		if (b.type == FOURCC('m', 'o', 'o', 'f'))
			moof_waiting = TRUE; /* its samples are in the mdat that follows (§8.8.4) */
		else if (b.type == FOURCC('m', 'd', 'a', 't'))
			moof_waiting = FALSE;
		if (!moof_waiting)
			plan->keep = b.end;
	}
	if (plan->header_end > plan->keep)
		plan->header_end = 0;
	return TRUE;
}

/* Adds the tracks of @moof's fragments (traf/tfhd track_ID, §8.8.7) to @set. */
static gboolean mp4_moof_tracks(const TrimFile *f, const Box *moof, TrackSet *set, GError **error)
{
	Box traf, c;

	for (guint64 off = moof->start + moof->hdr; off < moof->end; off = traf.end) {
		PieceStatus st = mp4_box_at(f, off, moof->end, &traf, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if (st != PIECE_COMPLETE)
			break;
		if (traf.type != FOURCC('t', 'r', 'a', 'f'))
			continue;
		for (guint64 o = traf.start + traf.hdr; o < traf.end; o = c.end) {
			guint8 id[4];
			gssize n;

			st = mp4_box_at(f, o, traf.end, &c, error);
			if (st == PIECE_ERROR)
				return FALSE;
			if (st != PIECE_COMPLETE)
				break;
			if (c.type != FOURCC('t', 'f', 'h', 'd') || c.end - c.start < 16)
				continue;
			/* size, type, version and flags, then track_ID */
			n = read_at(f, c.start + 12, id, sizeof id, error);
			if (n < 0)
				return FALSE;
			if (n == sizeof id)
				track_set_add(set, read_be(id, 4));
			break;
		}
	}
	return TRUE;
}

/* Collects the tracks with a kept fragment, stopping once @need are found. */
static gboolean mp4_kept_tracks(const TrimFile *f, const TrimPlan *plan, guint need, TrackSet *set,
                                GError **error)
{
	Box b;

	for (guint64 off = 0; off < plan->keep && set->n < need; off = b.end) {
		PieceStatus st = mp4_box_at(f, off, plan->keep, &b, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if (st != PIECE_COMPLETE)
			break;
		if (b.type == FOURCC('m', 'o', 'o', 'f') && !mp4_moof_tracks(f, &b, set, error))
			return FALSE;
	}
	return TRUE;
}

/* ---- WebM / Matroska ---- */

/* The length of the variable-size integer that starts with @first (RFC 8794 §4.1): one more
 * than its leading zero bits; 0 for 0x00, which starts none. */
static guint vint_length(guint8 first)
{
	for (guint len = 1; len <= 8; len++)
		if (first & (0x80 >> (len - 1)))
			return len;
	return 0;
}

static guint64 vint_mask(guint len)
{
	return ((guint64)1 << (7 * len)) - 1;
}

static gboolean is_top_level(guint32 id)
{
	switch (id) {
	case EBML_ID_HEADER:
	case MKV_ID_SEGMENT:
	case MKV_ID_SEEK_HEAD:
	case MKV_ID_INFO:
	case MKV_ID_TRACKS:
	case MKV_ID_CLUSTER:
	case MKV_ID_CUES:
	case MKV_ID_CHAPTERS:
	case MKV_ID_TAGS:
	case MKV_ID_ATTACHMENTS:
		return TRUE;
	default:
		return FALSE;
	}
}

/* The element at @off, its parent ending at @limit. An unknown size counts as complete: the
 * caller finds its end. */
static PieceStatus ebml_element_at(const TrimFile *f, guint64 off, guint64 limit, Element *el,
                                   GError **error)
{
	guint8 b[12];
	gssize n = read_at(f, off, b, MIN(sizeof b, limit - off), error);
	guint64 size;

	if (n < 0)
		return PIECE_ERROR;
	if (n < 1)
		return PIECE_HEADER_CUT;
	el->id_len = vint_length(b[0]);
	if (el->id_len == 0 || el->id_len > 4) /* Matroska's EBMLMaxIDLength is 4 */
		return PIECE_INVALID;
	if ((gsize)n <= el->id_len)
		return PIECE_HEADER_CUT;
	el->size_len = vint_length(b[el->id_len]);
	if (el->size_len == 0)
		return PIECE_INVALID;
	if ((gsize)n < el->id_len + el->size_len)
		return PIECE_HEADER_CUT;
	el->start = off;
	el->id = (guint32)read_be(b, el->id_len);
	el->data = off + el->id_len + el->size_len;
	size = read_be(b + el->id_len, el->size_len) & vint_mask(el->size_len);
	el->unknown = size == vint_mask(el->size_len); /* all ones (RFC 8794 §6.2) */
	if (el->unknown) {
		el->end = G_MAXUINT64;
		return PIECE_COMPLETE;
	}
	el->end = el->data + size; /* size < 2^56: no overflow */
	return el->end <= limit ? PIECE_COMPLETE : PIECE_BODY_CUT;
}

static void add_size_fix(TrimPlan *plan, const Element *el, guint64 value)
{
	g_assert(plan->n_fixes < G_N_ELEMENTS(plan->fixes));
	plan->fixes[plan->n_fixes++] =
	    (SizeFix){.pos = el->start + el->id_len, .len = el->size_len, .value = value};
}

static gboolean webm_read_tracks(const TrimFile *f, const Element *tracks, TrimPlan *plan,
                                 GError **error)
{
	Element c;

	for (guint64 off = tracks->data; off < tracks->end; off = c.end) {
		PieceStatus st = ebml_element_at(f, off, tracks->end, &c, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if (st != PIECE_COMPLETE || c.unknown)
			break;
		if (c.id == MKV_ID_TRACK_ENTRY)
			plan->n_tracks++;
	}
	plan->header_end = tracks->end;
	return TRUE;
}

/* Walks a Cluster that has an unknown size or is cut by the end of the file, child by child.
 * Sets @ended to where it ends when it is complete after all; otherwise to G_MAXUINT64, with
 * plan->keep after its last complete block (or before the Cluster, without one). */
static gboolean webm_walk_cluster(const TrimFile *f, const Element *cl, guint64 seg_end,
                                  TrimPlan *plan, guint64 *ended, GError **error)
{
	guint64 limit = cl->unknown ? seg_end : MIN(cl->end, seg_end);
	guint64 kept = cl->start;
	guint64 off = cl->data;
	gboolean next_found = FALSE;
	Element el;

	*ended = G_MAXUINT64;
	while (off < limit) {
		PieceStatus st = ebml_element_at(f, off, limit, &el, error);

		if (st == PIECE_ERROR)
			return FALSE;
		/* An unknown-size element ends where an element that cannot be its child starts
		 * (RFC 8794 §6.2): the next Cluster, Cues... */
		if (cl->unknown && (st == PIECE_COMPLETE || st == PIECE_BODY_CUT) &&
		    is_top_level(el.id)) {
			next_found = TRUE;
			break;
		}
		if (st != PIECE_COMPLETE || el.unknown)
			break;
		if (el.id == MKV_ID_SIMPLE_BLOCK || el.id == MKV_ID_BLOCK_GROUP)
			kept = el.end;
		off = el.end;
	}
	if (cl->unknown && (next_found || off == limit)) { /* complete after all */
		*ended = plan->keep = off;
		return TRUE;
	}
	plan->keep = kept;
	if (!cl->unknown && kept > cl->start) /* its size now reaches past the end */
		add_size_fix(plan, cl, kept - cl->data);
	return TRUE;
}

/* Keeps the Segment's complete children, then what is whole of a cut Cluster. */
static gboolean webm_walk_segment(const TrimFile *f, const Element *seg, TrimPlan *plan,
                                  GError **error)
{
	guint64 seg_end = seg->unknown ? f->size : MIN(seg->end, f->size);
	guint64 off = seg->data;
	Element el;

	plan->media_from = plan->keep = seg->data;
	while (off < seg_end) {
		PieceStatus st = ebml_element_at(f, off, seg_end, &el, error);
		gboolean header = st == PIECE_COMPLETE || st == PIECE_BODY_CUT;

		if (st == PIECE_ERROR)
			return FALSE;
		if (header && el.id == MKV_ID_CLUSTER && (el.unknown || el.end > seg_end)) {
			guint64 ended;

			if (!webm_walk_cluster(f, &el, seg_end, plan, &ended, error))
				return FALSE;
			if (ended == G_MAXUINT64)
				break;
			off = ended;
			continue;
		}
		if (st != PIECE_COMPLETE || el.unknown)
			break;
		if (el.id == MKV_ID_TRACKS && !webm_read_tracks(f, &el, plan, error))
			return FALSE;
		plan->keep = off = el.end;
	}
	/* A known size reaching past what is left makes demuxers wait for more ("File ended
	 * prematurely"): it becomes the size of what is left. */
	if (!seg->unknown && plan->keep != seg->end)
		add_size_fix(plan, seg, plan->keep - seg->data);
	return TRUE;
}

/* The EBML header, then the Segment; whatever follows a complete Segment is kept when whole. */
static gboolean webm_plan(const TrimFile *f, TrimPlan *plan, GError **error)
{
	gboolean seen_segment = FALSE;
	guint64 off = 0;
	Element el;

	while (off < f->size) {
		PieceStatus st = ebml_element_at(f, off, f->size, &el, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if ((st == PIECE_COMPLETE || st == PIECE_BODY_CUT) && el.id == MKV_ID_SEGMENT &&
		    !seen_segment && off > 0) {
			seen_segment = TRUE;
			if (!webm_walk_segment(f, &el, plan, error))
				return FALSE;
			if (el.unknown || el.end > f->size || plan->keep < el.end)
				break;
			off = el.end;
			continue;
		}
		if (st != PIECE_COMPLETE || el.unknown)
			break;
		plan->keep = off = el.end;
	}
	if (plan->header_end > plan->keep)
		plan->header_end = 0;
	return TRUE;
}

/* Adds the track of a SimpleBlock or Block: its data starts with the track number. */
static gboolean webm_block_track(const TrimFile *f, const Element *block, TrackSet *set,
                                 GError **error)
{
	guint8 b[8];
	gssize n = read_at(f, block->data, b, MIN(sizeof b, block->end - block->data), error);
	guint len;

	if (n < 0)
		return FALSE;
	len = n > 0 ? vint_length(b[0]) : 0;
	if (len > 0 && (gsize)n >= len)
		track_set_add(set, read_be(b, len) & vint_mask(len));
	return TRUE;
}

/* Adds the tracks of the blocks of the Cluster @cl up to @end; @next gets where it ends. */
static gboolean webm_cluster_tracks(const TrimFile *f, const Element *cl, guint64 end,
                                    TrackSet *set, guint64 *next, GError **error)
{
	guint64 off = cl->data;
	Element el, b;

	while (off < end) {
		PieceStatus st = ebml_element_at(f, off, end, &el, error);

		if (st == PIECE_ERROR)
			return FALSE;
		if (st != PIECE_COMPLETE || el.unknown || (cl->unknown && is_top_level(el.id)))
			break;
		if (el.id == MKV_ID_SIMPLE_BLOCK && !webm_block_track(f, &el, set, error))
			return FALSE;
		for (guint64 o = el.data; el.id == MKV_ID_BLOCK_GROUP && o < el.end; o = b.end) {
			st = ebml_element_at(f, o, el.end, &b, error);
			if (st == PIECE_ERROR)
				return FALSE;
			if (st != PIECE_COMPLETE || b.unknown)
				break;
			if (b.id == MKV_ID_BLOCK && !webm_block_track(f, &b, set, error))
				return FALSE;
		}
		off = el.end;
	}
	*next = off;
	return TRUE;
}

/* Collects the tracks with a kept block, stopping once @need are found. */
static gboolean webm_kept_tracks(const TrimFile *f, const TrimPlan *plan, guint need, TrackSet *set,
                                 GError **error)
{
	guint64 off = plan->media_from;
	Element el;

	while (off < plan->keep && set->n < need) {
		PieceStatus st = ebml_element_at(f, off, plan->keep, &el, error);

		if (st == PIECE_ERROR)
			return FALSE;
		/* The cut Cluster's size still reaches past plan->keep: not yet rewritten. */
		if ((st == PIECE_COMPLETE || st == PIECE_BODY_CUT) && el.id == MKV_ID_CLUSTER) {
			guint64 end = el.unknown ? plan->keep : MIN(el.end, plan->keep);

			if (!webm_cluster_tracks(f, &el, end, set, &off, error))
				return FALSE;
			continue;
		}
		if (st != PIECE_COMPLETE || el.unknown)
			break;
		off = el.end;
	}
	return TRUE;
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
	gssize n = read_at(f, 0, b, sizeof b, error);
	gboolean mp4, webm;

	if (n < 0)
		return FALSE;
	mp4 = starts_like(b, (gsize)n, "ftyp", 4);
	webm = starts_like(b, (gsize)n, ebml_magic, 0);
	if (n == sizeof b && mp4)
		return mp4_plan(f, plan, error);
	if (n == sizeof b && webm) {
		plan->webm = TRUE;
		return webm_plan(f, plan, error);
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
	if (!(plan->webm ? webm_kept_tracks : mp4_kept_tracks)(f, plan, need, &kept, error))
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
	set_errno_error(error, n < 0 ? errno : EIO, "write", path);
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
		set_errno_error(error, errno, "open for writing", f->path);
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
		set_errno_error(error, errno, "truncate", f->path);
		ok = FALSE;
	}
	if (ok && fdatasync(fd) < 0) {
		set_errno_error(error, errno, "flush", f->path);
		ok = FALSE;
	}
	if (close(fd) < 0 && ok) {
		set_errno_error(error, errno, "close", f->path);
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
		set_errno_error(error, errno, "open", path);
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
