/* The DTLS 1.2 handshake of one peer for DTLS-SRTP (RFC 5763, RFC 5764, RFC 8842), run over
 * memory: the transport hands in each received DTLS datagram, and every datagram to send comes
 * out through cfg->send. The result is the peer's SRTP keys (kt-srtp.h).
 *
 * Ownership: kt_dtls_new() returns a KtDtls the caller frees with kt_dtls_free(). It takes a
 * reference on cfg->cert and on cfg->context and copies the strings; the send/state callbacks'
 * user_data stays the caller's and must outlive the KtDtls.
 * Threads: everything runs on the media worker that owns cfg->context: create, use and free a
 * KtDtls there only. Callbacks are invoked on that thread, from inside kt_dtls_start(),
 * kt_dtls_handle_datagram(), kt_dtls_close() or the retransmission timer.
 * Re-entrancy: a callback must not call back into the same KtDtls, and above all must not
 * free it; mark the peer closing and free it from an idle source instead. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "kt-cert.h"
#include "kt-srtp.h"

typedef enum {
	KT_DTLS_ROLE_CLIENT, /* a=setup:active: sends the ClientHello (RFC 5763 §5) */
	KT_DTLS_ROLE_SERVER  /* a=setup:passive: waits for it */
} KtDtlsRole;

typedef enum {
	KT_DTLS_STATE_NEW,        /* created, not started */
	KT_DTLS_STATE_CONNECTING, /* handshake under way */
	KT_DTLS_STATE_CONNECTED,  /* handshake done, fingerprint verified, SRTP keys ready */
	KT_DTLS_STATE_FAILED,     /* terminal: handshake error, fingerprint mismatch, timeout,
	                             fatal alert */
	KT_DTLS_STATE_CLOSED      /* terminal: close_notify sent or received */
} KtDtlsState;

#define KT_DTLS_ERROR (kt_dtls_error_quark())
GQuark kt_dtls_error_quark(void);

typedef enum {
	KT_DTLS_ERROR_INVALID,     /* bad configuration */
	KT_DTLS_ERROR_HANDSHAKE,   /* OpenSSL reported a protocol error or a fatal alert */
	KT_DTLS_ERROR_FINGERPRINT, /* the peer's certificate does not match remote_fingerprint */
	KT_DTLS_ERROR_NO_SRTP,     /* no common SRTP protection profile (RFC 5764 §4.1.1) */
	KT_DTLS_ERROR_TIMEOUT      /* the handshake did not finish in time */
} KtDtlsError;

/* @data is one whole datagram, borrowed for the duration of the call. */
typedef void (*KtDtlsSendFunc)(const guint8 *data, gsize len, gpointer user_data);
/* @error is set (borrowed) for KT_DTLS_STATE_FAILED only. */
typedef void (*KtDtlsStateFunc)(KtDtlsState state, const GError *error, gpointer user_data);

typedef struct {
	KtCert *cert;    /* our certificate; its fingerprint goes in our SDP */
	KtDtlsRole role; /* from the SDP a=setup negotiation (RFC 5763 §5) */
	/* The peer's a=fingerprint:sha-256 value, "AB:CD:..." (32 hex pairs); case-insensitive. */
	const char *remote_fingerprint;
	/* OpenSSL profile names, most preferred first;
	 * NULL = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80". */
	const char *srtp_profiles;
	GMainContext
	    *context; /* the worker's context (NULL: the global default); timers run here */
	KtDtlsSendFunc send;
	KtDtlsStateFunc state_changed; /* may be NULL */
	gpointer user_data;
	/* Give up if the handshake has not finished this long after kt_dtls_start();
	 * 0 = 30000 ms. Tests shorten it. */
	guint handshake_timeout_ms;
} KtDtlsConfig;

typedef struct _KtDtls KtDtls;

/* Checks @cfg (certificate, well-formed fingerprint, known SRTP profiles, send callback) and
 * prepares the handshake; nothing is sent yet. Media worker. */
KtDtls *kt_dtls_new(const KtDtlsConfig *cfg, GError **error);

/* Removes the timer and frees everything. Never call it from inside one of this KtDtls's own
 * callbacks. No close_notify is sent; call kt_dtls_close() first for that. NULL is a no-op. */
void kt_dtls_free(KtDtls *d);

/* Enters CONNECTING and starts the handshake deadline. A client sends its ClientHello now; a
 * server waits for one. Calling it in any state but NEW does nothing. Media worker. */
void kt_dtls_start(KtDtls *d);

/* Feeds one received datagram (borrowed). Anything that is not a DTLS record by its first
 * byte (RFC 7983 §7: 20..63) is ignored. A server still in NEW starts itself, since the
 * ClientHello can overtake our own ICE completion. Drives the handshake while CONNECTING;
 * once CONNECTED answers retransmitted final flights and handles alerts (close_notify ->
 * CLOSED, fatal alert -> FAILED). Application data is dropped (no data channels). Never
 * asserts on the input. Media worker. */
void kt_dtls_handle_datagram(KtDtls *d, const guint8 *buf, gsize len);

KtDtlsState kt_dtls_get_state(KtDtls *d);

/* In CONNECTED: fills @out from the exporter "EXTRACTOR-dtls_srtp" (RFC 5764 §4.2), local =
 * client_write for the client role, server_write for the server. Returns false in any other
 * state. Wipe @out when done with it. Media worker. */
bool kt_dtls_get_srtp_keys(KtDtls *d, KtSrtpKeys *out);

/* In CONNECTED: the protocol version ("DTLSv1.2": the only one offered or accepted) and
 * the cipher suite agreed (OpenSSL's name), static strings; NULL in any other state. For
 * logs and tests. Media worker. */
const char *kt_dtls_get_version(KtDtls *d);
const char *kt_dtls_get_cipher(KtDtls *d);

/* Sends close_notify if a handshake was started (RFC 5246 §7.2.1) and enters CLOSED (state
 * callback invoked). Does nothing in FAILED or CLOSED. Media worker. */
void kt_dtls_close(KtDtls *d);

const char *kt_dtls_state_to_string(KtDtlsState state);
