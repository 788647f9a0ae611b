/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The queue's batch protocol without a kernel: recvmmsg() and sendmsg()
 * are replaced (-Wl,--wrap) by a script of netlink messages and a
 * recorder of the verdicts sent back.  What was sent is read back with
 * libmnl's parsers, and judged by a model of how the kernel takes a
 * send's verdicts (nfqnl_recv_verdict and nfqnl_recv_verdict_batch).
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
#define MAXSENDS 4
/* ids of a batch are distinct modulo this (a batch holds at most 256) */
#define IDS 512

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
	uint8_t buf[4 * 256 * 1024];
	size_t len;
	unsigned calls;
	/* for each call: where its data was, and where it is in buf */
	const uint8_t *base[MAXSENDS];
	size_t off[MAXSENDS];
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
	if (sent.calls <= MAXSENDS) {
		sent.base[sent.calls - 1] = mh->msg_iov[0].iov_base;
		sent.off[sent.calls - 1] = sent.len;
	}
	memcpy(sent.buf + sent.len, mh->msg_iov[0].iov_base,
	       mh->msg_iov[0].iov_len);
	sent.len += mh->msg_iov[0].iov_len;
	return (ssize_t)mh->msg_iov[0].iov_len;
}

/*
 * What the handler is to do with a scripted packet: its first payload
 * octet says, the next two give a replacement's length, octets 4..7 the
 * packet's id (to make each replacement's content its own).
 */
#define DO_ACCEPT 0x45
#define DO_DROP 0xdd
#define DO_REPLACE 0xee
#define DO_REPLACE_EMPTY 0xe0 /* QUEUE_REPLACE with out->len 0 */
#define DO_REPLACE_OVER 0xe1  /* QUEUE_REPLACE with out->len room + 1 */
#define PAYLOAD_LEN 40

/* What the handler saw and wrote, by id modulo IDS. */
struct written {
	const uint8_t *buf; /* out->buf as given */
	size_t len;	    /* out->len as set */
	uint8_t data[QUEUE_REPLACE_MAX];
};

struct handler_state {
	unsigned calls;
	struct written w[IDS];
};

static uint8_t content(uint32_t id, size_t i)
{
	return (uint8_t)(id * 31 + i * 7 + 1);
}

static enum queue_verdict decide(void *arg, const uint8_t *pkt, size_t len,
				 uint64_t now, struct queue_out *out)
{
	struct handler_state *hs = arg;
	uint32_t id;
	struct written *w;
	size_t want;

	(void)now;
	hs->calls++;
	/* every call gets the whole room, empty */
	assert_non_null(out->buf);
	assert_int_equal((uintptr_t)out->buf % 4, 0);
	assert_int_equal(out->room, QUEUE_REPLACE_MAX);
	assert_int_equal(out->len, 0);
	/* as the daemon does: what it cannot read is not let through */
	if (len == 0 || pkt[0] == DO_DROP)
		return QUEUE_DROP;
	if (pkt[0] != DO_REPLACE && pkt[0] != DO_REPLACE_EMPTY &&
	    pkt[0] != DO_REPLACE_OVER)
		return QUEUE_ACCEPT;
	assert_true(len >= 8);
	id = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 |
	     (uint32_t)pkt[6] << 8 | pkt[7];
	want = (size_t)pkt[1] << 8 | pkt[2];
	w = &hs->w[id % IDS];
	w->buf = out->buf;
	/* the whole room is the handler's: fill it, padding-to-be too */
	memset(out->buf, 0xa5, out->room);
	for (size_t i = 0; i < want && i < out->room; i++)
		out->buf[i] = w->data[i] = content(id, i);
	out->len = pkt[0] == DO_REPLACE_EMPTY  ? 0
		   : pkt[0] == DO_REPLACE_OVER ? out->room + 1
					       : want;
	w->len = out->len;
	return QUEUE_REPLACE;
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

/* Queues a packet for the handler to decide with `what` (DO_*). */
static void script_do(uint32_t id, uint8_t what, size_t replace_len)
{
	uint8_t payload[PAYLOAD_LEN] = {0};

	payload[0] = what;
	payload[1] = (uint8_t)(replace_len >> 8);
	payload[2] = (uint8_t)replace_len;
	payload[4] = (uint8_t)(id >> 24);
	payload[5] = (uint8_t)(id >> 16);
	payload[6] = (uint8_t)(id >> 8);
	payload[7] = (uint8_t)id;
	script_packet(id, payload, sizeof(payload));
}

static void script_verdict_packet(uint32_t id, bool drop)
{
	script_do(id, drop ? DO_DROP : DO_ACCEPT, 0);
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
	const uint8_t *payload; /* NFQA_PAYLOAD's data, NULL without */
	size_t payload_len;
	const uint8_t *sent_at; /* where payload was in the sender's buffer */
};

struct attrs {
	const struct nlattr *tb[NFQA_MAX + 1];
	size_t used; /* octets the attributes take, padding included */
};

/* mnl_attr_parse's callback: a verdict carries these two, each once. */
static int verdict_attr(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type == NFQA_VERDICT_HDR || type == NFQA_PAYLOAD);
	if (type == NFQA_VERDICT_HDR)
		assert_int_equal(mnl_attr_validate2(
					 a, MNL_TYPE_UNSPEC,
					 sizeof(struct nfqnl_msg_verdict_hdr)),
				 0);
	assert_null(at->tb[type]);
	at->tb[type] = a;
	at->used += MNL_ALIGN(a->nla_len);
	return MNL_CB_OK;
}

