/*
 * sid_clock.h - seconds on a POSIX clock, for timings the library reports
 * (trainer and evaluation logs) and the benchmarks measure.
 *
 * CLOCK_MONOTONIC for wall time (never steps back when the system clock is
 * set); CLOCK_THREAD_CPUTIME_ID / CLOCK_PROCESS_CPUTIME_ID for CPU time, which
 * unlike wall time is not inflated while other processes hold the cores.
 */
#ifndef SID_CLOCK_H
#define SID_CLOCK_H

#include <time.h>

/* Seconds on `clock` (an arbitrary origin: only differences mean anything). */
double		sid_clock_seconds(clockid_t clock);

#endif
