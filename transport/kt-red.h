/* kt-red.h — redundant audio (RED, RFC 2198) around Opus: parse, strip to the
 * primary frame, recover a lost frame from a later packet's redundancy, and
 * build RED payloads.
 *
 * Chromium can send Opus inside RED (a=rtpmap:63 red/48000/2, a=fmtp:63
 * 111/111). The room forwards RED as is to subscribers that negotiated it,
 * strips it to the primary Opus frame for those that did not (and, when the
 * publisher's uplink lost a packet, gives them that packet back from the
 * next one's redundant block), and adds redundancy itself towards RED
 * subscribers of a publisher that sends plain Opus.
 *
 * These functions cannot tell RED from other payloads (a plain Opus payload
 * may well parse as RED): the caller checks that the packet's payload type
 * is the negotiated RED one and leaves any other packet alone. Chromium also
 * sends a frame of 1024 bytes or more as plain Opus, under the Opus payload
 * type, since RED cannot carry it as redundancy.
 *
 * Packet-path module: pure functions over caller-owned buffers, no
 * allocation, no logging; KtRedHistory is a plain struct the caller owns.
 * Threads: any thread (no shared state); one KtRedHistory is used from one
 * thread.
 */
#pragma once

#include <glib.h>

#include "kt-rtp.h"

G_BEGIN_DECLS

/* RFC 2198 §3: 14-bit timestamp offset, 10-bit block length. */
#define KT_RED_MAX_TS_OFFSET 0x3FFF
#define KT_RED_MAX_BLOCK_LEN 0x3FF
/* Most blocks, primary included, accepted in one packet (Chromium sends at
 * most 10: up to 9 redundant encodings behind a field trial, 1 by default). */
#define KT_RED_MAX_BLOCKS 16
/* Previous frames a KtRedHistory keeps, i.e. most redundant blocks it adds. */
#define KT_RED_HISTORY_LEN 2

/* Negative statuses returned by the functions below. */
typedef enum {
	KT_RED_OK = 0,
	KT_RED_ETRUNCATED = -1, /* a 4-byte block header is cut by the end of the payload */
	KT_RED_ENOPRIMARY = -2, /* the payload ends without the final 1-byte header (F=0) */
	KT_RED_ELENGTH = -3,    /* the block lengths add up past the end of the payload */
	KT_RED_ETOOMANY = -4,   /* more blocks than the caller's array or KT_RED_MAX_BLOCKS */
	KT_RED_EEMPTY = -5,     /* the primary (or the block to recover) has no bytes */
	KT_RED_EPT = -6,        /* a block needed is not of the expected (Opus) payload type */
	KT_RED_ENOSPACE = -7,   /* output buffer too small */
	KT_RED_ENOTFOUND = -8,  /* no redundant block stands for that sequence number */
	KT_RED_EOFFSET = -9,    /* timestamp offset 0 or not what the frame durations say */
	KT_RED_EINVAL = -10,    /* bad arguments: NULL buffer, h not matching len, ... */
} KtRedStatus;

/* One block of a RED payload. Offsets are from the start of the payload
 * given to kt_red_parse(). The primary block has timestamp_offset 0. */
typedef struct {
	guint8 pt;
	gboolean primary;
	guint16 timestamp_offset; /* RFC 2198 §3: block ts = RTP ts - offset */
	guint16 offset;
	guint16 length;
} KtRedBlock;

/* Parses the RED payload payload[0..len) (RTP payload without padding) into
 * blocks[0..max): the redundant blocks in packet order (oldest first, as
 * RFC 2198 §3 and Chromium send them), the primary last. Returns the number
 * of blocks (>= 1), or a negative KtRedStatus: _ETRUNCATED, _ENOPRIMARY
 * (also for len 0), _ELENGTH, _ETOOMANY (more than max), _EEMPTY (0-byte
 * primary), _EINVAL (NULL payload or blocks, len > 65535), after which
 * blocks[] holds nothing meaningful. Redundant blocks of 0 bytes or with
 * offset 0 are accepted here; kt_red_recover() refuses them. */
int kt_red_parse(const guint8 *payload, gsize len, KtRedBlock *blocks, guint max);

/* Strips the RED packet pkt[0..len), whose header kt_rtp_parse() gave as h,
 * in place to its primary block: the primary's bytes move to the start of
 * the payload, the RTP payload type becomes primary_pt, and padding is
 * dropped (P bit cleared). Seq, timestamp, marker, SSRC, CSRCs and the
 * header extension stay as they were. Returns the new length, or a negative
 * KtRedStatus from kt_red_parse(), _EPT when the primary block's payload
 * type is not primary_pt, or _EINVAL when h does not describe len bytes; on
 * error pkt is unchanged. */
int kt_red_to_primary(guint8 *pkt, gsize len, const KtRtpHeader *h, guint8 primary_pt);