/* Where sent.buf[off] was in the buffer sendmsg() was given. */
static const uint8_t *sender_address(size_t off)
{
	unsigned c = sent.calls < MAXSENDS ? sent.calls : MAXSENDS;

	while (c > 0 && sent.off[c - 1] > off)
		c--;
	assert_true(c > 0);
	return sent.base[c - 1] + (off - sent.off[c - 1]);
}

/* Parses what was sent into v[]; returns how many verdict messages. */
static size_t parse_sent(struct verdict *v, size_t max)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)sent.buf;
	int left = (int)sent.len;
	size_t n = 0;

	while (mnl_nlmsg_ok(nlh, left)) {
		struct attrs at = {{NULL}, 0};
		const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
		const struct nfqnl_msg_verdict_hdr *vh;
		const struct nlattr *pl;

		assert_true(n < max);
		assert_int_equal(nlh->nlmsg_type >> 8, NFNL_SUBSYS_QUEUE);
		/* no acknowledgement asked for on the packet path */
		assert_false(nlh->nlmsg_flags & NLM_F_ACK);
		assert_int_equal(ntohs(nfg->res_id), 0);
		v[n].type = nlh->nlmsg_type & 0xff;
		assert_int_equal(mnl_attr_parse(nlh, sizeof(*nfg), verdict_attr,
						&at),
				 MNL_CB_OK);
		/* the attributes fill the message: none cut or overlong */
		assert_int_equal(MNL_ALIGN(sizeof(*nlh)) +
					 MNL_ALIGN(sizeof(*nfg)) + at.used,
				 nlh->nlmsg_len);
		assert_non_null(at.tb[NFQA_VERDICT_HDR]);
		vh = mnl_attr_get_payload(at.tb[NFQA_VERDICT_HDR]);
		v[n].id = ntohl(vh->id);
		v[n].verdict = ntohl(vh->verdict);
		pl = at.tb[NFQA_PAYLOAD];
		v[n].payload = pl != NULL ? mnl_attr_get_payload(pl) : NULL;
		v[n].payload_len = pl != NULL ? mnl_attr_get_payload_len(pl)
					      : 0;
		v[n].sent_at = pl != NULL
				       ? sender_address((size_t)(v[n].payload -
								 sent.buf))
				       : NULL;
		n++;
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	assert_int_equal(left, 0);
	return n;
}

/*
 * The kernel's view of v[0..nv): packets first..first+n-1 are queued; a
 * verdict takes the one packet it names, which must still be queued (a
 * second verdict for it would be refused); a batch verdict takes every
 * packet still queued up to its id, and at least one.  At the end none
 * may be left waiting.  Returns how many packets went out replaced.
 */
