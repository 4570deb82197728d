/* DTLS-SRTP handshake over memory (RFC 5763, RFC 5764) with OpenSSL 3.0.
 *
 * Datagrams in: each one is written into a memory BIO and the SSL object reads it at once, so
 * a read never spans two datagrams. Datagrams out: a tiny BIO whose every write is one whole
 * datagram (OpenSSL's DTLS layer writes a datagram per BIO_write) handed to cfg->send; a plain
 * memory BIO would glue a flight's datagrams together.
 *
 * One SSL_CTX per KtDtls: it costs about 100 us per peer, once (less than one ECDHE), and
 * needs no lock, no cache invalidation and no link from KtCert back to DTLS. */
#include "kt-dtls.h"

#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>

#include "kt-cert-private.h"
#include "kt-dtls-private.h"

#define KT_DTLS_DEFAULT_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
#define KT_DTLS_DEFAULT_TIMEOUT_MS 30000
/* Flights must fit the smallest path we expect without IP fragmentation: 1200 bytes leaves
 * room for IPv6, UDP and a TURN channel header under a 1280-byte IPv6 minimum MTU. */
#define KT_DTLS_LINK_MTU 1200
#define KT_DTLS_MAX_DATAGRAM 65536
#define KT_DTLS_EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
/* ECDHE with AEAD first; the CBC suites stay for old endpoints. */
#define KT_DTLS_CIPHERS                                                                            \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                               \
	"ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"

struct _KtDtls {
	KtDtlsState state;
	KtDtlsRole role;
	KtCert *cert;
	char remote_fingerprint[KT_CERT_FINGERPRINT_LEN + 1]; /* uppercased */
	GMainContext *context;
	KtDtlsSendFunc send;
	KtDtlsStateFunc state_changed;
	gpointer user_data;
	gint64 timeout_us;
	gint64 deadline; /* monotonic time the handshake must finish by */
	SSL *ssl;
	BIO *rbio;            /* owned by ssl */
	GSource *timer;       /* retransmission + handshake deadline; NULL while unarmed */
	GError *verify_error; /* why the certificate check failed, for the FAILED report */
	KtSrtpKeys keys;
};

G_DEFINE_QUARK(kt - dtls - error - quark, kt_dtls_error)

/* --- the datagram sink BIO --- */

static int sink_write(BIO *bio, const char *data, int len)
{
	KtDtls *d = BIO_get_data(bio);

	if (d != NULL && len > 0)
		d->send((const guint8 *)data, (gsize)len, d->user_data);
	return len;
}

static long sink_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	/* OpenSSL flushes after each flight and treats <= 0 as "try again". MTU queries are off
	 * (SSL_OP_NO_QUERY_MTU) and nothing is ever pending, so 0 answers everything else. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int sink_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

static BIO_METHOD *sink_method(void)
{
	static gsize once = 0;
	static BIO_METHOD *method;

	if (g_once_init_enter(&once)) {
		method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kt-dtls-sink");
		if (method != NULL) {
			BIO_meth_set_write(method, sink_write);
			BIO_meth_set_ctrl(method, sink_ctrl);
			BIO_meth_set_create(method, sink_create);
		}
		g_once_init_leave(&once, 1);
	}
	return method;
}

/* --- state and errors --- */

static void set_timer(KtDtls *d, gint64 ready_us);

static void set_state(KtDtls *d, KtDtlsState state, const GError *error)
{
	d->state = state;
	if (state == KT_DTLS_STATE_FAILED || state == KT_DTLS_STATE_CLOSED)
		set_timer(d, -1);
	if (d->state_changed != NULL)
		d->state_changed(state, error, d->user_data);
}

static void fail(KtDtls *d, KtDtlsError code, const char *format, ...) G_GNUC_PRINTF(3, 4);

static void fail(KtDtls *d, KtDtlsError code, const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	if (d->state == KT_DTLS_STATE_FAILED || d->state == KT_DTLS_STATE_CLOSED)
		return;
	va_start(args, format);
	error = g_error_new_valist(KT_DTLS_ERROR, code, format, args);
	va_end(args);
	set_state(d, KT_DTLS_STATE_FAILED, error);
}

/* Reports what OpenSSL said went wrong; a failed certificate check wins, as it is the real
 * reason the handshake stopped. */
