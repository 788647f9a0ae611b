/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "kset.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/ipset/ip_set_hash.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "wire.h"

/* Protocol versions we speak: our messages are the same in both. */
#define PROTO_MIN 6
#define PROTO_MAX 7

#define HASH_NET "hash:net"
#define HASH_NET_REV_COMMENT 4 /* the first revision with comments */
#define HASH_NET_REV_MAX 7     /* the newest we know (bucketsize, initval) */

/*
 * Netlink caps what a dump puts in one datagram by the largest buffer the
 * reader has offered, at most 32 KiB (netlink_recvmsg): this always
 * holds one.
 */
#define RBUF_LEN 32768
/* Room for the largest message (an add with a 255-byte comment) */
#define MSG_MAX 512
#define SBUF_LEN (KSET_BATCH * MSG_MAX)
/*
 * The answers of a batch wait in the socket until we read them: 832 bytes
 * of rcvbuf each (measured on 6.18, ack or error), 104 KiB a batch, within
 * the default rcvbuf (208 KiB); we ask for more, as headroom.
 */
#define RCVBUF (KSET_BATCH * 2048)
/* The kernel answers within the sendmsg(); this only bounds a hang. */
#define RECV_TIMEOUT_S 5
#define PENDING 1 /* a result not yet answered */

/* One array of attributes by type, for every nesting level we read. */
#define TB_MAX 31

_Static_assert(KSET_NAME_MAX == IPSET_MAXNAMELEN - 1, "name length");
_Static_assert(KSET_COMMENT_MAX == IPSET_MAX_COMMENT_SIZE, "comment length");
_Static_assert(KSET_MAX_TIMEOUT == (0xffffffffu >> 1) / 1000, "timeout");
_Static_assert(KSET_EMAXSETS == IPSET_ERR_MAX_SETS, "max sets");
_Static_assert(KSET_ETYPE_MISMATCH == IPSET_ERR_TYPE_MISMATCH, "mismatch");
_Static_assert(KSET_ENOTIMEOUT == IPSET_ERR_TIMEOUT, "timeout ext");
_Static_assert(KSET_ENOCOUNTERS == IPSET_ERR_COUNTER, "counter ext");
_Static_assert(KSET_ENOCOMMENT == IPSET_ERR_COMMENT, "comment ext");
_Static_assert(TB_MAX >= IPSET_ATTR_CMD_MAX && TB_MAX >= IPSET_ATTR_ADT_MAX &&
		       TB_MAX >= IPSET_ATTR_CREATE_MAX,
	       "attribute table");
_Static_assert(AF_INET == NFPROTO_IPV4 && AF_INET6 == NFPROTO_IPV6, "families");

struct kset {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint8_t protocol;
	uint8_t revision; /* of hash:net to create with; 0: not asked yet */
	int res[2][KSET_BATCH];	   /* a batch's answers, both passes */
	size_t idx[2][KSET_BATCH]; /* what each message of a batch is for */
	uint8_t sbuf[SBUF_LEN];
	uint8_t rbuf[RBUF_LEN];
};

/* Reads one data message of a reply (see exchange()). */
typedef int (*data_fn)(struct kset *k, const struct nlmsghdr *nlh, void *arg);

