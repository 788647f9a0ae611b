/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kset module against the kernel, with the ipset command as the
 * oracle: the process moves into a network namespace of its own first
 * (never touching the host's sets), and the ipset, iptables and ip
 * commands it runs work in that namespace too.  Needs root; without it
 * every test is skipped as such, never passed.
 *
 * mnl_socket_sendto and mnl_socket_recvfrom are wrapped (-Wl,--wrap): the
 * wrappers count the calls (how many sendmsg() a batch takes, how many
 * datagrams a dump) and can replace the kernel's answer to the protocol
 * version query (an older or newer kernel); otherwise they pass through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/nfnetlink.h>

#include "kset.h"
#include "netns_helpers.h"

#define SRC4 "198.51.100.1" /* on lo in the namespace: 198.51.100.0/24 */
#define SRC6 "2001:db8:0:100::1"
#define PAYLOAD 10 /* bytes of each test datagram */
#define OUT_MAX (1 << 20)

static bool ready; /* root, and in a namespace of our own */
static unsigned sendto_calls, recv_calls;
static uint8_t fake_max, fake_min; /* fake_max 0: the kernel's own answer */

ssize_t __real_mnl_socket_sendto(const struct mnl_socket *nl, const void *req,
				 size_t siz);
ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req,
				 size_t siz);
ssize_t __real_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf,
				   size_t siz);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf,
				   size_t siz);

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req,
				 size_t siz)
{
	sendto_calls++;
	return __real_mnl_socket_sendto(nl, req, siz);
}

/* The kernel's answer, or for the version query one made up here. */
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf,
				   size_t siz)
{
	ssize_t n = __real_mnl_socket_recvfrom(nl, buf, siz);
	struct nlmsghdr *nlh = buf;
	struct nfgenmsg *nfg;
	uint32_t seq, pid;

	recv_calls++;
	if (n <= 0 || fake_max == 0 ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_PROTOCOL))
		return n;
	seq = nlh->nlmsg_seq;
	pid = nlh->nlmsg_pid;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_PROTOCOL;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = pid;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put_u8(nlh, IPSET_ATTR_PROTOCOL, fake_max);
	if (fake_min != 0)
		mnl_attr_put_u8(nlh, IPSET_ATTR_PROTOCOL_MIN, fake_min);
	return nlh->nlmsg_len;
}

/* Runs a shell command (in our namespace); its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* A command's standard output (NUL-terminated, malloc'd), or NULL. */
static char *out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *out(const char *fmt, ...)
{
	char cmd[4096], *buf = malloc(OUT_MAX);
	size_t len = 0, n;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (buf == NULL || (f = popen(cmd, "r")) == NULL) {
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + len, 1, OUT_MAX - 1 - len, f)) > 0)
		len += n;
	buf[len] = '\0';
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The line of text that starts with prefix, copied to line. */
static bool find_line(const char *text, const char *prefix, char *line,
		      size_t size)
{
	size_t n = strlen(prefix);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '\n');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len >= n && strncmp(p, prefix, n) == 0 && len < size) {
			memcpy(line, p, len);
			line[len] = '\0';
			return true;
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* The number after " key " in line, or -1. */
static long long num_after(const char *line, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), " %s ", key);
	p = strstr(line, k);
	return p != NULL ? strtoll(p + strlen(k), NULL, 0) : -1;
}

static bool has_word(const char *line, const char *word)
{
	size_t n = strlen(word);
	const char *p = line;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == line || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static unsigned count_lines(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned c = 0;
	const char *p = text;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, n) == 0)
			c++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return c;
}

static struct kset_entry ent(int family, const char *addr, uint8_t plen,
			     uint32_t timeout, const char *comment)
{
	struct kset_entry e;

	memset(&e, 0, sizeof(e));
	e.family = family;
	e.plen = plen;
	e.timeout = timeout;
	assert_int_equal(inet_pton(family, addr, e.addr), 1);
	if (comment != NULL)
		snprintf(e.comment, sizeof(e.comment), "%s", comment);
	return e;
}

/* The prefix as ipset prints it: the address alone for a host. */
static void elem_text(const struct kset_entry *e, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(e->family, e->addr, a, sizeof(a));
	if (e->plen == (e->family == AF_INET ? 32 : 128))
		snprintf(buf, size, "%s", a);
	else
		snprintf(buf, size, "%s/%u", a, e->plen);
}

/* Every entry kset_list gives, copied. */
struct collect {
	struct kset_entry *e;
	size_t n, max, stop_at;
	int stop_with;
};

static int collect_fn(void *arg, const struct kset_entry *e)
{
	struct collect *c = arg;

	if (c->n < c->max)
		c->e[c->n] = *e;
	c->n++;
	return c->stop_at != 0 && c->n == c->stop_at ? c->stop_with : 0;
}

static int list_all(struct kset *k, const char *name, struct collect *c,
		    size_t max)
{
	memset(c, 0, sizeof(*c));
	c->e = calloc(max, sizeof(*c->e));
	assert_non_null(c->e);
	c->max = max;
	return kset_list(k, name, collect_fn, c);
}

/* The listed entry of that text, or NULL. */
static const struct kset_entry *find_entry(const struct collect *c,
					   const char *text)
{
	char t[64];

	for (size_t i = 0; i < c->n && i < c->max; i++) {
		elem_text(&c->e[i], t, sizeof(t));
		if (strcmp(t, text) == 0)
			return &c->e[i];
	}
	return NULL;
}

/* count datagrams of PAYLOAD bytes from src to src, port 9 */
static void send_udp(int family, const char *src, int count)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char payload[PAYLOAD] = "kset-test";
	int fd = socket(family, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, src, &s->sin_addr), 1);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, src, &s->sin6_addr), 1);
		len = sizeof(*s);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(9);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(9);
	for (int i = 0; i < count; i++)
		assert_int_equal(sendto(fd, payload, sizeof(payload), 0,
					(struct sockaddr *)&ss, len),
				 (ssize_t)sizeof(payload));
	close(fd);
}

