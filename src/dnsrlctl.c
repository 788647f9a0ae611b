/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsrlctl: asks a running dnsrl, over its control socket, for its
 * counters, the sources it limits most now or what it does to one, and
 * to release, hold or let through a source.  See control.h for the
 * protocol and steer.h for what the daemon does; the daemon reads the
 * arguments, so that it alone says what a good one is.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#ifndef DNSRL_VERSION
#define DNSRL_VERSION "unknown"
#endif
/* A busy daemon gets a long grace; a reload (rules, workers) longer. */
#define TIMEOUT_MS 10000
#define RELOAD_TIMEOUT_MS 90000
/* show, release, hold, allow wait for the daemon's main loop (30 s) */
#define STEER_TIMEOUT_MS 40000

static __attribute__((noreturn)) void usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
		"usage: dnsrlctl [-s socket] COMMAND\n"
		"  stats               counters of the daemon and each rule\n"
		"  top [N]             the N (1..%d, default %d) sources most\n"
		"                      limited now, per rule\n"
		"  show ADDR|PREFIX    per rule: its bucket, episode, hold and\n"
		"                      kernel entry\n"
		"  release ADDR|PREFIX [RULE]\n"
		"                      end its holds and episodes (every rule,\n"
		"                      or RULE), in the kernel too\n"
		"  hold ADDR|PREFIX RULE DURATION\n"
		"                      hold it down now, for DURATION (1s..7d)\n"
		"  allow PREFIX DURATION\n"
		"                      let it through for DURATION (0: no\n"
		"                      more); kept over a reload and a restart\n"
		"  allow               the prefixes let through so\n"
		"  reload              reread the configuration; exits 1 when\n"
		"                      the running policy stays\n"
		"  -s, --socket PATH   control socket (default %s)\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this text\n",
		CONTROL_TOP_MAX, CONTROL_TOP_DEFAULT, CONTROL_DEFAULT_PATH);
	exit(code);
}

/* True when s is a whole decimal number in 1..CONTROL_TOP_MAX. */
static int valid_n(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	return *end == '\0' && errno == 0 && v >= 1 && v <= CONTROL_TOP_MAX;
}

/*
 * Whether cmd takes nargs arguments: show ADDR; release ADDR [RULE];
 * hold ADDR RULE DURATION; allow [PREFIX DURATION].  What they are the
 * daemon checks.
 */
static bool steer_args(const char *cmd, int nargs)
{
	if (strcmp(cmd, "show") == 0)
		return nargs == 1;
	if (strcmp(cmd, "release") == 0)
		return nargs == 1 || nargs == 2;
	if (strcmp(cmd, "hold") == 0)
		return nargs == 3;
	if (strcmp(cmd, "allow") == 0)
		return nargs == 0 || nargs == 2;
	return false;
}

/* The words as one request line; -1 when it does not fit, or a word
 * holds a blank or a line end (the daemon splits at blanks). */
static int join(char *buf, size_t len, int argc, char **argv)
{
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		int w;

		if (argv[i][0] == '\0' || strpbrk(argv[i], " \t\r\n") != NULL)
			return -1;
		w = snprintf(buf + n, len - n, "%s%s", i > 0 ? " " : "",
			     argv[i]);
		if (w < 0 || (size_t)w >= len - n)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = CONTROL_DEFAULT_PATH;
	char request[CONTROL_REQUEST_MAX];
	char err[1024];
	int ch, rc, timeout = TIMEOUT_MS;

	while ((ch = getopt_long(argc, argv, "s:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'V':
			printf("dnsrlctl %s\n", DNSRL_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 1 &&
	    (strcmp(argv[0], "stats") == 0 || strcmp(argv[0], "reload") == 0)) {
		snprintf(request, sizeof(request), "%s", argv[0]);
	} else if (argc >= 1 && argc <= 2 && strcmp(argv[0], "top") == 0) {
		if (argc == 2 && !valid_n(argv[1])) {
			fprintf(stderr,
				"dnsrlctl: top: expected N in 1..%d, got "
				"'%s'\n",
				CONTROL_TOP_MAX, argv[1]);
			return 2;
		}
		snprintf(request, sizeof(request), "top%s%s",
			 argc == 2 ? " " : "", argc == 2 ? argv[1] : "");
	} else if (argc >= 1 && steer_args(argv[0], argc - 1)) {
		if (join(request, sizeof(request), argc, argv) < 0) {
			fprintf(stderr,
				"dnsrlctl: %s: an argument is empty or holds "
				"a blank, or they are longer than %d bytes\n",
				argv[0], CONTROL_REQUEST_MAX - 1);
			return 2;
		}
		timeout = STEER_TIMEOUT_MS;
	} else {
		usage(2);
	}
	if (strcmp(request, "reload") == 0)
		timeout = RELOAD_TIMEOUT_MS;

	rc = control_request(path, request, stdout, timeout, err, sizeof(err));
	if (rc == 0 && fflush(stdout) != 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "stdout: %s", strerror(errno));
	}
	if (rc < 0) {
		const char *hint = "";

		if (rc == -ENOENT || rc == -ECONNREFUSED)
			hint = " (is dnsrl running, with control-socket set?)";
		else if (rc == -EACCES)
			hint = " (run as root, as the daemon's user, or as a "
			       "member of its control-group)";
		fprintf(stderr, "dnsrlctl: %s%s%s\n",
			rc == -EREMOTEIO ? "the daemon says: " : "", err, hint);
		return 1;
	}
	return 0;
}