static size_t kernel_takes(const struct verdict *v, size_t nv, uint32_t first,
			   size_t n)
{
	bool queued[2 * QUEUE_BATCH] = {false};
	size_t replaced = 0;

	assert_true(n <= 2 * QUEUE_BATCH);
	for (size_t i = 0; i < n; i++)
		queued[i] = true;
	for (size_t k = 0; k < nv; k++) {
		size_t i = v[k].id - first;

		assert_true(i < n);
		if (v[k].type == NFQNL_MSG_VERDICT) {
			assert_true(queued[i]);
			queued[i] = false;
			assert_true(v[k].verdict == NF_DROP ||
				    v[k].verdict == NF_ACCEPT);
			/* a single accept only ever carries a packet */
			assert_int_equal(v[k].verdict == NF_ACCEPT,
					 v[k].payload != NULL);
			replaced += v[k].payload != NULL;
		} else {
			bool took = false;

			assert_int_equal(v[k].type, NFQNL_MSG_VERDICT_BATCH);
			assert_int_equal(v[k].verdict, NF_ACCEPT);
			assert_null(v[k].payload);
			for (size_t j = 0; j <= i; j++) {
				took |= queued[j];
				queued[j] = false;
			}
			assert_true(took);
		}
	}
	for (size_t i = 0; i < n; i++)
		assert_false(queued[i]);
	return replaced;
}

/*
 * A replacement as sent: the octets the handler wrote, read where it
 * wrote them (no copy was made), and the attribute's padding zeroed.
 */
static void check_replacement(const struct handler_state *hs,
			      const struct verdict *v)
{
	const struct written *w = &hs->w[v->id % IDS];
	size_t pad = MNL_ALIGN(v->payload_len) - v->payload_len;

	assert_non_null(v->payload);
	assert_int_equal(v->payload_len, w->len);
	assert_memory_equal(v->payload, w->data, w->len);
	assert_ptr_equal(v->sent_at, w->buf);
	for (size_t i = 0; i < pad; i++)
		assert_int_equal(v->payload[v->payload_len + i], 0);
}

