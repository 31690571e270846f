/*
 * sid_fp_io.c - fingerprint text and binary parsers (sid_fp_io.h).
 */
#include "core/sid_fp_io.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* PostgreSQL's scanner_isspace: what the server's own input functions skip. */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static const char *
skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static sid_fp_outcome
fail_at(sid_fp_parse *p, sid_fp_outcome outcome, const char *text, const char *at,
		const char *expected)
{
	p->outcome = outcome;
	p->offset = (size_t) (at - text);
	p->expected = expected;
	return outcome;
}

/*
 * A component must be finite and in float4's range; like float4in, a value
 * that rounds to zero though it is not zero is out of range rather than a
 * silent 0 (a numeric[] cast refuses it the same way).
 */
static sid_fp_outcome
check_component(sid_fp_parse *p, float value, int range_error)
{
	if (isnan(value))
		return p->outcome = SID_FP_NAN;
	if (range_error && (value == 0.0f || isinf(value)))
		return p->outcome = SID_FP_OUT_OF_RANGE;
	if (isinf(value))
		return p->outcome = SID_FP_INFINITE;
	return SID_FP_OK;
}

int
sid_fp_text_capacity(const char *text)
{
	int			n = 1;

	for (; *text; text++)
		if (*text == ',' && n < INT32_MAX)
			n++;
	return n;
}

sid_fp_outcome
sid_fp_parse_text(const char *text, int max_dim, float *out, int capacity, sid_fp_parse *p)
{
	const char *s = skip_blanks(text);

	memset(p, 0, sizeof(*p));
	if (*s != '[')
		return fail_at(p, SID_FP_MALFORMED, text, s, "\"[\"");
	s = skip_blanks(s + 1);
	if (*s == ']')
		return fail_at(p, SID_FP_EMPTY, text, s, NULL);
	for (;;)
	{
		char	   *end;
		float		value;

		s = skip_blanks(s);
		if (*s == '\0' || *s == ',' || *s == ']')
			return fail_at(p, SID_FP_MALFORMED, text, s, "a number");
		errno = 0;
		value = strtof(s, &end);
		if (end == s)
			return fail_at(p, SID_FP_MALFORMED, text, s, "a number");
		p->offset = (size_t) (s - text);
		p->token_len = (size_t) (end - s);
		if (check_component(p, value, errno == ERANGE) != SID_FP_OK)
			return p->outcome;
		if (p->dim >= max_dim || p->dim >= capacity)
			return fail_at(p, SID_FP_TOO_MANY, text, s, NULL);
		out[p->dim++] = value;
		s = skip_blanks(end);
		if (*s == ']')
			break;
		if (*s != ',')
			return fail_at(p, SID_FP_MALFORMED, text, s, "\",\" or \"]\"");
		s++;
	}
	if (*skip_blanks(s + 1) != '\0')
		return fail_at(p, SID_FP_MALFORMED, text, skip_blanks(s + 1), "nothing after \"]\"");
	return p->outcome = SID_FP_OK;
}

static uint32_t
get_be32(const unsigned char *b)
{
	return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
}

sid_fp_outcome
sid_fp_parse_binary(const unsigned char *data, size_t len, int max_dim, float *out,
					sid_fp_parse *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 4)
	{
		p->announced_dim = -1;
		p->data_bytes = len;
		return p->outcome = SID_FP_BAD_BINARY;
	}
	p->announced_dim = (int) ((unsigned) data[0] << 8 | data[1]);
	p->reserved = (int) ((unsigned) data[2] << 8 | data[3]);
	p->data_bytes = len - 4;
	if (p->reserved != 0 || p->announced_dim < 1 ||
		p->data_bytes != sizeof(float) * (size_t) p->announced_dim)
		return p->outcome = SID_FP_BAD_BINARY;
	if (p->announced_dim > max_dim)
		return p->outcome = SID_FP_TOO_MANY;
	for (p->dim = 0; p->dim < p->announced_dim; p->dim++)
	{
		uint32_t	bits = get_be32(data + 4 + 4 * (size_t) p->dim);
		float		value;

		memcpy(&value, &bits, sizeof(value));
		if (check_component(p, value, 0) != SID_FP_OK)
			return p->outcome;
		out[p->dim] = value;
	}
	return p->outcome = SID_FP_OK;
}
