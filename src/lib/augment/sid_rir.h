/*
 * sid_rir.h - room impulse responses synthesised by the project.
 *
 * A response is a direct path, a few early reflections, and a late tail of
 * Gaussian noise under an exponential envelope whose energy falls 60 dB in
 * RT60 seconds; the direct-to-reverberant energy ratio (DRR) sets how far the
 * listener is from the source.  Every response is identified by a seed, and
 * the seeds of the train and test parts come from disjoint ranges
 * (sid_rir_seed), so evaluation never hears a room the model trained in.
 */
#ifndef SID_RIR_H
#define SID_RIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/sid_error.h"
#include "core/sid_rng.h"

typedef enum sid_data_part
{
	SID_PART_TRAIN = 0,
	SID_PART_TEST = 1
} sid_data_part;

typedef struct sid_rir_params
{
	float		rt60_s;			/* time for the tail's energy to fall 60 dB */
	float		direct_delay_s; /* source-listener distance / speed of sound */
	int			n_early;		/* early reflections */
	float		early_span_s;	/* they arrive within this time after the direct path */
	float		drr_db;			/* direct / (early + late) energy */
} sid_rir_params;

/* Ranges random responses are drawn from. */
typedef struct sid_rir_ranges
{
	float		rt60_min_s,
				rt60_max_s;
	float		drr_min_db,
				drr_max_db;
	int			early_min,
				early_max;
} sid_rir_ranges;

/* The defaults of docs/corpus.md: RT60 0.2-1.0 s, DRR -6..+12 dB, 2-10 early. */
void		sid_rir_ranges_default(sid_rir_ranges *r);

/* The seed of response `index` of a part: train seeds are [0, 2^32), test
 * seeds [2^32, 2^33). */
uint64_t	sid_rir_seed(sid_data_part part, uint32_t index);

/* Draw parameters from the ranges. */
void		sid_rir_draw(const sid_rir_ranges *ranges, sid_rng *rng, sid_rir_params *p);

/* Samples the response needs: direct delay + early span + RT60. */
size_t		sid_rir_length(const sid_rir_params *p, float sample_rate);

/* Synthesise into out[len] (len from sid_rir_length, or shorter to truncate);
 * the result has unit energy. */
sid_status	sid_rir_synth(const sid_rir_params *p, float sample_rate, sid_rng *rng,
						  float *out, size_t len, sid_error *err);

/* The response with this seed: draws parameters and synthesises.  *out is
 * malloc'd (free it); *params may be NULL. */
sid_status	sid_rir_make(uint64_t seed, const sid_rir_ranges *ranges, float sample_rate,
						 float **out, size_t *len, sid_rir_params *params, sid_error *err);

/*
 * RT60 measured from a response by Schroeder backward integration: the
 * energy decay curve's straight-line fit between -5 and -25 dB (T20),
 * extrapolated to 60 dB.  Returns a negative value if the curve never
 * reaches -25 dB.
 */
double		sid_rt60_schroeder(const float *h, size_t n, float sample_rate);

#endif
