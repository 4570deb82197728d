/* kt-media-trim for WebM/Matroska (RFC 9559, RFC 8794): the element walk, the size fixes
 * and the kept-tracks check. See kt-media-trim.h for what is cut. */
#define G_LOG_DOMAIN "kt-media-trim"

#include "kt-media-trim-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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
	gssize n = kt_trim_read_at(f, off, b, MIN(sizeof b, limit - off), error);
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
	el->id = (guint32)kt_trim_read_be(b, el->id_len);
	el->data = off + el->id_len + el->size_len;
	size = kt_trim_read_be(b + el->id_len, el->size_len) & vint_mask(el->size_len);
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
gboolean kt_trim_webm_plan(const TrimFile *f, TrimPlan *plan, GError **error)
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
	gssize n =
	    kt_trim_read_at(f, block->data, b, MIN(sizeof b, block->end - block->data), error);
	guint len;

	if (n < 0)
		return FALSE;
	len = n > 0 ? vint_length(b[0]) : 0;
	if (len > 0 && (gsize)n >= len)
		kt_trim_track_set_add(set, kt_trim_read_be(b, len) & vint_mask(len));
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
gboolean kt_trim_webm_kept_tracks(const TrimFile *f, const TrimPlan *plan, guint need,
                                  TrackSet *set, GError **error)
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
