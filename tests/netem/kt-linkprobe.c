/* kt-linkprobe — measures an emulated link, so tests can check that a
 * netem.sh profile is what it claims (round-trip time, jitter, loss, rate).
 *
 *   kt-linkprobe echo --port P
 *   kt-linkprobe probe --to IPv4:PORT [--pings N] [--rate-kbit R] [--seconds S]
 *
 * `echo` answers on UDP: a ping ('P') comes straight back; a load packet
 * ('L') is only counted; a report request ('R') is answered with what the
 * load phase delivered. Load and report requests carry the probe's run id:
 * a new id starts a new count (a reset message could be lost on a lossy link).
 *
 * `probe` sends N pings 20 ms apart (100 bytes), then load at 1.5 × R for S
 * seconds (1000-byte datagrams, so the link's queue, not the sender, is the
 * limit), and prints one line:
 *   rtt_min_ms=.. rtt_med_ms=.. rtt_p95_ms=.. jitter_ms=.. loss=.. rate_kbit=..
 * loss is the round-trip ping loss; rate_kbit is what arrived after the first
 * half second (past tbf's initial burst), counted on the wire (with headers). Test tooling, not the server.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PING_MAX 2000
#define SETTLE_US 500000
/* UDP, IPv4 and Ethernet headers: tbf's rate counts whole frames. */
#define WIRE_OVERHEAD (8 + 20 + 14)

typedef struct {
	char kind;
	uint32_t seq;
	int64_t sent_us;
} __attribute__((packed)) Ping;

typedef struct {
	char kind;
	uint64_t bytes, first_us, last_us;
} __attribute__((packed)) Report;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int udp_socket(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int big = 4 * 1024 * 1024;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("kt-linkprobe: bind");
		exit(1);
	}
	return fd;
}

/* Load arrivals: counted from SETTLE_US after the first one. */
typedef struct {
	uint32_t run;
	int64_t first_any_us;
	uint64_t bytes;
	int64_t first_us, last_us;
} LoadCount;

static void count_load(LoadCount *c, uint32_t run, ssize_t n)
{
	int64_t t = now_us();
	if (run != c->run)
		*c = (LoadCount){ .run = run };
	if (c->first_any_us == 0)
		c->first_any_us = t;
	if (t - c->first_any_us < SETTLE_US)
		return;
	if (c->first_us == 0)
		c->first_us = t;
	else
		c->bytes += (uint64_t)n + WIRE_OVERHEAD; /* after the first counted arrival */
	c->last_us = t;
}

static _Noreturn void run_echo(uint16_t port)
{
	int fd = udp_socket(port);
	LoadCount c = { 0 };
	char buf[2048];
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		if (buf[0] == 'P') {
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
		} else if (buf[0] == 'L' && n >= 5) {
			uint32_t run;
			memcpy(&run, buf + 1, sizeof run);
			count_load(&c, run, n);
		} else if (buf[0] == 'R' && n >= 5 && memcmp(buf + 1, &c.run, sizeof c.run) == 0) {
			Report r = { 'r', c.bytes, (uint64_t)c.first_us, (uint64_t)c.last_us };
			sendto(fd, &r, sizeof r, 0, (struct sockaddr *)&from, fl);
		}
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sends the pings and collects echoes; returns how many came back. */
static int ping_phase(int fd, const struct sockaddr_in *to, int count, int64_t *rtts)
{
	char buf[100] = { 0 };
	int got = 0;
	int64_t next = now_us(), deadline = 0, max_rtt = 0;
	for (int sent = 0; sent < count || now_us() < deadline;) {
		if (sent < count && now_us() >= next) {
			Ping p = { 'P', (uint32_t)sent, now_us() };
			memcpy(buf, &p, sizeof p);
			sendto(fd, buf, sizeof buf, 0, (const struct sockaddr *)to, sizeof *to);
			next += 20000;
			if (++sent == count) /* late echoes: three of the worst round trips seen */
				deadline = now_us() + (max_rtt * 3 > 500000 ? max_rtt * 3 : 500000);
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 2) > 0) {
			char in[2048];
			ssize_t n = recv(fd, in, sizeof in, 0);
			if (n >= (ssize_t)sizeof(Ping) && in[0] == 'P' && got < PING_MAX) {
				Ping p;
				memcpy(&p, in, sizeof p);
				rtts[got] = now_us() - p.sent_us;
				if (rtts[got] > max_rtt)
					max_rtt = rtts[got];
				got++;
			}
		}
	}
	return got;
}

