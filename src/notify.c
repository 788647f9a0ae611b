/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "notify.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t plen;
	socklen_t alen;
	ssize_t n;
	int fd, saved;

	if (path == NULL || path[0] == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
		   (const struct sockaddr *)&sun, alen);
	saved = errno;
	close(fd);
	return n < 0 ? -saved : 1;
}

/* Strict unsigned decimal; false on anything else. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

uint64_t notify_watchdog_interval(void)
{
	uint64_t usec, pid;

	if (!parse_u64(getenv("WATCHDOG_USEC"), &usec) || usec == 0)
		return 0;
	if (getenv("WATCHDOG_PID") != NULL &&
	    (!parse_u64(getenv("WATCHDOG_PID"), &pid) ||
	     pid != (uint64_t)getpid()))
		return 0;
	if (usec > UINT64_MAX / 1000)
		return UINT64_MAX;
	return usec * 1000;
}

void notify_watchdog_init(struct notify_watchdog *wd, uint64_t interval,
			  size_t n, uint64_t now)
{
	memset(wd, 0, sizeof(*wd));
	wd->interval = interval;
	wd->nworkers = n > NOTIFY_WORKERS_MAX ? NOTIFY_WORKERS_MAX : n;
	wd->last_ping = now;
	wd->stalled = SIZE_MAX;
}

bool notify_watchdog_due(struct notify_watchdog *wd, const uint64_t *beats,
			 uint64_t now)
{
	if (wd->interval == 0 || now - wd->last_ping < wd->interval / 3)
		return false;
	wd->stalled = SIZE_MAX;
	for (size_t i = 0; i < wd->nworkers; i++)
		if (beats[i] == wd->beats[i]) {
			wd->stalled = i;
			return false;
		}
	memcpy(wd->beats, beats, wd->nworkers * sizeof(*beats));
	wd->last_ping = now;
	return true;
}
