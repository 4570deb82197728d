/* SDP parser: splits the text into lines, dispatches a= lines through a table, then fills
 * what RFC 8866 lets a media section inherit from the session. See kt-sdp.h. */
#include "kt-sdp.h"

#include <string.h>

#include "kt-sdp-private.h"

G_DEFINE_QUARK(kt - sdp - error - quark, kt_sdp_error)

struct _KtSdp {
	KtSdpMedia media[KT_SDP_MAX_MEDIA];
	guint n_media;
	char *bundle_group; /* first a=group:BUNDLE value without "BUNDLE " */
	char **bundle_mids;
	/* Session-level values inherited by media sections (RFC 8866 §5). */
	char ice_ufrag[64], ice_pwd[128];
	char fingerprint_alg[16], fingerprint[160];
	char setup[16];
	KtSdpDirection direction;
};

typedef struct {
	KtSdp *sdp;
	KtSdpMedia *media; /* the current m= section; NULL at session level */
	gboolean direction_set[KT_SDP_MAX_MEDIA];
	gboolean seen_o, seen_s, seen_t;
	guint line_no;
	GError **error;
} KtSdpParser;

typedef gboolean (*KtSdpAttrFunc)(KtSdpParser *p, const char *name, const char *value);

static gboolean G_GNUC_PRINTF(3, 4)
    parser_fail(KtSdpParser *p, KtSdpError code, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	g_autofree char *what = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(p->error, KT_SDP_ERROR, code, "SDP line %u: %s", p->line_no, what);
	return FALSE;
}

/* Copies @src into the fixed field @dst; a value that does not fit is refused rather than
 * cut, since a truncated ufrag or fingerprint would fail later in a confusing way. */
static gboolean copy_field(KtSdpParser *p, char *dst, gsize size, const char *src, const char *what)
{
	if (strlen(src) >= size)
		return parser_fail(p, KT_SDP_ERROR_TOO_LARGE,
		                   "%s longer than %" G_GSIZE_FORMAT " bytes", what, size - 1);
	g_strlcpy(dst, src, size);
	return TRUE;
}

static gboolean parse_uint(KtSdpParser *p, const char *s, guint64 max, guint64 *out,
                           const char *what)
{
	if (!g_ascii_string_to_unsigned(s, 10, 0, max, out, NULL))
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "bad %s \"%s\"", what, s);
	return TRUE;
}

/* Splits on spaces and tabs, dropping empty tokens (some writers double spaces). */
static char **split_tokens(const char *s, guint *n_out)
{
	char **tokens = g_strsplit_set(s, " \t", -1);
	guint n = 0;
	for (guint i = 0; tokens[i] != NULL; i++) {
		if (tokens[i][0] == '\0')
			g_free(tokens[i]);
		else
			tokens[n++] = tokens[i];
	}
	tokens[n] = NULL;
	*n_out = n;
	return tokens;
}

