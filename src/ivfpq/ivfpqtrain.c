/*
 * ivfpqtrain.c - k-means for an ivfpq build: the coarse centroids, and each
 * sub-quantiser's codebook of the product quantiser; and the ranges of the
 * optional 8-bit refine code.
 *
 * A FAISS training call runs with every signal blocked (ivfpq_faiss.h), and
 * one k-means of 2000 lists took 18 s that nothing could cancel (issue 13).
 * So the iterations live here: FAISS (or a direct loop, see ivfpq_assign)
 * only assigns a slice of the sample to its nearest centroids at a time, a
 * slice sized to about IVFPQ_SLICE_FLOPS multiply-adds, and the build checks
 * for interrupts between slices.  The algorithm is FAISS's own
 * (Clustering::train): k distinct sample points to start, then assign and
 * average; an empty cluster takes half of the largest one, the two
 * centroids nudged apart by one part in 1024.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "common/pg_prng.h"
#include "miscadmin.h"

#include "ivfpq/ivfpq.h"
#include "ivfpq/ivfpq_faiss.h"
#include "search/sid_pqencode.h"

/* about 0.05-0.2 s of BLAS on one core of the machine this was written on */
#define IVFPQ_SLICE_FLOPS	((int64) 1 << 28)
#define IVFPQ_SPLIT_EPS		(1.0f / 1024.0f)
#define IVFPQ_MAX_POINTS_PER_CENTROID	256
#define IVFPQ_DIRECT_MAX_DIM	16

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

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
 * smallest Euclidean distance), a slice at a time, with interrupt checks
 * between slices.  Every nearest-centroid search of the build goes through
 * here, in one of three ways:
 *
 * - inner products: FAISS's search;
 * - Euclidean in fewer than IVFPQ_DIRECT_MAX_DIM dimensions (a product
 *   quantiser's sub-vectors): sid_pq_encode's direct loop, as FAISS's own PQ
 *   encoding does (FAISS's BLAS search writes out a distance matrix,
 *   memory-bound at so few dimensions; sub-vectors were a third of a 4-bit
 *   build's loading through it);
 * - Euclidean otherwise: the largest inner product of [x, 1] with
 *   [c, -|c|^2 / 2], which is the nearest c, by FAISS's inner-product search
 *   over slices of at most IVFPQ_AUGMENTED_ROWS rows copied with the extra
 *   component.  FAISS's Euclidean search took 0.32-0.36 s an iteration of a
 *   1000-centroid k-means of 64 000 points, this 0.22-0.23 s, with the same
 *   labels (FAISS computes norms and a distance per element).
 */
void
ivfpq_assign(int dim, int64 n, const float *x, int k, const float *centroids,
			 bool innerProduct, int64 *labels)
{
	bool		direct = !innerProduct && dim < IVFPQ_DIRECT_MAX_DIM && k <= SID_PQ_MAX_KSUB;
	bool		augmented = !innerProduct && !direct;
	int			searchDim = augmented ? dim + 1 : dim;
	int64		slice = Max(1, IVFPQ_SLICE_FLOPS / ((int64) k * dim));
	float	   *prepared = NULL;
	float	   *slab = NULL;
	int64		start;

	if (direct)
	{
		prepared = palloc(sizeof(float) * sid_pq_prepared_floats(1, k, dim));
		sid_pq_prepare(centroids, 1, k, dim, prepared);
	}
	if (augmented)
	{
		int			c;

		slice = Min(slice, IVFPQ_AUGMENTED_ROWS);
		prepared = palloc_extended(sizeof(float) * k * searchDim, MCXT_ALLOC_HUGE);
		slab = palloc(sizeof(float) * slice * searchDim);
		for (c = 0; c < k; c++)
		{
			const float *v = centroids + (Size) c * dim;
			float	   *out = prepared + (Size) c * searchDim;
			double		norm = 0.0;
			int			d;

			for (d = 0; d < dim; d++)
			{
				out[d] = v[d];
				norm += (double) v[d] * v[d];
			}
			out[dim] = (float) (-0.5 * norm);
		}
	}
	for (start = 0; start < n; start += slice)
	{
		char		errbuf[512] = "";
		int64		count = Min(slice, n - start);
		const float *rows = x + start * dim;

		CHECK_FOR_INTERRUPTS();
		if (direct)
		{
			sid_pq_encode(prepared, 1, k, dim, rows, dim, count, labels + start);
			continue;
		}
		if (augmented)
		{
			int64		i;

			for (i = 0; i < count; i++)
			{
				memcpy(slab + i * searchDim, rows + i * dim, sizeof(float) * dim);
				slab[i * searchDim + dim] = 1.0f;
			}
			rows = slab;
		}
		ivfpq_faiss_check(ivfpq_faiss_nearest(searchDim, count, rows, k,
											  augmented ? prepared : centroids,
											  ivfpq_build_threads,
											  labels + start, errbuf, sizeof(errbuf)),
						  "assigning vectors to centroids", errbuf);
	}
	if (prepared)
		pfree(prepared);
	if (slab)
		pfree(slab);

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
 * k of the rows 0 .. n - 1 (k <= n) chosen at random with the seed: the
 * first k of an array of all n after a partial Fisher-Yates shuffle.
 */
static int64 *
seeded_choice(int64 n, int64 k, uint64 seed)
{
	int64	   *rows = palloc_extended(sizeof(int64) * n, MCXT_ALLOC_HUGE);
	pg_prng_state prng;
	int64		i;

	pg_prng_seed(&prng, seed);
	for (i = 0; i < n; i++)
		rows[i] = i;
	for (i = 0; i < k; i++)
	{
		int64		j = (int64) pg_prng_uint64_range(&prng, i, n - 1);
		int64		t = rows[i];

		rows[i] = rows[j];
		rows[j] = t;
	}
	return rows;
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
	int64	   *perm = seeded_choice(n, k, seed);
	int64		i;
	int			iter;

	for (i = 0; i < k; i++)
		memcpy(centroids + i * dim, x + perm[i] * dim, sizeof(float) * dim);
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
 * dim/m floats): a k-means of 2^nbits centroids on each sub-vector.  Like
 * FAISS's (Clustering's max_points_per_centroid), each k-means learns from
 * at most IVFPQ_MAX_POINTS_PER_CENTROID points a centroid, a seeded random
 * subset of the sample, the same one for every sub-quantiser: codebooks of
 * 16 codewords learn from 4096 of a million-row build's 64 000 residuals,
 * which had made their training a sixth of the build.  The coarse k-means
 * is never cut so: its sample is IVFPQ_SAMPLES_PER_LIST a list.
 */
void
ivfpq_train_pq(int dim, int m, int nbits, int64 n, const float *x, int niter, uint64 seed,
			   float *codebook)
{
	int			dsub = dim / m;
	int			ksub = 1 << nbits;
	int64		used = Min(n, (int64) ksub * IVFPQ_MAX_POINTS_PER_CENTROID);
	int64	   *rows = seeded_choice(n, used, seed);
	float	   *sub = palloc_extended(sizeof(float) * used * dsub, MCXT_ALLOC_HUGE);
	int64		i;
	int			j;

	/* in sample order */
	qsort(rows, used, sizeof(int64), compare_int64);
	for (j = 0; j < m; j++)
	{
		for (i = 0; i < used; i++)
			memcpy(sub + i * dsub, x + rows[i] * dim + j * dsub, sizeof(float) * dsub);
		ivfpq_kmeans(dsub, used, sub, ksub, niter, seed + j, codebook + (Size) j * ksub * dsub);
	}
	pfree(rows);
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