static int name_check(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return -EINVAL;
	if (strnlen(name, KSET_NAME_MAX + 1) > KSET_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* ipset's codes as errnos where one says the same, in the command's terms */
static int map_err(uint8_t cmd, int err)
{
	switch (-err) {
	case IPSET_ERR_PROTOCOL:
		return -EPROTO;
	case IPSET_ERR_FIND_TYPE:
		return -EOPNOTSUPP;
	case IPSET_ERR_BUSY:
	case IPSET_ERR_REFERENCED:
		return -EBUSY;
	case IPSET_ERR_EXIST_SETNAME2:
		return -EEXIST;
	case IPSET_ERR_EXIST:
		/* the element is there (add), or is not (del, test) */
		return cmd == IPSET_CMD_ADD ? -EEXIST : -ENOENT;
	case IPSET_ERR_INVALID_CIDR:
	case IPSET_ERR_INVALID_NETMASK:
	case IPSET_ERR_IPADDR_IPV4:
	case IPSET_ERR_IPADDR_IPV6:
	case IPSET_ERR_HASH_ELEM:
		return -EINVAL;
	case IPSET_ERR_INVALID_FAMILY:
		return -EAFNOSUPPORT;
	case IPSET_ERR_HASH_FULL:
		return -ENOSPC;
	default:
		return err; /* an errno, or a code kset_strerror explains */
	}
}

/* Header, nfgenmsg and the protocol version every ipset message starts with */
static struct nlmsghdr *msg_start(struct kset *k, void *buf, uint8_t cmd,
				  uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_IPSET << 8) | cmd;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++k->seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	/* the version query carries ours; the rest the negotiated one */
	mnl_attr_put_u8(nlh, IPSET_ATTR_PROTOCOL,
			cmd == IPSET_CMD_PROTOCOL ? PROTO_MAX : k->protocol);
	return nlh;
}

/* ipset wants its numbers big-endian, and flagged so (NLA_F_NET_BYTEORDER) */
static void put_be32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
	mnl_attr_put_u32(nlh, type | NLA_F_NET_BYTEORDER, htonl(v));
}

static void put_be64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	mnl_attr_put_u64(nlh, type | NLA_F_NET_BYTEORDER, htobe64(v));
}

static int tb_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	/* unknown (newer) attributes are not ours to read */
	if (type <= TB_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static bool get_u8(const struct nlattr *a, uint8_t *v)
{
	if (a == NULL || mnl_attr_get_payload_len(a) < 1)
		return false;
	*v = *(const uint8_t *)mnl_attr_get_payload(a);
	return true;
}

static bool get_be32(const struct nlattr *a, uint32_t *v)
{
	if (a == NULL || mnl_attr_get_payload_len(a) != 4)
		return false;
	*v = wire_read32(mnl_attr_get_payload(a));
	return true;
}

static bool get_be64(const struct nlattr *a, uint64_t *v)
{
	const uint8_t *p;

	if (a == NULL || mnl_attr_get_payload_len(a) != 8)
		return false;
	p = mnl_attr_get_payload(a);
	*v = (uint64_t)wire_read32(p) << 32 | wire_read32(p + 4);
	return true;
}

/* A NUL-terminated string attribute, or NULL */
static const char *get_str(const struct nlattr *a)
{
	const char *s;
	uint16_t len;

	if (a == NULL)
		return NULL;
	s = mnl_attr_get_payload(a);
	len = mnl_attr_get_payload_len(a);
	return len > 0 && memchr(s, '\0', len) != NULL ? s : NULL;
}

/*
 * Parses a data message of the reply to cmd into tb: its type must be
 * cmd's and, but for the version query, its protocol ours.
 */
static int msg_parse(const struct kset *k, const struct nlmsghdr *nlh,
		     uint8_t cmd, const struct nlattr **tb)
{
	uint8_t proto;

	memset(tb, 0, (TB_MAX + 1) * sizeof(*tb));
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_IPSET << 8) | cmd) ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return -EPROTO;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), tb_cb, tb) < 0)
		return -EPROTO;
	if (!get_u8(tb[IPSET_ATTR_PROTOCOL], &proto))
		return -EPROTO;
	if (cmd != IPSET_CMD_PROTOCOL && proto != k->protocol)
		return -EPROTO;
	return 0;
}

static int nested_parse(const struct nlattr *nest, const struct nlattr **tb)
{
	memset(tb, 0, (TB_MAX + 1) * sizeof(*tb));
	if (nest == NULL || mnl_attr_parse_nested(nest, tb_cb, tb) < 0)
		return -EPROTO;
	return 0;
}

static int send_buf(struct kset *k, size_t len)
{
	ssize_t n = mnl_socket_sendto(k->nl, k->sbuf, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* One datagram into rbuf: its length, or -errno (-ETIMEDOUT: no answer) */
static int recv_one(struct kset *k)
{
	ssize_t n = mnl_socket_recvfrom(k->nl, k->rbuf, sizeof(k->rbuf));

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT
							       : -errno;
	return (int)n;
}

/* The error of an NLMSG_ERROR (0: an ack), or -EPROTO when cut short */
static int nlmsg_err(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(int)))
		return -EPROTO;
	return e->error > 0 ? -EPROTO : e->error;
}

