/*
 * sid_progress.c - see sid_progress.h.
 */
#include "core/sid_progress.h"

#include <stdarg.h>
#include <stdio.h>

void
sid_progressf(sid_progress_fn fn, void *arg, const char *fmt, ...)
{
	char		msg[512];
	va_list		ap;

	if (!fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fn(arg, msg);
}
