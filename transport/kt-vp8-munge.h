/* VP8 payload descriptor rewriting for a receiver that switches between
 * simulcast layers (RFC 7741 §4.2), as every SFU that forwards VP8 simulcast
 * must: each layer's encoder numbers its pictures (PictureID, 7 or 15 bits)
 * and its base-layer frames (TL0PICIDX) on its own. A receiver that moves to
 * a layer whose numbers are behind the ones it has seen takes the new frames
 * for old ones: libwebrtc's VP8 reference finder holds them back, and the
 * picture stays on the switch's keyframe until the receiver's own timeout
 * asks for another (measured on the `dip` bench profile: 4-6 s frozen after
 * a switch, with no packet lost). The munger runs both numbers on across
 * switches: at a switch (a keyframe) the new layer's numbers continue from
 * the last ones the receiver got.
 *
 * Pure data and functions; rewriting is in place and allocates nothing.
 * Threads: the caller's (the room's worker). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	gboolean have_pid, have_tl0; /* numbers were sent */
	guint16 pid_off, last_pid;   /* 15-bit arithmetic */
	guint8 tl0_off, last_tl0;
} KtVp8Munge;

/* Where a descriptor's numbers are, as offsets into the payload; -1 = absent. */
typedef struct {
	int pid_pos;    /* PictureID's first byte */
	gboolean pid15; /* its M bit: 15 bits over two bytes, else 7 */
	int tl0_pos;
} KtVp8Desc;

/* Parses the descriptor at the start of a VP8 RTP payload. FALSE when it is
 * truncated (then nothing is rewritten). */
gboolean kt_vp8_desc_parse(const guint8 *payload, gsize len, KtVp8Desc *d);

/* The packet whose payload is @payload (a keyframe's, of a new layer) starts
 * a new run: its numbers will follow the last ones sent. */
void kt_vp8_munge_switch(KtVp8Munge *m, const guint8 *payload, gsize len);

/* Rewrites the numbers of the descriptor at @payload by the current offsets.
 * @sent: a packet going out for the first time (its numbers become the last
 * sent when they are newer), FALSE for a retransmission. */
void kt_vp8_munge_packet(KtVp8Munge *m, guint8 *payload, gsize len, gboolean sent);

G_END_DECLS
