/* Bearer-token checks for HTTP requests (control loop). Each failure answers
 * the request with the matching status and JSON error and returns FALSE. */
#pragma once

#include "kt-http.h"
#include "kt-role.h"
#include "kt-token.h"

/* Verifies "Authorization: Bearer TOKEN". 401 when missing, malformed, forged
 * or expired. The token itself never reaches a log or an error message. */
gboolean kt_auth_check_bearer(KtHttpRequest *req, const guint8 *secret, gsize secret_len,
                              KtTokenClaims *claims);
/* Verifies @token, taken from elsewhere in the request (a media URL's ?token=). 401 when
 * forged or expired. */
gboolean kt_auth_check_token(KtHttpRequest *req, const guint8 *secret, gsize secret_len,
                             const char *token, KtTokenClaims *claims);
/* 403 unless @claims are for one of @roles (KT_ROLE_NONE-terminated), any lesson; the
 * message names the roles that would do. */
gboolean kt_auth_check_role(KtHttpRequest *req, const KtTokenClaims *claims, const KtRole *roles);
/* 403 unless @claims are for @lesson and one of @roles (KT_ROLE_NONE-terminated). */
gboolean kt_auth_check_lesson(KtHttpRequest *req, const KtTokenClaims *claims, const char *lesson,
                              const KtRole *roles);
