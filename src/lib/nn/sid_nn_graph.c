/*
 * sid_nn_graph.c - the graph part of a Grapher block: the dynamic
 * k-nearest-neighbour graph over node features (rebuilt in every block, no
 * gradient) and max-relative aggregation with its gradient through the
 * arg-max.  Layouts in sid_nn.h.
 */
#include "nn/sid_nn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/sid_simd.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t
sid_knn_scratch_floats(int B, int N)
{
	(void) B;					/* one batch element at a time */
	return (size_t) N * N + N;
}

/* Whether any of row[0..7] is below worst (a NaN compares false, as in the scalar test). */
static inline int
any_of_8_below(const float *row, float worst)
{
#ifdef __SSE2__
	__m128		w = _mm_set1_ps(worst);

	return _mm_movemask_ps(_mm_or_ps(_mm_cmplt_ps(_mm_loadu_ps(row), w),
									 _mm_cmplt_ps(_mm_loadu_ps(row + 4), w))) != 0;
#else
	int			any = 0;

	for (int t = 0; t < 8; t++)
		any |= row[t] < worst;
	return any;
#endif
}

/*
 * The k smallest of row[0..N-1] into out, ascending, the smaller index first
 * on ties: insertion into a sorted list (strict <).  Once the list is full,
 * a block of 8 candidates is first compared with the current k-th distance
 * in one vector test and skipped whole when none is smaller: the same result
 * as testing each.  (Offering the 16 nodes around i first, to tighten the
 * k-th distance early, was measured slower: 21.6 % of inference against
 * 17.3 %.)
 */
static inline void
select_k(const float *row, int N, int k, int32_t *out)
{
	float		best[SID_KNN_MAX_K];
	int			have = 0,
				j = 0;

	while (j < N)
	{
		int			end = j + 8 <= N ? j + 8 : N;

		if (have == k && end - j == 8 && !any_of_8_below(row + j, best[k - 1]))
		{
			j = end;
			continue;
		}
		for (; j < end; j++)
		{
			float		d = row[j];
			int			p;

			if (have == k)
			{
				if (!(d < best[k - 1]))
					continue;
				p = k - 1;
			}
			else
				p = have++;
			while (p > 0 && d < best[p - 1])
			{
				best[p] = best[p - 1];
				out[p] = out[p - 1];
				p--;
			}
			best[p] = d;
			out[p] = j;
		}
	}
}

SID_VECTOR_CLONES
void
sid_knn_forward(int32_t *idx, float *scratch, const float *x, int B, int N, int C, int k)
{
	float	   *gram = scratch;
	float	   *sq = scratch + (size_t) N * N;

	for (int b = 0; b < B; b++)
	{
		const float *xb = x + (size_t) b * N * C;

		/* |xi - xj|^2 = |xi|^2 + |xj|^2 - 2 xi.xj; the Gram matrix is one sgemm */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, C,
					1.0f, xb, C, xb, C, 0.0f, gram, N);
		for (int i = 0; i < N; i++)
			sq[i] = gram[(size_t) i * N + i];
		for (int i = 0; i < N; i++)
		{
			float	   *row = gram + (size_t) i * N;	/* overwritten with distances */

			/* |xi|^2 is the same for every j: rank by |xj|^2 - 2 xi.xj */
			for (int j = 0; j < N; j++)
				row[j] = sq[j] - 2.0f * row[j];
			row[i] = INFINITY;	/* self excluded; k < N so it never enters the list */
			select_k(row, N, k, idx + ((size_t) b * N + i) * k);
		}
	}
}

void
sid_maxrel_forward(float *y, int32_t *argmax, const float *x, const int32_t *idx,
				   int B, int N, int C, int k)
{
	for (int b = 0; b < B; b++)
	{
		const float *xb = x + (size_t) b * N * C;

		for (int i = 0; i < N; i++)
		{
			const float *xi = xb + (size_t) i * C;
			const int32_t *nb = idx + ((size_t) b * N + i) * k;
			float	   *yi = y + ((size_t) b * N + i) * 2 * C;
			float	   *mx = yi + C;

			memcpy(yi, xi, sizeof(float) * C);
			/* branch-free running max over the neighbours (vectorises) */
			memcpy(mx, xb + (size_t) nb[0] * C, sizeof(float) * C);
			for (int j = 1; j < k; j++)
			{
				const float *xj = xb + (size_t) nb[j] * C;

				for (int c = 0; c < C; c++)
					mx[c] = xj[c] > mx[c] ? xj[c] : mx[c];
			}
			if (argmax)
			{
				/* the first neighbour in idx order that attains the max */
				int32_t    *am = argmax + ((size_t) b * N + i) * C;

				/* backwards, so the last write is the first j (a branch-free blend) */
				for (int j = k - 1; j >= 0; j--)
				{
					const float *xj = xb + (size_t) nb[j] * C;
					int32_t		n = nb[j];

					for (int c = 0; c < C; c++)
						am[c] = xj[c] == mx[c] ? n : am[c];
				}
			}
			for (int c = 0; c < C; c++)
				mx[c] -= xi[c];
		}
	}
}

void
sid_maxrel_backward(float *dx, const float *dy, const int32_t *argmax, int B, int N, int C)
{
	for (int b = 0; b < B; b++)
	{
		float	   *dxb = dx + (size_t) b * N * C;

		for (int i = 0; i < N; i++)
		{
			const float *dyi = dy + ((size_t) b * N + i) * 2 * C;
			const int32_t *am = argmax + ((size_t) b * N + i) * C;
			float	   *dxi = dxb + (size_t) i * C;

			for (int c = 0; c < C; c++)
			{
				dxi[c] += dyi[c] - dyi[C + c];
				dxb[(size_t) am[c] * C + c] += dyi[C + c];
			}
		}
	}
}
