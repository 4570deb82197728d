/* A hostile client for Ketang's fault test (issue 7 item 4, tests/netem/test-hostile.mjs):
 * from its own network namespace, for --seconds, it
 *   - sends random datagrams (8..1200 random bytes) to every port of --udp-ports, at
 *     --udp-rate a second in all;
 *   - sends STUN Binding requests (RFC 8489 §5: valid header, magic cookie, USERNAME with
 *     an ufrag nobody issued, a MESSAGE-INTEGRITY of random bytes, a correct FINGERPRINT
 *     §14.7) to the same ports at --stun-rate a second;
 *   - holds --hold TCP connections to --hold-port that never complete the WebSocket
 *     handshake: --tls-share percent of them finish TLS and then send nothing, the others
 *     never even send a TLS ClientHello. They are opened --open-rate a second (0: at once)
 *     before the floods start; a connection the server closes is opened again.
 * At the end it prints one line of counts (sent, STUN answers, connections opened, closed by
 * the server, held at the end).
 *
 *   kt-hostile --target ADDR [--udp-ports MIN-MAX] [--udp-rate N] [--stun-rate N]
 *              [--hold N] [--hold-port PORT] [--tls-share PCT] [--open-rate N] [--seconds S]
 *
 * Only for tests: it sends nothing but to --target, which the test made in its namespaces. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HOLD 4096

typedef struct {
	const char *target;
	int port_min, port_max, udp_rate, stun_rate, hold, hold_port, tls_share, open_rate, seconds;
} Options;

/* A held connection: connecting, then (TLS ones) handshaking, then idle for good. */
typedef struct {
	int fd;
	SSL *ssl; /* NULL: plain TCP that never sends a byte */
	int tls, connected, handshaken;
} Held;

