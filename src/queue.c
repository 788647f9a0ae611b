/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "queue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <libnetfilter_queue/linux_nfnetlink_queue.h>

#include "clock.h"

#define PACKET_TYPE ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)

/* A verdict message: header, nfgenmsg, one NFQA_VERDICT_HDR attribute. */
#define VERDICT_MSG_LEN                       \
	(MNL_ALIGN(sizeof(struct nlmsghdr)) + \
	 MNL_ALIGN(sizeof(struct nfgenmsg)) + \
	 MNL_ALIGN(sizeof(struct nlattr)) +   \
	 MNL_ALIGN(sizeof(struct nfqnl_msg_verdict_hdr)))

/*
 * A replacement: a verdict message and an NFQA_PAYLOAD attribute holding
 * the new packet.
 */
#define REPLACE_MSG_LEN                                       \
	(VERDICT_MSG_LEN + MNL_ALIGN(sizeof(struct nlattr)) + \
	 MNL_ALIGN(QUEUE_REPLACE_MAX))

/*
 * The verdicts of one batch: each packet may need a message of its own
 * (a replacement at the most), then the batch accept.  About 165 KiB.
 */
#define OUT_LEN (QUEUE_BATCH * REPLACE_MSG_LEN + VERDICT_MSG_LEN)

/* Netlink refuses a send longer than the send buffer less this. */
#define SNDBUF_SLACK 32

/* Room for a config message, its acknowledgement or a packet meanwhile. */
#define NL_BUF_LEN 8192

/* Bytes the kernel charges a queued packet's message to the rcvbuf. */
#define RCVBUF_PER_PACKET 2048

struct queue {
	int fd;
	uint16_t num;
	struct mnl_socket *nl; /* NULL when made by queue_from_fd */
	bool have_last;
	uint32_t last_id;
	struct mmsghdr msgs[QUEUE_BATCH];
	struct iovec iov[QUEUE_BATCH];
	uint8_t (*bufs)[QUEUE_MSG_MAX];
	char *out; /* OUT_LEN octets: the verdicts of a batch */
};

static void queue_free(struct queue *q)
{
	free(q->bufs);
	free(q->out);
	free(q);
}

static struct queue *queue_alloc(int fd, uint16_t num)
{
	struct queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	/* untouched: a page is resident once a message that long came */
	q->bufs = aligned_alloc(4096, QUEUE_BATCH * QUEUE_MSG_MAX);
	/* likewise: a batch of replacements is what fills it */
	q->out = calloc(1, OUT_LEN);
	if (q->bufs == NULL || q->out == NULL) {
		queue_free(q);
		errno = ENOMEM;
		return NULL;
	}
	q->fd = fd;
	q->num = num;
	for (size_t i = 0; i < QUEUE_BATCH; i++) {
		q->iov[i].iov_base = q->bufs[i];
		q->iov[i].iov_len = QUEUE_MSG_MAX;
		q->msgs[i].msg_hdr.msg_iov = &q->iov[i];
		q->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return q;
}

struct queue *queue_from_fd(int fd, uint16_t num)
{
	struct queue *q = queue_alloc(fd, num);

	if (q == NULL)
		close(fd);
	return q;
}

void queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	else
		close(q->fd);
	queue_free(q);
}

int queue_fd(const struct queue *q)
{
	return q->fd;
}

uint16_t queue_num(const struct queue *q)
{
	return q->num;
}

static int send_all(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {
		.msg_name = &kernel,
		.msg_namelen = sizeof(kernel),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	/* a send to the kernel is synchronous; retry only the transient */
	for (int tries = 0; tries < 3; tries++) {
		ssize_t n = sendmsg(fd, &mh, 0);

		if (n >= 0)
			return 0;
		if (errno != EINTR && errno != EAGAIN && errno != ENOBUFS)
			break;
	}
	return -errno;
}

static size_t put_verdict(char *out, size_t off, uint16_t num, int type,
			  uint32_t id, int verdict)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(out + off, type, num);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	return off + MNL_ALIGN(nlh->nlmsg_len);
}

/*
 * Ends the NFQA_PAYLOAD attribute a whose data, len octets, the handler
 * wrote in place, and adds it to nlh.  This is mnl_attr_put() (and
 * nfq_nlmsg_verdict_put_pkt(), which calls it) without its memcpy(): the
 * data is already where the copy would put it, and a memcpy() onto itself
 * is undefined.
 */
