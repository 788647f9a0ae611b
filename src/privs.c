/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	int saved = errno;
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", what, strerror(saved));
	return -saved;
}

int privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err,
		 size_t errlen)
{
	struct passwd *pw;

	*uid = getuid();
	*gid = getgid();
	if (user == NULL)
		return 0;
	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL && (errno == 0 || errno == ENOENT)) {
		snprintf(err, errlen, "no such user '%s'", user);
		return -ENOENT;
	}
	if (pw == NULL)
		return fail(err, errlen, "user %s", user);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Whether the mode bits of st let (uid, groups) do mode. */
static bool bits_allow(const struct stat *st, uid_t uid, const gid_t *groups,
		       int ngroups, int mode)
{
	unsigned shift = 0; /* others */

	if (st->st_uid == uid) {
		shift = 6;
	} else {
		for (int i = 0; i < ngroups; i++)
			if (groups[i] == st->st_gid)
				shift = 3;
	}
	return (((unsigned)st->st_mode >> shift) & (unsigned)mode) ==
	       (unsigned)mode;
}

int privs_access(const char *path, const char *user, uid_t uid, gid_t gid,
		 int mode, char *err, size_t errlen)
{
	gid_t groups[256];
	int ngroups = 256;
	char part[PATH_MAX];
	struct stat st;
	size_t n;

	if (uid == 0)
		return 0;
	if (user == NULL || getgrouplist(user, gid, groups, &ngroups) < 0) {
		groups[0] = gid;
		ngroups = 1;
	}
	if (strlen(path) >= sizeof(part)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* every directory on the way, then the file itself */
	for (n = 1;; n++) {
		bool last = path[n] == '\0';

		if (path[n] != '/' && !last)
			continue;
		memcpy(part, path, n);
		part[n] = '\0';
		if (stat(n == 0 ? "/" : part, &st) < 0)
			return fail(err, errlen, "%s", part);
		if (!bits_allow(&st, uid, groups, ngroups,
				last ? mode : X_OK)) {
			snprintf(err, errlen,
				 "%s: user %s (uid %u) may not %s it (mode "
				 "%04o, uid %u, gid %u)",
				 part, user != NULL ? user : "?", (unsigned)uid,
				 !last	       ? "enter"
				 : mode & W_OK ? "write"
				 : mode & X_OK ? "enter"
					       : "read",
				 (unsigned)(st.st_mode & 07777),
				 (unsigned)st.st_uid, (unsigned)st.st_gid);
			return -EACCES;
		}
		if (last)
			return 0;
	}
}

/* No libcap: the two capset words by hand (version 3, 64 bits). */
static int set_caps(uint32_t keep)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = keep;
	data[0].permitted = keep;
	return (int)syscall(SYS_capset, &hdr, data);
}

int privs_drop(const char *user, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	const uint32_t net_admin = 1u << CAP_NET_ADMIN;

	/* CAP_SETPCAP, needed for this, is among what goes; a capability
	 * the service manager already took out needs no dropping */
	for (int cap = 0;; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap);

		if (in < 0)
			break;
		if (cap == CAP_NET_ADMIN || in == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap) < 0 && errno != EINVAL)
			return fail(err, errlen, "dropping capability %d", cap);
	}
	if (user != NULL) {
		/* keep the permitted set across setuid, then trim it */
		if (prctl(PR_SET_KEEPCAPS, 1) < 0)
			return fail(err, errlen, "PR_SET_KEEPCAPS");
		if (setgroups(0, NULL) < 0)
			return fail(err, errlen, "setgroups");
		if (setresgid(gid, gid, gid) < 0)
			return fail(err, errlen, "setresgid %u", (unsigned)gid);
		if (setresuid(uid, uid, uid) < 0)
			return fail(err, errlen, "setresuid %u (%s)",
				    (unsigned)uid, user);
		if (prctl(PR_SET_KEEPCAPS, 0) < 0)
			return fail(err, errlen, "PR_SET_KEEPCAPS");
	}
	/* setuid cleared the effective set: raise CAP_NET_ADMIN again */
	if (set_caps(net_admin) < 0)
		return fail(err, errlen, "capset CAP_NET_ADMIN");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, "PR_SET_NO_NEW_PRIVS");
	return 0;
}
