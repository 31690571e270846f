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

/*
 * The selection runs on SID_KNN_LANES rows at once, one row per vector lane:
 * the rows' distances to one candidate are a column of the distance matrix,
 * so they are first written out as a tile [N][SID_KNN_LANES] after the Gram
 * matrix (scratch: N*N Gram, N squared norms, the tile).
 */
#define SID_KNN_LANES 8

size_t
sid_knn_scratch_floats(int B, int N)
{
	(void) B;					/* one batch element at a time */
	return (size_t) N * N + N + (size_t) N * SID_KNN_LANES;
}

/* GCC vector extensions: 256-bit in the AVX2 clone, two 128-bit halves in the baseline */
typedef float knn_vf __attribute__((vector_size(SID_KNN_LANES * sizeof(float))));
typedef int32_t knn_vi __attribute__((vector_size(SID_KNN_LANES * sizeof(int32_t))));

/*
 * a < b ? a : b and a > b ? a : b per lane (minps, maxps); macros, as a
 * function returning a 256-bit vector would change the ABI of the baseline
 */
#define LANES_PICK(m, a, b) ((knn_vf) (((knn_vi) (a) & (m)) | ((knn_vi) (b) & ~(m))))
#define LANES_MIN(a, b) LANES_PICK((a) < (b), a, b)
#define LANES_MAX(a, b) LANES_PICK((a) > (b), a, b)

/*
 * The k smallest distances of each lane of tile[0..N-1], ascending, into
 * best: each candidate is inserted into the sorted lists without a branch,
 * best[p] = min(best[p], max(best[p - 1], v)) (the old best[p - 1]), which
 * is best[p - 1] where v belongs above place p, v where it belongs at p, and
 * best[p] unchanged below.  The k updates are independent of one another,
 * so they form no dependency chain, and with values alone the lists of the
 * default model (k = 9, a constant here) stay in registers.  The lists start
 * at +inf: self (+inf in the tile) never enters, and with k < N finite
 * distances per row the lists end finite.
 */
static inline __attribute__((always_inline)) void
smallest_k_lanes(const float *tile, int N, int k, knn_vf *best)
{
	for (int p = 0; p < k; p++)
		best[p] = (knn_vf) {0} + INFINITY;
	for (int j = 0; j < N; j++)
	{
		knn_vf		v,
					above;		/* best[p - 1] before this candidate */

		memcpy(&v, tile + (size_t) j * SID_KNN_LANES, sizeof(v));
		above = best[0];
		best[0] = LANES_MIN(best[0], v);
		for (int p = 1; p < k; p++)
		{
			knn_vf		bp = best[p];

			best[p] = LANES_MIN(bp, LANES_MAX(above, v));
			above = bp;
		}
	}
}

/*
 * Lane r's neighbour list from its k smallest distances kth[0..k-1]: each
 * candidate at most the k-th distance goes to the place after the distances
 * below it, or, when an earlier index of the same distance holds that place,
 * to the next free one; so the list is ordered by distance and then index,
 * as insertion with a strict < into a sorted list orders it (the scalar
 * selection this replaces, which test_nn_ops compares against).  The
 * candidates are first gathered without a branch (a store, and a count
 * that advances when the distance qualifies): a branch per node would be
 * mispredicted at every neighbour.
 */
static inline __attribute__((always_inline)) void
place_lane(const float *tile, int r, int N, int k, const float *kth, int32_t *out)
{
	uint64_t	taken = 0;
	float		worst = kth[k - 1];

	for (int p = 0; p < k; p++)
		out[p] = 0;				/* a valid index, were a place never filled (NaN input) */
	for (int j0 = 0; j0 < N; j0 += 64)
	{
		int32_t		cand[64];
		int			n = 0,
					end = N - j0 < 64 ? N : j0 + 64;

		for (int j = j0; j < end; j++)
		{
			cand[n] = j;
			n += tile[(size_t) j * SID_KNN_LANES + r] <= worst;
		}
		for (int c = 0; c < n; c++)
		{
			float		d = tile[(size_t) cand[c] * SID_KNN_LANES + r];
			int			pos = 0;

			for (int p = 0; p < k; p++)
				pos += kth[p] < d;
			while (pos < k && (taken >> pos & 1))
				pos++;
			if (pos < k)
			{
				taken |= (uint64_t) 1 << pos;
				out[pos] = cand[c];
			}
		}
	}
}

SID_VECTOR_CLONES
void
sid_knn_forward(int32_t *idx, float *scratch, const float *x, int B, int N, int C, int k)
{
	float	   *gram = scratch;
	float	   *sq = scratch + (size_t) N * N;
	float	   *tile = sq + N;

	for (int b = 0; b < B; b++)
	{
		const float *xb = x + (size_t) b * N * C;

		/* |xi - xj|^2 = |xi|^2 + |xj|^2 - 2 xi.xj; the Gram matrix is one sgemm */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, C,
					1.0f, xb, C, xb, C, 0.0f, gram, N);
		for (int i = 0; i < N; i++)
			sq[i] = gram[(size_t) i * N + i];
		for (int i0 = 0; i0 < N; i0 += SID_KNN_LANES)
		{
			int			rows = N - i0 < SID_KNN_LANES ? N - i0 : SID_KNN_LANES;
			knn_vf		best[SID_KNN_MAX_K];

			/*
			 * |xi|^2 is the same for every j of row i: rank by |xj|^2 - 2
			 * xi.xj, read from row i of the Gram matrix (its symmetry is not
			 * relied on: sgemm need not give xi.xj and xj.xi the same bits)
			 */
			for (int r = 0; r < rows; r++)
			{
				const float *g = gram + (size_t) (i0 + r) * N;

				for (int j = 0; j < N; j++)
					tile[(size_t) j * SID_KNN_LANES + r] = sq[j] - 2.0f * g[j];
				tile[(size_t) (i0 + r) * SID_KNN_LANES + r] = INFINITY;	/* self excluded */
			}
			for (int r = rows; r < SID_KNN_LANES; r++)	/* unused lanes */
				for (int j = 0; j < N; j++)
					tile[(size_t) j * SID_KNN_LANES + r] = INFINITY;
			if (k == 9)			/* the default model's */
				smallest_k_lanes(tile, N, 9, best);
			else
				smallest_k_lanes(tile, N, k, best);
			for (int r = 0; r < rows; r++)
			{
				float		kth[SID_KNN_MAX_K];

				for (int p = 0; p < k; p++)
					kth[p] = best[p][r];
				if (k == 9)
					place_lane(tile, r, N, 9, kth, idx + ((size_t) b * N + i0 + r) * k);
				else
					place_lane(tile, r, N, k, kth, idx + ((size_t) b * N + i0 + r) * k);
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
