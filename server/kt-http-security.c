/* kt-http-security.c — the HTTPS posture: which TLS versions and cipher suites a vhost
 * accepts, and the security headers every response carries (docs/security.md).
 */
#define G_LOG_DOMAIN "kt-http"

#include "kt-http-private.h"

#include <openssl/ssl.h>

/* TLS 1.2: forward-secret ECDHE key exchange with an AEAD cipher only (no CBC, no static
 * RSA key exchange, no DHE). Both certificate kinds are listed: the generated one is
 * ECDSA, an operator's may be RSA. */
#define KT_HTTP_TLS12_CIPHERS                                                                      \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3 (RFC 8446 §9.1): every suite is AEAD with (EC)DHE; CCM is left out. */
#define KT_HTTP_TLS13_CIPHERS                                                                      \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* Strict-Transport-Security (RFC 6797 §6.1): one year. No includeSubDomains: the
 * server does not know what else runs under its domain. */
#define KT_HTTP_HSTS "max-age=31536000"

/* Pages: our own modules, styles and media only. blob: serves hls.js (its worker and
 * the MediaSource it plays), data: the odd inline image; connect-src 'self' covers the
 * same-origin wss:// socket (CSP3 §6.7.2.8). */
#define KT_HTTP_PAGE_CSP                                                                           \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "    \
	"media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; "                    \
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
/* API answers, media and errors are never documents to render. */
#define KT_HTTP_DATA_CSP "default-src 'none'; frame-ancestors 'none'"

void kt_http_security_set_tls(struct lws_context_creation_info *vi)
{
	vi->ssl_cipher_list = KT_HTTP_TLS12_CIPHERS;
	vi->tls1_3_plus_cipher_list = KT_HTTP_TLS13_CIPHERS;
	/* TLS 1.2 and 1.3 only, whatever the system's OpenSSL configuration allows; no
	 * compression (CRIME) and no renegotiation; the server's cipher order wins. */
	vi->ssl_options_set = SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
	                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                      SSL_OP_CIPHER_SERVER_PREFERENCE;
}

static gboolean has_header(GPtrArray *headers, const char *name_colon)
{
	for (guint i = 0; i + 1 < headers->len; i += 2)
		if (!strcmp(headers->pdata[i], name_colon))
			return TRUE;
	return FALSE;
}

static void add_default(GPtrArray *headers, const char *name_colon, const char *value)
{
	if (has_header(headers, name_colon))
		return;
	g_ptr_array_add(headers, g_strdup(name_colon));
	g_ptr_array_add(headers, g_strdup(value));
}

void kt_http_security_add_headers(KtHttpRequest *r)
{
	GPtrArray *h = r->resp.headers;
	gboolean page = r->route == NULL; /* a static file (or its 404) */

	add_default(h, "content-security-policy:", page ? KT_HTTP_PAGE_CSP : KT_HTTP_DATA_CSP);
	add_default(h, "x-frame-options:", "DENY");
	add_default(h, "x-content-type-options:", "nosniff");
	/* Join links carry their token in the fragment, which no Referer holds; a media URL's
	 * ?token= would be in one. */
	add_default(h, "referrer-policy:", "no-referrer");
	if (r->server->hsts)
		add_default(h, "strict-transport-security:", KT_HTTP_HSTS);
}