/* Packets counted by the first rule of INPUT (iptables or ip6tables). */
static long long rule_packets(const char *tool)
{
	char *o =
		out("%s -L INPUT -v -x -n | awk 'NR == 3 { print $1 }'", tool);
	long long v = o != NULL ? strtoll(o, NULL, 10) : -1;

	free(o);
	return v;
}

static int group_setup(void **state)
{
	static const char *const setup[] = {
		"ip addr add " SRC4 "/24 dev lo",
		"ip -6 addr add " SRC6 "/64 dev lo nodad",
		NULL,
	};
	int rc = netns_enter(setup, true);

	(void)state;
	ready = rc == 1;
	return rc < 0 ? -1 : 0;
}

/* A handle for the test (NULL without root: the test skips itself). */
static int setup(void **state)
{
	*state = NULL;
	if (!ready)
		return 0;
	fake_max = fake_min = 0;
	*state = kset_open();
	return *state != NULL ? 0 : -1;
}

/* Leaves the namespace as it was: no rules, no sets. */
static int teardown(void **state)
{
	if (!ready)
		return 0;
	kset_close(*state);
	fake_max = fake_min = 0;
	if (sh("iptables -F INPUT && ip6tables -F INPUT && ipset destroy") != 0)
		return -1;
	return 0;
}

/* The test's handle; skips the test (cmocka's skip) without root. */
static struct kset *handle(void **state)
{
	if (!ready)
		skip();
	return *state;
}

static void test_protocol(void **state)
{
	struct kset *k = handle(state);
	char *o = out("ipset version");

	/* the kernel (6.18) speaks 7, and accepts 6 and 7 */
	assert_int_equal(kset_protocol(k), 7);
	assert_non_null(o);
	assert_non_null(strstr(o, "protocol version: 7"));
	free(o);
	kset_close(NULL);
}

/* A kernel before protocol 7: one version, no IPSET_ATTR_PROTOCOL_MIN. */
static void test_protocol_old_kernel(void **state)
{
	struct kset_entry e = ent(AF_INET, "198.51.100.0", 24, 60, "old");
	struct collect c;
	struct kset *k;
	char *o, line[512];

	(void)handle(state);
	fake_max = 6;
	fake_min = 0;
	k = kset_open();
	fake_max = 0;
	assert_non_null(k);
	assert_int_equal(kset_protocol(k), 6);
	/* and this kernel takes protocol 6 messages (IPSET_PROTOCOL_MIN) */
	assert_int_equal(kset_create(k, "old6", AF_INET, 16, 60), 0);
	assert_int_equal(kset_add(k, "old6", &e), 0);
	o = out("ipset save old6");
	assert_non_null(o);
	assert_true(
		find_line(o, "add old6 198.51.100.0/24 ", line, sizeof(line)));
	free(o);
	assert_int_equal(list_all(k, "old6", &c, 4), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.e[0].comment, "old");
	free(c.e);
	assert_int_equal(kset_destroy(k, "old6"), 0);
	kset_close(k);
}

static void test_protocol_ranges(void **state)
{
	struct kset *k;

	(void)handle(state);
	/* a kernel past us */
	fake_max = 9;
	fake_min = 8;
	assert_null(kset_open());
	assert_int_equal(errno, EPROTONOSUPPORT);
	/* a kernel before us */
	fake_max = 5;
	fake_min = 0;
	assert_null(kset_open());
	assert_int_equal(errno, EPROTONOSUPPORT);
	/* a newer kernel that still takes 7 */
	fake_max = 8;
	fake_min = 6;
	k = kset_open();
	fake_max = 0;
	assert_non_null(k);
	assert_int_equal(kset_protocol(k), 7);
	assert_int_equal(kset_create(k, "newer", AF_INET, 16, 60), 0);
	assert_int_equal(sh("ipset list -n | grep -qx newer"), 0);
	kset_close(k);
}

static void check_create_line(const char *name, const char *family,
			      unsigned maxelem, unsigned timeout,
			      const struct kset_info *in)
{
	char *o = out("ipset list -o save %s", name), prefix[64], line[512];

	assert_non_null(o);
	snprintf(prefix, sizeof(prefix), "create %s hash:net ", name);
	assert_true(find_line(o, prefix, line, sizeof(line)));
	assert_true(has_word(line, family));
	assert_int_equal(num_after(line, "maxelem"), maxelem);
	assert_int_equal(num_after(line, "timeout"), timeout);
	assert_int_equal(num_after(line, "hashsize"), in->hashsize);
	assert_true(has_word(line, "counters"));
	assert_true(has_word(line, "comment"));
	snprintf(prefix, sizeof(prefix), "add %s ", name);
	assert_int_equal(count_lines(o, prefix), 0);
	free(o);
}

static void test_create_oracle(void **state)
{
	struct kset *k = handle(state);
	struct kset_info in;
	char *o;

	assert_int_equal(kset_create(k, "dnsrl-v4", AF_INET, 65536, 300), 0);
	assert_int_equal(kset_create(k, "dnsrl-v6", AF_INET6, 1024, 600), 0);

	assert_int_equal(kset_info(k, "dnsrl-v4", &in), 0);
	assert_string_equal(in.type, "hash:net");
	assert_int_equal(in.family, AF_INET);
	assert_int_equal(in.maxelem, 65536);
	assert_true(in.timeout);
	assert_int_equal(in.default_timeout, 300);
	assert_true(in.counters);
	assert_true(in.comment);
	assert_int_equal(in.elements, 0);
	assert_int_equal(in.references, 0);
	assert_true(in.memsize > 0);
	check_create_line("dnsrl-v4", "inet", 65536, 300, &in);
	o = out("ipset list -t dnsrl-v4");
	assert_non_null(o);
	assert_non_null(strstr(o, "Revision: "));
	assert_int_equal(atoi(strstr(o, "Revision: ") + 10), in.revision);
	free(o);

	assert_int_equal(kset_info(k, "dnsrl-v6", &in), 0);
	assert_int_equal(in.family, AF_INET6);
	assert_int_equal(in.maxelem, 1024);
	assert_int_equal(in.default_timeout, 600);
	check_create_line("dnsrl-v6", "inet6", 1024, 600, &in);

	assert_int_equal(kset_info(k, "absent", &in), -ENOENT);
}

