/* kt-media-trim for fragmented MP4 (ISO/IEC 14496-12): the box walk and the kept-tracks
 * check. See kt-media-trim.h for what is cut. */
#define G_LOG_DOMAIN "kt-media-trim"

#include "kt-media-trim-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define FOURCC(a, b, c, d) (((guint32)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

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
	gssize n = kt_trim_read_at(f, off, b, MIN(sizeof b, limit - off), error);
	guint64 size;

	if (n < 0)
		return PIECE_ERROR;
	if (n < 8)
		return PIECE_HEADER_CUT;
	box->start = off;
	box->type = (guint32)kt_trim_read_be(b + 4, 4);
	box->hdr = 8;
	size = kt_trim_read_be(b, 4);
	if (!fourcc_is_printable(box->type))
		return PIECE_INVALID;
	if (size == 1) { /* a 64-bit largesize follows the type */
		if (n < 16)
			return PIECE_HEADER_CUT;
		box->hdr = 16;
		size = kt_trim_read_be(b + 8, 8);
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
gboolean kt_trim_mp4_plan(const TrimFile *f, TrimPlan *plan, GError **error)
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
			n = kt_trim_read_at(f, c.start + 12, id, sizeof id, error);
			if (n < 0)
				return FALSE;
			if (n == sizeof id)
				kt_trim_track_set_add(set, kt_trim_read_be(id, 4));
			break;
		}
	}
	return TRUE;
}

/* Collects the tracks with a kept fragment, stopping once @need are found. */
gboolean kt_trim_mp4_kept_tracks(const TrimFile *f, const TrimPlan *plan, guint need, TrackSet *set,
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
