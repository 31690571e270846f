/*
 * bench_pq4.c - the 4-bit PQ kernel (search/sid_pq4) on its own: nanoseconds
 * a code for sid_pq4_sums and sid_pq4_distances, and for the plain C sums in
 * the same run, over an array of random codes laid out as on an ivfpq page
 * with refine codes (m = 32: 16 code bytes and a 2-byte slot, 18 bytes apart),
 * a page's 340 codes per call.  The best of 20 passes.
 *
 *   make bench && build/bench/bench_pq4 [codes]
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/sid_clock.h"
#include "core/sid_rng.h"
#include "search/sid_pq4.h"

#define M		32
#define STRIDE	18
#define PAGE	340
#define PASSES	20

typedef enum
{
	RUN_SUMS, RUN_SCALAR, RUN_DISTANCES
} run_kind;

static double
best_ns_per_code(run_kind kind, const sid_pq4_table *q, const uint8_t *codes, long n)
{
	uint16_t	sums[PAGE + SID_PQ4_BLOCK];
	float		distances[PAGE];
	double		best = 1e30;
	volatile double sink = 0;

	for (int pass = 0; pass < PASSES; pass++)
	{
		double		t0 = sid_clock_seconds(CLOCK_MONOTONIC);

		for (long i = 0; i + PAGE <= n; i += PAGE)
		{
			const uint8_t *c = codes + (size_t) i * STRIDE;

			if (kind == RUN_SUMS)
				sid_pq4_sums(q, c, STRIDE, PAGE, sums);
			else if (kind == RUN_SCALAR)
				sid_pq4_sums_scalar(q, c, STRIDE, PAGE, sums);
			else
				sid_pq4_distances(q, c, STRIDE, PAGE, distances);
			sink += kind == RUN_DISTANCES ? distances[7] : sums[7];
		}
		double		t = sid_clock_seconds(CLOCK_MONOTONIC) - t0;

		if (t < best)
			best = t;
	}
	return best * 1e9 / (double) (n / PAGE * PAGE);
}

int
main(int argc, char **argv)
{
	long		n = argc > 1 ? atol(argv[1]) : 2000000;
	size_t		bytes = (size_t) n * STRIDE + 64;
	uint8_t    *codes = malloc(bytes);
	float		table[M * 16];
	sid_pq4_table *q = malloc(sizeof(sid_pq4_table));
	sid_rng		rng;

	if (n < PAGE || codes == NULL || q == NULL)
	{
		fprintf(stderr, "usage: %s [codes, at least %d]\n", argv[0], PAGE);
		return 1;
	}
	sid_rng_init(&rng, 20261202, 1);
	for (size_t b = 0; b < bytes; b++)
		codes[b] = (uint8_t) sid_rng_below(&rng, 256);
	for (int i = 0; i < M * 16; i++)
		table[i] = sid_rng_uniform(&rng);
	if (!sid_pq4_quantize(table, M, q))
		return 1;

	double		simd = best_ns_per_code(RUN_SUMS, q, codes, n);
	double		plain = best_ns_per_code(RUN_SCALAR, q, codes, n);
	double		distances = best_ns_per_code(RUN_DISTANCES, q, codes, n);

	printf("codes=%ld m=%d stride=%d simd=%s\n", n, M, STRIDE, sid_pq4_simd() ? "avx2" : "none");
	printf("sid_pq4_sums\t%.2f ns/code\n", simd);
	printf("sid_pq4_sums_scalar\t%.2f ns/code\n", plain);
	printf("sid_pq4_distances\t%.2f ns/code\n", distances);
	printf("scalar / sums\t%.1fx\n", plain / simd);
	free(codes);
	free(q);
	return 0;
}
