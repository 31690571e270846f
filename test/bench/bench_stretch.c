/*
 * bench_stretch.c - what librubberband costs here: CPU seconds per second of
 * audio (the inverse of the real-time factor) for pitch shift and time
 * stretch with both engines, on short clips and long ones, and the cost of
 * the transposed copies (-3 .. +3 semitones) per second of query audio.
 *
 *   make bench && ./build/bench/bench_stretch [seconds_long]
 *
 * The signal is synthetic music (harmonic notes of a random chord sequence
 * with decaying envelopes, and noise hits): rubberband's cost depends on
 * transients, so a sine would flatter it.  Process CPU time, one thread.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "audio/sid_stretch.h"
#include "core/sid_clock.h"
#include "core/sid_rng.h"

#define SR 16000

static float *
music(size_t n, uint64_t seed)
{
	float	   *x = calloc(n, sizeof(float));
	sid_rng		rng;

	sid_rng_init(&rng, seed, 0);
	for (size_t at = 0; at < n; at += SR / 4)
	{
		double		f = 110.0 * pow(2.0, (double) sid_rng_below(&rng, 36) / 12.0);
		int			hit = sid_rng_uniform(&rng) < 0.3f;

		for (size_t i = at; i < n && i < at + SR; i++)
		{
			double		t = (double) (i - at) / SR,
						env = exp(-4 * t);

			for (int h = 1; h <= 5; h++)
				x[i] += (float) (0.1 * env / h * sin(2 * M_PI * f * h * t));
			if (hit && t < 0.05)
				x[i] += 0.2f * sid_rng_normal(&rng) * (float) exp(-60 * t);
		}
	}
	return x;
}

static double
cpu_per_second(const float *x, size_t n, double ratio, double st, sid_stretch_engine e, int reps)
{
	double		t0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	sid_error	err;

	for (int r = 0; r < reps; r++)
	{
		float	   *y;
		size_t		m;

		if (sid_stretch(x, n, SR, ratio, st, e, &y, &m, &err) != SID_OK)
		{
			fprintf(stderr, "bench_stretch: %s\n", err.msg);
			exit(1);
		}
		free(y);
	}
	return (sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - t0) / reps / ((double) n / SR);
}

int
main(int argc, char **argv)
{
	double		long_s = argc > 1 ? atof(argv[1]) : 60;
	const double lens[] = {4.08, 10, long_s};
	const struct
	{
		const char *what;
		double		ratio,
					st;
	}			ops[] = {{"pitch +2 st", 1, 2}, {"pitch -3 st", 1, -3},
	{"stretch 0.7", 0.7, 0}, {"stretch 1.5", 1.5, 0}};
	float	   *x = music((size_t) (long_s * SR) + 1, 1);

	printf("operation\tengine\tclip_s\tcpu_s_per_audio_s\treal_time_factor\n");
	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
		for (int e = 0; e < 2; e++)
			for (size_t l = 0; l < 3; l++)
			{
				size_t		n = (size_t) (lens[l] * SR);
				double		c = cpu_per_second(x, n, ops[o].ratio, ops[o].st, e,
											   lens[l] < 20 ? 5 : 1);

				printf("%s\t%s\t%.2f\t%.4f\t%.0f\n", ops[o].what, e ? "finer(R3)" : "faster(R2)",
					   lens[l], c, 1 / c);
			}
	for (int e = 0; e < 2; e++)
	{
		float	   *copies[7];
		sid_error	err;
		double		t0 = sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID);

		for (int r = 0; r < 5; r++)
		{
			if (sid_transpose_copies(x, 10 * SR, SR, -3, 3, e, copies, &err) != SID_OK)
				return 1;
			sid_transpose_copies_free(copies, 7);
		}
		printf("transposed copies -3..+3 of a 10 s query, %s: %.1f ms CPU per second of query\n",
			   e ? "finer(R3)" : "faster(R2)",
			   1000 * (sid_clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - t0) / 5 / 10);
	}
	free(x);
	return 0;
}