/* Builds into out[0..cap) the Opus packet with sequence number missing_seq,
 * lost before the RED packet pkt[0..len) (header h) arrived, from one of its
 * redundant blocks. out must not overlap pkt.
 *
 * Mapping: like Chromium (libwebrtc AudioEncoderCopyRed), a RED packet
 * carries the frames of the packets just before it, so the d-th redundant
 * block counted back from the primary is packet h->seq - d. That is
 * believed only when the timestamps agree: each block j = 1..d must be of
 * primary_pt and its offset must equal the summed durations (from the Opus
 * TOC, RFC 6716 §3.1) of blocks 1..j, i.e. the frames follow each other
 * with no gap. A gap means a frame was skipped or the sender was in DTX;
 * either way the mapping is not safe and the block is not used.
 *
 * The packet gets the RTP header of pkt with sequence missing_seq, timestamp
 * h->timestamp - offset, payload type primary_pt, marker clear (RFC 2198
 * §4: a lost primary's marker is lost with it), the CSRC list of pkt (§4
 * applies it to the redundant data too), and no header extension or padding
 * (extension elements such as transport-wide sequence numbers and audio
 * levels describe pkt, not the lost packet).
 *
 * Returns the length written, or a negative KtRedStatus: _ENOTFOUND when
 * missing_seq is not 1..(number of redundant blocks) before h->seq, _EPT,
 * _EEMPTY (0-byte block), _EOFFSET, _ENOSPACE (out untouched), _EINVAL
 * (out NULL, or h not describing len bytes), or any from kt_red_parse(). */
int kt_red_recover(const guint8 *pkt, gsize len, const KtRtpHeader *h, guint16 missing_seq,
                   guint8 primary_pt, guint8 *out, gsize cap);

/* Renumbers, in place, the blocks of the RED payload payload[0..len) whose
 * payload type is `from` to `to` (a receiver that numbers Opus differently
 * from the sender). Block data and lengths stay as they are. Returns the
 * number of blocks, or a negative KtRedStatus from kt_red_parse(), or
 * _EINVAL (to > 127); on error the payload is unchanged. */
int kt_red_map_pt(guint8 *payload, gsize len, guint8 from, guint8 to);

/* A previous frame to carry as redundancy. */
typedef struct {
	const guint8 *data;
	gsize len;
	guint32 timestamp_offset; /* primary's RTP timestamp minus this frame's */
} KtRedFrame;

/* Writes into out[0..cap) the RED payload (block headers and blocks; the
 * caller writes the RTP header before it) of the primary frame
 * primary[0..primary_len) with redundancy from prev[0..n_prev), newest first
 * (prev[0] is the frame of the packet just before the primary's). All
 * blocks get payload type pt.
 *
 * Previous frames are taken newest first and the first one that cannot be
 * carried ends the list: 0 bytes or more than KT_RED_MAX_BLOCK_LEN, offset
 * 0, past KT_RED_MAX_TS_OFFSET or not older than the one before, or no room
 * left in cap. So the blocks are always the frames just before the primary
 * (the mapping kt_red_recover() relies on), and the primary is never the one
 * left out. Returns the payload length, or _EINVAL (pt > 127, empty primary,
 * NULL buffers) or _ENOSPACE when the primary alone does not fit. */
int kt_red_build(guint8 pt, const guint8 *primary, gsize primary_len, const KtRedFrame *prev,
                 guint n_prev, guint8 *out, gsize cap);

/* The last frames of one plain Opus stream, for adding redundancy to it
 * (about 2 KB). Fields are private to kt-red.c. */
typedef struct {
	guint8 data[KT_RED_HISTORY_LEN][KT_RED_MAX_BLOCK_LEN];
	guint16 len[KT_RED_HISTORY_LEN]; /* 0: frame too long to be carried */
	guint16 seq[KT_RED_HISTORY_LEN];
	guint32 ts[KT_RED_HISTORY_LEN];
	guint head; /* slot of the newest frame: a ring, so a push copies one frame */
	guint n;    /* frames recorded, at most KT_RED_HISTORY_LEN */
} KtRedHistory;

void kt_red_history_init(KtRedHistory *hist);

/* Records the frame of the packet (seq, ts) after it was sent. A packet not
 * newer than the newest recorded one (a retransmission or a late packet) is
 * ignored. */
void kt_red_history_push(KtRedHistory *hist, guint16 seq, guint32 ts, const guint8 *frame,
                         gsize len);

/* kt_red_build() for the packet (seq, ts) with frame primary[0..len), taking
 * as redundancy at most max_redundant recorded frames of packets seq - 1,
 * seq - 2, ... while they follow each other (a packet lost on the way in
 * ends the run). Same returns as kt_red_build(). */
int kt_red_history_build(const KtRedHistory *hist, guint16 seq, guint32 ts, guint8 pt,
                         const guint8 *primary, gsize len, guint max_redundant, guint8 *out,
                         gsize cap);

G_END_DECLS
