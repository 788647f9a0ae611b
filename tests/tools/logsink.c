/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logsink SOCKETPATH OUTFILE: a syslog listener for the tests.
 *
 * Binds a unix datagram socket at SOCKETPATH (removing a stale socket
 * there), appends each datagram to OUTFILE as one line, flushed at once,
 * and exits on SIGTERM or SIGINT, or when its parent dies, removing the
 * socket.  Backslashes, newlines and other control octets inside a message
 * are escaped (\\, \n, \r, \t, \xHH), so that one line is one message.
 * With LOGSINK_STAMP=1 in the environment each line starts with the
 * time it was received, in milliseconds of CLOCK_MONOTONIC, and a space.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Larger than any datagram a syslog client sends. */
static char msg[65536];
/* Each octet of msg escapes to at most four, plus the newline. */
static char line[sizeof(msg) * 4 + 2];

/* Escapes msg[0..len) into line; returns the length, newline included. */
static size_t escape(const char *m, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)m[i];
		if (c == '\\' || c == '\n' || c == '\r' || c == '\t') {
			out[n++] = '\\';
			out[n++] = c == '\\'   ? '\\'
				   : c == '\n' ? 'n'
				   : c == '\r' ? 'r'
					       : 't';
		} else if (c < 0x20 || c == 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '\n';
	return n;
}

/* Binds the socket, replacing a stale socket but nothing else. */
static int sink_open(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "logsink: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "logsink: %s exists, not a socket\n",
				path);
			return -1;
		}
		if (unlink(path) < 0) {
			fprintf(stderr, "logsink: unlink %s: %s\n", path,
				strerror(errno));
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "logsink: socket: %s\n", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "logsink: bind %s: %s\n", path,
			strerror(errno));
		close(fd);
		return -1;
	}
	/* A daemon that has dropped privileges still gets to log. */
	chmod(path, 0666);
	return fd;
}

/* Copies datagrams to out until a signal; 0, or -1 on an error. */
static int sink_run(int fd, int sfd, FILE *out)
{
	struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
				{.fd = sfd, .events = POLLIN}};
	bool stamp = getenv("LOGSINK_STAMP") != NULL;
	ssize_t n;
	size_t len;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "logsink: poll: %s\n", strerror(errno));
			return -1;
		}
		if (pfd[1].revents)
			return 0;
		while ((n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT)) >= 0) {
			/* A trailing NUL or newline is framing, not text. */
			while (n > 0 &&
			       (msg[n - 1] == '\0' || msg[n - 1] == '\n'))
				n--;
			len = escape(msg, (size_t)n, line);
			if (stamp) {
				struct timespec ts;

				clock_gettime(CLOCK_MONOTONIC, &ts);
				fprintf(out, "%lld ",
					(long long)ts.tv_sec * 1000 +
						ts.tv_nsec / 1000000);
			}
			if (fwrite(line, 1, len, out) != len || fflush(out)) {
				fprintf(stderr, "logsink: write: %s\n",
					strerror(errno));
				return -1;
			}
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "logsink: recv: %s\n", strerror(errno));
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	sigset_t mask;
	pid_t parent = getppid();
	FILE *out;
	int fd, sfd, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: logsink SOCKETPATH OUTFILE\n");
		return 1;
	}
	/* Signals are read from a signalfd, so none is lost between polls. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		fprintf(stderr, "logsink: signalfd: %s\n", strerror(errno));
		return 1;
	}
	/* A test script killed outright must not leave its listener. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		return 1;
	out = fopen(argv[2], "ae");
	if (out == NULL) {
		fprintf(stderr, "logsink: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	fd = sink_open(argv[1]);
	if (fd >= 0) {
		ret = sink_run(fd, sfd, out) < 0;
		close(fd);
		unlink(argv[1]);
	}
	if (fclose(out) != 0)
		ret = 1;
	close(sfd);
	return ret;
}