static void test_create_idempotent(void **state)
{
	struct kset_entry e = ent(AF_INET, "203.0.113.0", 24, 0, "kept");
	struct kset *k = handle(state);
	struct kset_info in;
	char *o;

	assert_int_equal(kset_create(k, "idem", AF_INET, 128, 120), 0);
	assert_int_equal(kset_add(k, "idem", &e), 0);
	assert_int_equal(kset_create(k, "idem", AF_INET, 128, 120), 0);
	/* left as it was, entry and all */
	o = out("ipset list -n");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "idem"), 1);
	free(o);
	assert_int_equal(kset_info(k, "idem", &in), 0);
	assert_int_equal(in.elements, 1);

	/* differing in any property */
	assert_int_equal(kset_create(k, "idem", AF_INET, 256, 120), -EEXIST);
	assert_int_equal(kset_create(k, "idem", AF_INET, 128, 121), -EEXIST);
	assert_int_equal(kset_create(k, "idem", AF_INET6, 128, 120), -EEXIST);
	/* the kernel's own test (ipset -exist) lets the family pass */
	assert_int_equal(sh("ipset -exist create idem hash:net family inet6 "
			    "maxelem 128 timeout 120 counters comment"),
			 0);
	assert_int_equal(sh("ipset create other hash:ip family inet"), 0);
	assert_int_equal(kset_create(k, "other", AF_INET, 128, 120), -EEXIST);
	assert_int_equal(kset_info(k, "other", &in), 0);
	assert_string_equal(in.type, "hash:ip");
	assert_false(in.timeout);
	assert_int_equal(sh("ipset create bare hash:net family inet "
			    "maxelem 128 timeout 120"),
			 0);
	assert_int_equal(kset_create(k, "bare", AF_INET, 128, 120), -EEXIST);
	assert_int_equal(kset_info(k, "bare", &in), 0);
	assert_string_equal(in.type, "hash:net");
	assert_true(in.timeout);
	assert_int_equal(in.default_timeout, 120);
	assert_false(in.counters);
	assert_false(in.comment);
	assert_int_equal(sh("ipset create withcomment hash:net family inet "
			    "maxelem 128 timeout 120 comment"),
			 0);
	assert_int_equal(kset_create(k, "withcomment", AF_INET, 128, 120),
			 -EEXIST);
	assert_int_equal(kset_info(k, "withcomment", &in), 0);
	assert_false(in.counters);
	assert_true(in.comment);

	/* arguments */
	assert_int_equal(kset_create(k, "x", AF_UNSPEC, 128, 120), -EINVAL);
	assert_int_equal(kset_create(k, "x", AF_INET, 0, 120), -EINVAL);
	assert_int_equal(kset_create(k, "x", AF_INET, 128, 0), -EINVAL);
	assert_int_equal(kset_create(k, "x", AF_INET, 128,
				     KSET_MAX_TIMEOUT + 1),
			 -ERANGE);
	assert_int_equal(kset_create(k, "x", AF_INET, 128, KSET_MAX_TIMEOUT),
			 0);
	o = out("ipset list -o save x");
	assert_non_null(o);
	assert_int_equal(num_after(o, "timeout"), KSET_MAX_TIMEOUT);
	free(o);
}

static void test_names(void **state)
{
	const char *n31 = "abcdefghijklmnopqrstuvwxyz01234";
	const char *n32 = "abcdefghijklmnopqrstuvwxyz012345";
	struct kset_entry e = ent(AF_INET, "198.51.100.0", 24, 0, NULL);
	struct kset *k = handle(state);
	struct kset_info in;
	int rc[2] = {1, 1};
	char *o, prefix[64], line[512];

	assert_int_equal(strlen(n31), 31);
	assert_int_equal(strlen(n32), 32);
	assert_int_equal(kset_create(k, n31, AF_INET, 16, 60), 0);
	assert_int_equal(kset_add(k, n31, &e), 0);
	o = out("ipset save %s", n31);
	assert_non_null(o);
	snprintf(prefix, sizeof(prefix), "add %s 198.51.100.0/24 ", n31);
	assert_true(find_line(o, prefix, line, sizeof(line)));
	free(o);
	assert_int_equal(kset_info(k, n31, &in), 0);

	assert_int_equal(kset_create(k, n32, AF_INET, 16, 60), -ENAMETOOLONG);
	assert_int_equal(kset_info(k, n32, &in), -ENAMETOOLONG);
	assert_int_equal(kset_add(k, n32, &e), -ENAMETOOLONG);
	assert_int_equal(kset_del(k, n32, &e), -ENAMETOOLONG);
	assert_int_equal(kset_add_many(k, n32, &e, 1, rc), -ENAMETOOLONG);
	assert_int_equal(rc[0], -ENAMETOOLONG);
	assert_int_equal(rc[1], 1);
	assert_int_equal(kset_del_many(k, n32, &e, 1, rc), -ENAMETOOLONG);
	assert_int_equal(kset_list(k, n32, collect_fn, NULL), -ENAMETOOLONG);
	assert_int_equal(kset_flush(k, n32), -ENAMETOOLONG);
	assert_int_equal(kset_destroy(k, n32), -ENAMETOOLONG);
	assert_int_equal(kset_create(k, "", AF_INET, 16, 60), -EINVAL);
	assert_int_equal(kset_destroy(k, ""), -EINVAL);
	/* nothing of 32 characters reached the kernel */
	o = out("ipset list -n");
	assert_non_null(o);
	assert_int_equal(count_lines(o, n31), 1);
	assert_null(strstr(o, n32));
	free(o);
}

