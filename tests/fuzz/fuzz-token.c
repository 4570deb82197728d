/* A bearer token from an Authorization header or a ?token= query (kt_token_verify), three
 * ways by the first byte:
 *   0  the rest as the token, as a client sends it (stops at the MAC for forgeries);
 *   1  the rest signed here with the fuzz secret, so the claims and expiry checks past the
 *      MAC are reached too;
 *   2  "lesson\nrole\nexpiry": whatever kt_token_mint accepts must verify to the same
 *      claims before its expiry and be refused as expired at it (aborts otherwise). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kt-token.h"

#define FUZZ_NOW 1800000000 /* 2027-01-15 */

static const guint8 secret[] = "ketang-fuzz-secret-0123456789abcdef";
#define SECRET_LEN (sizeof secret - 1)

static void verify(const char *token)
{
	g_autoptr(GError) error = NULL;
	KtTokenClaims claims;

	if (kt_token_verify(secret, SECRET_LEN, token, FUZZ_NOW, &claims, &error)) {
		if (claims.expires <= FUZZ_NOW || claims.role == KT_ROLE_NONE ||
		    (claims.lesson[0] && !kt_token_lesson_id_is_valid(claims.lesson)))
			abort();
	} else if (error == NULL) {
		abort();
	}
}

/* payload "." base64url(HMAC-SHA256(secret, payload)), no padding. */
static char *sign(const char *payload)
{
	guint8 mac[32];
	unsigned int mac_len = 0;
	g_autofree char *b64 = NULL;

	HMAC(EVP_sha256(), secret, (int)SECRET_LEN, (const guint8 *)payload, strlen(payload), mac,
	     &mac_len);
	b64 = g_base64_encode(mac, mac_len);
	g_strdelimit(b64, "+", '-');
	g_strdelimit(b64, "/", '_');
	b64[strcspn(b64, "=")] = '\0';
	return g_strconcat(payload, ".", b64, NULL);
}

static void mint_round_trip(const char *text)
{
	g_auto(GStrv) f = g_strsplit(text, "\n", 3);
	g_autoptr(GError) error = NULL;
	g_autofree char *token = NULL;
	KtTokenClaims claims;
	gint64 expires;

	if (g_strv_length(f) != 3 ||
	    !g_ascii_string_to_signed(f[2], 10, FUZZ_NOW + 1, G_MAXINT64, &expires, NULL))
		return;
	token = kt_token_mint(secret, SECRET_LEN, f[0], kt_role_from_string(f[1]), expires, &error);
	if (!token)
		return;
	if (!kt_token_verify(secret, SECRET_LEN, token, expires - 1, &claims, NULL) ||
	    strcmp(claims.lesson, f[0]) != 0 || claims.expires != expires ||
	    claims.role != kt_role_from_string(f[1]))
		abort();
	g_clear_error(&error);
	if (kt_token_verify(secret, SECRET_LEN, token, expires, NULL, &error) ||
	    !g_error_matches(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_EXPIRED))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *text = NULL;
	g_autofree char *signed_token = NULL;

	if (size == 0 || size > 4096)
		return 0;
	text = g_strndup((const char *)data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		verify(text);
		break;
	case 1:
		signed_token = sign(text);
		verify(signed_token);
		break;
	default:
		mint_round_trip(text);
		break;
	}
	return 0;
}
