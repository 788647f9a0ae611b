/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nfacct.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_acct.h>
#include <linux/netlink.h>

_Static_assert(NFACCT_NAME_LEN == NFACCT_NAME_MAX - 1, "name length");

/* The kernel answers within the sendmsg(); this only bounds a hang. */
#define RECV_TIMEOUT_S 5

struct nfacct {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char buf[32768]; /* a dump datagram, at most (as kset.c) */
};

/* What a reply's data messages are read for. */
struct reply {
	int (*fn)(void *arg, const char *name);
	void *arg;
	int stop;	   /* what fn stopped with */
	uint64_t *packets; /* nfacct_get */
	bool got;	   /* nfacct_get: the counter was there */
};

struct nfacct *nfacct_open(void)
{
	struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	struct nfacct *n = calloc(1, sizeof(*n));
	int err;

	if (n == NULL)
		return NULL;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (n->nl == NULL ||
	    mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0) {
		err = errno;
		nfacct_close(n);
		errno = err;
		return NULL;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	return n;
}

void nfacct_close(struct nfacct *n)
{
	if (n == NULL)
		return;
	if (n->nl != NULL)
		mnl_socket_close(n->nl);
	free(n);
}

static int name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -EINVAL;
	return len > NFACCT_NAME_LEN ? -ENAMETOOLONG : 0;
}

/* A request of type msg in buf, with the name attribute when not NULL. */
static struct nlmsghdr *request(struct nfacct *n, uint8_t msg, uint16_t flags,
				const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(n->buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ACCT << 8) | msg;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++n->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (name != NULL)
		mnl_attr_put_strz(nlh, NFACCT_NAME, name);
	return nlh;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFACCT_MAX) < 0)
		return MNL_CB_OK; /* newer than we know: skipped */
	tb[type] = a;
	return MNL_CB_OK;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply *r = data;
	const struct nlattr *tb[NFACCT_MAX + 1] = {0};

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	if (r->packets != NULL) {
		if (tb[NFACCT_PKTS] == NULL ||
		    mnl_attr_validate(tb[NFACCT_PKTS], MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		*r->packets = be64toh(mnl_attr_get_u64(tb[NFACCT_PKTS]));
		r->got = true;
	}
	if (r->fn != NULL && r->stop == 0 && tb[NFACCT_NAME] != NULL &&
	    mnl_attr_validate(tb[NFACCT_NAME], MNL_TYPE_NUL_STRING) == 0)
		r->stop = r->fn(r->arg, mnl_attr_get_str(tb[NFACCT_NAME]));
	return MNL_CB_OK;
}

/* Sends the request in buf and reads its answer to the end: 0 or -errno */
static int exchange(struct nfacct *n, struct reply *r)
{
	const struct nlmsghdr *req = (const void *)n->buf;
	uint32_t seq = req->nlmsg_seq;
	ssize_t len;
	int rc;

	if (mnl_socket_sendto(n->nl, n->buf, req->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		if (len < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		rc = mnl_cb_run(n->buf, (size_t)len, seq, n->portid, data_cb,
				r);
	} while (rc == MNL_CB_OK);
	return rc == MNL_CB_ERROR ? -errno : 0;
}

int nfacct_make(struct nfacct *n, const char *name)
{
	struct reply r = {0};
	int rc = name_check(name);

	if (rc < 0)
		return rc;
	request(n, NFNL_MSG_ACCT_NEW, NLM_F_CREATE | NLM_F_ACK, name);
	rc = exchange(n, &r);
	/* one of that name exists: kept as it is (NLM_F_REPLACE would zero
	 * its counts) */
	return rc == -EBUSY || rc == -EEXIST ? 0 : rc;
}

int nfacct_get(struct nfacct *n, const char *name, uint64_t *packets)
{
	struct reply r = {.packets = packets};
	int rc = name_check(name);

	if (rc < 0)
		return rc;
	request(n, NFNL_MSG_ACCT_GET, NLM_F_ACK, name);
	rc = exchange(n, &r);
	if (rc == 0 && !r.got)
		rc = -EPROTO;
	return rc;
}

int nfacct_delete(struct nfacct *n, const char *name)
{
	struct reply r = {0};
	int rc = name_check(name);

	if (rc < 0)
		return rc;
	request(n, NFNL_MSG_ACCT_DEL, NLM_F_ACK, name);
	return exchange(n, &r);
}

int nfacct_names(struct nfacct *n, int (*fn)(void *arg, const char *name),
		 void *arg)
{
	struct reply r = {.fn = fn, .arg = arg};
	int rc;

	request(n, NFNL_MSG_ACCT_GET, NLM_F_DUMP, NULL);
	rc = exchange(n, &r);
	return rc < 0 ? rc : r.stop;
}