/* the entries of set name in ipset save and in kset_list agree with e[] */
static void check_entries(struct kset *k, const char *name,
			  const struct kset_entry *e, size_t n,
			  const uint32_t *timeout)
{
	char *o = out("ipset save %s", name), prefix[128], line[1024], t[64];
	struct collect c;

	assert_non_null(o);
	snprintf(prefix, sizeof(prefix), "add %s ", name);
	assert_int_equal(count_lines(o, prefix), n);
	assert_int_equal(list_all(k, name, &c, n + 1), 0);
	assert_int_equal(c.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct kset_entry *x;
		long long left;

		elem_text(&e[i], t, sizeof(t));
		snprintf(prefix, sizeof(prefix), "add %s %s ", name, t);
		assert_true(find_line(o, prefix, line, sizeof(line)));
		left = num_after(line, "timeout");
		/* no longer than set, and not much less (a loaded machine) */
		assert_true(left <= timeout[i] && left + 30 >= timeout[i]);
		assert_int_equal(num_after(line, "packets"), 0);
		assert_int_equal(num_after(line, "bytes"), 0);
		if (e[i].comment[0] != '\0') {
			snprintf(prefix, sizeof(prefix), " comment \"%s\"",
				 e[i].comment);
			assert_non_null(strstr(line, prefix));
		} else {
			assert_null(strstr(line, " comment "));
		}
		x = find_entry(&c, t);
		assert_non_null(x);
		assert_int_equal(x->family, e[i].family);
		assert_true(x->timeout <= timeout[i] &&
			    x->timeout + 30 >= timeout[i]);
		assert_int_equal(x->packets, 0);
		assert_int_equal(x->bytes, 0);
		assert_string_equal(x->comment, e[i].comment);
	}
	free(c.e);
	free(o);
}

static int collect_name(void *arg, const char *name)
{
	char *all = arg;

	strcat(all, name);
	strcat(all, "\n");
	return 0;
}

static int stop_at_second(void *arg, const char *name)
{
	int *n = arg;

	(void)name;
	return ++*n == 2 ? 42 : 0;
}

/* kset_names gives every set the ipset command lists (ipset list -n),
 * whoever made it, in the kernel's order; a stop is returned. */
static void test_set_names(void **state)
{
	struct kset *k = handle(state);
	static char got[8192];
	char *want;
	int n = 0;

	got[0] = '\0';
	assert_int_equal(kset_names(k, collect_name, got), 0);
	assert_string_equal(got, "");
	assert_int_equal(kset_create(k, "dnsrl-any-abuse-4", AF_INET, 16, 60),
			 0);
	assert_int_equal(sh("ipset create other hash:ip && ipset create "
			    "0123456789012345678901234567890 hash:net "
			    "family inet6"),
			 0);
	assert_int_equal(kset_names(k, collect_name, got), 0);
	want = out("ipset list -n");
	assert_non_null(want);
	assert_string_equal(got, want);
	free(want);
	assert_int_equal(kset_names(k, stop_at_second, &n), 42);
	assert_int_equal(n, 2);
}