static void fail_from_openssl(KtDtls *d, int ssl_error)
{
	char buf[256];
	unsigned long e = ERR_peek_error();

	if (d->verify_error != NULL) {
		ERR_clear_error();
		fail(d, d->verify_error->code, "%s", d->verify_error->message);
		return;
	}
	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	else
		g_snprintf(buf, sizeof buf, "SSL error %d", ssl_error);
	ERR_clear_error();
	fail(d, KT_DTLS_ERROR_HANDSHAKE, "DTLS %s failed: %s",
	     d->state == KT_DTLS_STATE_CONNECTED ? "session" : "handshake", buf);
}

/* --- certificate check (RFC 5763 §5: the certificate must match the signalled fingerprint;
 * it is self-signed, so there is no chain to trust) --- */

static bool check_fingerprint(KtDtls *d, X509 *peer)
{
	char fp[KT_CERT_FINGERPRINT_LEN + 1];

	if (!kt_cert_fingerprint_of(peer, fp))
		g_strlcpy(fp, "(unreadable)", sizeof fp);
	else if (strcmp(fp, d->remote_fingerprint) == 0)
		return true;
	if (d->verify_error == NULL)
		d->verify_error = g_error_new(KT_DTLS_ERROR, KT_DTLS_ERROR_FINGERPRINT,
		                              "peer certificate fingerprint %s does not match "
		                              "the signalled sha-256 fingerprint %s",
		                              fp, d->remote_fingerprint);
	return false;
}

/* Runs for every certificate and every verification error. Chain errors (self-signed, unknown
 * issuer, expiry) are accepted: only the leaf's fingerprint identifies the peer, and checking
 * it here makes OpenSSL send a bad_certificate alert instead of finishing the handshake. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	KtDtls *d = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(store);

	if (d == NULL || cert == NULL)
		return 0;
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	if (check_fingerprint(d, cert))
		return 1;
	X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/* --- configuration --- */

/* A fingerprint is 32 hex pairs joined by colons (RFC 8122 §5); stored uppercased. */
static bool parse_fingerprint(const char *in, char out[KT_CERT_FINGERPRINT_LEN + 1])
{
	if (in == NULL || strlen(in) != KT_CERT_FINGERPRINT_LEN)
		return false;
	for (gsize i = 0; i < KT_CERT_FINGERPRINT_LEN; i++) {
		if (i % 3 == 2 ? in[i] != ':' : !g_ascii_isxdigit(in[i]))
			return false;
		out[i] = g_ascii_toupper(in[i]);
	}
	out[KT_CERT_FINGERPRINT_LEN] = '\0';
	return true;
}

/* Only the profiles KtSrtp implements may be offered; OpenSSL knows more. */
static bool profiles_supported(const char *profiles)
{
	g_auto(GStrv) names = g_strsplit(profiles, ":", -1);

	if (names[0] == NULL)
		return false;
	for (gsize i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], "SRTP_AEAD_AES_128_GCM") != 0 &&
		    strcmp(names[i], "SRTP_AES128_CM_SHA1_80") != 0)
			return false;
	return true;
}

static bool check_config(const KtDtlsConfig *cfg, const char *profiles, KtDtls *d, GError **error)
{
	const char *why = NULL;

	if (cfg->cert == NULL)
		why = "a certificate is required";
	else if (cfg->send == NULL)
		why = "a send callback is required";
	else if (cfg->role != KT_DTLS_ROLE_CLIENT && cfg->role != KT_DTLS_ROLE_SERVER)
		why = "unknown role";
	else if (!parse_fingerprint(cfg->remote_fingerprint, d->remote_fingerprint))
		why = "the remote fingerprint must be 32 colon-separated hex pairs (sha-256)";
	else if (!profiles_supported(profiles))
		why = "SRTP profiles must be SRTP_AEAD_AES_128_GCM and/or SRTP_AES128_CM_SHA1_80";
	if (why != NULL)
		g_set_error(error, KT_DTLS_ERROR, KT_DTLS_ERROR_INVALID, "DTLS config: %s", why);
	return why == NULL;
}

