/*
 * sid_pq4.c - 4-bit PQ distances from a byte table (sid_pq4.h).
 */
#include "search/sid_pq4.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SID_PQ4_HAVE_AVX2 1
#endif

bool
sid_pq4_quantize(const float *table, int m, sid_pq4_table *out)
{
	double		range = 0.0;
	double		offset = 0.0;
	double		mins[SID_PQ4_MAX_M];
	int			j;
	int			k;

	if (m < 1 || m > SID_PQ4_MAX_M)
		return false;
	for (j = 0; j < m; j++)
	{
		double		lo = table[j * 16];
		double		hi = lo;

		for (k = 0; k < 16; k++)
		{
			double		t = table[j * 16 + k];

			if (!isfinite(t))
				return false;
			lo = t < lo ? t : lo;
			hi = t > hi ? t : hi;
		}
		mins[j] = lo;
		offset += lo;
		range = hi - lo > range ? hi - lo : range;
	}
	if (!isfinite(range) || !isfinite(offset))
		return false;

	out->m = m;
	out->chunks = (m + SID_PQ4_CHUNK_SUBQ - 1) / SID_PQ4_CHUNK_SUBQ;
	out->scale = range > 0.0 ? 255.0 / range : 1.0;
	out->offset = offset;
	memset(out->lut, 0, sizeof(uint8_t) * 16 * SID_PQ4_CHUNK_SUBQ * out->chunks);
	for (j = 0; j < m; j++)
		for (k = 0; k < 16; k++)
		{
			double		q = rint(((double) table[j * 16 + k] - mins[j]) * out->scale);

			out->lut[j * 16 + k] = (uint8_t) (q < 0.0 ? 0.0 : q > 255.0 ? 255.0 : q);
		}
	return true;
}

void
sid_pq4_sums_scalar(const sid_pq4_table *table, const uint8_t *codes, int stride,
					  int count, uint16_t *out)
{
	int			i;
	int			j;

	for (i = 0; i < count; i++)
	{
		const uint8_t *c = codes + (size_t) i * stride;
		unsigned	sum = 0;

		for (j = 0; j < table->m; j++)
			sum += table->lut[j * 16 + ((c[j >> 1] >> ((j & 1) * 4)) & 0x0F)];
		out[i] = (uint16_t) sum;
	}
}

#ifdef SID_PQ4_HAVE_AVX2

/*
 * Transposes, in each 128-bit lane, 16 rows of 16 bytes: afterwards r[b]
 * holds byte b of every row.  Four rounds of unpacking, each interleaving
 * pairs at twice the width of the last.
 */
__attribute__((target("avx2")))
static inline void
transpose16(__m256i *r)
{
	__m256i		u[16];
	__m256i		w[16];
	int			p;
	int			s;

	for (p = 0; p < 8; p++)
	{
		u[2 * p] = _mm256_unpacklo_epi8(r[2 * p], r[2 * p + 1]);
		u[2 * p + 1] = _mm256_unpackhi_epi8(r[2 * p], r[2 * p + 1]);
	}
	/* w[4q + s], dword d: byte 4s + d of rows 4q .. 4q + 3 */
	for (p = 0; p < 4; p++)
	{
		w[4 * p] = _mm256_unpacklo_epi16(u[4 * p], u[4 * p + 2]);
		w[4 * p + 1] = _mm256_unpackhi_epi16(u[4 * p], u[4 * p + 2]);
		w[4 * p + 2] = _mm256_unpacklo_epi16(u[4 * p + 1], u[4 * p + 3]);
		w[4 * p + 3] = _mm256_unpackhi_epi16(u[4 * p + 1], u[4 * p + 3]);
	}
	for (s = 0; s < 4; s++)
	{
		/* qword 0 / 1: byte 4s / 4s + 1 (lo) or 4s + 2 / 4s + 3 (hi) of 8 rows */
		__m256i		x_lo = _mm256_unpacklo_epi32(w[s], w[4 + s]);
		__m256i		x_hi = _mm256_unpackhi_epi32(w[s], w[4 + s]);
		__m256i		y_lo = _mm256_unpacklo_epi32(w[8 + s], w[12 + s]);
		__m256i		y_hi = _mm256_unpackhi_epi32(w[8 + s], w[12 + s]);

		r[4 * s] = _mm256_unpacklo_epi64(x_lo, y_lo);
		r[4 * s + 1] = _mm256_unpackhi_epi64(x_lo, y_lo);
		r[4 * s + 2] = _mm256_unpacklo_epi64(x_hi, y_hi);
		r[4 * s + 3] = _mm256_unpackhi_epi64(x_hi, y_hi);
	}
}

/*
 * 32 codes a block: codes i .. i + 15 in the low lanes, i + 16 .. i + 31 in
 * the high ones, one 16-byte chunk (32 sub-quantisers) at a time.  The byte
 * lookups are summed in 16-bit lanes: `even` takes each lane's two bytes as
 * one number, `odd` its high byte alone, and even - odd * 256 is the low
 * bytes' sum (FAISS's trick), exact while a sum stays below 65536.
 */
