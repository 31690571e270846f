/*
 * sid_progress.c - see sid_progress.h.
 */
#include "core/sid_progress.h"

#include "core/sid_clock.h"

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

void
sid_progress_meter_init(sid_progress_meter *m, long items_total)
{
	m->started = sid_clock_seconds(CLOCK_MONOTONIC);
	m->items_total = items_total;
	m->items_done = 0;
	m->audio_seconds = 0;
}

void
sid_progress_meter_add(sid_progress_meter *m, double seconds_of_audio)
{
	m->items_done++;
	m->audio_seconds += seconds_of_audio;
}

void
sid_progress_meter_format(const sid_progress_meter *m, int bar_width, char *out, int out_len)
{
	double		elapsed = sid_clock_seconds(CLOCK_MONOTONIC) - m->started;
	double		frac = m->items_total > 0 ? (double) m->items_done / m->items_total : 1.0;
	char		bar[130] = "";
	char		eta[32] = "?";
	int			n = 0;

	if (bar_width > (int) sizeof(bar) - 4)
		bar_width = (int) sizeof(bar) - 4;
	if (bar_width > 0)
	{
		int			filled = (int) (frac * bar_width + 0.5);

		bar[n++] = '[';
		for (int i = 0; i < bar_width; i++)
			bar[n++] = i < filled ? '#' : '.';
		bar[n++] = ']';
		bar[n++] = ' ';
		bar[n] = '\0';
	}
	/* the remaining items are assumed to take as long as the done ones did */
	if (m->items_done > 0 && frac < 1.0)
	{
		long		left = (long) (elapsed * (1.0 - frac) / frac + 0.5);

		snprintf(eta, sizeof(eta), "%ld:%02ld:%02ld", left / 3600, left / 60 % 60, left % 60);
	}
	else if (frac >= 1.0)
		snprintf(eta, sizeof(eta), "0:00:00");
	snprintf(out, (size_t) out_len, "%s%ld/%ld files, %.2f h audio, %.1fx real time, ETA %s",
			 bar, m->items_done, m->items_total, m->audio_seconds / 3600.0,
			 elapsed > 0 ? m->audio_seconds / elapsed : 0.0, eta);
}
