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

size_t
sid_knn_scratch_floats(int B, int N)
{
	(void) B;					/* one batch element at a time */
	return (size_t) N * N + N;
}

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
			int32_t    *out = idx + ((size_t) b * N + i) * k;
			float		best[SID_KNN_MAX_K];
			int			have = 0;

			/* |xi|^2 is the same for every j: rank by |xj|^2 - 2 xi.xj */
			for (int j = 0; j < N; j++)
				row[j] = sq[j] - 2.0f * row[j];
			row[i] = INFINITY;	/* self excluded; k < N so it never enters the list */
			/* insertion into a sorted list; strict < keeps the smaller index first on ties */
			for (int j = 0; j < N; j++)
			{
				float		d = row[j];
				int			p;

				if (have == k)
				{
					if (__builtin_expect(!(d < best[k - 1]), 1))
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
