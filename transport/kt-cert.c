/* Self-signed ECDSA certificates for DTLS-SRTP (RFC 5763 §5) and their PEM files. */
#include "kt-cert-private.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct _KtCert {
	gatomicrefcount ref;
	X509 *x509;
	EVP_PKEY *pkey;
	char fingerprint[KT_CERT_FINGERPRINT_LEN + 1];
};

G_DEFINE_QUARK(kt - cert - error - quark, kt_cert_error)

/* Sets @error from the newest OpenSSL error on this thread, then empties the queue so a
 * stale error never shows up in a later, unrelated message. */
static void set_crypto_error(GError **error, const char *what)
{
	char buf[256] = "unknown error";
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	g_set_error(error, KT_CERT_ERROR, KT_CERT_ERROR_CRYPTO, "%s: %s", what, buf);
}

bool kt_cert_fingerprint_of(X509 *x509, char out[KT_CERT_FINGERPRINT_LEN + 1])
{
	static const char hex[] = "0123456789ABCDEF";
	guint8 md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (X509_digest(x509, EVP_sha256(), md, &n) != 1 || n != 32)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		out[i * 3] = hex[md[i] >> 4];
		out[i * 3 + 1] = hex[md[i] & 0xf];
		out[i * 3 + 2] = i + 1 < n ? ':' : '\0';
	}
	return true;
}

/* Takes ownership of @x509 and @pkey. */
static KtCert *cert_wrap(X509 *x509, EVP_PKEY *pkey, GError **error)
{
	KtCert *c = g_new0(KtCert, 1);

	g_atomic_ref_count_init(&c->ref);
	c->x509 = x509;
	c->pkey = pkey;
	if (!kt_cert_fingerprint_of(x509, c->fingerprint)) {
		set_crypto_error(error, "cannot compute the certificate fingerprint");
		kt_cert_unref(c);
		return NULL;
	}
	return c;
}

static bool add_ext(X509 *x509, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx(&ctx, x509, x509, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return false;
	ok = X509_add_ext(x509, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* Builds the SubjectAltName list by hand rather than from a "DNS:a,IP:b" string, so a name
 * containing a comma cannot smuggle in another entry. */
static bool add_subject_alt_names(X509 *x509, const char *const *names)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	bool ok = gens != NULL;

	for (gsize i = 0; ok && names[i] != NULL; i++) {
		GENERAL_NAME *gen = GENERAL_NAME_new();
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(names[i]);

		ok = gen != NULL;
		if (ok && ip != NULL) {
			GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
			ip = NULL;
		} else if (ok) {
			ASN1_IA5STRING *dns = ASN1_IA5STRING_new();

			ok = dns != NULL && ASN1_STRING_set(dns, names[i], -1) == 1;
			if (ok)
				GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
			else
				ASN1_IA5STRING_free(dns);
		}
		ASN1_OCTET_STRING_free(ip);
		if (ok && sk_GENERAL_NAME_push(gens, gen) > 0)
			continue;
		GENERAL_NAME_free(gen);
		ok = false;
	}
	if (ok && sk_GENERAL_NAME_num(gens) > 0)
		ok =
		    X509_add1_ext_i2d(x509, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok;
}

static bool set_random_serial(X509 *x509)
{
	BIGNUM *bn = BN_new();
	/* 127 random bits: positive and within the 20-octet limit of RFC 5280 §4.1.2.2. */
	bool ok = bn != NULL && BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
	          BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x509)) != NULL;

	BN_free(bn);
	return ok;
}

static bool fill_certificate(X509 *x509, EVP_PKEY *pkey, const char *cn, guint valid_days,
                             const char *const *dns_names)
{
	X509_NAME *name = X509_get_subject_name(x509);

	/* Backdated an hour so a peer whose clock runs a little behind still accepts it. */
	return X509_set_version(x509, X509_VERSION_3) == 1 && set_random_serial(x509) &&
	       X509_gmtime_adj(X509_getm_notBefore(x509), -3600) != NULL &&
	       X509_time_adj_ex(X509_getm_notAfter(x509), (int)valid_days, 0, NULL) != NULL &&
	       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const guint8 *)cn, -1, -1,
	                                  0) == 1 &&
	       X509_set_issuer_name(x509, name) == 1 && X509_set_pubkey(x509, pkey) == 1 &&
	       add_ext(x509, NID_basic_constraints, "critical,CA:FALSE") &&
	       add_ext(x509, NID_key_usage, "critical,digitalSignature") &&
	       add_ext(x509, NID_ext_key_usage, "serverAuth,clientAuth") &&
	       (dns_names == NULL || add_subject_alt_names(x509, dns_names)) &&
	       X509_sign(x509, pkey, EVP_sha256()) > 0;
}

