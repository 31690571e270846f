/*
 * ivfpq_faiss.cpp - thin C bridge to FAISS for the ivfpq index build: the
 * nearest-centroid search that k-means (ivfpqtrain.c), list assignment and
 * encoding are made of.
 *
 * See ivfpq_faiss.h for the contract.  Each entry point sets the OpenMP
 * thread count it was given (the backend decides, through
 * ivfpq.build_threads), blocks all signals for the duration of the FAISS call
 * and converts any C++ exception into an error string: an exception must
 * never unwind into PostgreSQL's C frames.
 */
#include "ivfpq/ivfpq_faiss.h"

#include <faiss/utils/distances.h>

#include <omp.h>
#include <pthread.h>
#include <signal.h>

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

}								/* namespace */

extern "C" int
ivfpq_faiss_nearest(int dim, int64_t n, const float *x, int k,
					const float *centroids, int nthreads, int64_t *labels,
					char *errbuf, size_t errlen)
{
	return guarded(nthreads, errbuf, errlen, [&]()
	{
		std::vector<float> products(n);

		faiss::knn_inner_product(x, centroids, dim, n, k, 1, products.data(), labels);
	});
}