/* The error a dump that failed midway ends with (0: it did not) */
static int done_err(const struct nlmsghdr *nlh)
{
	int err;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(err)))
		return 0;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	return err;
}

/*
 * Sends the one request at the start of sbuf and reads its reply: data
 * messages go to fn (if fn returns nonzero, it gets no more and that
 * value is kept), until the ack or error (a plain request) or the end of
 * the dump (NLM_F_DUMP), read to its end in any case so that nothing of
 * it is left for the next request.  Messages of other requests (an
 * earlier one given up on) are skipped.  Returns the kernel's error
 * (mapped), else the value fn stopped with, else 0.
 */
static int exchange(struct kset *k, data_fn fn, void *arg)
{
	const struct nlmsghdr *req = (const void *)k->sbuf;
	bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	uint32_t seq = req->nlmsg_seq;
	uint8_t cmd = req->nlmsg_type & 0xff;
	int stop = 0, err;

	err = send_buf(k, req->nlmsg_len);
	if (err < 0)
		return err;
	for (;;) {
		const struct nlmsghdr *nlh = (const void *)k->rbuf;
		int rem = recv_one(k);

		if (rem < 0)
			return rem;
		for (; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_seq != seq ||
			    nlh->nlmsg_pid != k->portid)
				continue;
			switch (nlh->nlmsg_type) {
			case NLMSG_ERROR:
				err = nlmsg_err(nlh);
				return err < 0 ? map_err(cmd, err) : stop;
			case NLMSG_DONE:
				if (!dump)
					return -EPROTO;
				err = done_err(nlh);
				return err < 0 ? map_err(cmd, err) : stop;
			case NLMSG_NOOP:
			case NLMSG_OVERRUN:
				continue;
			default:
				break;
			}
			if (stop != 0)
				continue;
			stop = fn != NULL ? fn(k, nlh, arg) : -EPROTO;
		}
	}
}

/*
 * Sends the m requests (all of command cmd) in sbuf[0..len), sequence
 * numbers first.., and reads an answer for each into res[].  Returns 0,
 * or -errno when the socket failed (the requests still unanswered get it
 * too).
 */
static int exchange_batch(struct kset *k, uint8_t cmd, size_t len,
			  uint32_t first, size_t m, int *res)
{
	size_t got = 0, i;
	int err;

	for (i = 0; i < m; i++)
		res[i] = PENDING;
	err = send_buf(k, len);
	while (err == 0 && got < m) {
		const struct nlmsghdr *nlh = (const void *)k->rbuf;
		int rem = recv_one(k);

		if (rem < 0) {
			err = rem;
			break;
		}
		for (; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			/* the answer's sequence number says whose it is */
			uint32_t j = nlh->nlmsg_seq - first;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_pid != k->portid || j >= m ||
			    res[j] != PENDING)
				continue;
			res[j] = nlmsg_err(nlh);
			if (res[j] < 0)
				res[j] = map_err(cmd, res[j]);
			got++;
		}
	}
	if (err < 0)
		for (i = 0; i < m; i++)
			if (res[i] == PENDING)
				res[i] = err;
	return err;
}

static int protocol_cb(struct kset *k, const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TB_MAX + 1];
	uint8_t *range = arg;

	if (msg_parse(k, nlh, IPSET_CMD_PROTOCOL, tb) < 0)
		return -EPROTO;
	get_u8(tb[IPSET_ATTR_PROTOCOL], &range[1]);
	/* a kernel before protocol 7 speaks only its own */
	if (!get_u8(tb[IPSET_ATTR_PROTOCOL_MIN], &range[0]))
		range[0] = range[1];
	return 0;
}

/* What libipset does: the kernel's range, and the newest both speak. */
static int negotiate(struct kset *k)
{
	uint8_t range[2] = {0, 0};
	int err;

	msg_start(k, k->sbuf, IPSET_CMD_PROTOCOL, NLM_F_ACK);
	err = exchange(k, protocol_cb, range);
	if (err < 0)
		return err;
	if (range[1] == 0)
		return -EPROTO;
	if (range[0] > PROTO_MAX || range[1] < PROTO_MIN)
		return -EPROTONOSUPPORT;
	k->protocol = range[1] < PROTO_MAX ? range[1] : PROTO_MAX;
	return 0;
}

