/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The service manager's notification protocol (sd_notify), and the
 * watchdog decision.
 *
 * A datagram to $NOTIFY_SOCKET carries READY=1, RELOADING=1, STOPPING=1,
 * STATUS=... and WATCHDOG=1.  Without $NOTIFY_SOCKET nothing is sent.  The
 * watchdog is fed only while every worker's loop keeps turning, so a
 * daemon that hangs while still bound to its queue gets restarted.
 */
#ifndef DNSRL_NOTIFY_H
#define DNSRL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Sends msg to $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace).  Returns 1 when sent, 0 when there is no socket, -errno on
 * failure.
 */
int notify_send(const char *msg);

/*
 * The watchdog interval asked for by $WATCHDOG_USEC (and $WATCHDOG_PID,
 * when set, naming this process), in ns; 0 when there is none.
 */
uint64_t notify_watchdog_interval(void);

#define NOTIFY_WORKERS_MAX 64

struct notify_watchdog {
	uint64_t interval;  /* ns; 0: no watchdog */
	uint64_t last_ping; /* when WATCHDOG=1 was last due */
	uint64_t beats[NOTIFY_WORKERS_MAX];
	size_t nworkers;
	size_t stalled; /* index of a worker that did not move, or SIZE_MAX */
};

/* Starts the watchdog state at time now for n workers (n <= 64). */
void notify_watchdog_init(struct notify_watchdog *wd, uint64_t interval,
			  size_t n, uint64_t now);

/*
 * True when WATCHDOG=1 should be sent now: a third of the interval has
 * passed (so that, checked every tick, pings stay within half of it)
 * since the last ping and every worker's loop counter beats[i] moved since
 * then.  When one did not, returns false and sets wd->stalled.
 */
bool notify_watchdog_due(struct notify_watchdog *wd, const uint64_t *beats,
			 uint64_t now);

#endif
