/* SRTP protection of the RTP a peer sends (RFC 3711; AES-GCM per RFC 7714), on OpenSSL EVP
 * contexts keyed once per peer. It is the forwarding path's hottest step after the UDP send:
 * libsrtp2 as Debian builds it runs its ciphers through NSS, which sets up a cipher context
 * and allocates on every call (bench-forward counted 5 allocations per forwarded packet and
 * ~3 us of NSS). Here the keys are derived once (RFC 3711 §4.3, the AES-CM PRF) and each
 * packet only sets an IV. The output is the same bytes libsrtp writes for the same keys
 * (tests/unit/test-srtp-send.c checks it, and the receivers decrypt with libsrtp).
 *
 * Only outgoing RTP lives here: incoming RTP is kt-srtp-recv.c's, RTCP kt-srtcp.c's.
 *
 * Ownership: kt_srtp_send_new() allocates everything (the EVP contexts and a table of 1024
 * SSRCs' rollover counters); the caller frees it with kt_srtp_send_free(). Buffers stay the
 * caller's; protection works in place.
 * Threads: one KtSrtpSend is used from one thread, the media worker owning its peer. */
#pragma once

#include <glib.h>

#include "kt-srtp.h"

typedef struct _KtSrtpSend KtSrtpSend;

/* For the local (protecting) side of @keys. NULL with @error set (KT_SRTP_ERROR) when the
 * profile or a length is unsupported or OpenSSL refuses the keys. Any thread. */
KtSrtpSend *kt_srtp_send_new(const KtSrtpKeys *keys, GError **error);
void kt_srtp_send_free(KtSrtpSend *s);

/* Protects the RTP packet of @len bytes at @buf (capacity @cap, at least @len +
 * KT_SRTP_MAX_TRAILER) in place and returns its new length, or a negative KtSrtpStatus:
 * KT_SRTP_ERR_PARAM for a packet that does not parse as RTP or lacks room,
 * KT_SRTP_ERR_OTHER when the table of SSRCs is full or OpenSSL fails. The same packet may be
 * protected again (a retransmission): the rollover counter is estimated from the sequence
 * number as a receiver does (RFC 3711 Appendix A). No allocation, nothing logged. */
int kt_srtp_send_rtp(KtSrtpSend *s, guint8 *buf, gsize len, gsize cap);

/* Asks the CPU to fetch what kt_srtp_send_rtp() will read for @ssrc, in two
 * steps: @step 0 the sender itself, @step 1 (after 0 has had time to land)
 * @ssrc's slot and the cipher. For a caller that sends to many peers in a
 * row (kt-room-forward.c): each peer's state is elsewhere in memory, and
 * fetched one after the other the misses add up. Reads nothing at step 0. */
void kt_srtp_send_prefetch(KtSrtpSend *s, guint step, guint32 ssrc);
