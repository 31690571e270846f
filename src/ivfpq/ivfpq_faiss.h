/*
 * ivfpq_faiss.h - the C++ bridge the ivfpq build calls.
 *
 * Debian's libfaiss-dev ships only the C++ library (libfaiss.a, no compiled
 * C API), so src/ivfpq/ivfpq_faiss.cpp wrapped what the build needed behind
 * plain C; it now computes FAISS's answer with BLAS itself (see there).
 * The build calls it on bounded slices (ivfpqtrain.c), since a call cannot be
 * interrupted.
 * Nothing here includes PostgreSQL headers: every function catches all C++
 * exceptions and reports them as a message in errbuf with a nonzero return,
 * and the caller turns that into an ereport.  While a call runs, every
 * signal is blocked in the calling thread, so the OpenMP or BLAS threads it
 * spawns inherit a full signal mask and PostgreSQL's handlers only ever run
 * in the backend's own thread.
 */
#ifndef IVFPQ_FAISS_H
#define IVFPQ_FAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

/*
 * Index of the centroid of largest inner product, of k, for each of n
 * vectors (-1 where none compares: every product NaN or -inf).  The build
 * finds Euclidean nearest centroids through it too (ivfpqtrain.c).
 */
extern int	ivfpq_faiss_nearest(int dim, int64_t n, const float *x, int k,
								const float *centroids, int nthreads, int64_t *labels,
								char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