static KtSdpCodec *find_codec(KtSdpMedia *m, guint pt)
{
	for (guint i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

/* "<pt> <rest>": the payload type and a pointer to what follows its first space. */
static gboolean split_pt(KtSdpParser *p, const char *value, guint *pt, const char **rest)
{
	const char *space = value != NULL ? strchr(value, ' ') : NULL;
	if (space == NULL)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "expected \"<payload type> ...\"");
	g_autofree char *num = g_strndup(value, space - value);
	guint64 v;
	if (!parse_uint(p, num, 127, &v, "payload type"))
		return FALSE;
	*pt = v;
	*rest = space + 1;
	return TRUE;
}

static gboolean parse_m_fmts(KtSdpParser *p, KtSdpMedia *m, char **tokens, guint n)
{
	if (n > KT_SDP_MAX_CODECS)
		return parser_fail(p, KT_SDP_ERROR_TOO_LARGE, "%u payload types (limit %d)", n,
		                   KT_SDP_MAX_CODECS);
	m->codecs = g_new0(KtSdpCodec, MAX(n, 1));
	for (guint i = 0; i < n; i++) {
		guint64 pt;
		if (!parse_uint(p, tokens[i], 127, &pt, "payload type"))
			return FALSE;
		if (find_codec(m, pt) != NULL)
			continue;
		m->codecs[m->n_codecs++].pt = pt;
	}
	return TRUE;
}

/* m=<media> <port>[/<count>] <proto> <fmt> ... (RFC 8866 §5.14) */
static gboolean parse_m_line(KtSdpParser *p, const char *value)
{
	KtSdp *sdp = p->sdp;
	if (sdp->n_media == KT_SDP_MAX_MEDIA)
		return parser_fail(p, KT_SDP_ERROR_TOO_LARGE, "more than %d m= lines",
		                   KT_SDP_MAX_MEDIA);
	guint n;
	g_auto(GStrv) tokens = split_tokens(value, &n);
	if (n < 4)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED,
		                   "m= needs \"<media> <port> <proto> <fmt>...\"");
	KtSdpMedia *m = &sdp->media[sdp->n_media++];
	p->media = m;
	m->candidates = g_ptr_array_new_with_free_func(g_free);
	if (!copy_field(p, m->kind_str, sizeof m->kind_str, tokens[0], "m= media type") ||
	    !copy_field(p, m->proto, sizeof m->proto, tokens[2], "m= protocol"))
		return FALSE;
	static const char *const kinds[] = {"audio", "video", "application"};
	m->kind = KT_SDP_MEDIA_OTHER;
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
		if (strcmp(tokens[0], kinds[i]) == 0)
			m->kind = (KtSdpMediaKind)i;
	g_strlcpy(m->fmt, tokens[3], sizeof m->fmt);
	char *slash = strchr(tokens[1], '/');
	if (slash != NULL)
		*slash = '\0';
	guint64 port;
	if (!parse_uint(p, tokens[1], 65535, &port, "m= port"))
		return FALSE;
	m->port = port;
	/* Only RTP profiles carry payload type numbers; SCTP carries a name. */
	if (strstr(m->proto, "RTP/") == NULL)
		return TRUE;
	return parse_m_fmts(p, m, tokens + 3, n - 3);
}

static gboolean attr_group(KtSdpParser *p, const char *name, const char *value)
{
	if (p->media != NULL || value == NULL || p->sdp->bundle_group != NULL)
		return TRUE;
	if (g_ascii_strncasecmp(value, "BUNDLE", 6) != 0 || (value[6] != ' ' && value[6] != '\0'))
		return TRUE;
	guint n;
	char **mids = split_tokens(value + 6, &n);
	if (n == 0) {
		/* An empty group bundles nothing; treat it as absent. */
		g_strfreev(mids);
		return TRUE;
	}
	p->sdp->bundle_mids = mids;
	p->sdp->bundle_group = g_strjoinv(" ", mids);
	return TRUE;
}

static gboolean attr_mid(KtSdpParser *p, const char *name, const char *value)
{
	if (p->media == NULL)
		return TRUE;
	if (value == NULL || value[0] == '\0' || strchr(value, ' ') != NULL)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=mid needs one token");
	if (kt_sdp_find_media(p->sdp, value) != NULL) /* unique per RFC 5888 §4 */
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=mid:%s used twice", value);
	return copy_field(p, p->media->mid, sizeof p->media->mid, value, "a=mid");
}

static gboolean attr_direction(KtSdpParser *p, const char *name, const char *value)
{
	static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	KtSdpDirection dir = KT_SDP_DIR_SENDRECV;
	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		if (strcmp(name, names[i]) == 0)
			dir = (KtSdpDirection)i;
	if (p->media == NULL) {
		p->sdp->direction = dir;
	} else {
		p->media->direction = dir;
		p->direction_set[p->media - p->sdp->media] = TRUE;
	}
	return TRUE;
}

static gboolean attr_flag(KtSdpParser *p, const char *name, const char *value)
{
	KtSdpMedia *m = p->media;
	if (m == NULL)
		return TRUE;
	if (strcmp(name, "rtcp-mux") == 0)
		m->rtcp_mux = TRUE;
	else if (strcmp(name, "rtcp-rsize") == 0)
		m->rtcp_rsize = TRUE;
	else if (strcmp(name, "bundle-only") == 0)
		m->bundle_only = TRUE;
	else if (strcmp(name, "end-of-candidates") == 0)
		m->end_of_candidates = TRUE;
	return TRUE;
}