static SSL_CTX *ctx_new(KtCert *cert)
{
	SSL_CTX *ctx = SSL_CTX_new(DTLS_method());

	if (ctx == NULL)
		return NULL;
	/* No resumption and no renegotiation: each peer runs exactly one full handshake, so the
	 * fingerprint check always sees the peer's certificate. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* Both sides present a certificate in DTLS-SRTP (RFC 5763 §5). */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate(ctx, kt_cert_get_x509(cert)) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, kt_cert_get_pkey(cert)) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, KT_DTLS_CIPHERS) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static SSL *ssl_new(KtDtls *d, const char *profiles)
{
	SSL_CTX *ctx = ctx_new(d->cert);
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	BIO *wbio;

	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	if (ssl == NULL)
		return NULL;
	d->rbio = BIO_new(BIO_s_mem());
	wbio = sink_method() != NULL ? BIO_new(sink_method()) : NULL;
	if (d->rbio == NULL || wbio == NULL) {
		BIO_free(d->rbio);
		BIO_free(wbio);
		SSL_free(ssl);
		return NULL;
	}
	/* An empty read BIO means "wait for the next datagram", not end of file. */
	BIO_set_mem_eof_return(d->rbio, -1);
	BIO_set_data(wbio, d);
	SSL_set_bio(ssl, d->rbio, wbio);
	SSL_set_app_data(ssl, d);
	/* SSL_set_tlsext_use_srtp returns 0 on success. */
	if (SSL_set_tlsext_use_srtp(ssl, profiles) != 0 ||
	    DTLS_set_link_mtu(ssl, KT_DTLS_LINK_MTU) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (d->role == KT_DTLS_ROLE_CLIENT)
		SSL_set_connect_state(ssl);
	else
		SSL_set_accept_state(ssl);
	return ssl;
}

/* --- timer --- */

static gboolean timer_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	return callback(user_data);
}

static GSourceFuncs timer_funcs = {.dispatch = timer_dispatch};

static gboolean timer_fired(gpointer user_data);

/* The timer exists only while armed (@ready_us >= 0): an established
 * session has no source on the worker's context, which GLib would walk on
 * every wake-up of the worker. */
static void set_timer(KtDtls *d, gint64 ready_us)
{
	if (ready_us < 0) {
		if (d->timer) {
			g_source_destroy(d->timer);
			g_clear_pointer(&d->timer, g_source_unref);
		}
		return;
	}
	if (!d->timer) {
		d->timer = g_source_new(&timer_funcs, sizeof(GSource));
		g_source_set_name(d->timer, "kt-dtls timer");
		g_source_set_callback(d->timer, timer_fired, d, NULL);
		g_source_attach(d->timer, d->context);
	}
	g_source_set_ready_time(d->timer, ready_us);
}

/* Arms the timer for the earlier of OpenSSL's retransmission time (RFC 6347 §4.2.4) and the
 * handshake deadline; disarms it when neither applies. */
static void rearm(KtDtls *d)
{
	gint64 now = g_get_monotonic_time();
	gint64 next = -1;
	struct timeval tv;

	if (d->state != KT_DTLS_STATE_CONNECTING && d->state != KT_DTLS_STATE_CONNECTED) {
		set_timer(d, -1);
		return;
	}
	if (DTLSv1_get_timeout(d->ssl, &tv) == 1)
		next = now + (gint64)tv.tv_sec * G_USEC_PER_SEC + tv.tv_usec;
	if (d->state == KT_DTLS_STATE_CONNECTING)
		next = next < 0 ? d->deadline : MIN(next, d->deadline);
	set_timer(d, next);
}

static gboolean timer_fired(gpointer user_data)
{
	KtDtls *d = user_data;

	if (d->state == KT_DTLS_STATE_CONNECTING && g_get_monotonic_time() >= d->deadline) {
		fail(d, KT_DTLS_ERROR_TIMEOUT,
		     "DTLS handshake did not finish within %" G_GINT64_FORMAT " ms",
		     d->timeout_us / 1000);
		return G_SOURCE_CONTINUE;
	}
	ERR_clear_error();
	/* Retransmits the last flight if its timer expired; early wake-ups do nothing. */
	if (DTLSv1_handle_timeout(d->ssl) < 0) {
		fail_from_openssl(d, SSL_ERROR_SSL);
		return G_SOURCE_CONTINUE;
	}
	rearm(d);
	return G_SOURCE_CONTINUE;
}

