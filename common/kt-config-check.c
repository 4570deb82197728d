/* The checks of single config values (addresses, URLs, secrets) that the option
 * table in kt-config.c names: pure functions, any thread. */
#include "kt-config.h"
#include "kt-config-private.h"

#include <stdio.h>
#include <string.h>

static bool kt_config_host_is_name(const char *host)
{
	/* A DNS name: letters, digits, '-' and '.', no empty labels (RFC 1123 section 2.1). */
	gsize len = strlen(host);
	if (len == 0 || len > 253 || host[0] == '.' || host[0] == '-' || strstr(host, ".."))
		return false;
	for (const char *p = host; *p; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
			return false;
	}
	/* All digits and dots but not an IPv4 address (e.g. "999.1.1.1"): a typo, not a name. */
	return strspn(host, "0123456789.") != len;
}

static bool kt_config_split_host(const char *spec, char **host, const char **port, GError **error)
{
	const char *colon;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || close[1] != ':') {
			g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
			            "\"%s\": expected [IPV6]:PORT", spec);
			return false;
		}
		*host = g_strndup(spec + 1, close - spec - 1);
		*port = close + 2;
		if (strchr(*host, ':') == NULL || !g_hostname_is_ip_address(*host)) {
			g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
			            "\"%s\": not an IPv6 address inside the brackets", spec);
			return false;
		}
		return true;
	}
	colon = strrchr(spec, ':');
	if (colon == NULL) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		            "\"%s\": expected ADDR:PORT", spec);
		return false;
	}
	*host = g_strndup(spec, colon - spec);
	*port = colon + 1;
	if (strchr(*host, ':') != NULL) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		            "\"%s\": write IPv6 addresses in brackets, e.g. [::1]:8443", spec);
		return false;
	}
	if (!g_hostname_is_ip_address(*host) && !kt_config_host_is_name(*host)) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		            "\"%s\": \"%s\" is neither an IP address nor a host name", spec, *host);
		return false;
	}
	return true;
}

bool kt_settings_parse_listen(const char *spec, char **host_out, guint16 *port_out, GError **error)
{
	g_autofree char *host = NULL;
	const char *port_str = NULL;
	guint64 port = 0;

	if (spec == NULL || spec[0] == '\0' || strlen(spec) > 300) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		            "expected ADDR:PORT, got %s",
		            spec == NULL || spec[0] == '\0' ? "nothing" : "an over-long value");
		return false;
	}
	if (!kt_config_split_host(spec, &host, &port_str, error))
		return false;
	if (!g_ascii_string_to_unsigned(port_str, 10, 1, 65535, &port, NULL)) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		            "\"%s\": port must be a number from 1 to 65535", spec);
		return false;
	}
	if (host_out != NULL)
		*host_out = g_steal_pointer(&host);
	if (port_out != NULL)
		*port_out = (guint16)port;
	return true;
}

bool kt_settings_parse_rung(const char *spec, guint *width, guint *height, guint *kbps,
                            GError **error)
{
	guint w = 0, h = 0, k = 0;
	int end = 0;

	if (sscanf(spec, "%4ux%4u@%5u%n", &w, &h, &k, &end) != 3 || spec[end] != '\0' || w < 64 ||
	    w > 4096 || h < 64 || h > 4096 || w % 2 || h % 2 || k < 30 || k > 20000) {
		g_set_error(
		    error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		    "\"%.32s\" is not a rung WxH@KBPS (W, H even, 64..4096; KBPS 30..20000)", spec);
		return false;
	}
	if (width)
		*width = w;
	if (height)
		*height = h;
	if (kbps)
		*kbps = k;
	return true;
}

bool kt_config_check_rung(const char *value, GError **error)
{
	return kt_settings_parse_rung(value, NULL, NULL, NULL, error);
}

bool kt_config_check_listen(const char *value, GError **error)
{
	return kt_settings_parse_listen(value, NULL, NULL, error);
}

bool kt_config_check_ip(const char *value, GError **error)
{
	if (g_hostname_is_ip_address(value))
		return true;
	g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
	            "\"%s\" is not an IP address", value);
	return false;
}

bool kt_config_check_url(const char *value, GError **error)
{
	g_autoptr(GUri) uri = g_uri_parse(value, G_URI_FLAGS_NONE, NULL);
	const char *scheme = uri != NULL ? g_uri_get_scheme(uri) : NULL;
	const char *host = uri != NULL ? g_uri_get_host(uri) : NULL;

	if (scheme == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    host == NULL || host[0] == '\0' || g_uri_get_query(uri) != NULL ||
	    g_uri_get_fragment(uri) != NULL) {
		g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
		            "\"%s\" is not an http:// or https:// URL without query or fragment",
		            value);
		return false;
	}
	return true;
}

bool kt_config_check_secret(const char *value, GError **error)
{
	/* Never echo the secret itself into an error message. */
	if (strlen(value) >= 16)
		return true;
	g_set_error(error, KT_CONFIG_ERROR, KT_CONFIG_ERROR_INVALID_VALUE,
	            "must be at least 16 characters (or empty to generate one)");
	return false;
}
