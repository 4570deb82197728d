/* Crash repair of recorded media files: cuts a file whose writer died (kill -9, a write error,
 * a full disk) back to the end of its last complete unit, so that it decodes without error.
 *
 * The recorder writes fragmented MP4 (mp4mux: ftyp, moov, then moof+mdat fragments) and
 * WebM (matroskamux: EBML header, Segment, then Clusters of SimpleBlocks/BlockGroups); see
 * kt-source-recorder.h. A crashed file ends anywhere: inside a box, a Cluster or a block.
 * The container is told by content, not by the file name.
 *
 * What is cut (everything kept is a prefix of the file, never rewritten except as said):
 *   - MP4: after the last complete top-level box (ISO/IEC 14496-12 §4.2; 64-bit largesize
 *     and size 0 = "to the end of the file" understood). A moof goes with its mdat: a moof
 *     whose mdat is not complete is cut too. moov is never touched (mp4mux's "cannot seek"
 *     moov has mvex and maybe a zero duration; that is how it should be). A tail that is
 *     not a box (zeros a filesystem left after a crash) is cut as well.
 *   - WebM/Matroska: after the last complete Cluster or, inside the last Cluster, after its
 *     last complete SimpleBlock/BlockGroup (RFC 9559; RFC 8794 §6.2 for unknown sizes: an
 *     unknown-size Cluster ends where the next top-level element starts, or at the end of
 *     the file). The Segment and the last Cluster keep their header but, when they have a
 *     known size that now reaches past the end, that size is rewritten in place to what is
 *     left (same field width): demuxers otherwise report the file as ended prematurely. An
 *     unknown size, and a Segment that simply ends with the file, are left as they are.
 *
 * A file that needs none of this is left untouched, byte for byte. The file is refused (and
 * left untouched) when what would be kept still could not decode: its header (moov / Tracks)
 * is not complete, or one of the tracks the header declares has no complete media unit
 * (moof+mdat fragment, block): a file that ends within its first fragment, say. ffmpeg
 * cannot even open a decoder for a track without media. A plain (not fragmented) MP4 is
 * accepted when complete and refused when it would need cutting: its moov indexes samples.
 *
 * Threads: any; blocking file I/O. Only the box/element headers walked are read (plus the
 * fragment and block headers that name their track), never the media. The file must not be
 * written by anyone else meanwhile. Changes are flushed (fdatasync) before returning. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Cuts the file at @path (borrowed) back to the end of its last complete unit (see above).
 * @removed_out (may be NULL) gets how many bytes were cut (0 when the file was complete, or
 * when only a WebM size field had to be rewritten).
 * Returns FALSE with @error in the G_IO_ERROR domain when the file cannot be opened, read or
 * written (the code from errno; G_IO_ERROR_NOT_REGULAR_FILE for a directory;
 * G_IO_ERROR_BUSY when it changed meanwhile), is not MP4/WebM or is a plain MP4 that would
 * need cutting (G_IO_ERROR_NOT_SUPPORTED), or has nothing that decodes to keep: empty, ends
 * inside its header, a track without media (G_IO_ERROR_INVALID_DATA). The file is then as
 * it was, unless writing it failed midway (running again finishes the job). */
gboolean kt_media_trim_incomplete(const char *path, guint64 *removed_out, GError **error);

G_END_DECLS
