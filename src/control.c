/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket, server and client.
 *
 * The server is served from the main thread, which also feeds the
 * watchdog and sweeps the table, so it must never wait on a client: the
 * accepted sockets are non-blocking and every wait is a poll() bounded by
 * one deadline per control_handle() call.  A reply is built whole in
 * memory first, so its length can lead it and the daemon's state is read
 * only once.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define BACKLOG 16
#define REPLY_HEAD_MAX 1024 /* "ok LENGTH" or "error: ..." and its '\n' */

struct control {
	int fd;
	int reserve; /* a spare fd, given up to refuse a client at EMFILE */
	int stop;    /* an eventfd that ends the serving thread */
	pthread_t thread;
	bool running;
	const struct control_ops *ops;
	void *arg;
	char *path;
	uid_t owner;   /* who besides root may ask anything */
	gid_t readers; /* whose members may read; (gid_t)-1: none */
	dev_t dev;     /* the socket file made, so that close removes only it */
	ino_t ino;
};

static int64_t now_ms(void)
{
	return (int64_t)(clock_now() / CLOCK_NS_PER_MS);
}

static int sockaddr_of(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path[0] == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/*
 * Makes room at path: nothing there is fine; a socket nobody listens on
 * (a daemon that died) is removed; a socket that answers is another
 * daemon's; anything else is not ours to remove.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Non-blocking, so a live server with a full backlog cannot stall
	 * us; it still counts as live. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS)
		rc = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		rc = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
	else
		rc = -errno;
	close(fd);
	return rc;
}

struct control *control_open(const char *path, uid_t owner, gid_t group)
{
	struct control *c = NULL;
	struct sockaddr_un sa;
	struct stat st;
	mode_t mask;
	int rc;

	rc = sockaddr_of(path, &sa);
	if (rc < 0)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	c->fd = -1;
	c->stop = -1;
	c->readers = (gid_t)-1;
	c->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->path = strdup(path);
	if (c->path == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	c->owner = owner != (uid_t)-1 ? owner : geteuid();
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = clear_stale(path, &sa);
	if (rc < 0)
		goto fail;
	/* bind() creates the file with the umask applied: with this one it
	 * is 0600 from the start, never briefly open to others. */
	mask = umask(0177);
	rc = bind(c->fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (rc < 0) {
		rc = -errno;
		goto fail;
	}
	if (lstat(path, &st) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	/* Only when it changes anything: under a system call filter chown
	 * may be refused even when it would be a no-op. */
	if (owner != (uid_t)-1 &&
	    (st.st_uid != owner ||
	     (group != (gid_t)-1 && st.st_gid != group)) &&
	    fchownat(AT_FDCWD, path, owner, group, AT_SYMLINK_NOFOLLOW) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	if (listen(c->fd, BACKLOG) < 0) {
		rc = -errno;
		goto fail_unlink;
	}
	return c;

fail_unlink:
	unlink(path);
fail:
	if (c != NULL) {
		if (c->fd >= 0)
			close(c->fd);
		if (c->reserve >= 0)
			close(c->reserve);
		free(c->path);
		free(c);
	}
	errno = -rc;
	return NULL;
}

int control_set_readers(struct control *c, gid_t group)
{
	struct stat st;

	if (lstat(c->path, &st) < 0)
		return -errno;
	if (st.st_dev != c->dev || st.st_ino != c->ino)
		return -ESTALE;
	/* the group first: the file is never open to another one */
	if (st.st_gid != group && fchownat(AT_FDCWD, c->path, (uid_t)-1, group,
					   AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (chmod(c->path, 0660) < 0)
		return -errno;
	c->readers = group;
	return 0;
}

int control_fd(const struct control *c)
{
	return c->fd;
}

void control_close(struct control *c)
{
	struct stat st;

	if (c == NULL)
		return;
	if (c->running) {
		uint64_t one = 1;

		if (write(c->stop, &one, sizeof(one)) != sizeof(one))
			log_warn("control: stopping the server");
		pthread_join(c->thread, NULL);
	}
	if (c->stop >= 0)
		close(c->stop);
	close(c->fd);
	if (c->reserve >= 0)
		close(c->reserve);
	/* After a restart the path may be another daemon's socket. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c);
}

/* Waits for events on fd until the deadline.  Returns 1 when they came, 0
 * when the deadline passed, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Sends buf[0..len) before the deadline.  Returns 0 or -errno. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc <= 0)
			return rc < 0 ? rc : -ETIMEDOUT;
	}
	return 0;
}

static void send_error(int fd, int64_t deadline, const char *fmt, ...)
	LOG_PRINTF(3, 4);

static void send_error(int fd, int64_t deadline, const char *fmt, ...)
{
	char buf[REPLY_HEAD_MAX];
	va_list ap;
	int n;

	memcpy(buf, "error: ", 7);
	va_start(ap, fmt);
	n = vsnprintf(buf + 7, sizeof(buf) - 8, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = 7 + (n < (int)sizeof(buf) - 8 ? n : (int)sizeof(buf) - 9);
	buf[n++] = '\n';
	send_all(fd, buf, (size_t)n, deadline);
}

/*
 * Reads one request line into buf (NUL-terminated, without its line end)
 * before the deadline.  A client may also end the line by shutting down
 * its side.  Returns 0, -ETIMEDOUT, -EMSGSIZE for a line that does not fit
 * in CONTROL_REQUEST_MAX bytes, -ENODATA when the client went away
 * without a word, or another -errno.
 */
static int read_request(int fd, char buf[CONTROL_REQUEST_MAX + 1],
			int64_t deadline)
{
	size_t len = 0;

	for (;;) {
		char *nl;
		ssize_t n = recv(fd, buf + len, CONTROL_REQUEST_MAX - len,
				 MSG_DONTWAIT);
		int rc;

		if (n == 0) {
			if (len == 0)
				return -ENODATA;
			buf[len] = '\0';
			break;
		}
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			nl = memchr(buf, '\n', len);
			if (nl != NULL) {
				*nl = '\0';
				break;
			}
			if (len == CONTROL_REQUEST_MAX)
				return -EMSGSIZE;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc <= 0)
			return rc < 0 ? rc : -ETIMEDOUT;
	}
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\r')
		buf[len - 1] = '\0';
	return 0;
}

/* Parses "N" of "top N": decimal digits only, 1..CONTROL_TOP_MAX. */
static bool parse_top_n(const char *s, size_t *n)
{
	size_t v = 0;

	if (*s == '\0' || strlen(s) > 4)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (size_t)(*s - '0');
	}
	if (v < 1 || v > CONTROL_TOP_MAX)
		return false;
	*n = v;
	return true;
}

/* The commands, and what each asks of the daemon. */
enum command {
	CMD_STATS,
	CMD_TOP,
	CMD_RELOAD,
	CMD_STEER, /* show, release, hold, allow: the daemon reads them */
	CMD_UNKNOWN,
};

/* Whether req is word, alone or with arguments after a space. */
static bool is(const char *req, const char *word)
{
	size_t n = strlen(word);

	return strncmp(req, word, n) == 0 && (req[n] == '\0' || req[n] == ' ');
}

static enum command command_of(const char *req)
{
	if (strcmp(req, "stats") == 0)
		return CMD_STATS;
	if (is(req, "top"))
		return CMD_TOP;
	if (strcmp(req, "reload") == 0)
		return CMD_RELOAD;
	if (is(req, "show") || is(req, "release") || is(req, "hold") ||
	    is(req, "allow"))
		return CMD_STEER;
	return CMD_UNKNOWN;
}

/* Whether req changes the daemon's state (else it only reads). */
static bool changes(const char *req)
{
	if (strcmp(req, "reload") == 0 || is(req, "release") || is(req, "hold"))
		return true;
	/* `allow` alone lists the entries */
	return is(req, "allow") && req[strspn(req + 5, " ") + 5] != '\0';
}

/* Sends a callback's failure: the first line it wrote, or the errno. */
static void send_failure(int fd, int64_t deadline, int rc, const char *body,
			 size_t len)
{
	size_t n = 0;

	while (n < len && body[n] != '\n')
		n++;
	if (n == 0)
		send_error(fd, deadline, "internal: %s", strerror(-rc));
	else
		send_error(fd, deadline, "%.*s", (int)n, body);
}

/* Builds and sends the reply to the request req.  The deadline bounds
 * the waits on the client; the time the callbacks take is the daemon's
 * own and moves it on. */
static void reply(const struct control *c, int fd, const char *req,
		  const struct control_ops *ops, void *arg,
		  const struct control_peer *peer, int64_t *deadline)
{
	char esc[CONTROL_REQUEST_MAX * 4 + 1];
	enum command cmd = command_of(req);
	char head[32];
	char *body = NULL;
	size_t len = 0, n = CONTROL_TOP_DEFAULT;
	int64_t start;
	FILE *out;
	int rc;

	if (cmd == CMD_UNKNOWN || (cmd == CMD_RELOAD && ops->reload == NULL) ||
	    (cmd == CMD_STEER && ops->steer == NULL)) {
		log_escape(esc, sizeof(esc), (const uint8_t *)req, strlen(req));
		send_error(fd, *deadline,
			   "unknown command '%s' (expected stats, top [N]%s%s)",
			   esc,
			   ops->steer != NULL ? ", show, release, hold, allow"
					      : "",
			   ops->reload != NULL ? ", reload" : "");
		return;
	}
	if (changes(req) && peer->uid != 0 && peer->uid != c->owner) {
		/* a command's own word: one command_of knows */
		char word[16];

		snprintf(word, sizeof(word), "%.*s", (int)strcspn(req, " "),
			 req);
		log_notice("control: %s by uid %u pid %d: refused (it may only "
			   "read)",
			   word, (unsigned)peer->uid, (int)peer->pid);
		send_error(fd, *deadline,
			   "permission denied: %s changes the daemon's state; "
			   "only root and the daemon's user (uid %u) may; "
			   "uid %u may only read (stats, top, show, allow "
			   "without arguments)",
			   word, (unsigned)c->owner, (unsigned)peer->uid);
		return;
	}
	if (strncmp(req, "top ", 4) == 0 && !parse_top_n(req + 4, &n)) {
		log_escape(esc, sizeof(esc), (const uint8_t *)req + 4,
			   strlen(req + 4));
		send_error(fd, *deadline, "top: expected N in 1..%d, got '%s'",
			   CONTROL_TOP_MAX, esc);
		return;
	}
	start = now_ms();
	out = open_memstream(&body, &len);
	if (out == NULL) {
		send_error(fd, *deadline, "internal: %s", strerror(errno));
		return;
	}
	if (cmd == CMD_STATS)
		rc = ops->stats(arg, out);
	else if (cmd == CMD_TOP)
		rc = ops->top(arg, n, out);
	else if (cmd == CMD_STEER)
		rc = ops->steer(arg, req, peer, out);
	else
		rc = ops->reload(arg, out);
	/* Closing flushes the stream: only then are body and len final. */
	if (fclose(out) != 0 && rc == 0)
		rc = -ENOMEM;
	*deadline += now_ms() - start;
	if (rc < 0) {
		send_failure(fd, *deadline, rc, body, len);
	} else {
		snprintf(head, sizeof(head), "ok %zu\n", len);
		if (send_all(fd, head, strlen(head), *deadline) == 0)
			send_all(fd, body, len, *deadline);
	}
	free(body);
}

/*
 * Whether the peer on fd (cred) is in the readers' group: its primary
 * group or one of the others it had at connect.
 */
static bool reader(const struct control *c, int fd, const struct ucred *cred)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	bool in = false;

	if (c->readers == (gid_t)-1)
		return false;
	if (cred->gid == c->readers)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		/* more groups than room: len says how many bytes */
		if (errno != ERANGE || (g = malloc(len)) == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !in; i++)
		in = g[i] == c->readers;
	if (g != small)
		free(g);
	return in;
}

static void serve(const struct control *c, int fd,
		  const struct control_ops *ops, void *arg, int64_t *deadline)
{
	char req[CONTROL_REQUEST_MAX + 1];
	struct control_peer peer;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int rc;

	/* The file's mode keeps others out already; this holds should the
	 * mode or the directory be got wrong. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != c->owner && !reader(c, fd, &cred))) {
		send_error(fd, *deadline, "permission denied");
		return;
	}
	peer = (struct control_peer){
		.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
	rc = read_request(fd, req, *deadline);
	if (rc == -ETIMEDOUT)
		send_error(fd, *deadline, "no request within %d ms",
			   CONTROL_DEADLINE_MS);
	else if (rc == -EMSGSIZE)
		send_error(fd, *deadline, "request longer than %d bytes",
			   CONTROL_REQUEST_MAX - 1);
	else if (rc == 0)
		reply(c, fd, req, ops, arg, &peer, deadline);
}

/*
 * Out of fds, a client would stay queued and keep the listening socket
 * readable: the main loop would spin.  The spare fd makes room to accept
 * it and close it at once (the client sees the connection end).  Returns
 * 0 when one was refused so, or -errno.
 */
static int refuse(struct control *c)
{
	int fd, rc = 0;

	if (c->reserve < 0)
		return -EMFILE;
	close(c->reserve);
	fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	else
		close(fd);
	c->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (rc == 0)
		log_warnx("control: out of file descriptors; a client was "
			  "turned away");
	errno = -rc;
	return rc;
}

void control_handle(struct control *c, const struct control_ops *ops, void *arg)
{
	int64_t deadline = now_ms() + CONTROL_DEADLINE_MS;

	do {
		int fd = accept4(c->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    refuse(c) == 0)
				continue;
			if (errno != EAGAIN)
				log_warn("control: accept");
			return;
		}
		serve(c, fd, ops, arg, &deadline);
		close(fd);
	} while (now_ms() < deadline);
}

static void *serve_thread(void *arg)
{
	struct control *c = arg;
	sigset_t all;

	/* the main thread takes the signals */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct pollfd pfd[2] = {
			{.fd = c->stop, .events = POLLIN},
			{.fd = c->fd, .events = POLLIN},
		};

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("control: poll");
			return NULL;
		}
		if (pfd[0].revents)
			return NULL;
		if (pfd[1].revents & POLLIN)
			control_handle(c, c->ops, c->arg);
	}
}

int control_start(struct control *c, const struct control_ops *ops, void *arg)
{
	int rc;

	c->stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop < 0)
		return -errno;
	c->ops = ops;
	c->arg = arg;
	rc = pthread_create(&c->thread, NULL, serve_thread, c);
	if (rc != 0)
		return -rc;
	c->running = true;
	(void)pthread_setname_np(c->thread, "dnsrl-control");
	return 0;
}

