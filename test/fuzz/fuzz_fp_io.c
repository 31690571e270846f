/*
 * fuzz_fp_io.c - libFuzzer target: the fingerprint type's text and binary
 * parsers (core/sid_fp_io), which fingerprint_in and fingerprint_recv call.
 *
 * The first byte picks the format.  Besides the sanitizers, every accepted
 * input must round-trip: text printed with %.9g parses back to the same
 * floats, and binary re-encodes to the same bytes; every refusal must say
 * where (an offset inside the text).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_fp_io.h"

#define MAX_DIM 16000

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	int			capacity;
	float	   *values;
	sid_fp_parse p;

	memcpy(text, data, size);
	text[size] = '\0';
	capacity = sid_fp_text_capacity(text);
	if (capacity > MAX_DIM)
		capacity = MAX_DIM;
	values = malloc(sizeof(float) * (size_t) capacity);
	if (sid_fp_parse_text(text, MAX_DIM, values, capacity, &p) == SID_FP_OK)
	{
		char	   *again = malloc(16 * (size_t) p.dim + 3);
		float	   *back = malloc(sizeof(float) * (size_t) p.dim);
		size_t		n = 0;
		sid_fp_parse q;

		if (p.dim < 1)
			__builtin_trap();
		again[n++] = '[';
		for (int i = 0; i < p.dim; i++)
		{
			if (!isfinite(values[i]))
				__builtin_trap();
			n += (size_t) sprintf(again + n, i ? ",%.9g" : "%.9g", (double) values[i]);
		}
		again[n++] = ']';
		again[n] = '\0';
		if (sid_fp_parse_text(again, MAX_DIM, back, p.dim, &q) != SID_FP_OK || q.dim != p.dim ||
			memcmp(back, values, sizeof(float) * (size_t) p.dim) != 0)
			__builtin_trap();
		free(again);
		free(back);
	}
	else if (p.offset > size)
		__builtin_trap();
	free(values);
	free(text);
}

static void
check_binary(const uint8_t *data, size_t size)
{
	float	   *values = malloc(sizeof(float) * MAX_DIM);
	sid_fp_parse p;

	if (sid_fp_parse_binary(data, size, MAX_DIM, values, &p) == SID_FP_OK)
	{
		if (p.dim < 1 || size != 4 + 4 * (size_t) p.dim || data[2] != 0 || data[3] != 0 ||
			((size_t) data[0] << 8 | data[1]) != (size_t) p.dim)
			__builtin_trap();
		for (int i = 0; i < p.dim; i++)
		{
			uint32_t	bits;
			const uint8_t *b = data + 4 + 4 * (size_t) i;

			memcpy(&bits, &values[i], sizeof(bits));
			if (!isfinite(values[i]) ||
				bits != ((uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3]))
				__builtin_trap();
		}
	}
	free(values);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		check_binary(data + 1, size - 1);
	else
		check_text(data + 1, size - 1);
	return 0;
}
