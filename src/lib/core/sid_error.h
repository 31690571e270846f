/*
 * sid_error.h - how the plain C library reports failure.
 *
 * Library functions never abort and never print: they return a negative
 * sid_status (or NULL) and describe the problem in a caller-supplied
 * sid_error.  The extension maps the code to a SQLSTATE in one table
 * (src/pg/errcodes.c: sampleid_sqlstate), the CLI prints the message.  The
 * SQLSTATEs below are that table's.
 */
#ifndef SID_ERROR_H
#define SID_ERROR_H

#include <stdarg.h>
#include <stdio.h>

typedef enum sid_status
{
	SID_OK = 0,
	SID_EINVAL = -1,			/* bad data (22000 in audio) or argument (22023) */
	SID_ELIMIT = -2,			/* a configured resource limit was exceeded (54000) */
	SID_ENOMEM = -3,			/* out of memory (53200) */
	SID_EIO = -4,				/* a file could not be read or written (58030) */
	SID_EFORMAT = -5,			/* malformed audio (22P03) or a corrupt model file (XX001) */
	SID_EUNSUPPORTED = -6,		/* valid but not supported here (0A000) */
	SID_EDEVICE = -7			/* compute device failure (58000) */
} sid_status;

typedef struct sid_error
{
	sid_status	code;
	char		msg[512];
} sid_error;

/* Record an error (err may be NULL) and return its code. */
__attribute__((format(printf, 3, 4)))
static inline sid_status
sid_fail(sid_error *err, sid_status code, const char *fmt, ...)
{
	if (err)
	{
		va_list		ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

#endif
