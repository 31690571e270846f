/*
 * bench_pqencode.c - product-quantiser encoding (search/sid_pqencode) on its
 * own: nanoseconds a 128-d vector for sid_pq_encode at the two code shapes
 * of 16 bytes (m = 32 of 16 codewords, m = 16 of 256), in batches as an
 * ivfpq build encodes, and one at a time with the codebook prepared for each
 * (what an insert would pay to use it); in the same run, the exact search in
 * double that an insert does (ivfpq_encode's loop, written out here), over
 * random codebooks and vectors.  The best of 10 passes over 20 000 vectors.
 *
 *   make bench && build/bench/bench_pqencode
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/sid_clock.h"
#include "core/sid_rng.h"
#include "search/sid_pqencode.h"

#define DIM		128
#define VECTORS	20000
#define PASSES	10

/* the insert path's encoding: each codeword's exact distance, in double */
static void
encode_exact(const float *codebook, int m, int ksub, int dsub, const float *x, size_t n,
			 int64_t *indices)
{
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < m; j++)
		{
			const float *cb = codebook + (size_t) j * ksub * dsub;
			double		best = 1e300;

			indices[i * m + j] = 0;
			for (int k = 0; k < ksub; k++)
			{
				double		d = 0.0;

				for (int t = 0; t < dsub; t++)
				{
					float		r = x[i * DIM + j * dsub + t] - cb[k * dsub + t];

					d += r * r;
				}
				if (d < best)
				{
					best = d;
					indices[i * m + j] = k;
				}
			}
		}
}

static void
run_shape(sid_rng *rng, int m, int ksub)
{
	int			dsub = DIM / m;
	float	   *codebook = malloc(sizeof(float) * m * ksub * dsub);
	float	   *prepared = malloc(sizeof(float) * sid_pq_prepared_floats(m, ksub, dsub));
	float	   *x = malloc(sizeof(float) * DIM * VECTORS);
	int64_t    *fast = malloc(sizeof(int64_t) * m * VECTORS);
	int64_t    *exact = malloc(sizeof(int64_t) * m * VECTORS);
	double		bestFast = 1e30;
	double		bestOne = 1e30;
	double		bestExact = 1e30;
	long		same = 0;

	for (int i = 0; i < m * ksub * dsub; i++)
		codebook[i] = sid_rng_uniform(rng) * 2.0f - 1.0f;
	for (long i = 0; i < (long) DIM * VECTORS; i++)
		x[i] = sid_rng_uniform(rng) * 2.0f - 1.0f;
	sid_pq_prepare(codebook, m, ksub, dsub, prepared);
	for (int pass = 0; pass < PASSES; pass++)
	{
		double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);
		double		t1;
		double		t2;
		double		t3;

		sid_pq_encode(prepared, m, ksub, dsub, x, DIM, VECTORS, fast);
		t1 = sid_clock_seconds(CLOCK_MONOTONIC);
		for (long i = 0; i < VECTORS; i++)
		{
			sid_pq_prepare(codebook, m, ksub, dsub, prepared);
			sid_pq_encode(prepared, m, ksub, dsub, x + i * DIM, DIM, 1, fast + i * m);
		}
		t2 = sid_clock_seconds(CLOCK_MONOTONIC);
		encode_exact(codebook, m, ksub, dsub, x, VECTORS, exact);
		t3 = sid_clock_seconds(CLOCK_MONOTONIC);
		bestFast = t1 - t0 < bestFast ? t1 - t0 : bestFast;
		bestOne = t2 - t1 < bestOne ? t2 - t1 : bestOne;
		bestExact = t3 - t2 < bestExact ? t3 - t2 : bestExact;
	}
	for (long i = 0; i < (long) m * VECTORS; i++)
		same += fast[i] == exact[i];
	printf("m=%d ksub=%d dsub=%d\tbatch_ns=%.0f\tone_prepared_each_ns=%.0f\texact_double_ns=%.0f"
		   "\texact/batch=%.2f\texact/one=%.2f\tsame_indices=%.4f\n",
		   m, ksub, dsub, bestFast / VECTORS * 1e9, bestOne / VECTORS * 1e9,
		   bestExact / VECTORS * 1e9, bestExact / bestFast, bestExact / bestOne,
		   (double) same / ((double) m * VECTORS));
	free(codebook);
	free(prepared);
	free(x);
	free(fast);
	free(exact);
}

int
main(void)
{
	sid_rng		rng;

	sid_rng_init(&rng, 20261202, 2);
	run_shape(&rng, 32, 16);
	run_shape(&rng, 16, 256);
	return 0;
}