static void test_add_oracle(void **state)
{
	struct kset *k = handle(state);
	/* as given; host bits past the prefix get cleared */
	struct kset_entry in4[] = {
		ent(AF_INET, "198.51.100.7", 32, 100, "rule a"),
		ent(AF_INET, "203.0.113.0", 24, 0, ""),
		ent(AF_INET, "198.18.0.77", 24, 50, "x"),
	};
	struct kset_entry in6[] = {
		ent(AF_INET6, "2001:db8:0:1ab::1", 56, 200, "v6 /56"),
		ent(AF_INET6, "2001:db8::1", 128, 0, "host"),
	};
	struct kset_entry want4[] = {in4[0], in4[1],
				     ent(AF_INET, "198.18.0.0", 24, 50, "x")};
	struct kset_entry want6[] = {
		ent(AF_INET6, "2001:db8:0:100::", 56, 200, "v6 /56"), in6[1]};
	uint32_t t4[] = {100, 600, 50}, t6[] = {200, 300};

	assert_int_equal(kset_create(k, "held4", AF_INET, 1024, 600), 0);
	assert_int_equal(kset_create(k, "held6", AF_INET6, 1024, 300), 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(kset_add(k, "held4", &in4[i]), 0);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(kset_add(k, "held6", &in6[i]), 0);
	check_entries(k, "held4", want4, 3, t4);
	check_entries(k, "held6", want6, 2, t6);
}

static void test_list_from_ipset(void **state)
{
	struct kset *k = handle(state);
	const struct kset_entry *x;
	struct collect c;
	uint8_t a[16];

	assert_int_equal(kset_create(k, "l4", AF_INET, 64, 600), 0);
	assert_int_equal(kset_create(k, "l6", AF_INET6, 64, 600), 0);
	assert_int_equal(sh("ipset add l4 198.51.100.0/25 timeout 500 "
			    "packets 7 bytes 700 comment 'from ipset'"),
			 0);
	assert_int_equal(sh("ipset add l4 203.0.113.9 timeout 40"), 0);
	assert_int_equal(sh("ipset add l4 198.18.1.0/24 timeout 0"), 0);
	assert_int_equal(sh("ipset add l6 2001:db8:1::/48 timeout 300 "
			    "packets 3 bytes 300 comment six"),
			 0);

	assert_int_equal(list_all(k, "l4", &c, 8), 0);
	assert_int_equal(c.n, 3);
	x = find_entry(&c, "198.51.100.0/25");
	assert_non_null(x);
	assert_int_equal(x->family, AF_INET);
	assert_int_equal(inet_pton(AF_INET, "198.51.100.0", a), 1);
	assert_memory_equal(x->addr, a, 4);
	assert_int_equal(x->plen, 25);
	assert_true(x->timeout <= 500 && x->timeout + 30 >= 500);
	assert_int_equal(x->packets, 7);
	assert_int_equal(x->bytes, 700);
	assert_string_equal(x->comment, "from ipset");
	x = find_entry(&c, "203.0.113.9");
	assert_non_null(x);
	assert_int_equal(x->plen, 32);
	assert_true(x->timeout <= 40 && x->timeout + 30 >= 40);
	assert_string_equal(x->comment, "");
	x = find_entry(&c, "198.18.1.0/24");
	assert_non_null(x);
	assert_int_equal(x->timeout, 0); /* never expires */
	free(c.e);

	assert_int_equal(list_all(k, "l6", &c, 8), 0);
	assert_int_equal(c.n, 1);
	x = find_entry(&c, "2001:db8:1::/48");
	assert_non_null(x);
	assert_int_equal(x->family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::", a), 1);
	assert_memory_equal(x->addr, a, 16);
	assert_true(x->timeout <= 300 && x->timeout + 30 >= 300);
	assert_int_equal(x->packets, 3);
	assert_int_equal(x->bytes, 300);
	assert_string_equal(x->comment, "six");
	free(c.e);

	assert_int_equal(kset_list(k, "absent", collect_fn, NULL), -ENOENT);
}

static void test_full(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry e[6];
	int rc[6];
	char *o;

	for (int i = 0; i < 6; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%d", i * 16);
		e[i] = ent(AF_INET, a, 28, 0, NULL);
	}
	assert_int_equal(kset_create(k, "four", AF_INET, 4, 60), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(kset_add(k, "four", &e[i]), 0);
	assert_int_equal(kset_add(k, "four", &e[4]), -ENOSPC);
	assert_non_null(strstr(kset_strerror(-ENOSPC), "full"));
	/* replacing one that is there needs no room */
	assert_int_equal(kset_add(k, "four", &e[0]), 0);
	e[1].keep_counters = true;
	assert_int_equal(kset_add(k, "four", &e[1]), 0);
	o = out("ipset save four");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add four "), 4);
	assert_null(strstr(o, "198.51.100.64/28"));
	free(o);

	assert_int_equal(kset_create(k, "four2", AF_INET, 4, 60), 0);
	assert_int_equal(kset_add_many(k, "four2", e, 6, rc), 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rc[i], 0);
	assert_int_equal(rc[4], -ENOSPC);
	assert_int_equal(rc[5], -ENOSPC);
}

static void test_del(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry e[3] = {
		ent(AF_INET, "198.51.100.0", 24, 0, NULL),
		ent(AF_INET, "203.0.113.0", 24, 0, NULL),
		ent(AF_INET, "198.18.0.0", 15, 0, NULL),
	};
	int rc[3];
	char *o;

	assert_int_equal(kset_create(k, "d", AF_INET, 16, 60), 0);
	assert_int_equal(kset_add_many(k, "d", e, 3, rc), 0);
	assert_int_equal(kset_del(k, "d", &e[1]), 0);
	o = out("ipset save d");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add d "), 2);
	assert_null(strstr(o, "203.0.113.0/24"));
	free(o);
	assert_int_equal(kset_del(k, "d", &e[1]), -ENOENT);
	assert_int_equal(kset_del(k, "absent", &e[0]), -ENOENT);
	assert_int_equal(kset_add(k, "absent", &e[0]), -ENOENT);
	/* one there, one gone, one there */
	assert_int_equal(kset_del_many(k, "d", e, 3, rc), 1);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], -ENOENT);
	assert_int_equal(rc[2], 0);
	o = out("ipset save d");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add d "), 0);
	free(o);
}

static void test_add_many_1000(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry *e = calloc(1000, sizeof(*e));
	int *rc = calloc(1000, sizeof(*rc));
	unsigned before;
	struct collect c;
	struct kset_info in;
	char *o, prefix[64], line[512];

	assert_non_null(e);
	assert_non_null(rc);
	for (int i = 0; i < 1000; i++) {
		char a[32], cm[32];

		snprintf(a, sizeof(a), "198.18.%d.%d", i / 250, i % 250);
		snprintf(cm, sizeof(cm), "e%d", i);
		e[i] = ent(AF_INET, a, 32, 300, cm);
		rc[i] = 1;
	}
	assert_int_equal(kset_create(k, "big", AF_INET, 2048, 600), 0);
	before = sendto_calls;
	assert_int_equal(kset_add_many(k, "big", e, 1000, rc), 0);
	/* KSET_BATCH messages a sendmsg() */
	assert_int_equal(sendto_calls - before,
			 (1000 + KSET_BATCH - 1) / KSET_BATCH);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(rc[i], 0);

	o = out("ipset save big");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add big "), 1000);
	for (int i = 0; i < 1000; i++) {
		char t[32];

		elem_text(&e[i], t, sizeof(t));
		snprintf(prefix, sizeof(prefix), "add big %s ", t);
		assert_true(find_line(o, prefix, line, sizeof(line)));
		snprintf(prefix, sizeof(prefix), "comment \"e%d\"", i);
		assert_non_null(strstr(line, prefix));
	}
	free(o);
	assert_int_equal(list_all(k, "big", &c, 1001), 0);
	assert_int_equal(c.n, 1000);
	for (int i = 0; i < 1000; i++) {
		char t[32];
		const struct kset_entry *x;

		elem_text(&e[i], t, sizeof(t));
		x = find_entry(&c, t);
		assert_non_null(x);
		assert_string_equal(x->comment, e[i].comment);
	}
	free(c.e);
	assert_int_equal(kset_info(k, "big", &in), 0);
	assert_int_equal(in.elements, 1000);

	before = sendto_calls;
	assert_int_equal(kset_del_many(k, "big", e, 1000, rc), 0);
	assert_int_equal(sendto_calls - before,
			 (1000 + KSET_BATCH - 1) / KSET_BATCH);
	o = out("ipset save big");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add big "), 0);
	free(o);
	free(e);
	free(rc);
}

/* 1000 entries with 255-byte comments: a dump of many datagrams */
static void test_list_multipart(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry *e = calloc(1000, sizeof(*e));
	unsigned before;
	struct collect c;

	assert_non_null(e);
	for (int i = 0; i < 1000; i++) {
		char a[40];

		snprintf(a, sizeof(a), "2001:db8:%x::", i);
		e[i] = ent(AF_INET6, a, 48, 0, NULL);
		memset(e[i].comment, 'a' + i % 26, KSET_COMMENT_MAX);
		snprintf(e[i].comment, 8, "%05d-", i);
		e[i].comment[6] = 'z';
	}
	assert_int_equal(kset_create(k, "multi", AF_INET6, 1000, 600), 0);
	assert_int_equal(kset_add_many(k, "multi", e, 1000, NULL), 0);
	before = recv_calls;
	assert_int_equal(list_all(k, "multi", &c, 1001), 0);
	/* ~300 KiB of entries: far more than one datagram (32 KiB) */
	assert_true(recv_calls - before >= 10);
	assert_int_equal(c.n, 1000);
	for (int i = 0; i < 1000; i++) {
		char t[64];
		const struct kset_entry *x;

		elem_text(&e[i], t, sizeof(t));
		x = find_entry(&c, t);
		assert_non_null(x);
		assert_int_equal(strlen(x->comment), KSET_COMMENT_MAX);
		assert_string_equal(x->comment, e[i].comment);
	}
	free(c.e);
	free(e);
}

static void test_bad_entries(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry e[8];
	int rc[8];
	char *o;

	e[0] = ent(AF_INET, "198.51.100.0", 24, 0, "ok");
	e[1] = ent(AF_INET, "198.51.100.0", 24, 0, NULL);
	e[1].plen = 0;
	e[2] = ent(AF_INET, "198.51.100.0", 24, 0, NULL);
	e[2].plen = 33;
	e[3] = ent(AF_INET, "198.51.100.0", 24, 0, NULL);
	e[3].family = AF_UNSPEC;
	e[4] = ent(AF_INET, "198.51.100.0", 24, KSET_MAX_TIMEOUT + 1, NULL);
	e[5] = ent(AF_INET, "198.51.100.0", 24, 0, NULL);
	memset(e[5].comment, 'x', sizeof(e[5].comment)); /* no NUL */
	e[6] = ent(AF_INET6, "2001:db8::", 64, 0, NULL); /* other family */
	e[7] = ent(AF_INET, "203.0.113.0", 24, KSET_MAX_TIMEOUT, "max");

	assert_int_equal(kset_create(k, "bad", AF_INET, 16, 60), 0);
	assert_int_equal(kset_add_many(k, "bad", e, 8, rc), 6);
	assert_int_equal(rc[0], 0);
	assert_int_equal(rc[1], -EINVAL);
	assert_int_equal(rc[2], -EINVAL);
	assert_int_equal(rc[3], -EINVAL);
	assert_int_equal(rc[4], -ERANGE);
	assert_int_equal(rc[5], -EINVAL);
	/* the kernel cannot read an IPv6 address for an IPv4 set */
	assert_int_equal(rc[6], -EPROTO);
	assert_int_equal(rc[7], 0);
	o = out("ipset save bad");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add bad "), 2);
	/* the kernel's longest timeout, all of it */
	assert_true(num_after(strstr(o, "add bad 203.0.113.0/24"), "timeout") +
			    30 >=
		    KSET_MAX_TIMEOUT);
	free(o);
	assert_int_equal(kset_del(k, "bad", &e[3]), -EINVAL);
	/* the set of another tool, without counters or comments */
	assert_int_equal(sh("ipset create plain hash:net timeout 60"), 0);
	assert_int_equal(kset_add(k, "plain", &e[7]), -KSET_ENOCOUNTERS);
	assert_int_equal(sh("ipset create nocomment hash:net timeout 60 "
			    "counters"),
			 0);
	assert_int_equal(kset_add(k, "nocomment", &e[7]), -KSET_ENOCOMMENT);
	assert_int_equal(sh("ipset create notimeout hash:net counters comment"),
			 0);
	assert_int_equal(kset_add(k, "notimeout", &e[7]), -KSET_ENOTIMEOUT);
}

static int has_entry(struct kset *k, const char *name, const char *text)
{
	struct collect c;
	int found;

	assert_int_equal(list_all(k, name, &c, 16), 0);
	found = find_entry(&c, text) != NULL;
	free(c.e);
	return found;
}

static void test_expiry(void **state)
{
	struct kset_entry e = ent(AF_INET, "198.51.100.0", 24, 1, NULL);
	struct kset *k = handle(state);
	int tries = 0;
	char *o;

	assert_int_equal(kset_create(k, "expire", AF_INET, 16, 600), 0);
	assert_int_equal(kset_add(k, "expire", &e), 0);
	/* gone within a second, or a few on a loaded machine: 10 s bound */
	while (has_entry(k, "expire", "198.51.100.0/24") && tries++ < 100)
		usleep(100000);
	assert_false(has_entry(k, "expire", "198.51.100.0/24"));
	o = out("ipset save expire");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "add expire "), 0);
	free(o);
}

