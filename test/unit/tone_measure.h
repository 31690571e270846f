/*
 * tone_measure.h - what the pitch and stretch tests measure on their test
 * tones: a tone's frequency from its zero crossings, and where a burst
 * starts.
 */
#ifndef SAMPLEID_TONE_MEASURE_H
#define SAMPLEID_TONE_MEASURE_H

#include <math.h>
#include <stddef.h>

/* Frequency from the upward zero crossings of x[from .. to), interpolated. */
__attribute__((unused))
static double
tone_frequency(const float *x, size_t from, size_t to, double rate)
{
	double		first = -1,
				last = -1;
	int			count = 0;

	for (size_t i = from + 1; i < to; i++)
		if (x[i - 1] < 0 && x[i] >= 0)
		{
			double		t = (i - 1) + x[i - 1] / (double) (x[i - 1] - x[i]);

			if (first < 0)
				first = t;
			last = t;
			count++;
		}
	return count > 1 ? (count - 1) * rate / (last - first) : 0;
}

/* First sample from `from` on where the 4 ms RMS exceeds rms; -1 if none. */
__attribute__((unused))
static double
tone_onset(const float *x, size_t from, size_t n, double rate, double rms)
{
	const size_t w = (size_t) (rate / 250);

	for (size_t i = from; i + w <= n; i++)
	{
		double		e = 0;

		for (size_t j = i; j < i + w; j++)
			e += (double) x[j] * x[j];
		if (sqrt(e / w) > rms)
			return (double) i;
	}
	return -1;
}

#endif
