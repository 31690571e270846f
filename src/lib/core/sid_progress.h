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

#endif
