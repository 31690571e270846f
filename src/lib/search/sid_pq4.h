/*
 * sid_pq4.h - 4-bit product-quantisation distances from a byte table, 32
 * codes at a time.
 *
 * A code of m sub-quantisers of 4 bits (nibble j of byte j / 2, the low one
 * for even j) has the asymmetric distance sum_j T[j][code_j] to a query,
 * where T is the query's m x 16 table of float distances.  Quantised to one
 * byte an entry, a sub-quantiser's 16 table entries fit one SIMD register,
 * and a byte shuffle looks up 32 codes' entries at once (the "fast scan" of
 * André, Kermarrec and Le Scouarnec, VLDB 2015, as in FAISS's
 * IndexPQFastScan).  FAISS stores its fast-scan codes transposed in blocks
 * of 32; here they stay in the caller's layout, one code after another
 * `stride` bytes apart, and 32 codes are transposed in registers, so an
 * index page needs no second copy of its codes.
 *
 * The table is quantised to the nearest byte with one scale for all sub-
 * quantisers, so offset + sum / scale is within m / 2 steps (1 / scale) of
 * the float sum; each sub-quantiser's least entry is 0, so the error is
 * spread over the entries that differ.  FAISS's fast scan ranks by the same
 * kind of sums.  The kernel uses AVX2 where the CPU has it and plain C
 * elsewhere; both give the same sums, so an index scan keeps the same
 * candidates on every machine.
 */
#ifndef SID_PQ4_H
#define SID_PQ4_H

#include <stdbool.h>
#include <stdint.h>

/* sub-quantisers of one 16-byte chunk of a code */
#define SID_PQ4_CHUNK_SUBQ	32
/* codes summed together: sid_pq4_sums's output has room for a multiple of it */
#define SID_PQ4_BLOCK		32
/* most sub-quantisers: 256 x 255 still fits the 16-bit sums */
#define SID_PQ4_MAX_M		256

typedef struct sid_pq4_table
{
	int			m;
	int			chunks;			/* 16-byte chunks of a code: ceil(m / 32) */
	double		scale;			/* quantised units per distance unit */
	double		offset;			/* the sum of each sub-quantiser's least entry */
	/* 16 bytes a sub-quantiser, chunks * 32 of them, zero past m */
	uint8_t		lut[SID_PQ4_MAX_M * 16];
} sid_pq4_table;

/*
 * Quantises a query's m x 16 float table (row j: sub-quantiser j).  False,
 * and the table unusable, when an entry is not finite or m is out of range:
 * the caller then scores entries with the float table.
 */
bool		sid_pq4_quantize(const float *table, int m, sid_pq4_table *out);

/*
 * The quantised sums of `count` codes, `stride` bytes apart: offset + out[i]
 * / scale is code i's distance.  `out` holds count rounded up to
 * SID_PQ4_BLOCK.  Reads up to 15 bytes past the last code's ceil(m / 2)
 * bytes when m is not a multiple of 32.
 */
void		sid_pq4_sums(const sid_pq4_table *table, const uint8_t *codes, int stride,
						 int count, uint16_t *out);

/* The same in plain C, whatever the CPU: the unit test's reference. */
void		sid_pq4_sums_scalar(const sid_pq4_table *table, const uint8_t *codes,
								int stride, int count, uint16_t *out);

/* The distances offset + sum / scale of `count` codes, as floats. */
void		sid_pq4_distances(const sid_pq4_table *table, const uint8_t *codes, int stride,
							  int count, float *out);

/* Whether sid_pq4_sums runs the SIMD kernel on this CPU. */
bool		sid_pq4_simd(void);

#endif
