/* The token secret: from the config, else data_dir/secret, else generated into it. */
#include "kt-secret.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

G_DEFINE_QUARK(kt - secret - error - quark, kt_secret_error)

#define KT_SECRET_HEX_LEN (KT_SECRET_GENERATED_LEN * 2)

void kt_secret_free(guint8 *secret, gsize len)
{
	if (secret == NULL)
		return;
	OPENSSL_cleanse(secret, len);
	g_free(secret);
}

/* Parses the file's 64 hex characters (a trailing newline is fine) into 32 bytes. */
static bool kt_secret_decode(const char *path, char *contents, gsize n, guint8 **secret, gsize *len,
                             GError **error)
{
	guint8 *bytes;

	while (n > 0 && g_ascii_isspace(contents[n - 1]))
		n--;
	for (gsize i = 0; i < n && n == KT_SECRET_HEX_LEN; i++) {
		if (!g_ascii_isxdigit(contents[i]))
			n = 0;
	}
	if (n != KT_SECRET_HEX_LEN) {
		/* The contents are never quoted: they are (a damaged copy of) the secret. */
		g_set_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_CORRUPT,
		            "%s: expected %d hex characters; restore it, or delete it to generate "
		            "a new secret (which invalidates every token already issued)",
		            path, KT_SECRET_HEX_LEN);
		return false;
	}
	bytes = g_malloc(KT_SECRET_GENERATED_LEN);
	for (gsize i = 0; i < KT_SECRET_GENERATED_LEN; i++) {
		bytes[i] = (guint8)(g_ascii_xdigit_value(contents[2 * i]) << 4 |
		                    g_ascii_xdigit_value(contents[2 * i + 1]));
	}
	*secret = bytes;
	*len = KT_SECRET_GENERATED_LEN;
	return true;
}

static bool kt_secret_create(const char *data_dir, const char *path, guint8 **secret, gsize *len,
                             GError **error)
{
	guint8 bytes[KT_SECRET_GENERATED_LEN];
	char hex[KT_SECRET_HEX_LEN + 2];
	g_autoptr(GError) local = NULL;
	bool ok;

	if (g_mkdir_with_parents(data_dir, 0700) != 0) {
		int err = errno;
		g_set_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_IO, "cannot create %s: %s",
		            data_dir, g_strerror(err));
		return false;
	}
	if (RAND_bytes(bytes, sizeof bytes) != 1) {
		g_set_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_RANDOM,
		            "cannot generate a secret: the random generator failed");
		return false;
	}
	for (gsize i = 0; i < sizeof bytes; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	hex[KT_SECRET_HEX_LEN] = '\n';
	hex[KT_SECRET_HEX_LEN + 1] = '\0';
	/* Written to a temporary file, synced and renamed, so a crash leaves either no secret
	 * or a whole one; 0600 because it can mint any token. */
	ok = g_file_set_contents_full(path, hex, KT_SECRET_HEX_LEN + 1,
	                              G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local);
	OPENSSL_cleanse(hex, sizeof hex);
	if (!ok) {
		OPENSSL_cleanse(bytes, sizeof bytes);
		g_set_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_IO, "cannot write %s: %s", path,
		            local->message);
		return false;
	}
	*secret = g_memdup2(bytes, sizeof bytes);
	*len = sizeof bytes;
	OPENSSL_cleanse(bytes, sizeof bytes);
	return true;
}

bool kt_secret_load(const KtSettings *s, guint8 **secret, gsize *len, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(GError) local = NULL;
	char *contents = NULL;
	gsize n = 0;
	bool ok;

	if (s->secret != NULL && s->secret[0] != '\0') {
		n = strlen(s->secret);
		if (n < 16) {
			g_set_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_TOO_SHORT,
			            "[auth] secret: must be at least 16 characters");
			return false;
		}
		*secret = g_memdup2(s->secret, n);
		*len = n;
		return true;
	}
	path = g_build_filename(s->data_dir, KT_SECRET_FILE, NULL);
	if (g_file_get_contents(path, &contents, &n, &local)) {
		ok = kt_secret_decode(path, contents, n, secret, len, error);
		OPENSSL_cleanse(contents, n);
		g_free(contents);
		return ok;
	}
	if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
		g_set_error(error, KT_SECRET_ERROR, KT_SECRET_ERROR_IO, "cannot read %s",
		            local->message);
		return false;
	}
	return kt_secret_create(s->data_dir, path, secret, len, error);
}
