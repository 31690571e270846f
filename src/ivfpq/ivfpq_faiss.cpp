/*
 * ivfpq_faiss.cpp - the C++ bridge of the ivfpq index build: the
 * nearest-centroid search that k-means (ivfpqtrain.c), list assignment and
 * encoding are made of.  It was FAISS's knn_inner_product; it now makes the
 * same BLAS products and selects the largest itself (ivfpq_faiss_nearest),
 * and test/unit/test_faiss_nearest.cpp holds it to FAISS's labels.
 *
 * See ivfpq_faiss.h for the contract.  Each entry point sets the OpenMP and
 * BLAS thread counts it was given (the backend decides, through
 * ivfpq.build_threads), blocks all signals for the duration of the call and
 * converts any C++ exception into an error string: an exception must never
 * unwind into PostgreSQL's C frames.
 */
#include "ivfpq/ivfpq_faiss.h"

#include <cblas.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <omp.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cfloat>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <vector>

/*
 * FAISS calls BLAS.  The extension links the single-threaded OpenBLAS where
 * it is installed (Makefile), and setting its thread count does nothing; with
 * the threaded OpenBLAS, whose spinning pool doubled the product quantiser's
 * training time on a loaded 2-core machine, the bridge gives BLAS the same
 * thread budget as OpenMP for the duration of a call.  Weak, so a different
 * BLAS simply leaves them null.
 */
extern "C"
{
	void		openblas_set_num_threads(int) __attribute__((weak));
	int			openblas_get_num_threads(void) __attribute__((weak));
}

namespace
{

/* Sets OpenBLAS's thread count while alive, then restores it. */
class BlasThreads
{
public:
	explicit BlasThreads(int n)
	{
		if (openblas_set_num_threads && openblas_get_num_threads)
		{
			saved_ = openblas_get_num_threads();
			openblas_set_num_threads(n);
		}
	}
	~BlasThreads()
	{
		if (saved_ > 0)
			openblas_set_num_threads(saved_);
	}
	BlasThreads(const BlasThreads &) = delete;
	BlasThreads &operator=(const BlasThreads &) = delete;

private:
	int			saved_ = 0;
};

/* Blocks every signal in this thread while alive (see header). */
class SignalBlock
{
public:
	SignalBlock()
	{
		sigset_t	all;

		sigfillset(&all);
		blocked_ = pthread_sigmask(SIG_BLOCK, &all, &saved_) == 0;
	}
	~SignalBlock()
	{
		if (blocked_)
			pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
	}
	SignalBlock(const SignalBlock &) = delete;
	SignalBlock &operator=(const SignalBlock &) = delete;

private:
	sigset_t	saved_;
	bool		blocked_;
};

void
set_error(char *errbuf, size_t errlen, const char *what)
{
	if (errbuf && errlen > 0)
		snprintf(errbuf, errlen, "%s", what ? what : "unknown FAISS error");
}

/* Runs fn under the bridge's rules; returns 0 or -1 with errbuf filled. */
template <typename Fn>
int
guarded(int nthreads, char *errbuf, size_t errlen, Fn fn)
{
	try
	{
		SignalBlock block;
		BlasThreads blas(nthreads > 0 ? nthreads : 1);

		omp_set_num_threads(nthreads > 0 ? nthreads : 1);
		fn();
		return 0;
	}
	catch (const std::bad_alloc &)
	{
		set_error(errbuf, errlen, "out of memory inside FAISS");
	}
	catch (const std::exception &e)
	{
		set_error(errbuf, errlen, e.what());
	}
	catch (...)
	{
		set_error(errbuf, errlen, "unknown C++ exception inside FAISS");
	}
	return -1;
}

/*
 * The first index of the largest of n products, or -1 where none exceeds
 * -FLT_MAX (all NaN or -inf): what FAISS's k = 1 heap keeps, whose strict
 * comparison keeps the first of equal ones.  The maximum is taken in eight
 * lanes by maxps, whose max(x, m) is x > m ? x : m, so a NaN is never taken
 * (written with intrinsics: gcc scalarised the same loop in vector types),
 * and a second pass over the same cached row finds its first index.
 */
int64_t
first_largest(const float *ip, int n, float *largest)
{
	const float floor = -FLT_MAX;
	float		best = floor;
	int			j = 0;

#ifdef __SSE2__
	{
		__m128		m0 = _mm_set1_ps(floor);
		__m128		m1 = m0;
		float		lanes[8];

		for (; j + 8 <= n; j += 8)
		{
			m0 = _mm_max_ps(_mm_loadu_ps(ip + j), m0);
			m1 = _mm_max_ps(_mm_loadu_ps(ip + j + 4), m1);
		}
		_mm_storeu_ps(lanes, m0);
		_mm_storeu_ps(lanes + 4, m1);
		for (int l = 0; l < 8; l++)
			best = lanes[l] > best ? lanes[l] : best;
	}
#endif
	for (; j < n; j++)
		best = ip[j] > best ? ip[j] : best;
	*largest = best;
	if (!(best > floor))
		return -1;
	for (j = 0; j < n; j++)
		if (ip[j] == best)
			return j;
	return -1;
}

}								/* namespace */

/*
 * FAISS's knn_inner_product: the same sgemm call over blocks of 1024
 * centroids, whose products the unit test finds giving FAISS's labels, but
 * the k = 1 selection by first_largest instead of a heap update per product
 * (the heap took 14.5 % of a 1 M-row build's time under perf, its sgemm
 * 49 %; first_largest 7.4 %).  Blocks of 256 vectors rather than FAISS's
 * 4096 keep a block's products (1 MB) in cache for the selection, and
 * spared OpenBLAS's 3 % of zeroing them in memory.  The selection runs in
 * this thread; BLAS gets the call's threads.
 */
extern "C" int
ivfpq_faiss_nearest(int dim, int64_t n, const float *x, int k,
					const float *centroids, int nthreads, int64_t *labels,
					char *errbuf, size_t errlen)
{
	return guarded(nthreads, errbuf, errlen, [&]()
	{
		const int64_t rows_per_block = std::min<int64_t>(256, n);
		const int	centroids_per_block = std::min(1024, k);
		std::unique_ptr<float[]> products(new float[(size_t) rows_per_block * centroids_per_block]);
		std::unique_ptr<float[]> best(new float[(size_t) rows_per_block]);

		for (int64_t i0 = 0; i0 < n; i0 += rows_per_block)
		{
			int64_t		rows = std::min(rows_per_block, n - i0);

			for (int64_t i = 0; i < rows; i++)
			{
				labels[i0 + i] = -1;
				best[i] = -FLT_MAX;
			}
			for (int j0 = 0; j0 < k; j0 += centroids_per_block)
			{
				int			cols = std::min(centroids_per_block, k - j0);

				/* column-major cols x rows: row i's products lie side by side */
				cblas_sgemm(CblasColMajor, CblasTrans, CblasNoTrans, cols, (int) rows, dim,
							1.0f, centroids + (size_t) j0 * dim, dim, x + (size_t) i0 * dim, dim,
							0.0f, products.get(), cols);
				for (int64_t i = 0; i < rows; i++)
				{
					float		largest;
					int64_t		j = first_largest(products.get() + (size_t) i * cols, cols,
												  &largest);

					if (j >= 0 && largest > best[i])
					{
						best[i] = largest;
						labels[i0 + i] = j0 + j;
					}
				}
			}
		}
	});
}