static void load_phase(int fd, const struct sockaddr_in *to, uint32_t run, double kbit,
                       double seconds)
{
	char buf[1000] = { 'L' };
	memcpy(buf + 1, &run, sizeof run);
	double gap_us = 1000.0 * 8 / (kbit * 1.5) * 1000; /* 1000-byte datagrams at 1.5 × R */
	int64_t start = now_us(), end = start + (int64_t)(seconds * 1e6);
	double next = (double)start;
	while (now_us() < end) {
		if ((double)now_us() >= next) {
			sendto(fd, buf, sizeof buf, 0, (const struct sockaddr *)to, sizeof *to);
			next += gap_us;
		} else {
			usleep(200);
		}
	}
}

static int fetch_report(int fd, const struct sockaddr_in *to, uint32_t run, Report *r)
{
	/* Let the link's queue drain first, then ask until the answer survives
	 * the loss. */
	char req[5] = { 'R' };
	memcpy(req + 1, &run, sizeof run);
	usleep(1500000);
	for (int i = 0; i < 50; i++) {
		sendto(fd, req, sizeof req, 0, (const struct sockaddr *)to, sizeof *to);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		while (poll(&pfd, 1, 400) > 0) {
			char in[64];
			ssize_t n = recv(fd, in, sizeof in, 0);
			if (n == (ssize_t)sizeof *r && in[0] == 'r') {
				memcpy(r, in, sizeof *r);
				return 0;
			}
		}
	}
	return -1;
}

static void print_rtts(int64_t *rtts, int got, int count)
{
	/* jitter_ms: mean absolute deviation of the round-trip time. */
	double avg = 0, dev = 0;
	qsort(rtts, (size_t)got, sizeof *rtts, cmp_i64);
	for (int i = 0; i < got; i++)
		avg += (double)rtts[i] / got;
	for (int i = 0; i < got; i++)
		dev += fabs((double)rtts[i] - avg) / got;
	printf("rtt_min_ms=%.1f rtt_med_ms=%.1f rtt_p95_ms=%.1f jitter_ms=%.1f loss=%.3f ",
	       got ? rtts[0] / 1e3 : -1.0, got ? rtts[got / 2] / 1e3 : -1.0,
	       got ? rtts[(got * 95) / 100 < got ? (got * 95) / 100 : got - 1] / 1e3 : -1.0, dev / 1e3,
	       1.0 - (double)got / count);
}

static int run_probe(const char *to_arg, int pings, double kbit, double seconds)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(to_arg, ':');
	if (!colon || colon - to_arg >= (long)sizeof host)
		return 2;
	memcpy(host, to_arg, (size_t)(colon - to_arg));
	host[colon - to_arg] = '\0';
	to.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
		return 2;
	int fd = udp_socket(0);
	static int64_t rtts[PING_MAX];
	if (pings > PING_MAX)
		pings = PING_MAX;
	int got = ping_phase(fd, &to, pings, rtts);
	print_rtts(rtts, got, pings);
	double rate = -1;
	if (kbit > 0) {
		uint32_t run = (uint32_t)getpid() ^ (uint32_t)now_us();
		load_phase(fd, &to, run, kbit, seconds);
		Report r;
		if (fetch_report(fd, &to, run, &r) == 0 && r.last_us > r.first_us)
			rate = (double)r.bytes * 8 / 1000 / ((double)(r.last_us - r.first_us) / 1e6);
	}
	printf("rate_kbit=%.0f\n", rate);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },      { "to", required_argument, NULL, 't' },
		{ "pings", required_argument, NULL, 'n' },     { "rate-kbit", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },   { NULL, 0, NULL, 0 },
	};
	if (argc < 2)
		goto usage;
	const char *mode = argv[1], *to = NULL;
	int port = 0, pings = 100, c;
	double kbit = 0, seconds = 3;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = atoi(optarg); break;
		case 't': to = optarg; break;
		case 'n': pings = atoi(optarg); break;
		case 'r': kbit = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		default: goto usage;
		}
	}
	if (strcmp(mode, "echo") == 0 && port > 0)
		run_echo((uint16_t)port);
	if (strcmp(mode, "probe") == 0 && to && pings > 0)
		return run_probe(to, pings, kbit, seconds);
usage:
	fprintf(stderr, "usage: kt-linkprobe echo --port P\n"
	                "       kt-linkprobe probe --to IPv4:PORT [--pings N] [--rate-kbit R] [--seconds S]\n");
	return 2;
}
