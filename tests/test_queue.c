/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The queue's batch protocol without a kernel: recvmmsg() and sendmsg()
 * are replaced (-Wl,--wrap) by a script of netlink messages and a
 * recorder of the verdicts sent back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/linux_nfnetlink_queue.h>

#include "queue.h"
#include "stats.h"

#define MAXMSG 256

/* What the next recvmmsg() returns. */
static struct {
	uint8_t buf[MAXMSG][QUEUE_MSG_MAX];
	size_t len[MAXMSG];
	int flags[MAXMSG];
	size_t n;
	int error; /* nonzero: fail with it */
} script;

/* What sendmsg() was given, and what it should answer. */
static struct {
	uint8_t buf[65536];
	size_t len;
	unsigned calls;
	int fail; /* nonzero: fail every call with it */
} sent;

int __wrap_recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags,
		    struct timespec *timeout);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);

int __wrap_recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags,
		    struct timespec *timeout)
{
	size_t n = script.n < vlen ? script.n : vlen;

	(void)fd;
	(void)timeout;
	assert_true(flags & MSG_DONTWAIT);
	if (script.error != 0) {
		errno = script.error;
		return -1;
	}
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = script.len[i];

		assert_true(v[i].msg_hdr.msg_iov[0].iov_len >= len);
		memcpy(v[i].msg_hdr.msg_iov[0].iov_base, script.buf[i], len);
		v[i].msg_len = (unsigned)len;
		v[i].msg_hdr.msg_flags = script.flags[i];
	}
	script.n = 0;
	return (int)n;
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	(void)fd;
	(void)flags;
	sent.calls++;
	if (sent.fail != 0) {
		errno = sent.fail;
		return -1;
	}
	assert_int_equal(mh->msg_iovlen, 1);
	assert_true(sent.len + mh->msg_iov[0].iov_len <= sizeof(sent.buf));
	memcpy(sent.buf + sent.len, mh->msg_iov[0].iov_base,
	       mh->msg_iov[0].iov_len);
	sent.len += mh->msg_iov[0].iov_len;
	return (ssize_t)mh->msg_iov[0].iov_len;
}

/* Packets whose first payload byte is 0xdd are to be dropped. */
static enum queue_verdict decide(void *arg, const uint8_t *pkt, size_t len,
				 uint64_t now)
{
	unsigned *calls = arg;

	(void)now;
	(*calls)++;
	/* as the daemon does: what it cannot read is not let through */
	return len == 0 || pkt[0] == 0xdd ? QUEUE_DROP : QUEUE_ACCEPT;
}

static struct nlmsghdr *put_packet_header(uint8_t *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(0);
	return nlh;
}

/* Queues a packet message; payload NULL leaves NFQA_PAYLOAD out. */
static void script_packet(uint32_t id, const uint8_t *payload, size_t len)
{
	uint8_t *buf = script.buf[script.n];
	struct nlmsghdr *nlh = put_packet_header(buf);
	struct nfqnl_msg_packet_hdr ph = {.packet_id = htonl(id),
					  .hw_protocol = htons(0x0800)};

	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (payload != NULL)
		mnl_attr_put(nlh, NFQA_PAYLOAD, len, payload);
	script.len[script.n] = nlh->nlmsg_len;
	script.flags[script.n] = 0;
	script.n++;
}

static void script_verdict_packet(uint32_t id, bool drop)
{
	uint8_t payload[40] = {0x45};

	payload[0] = drop ? 0xdd : 0x45;
	script_packet(id, payload, sizeof(payload));
}

static void script_error(int error)
{
	uint8_t *buf = script.buf[script.n];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	script.len[script.n] = nlh->nlmsg_len;
	script.flags[script.n] = 0;
	script.n++;
}

struct verdict {
	int type; /* NFQNL_MSG_VERDICT or NFQNL_MSG_VERDICT_BATCH */
	uint32_t id;
	uint32_t verdict;
};

/* Parses what was sent into v[]; returns how many verdict messages. */
static size_t parse_sent(struct verdict *v, size_t max)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)sent.buf;
	int left = (int)sent.len;
	size_t n = 0;

	while (mnl_nlmsg_ok(nlh, left)) {
		struct nlattr *a; /* the libmnl macro casts away const */
		bool found = false;

		assert_true(n < max);
		assert_int_equal(nlh->nlmsg_type >> 8, NFNL_SUBSYS_QUEUE);
		/* no acknowledgement asked for on the packet path */
		assert_false(nlh->nlmsg_flags & NLM_F_ACK);
		v[n].type = nlh->nlmsg_type & 0xff;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		{
			const struct nfqnl_msg_verdict_hdr *vh;

			if (mnl_attr_get_type(a) != NFQA_VERDICT_HDR)
				continue;
			vh = mnl_attr_get_payload(a);
			v[n].id = ntohl(vh->id);
			v[n].verdict = ntohl(vh->verdict);
			found = true;
		}
		assert_true(found);
		n++;
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	assert_int_equal(left, 0);
	return n;
}