/* --- lifecycle --- */

KtDtls *kt_dtls_new(const KtDtlsConfig *cfg, GError **error)
{
	const char *profiles;
	KtDtls *d;

	g_return_val_if_fail(cfg != NULL, NULL);
	profiles = cfg->srtp_profiles != NULL ? cfg->srtp_profiles : KT_DTLS_DEFAULT_PROFILES;
	d = g_new0(KtDtls, 1);
	if (!check_config(cfg, profiles, d, error)) {
		g_free(d);
		return NULL;
	}
	d->role = cfg->role;
	d->cert = kt_cert_ref(cfg->cert);
	d->context =
	    g_main_context_ref(cfg->context != NULL ? cfg->context : g_main_context_default());
	d->send = cfg->send;
	d->state_changed = cfg->state_changed;
	d->user_data = cfg->user_data;
	d->timeout_us = (gint64)(cfg->handshake_timeout_ms != 0 ? cfg->handshake_timeout_ms
	                                                        : KT_DTLS_DEFAULT_TIMEOUT_MS) *
	                1000;
	ERR_clear_error();
	d->ssl = ssl_new(d, profiles);
	if (d->ssl == NULL) {
		char buf[256] = "unknown error";

		if (ERR_peek_error() != 0)
			ERR_error_string_n(ERR_peek_error(), buf, sizeof buf);
		ERR_clear_error();
		g_set_error(error, KT_DTLS_ERROR, KT_DTLS_ERROR_INVALID, "cannot set up DTLS: %s",
		            buf);
		kt_dtls_free(d);
		return NULL;
	}
	return d;
}

void kt_dtls_free(KtDtls *d)
{
	if (d == NULL)
		return;
	set_timer(d, -1);
	SSL_free(d->ssl);
	kt_cert_unref(d->cert);
	g_main_context_unref(d->context);
	g_clear_error(&d->verify_error);
	OPENSSL_cleanse(&d->keys, sizeof d->keys);
	g_free(d);
}

static void drive_handshake(KtDtls *d);

void kt_dtls_start(KtDtls *d)
{
	g_return_if_fail(d != NULL);
	if (d->state != KT_DTLS_STATE_NEW)
		return;
	d->deadline = g_get_monotonic_time() + d->timeout_us;
	set_state(d, KT_DTLS_STATE_CONNECTING, NULL);
	if (d->role == KT_DTLS_ROLE_CLIENT)
		drive_handshake(d); /* writes the ClientHello */
	rearm(d);
}

/* --- handshake --- */

/* Splits the exporter output client_key | server_key | client_salt | server_salt
 * (RFC 5764 §4.2) into local and remote halves. */
static bool export_keys(KtDtls *d, unsigned long profile_id)
{
	guint8 m[2 * (16 + 14)];
	guint key_len = 16;
	guint salt_len = profile_id == SRTP_AEAD_AES_128_GCM ? 12 : 14;
	bool client = d->role == KT_DTLS_ROLE_CLIENT;
	KtSrtpKeys *k = &d->keys;

	if (profile_id != SRTP_AEAD_AES_128_GCM && profile_id != SRTP_AES128_CM_SHA1_80)
		return false;
	if (SSL_export_keying_material(d->ssl, m, 2 * (key_len + salt_len), KT_DTLS_EXPORTER_LABEL,
	                               strlen(KT_DTLS_EXPORTER_LABEL), NULL, 0, 0) != 1)
		return false;
	memset(k, 0, sizeof *k);
	k->profile = (KtSrtpProfile)profile_id;
	k->key_len = key_len;
	k->salt_len = salt_len;
	memcpy(k->local_key, m + (client ? 0 : key_len), key_len);
	memcpy(k->remote_key, m + (client ? key_len : 0), key_len);
	memcpy(k->local_salt, m + 2 * key_len + (client ? 0 : salt_len), salt_len);
	memcpy(k->remote_salt, m + 2 * key_len + (client ? salt_len : 0), salt_len);
	OPENSSL_cleanse(m, sizeof m);
	return true;
}

