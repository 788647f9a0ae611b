/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: file mode and ownership, stale and foreign files,
 * requests and their replies, and clients that are silent, send garbage
 * or too long a line, or are not allowed.  Clients are plain sockets in
 * this thread (their request is queued before control_handle runs), or
 * control_request in a second thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

#define NOBODY 65534

struct fake {
	int stats_calls;
	int top_calls;
	int steer_calls;
	char line[CONTROL_REQUEST_MAX + 1]; /* the last steer request */
	struct control_peer peer;	    /* and who asked */
	size_t top_n;
	int fail;     /* returned by the callbacks when set */
	size_t big;   /* bytes the top reply pads itself with */
	int delay_ms; /* the top callback's own work */
};

static int fake_stats(void *arg, FILE *out)
{
	struct fake *f = arg;

	f->stats_calls++;
	if (f->fail)
		return f->fail;
	fputs("stats: packets=1\nrule any-abuse: matched=2\n", out);
	return 0;
}

static int fake_top(void *arg, size_t n, FILE *out)
{
	struct fake *f = arg;

	f->top_calls++;
	f->top_n = n;
	if (f->delay_ms > 0)
		usleep((useconds_t)f->delay_ms * 1000);
	if (f->fail)
		return f->fail;
	fprintf(out, "top %zu\n", n);
	for (size_t i = 0; i < f->big; i++)
		fputc('a' + (int)(i % 26), out);
	return 0;
}

static const struct control_ops fake_ops = {
	.stats = fake_stats,
	.top = fake_top,
};

/* A reload that succeeds, or fails with a message (fake.fail). */
static int fake_reload(void *arg, FILE *out)
{
	struct fake *f = arg;

	if (f->fail) {
		fputs("reload failed: t.conf:3: limit: expected N/T\nmore\n",
		      out);
		return f->fail;
	}
	fputs("reloaded: 1 rules\n", out);
	return 0;
}

static const struct control_ops reload_ops = {
	.stats = fake_stats,
	.top = fake_top,
	.reload = fake_reload,
};

/* show, release, hold, allow: the line back, or fake.fail's message. */
static int fake_steer(void *arg, const char *line,
		      const struct control_peer *peer, FILE *out)
{
	struct fake *f = arg;

	f->steer_calls++;
	snprintf(f->line, sizeof(f->line), "%s", line);
	f->peer = *peer;
	if (f->fail) {
		fputs("show: expected an address or a prefix\nmore\n", out);
		return f->fail;
	}
	fprintf(out, "did %s\n", line);
	return 0;
}

static const struct control_ops steer_ops = {
	.stats = fake_stats,
	.top = fake_top,
	.reload = fake_reload,
	.steer = fake_steer,
};

