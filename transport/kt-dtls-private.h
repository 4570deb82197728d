/* The DTLS module's input screen, exposed for its fuzz target (tests/fuzz/fuzz-dtls.c);
 * not for other modules.
 *
 * Packet path: pure over the caller's buffer, allocates and logs nothing.
 * Threads: any. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* True if @p[0..len) (untrusted) is a sequence of whole DTLS records (RFC 6347 §4.1) and its
 * epoch-0 (plaintext) records parse: sequence numbers below 4096, alert and
 * ChangeCipherSpec of their sizes, handshake fragments that tile the record and stay inside
 * their message. kt_dtls_handle_datagram drops anything else before OpenSSL sees it. */
bool kt_dtls_datagram_well_formed(const guint8 *p, gsize len);