static const struct kset_entry *one(struct kset *k, const char *name,
				    struct collect *c, const char *text)
{
	const struct kset_entry *x;

	assert_int_equal(list_all(k, name, c, 16), 0);
	x = find_entry(c, text);
	assert_non_null(x);
	return x;
}

/*
 * The counters an iptables rule keeps: every packet the rule tests
 * against the set adds to the entry it matched (IP length in bytes),
 * unless the rule says ! --update-counters; a replace keeps or zeroes
 * them as keep_counters says.
 */
static void test_counters(void **state)
{
	struct kset_entry e = ent(AF_INET, "198.51.100.0", 24, 600, "c1");
	struct kset_entry e6 = ent(AF_INET6, "2001:db8:0:100::", 56, 600, NULL);
	const unsigned len4 = 20 + 8 + PAYLOAD, len6 = 40 + 8 + PAYLOAD;
	struct kset *k = handle(state);
	const struct kset_entry *x;
	struct collect c;
	char *o, line[512];

	assert_int_equal(kset_create(k, "cnt4", AF_INET, 16, 600), 0);
	assert_int_equal(kset_add(k, "cnt4", &e), 0);
	assert_int_equal(
		sh("iptables -A INPUT -m set --match-set cnt4 src -j DROP"), 0);
	send_udp(AF_INET, SRC4, 5);
	x = one(k, "cnt4", &c, "198.51.100.0/24");
	assert_int_equal(x->packets, 5);
	assert_int_equal(x->bytes, 5 * len4);
	free(c.e);
	assert_int_equal(rule_packets("iptables"), 5);
	o = out("ipset save cnt4");
	assert_non_null(o);
	assert_true(
		find_line(o, "add cnt4 198.51.100.0/24 ", line, sizeof(line)));
	assert_int_equal(num_after(line, "packets"), 5);
	assert_int_equal(num_after(line, "bytes"), 5 * len4);
	free(o);

	/* replace, keeping: counts stay, timeout and comment are new */
	e.keep_counters = true;
	e.timeout = 300;
	strcpy(e.comment, "c2");
	assert_int_equal(kset_add(k, "cnt4", &e), 0);
	x = one(k, "cnt4", &c, "198.51.100.0/24");
	assert_int_equal(x->packets, 5);
	assert_int_equal(x->bytes, 5 * len4);
	assert_true(x->timeout <= 300 && x->timeout + 30 >= 300);
	assert_string_equal(x->comment, "c2");
	free(c.e);

	/* replace, the default: from 0; and without a comment */
	e.keep_counters = false;
	e.comment[0] = '\0';
	assert_int_equal(kset_add(k, "cnt4", &e), 0);
	x = one(k, "cnt4", &c, "198.51.100.0/24");
	assert_int_equal(x->packets, 0);
	assert_int_equal(x->bytes, 0);
	assert_string_equal(x->comment, "");
	free(c.e);
	send_udp(AF_INET, SRC4, 3);
	x = one(k, "cnt4", &c, "198.51.100.0/24");
	assert_int_equal(x->packets, 3);
	assert_int_equal(x->bytes, 3 * len4);
	free(c.e);

	/* a rule that does not count: the packets are dropped all the same */
	assert_int_equal(sh("iptables -F INPUT && iptables -A INPUT -m set "
			    "--match-set cnt4 src ! --update-counters -j DROP"),
			 0);
	send_udp(AF_INET, SRC4, 4);
	assert_int_equal(rule_packets("iptables"), 4);
	x = one(k, "cnt4", &c, "198.51.100.0/24");
	assert_int_equal(x->packets, 3);
	free(c.e);

	assert_int_equal(kset_create(k, "cnt6", AF_INET6, 16, 600), 0);
	assert_int_equal(kset_add(k, "cnt6", &e6), 0);
	assert_int_equal(
		sh("ip6tables -A INPUT -m set --match-set cnt6 src -j DROP"),
		0);
	send_udp(AF_INET6, SRC6, 2);
	x = one(k, "cnt6", &c, "2001:db8:0:100::/56");
	assert_int_equal(x->packets, 2);
	assert_int_equal(x->bytes, 2 * len6);
	free(c.e);
	assert_int_equal(rule_packets("ip6tables"), 2);
}