struct kset *kset_open(void)
{
	struct timeval tv = {.tv_sec = RECV_TIMEOUT_S};
	struct kset *k = calloc(1, sizeof(*k));
	int one = 1, rcvbuf = RCVBUF, fd, err;

	if (k == NULL)
		return NULL;
	k->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (k->nl == NULL)
		goto fail;
	if (mnl_socket_bind(k->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	k->portid = mnl_socket_get_portid(k->nl);
	fd = mnl_socket_get_fd(k->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	/* both only help: errors without our request, room for answers */
	(void)mnl_socket_setsockopt(k->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	err = negotiate(k);
	if (err < 0) {
		errno = -err;
		goto fail;
	}
	return k;

fail:
	err = errno;
	kset_close(k);
	errno = err;
	return NULL;
}

void kset_close(struct kset *k)
{
	if (k == NULL)
		return;
	if (k->nl != NULL)
		mnl_socket_close(k->nl);
	free(k);
}

int kset_protocol(const struct kset *k)
{
	return k->protocol;
}

static int type_cb(struct kset *k, const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TB_MAX + 1];
	uint8_t *rev = arg;
	const char *type;

	if (msg_parse(k, nlh, IPSET_CMD_TYPE, tb) < 0)
		return -EPROTO;
	type = get_str(tb[IPSET_ATTR_TYPENAME]);
	if (type == NULL || strcmp(type, HASH_NET) != 0 ||
	    !get_u8(tb[IPSET_ATTR_REVISION], &rev[1]))
		return -EPROTO;
	if (!get_u8(tb[IPSET_ATTR_REVISION_MIN], &rev[0]))
		rev[0] = 0;
	return 0;
}

/* The newest hash:net revision both we and the kernel know, asked once */
static int hash_net_revision(struct kset *k, int family)
{
	uint8_t rev[2] = {0, 0}, use;
	struct nlmsghdr *nlh;
	int err;

	if (k->revision != 0)
		return 0;
	nlh = msg_start(k, k->sbuf, IPSET_CMD_TYPE, NLM_F_ACK);
	mnl_attr_put_strz(nlh, IPSET_ATTR_TYPENAME, HASH_NET);
	mnl_attr_put_u8(nlh, IPSET_ATTR_FAMILY, (uint8_t)family);
	err = exchange(k, type_cb, rev);
	if (err < 0)
		return err;
	use = rev[1] < HASH_NET_REV_MAX ? rev[1] : HASH_NET_REV_MAX;
	if (use < HASH_NET_REV_COMMENT || use < rev[0])
		return -EOPNOTSUPP;
	k->revision = use;
	return 0;
}

static bool same_set(const struct kset_info *in, int family, uint32_t maxelem,
		     uint32_t timeout)
{
	return strcmp(in->type, HASH_NET) == 0 && in->family == family &&
	       in->maxelem == maxelem && in->timeout &&
	       in->default_timeout == timeout && in->counters && in->comment;
}

int kset_create(struct kset *k, const char *name, int family, uint32_t maxelem,
		uint32_t default_timeout)
{
	struct nlattr *data;
	struct nlmsghdr *nlh;
	struct kset_info in;
	int err = name_check(name);

	if (err < 0)
		return err;
	if ((family != AF_INET && family != AF_INET6) || maxelem == 0 ||
	    default_timeout == 0)
		return -EINVAL;
	if (default_timeout > KSET_MAX_TIMEOUT)
		return -ERANGE;
	err = hash_net_revision(k, family);
	if (err < 0)
		return err;

	/* exclusive: the kernel's own "same set" test overlooks the family */
	nlh = msg_start(k, k->sbuf, IPSET_CMD_CREATE, NLM_F_ACK | NLM_F_EXCL);
	mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, name);
	mnl_attr_put_strz(nlh, IPSET_ATTR_TYPENAME, HASH_NET);
	mnl_attr_put_u8(nlh, IPSET_ATTR_REVISION, k->revision);
	mnl_attr_put_u8(nlh, IPSET_ATTR_FAMILY, (uint8_t)family);
	data = mnl_attr_nest_start(nlh, IPSET_ATTR_DATA);
	put_be32(nlh, IPSET_ATTR_MAXELEM, maxelem);
	put_be32(nlh, IPSET_ATTR_TIMEOUT, default_timeout);
	put_be32(nlh, IPSET_ATTR_CADT_FLAGS,
		 IPSET_FLAG_WITH_COUNTERS | IPSET_FLAG_WITH_COMMENT);
	mnl_attr_nest_end(nlh, data);
	err = exchange(k, NULL, NULL);
	if (err != -EEXIST)
		return err;
	err = kset_info(k, name, &in);
	if (err < 0)
		return err == -ENOENT ? -EEXIST : err; /* destroyed meanwhile */
	return same_set(&in, family, maxelem, default_timeout) ? 0 : -EEXIST;
}

struct info_ctx {
	const char *name;
	struct kset_info *out;
	bool seen;
};

static int info_cb(struct kset *k, const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TB_MAX + 1], *db[TB_MAX + 1];
	struct info_ctx *c = arg;
	struct kset_info *o = c->out;
	const char *s, *type;
	uint32_t flags = 0;
	uint8_t family;

	if (msg_parse(k, nlh, IPSET_CMD_LIST, tb) < 0)
		return -EPROTO;
	s = get_str(tb[IPSET_ATTR_SETNAME]);
	type = get_str(tb[IPSET_ATTR_TYPENAME]);
	if (s == NULL || strcmp(s, c->name) != 0 || type == NULL ||
	    strlen(type) > KSET_NAME_MAX ||
	    !get_u8(tb[IPSET_ATTR_FAMILY], &family) ||
	    !get_u8(tb[IPSET_ATTR_REVISION], &o->revision) ||
	    nested_parse(tb[IPSET_ATTR_DATA], db) < 0)
		return -EPROTO;
	strcpy(o->type, type);
	o->family = family == NFPROTO_IPV4   ? AF_INET
		    : family == NFPROTO_IPV6 ? AF_INET6
					     : AF_UNSPEC;
	/* sizes every set type reports; the rest as they come */
	if (!get_be32(db[IPSET_ATTR_REFERENCES], &o->references) ||
	    !get_be32(db[IPSET_ATTR_MEMSIZE], &o->memsize))
		return -EPROTO;
	get_be32(db[IPSET_ATTR_HASHSIZE], &o->hashsize);
	get_be32(db[IPSET_ATTR_MAXELEM], &o->maxelem);
	get_be32(db[IPSET_ATTR_ELEMENTS], &o->elements);
	o->timeout = get_be32(db[IPSET_ATTR_TIMEOUT], &o->default_timeout);
	get_be32(db[IPSET_ATTR_CADT_FLAGS], &flags);
	o->counters = flags & IPSET_FLAG_WITH_COUNTERS;
	o->comment = flags & IPSET_FLAG_WITH_COMMENT;
	c->seen = true;
	return 0;
}

int kset_info(struct kset *k, const char *name, struct kset_info *out)
{
	struct info_ctx c = {.name = name, .out = out};
	struct nlmsghdr *nlh;
	int err = name_check(name);

	if (err < 0)
		return err;
	memset(out, 0, sizeof(*out));
	nlh = msg_start(k, k->sbuf, IPSET_CMD_LIST, NLM_F_DUMP);
	mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, name);
	put_be32(nlh, IPSET_ATTR_FLAGS, IPSET_FLAG_LIST_HEADER);
	err = exchange(k, info_cb, &c);
	if (err < 0)
		return err;
	return c.seen ? 0 : -EPROTO;
}

