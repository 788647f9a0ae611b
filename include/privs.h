/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dropping privileges after start-up.
 *
 * Once the queues are bound and the table is allocated, the daemon needs
 * one capability: CAP_NET_ADMIN, which every message to an NFQUEUE socket
 * requires, verdicts included.  Capabilities are per thread, so this runs
 * in the main thread before any worker starts; workers inherit the result.
 */
#ifndef DNSRL_PRIVS_H
#define DNSRL_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Looks up user (NULL: stay the current user) and reports its ids.
 * Returns 0, or -ENOENT with a message in err.
 */
int privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err,
		 size_t errlen);

/*
 * Whether user (uid, gid and its other groups) may do what mode asks
 * (R_OK, W_OK, X_OK, or'ed) to path, by the mode bits of path and of
 * every directory on the way to it (each must be searchable); uid 0 may
 * do anything.  ACLs are not read.  Returns 0, or -EACCES with the file or
 * directory that stops it, its mode and owner in err; -errno when a
 * component cannot be examined.
 */
int privs_access(const char *path, const char *user, uid_t uid, gid_t gid,
		 int mode, char *err, size_t errlen);

/*
 * Keeps only CAP_NET_ADMIN: removes every other capability from the
 * bounding set, switches to uid/gid (with no supplementary groups) when
 * user is not NULL, and leaves CAP_NET_ADMIN alone in the permitted and
 * effective sets (nothing inheritable).  Returns 0, or -errno with a
 * message in err; on failure the process must not go on.
 */
int privs_drop(const char *user, uid_t uid, gid_t gid, char *err,
	       size_t errlen);

#endif