/* new entries of set name (198.18.5.1..125) listed with nonzero counters */
static unsigned stale_new(struct kset *k, const char *name)
{
	struct collect c;
	unsigned stale = 0, seen = 0;

	assert_int_equal(list_all(k, name, &c, 512), 0);
	for (size_t i = 0; i < c.n; i++) {
		if (c.e[i].addr[0] != 198 || c.e[i].addr[2] != 5)
			continue;
		seen++;
		if (c.e[i].packets != 0 || c.e[i].bytes != 0)
			stale++;
	}
	free(c.e);
	assert_int_equal(seen, 125);
	return stale;
}

/* 250 entries counting 5 packets each, and the even ones deleted */
static void fill_and_thin(const char *name)
{
	char path[] = "/tmp/test_kset.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	/* a small table, so that buckets hold several entries */
	fprintf(f,
		"create %s hash:net family inet hashsize 64 maxelem 1024 "
		"timeout 600 counters comment\n",
		name);
	for (int i = 1; i <= 250; i++)
		fprintf(f, "add %s 198.18.%d.%d packets 5 bytes 500\n", name,
			i / 200, i % 200);
	for (int i = 2; i <= 250; i += 2)
		fprintf(f, "del %s 198.18.%d.%d\n", name, i / 200, i % 200);
	fclose(f);
	assert_int_equal(sh("ipset restore < %s", path), 0);
	unlink(path);
}

/*
 * The kernel does not clear the counters of a new entry: added without
 * counter values, it keeps those of the deleted entry whose slot it
 * takes.  kset's adds are not fooled, keep_counters or not.
 */
static void test_counters_slot_reuse(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry e[125];
	char path[] = "/tmp/test_kset.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	/* what the kernel does, shown with the ipset command */
	fill_and_thin("reuse1");
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	for (int i = 1; i <= 125; i++)
		fprintf(f, "add reuse1 198.18.5.%d\n", i);
	fclose(f);
	assert_int_equal(sh("ipset restore < %s", path), 0);
	unlink(path);
	assert_true(stale_new(k, "reuse1") > 0);

	for (int i = 0; i < 125; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.5.%d", i + 1);
		e[i] = ent(AF_INET, a, 32, 0, NULL);
		e[i].keep_counters = true;
	}
	fill_and_thin("reuse2");
	assert_int_equal(kset_add_many(k, "reuse2", e, 125, NULL), 0);
	assert_int_equal(stale_new(k, "reuse2"), 0);
	for (int i = 0; i < 125; i++)
		e[i].keep_counters = false;
	fill_and_thin("reuse3");
	assert_int_equal(kset_add_many(k, "reuse3", e, 125, NULL), 0);
	assert_int_equal(stale_new(k, "reuse3"), 0);
}

static void test_destroy_busy(void **state)
{
	struct kset *k = handle(state);
	struct kset_info in;
	char *o;

	assert_int_equal(kset_create(k, "busy", AF_INET, 16, 60), 0);
	assert_int_equal(
		sh("iptables -A INPUT -m set --match-set busy src -j DROP"), 0);
	assert_int_equal(kset_destroy(k, "busy"), -EBUSY);
	assert_non_null(strstr(kset_strerror(-EBUSY), "iptables"));
	assert_int_equal(kset_info(k, "busy", &in), 0);
	assert_int_equal(in.references, 1);
	o = out("ipset list -t busy");
	assert_non_null(o);
	assert_non_null(strstr(o, "References: 1"));
	free(o);
	assert_int_equal(
		sh("iptables -D INPUT -m set --match-set busy src -j DROP"), 0);
	assert_int_equal(kset_destroy(k, "busy"), 0);
	assert_int_equal(sh("ipset list -n | grep -q busy"), 1);
	assert_int_equal(kset_destroy(k, "busy"), -ENOENT);
	assert_int_equal(kset_info(k, "busy", &in), -ENOENT);
}

