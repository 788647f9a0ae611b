/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsrlctl: asks a running dnsrl, over its control socket, for its
 * counters or the sources it limits most now.  See control.h for the
 * protocol.
 */
#include <errno.h>
#include <getopt.h>
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

static __attribute__((noreturn)) void usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
		"usage: dnsrlctl [-s socket] stats | top [N] | reload\n"
		"  stats               counters of the daemon and each rule\n"
		"  top [N]             the N (1..%d, default %d) sources most\n"
		"                      limited now, per rule\n"
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
	int ch, rc;

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
	} else {
		usage(2);
	}

	rc = control_request(path, request, stdout,
			     strcmp(request, "reload") == 0 ? RELOAD_TIMEOUT_MS
							    : TIMEOUT_MS,
			     err, sizeof(err));
	if (rc == 0 && fflush(stdout) != 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "stdout: %s", strerror(errno));
	}
	if (rc < 0) {
		const char *hint = "";

		if (rc == -ENOENT || rc == -ECONNREFUSED)
			hint = " (is dnsrl running, with control-socket set?)";
		else if (rc == -EACCES)
			hint = " (run as root or as the daemon's user)";
		fprintf(stderr, "dnsrlctl: %s%s%s\n",
			rc == -EREMOTEIO ? "the daemon says: " : "", err, hint);
		return 1;
	}
	return 0;
}