static void handshake_done(KtDtls *d)
{
	X509 *peer = SSL_get0_peer_certificate(d->ssl);
	const SRTP_PROTECTION_PROFILE *profile = SSL_get_selected_srtp_profile(d->ssl);

	/* The verify callback already checked the leaf; this catches any path that skipped it. */
	if (peer == NULL || !check_fingerprint(d, peer)) {
		if (d->verify_error == NULL)
			d->verify_error = g_error_new(KT_DTLS_ERROR, KT_DTLS_ERROR_FINGERPRINT,
			                              "peer presented no certificate");
		fail(d, d->verify_error->code, "%s", d->verify_error->message);
	} else if (profile == NULL) {
		fail(d, KT_DTLS_ERROR_NO_SRTP, "peer negotiated no SRTP protection profile");
	} else if (!export_keys(d, profile->id)) {
		ERR_clear_error();
		fail(d, KT_DTLS_ERROR_HANDSHAKE, "cannot export SRTP keys for profile %s",
		     profile->name);
	} else {
		set_state(d, KT_DTLS_STATE_CONNECTED, NULL);
		return;
	}
	/* Tell the peer rather than leave it believing the session is up. */
	ERR_clear_error();
	SSL_shutdown(d->ssl);
	ERR_clear_error();
}

static void drive_handshake(KtDtls *d)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(d->ssl);
	if (r == 1) {
		handshake_done(d);
		return;
	}
	e = SSL_get_error(d->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	fail_from_openssl(d, e);
}

static void peer_closed(KtDtls *d)
{
	/* Answer with our own close_notify (RFC 5246 §7.2.1). */
	ERR_clear_error();
	SSL_shutdown(d->ssl);
	ERR_clear_error();
	set_state(d, KT_DTLS_STATE_CLOSED, NULL);
}

/* After the handshake: retransmitted final flights are answered inside SSL_read, alerts end
 * the session; application data has no reader (no data channels) and is dropped. */