static void test_flush(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry e[5];
	struct kset_info in;
	char *o;

	for (int i = 0; i < 5; i++) {
		char a[32];

		snprintf(a, sizeof(a), "203.0.113.%d", i);
		e[i] = ent(AF_INET, a, 32, 0, NULL);
	}
	assert_int_equal(kset_create(k, "fl", AF_INET, 16, 60), 0);
	assert_int_equal(kset_add_many(k, "fl", e, 5, NULL), 0);
	assert_int_equal(kset_flush(k, "fl"), 0);
	o = out("ipset save fl");
	assert_non_null(o);
	assert_int_equal(count_lines(o, "create fl "), 1);
	assert_int_equal(count_lines(o, "add fl "), 0);
	free(o);
	assert_int_equal(kset_info(k, "fl", &in), 0);
	assert_int_equal(in.elements, 0);
	assert_int_equal(kset_flush(k, "absent"), -ENOENT);
}

/*
 * A walk stopped early still reads the dump out: while a dump is under
 * way the kernel holds the set (a destroy gets -EBUSY).
 */
static void test_list_stop(void **state)
{
	struct kset *k = handle(state);
	struct kset_entry *e = calloc(1000, sizeof(*e));
	unsigned before;
	struct collect c;

	assert_non_null(e);
	for (int i = 0; i < 1000; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.18.%d.%d", i / 200, i % 200);
		e[i] = ent(AF_INET, a, 32, 0, NULL);
		memset(e[i].comment, 'c', KSET_COMMENT_MAX);
	}
	assert_int_equal(kset_create(k, "stop", AF_INET, 1024, 60), 0);
	assert_int_equal(kset_add_many(k, "stop", e, 1000, NULL), 0);
	/* ~300 KiB: the dump takes many datagrams */
	before = recv_calls;
	assert_int_equal(list_all(k, "stop", &c, 1001), 0);
	assert_int_equal(c.n, 1000);
	assert_true(recv_calls - before >= 5);
	free(c.e);
	memset(&c, 0, sizeof(c));
	c.e = calloc(8, sizeof(*c.e));
	assert_non_null(c.e);
	c.max = 8;
	c.stop_at = 3;
	c.stop_with = 42;
	assert_int_equal(kset_list(k, "stop", collect_fn, &c), 42);
	assert_int_equal(c.n, 3);
	free(c.e);
	/* no dump left holding the set, nor answers left over */
	assert_int_equal(kset_destroy(k, "stop"), 0);
	assert_int_equal(kset_create(k, "stop", AF_INET, 1024, 60), 0);
	assert_int_equal(kset_add(k, "stop", &e[0]), 0);
	assert_int_equal(list_all(k, "stop", &c, 8), 0);
	assert_int_equal(c.n, 1);
	free(c.e);
	free(e);
}

/*
 * The limit of sets, in a namespace of its own (a child process): the
 * kernel grows the table past CONFIG_IP_SET_MAX (256) by 64 at a time, up
 * to 65472 (the next step would pass the 16-bit index).  ~20 s.
 */
static int max_sets_child(void)
{
	const unsigned last = 65472;
	struct kset *k;
	char name[32];
	FILE *f;
	int rc;

	if (unshare(CLONE_NEWNET) != 0)
		return 10;
	f = popen("ipset restore", "w");
	if (f == NULL)
		return 11;
	for (unsigned i = 1; i < last; i++)
		fprintf(f,
			"create s%u hash:ip family inet hashsize 64 "
			"maxelem 4\n",
			i);
	if (pclose(f) != 0)
		return 12;
	k = kset_open();
	if (k == NULL)
		return 13;
	snprintf(name, sizeof(name), "s%u", last);
	if (kset_create(k, name, AF_INET, 16, 60) != 0)
		return 14;
	rc = kset_create(k, "one-more", AF_INET, 16, 60);
	if (rc != -KSET_EMAXSETS) {
		fprintf(stderr, "one more set: %d (%s)\n", rc,
			kset_strerror(rc));
		return 15;
	}
	if (strstr(kset_strerror(rc), "no room") == NULL)
		return 16;
	kset_close(k);
	if (sh("test $(ipset list -n | wc -l) -eq %u", last) != 0)
		return 17;
	return 0;
}

/*
 * Some 65000 sets take a while: the long suite runs it
 * (DNSRL_LONG_TESTS=1, make check-long).
 */
static void test_max_sets(void **state)
{
	pid_t pid;
	int st;

	(void)handle(state);
	if (getenv("DNSRL_LONG_TESTS") == NULL)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(max_sets_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_strerror(void **state)
{
	const int codes[] = {-KSET_EMAXSETS,   -KSET_ETYPE_MISMATCH,
			     -KSET_ENOTIMEOUT, -KSET_ENOCOUNTERS,
			     -KSET_ENOCOMMENT, -ENOENT,
			     -EEXIST,	       -EBUSY,
			     -ENOSPC,	       -ENAMETOOLONG,
			     -ERANGE,	       -EPROTONOSUPPORT};
	const size_t n = sizeof(codes) / sizeof(codes[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_non_null(kset_strerror(codes[i]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(kset_strerror(codes[i]),
						kset_strerror(codes[j]));
	}
	assert_string_equal(kset_strerror(-EIO), strerror(EIO));
	assert_non_null(strstr(kset_strerror(-4200), "ipset"));
	assert_string_equal(kset_strerror(0), "success");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_protocol),
		T(test_protocol_old_kernel),
		T(test_protocol_ranges),
		T(test_create_oracle),
		T(test_create_idempotent),
		T(test_names),
		T(test_set_names),
		T(test_add_oracle),
		T(test_list_from_ipset),
		T(test_full),
		T(test_del),
		T(test_add_many_1000),
		T(test_list_multipart),
		T(test_bad_entries),
		T(test_expiry),
		T(test_counters),
		T(test_counters_slot_reuse),
		T(test_destroy_busy),
		T(test_flush),
		T(test_list_stop),
		T(test_max_sets),
		cmocka_unit_test(test_strerror),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