static int entry_check(const struct kset_entry *e, bool add)
{
	uint8_t max = e->family == AF_INET ? 32 : 128;

	if ((e->family != AF_INET && e->family != AF_INET6) || e->plen == 0 ||
	    e->plen > max)
		return -EINVAL;
	if (!add)
		return 0;
	if (memchr(e->comment, '\0', sizeof(e->comment)) == NULL)
		return -EINVAL;
	return e->timeout > KSET_MAX_TIMEOUT ? -ERANGE : 0;
}

/*
 * Puts one add or del of e at buf.  counters: the add says the counters
 * are 0 (else the kernel keeps those of an entry that is there).
 */
static void put_entry(struct kset *k, void *buf, uint8_t cmd, uint16_t flags,
		      const char *name, const struct kset_entry *e,
		      bool counters)
{
	size_t alen = e->family == AF_INET ? 4 : 16, i;
	uint8_t addr[16];
	struct nlattr *data, *ip;
	struct nlmsghdr *nlh;

	/* the prefix as the kernel keeps it: bits past plen cleared */
	for (i = 0; i < alen; i++) {
		unsigned bits = e->plen > 8 * i ? e->plen - 8 * i : 0;

		addr[i] = bits >= 8 ? e->addr[i]
				    : e->addr[i] & (uint8_t)(0xff00 >> bits);
	}
	nlh = msg_start(k, buf, cmd, NLM_F_ACK | flags);
	mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, name);
	data = mnl_attr_nest_start(nlh, IPSET_ATTR_DATA);
	ip = mnl_attr_nest_start(nlh, IPSET_ATTR_IP);
	mnl_attr_put(nlh,
		     (e->family == AF_INET ? IPSET_ATTR_IPADDR_IPV4
					   : IPSET_ATTR_IPADDR_IPV6) |
			     NLA_F_NET_BYTEORDER,
		     alen, addr);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_put_u8(nlh, IPSET_ATTR_CIDR, e->plen);
	if (cmd == IPSET_CMD_ADD) {
		if (e->timeout != 0)
			put_be32(nlh, IPSET_ATTR_TIMEOUT, e->timeout);
		if (counters) {
			put_be64(nlh, IPSET_ATTR_PACKETS, 0);
			put_be64(nlh, IPSET_ATTR_BYTES, 0);
		}
		if (e->comment[0] != '\0')
			mnl_attr_put_strz(nlh, IPSET_ATTR_COMMENT, e->comment);
	}
	mnl_attr_nest_end(nlh, data);
}

