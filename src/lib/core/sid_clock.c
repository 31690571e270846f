/*
 * sid_clock.c - see sid_clock.h.
 */
#include "core/sid_clock.h"

double
sid_clock_seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}
