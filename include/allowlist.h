/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The temporary allow-list: prefixes an operator let through for a while
 * (`dnsrlctl allow PREFIX DURATION`), checked on the packet path next to
 * the configuration's `allow`.
 *
 * At most ALLOWLIST_MAX entries, each a prefix and the time it ends.  The
 * main thread alone changes the list; the workers read it with neither
 * lock nor allocation: each entry is a small seqlock of atomics (the
 * writer makes its sequence odd, writes, makes it even again; a reader
 * that saw it change reads again), and an entry ends by its own time, on
 * the packet path, whether or not the main thread has tidied it away.
 *
 * The list is not the configuration's: a reload keeps it.  allowlist_save
 * and allowlist_load keep it over a restart in a file (the daemon's is
 * allow.state beside its control socket, in /run: a reboot forgets it, as
 * it forgets the kernel's holds).  The file holds each entry's end as
 * wall-clock time, so the time a restart takes counts.
 */
#ifndef DNSRL_ALLOWLIST_H
#define DNSRL_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define ALLOWLIST_MAX 64	       /* entries; a check reads them all */
#define ALLOWLIST_FILE_MAX (64 * 1024) /* bytes of a file that is read */

/* An entry, as the main thread knows it. */
struct allowlist_entry {
	struct config_prefix prefix; /* AF_INET or AF_INET6 */
	uint64_t until;		     /* monotonic ns; it ends then */
	uid_t uid;		     /* who asked */
	pid_t pid;
};

struct allowlist;

/* A new empty list the caller owns, or NULL with errno set. */
struct allowlist *allowlist_new(void);

/* No-op on NULL. */
void allowlist_free(struct allowlist *a);

/*
 * The packet path: whether addr (family AF_INET, addr[0..3], or AF_INET6,
 * addr[0..15]) falls in an entry that has not ended at now.  Any thread,
 * any time; never blocks (a reader that meets an entry being written
 * reads it again, a few times at most, then goes on without it).
 */
bool allowlist_has(const struct allowlist *a, int family, const uint8_t *addr,
		   uint64_t now);

/*
 * Main thread.  Lets p through until the monotonic time until, for the
 * peer uid/pid: a new entry, or the end of one for the same prefix
 * changed (its old end in *was_until, may be NULL).  Returns 0 for a new
 * entry, 1 for a changed one, -ENOSPC when ALLOWLIST_MAX entries are live
 * at now, -EINVAL for until not after now.
 */
int allowlist_set(struct allowlist *a, const struct config_prefix *p,
		  uint64_t until, uid_t uid, pid_t pid, uint64_t now,
		  uint64_t *was_until);

/*
 * Main thread.  Removes the entry for exactly p (what it was into *was,
 * may be NULL).  Returns 0, or -ENOENT when there is none live at now.
 */
int allowlist_remove(struct allowlist *a, const struct config_prefix *p,
		     uint64_t now, struct allowlist_entry *was);

/*
 * Main thread.  Takes away the entries that ended by now, calling fn
 * (may be NULL) with each.  Returns how many.
 */
size_t allowlist_expire(struct allowlist *a, uint64_t now,
			void (*fn)(void *arg, const struct allowlist_entry *e),
			void *arg);

/*
 * Main thread.  The live entries at now into out (ALLOWLIST_MAX room),
 * in the order they were made.  Returns how many.
 */
size_t allowlist_get(const struct allowlist *a, uint64_t now,
		     struct allowlist_entry out[ALLOWLIST_MAX]);

/*
 * Main thread.  A live entry at now that shares an address with p (one
 * holds the other) into *out (may be NULL).  Returns whether there is
 * one.
 */
bool allowlist_overlaps(const struct allowlist *a,
			const struct config_prefix *p, uint64_t now,
			struct allowlist_entry *out);

/*
 * Whether prefixes a and b share an address: one holds the other.
 * Plain arithmetic, for the configuration's allow-list too.
 */
bool allowlist_prefix_overlap(const struct config_prefix *a,
			      const struct config_prefix *b);

/*
 * Main thread.  Writes the live entries at now into path: a temporary
 * file beside it (mode 0600) renamed over it, so a reader never sees half
 * a file.  Each end is written as wall-clock ms, real_ms being the wall
 * clock at now.  Returns 0, or -errno with a message in err.
 */
int allowlist_save(const struct allowlist *a, const char *path, uint64_t now,
		   int64_t real_ms, char *err, size_t errlen);

/*
 * Reads the entries of a file allowlist_save wrote into a (at start, a
 * empty list), those that end after real_ms (the wall clock at now).  The
 * file must be a regular file (not followed if a link) of at most
 * ALLOWLIST_FILE_MAX bytes, belonging to root or to owner.  A line that is
 * not an entry is skipped and said in err ("path:line: ..."), the rest
 * read.  Returns the number of entries taken, 0 when there is no file, or
 * -errno with a message in err when the file cannot be used at all.
 */
int allowlist_load(struct allowlist *a, const char *path, uid_t owner,
		   uint64_t now, int64_t real_ms, char *err, size_t errlen);

#endif
