/* An X.509 certificate and its private key: the identity a peer proves in the DTLS handshake
 * (RFC 5763 §5), also usable for the HTTPS listener.
 *
 * Ownership: a KtCert is refcounted (atomic). kt_cert_new_ecdsa() and kt_cert_load_pem()
 * return a new reference; kt_cert_ref() adds one, kt_cert_unref() drops one. Strings
 * returned by kt_cert_get_*() are borrowed and live as long as the KtCert.
 * Threads: a KtCert never changes after creation, so every function may be called from any
 * thread, on the same KtCert at the same time. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct _KtCert KtCert;

#define KT_CERT_ERROR (kt_cert_error_quark())
GQuark kt_cert_error_quark(void);

typedef enum {
	KT_CERT_ERROR_INVALID, /* bad argument (empty common name, zero validity, ...) */
	KT_CERT_ERROR_CRYPTO,  /* OpenSSL failed to generate, sign or parse */
	KT_CERT_ERROR_IO,      /* a file could not be read or written */
	KT_CERT_ERROR_MISMATCH /* the private key does not belong to the certificate */
} KtCertError;

/* A new self-signed certificate: ECDSA P-256 key, SHA-256 signature, random 127-bit serial,
 * valid from one hour ago (clock skew) for @valid_days days. @dns_names is a NULL-terminated
 * list of SubjectAltNames or NULL; entries that parse as IPv4/IPv6 literals become iPAddress
 * names, the rest dNSName. Any thread. */
KtCert *kt_cert_new_ecdsa(const char *common_name, guint valid_days, const char *const *dns_names,
                          GError **error);

/* Loads a PEM certificate (the first one in the file) and a PEM private key (PKCS#8 or
 * traditional, unencrypted), and checks that they belong together. Any thread. */
KtCert *kt_cert_load_pem(const char *cert_path, const char *key_path, GError **error);

/* Writes the certificate (mode 0644) and the private key (PKCS#8, mode 0600). Each file is
 * written to a temporary file beside it and renamed over it, so a crash leaves either the old
 * or the new file, and the key is never readable by others. Any thread. */
bool kt_cert_save_pem(KtCert *c, const char *cert_path, const char *key_path, GError **error);

KtCert *kt_cert_ref(KtCert *c);
void kt_cert_unref(KtCert *c);

/* SHA-256 of the DER certificate as uppercase hex pairs joined by colons ("AB:CD:..."), the
 * form of an SDP a=fingerprint:sha-256 value (RFC 8122 §5). Borrowed. Any thread. */
const char *kt_cert_get_fingerprint(KtCert *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(KtCert, kt_cert_unref)
