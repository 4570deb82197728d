/* Internals of kt-media-trim shared by its three files: the file being cut, the plan the
 * walk makes, and the per-container walks (kt-media-trim-mp4.c, kt-media-trim-webm.c).
 * Threads: as kt-media-trim.h (any; blocking I/O on one file). */
#pragma once

#include "kt-media-trim.h"

/* Tracks told apart when checking that each keeps some media: a lesson recording has one
 * to three; past this many only the first ones are checked. */
#define TRIM_MAX_TRACKS 16

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

void kt_trim_track_set_add(TrackSet *set, guint64 id);
void kt_trim_errno_error(GError **error, int err, const char *what, const char *path);
/* Reads up to @len bytes at @off, fewer at the end of the file. Returns how many, or -1. */
gssize kt_trim_read_at(const TrimFile *f, guint64 off, guint8 *buf, gsize len, GError **error);
guint64 kt_trim_read_be(const guint8 *p, guint len);

/* The walks: fill @plan (what to keep) for the container; then, for check_plan, collect into
 * @set the tracks that keep at least one complete media unit (stops once @need are seen). */
gboolean kt_trim_mp4_plan(const TrimFile *f, TrimPlan *plan, GError **error);
gboolean kt_trim_mp4_kept_tracks(const TrimFile *f, const TrimPlan *plan, guint need, TrackSet *set,
                                 GError **error);
gboolean kt_trim_webm_plan(const TrimFile *f, TrimPlan *plan, GError **error);
gboolean kt_trim_webm_kept_tracks(const TrimFile *f, const TrimPlan *plan, guint need,
                                  TrackSet *set, GError **error);
