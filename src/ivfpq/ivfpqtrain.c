/*
 * ivfpqtrain.c - k-means for an ivfpq build: the coarse centroids, and each
 * sub-quantiser's codebook of the product quantiser; and the ranges of the
 * optional 8-bit refine code.
 *
 * A FAISS training call runs with every signal blocked (ivfpq_faiss.h), and
 * one k-means of 2000 lists took 18 s that nothing could cancel (issue 13).
 * So the iterations live here: FAISS only assigns a slice of the sample to
 * its nearest centroids at a time, a slice sized to about IVFPQ_SLICE_FLOPS
 * multiply-adds, and the build checks for interrupts between slices.  The
 * algorithm is FAISS's own (Clustering::train): k distinct sample points to
 * start, then assign and average; an empty cluster takes half of the
 * largest one, the two centroids nudged apart by one part in 1024.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "ivfpq/ivfpq.h"
#include "ivfpq/ivfpq_faiss.h"

/* about 0.05-0.2 s of BLAS on one core of the machine this was written on */
#define IVFPQ_SLICE_FLOPS	((int64) 1 << 28)
#define IVFPQ_SPLIT_EPS		(1.0f / 1024.0f)

/* A FAISS bridge call's failure as an ERROR: out of memory, or internal. */
static void
ivfpq_faiss_check(int rc, const char *what, const char *errbuf)
{
	if (rc != 0)
		ereport(ERROR,
				(errcode(strstr(errbuf, "out of memory") ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INTERNAL_ERROR),
				 errmsg("ivfpq: FAISS failed while %s: %s", what, errbuf)));
}

/*
 * Labels of the n vectors' nearest of k centroids (largest inner product, or
 * smallest Euclidean distance), by FAISS a slice at a time, with interrupt
 * checks between slices.  Every FAISS search of the build goes through here.
 */
void
ivfpq_assign(int dim, int64 n, const float *x, int k, const float *centroids,
			 bool innerProduct, int64 *labels)
{
	int64		slice = Max(1, IVFPQ_SLICE_FLOPS / ((int64) k * dim));
	int64		start;

	for (start = 0; start < n; start += slice)
	{
		char		errbuf[512] = "";
		int64		count = Min(slice, n - start);

		CHECK_FOR_INTERRUPTS();
		ivfpq_faiss_check(ivfpq_faiss_nearest(dim, count, x + start * dim, k, centroids,
											  innerProduct, ivfpq_build_threads,
											  labels + start, errbuf, sizeof(errbuf)),
						  "assigning vectors to centroids", errbuf);
	}

	/*
	 * FAISS labels a vector -1 when every distance to it is infinite or NaN
	 * (components near float's range: the squares overflow); k-means then
	 * wrote before its sums, a crash.  Such a vector goes to centroid 0.
	 */
	for (start = 0; start < n; start++)
		if (labels[start] < 0 || labels[start] >= k)
			labels[start] = 0;
}

/* Each centroid the mean of its points; empty ones split the largest cluster. */
static void
update_centroids(int dim, int64 n, const float *x, int k, const int64 *labels,
				 float *centroids, int64 *sizes)
{
	int64		i;
	int			c;
	int			d;

	memset(centroids, 0, sizeof(float) * k * dim);
	memset(sizes, 0, sizeof(int64) * k);
	for (i = 0; i < n; i++)
	{
		float	   *sum = centroids + labels[i] * dim;
		const float *v = x + i * dim;

		if ((i & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		for (d = 0; d < dim; d++)
			sum[d] += v[d];
		sizes[labels[i]]++;
	}
	for (c = 0; c < k; c++)
		if (sizes[c] > 0)
			for (d = 0; d < dim; d++)
				centroids[(int64) c * dim + d] /= sizes[c];

	for (c = 0; c < k; c++)
	{
		int			largest = 0;
		int			j;
		float	   *empty = centroids + (int64) c * dim;
		float	   *split;

		if (sizes[c] > 0)
			continue;
		for (j = 1; j < k; j++)
			if (sizes[j] > sizes[largest])
				largest = j;
		split = centroids + (int64) largest * dim;
		for (d = 0; d < dim; d++)
		{
			float		nudge = (d % 2 == 0) ? IVFPQ_SPLIT_EPS : -IVFPQ_SPLIT_EPS;

			empty[d] = split[d] * (1.0f + nudge);
			split[d] = split[d] * (1.0f - nudge);
		}
		sizes[c] = sizes[largest] / 2;
		sizes[largest] -= sizes[c];
	}
}

/*
 * k-means (Euclidean) of the n vectors x (n >= k) into centroids, niter
 * iterations from k distinct sample points chosen with the seed.
 */
void
ivfpq_kmeans(int dim, int64 n, const float *x, int k, int niter, uint64 seed,
			 float *centroids)
{
	int64	   *labels = palloc_extended(sizeof(int64) * n, MCXT_ALLOC_HUGE);
	int64	   *sizes = palloc(sizeof(int64) * k);
	int64	   *perm = palloc_extended(sizeof(int64) * n, MCXT_ALLOC_HUGE);
	pg_prng_state prng;
	int64		i;
	int			iter;

	/* the first k of a seeded permutation (a partial Fisher-Yates shuffle) */
	pg_prng_seed(&prng, seed);
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = 0; i < k; i++)
	{
		int64		j = (int64) pg_prng_uint64_range(&prng, i, n - 1);
		int64		t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
		memcpy(centroids + i * dim, x + perm[i] * dim, sizeof(float) * dim);
	}
	pfree(perm);

	for (iter = 0; iter < niter; iter++)
	{
		ivfpq_assign(dim, n, x, k, centroids, false, labels);
		CHECK_FOR_INTERRUPTS();
		update_centroids(dim, n, x, k, labels, centroids, sizes);
	}
	pfree(labels);
	pfree(sizes);
}

/*
 * The product quantiser's codebooks, sub-quantiser major (m * 2^nbits *
 * dim/m floats): a k-means of 2^nbits centroids on each sub-vector.
 */
void
ivfpq_train_pq(int dim, int m, int nbits, int64 n, const float *x, int niter, uint64 seed,
			   float *codebook)
{
	int			dsub = dim / m;
	int			ksub = 1 << nbits;
	float	   *sub = palloc_extended(sizeof(float) * n * dsub, MCXT_ALLOC_HUGE);
	int			j;

	for (j = 0; j < m; j++)
	{
		int64		i;

		for (i = 0; i < n; i++)
			memcpy(sub + i * dsub, x + i * dim + j * dsub, sizeof(float) * dsub);
		ivfpq_kmeans(dsub, n, sub, ksub, niter, seed + j, codebook + (Size) j * ksub * dsub);
	}
	pfree(sub);
}

/*
 * The refine code's ranges: each dimension's smallest and largest value in
 * the sample, cut into 255 steps (FAISS's 8-bit scalar quantiser, min-max
 * ranges).  A dimension the sample holds constant gets the smallest step,
 * so its code error stays what its values' spread is.
 */
void
ivfpq_train_sq8(int dim, int64 n, const float *x, float *min, float *step)
{
	int			d;
	int64		i;

	for (d = 0; d < dim; d++)
	{
		float		lo = x[d];
		float		hi = x[d];

		for (i = 1; i < n; i++)
		{
			float		v = x[i * dim + d];

			lo = Min(lo, v);
			hi = Max(hi, v);
		}
		min[d] = lo;
		step[d] = Max((hi - lo) / 255.0f, FLT_MIN);
		if (!isfinite(step[d]))
			step[d] = FLT_MAX;
		CHECK_FOR_INTERRUPTS();
	}
}
