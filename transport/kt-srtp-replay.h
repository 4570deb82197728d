/* The replay window of SRTP and SRTCP receivers (RFC 3711 §3.3.2): the highest packet index
 * accepted and a bitmap of the indices below it, bit k of seen[k / 64] for index top - k.
 * The bitmap is the caller's (@words 64-bit words, so windows of different sizes share the
 * code: 1024 indices for RTP, 128 for RTCP, as Ketang's libsrtp2 sessions had).
 *
 * Check first, authenticate, then add: a packet that fails authentication must leave no
 * trace (a forged index far ahead would otherwise push every genuine one out).
 * Threads: none of its own; no allocation. */
#pragma once

#include <glib.h>

typedef struct {
	gint64 top;       /* the highest index accepted */
	gboolean started; /* an index was accepted */
} KtSrtpReplay;

/* Whether @index may be accepted: newer than the newest, or inside the window and not yet
 * seen. */
gboolean kt_srtp_replay_check(const KtSrtpReplay *r, const guint64 *seen, guint words,
                              gint64 index);
/* Records @index as accepted; the window slides when it is the newest. */
void kt_srtp_replay_add(KtSrtpReplay *r, guint64 *seen, guint words, gint64 index);