/* Client side. */

static int client_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	LOG_PRINTF(4, 5);

static int client_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Receives into buf[0..size); returns the bytes read, 0 at the end, or
 * -errno (-ETIMEDOUT when the socket's timeout ran out). */
static ssize_t client_recv(int fd, char *buf, size_t size)
{
	for (;;) {
		ssize_t n = recv(fd, buf, size, 0);

		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Reads the reply after its header: want bytes, of which buf[0..have)
 * came with the header. */
static int client_body(int fd, char *buf, size_t size, size_t have,
		       uintmax_t want, FILE *out, char *err, size_t errlen)
{
	uintmax_t got = 0;

	for (;;) {
		size_t take = have < want - got ? have : (size_t)(want - got);
		ssize_t n;

		if (fwrite(buf, 1, take, out) != take)
			return client_fail(-EIO, err, errlen,
					   "writing the reply: %s",
					   strerror(errno));
		got += take;
		if (got == want)
			return 0;
		n = client_recv(fd, buf, size);
		if (n == -ETIMEDOUT)
			return client_fail(-ETIMEDOUT, err, errlen,
					   "reply stalled after %ju of %ju "
					   "bytes",
					   got, want);
		if (n <= 0)
			return client_fail(n < 0 ? (int)n : -EPROTO, err,
					   errlen,
					   "reply cut short: %ju of %ju bytes",
					   got, want);
		have = (size_t)n;
	}
}

/* Reads the header line and the reply. */
static int client_reply(int fd, FILE *out, char *err, size_t errlen)
{
	char buf[4096];
	size_t len = 0;
	char *nl = NULL, *end;
	uintmax_t want;

	while (nl == NULL) {
		ssize_t n = client_recv(fd, buf + len, sizeof(buf) - 1 - len);

		if (n == -ETIMEDOUT)
			return client_fail(-ETIMEDOUT, err, errlen,
					   "no reply in time");
		if (n < 0)
			return client_fail((int)n, err, errlen,
					   "reading the reply: %s",
					   strerror((int)-n));
		if (n == 0)
			return client_fail(-EPROTO, err, errlen,
					   "the daemon closed the connection "
					   "without a reply");
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl == NULL && len >= REPLY_HEAD_MAX)
			return client_fail(-EPROTO, err, errlen,
					   "reply without a header line");
	}
	*nl = '\0';
	if (strncmp(buf, "error: ", 7) == 0)
		return client_fail(-EREMOTEIO, err, errlen, "%s", buf + 7);
	errno = 0;
	if (strncmp(buf, "ok ", 3) != 0 || buf[3] < '0' || buf[3] > '9' ||
	    (want = strtoumax(buf + 3, &end, 10), *end != '\0') || errno != 0)
		return client_fail(-EPROTO, err, errlen,
				   "not a dnsrl reply: header '%.64s'", buf);
	len -= (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, len);
	return client_body(fd, buf, sizeof(buf), len, want, out, err, errlen);
}

int control_request(const char *path, const char *request, FILE *out,
		    int timeout_ms, char *err, size_t errlen)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	struct sockaddr_un sa;
	char line[CONTROL_REQUEST_MAX + 1];
	ssize_t sent;
	int fd, rc, n;

	rc = sockaddr_of(path, &sa);
	if (rc < 0)
		return client_fail(rc, err, errlen, "'%s': not a socket path",
				   path);
	n = snprintf(line, sizeof(line), "%s\n", request);
	if (n < 0 || n > CONTROL_REQUEST_MAX)
		return client_fail(-EMSGSIZE, err, errlen,
				   "request longer than %d bytes",
				   CONTROL_REQUEST_MAX - 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return client_fail(-errno, err, errlen, "socket: %s",
				   strerror(errno));
	/* The send timeout also bounds connect() on a unix socket whose
	 * backlog is full. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		rc = client_fail(-errno, err, errlen, "setsockopt: %s",
				 strerror(errno));
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = client_fail(-errno, err, errlen, "%s: %s", path,
				 strerror(errno));
		goto out;
	}
	sent = send(fd, line, (size_t)n, MSG_NOSIGNAL);
	if (sent != n) {
		rc = sent < 0 ? -errno : -EIO;
		if (rc == -EAGAIN)
			rc = -ETIMEDOUT;
		rc = client_fail(rc, err, errlen, "sending the request: %s",
				 strerror(-rc));
		goto out;
	}
	rc = client_reply(fd, out, err, errlen);
out:
	close(fd);
	return rc;
}
