/*
 * sid_pqencode.c - nearest-codeword encoding of a product quantiser
 * (sid_pqencode.h).
 */
#include "search/sid_pqencode.h"

#include <stdbool.h>

size_t
sid_pq_prepared_floats(int m, int ksub, int dsub)
{
	return (size_t) m * ksub * (dsub + 1);
}

/* sub-quantiser j's part: the norms, then the dsub rows of ksub */
void
sid_pq_prepare(const float *codebook, int m, int ksub, int dsub, float *prepared)
{
	int			j;

	for (j = 0; j < m; j++)
	{
		const float *cb = codebook + (size_t) j * ksub * dsub;
		float	   *norms = prepared + (size_t) j * ksub * (dsub + 1);
		float	   *rows = norms + ksub;
		int			c;
		int			t;

		for (c = 0; c < ksub; c++)
		{
			float		s = 0.0f;

			for (t = 0; t < dsub; t++)
			{
				s += cb[c * dsub + t] * cb[c * dsub + t];
				rows[t * ksub + c] = cb[c * dsub + t];
			}
			norms[c] = s;
		}
	}
}

/*
 * The first nearest codeword of one sub-vector r: the distances in one loop
 * over codewords that the compiler keeps in vector lanes, then their first
 * minimum without branches: a branch on each compare is mispredicted about
 * as often as it is taken.
 */
static inline int
nearest_codeword(const float *norms, const float *rows, const float *r, int ksub, int dsub)
{
	float		dist[SID_PQ_MAX_KSUB];
	float		best;
	int			bestIndex = 0;
	int			c;
	int			t;

	for (c = 0; c < ksub; c++)
		dist[c] = norms[c];
	for (t = 0; t < dsub; t++)
	{
		float		w = -2.0f * r[t];
		const float *row = rows + (size_t) t * ksub;

		for (c = 0; c < ksub; c++)
			dist[c] += w * row[c];
	}
	best = dist[0];
	for (c = 1; c < ksub; c++)
	{
		bool		closer = dist[c] < best;

		bestIndex = closer ? c : bestIndex;
		best = closer ? dist[c] : best;
	}
	return bestIndex;
}

void
sid_pq_encode(const float *prepared, int m, int ksub, int dsub,
			  const float *x, size_t stride, size_t n, int64_t *indices)
{
	size_t		i;
	int			j;

	for (i = 0; i < n; i++)
	{
		const float *v = x + i * stride;

		for (j = 0; j < m; j++)
		{
			const float *norms = prepared + (size_t) j * ksub * (dsub + 1);

			indices[i * m + j] = nearest_codeword(norms, norms + ksub, v + (size_t) j * dsub,
												  ksub, dsub);
		}
	}
}
