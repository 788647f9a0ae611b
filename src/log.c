/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

static int log_stderr;
static int log_verbose;

void log_init(const char *ident, int facility, int to_stderr)
{
	if (to_stderr >= 0)
		log_stderr = to_stderr;
	closelog();
	/* LOG_NDELAY: connect now, before a chroot or privilege drop. */
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void log_setverbose(int verbose)
{
	log_verbose = verbose;
}

LOG_PRINTF(2, 0) static void vlog(int pri, const char *fmt, va_list ap)
{
	va_list ap2;

	if (log_stderr) {
		va_copy(ap2, ap);
		vfprintf(stderr, fmt, ap2);
		fputc('\n', stderr);
		va_end(ap2);
	}
	vsyslog(pri, fmt, ap);
}

/* Appends ": strerror(errno)" to fmt; errno is the caller's, kept. */
LOG_PRINTF(3, 0)
static void vlog_errno(int pri, int saved, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_stderr)
		fprintf(stderr, "%s: %s\n", buf, strerror(saved));
	syslog(pri, "%s: %s", buf, strerror(saved));
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_notice(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_NOTICE, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap);
	va_end(ap);
	errno = saved;
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_CRIT, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

size_t log_escape(char *dst, size_t dstlen, const uint8_t *src, size_t len)
{
	size_t n = 0;

	if (dstlen == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = src[i];

		if (c > 0x20 && c < 0x7f && c != '\\' && c != '%') {
			if (n + 1 >= dstlen)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 4 >= dstlen)
				break;
			snprintf(dst + n, 5, "\\%03u", c);
			n += 4;
		}
	}
	dst[n] = '\0';
	return n;
}
