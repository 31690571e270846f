/*
 * sid_pqencode.h - product-quantiser encoding: the nearest codeword of each
 * sub-vector, for many vectors against one codebook.
 *
 * A codebook of m sub-quantisers, each ksub codewords of dsub floats, is
 * first prepared once: each sub-quantiser's codewords transposed to dsub
 * rows of ksub, with their squared norms, so that the distances of one
 * sub-vector to all codewords, |c|^2 - 2 r.c (|r|^2 is the same for all),
 * are one loop over codewords that the compiler keeps in vector lanes.
 * FAISS encodes sub-vectors of fewer than 16 dimensions with a direct loop
 * too (ProductQuantizer::compute_codes) rather than the BLAS search its C
 * entry points offer.  A tie goes to the lower codeword.
 */
#ifndef SID_PQENCODE_H
#define SID_PQENCODE_H

#include <stddef.h>
#include <stdint.h>

/* most codewords a sub-quantiser may have */
#define SID_PQ_MAX_KSUB 256

/* Floats a prepared codebook takes: m * ksub * (dsub + 1). */
size_t		sid_pq_prepared_floats(int m, int ksub, int dsub);

/* Prepares codebook (m x ksub x dsub, sub-quantiser major) into `prepared`. */
void		sid_pq_prepare(const float *codebook, int m, int ksub, int dsub, float *prepared);

/*
 * The m codeword indices of each of n vectors of m * dsub floats, `stride`
 * floats apart, into indices[i * m + j].  ksub is at most SID_PQ_MAX_KSUB.
 * With m = 1 and a k-means's centroids for the codebook, it is that
 * k-means's assignment step.
 */
void		sid_pq_encode(const float *prepared, int m, int ksub, int dsub,
						  const float *x, size_t stride, size_t n, int64_t *indices);

#endif
