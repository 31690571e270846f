/*
 * sid_verify_train.h - training the verifier (model/sid_verifier.h), the
 * "verify" recipe of `sampleid train` (docs/training.md, "The verifier").
 *
 * With the frozen fingerprint model, everything is embedded once: the
 * middle catalogue_seconds of catalogue_tracks tracks of train_split (the
 * catalogue); queries_per_track 3 s and 10 s excerpts of each, degraded by
 * the fp augmentation chain (positives, against their true region); as many
 * of out_tracks other tracks, half clean, half degraded (out of the
 * catalogue).  An exact search of every query's segments over the catalogue
 * and the offset voting of the coarse stage (search/sid_align) give the
 * candidates: the true one is a positive, every other a hard negative.  The
 * same is made of val_split's tracks for validation and calibration.  The
 * network learns with BCE and Adam on batches of `pairs` examples, half
 * positive; every val_every steps and at the end the threshold that lets
 * <= 1 % of the validation's out-of-catalogue queries through is measured,
 * and the best verifier so far (most correct answers kept at that
 * threshold) is written to best_model with the threshold in it.
 *
 * query_recipe = sample (docs/training.md, "The verifier"): the queries are
 * what sample mode meets and the coarse stage is sample mode's.  A
 * catalogue excerpt is transposed by -3 .. +3 semitones, or played at a
 * tempo of 0.8 .. 1.2 or a speed of 0.85 .. 1.15, and in two of three under
 * other music or a drum loop at 0 .. 6 dB (eval/sid_conditions does it);
 * foreign excerpts are half clean, half under the same treatment.  Every
 * query is searched as its transposed copies (-3 .. +3 whole semitones,
 * pitch only, rubberband R2: audio/sid_transpose_copies, as identification
 * makes them), each copy aligned with tempo, the candidates of all copies
 * pooled; the verifier sees each candidate with the copy that found it and
 * the query's times at its fitted rate (sid_verifier_query_side).
 */
#ifndef SID_VERIFY_TRAIN_H
#define SID_VERIFY_TRAIN_H

#include "audio/sid_stretch.h"
#include "eval/sid_conditions.h"
#include "model/sid_embed.h"
#include "search/sid_align.h"
#include "train/sid_train.h"

sid_status	sid_verify_train_run(const sid_train_config *cfg, const sid_train_hooks *hooks,
								 sid_error *err);

/* An in-memory catalogue: a track's segments are first[t] .. first[t+1]-1. */
typedef struct sid_verify_catalogue
{
	int32_t		n_tracks;
	int32_t		dim;
	int64_t    *first;			/* [n_tracks + 1] */
	float	   *fp;				/* [segments][dim] */
	double	   *t;				/* [segments], seconds into the track */
	double	   *span_lo,
			   *span_hi;		/* [n_tracks] the embedded span, seconds */
} sid_verify_catalogue;

/* A query's copies: copy c (made at shift[c]) is fp + c x nq x dim; one t[nq]. */
typedef struct sid_verify_copies
{
	int32_t		n_copies,
				nq,
				dim;
	int			shift[SID_TRANSPOSE_MAX_COPIES];
	float	   *fp;
	double	   *t;
} sid_verify_copies;

/* A coarse candidate: its alignment, the copy that found it, the coarse rule. */
typedef struct sid_verify_candidate
{
	sid_alignment a;
	int32_t		copy;
	int			accepted;
} sid_verify_candidate;

/* The treatment of one sample-recipe query: the condition and its overlay clip. */
typedef struct sid_verify_treatment
{
	sid_condition cond;
	size_t		clip,
				clip_start;
} sid_verify_treatment;

/*
 * Draws a treatment: a pitch shift uniform in -3 .. +3 semitones (half),
 * a tempo log-uniform in 0.8 .. 1.2 (a quarter) or a speed in 0.85 .. 1.15
 * (a quarter); then with probability 2/3, when a bank has clips, an overlay
 * of music or drums (half and half where both have clips) at 0 .. 6 dB.
 */
void		sid_verify_sample_draw(sid_rng *rng, const sid_noise_bank *music,
								   const sid_noise_bank *drums, sid_verify_treatment *t);

/*
 * The query pcm[n] embedded as its copies lo .. hi (lo = hi = 0: the query
 * alone), each with sid_embed_pcm_parallel on emb[threads].  q->fp, q->t
 * malloc'd (sid_verify_copies_free).
 */
sid_status	sid_verify_embed_copies(sid_embedder **emb, int threads, const float *pcm, int64_t n,
									int rate, int lo, int hi, sid_verify_copies *q, sid_error *err);
void		sid_verify_copies_free(sid_verify_copies *q);

/*
 * The coarse stage over c, exactly: the top 20 catalogue segments of every
 * query segment of each copy, offset voting (with tempo when sample_mode,
 * rates SID_ALIGN_SAMPLE_RATE_MIN .. MAX) and clamping to the embedded span;
 * each candidate decided by the rule (coverage of that copy's segments,
 * and two at least); those of all copies pooled as sampleid_identify pools
 * them (accepted first, then most segments, then similarity; 10 at most)
 * and, in sample mode, the same use found again (sid_alignment_same_use)
 * dropped.  Returns how many are in out[max_out].
 */
int32_t		sid_verify_coarse(const sid_verify_catalogue *c, const sid_verify_copies *q,
							  double segment_seconds, double hop_seconds, int sample_mode,
							  float min_coverage, float min_similarity,
							  sid_verify_candidate *out, int32_t max_out);

#endif
