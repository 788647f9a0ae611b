/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clock.  Every time dnsrl keeps (buckets, episodes, hold-downs,
 * intervals, deadlines) is nanoseconds of CLOCK_MONOTONIC, read here:
 * never wall time, which an operator or NTP may step.  Code that decides
 * takes the time as a parameter (tests and the capture replay drive their
 * own); only the loops read the clock, once per batch or per turn.
 */
#ifndef DNSRL_CLOCK_H
#define DNSRL_CLOCK_H

#include <stdint.h>

#define CLOCK_NS_PER_MS UINT64_C(1000000)
#define CLOCK_NS_PER_S UINT64_C(1000000000)

/* Nanoseconds of CLOCK_MONOTONIC.  Cannot fail on Linux. */
uint64_t clock_now(void);

#endif