static void end_payload(struct nlmsghdr *nlh, struct nlattr *a, size_t len)
{
	a->nla_type = NFQA_PAYLOAD;
	a->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
	/* the padding is sent too: no stale octets of an earlier batch */
	memset((char *)mnl_attr_get_payload(a) + len, 0, MNL_ALIGN(len) - len);
	nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
}

/* Bookkeeping of one batch while it is being decided. */
struct batch {
	size_t out_len;
	bool any_accept;
	uint32_t accept_id; /* the latest accepted id */
	unsigned accepted, dropped, replaced;
};

static void note_id(struct queue *q, uint32_t id, struct stats *s)
{
	/* ids are consecutive per queue; a jump means lost messages */
	if (q->have_last && id != q->last_id + 1) {
		int32_t jump = (int32_t)(id - q->last_id);

		if (jump > 1)
			s->c[STATS_ID_GAPS] += (uint32_t)jump - 1;
	}
	q->have_last = true;
	q->last_id = id;
}

/*
 * Sends the verdicts decided so far, the batch accept last, and starts
 * the batch afresh.
 */
static void send_batch(struct queue *q, struct batch *b, struct stats *s)
{
	/*
	 * The batch verdict accepts every id still queued up to accept_id,
	 * and so would let a dropped or replaced packet below it through as
	 * it was.  None is still queued by then: its own verdict precedes
	 * the batch's in this same send, and the kernel takes the messages
	 * of a send one after the other, in order.
	 */
	if (b->any_accept)
		b->out_len = put_verdict(q->out, b->out_len, q->num,
					 NFQNL_MSG_VERDICT_BATCH, b->accept_id,
					 NF_ACCEPT);
	if (b->out_len > 0 && send_all(q->fd, q->out, b->out_len) < 0) {
		s->c[STATS_SEND_FAIL]++;
	} else {
		s->c[STATS_VERDICTS] += b->accepted + b->dropped + b->replaced;
		s->c[STATS_ACCEPTED] += b->accepted;
		s->c[STATS_DROPPED] += b->dropped;
		s->c[STATS_REPLACED] += b->replaced;
	}
	*b = (struct batch){0};
}

/*
 * A message cut short by the receive buffer: find the packet id among the
 * attributes that did arrive, so the packet can still be accepted.
 */
static bool truncated_id(const struct nlmsghdr *nlh, size_t got, uint32_t *id)
{
	size_t off =
		MNL_ALIGN(sizeof(*nlh)) + MNL_ALIGN(sizeof(struct nfgenmsg));
	const char *base = (const char *)nlh;

	while (off + sizeof(struct nlattr) <= got) {
		const struct nlattr *a = (const struct nlattr *)(base + off);

		if (a->nla_len < sizeof(*a) || off + a->nla_len > got)
			return false;
		if (mnl_attr_get_type(a) == NFQA_PACKET_HDR &&
		    mnl_attr_get_payload_len(a) >=
			    sizeof(struct nfqnl_msg_packet_hdr)) {
			const struct nfqnl_msg_packet_hdr *ph =
				mnl_attr_get_payload(a);

			*id = ntohl(ph->packet_id);
			return true;
		}
		off += MNL_ALIGN(a->nla_len);
	}
	return false;
}

/*
 * Decides one packet: pl is its payload attribute (NULL when the message
 * came without one, which the handler decides as unreadable), cap_len the
 * packet's own length when the kernel copied less of it (0 otherwise).
 */