/*
 * One batch of adds or dels from e[*next..n): each entry its message,
 * results into rc.  The adds that keep counters go first as exclusive
 * adds (a new entry starts at 0), and those that were there again as
 * replaces without counter values.  Returns the failures, or -errno.
 */
static int adt_batch(struct kset *k, const char *name, uint8_t cmd,
		     const struct kset_entry *e, size_t n, size_t *next,
		     int *rc)
{
	size_t len = 0, m = 0, m2 = 0, i;
	uint32_t first = k->seq + 1;
	int failed = 0, err;

	while (*next < n && m < KSET_BATCH && len + MSG_MAX <= SBUF_LEN) {
		const struct kset_entry *x = &e[*next];
		uint16_t flags = 0;

		err = entry_check(x, cmd == IPSET_CMD_ADD);
		if (err < 0) {
			if (rc != NULL)
				rc[*next] = err;
			failed++;
			(*next)++;
			continue;
		}
		/* no NLM_F_EXCL: replace, and del an absent one silently */
		if (cmd == IPSET_CMD_DEL || x->keep_counters)
			flags = NLM_F_EXCL;
		put_entry(k, k->sbuf + len, cmd, flags, name, x, true);
		len += ((struct nlmsghdr *)(k->sbuf + len))->nlmsg_len;
		k->idx[0][m++] = (*next)++;
	}
	if (m == 0)
		return failed;
	err = exchange_batch(k, cmd, len, first, m, k->res[0]);
	if (err == 0 && cmd == IPSET_CMD_ADD) {
		len = 0;
		first = k->seq + 1;
		for (i = 0; i < m; i++) {
			const struct kset_entry *x = &e[k->idx[0][i]];

			if (!x->keep_counters || k->res[0][i] != -EEXIST)
				continue;
			put_entry(k, k->sbuf + len, cmd, 0, name, x, false);
			len += ((struct nlmsghdr *)(k->sbuf + len))->nlmsg_len;
			k->idx[1][m2++] = i;
		}
		if (m2 > 0)
			err = exchange_batch(k, cmd, len, first, m2, k->res[1]);
		for (i = 0; i < m2; i++)
			k->res[0][k->idx[1][i]] = k->res[1][i];
	}
	for (i = 0; i < m; i++) {
		if (rc != NULL)
			rc[k->idx[0][i]] = k->res[0][i];
		if (k->res[0][i] != 0)
			failed++;
	}
	return err < 0 ? err : failed;
}