static gboolean attr_ice(KtSdpParser *p, const char *name, const char *value)
{
	gboolean is_ufrag = strcmp(name, "ice-ufrag") == 0;
	KtSdpMedia *m = p->media;
	char *dst =
	    is_ufrag ? (m ? m->ice_ufrag : p->sdp->ice_ufrag) : (m ? m->ice_pwd : p->sdp->ice_pwd);
	gsize size = is_ufrag ? sizeof m->ice_ufrag : sizeof m->ice_pwd;
	if (value == NULL || value[0] == '\0' || strchr(value, ' ') != NULL)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=%s needs one token", name);
	return copy_field(p, dst, size, value, is_ufrag ? "a=ice-ufrag" : "a=ice-pwd");
}

/* a=fingerprint:<hash-func> <fingerprint> (RFC 8122 §5). Several may be given; keep the
 * sha-256 one since that is the one Ketang verifies. */
static gboolean attr_fingerprint(KtSdpParser *p, const char *name, const char *value)
{
	char *alg = p->media ? p->media->fingerprint_alg : p->sdp->fingerprint_alg;
	char *fp = p->media ? p->media->fingerprint : p->sdp->fingerprint;
	guint n;
	g_auto(GStrv) tokens = split_tokens(value != NULL ? value : "", &n);
	if (n != 2)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED,
		                   "a=fingerprint needs \"<hash> <fingerprint>\"");
	if (alg[0] != '\0' && g_ascii_strcasecmp(alg, "sha-256") == 0)
		return TRUE;
	if (alg[0] != '\0' && g_ascii_strcasecmp(tokens[0], "sha-256") != 0)
		return TRUE;
	return copy_field(p, alg, sizeof p->sdp->fingerprint_alg, tokens[0], "fingerprint hash") &&
	       copy_field(p, fp, sizeof p->sdp->fingerprint, tokens[1], "a=fingerprint");
}

static gboolean attr_setup(KtSdpParser *p, const char *name, const char *value)
{
	char *dst = p->media ? p->media->setup : p->sdp->setup;
	if (value == NULL || value[0] == '\0')
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=setup needs a role");
	return copy_field(p, dst, sizeof p->sdp->setup, value, "a=setup");
}

/* a=rtpmap:<pt> <name>/<clock rate>[/<channels>] (RFC 8866 §6.6) */
static gboolean attr_rtpmap(KtSdpParser *p, const char *name, const char *value)
{
	guint pt = 0;
	const char *rest = NULL;
	if (p->media == NULL || p->media->codecs == NULL)
		return TRUE;
	if (!split_pt(p, value, &pt, &rest))
		return FALSE;
	g_auto(GStrv) parts = g_strsplit(rest, "/", 0);
	guint n = g_strv_length(parts);
	if (n < 2 || n > 3 || parts[0][0] == '\0')
		return parser_fail(p, KT_SDP_ERROR_MALFORMED,
		                   "a=rtpmap needs \"<pt> <name>/<rate>[/<channels>]\"");
	guint64 rate, channels = 0;
	if (!parse_uint(p, parts[1], G_MAXUINT32, &rate, "clock rate") ||
	    (n == 3 && !parse_uint(p, parts[2], 255, &channels, "channel count")))
		return FALSE;
	KtSdpCodec *c = find_codec(p->media, pt);
	if (c == NULL)
		return TRUE; /* describes a payload type the m= line does not list */
	c->clock_rate = rate;
	c->channels = channels;
	return copy_field(p, c->name, sizeof c->name, parts[0], "codec name");
}

static gboolean attr_fmtp(KtSdpParser *p, const char *name, const char *value)
{
	guint pt = 0;
	const char *rest = NULL;
	if (p->media == NULL || p->media->codecs == NULL)
		return TRUE;
	if (!split_pt(p, value, &pt, &rest))
		return FALSE;
	KtSdpCodec *c = find_codec(p->media, pt);
	if (c == NULL)
		return TRUE;
	return copy_field(p, c->fmtp, sizeof c->fmtp, rest, "a=fmtp parameters");
}

static void codec_add_fb(KtSdpCodec *c, const char *type, const char *param)
{
	if (strcmp(type, "nack") == 0 && param == NULL)
		c->fb_nack = TRUE;
	else if (strcmp(type, "nack") == 0 && strcmp(param, "pli") == 0)
		c->fb_nack_pli = TRUE;
	else if (strcmp(type, "ccm") == 0 && param != NULL && strcmp(param, "fir") == 0)
		c->fb_ccm_fir = TRUE;
	else if (strcmp(type, "transport-cc") == 0)
		c->fb_transport_cc = TRUE;
	else if (strcmp(type, "goog-remb") == 0)
		c->fb_goog_remb = TRUE;
}

