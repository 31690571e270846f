/*
 * errcodes.c - the extension's one table from library failures (sid_status,
 * sid_error.h) to SQLSTATEs.
 *
 * Most statuses mean the same whatever the library was working on.  Two do
 * not, and take the subject of the failing call into account:
 *
 * - SID_EINVAL is bad data (22000) in audio the caller passed ("holds no
 *   samples"), but an invalid parameter value (22023) when the library refused
 *   an argument or a setting: a feature configuration, a model name, a batch
 *   size the embedder cannot take.
 * - SID_EFORMAT is malformed input (22P03, the binary sibling of 22P02) in
 *   audio the caller passed, but "data corrupted" (XX001) in an installed
 *   model file: the caller did not write that file and no change to the query
 *   fixes it.
 *
 * Class 58 is for the system around the server, never for a value the caller
 * passed: a file that cannot be read (58030, as PostgreSQL's own file
 * functions use class 58) and a GPU that fails (58000).  XX000 is left for a
 * status this table does not know.
 */
#include "postgres.h"

#include "pg/sampleid.h"

int
sampleid_sqlstate(sid_status st, sampleid_subject subject)
{
	switch (st)
	{
		case SID_EINVAL:
			return subject == SAMPLEID_SUBJECT_AUDIO ?
				ERRCODE_DATA_EXCEPTION : ERRCODE_INVALID_PARAMETER_VALUE;
		case SID_EFORMAT:
			switch (subject)
			{
				case SAMPLEID_SUBJECT_AUDIO:
					return ERRCODE_INVALID_BINARY_REPRESENTATION;
				case SAMPLEID_SUBJECT_ARGUMENT:
					return ERRCODE_INVALID_PARAMETER_VALUE;
				case SAMPLEID_SUBJECT_MODEL:
					return ERRCODE_DATA_CORRUPTED;
			}
			break;
		case SID_ELIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case SID_ENOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case SID_EIO:
			return ERRCODE_IO_ERROR;
		case SID_EUNSUPPORTED:
			return ERRCODE_FEATURE_NOT_SUPPORTED;
		case SID_EDEVICE:
			return ERRCODE_SYSTEM_ERROR;
		case SID_OK:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}
