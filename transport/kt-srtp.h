/* SRTP/SRTCP protection of one peer's media (RFC 3711, AES-GCM per RFC 7714), keyed from the
 * DTLS-SRTP exporter (RFC 5764 §4.2, see kt-dtls.h): RTP out (kt-srtp-send.h), RTP in
 * (kt-srtp-recv.h) and RTCP both ways (kt-srtcp.h) on OpenSSL EVP contexts keyed once.
 * Why not libsrtp2: as Debian builds it, it runs its ciphers through NSS, which sets up a
 * cipher context and allocates on every packet. The unit tests check every path byte for
 * byte against libsrtp2, which stays the reference.
 *
 * Ownership: kt_srtp_new() returns a KtSrtp the caller frees with kt_srtp_free(). Packet
 * buffers stay the caller's; protect/unprotect work in place.
 * Threads: a KtSrtp belongs to the media worker that owns the peer: create, use and free it
 * there only. */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* Protection profiles by their IANA DTLS-SRTP identifiers (RFC 5764 §4.1.2, RFC 7714 §14.2). */
typedef enum {
	KT_SRTP_PROFILE_NONE = 0,
	KT_SRTP_PROFILE_AES128_CM_SHA1_80 = 0x0001,
	KT_SRTP_PROFILE_AEAD_AES_128_GCM = 0x0007,
} KtSrtpProfile;

/* Master keys and salts of both directions. "local" is what this side protects with, "remote"
 * what it unprotects with. key_len is 16 for both profiles; salt_len is 14 for
 * AES128_CM_SHA1_80 and 12 for AEAD_AES_128_GCM (unused trailing bytes are zero). A plain
 * value: copy it freely, and wipe copies you are done with. */
typedef struct {
	KtSrtpProfile profile;
	guint key_len, salt_len;
	guint8 local_key[16], local_salt[14];
	guint8 remote_key[16], remote_salt[14];
} KtSrtpKeys;

/* Room a caller must leave free after a packet for protect: the longest authentication tag
 * (16, AES-GCM) plus the 4-byte SRTCP index (RFC 3711 §3.4). Keys carry no MKI. */
#define KT_SRTP_MAX_TRAILER 20

#define KT_SRTP_ERROR (kt_srtp_error_quark())
GQuark kt_srtp_error_quark(void);

typedef enum {
	KT_SRTP_ERROR_INVALID, /* unknown profile or key/salt length that does not match it */
	KT_SRTP_ERROR_FAILED   /* OpenSSL refused the keys */
} KtSrtpError;

/* Negative results of the packet functions. */
typedef enum {
	KT_SRTP_ERR_PARAM = -1,  /* too short, too long, or not enough room for the trailer */
	KT_SRTP_ERR_AUTH = -2,   /* authentication tag did not verify: tampered or wrong key */
	KT_SRTP_ERR_REPLAY = -3, /* already seen, or older than the replay window */
	KT_SRTP_ERR_OTHER = -4,  /* an SSRC table is full, or OpenSSL failed */
} KtSrtpStatus;

typedef struct _KtSrtp KtSrtp;

/* One SRTP context pair for a peer: outbound for any SSRC this side sends (retransmissions of
 * the same packet allowed, as the SFU resends on NACK) and inbound for any SSRC the peer sends,
 * each with a 1024-packet replay window. Media worker. */
KtSrtp *kt_srtp_new(const KtSrtpKeys *keys, GError **error);
void kt_srtp_free(KtSrtp *s);

/* Packet path (media worker; nothing logged, nothing allocated). Protect works in place on
 * @len bytes of @buf whose capacity is @cap (at least @len + KT_SRTP_MAX_TRAILER) and
 * returns the new length; unprotect works in place and returns the plaintext length. Both
 * return a negative KtSrtpStatus on failure. */
int kt_srtp_protect_rtp(KtSrtp *s, guint8 *buf, gsize len, gsize cap);
int kt_srtp_unprotect_rtp(KtSrtp *s, guint8 *buf, gsize len);
/* Has the CPU fetch what kt_srtp_protect_rtp() of an @ssrc packet will read,
 * in three steps (0, 1, 2), each reading only what the one before fetched:
 * see kt_srtp_send_prefetch(). */
void kt_srtp_prefetch_rtp(KtSrtp *s, guint step, guint32 ssrc);
int kt_srtp_protect_rtcp(KtSrtp *s, guint8 *buf, gsize len, gsize cap);
int kt_srtp_unprotect_rtcp(KtSrtp *s, guint8 *buf, gsize len);