/* a=rtcp-fb:<pt|*> <type> [<param>] (RFC 4585 §4.2) */
static gboolean attr_rtcp_fb(KtSdpParser *p, const char *name, const char *value)
{
	KtSdpMedia *m = p->media;
	if (m == NULL || m->codecs == NULL)
		return TRUE;
	guint n;
	g_auto(GStrv) tokens = split_tokens(value != NULL ? value : "", &n);
	if (n < 2 || n > 3)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED,
		                   "a=rtcp-fb needs \"<pt> <type> [<param>]\"");
	if (strcmp(tokens[0], "*") == 0) {
		for (guint i = 0; i < m->n_codecs; i++)
			codec_add_fb(&m->codecs[i], tokens[1], tokens[2]);
		return TRUE;
	}
	guint64 pt;
	if (!parse_uint(p, tokens[0], 127, &pt, "payload type"))
		return FALSE;
	KtSdpCodec *c = find_codec(m, pt);
	if (c != NULL)
		codec_add_fb(c, tokens[1], tokens[2]);
	return TRUE;
}

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §5) */
static gboolean attr_extmap(KtSdpParser *p, const char *name, const char *value)
{
	KtSdpMedia *m = p->media;
	if (m == NULL)
		return TRUE; /* session-level extmaps are not used by browsers */
	guint n;
	g_auto(GStrv) tokens = split_tokens(value != NULL ? value : "", &n);
	if (n < 2)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=extmap needs \"<id> <uri>\"");
	char *slash = strchr(tokens[0], '/');
	if (slash != NULL)
		*slash = '\0';
	guint64 id;
	if (!parse_uint(p, tokens[0], 255, &id, "extmap id"))
		return FALSE;
	if (id == 0)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "extmap id 0 is reserved");
	if (m->n_extmaps == KT_SDP_MAX_EXTMAPS)
		return parser_fail(p, KT_SDP_ERROR_TOO_LARGE, "more than %d a=extmap lines",
		                   KT_SDP_MAX_EXTMAPS);
	if (m->extmaps == NULL)
		m->extmaps = g_new0(KtSdpExtmap, KT_SDP_MAX_EXTMAPS);
	KtSdpExtmap *e = &m->extmaps[m->n_extmaps];
	e->id = id;
	if (!copy_field(p, e->uri, sizeof e->uri, tokens[1], "a=extmap URI"))
		return FALSE;
	m->n_extmaps++;
	return TRUE;
}

/* a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1) */
static gboolean attr_ssrc(KtSdpParser *p, const char *name, const char *value)
{
	KtSdpMedia *m = p->media;
	guint64 ssrc;
	const char *space = value != NULL ? strchr(value, ' ') : NULL;
	if (m == NULL)
		return TRUE;
	if (space == NULL)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=ssrc needs \"<ssrc> <attr>\"");
	g_autofree char *num = g_strndup(value, space - value);
	if (!parse_uint(p, num, G_MAXUINT32, &ssrc, "ssrc"))
		return FALSE;
	if (m->ssrc == 0)
		m->ssrc = ssrc;
	const char *attr = space + 1;
	if (g_str_has_prefix(attr, "cname:") && m->cname[0] == '\0')
		return copy_field(p, m->cname, sizeof m->cname, attr + 6, "cname");
	if (g_str_has_prefix(attr, "msid:") && m->msid[0] == '\0')
		return copy_field(p, m->msid, sizeof m->msid, attr + 5, "msid");
	return TRUE;
}

/* a=ssrc-group:FID <primary> <rtx> (RFC 5576 §4.2, RFC 4588 §8.3): the first FID group
 * names the RTX partner of the primary SSRC, whichever a=ssrc line came first. */
static gboolean attr_ssrc_group(KtSdpParser *p, const char *name, const char *value)
{
	KtSdpMedia *m = p->media;
	if (m == NULL || value == NULL || !g_str_has_prefix(value, "FID "))
		return TRUE;
	guint n;
	g_auto(GStrv) tokens = split_tokens(value + 4, &n);
	guint64 primary, rtx;
	if (n != 2)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=ssrc-group:FID needs two SSRCs");
	if (!parse_uint(p, tokens[0], G_MAXUINT32, &primary, "ssrc") ||
	    !parse_uint(p, tokens[1], G_MAXUINT32, &rtx, "ssrc"))
		return FALSE;
	if (m->rtx_ssrc == 0 && (m->ssrc == 0 || m->ssrc == primary || m->ssrc == rtx)) {
		m->ssrc = primary;
		m->rtx_ssrc = rtx;
	}
	return TRUE;
}

