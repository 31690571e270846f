/*
 * sid_pairs.h - the positive pairs of contrastive training, made on the fly
 * from the decoded train split (a sid_track_cache) and the train part of the
 * noise bank: the trainer's data side, the pairs that trained models/fp.sidm.
 *
 * Pair i of training step s (P pairs per step) is drawn from the random
 * stream (seed, 2^48 + s * P + i), so any thread can make any pair and a
 * resumed run makes exactly the pairs an uninterrupted one would:
 *
 *   - a track with probability proportional to its decoded length
 *     (sid_pick_weighted over the cache's cumulative lengths);
 *   - a start uniform in [hop + max_offset, length - window - hop -
 *     max_offset]; the clean window (the anchor) is segment 1 of the audio
 *     from one segment hop before it to one after its end, so its edge
 *     frames see the neighbouring audio as a reference track's segment does;
 *   - the degraded view (the positive) starts sid_augment_offset away
 *     (uniform in +- max_offset_s), goes through sid_augment with up to
 *     max_preroll of the audio before it fed in (a plan drawn from the same
 *     stream) and is framed on its own, as a query is.
 *
 * The sample recipe (sid_pair_source_set_sample, issue 11) keeps the anchor
 * and makes the positive as a producer would use the anchor as a sample:
 * the span around the anchor's centre that the drawn stretch turns into one
 * window is mixed with an overlay (another train track, with probability
 * p_track_overlay or when there is no overlay bank, else a clip of the
 * overlay bank) at a drawn ratio, shifted or stretched, equalised,
 * compressed, distorted (sid_music.h), then goes through the fp chain at the
 * source's room levels, with no preroll.
 *
 * A batch is laid out as sid_train_step wants it: windows [2P][T][M], window
 * i the anchor of pair i and window P + i its positive.
 */
#ifndef SID_PAIRS_H
#define SID_PAIRS_H

#include <stdint.h>

#include "audio/sid_features.h"
#include "augment/sid_augment.h"
#include "augment/sid_music.h"
#include "core/sid_error.h"
#include "corpus/sid_corpus.h"

/* The stream of pair i of step s with P pairs per step is SID_PAIR_STREAM + s * P + i. */
#define SID_PAIR_STREAM ((uint64_t) 1 << 48)
#define SID_PAIR_MAX_WORKERS 16

typedef struct sid_pair_source sid_pair_source;
typedef struct sid_pair_worker sid_pair_worker;

/* What was drawn for one pair (for tests and logs). */
typedef struct sid_pair_info
{
	int32_t		track;
	int64_t		anchor_start;	/* samples at the model rate */
	int64_t		positive_start;
	sid_augment_plan plan;
	sid_music_plan music;		/* the sample recipe's */
	int32_t		overlay_track;	/* the overlay's track, -1 for a bank clip or none */
} sid_pair_info;

/*
 * A source over tracks and bank, which it borrows (they must outlive it).
 * aug may be NULL for the training defaults (sid_augment_config_default
 * with one window's length); its sample_rate and max_len are set from
 * features.
 */
sid_pair_source *sid_pair_source_create(const sid_track_cache *tracks, const sid_noise_bank *bank,
										const sid_feature_config *features,
										const sid_augment_config *aug, sid_error *err);
void		sid_pair_source_free(sid_pair_source *src);

/*
 * Switch a source to the sample recipe, before any worker is made from it.
 * music may be NULL for sid_music_config_default, room NULL for
 * sid_music_room_defaults; overlays (may be NULL or empty) is borrowed.
 * p_track_overlay in [0, 1].  The tracks must be long enough for the
 * longest stretch's span; sid_pair_make names one that is not.
 */
sid_status	sid_pair_source_set_sample(sid_pair_source *src, const sid_music_config *music,
									   const sid_noise_bank *overlays, float p_track_overlay,
									   const sid_augment_config *room, sid_error *err);
/* Floats in one window: frames x mels. */
int64_t		sid_pair_window_floats(const sid_pair_source *src);

/* Per-thread buffers, mel context and augmentation work area. */
sid_pair_worker *sid_pair_worker_create(const sid_pair_source *src, sid_error *err);
void		sid_pair_worker_free(sid_pair_worker *w);

/*
 * Feed a sample-recipe source from the banks of `sampleid bank` in bank_dir
 * (one per track, mapped; corpus/sid_bank.h) instead of running rubberband
 * per pair: the drawn shift or stretch becomes the bank's nearest variant
 * (the plan records the one used), the window is cut where the anchor's
 * centre went, and the overlay is laid over the shifted or stretched sample
 * (a transposed sample under music in its own key).  Every track's bank
 * must hold the same variants, with at least one shift and one stretch,
 * and lengths matching the track as decoded now (a bank made before a
 * decoder change is refused by name).  Call after set_sample, before any
 * worker is made; the maps are released with the source.
 */
sid_status	sid_pair_source_set_bank(sid_pair_source *src, const char *bank_dir, sid_error *err);

/*
 * Make pairs first .. first + count - 1 of step `step` into windows (the
 * whole batch's buffer, [2 * pairs][T][M]); info[i - first] receives what was
 * drawn when info is not NULL.  A drawn track too short for a pair is an
 * error naming it.
 */
sid_status	sid_pair_make(const sid_pair_source *src, sid_pair_worker *w, uint64_t seed,
						  int64_t step, int32_t first, int32_t count, int32_t pairs,
						  float *windows, sid_pair_info *info, sid_error *err);

/*
 * The whole batch of a step, split over n_workers (1 .. SID_PAIR_MAX_WORKERS)
 * threads, worker k making pairs [k P / n, (k + 1) P / n) and worker 0
 * running on the calling thread.  The batch is the same bits for any n.
 */
sid_status	sid_pair_batch(const sid_pair_source *src, sid_pair_worker **workers,
						   int n_workers, uint64_t seed, int64_t step, int32_t pairs,
						   float *windows, sid_error *err);

#endif