struct fixture {
	struct queue *q;
	struct stats stats;
	struct handler_state hs;
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
	f->h.arg = &f->hs;
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
	assert_int_equal(f->hs.calls, 5);
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
 * Random batches of accepts, drops and replacements: every packet gets
 * exactly one verdict (the kernel model says), drops and replacements
 * singly in the packets' order, then the batch accept for the latest
 * accepted id; each replacement carries what the handler wrote; the
 * counters add up.
 */
static void test_every_packet_one_verdict(void **state)
{
	struct fixture *f = *state;
	static struct verdict v[QUEUE_BATCH + 1];
	uint32_t id = 1;
	uint64_t total = 0, accepts = 0, drops = 0, replaces = 0;

	srand(7);
	for (int round = 0; round < 500; round++) {
		size_t n = 1 + (size_t)rand() % QUEUE_BATCH;
		uint8_t what[QUEUE_BATCH];
		uint32_t first = id, last_accept = 0;
		size_t nv, di = 0, nsingle = 0, nrepl = 0;

		sent.len = 0;
		sent.calls = 0;
		for (size_t i = 0; i < n; i++) {
			int r = rand() % 3;

			what[i] = r == 0   ? DO_DROP
				  : r == 1 ? DO_REPLACE
					   : DO_ACCEPT;
			if (what[i] == DO_ACCEPT)
				last_accept = id;
			else
				nsingle++;
			nrepl += what[i] == DO_REPLACE;
			script_do(id++, what[i],
				  1 + (size_t)rand() % QUEUE_REPLACE_MAX);
		}
		assert_int_equal(queue_process(f->q, &f->h, &f->stats), n);
		assert_int_equal(sent.calls, 1);
		nv = parse_sent(v, QUEUE_BATCH + 1);
		assert_int_equal(nv, nsingle + (nsingle < n));
		assert_int_equal(kernel_takes(v, nv, first, n), nrepl);
		for (size_t i = 0; i < n; i++) {
			if (what[i] == DO_ACCEPT)
				continue;
			assert_int_equal(v[di].type, NFQNL_MSG_VERDICT);
			assert_int_equal(v[di].id, first + i);
			if (what[i] == DO_REPLACE)
				check_replacement(&f->hs, &v[di]);
			else
				assert_int_equal(v[di].verdict, NF_DROP);
			di++;
		}
		if (nsingle < n) {
			assert_int_equal(v[di].type, NFQNL_MSG_VERDICT_BATCH);
			assert_int_equal(v[di].id, last_accept);
		}
		total += n;
		accepts += n - nsingle;
		drops += nsingle - nrepl;
		replaces += nrepl;
	}
	assert_int_equal(f->stats.c[STATS_VERDICTS], total);
	assert_int_equal(f->stats.c[STATS_PACKETS], total);
	assert_int_equal(f->stats.c[STATS_ACCEPTED], accepts);
	assert_int_equal(f->stats.c[STATS_DROPPED], drops);
	assert_int_equal(f->stats.c[STATS_REPLACED], replaces);
	assert_int_equal(f->stats.c[STATS_INTERNAL], 0);
	assert_int_equal(f->stats.c[STATS_ID_GAPS], 0);
}

/*
 * One batch of each kind: in one send, drop 3 and 8 and replacements 2,
 * 5 and 7 each with its own verdict in the packets' order (each
 * replacement NF_ACCEPT with the handler's bytes as NFQA_PAYLOAD, read
 * from where the handler wrote them), then the batch accept for 6, the
 * latest accepted, which leaves 1 and 4 to it.
 */
static void test_replace_batch_shape(void **state)
{
	struct fixture *f = *state;
	struct verdict v[8];
	static const uint8_t what[8] = {DO_ACCEPT,  DO_REPLACE, DO_DROP,
					DO_ACCEPT,  DO_REPLACE, DO_ACCEPT,
					DO_REPLACE, DO_DROP};
	static const size_t rlen[8] = {0, 41, 0, 0, QUEUE_REPLACE_MAX, 0, 1, 0};
	static const uint32_t want_id[5] = {2, 3, 5, 7, 8};

	for (uint32_t i = 0; i < 8; i++)
		script_do(i + 1, what[i], rlen[i]);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 8);
	assert_int_equal(sent.calls, 1);
	assert_int_equal(parse_sent(v, 8), 6);
	for (size_t k = 0; k < 5; k++) {
		uint32_t id = want_id[k];

		assert_int_equal(v[k].type, NFQNL_MSG_VERDICT);
		assert_int_equal(v[k].id, id);
		if (what[id - 1] == DO_REPLACE) {
			assert_int_equal(v[k].verdict, NF_ACCEPT);
			assert_int_equal(v[k].payload_len, rlen[id - 1]);
			check_replacement(&f->hs, &v[k]);
		} else {
			assert_int_equal(v[k].verdict, NF_DROP);
			assert_null(v[k].payload);
		}
	}
	assert_int_equal(v[5].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(v[5].id, 6);
	assert_int_equal(v[5].verdict, NF_ACCEPT);
	assert_int_equal(kernel_takes(v, 6, 1, 8), 3);
	assert_int_equal(f->hs.calls, 8);
	assert_int_equal(f->stats.c[STATS_PACKETS], 8);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 8);
	assert_int_equal(f->stats.c[STATS_ACCEPTED], 3);
	assert_int_equal(f->stats.c[STATS_DROPPED], 2);
	assert_int_equal(f->stats.c[STATS_REPLACED], 3);
	assert_int_equal(f->stats.c[STATS_INTERNAL], 0);
}

/* A whole batch of the longest replacements goes in one send. */
static void test_batch_of_longest_replacements(void **state)
{
	struct fixture *f = *state;
	static struct verdict v[QUEUE_BATCH + 1];

	for (uint32_t id = 1; id <= QUEUE_BATCH; id++)
		script_do(id, DO_REPLACE, QUEUE_REPLACE_MAX);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), QUEUE_BATCH);
	assert_int_equal(sent.calls, 1);
	assert_true(sent.len > QUEUE_BATCH * QUEUE_REPLACE_MAX);
	assert_int_equal(parse_sent(v, QUEUE_BATCH + 1), QUEUE_BATCH);
	for (size_t i = 0; i < QUEUE_BATCH; i++) {
		assert_int_equal(v[i].type, NFQNL_MSG_VERDICT);
		assert_int_equal(v[i].id, i + 1);
		assert_int_equal(v[i].verdict, NF_ACCEPT);
		assert_int_equal(v[i].payload_len, QUEUE_REPLACE_MAX);
		check_replacement(&f->hs, &v[i]);
	}
	assert_int_equal(kernel_takes(v, QUEUE_BATCH, 1, QUEUE_BATCH),
			 QUEUE_BATCH);
	assert_int_equal(f->stats.c[STATS_REPLACED], QUEUE_BATCH);
	assert_int_equal(f->stats.c[STATS_VERDICTS], QUEUE_BATCH);
	assert_int_equal(f->stats.c[STATS_ACCEPTED], 0);
}

