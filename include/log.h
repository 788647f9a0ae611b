/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging to syslog, and to stderr in the foreground.
 *
 * The functions keep errno intact, so a caller may log and then return
 * -errno.  fatal() and fatalx() are for start-up only: the packet path
 * never exits.
 */
#ifndef DNSRL_LOG_H
#define DNSRL_LOG_H

#include <stddef.h>
#include <stdint.h>

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/*
 * Opens the syslog connection with the given ident and facility
 * (LOG_DAEMON ...).  With to_stderr 1, every line also goes to stderr; -1
 * keeps the current choice.  May be called again to change the facility
 * (on reload).
 */
void log_init(const char *ident, int facility, int to_stderr);

/* 0: info and above (the default); 1: debug too. */
void log_setverbose(int verbose);

/* log_warn appends ": " and strerror(errno); the others do not. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
/* What an operator changed (dnsrlctl release, hold, allow): LOG_NOTICE. */
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatal(const char *fmt, ...) LOG_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2);

/*
 * Writes src[0..len) into dst as printable ASCII: bytes outside 0x21..0x7e,
 * and the backslash and '%', become \DDD (decimal, as in DNS presentation
 * format).  Always NUL-terminates when dstlen > 0; cuts at a whole escape.
 * Returns the length written, excluding the NUL.
 */
size_t log_escape(char *dst, size_t dstlen, const uint8_t *src, size_t len);

#endif