static void read_records(KtDtls *d)
{
	guint8 scratch[512];
	int r, e;

	for (;;) {
		ERR_clear_error();
		r = SSL_read(d->ssl, scratch, sizeof scratch);
		if (r > 0)
			continue;
		e = SSL_get_error(d->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			peer_closed(d);
		else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			fail_from_openssl(d, e);
		return;
	}
}

/* --- input screening --- */

#define RECORD_HEADER_LEN 13    /* RFC 6347 §4.1 */
#define HANDSHAKE_HEADER_LEN 12 /* RFC 6347 §4.2.2 */
#define KT_DTLS_MAX_EPOCH0_SEQ 4096

static guint32 be(const guint8 *p, gsize n)
{
	guint32 v = 0;

	for (gsize i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Epoch-0 records carry no MAC, so OpenSSL parses them and aborts the handshake on a bad
 * one. Check the parts whose damage would be fatal: alert and ChangeCipherSpec sizes, and
 * that handshake fragments tile the record and stay inside their message. */
static bool plaintext_record_ok(guint8 type, const guint8 *b, gsize len)
{
	switch (type) {
	case 20: /* change_cipher_spec */
		return len == 1 && b[0] == 1;
	case 21: /* alert: level warning(1) or fatal(2), description */
		return len == 2 && (b[0] == 1 || b[0] == 2);
	case 22: /* handshake */
		while (len > 0) {
			gsize msg_len, off, frag_len;

			if (len < HANDSHAKE_HEADER_LEN)
				return false;
			msg_len = be(b + 1, 3);
			off = be(b + 6, 3);
			frag_len = be(b + 9, 3);
			if (frag_len > len - HANDSHAKE_HEADER_LEN || off + frag_len > msg_len)
				return false;
			b += HANDSHAKE_HEADER_LEN + frag_len;
			len -= HANDSHAKE_HEADER_LEN + frag_len;
		}
		return true;
	default: /* no application data before keys exist */
		return false;
	}
}

/* Random bytes that merely start like DTLS are dropped here instead of failing the
 * handshake; a forged but well-formed message still can, as in any DTLS stack. */
bool kt_dtls_datagram_well_formed(const guint8 *p, gsize len)
{
	while (len > 0) {
		guint32 version, epoch;
		gsize rlen;

		if (len < RECORD_HEADER_LEN)
			return false;
		version = be(p + 1, 2);
		epoch = be(p + 3, 2);
		rlen = be(p + 11, 2);
		/* 20..23: change_cipher_spec, alert, handshake, application_data. A ClientHello
		 * record may carry DTLS 1.0's version (RFC 6347 §4.1). */
		if (p[0] < 20 || p[0] > 23 || (version != 0xfefd && version != 0xfeff) ||
		    rlen > len - RECORD_HEADER_LEN)
			return false;
		/* Epoch-0 sequence numbers start at 0 (RFC 6347 §4.1) and a handshake sends a few
		 * dozen records. A huge one would slide OpenSSL's replay window past every real
		 * record that follows; random junk has one, a forgery aimed at us need not. */
		if (epoch == 0 && (be(p + 5, 2) != 0 || be(p + 7, 4) >= KT_DTLS_MAX_EPOCH0_SEQ ||
		                   !plaintext_record_ok(p[0], p + RECORD_HEADER_LEN, rlen)))
			return false;
		p += RECORD_HEADER_LEN + rlen;
		len -= RECORD_HEADER_LEN + rlen;
	}
	return true;
}

void kt_dtls_handle_datagram(KtDtls *d, const guint8 *buf, gsize len)
{
	g_return_if_fail(d != NULL);
	/* RFC 7983 §7 sends first bytes 20..63 here; anything else, or a broken datagram, is
	 * dropped before OpenSSL sees it. */
	if (buf == NULL || len == 0 || len > KT_DTLS_MAX_DATAGRAM ||
	    !kt_dtls_datagram_well_formed(buf, len))
		return;
	if (d->state == KT_DTLS_STATE_NEW && d->role == KT_DTLS_ROLE_SERVER)
		kt_dtls_start(d);
	if (d->state != KT_DTLS_STATE_CONNECTING && d->state != KT_DTLS_STATE_CONNECTED)
		return;
	/* Start from an empty BIO so leftovers of a bad datagram never join the next one. */
	(void)BIO_reset(d->rbio);
	if (BIO_write(d->rbio, buf, (int)len) != (int)len)
		return;
	if (d->state == KT_DTLS_STATE_CONNECTING)
		drive_handshake(d);
	else
		read_records(d);
	(void)BIO_reset(d->rbio);
	rearm(d);
}

KtDtlsState kt_dtls_get_state(KtDtls *d)
{
	g_return_val_if_fail(d != NULL, KT_DTLS_STATE_FAILED);
	return d->state;
}

bool kt_dtls_get_srtp_keys(KtDtls *d, KtSrtpKeys *out)
{
	g_return_val_if_fail(d != NULL && out != NULL, false);
	if (d->state != KT_DTLS_STATE_CONNECTED)
		return false;
	*out = d->keys;
	return true;
}

const char *kt_dtls_get_version(KtDtls *d)
{
	return d->state == KT_DTLS_STATE_CONNECTED ? SSL_get_version(d->ssl) : NULL;
}

const char *kt_dtls_get_cipher(KtDtls *d)
{
	return d->state == KT_DTLS_STATE_CONNECTED ? SSL_get_cipher_name(d->ssl) : NULL;
}

void kt_dtls_close(KtDtls *d)
{
	g_return_if_fail(d != NULL);
	if (d->state == KT_DTLS_STATE_FAILED || d->state == KT_DTLS_STATE_CLOSED)
		return;
	/* OpenSSL cannot send close_notify in the middle of a handshake; the peer times out. */
	if (SSL_is_init_finished(d->ssl)) {
		ERR_clear_error();
		SSL_shutdown(d->ssl);
		ERR_clear_error();
	}
	set_state(d, KT_DTLS_STATE_CLOSED, NULL);
}

const char *kt_dtls_state_to_string(KtDtlsState state)
{
	static const char *const names[] = {
	    [KT_DTLS_STATE_NEW] = "new",
	    [KT_DTLS_STATE_CONNECTING] = "connecting",
	    [KT_DTLS_STATE_CONNECTED] = "connected",
	    [KT_DTLS_STATE_FAILED] = "failed",
	    [KT_DTLS_STATE_CLOSED] = "closed",
	};

	if ((guint)state >= G_N_ELEMENTS(names))
		return "unknown";
	return names[state];
}
