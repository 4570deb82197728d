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
/* 403 unless @claims are for @lesson and one of @roles (KT_ROLE_NONE-terminated). */
gboolean kt_auth_check_lesson(KtHttpRequest *req, const KtTokenClaims *claims, const char *lesson,
                              const KtRole *roles);
