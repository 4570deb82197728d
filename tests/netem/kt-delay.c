/* kt-delay — holds packets queued by nftables (`queue num N bypass`) for a
 * fixed one-way delay plus uniform jitter, then lets them go, in order.
 *
 * The kernel here has no sch_netem (PLATFORM.md), so the link-emulation bench
 * (tests/netem/netem.sh) does rate with tbf, loss with nft and delay with
 * this: packets are handed to user space over NFQUEUE, kept as ids only
 * (metadata copy mode: no payload crosses), and given their ACCEPT verdict
 * when their release time comes.
 *
 *   kt-delay --queue N --delay-ms D [--jitter-ms J] [--seed S]
 *
 * Each packet is released at max(previous release, arrival + D + U(-J, J)):
 * jitter varies the delay but never reorders, as on a real access link whose
 * queue is a FIFO. Runs until SIGTERM/SIGINT; on the way out every held
 * packet is accepted, and with `bypass` on the rule nothing is dropped while
 * the program is not running.
 *
 * One thread: poll() on the queue's netlink socket with a timeout to the
 * next release. Test tooling, not part of the server.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 2 Mbit/s of 1200-byte packets held for 600 ms is ~130 packets; this is
 * room for far more than any profile needs. When full, packets pass
 * undelayed and are counted. */
#define HELD_MAX 16384
#define QUEUE_MAXLEN 8192

typedef struct {
	uint32_t id;
	int64_t release_us;
} Held;

typedef struct {
	struct nfq_q_handle *qh;
	Held ring[HELD_MAX];
	unsigned head, count;
	int64_t delay_us, jitter_us, last_release_us;
	uint64_t rng;
	unsigned long passed, overflowed;
} Delay;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: reproducible with --seed, no libc state. */
static uint64_t next_random(Delay *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 2685821657736338717ULL;
}

static int64_t packet_delay(Delay *d)
{
	if (d->jitter_us == 0)
		return d->delay_us;
	int64_t span = 2 * d->jitter_us + 1;
	int64_t j = (int64_t)(next_random(d) % (uint64_t)span) - d->jitter_us;
	int64_t v = d->delay_us + j;
	return v < 0 ? 0 : v;
}

static void accept_id(Delay *d, uint32_t id)
{
	nfq_set_verdict(d->qh, id, NF_ACCEPT, 0, NULL);
	d->passed++;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	(void)qh;
	(void)msg;
	Delay *d = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	if (d->count == HELD_MAX) {
		d->overflowed++;
		accept_id(d, id);
		return 0;
	}
	int64_t release = now_us() + packet_delay(d);
	if (release < d->last_release_us)
		release = d->last_release_us; /* FIFO: jitter never reorders */
	d->last_release_us = release;
	d->ring[(d->head + d->count) % HELD_MAX] = (Held){ id, release };
	d->count++;
	return 0;
}

/* Accepts every packet whose time has come (all of them when @all). */
static void release_due(Delay *d, int all)
{
	int64_t now = now_us();
	while (d->count > 0 && (all || d->ring[d->head].release_us <= now)) {
		accept_id(d, d->ring[d->head].id);
		d->head = (d->head + 1) % HELD_MAX;
		d->count--;
	}
}

static int poll_timeout_ms(const Delay *d)
{
	if (d->count == 0)
		return 200; /* wake now and then to notice a signal */
	int64_t wait = d->ring[d->head].release_us - now_us();
	if (wait <= 0)
		return 0;
	return (int)((wait + 999) / 1000);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s --queue N --delay-ms D [--jitter-ms J] [--seed S]\n", argv0);
	exit(2);
}

static void parse_args(int argc, char **argv, Delay *d, unsigned *queue)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },   { "delay-ms", required_argument, NULL, 'd' },
		{ "jitter-ms", required_argument, NULL, 'j' }, { "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int have_queue = 0, c;
	d->rng = 0x9E3779B97F4A7C15ULL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end = NULL;
		unsigned long v = strtoul(optarg ? optarg : "", &end, 10);
		if (!optarg || *optarg == '\0' || *end != '\0')
			usage(argv[0]);
		switch (c) {
		case 'q': *queue = (unsigned)v; have_queue = 1; break;
		case 'd': d->delay_us = (int64_t)v * 1000; break;
		case 'j': d->jitter_us = (int64_t)v * 1000; break;
		case 's': d->rng = v ? v : 1; break;
		default: usage(argv[0]);
		}
	}
	if (!have_queue || optind != argc || d->delay_us > 10000000 || d->jitter_us > d->delay_us)
		usage(argv[0]);
}

static int run(Delay *d, struct nfq_handle *h)
{
	static char buf[65536] __attribute__((aligned));
	struct pollfd pfd = { .fd = nfq_fd(h), .events = POLLIN };
	while (!stopping) {
		int n = poll(&pfd, 1, poll_timeout_ms(d));
		if (n < 0 && errno != EINTR) {
			perror("kt-delay: poll");
			return 1;
		}
		if (n > 0) {
			/* Drain what is there without blocking: the next release may be due. */
			for (;;) {
				ssize_t r = recv(pfd.fd, buf, sizeof buf, MSG_DONTWAIT);
				if (r < 0)
					break; /* EAGAIN, or ENOBUFS: the kernel dropped some; go on */
				nfq_handle_packet(h, buf, (int)r);
			}
		}
		release_due(d, 0);
	}
	release_due(d, 1);
	return 0;
}

int main(int argc, char **argv)
{
	static Delay d;
	unsigned queue = 0;
	parse_args(argc, argv, &d, &queue);

	struct nfq_handle *h = nfq_open();
	if (!h) {
		perror("kt-delay: nfq_open");
		return 1;
	}
	d.qh = nfq_create_queue(h, (uint16_t)queue, on_packet, &d);
	if (!d.qh) {
		fprintf(stderr, "kt-delay: cannot bind queue %u (in use, or no CAP_NET_ADMIN)\n", queue);
		return 1;
	}
	if (nfq_set_mode(d.qh, NFQNL_COPY_META, 0) < 0)
		nfq_set_mode(d.qh, NFQNL_COPY_PACKET, 0); /* older kernels: copy a header's worth */
	nfq_set_queue_maxlen(d.qh, QUEUE_MAXLEN);
	nfnl_rcvbufsiz(nfq_nfnlh(h), 8 * 1024 * 1024);

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "kt-delay: queue %u, %lld ms ± %lld ms\n", queue, (long long)(d.delay_us / 1000),
	        (long long)(d.jitter_us / 1000));
	int rc = run(&d, h);
	fprintf(stderr, "kt-delay: queue %u: %lu packets passed, %lu undelayed (full)\n", queue, d.passed,
	        d.overflowed);
	nfq_destroy_queue(d.qh);
	nfq_close(h);
	return rc;
}
