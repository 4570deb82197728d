/* The token signing secret, shared by `ketang serve` and `ketang token` through the config
 * or the data directory.
 *
 * Ownership: the secret returned is the caller's; free it with kt_secret_free (which wipes
 * it first).
 * Threads: any thread, but it does blocking file I/O: call it at start-up, not from the
 * control loop's steady state or a media worker. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "kt-config.h"

#define KT_SECRET_ERROR (kt_secret_error_quark())
GQuark kt_secret_error_quark(void);

typedef enum {
	KT_SECRET_ERROR_TOO_SHORT, /* [auth] secret set but shorter than 16 characters */
	KT_SECRET_ERROR_CORRUPT,   /* data_dir/secret is not 64 hex characters */
	KT_SECRET_ERROR_IO,        /* data_dir or the secret file cannot be read or written */
	KT_SECRET_ERROR_RANDOM,    /* the OpenSSL random generator failed */
} KtSecretError;

#define KT_SECRET_FILE "secret"
#define KT_SECRET_GENERATED_LEN 32

/* Loads the secret: the bytes of @s->secret if non-empty (at least 16 of them); else the 32
 * bytes stored as 64 hex characters in @s->data_dir/secret; else creates @s->data_dir (mode
 * 0700) and that file (mode 0600, written atomically) with 32 fresh random bytes. */
bool kt_secret_load(const KtSettings *s, guint8 **secret, gsize *len, GError **error);

/* Wipes and frees a secret from kt_secret_load; NULL is allowed. */
void kt_secret_free(guint8 *secret, gsize len);