static gboolean attr_msid(KtSdpParser *p, const char *name, const char *value)
{
	if (p->media == NULL || value == NULL)
		return TRUE;
	/* a=msid wins over the older a=ssrc msid: form (RFC 8830 §2). */
	return copy_field(p, p->media->msid, sizeof p->media->msid, value, "a=msid");
}

/* a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
 * (RFC 8839 §5.1). Kept whole for the ICE agent; only its shape is checked here. */
static gboolean attr_candidate(KtSdpParser *p, const char *name, const char *value)
{
	if (p->media == NULL)
		return TRUE;
	guint n;
	g_auto(GStrv) tokens = split_tokens(value != NULL ? value : "", &n);
	if (n < 8 || strcmp(tokens[6], "typ") != 0)
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "a=candidate is incomplete");
	g_ptr_array_add(p->media->candidates, g_strconcat("candidate:", value, NULL));
	return TRUE;
}

/* a=rid and a=simulcast (kt-sdp-simulcast.c); session-level ones mean nothing. */
static gboolean attr_simulcast(KtSdpParser *p, const char *name, const char *value)
{
	g_autoptr(GError) e = NULL;
	if (p->media == NULL)
		return TRUE;
	if (strcmp(name, "rid") == 0 ? kt_sdp_rid_parse(p->media, value, &e)
	                             : kt_sdp_simulcast_parse(p->media, value, &e))
		return TRUE;
	return parser_fail(p, e->code, "%s", e->message);
}

static const struct {
	const char *name;
	KtSdpAttrFunc parse;
} attr_table[] = {
    {"group", attr_group},
    {"mid", attr_mid},
    {"sendrecv", attr_direction},
    {"sendonly", attr_direction},
    {"recvonly", attr_direction},
    {"inactive", attr_direction},
    {"rtcp-mux", attr_flag},
    {"rtcp-rsize", attr_flag},
    {"bundle-only", attr_flag},
    {"end-of-candidates", attr_flag},
    {"ice-ufrag", attr_ice},
    {"ice-pwd", attr_ice},
    {"fingerprint", attr_fingerprint},
    {"setup", attr_setup},
    {"rtpmap", attr_rtpmap},
    {"fmtp", attr_fmtp},
    {"rtcp-fb", attr_rtcp_fb},
    {"extmap", attr_extmap},
    {"ssrc", attr_ssrc},
    {"ssrc-group", attr_ssrc_group},
    {"msid", attr_msid},
    {"candidate", attr_candidate},
    {"rid", attr_simulcast},
    {"simulcast", attr_simulcast},
};

static gboolean parse_attribute(KtSdpParser *p, char *attr)
{
	char *colon = strchr(attr, ':');
	const char *value = NULL;
	if (colon != NULL) {
		*colon = '\0';
		value = colon + 1;
	}
	for (guint i = 0; i < G_N_ELEMENTS(attr_table); i++)
		if (strcmp(attr, attr_table[i].name) == 0)
			return attr_table[i].parse(p, attr, value);
	return TRUE; /* unknown attributes are ignored (RFC 8866 §5.13) */
}

/* One line without its line end. Returns FALSE with the error set. */
static gboolean parse_line(KtSdpParser *p, char *line)
{
	if (line[0] < 'a' || line[0] > 'z' || line[1] != '=')
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "expected \"<letter>=<value>\"");
	char type = line[0];
	char *value = line + 2;
	if (p->line_no == 1 && (type != 'v' || strcmp(value, "0") != 0))
		return parser_fail(p, KT_SDP_ERROR_MALFORMED, "an SDP starts with \"v=0\"");
	switch (type) {
	case 'o':
		p->seen_o = TRUE;
		return TRUE;
	case 's':
		p->seen_s = TRUE;
		return TRUE;
	case 't':
		p->seen_t = TRUE;
		return TRUE;
	case 'm':
		return parse_m_line(p, value);
	case 'a':
		return parse_attribute(p, value);
	default:
		return TRUE; /* v, c, b, i, ...: nothing Ketang uses */
	}
}

