/*
 * sid_verifier.h - the second stage of identification: a cross-attention
 * classifier that says how likely a query and one candidate region of the
 * catalogue share audio, and the .sidv file that holds it.
 *
 * What it sees: the query's content segments (fingerprints at the
 * catalogue's hop, so a client that sends fingerprints sends all it needs)
 * and the candidate's STORED fingerprints over the aligned reference range
 * plus a margin (all a catalogue row holds).  Each segment's time is taken
 * relative to the alignment (query segments: t - q0; candidate segments:
 * t - offset - q0, q0 the first query segment's time), so a segment of the
 * same audio has the same position on both sides, and encoded as sin / cos
 * pairs of geometric periods appended to the fingerprint.
 *
 *   xq [Nq][D+2P], xc [Nk][D+2P]       fingerprint, positional encoding
 *   y = xattn(xq, xc)  [Nq][A]          nn/sid_nn_xattn, H heads
 *   f [Nq][2]                           per query segment: its best inner
 *                                       product with any candidate segment,
 *                                       and with the one nearest in position
 *   h = GELU([y f] W1^T + b1)  [Nq][F]  per segment
 *   m = mean over the Nq segments of h
 *   g = GELU(m W2^T + b2)  [G];  logit = g w3 + b3;  p = sigmoid(logit)
 *
 * The two similarity features carry no gradient (inputs only): they hand
 * the network the quantity the coarse stage decides on, per segment, so
 * that pooling after a nonlinearity can count agreeing segments, which a
 * pooled mean similarity cannot.
 *
 * File layout (little-endian), following model/sid_model.h:
 *   0    char[8]   magic "SIDVERIF"
 *   8    u32       format version (SID_VERIFIER_VERSION)
 *   12   u32       header length H (SID_VERIFIER_HEADER_BYTES)
 *   16   u32       flags (SID_VERIFIER_TRAINED)
 *   20   char[64]  name, NUL-padded
 *   84   char[256] note, NUL-padded
 *   340  12 x i32/f32  sid_verifier_config in declaration order
 *   388  f32       threshold (calibrated acceptance, 0 .. 1)
 *   392  u64       number of parameters P
 *   400  char[64]  the encoder: SHA-256 (hex) of the .sidm file whose
 *                  fingerprints it was trained on (version 2 on)
 *   464  u32       CRC-32 of bytes 0 .. 463            (H = 468)
 *   H    P x f32   parameters: xattn (sid_xattn_bind order), W1, b1, W2, b2, w3, b3
 *   H+4P u32       CRC-32 of the parameter bytes
 */
#ifndef SID_VERIFIER_H
#define SID_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sid_error.h"
#include "nn/sid_nn.h"

#define SID_VERIFIER_MAGIC "SIDVERIF"
#define SID_VERIFIER_VERSION 2
#define SID_VERIFIER_TRAINED 0x1u
#define SID_VERIFIER_HEADER_BYTES 468
#define SID_VERIFIER_NAME_LEN 64
#define SID_VERIFIER_NOTE_LEN 256
#define SID_VERIFIER_SUFFIX ".sidv"
#define SID_VERIFIER_MAX_FILE_BYTES ((size_t) 64 << 20)
/* Per-segment similarity features (see above). */
#define SID_VERIFIER_FEATURES 2

typedef struct sid_verifier_config
{
	int32_t		fp_dim;			/* fingerprint dimension D */
	int32_t		pe_pairs;		/* sin / cos pairs P */
	int32_t		heads;
	int32_t		head_dim;
	int32_t		att_dim;		/* A, the cross-attention's output */
	int32_t		hidden;			/* F, per segment */
	int32_t		head_hidden;	/* G, after pooling */
	int32_t		max_query_segments;
	int32_t		max_candidate_segments;
	float		pe_min_period;	/* seconds */
	float		pe_max_period;
	float		margin_seconds; /* candidate region beyond the aligned range */
} sid_verifier_config;

typedef struct sid_verifier
{
	sid_verifier_config cfg;
	uint32_t	flags;
	float		threshold;
	char		name[SID_VERIFIER_NAME_LEN];
	char		note[SID_VERIFIER_NOTE_LEN];
	size_t		num_params;
	float	   *params;			/* owned */
	char		sha256[65];		/* of the file loaded, "" when made in memory */
	char		encoder_sha256[65]; /* of the model it was trained on ("" before training) */
} sid_verifier;

/* The parameter buffer's parts (bound to any buffer of num_params floats). */
typedef struct sid_verifier_weights
{
	sid_xattn	xa;
	float	   *w1,
			   *b1,
			   *w2,
			   *b2,
			   *w3,
			   *b3;
} sid_verifier_weights;

