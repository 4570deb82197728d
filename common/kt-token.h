/* Signed, expiring tokens that carry an endpoint's lesson and role.
 *
 * Format: v1.<lesson>.<role>.<expiry>.<mac>
 *   lesson  [A-Za-z0-9_-]{1,64}, or empty for roles that need no lesson (kt_role_needs_lesson)
 *   role    kt_role_to_string() name
 *   expiry  Unix seconds, decimal; the token is valid while now < expiry
 *   mac     base64url without padding (RFC 4648 section 5) of HMAC-SHA256 (RFC 2104) keyed
 *           with the server secret over everything before the last '.'
 * Tokens are bearer credentials: never log them; errors here never quote them.
 *
 * Ownership: kt_token_mint returns a string the caller frees with g_free. The secret is
 * borrowed for the duration of the call.
 * Threads: every function may be called from any thread. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "kt-role.h"

#define KT_TOKEN_ERROR (kt_token_error_quark())
GQuark kt_token_error_quark(void);

typedef enum {
	KT_TOKEN_ERROR_MALFORMED,     /* not a token of this format (or over-long) */
	KT_TOKEN_ERROR_BAD_SIGNATURE, /* well-formed, but the MAC does not match */
	KT_TOKEN_ERROR_EXPIRED,       /* genuine, but now >= expiry */
	KT_TOKEN_ERROR_INVALID,       /* kt_token_mint arguments: bad lesson/role/secret */
} KtTokenError;

#define KT_TOKEN_MAX_LEN 512
#define KT_TOKEN_LESSON_MAX 64
#define KT_TOKEN_SECRET_MIN 16 /* bytes; shorter keys are refused */

typedef struct {
	char lesson[KT_TOKEN_LESSON_MAX + 1]; /* "" for a token without a lesson */
	KtRole role;
	gint64 expires; /* Unix seconds */
} KtTokenClaims;

/* TRUE if @id is a valid lesson id: 1..64 of [A-Za-z0-9_-]. Also used for URL path ids. */
gboolean kt_token_lesson_id_is_valid(const char *id);

/* Mints a token for @lesson (NULL or "" only if @role needs no lesson) and @role (not
 * KT_ROLE_NONE), valid until @expires_unix (>= 0). @secret_len >= KT_TOKEN_SECRET_MIN.
 * Returns NULL and sets KT_TOKEN_ERROR_INVALID on bad arguments. */
char *kt_token_mint(const guint8 *secret, gsize secret_len, const char *lesson, KtRole role,
                    gint64 expires_unix, GError **error);

/* Checks @token (untrusted input) against @secret at time @now_unix and, if it is genuine
 * and unexpired, fills @out (may be NULL). Checks run in order: format (MALFORMED), MAC in
 * constant time (BAD_SIGNATURE), expiry (EXPIRED); @out is untouched on error. */
bool kt_token_verify(const guint8 *secret, gsize secret_len, const char *token, gint64 now_unix,
                     KtTokenClaims *out, GError **error);