static gboolean check_line_bytes(KtSdpParser *p, const char *line, gsize len)
{
	if (len > KT_SDP_MAX_LINE)
		return parser_fail(p, KT_SDP_ERROR_TOO_LARGE, "line longer than %d bytes",
		                   KT_SDP_MAX_LINE);
	for (gsize i = 0; i < len; i++) {
		guchar c = line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return parser_fail(p, KT_SDP_ERROR_MALFORMED,
			                   "control byte 0x%02x at column %" G_GSIZE_FORMAT, c,
			                   i + 1);
	}
	return TRUE;
}

static gboolean parse_lines(KtSdpParser *p, const char *text, gsize len)
{
	char line[KT_SDP_MAX_LINE + 1];
	const char *end = text + len;
	const char *pos = text;
	while (pos < end) {
		const char *nl = memchr(pos, '\n', end - pos);
		const char *line_end = nl != NULL ? nl : end;
		gsize line_len = line_end - pos;
		/* CRLF or LF; trailing blanks some writers leave are dropped too. */
		while (line_len > 0 && (pos[line_len - 1] == '\r' || pos[line_len - 1] == ' ' ||
		                        pos[line_len - 1] == '\t'))
			line_len--;
		p->line_no++;
		if (!check_line_bytes(p, pos, line_len))
			return FALSE;
		memcpy(line, pos, line_len);
		line[line_len] = '\0';
		pos = nl != NULL ? nl + 1 : end;
		if (line_len == 0 && p->line_no > 1)
			continue; /* tolerate blank lines, e.g. a doubled line end at the end */
		if (!parse_line(p, line))
			return FALSE;
	}
	return TRUE;
}

/* Payload types 0-95 may be used without a=rtpmap (RFC 3551 §6). */
static void codec_fill_static(KtSdpCodec *c)
{
	static const struct {
		guint8 pt;
		const char *name;
	} statics[] = {{0, "PCMU"}, {8, "PCMA"}, {9, "G722"}, {13, "CN"}};
	if (c->name[0] != '\0')
		return;
	for (guint i = 0; i < G_N_ELEMENTS(statics); i++) {
		if (statics[i].pt == c->pt) {
			g_strlcpy(c->name, statics[i].name, sizeof c->name);
			c->clock_rate = 8000;
		}
	}
}

/* Pairs each "rtx" payload type with its primary through fmtp apt= (RFC 4588 §8.1). */
static void media_pair_rtx(KtSdpMedia *m)
{
	for (guint i = 0; i < m->n_codecs; i++) {
		KtSdpCodec *rtx = &m->codecs[i];
		char apt[8];
		guint64 pt;
		if (g_ascii_strcasecmp(rtx->name, "rtx") != 0 ||
		    !kt_sdp_fmtp_get(rtx->fmtp, "apt", apt, sizeof apt) ||
		    !g_ascii_string_to_unsigned(apt, 10, 0, 127, &pt, NULL))
			continue;
		KtSdpCodec *primary = find_codec(m, pt);
		if (primary != NULL && primary != rtx && primary->rtx_pt == 0)
			primary->rtx_pt = rtx->pt;
	}
}

/* Fills what a media section inherits from the session (RFC 8866 §5, RFC 8839 §5.4,
 * RFC 8122 §5, RFC 4145 §4) and derives codec defaults. */
static void media_finish(KtSdpParser *p, guint index)
{
	KtSdp *sdp = p->sdp;
	KtSdpMedia *m = &sdp->media[index];
	if (!p->direction_set[index])
		m->direction = sdp->direction;
	if (m->ice_ufrag[0] == '\0')
		g_strlcpy(m->ice_ufrag, sdp->ice_ufrag, sizeof m->ice_ufrag);
	if (m->ice_pwd[0] == '\0')
		g_strlcpy(m->ice_pwd, sdp->ice_pwd, sizeof m->ice_pwd);
	if (m->fingerprint[0] == '\0') {
		g_strlcpy(m->fingerprint_alg, sdp->fingerprint_alg, sizeof m->fingerprint_alg);
		g_strlcpy(m->fingerprint, sdp->fingerprint, sizeof m->fingerprint);
	}
	if (m->setup[0] == '\0')
		g_strlcpy(m->setup, sdp->setup, sizeof m->setup);
	for (guint i = 0; i < m->n_codecs; i++) {
		KtSdpCodec *c = &m->codecs[i];
		codec_fill_static(c);
		if (m->kind == KT_SDP_MEDIA_AUDIO && c->channels == 0)
			c->channels = 1;
	}
	media_pair_rtx(m);
}