struct fixture {
	struct queue *q;
	struct stats stats;
	unsigned calls;
	struct queue_handler h;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_non_null(f);
	assert_true(fd >= 0);
	f->q = queue_from_fd(fd, 0);
	assert_non_null(f->q);
	f->h.decide = decide;
	f->h.arg = &f->calls;
	memset(&script, 0, sizeof(script));
	memset(&sent, 0, sizeof(sent));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	queue_close(f->q);
	free(f);
	return 0;
}

/* Drops go singly, then one batch accept for the latest accepted id. */
static void test_batch_shape(void **state)
{
	struct fixture *f = *state;
	struct verdict v[8];

	for (uint32_t id = 1; id <= 5; id++)
		script_verdict_packet(id, id == 2 || id == 5);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 5);
	assert_int_equal(sent.calls, 1);
	assert_int_equal(parse_sent(v, 8), 3);
	assert_int_equal(v[0].type, NFQNL_MSG_VERDICT);
	assert_int_equal(v[0].id, 2);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_int_equal(v[1].type, NFQNL_MSG_VERDICT);
	assert_int_equal(v[1].id, 5);
	assert_int_equal(v[1].verdict, NF_DROP);
	assert_int_equal(v[2].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(v[2].id, 4);
	assert_int_equal(v[2].verdict, NF_ACCEPT);
	assert_int_equal(f->calls, 5);
	assert_int_equal(f->stats.c[STATS_PACKETS], 5);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 5);
	assert_int_equal(f->stats.c[STATS_ACCEPTED], 3);
	assert_int_equal(f->stats.c[STATS_DROPPED], 2);
	assert_int_equal(f->stats.c[STATS_ID_GAPS], 0);
}

static void test_all_accepted_one_message(void **state)
{
	struct fixture *f = *state;
	struct verdict v[2];

	for (uint32_t id = 10; id < 10 + QUEUE_BATCH; id++)
		script_verdict_packet(id, false);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), QUEUE_BATCH);
	assert_int_equal(parse_sent(v, 2), 1);
	assert_int_equal(v[0].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(v[0].id, 10 + QUEUE_BATCH - 1);
	assert_int_equal(f->stats.c[STATS_VERDICTS], QUEUE_BATCH);
}

static void test_all_dropped_no_batch(void **state)
{
	struct fixture *f = *state;
	struct verdict v[QUEUE_BATCH + 1];

	for (uint32_t id = 1; id <= QUEUE_BATCH; id++)
		script_verdict_packet(id, true);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), QUEUE_BATCH);
	assert_int_equal(parse_sent(v, QUEUE_BATCH + 1), QUEUE_BATCH);
	for (size_t i = 0; i < QUEUE_BATCH; i++) {
		assert_int_equal(v[i].type, NFQNL_MSG_VERDICT);
		assert_int_equal(v[i].verdict, NF_DROP);
		assert_int_equal(v[i].id, i + 1);
	}
}

/*
 * Random batches: every packet gets exactly one verdict, either its own
 * drop or the batch accept that follows and covers it.
 */
static void test_every_packet_one_verdict(void **state)
{
	struct fixture *f = *state;
	static struct verdict v[QUEUE_BATCH + 1];
	uint32_t id = 1;
	uint64_t total = 0;

	srand(7);
	for (int round = 0; round < 500; round++) {
		size_t n = 1 + (size_t)rand() % QUEUE_BATCH;
		bool drop[QUEUE_BATCH];
		uint32_t first = id, last_accept = 0;
		size_t nv, di = 0, ndrops = 0;

		sent.len = 0;
		for (size_t i = 0; i < n; i++) {
			drop[i] = rand() % 3 == 0;
			ndrops += drop[i];
			if (!drop[i])
				last_accept = id;
			script_verdict_packet(id++, drop[i]);
		}
		assert_int_equal(queue_process(f->q, &f->h, &f->stats), n);
		nv = parse_sent(v, QUEUE_BATCH + 1);
		assert_int_equal(nv, ndrops + (ndrops < n));
		for (size_t i = 0; i < n; i++) {
			if (!drop[i])
				continue;
			assert_int_equal(v[di].type, NFQNL_MSG_VERDICT);
			assert_int_equal(v[di].id, first + i);
			di++;
		}
		if (ndrops < n) {
			assert_int_equal(v[di].type, NFQNL_MSG_VERDICT_BATCH);
			assert_int_equal(v[di].id, last_accept);
		}
		total += n;
	}
	assert_int_equal(f->stats.c[STATS_VERDICTS], total);
	assert_int_equal(f->stats.c[STATS_PACKETS], total);
	assert_int_equal(f->stats.c[STATS_ID_GAPS], 0);
}