static int adt_many(struct kset *k, const char *name, uint8_t cmd,
		    const struct kset_entry *e, size_t n, int *rc)
{
	size_t next = 0, i;
	int failed = 0, r = name_check(name);

	while (r >= 0 && next < n) {
		r = adt_batch(k, name, cmd, e, n, &next, rc);
		if (r > 0)
			failed += r;
	}
	if (r < 0) {
		/* a bad name, or the socket: what was not answered gets it */
		for (i = next; rc != NULL && i < n; i++)
			rc[i] = r;
		return r;
	}
	return failed;
}

int kset_add_many(struct kset *k, const char *name, const struct kset_entry *e,
		  size_t n, int *rc)
{
	return adt_many(k, name, IPSET_CMD_ADD, e, n, rc);
}

int kset_del_many(struct kset *k, const char *name, const struct kset_entry *e,
		  size_t n, int *rc)
{
	return adt_many(k, name, IPSET_CMD_DEL, e, n, rc);
}

int kset_add(struct kset *k, const char *name, const struct kset_entry *e)
{
	int rc = 0, r = adt_many(k, name, IPSET_CMD_ADD, e, 1, &rc);

	return r < 0 ? r : rc;
}

int kset_del(struct kset *k, const char *name, const struct kset_entry *e)
{
	int rc = 0, r = adt_many(k, name, IPSET_CMD_DEL, e, 1, &rc);

	return r < 0 ? r : rc;
}

struct list_ctx {
	int (*fn)(void *arg, const struct kset_entry *e);
	void *arg;
	int stop; /* what fn, or a bad entry, stopped the walk with */
};

/* One entry of a dump; -EPROTO when it cannot be read */
static int entry_read(const struct nlattr *d, struct kset_entry *x)
{
	const struct nlattr *tb[TB_MAX + 1], *ib[TB_MAX + 1];
	const char *comment;

	memset(x, 0, sizeof(*x));
	if (nested_parse(d, tb) < 0 ||
	    nested_parse(tb[IPSET_ATTR_IP], ib) < 0 ||
	    !get_u8(tb[IPSET_ATTR_CIDR], &x->plen))
		return -EPROTO;
	if (ib[IPSET_ATTR_IPADDR_IPV4] != NULL &&
	    mnl_attr_get_payload_len(ib[IPSET_ATTR_IPADDR_IPV4]) == 4) {
		x->family = AF_INET;
		memcpy(x->addr,
		       mnl_attr_get_payload(ib[IPSET_ATTR_IPADDR_IPV4]), 4);
	} else if (ib[IPSET_ATTR_IPADDR_IPV6] != NULL &&
		   mnl_attr_get_payload_len(ib[IPSET_ATTR_IPADDR_IPV6]) == 16) {
		x->family = AF_INET6;
		memcpy(x->addr,
		       mnl_attr_get_payload(ib[IPSET_ATTR_IPADDR_IPV6]), 16);
	} else {
		return -EPROTO;
	}
	get_be32(tb[IPSET_ATTR_TIMEOUT], &x->timeout);
	get_be64(tb[IPSET_ATTR_PACKETS], &x->packets);
	get_be64(tb[IPSET_ATTR_BYTES], &x->bytes);
	comment = get_str(tb[IPSET_ATTR_COMMENT]);
	if (comment != NULL)
		strncpy(x->comment, comment, KSET_COMMENT_MAX);
	return 0;
}

/* Each IPSET_ATTR_DATA of the IPSET_ATTR_ADT nest: one entry */
static int adt_cb(const struct nlattr *d, void *arg)
{
	struct list_ctx *c = arg;
	struct kset_entry x;

	if (mnl_attr_get_type(d) != IPSET_ATTR_DATA)
		return MNL_CB_OK;
	c->stop = entry_read(d, &x);
	if (c->stop == 0)
		c->stop = c->fn(c->arg, &x);
	return c->stop == 0 ? MNL_CB_OK : MNL_CB_STOP;
}

static int list_cb(struct kset *k, const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TB_MAX + 1];
	struct list_ctx *c = arg;

	if (msg_parse(k, nlh, IPSET_CMD_LIST, tb) < 0)
		return -EPROTO;
	if (tb[IPSET_ATTR_ADT] == NULL)
		return 0; /* the header, or a set without entries */
	if (mnl_attr_parse_nested(tb[IPSET_ATTR_ADT], adt_cb, c) < 0)
		return -EPROTO;
	return c->stop;
}