static void decide_one(struct queue *q, const struct queue_handler *h,
		       struct batch *b, uint32_t id, const struct nlattr *pl,
		       uint32_t cap_len, uint64_t now, struct stats *s)
{
	struct nlmsghdr *nlh;
	struct nlattr *a;
	struct queue_out out;
	enum queue_verdict v;

	/*
	 * The kernel sends one packet a datagram, so a batch holds at most
	 * QUEUE_BATCH and out has room for them all.  Should a datagram
	 * ever carry more, what is decided goes first rather than past the
	 * end of out.
	 */
	if (OUT_LEN - b->out_len < REPLACE_MSG_LEN + VERDICT_MSG_LEN)
		send_batch(q, b, s);
	/*
	 * The packet's own message, should it need one, goes at out_len.  It
	 * is made a replacement beforehand, its payload attribute begun, so
	 * that the handler writes a new packet where that attribute's data
	 * goes: nothing is copied.  A drop is written over it, an accept
	 * leaves it unsent.
	 */
	nlh = nfq_nlmsg_put(q->out + b->out_len, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	a = mnl_nlmsg_get_payload_tail(nlh);
	out = (struct queue_out){.buf = mnl_attr_get_payload(a),
				 .room = QUEUE_REPLACE_MAX};
	s->c[STATS_PACKETS]++;
	note_id(q, id, s);
	if (pl != NULL) {
		if (cap_len > mnl_attr_get_payload_len(pl))
			s->c[STATS_CUT]++;
		v = h->decide(h->arg, mnl_attr_get_payload(pl),
			      mnl_attr_get_payload_len(pl), now, &out);
	} else {
		s->c[STATS_INTERNAL]++;
		v = h->decide(h->arg, NULL, 0, now, &out);
	}
	if (v == QUEUE_REPLACE &&
	    (out.len == 0 || out.len > QUEUE_REPLACE_MAX)) {
		/* the handler meant to limit this packet: not the original */
		s->c[STATS_INTERNAL]++;
		v = QUEUE_DROP;
	}
	if (v == QUEUE_REPLACE) {
		end_payload(nlh, a, out.len);
		b->out_len += MNL_ALIGN(nlh->nlmsg_len);
		b->replaced++;
	} else if (v == QUEUE_DROP) {
		b->out_len = put_verdict(q->out, b->out_len, q->num,
					 NFQNL_MSG_VERDICT, id, NF_DROP);
		b->dropped++;
	} else {
		b->any_accept = true;
		b->accept_id = id;
		b->accepted++;
	}
}

static void handle_msg(struct queue *q, const struct queue_handler *h,
		       struct batch *b, const struct nlmsghdr *nlh,
		       uint64_t now, struct stats *s)
{
	struct nlattr *attr[NFQA_MAX + 1] = {NULL};
	const struct nfqnl_msg_packet_hdr *ph;

	if (nlh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*e) &&
		    e->error != 0)
			s->c[STATS_NL_ERRORS]++;
		return;
	}
	if (nlh->nlmsg_type != PACKET_TYPE)
		return;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL) {
		/* without an id there is nothing to answer */
		s->c[STATS_INTERNAL]++;
		return;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	decide_one(q, h, b, ntohl(ph->packet_id), attr[NFQA_PAYLOAD],
		   attr[NFQA_CAP_LEN] != NULL &&
				   mnl_attr_get_payload_len(
					   attr[NFQA_CAP_LEN]) >= 4
			   ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]))
			   : 0,
		   now, s);
}

static void handle_buffer(struct queue *q, const struct queue_handler *h,
			  struct batch *b, const uint8_t *buf, size_t len,
			  bool truncated, uint64_t now, struct stats *s)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int left = (int)len;
	uint32_t id;

	if (truncated) {
		/* decide_one counts the internal error of a payload-less one */
		if (len >= sizeof(*nlh) && nlh->nlmsg_type == PACKET_TYPE &&
		    truncated_id(nlh, len, &id))
			decide_one(q, h, b, id, NULL, 0, now, s);
		else
			s->c[STATS_INTERNAL]++;
		return;
	}
	while (mnl_nlmsg_ok(nlh, left)) {
		handle_msg(q, h, b, nlh, now, s);
		nlh = mnl_nlmsg_next(nlh, &left);
	}
}

int queue_process(struct queue *q, const struct queue_handler *h,
		  struct stats *s)
{
	struct batch b = {0};
	uint64_t now;
	int n;

	n = recvmmsg(q->fd, q->msgs, QUEUE_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		if (errno == ENOBUFS) {
			s->c[STATS_ENOBUFS]++;
			return 0;
		}
		return -errno;
	}
	if (n == 0)
		return 0;
	s->c[STATS_BATCHES]++;
	now = clock_now();
	for (int i = 0; i < n; i++)
		handle_buffer(q, h, &b, q->bufs[i], q->msgs[i].msg_len,
			      q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC, now, s);
	send_batch(q, &b, s);
	return n;
}

/*
 * Sends one config message and waits for its acknowledgement.  Packets
 * that arrive meanwhile (the queue is live once bound) are accepted at
 * once, so none waits for a verdict that never comes.
 */
