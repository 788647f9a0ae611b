/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The baseline for `make bench`: a bare accept-all NFQUEUE reader.  It
 * uses the same queue layer as dnsrl (recvmmsg, one verdict batch per
 * drained batch, queue length and receive buffer sized together), so the
 * difference between the two is the cost of the decision alone.
 *
 * usage: nfq_accept QUEUE [MAXLEN]   runs until SIGTERM/SIGINT, then
 * prints "packets=N verdicts=N".
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "stats.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static enum queue_verdict accept_all(void *arg, const uint8_t *pkt, size_t len,
				     uint64_t now, struct queue_out *out)
{
	(void)arg;
	(void)pkt;
	(void)len;
	(void)now;
	(void)out;
	return QUEUE_ACCEPT;
}

int main(int argc, char **argv)
{
	struct queue_params qp = {.maxlen = 4096,
				  .copy_range = QUEUE_COPY_RANGE,
				  .fail_open = true};
	const struct queue_handler h = {accept_all, NULL};
	static struct stats s;
	struct sigaction sa = {.sa_handler = on_signal};
	struct pollfd pfd;
	struct queue *q;

	if (argc < 2) {
		fprintf(stderr, "usage: nfq_accept QUEUE [MAXLEN]\n");
		return 2;
	}
	qp.num = (uint16_t)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		qp.maxlen = (uint32_t)strtoul(argv[2], NULL, 10);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	q = queue_open(&qp);
	if (q == NULL) {
		fprintf(stderr, "nfq_accept: queue %u: %s\n", qp.num,
			strerror(errno));
		return 1;
	}
	pfd.fd = queue_fd(q);
	pfd.events = POLLIN;
	while (!stop) {
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		while (queue_process(q, &h, &s) > 0)
			;
	}
	while (queue_process(q, &h, &s) > 0)
		;
	queue_close(q);
	printf("packets=%" PRIu64 " verdicts=%" PRIu64 " id-gaps=%" PRIu64 "\n",
	       s.c[STATS_PACKETS], s.c[STATS_VERDICTS], s.c[STATS_ID_GAPS]);
	return 0;
}
