/*
 * fingerprint.h - the on-disk and in-memory form of the fingerprint type.
 *
 * One fingerprint is one embedding of one audio segment: a varlena holding
 * its dimension and that many float4 values, stored as given (the embedding
 * functions emit L2-normalised vectors; fingerprint_normalize() makes any
 * other vector so).  128 dimensions take 4 + 4 + 512 = 520 bytes.
 */
#ifndef SAMPLEID_FINGERPRINT_H
#define SAMPLEID_FINGERPRINT_H

#include "postgres.h"
#include "fmgr.h"

/* Hard ceiling on dimensions; sampleid.max_dimensions may lower it. */
#define FINGERPRINT_HARD_MAX_DIM 16000

typedef struct Fingerprint
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Fingerprint;

#define FINGERPRINT_SIZE(dim)	(offsetof(Fingerprint, x) + sizeof(float) * (dim))
#define DatumGetFingerprint(d)	((Fingerprint *) PG_DETOAST_DATUM(d))
#define PG_GETARG_FINGERPRINT_P(n)	DatumGetFingerprint(PG_GETARG_DATUM(n))
#define PG_RETURN_FINGERPRINT_P(p)	PG_RETURN_POINTER(p)

extern int	sampleid_max_dimensions;

extern Fingerprint *fingerprint_new(int dim);
extern void fingerprint_check_dim(int dim);
extern void fingerprint_check_value(float value);
extern void fingerprint_check_same_dim(const Fingerprint *a, const Fingerprint *b);

/* Distances on raw arrays, shared by the operators and the index. */
extern double fp_inner_product(const float *a, const float *b, int dim);
extern double fp_squared_l2(const float *a, const float *b, int dim);
extern double fp_cosine_distance(const float *a, const float *b, int dim);

#endif
