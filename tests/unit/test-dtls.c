/* KtCert, KtDtls and KtSrtp: two peers back to back in one process. */
#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>

#include "kt-cert-private.h"
#include "kt-dtls.h"
#include "kt-srtp.h"

/* --- certificates --- */

static void assert_fingerprint_format(const char *fp)
{
	g_assert_nonnull(fp);
	g_assert_cmpuint(strlen(fp), ==, 95);
	for (gsize i = 0; i < 95; i++) {
		if (i % 3 == 2)
			g_assert_cmpint(fp[i], ==, ':');
		else
			g_assert_true(g_ascii_isdigit(fp[i]) || (fp[i] >= 'A' && fp[i] <= 'F'));
	}
}

static void test_cert_generate(void)
{
	const char *names[] = {"ketang.example", "127.0.0.1", "::1", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(KtCert) a = kt_cert_new_ecdsa("ketang", 30, names, &error);
	g_autoptr(KtCert) b = NULL;
	GENERAL_NAMES *gens;

	g_assert_no_error(error);
	assert_fingerprint_format(kt_cert_get_fingerprint(a));
	g_assert_cmpint(X509_get_signature_nid(kt_cert_get_x509(a)), ==, NID_ecdsa_with_SHA256);
	g_assert_cmpint(EVP_PKEY_get_bits(kt_cert_get_pkey(a)), ==, 256);
	gens = X509_get_ext_d2i(kt_cert_get_x509(a), NID_subject_alt_name, NULL, NULL);
	g_assert_nonnull(gens);
	g_assert_cmpint(sk_GENERAL_NAME_num(gens), ==, 3);
	g_assert_cmpint(sk_GENERAL_NAME_value(gens, 0)->type, ==, GEN_DNS);
	g_assert_cmpint(sk_GENERAL_NAME_value(gens, 1)->type, ==, GEN_IPADD);
	g_assert_cmpint(sk_GENERAL_NAME_value(gens, 2)->type, ==, GEN_IPADD);
	GENERAL_NAMES_free(gens);

	/* Fresh key and serial every time. */
	b = kt_cert_new_ecdsa("ketang", 30, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(kt_cert_get_fingerprint(a), !=, kt_cert_get_fingerprint(b));
	g_assert_true(kt_cert_ref(b) == b);
	kt_cert_unref(b);
}

static void test_cert_invalid(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(kt_cert_new_ecdsa("", 30, NULL, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_null(kt_cert_new_ecdsa("x", 0, NULL, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_INVALID);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
	char *path = g_build_filename(dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static void test_cert_pem(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("kt-cert-XXXXXX", &error);
	g_autofree char *cert_path = g_build_filename(dir, "cert.pem", NULL);
	g_autofree char *key_path = g_build_filename(dir, "key.pem", NULL);
	g_autofree char *other_key = g_build_filename(dir, "other-key.pem", NULL);
	g_autofree char *other_cert = g_build_filename(dir, "other-cert.pem", NULL);
	g_autofree char *junk = write_tmp(dir, "junk.pem", "not a certificate\n");
	g_autofree char *pem = NULL;
	g_autofree char *truncated = NULL;
	g_autoptr(KtCert) a = kt_cert_new_ecdsa("a", 1, NULL, &error);
	g_autoptr(KtCert) b = kt_cert_new_ecdsa("b", 1, NULL, &error);
	g_autoptr(KtCert) loaded = NULL;
	GStatBuf st;

	g_assert_no_error(error);
	g_assert_true(kt_cert_save_pem(a, cert_path, key_path, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_stat(key_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	loaded = kt_cert_load_pem(cert_path, key_path, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(kt_cert_get_fingerprint(loaded), ==, kt_cert_get_fingerprint(a));
	/* Saving again replaces the files. */
	g_assert_true(kt_cert_save_pem(b, other_cert, other_key, &error));
	g_assert_true(kt_cert_save_pem(a, cert_path, key_path, &error));

	g_assert_null(kt_cert_load_pem(cert_path, other_key, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_MISMATCH);
	g_clear_error(&error);
	g_assert_null(kt_cert_load_pem("/nonexistent/cert.pem", key_path, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_IO);
	g_clear_error(&error);
	g_assert_null(kt_cert_load_pem(junk, key_path, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_CRYPTO);
	g_clear_error(&error);
	g_assert_null(kt_cert_load_pem(cert_path, junk, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_CRYPTO);
	g_clear_error(&error);
	/* A certificate cut in half. */
	g_assert_true(g_file_get_contents(cert_path, &pem, NULL, NULL));
	pem[strlen(pem) / 2] = '\0';
	truncated = write_tmp(dir, "truncated.pem", pem);
	g_assert_null(kt_cert_load_pem(truncated, key_path, &error));
	g_assert_error(error, KT_CERT_ERROR, KT_CERT_ERROR_CRYPTO);

	for (const char *const *f = (const char *const[]){cert_path, key_path, other_cert,
	                                                  other_key, junk, truncated, NULL};
	     *f != NULL; f++)
		g_remove(*f);
	g_rmdir(dir);
}

/* --- two DTLS peers wired through idle sources on a private context --- */

typedef enum {
	GARBAGE_NONE,
	GARBAGE_RANDOM,    /* random bytes */
	GARBAGE_DTLS_LIKE, /* a valid record header around a random handshake body */
	GARBAGE_FORGED,    /* a well-formed handshake fragment with random type and contents */
} Garbage;

typedef struct Side Side;
struct Side {
	Side *peer;
	GMainContext *ctx;
	KtCert *cert;
	KtDtls *dtls;
	KtDtlsState state;
	GError *error;
	guint drop_after; /* outgoing datagrams to pass before dropping */
	guint drop;       /* outgoing datagrams still to drop after those */
	guint sent;
	gsize max_len;   /* largest datagram sent */
	Garbage garbage; /* what to inject before each datagram this side receives */
};

typedef struct {
	GMainContext *ctx;
	Side client, server;
} Pair;

typedef struct {
	Side *to;
	GBytes *bytes;
} Delivery;

static void delivery_free(gpointer data)
{
	Delivery *dl = data;

	g_bytes_unref(dl->bytes);
	g_free(dl);
}

static void inject_garbage(Side *s)
{
	guint8 junk[300];
	gsize len = g_random_int_range(1, sizeof junk);

	for (gsize i = 0; i < len; i++)
		junk[i] = g_random_int_range(0, 256);
	if (s->garbage != GARBAGE_RANDOM && len > 13 + 12) {
		/* A record header that passes the record layer (RFC 6347 §4.1): handshake type,
		 * DTLS 1.2, epoch 0, a small sequence number, a length that matches. */
		junk[0] = 22;
		junk[1] = 0xfe;
		junk[2] = 0xfd;
		junk[3] = junk[4] = 0;
		memset(junk + 5, 0, 5);
		junk[10] = g_random_int_range(0, 16); /* a plausible sequence number */
		junk[11] = (len - 13) >> 8;
		junk[12] = (len - 13) & 0xff;
	}
	if (s->garbage == GARBAGE_FORGED && len > 13 + 12) {
		/* One whole handshake message (RFC 6347 §4.2.2): random msg_type [13] and body,
		 * length [14..16] = fragment_length [22..24], message_seq [17..18] 0..3,
		 * fragment_offset [19..21] 0. */
		gsize body = len - 13 - 12;

		junk[14] = junk[22] = 0;
		junk[15] = junk[23] = body >> 8;
		junk[16] = junk[24] = body & 0xff;
		junk[17] = 0;
		junk[18] = g_random_int_range(0, 4);
		junk[19] = junk[20] = junk[21] = 0;
	}
	kt_dtls_handle_datagram(s->dtls, junk, len);
}

static gboolean deliver(gpointer data)
{
	Delivery *dl = data;
	gsize len;
	const guint8 *p = g_bytes_get_data(dl->bytes, &len);

	if (dl->to->dtls == NULL)
		return G_SOURCE_REMOVE;
	if (dl->to->garbage != GARBAGE_NONE)
		inject_garbage(dl->to);
	kt_dtls_handle_datagram(dl->to->dtls, p, len);
	return G_SOURCE_REMOVE;
}

static void on_send(const guint8 *data, gsize len, gpointer user_data)
{
	Side *s = user_data;
	Delivery *dl;
	GSource *src;

	s->sent++;
	s->max_len = MAX(s->max_len, len);
	if (s->sent > s->drop_after && s->drop > 0) {
		s->drop--;
		return;
	}
	dl = g_new0(Delivery, 1);
	dl->to = s->peer;
	dl->bytes = g_bytes_new(data, len);
	src = g_idle_source_new();
	g_source_set_callback(src, deliver, dl, delivery_free);
	g_source_attach(src, s->ctx);
	g_source_unref(src);
}

static void on_state(KtDtlsState state, const GError *error, gpointer user_data)
{
	Side *s = user_data;

	s->state = state;
	if (error != NULL && s->error == NULL)
		s->error = g_error_copy(error);
	if (state == KT_DTLS_STATE_FAILED)
		g_assert_nonnull(error);
}

static KtDtls *side_new(Side *s, KtDtlsRole role, const char *remote_fp, const char *profiles,
                        guint timeout_ms)
{
	g_autoptr(GError) error = NULL;
	KtDtlsConfig cfg = {
	    .cert = s->cert,
	    .role = role,
	    .remote_fingerprint = remote_fp,
	    .srtp_profiles = profiles,
	    .context = s->ctx,
	    .send = on_send,
	    .state_changed = on_state,
	    .user_data = s,
	    .handshake_timeout_ms = timeout_ms,
	};
	KtDtls *d = kt_dtls_new(&cfg, &error);

	g_assert_no_error(error);
	g_assert_nonnull(d);
	return d;
}

static void pair_init(Pair *p, const char *client_profiles, const char *server_profiles,
                      const char *client_sees_fp, const char *server_sees_fp, guint timeout_ms)
{
	memset(p, 0, sizeof *p);
	p->ctx = g_main_context_new();
	p->client.ctx = p->server.ctx = p->ctx;
	p->client.peer = &p->server;
	p->server.peer = &p->client;
	p->client.cert = kt_cert_new_ecdsa("client", 1, NULL, NULL);
	p->server.cert = kt_cert_new_ecdsa("server", 1, NULL, NULL);
	g_assert_nonnull(p->client.cert);
	g_assert_nonnull(p->server.cert);
	p->client.dtls =
	    side_new(&p->client, KT_DTLS_ROLE_CLIENT,
	             client_sees_fp ? client_sees_fp : kt_cert_get_fingerprint(p->server.cert),
	             client_profiles, timeout_ms);
	p->server.dtls =
	    side_new(&p->server, KT_DTLS_ROLE_SERVER,
	             server_sees_fp ? server_sees_fp : kt_cert_get_fingerprint(p->client.cert),
	             server_profiles, timeout_ms);
}

static void side_clear(Side *s)
{
	g_clear_pointer(&s->dtls, kt_dtls_free);
	g_clear_pointer(&s->cert, kt_cert_unref);
	g_clear_error(&s->error);
}

static void pair_clear(Pair *p)
{
	side_clear(&p->client);
	side_clear(&p->server);
	/* Destroys pending deliveries (their destroy notify frees the datagrams). */
	g_main_context_unref(p->ctx);
}

static bool is_terminal(KtDtlsState s)
{
	return s == KT_DTLS_STATE_CONNECTED || s == KT_DTLS_STATE_FAILED ||
	       s == KT_DTLS_STATE_CLOSED;
}

static gboolean set_flag(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Iterates @ctx until both sides are past CONNECTING, or @ms elapse. */
static void run_until_settled(GMainContext *ctx, Side *a, Side *b, guint ms)
{
	gboolean expired = FALSE;
	GSource *guard = g_timeout_source_new(ms);

	g_source_set_callback(guard, set_flag, &expired, NULL);
	g_source_attach(guard, ctx);
	while (!expired && !(is_terminal(a->state) && (b == NULL || is_terminal(b->state))))
		g_main_context_iteration(ctx, TRUE);
	/* Let in-flight datagrams (alerts, final flight) land. */
	while (g_main_context_iteration(ctx, FALSE))
		;
	g_source_destroy(guard);
	g_source_unref(guard);
}

static void connect_pair(Pair *p)
{
	kt_dtls_start(p->server.dtls);
	kt_dtls_start(p->client.dtls);
	run_until_settled(p->ctx, &p->client, &p->server, 10000);
	g_assert_no_error(p->client.error);
	g_assert_no_error(p->server.error);
	g_assert_cmpint(p->client.state, ==, KT_DTLS_STATE_CONNECTED);
	g_assert_cmpint(p->server.state, ==, KT_DTLS_STATE_CONNECTED);
}

/* --- SRTP across the pair --- */

#define PACKET_WORDS 64 /* 256 bytes, 4-byte aligned as libsrtp wants */

static gsize make_rtp(guint32 *words, guint16 seq, guint32 ssrc)
{
	guint8 *b = (guint8 *)words;

	memset(words, 0, PACKET_WORDS * 4);
	b[0] = 0x80;
	b[1] = 96;
	b[2] = seq >> 8;
	b[3] = seq & 0xff;
	b[7] = 0x10;
	b[8] = ssrc >> 24;
	b[9] = (ssrc >> 16) & 0xff;
	b[10] = (ssrc >> 8) & 0xff;
	b[11] = ssrc & 0xff;
	for (gsize i = 12; i < 112; i++)
		b[i] = (guint8)i;
	return 112;
}

static gsize make_rtcp_sr(guint32 *words, guint32 ssrc)
{
	guint8 *b = (guint8 *)words;

	memset(words, 0, PACKET_WORDS * 4);
	b[0] = 0x80;
	b[1] = 200; /* SR */
	b[3] = 6;   /* length in words minus one: 28 bytes */
	b[4] = ssrc >> 24;
	b[7] = ssrc & 0xff;
	for (gsize i = 8; i < 28; i++)
		b[i] = (guint8)i;
	return 28;
}

static void check_rtp(KtSrtp *tx, KtSrtp *rx, guint32 ssrc)
{
	guint32 words[PACKET_WORDS], plain[PACKET_WORDS];
	gsize len = make_rtp(words, 1000, ssrc);
	int n;

	memcpy(plain, words, sizeof plain);
	n = kt_srtp_protect_rtp(tx, (guint8 *)words, len, sizeof words);
	g_assert_cmpint(n, >, (int)len);
	g_assert_cmpint(n, <=, (int)len + KT_SRTP_MAX_TRAILER);
	g_assert_true(memcmp(words, plain, len) != 0);
	n = kt_srtp_unprotect_rtp(rx, (guint8 *)words, n);
	g_assert_cmpint(n, ==, (int)len);
	g_assert_true(memcmp(words, plain, len) == 0);

	/* A flipped payload bit must not authenticate. */
	len = make_rtp(words, 1001, ssrc);
	n = kt_srtp_protect_rtp(tx, (guint8 *)words, len, sizeof words);
	g_assert_cmpint(n, >, 0);
	((guint8 *)words)[40] ^= 0x01;
	g_assert_cmpint(kt_srtp_unprotect_rtp(rx, (guint8 *)words, n), ==, KT_SRTP_ERR_AUTH);
}

static void check_rtcp(KtSrtp *tx, KtSrtp *rx, guint32 ssrc)
{
	guint32 words[PACKET_WORDS], plain[PACKET_WORDS];
	gsize len = make_rtcp_sr(words, ssrc);
	int n;

	memcpy(plain, words, sizeof plain);
	n = kt_srtp_protect_rtcp(tx, (guint8 *)words, len, sizeof words);
	g_assert_cmpint(n, >, (int)len);
	g_assert_cmpint(n, <=, (int)len + KT_SRTP_MAX_TRAILER);
	n = kt_srtp_unprotect_rtcp(rx, (guint8 *)words, n);
	g_assert_cmpint(n, ==, (int)len);
	g_assert_true(memcmp(words, plain, len) == 0);

	len = make_rtcp_sr(words, ssrc);
	n = kt_srtp_protect_rtcp(tx, (guint8 *)words, len, sizeof words);
	g_assert_cmpint(n, >, 0);
	((guint8 *)words)[n - 1] ^= 0x80; /* last byte of the tag */
	g_assert_cmpint(kt_srtp_unprotect_rtcp(rx, (guint8 *)words, n), ==, KT_SRTP_ERR_AUTH);
}

static void check_keys_mirror(const KtSrtpKeys *c, const KtSrtpKeys *s, KtSrtpProfile profile)
{
	g_assert_cmpint(c->profile, ==, profile);
	g_assert_cmpint(s->profile, ==, profile);
	g_assert_cmpuint(c->key_len, ==, 16);
	g_assert_cmpuint(c->salt_len, ==, profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14);
	g_assert_true(memcmp(c->local_key, s->remote_key, 16) == 0);
	g_assert_true(memcmp(c->remote_key, s->local_key, 16) == 0);
	g_assert_true(memcmp(c->local_salt, s->remote_salt, c->salt_len) == 0);
	g_assert_true(memcmp(c->remote_salt, s->local_salt, c->salt_len) == 0);
	g_assert_true(memcmp(c->local_key, c->remote_key, 16) != 0);
}

static void run_profile(const char *profiles, KtSrtpProfile expected)
{
	g_autoptr(GError) error = NULL;
	KtSrtpKeys ck, sk;
	KtSrtp *c, *s;
	Pair p;

	pair_init(&p, profiles, profiles, NULL, NULL, 0);
	connect_pair(&p);
	/* Every flight fits the 1200-byte link MTU. */
	g_assert_cmpuint(p.client.max_len, <=, 1200);
	g_assert_cmpuint(p.server.max_len, <=, 1200);
	g_assert_true(kt_dtls_get_srtp_keys(p.client.dtls, &ck));
	g_assert_true(kt_dtls_get_srtp_keys(p.server.dtls, &sk));
	check_keys_mirror(&ck, &sk, expected);
	/* DTLS 1.2 only, and ECDHE with an AEAD cipher between two Ketang ends
	 * (docs/security.md). */
	g_assert_cmpstr(kt_dtls_get_version(p.client.dtls), ==, "DTLSv1.2");
	g_assert_cmpstr(kt_dtls_get_version(p.server.dtls), ==, "DTLSv1.2");
	g_assert_cmpstr(kt_dtls_get_cipher(p.server.dtls), ==, "ECDHE-ECDSA-AES128-GCM-SHA256");

	c = kt_srtp_new(&ck, &error);
	g_assert_no_error(error);
	s = kt_srtp_new(&sk, &error);
	g_assert_no_error(error);
	check_rtp(c, s, 0x11111111);
	check_rtp(s, c, 0x22222222);
	check_rtcp(c, s, 0x11111111);
	check_rtcp(s, c, 0x22222222);
	kt_srtp_free(c);
	kt_srtp_free(s);
	pair_clear(&p);
}

static void test_dtls_gcm(void)
{
	run_profile("SRTP_AEAD_AES_128_GCM", KT_SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_dtls_cm(void)
{
	run_profile("SRTP_AES128_CM_SHA1_80", KT_SRTP_PROFILE_AES128_CM_SHA1_80);
}

static void test_dtls_default_profiles(void)
{
	run_profile(NULL, KT_SRTP_PROFILE_AEAD_AES_128_GCM);
}

static void test_dtls_fingerprint_mismatch(void)
{
	g_autoptr(KtCert) stranger = kt_cert_new_ecdsa("stranger", 1, NULL, NULL);
	Pair p;

	/* The client expects someone else's certificate. */
	pair_init(&p, NULL, NULL, kt_cert_get_fingerprint(stranger), NULL, 0);
	kt_dtls_start(p.server.dtls);
	kt_dtls_start(p.client.dtls);
	run_until_settled(p.ctx, &p.client, &p.server, 10000);
	g_assert_cmpint(p.client.state, ==, KT_DTLS_STATE_FAILED);
	g_assert_error(p.client.error, KT_DTLS_ERROR, KT_DTLS_ERROR_FINGERPRINT);
	g_assert_nonnull(strstr(p.client.error->message, "fingerprint"));
	/* The server hears a bad_certificate alert. */
	g_assert_cmpint(p.server.state, ==, KT_DTLS_STATE_FAILED);
	g_test_message("client: %s; server: %s", p.client.error->message, p.server.error->message);
	g_assert_false(kt_dtls_get_srtp_keys(p.client.dtls, &(KtSrtpKeys){0}));
	pair_clear(&p);

	/* Same, the server side checking (lowercase form of a wrong fingerprint). */
	g_autofree char *lower = g_ascii_strdown(kt_cert_get_fingerprint(stranger), -1);
	pair_init(&p, NULL, NULL, NULL, lower, 0);
	kt_dtls_start(p.server.dtls);
	kt_dtls_start(p.client.dtls);
	run_until_settled(p.ctx, &p.client, &p.server, 10000);
	g_assert_cmpint(p.server.state, ==, KT_DTLS_STATE_FAILED);
	g_assert_error(p.server.error, KT_DTLS_ERROR, KT_DTLS_ERROR_FINGERPRINT);
	g_assert_cmpint(p.client.state, ==, KT_DTLS_STATE_FAILED);
	pair_clear(&p);
}

static void test_dtls_lowercase_fingerprint(void)
{
	g_autofree char *lower = NULL;
	Pair p;

	pair_init(&p, NULL, NULL, NULL, NULL, 0);
	lower = g_ascii_strdown(kt_cert_get_fingerprint(p.server.cert), -1);
	kt_dtls_free(p.client.dtls);
	p.client.dtls = side_new(&p.client, KT_DTLS_ROLE_CLIENT, lower, NULL, 0);
	connect_pair(&p);
	pair_clear(&p);
}

static void test_dtls_no_common_profile(void)
{
	Pair p;

	pair_init(&p, "SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_SHA1_80", NULL, NULL, 0);
	kt_dtls_start(p.server.dtls);
	kt_dtls_start(p.client.dtls);
	run_until_settled(p.ctx, &p.client, &p.server, 10000);
	g_assert_cmpint(p.client.state, ==, KT_DTLS_STATE_FAILED);
	g_assert_error(p.client.error, KT_DTLS_ERROR, KT_DTLS_ERROR_NO_SRTP);
	g_assert_cmpint(p.server.state, !=, KT_DTLS_STATE_CONNECTED);
	g_test_message("no common profile: server %s (%s)", kt_dtls_state_to_string(p.server.state),
	               p.server.error ? p.server.error->message : "no error");
	pair_clear(&p);
}

static void test_dtls_garbage(void)
{
	Pair p;

	/* Random bytes (mostly not even DTLS by their first byte): the handshake completes. */
	pair_init(&p, NULL, NULL, NULL, NULL, 0);
	p.client.garbage = p.server.garbage = GARBAGE_RANDOM;
	connect_pair(&p);
	/* After the handshake garbage is dropped too. */
	for (int i = 0; i < 200; i++) {
		inject_garbage(&p.client);
		inject_garbage(&p.server);
	}
	kt_dtls_handle_datagram(p.client.dtls, NULL, 0);
	kt_dtls_handle_datagram(p.client.dtls, (const guint8 *)"\x16", 1);
	g_assert_cmpint(kt_dtls_get_state(p.client.dtls), ==, KT_DTLS_STATE_CONNECTED);
	g_assert_cmpint(kt_dtls_get_state(p.server.dtls), ==, KT_DTLS_STATE_CONNECTED);
	pair_clear(&p);

	/* Random handshake bodies inside valid record headers are screened out too. */
	pair_init(&p, NULL, NULL, NULL, NULL, 0);
	p.client.garbage = p.server.garbage = GARBAGE_DTLS_LIKE;
	connect_pair(&p);
	pair_clear(&p);

	/* Well-formed but bogus handshake messages reach OpenSSL. In plaintext epoch 0 they can
	 * abort the handshake or stall it (a forged message takes the place of the real one with
	 * its message_seq), as in any DTLS stack; either way it must end cleanly: completed,
	 * failed, or timed out. */
	for (int round = 0; round < 5; round++) {
		pair_init(&p, NULL, NULL, NULL, NULL, 2000);
		p.client.garbage = p.server.garbage = GARBAGE_FORGED;
		kt_dtls_start(p.server.dtls);
		kt_dtls_start(p.client.dtls);
		run_until_settled(p.ctx, &p.client, &p.server, 10000);
		g_test_message(
		    "forged handshake messages, round %d: client %s (%s), server %s (%s)", round,
		    kt_dtls_state_to_string(p.client.state),
		    p.client.error ? p.client.error->message : "no error",
		    kt_dtls_state_to_string(p.server.state),
		    p.server.error ? p.server.error->message : "no error");
		g_assert_true(is_terminal(p.client.state));
		g_assert_true(is_terminal(p.server.state));
		pair_clear(&p);
	}
}

static void test_dtls_retransmit(void)
{
	guint server_sent;
	Pair p;

	/* The first ClientHello is lost; the retransmission timer (1 s) resends it. */
	pair_init(&p, NULL, NULL, NULL, NULL, 0);
	p.client.drop = 1;
	connect_pair(&p);
	g_assert_cmpuint(p.client.sent, >=, 3);
	server_sent = p.server.sent;
	pair_clear(&p);

	/* The server's last datagram (its Finished) is lost: the server is CONNECTED already,
	 * the client retransmits its final flight and the server must answer it
	 * (RFC 6347 §4.2.4). */
	pair_init(&p, NULL, NULL, NULL, NULL, 0);
	p.server.drop_after = server_sent - 1;
	p.server.drop = 1;
	connect_pair(&p);
	g_assert_cmpuint(p.server.sent, >, server_sent);
	pair_clear(&p);
}

static void test_dtls_timeout(void)
{
	GMainContext *ctx = g_main_context_new();
	Side s = {.ctx = ctx, .cert = kt_cert_new_ecdsa("lonely", 1, NULL, NULL)};
	Side nobody = {.ctx = ctx};

	s.peer = &nobody;
	s.dtls = side_new(&s, KT_DTLS_ROLE_CLIENT, kt_cert_get_fingerprint(s.cert), NULL, 300);
	kt_dtls_start(s.dtls);
	g_assert_cmpint(s.state, ==, KT_DTLS_STATE_CONNECTING);
	run_until_settled(ctx, &s, NULL, 5000);
	g_assert_cmpint(s.state, ==, KT_DTLS_STATE_FAILED);
	g_assert_error(s.error, KT_DTLS_ERROR, KT_DTLS_ERROR_TIMEOUT);
	side_clear(&s);
	g_main_context_unref(ctx);
}

static void test_dtls_close(void)
{
	Pair p;

	pair_init(&p, NULL, NULL, NULL, NULL, 0);
	connect_pair(&p);
	kt_dtls_close(p.client.dtls);
	g_assert_cmpint(p.client.state, ==, KT_DTLS_STATE_CLOSED);
	while (g_main_context_iteration(p.ctx, FALSE))
		;
	g_assert_cmpint(p.server.state, ==, KT_DTLS_STATE_CLOSED);
	g_assert_false(kt_dtls_get_srtp_keys(p.server.dtls, &(KtSrtpKeys){0}));
	/* Closing twice, or feeding a closed session, does nothing. */
	kt_dtls_close(p.client.dtls);
	inject_garbage(&p.client);
	g_assert_cmpint(p.client.state, ==, KT_DTLS_STATE_CLOSED);
	pair_clear(&p);
}

static void test_dtls_bad_config(void)
{
	g_autoptr(KtCert) cert = kt_cert_new_ecdsa("x", 1, NULL, NULL);
	const char *fp = kt_cert_get_fingerprint(cert);
	g_autofree char *short_fp = g_strndup(fp, 92);
	g_autofree char *bad_hex = g_strdup(fp);
	const struct {
		const char *fp, *profiles;
		KtCert *cert;
	} cases[] = {
	    {NULL, NULL, cert},
	    {"", NULL, cert},
	    {short_fp, NULL, cert},
	    {bad_hex, NULL, cert},
	    {fp, "SRTP_AES128_CM_SHA1_32", cert},
	    {fp, "NOT_A_PROFILE", cert},
	    {fp, "", cert},
	    {fp, NULL, NULL},
	};

	bad_hex[4] = 'G';
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		KtDtlsConfig cfg = {.cert = cases[i].cert,
		                    .remote_fingerprint = cases[i].fp,
		                    .srtp_profiles = cases[i].profiles,
		                    .send = on_send};

		g_assert_null(kt_dtls_new(&cfg, &error));
		g_assert_error(error, KT_DTLS_ERROR, KT_DTLS_ERROR_INVALID);
	}
	g_assert_cmpstr(kt_dtls_state_to_string(KT_DTLS_STATE_CONNECTED), ==, "connected");
	g_assert_cmpstr(kt_dtls_state_to_string(99), ==, "unknown");
}

/* --- SRTP on its own --- */

static KtSrtpKeys fixed_keys(KtSrtpProfile profile, bool swap)
{
	KtSrtpKeys k = {.profile = profile, .key_len = 16};

	k.salt_len = profile == KT_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
	memset(swap ? k.remote_key : k.local_key, 0x11, 16);
	memset(swap ? k.local_key : k.remote_key, 0x22, 16);
	memset(swap ? k.remote_salt : k.local_salt, 0x33, k.salt_len);
	memset(swap ? k.local_salt : k.remote_salt, 0x44, k.salt_len);
	return k;
}

static void test_srtp_bad_keys(void)
{
	g_autoptr(GError) error = NULL;
	KtSrtpKeys k = fixed_keys(KT_SRTP_PROFILE_AEAD_AES_128_GCM, false);

	k.salt_len = 14;
	g_assert_null(kt_srtp_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
	g_clear_error(&error);
	k = fixed_keys(KT_SRTP_PROFILE_AES128_CM_SHA1_80, false);
	k.key_len = 32;
	g_assert_null(kt_srtp_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
	g_clear_error(&error);
	k.profile = KT_SRTP_PROFILE_NONE;
	g_assert_null(kt_srtp_new(&k, &error));
	g_assert_error(error, KT_SRTP_ERROR, KT_SRTP_ERROR_INVALID);
}

static void test_srtp_packets(void)
{
	const KtSrtpProfile profiles[] = {KT_SRTP_PROFILE_AES128_CM_SHA1_80,
	                                  KT_SRTP_PROFILE_AEAD_AES_128_GCM};

	for (gsize i = 0; i < G_N_ELEMENTS(profiles); i++) {
		KtSrtpKeys ka = fixed_keys(profiles[i], false), kb = fixed_keys(profiles[i], true);
		KtSrtp *a = kt_srtp_new(&ka, NULL), *b = kt_srtp_new(&kb, NULL);
		guint32 words[PACKET_WORDS], copy[PACKET_WORDS];
		gsize len = make_rtp(words, 7, 0xabcdef01);
		int n;

		g_assert_nonnull(a);
		g_assert_nonnull(b);
		/* Too little room for the tag, too short, absurd lengths. */
		g_assert_cmpint(kt_srtp_protect_rtp(a, (guint8 *)words, len, len + 4), ==,
		                KT_SRTP_ERR_PARAM);
		g_assert_cmpint(kt_srtp_protect_rtp(a, (guint8 *)words, 8, sizeof words), ==,
		                KT_SRTP_ERR_PARAM);
		g_assert_cmpint(kt_srtp_unprotect_rtp(b, (guint8 *)words, 11), ==,
		                KT_SRTP_ERR_PARAM);
		g_assert_cmpint(kt_srtp_unprotect_rtcp(b, (guint8 *)words, 4), ==,
		                KT_SRTP_ERR_PARAM);
		g_assert_cmpint(kt_srtp_unprotect_rtp(b, (guint8 *)words, 1u << 20), ==,
		                KT_SRTP_ERR_PARAM);

		n = kt_srtp_protect_rtp(a, (guint8 *)words, len, sizeof words);
		g_assert_cmpint(n, >, 0);
		memcpy(copy, words, sizeof copy);
		g_assert_cmpint(kt_srtp_unprotect_rtp(b, (guint8 *)words, n), ==, (int)len);
		/* The same packet again is a replay. */
		g_assert_cmpint(kt_srtp_unprotect_rtp(b, (guint8 *)copy, n), ==,
		                KT_SRTP_ERR_REPLAY);
		/* The sender may protect a packet again (retransmission on NACK). */
		len = make_rtp(words, 7, 0xabcdef01);
		g_assert_cmpint(kt_srtp_protect_rtp(a, (guint8 *)words, len, sizeof words), ==, n);
		/* Random bytes never unprotect. */
		for (int round = 0; round < 200; round++) {
			gsize rlen = g_random_int_range(1, sizeof words);

			for (gsize j = 0; j < rlen; j++)
				((guint8 *)words)[j] = g_random_int_range(0, 256);
			g_assert_cmpint(kt_srtp_unprotect_rtp(b, (guint8 *)words, rlen), <, 0);
			for (gsize j = 0; j < rlen; j++)
				((guint8 *)words)[j] = g_random_int_range(0, 256);
			g_assert_cmpint(kt_srtp_unprotect_rtcp(b, (guint8 *)words, rlen), <, 0);
		}
		kt_srtp_free(a);
		kt_srtp_free(b);
	}
	kt_srtp_free(NULL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cert/generate", test_cert_generate);
	g_test_add_func("/cert/invalid", test_cert_invalid);
	g_test_add_func("/cert/pem", test_cert_pem);
	g_test_add_func("/dtls/aes-gcm", test_dtls_gcm);
	g_test_add_func("/dtls/aes-cm-sha1-80", test_dtls_cm);
	g_test_add_func("/dtls/default-profiles", test_dtls_default_profiles);
	g_test_add_func("/dtls/fingerprint-mismatch", test_dtls_fingerprint_mismatch);
	g_test_add_func("/dtls/lowercase-fingerprint", test_dtls_lowercase_fingerprint);
	g_test_add_func("/dtls/no-common-profile", test_dtls_no_common_profile);
	g_test_add_func("/dtls/garbage", test_dtls_garbage);
	g_test_add_func("/dtls/retransmit", test_dtls_retransmit);
	g_test_add_func("/dtls/timeout", test_dtls_timeout);
	g_test_add_func("/dtls/close", test_dtls_close);
	g_test_add_func("/dtls/bad-config", test_dtls_bad_config);
	g_test_add_func("/srtp/bad-keys", test_srtp_bad_keys);
	g_test_add_func("/srtp/packets", test_srtp_packets);
	return g_test_run();
}
