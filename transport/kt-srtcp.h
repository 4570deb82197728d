/* SRTCP protection of one peer's RTCP, both ways (RFC 3711 §3.4; AES-GCM per RFC 7714 §9),
 * on OpenSSL EVP contexts keyed once per peer.
 *
 * Why not libsrtp2: as Debian builds it, it runs its ciphers through NSS, which sets up a
 * cipher context and allocates on every call; every subscriber's receiver reports and
 * transport-wide feedback (10 or more a second each) and the room's sender reports went
 * through it (bench-forward counted 0.16 allocations per forwarded packet, all of them
 * there). The packets are the ones libsrtp2 writes and reads for the same keys
 * (tests/unit/test-srtcp.c checks both ways against it).
 *
 * Outbound, each SSRC (the first packet's sender SSRC) has its own SRTCP index counting
 * from 1, as libsrtp's does; inbound, each SSRC has a replay window of 128 indices.
 * Packets are always sent encrypted (E = 1); received ones may be unencrypted (E = 0).
 *
 * Ownership: kt_srtcp_new() allocates everything (the EVP contexts and two tables of 256
 * SSRCs); the caller frees it with kt_srtcp_free(). Buffers stay the caller's; both
 * directions work in place.
 * Threads: one KtSrtcp is used from one thread, the media worker owning its peer. */
#pragma once

#include <glib.h>

#include "kt-srtp.h"

typedef struct _KtSrtcp KtSrtcp;

/* Local keys protect, remote keys unprotect. NULL with @error set (KT_SRTP_ERROR) when the
 * profile or a length is unsupported or OpenSSL refuses the keys. Any thread. */
KtSrtcp *kt_srtcp_new(const KtSrtpKeys *keys, GError **error);
void kt_srtcp_free(KtSrtcp *s);

/* Protects the RTCP (compound) packet of @len bytes at @buf (capacity @cap, at least @len
 * + KT_SRTP_MAX_TRAILER) in place; returns the new length or a negative KtSrtpStatus:
 * KT_SRTP_ERR_PARAM for a packet shorter than an RTCP header or without room,
 * KT_SRTP_ERR_OTHER when the table of SSRCs is full, the index is spent or OpenSSL fails.
 * No allocation, nothing logged. */
int kt_srtcp_protect(KtSrtcp *s, guint8 *buf, gsize len, gsize cap);

/* Checks and decrypts the SRTCP packet of @len bytes at @buf in place; returns the RTCP
 * length or a negative KtSrtpStatus: KT_SRTP_ERR_PARAM (too short to hold a header, an
 * index and a tag), KT_SRTP_ERR_AUTH (the tag does not verify), KT_SRTP_ERR_REPLAY (an
 * index seen already or older than the window), KT_SRTP_ERR_OTHER (the SSRC table full).
 * A packet that fails leaves no trace in the replay state. No allocation, nothing logged. */
int kt_srtcp_unprotect(KtSrtcp *s, guint8 *buf, gsize len);
