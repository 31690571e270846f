/*
 * sid_pcm16.c - see sid_pcm16.h.
 */
#include "core/sid_pcm16.h"

#include <math.h>

void
sid_pcm16_from_float(const float *in, int64_t n, int16_t *out)
{
	for (int64_t i = 0; i < n; i++)
	{
		float		v = in[i] * 32767.0f;

		out[i] = (int16_t) lrintf(v > 32767.0f ? 32767.0f : v < -32767.0f ? -32767.0f : v);
	}
}

void
sid_pcm16_to_float(const int16_t *in, int64_t n, float *out)
{
	for (int64_t i = 0; i < n; i++)
		out[i] = in[i] * (1.0f / 32767.0f);
}
