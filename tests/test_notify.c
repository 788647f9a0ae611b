/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The notification protocol against a socket of the test's own, and the
 * watchdog decision driven directly (no service manager needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

static int bind_dgram(const char *path, bool abstract)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memcpy(sun.sun_path, path, len);
	if (abstract)
		sun.sun_path[0] = '\0';
	else
		unlink(path);
	assert_int_equal(
		bind(fd, (struct sockaddr *)&sun,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
		0);
	return fd;
}

static void expect_message(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_send_path_socket(void **state)
{
	char path[64];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/dnsrl-notify-%d", (int)getpid());
	fd = bind_dgram(path, false);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_send("READY=1\nSTATUS=running"), 1);
	expect_message(fd, "READY=1\nSTATUS=running");
	assert_int_equal(notify_send("WATCHDOG=1"), 1);
	expect_message(fd, "WATCHDOG=1");
	close(fd);
	unlink(path);
	/* the socket gone: an error, not a crash */
	assert_true(notify_send("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

static void test_send_abstract_socket(void **state)
{
	char path[64];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "@dnsrl-notify-%d", (int)getpid());
	fd = bind_dgram(path, true);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_send("STOPPING=1"), 1);
	expect_message(fd, "STOPPING=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_send_without_socket(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_interval(void **state)
{
	char pid[32];

	(void)state;
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	assert_int_equal(notify_watchdog_interval(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(notify_watchdog_interval(), 30000000000ull);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_interval(), 30000000000ull);
	setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
	assert_int_equal(notify_watchdog_interval(), 0);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "12x", 1);
	assert_int_equal(notify_watchdog_interval(), 0);
	setenv("WATCHDOG_USEC", "0", 1);
	assert_int_equal(notify_watchdog_interval(), 0);
	unsetenv("WATCHDOG_USEC");
}

/* Fed while every loop turns; starved as soon as one stops. */
static void test_watchdog_due(void **state)
{
	struct notify_watchdog wd;
	const uint64_t s = 1000000000ull;
	uint64_t beats[2] = {1, 1};

	(void)state;
	/* a third of the interval: 3.33 s */
	notify_watchdog_init(&wd, 9 * s, 2, 0);
	assert_false(notify_watchdog_due(&wd, beats, 2 * s)); /* too early */
	assert_true(notify_watchdog_due(&wd, beats, 3 * s));
	assert_false(notify_watchdog_due(&wd, beats, 5 * s));
	/* worker 1 hangs: its counter stands still */
	beats[0] = 50;
	assert_false(notify_watchdog_due(&wd, beats, 6 * s));
	assert_int_equal(wd.stalled, 1);
	assert_false(notify_watchdog_due(&wd, beats, 12 * s));
	/* it recovers: fed again */
	beats[1] = 2;
	assert_true(notify_watchdog_due(&wd, beats, 13 * s));
	assert_int_equal(wd.stalled, SIZE_MAX);
	/* without a watchdog nothing is ever due */
	notify_watchdog_init(&wd, 0, 2, 0);
	beats[0]++;
	beats[1]++;
	assert_false(notify_watchdog_due(&wd, beats, 100 * s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_path_socket),
		cmocka_unit_test(test_send_abstract_socket),
		cmocka_unit_test(test_send_without_socket),
		cmocka_unit_test(test_watchdog_interval),
		cmocka_unit_test(test_watchdog_due),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
