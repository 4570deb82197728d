/* OpenSSL handles of a KtCert, for the TLS/DTLS code in transport/ only.
 *
 * Ownership: both pointers are borrowed and live as long as the KtCert; callers that keep
 * them longer take their own reference (X509_up_ref / EVP_PKEY_up_ref, or implicitly through
 * SSL_CTX_use_certificate / SSL_CTX_use_PrivateKey).
 * Threads: any; the objects are never modified after creation and OpenSSL 3.0 allows
 * concurrent read-only use (signing included). */
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kt-cert.h"

X509 *kt_cert_get_x509(KtCert *c);
EVP_PKEY *kt_cert_get_pkey(KtCert *c);

/* Writes the uppercase colon-separated SHA-256 fingerprint of @x509 into @out (95 characters
 * plus NUL). Returns false if OpenSSL cannot encode the certificate. */
#define KT_CERT_FINGERPRINT_LEN 95
bool kt_cert_fingerprint_of(X509 *x509, char out[KT_CERT_FINGERPRINT_LEN + 1]);
