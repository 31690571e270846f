/*
 * sid_corpus.h - the corpus loader of the trainer and the evaluation: the
 * tracks of one split of the music manifest, the noise clips of one part of
 * the noise manifest, and the length-weighted pick of a track.
 *
 *   sid_corpus_select      manifest indices of one split's tracks
 *   sid_corpus_decode      one manifest path, decoded at the model rate
 *   sid_track_cache_load   a split decoded once to 16-bit PCM (train and
 *                          validation tracks; optionally an on-disk cache)
 *   sid_noise_store_load   the clips of one noise part as a sid_noise_bank
 *   sid_pick_weighted      a track with probability proportional to a weight
 *
 * The evaluation decodes its reference tracks one at a time in float (the
 * shipped model's tables were measured that way) and takes the noise store,
 * the selection and the pick from here.
 */
#ifndef SID_CORPUS_H
#define SID_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "audio/sid_audio.h"
#include "augment/sid_augment.h"
#include "core/sid_error.h"
#include "core/sid_rng.h"
#include "corpus/sid_manifest.h"

/*
 * Manifest indices of the entries of `split` lasting at least min_seconds
 * (manifest order; at most max_tracks of them, 0 = all) into out, which has
 * room for m->n; returns how many.
 */
int32_t		sid_corpus_select(const sid_manifest *m, const char *split, int32_t max_tracks,
							  double min_seconds, size_t *out);

/* Decode data_dir/path at rate (lim NULL: sid_audio_limits_default). */
sid_status	sid_corpus_decode(const char *data_dir, const char *path, int32_t rate,
							  const sid_audio_limits *lim, sid_pcm *pcm, sid_error *err);

/* Decoded tracks at the model rate, 16-bit in memory. */
typedef struct sid_track_cache
{
	int16_t   **pcm;
	int64_t    *len;
	char	  **name;			/* manifest path */
	double	   *cum;			/* cumulative lengths, for sid_pick_weighted */
	int32_t		n;
	int64_t		total_samples;
	int32_t		n_skipped;		/* tracks that failed to decode (length 0) */
	char		skipped[512];	/* the first such failure */
} sid_track_cache;

/*
 * Decode the tracks of one split (at most max_tracks, 0 = all) at rate,
 * with nthreads (1 or 2) threads; when cache_dir is not empty, decoded
 * tracks are kept there as raw 16-bit files named after a hash of the path
 * and read back on the next run.  A track that fails to decode (a damaged
 * file) is kept with length 0, so it is never drawn, and counted in
 * n_skipped.
 */
sid_status	sid_track_cache_load(sid_track_cache *c, const sid_manifest *m, const char *split,
								 int32_t max_tracks, const char *data_dir, const char *cache_dir,
								 int32_t rate, int nthreads, sid_error *err);
void		sid_track_cache_free(sid_track_cache *c);

/* Noise clips of one part ("train" / "test") of the noise manifest. */
typedef struct sid_noise_store
{
	float	  **clips;
	size_t	   *len;
	sid_noise_bank bank;		/* what sid_augment draws from */
} sid_noise_store;

/*
 * Decode the clips of `part` (noise may be NULL: an empty bank, synthetic
 * noise only).  Clips that decode to nothing are left out; a clip that does
 * not decode is an error.
 */
sid_status	sid_noise_store_load(sid_noise_store *s, const sid_manifest *noise, const char *part,
								 const char *data_dir, int32_t rate, sid_error *err);
void		sid_noise_store_free(sid_noise_store *s);

/*
 * An index in [0, n) drawn with probability proportional to its weight,
 * given cum[i] = the sum of the weights 0..i (cum[n - 1] > 0): one uniform
 * double from rng, then the first index whose cumulative weight passes it.
 * A weight of 0 is never drawn.
 */
int32_t		sid_pick_weighted(const double *cum, int32_t n, sid_rng *rng);

#endif
