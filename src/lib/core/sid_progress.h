/*
 * sid_progress.h - progress messages from long library operations.
 *
 * The library never prints: a caller that wants progress passes a callback
 * (the CLI prints to stderr), and sid_progressf formats for it.
 */
#ifndef SID_PROGRESS_H
#define SID_PROGRESS_H

typedef void (*sid_progress_fn) (void *arg, const char *msg);

/* Format and hand one message to fn (nothing when fn is NULL). */
void		sid_progressf(sid_progress_fn fn, void *arg, const char *fmt, ...)
			__attribute__((format(printf, 3, 4)));

/*
 * A meter for work measured in items (files) that stand for seconds of
 * audio: the done fraction, hours of audio, speed in times real time and
 * the remaining time, as one status line (a progress bar on a terminal,
 * a log line otherwise).  Time comes from sid_clock (CLOCK_MONOTONIC).
 */
typedef struct sid_progress_meter
{
	double		started;		/* sid_clock_seconds at init */
	long		items_total;
	long		items_done;
	double		audio_seconds;	/* audio processed so far */
} sid_progress_meter;

void		sid_progress_meter_init(sid_progress_meter *m, long items_total);
/* One more item done, with seconds_of_audio of audio. */
void		sid_progress_meter_add(sid_progress_meter *m, double seconds_of_audio);
/*
 * "[#####.....] 12/40 files, 0.31 h audio, 41.2x real time, ETA 0:03:10"
 * into out; bar_width 0 leaves the bar out.
 */
void		sid_progress_meter_format(const sid_progress_meter *m, int bar_width, char *out,
									  int out_len);

#endif
