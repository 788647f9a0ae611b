/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "xtables.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

#define ERR_TEXT_MAX 512 /* of the tool's stderr, quoted in err */

/* What one pipe carries, and how far it got. */
struct stream {
	int fd;
	char *buf;
	size_t len, cap, max;
};

/*
 * In the child, between fork and exec: only system calls.  Keeps
 * CAP_NET_ADMIN across the exec (inheritable, then ambient); when the
 * process does not hold it, iptables will say so itself.
 */
static void keep_net_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) != 0)
		return;
	d[0].inheritable |= 1u << CAP_NET_ADMIN;
	if (syscall(SYS_capset, &h, d) != 0)
		return;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0);
}

static pid_t spawn(char *const argv[], int in, int out, int errfd)
{
	static char *const envp[] = {
		"PATH=" XTABLES_SBIN ":/usr/bin:/sbin:/bin", NULL};
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(126);
	/* nothing of the daemon's but the three pipes */
	syscall(SYS_close_range, 3, ~0u, 0);
	keep_net_admin();
	execve(argv[0], argv, envp);
	_exit(errno == ENOENT ? 127 : 126);
}

static int grow(struct stream *s)
{
	size_t cap = s->cap ? s->cap * 2 : 4096;
	char *b;

	if (cap > s->max + 1)
		cap = s->max + 1;
	if (cap <= s->cap)
		return -EFBIG;
	b = realloc(s->buf, cap);
	if (b == NULL)
		return -ENOMEM;
	s->buf = b;
	s->cap = cap;
	return 0;
}

/* Reads what is there; returns 1 at the end, 0 for more, -errno. */
static int drain(struct stream *s)
{
	for (;;) {
		ssize_t n;

		if (s->len + 1 >= s->cap) {
			int rc = grow(s);

			if (rc < 0)
				return rc;
		}
		n = read(s->fd, s->buf + s->len, s->cap - 1 - s->len);
		if (n > 0) {
			s->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
}

/*
 * Feeds input to the child and collects its stdout and stderr until both
 * end or the deadline passes.
 */
static int exchange(int *inp, const char *input, size_t inlen, struct stream *o,
		    struct stream *e, uint64_t deadline)
{
	size_t sent = 0;
	bool o_end = o->fd < 0, e_end = false;
	int in = *inp;

	if (inlen == 0) {
		close(in);
		in = *inp = -1;
	}
	while (in >= 0 || !o_end || !e_end) {
		struct pollfd pfd[3] = {
			{.fd = in, .events = POLLOUT},
			{.fd = o_end ? -1 : o->fd, .events = POLLIN},
			{.fd = e_end ? -1 : e->fd, .events = POLLIN},
		};
		uint64_t now = clock_now();
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(pfd, 3,
			  (int)((deadline - now) / CLOCK_NS_PER_MS) + 1);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (in >= 0 && (pfd[0].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(in, input + sent, inlen - sent);

			if (n > 0)
				sent += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    sent == inlen) {
				close(in);
				in = *inp = -1;
			}
		}
		if (!o_end && pfd[1].revents) {
			rc = drain(o);
			if (rc < 0)
				return rc;
			o_end = rc == 1;
		}
		if (!e_end && pfd[2].revents) {
			/* a tool that says too much is cut, not failed */
			rc = drain(e);
			e_end = rc != 0;
		}
	}
	return 0;
}

static int wait_child(pid_t pid, uint64_t deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (clock_now() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return -ETIMEDOUT;
		}
		usleep(2000);
	}
}

/* The tool's last words, one line, for a message. */
static const char *last_words(struct stream *e)
{
	char *p;

	if (e->buf == NULL || e->len == 0)
		return "no message";
	e->buf[e->len] = '\0';
	while (e->len > 0 &&
	       (e->buf[e->len - 1] == '\n' || e->buf[e->len - 1] == ' '))
		e->buf[--e->len] = '\0';
	for (p = e->buf; *p != '\0'; p++)
		if (*p == '\n' || (unsigned char)*p < 0x20)
			*p = ' ';
	return e->len > ERR_TEXT_MAX ? e->buf + e->len - ERR_TEXT_MAX : e->buf;
}

static int make_pipe(int fd[2])
{
	return pipe2(fd, O_CLOEXEC) == 0 ? 0 : -errno;
}

int xtables_run(int family, enum xtables_tool tool, const char *table,
		const char *input, size_t inlen, char **out, char *err,
		size_t errlen)
{
	const char *prog = family == AF_INET6 ? "ip6tables" : "iptables";
	char path[64], tbl[32];
	char *argv[5];
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	struct stream o = {.fd = -1, .max = XTABLES_OUTPUT_MAX};
	struct stream e = {.fd = -1, .max = 4 * ERR_TEXT_MAX};
	uint64_t deadline = clock_now() + XTABLES_TIMEOUT_MS * CLOCK_NS_PER_MS;
	int rc, status = 0;
	pid_t pid;

	if (out != NULL)
		*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s-%s", XTABLES_SBIN, prog,
		 tool == XTABLES_SAVE ? "save" : "restore");
	snprintf(tbl, sizeof(tbl), "%s", table);
	argv[0] = path;
	if (tool == XTABLES_SAVE) {
		argv[1] = (char *)"-t";
		argv[2] = tbl;
		argv[3] = NULL;
	} else {
		argv[1] = (char *)"--noflush";
		argv[2] = NULL;
	}
	if ((rc = make_pipe(pin)) < 0 || (rc = make_pipe(pout)) < 0 ||
	    (rc = make_pipe(perr)) < 0)
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	pid = spawn(argv, pin[0], pout[1], perr[1]);
	if (pid < 0) {
		rc = -errno;
		goto fail;
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	o.fd = pout[0];
	e.fd = perr[0];
	rc = exchange(&pin[1], input, inlen, &o, &e, deadline);
	if (rc < 0)
		kill(pid, SIGKILL);
	if (wait_child(pid, deadline, &status) < 0 && rc == 0)
		rc = -ETIMEDOUT;
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		rc = -ENOENT;
	else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		rc = -EIO;
	if (rc == -ENOENT)
		snprintf(err, errlen, "%s: not installed", path);
	else if (rc == -EIO)
		snprintf(err, errlen, "%s failed: %s", path, last_words(&e));
	else if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	if (rc == 0 && out != NULL) {
		if (o.buf == NULL && grow(&o) < 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", path);
		} else {
			o.buf[o.len] = '\0';
			*out = o.buf;
			o.buf = NULL;
		}
	}
fail:
	if (rc < 0 && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	free(o.buf);
	free(e.buf);
	return rc;
}