static struct {
	unsigned long udp, stun, unsent, stun_answers, opened, closed;
} counts;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift32: random payloads at flood rates cost next to nothing. */
static uint32_t rnd(void)
{
	static uint32_t x = 2463534242u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* A Binding request for "ufrag:ufrag" nobody issued; returns its length. */
static size_t stun_request(uint8_t *b)
{
	char user[32];
	size_t n = 20, ulen, padded;

	snprintf(user, sizeof(user), "x%07x:y%07x", rnd() & 0xfffffff, rnd() & 0xfffffff);
	ulen = strlen(user);
	padded = (ulen + 3) & ~(size_t)3;
	put16(b, 0x0001);
	put32(b + 4, 0x2112A442);
	for (int i = 8; i < 20; i++)
		b[i] = rnd();
	put16(b + n, 0x0006); /* USERNAME */
	put16(b + n + 2, ulen);
	memset(b + n + 4, 0, padded);
	memcpy(b + n + 4, user, ulen);
	n += 4 + padded;
	put16(b + n, 0x0008); /* MESSAGE-INTEGRITY: the right size, the wrong key */
	put16(b + n + 2, 20);
	for (int i = 0; i < 20; i++)
		b[n + 4 + i] = rnd();
	n += 24;
	put16(b + 2, n + 8 - 20); /* the length counts the FINGERPRINT (§14.7) */
	put16(b + n, 0x8028);
	put16(b + n + 2, 4);
	put32(b + n + 4, crc32_of(b, n) ^ 0x5354554e);
	return n + 8;
}

/* Starts a non-blocking connection: nothing here may hold the floods up. */
static void open_held(const Options *o, Held *h, int tls)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(o->hold_port)};

	inet_pton(AF_INET, o->target, &a.sin_addr);
	*h = (Held){.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), .tls = tls};
	if (h->fd < 0)
		return;
	if (connect(h->fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		h->connected = 1;
	else if (errno != EINPROGRESS) {
		close(h->fd);
		h->fd = -1;
		return;
	}
	counts.opened++;
}

static void close_held(Held *h)
{
	if (h->ssl)
		SSL_free(h->ssl);
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->ssl = NULL;
}

/* One step of @h on what poll said; returns 0 when the server closed it (or it failed). */
static int step_held(SSL_CTX *ctx, Held *h, short revents)
{
	char buf[4096];
	int r;

	if (!h->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return 1;
		getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			return 0;
		h->connected = 1;
		if (!h->tls)
			return 1;
		h->ssl = SSL_new(ctx);
		SSL_set_fd(h->ssl, h->fd);
	}
	if (h->ssl && !h->handshaken) {
		r = SSL_connect(h->ssl);
		if (r == 1) {
			h->handshaken = 1; /* and never a byte of HTTP */
			return 1;
		}
		r = SSL_get_error(h->ssl, r);
		ERR_clear_error();
		return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 1;
	/* Whatever the server sends (session tickets, an alert) is read; EOF is a close. */
	if (h->ssl) {
		r = SSL_read(h->ssl, buf, sizeof(buf));
		if (r > 0)
			return 1;
		r = SSL_get_error(h->ssl, r);
		ERR_clear_error();
		return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE;
	}
	r = recv(h->fd, buf, sizeof(buf), 0);
	return r > 0 || (r < 0 && errno == EAGAIN);
}

/* Drives every held connection; reopens what the server closed. */
static void tend_held(const Options *o, SSL_CTX *ctx, Held *held, int n)
{
	static struct pollfd fds[MAX_HOLD];

	for (int i = 0; i < n; i++) {
		short ev = POLLIN;

		if (!held[i].connected)
			ev = POLLOUT;
		else if (held[i].ssl && !held[i].handshaken)
			ev = SSL_want_write(held[i].ssl) ? POLLOUT : POLLIN;
		fds[i] = (struct pollfd){.fd = held[i].fd, .events = ev};
	}
	if (poll(fds, n, 0) < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (held[i].fd >= 0 && step_held(ctx, &held[i], fds[i].revents))
			continue;
		if (held[i].fd >= 0)
			counts.closed++;
		close_held(&held[i]);
		open_held(o, &held[i], held[i].tls);
	}
}

static int parse(int argc, char **argv, Options *o)
{
	*o = (Options){
	    .port_min = 0, .port_max = -1, .hold_port = 8443, .tls_share = 50, .seconds = 10};
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--target"))
			o->target = v;
		else if (!strcmp(k, "--udp-ports"))
			sscanf(v, "%d-%d", &o->port_min, &o->port_max);
		else if (!strcmp(k, "--udp-rate"))
			o->udp_rate = atoi(v);
		else if (!strcmp(k, "--stun-rate"))
			o->stun_rate = atoi(v);
		else if (!strcmp(k, "--hold"))
			o->hold = atoi(v);
		else if (!strcmp(k, "--hold-port"))
			o->hold_port = atoi(v);
		else if (!strcmp(k, "--tls-share"))
			o->tls_share = atoi(v);
		else if (!strcmp(k, "--open-rate"))
			o->open_rate = atoi(v);
		else if (!strcmp(k, "--seconds"))
			o->seconds = atoi(v);
		else
			return -1;
	}
	return o->target && o->hold <= MAX_HOLD ? 0 : -1;
}

int main(int argc, char **argv)
{
	static Held held[MAX_HOLD];
	Options o;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint8_t buf[1500];
	double start, next, wait;
	int udp, port, opened = 0;

	if (parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: see the top of kt-hostile.c\n");
		return 2;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	inet_pton(AF_INET, o.target, &to.sin_addr);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	fcntl(udp, F_SETFL, O_NONBLOCK);
	/* All connected (and the TLS ones through their handshake) before the floods start;
	 * opened --open-rate a second (0: all at once), TLS and plain ones interleaved. */
	for (double from = now_s(), until = from + 30; now_s() < until;) {
		int want = o.open_rate ? (int)((now_s() - from) * o.open_rate) + 1 : o.hold;
		int ready = 0;

		for (; opened < want && opened < o.hold; opened++)
			open_held(&o, &held[opened], opened * o.tls_share % 100 < o.tls_share);
		tend_held(&o, ctx, held, opened);
		for (int i = 0; i < opened; i++)
			ready += held[i].connected && (!held[i].tls || held[i].handshaken);
		if (ready == o.hold)
			break;
		usleep(1000);
	}
	printf("kt-hostile: holding %lu connections\n", counts.opened);
	fflush(stdout);
	port = o.port_min;
	start = next = now_s();
	while (now_s() - start < o.seconds) {
		/* 1 ms ticks: each sends its share of both rates. */
		double t = now_s() - start;
		unsigned long want_udp = (unsigned long)(t * o.udp_rate);
		unsigned long want_stun = (unsigned long)(t * o.stun_rate);
		ssize_t r;

		while (o.port_max >= o.port_min &&
		       (counts.udp < want_udp || counts.stun < want_stun)) {
			size_t n;

			if (counts.stun < want_stun) {
				n = stun_request(buf);
				counts.stun++;
			} else {
				n = 8 + rnd() % 1193;
				for (size_t i = 0; i < n; i += 4) {
					uint32_t v = rnd();

					memcpy(buf + i, &v, 4);
				}
				counts.udp++;
			}
			to.sin_port = htons(port);
			if (sendto(udp, buf, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
				counts.unsent++; /* the socket's buffer was full: the rate was not
				                    reached */
			port = port < o.port_max ? port + 1 : o.port_min;
		}
		while ((r = recv(udp, buf, sizeof(buf), 0)) > 0)
			counts.stun_answers++;
		tend_held(&o, ctx, held, o.hold);
		next += 0.001;
		/* One reading of the clock: with two, the second could pass @next, and a negative
		 * wait cast to useconds_t slept for an hour (netem/hostile: 'did not end'). */
		wait = next - now_s();
		if (wait > 0)
			usleep((useconds_t)(wait * 1e6));
	}
	{
		int left = 0;

		for (int i = 0; i < o.hold; i++)
			left += held[i].fd >= 0;
		printf("kt-hostile: %lu random datagrams, %lu STUN requests (%lu answered), "
		       "%lu connections opened, %lu closed by the server, %d held at the end\n",
		       counts.udp, counts.stun, counts.stun_answers, counts.opened, counts.closed,
		       left);
	}
	for (int i = 0; i < o.hold; i++)
		close_held(&held[i]);
	SSL_CTX_free(ctx);
	return 0;
}
