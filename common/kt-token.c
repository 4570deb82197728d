/* Token mint and verify: HMAC-SHA256 (RFC 2104) over "v1.<lesson>.<role>.<expiry>". */
#include "kt-token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

G_DEFINE_QUARK(kt - token - error - quark, kt_token_error)

#define KT_TOKEN_MAC_LEN 32     /* SHA-256 */
#define KT_TOKEN_MAC_B64_LEN 43 /* ceil(32 * 8 / 6), no padding */
#define KT_TOKEN_FIELDS 5

static const char kt_token_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static gboolean kt_token_is_id_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_';
}

gboolean kt_token_lesson_id_is_valid(const char *id)
{
	gsize n = 0;
	if (id == NULL)
		return FALSE;
	for (; id[n] != '\0'; n++) {
		if (n >= KT_TOKEN_LESSON_MAX || !kt_token_is_id_char(id[n]))
			return FALSE;
	}
	return n > 0;
}

static bool kt_token_hmac(const guint8 *secret, gsize secret_len, const char *data, gsize len,
                          guint8 mac[KT_TOKEN_MAC_LEN])
{
	unsigned int mac_len = 0;
	if (secret_len > G_MAXINT)
		return false;
	return HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data, len, mac,
	            &mac_len) != NULL &&
	       mac_len == KT_TOKEN_MAC_LEN;
}

/* base64url without padding, RFC 4648 section 5; @out holds KT_TOKEN_MAC_B64_LEN + 1. */
static void kt_token_b64_encode(const guint8 mac[KT_TOKEN_MAC_LEN], char *out)
{
	guint32 acc = 0;
	int bits = 0;
	gsize o = 0;

	for (gsize i = 0; i < KT_TOKEN_MAC_LEN; i++) {
		acc = (acc << 8) | mac[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = kt_token_b64url[(acc >> bits) & 0x3f];
		}
	}
	if (bits > 0)
		out[o++] = kt_token_b64url[(acc << (6 - bits)) & 0x3f];
	out[o] = '\0';
}

static int kt_token_b64_value(char c)
{
	const char *p = c != '\0' ? strchr(kt_token_b64url, c) : NULL;
	return p != NULL ? (int)(p - kt_token_b64url) : -1;
}

/* Decodes exactly KT_TOKEN_MAC_B64_LEN characters; rejects non-canonical encodings (unused
 * trailing bits set) so each MAC has exactly one spelling. */
