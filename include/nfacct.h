/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extended accounting objects (nfnetlink_acct): named packet and byte
 * counters that an iptables rule adds to with `-m nfacct --nfacct-name`.
 *
 * The kernel holds (holds.h) count what they drop with one: the set
 * entries' own counters die with their entry when its timeout runs out,
 * and an entry's first packets come before the daemon first reads it, so
 * only a counter of the rule itself counts every drop.  An object lives
 * in the network namespace until it is deleted, whoever made it; a
 * restarted daemon finds its counts where they were.
 *
 * Off the packet path: the main thread, at start, on reload, once a
 * second (nfacct_get) and for --remove-rules.
 */
#ifndef DNSRL_NFACCT_H
#define DNSRL_NFACCT_H

#include <stdint.h>

#define NFACCT_NAME_LEN 31 /* the kernel's NFACCT_NAME_MAX, less the NUL */

struct nfacct;

/*
 * Opens a netfilter netlink socket.  Returns a handle the caller owns
 * (nfacct_close), or NULL with errno set (EPERM without CAP_NET_ADMIN).
 */
struct nfacct *nfacct_open(void);

/* Closes the socket and frees the handle.  No-op on NULL. */
void nfacct_close(struct nfacct *n);

/*
 * Makes object name with zero counts; one that exists is kept as it is,
 * counts and all.  Returns 0, -ENAMETOOLONG, -EINVAL (empty name), or
 * -errno.
 */
int nfacct_make(struct nfacct *n, const char *name);

/*
 * The packets counted by object name so far, in *packets.  Returns 0,
 * -ENOENT when there is no such object, or -errno.
 */
int nfacct_get(struct nfacct *n, const char *name, uint64_t *packets);

/*
 * Deletes object name.  Returns 0, -EBUSY while a rule uses it, -ENOENT
 * when there is none, or -errno.
 */
int nfacct_delete(struct nfacct *n, const char *name);

/*
 * Calls fn(arg, name) for every object of the namespace, whoever made
 * it, reading the dump to its end.  fn returns 0 to go on, anything else
 * to stop (the rest is read but not given).  Returns 0, the value fn
 * stopped with, or -errno.
 */
int nfacct_names(struct nfacct *n, int (*fn)(void *arg, const char *name),
		 void *arg);

#endif