/*
 * A handler that says QUEUE_REPLACE but gives no packet, or one longer
 * than the room, has its packet dropped (never accepted as it was) and
 * the bug counted.
 */
static void test_replace_bad_length_dropped(void **state)
{
	struct fixture *f = *state;
	struct verdict v[4];

	script_do(1, DO_REPLACE_EMPTY, 100);
	script_do(2, DO_REPLACE_OVER, QUEUE_REPLACE_MAX);
	script_do(3, DO_ACCEPT, 0);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), 3);
	assert_int_equal(f->hs.w[1].len, 0);
	assert_int_equal(f->hs.w[2].len, QUEUE_REPLACE_MAX + 1);
	assert_int_equal(parse_sent(v, 4), 3);
	assert_int_equal(v[0].id, 1);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_null(v[0].payload);
	assert_int_equal(v[1].id, 2);
	assert_int_equal(v[1].verdict, NF_DROP);
	assert_null(v[1].payload);
	assert_int_equal(v[2].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(v[2].id, 3);
	assert_int_equal(kernel_takes(v, 3, 1, 3), 0);
	assert_int_equal(f->stats.c[STATS_INTERNAL], 2);
	assert_int_equal(f->stats.c[STATS_DROPPED], 2);
	assert_int_equal(f->stats.c[STATS_ACCEPTED], 1);
	assert_int_equal(f->stats.c[STATS_REPLACED], 0);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 3);
}

/*
 * The kernel sends one packet a datagram; should a datagram carry two,
 * a batch holds twice QUEUE_BATCH packets, more than the verdict buffer
 * is made for.  The verdicts then go in two sends, each whole and right.
 */
static void test_two_packets_a_datagram(void **state)
{
	struct fixture *f = *state;
	static struct verdict v[2 * QUEUE_BATCH + 2];
	size_t nv;

	for (uint32_t id = 1; id <= 2 * QUEUE_BATCH; id += 2) {
		size_t first;

		script_do(id, DO_REPLACE, QUEUE_REPLACE_MAX);
		script_do(id + 1,
			  id == 2 * QUEUE_BATCH - 1 ? DO_ACCEPT : DO_REPLACE,
			  QUEUE_REPLACE_MAX);
		/* move the second message in after the first */
		script.n--;
		first = script.len[script.n - 1];
		memcpy(script.buf[script.n - 1] + first, script.buf[script.n],
		       script.len[script.n]);
		script.len[script.n - 1] += script.len[script.n];
	}
	assert_int_equal(script.n, QUEUE_BATCH);
	assert_int_equal(queue_process(f->q, &f->h, &f->stats), QUEUE_BATCH);
	assert_int_equal(f->hs.calls, 2 * QUEUE_BATCH);
	assert_int_equal(sent.calls, 2);
	nv = parse_sent(v, 2 * QUEUE_BATCH + 2);
	assert_int_equal(nv, 2 * QUEUE_BATCH);
	assert_int_equal(kernel_takes(v, nv, 1, 2 * QUEUE_BATCH),
			 2 * QUEUE_BATCH - 1);
	for (size_t i = 0; i + 1 < nv; i++) {
		assert_int_equal(v[i].id, i + 1);
		check_replacement(&f->hs, &v[i]);
	}
	assert_int_equal(v[nv - 1].type, NFQNL_MSG_VERDICT_BATCH);
	assert_int_equal(v[nv - 1].id, 2 * QUEUE_BATCH);
	assert_int_equal(f->stats.c[STATS_VERDICTS], 2 * QUEUE_BATCH);
	assert_int_equal(f->stats.c[STATS_REPLACED], 2 * QUEUE_BATCH - 1);
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
	assert_int_equal(f->hs.calls, 3);
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
		cmocka_unit_test_setup_teardown(test_replace_batch_shape, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_batch_of_longest_replacements, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_bad_length_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_packets_a_datagram,
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