int kset_list(struct kset *k, const char *name,
	      int (*fn)(void *arg, const struct kset_entry *e), void *arg)
{
	struct list_ctx c = {.fn = fn, .arg = arg};
	struct nlmsghdr *nlh;
	int err = name_check(name);

	if (err < 0)
		return err;
	nlh = msg_start(k, k->sbuf, IPSET_CMD_LIST, NLM_F_DUMP);
	mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, name);
	return exchange(k, list_cb, &c);
}

struct names_ctx {
	int (*fn)(void *arg, const char *name);
	void *arg;
	int stop;
};

static int names_cb(struct kset *k, const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[TB_MAX + 1];
	struct names_ctx *c = arg;
	const char *s;

	if (msg_parse(k, nlh, IPSET_CMD_LIST, tb) < 0)
		return -EPROTO;
	s = get_str(tb[IPSET_ATTR_SETNAME]);
	if (s == NULL || strlen(s) > KSET_NAME_MAX)
		return -EPROTO;
	if (c->stop == 0)
		c->stop = c->fn(c->arg, s);
	return 0;
}

int kset_names(struct kset *k, int (*fn)(void *arg, const char *name),
	       void *arg)
{
	struct names_ctx c = {.fn = fn, .arg = arg};
	struct nlmsghdr *nlh;
	int err;

	/* every set's header, no entries */
	nlh = msg_start(k, k->sbuf, IPSET_CMD_LIST, NLM_F_DUMP);
	put_be32(nlh, IPSET_ATTR_FLAGS, IPSET_FLAG_LIST_HEADER);
	err = exchange(k, names_cb, &c);
	return err < 0 ? err : c.stop;
}

/* A command on a set by name only: flush, destroy */
static int set_cmd(struct kset *k, const char *name, uint8_t cmd,
		   uint16_t flags)
{
	struct nlmsghdr *nlh;
	int err = name_check(name);

	if (err < 0)
		return err;
	nlh = msg_start(k, k->sbuf, cmd, NLM_F_ACK | flags);
	mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, name);
	return exchange(k, NULL, NULL);
}

int kset_flush(struct kset *k, const char *name)
{
	return set_cmd(k, name, IPSET_CMD_FLUSH, 0);
}

int kset_destroy(struct kset *k, const char *name)
{
	/* without NLM_F_EXCL, newer kernels destroy an absent set silently */
	return set_cmd(k, name, IPSET_CMD_DESTROY, NLM_F_EXCL);
}

const char *kset_strerror(int rc)
{
	switch (-rc) {
	case 0:
		return "success";
	case KSET_EMAXSETS:
		return "no room for another set in this network namespace "
		       "(ipset's limit of sets)";
	case KSET_ETYPE_MISMATCH:
		return "the set's type or family does not fit the operation";
	case KSET_ENOTIMEOUT:
		return "the set has no timeout extension";
	case KSET_ENOCOUNTERS:
		return "the set has no counters extension";
	case KSET_ENOCOMMENT:
		return "the set has no comment extension";
	case ENOENT:
		return "no such set, or no such entry in it";
	case EEXIST:
		return "a set of that name exists with other properties";
	case EBUSY:
		return "the set is in use (an iptables rule references it)";
	case ENOSPC:
		return "the set is full (maxelem entries)";
	case ENAMETOOLONG:
		return "set name longer than 31 characters";
	case ERANGE:
		return "timeout longer than 2147483 seconds";
	case EINVAL:
		return "invalid set name, family, prefix, comment or size";
	case EPROTO:
		return "ipset protocol error (or an address of the other "
		       "family)";
	case EPROTONOSUPPORT:
		return "the kernel's ipset protocol versions are not 6-7";
	case EOPNOTSUPP:
		return "the kernel has no hash:net set type with comments";
	case ETIMEDOUT:
		return "no answer from the kernel";
	default:
		if (-rc >= IPSET_ERR_PRIVATE)
			return "ipset error without a description here";
		return strerror(-rc);
	}
}
