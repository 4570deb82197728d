/* SRTP unprotection of the RTP a peer receives (RFC 3711; AES-GCM per RFC 7714), on OpenSSL
 * EVP contexts keyed once per peer.
 *
 * Why not libsrtp2: as Debian builds it, it runs its ciphers through NSS, which sets up a
 * cipher context and allocates on every call (six allocations for each packet a publisher
 * sends, the last allocations of the forwarding path in bench-forward). The packets read
 * are the ones libsrtp2 writes, and refused as libsrtp2 refuses them
 * (tests/unit/test-srtp-recv.c checks it against libsrtp2).
 *
 * Each SSRC has its rollover counter, estimated from the sequence number (RFC 3711
 * Appendix A), and a replay window of 1024 packets (kt-srtp-replay.h). An SSRC gets its
 * slot only with a packet that authenticates, so forged SSRCs cannot fill the table; 48
 * SSRCs per peer at most (a publisher sends a few: audio, a camera's simulcast layers,
 * courseware, each with its RTX).
 *
 * Ownership: kt_srtp_recv_new() allocates everything (the EVP context and the SSRC table);
 * the caller frees it with kt_srtp_recv_free(). Buffers stay the caller's; unprotection
 * works in place.
 * Threads: one KtSrtpRecv is used from one thread, the media worker owning its peer. */
#pragma once

#include <glib.h>

#include "kt-srtp.h"

typedef struct _KtSrtpRecv KtSrtpRecv;

/* For the remote (unprotecting) side of @keys. NULL with @error set (KT_SRTP_ERROR) when
 * the profile or a length is unsupported or OpenSSL refuses the keys. Any thread. */
KtSrtpRecv *kt_srtp_recv_new(const KtSrtpKeys *keys, GError **error);
void kt_srtp_recv_free(KtSrtpRecv *s);

/* Checks and decrypts the SRTP packet of @len bytes at @buf in place; returns the RTP
 * length or a negative KtSrtpStatus: KT_SRTP_ERR_PARAM (not RTP, or too short for its
 * header and tag), KT_SRTP_ERR_REPLAY (seen, or older than the window), KT_SRTP_ERR_AUTH
 * (the tag does not verify: tampered, or other keys), KT_SRTP_ERR_OTHER (the SSRC table is
 * full, OpenSSL failed). A packet that fails leaves no state behind (its bytes may be
 * garbled: drop it). No allocation, nothing logged. */
int kt_srtp_recv_rtp(KtSrtpRecv *s, guint8 *buf, gsize len);