static bool kt_token_b64_decode(const char *in, gsize len, guint8 mac[KT_TOKEN_MAC_LEN])
{
	guint32 acc = 0;
	int bits = 0;
	gsize o = 0;

	if (len != KT_TOKEN_MAC_B64_LEN)
		return false;
	for (gsize i = 0; i < len; i++) {
		int v = kt_token_b64_value(in[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (guint32)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			mac[o++] = (guint8)(acc >> bits);
		}
	}
	return o == KT_TOKEN_MAC_LEN && (acc & ((1u << bits) - 1)) == 0;
}

char *kt_token_mint(const guint8 *secret, gsize secret_len, const char *lesson, KtRole role,
                    gint64 expires_unix, GError **error)
{
	guint8 mac[KT_TOKEN_MAC_LEN];
	char mac_b64[KT_TOKEN_MAC_B64_LEN + 1];
	g_autofree char *payload = NULL;
	const char *reason = NULL;

	if (lesson == NULL)
		lesson = "";
	if (secret == NULL || secret_len < KT_TOKEN_SECRET_MIN)
		reason = "the secret is shorter than 16 bytes";
	else if (role == KT_ROLE_NONE || strcmp(kt_role_to_string(role), "none") == 0)
		reason = "no such role";
	else if (lesson[0] == '\0' && kt_role_needs_lesson(role))
		reason = "this role needs a lesson id";
	else if (lesson[0] != '\0' && !kt_token_lesson_id_is_valid(lesson))
		reason = "a lesson id is 1 to 64 of A-Z a-z 0-9 _ -";
	else if (expires_unix < 0)
		reason = "the expiry is negative";
	if (reason != NULL) {
		g_set_error(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_INVALID, "cannot mint token: %s",
		            reason);
		return NULL;
	}
	payload = g_strdup_printf("v1.%s.%s.%" G_GINT64_FORMAT, lesson, kt_role_to_string(role),
	                          expires_unix);
	if (!kt_token_hmac(secret, secret_len, payload, strlen(payload), mac)) {
		g_set_error(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_INVALID,
		            "cannot mint token: HMAC failed");
		return NULL;
	}
	kt_token_b64_encode(mac, mac_b64);
	OPENSSL_cleanse(mac, sizeof mac);
	return g_strconcat(payload, ".", mac_b64, NULL);
}

typedef struct {
	const char *p;
	gsize len;
} KtTokenField;

static bool kt_token_split(const char *token, gsize len, KtTokenField f[KT_TOKEN_FIELDS])
{
	const char *start = token;
	gsize n = 0;

	for (gsize i = 0; i <= len; i++) {
		if (i < len && token[i] != '.')
			continue;
		if (n == KT_TOKEN_FIELDS)
			return false;
		f[n].p = start;
		f[n].len = (gsize)(token + i - start);
		n++;
		start = token + i + 1;
	}
	return n == KT_TOKEN_FIELDS;
}

static bool kt_token_field_is_digits(const KtTokenField *f)
{
	for (gsize i = 0; i < f->len; i++) {
		if (!g_ascii_isdigit(f->p[i]))
			return false;
	}
	return f->len > 0;
}

/* Fills @c from the first four fields; returns why they are malformed, or NULL. */
static const char *kt_token_parse_claims(const KtTokenField f[KT_TOKEN_FIELDS], KtTokenClaims *c)
{
	char role[16], expiry[20];

	if (f[0].len != 2 || memcmp(f[0].p, "v1", 2) != 0)
		return "unsupported version";
	if (f[1].len > KT_TOKEN_LESSON_MAX)
		return "lesson id too long";
	memcpy(c->lesson, f[1].p, f[1].len);
	c->lesson[f[1].len] = '\0';
	if (f[1].len > 0 && !kt_token_lesson_id_is_valid(c->lesson))
		return "bad lesson id";
	if (f[2].len >= sizeof role)
		return "unknown role";
	memcpy(role, f[2].p, f[2].len);
	role[f[2].len] = '\0';
	c->role = kt_role_from_string(role);
	if (c->role == KT_ROLE_NONE)
		return "unknown role";
	if (f[1].len == 0 && kt_role_needs_lesson(c->role))
		return "role needs a lesson id";
	if (f[3].len >= sizeof expiry || !kt_token_field_is_digits(&f[3]))
		return "bad expiry";
	memcpy(expiry, f[3].p, f[3].len);
	expiry[f[3].len] = '\0';
	if (!g_ascii_string_to_signed(expiry, 10, 0, G_MAXINT64, &c->expires, NULL))
		return "bad expiry";
	return NULL;
}

static bool kt_token_fail(GError **error, KtTokenError code, const char *why)
{
	g_set_error(error, KT_TOKEN_ERROR, code, "invalid token: %s", why);
	return false;
}

bool kt_token_verify(const guint8 *secret, gsize secret_len, const char *token, gint64 now_unix,
                     KtTokenClaims *out, GError **error)
{
	KtTokenField f[KT_TOKEN_FIELDS];
	KtTokenClaims claims;
	guint8 got[KT_TOKEN_MAC_LEN], want[KT_TOKEN_MAC_LEN];
	const char *why;
	gsize len;
	int diff;

	if (token == NULL || token[0] == '\0')
		return kt_token_fail(error, KT_TOKEN_ERROR_MALFORMED, "empty");
	len = strnlen(token, KT_TOKEN_MAX_LEN + 1);
	if (len > KT_TOKEN_MAX_LEN)
		return kt_token_fail(error, KT_TOKEN_ERROR_MALFORMED, "longer than 512 bytes");
	if (!kt_token_split(token, len, f))
		return kt_token_fail(error, KT_TOKEN_ERROR_MALFORMED, "expected 5 fields");
	why = kt_token_parse_claims(f, &claims);
	if (why != NULL)
		return kt_token_fail(error, KT_TOKEN_ERROR_MALFORMED, why);
	if (!kt_token_b64_decode(f[4].p, f[4].len, got))
		return kt_token_fail(error, KT_TOKEN_ERROR_MALFORMED, "bad signature encoding");
	if (secret == NULL || secret_len < KT_TOKEN_SECRET_MIN ||
	    !kt_token_hmac(secret, secret_len, token, (gsize)(f[4].p - 1 - token), want))
		return kt_token_fail(error, KT_TOKEN_ERROR_BAD_SIGNATURE, "cannot check signature");
	/* Constant time, so response timing reveals nothing about the correct MAC. */
	diff = CRYPTO_memcmp(got, want, sizeof want);
	OPENSSL_cleanse(want, sizeof want);
	if (diff != 0)
		return kt_token_fail(error, KT_TOKEN_ERROR_BAD_SIGNATURE, "bad signature");
	if (now_unix >= claims.expires)
		return kt_token_fail(error, KT_TOKEN_ERROR_EXPIRED, "expired");
	if (out != NULL)
		*out = claims;
	return true;
}
