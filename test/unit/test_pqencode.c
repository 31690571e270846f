/*
 * test_pqencode.c - product-quantiser encoding (search/sid_pqencode): each
 * sub-vector gets its nearest codeword, the one an exact search in double
 * finds, or one no farther than float rounding allows; ties go to the lower
 * codeword; vectors `stride` floats apart are read at their own offsets; and
 * a sub-vector that is not a number still gets a codeword in range.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_rng.h"
#include "search/sid_pqencode.h"
#include "tap.h"

/* squared distance of sub-vector r to codeword c, in double */
static double
distance2(const float *r, const float *c, int dsub)
{
	double		s = 0.0;
	int			t;

	for (t = 0; t < dsub; t++)
		s += ((double) r[t] - c[t]) * ((double) r[t] - c[t]);
	return s;
}

/*
 * One shape: n random vectors against a random codebook.  Counts the
 * indices that differ from the exact search's, and those whose codeword is
 * farther than rounding explains.
 */
static void
run_case(sid_rng *rng, int m, int ksub, int dsub, int gap, size_t n, int *differ, int *far)
{
	size_t		stride = (size_t) m * dsub + gap;
	float	   *codebook = malloc(sizeof(float) * m * ksub * dsub);
	float	   *x = malloc(sizeof(float) * stride * n);
	float	   *prepared = malloc(sizeof(float) * sid_pq_prepared_floats(m, ksub, dsub));
	int64_t    *indices = malloc(sizeof(int64_t) * n * m);
	size_t		i;
	int			j;

	for (i = 0; i < (size_t) m * ksub * dsub; i++)
		codebook[i] = sid_rng_uniform(rng) * 2.0f - 1.0f;
	for (i = 0; i < stride * n; i++)
		x[i] = sid_rng_uniform(rng) * 2.4f - 1.2f;
	sid_pq_prepare(codebook, m, ksub, dsub, prepared);
	sid_pq_encode(prepared, m, ksub, dsub, x, stride, n, indices);
	for (i = 0; i < n; i++)
		for (j = 0; j < m; j++)
		{
			const float *r = x + i * stride + (size_t) j * dsub;
			const float *cb = codebook + (size_t) j * ksub * dsub;
			int64_t		got = indices[i * m + j];
			int			best = 0;
			int			c;
			double		norm2 = 0.0;

			for (c = 1; c < ksub; c++)
				if (distance2(r, cb + c * dsub, dsub) < distance2(r, cb + best * dsub, dsub))
					best = c;
			if (got < 0 || got >= ksub)
			{
				(*far)++;
				continue;
			}
			if (got != best)
				(*differ)++;
			for (c = 0; c < dsub; c++)
				norm2 += (double) r[c] * r[c] + 1.0;
			if (distance2(r, cb + got * dsub, dsub) >
				distance2(r, cb + best * dsub, dsub) + 1e-5 * norm2)
				(*far)++;
		}
	free(codebook);
	free(x);
	free(prepared);
	free(indices);
}

int
main(void)
{
	static const int shapes[][3] = {
		/* m, ksub, dsub */
		{32, 16, 4}, {16, 256, 8}, {64, 16, 2}, {8, 256, 16},
		{1, 3, 5}, {1, 233, 15}, {4, 7, 3}, {2, 1, 4}, {128, 16, 1},
	};
	sid_rng		rng;
	int			differ = 0;
	int			far = 0;
	int			checked = 0;
	size_t		s;

	sid_rng_init(&rng, 20261202, 1);
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
	{
		size_t		n = 300;

		run_case(&rng, shapes[s][0], shapes[s][1], shapes[s][2], (int) s % 3 * 5, n,
				 &differ, &far);
		checked += (int) n * shapes[s][0];
	}
	CHECK(far == 0, "every sub-vector's codeword is in range and as near as the exact search's, "
		  "to rounding (%d of %d farther)", far, checked);
	CHECK(differ * 1000 <= checked,
		  "at most one in 1000 differs from the exact search's (%d of %d)", differ, checked);

	/* ties: equal codewords, and a sub-vector equally far from two */
	{
		float		codebook[6 * 2] = {5, 5, 1, 1, 9, 9, 1, 1, 0, 0, 1, 1};
		float		prepared[6 * 3];
		float		x[2 * 4] = {1, 1, 0.5f, 0.5f, 3, 3, 7, 7};
		int64_t		indices[4];

		sid_pq_prepare(codebook, 1, 6, 2, prepared);
		sid_pq_encode(prepared, 1, 6, 2, x, 2, 4, indices);
		CHECK(indices[0] == 1, "of three equal codewords the first (got %lld)",
			  (long long) indices[0]);
		CHECK(indices[1] == 1, "of codewords equally far the first (got %lld)",
			  (long long) indices[1]);
		CHECK(indices[2] == 0 && indices[3] == 0,
			  "points halfway between two codewords go to the lower (got %lld, %lld)",
			  (long long) indices[2], (long long) indices[3]);
	}

	/* not a number: a codeword in range, no crash */
	{
		float		codebook[16 * 4];
		float		prepared[16 * 5];
		float		x[4] = {NAN, 0.0f, INFINITY, 1.0f};
		int64_t		index = -1;
		int			i;

		for (i = 0; i < 16 * 4; i++)
			codebook[i] = (float) (i % 5) - 2.0f;
		sid_pq_prepare(codebook, 1, 16, 4, prepared);
		sid_pq_encode(prepared, 1, 16, 4, x, 4, 1, &index);
		CHECK(index >= 0 && index < 16, "a NaN sub-vector gets a codeword in range (got %lld)",
			  (long long) index);
	}
	return tap_done();
}