/* One query against one candidate region; times in seconds. */
typedef struct sid_verifier_pair
{
	const float *q_fp;			/* [nq][D] */
	const double *q_t;			/* [nq] */
	int32_t		nq;
	const float *c_fp;			/* [nk][D] */
	const double *c_t;			/* [nk], reference times */
	int32_t		nk;
	double		offset;			/* reference time - query time of the alignment */
} sid_verifier_pair;

/* Activations of one pair, sized for the configuration's maxima. */
typedef struct sid_verifier_work sid_verifier_work;

void		sid_verifier_config_default(sid_verifier_config *cfg, int32_t fp_dim);
sid_status	sid_verifier_config_check(const sid_verifier_config *cfg, sid_error *err);
size_t		sid_verifier_num_params(const sid_verifier_config *cfg);
void		sid_verifier_bind(const sid_verifier_config *cfg, float *buf, sid_verifier_weights *w);

/* A new verifier with random weights (seeded), untrained, threshold 0.5. */
sid_verifier *sid_verifier_new(const char *name, const sid_verifier_config *cfg, uint64_t seed,
							   sid_error *err);
void		sid_verifier_free(sid_verifier *v);

sid_verifier_work *sid_verifier_work_create(const sid_verifier_config *cfg, sid_error *err);
void		sid_verifier_work_free(sid_verifier_work *w);

/*
 * Checks a pair against the configuration (counts 1 .. max, finite times);
 * SID_EINVAL or SID_ELIMIT naming what is wrong.
 */
sid_status	sid_verifier_pair_check(const sid_verifier_config *cfg, const sid_verifier_pair *p,
									sid_error *err);

/*
 * Forward of one (checked) pair with the weights in params: the logit,
 * activations kept in w for sid_verifier_backward.
 */
float		sid_verifier_forward(const sid_verifier_config *cfg, const float *params,
								 sid_verifier_work *w, const sid_verifier_pair *p);
/* Accumulates d logit * d logit / d params into grad (num_params floats). */
void		sid_verifier_backward(const sid_verifier_config *cfg, const float *params,
								  sid_verifier_work *w, const sid_verifier_pair *p,
								  float dlogit, float *grad);
/*
 * The candidate region of an alignment: the reference times [lo, hi] whose
 * stored segments the verifier reads, the query's span moved by the offset
 * and widened by the margin.
 */
void		sid_verifier_region(const sid_verifier_config *cfg, const double *q_t, int32_t nq,
								double offset, double *lo, double *hi);
/*
 * The query side of a pair, as identification builds it from an
 * alignment: the content segments of one query (content NULL: all), only
 * those within [query_start, query_end] when there are more than
 * max_query_segments, at most that many; their times multiplied by the
 * alignment's rate (ref_t = offset + rate x query_t), because the verifier
 * was trained on equal speed, so a query played at 0.8x reads as the
 * recording's own times and sid_verifier_region spans the stretched range.
 * out_fp [max_query_segments][dim], out_t [max_query_segments]; returns how
 * many were written.
 */
int32_t		sid_verifier_query_side(const sid_verifier_config *cfg, const float *fp,
									const double *t, const bool *content, int32_t n,
									double query_start, double query_end, double rate,
									float *out_fp, double *out_t);
/* The probability of a checked pair. */
float		sid_verifier_probability(const sid_verifier *v, sid_verifier_work *w,
									 const sid_verifier_pair *p);

/*
 * A verifier scores only the fingerprints of the encoder it was trained on:
 * SID_OK when model_sha256 is its encoder, else SID_EINVAL saying which
 * encoder it wants (the caller names the model in its own message).
 */
sid_status	sid_verifier_check_encoder(const sid_verifier *v, const char *model_sha256,
									   sid_error *err);

size_t		sid_verifier_file_size(const sid_verifier *v);
void		sid_verifier_serialize(const sid_verifier *v, unsigned char *out);
sid_status	sid_verifier_save(const sid_verifier *v, const char *path, sid_error *err);
/* One loader: from memory; the file form reads the file and calls it. */
sid_verifier *sid_verifier_load_mem(const void *data, size_t len, sid_error *err);
sid_verifier *sid_verifier_load(const char *path, sid_error *err);
/*
 * A version-1 file (no encoder field; H = 404, its CRC at 400) read as
 * version 2 with encoder_sha256 added, its weights unchanged: for files
 * trained before the field existed, whose training log names the encoder.
 */
sid_verifier *sid_verifier_load_v1(const void *data, size_t len, const char *encoder_sha256,
								   sid_error *err);

#endif
