/* a=rid (RFC 8851) and a=simulcast (RFC 8853): parsing, the checks that need the whole m=
 * section, and the lines of a receiving answer. See kt-sdp.h and kt-sdp-private.h. */
#include "kt-sdp-private.h"

#include <string.h>

static gboolean G_GNUC_PRINTF(3, 4) fail(GError **error, KtSdpError code, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	g_autofree char *what = g_strdup_vprintf(fmt, args);
	va_end(args);
	g_set_error_literal(error, KT_SDP_ERROR, code, what);
	return FALSE;
}

/* rid-id = 1*(alpha-numeric / "-" / "_") (RFC 8851 §10), bounded by Ketang. */
static gboolean check_id(const char *id, gsize len, GError **error)
{
	if (len == 0)
		return fail(error, KT_SDP_ERROR_MALFORMED, "empty rid");
	if (len > KT_SDP_MAX_RID_LEN)
		return fail(error, KT_SDP_ERROR_TOO_LARGE, "rid longer than %d bytes",
		            KT_SDP_MAX_RID_LEN);
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isalnum(id[i]) && id[i] != '-' && id[i] != '_')
			return fail(error, KT_SDP_ERROR_MALFORMED, "bad character in rid \"%.*s\"",
			            (int)len, id);
	return TRUE;
}

static const KtSdpRid *find_rid(const KtSdpMedia *m, const char *id)
{
	for (guint i = 0; i < m->n_rids; i++)
		if (strcmp(m->rids[i].id, id) == 0)
			return &m->rids[i];
	return NULL;
}

/* rid-param-list = rid-param *(";" rid-param), each a token with an optional "=value"
 * (RFC 8851 §10): only the shape is checked, Ketang applies no restriction. */
static gboolean check_params(const char *params, GError **error)
{
	g_auto(GStrv) items = g_strsplit(params, ";", -1);

	for (guint i = 0; items[i] != NULL; i++) {
		const char *item = items[i];
		gsize key = strcspn(item, "=");

		if (key == 0 || strchr(item, ' ') != NULL ||
		    strchr(item + key + (item[key] != 0), '=') ||
		    (item[key] == '=' && item[key + 1] == '\0'))
			return fail(error, KT_SDP_ERROR_MALFORMED, "bad a=rid restriction \"%s\"",
			            item);
	}
	return TRUE;
}

/* a=rid:<id> SP ("send" / "recv") [SP <restrictions>] */
gboolean kt_sdp_rid_parse(KtSdpMedia *m, const char *value, GError **error)
{
	const char *v = value != NULL ? value : "";
	gsize id_len = strcspn(v, " ");
	g_auto(GStrv) rest = NULL;
	KtSdpRid *rid;

	if (v[id_len] != ' ')
		return fail(error, KT_SDP_ERROR_MALFORMED, "a=rid needs \"<id> send|recv\"");
	if (!check_id(v, id_len, error))
		return FALSE;
	rest = g_strsplit(v + id_len + 1, " ", 2);
	if (rest[0] == NULL || (strcmp(rest[0], "send") != 0 && strcmp(rest[0], "recv") != 0))
		return fail(error, KT_SDP_ERROR_MALFORMED, "a=rid direction must be send or recv");
	if (rest[1] != NULL && !check_params(rest[1], error))
		return FALSE;
	if (m->n_rids == KT_SDP_MAX_RIDS)
		return fail(error, KT_SDP_ERROR_TOO_LARGE, "more than %d a=rid lines",
		            KT_SDP_MAX_RIDS);
	rid = &m->rids[m->n_rids];
	memcpy(rid->id, v, id_len);
	rid->id[id_len] = '\0';
	if (find_rid(m, rid->id) != NULL)
		return fail(error, KT_SDP_ERROR_MALFORMED, "a=rid:%s given twice", rid->id);
	rid->direction = rest[0][0] == 's' ? KT_SDP_DIR_SENDONLY : KT_SDP_DIR_RECVONLY;
	g_strlcpy(rid->params, rest[1] != NULL ? rest[1] : "", sizeof rid->params);
	m->n_rids++;
	return TRUE;
}

/* sc-str-list = sc-alt-list *(";" sc-alt-list); sc-alt-list = sc-id *("," sc-id);
 * sc-id = ["~"] rid-id (RFC 8853 §5.1). Keeps each stream's first alternative. */
static gboolean parse_list(const char *list, KtSdpSimulcastStream *out, guint *n_out,
                           GError **error)
{
	g_auto(GStrv) streams = g_strsplit(list, ";", -1);
	guint n = 0;

	for (guint i = 0; streams[i] != NULL; i++) {
		g_auto(GStrv) alts = g_strsplit(streams[i], ",", -1);

		if (n == KT_SDP_MAX_RIDS)
			return fail(error, KT_SDP_ERROR_TOO_LARGE,
			            "a=simulcast lists more than %d streams", KT_SDP_MAX_RIDS);
		for (guint a = 0; alts[a] != NULL; a++) {
			const char *id = alts[a] + (alts[a][0] == '~');

			if (!check_id(id, strlen(id), error))
				return FALSE;
		}
		if (alts[0] == NULL)
			return fail(error, KT_SDP_ERROR_MALFORMED, "empty a=simulcast stream");
		out[n].paused = alts[0][0] == '~';
		g_strlcpy(out[n].rid, alts[0] + out[n].paused, sizeof out[n].rid);
		for (guint k = 0; k < n; k++)
			if (strcmp(out[k].rid, out[n].rid) == 0)
				return fail(error, KT_SDP_ERROR_MALFORMED,
				            "a=simulcast names rid %s twice", out[n].rid);
		n++;
	}
	*n_out = n;
	return TRUE;
}

