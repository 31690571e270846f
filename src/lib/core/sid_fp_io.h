/*
 * sid_fp_io.h - the fingerprint type's text and binary formats, parsed
 * without PostgreSQL so the parsers can be fuzzed on their own
 * (test/fuzz/fuzz_fp_io.c); src/pg/fingerprint.c turns each outcome into
 * its SQLSTATE (docs/fingerprint.md).
 *
 * Text: "[v, v, ...]", each v what strtof reads, blanks around anything.
 * Binary: int16 dimension, int16 zero, then dimension float4, all in network
 * byte order (what fingerprint_send writes).
 */
#ifndef SID_FP_IO_H
#define SID_FP_IO_H

#include <stddef.h>

typedef enum sid_fp_outcome
{
	SID_FP_OK = 0,
	SID_FP_MALFORMED,			/* text not "[number, ...]": 22P02 */
	SID_FP_BAD_BINARY,			/* binary length or reserved field wrong: 22P03 */
	SID_FP_EMPTY,				/* no component: 22000 */
	SID_FP_NAN,					/* a NaN component: 22000 */
	SID_FP_INFINITE,			/* an infinite component: 22000 */
	SID_FP_OUT_OF_RANGE,		/* beyond float4, or a nonzero that rounds to 0: 22003 */
	SID_FP_TOO_MANY				/* more components than max_dim: 54000 */
} sid_fp_outcome;

typedef struct sid_fp_parse
{
	sid_fp_outcome outcome;
	int			dim;			/* components read (on success: all of them) */
	/* text: 0-based offset of the problem, and for MALFORMED what was expected */
	size_t		offset;
	size_t		token_len;		/* OUT_OF_RANGE: the length of the number at offset */
	const char *expected;		/* MALFORMED: "a number", "\"[\"", ... (static) */
	/* binary: the dimension and data bytes announced, the reserved field */
	int			announced_dim;
	size_t		data_bytes;
	int			reserved;
} sid_fp_parse;

/* Most components the text can hold (commas + 1): enough room for out. */
extern int	sid_fp_text_capacity(const char *text);

/*
 * Parse text into out[capacity], refusing more than max_dim components.
 * Returns p->outcome.
 */
extern sid_fp_outcome sid_fp_parse_text(const char *text, int max_dim, float *out, int capacity,
										sid_fp_parse *p);

/* Parse len bytes of the binary format into out[max_dim]. */
extern sid_fp_outcome sid_fp_parse_binary(const unsigned char *data, size_t len, int max_dim,
										  float *out, sid_fp_parse *p);

#endif