static void test_id_gaps(void **state)
{
	struct fixture *f = *state;

	script_verdict_packet(1, false);
	script_verdict_packet(2, false);
	script_verdict_packet(6, false); /* 3, 4, 5 lost */
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 3);
	assert_int_equal(f->stats.c[STATS_ID_GAPS], 3);
	/* and across batches */
	script_verdict_packet(9, false);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 1);
	assert_int_equal(f->stats.c[STATS_ID_GAPS], 5);
}

static void test_id_wrap_no_gap(void **state)
{
	struct fixture *f = *state;

	script_verdict_packet(0xfffffffe, false);
	script_verdict_packet(0xffffffff, false);
	script_verdict_packet(0, false);
	script_verdict_packet(1, false);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 4);
	assert_int_equal(f->stats.c[STATS_ID_GAPS], 0);
}

static void test_netlink_error_counted(void **state)
{
	struct fixture *f = *state;

	script_error(-ENOENT);
	script_error(0); /* an acknowledgement is not an error */
	script_verdict_packet(1, false);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 3);
	assert_int_equal(f->stats.c[STATS_NL_ERRORS], 1);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 1);
}

/*
 * A packet without payload, or cut short, still gets a verdict: the
 * handler decides it with no bytes (the daemon's `malformed` setting),
 * never an accept the handler did not give.
 */
static void test_unreadable_packets_judged(void **state)
{
	struct fixture *f = *state;
	struct verdict v[4];

	script_packet(1, NULL, 0);
	script_verdict_packet(2, false);
	/* the third arrives truncated: the id survives, the payload not */
	script_verdict_packet(3, false);
	script.len[2] = 36;
	script.flags[2] = MSG_TRUNC;
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 3);
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->stats.c[STATS_INTERNAL], 2);
	assert_int_equal(parse_sent(v, 4), 3);
	assert_int_equal(v[0].id, 1);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_int_equal(v[1].id, 3);
	assert_int_equal(v[1].verdict, NF_DROP);
	assert_int_equal(v[2].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(v[2].id, 2);
	assert_int_equal(v[2].verdict, NF_ACCEPT);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 3);
}

/* Without a packet header there is no id to answer: counted, no verdict. */
static void test_no_packet_header(void **state)
{
	struct fixture *f = *state;
	uint8_t *buf = script.buf[0];
	struct nlmsghdr *nlh = put_packet_header(buf);
	uint8_t payload[20] = {0x45};

	mnl_attr_put(nlh, NFQA_PAYLOAD, sizeof(payload), payload);
	script.len[0] = nlh->nlmsg_len;
	script.n = 1;
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 1);
	assert_int_equal(f->stats.c[STATS_INTERNAL], 1);
	assert_int_equal(f->stats.c[STATS_PACKETS], 0);
	assert_int_equal(sent.calls, 0);
}

static void test_receive_errors(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 0);
	script.error = ENOBUFS;
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 0);
	assert_int_equal(f->stats.c[STATS_ENOBUFS], 1);
	script.error = EINTR;
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 0);
	script.error = EBADF;
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), -EBADF);
	assert_int_equal(sent.calls, 0);
}

static void test_send_failure_counted(void **state)
{
	struct fixture *f = *state;

	sent.fail = EPERM;
	script_verdict_packet(1, false);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 1);
	assert_int_equal(f->stats.c[STATS_SEND_FAIL], 1);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 0);
	assert_int_equal(sent.calls, 1); /* EPERM is not retried */
	sent.fail = ENOBUFS;
	script_verdict_packet(2, false);
	queue_process(f->q, &f->h, &f->stats);
	assert_int_equal(sent.calls, 4); /* transient: three tries */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_shape, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_all_accepted_one_message,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_dropped_no_batch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_packet_one_verdict,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_wrap_no_gap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_netlink_error_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_packets_judged,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_packet_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_receive_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_failure_counted,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
