/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel sets for held-down prefixes: ipset hash:net sets (one per rule
 * and address family) made, filled, listed and removed over a
 * NETLINK_NETFILTER socket (NFNL_SUBSYS_IPSET), with our own messages on
 * libmnl; neither libipset nor the ipset command is used.
 *
 * Every set made here has the timeout extension (entries expire by
 * themselves), packet and byte counters and comments.  An iptables rule
 * `-m set --match-set NAME src -j DROP` then drops a held prefix before
 * its queries reach the queue, and the counters tell whether it keeps
 * sending: a matching packet adds to the counters of the entry it
 * matched, unless the rule says `! --update-counters`.
 *
 * What the kernel does (6.18, ip_set_core.c and ip_set_hash_gen.h, shown
 * by tests/test_kset.c):
 *  - The protocol is negotiated once, as libipset does: we ask with
 *    IPSET_CMD_PROTOCOL, the kernel answers its version and, since
 *    protocol 7, the oldest it still accepts (IPSET_ATTR_PROTOCOL_MIN);
 *    we then speak min(kernel's, 7), and need at least 6.  Our messages
 *    are the same in 6 and 7.
 *  - Entry timeouts above KSET_MAX_TIMEOUT are cut to it by the kernel
 *    (IPSET_MAX_TIMEOUT, what fits in jiffies); here they are refused.
 *  - Replacing an entry (an add of one that is there) restarts its timeout
 *    and sets its comment (an empty one removes it).  Its counters are
 *    kept unless the add carries counter values.  A new entry's counters
 *    are not cleared by the kernel either: without values it takes over
 *    the counts of a deleted entry whose slot it reuses (shown by the
 *    test; an expired one's too, by the same code).
 *    kset_add therefore always says what the counters become: see
 *    kset_entry.keep_counters.
 *  - A network namespace starts with room for 256 sets
 *    (CONFIG_IP_SET_MAX) and the kernel grows the table by 64 at a time;
 *    a create fails, with KSET_EMAXSETS, only at 65472 sets.
 *
 * One handle serves one thread (the main loop), off the packet path;
 * every call is a synchronous exchange with the kernel, which answers
 * within the sendmsg() (a call that waits 5 s for an answer gives up with
 * -ETIMEDOUT).  The handle's buffers (~100 KiB) are its only memory.
 * Needs CAP_NET_ADMIN in the network namespace of the socket.
 */
#ifndef DNSRL_KSET_H
#define DNSRL_KSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KSET_NAME_MAX 31	  /* characters of a set name */
#define KSET_COMMENT_MAX 255	  /* characters of an entry comment */
#define KSET_MAX_TIMEOUT 2147483u /* seconds, (UINT_MAX >> 1) / 1000 */
#define KSET_BATCH 128		  /* messages a sendmsg() */

/*
 * ipset's own codes that have no natural errno come back negated as they
 * are (-KSET_E...); kset_strerror() explains them and every other code.
 */
#define KSET_EMAXSETS 4099	 /* IPSET_ERR_MAX_SETS: no room for a set */
#define KSET_ETYPE_MISMATCH 4102 /* IPSET_ERR_TYPE_MISMATCH */
#define KSET_ENOTIMEOUT 4107	 /* IPSET_ERR_TIMEOUT: set has no timeouts */
#define KSET_ENOCOUNTERS 4111	 /* IPSET_ERR_COUNTER: set has no counters */
#define KSET_ENOCOMMENT 4112	 /* IPSET_ERR_COMMENT: set has no comments */

struct kset;

/* What a set is, as the kernel reports it (kset_info). */
struct kset_info {
	char type[KSET_NAME_MAX + 1]; /* "hash:net" for a set made here */
	int family;		      /* AF_INET or AF_INET6 */
	uint8_t revision;	      /* of the set type */
	uint32_t hashsize;	      /* buckets now (the kernel resizes) */
	uint32_t maxelem;
	uint32_t elements;	  /* entries not yet expired */
	uint32_t references;	  /* iptables rules (and list:sets) using it */
	uint32_t memsize;	  /* bytes */
	bool timeout;		  /* the timeout extension, */
	uint32_t default_timeout; /* with this default (seconds) */
	bool counters;
	bool comment;
};

/* One prefix of a set. */
struct kset_entry {
	int family;	  /* AF_INET or AF_INET6: the set's */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t plen;	  /* 1-32 or 1-128; bits past it are cleared */
	/*
	 * Add: seconds to live, 1 to KSET_MAX_TIMEOUT, or 0 for the set's
	 * default.  List: seconds left (at least 1), or 0 for an entry that
	 * never expires (only another tool makes those).
	 */
	uint32_t timeout;
	/*
	 * Add: false (the default) starts the counters at 0, whether the
	 * entry is new or replaced.  true keeps the counts of an entry that
	 * is there and starts a new one at 0; it costs a second message for
	 * the entries that were there (an exclusive add first, then a
	 * replace without counter values).
	 */
	bool keep_counters;
	uint64_t packets; /* list: counters of the packets that matched */
	uint64_t bytes;
	char comment[KSET_COMMENT_MAX + 1]; /* add and list; "" for none */
};

/*
 * Opens a netlink socket for ipset and negotiates the protocol version.
 * Returns a handle the caller owns (kset_close), or NULL with errno set:
 * EPERM without CAP_NET_ADMIN, EPROTONOSUPPORT when the kernel's versions
 * and ours (6-7) do not meet, EPROTO on an answer we cannot read.
 */
struct kset *kset_open(void);

/* Closes the socket and frees the handle.  No-op on NULL. */
void kset_close(struct kset *k);

/* The protocol version negotiated at open (6 or 7). */
int kset_protocol(const struct kset *k);

/*
 * Makes set name: hash:net for family (AF_INET or AF_INET6), with the
 * timeout extension (default_timeout seconds, 1 to KSET_MAX_TIMEOUT),
 * counters and comments, holding at most maxelem (>= 1) entries.
 * Idempotent: returns 0 when a set of that name exists with exactly these
 * properties (it is left as it is, entries and all), -EEXIST when one
 * exists that differs in any (type, family, maxelem, default timeout,
 * extensions; kset_info says how).  Other failures: -ENAMETOOLONG (name
 * longer than KSET_NAME_MAX), -EINVAL (empty name, family, maxelem 0,
 * default_timeout 0), -ERANGE (default_timeout too long), -KSET_EMAXSETS
 * (the namespace has no room for another set), -EOPNOTSUPP (the kernel
 * has no hash:net with comments), or -errno.
 */
int kset_create(struct kset *k, const char *name, int family, uint32_t maxelem,
		uint32_t default_timeout);

/*
 * Fills *out with what the kernel reports of set name, whatever its type.
 * Returns 0, -ENOENT when there is no such set, -ENAMETOOLONG, -EINVAL,
 * or -errno.
 */
int kset_info(struct kset *k, const char *name, struct kset_info *out);

/*
 * Adds e to set name, or replaces it when the prefix is there: the
 * timeout restarts, the comment is set (or removed, for ""), the counters
 * go as e->keep_counters says.  Returns 0; -ENOSPC when the set is full
 * (maxelem entries; replacing one that is there still works); -ENOENT
 * when there is no such set; -EINVAL for an entry that is not valid (its
 * family, plen, or a comment without its NUL); -ERANGE for a timeout
 * above KSET_MAX_TIMEOUT; -EPROTO when e's family is not the set's (the
 * kernel cannot read the address); -KSET_ENO... when the set lacks an
 * extension (one not made by kset_create); or -errno.
 */
int kset_add(struct kset *k, const char *name, const struct kset_entry *e);

/*
 * Deletes e's prefix (family, addr, plen; the rest is ignored) from set
 * name.  Returns 0, -ENOENT when the prefix or the set is absent, -EINVAL
 * for an entry that is not valid, or -errno.
 */
int kset_del(struct kset *k, const char *name, const struct kset_entry *e);

/*
 * kset_add for each of e[0..n): KSET_BATCH entries a sendmsg() (twice
 * for a batch with entries kept by keep_counters that were there), each
 * in a message of its own so that the kernel answers each; every answer
 * is read.  rc[i] (rc may be NULL) gets entry i's result as kset_add
 * would return it.  Returns the number of entries that failed (0: all
 * done), or -errno when the exchange itself failed (the socket); then
 * the entries without an answer have that -errno in rc.
 */
int kset_add_many(struct kset *k, const char *name, const struct kset_entry *e,
		  size_t n, int *rc);

/* kset_del for each of e[0..n), batched and answered as kset_add_many. */
int kset_del_many(struct kset *k, const char *name, const struct kset_entry *e,
		  size_t n, int *rc);

/*
 * Calls fn(arg, entry) for each entry of set name, in the kernel's order,
 * reading the dump to its end whatever fn says (so that the kernel lets
 * go of the set).  fn returns 0 to go on, anything else to stop; the entry
 * is valid during the call only.  Returns 0 when every entry was given,
 * the value fn stopped with, -ENOENT when there is no such set, or -errno.
 */
int kset_list(struct kset *k, const char *name,
	      int (*fn)(void *arg, const struct kset_entry *e), void *arg);

/*
 * Calls fn(arg, name) for the name of every set of the namespace, whoever
 * made it, reading the dump to its end.  fn returns 0 to go on, anything
 * else to stop (the rest is read but not given).  Returns 0, the value fn
 * stopped with, or -errno.
 */
int kset_names(struct kset *k, int (*fn)(void *arg, const char *name),
	       void *arg);

/* Removes every entry of set name.  0, -ENOENT, or -errno. */
int kset_flush(struct kset *k, const char *name);

/*
 * Removes set name.  Returns 0, -EBUSY while an iptables rule (or a
 * list:set) references it, -ENOENT when there is no such set, or -errno.
 */
int kset_destroy(struct kset *k, const char *name);

/*
 * A sentence for a kset return code (0, -errno or -KSET_E...), in the
 * terms of the calls above (-ENOSPC: "the set is full"); strerror()'s for
 * an errno kset does not give a meaning of its own.  The string is static.
 */
const char *kset_strerror(int rc);

#endif
