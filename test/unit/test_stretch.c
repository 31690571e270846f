/*
 * test_stretch.c - pitch shift and time stretch (audio/sid_stretch.h) with
 * known answers: a sine shifted by the R3 engine, measured from its zero
 * crossings, moves by the stated cents (within 5); the onsets of two tone
 * bursts move apart by the stated time ratio (within 1%) and the output has
 * the stated length; the transposed copies of a query are the input and its
 * shifts; requests beyond the limits are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "audio/sid_stretch.h"
#include "tap.h"
#include "tone_measure.h"

#define SR 16000

static float *
sine(size_t n, double f)
{
	float	   *x = malloc(n * sizeof(float));

	for (size_t i = 0; i < n; i++)
		x[i] = (float) (0.5 * sin(2 * M_PI * f * i / SR));
	return x;
}

static double
cents(double f, double ref)
{
	return 1200 * log2(f / ref);
}

static void
test_pitch(void)
{
	const double shifts[] = {3, -3, 2, -1, 0.5, -2.7};
	size_t		n = 3 * SR;
	float	   *x = sine(n, 440);
	sid_error	err;

	for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++)
	{
		float	   *y;
		size_t		m;
		double		f;

		if (sid_stretch(x, n, SR, 1.0, shifts[k], SID_STRETCH_FINER, &y, &m, &err) != SID_OK)
		{
			CHECK(0, "pitch %+.1f st: %s", shifts[k], err.msg);
			continue;
		}
		f = tone_frequency(y, SR, 2 * SR, SR);
		CHECK(m == n && fabs(cents(f, 440) - 100 * shifts[k]) <= 5,
			  "pitch %+.1f st: 440 Hz -> %.2f Hz, %+.1f cents (want %+.0f), %zu samples",
			  shifts[k], f, cents(f, 440), 100 * shifts[k], m);
		free(y);
	}
	free(x);
}

static void
test_stretch_length(sid_stretch_engine engine, const char *name)
{
	const double ratios[] = {0.7, 0.85, 1.2, 1.5};
	size_t		n = (size_t) (3.5 * SR);
	float	   *x = calloc(n, sizeof(float));
	sid_error	err;

	/* 0.2 s bursts of 1 kHz at 0.5 s and 2.5 s: 2 s between onsets */
	for (size_t i = 0; i < SR / 5; i++)
	{
		x[SR / 2 + i] = (float) (0.5 * sin(2 * M_PI * 1000.0 * i / SR));
		x[5 * SR / 2 + i] = x[SR / 2 + i];
	}
	for (size_t k = 0; k < sizeof(ratios) / sizeof(ratios[0]); k++)
	{
		float	   *y;
		size_t		m,
					want = (size_t) llround(n * ratios[k]);
		double		a,
					b;

		if (sid_stretch(x, n, SR, ratios[k], 0, engine, &y, &m, &err) != SID_OK)
		{
			CHECK(0, "%s stretch %.2f: %s", name, ratios[k], err.msg);
			continue;
		}
		a = tone_onset(y, 0, m, SR, 0.25 / M_SQRT2);
		b = tone_onset(y, (size_t) (a + 1.5 * ratios[k] * SR * 0.5), m, SR, 0.25 / M_SQRT2);
		CHECK(m == want && a >= 0 && b > a &&
			  fabs((b - a) / (2.0 * SR) - ratios[k]) <= 0.01 * ratios[k],
			  "%s stretch %.2f: onsets %.3f s apart (want %.3f), %zu samples (want %zu)", name,
			  ratios[k], (b - a) / SR, 2.0 * ratios[k], m, want);
		free(y);
	}
	free(x);
}

static void
test_transpose_copies(void)
{
	size_t		n = 2 * SR;
	float	   *x = sine(n, 330);
	float	   *copies[SID_TRANSPOSE_MAX_COPIES];
	sid_error	err;
	int			ok;

	ok = sid_transpose_copies(x, n, SR, -3, 3, SID_STRETCH_FINER, copies, &err) == SID_OK;
	CHECK(ok, "transpose: -3 .. +3 made (R3) (%s)", ok ? "ok" : err.msg);
	if (ok)
	{
		int			pitched = 1;

		CHECK(memcmp(copies[3], x, n * sizeof(float)) == 0, "transpose: slot 0 st is the query");
		for (int k = 0; k < 7; k++)
			if (k != 3)
			{
				double		c = cents(tone_frequency(copies[k], SR / 2, 3 * SR / 2, SR), 330);

				pitched &= fabs(c - 100 * (k - 3)) <= 5;
			}
		CHECK(pitched, "transpose: every copy is its shift within 5 cents");
		sid_transpose_copies_free(copies, 7);
	}
	CHECK(sid_transpose_copies(x, n, SR, 1, 3, SID_STRETCH_FINER, copies, &err) == SID_EINVAL,
		  "transpose: a range without 0 is refused: %s", err.msg);
	CHECK(sid_transpose_copies(x, n, SR, -20, 20, SID_STRETCH_FINER, copies, &err) == SID_EINVAL,
		  "transpose: 41 copies are refused: %s", err.msg);
	free(x);
}

static void
test_limits(void)
{
	float		x[64] = {0},
			   *y;
	size_t		m;
	sid_error	err;

	CHECK(sid_stretch(x, 0, SR, 1, 0, SID_STRETCH_FASTER, &y, &m, &err) == SID_ELIMIT && !y,
		  "limits: empty input refused: %s", err.msg);
	CHECK(sid_stretch(x, 64, SR, 0.1, 0, SID_STRETCH_FASTER, &y, &m, &err) == SID_EINVAL,
		  "limits: ratio 0.1 refused: %s", err.msg);
	CHECK(sid_stretch(x, 64, SR, NAN, 0, SID_STRETCH_FASTER, &y, &m, &err) == SID_EINVAL,
		  "limits: ratio NaN refused");
	CHECK(sid_stretch(x, 64, SR, 1, 30, SID_STRETCH_FASTER, &y, &m, &err) == SID_EINVAL,
		  "limits: 30 semitones refused: %s", err.msg);
	CHECK(sid_stretch(x, 64, 100, 1, 0, SID_STRETCH_FASTER, &y, &m, &err) == SID_EINVAL,
		  "limits: 100 Hz refused: %s", err.msg);
	m = 0;
	CHECK(sid_stretch(x, 64, SR, 1.5, 1, SID_STRETCH_FASTER, &y, &m, &err) == SID_OK && m == 96,
		  "limits: a 64-sample input still gives round(n * r) = 96 samples");
	free(y);
}

int
main(void)
{
	test_pitch();
	test_stretch_length(SID_STRETCH_FASTER, "R2");
	test_stretch_length(SID_STRETCH_FINER, "R3");
	test_transpose_copies();
	test_limits();
	return tap_done();
}
