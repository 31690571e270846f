/*
 * tap.h - the smallest TAP producer for the C unit tests.
 *
 * Each test binary prints "ok N - what" / "not ok N - what" lines and a
 * closing plan; scripts/test.sh counts them.  tap_done() returns the exit
 * status, so a failed check also fails the binary.
 */
#ifndef SAMPLEID_TAP_H
#define SAMPLEID_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static int tap_count;
static int tap_failures;

__attribute__((format(printf, 4, 5), unused))
static int
tap_check(int ok, const char *file, int line, const char *fmt, ...)
{
	va_list		ap;

	tap_count++;
	if (!ok)
		tap_failures++;
	printf("%sok %d - ", ok ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf("  # at %s:%d", file, line);
	printf("\n");
	fflush(stdout);
	return ok;
}

/* CHECK(condition, "printf-style description", ...) */
#define CHECK(cond, ...) tap_check((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

/* CHECK_NEAR(actual, expected, tolerance, "description") */
#define CHECK_NEAR(a, b, tol, ...) \
	CHECK(fabs((double) (a) - (double) (b)) <= (double) (tol), __VA_ARGS__)

/* Say why a check did not run; counted as neither pass nor failure. */
__attribute__((format(printf, 1, 2), unused))
static void
tap_skip(const char *fmt, ...)
{
	va_list		ap;

	printf("# SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

__attribute__((unused))
static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

#endif
