/* Bearer-token checks for HTTP requests. */
#include "kt-auth.h"

#include <string.h>

gboolean kt_auth_check_bearer(KtHttpRequest *req, const guint8 *secret, gsize secret_len,
                              KtTokenClaims *claims)
{
	g_autofree char *auth = kt_http_request_get_header(req, "authorization");
	const char *token;

	if (!auth || g_ascii_strncasecmp(auth, "Bearer ", 7) != 0) {
		kt_http_request_respond_error(req, 401, "unauthorized",
		                              "missing 'Authorization: Bearer TOKEN' header");
		return FALSE;
	}
	token = auth + 7;
	while (*token == ' ')
		token++;
	return kt_auth_check_token(req, secret, secret_len, token, claims);
}

gboolean kt_auth_check_token(KtHttpRequest *req, const guint8 *secret, gsize secret_len,
                             const char *token, KtTokenClaims *claims)
{
	g_autoptr(GError) error = NULL;
	const char *code;

	if (kt_token_verify(secret, secret_len, token, g_get_real_time() / G_USEC_PER_SEC, claims,
	                    &error))
		return TRUE;
	code = g_error_matches(error, KT_TOKEN_ERROR, KT_TOKEN_ERROR_EXPIRED) ? "token-expired"
	                                                                      : "bad-token";
	kt_http_request_respond_error(req, 401, code, "%s", error->message);
	return FALSE;
}

gboolean kt_auth_check_role(KtHttpRequest *req, const KtTokenClaims *claims, const KtRole *roles)
{
	g_autoptr(GString) needs = g_string_new(NULL);

	for (const KtRole *r = roles; *r != KT_ROLE_NONE; r++) {
		if (*r == claims->role)
			return TRUE;
		g_string_append_printf(needs, "%s'%s'", r == roles ? "" : " or ",
		                       kt_role_to_string(*r));
	}
	kt_http_request_respond_error(req, 403, "wrong-role",
	                              "role '%s' may not do this here; it needs %s",
	                              kt_role_to_string(claims->role), needs->str);
	return FALSE;
}

gboolean kt_auth_check_lesson(KtHttpRequest *req, const KtTokenClaims *claims, const char *lesson,
                              const KtRole *roles)
{
	gboolean role_ok = FALSE;

	if (strcmp(claims->lesson, lesson) != 0) {
		kt_http_request_respond_error(req, 403, "wrong-lesson",
		                              "the token is for another lesson");
		return FALSE;
	}
	for (const KtRole *r = roles; *r != KT_ROLE_NONE; r++)
		role_ok |= *r == claims->role;
	if (!role_ok) {
		kt_http_request_respond_error(req, 403, "wrong-role",
		                              "role '%s' may not do this here",
		                              kt_role_to_string(claims->role));
		return FALSE;
	}
	return TRUE;
}
