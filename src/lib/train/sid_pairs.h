/*
 * sid_pairs.h - positive pairs for contrastive training, made on the fly
 * from the manifest's train split.
 *
 * The tracks of a split are decoded once (16-bit PCM at the model rate, 1.4
 * GB for the 11.9-hour train split).  Pair i of training step s is drawn
 * from the random stream (seed, s * 2^20 + i), so any thread can make any
 * pair and a resumed run makes exactly the pairs an uninterrupted one would:
 *
 *   - a track uniformly (not by duration: long loops must not dominate),
 *   - an anchor start uniformly in it; the anchor window is computed from the
 *     track itself, edge frames seeing the neighbouring audio, exactly as the
 *     reference windows of `sampleid eval` are;
 *   - a positive start within +- max_offset_s of the anchor's (the reference
 *     hop's half), and that span degraded by sid_augment (reverberation with
 *     the audio before it fed in, EQ, train noise at 0-20 dB, gain) and then
 *     analysed on its own, as a query is.
 *
 * A batch is laid out as sid_train_step wants it: windows [2P][T][M], window
 * i the anchor of pair i and window P + i its positive.
 */
#ifndef SID_PAIRS_H
#define SID_PAIRS_H

#include <stdint.h>

#include "augment/sid_augment.h"
#include "core/sid_error.h"
#include "audio/sid_features.h"
#include "corpus/sid_manifest.h"

typedef struct sid_pair_source sid_pair_source;
typedef struct sid_pair_worker sid_pair_worker;

typedef struct sid_pair_source_config
{
	const char *data_dir;		/* manifest paths are relative to it */
	const char *split;			/* "train" */
	const char *noise_part;		/* noise manifest part for the bank: "train" */
	int32_t		max_tracks;		/* 0 = all */
	void		(*progress) (void *arg, const char *msg);
	void	   *progress_arg;
} sid_pair_source_config;

/* What was drawn for one pair (for tests and logs). */
typedef struct sid_pair_info
{
	int32_t		track;
	int64_t		anchor_start;	/* samples at the model rate */
	int64_t		positive_start;
	sid_augment_plan plan;
} sid_pair_info;

void		sid_pair_source_config_default(sid_pair_source_config *cfg);

/*
 * Decode the split's tracks and the noise bank.  aug may be NULL for the
 * training defaults (sid_augment_config_default with one window's length);
 * its sample_rate and max_len are set from features.
 */
sid_pair_source *sid_pair_source_open(const sid_manifest *music, const sid_manifest *noise,
									  const sid_feature_config *features,
									  const sid_augment_config *aug,
									  const sid_pair_source_config *cfg, sid_error *err);
void		sid_pair_source_free(sid_pair_source *src);
int32_t		sid_pair_source_tracks(const sid_pair_source *src);
double		sid_pair_source_seconds(const sid_pair_source *src);
/* Floats in one window: frames x mels. */
int64_t		sid_pair_window_floats(const sid_pair_source *src);

/* Per-thread buffers, mel contexts and augmentation work area. */
sid_pair_worker *sid_pair_worker_create(const sid_pair_source *src, sid_error *err);
void		sid_pair_worker_free(sid_pair_worker *w);

/*
 * Make pairs first .. first + count - 1 of step `step` into windows (the
 * whole batch's buffer, [2 * pairs][T][M]); info[i - first] receives what was
 * drawn when info is not NULL.
 */
sid_status	sid_pair_make(const sid_pair_source *src, sid_pair_worker *w, uint64_t seed,
						  int64_t step, int32_t first, int32_t count, int32_t pairs,
						  float *windows, sid_pair_info *info, sid_error *err);

/* The whole batch of a step, split over n_workers threads (one per worker). */
sid_status	sid_pair_batch(const sid_pair_source *src, sid_pair_worker **workers,
						   int n_workers, uint64_t seed, int64_t step, int32_t pairs,
						   float *windows, sid_error *err);

#endif
