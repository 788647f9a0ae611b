/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
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
	if (pw == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return fail(err, errlen, "user %s", user);
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
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