__attribute__((target("avx2")))
static void
sums_avx2(const sid_pq4_table *table, const uint8_t *codes, int stride, int count,
			uint16_t *out)
{
	static const uint8_t zero_row[16];
	const __m256i nibble = _mm256_set1_epi8(0x0F);
	int			i;

	for (i = 0; i < count; i += SID_PQ4_BLOCK)
	{
		__m256i		even = _mm256_setzero_si256();
		__m256i		odd = _mm256_setzero_si256();
		uint16_t	e[16];
		uint16_t	o[16];
		int			c;
		int			k;

		/*
		 * The codes two blocks on, from memory meanwhile: an index page's
		 * codes are read once, and the hardware prefetcher stops at each 4 kB
		 * (in a scan the kernel ran at a third of its speed on cached codes).
		 * Past the end it fetches what it fetches, harmlessly.
		 */
		for (k = 0; k < SID_PQ4_BLOCK * stride; k += 64)
			__builtin_prefetch(codes + (size_t) (i + 2 * SID_PQ4_BLOCK) * stride + k);
		for (c = 0; c < table->chunks; c++)
		{
			const uint8_t *lut = table->lut + c * SID_PQ4_CHUNK_SUBQ * 16;
			__m256i		r[16];
			int			b;

			for (k = 0; k < 16; k++)
			{
				int			lo = i + k;
				int			hi = i + 16 + k;
				const uint8_t *plo = lo < count ? codes + (size_t) lo * stride + 16 * c : zero_row;
				const uint8_t *phi = hi < count ? codes + (size_t) hi * stride + 16 * c : zero_row;

				r[k] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) plo)),
											   _mm_loadu_si128((const __m128i *) phi), 1);
			}
			transpose16(r);
			for (b = 0; b < 16; b++)
			{
				__m256i		t0 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) (lut + 32 * b)));
				__m256i		t1 = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) (lut + 32 * b + 16)));
				__m256i		d0 = _mm256_shuffle_epi8(t0, _mm256_and_si256(r[b], nibble));
				__m256i		d1 = _mm256_shuffle_epi8(t1, _mm256_and_si256(_mm256_srli_epi16(r[b], 4), nibble));

				even = _mm256_add_epi16(even, _mm256_add_epi16(d0, d1));
				odd = _mm256_add_epi16(odd, _mm256_add_epi16(_mm256_srli_epi16(d0, 8),
															 _mm256_srli_epi16(d1, 8)));
			}
		}
		even = _mm256_sub_epi16(even, _mm256_slli_epi16(odd, 8));
		/* 16-bit lane k of lane half h: codes i + 16h + 2k (even) and + 1 (odd) */
		_mm_storeu_si128((__m128i *) e, _mm256_castsi256_si128(even));
		_mm_storeu_si128((__m128i *) (e + 8), _mm256_extracti128_si256(even, 1));
		_mm_storeu_si128((__m128i *) o, _mm256_castsi256_si128(odd));
		_mm_storeu_si128((__m128i *) (o + 8), _mm256_extracti128_si256(odd, 1));
		for (k = 0; k < 8; k++)
		{
			out[i + 2 * k] = e[k];
			out[i + 2 * k + 1] = o[k];
			out[i + 16 + 2 * k] = e[8 + k];
			out[i + 16 + 2 * k + 1] = o[8 + k];
		}
	}
}

bool
sid_pq4_simd(void)
{
	static int	avx2 = -1;

	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return avx2 == 1;
}

#else

bool
sid_pq4_simd(void)
{
	return false;
}

#endif

void
sid_pq4_sums(const sid_pq4_table *table, const uint8_t *codes, int stride, int count,
			 uint16_t *out)
{
#ifdef SID_PQ4_HAVE_AVX2
	if (sid_pq4_simd())
	{
		sums_avx2(table, codes, stride, count, out);
		return;
	}
#endif
	sid_pq4_sums_scalar(table, codes, stride, count, out);
}

void
sid_pq4_distances(const sid_pq4_table *table, const uint8_t *codes, int stride, int count,
				  float *out)
{
	uint16_t	sums[8 * SID_PQ4_BLOCK];
	float		unit = (float) (1.0 / table->scale);
	float		offset = (float) table->offset;
	int			i;
	int			k;

	/* eight blocks at a time, so the caller's array is the only one of its size */
	for (i = 0; i < count; i += 8 * SID_PQ4_BLOCK)
	{
		int			n = count - i < 8 * SID_PQ4_BLOCK ? count - i : 8 * SID_PQ4_BLOCK;

		sid_pq4_sums(table, codes + (size_t) i * stride, stride, n, sums);
		for (k = 0; k < n; k++)
			out[i + k] = offset + (float) sums[k] * unit;
	}
}