static int config_ack(struct queue *q, struct nlmsghdr *nlh)
{
	char buf[NL_BUF_LEN] = {0}; /* attribute padding is sent as is */
	uint32_t portid = mnl_socket_get_portid(q->nl);
	uint32_t seq = (uint32_t)time(NULL);

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
		int left = (int)n;

		if (n < 0)
			return errno == ENOBUFS ? -EAGAIN : -errno;
		for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
			struct nlattr *attr[NFQA_MAX + 1] = {NULL};
			const struct nlmsgerr *e;

			if (m->nlmsg_type == PACKET_TYPE) {
				char vbuf[VERDICT_MSG_LEN];
				const struct nfqnl_msg_packet_hdr *ph;

				if (nfq_nlmsg_parse(m, attr) < 0 ||
				    attr[NFQA_PACKET_HDR] == NULL)
					continue;
				ph = mnl_attr_get_payload(
					attr[NFQA_PACKET_HDR]);
				put_verdict(vbuf, 0, q->num, NFQNL_MSG_VERDICT,
					    ntohl(ph->packet_id), NF_ACCEPT);
				q->have_last = true;
				q->last_id = ntohl(ph->packet_id);
				send_all(q->fd, vbuf, sizeof(vbuf));
				continue;
			}
			if (m->nlmsg_type != NLMSG_ERROR ||
			    m->nlmsg_seq != seq || m->nlmsg_pid != portid)
				continue;
			e = mnl_nlmsg_get_payload(m);
			return e->error; /* 0 is the acknowledgement */
		}
	}
}

static int configure(struct queue *q, const struct queue_params *qp)
{
	char buf[NL_BUF_LEN] = {0}; /* attribute padding is sent as is */
	struct nlmsghdr *nlh;
	uint32_t flags = qp->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0;
	int rc;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qp->num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	rc = config_ack(q, nlh);
	if (rc < 0)
		return rc;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, qp->num);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)qp->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, qp->maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	return config_ack(q, nlh);
}

static int size_rcvbuf(int fd, uint32_t maxlen, uint32_t bytes)
{
	uint64_t want = bytes > 0 ? bytes
				  : (uint64_t)maxlen * RCVBUF_PER_PACKET;
	int v = want > INT32_MAX ? INT32_MAX : (int)want;

	/* FORCE passes rmem_max; it needs CAP_NET_ADMIN, which we hold */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) == 0)
		return 0;
	return -errno;
}

/* One send carries a batch's verdicts, replacements and all. */
static int size_sndbuf(int fd)
{
	int want = OUT_LEN + SNDBUF_SLACK;
	int have = 0;
	socklen_t len = sizeof(have);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 &&
	    have >= want)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) ==
	    0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)) == 0)
		return 0;
	return -errno;
}

struct queue *queue_open(const struct queue_params *qp)
{
	struct mnl_socket *nl;
	struct queue *q = NULL;
	int one = 1;
	int rc;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl == NULL)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	q = queue_alloc(mnl_socket_get_fd(nl), qp->num);
	if (q == NULL)
		goto fail;
	q->nl = nl;
	rc = size_rcvbuf(q->fd, qp->maxlen, qp->rcvbuf);
	if (rc == 0)
		rc = size_sndbuf(q->fd);
	if (rc == 0)
		rc = configure(q, qp);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	/* losses show as id gaps; an error would only interrupt recv */
	if (setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one,
		       sizeof(one)) < 0)
		goto fail;
	return q;
fail:
	rc = errno;
	if (q != NULL)
		queue_free(q);
	mnl_socket_close(nl);
	errno = rc;
	return NULL;
}

int queue_stop_intake(struct queue *q)
{
	char buf[NL_BUF_LEN] = {0}; /* attribute padding is sent as is */
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->num);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 0);
	return send_all(q->fd, nlh, nlh->nlmsg_len);
}

int queue_kstats_open(void)
{
	int fd = open("/proc/net/netfilter/nfnetlink_queue",
		      O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int queue_kstats_read(int fd, uint16_t num, struct queue_kstats *ks)
{
	/* a line a bound queue; the kernel has at most 65536 */
	static char buf[65536 * 72];
	unsigned qn, portid, total, mode, range, dropped, udropped, seq, one;
	size_t len = 0;
	const char *line;

	/* pread from 0 regenerates the seq_file: fresh counters each time */
	while (len < sizeof(buf) - 1) {
		ssize_t n =
			pread(fd, buf + len, sizeof(buf) - 1 - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (line = buf; *line != '\0';) {
		if (sscanf(line, "%u %u %u %u %u %u %u %u %u", &qn, &portid,
			   &total, &mode, &range, &dropped, &udropped, &seq,
			   &one) == 9 &&
		    qn == num) {
			ks->total = total;
			ks->dropped = dropped;
			ks->user_dropped = udropped;
			ks->id_sequence = seq;
			return 0;
		}
		line = strchr(line, '\n');
		if (line == NULL)
			break;
		line++;
	}
	return -ENOENT;
}
