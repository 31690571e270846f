/*
 * test_pq4.c - the 4-bit PQ sums (search/sid_pq4): the SIMD kernel gives
 * the plain C sums bit for bit, over code lengths that do and do not fill
 * 16-byte chunks, counts that do and do not fill blocks of 32, and strides
 * with bytes between the codes; each distance is within m / 2 quantisation
 * steps of the float ADC sum, and sid_pq4_distances gives those distances.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sid_rng.h"
#include "search/sid_pq4.h"
#include "tap.h"

/* the float ADC sum, added in the order an index scan adds it */
static float
adc_sum(const float *table, int m, const uint8_t *code)
{
	float		d = 0.0f;
	int			j;

	for (j = 0; j < m; j++)
		d += table[j * 16 + ((code[j >> 1] >> ((j & 1) * 4)) & 0x0F)];
	return d;
}

/* One case: returns the number of codes whose SIMD and plain sums differ. */
static int
run_case(sid_rng *rng, int m, int count, int gap, float spread, int *far, int *distances_bad)
{
	int			code_bytes = (m + 1) / 2;
	int			stride = code_bytes + gap;
	int			padded = (count + SID_PQ4_BLOCK - 1) / SID_PQ4_BLOCK * SID_PQ4_BLOCK;
	size_t		bytes = (size_t) count * stride + 16;
	uint8_t    *codes = malloc(bytes);
	float	   *table = malloc(sizeof(float) * m * 16);
	uint16_t   *fast = malloc(sizeof(uint16_t) * padded);
	uint16_t   *plain = malloc(sizeof(uint16_t) * padded);
	float	   *distances = malloc(sizeof(float) * count);
	sid_pq4_table *q = malloc(sizeof(sid_pq4_table));
	int			differ = 0;
	size_t		b;
	int			i;

	/* random bytes everywhere, the gaps and the 16 past the end included */
	for (b = 0; b < bytes; b++)
		codes[b] = (uint8_t) sid_rng_below(rng, 256);
	for (i = 0; i < m * 16; i++)
		table[i] = sid_rng_normal(rng) * spread - 3.0f;
	if (!sid_pq4_quantize(table, m, q))
	{
		free(codes), free(table), free(fast), free(plain), free(distances), free(q);
		return -1;
	}
	sid_pq4_sums(q, codes, stride, count, fast);
	sid_pq4_sums_scalar(q, codes, stride, count, plain);
	sid_pq4_distances(q, codes, stride, count, distances);
	for (i = 0; i < count; i++)
	{
		double		exact = adc_sum(table, m, codes + (size_t) i * stride);
		double		quantised = q->offset + fast[i] / q->scale;

		if (fast[i] != plain[i])
			differ++;
		/* each sub-quantiser's entry is off by at most half a step */
		if (fabs(quantised - exact) > (m / 2.0 + 0.01) / q->scale + 1e-5 * fabs(exact))
			(*far)++;
		if (fabs(distances[i] - quantised) > 1e-5 * (fabs(quantised) + 1.0))
			(*distances_bad)++;
	}
	free(codes), free(table), free(fast), free(plain), free(distances), free(q);
	return differ;
}

int
main(void)
{
	static const int ms[] = {1, 2, 7, 16, 31, 32, 33, 64, 100, 128, 256};
	static const int counts[] = {1, 5, 31, 32, 33, 100, 315, 340};
	static const int gaps[] = {0, 2, 7};
	sid_rng		rng;
	int			differ = 0;
	int			far = 0;
	int			distances_bad = 0;
	int			cases = 0;
	int			failed_quantize = 0;
	size_t		a;
	size_t		c;
	size_t		g;
	float		table[16 * 2];
	sid_pq4_table *q = malloc(sizeof(sid_pq4_table));
	int			k;

	sid_rng_init(&rng, 20261202, 0);
	for (a = 0; a < sizeof(ms) / sizeof(ms[0]); a++)
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
			for (g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++)
			{
				int			d = run_case(&rng, ms[a], counts[c], gaps[g],
										 a % 2 ? 0.01f : 5.0f, &far, &distances_bad);

				if (d < 0)
					failed_quantize++;
				else
					differ += d;
				cases++;
			}
	CHECK(failed_quantize == 0, "every finite table quantises (%d cases)", cases);
	if (sid_pq4_simd())
		CHECK(differ == 0, "the AVX2 kernel's sums equal the plain ones (%d codes differ)", differ);
	else
		tap_skip("no AVX2 on this CPU: sid_pq4_sums ran the plain sums, not compared with itself");
	CHECK(far == 0, "every distance is within m / 2 quantisation steps of the float ADC sum (%d not)", far);
	CHECK(distances_bad == 0, "sid_pq4_distances gives offset + sum / scale (%d not)", distances_bad);

	/* the largest sums: 256 sub-quantisers at 255 each still fit 16 bits */
	{
		float	   *big = malloc(sizeof(float) * 256 * 16);
		uint8_t		codes[128 * 40 + 16];
		uint16_t	out[64];

		for (k = 0; k < 256 * 16; k++)
			big[k] = (k % 16) == 15 ? 1.0f : 0.0f;
		memset(codes, 0xFF, sizeof(codes));
		CHECK(sid_pq4_quantize(big, 256, q), "m = 256 quantises");
		sid_pq4_sums(q, codes, 128, 40, out);
		CHECK(out[0] == 256 * 255 && out[39] == 256 * 255,
			  "256 entries of 255 sum to 65280 (%u, %u)", out[0], out[39]);
		free(big);
	}

	/* what cannot be quantised says so (a finite 2 x 16 table, then one bad entry) */
	for (k = 0; k < 32; k++)
		table[k] = (float) (k % 16);
	table[3] = 1.0f / 0.0f;
	CHECK(!sid_pq4_quantize(table, 2, q), "an infinite entry is refused");
	table[3] = 0.0f / 0.0f;
	CHECK(!sid_pq4_quantize(table, 2, q), "a NaN entry is refused");
	table[3] = 0.0f;
	CHECK(!sid_pq4_quantize(table, 0, q) && !sid_pq4_quantize(table, SID_PQ4_MAX_M + 1, q),
		  "m outside 1 .. %d is refused", SID_PQ4_MAX_M);
	for (k = 0; k < 32; k++)
		table[k] = 2.5f;
	CHECK(sid_pq4_quantize(table, 2, q) && q->offset == 5.0, "a constant table: every distance is its sum");
	free(q);
	return tap_done();
}