/* a=simulcast:<dir> <list> [SP <dir> <list>], dir = "send" / "recv" (RFC 8853 §5.1). */
gboolean kt_sdp_simulcast_parse(KtSdpMedia *m, const char *value, GError **error)
{
	g_auto(GStrv) tokens = g_strsplit(value != NULL ? value : "", " ", -1);
	guint n = g_strv_length(tokens);
	gboolean seen_send = FALSE, seen_recv = FALSE;

	if (m->has_simulcast)
		return fail(error, KT_SDP_ERROR_MALFORMED, "a=simulcast given twice");
	if (n != 2 && n != 4)
		return fail(error, KT_SDP_ERROR_MALFORMED,
		            "a=simulcast needs \"send|recv <rid>;...\" (once or twice)");
	for (guint i = 0; i < n; i += 2) {
		gboolean send = strcmp(tokens[i], "send") == 0;

		if (!send && strcmp(tokens[i], "recv") != 0)
			return fail(error, KT_SDP_ERROR_MALFORMED,
			            "a=simulcast direction must be send or recv");
		if (send ? seen_send : seen_recv)
			return fail(error, KT_SDP_ERROR_MALFORMED,
			            "a=simulcast gives the %s list twice", tokens[i]);
		if (send) {
			seen_send = TRUE;
			if (!parse_list(tokens[i + 1], m->simulcast_send, &m->n_simulcast_send,
			                error))
				return FALSE;
		} else {
			seen_recv = TRUE;
			if (!parse_list(tokens[i + 1], m->simulcast_recv, &m->n_simulcast_recv,
			                error))
				return FALSE;
		}
	}
	m->has_simulcast = TRUE;
	return TRUE;
}

static gboolean check_list(const KtSdpMedia *m, const KtSdpSimulcastStream *list, guint n,
                           KtSdpDirection dir, GError **error)
{
	for (guint i = 0; i < n; i++) {
		const KtSdpRid *rid = find_rid(m, list[i].rid);

		if (rid == NULL || rid->direction != dir)
			return fail(
			    error, KT_SDP_ERROR_MALFORMED,
			    "m= line \"%s\": a=simulcast names rid %s without an a=rid:%s %s",
			    m->mid, list[i].rid, list[i].rid,
			    dir == KT_SDP_DIR_SENDONLY ? "send" : "recv");
	}
	return TRUE;
}

/* RFC 8853 §5.2: every rid in a=simulcast is defined by an a=rid of the same direction. */
gboolean kt_sdp_simulcast_check(const KtSdpMedia *m, GError **error)
{
	return check_list(m, m->simulcast_send, m->n_simulcast_send, KT_SDP_DIR_SENDONLY, error) &&
	       check_list(m, m->simulcast_recv, m->n_simulcast_recv, KT_SDP_DIR_RECVONLY, error);
}

guint8 kt_sdp_media_ext_id(const KtSdpMedia *m, const char *uri)
{
	for (guint i = 0; i < m->n_extmaps; i++)
		if (strcmp(m->extmaps[i].uri, uri) == 0)
			return m->extmaps[i].id;
	return 0;
}

gboolean kt_sdp_simulcast_receivable(const KtSdpMedia *m)
{
	return m->kind == KT_SDP_MEDIA_VIDEO && m->n_simulcast_send > 1 &&
	       kt_sdp_media_ext_id(m, KT_SDP_RID_URI) != 0;
}

void kt_sdp_simulcast_write_recv(const KtSdpMedia *m, GString *s)
{
	guint8 rid = kt_sdp_media_ext_id(m, KT_SDP_RID_URI);
	guint8 rrid = kt_sdp_media_ext_id(m, KT_SDP_RRID_URI);

	g_string_append_printf(s, "a=extmap:%u " KT_SDP_RID_URI "\r\n", rid);
	if (rrid != 0)
		g_string_append_printf(s, "a=extmap:%u " KT_SDP_RRID_URI "\r\n", rrid);
	for (guint i = 0; i < m->n_simulcast_send; i++)
		g_string_append_printf(s, "a=rid:%s recv\r\n", m->simulcast_send[i].rid);
	g_string_append(s, "a=simulcast:recv ");
	for (guint i = 0; i < m->n_simulcast_send; i++)
		g_string_append_printf(s, "%s%s%s", i ? ";" : "",
		                       m->simulcast_send[i].paused ? "~" : "",
		                       m->simulcast_send[i].rid);
	g_string_append(s, "\r\n");
}