KtCert *kt_cert_new_ecdsa(const char *common_name, guint valid_days, const char *const *dns_names,
                          GError **error)
{
	EVP_PKEY *pkey;
	X509 *x509;

	if (common_name == NULL || *common_name == '\0' || valid_days == 0 ||
	    valid_days > 100 * 365) {
		g_set_error(error, KT_CERT_ERROR, KT_CERT_ERROR_INVALID,
		            "a certificate needs a common name and 1..36500 valid days");
		return NULL;
	}
	ERR_clear_error();
	pkey = EVP_EC_gen("P-256");
	if (pkey == NULL) {
		set_crypto_error(error, "cannot generate a P-256 key");
		return NULL;
	}
	x509 = X509_new();
	if (x509 == NULL || !fill_certificate(x509, pkey, common_name, valid_days, dns_names)) {
		set_crypto_error(error, "cannot build the certificate");
		X509_free(x509);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return cert_wrap(x509, pkey, error);
}

static BIO *open_read(const char *path, GError **error)
{
	BIO *bio = BIO_new_file(path, "rb");

	if (bio == NULL) {
		ERR_clear_error();
		g_set_error(error, KT_CERT_ERROR, KT_CERT_ERROR_IO, "cannot open %s: %s", path,
		            g_strerror(errno));
	}
	return bio;
}

KtCert *kt_cert_load_pem(const char *cert_path, const char *key_path, GError **error)
{
	X509 *x509 = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio;

	ERR_clear_error();
	bio = open_read(cert_path, error);
	if (bio == NULL)
		return NULL;
	x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x509 == NULL) {
		set_crypto_error(error, "no PEM certificate in the certificate file");
		return NULL;
	}
	bio = open_read(key_path, error);
	if (bio == NULL) {
		X509_free(x509);
		return NULL;
	}
	/* A NULL callback with an empty passphrase: an encrypted key fails instead of prompting. */
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	BIO_free(bio);
	if (pkey == NULL) {
		set_crypto_error(error, "no unencrypted PEM private key in the key file");
		X509_free(x509);
		return NULL;
	}
	if (X509_check_private_key(x509, pkey) != 1) {
		ERR_clear_error();
		g_set_error(error, KT_CERT_ERROR, KT_CERT_ERROR_MISMATCH,
		            "the private key in %s does not belong to the certificate in %s",
		            key_path, cert_path);
		X509_free(x509);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return cert_wrap(x509, pkey, error);
}

/* Writes @bio's contents to @path through a temporary file and rename (GLib does both when
 * asked for G_FILE_SET_CONTENTS_CONSISTENT); the temporary file is created with @mode. */
static bool write_bio_atomically(BIO *bio, const char *path, int mode, GError **error)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	g_autoptr(GError) local = NULL;

	if (len < 0 || data == NULL) {
		g_set_error(error, KT_CERT_ERROR, KT_CERT_ERROR_CRYPTO, "cannot encode %s", path);
		return false;
	}
	if (!g_file_set_contents_full(path, data, len,
	                              G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
	                              mode, &local)) {
		g_set_error(error, KT_CERT_ERROR, KT_CERT_ERROR_IO, "%s", local->message);
		return false;
	}
	return true;
}

bool kt_cert_save_pem(KtCert *c, const char *cert_path, const char *key_path, GError **error)
{
	BIO *cert_bio = BIO_new(BIO_s_mem());
	/* Secure-heap memory BIO: the key's PEM text is wiped when the BIO is freed. */
	BIO *key_bio = BIO_new(BIO_s_secmem());
	bool ok = false;

	g_return_val_if_fail(c != NULL, false);
	ERR_clear_error();
	if (cert_bio == NULL || key_bio == NULL || PEM_write_bio_X509(cert_bio, c->x509) != 1 ||
	    PEM_write_bio_PrivateKey(key_bio, c->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		set_crypto_error(error, "cannot encode the certificate or key as PEM");
		goto out;
	}
	/* The key first: a certificate on disk without its key would be useless at next start. */
	ok = write_bio_atomically(key_bio, key_path, 0600, error) &&
	     write_bio_atomically(cert_bio, cert_path, 0644, error);
out:
	BIO_free(cert_bio);
	BIO_free(key_bio);
	return ok;
}

KtCert *kt_cert_ref(KtCert *c)
{
	g_return_val_if_fail(c != NULL, NULL);
	g_atomic_ref_count_inc(&c->ref);
	return c;
}

void kt_cert_unref(KtCert *c)
{
	if (c == NULL || !g_atomic_ref_count_dec(&c->ref))
		return;
	X509_free(c->x509);
	EVP_PKEY_free(c->pkey);
	g_free(c);
}

const char *kt_cert_get_fingerprint(KtCert *c)
{
	g_return_val_if_fail(c != NULL, NULL);
	return c->fingerprint;
}

X509 *kt_cert_get_x509(KtCert *c)
{
	return c->x509;
}

EVP_PKEY *kt_cert_get_pkey(KtCert *c)
{
	return c->pkey;
}