struct fixture {
	char dir[40];
	char path[96]; /* fits in sun_path */
	struct control *c;
	struct fake fake;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_control.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	control_close(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Opens the fixture's server, owned by the caller. */
static void open_server(struct fixture *f)
{
	f->c = control_open(f->path, (uid_t)-1, (gid_t)-1);
	if (f->c == NULL)
		fail_msg("control_open: %s", strerror(errno));
}

/* A client socket connected to path; its connection waits in the
 * server's backlog until accepted. */
static int client(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	/* a test that fails does so, rather than wait for ever */
	assert_int_equal(
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

static void client_send(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads what the server sent, up to its close. */
static char *client_read_all(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	for (;;) {
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);

		/* A close with our unread bytes in its queue is a reset,
		 * after the reply has been read. */
		if (n < 0 && errno == ECONNRESET)
			break;
		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
		assert_true(len < cap - 1);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* Sends req on a new connection, serves it with ops, returns the reply. */
static char *ask_ops(struct fixture *f, const struct control_ops *ops,
		     const void *req, size_t len)
{
	int fd = client(f->path);

	client_send(fd, req, len);
	/* the end of the request, for one without a newline */
	shutdown(fd, SHUT_WR);
	control_handle(f->c, ops, &f->fake);
	return client_read_all(fd);
}

static char *ask_raw(struct fixture *f, const void *req, size_t len)
{
	return ask_ops(f, &fake_ops, req, len);
}

static void assert_reply(struct fixture *f, const char *req,
			 const char *expected)
{
	char *reply = ask_raw(f, req, strlen(req));

	assert_string_equal(reply, expected);
	free(reply);
}

static double ms_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 +
	       (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void test_socket_mode_and_close(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	mode_t mask;

	/* whatever the umask, the file is 0600 */
	mask = umask(0);
	open_server(f);
	umask(mask);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_true(control_fd(f->c) >= 0);

	control_close(f->c);
	f->c = NULL;
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	control_close(NULL);
}

static void test_stats_and_top(void **state)
{
	struct fixture *f = *state;

	open_server(f);
	assert_reply(f, "stats\n",
		     "ok 43\nstats: packets=1\nrule any-abuse: matched=2\n");
	assert_int_equal(f->fake.stats_calls, 1);

	assert_reply(f, "top 5\n", "ok 6\ntop 5\n");
	assert_int_equal(f->fake.top_n, 5);
	assert_reply(f, "top\r\n", "ok 7\ntop 10\n");
	assert_int_equal(f->fake.top_n, CONTROL_TOP_DEFAULT);
	assert_reply(f, "top 1000\n", "ok 9\ntop 1000\n");
	assert_int_equal(f->fake.top_n, 1000);
	/* a line ended by the client's shutdown, not a newline */
	assert_reply(f, "top 1", "ok 6\ntop 1\n");
	assert_int_equal(f->fake.top_n, 1);
	assert_int_equal(f->fake.top_calls, 4);
	assert_int_equal(f->fake.stats_calls, 1);
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	static const char *const bad_n[] = {"0",  "1001", "5x", "-1",
					    " 5", "",	  "+5", "00010"};
	char req[32], expected[128];

	open_server(f);
	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		snprintf(req, sizeof(req), "top %s\n", bad_n[i]);
		snprintf(expected, sizeof(expected),
			 "error: top: expected N in 1..1000, got '%s'\n",
			 bad_n[i][0] == ' ' ? "\\0325" : bad_n[i]);
		assert_reply(f, req, expected);
	}
	assert_reply(f, "stats 1\n",
		     "error: unknown command 'stats\\0321' (expected stats, "
		     "top [N])\n");
	assert_reply(f, "STATS\n",
		     "error: unknown command 'STATS' (expected stats, "
		     "top [N])\n");
	assert_reply(f, "\n",
		     "error: unknown command '' (expected stats, top [N])\n");
	/* garbage is escaped before it is echoed */
	assert_reply(f, "\x01\xff%n\\x\n",
		     "error: unknown command '\\001\\255\\037n\\092x' "
		     "(expected stats, top [N])\n");
	assert_int_equal(f->fake.stats_calls + f->fake.top_calls, 0);
}

static void test_long_line(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(10000), *reply;
	char expected[2048];

	assert_non_null(big);
	memset(big, 'A', 10000);
	open_server(f);
	reply = ask_raw(f, big, 10000);
	snprintf(expected, sizeof(expected),
		 "error: request longer than %d bytes\n",
		 CONTROL_REQUEST_MAX - 1);
	assert_string_equal(reply, expected);
	free(reply);
	/* CONTROL_REQUEST_MAX - 1 bytes and the newline still fit */
	memcpy(big, "top 7", 5);
	memset(big + 5, ' ', CONTROL_REQUEST_MAX - 6);
	big[CONTROL_REQUEST_MAX - 1] = '\n';
	reply = ask_raw(f, big, CONTROL_REQUEST_MAX);
	/* each space escaped as \032 */
	snprintf(expected, sizeof(expected),
		 "error: top: expected N in 1..1000, got '7");
	for (int i = 0; i < CONTROL_REQUEST_MAX - 6; i++)
		strcat(expected, "\\032");
	strcat(expected, "'\n");
	/* what fits of it in one error line */
	expected[1023] = '\0';
	assert_true(strncmp(reply, expected, strlen(reply) - 1) == 0);
	assert_true(strlen(reply) > 500);
	free(reply);
	free(big);
	assert_int_equal(f->fake.stats_calls + f->fake.top_calls, 0);
}

static void test_silent_client(void **state)
{
	struct fixture *f = *state;
	struct timespec start;
	double took;
	char *reply;
	int fd;

	open_server(f);
	fd = client(f->path);
	clock_gettime(CLOCK_MONOTONIC, &start);
	control_handle(f->c, &fake_ops, &f->fake);
	took = ms_since(&start);
	print_message("a silent client held control_handle for %.1f ms\n",
		      took);
	assert_true(took >= CONTROL_DEADLINE_MS - 1);
	assert_true(took < 1000);
	reply = client_read_all(fd);
	assert_string_equal(reply, "error: no request within 100 ms\n");
	free(reply);

	/* a client that goes away without a word: nothing to answer */
	fd = client(f->path);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &start);
	control_handle(f->c, &fake_ops, &f->fake);
	assert_true(ms_since(&start) < CONTROL_DEADLINE_MS);
	assert_int_equal(f->fake.stats_calls + f->fake.top_calls, 0);
}

/* Out of fds, a waiting client is turned away rather than left to keep
 * the socket readable (and the main loop spinning); then all is as it
 * was. */
static void test_out_of_fds(void **state)
{
	struct fixture *f = *state;
	struct rlimit old, low;
	struct timespec start;
	int fd, fill[64], nfill = 0;
	char *reply;

	open_server(f);
	fd = client(f->path);
	client_send(fd, "stats\n", 6);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfill < 64 && (fill[nfill] = dup(0)) >= 0)
		nfill++;
	assert_int_equal(errno, EMFILE);

	clock_gettime(CLOCK_MONOTONIC, &start);
	control_handle(f->c, &fake_ops, &f->fake);
	assert_true(ms_since(&start) < CONTROL_DEADLINE_MS);
	for (int i = 0; i < nfill; i++)
		close(fill[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	reply = client_read_all(fd);
	assert_string_equal(reply, "");
	free(reply);
	assert_int_equal(f->fake.stats_calls, 0);

	reply = ask_raw(f, "stats\n", 6);
	assert_string_equal(reply, "ok 43\nstats: packets=1\n"
				   "rule any-abuse: matched=2\n");
	free(reply);
	/* and the spare fd is back for the next time */
	fd = client(f->path);
	client_send(fd, "stats\n", 6);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	nfill = 0;
	while (nfill < 64 && (fill[nfill] = dup(0)) >= 0)
		nfill++;
	control_handle(f->c, &fake_ops, &f->fake);
	for (int i = 0; i < nfill; i++)
		close(fill[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	reply = client_read_all(fd);
	assert_string_equal(reply, "");
	free(reply);
}

/* Several waiting clients are served by one call; with none waiting the
 * call returns at once. */
static void test_several_clients(void **state)
{
	struct fixture *f = *state;
	struct timespec start;
	int fd[3];

	open_server(f);
	for (int i = 0; i < 3; i++) {
		fd[i] = client(f->path);
		client_send(fd[i], "stats\n", 6);
	}
	control_handle(f->c, &fake_ops, &f->fake);
	assert_int_equal(f->fake.stats_calls, 3);
	for (int i = 0; i < 3; i++) {
		char *reply = client_read_all(fd[i]);

		assert_string_equal(reply, "ok 43\nstats: packets=1\n"
					   "rule any-abuse: matched=2\n");
		free(reply);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	control_handle(f->c, &fake_ops, &f->fake);
	assert_true(ms_since(&start) < 50);
}

static void test_callback_error(void **state)
{
	struct fixture *f = *state;

	open_server(f);
	f->fake.fail = -ENOSPC;
	assert_reply(f, "stats\n",
		     "error: internal: No space left on device\n");
	assert_reply(f, "top 3\n",
		     "error: internal: No space left on device\n");
}

static void test_stale_socket_replaced(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	char *reply;

	/* what a daemon that died leaves: a socket file nobody listens on */
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	open_server(f);
	reply = ask_raw(f, "top 2\n", 6);
	assert_string_equal(reply, "ok 6\ntop 2\n");
	free(reply);
}

static void test_live_socket_kept(void **state)
{
	struct fixture *f = *state;
	struct control *other;
	char *reply;

	open_server(f);
	errno = 0;
	other = control_open(f->path, (uid_t)-1, (gid_t)-1);
	assert_null(other);
	assert_int_equal(errno, EADDRINUSE);
	/* the probe's connection is served like any silent client, and the
	 * first server still answers */
	control_handle(f->c, &fake_ops, &f->fake);
	reply = ask_raw(f, "stats\n", 6);
	assert_string_equal(reply, "ok 43\nstats: packets=1\n"
				   "rule any-abuse: matched=2\n");
	free(reply);
}

static void test_regular_file_refused(void **state)
{
	struct fixture *f = *state;
	FILE *file = fopen(f->path, "w");
	char buf[32] = {0};

	assert_non_null(file);
	fputs("not a socket\n", file);
	assert_int_equal(fclose(file), 0);
	errno = 0;
	assert_null(control_open(f->path, (uid_t)-1, (gid_t)-1));
	assert_int_equal(errno, EEXIST);
	file = fopen(f->path, "r");
	assert_non_null(file);
	assert_non_null(fgets(buf, sizeof(buf), file));
	fclose(file);
	assert_string_equal(buf, "not a socket\n");

	/* nor is a symbolic link followed or removed */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(symlink("/nonexistent", f->path), 0);
	errno = 0;
	assert_null(control_open(f->path, (uid_t)-1, (gid_t)-1));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(readlink(f->path, buf, sizeof(buf)), 12);
}

/* A daemon that stops removes its own socket file only. */
static void test_close_keeps_a_successor(void **state)
{
	struct fixture *f = *state;
	struct control *first;
	struct stat st;

	open_server(f);
	first = f->c;
	assert_int_equal(unlink(f->path), 0);
	open_server(f);
	control_close(first);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
}

static void test_path_errors(void **state)
{
	char path[200];

	(void)state;
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	errno = 0;
	assert_null(control_open(path, (uid_t)-1, (gid_t)-1));
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_null(control_open("/nonexistent-dir/control.sock", (uid_t)-1,
				 (gid_t)-1));
	assert_int_equal(errno, ENOENT);
}

/* Client side, in a thread, while this thread serves. */
struct request {
	const char *path;
	const char *line;
	int timeout_ms;
	char *out;
	size_t outlen;
	int rc;
	char err[256];
};

static void *request_thread(void *arg)
{
	struct request *r = arg;
	FILE *out = open_memstream(&r->out, &r->outlen);

	if (out == NULL)
		return NULL;
	r->rc = control_request(r->path, r->line, out, r->timeout_ms, r->err,
				sizeof(r->err));
	fclose(out);
	return NULL;
}

/* Runs control_request(line) against the server until it returns. */
static void request(struct fixture *f, const char *line, struct request *r)
{
	pthread_t t;
	struct pollfd pfd = {.fd = control_fd(f->c), .events = POLLIN};

	memset(r, 0, sizeof(*r));
	r->path = f->path;
	r->line = line;
	r->timeout_ms = 5000;
	assert_int_equal(pthread_create(&t, NULL, request_thread, r), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	control_handle(f->c, &fake_ops, &f->fake);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_client_request(void **state)
{
	struct fixture *f = *state;
	struct request r;

	open_server(f);
	request(f, "stats", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "stats: packets=1\nrule any-abuse: "
				   "matched=2\n");
	free(r.out);

	request(f, "top 3", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "top 3\n");
	free(r.out);

	request(f, "frobnicate", &r);
	assert_int_equal(r.rc, -EREMOTEIO);
	assert_string_equal(r.err, "unknown command 'frobnicate' (expected "
				   "stats, top [N])");
	assert_int_equal(r.outlen, 0);
	free(r.out);

	/* a reply far larger than the socket buffer, read while sent */
	f->fake.big = 2000000;
	request(f, "top 4", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.outlen, 6 + 2000000);
	assert_memory_equal(r.out, "top 4\nabc", 9);
	assert_int_equal(r.out[r.outlen - 1], 'a' + (2000000 - 1) % 26);
	free(r.out);
}

/* The deadline bounds the waits on the client, not the daemon's own
 * work: a reply that takes longer than it to build is still sent whole. */
static void test_slow_callback(void **state)
{
	struct fixture *f = *state;
	struct request r;

	open_server(f);
	f->fake.big = 2000000;
	f->fake.delay_ms = 2 * CONTROL_DEADLINE_MS;
	request(f, "top 9", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.outlen, 6 + 2000000);
	free(r.out);
}

static void test_client_errors(void **state)
{
	struct fixture *f = *state;
	char err[256], path[200];
	FILE *out = fopen("/dev/null", "w");

	assert_non_null(out);
	/* no daemon */
	assert_int_equal(control_request(f->path, "stats", out, 1000, err,
					 sizeof(err)),
			 -ENOENT);
	snprintf(path, sizeof(path), "%s: No such file or directory", f->path);
	assert_string_equal(err, path);
	memset(path, 'x', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(control_request(path, "stats", out, 1000, err,
					 sizeof(err)),
			 -ENAMETOOLONG);
	fclose(out);
}

/* A server that sends "ok 100" and only 3 bytes, for the client to see
 * the cut. */
static void test_client_sees_a_cut_reply(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0), fd;
	struct request r = {0};
	pthread_t t;
	char buf[64];

	assert_true(lfd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	r.path = f->path;
	r.line = "stats";
	r.timeout_ms = 5000;
	assert_int_equal(pthread_create(&t, NULL, request_thread, &r), 0);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 6);
	client_send(fd, "ok 100\nabc", 10);
	close(fd);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.rc, -EPROTO);
	assert_string_equal(r.err, "reply cut short: 3 of 100 bytes");
	assert_string_equal(r.out, "abc");
	free(r.out);

	/* and one that is not a dnsrl reply at all */
	assert_int_equal(pthread_create(&t, NULL, request_thread, &r), 0);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 6);
	client_send(fd, "HTTP/1.0 200 OK\n", 16);
	close(fd);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.rc, -EPROTO);
	assert_string_equal(r.err, "not a dnsrl reply: header 'HTTP/1.0 200 "
				   "OK'");
	free(r.out);
	close(lfd);
}

/* As root: the socket given to another user, and a peer that is neither
 * root nor that user refused even when the file's mode would let it in. */
static void test_owner_and_peer_check(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	pid_t pid;
	int status;
	char *reply;

	if (geteuid() != 0)
		skip();
	f->c = control_open(f->path, NOBODY, NOBODY);
	assert_non_null(f->c);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_gid, NOBODY);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* root may always ask */
	reply = ask_raw(f, "stats\n", 6);
	assert_string_equal(reply, "ok 43\nstats: packets=1\n"
				   "rule any-abuse: matched=2\n");
	free(reply);

	/* The mode keeps another user out of connect() itself (the
	 * directory lets anyone through). */
	assert_int_equal(chmod(f->dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd;

		if (setgid(12345) < 0 || setuid(12345) < 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
		_exit(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
				      errno == EACCES
			      ? 0
			      : 11);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* Opened up by mistake, the socket still refuses the stranger,
	 * who gets the refusal in reply (the child passes it back as its
	 * exit status: 0 when it read exactly that). */
	assert_int_equal(chmod(f->path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static const char want[] = "error: permission denied\n";
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char buf[64] = {0};
		ssize_t n = 0, k;
		int fd;

		if (setgid(12345) < 0 || setuid(12345) < 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(11);
		/* the refusal may come, and the server close, before this */
		(void)send(fd, "stats\n", 6, MSG_NOSIGNAL);
		while ((k = recv(fd, buf + n, sizeof(buf) - 1 - (size_t)n, 0)) >
		       0)
			n += k;
		_exit(strcmp(buf, want) == 0 ? 0 : 12);
	}
	{
		struct pollfd pfd = {.fd = control_fd(f->c), .events = POLLIN};

		assert_int_equal(poll(&pfd, 1, 5000), 1);
	}
	control_handle(f->c, &fake_ops, &f->fake);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* only root's request reached the callbacks */
	assert_int_equal(f->fake.stats_calls, 1);
}

/* reload answers when it is done: its text, or its failure's first line. */
static void test_reload_command(void **state)
{
	struct fixture *f = *state;
	char *r;

	open_server(f);
	r = ask_ops(f, &reload_ops, "reload\n", 7);
	assert_string_equal(r, "ok 18\nreloaded: 1 rules\n");
	free(r);
	f->fake.fail = -EINVAL;
	r = ask_ops(f, &reload_ops, "reload\n", 7);
	assert_string_equal(r, "error: reload failed: t.conf:3: limit: "
			       "expected N/T\n");
	free(r);
	/* a daemon without it says what it has */
	r = ask_ops(f, &fake_ops, "reload\n", 7);
	assert_string_equal(r, "error: unknown command 'reload' (expected "
			       "stats, top [N])\n");
	free(r);
}

struct hammer {
	const char *path;
	int replies;
};

/* A client asking `top 1000` over and over for a while. */
static void *hammer(void *arg)
{
	struct hammer *h = arg;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 1500) {
		char err[256];
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		if (control_request(h->path, "top 1000", out, 5000, err,
				    sizeof(err)) == 0)
			h->replies++;
		fclose(out);
		free(buf);
	}
	return NULL;
}

/*
 * Served from a thread of its own: four clients asking without pause,
 * each request 50 ms of the daemon's work, are all answered while this
 * thread goes on; control_close ends the server at once.
 */
static void test_thread(void **state)
{
	struct fixture *f = *state;
	struct hammer h[4];
	pthread_t t[4];
	struct timespec t0;
	int total = 0;

	open_server(f);
	f->fake.delay_ms = 50;
	assert_int_equal(control_start(f->c, &fake_ops, &f->fake), 0);
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){.path = f->path};
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += h[i].replies;
	}
	print_message("4 clients got %d replies in 1.5 s\n", total);
	assert_in_range(total, 8, 40);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	control_close(f->c);
	f->c = NULL;
	assert_true(ms_since(&t0) < 500);
}

/* show, release, hold and allow reach the daemon whole, with the peer. */
static void test_steer_commands(void **state)
{
	struct fixture *f = *state;
	static const char *const lines[] = {
		"show 198.51.100.7",
		"release 2001:db8:2::/56 any-abuse",
		"hold 198.51.100.7 any-abuse 10m",
		"allow 198.51.100.0/24 1h",
		"allow",
	};
	char *r, want[128];

	open_server(f);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char req[128];

		snprintf(req, sizeof(req), "%s\n", lines[i]);
		r = ask_ops(f, &steer_ops, req, strlen(req));
		snprintf(want, sizeof(want), "ok %zu\ndid %s\n",
			 strlen(lines[i]) + 5, lines[i]);
		assert_string_equal(r, want);
		free(r);
		assert_string_equal(f->fake.line, lines[i]);
		assert_int_equal(f->fake.peer.uid, geteuid());
		assert_int_equal(f->fake.peer.pid, getpid());
	}
	assert_int_equal(f->fake.steer_calls, 5);
	/* the daemon's message, first line */
	f->fake.fail = -EINVAL;
	r = ask_ops(f, &steer_ops, "show x\n", 7);
	assert_string_equal(r, "error: show: expected an address or a "
			       "prefix\n");
	free(r);
	/* words that only begin like a command are not one */
	r = ask_ops(f, &steer_ops, "shows 1\n", 8);
	assert_string_equal(r, "error: unknown command 'shows\\0321' "
			       "(expected stats, top [N], show, release, "
			       "hold, allow, reload)\n");
	free(r);
	/* a daemon without them says what it has */
	r = ask_ops(f, &reload_ops, "show 198.51.100.7\n", 18);
	assert_string_equal(r, "error: unknown command "
			       "'show\\032198.51.100.7' (expected stats, top "
			       "[N], reload)\n");
	free(r);
	assert_int_equal(f->fake.steer_calls, 6);
}

#define READERS 4242
#define OTHER 12345

/*
 * A client in a child: it takes uid OTHER, primary group gid and the
 * other groups[0..ngroups), asks req and exits 0 when the reply is
 * exactly want (a NULL want: when connect() itself is refused).  The
 * server answers it here.
 */
static void ask_as(struct fixture *f, gid_t gid, const gid_t *groups,
		   size_t ngroups, const char *req, const char *want)
{
	struct pollfd pfd = {.fd = control_fd(f->c), .events = POLLIN};
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char buf[1024] = {0};
		ssize_t n = 0, k;
		int fd;

		if (setgroups(ngroups, groups) < 0 || setgid(gid) < 0 ||
		    setuid(OTHER) < 0)
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(want == NULL && errno == EACCES ? 0 : 11);
		if (want == NULL)
			_exit(12);
		(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
		while ((k = recv(fd, buf + n, sizeof(buf) - 1 - (size_t)n, 0)) >
		       0)
			n += k;
		if (strcmp(buf, want) != 0) {
			fprintf(stderr, "got '%s'\nwant '%s'\n", buf, want);
			_exit(13);
		}
		_exit(0);
	}
	if (want != NULL) {
		assert_int_equal(poll(&pfd, 1, 5000), 1);
		control_handle(f->c, &steer_ops, &f->fake);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * As root: a readers' group opens the socket to its members (primary or
 * other group, however many they have), who may read and are told why
 * they may not change; everyone else stays out.
 */
static void test_readers_group(void **state)
{
	struct fixture *f = *state;
	static const char denied_release[] =
		"error: permission denied: release changes the daemon's "
		"state; only root and the daemon's user (uid 65534) may; uid "
		"12345 may only read (stats, top, show, allow without "
		"arguments)\n";
	const gid_t readers[] = {READERS};
	gid_t many[100];
	struct stat st;
	char want[512];

	if (geteuid() != 0)
		skip();
	f->c = control_open(f->path, NOBODY, NOBODY);
	assert_non_null(f->c);
	assert_int_equal(control_set_readers(f->c, READERS), 0);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, NOBODY);
	assert_int_equal(st.st_gid, READERS);
	assert_int_equal(chmod(f->dir, 0755), 0);

	/* a member by another group */
	ask_as(f, OTHER, readers, 1, "stats\n",
	       "ok 43\nstats: packets=1\nrule any-abuse: matched=2\n");
	ask_as(f, OTHER, readers, 1, "show 198.51.100.7\n",
	       "ok 22\ndid show 198.51.100.7\n");
	assert_int_equal(f->fake.peer.uid, OTHER);
	assert_int_equal(f->fake.peer.gid, OTHER);
	ask_as(f, OTHER, readers, 1, "allow\n", "ok 10\ndid allow\n");
	ask_as(f, OTHER, readers, 1, "allow \n", "ok 11\ndid allow \n");
	ask_as(f, OTHER, readers, 1, "release 198.51.100.7\n", denied_release);
	snprintf(want, sizeof(want),
		 "error: permission denied: %s changes the daemon's state; "
		 "only root and the daemon's user (uid 65534) may; uid 12345 "
		 "may only read (stats, top, show, allow without arguments)\n",
		 "hold");
	ask_as(f, OTHER, readers, 1, "hold 198.51.100.7 any-abuse 1m\n", want);
	snprintf(want, sizeof(want),
		 "error: permission denied: %s changes the daemon's state; "
		 "only root and the daemon's user (uid 65534) may; uid 12345 "
		 "may only read (stats, top, show, allow without arguments)\n",
		 "allow");
	ask_as(f, OTHER, readers, 1, "allow 198.51.100.0/24 1h\n", want);
	snprintf(want, sizeof(want),
		 "error: permission denied: %s changes the daemon's state; "
		 "only root and the daemon's user (uid 65534) may; uid 12345 "
		 "may only read (stats, top, show, allow without arguments)\n",
		 "reload");
	ask_as(f, OTHER, readers, 1, "reload\n", want);
	/* by its primary group, and among 100 others */
	ask_as(f, READERS, NULL, 0, "release 198.51.100.7\n", denied_release);
	for (size_t i = 0; i < 100; i++)
		many[i] = (gid_t)(20000 + i);
	many[99] = READERS;
	ask_as(f, OTHER, many, 100, "show 198.51.100.8\n",
	       "ok 22\ndid show 198.51.100.8\n");
	/* the changes never reached the daemon */
	assert_int_equal(f->fake.steer_calls, 4);
	assert_int_equal(f->fake.stats_calls, 1);

	/* not a member: connect() itself is refused by the mode */
	many[99] = 30000;
	ask_as(f, OTHER, many, 100, NULL, NULL);
	/* opened up by mistake, the server still refuses a stranger */
	assert_int_equal(chmod(f->path, 0666), 0);
	ask_as(f, OTHER, many, 100, "show 198.51.100.7\n",
	       "error: permission denied\n");
	assert_int_equal(f->fake.steer_calls, 4);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_command, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
		T(test_socket_mode_and_close),
		T(test_stats_and_top),
		T(test_bad_requests),
		T(test_long_line),
		T(test_silent_client),
		T(test_out_of_fds),
		T(test_several_clients),
		T(test_callback_error),
		T(test_stale_socket_replaced),
		T(test_live_socket_kept),
		T(test_regular_file_refused),
		T(test_close_keeps_a_successor),
		T(test_path_errors),
		T(test_client_request),
		T(test_slow_callback),
		T(test_client_errors),
		T(test_client_sees_a_cut_reply),
		T(test_owner_and_peer_check),
		T(test_steer_commands),
		T(test_readers_group),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