KtSdp *kt_sdp_parse(const char *text, gsize len, GError **error)
{
	g_return_val_if_fail(text != NULL || len == 0, NULL);
	if (len > KT_SDP_MAX_SIZE) {
		g_set_error(error, KT_SDP_ERROR, KT_SDP_ERROR_TOO_LARGE,
		            "SDP of %" G_GSIZE_FORMAT " bytes (limit %d)", len, KT_SDP_MAX_SIZE);
		return NULL;
	}
	if (len == 0 || !g_utf8_validate_len(text, len, NULL)) {
		g_set_error(error, KT_SDP_ERROR, KT_SDP_ERROR_MALFORMED,
		            len == 0 ? "empty SDP" : "SDP is not UTF-8 text");
		return NULL;
	}
	g_autoptr(KtSdp) sdp = g_new0(KtSdp, 1);
	KtSdpParser p = {.sdp = sdp, .error = error};
	if (!parse_lines(&p, text, len))
		return NULL;
	if (!p.seen_o || !p.seen_s || !p.seen_t) {
		g_set_error(error, KT_SDP_ERROR, KT_SDP_ERROR_MALFORMED,
		            "SDP lacks its %s line (RFC 8866 §5)",
		            !p.seen_o   ? "o="
		            : !p.seen_s ? "s="
		                        : "t=");
		return NULL;
	}
	for (guint i = 0; i < sdp->n_media; i++) {
		media_finish(&p, i);
		if (!kt_sdp_simulcast_check(&sdp->media[i], error))
			return NULL;
	}
	return g_steal_pointer(&sdp);
}

void kt_sdp_free(KtSdp *sdp)
{
	if (sdp == NULL)
		return;
	for (guint i = 0; i < sdp->n_media; i++) {
		g_free(sdp->media[i].codecs);
		g_free(sdp->media[i].extmaps);
		g_ptr_array_unref(sdp->media[i].candidates);
	}
	g_free(sdp->bundle_group);
	g_strfreev(sdp->bundle_mids);
	g_free(sdp);
}

guint kt_sdp_get_n_media(const KtSdp *sdp)
{
	return sdp->n_media;
}

const KtSdpMedia *kt_sdp_get_media(const KtSdp *sdp, guint i)
{
	return i < sdp->n_media ? &sdp->media[i] : NULL;
}

const KtSdpMedia *kt_sdp_find_media(const KtSdp *sdp, const char *mid)
{
	for (guint i = 0; mid != NULL && i < sdp->n_media; i++)
		if (strcmp(sdp->media[i].mid, mid) == 0)
			return &sdp->media[i];
	return NULL;
}

const char *kt_sdp_get_bundle_group(const KtSdp *sdp)
{
	return sdp->bundle_group;
}

const char *kt_sdp_get_bundle_tag(const KtSdp *sdp)
{
	return sdp->bundle_mids != NULL ? sdp->bundle_mids[0] : NULL;
}

gboolean kt_sdp_mid_is_bundled(const KtSdp *sdp, const char *mid)
{
	if (mid == NULL || mid[0] == '\0' || sdp->bundle_mids == NULL)
		return FALSE;
	return g_strv_contains((const char *const *)sdp->bundle_mids, mid);
}

gboolean kt_sdp_fmtp_get(const char *fmtp, const char *key, char *value, gsize value_size)
{
	gsize key_len = strlen(key);
	const char *pos = fmtp;
	while (pos != NULL && *pos != '\0') {
		while (*pos == ' ' || *pos == ';')
			pos++;
		const char *next = strchr(pos, ';');
		gsize item_len = next != NULL ? (gsize)(next - pos) : strlen(pos);
		if (item_len > key_len && pos[key_len] == '=' &&
		    g_ascii_strncasecmp(pos, key, key_len) == 0) {
			gsize n = MIN(item_len - key_len - 1, value_size - 1);
			memcpy(value, pos + key_len + 1, n);
			value[n] = '\0';
			return TRUE;
		}
		pos = next;
	}
	return FALSE;
}
